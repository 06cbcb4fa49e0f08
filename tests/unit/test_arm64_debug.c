/* Unit tests for the AArch64 debug encoders: BRK, DBGBCR/BVR, DBGWCR/WVR
 * and their decoders, ESR classification of KVM debug exits, and the
 * exception entry of a reinjected BRK. Every expected register value is a
 * literal worked out by hand from the Arm ARM field layouts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64/debug_enc.h"

/* Print the table row on failure, then both sides of the comparison. */
#define CHECK_EQ(row, got, want)                                               \
	do {                                                                   \
		unsigned long long g_ = (unsigned long long)(got);             \
		unsigned long long w_ = (unsigned long long)(want);            \
		if (g_ != w_) {                                                \
			print_error("row %u: %s = %#llx, want %#llx\n",        \
				    (unsigned)(row), #got, g_, w_);            \
			fail();                                                \
		}                                                              \
	} while (0)

/* ---- BRK ---------------------------------------------------------------- */

static void test_brk_bytes(void **state)
{
	/* BRK #0 = 1101 0100 001 imm16=0 000 00: little-endian in memory. */
	static const uint8_t want[4] = { 0x00, 0x00, 0x20, 0xd4 };
	uint8_t got[4];

	(void)state;
	assert_int_equal(ARM64_BRK_INSN, 0xd4200000u);
	arm64_insn_to_bytes(ARM64_BRK_INSN, got);
	assert_memory_equal(got, want, 4);
	assert_int_equal(arm64_insn_from_bytes(want), 0xd4200000u);
}

static void test_brk_imm(void **state)
{
	static const struct {
		uint32_t insn;
		bool is_brk;
		uint16_t imm;
	} rows[] = {
		{ 0xd4200000, true, 0x0000 },  /* BRK #0 */
		{ 0xd4200020, true, 0x0001 },  /* BRK #1: imm16 << 5 */
		{ 0xd4207d00, true, 0x03e8 },  /* BRK #1000 */
		{ 0xd43fffe0, true, 0xffff },  /* BRK #0xffff */
		{ 0xd4000001, false, 0 },      /* SVC #0 */
		{ 0xd4400000, false, 0 },      /* HLT #0 */
		{ 0xd4200001, false, 0 },      /* op2/LL != 0: not BRK */
		{ 0xd4a00001, false, 0 },      /* DCPS1 */
		{ 0xd503201f, false, 0 },      /* NOP */
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		uint16_t imm = 0xdead;

		CHECK_EQ(i, arm64_brk_imm(rows[i].insn, &imm), rows[i].is_brk);
		if (rows[i].is_brk)
			CHECK_EQ(i, imm, rows[i].imm);
		else
			CHECK_EQ(i, imm, 0xdead);
	}
	assert_true(arm64_brk_imm(0xd4200000, NULL));
}

/* ---- breakpoints -------------------------------------------------------- */

static void test_bp_encode(void **state)
{
	/*
	 * BCR for every row: E=1 (bit 0), PMC=0b11 (bits 2:1, EL1 and EL0),
	 * BAS=0b1111 (bits 8:5, RES1 for A64), HMC=0, SSC=00, LBN=0, BT=0
	 * -> 0x1 | 0x6 | 0x1e0 = 0x1e7.
	 */
	static const struct {
		uint64_t addr;
		int ret;
		uint64_t bcr, bvr;
	} rows[] = {
		{ 0x400000, 0, 0x1e7, 0x400000 },
		{ 0xffff800010001234, 0, 0x1e7, 0xffff800010001234 },
		/* bit 52 set: bits 63:53 become its copy (RESS). */
		{ 0x0010000000000000, 0, 0x1e7, 0xfff0000000000000 },
		{ 0x400002, -EINVAL, 0, 0 }, /* not word aligned */
		{ 0x400001, -EINVAL, 0, 0 },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t bcr = 0, bvr = 0;

		CHECK_EQ(i, arm64_bp_encode(rows[i].addr, &bcr, &bvr),
			 rows[i].ret);
		if (rows[i].ret)
			continue;
		CHECK_EQ(i, bcr, rows[i].bcr);
		CHECK_EQ(i, bvr, rows[i].bvr);
	}
}

static void test_bp_matches(void **state)
{
	static const struct {
		uint64_t bcr, bvr, pc;
		bool want;
	} rows[] = {
		{ 0x1e7, 0x400000, 0x400000, true },
		{ 0x1e7, 0x400000, 0x400004, false },
		{ 0x1e7, 0x400000, 0x3ffffc, false },
		{ 0x1e6, 0x400000, 0x400000, false },    /* E = 0 */
		{ 0x1001e7, 0x400000, 0x400000, false }, /* BT = 0b0001 */
		{ 0x1e7, 0xffff800010001234, 0xffff800010001234, true },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++)
		CHECK_EQ(i, arm64_bp_matches(rows[i].bcr, rows[i].bvr,
					     rows[i].pc),
			 rows[i].want);
}

/* ---- watchpoints -------------------------------------------------------- */

/*
 * WCR fields: E bit 0, PAC bits 2:1 (0b11 -> 0x6), LSC bits 4:3 (load
 * 0x08, store 0x10, both 0x18), BAS bits 12:5, MASK bits 28:24.
 */
static const struct wp_row {
	enum arm64_wp_type type;
	uint64_t addr, len;
	int ret;
	uint64_t wcr, wvr;
} wp_rows[] = {
	/* bytes 5,6,7 of the doubleword at 0x1000: BAS 0b11100000 = 0xe0;
	 * 0x1 | 0x6 | 0x10 | 0xe0 << 5 (0x1c00) */
	{ ARM64_WP_WRITE, 0x1005, 3, 0, 0x1c17, 0x1000 },
	/* byte 0: BAS 0x01 -> 0x20; load 0x08 */
	{ ARM64_WP_READ, 0x1000, 1, 0, 0x2f, 0x1000 },
	/* all 8 bytes: BAS 0xff -> 0x1fe0; both 0x18 */
	{ ARM64_WP_ACCESS, 0x1000, 8, 0, 0x1fff, 0x1000 },
	/* bytes 4..7: BAS 0xf0 -> 0x1e00 */
	{ ARM64_WP_WRITE, 0x1004, 4, 0, 0x1e17, 0x1000 },
	/* byte 7: BAS 0x80 -> 0x1000 */
	{ ARM64_WP_WRITE, 0x1007, 1, 0, 0x1017, 0x1000 },
	/* bytes 2,3: BAS 0x0c -> 0x180 */
	{ ARM64_WP_WRITE, 0x1002, 2, 0, 0x197, 0x1000 },
	/* 0x1006..0x1009 crosses into the next doubleword */
	{ ARM64_WP_WRITE, 0x1006, 4, -EINVAL, 0, 0 },
	/* 32 aligned bytes: MASK 5 -> 0x05000000, BAS 0xff */
	{ ARM64_WP_WRITE, 0x2000, 32, 0, 0x05001ff7, 0x2000 },
	/* 16 bytes at a 16-byte boundary: MASK 4 */
	{ ARM64_WP_WRITE, 0x2010, 16, 0, 0x04001ff7, 0x2010 },
	{ ARM64_WP_READ, 0x1000, 16, 0, 0x04001fef, 0x1000 },
	/* 16 bytes at an 8-byte boundary: not aligned to its size */
	{ ARM64_WP_WRITE, 0x2008, 16, -EINVAL, 0, 0 },
	/* 24 bytes: not a power of two */
	{ ARM64_WP_WRITE, 0x2000, 24, -EINVAL, 0, 0 },
	/* 2 GiB: MASK 31 -> 0x1f000000, the largest */
	{ ARM64_WP_WRITE, 0x80000000, 0x80000000, 0, 0x1f001ff7, 0x80000000 },
	/* 4 GiB: beyond MASK */
	{ ARM64_WP_WRITE, 0, 0x100000000, -EINVAL, 0, 0 },
	{ ARM64_WP_WRITE, 0x1000, 0, -EINVAL, 0, 0 },
	/* a kernel address, already sign-extended */
	{ ARM64_WP_WRITE, 0xffff000012345678, 8, 0, 0x1ff7, 0xffff000012345678 },
	/* a type that is no LSC value */
	{ (enum arm64_wp_type)0, 0x1000, 1, -EINVAL, 0, 0 },
};

static void test_wp_encode(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(wp_rows); i++) {
		const struct wp_row *r = &wp_rows[i];
		uint64_t wcr = 0, wvr = 0;

		CHECK_EQ(i, arm64_wp_encode(r->type, r->addr, r->len, &wcr, &wvr),
			 r->ret);
		if (r->type)
			CHECK_EQ(i, arm64_wp_fits(r->addr, r->len), r->ret == 0);
		if (r->ret)
			continue;
		CHECK_EQ(i, wcr, r->wcr);
		CHECK_EQ(i, wvr, r->wvr);
		CHECK_EQ(i, arm64_wp_type_of(wcr), r->type);
	}
}

static void test_wp_contains(void **state)
{
	static const struct {
		uint64_t wcr, wvr, addr;
		bool want;
	} rows[] = {
		/* BAS 0xe0 at 0x1000: bytes 0x1005..0x1007 */
		{ 0x1c17, 0x1000, 0x0fff, false },
		{ 0x1c17, 0x1000, 0x1004, false },
		{ 0x1c17, 0x1000, 0x1005, true },
		{ 0x1c17, 0x1000, 0x1007, true },
		{ 0x1c17, 0x1000, 0x1008, false },
		{ 0x1c17, 0x1000, 0x100d, false }, /* same BAS bit, next dword */
		/* MASK 5 at 0x2000: 0x2000..0x201f */
		{ 0x05001ff7, 0x2000, 0x1fff, false },
		{ 0x05001ff7, 0x2000, 0x2000, true },
		{ 0x05001ff7, 0x2000, 0x201f, true },
		{ 0x05001ff7, 0x2000, 0x2020, false },
		/* MASK 31 at 2 GiB */
		{ 0x1f001ff7, 0x80000000, 0x7fffffff, false },
		{ 0x1f001ff7, 0x80000000, 0x80000000, true },
		{ 0x1f001ff7, 0x80000000, 0xffffffff, true },
		{ 0x1f001ff7, 0x80000000, 0x100000000, false },
		/* E = 0 */
		{ 0x1c16, 0x1000, 0x1005, false },
		/* MASK 0b00001 is reserved */
		{ 0x01001ff7, 0x2000, 0x2000, false },
		/* MASK with BAS != 0xff (0x0f << 5): UNPREDICTABLE, no match */
		{ 0x050001f7, 0x2000, 0x2000, false },
		/* LSC 00 never matches */
		{ 0x1fe7, 0x1000, 0x1000, false },
		/* word-aligned WVR (bit 2 set): BAS[3:0] = 0b0110 selects
		 * 0x1005 and 0x1006; 0x06 << 5 = 0xc0 */
		{ 0xd7, 0x1004, 0x1004, false },
		{ 0xd7, 0x1004, 0x1005, true },
		{ 0xd7, 0x1004, 0x1006, true },
		{ 0xd7, 0x1004, 0x1007, false },
		{ 0xd7, 0x1004, 0x1001, false },
		{ 0xd7, 0x1004, 0x1008, false },
		/* high kernel addresses */
		{ 0x1ff7, 0xffff000012345678, 0xffff00001234567f, true },
		{ 0x1ff7, 0xffff000012345678, 0xffff000012345680, false },
		{ 0x1ff7, 0xffff000012345678, 0x0000000012345678, false },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++)
		CHECK_EQ(i, arm64_wp_contains(rows[i].wcr, rows[i].wvr,
					      rows[i].addr),
			 rows[i].want);
}

static void test_wp_range(void **state)
{
	static const struct {
		uint64_t wcr, wvr;
		int ret;
		uint64_t lo, len;
	} rows[] = {
		{ 0x1c17, 0x1000, 0, 0x1005, 3 },
		{ 0x05001ff7, 0x2000, 0, 0x2000, 32 },
		{ 0x1f001ff7, 0x80000000, 0, 0x80000000, 0x80000000 },
		{ 0xd7, 0x1004, 0, 0x1005, 2 },
		{ 0x1c16, 0x1000, -EINVAL, 0, 0 },
		{ 0x01001ff7, 0x2000, -EINVAL, 0, 0 },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t lo = 0, len = 0;

		CHECK_EQ(i, arm64_wp_range(rows[i].wcr, rows[i].wvr, &lo, &len),
			 rows[i].ret);
		if (rows[i].ret)
			continue;
		CHECK_EQ(i, lo, rows[i].lo);
		CHECK_EQ(i, len, rows[i].len);
	}
}

/* Every encodable small range matches exactly its own bytes, checked a
 * doubleword either side. */
static void test_wp_roundtrip(void **state)
{
	unsigned row = 0;

	(void)state;
	for (uint64_t addr = 0x4000; addr < 0x4040; addr++) {
		for (uint64_t len = 1; len <= 64; len++, row++) {
			uint64_t wcr, wvr;
			int ret = arm64_wp_encode(ARM64_WP_ACCESS, addr, len,
						  &wcr, &wvr);

			CHECK_EQ(row, ret == 0, arm64_wp_fits(addr, len));
			if (ret)
				continue;
			for (uint64_t a = addr - 8; a < addr + len + 8; a++)
				CHECK_EQ(row * 1000 + (a - addr + 8),
					 arm64_wp_contains(wcr, wvr, a),
					 a >= addr && a < addr + len);
		}
	}
}

/* ---- classifier --------------------------------------------------------- */

static const uint64_t sw_bps[] = { 0x400200, 0x400400 };

static bool sw_bp_at(const void *opaque, uint64_t addr)
{
	(void)opaque;
	for (unsigned i = 0; i < ARRAY_SIZE(sw_bps); i++)
		if (sw_bps[i] == addr)
			return true;
	return false;
}

/* Slots: bp0 0x400000, bp3 0x400100; wp0 write 0x1005/3, wp1 access
 * 0x2000/32, wp2 read 0x3000/8. */
static struct arm64_kvm_guest_debug_arch test_hw(void)
{
	struct arm64_kvm_guest_debug_arch hw;

	memset(&hw, 0, sizeof(hw));
	hw.dbg_bcr[0] = 0x1e7;
	hw.dbg_bvr[0] = 0x400000;
	hw.dbg_bcr[3] = 0x1e7;
	hw.dbg_bvr[3] = 0x400100;
	hw.dbg_wcr[0] = 0x1c17;
	hw.dbg_wvr[0] = 0x1000;
	hw.dbg_wcr[1] = 0x05001fff;
	hw.dbg_wvr[1] = 0x2000;
	hw.dbg_wcr[2] = 0x1fef;
	hw.dbg_wvr[2] = 0x3000;
	return hw;
}

static void test_exit_esr(void **state)
{
	struct arm64_kvm_debug_exit_arch x = {
		.hsr = 0xf2000000, .hsr_high = 0x5, .far = 0
	};

	(void)state;
	assert_int_equal(arm64_exit_esr(&x, true), 0x5f2000000ull);
	assert_int_equal(arm64_exit_esr(&x, false), 0xf2000000ull);
	/* EC 0x3c, IL, ISS = imm */
	assert_int_equal(arm64_esr_brk(0), 0xf2000000ull);
	assert_int_equal(arm64_esr_brk(0x3e8), 0xf20003e8ull);
	assert_int_equal(ARM64_ESR_EC(0xf20003e8ull), 0x3c);
}

static void test_classify(void **state)
{
	/*
	 * ESR = EC << 26 | IL (0x02000000) | ISS. Debug ISS: DFSC/IFSC
	 * 0b100010 = 0x22; watchpoints add WnR (bit 6) and CM (bit 8);
	 * software step adds ISV (bit 24) and EX (bit 6).
	 */
	enum { D = ARM64_VERDICT_DEBUGGER, R = ARM64_VERDICT_REINJECT,
	       N = ARM64_VERDICT_NOT_DEBUG };
	static const struct {
		uint64_t esr, far, pc;
		bool step;
		int kind;
		enum arm64_stop_reason reason;
		uint64_t addr;
		int slot;
		uint64_t out_esr;
	} rows[] = {
		/* BRK #0 (EC 0x3c: 0xf0000000 | IL) where kvmdbg planted it */
		{ 0xf2000000, 0, 0x400200, false, D, ARM64_REASON_SWBREAK,
		  0x400200, -1, 0 },
		{ 0xf2000000, 0, 0x400400, true, D, ARM64_REASON_SWBREAK,
		  0x400400, -1, 0 },
		/* BRK #0 elsewhere: the guest's own */
		{ 0xf2000000, 0, 0x400300, false, R, ARM64_REASON_NONE, 0, -1,
		  0xf2000000 },
		/* BRK #1000 at a planted address: not kvmdbg's immediate */
		{ 0xf20003e8, 0, 0x400200, false, R, ARM64_REASON_NONE, 0, -1,
		  0xf20003e8 },
		/* Breakpoint, lower EL (0x30 -> 0xc0000000) */
		{ 0xc2000022, 0, 0x400100, false, D, ARM64_REASON_HWBREAK,
		  0x400100, 3, 0 },
		/* Breakpoint, same EL (0x31 -> 0xc4000000) */
		{ 0xc6000022, 0, 0x400000, false, D, ARM64_REASON_HWBREAK,
		  0x400000, 0, 0 },
		/* no BVR at this pc */
		{ 0xc2000022, 0, 0x400004, false, D, ARM64_REASON_NONE,
		  0x400004, -1, 0 },
		/* Software step, lower EL (0x32 -> 0xc8000000), ISV=1 EX=0 */
		{ 0xcb000022, 0, 0x400008, true, D, ARM64_REASON_STEP,
		  0x400008, -1, 0 },
		/* ... not requested: the guest's own step */
		{ 0xcb000022, 0, 0x400008, false, R, ARM64_REASON_NONE, 0, -1,
		  0xcb000022 },
		/* Software step, same EL (0x33 -> 0xcc000000), ISV=0 */
		{ 0xce000022, 0, 0x40000c, true, D, ARM64_REASON_STEP,
		  0x40000c, -1, 0 },
		/* Watchpoint, lower EL (0x34 -> 0xd0000000), WnR=1 */
		{ 0xd2000062, 0x1006, 0x400010, false, D,
		  ARM64_REASON_WATCH_WRITE, 0x1006, 0, 0 },
		/* 8-byte store at 0x1000 over 0x1005..7: FAR below the range */
		{ 0xd2000062, 0x1000, 0x400010, false, D,
		  ARM64_REASON_WATCH_WRITE, 0x1005, 0, 0 },
		/* Watchpoint, same EL (0x35 -> 0xd4000000), read, access wp */
		{ 0xd6000022, 0x2010, 0x400014, false, D,
		  ARM64_REASON_WATCH_ACCESS, 0x2010, 1, 0 },
		/* DC ZVA (CM=1, WnR=1) on the access watchpoint */
		{ 0xd2000162, 0x2000, 0x400018, false, D,
		  ARM64_REASON_WATCH_ACCESS, 0x2000, 1, 0 },
		/* load on the read watchpoint */
		{ 0xd2000022, 0x3004, 0x40001c, false, D,
		  ARM64_REASON_WATCH_READ, 0x3004, 2, 0 },
		/* FAR that no watchpoint explains, even with slack */
		{ 0xd2000062, 0x9000, 0x400020, false, D, ARM64_REASON_NONE,
		  0x9000, -1, 0 },
		/* Data abort (EC 0x24), SVC (EC 0x15), WFI (EC 0x01) */
		{ 0x92000046, 0x5000, 0x400024, false, N, ARM64_REASON_NONE, 0,
		  -1, 0 },
		{ 0x56000000, 0, 0x400028, false, N, ARM64_REASON_NONE, 0, -1,
		  0 },
		{ 0x06000000, 0, 0x40002c, false, N, ARM64_REASON_NONE, 0, -1,
		  0 },
	};
	struct arm64_kvm_guest_debug_arch hw = test_hw();

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct arm64_debug_ctx ctx = {
			.hw = &hw, .single_step = rows[i].step,
			.sw_bp_at = sw_bp_at, .opaque = NULL,
		};
		struct arm64_verdict v =
			arm64_classify(rows[i].esr, rows[i].far, rows[i].pc,
				       &ctx);

		CHECK_EQ(i, v.kind, rows[i].kind);
		CHECK_EQ(i, v.reason, rows[i].reason);
		if (rows[i].kind == R) {
			CHECK_EQ(i, v.esr, rows[i].out_esr);
			CHECK_EQ(i, v.far_valid, false);
			continue;
		}
		CHECK_EQ(i, v.addr, rows[i].addr);
		CHECK_EQ(i, v.slot, rows[i].slot);
	}
}

static void test_classify_no_ctx(void **state)
{
	struct arm64_verdict v;

	(void)state;
	v = arm64_classify(0xf2000000, 0, 0x400200, NULL);
	assert_int_equal(v.kind, ARM64_VERDICT_REINJECT);
	assert_int_equal(v.esr, 0xf2000000);
	v = arm64_classify(0xc2000022, 0, 0x400000, NULL);
	assert_int_equal(v.kind, ARM64_VERDICT_DEBUGGER);
	assert_int_equal(v.reason, ARM64_REASON_NONE);
	assert_int_equal(v.slot, -1);
	v = arm64_classify(0xd2000062, 0x1005, 0x400000, NULL);
	assert_int_equal(v.reason, ARM64_REASON_NONE);
	assert_int_equal(v.addr, 0x1005);
}

/* ---- exception entry ---------------------------------------------------- */

#define VBAR 0xffff800010800000ull
/* A typical SCTLR_EL1 (bits 29,28,23,22,20,11 set): SPAN = 1, DSSBS = 0. */
#define SCTLR_SPAN1 0x30d00800ull
/* The same with SPAN = 0 and DSSBS (bit 44) = 1. */
#define SCTLR_SPAN0_DSSBS 0x0000100030500800ull

static void test_vector_offset(void **state)
{
	static const struct {
		uint64_t pstate;
		int want;
	} rows[] = {
		{ 0x4, 0x000 },        /* EL1t: current EL, SP_EL0 */
		{ 0x5, 0x200 },        /* EL1h: current EL, SP_EL1 */
		{ 0x0, 0x400 },        /* EL0t: lower EL, AArch64 */
		{ 0x10, 0x600 },       /* AArch32 User: lower EL, AArch32 */
		{ 0x600003c5, 0x200 }, /* flags do not matter */
		{ 0x1, -EINVAL },      /* EL0 has no SP_ELx */
		{ 0x8, -EINVAL },      /* EL2t */
		{ 0x9, -EINVAL },      /* EL2h */
		{ 0xd, -EINVAL },      /* EL3h */
		{ 0x13, -EINVAL },     /* AArch32 Supervisor: EL1 in AArch32 */
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++)
		CHECK_EQ(i, arm64_el1_vector_offset(rows[i].pstate),
			 rows[i].want);
}

static void test_brk_entry(void **state)
{
	static const struct {
		const char *what;
		struct arm64_cpu_in in;
		int ret;
		struct arm64_cpu_out out;
	} rows[] = {
		{
			/* EL1h, Z and C set, DAIF clear, BRK #1000 */
			"EL1h",
			{ .pstate = 0x60000005, .pc = 0xffff800010001000,
			  .vbar_el1 = VBAR, .sctlr_el1 = SCTLR_SPAN1,
			  .far_el1 = 0xdeadbeef, .brk_imm = 0x3e8 },
			0,
			/* new PSTATE: ZC 0x60000000 | DAIF 0x3c0 | EL1h 5;
			 * PC = VBAR + 0x200 (current EL, SP_ELx) */
			{ .pstate = 0x600003c5, .pc = VBAR + 0x200,
			  .esr_el1 = 0xf20003e8, .elr_el1 = 0xffff800010001000,
			  .spsr_el1 = 0x60000005, .far_el1 = 0xdeadbeef },
		},
		{
			/* EL1t with N, SS (bit 21), PAN (bit 22), BTYPE 0b01
			 * (bit 10): 0x80000000 | 0x200000 | 0x400000 | 0x400
			 * | 4. SPAN = 0 sets PAN, DSSBS sets SSBS, MTE sets
			 * TCO; SS and BTYPE are cleared. */
			"EL1t",
			{ .pstate = 0x80600404, .pc = 0xffff800010002000,
			  .vbar_el1 = VBAR, .sctlr_el1 = SCTLR_SPAN0_DSSBS,
			  .far_el1 = 0x1234, .mte = true, .brk_imm = 0x0 },
			0,
			/* N 0x80000000 | TCO 0x02000000 | PAN 0x00400000 |
			 * SSBS 0x1000 | DAIF 0x3c0 | EL1h 5 */
			{ .pstate = 0x824013c5, .pc = VBAR + 0x000,
			  .esr_el1 = 0xf2000000, .elr_el1 = 0xffff800010002000,
			  .spsr_el1 = 0x80600404, .far_el1 = 0x1234 },
		},
		{
			/* EL0t with C, UAO (bit 23), DIT (bit 24), IL (bit
			 * 20): 0x20000000 | 0x800000 | 0x1000000 | 0x100000 */
			"EL0t",
			{ .pstate = 0x21900000, .pc = 0x0000aaaa00001000,
			  .vbar_el1 = VBAR | 0x7ff, /* RES0 bits ignored */
			  .sctlr_el1 = SCTLR_SPAN0_DSSBS & ~(1ull << 44),
			  .far_el1 = 0, .brk_imm = 0x5 },
			0,
			/* C | DIT | PAN (SPAN = 0) | DAIF | EL1h; UAO and
			 * IL cleared; PC = VBAR + 0x400 (lower EL, A64) */
			{ .pstate = 0x214003c5, .pc = VBAR + 0x400,
			  .esr_el1 = 0xf2000005, .elr_el1 = 0x0000aaaa00001000,
			  .spsr_el1 = 0x21900000, .far_el1 = 0 },
		},
		{
			/* EL1h with PAN already set and SPAN = 1: kept. */
			"EL1h PAN kept",
			{ .pstate = 0x004003c5, .pc = 0x1000, .vbar_el1 = VBAR,
			  .sctlr_el1 = SCTLR_SPAN1, .brk_imm = 0xffff },
			0,
			{ .pstate = 0x004003c5, .pc = VBAR + 0x200,
			  .esr_el1 = 0xf200ffff, .elr_el1 = 0x1000,
			  .spsr_el1 = 0x004003c5, .far_el1 = 0 },
		},
		/* BRK does not exist in AArch32 */
		{ "AArch32 User", { .pstate = 0x10, .vbar_el1 = VBAR }, -EINVAL,
		  { 0 } },
		/* a nested EL2 guest is not ours to emulate */
		{ "EL2h", { .pstate = 0x9, .vbar_el1 = VBAR }, -EINVAL, { 0 } },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct arm64_cpu_out out;

		memset(&out, 0xa5, sizeof(out));
		print_message("entry from %s\n", rows[i].what);
		CHECK_EQ(i, arm64_emulate_brk_entry(&rows[i].in, &out),
			 rows[i].ret);
		if (rows[i].ret)
			continue;
		CHECK_EQ(i, out.pstate, rows[i].out.pstate);
		CHECK_EQ(i, out.pc, rows[i].out.pc);
		CHECK_EQ(i, out.esr_el1, rows[i].out.esr_el1);
		CHECK_EQ(i, out.elr_el1, rows[i].out.elr_el1);
		CHECK_EQ(i, out.spsr_el1, rows[i].out.spsr_el1);
		CHECK_EQ(i, out.far_el1, rows[i].out.far_el1);
	}
}

static void test_sync_entry(void **state)
{
	static const struct {
		uint64_t pstate, esr;
		bool far_valid;
		uint64_t far;
		int ret;
		uint64_t out_esr, out_far, out_pc;
	} rows[] = {
		/* software step reported as 0x32 (lower EL, relative to EL2)
		 * from EL1h: EL1 sees 0x33 -> 0xcc000000 | IL | ISV | 0x22 */
		{ 0x5, 0xcb000022, false, 0, 0, 0xcf000022, 0x77, VBAR + 0x200 },
		/* ... from EL0: stays 0x32 */
		{ 0x0, 0xcb000022, false, 0, 0, 0xcb000022, 0x77, VBAR + 0x400 },
		/* watchpoint 0x34 from EL1t with FAR: 0x35 -> 0xd6000062 */
		{ 0x4, 0xd2000062, true, 0x1006, 0, 0xd6000062, 0x1006, VBAR },
		/* breakpoint 0x31 from EL0: lower EL 0x30 -> 0xc2000022 */
		{ 0x0, 0xc6000022, false, 0, 0, 0xc2000022, 0x77, VBAR + 0x400 },
		/* AArch32 BKPT #5 (EC 0x38 -> 0xe0000000) from User: no pair
		 * to rebase; vector 0x600 */
		{ 0x60000010, 0xe2000005, false, 0, 0, 0xe2000005, 0x77,
		  VBAR + 0x600 },
		/* illegal origin */
		{ 0x1, 0xf2000000, false, 0, -EINVAL, 0, 0, 0 },
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct arm64_cpu_in in = {
			.pstate = rows[i].pstate, .pc = 0x2000,
			.vbar_el1 = VBAR, .sctlr_el1 = SCTLR_SPAN1,
			.far_el1 = 0x77,
		};
		struct arm64_cpu_out out;

		CHECK_EQ(i, arm64_emulate_sync_entry(&in, rows[i].esr,
						     rows[i].far_valid,
						     rows[i].far, &out),
			 rows[i].ret);
		if (rows[i].ret)
			continue;
		CHECK_EQ(i, out.esr_el1, rows[i].out_esr);
		CHECK_EQ(i, out.far_el1, rows[i].out_far);
		CHECK_EQ(i, out.pc, rows[i].out_pc);
		CHECK_EQ(i, out.elr_el1, 0x2000);
		CHECK_EQ(i, out.spsr_el1, rows[i].pstate);
		/* NZCV kept, DAIF set, EL1h */
		CHECK_EQ(i, out.pstate, (rows[i].pstate & 0xf0000000) | 0x3c5);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brk_bytes),
		cmocka_unit_test(test_brk_imm),
		cmocka_unit_test(test_bp_encode),
		cmocka_unit_test(test_bp_matches),
		cmocka_unit_test(test_wp_encode),
		cmocka_unit_test(test_wp_contains),
		cmocka_unit_test(test_wp_range),
		cmocka_unit_test(test_wp_roundtrip),
		cmocka_unit_test(test_exit_esr),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_no_ctx),
		cmocka_unit_test(test_vector_offset),
		cmocka_unit_test(test_brk_entry),
		cmocka_unit_test(test_sync_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
