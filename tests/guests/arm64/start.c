/* C side of the arm64 guests' boot path: CPU start-up through PSCI, the
 * command line from the device tree, the ways out, and exception
 * dispatch. */
#include "guest.h"

extern char _start_secondary[];

static struct hvm_start_info start_info;
static exc_handler_fn handlers[64];

/* The device tree's big-endian words. */
static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4

/* /chosen/bootargs of a flattened device tree, or NULL. Only reads: the
 * tree comes from the VMM and is walked token by token. */
static const char *fdt_bootargs(const uint8_t *fdt)
{
	uint32_t off_struct, off_strings, size_struct;
	const uint8_t *p, *end;
	int depth = 0, in_chosen = 0;

	if (!fdt || be32(fdt) != FDT_MAGIC)
		return NULL;
	off_struct = be32(fdt + 8);
	off_strings = be32(fdt + 12);
	size_struct = be32(fdt + 36);
	p = fdt + off_struct;
	end = p + size_struct;
	while (p + 4 <= end) {
		uint32_t tok = be32(p);

		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			size_t n = strlen(name);

			depth++;
			if (depth == 2)
				in_chosen = !strncmp(name, "chosen", 7);
			p += (n + 4) & ~3UL;
		} else if (tok == FDT_END_NODE) {
			if (depth-- == 2)
				in_chosen = 0;
		} else if (tok == FDT_PROP) {
			uint32_t len = be32(p), nameoff = be32(p + 4);
			const char *name =
			    (const char *)fdt + off_strings + nameoff;

			if (in_chosen && depth == 2 &&
			    !strncmp(name, "bootargs", 9))
				return (const char *)(p + 8);
			p += 8 + ((len + 3) & ~3UL);
		} else if (tok != FDT_NOP) {
			break;
		}
	}
	return NULL;
}

unsigned cpu_index(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	return (unsigned)(mpidr & 0xff);
}

unsigned cpu_count(void)
{
	unsigned n = 1;

	/* PSCI knows every CPU the machine has, powered on or not. */
	while (n < GUEST_MAX_CPUS &&
	       psci_call(PSCI_AFFINITY_INFO, n, 0, 0) != PSCI_INVALID_PARAMETERS)
		n++;
	return n;
}

void guest_start(uint64_t dtb, unsigned cpu)
{
	const char *args = NULL;
	unsigned n = cpu_count();

	/* QEMU passes x0 only to Linux kernels; a bare-metal image finds its
	 * device tree at the base of RAM. */
	if (dtb)
		args = fdt_bootargs((const uint8_t *)(uintptr_t)dtb);
	if (!args)
		args = fdt_bootargs((const uint8_t *)RAM_BASE);
	start_info.magic = HVM_START_MAGIC;
	start_info.version = 1;
	start_info.cmdline_paddr = (uint64_t)(uintptr_t)args;
	/* Every vCPU runs the image, as on x86. */
	for (unsigned i = 1; i < n; i++)
		psci_call(PSCI_CPU_ON, i, (unsigned long)_start_secondary, i);
	(void)cpu;
	guest_exit((uint32_t)main(&start_info));
}

void guest_start_secondary(unsigned cpu)
{
	ap_main(cpu);
	guest_park();
}

void guest_exit(uint32_t v)
{
	mmio_write32(EXIT_DEVICE, v);
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	guest_park();
}

void guest_park(void)
{
	__asm__ volatile("msr daifset, #0xf" ::: "memory");
	for (;;)
		__asm__ volatile("wfi" ::: "memory");
}

void exc_set_handler(unsigned ec, exc_handler_fn fn)
{
	if (ec < 64)
		handlers[ec] = fn;
}

#define EC_DABT_CUR 0x25

void exc_dispatch(struct exc_frame *frame, unsigned kind)
{
	unsigned ec = (unsigned)(frame->esr >> 26) & 0x3f;

	/* Synchronous exceptions (entries 0, 4, 8, 12) go to their class's
	 * handler. */
	if (kind % 4 == 0 && handlers[ec]) {
		handlers[ec](frame);
		return;
	}
	/* No exit device (QEMU): a write there aborts; power off instead. */
	if (kind % 4 == 0 && ec == EC_DABT_CUR &&
	    (frame->far & ~0xfffUL) == EXIT_DEVICE)
		psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	guest_printf("guest: unexpected exception: vector %u esr 0x%lx "
		     "elr 0x%lx far 0x%lx\n", kind, frame->esr, frame->elr,
		     frame->far);
	mmio_write32(EXIT_DEVICE, GUEST_EXIT_UNHANDLED);
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	guest_park();
}
