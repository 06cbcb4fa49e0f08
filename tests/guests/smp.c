/* Every vCPU reports in on the console; CPU 0 waits for all of them and
 * exits. Checks that all vCPUs enter the image and get their own stacks. */
#include "guest.h"

/* How long CPU 0 waits, in TSC cycles (about 1-4 s at 1-4 GHz); time-based
 * so it does not depend on how fast the pause loop is emulated. */
#define CHECKIN_TIMEOUT_TSC (4ULL << 30)

volatile unsigned int cpus_online;

static void check_in(unsigned cpu, unsigned ncpus)
{
	guest_printf("smp: cpu %u of %u online\n", cpu, ncpus);
	__atomic_fetch_add(&cpus_online, 1, __ATOMIC_SEQ_CST);
}

void ap_main(unsigned cpu)
{
	check_in(cpu, cpu_count());
}

int main(const struct hvm_start_info *si)
{
	unsigned ncpus = cpu_count();
	uint64_t start;

	(void)si;
	check_in(cpu_index(), ncpus);
	start = rdtsc();
	while (__atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE) < ncpus) {
		if (rdtsc() - start > CHECKIN_TIMEOUT_TSC) {
			guest_printf(
			    "smp: only %u of %u cpus online\n",
			    __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE),
			    ncpus);
			return 1;
		}
		cpu_relax();
	}
	guest_printf("smp: all %u cpus online\n", ncpus);
	return 0;
}
