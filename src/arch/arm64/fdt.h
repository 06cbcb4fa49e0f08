/* The device tree kvmdbg hands an arm64 guest in x0, built with libfdt. */
#ifndef KVMDBG_ARCH_ARM64_FDT_H
#define KVMDBG_ARCH_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

#define ARM64_FDT_MAX_CPUS 64

struct arm64_fdt_config {
	uint64_t ram_base, ram_size;
	unsigned nr_cpus;
	uint64_t mpidr[ARM64_FDT_MAX_CPUS]; /* each vCPU's MPIDR_EL1 */
	const char *bootargs; /* NULL: no bootargs property */
};

/*
 * Write the machine's device tree (memory, cpus with enable-method psci,
 * psci 0.2 over hvc, GICv3, the architected timer, the PL011 with its
 * interrupt and clock, the exit device, chosen with bootargs and
 * stdout-path) into buf. Returns its size, or -ENOSPC when it does not fit
 * in cap (err says so), -EINVAL for a bad config.
 */
int arm64_fdt_build(const struct arm64_fdt_config *c, void *buf, size_t cap,
		    char *err, size_t errlen);

#endif
