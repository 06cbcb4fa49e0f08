/* AArch64 stage-1 walk on synthetic translation tables: each granule, the
 * TTBR0/TTBR1 split, blocks, top-byte-ignore and every kind of fault. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "arch/arm64/paging.h"

#define MEM_BASE 0x40000000ULL
#define MEM_SIZE (4u << 20)

static uint8_t mem[MEM_SIZE] __attribute__((aligned(65536)));
static unsigned reads;

static int rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	if (gpa < MEM_BASE || gpa - MEM_BASE + len > MEM_SIZE)
		return -EFAULT;
	memcpy(buf, mem + (gpa - MEM_BASE), len);
	return 0;
}

static void put(uint64_t table, unsigned idx, uint64_t desc)
{
	memcpy(mem + (table - MEM_BASE) + idx * 8, &desc, 8);
}

#define TABLE 3ULL /* valid table (levels 0-2) or page (level 3) */
#define BLOCK 1ULL
#define AF (1ULL << 10)

/* TCR for TTBR0 only: T0SZ, TG0, TTBR1 disabled. */
static uint64_t tcr0(unsigned t0sz, unsigned tg0)
{
	return t0sz | ((uint64_t)tg0 << 14) | ARM64_TCR_EPD1;
}

static int walk(const struct arm64_paging_regs *r, uint64_t va,
		struct arm64_translation *t)
{
	memset(t, 0xa5, sizeof(*t));
	return arm64_paging_translate(r, va, rd, NULL, t);
}

static void test_mmu_off(void **state)
{
	struct arm64_paging_regs r = { .sctlr_el1 = 0x30d00800 };
	struct arm64_translation t;

	(void)state;
	reads = 0;
	ASSERT_EQ(walk(&r, 0x40201234, &t), 0);
	ASSERT_HEX(t.gpa, 0x40201234);
	ASSERT_EQ(t.size, 4096);
	ASSERT_EQ(t.granule, 0);
	ASSERT_EQ(reads, 0);
}

static void test_4k_four_levels(void **state)
{
	/* VA 0x0000123456789abc: L0 idx 0x24, L1 0x0d1, L2 0x0b3, L3 0x189. */
	uint64_t l0 = MEM_BASE + 0x1000, l1 = MEM_BASE + 0x2000,
		 l2 = MEM_BASE + 0x3000, l3 = MEM_BASE + 0x4000;
	uint64_t va = 0x0000123456789abcULL;
	struct arm64_paging_regs r = { .sctlr_el1 = ARM64_SCTLR_M,
				       .tcr_el1 = tcr0(16, 0),
				       .ttbr0_el1 = l0 };
	struct arm64_translation t;

	(void)state;
	memset(mem, 0, 0x10000);
	put(l0, (va >> 39) & 511, l1 | TABLE);
	put(l1, (va >> 30) & 511, l2 | TABLE);
	put(l2, (va >> 21) & 511, l3 | TABLE);
	put(l3, (va >> 12) & 511, 0x40123000ULL | AF | TABLE);
	reads = 0;
	ASSERT_EQ(walk(&r, va, &t), 0);
	ASSERT_HEX(t.gpa, 0x40123abc);
	ASSERT_EQ(t.size, 4096);
	ASSERT_EQ(t.level, 3);
	ASSERT_EQ(t.granule, 4096);
	ASSERT_EQ(reads, 4);
	/* Upper attribute bits (XN, software bits) do not leak into the
	 * address. */
	put(l3, (va >> 12) & 511,
	    (3ULL << 53) | (0xfULL << 55) | 0x40123000ULL | AF | TABLE);
	ASSERT_EQ(walk(&r, va, &t), 0);
	ASSERT_HEX(t.gpa, 0x40123abc);
	/* The neighbouring page is not mapped. */
	ASSERT_EQ(walk(&r, va + 0x1000, &t), -EFAULT);
	/* A level-3 descriptor with bit 1 clear is reserved. */
	put(l3, (va >> 12) & 511, 0x40123000ULL | AF | BLOCK);
	ASSERT_EQ(walk(&r, va, &t), -EFAULT);
	/* The table base's low bits (CnP) are not part of the address. */
	put(l3, (va >> 12) & 511, 0x40123000ULL | AF | TABLE);
	r.ttbr0_el1 = l0 | 1;
	ASSERT_EQ(walk(&r, va, &t), 0);
	/* Bits above the 48-bit range must be zero for TTBR0. */
	ASSERT_EQ(walk(&r, va | (1ULL << 50), &t), -EFAULT);
	/* EPD0 disables the walk. */
	r.tcr_el1 |= ARM64_TCR_EPD0;
	ASSERT_EQ(walk(&r, va, &t), -EFAULT);
}

static void test_4k_blocks(void **state)
{
	/* T0SZ 25: 39 bits, three levels from L1. */
	uint64_t l1 = MEM_BASE + 0x1000, l2 = MEM_BASE + 0x2000;
	struct arm64_paging_regs r = { .sctlr_el1 = ARM64_SCTLR_M,
				       .tcr_el1 = tcr0(25, 0),
				       .ttbr0_el1 = l1 };
	struct arm64_translation t;

	(void)state;
	memset(mem, 0, 0x10000);
	put(l1, 0, l2 | TABLE);
	put(l1, 1, 0x40000000ULL | AF | BLOCK); /* 1 GiB identity */
	put(l2, 1, 0x40200000ULL | AF | BLOCK); /* 2 MiB at VA 2 MiB */
	reads = 0;
	ASSERT_EQ(walk(&r, 0x2abcdeULL, &t), 0);
	ASSERT_HEX(t.gpa, 0x402abcde);
	ASSERT_HEX(t.size, 2u << 20);
	ASSERT_EQ(t.level, 2);
	ASSERT_EQ(reads, 2);
	ASSERT_EQ(walk(&r, 0x7ffffff8ULL, &t), 0);
	ASSERT_HEX(t.gpa, 0x7ffffff8);
	ASSERT_HEX(t.size, 1u << 30);
	ASSERT_EQ(t.level, 1);
	ASSERT_EQ(walk(&r, 1ULL << 39, &t), -EFAULT);
}

static void test_ttbr1_and_tbi(void **state)
{
	/* TTBR1: T1SZ 25, TG1 = 2 (4K); TTBR0 with TBI0. */
	uint64_t l1 = MEM_BASE + 0x1000, l1b = MEM_BASE + 0x2000;
	struct arm64_paging_regs r = {
		.sctlr_el1 = ARM64_SCTLR_M,
		.tcr_el1 = 25 | (2ULL << 14 /* TG0 16K: unused here */) |
			   (25ULL << 16) | (2ULL << 30) | ARM64_TCR_TBI0,
		.ttbr0_el1 = l1,
		.ttbr1_el1 = l1b,
	};
	struct arm64_translation t;

	(void)state;
	memset(mem, 0, 0x10000);
	/* 0xffffff8000000000 is the bottom of the TTBR1 range: L1 index 0. */
	put(l1b, 0, 0x40000000ULL | AF | BLOCK);
	put(l1b, 511, 0x80000000ULL | AF | BLOCK);
	ASSERT_EQ(walk(&r, 0xffffff8000001234ULL, &t), 0);
	ASSERT_HEX(t.gpa, 0x40001234);
	ASSERT_EQ(walk(&r, 0xffffffffc0000010ULL, &t), 0);
	ASSERT_HEX(t.gpa, 0x80000010);
	/* Between the two ranges: neither. */
	ASSERT_EQ(walk(&r, 0xffff000000000000ULL, &t), -EFAULT);
	/* TTBR0 with 16K granule (TG0 = 2), T0SZ 25: L1 block not allowed,
	 * so a level-1 block descriptor faults; the walk starts at L1 with
	 * bits [38:36]. */
	put(l1, 0, 0x40000000ULL | AF | BLOCK);
	ASSERT_EQ(walk(&r, 0x1000, &t), -EFAULT);
	/* A tag in the top byte is ignored with TBI0, and not without. */
	r.tcr_el1 = tcr0(25, 0) | ARM64_TCR_TBI0;
	ASSERT_EQ(walk(&r, 0x5a00000000001000ULL, &t), 0);
	ASSERT_HEX(t.gpa, 0x40001000);
	r.tcr_el1 &= ~ARM64_TCR_TBI0;
	ASSERT_EQ(walk(&r, 0x5a00000000001000ULL, &t), -EFAULT);
}

static void test_16k(void **state)
{
	/* 16K, T0SZ 16 (48 bits): L0 has two entries (bit 47), then L1
	 * (bits 46:36), L2 (35:25), L3 (24:14). */
	uint64_t l0 = MEM_BASE + 0x10000, l1 = MEM_BASE + 0x14000,
		 l2 = MEM_BASE + 0x18000, l3 = MEM_BASE + 0x1c000;
	uint64_t va = 0x0000812345678abcULL;
	struct arm64_paging_regs r = { .sctlr_el1 = ARM64_SCTLR_M,
				       .tcr_el1 = tcr0(16, 2),
				       .ttbr0_el1 = l0 };
	struct arm64_translation t;

	(void)state;
	memset(mem, 0, 0x40000);
	put(l0, 1, l1 | TABLE);
	put(l1, (va >> 36) & 2047, l2 | TABLE);
	put(l2, (va >> 25) & 2047, l3 | TABLE);
	put(l3, (va >> 14) & 2047, 0x40abc000ULL | AF | TABLE);
	ASSERT_EQ(walk(&r, va, &t), 0);
	ASSERT_HEX(t.gpa, 0x40abc000ULL | (va & 0x3fff));
	ASSERT_EQ(t.size, 16384);
	ASSERT_EQ(t.granule, 16384);
	/* A 32 MiB block at L2. */
	put(l2, (va >> 25) & 2047, 0x42000000ULL | AF | BLOCK);
	ASSERT_EQ(walk(&r, va, &t), 0);
	ASSERT_HEX(t.gpa, 0x42000000ULL | (va & 0x1ffffff));
	ASSERT_HEX(t.size, 32u << 20);
}

static void test_64k(void **state)
{
	/* 64K, T0SZ 22 (42 bits): L2 (bits 41:29, 13 bits), L3 (28:16). */
	uint64_t l2 = MEM_BASE + 0x10000, l3 = MEM_BASE + 0x20000;
	uint64_t va = 0x000002468ace1357ULL;
	struct arm64_paging_regs r = { .sctlr_el1 = ARM64_SCTLR_M,
				       .tcr_el1 = tcr0(22, 1),
				       .ttbr0_el1 = l2 };
	struct arm64_translation t;

	(void)state;
	memset(mem, 0, 0x40000);
	put(l2, (va >> 29) & 8191, l3 | TABLE);
	put(l3, (va >> 16) & 8191, 0x40230000ULL | AF | TABLE);
	reads = 0;
	ASSERT_EQ(walk(&r, va, &t), 0);
	ASSERT_HEX(t.gpa, 0x40230000ULL | (va & 0xffff));
	ASSERT_EQ(t.size, 65536);
	ASSERT_EQ(t.level, 3);
	ASSERT_EQ(reads, 2);
	/* A table outside guest memory is a fault, not a crash. */
	put(l2, (va >> 29) & 8191, 0x7fff0000ULL | TABLE);
	ASSERT_EQ(walk(&r, va, &t), -EFAULT);
	/* TG0 = 3 is reserved. */
	r.tcr_el1 = tcr0(22, 3);
	ASSERT_EQ(walk(&r, va, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmu_off),
		cmocka_unit_test(test_4k_four_levels),
		cmocka_unit_test(test_4k_blocks),
		cmocka_unit_test(test_ttbr1_and_tbi),
		cmocka_unit_test(test_16k),
		cmocka_unit_test(test_64k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
