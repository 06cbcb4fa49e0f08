/* A guest for range stepping and target-side breakpoint conditions: a
 * loop that calls visit() with its counter, a global that counts the
 * visits, and one source line that loops many times, so that a `next`
 * over it is one range step. The tests find lines by their @ markers. */
#include "guest.h"

#define DEFAULT_ITERS 10000

volatile unsigned long visits;
volatile unsigned long last_seen;
unsigned long bumps;

void visit(unsigned long n);
unsigned long sum_to(unsigned long n);
void bump(void);

GUEST_PARK_APS()

__attribute__((noinline)) void visit(unsigned long n)
{
	visits++; /* @visit */
	last_seen = n;
}

/* One read-modify-write instruction: with a read or access watchpoint
 * on bumps it reads and writes a watched page in one go. */
__attribute__((noinline)) void bump(void)
{
	__asm__ volatile("addq $1, %0" : "+m"(bumps)); /* @bump */
}

__attribute__((noinline)) unsigned long sum_to(unsigned long n)
{
	unsigned long acc = 0, k;

	for (k = 0; k < n; k++) acc += k * 3; /* @loopline */
	return acc; /* @after */
}

int main(const struct hvm_start_info *si)
{
	unsigned long iters = DEFAULT_ITERS;
	unsigned long i, sum;

	if (guest_cmdline_ulong(guest_cmdline(si), "iters", &iters))
		iters = DEFAULT_ITERS;
	for (i = 0; i < 20; i++)
		bump();
	for (i = 0; i < iters; i++)
		visit(i); /* @call */
	sum = sum_to(iters); /* @sum */
	guest_printf("cond: iters=%lu visits=%lu last=%lu sum=%lu bumps=%lu\n",
		     iters, visits, last_seen, sum, bumps);
	return 0;
}
