/* A 64-bit IDT whose gates all lead to isr.S and from there to handlers
 * registered in C. */
#include "guest.h"

#define IDT_ENTRIES 256
#define ISR_STUB_SIZE 16      /* keep in step with isr.S */
#define GATE_INTERRUPT64 0x8e /* present, DPL 0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const char isr_stubs[];

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static isr_handler_fn handlers[IDT_ENTRIES];

void idt_init(void)
{
	struct idt_ptr ptr = {.limit = sizeof(idt) - 1,
			      .base = (uint64_t)(uintptr_t)idt};
	uint16_t cs;
	uint64_t addr;
	unsigned v;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (v = 0; v < IDT_ENTRIES; v++) {
		addr = (uint64_t)(uintptr_t)isr_stubs + v * ISR_STUB_SIZE;
		idt[v].offset_lo = (uint16_t)addr;
		idt[v].selector = cs;
		idt[v].type = GATE_INTERRUPT64;
		idt[v].offset_mid = (uint16_t)(addr >> 16);
		idt[v].offset_hi = (uint32_t)(addr >> 32);
	}
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void idt_set_handler(unsigned vector, isr_handler_fn fn)
{
	if (vector < IDT_ENTRIES)
		handlers[vector] = fn;
}

void isr_dispatch(struct isr_frame *frame)
{
	isr_handler_fn fn = handlers[frame->vector & 0xff];

	if (fn) {
		fn(frame);
		return;
	}
	guest_printf("guest: unhandled vector %lu error %lx at rip %lx\n",
		     frame->vector, frame->error_code, frame->rip);
	guest_exit(GUEST_EXIT_UNHANDLED);
}
