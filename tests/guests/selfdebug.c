/* A guest that debugs itself: its own IDT takes its own INT3s (#BP) and
 * its own TF single-steps (#DB) and counts them. Under a debugger with
 * breakpoints elsewhere the counts must come out exactly as without one:
 * kvmdbg delivers the guest's own exceptions to it (reinjection). */
#include "guest.h"

#define ROUNDS 5
#define STEPS 6 /* #DBs per TF-stepped block: one per instruction */
#define RFLAGS_TF 0x100UL

volatile unsigned long bp_count;
volatile unsigned long db_count;
volatile unsigned long marker_calls;
volatile unsigned long bp_last_rip;

GUEST_PARK_APS()

static void on_bp(struct isr_frame *frame)
{
	/* #BP is a trap: rip is already past the INT3. */
	bp_count++;
	bp_last_rip = frame->rip;
}

static void on_db(struct isr_frame *frame)
{
	db_count++;
	(void)frame;
}

void marker(unsigned long round);

/* A function for the debugger's breakpoints, between the guest's own. */
__attribute__((noinline)) void marker(unsigned long round)
{
	marker_calls += round + 1;
}

/* Six instructions run with TF set: the popf that sets TF traps after the
 * next instruction, then each one traps, until the popf that clears it. */
static void tf_block(void)
{
	unsigned long fl;

	__asm__ volatile("pushf\n\t"
			 "pop %0\n\t"
			 "or %1, %0\n\t"
			 "push %0\n\t"
			 "popf\n\t"          /* TF on: traps after the next one */
			 "nop\n\t"           /* #DB 1 */
			 "nop\n\t"           /* #DB 2 */
			 "nop\n\t"           /* #DB 3 */
			 "nop\n\t"           /* #DB 4 */
			 "pushf\n\t"         /* #DB 5 */
			 "andq %2, (%%rsp)\n\t" /* #DB 6 */
			 "popf\n\t"          /* TF off: no trap after it */
			 : "=&r"(fl)
			 : "i"(RFLAGS_TF), "i"(~RFLAGS_TF)
			 : "memory", "cc");
}

int main(const struct hvm_start_info *si)
{
	unsigned long expected_rip;

	(void)si;
	idt_init();
	idt_set_handler(1, on_db);
	idt_set_handler(3, on_bp);
	for (unsigned long i = 0; i < ROUNDS; i++) {
		__asm__ volatile("int3\n\t"
				 "1: lea 1b(%%rip), %0"
				 : "=r"(expected_rip)::"memory");
		if (bp_last_rip != expected_rip) {
			guest_printf("selfdebug: #BP returned to 0x%lx, not "
				     "0x%lx\n", bp_last_rip, expected_rip);
			return 1;
		}
		marker(i);
		tf_block();
	}
	guest_printf("selfdebug: bp=%lu db=%lu marker=%lu\n", bp_count,
		     db_count, marker_calls);
	return 0;
}
