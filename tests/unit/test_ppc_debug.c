/* Unit tests for the PowerPC Book E debug encoders: the trap instruction,
 * IAC/DAC and DBCR0, KVM's bp[] list, and classification from DBSR and
 * from KVM's exit record. Every expected register value is a literal
 * worked out by hand from the Book III-E bit layouts (bit 0 = MSB). */
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

#include "arch/ppc/debug_enc.h"

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

/* ---- trap --------------------------------------------------------------- */

static void test_trap_bytes(void **state)
{
	/* tw 31,0,0: opcode 31 (0x7c000000) | TO 31 << 21 (0x03e00000) |
	 * XO 4 << 1 (0x8) */
	static const uint8_t be[4] = { 0x7f, 0xe0, 0x00, 0x08 };
	static const uint8_t le[4] = { 0x08, 0x00, 0xe0, 0x7f };
	uint8_t got[4];

	(void)state;
	assert_int_equal(PPC_TRAP_INSN, 0x7c000000u | 0x03e00000u | 0x8u);
	ppc_insn_to_bytes(PPC_TRAP_INSN, true, got);
	assert_memory_equal(got, be, 4);
	ppc_insn_to_bytes(PPC_TRAP_INSN, false, got);
	assert_memory_equal(got, le, 4);
	assert_int_equal(ppc_insn_from_bytes(be, true), PPC_TRAP_INSN);
	assert_int_equal(ppc_insn_from_bytes(le, false), PPC_TRAP_INSN);
}

static void test_trap_decode(void **state)
{
	static const struct {
		uint32_t insn;
		bool want;
	} rows[] = {
		{ 0x7fe00008, true },  /* trap = tw 31,0,0 */
		{ 0x7fe32008, true },  /* tw 31,r3,r4 */
		{ 0x0fe00000, true },  /* twi 31,0,0 (opcode 3) */
		{ 0x7fe00088, true },  /* td 31,0,0 (XO 68) */
		{ 0x0be00000, true },  /* tdi 31,0,0 (opcode 2) */
		{ 0x7c800008, false }, /* tweq (TO 4): conditional */
		{ 0x7fe00009, false }, /* Rc = 1: not a trap form */
		{ 0x7c00021c, false }, /* ehpriv */
		{ 0x60000000, false }, /* nop */
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++)
		CHECK_EQ(i, ppc_is_unconditional_trap(rows[i].insn),
			 rows[i].want);
}

/* ---- IAC / DAC / DBCR0 -------------------------------------------------- */

/*
 * DBCR0 masks: IDM bit 1 = 0x40000000, IAC1..4 bits 8..11 = 0x00800000,
 * 0x00400000, 0x00200000, 0x00100000; DAC1R/W bits 12/13 = 0x00080000 /
 * 0x00040000; DAC2R/W bits 14/15 = 0x00020000 / 0x00010000.
 */
static struct ppc_booke_debug_regs test_regs(void)
{
	struct ppc_booke_debug_regs r;

	ppc_debug_init(&r);
	assert_int_equal(ppc_iac_set(&r, 0, 0x10000), 0);
	assert_int_equal(ppc_iac_set(&r, 3, 0x10100), 0);
	assert_int_equal(ppc_dac_set(&r, 0, PPC_WP_WRITE, 0x20000), 0);
	assert_int_equal(ppc_dac_set(&r, 1, PPC_WP_ACCESS, 0x20010), 0);
	return r;
}

static void test_dbcr0(void **state)
{
	struct ppc_booke_debug_regs r;

	(void)state;
	ppc_debug_init(&r);
	assert_int_equal(r.dbcr0, 0);

	/* IDM | IAC1 */
	assert_int_equal(ppc_iac_set(&r, 0, 0x10000), 0);
	assert_int_equal(r.dbcr0, 0x40800000);
	assert_int_equal(r.iac[0], 0x10000);
	/* | IAC4 */
	assert_int_equal(ppc_iac_set(&r, 3, 0x10100), 0);
	assert_int_equal(r.dbcr0, 0x40900000);
	/* | DAC1W */
	assert_int_equal(ppc_dac_set(&r, 0, PPC_WP_WRITE, 0x20000), 0);
	assert_int_equal(r.dbcr0, 0x40940000);
	/* | DAC2R | DAC2W */
	assert_int_equal(ppc_dac_set(&r, 1, PPC_WP_ACCESS, 0x20010), 0);
	assert_int_equal(r.dbcr0, 0x40970000);
	assert_int_equal(r.dac[1], 0x20010);
	assert_int_equal(ppc_dac_type(&r, 0), PPC_WP_WRITE);
	assert_int_equal(ppc_dac_type(&r, 1), PPC_WP_ACCESS);

	/* re-typing DAC1 as read replaces W with R: DAC1R 0x00080000 */
	assert_int_equal(ppc_dac_set(&r, 0, PPC_WP_READ, 0x20000), 0);
	assert_int_equal(r.dbcr0, 0x409b0000);

	/* clearing everything drops IDM too */
	ppc_iac_clear(&r, 0);
	ppc_iac_clear(&r, 3);
	ppc_dac_clear(&r, 0);
	assert_int_equal(r.dbcr0, 0x40030000);
	ppc_dac_clear(&r, 1);
	assert_int_equal(r.dbcr0, 0);

	/* a read-only DAC1: IDM | DAC1R */
	assert_int_equal(ppc_dac_set(&r, 0, PPC_WP_READ, 0x30000), 0);
	assert_int_equal(r.dbcr0, 0x40080000);
}

static void test_iac_dac_errors(void **state)
{
	struct ppc_booke_debug_regs r;

	(void)state;
	ppc_debug_init(&r);
	assert_int_equal(ppc_iac_set(&r, 0, 0x10002), -EINVAL); /* unaligned */
	assert_int_equal(ppc_iac_set(&r, PPC_NR_IAC, 0x10000), -EINVAL);
	assert_int_equal(ppc_dac_set(&r, PPC_NR_DAC, PPC_WP_READ, 0), -EINVAL);
	assert_int_equal(ppc_dac_set(&r, 0, (enum ppc_wp_type)0, 0), -EINVAL);
	assert_int_equal(ppc_dac_set(&r, 0, (enum ppc_wp_type)4, 0), -EINVAL);
	assert_int_equal(r.dbcr0, 0);
}

static void test_to_kvm(void **state)
{
	struct ppc_booke_debug_regs r = test_regs();
	struct ppc_kvm_guest_debug_arch k;

	(void)state;
	/* packed in slot order: IAC1, IAC4, DAC1 (write), DAC2 (both) */
	assert_int_equal(ppc_debug_to_kvm(&r, PPC_NR_IAC, &k), 0);
	assert_int_equal(k.bp[0].addr, 0x10000);
	assert_int_equal(k.bp[0].type, 0x2); /* KVMPPC_DEBUG_BREAKPOINT */
	assert_int_equal(k.bp[1].addr, 0x10100);
	assert_int_equal(k.bp[1].type, 0x2);
	assert_int_equal(k.bp[2].addr, 0x20000);
	assert_int_equal(k.bp[2].type, 0x4); /* WATCH_WRITE */
	assert_int_equal(k.bp[3].addr, 0x20010);
	assert_int_equal(k.bp[3].type, 0xc); /* WATCH_WRITE | WATCH_READ */
	for (unsigned i = 4; i < PPC_KVM_NR_BP; i++) {
		CHECK_EQ(i, k.bp[i].addr, 0);
		CHECK_EQ(i, k.bp[i].type, 0);
		CHECK_EQ(i, k.bp[i].reserved, 0);
	}

	/* e500 has two IACs: two enabled still fit, three do not */
	assert_int_equal(ppc_debug_to_kvm(&r, 2, &k), 0);
	assert_int_equal(ppc_iac_set(&r, 1, 0x10004), 0);
	assert_int_equal(ppc_debug_to_kvm(&r, 2, &k), -ENOSPC);
	assert_int_equal(ppc_debug_to_kvm(&r, 4, &k), 0);
	assert_int_equal(k.bp[1].addr, 0x10004);
	assert_int_equal(k.bp[2].addr, 0x10100);
}

/* ---- classifier --------------------------------------------------------- */

static bool sw_bp_at(const void *opaque, uint64_t addr)
{
	(void)opaque;
	return addr == 0x30000;
}

enum { D = PPC_VERDICT_DEBUGGER, R = PPC_VERDICT_REINJECT,
       I = PPC_VERDICT_INTERNAL, N = PPC_VERDICT_NOT_DEBUG };

static void test_classify_dbsr(void **state)
{
	/*
	 * DBSR masks: IDE bit 0 = 0x80000000, ICMP bit 4 = 0x08000000, TRAP
	 * bit 7 = 0x01000000, IAC1..4 bits 8..11, DAC1R/W bits 12/13, DAC2R/W
	 * bits 14/15, RET bit 16 = 0x00008000.
	 */
	static const struct {
		uint32_t dbsr;
		uint64_t pc;
		bool step;
		int kind;
		enum ppc_stop_reason reason;
		uint64_t addr;
		int slot;
	} rows[] = {
		{ 0x00800000, 0x10000, false, D, PPC_REASON_HWBREAK, 0x10000, 0 },
		{ 0x00100000, 0x10100, false, D, PPC_REASON_HWBREAK, 0x10100, 3 },
		/* DAC1W: a write-only DAC */
		{ 0x00040000, 0x10200, false, D, PPC_REASON_WATCH_WRITE,
		  0x20000, 0 },
		/* DAC2R on the DAC watching both: gdb's awatch */
		{ 0x00020000, 0x10204, false, D, PPC_REASON_WATCH_ACCESS,
		  0x20010, 1 },
		{ 0x00010000, 0x10208, false, D, PPC_REASON_WATCH_ACCESS,
		  0x20010, 1 },
		/* IAC before a step that completed on the same pc */
		{ 0x08800000, 0x10000, true, D, PPC_REASON_HWBREAK, 0x10000, 0 },
		/* TRAP where kvmdbg planted it, and elsewhere */
		{ 0x01000000, 0x30000, false, D, PPC_REASON_SWBREAK, 0x30000, -1 },
		{ 0x01000000, 0x30004, false, R, PPC_REASON_NONE, 0x30004, -1 },
		/* ICMP: asked for, or not */
		{ 0x08000000, 0x10010, true, D, PPC_REASON_STEP, 0x10010, -1 },
		{ 0x08000000, 0x10010, false, I, PPC_REASON_STEP, 0x10010, -1 },
		/* IDE | RET only */
		{ 0x80008000, 0x10014, false, I, PPC_REASON_NONE, 0x10014, -1 },
		{ 0x00000000, 0x10018, false, N, PPC_REASON_NONE, 0, -1 },
	};
	struct ppc_booke_debug_regs r = test_regs();

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct ppc_debug_ctx ctx = {
			.regs = &r, .single_step = rows[i].step,
			.sw_bp_at = sw_bp_at,
		};
		struct ppc_verdict v =
			ppc_classify_dbsr(rows[i].dbsr, rows[i].pc, &ctx);

		CHECK_EQ(i, v.kind, rows[i].kind);
		CHECK_EQ(i, v.reason, rows[i].reason);
		CHECK_EQ(i, v.addr, rows[i].addr);
		CHECK_EQ(i, v.slot, rows[i].slot);
		CHECK_EQ(i, v.esr, rows[i].kind == R ? 0x02000000 : 0);
	}
}

static void test_classify_dbsr_read(void **state)
{
	struct ppc_booke_debug_regs r;
	struct ppc_debug_ctx ctx = { .regs = &r };
	struct ppc_verdict v;

	(void)state;
	ppc_debug_init(&r);
	assert_int_equal(ppc_dac_set(&r, 0, PPC_WP_READ, 0x20000), 0);
	/* DAC1R */
	v = ppc_classify_dbsr(0x00080000, 0x10000, &ctx);
	assert_int_equal(v.kind, PPC_VERDICT_DEBUGGER);
	assert_int_equal(v.reason, PPC_REASON_WATCH_READ);
	assert_int_equal(v.addr, 0x20000);
	assert_int_equal(v.slot, 0);
	/* no context: the trap is nobody's, IAC addresses fall back to pc */
	v = ppc_classify_dbsr(0x01000000, 0x30000, NULL);
	assert_int_equal(v.kind, PPC_VERDICT_REINJECT);
	v = ppc_classify_dbsr(0x00400000, 0x10000, NULL);
	assert_int_equal(v.reason, PPC_REASON_HWBREAK);
	assert_int_equal(v.addr, 0x10000);
	assert_int_equal(v.slot, 1);
}

static void test_classify_kvm(void **state)
{
	/* KVM's status: BREAKPOINT 0x2, WATCH_WRITE 0x4, WATCH_READ 0x8;
	 * address is the pc for breakpoints, the DAC value for watches. */
	static const struct {
		uint32_t status;
		uint64_t address, pc;
		bool step;
		int kind;
		enum ppc_stop_reason reason;
		uint64_t addr;
		int slot;
	} rows[] = {
		{ 0x2, 0x10100, 0x10100, false, D, PPC_REASON_HWBREAK, 0x10100,
		  3 },
		{ 0x2, 0x50000, 0x50000, false, D, PPC_REASON_NONE, 0x50000,
		  -1 },
		{ 0x4, 0x20000, 0x10200, false, D, PPC_REASON_WATCH_WRITE,
		  0x20000, 0 },
		{ 0x8, 0x20010, 0x10204, false, D, PPC_REASON_WATCH_ACCESS,
		  0x20010, 1 },
		{ 0x8, 0x20020, 0x10208, false, D, PPC_REASON_NONE, 0x20020,
		  -1 },
		/* status 0: the debug instruction, ours or not */
		{ 0x0, 0x30000, 0x30000, false, D, PPC_REASON_SWBREAK, 0x30000,
		  -1 },
		{ 0x0, 0x30008, 0x30008, false, R, PPC_REASON_NONE, 0x30008,
		  -1 },
		/* status 0 while stepping: the completed step */
		{ 0x0, 0x1000c, 0x1000c, true, D, PPC_REASON_STEP, 0x1000c,
		  -1 },
	};
	struct ppc_booke_debug_regs r = test_regs();

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct ppc_kvm_debug_exit_arch x = {
			.address = rows[i].address, .status = rows[i].status,
		};
		struct ppc_debug_ctx ctx = {
			.regs = &r, .single_step = rows[i].step,
			.sw_bp_at = sw_bp_at,
		};
		struct ppc_verdict v = ppc_classify_kvm(&x, rows[i].pc, &ctx);

		CHECK_EQ(i, v.kind, rows[i].kind);
		CHECK_EQ(i, v.reason, rows[i].reason);
		CHECK_EQ(i, v.addr, rows[i].addr);
		CHECK_EQ(i, v.slot, rows[i].slot);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trap_bytes),
		cmocka_unit_test(test_trap_decode),
		cmocka_unit_test(test_dbcr0),
		cmocka_unit_test(test_iac_dac_errors),
		cmocka_unit_test(test_to_kvm),
		cmocka_unit_test(test_classify_dbsr),
		cmocka_unit_test(test_classify_dbsr_read),
		cmocka_unit_test(test_classify_kvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
