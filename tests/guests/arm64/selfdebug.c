/* A guest that debugs itself, arm64 flavour: its own vector table takes
 * its own BRKs (BRK #0 like kvmdbg's breakpoints, and BRK #0x7d) and checks
 * the syndrome and return address the architecture gives. Under a
 * debugger with breakpoints elsewhere the counts must come out exactly as
 * without one: kvmdbg delivers the guest's own BRKs to it by emulating the
 * exception entry (arm64 KVM cannot inject them). */
#include "guest.h"

#define ROUNDS 5
#define EC_BRK64 0x3c
#define ESR_IL (1UL << 25)

volatile unsigned long brk0_count;
volatile unsigned long brk7d_count;
volatile unsigned long marker_calls;
volatile unsigned long bad_entries;
volatile unsigned long brk_last_elr;

GUEST_PARK_APS()

static void on_brk(struct exc_frame *frame)
{
	unsigned long imm = frame->esr & 0xffff;
	unsigned long spsr_mode = frame->spsr & 0xf;

	/* ESR: EC 0x3c, IL 1, ISS the immediate; SPSR: the EL1h we ran in,
	 * interrupts as they were (all masked here). */
	if ((frame->esr >> 26) != EC_BRK64 || !(frame->esr & ESR_IL) ||
	    spsr_mode != 5)
		bad_entries++;
	if (imm == 0)
		brk0_count++;
	else if (imm == 0x7d)
		brk7d_count++;
	else
		bad_entries++;
	brk_last_elr = frame->elr;
	/* BRK's preferred return address is the BRK itself. */
	frame->elr += 4;
}

void marker(unsigned long round);

/* A function for the debugger's breakpoints, between the guest's own. */
__attribute__((noinline)) void marker(unsigned long round)
{
	marker_calls += round + 1;
}

int main(const struct hvm_start_info *si)
{
	unsigned long at0, at7d;

	(void)si;
	exc_set_handler(EC_BRK64, on_brk);
	for (unsigned long i = 0; i < ROUNDS; i++) {
		__asm__ volatile("adr %0, 1f\n\t"
				 "1: brk #0"
				 : "=r"(at0)::"memory");
		if (brk_last_elr != at0) {
			guest_printf("selfdebug: BRK #0 reported at 0x%lx, not "
				     "0x%lx\n", brk_last_elr, at0);
			return 1;
		}
		marker(i);
		__asm__ volatile("adr %0, 1f\n\t"
				 "1: brk #0x7d"
				 : "=r"(at7d)::"memory");
		if (brk_last_elr != at7d) {
			guest_printf("selfdebug: BRK #0x7d reported at 0x%lx, "
				     "not 0x%lx\n", brk_last_elr, at7d);
			return 1;
		}
	}
	guest_printf("selfdebug: brk0=%lu brk7d=%lu marker=%lu bad=%lu\n",
		     brk0_count, brk7d_count, marker_calls, bad_entries);
	return 0;
}
