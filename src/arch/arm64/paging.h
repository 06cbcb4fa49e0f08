/* AArch64 stage-1 translation of EL1&0 addresses, as a debugger needs it:
 * guest-virtual to guest-physical through the guest's own tables (4K, 16K
 * and 64K granules, the TTBR0/TTBR1 split, top-byte-ignore). Pure: tables
 * are read through a callback, so tests use synthetic ones. */
#ifndef KVMDBG_ARCH_ARM64_PAGING_H
#define KVMDBG_ARCH_ARM64_PAGING_H

#include <stddef.h>
#include <stdint.h>

struct arm64_paging_regs {
	uint64_t sctlr_el1, tcr_el1, ttbr0_el1, ttbr1_el1;
};

#define ARM64_SCTLR_M (1ULL << 0)

/* TCR_EL1 fields. */
#define ARM64_TCR_T0SZ(t) ((unsigned)((t)&0x3f))
#define ARM64_TCR_EPD0 (1ULL << 7)
#define ARM64_TCR_TG0(t) ((unsigned)(((t) >> 14) & 3)) /* 0 4K 1 64K 2 16K */
#define ARM64_TCR_T1SZ(t) ((unsigned)(((t) >> 16) & 0x3f))
#define ARM64_TCR_EPD1 (1ULL << 23)
#define ARM64_TCR_TG1(t) ((unsigned)(((t) >> 30) & 3)) /* 1 16K 2 4K 3 64K */
#define ARM64_TCR_TBI0 (1ULL << 37)
#define ARM64_TCR_TBI1 (1ULL << 38)

struct arm64_translation {
	uint64_t gpa;
	uint64_t size;	/* of the page or block that maps it */
	unsigned level; /* of the final descriptor; 0 with the MMU off */
	unsigned granule; /* bytes: 4096, 16384 or 65536; 0 with the MMU off */
};

typedef int (*arm64_read_phys_fn)(void *ctx, uint64_t gpa, void *buf,
				  size_t len);

/*
 * Translate va. With SCTLR_EL1.M clear, the identity (reported as 4 KiB
 * pages). Otherwise walk the tables TTBR0 (va[55] = 0) or TTBR1 (va[55] =
 * 1) points at. Returns 0, or -EFAULT when va is outside both ranges, the
 * half is disabled (EPDx), a descriptor is invalid or reserved, or a table
 * cannot be read; -EINVAL for a TCR the architecture reserves.
 */
int arm64_paging_translate(const struct arm64_paging_regs *r, uint64_t va,
			   arm64_read_phys_fn read, void *ctx,
			   struct arm64_translation *out);

#endif
