/* AArch64 stage-1 walk (Arm ARM DDI 0487, "The AArch64 Virtual Memory
 * System Architecture"), for 48-bit output addresses: what a debugger reads
 * through, not a model of permissions or caching. */
#include <errno.h>

#include "arch/arm64/paging.h"

#define OA_MASK 0x0000ffffffffffffULL
#define DESC_VALID 1ULL
#define DESC_TABLE 2ULL /* table (levels 0-2) or page (level 3) */

static int granule_shift(unsigned tg, int half)
{
	/* TG0 and TG1 encode the granules differently. */
	if (half == 0)
		return tg == 0 ? 12 : tg == 1 ? 16 : tg == 2 ? 14 : -1;
	return tg == 1 ? 14 : tg == 2 ? 12 : tg == 3 ? 16 : -1;
}

/* Can a level hold a block for this granule (48-bit addresses)? */
static int block_ok(unsigned level, int g)
{
	if (g == 12)
		return level == 1 || level == 2;
	return level == 2; /* 16K: 32 MiB; 64K: 512 MiB */
}

int arm64_paging_translate(const struct arm64_paging_regs *r, uint64_t va,
			   arm64_read_phys_fn read, void *ctx,
			   struct arm64_translation *out)
{
	uint64_t tcr = r->tcr_el1, table, top;
	int half, g, stride, ia_bits, level, start;
	unsigned tsz;

	if (!(r->sctlr_el1 & ARM64_SCTLR_M)) {
		out->gpa = va;
		out->size = 4096;
		out->level = 0;
		out->granule = 0;
		return 0;
	}
	half = (va >> 55) & 1;
	if (half == 0) {
		tsz = ARM64_TCR_T0SZ(tcr);
		g = granule_shift(ARM64_TCR_TG0(tcr), 0);
		table = r->ttbr0_el1;
		if (tcr & ARM64_TCR_EPD0)
			return -EFAULT;
		if (tcr & ARM64_TCR_TBI0)
			va &= 0x00ffffffffffffffULL;
	} else {
		tsz = ARM64_TCR_T1SZ(tcr);
		g = granule_shift(ARM64_TCR_TG1(tcr), 1);
		table = r->ttbr1_el1;
		if (tcr & ARM64_TCR_EPD1)
			return -EFAULT;
		if (tcr & ARM64_TCR_TBI1)
			va |= 0xff00000000000000ULL;
	}
	if (g < 0)
		return -EINVAL;
	/* Sizes outside 16..39 bits of TxSZ are clamped by the hardware
	 * without FEAT_TTST/LVA; treat them the same way. */
	if (tsz < 16)
		tsz = 16;
	if (tsz > 39)
		tsz = 39;
	ia_bits = 64 - (int)tsz;
	/* The bits above the input range must all equal the half's. */
	top = va >> ia_bits;
	if (top != (half ? (~0ULL >> ia_bits) : 0))
		return -EFAULT;
	stride = g - 3;
	/* Each level resolves stride bits above the page offset; the first
	 * one resolves what is left, possibly fewer. */
	start = 4 - (ia_bits - g + stride - 1) / stride;
	table &= OA_MASK & ~1ULL;
	/* The first table is aligned to its own size, at least 64 bytes. */
	{
		int first_bits = ia_bits - g - (3 - start) * stride;
		uint64_t align = (1ULL << first_bits) * 8;

		if (align < 64)
			align = 64;
		table &= ~(align - 1);
	}
	for (level = start;; level++) {
		int shift = g + (3 - level) * stride;
		int bits = level == start ? ia_bits - shift : stride;
		uint64_t idx = (va >> shift) & ((1ULL << bits) - 1);
		uint64_t desc;

		if (read(ctx, table + idx * 8, &desc, 8) < 0)
			return -EFAULT;
		if (!(desc & DESC_VALID))
			return -EFAULT;
		if (level == 3) {
			if (!(desc & DESC_TABLE))
				return -EFAULT; /* reserved at level 3 */
			out->size = 1ULL << g;
		} else if (!(desc & DESC_TABLE)) {
			if (!block_ok((unsigned)level, g))
				return -EFAULT;
			out->size = 1ULL << shift;
		} else {
			table = desc & OA_MASK & ~((1ULL << g) - 1);
			continue;
		}
		out->gpa = (desc & OA_MASK & ~(out->size - 1)) |
			   (va & (out->size - 1));
		out->level = (unsigned)level;
		out->granule = 1u << g;
		return 0;
	}
}
