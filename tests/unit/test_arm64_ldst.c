/* Unit tests for the A64 load/store size decoder (src/arch/arm64/ldst.c).
 * The encodings are what binutils' aarch64 assembler emits for the
 * instruction in each row's comment; the sizes are worked out by hand
 * from the instruction's definition in the Arm ARM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "arch/arm64/ldst.h"

struct row {
	uint32_t insn;
	int size;
	const char *text;
};

static const struct row rows[] = {
	/* Load/store register: immediate, writeback, unscaled, register,
	 * unprivileged. */
	{ 0xf9400020, 8, "ldr x0, [x1]" },
	{ 0xb9400020, 4, "ldr w0, [x1]" },
	{ 0x39400020, 1, "ldrb w0, [x1]" },
	{ 0x79400020, 2, "ldrh w0, [x1]" },
	{ 0xb9800020, 4, "ldrsw x0, [x1]" },
	{ 0xf8008420, 8, "str x0, [x1], #8" },
	{ 0xb8004c20, 4, "str w0, [x1, #4]!" },
	{ 0xf85fd020, 8, "ldur x0, [x1, #-3]" },
	{ 0xf8627820, 8, "ldr x0, [x1, x2, lsl #3]" },
	{ 0xb8000820, 4, "sttr w0, [x1]" },
	/* SIMD&FP registers. */
	{ 0x3dc00020, 16, "ldr q0, [x1]" },
	{ 0x3c810420, 16, "str q0, [x1], #16" },
	{ 0xfd400020, 8, "ldr d0, [x1]" },
	{ 0xbd400020, 4, "ldr s0, [x1]" },
	{ 0x7d400020, 2, "ldr h0, [x1]" },
	{ 0x3d400020, 1, "ldr b0, [x1]" },
	{ 0x3c9f0021, 16, "stur q1, [x1, #-16]" },
	/* Pairs. */
	{ 0xa9400440, 16, "ldp x0, x1, [x2]" },
	{ 0x29810440, 8, "stp w0, w1, [x2, #8]!" },
	{ 0xa8c10440, 16, "ldp x0, x1, [x2], #16" },
	{ 0x69400440, 8, "ldpsw x0, x1, [x2]" },
	{ 0xa8000440, 16, "stnp x0, x1, [x2]" },
	{ 0xad400440, 32, "ldp q0, q1, [x2]" },
	{ 0x6d000440, 16, "stp d0, d1, [x2]" },
	{ 0x2d400440, 8, "ldp s0, s1, [x2]" },
	/* Exclusives, acquire/release, compare-and-swap. */
	{ 0xc85f7c20, 8, "ldxr x0, [x1]" },
	{ 0x885f7c20, 4, "ldxr w0, [x1]" },
	{ 0xc8037c20, 8, "stxr w3, x0, [x1]" },
	{ 0x085f7c20, 1, "ldxrb w0, [x1]" },
	{ 0x4803fc20, 2, "stlxrh w3, w0, [x1]" },
	{ 0xc87f8440, 16, "ldaxp x0, x1, [x2]" },
	{ 0x88230440, 8, "stxp w3, w0, w1, [x2]" },
	{ 0xc8dffc20, 8, "ldar x0, [x1]" },
	{ 0x889ffc20, 4, "stlr w0, [x1]" },
	{ 0x88a07c41, 4, "cas w0, w1, [x2]" },
	{ 0x48207c82, 16, "casp x0, x1, x2, x3, [x4]" },
	{ 0x08207c82, 8, "casp w0, w1, w2, w3, [x4]" },
	/* RCpc and atomics. */
	{ 0x38bfc020, 1, "ldaprb w0, [x1]" },
	{ 0xd9004020, 8, "stlur x0, [x1, #4]" },
	{ 0xf8200041, 8, "ldadd x0, x1, [x2]" },
	{ 0x38208041, 1, "swpb w0, w1, [x2]" },
	/* Advanced SIMD structures. */
	{ 0x4c407000, 16, "ld1 {v0.16b}, [x0]" },
	{ 0x0c40a000, 16, "ld1 {v0.8b, v1.8b}, [x0]" },
	{ 0x4c9f2800, 64, "st1 {v0.4s-v3.4s}, [x0], #64" },
	{ 0x4c408400, 32, "ld2 {v0.8h, v1.8h}, [x0]" },
	{ 0x0c004000, 24, "st3 {v0.8b-v2.8b}, [x0]" },
	{ 0x4c400c00, 64, "ld4 {v0.2d-v3.2d}, [x0]" },
	{ 0x0d409000, 4, "ld1 {v0.s}[1], [x0]" },
	{ 0x4d9f8400, 8, "st1 {v0.d}[1], [x0], #8" },
	{ 0x0d605800, 4, "ld2 {v0.h, v1.h}[3], [x0]" },
	{ 0x0d402000, 3, "ld3 {v0.b-v2.b}[0], [x0]" },
	{ 0x4d60a000, 16, "ld4 {v0.s-v3.s}[2], [x0]" },
	{ 0x4d40c800, 4, "ld1r {v0.4s}, [x0]" },
	{ 0x4d60ec00, 32, "ld4r {v0.2d-v3.2d}, [x0]" },
	/* Literals and prefetches. */
	{ 0x580000c0, 8, "ldr x0, <literal>" },
	{ 0x180000a0, 4, "ldr w0, <literal>" },
	{ 0x9c000080, 16, "ldr q0, <literal>" },
	{ 0x98000060, 4, "ldrsw x0, <literal>" },
	{ 0xf9800000, 0, "prfm pldl1keep, [x0]" },
	/* Not loads or stores. */
	{ 0x8b020020, -1, "add x0, x1, x2" },
	{ 0xd4200000, -1, "brk #0" },
	{ 0xd503201f, -1, "nop" },
};

static void test_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = arm64_ldst_size(rows[i].insn);

		if (got != rows[i].size) {
			print_error("%08x %s: size %d, want %d\n",
				    (unsigned)rows[i].insn, rows[i].text, got,
				    rows[i].size);
			fail();
		}
	}
}

/* Every encoding: never more than four Q registers, never below -1. */
static void test_bounds(void **state)
{
	(void)state;
	for (uint64_t insn = 0; insn < (1ULL << 32); insn += 65521) {
		int got = arm64_ldst_size((uint32_t)insn);

		if (got < -1 || got > 64) {
			print_error("%08x: size %d\n", (unsigned)insn, got);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
