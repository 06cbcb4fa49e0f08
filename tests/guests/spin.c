/* Runs forever without halting or exiting, for interrupt (Ctrl-C) tests. */
#include "guest.h"

volatile unsigned long spins;

GUEST_PARK_APS()

int main(const struct hvm_start_info *si)
{
	(void)si;
	guest_printf("spin: running\n");
	for (;;)
		spins++;
}
