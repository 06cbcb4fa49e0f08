/* A guest shaped like a tiny kernel, for kvmdbg-ci's tests: kmain brings
 * up a "uart", logs through printk, counts timer ticks and may panic, as its
 * command line says. Built at -O0 and -O2 (citest-O0.elf, citest-O2.elf).
 * tests/ci/scripts name lines 54 (ticks++) and 75 (the "uart up" printk) by
 * number: keep them there. */
#include "guest.h"

#define DEFAULT_TICKS 12

/* What the command line's mode=N asks for. */
enum citest_mode {
	MODE_NORMAL = 0,
	MODE_EARLY_PRINTK = 1, /* printk before uart_init */
	MODE_PANIC = 2, /* check_ticks wants one tick more than ran */
	MODE_SPIN = 3, /* never exits */
};

volatile unsigned long ticks;
volatile int uart_up;
int log_count;
long boot_delta = -5;

/* Non-static, so declared here for -Wmissing-prototypes; kvmdbg-ci finds
 * them by name. noipa keeps -O2 from inlining or cloning them, as a kernel
 * would with its interfaces. */
void uart_init(void);
void printk(const char *msg);
void panic(const char *why) __attribute__((noreturn));
void timer_tick(void);
void check_ticks(unsigned long want);
void kmain(const char *cmdline);

GUEST_PARK_APS()

__attribute__((noipa)) void uart_init(void)
{
	uart_up = 1; /* citest: uart_init body */
}

__attribute__((noipa)) void printk(const char *msg)
{
	log_count++; /* citest: printk body */
	guest_printf("citest: %s\n", msg);
}

__attribute__((noipa, noreturn)) void panic(const char *why)
{
	guest_printf("citest: panic: %s\n", why); /* citest: panic body */
	guest_exit(0x7f);
}

__attribute__((noipa)) void timer_tick(void)
{
	ticks++; /* citest: ticks write */
}

__attribute__((noipa)) void check_ticks(unsigned long want)
{
	if (ticks < want)
		panic("too few ticks"); /* citest: panic call */
	boot_delta += (long)want; /* citest: check_ticks end */
}

__attribute__((noipa)) void kmain(const char *cmdline)
{
	unsigned long n = DEFAULT_TICKS, mode = MODE_NORMAL, i;

	if (guest_cmdline_ulong(cmdline, "ticks", &n))
		n = DEFAULT_TICKS;
	if (guest_cmdline_ulong(cmdline, "mode", &mode))
		mode = MODE_NORMAL;
	if (mode == MODE_EARLY_PRINTK)
		printk("early hello"); /* citest: early printk */
	uart_init();
	printk("uart up");
	for (i = 0; i < n; i++)
		timer_tick(); /* citest: tick call */
	check_ticks(mode == MODE_PANIC ? n + 1 : n); /* citest: check call */
	while (mode == MODE_SPIN)
		cpu_relax();
	printk("done");
}

int main(const struct hvm_start_info *si)
{
	unsigned long status = 0;

	kmain(guest_cmdline(si)); /* citest: kmain call */
	if (guest_cmdline_ulong(guest_cmdline(si), "exit", &status))
		status = 0;
	return (int)status;
}
