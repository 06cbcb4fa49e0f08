/* Ends in a triple fault: with an empty IDT, #UD cannot be delivered, nor
 * can the #GP and #DF that follow, and the CPU shuts down. */
#include "guest.h"

GUEST_PARK_APS()

int main(const struct hvm_start_info *si)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = {0, 0};

	(void)si;
	guest_printf("triple: about to triple fault\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty_idt));
	/* Not reached; if the CPU ever resumes here, stop silently. */
	guest_park();
}
