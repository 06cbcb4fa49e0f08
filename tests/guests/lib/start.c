/* C side of the boot path and the ways out: dispatch to main() or
 * ap_main(), the debug-exit port, CPU identification and the command line. */
#include "guest.h"

void guest_start(const struct hvm_start_info *si, unsigned cpu)
{
	if (cpu == 0)
		guest_exit((uint32_t)main(si));
	ap_main(cpu);
	guest_park();
}

void guest_exit(uint32_t v)
{
	outl(DEBUG_EXIT_PORT, v);
	guest_park();
}

void guest_park(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

unsigned cpu_index(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

unsigned cpu_count(void)
{
	uint32_t a, b, c, d;
	unsigned n;

	cpuid(1, 0, &a, &b, &c, &d);
	n = (b >> 16) & 0xff;
	return n ? n : 1;
}
