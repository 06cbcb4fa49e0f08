/* The guest of bench/run.py: one small workload per benchmark scenario,
 * picked by mode=NAME on the command line, each ending with a console line
 * whose values the bench checks, so a run that went wrong is never timed
 * as a success. n=N sets the workload's size. */
#include "guest.h"

#define DEFAULT_N 1000
#define PATTERN_WORDS 512

/* Globals, so a debugger reads them by name and conditions can test them. */
volatile unsigned long hits;
unsigned long spin;
unsigned long acc;
unsigned long cond_total;
unsigned long next_done;
uint64_t pattern[PATTERN_WORDS];

/* Non-static, so declared here for -Wmissing-prototypes; the bench finds
 * them by name. */
void bench_hit(unsigned long k);
void step_loop(unsigned long n);
void next_loop(unsigned long n);
void cond_loop(unsigned long n);
void dump_fill(void);
void dump_here(void);

GUEST_PARK_APS()

/* Scenario 1 (continue to a breakpoint): called once per loop turn. */
__attribute__((noinline)) void bench_hit(unsigned long k)
{
	hits++;
	(void)k;
}

/* Scenario 2 (stepi): enough instructions for any step count up to n, and
 * a result that depends on each of them. */
__attribute__((noinline)) void step_loop(unsigned long n)
{
	unsigned long k;

	for (k = 0; k < n; k++)
		spin += k ^ (spin >> 3);
}

/*
 * Scenario 3 (next): the whole loop is one source line, so gdb's `next`
 * from it stops on the line after it. Keep it on one line.
 */
__attribute__((noinline)) void next_loop(unsigned long n)
{
	unsigned long i;

	/* clang-format off */
	for (i = 0; i < n; i++) acc += i * 3; /* bench:next */
	next_done = 1; /* bench:next-after */
	/* clang-format on */
}

/* Scenario 4 (conditional breakpoint): the marked line runs n + 1 times;
 * `i == n && cond_total == n(n-1)/2` is false n times, then true. */
__attribute__((noinline)) void cond_loop(unsigned long n)
{
	unsigned long i;

	for (i = 0; i <= n; i++) {
		cond_total += i; /* bench:cond */
	}
}

/* Scenario 5 (dump): a known pattern the bench finds in the dump. */
__attribute__((noinline)) void dump_fill(void)
{
	unsigned k;

	for (k = 0; k < PATTERN_WORDS; k++)
		pattern[k] = (k + 1) * 0x9e3779b97f4a7c15ULL;
}

__attribute__((noinline)) void dump_here(void)
{
	__asm__ volatile("" ::: "memory");
}

/* True when cmdline has the word mode=name. */
static int mode_is(const char *cmdline, const char *name)
{
	size_t len = strlen(name);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, "mode=", 5) && !strncmp(p + 5, name, len) &&
		    (p[5 + len] == ' ' || p[5 + len] == '\0'))
			return 1;
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

int main(const struct hvm_start_info *si)
{
	const char *cmdline = guest_cmdline(si);
	unsigned long n = DEFAULT_N, k;
	uint64_t x = 0;

	if (guest_cmdline_ulong(cmdline, "n", &n))
		n = DEFAULT_N;
	if (mode_is(cmdline, "bp")) {
		for (k = 0; k < n; k++)
			bench_hit(k);
		guest_printf("bench: bp n=%lu hits=%lu\n", n, hits);
	} else if (mode_is(cmdline, "step")) {
		step_loop(n);
		guest_printf("bench: step n=%lu spin=0x%016lx\n", n, spin);
	} else if (mode_is(cmdline, "next")) {
		next_loop(n);
		guest_printf("bench: next n=%lu acc=%lu done=%lu\n", n, acc,
			     next_done);
	} else if (mode_is(cmdline, "cond")) {
		cond_loop(n);
		guest_printf("bench: cond n=%lu total=%lu\n", n, cond_total);
	} else if (mode_is(cmdline, "dump")) {
		dump_fill();
		dump_here();
		for (k = 0; k < PATTERN_WORDS; k++)
			x ^= pattern[k];
		guest_printf("bench: dump pattern=0x%016lx\n", x);
	} else if (mode_is(cmdline, "launch")) {
		guest_printf("bench: launch ok\n");
	} else {
		guest_printf("bench: unknown mode in '%s'\n", cmdline);
		return 2;
	}
	return 0;
}
