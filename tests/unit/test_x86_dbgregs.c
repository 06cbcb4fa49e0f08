/* Unit tests for the x86 debug-register encoder: DR7 bit for bit for every
 * slot, type and length, the rejected combinations, the control flags, and
 * the DR6/DR7 decoders. */
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

#include "arch/x86_64/dbgregs.h"

/*
 * KVM's control bits, spelled out from the uapi headers rather than taken
 * from them, so a wrong macro cannot hide behind a matching test.
 */
#define C_ENABLE 0x00000001u
#define C_SINGLESTEP 0x00000002u
#define C_USE_SW_BP 0x00010000u
#define C_USE_HW_BP 0x00020000u
#define C_INJECT_DB 0x00040000u
#define C_INJECT_BP 0x00080000u
#define C_BLOCKIRQ 0x00100000u

static const struct x86_dbg_flags no_flags;

/* ---- DR7 for one slot --------------------------------------------------- */

/*
 * Expected DR7 values worked out by hand from the SDM vol. 3 17.2.4 layout:
 * Gn at bit 2n+1, GE bit 9, bit 10 reserved-as-1, then per slot a nibble at
 * bit 16+4n holding R/W (bits 0-1: 00 exec, 01 write, 11 read/write) and
 * LEN (bits 2-3: 00 one byte, 01 two, 11 four, 10 eight). So 0x600 is
 * always there, G0..G3 add 0x2, 0x8, 0x20, 0x80, and the nibble is
 * exec 0x0; write 0x1/0x5/0xd/0x9 and access 0x3/0x7/0xf/0xb for 1/2/4/8.
 */
struct one_slot {
	unsigned slot;
	enum x86_hw_type type;
	uint64_t addr;
	unsigned len;
	uint64_t dr7;
};

static const struct one_slot one_slot_rows[] = {
    /* exec, every slot */
    {0, X86_HW_EXEC, 0xffffffff81000000, 1, 0x00000602},
    {1, X86_HW_EXEC, 0x0000000000401001, 1, 0x00000608},
    {2, X86_HW_EXEC, 0x0000000000100003, 1, 0x00000620},
    {3, X86_HW_EXEC, 0x0000000000000007, 1, 0x00000680},
    /* write, every length in slot 0, then one per other slot */
    {0, X86_HW_WRITE, 0x3001, 1, 0x00010602},
    {0, X86_HW_WRITE, 0x3002, 2, 0x00050602},
    {0, X86_HW_WRITE, 0x3004, 4, 0x000d0602},
    {0, X86_HW_WRITE, 0x3008, 8, 0x00090602},
    {1, X86_HW_WRITE, 0x3004, 4, 0x00d00608},
    {2, X86_HW_WRITE, 0x3008, 8, 0x09000620},
    {3, X86_HW_WRITE, 0x3002, 2, 0x50000680},
    {3, X86_HW_WRITE, 0x3003, 1, 0x10000680},
    /* access (read/write), every length in slot 0, then per slot */
    {0, X86_HW_ACCESS, 0x5001, 1, 0x00030602},
    {0, X86_HW_ACCESS, 0x5002, 2, 0x00070602},
    {0, X86_HW_ACCESS, 0x5004, 4, 0x000f0602},
    {0, X86_HW_ACCESS, 0x5008, 8, 0x000b0602},
    {1, X86_HW_ACCESS, 0x5002, 2, 0x00700608},
    {2, X86_HW_ACCESS, 0x5004, 4, 0x0f000620},
    {3, X86_HW_ACCESS, 0x5008, 8, 0xb0000680},
    {1, X86_HW_ACCESS, 0x5001, 1, 0x00300608},
};

static void test_dr7_one_slot(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(one_slot_rows); i++) {
		const struct one_slot *r = &one_slot_rows[i];
		struct x86_hw_slot slots[X86_NR_HW_SLOTS] = {0};
		struct kvm_guest_debug dbg;

		slots[r->slot] = (struct x86_hw_slot){.enabled = true,
						      .type = r->type,
						      .addr = r->addr,
						      .len = r->len};
		print_message("row %zu: slot %u %s len %u\n", i, r->slot,
			      x86_hw_type_name(r->type), r->len);
		ASSERT_EQ(x86_dbg_encode(slots, &no_flags, &dbg), 0);
		ASSERT_HEX(dbg.arch.debugreg[7], r->dr7);
		ASSERT_HEX(dbg.control, C_ENABLE | C_USE_HW_BP);
		for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++)
			ASSERT_HEX(dbg.arch.debugreg[n],
				   n == r->slot ? r->addr : 0);
		/* DR4-DR6 are not inputs: KVM ignores them. */
		ASSERT_HEX(dbg.arch.debugreg[4], 0);
		ASSERT_HEX(dbg.arch.debugreg[5], 0);
		ASSERT_HEX(dbg.arch.debugreg[6], 0);
		ASSERT_HEX(dbg.pad, 0);
	}
}

static void test_dr7_all_slots(void **state)
{
	const struct x86_hw_slot slots[X86_NR_HW_SLOTS] = {
	    {true, X86_HW_EXEC, 0x1000, 1},
	    {true, X86_HW_WRITE, 0x2000, 4},
	    {true, X86_HW_ACCESS, 0x3000, 8},
	    {true, X86_HW_WRITE, 0x4001, 1},
	};
	struct kvm_guest_debug dbg;

	/* 0x600 | G0-G3 (0xaa) | slot1 0xd<<20 | slot2 0xb<<24 | slot3 1<<28 */
	ASSERT_EQ(x86_dbg_encode(slots, &no_flags, &dbg), 0);
	ASSERT_HEX(dbg.arch.debugreg[7], 0x1bd006aa);
	ASSERT_HEX(dbg.arch.debugreg[0], 0x1000);
	ASSERT_HEX(dbg.arch.debugreg[1], 0x2000);
	ASSERT_HEX(dbg.arch.debugreg[2], 0x3000);
	ASSERT_HEX(dbg.arch.debugreg[3], 0x4001);
}

static void test_dr7_gaps_and_disabled(void **state)
{
	/* A disabled slot contributes nothing, however odd its fields. */
	const struct x86_hw_slot slots[X86_NR_HW_SLOTS] = {
	    {false, X86_HW_WRITE, 0x1003, 3},
	    {false, (enum x86_hw_type)9, 0xdead, 0},
	    {true, X86_HW_WRITE, 0x2008, 8},
	    {false, X86_HW_EXEC, 0x4000, 1},
	};
	struct kvm_guest_debug dbg;

	ASSERT_EQ(x86_dbg_encode(slots, &no_flags, &dbg), 0);
	ASSERT_HEX(dbg.arch.debugreg[7], 0x09000620);
	ASSERT_HEX(dbg.arch.debugreg[0], 0);
	ASSERT_HEX(dbg.arch.debugreg[1], 0);
	ASSERT_HEX(dbg.arch.debugreg[2], 0x2008);
	ASSERT_HEX(dbg.arch.debugreg[3], 0);
}

/* ---- rejected slots ------------------------------------------------------ */

struct bad_slot {
	enum x86_hw_type type;
	uint64_t addr;
	unsigned len;
	const char *why;
};

static const struct bad_slot bad_rows[] = {
    {X86_HW_EXEC, 0x1000, 2, "exec needs LEN 00"},
    {X86_HW_EXEC, 0x1000, 4, "exec needs LEN 00"},
    {X86_HW_EXEC, 0x1000, 8, "exec needs LEN 00"},
    {X86_HW_EXEC, 0x1000, 0, "no length"},
    {X86_HW_WRITE, 0x1000, 0, "no length"},
    {X86_HW_WRITE, 0x1000, 3, "3 is no DR7 length"},
    {X86_HW_WRITE, 0x1000, 16, "16 is no DR7 length"},
    {X86_HW_WRITE, 0x1001, 2, "unaligned 2"},
    {X86_HW_WRITE, 0x1002, 4, "unaligned 4"},
    {X86_HW_ACCESS, 0x1004, 8, "unaligned 8"},
    {X86_HW_ACCESS, 0x1007, 8, "unaligned 8"},
    {X86_HW_ACCESS, 0x1003, 4, "unaligned 4"},
    {(enum x86_hw_type)3, 0x1000, 1, "no such type (I/O is never used)"},
    {(enum x86_hw_type) - 1, 0x1000, 1, "no such type"},
};

static void test_bad_slots_rejected(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_rows); i++) {
		const struct bad_slot *r = &bad_rows[i];
		struct x86_hw_slot slots[X86_NR_HW_SLOTS] = {
		    {true, X86_HW_EXEC, 0x5000, 1},
		};
		struct kvm_guest_debug dbg;
		const struct kvm_guest_debug zero = {0};

		slots[3] = (struct x86_hw_slot){true, r->type, r->addr, r->len};
		print_message("row %zu: %s\n", i, r->why);
		ASSERT_EQ(x86_hw_fits(r->type, r->addr, r->len), false);
		memset(&dbg, 0xa5, sizeof(dbg));
		ASSERT_EQ(x86_dbg_encode(slots, &no_flags, &dbg), -EINVAL);
		/* Nothing half-built escapes on failure. */
		ASSERT_EQ(memcmp(&dbg, &zero, sizeof(dbg)), 0);
	}
}

static void test_hw_fits(void **state)
{
	static const struct {
		enum x86_hw_type type;
		uint64_t addr;
		unsigned len;
	} ok[] = {
	    {X86_HW_EXEC, 0x1001, 1},	{X86_HW_EXEC, 0xffffffffffffffff, 1},
	    {X86_HW_WRITE, 0x1001, 1},	{X86_HW_WRITE, 0x1002, 2},
	    {X86_HW_WRITE, 0x1004, 4},	{X86_HW_WRITE, 0x1008, 8},
	    {X86_HW_ACCESS, 0x1000, 8}, {X86_HW_ACCESS, 0x1006, 2},
	    {X86_HW_ACCESS, 0xfffc, 4}, {X86_HW_WRITE, 0, 8},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		print_message("ok %zu\n", i);
		ASSERT_EQ(x86_hw_fits(ok[i].type, ok[i].addr, ok[i].len), true);
	}
}

/* ---- control flags ------------------------------------------------------- */

static void test_flags_composition(void **state)
{
	static const struct {
		bool hw;
		struct x86_dbg_flags f;
		uint32_t control;
	} rows[] = {
	    {false, {0}, 0},
	    {false, {.sw_bp = true}, C_ENABLE | C_USE_SW_BP},
	    {false, {.stepping = true}, C_ENABLE | C_SINGLESTEP},
	    {false, {.stepping = true, .blockirq = true}, 0x00100003},
	    /* BLOCKIRQ only matters for a step; alone it enables nothing. */
	    {false, {.blockirq = true}, 0},
	    {true, {0}, 0x00020001},
	    {true, {.sw_bp = true}, 0x00030001},
	    {true,
	     {.stepping = true, .blockirq = true, .sw_bp = true},
	     0x00130003},
	    {true, {.stepping = true, .sw_bp = true}, 0x00030003},
	    {false, {.inject = 3}, C_ENABLE | C_INJECT_BP},
	    {false, {.inject = 1}, C_ENABLE | C_INJECT_DB},
	    {false, {.inject = 3, .sw_bp = true}, 0x00090001},
	    {true, {.inject = 1, .stepping = true}, 0x00060003},
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct x86_hw_slot slots[X86_NR_HW_SLOTS] = {0};
		struct kvm_guest_debug dbg;

		if (rows[i].hw)
			slots[1] =
			    (struct x86_hw_slot){true, X86_HW_EXEC, 0x1000, 1};
		print_message("row %zu\n", i);
		ASSERT_EQ(x86_dbg_encode(slots, &rows[i].f, &dbg), 0);
		ASSERT_HEX(dbg.control, rows[i].control);
		ASSERT_HEX(dbg.arch.debugreg[7], rows[i].hw ? 0x608 : 0);
	}
}

static void test_flags_bad_inject(void **state)
{
	const struct x86_hw_slot slots[X86_NR_HW_SLOTS] = {0};
	struct kvm_guest_debug dbg;

	for (unsigned v = 0; v < 260; v++) {
		struct x86_dbg_flags f = {.inject = v};
		int want = (v == 0 || v == 1 || v == 3) ? 0 : -EINVAL;

		ASSERT_EQ(x86_dbg_encode(slots, &f, &dbg), want);
		if (want)
			ASSERT_HEX(dbg.control, 0);
	}
}

/* ---- decoders ------------------------------------------------------------ */

static void test_dr6_decode(void **state)
{
	static const struct {
		uint64_t dr6;
		uint8_t hits;
		bool bd, bs, bt;
		const char *text;
	} rows[] = {
	    /* KVM reports DR6 with its active-low bits set (0xffff0ff0),
	     * e.g. the selftest's 0xffff0ff0 | (1 << n) and 0xffff4ff0. */
	    {0xffff0ff0, 0x0, false, false, false, "-"},
	    {0xffff0ff1, 0x1, false, false, false, "B0"},
	    {0xffff0ff2, 0x2, false, false, false, "B1"},
	    {0xffff0ff4, 0x4, false, false, false, "B2"},
	    {0xffff0ff8, 0x8, false, false, false, "B3"},
	    {0xffff4ff0, 0x0, false, true, false, "BS"},
	    {0xffff2ff0, 0x0, true, false, false, "BD"},
	    {0xffff8ff0, 0x0, false, false, true, "BT"},
	    {0xffff4ff5, 0x5, false, true, false, "B0 B2 BS"},
	    {0xffffefff, 0xf, true, true, true, "B0 B1 B2 B3 BD BS BT"},
	    {0, 0, false, false, false, "-"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct x86_dr6 d;
		char buf[64];

		print_message("dr6 %#llx\n", (unsigned long long)rows[i].dr6);
		x86_dr6_decode(rows[i].dr6, &d);
		ASSERT_HEX(d.hits, rows[i].hits);
		ASSERT_EQ(d.bd, rows[i].bd);
		ASSERT_EQ(d.bs, rows[i].bs);
		ASSERT_EQ(d.bt, rows[i].bt);
		x86_dr6_describe(rows[i].dr6, buf, sizeof(buf));
		ASSERT_STR(buf, rows[i].text);
	}
}

static void test_dr7_decode(void **state)
{
	const uint64_t addr[X86_NR_HW_SLOTS] = {0x1000, 0x2000, 0x3000, 0x4001};
	struct x86_hw_slot s[X86_NR_HW_SLOTS];
	char buf[256];

	ASSERT_EQ(x86_dr7_decode(0x1bd006aa, addr, s), 0);
	ASSERT_EQ(s[0].enabled, true);
	ASSERT_EQ(s[0].type, X86_HW_EXEC);
	ASSERT_EQ(s[0].len, 1);
	ASSERT_EQ(s[1].type, X86_HW_WRITE);
	ASSERT_EQ(s[1].len, 4);
	ASSERT_EQ(s[2].type, X86_HW_ACCESS);
	ASSERT_EQ(s[2].len, 8);
	ASSERT_HEX(s[2].addr, 0x3000);
	ASSERT_EQ(s[3].type, X86_HW_WRITE);
	ASSERT_EQ(s[3].len, 1);
	x86_dr7_describe(0x1bd006aa, addr, buf, sizeof(buf));
	ASSERT_STR(buf, "0:exec@0x1000/1 1:write@0x2000/4 2:access@0x3000/8 "
			"3:write@0x4001/1");

	/* Local enables count as enabled too; addresses may be absent. */
	ASSERT_EQ(x86_dr7_decode(0x00000001 | (0x5ULL << 20) | 0x4, NULL, s),
		  0);
	ASSERT_EQ(s[0].enabled, true);
	ASSERT_EQ(s[0].type, X86_HW_EXEC);
	ASSERT_EQ(s[1].enabled, true);
	ASSERT_EQ(s[1].type, X86_HW_WRITE);
	ASSERT_EQ(s[1].len, 2);
	ASSERT_HEX(s[1].addr, 0);
	ASSERT_EQ(s[2].enabled, false);

	/* The fixed bits alone enable nothing: KVM's DR7 on a step exit. */
	ASSERT_EQ(x86_dr7_decode(0x400, addr, s), 0);
	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++)
		ASSERT_EQ(s[n].enabled, false);
	x86_dr7_describe(0x400, addr, buf, sizeof(buf));
	ASSERT_STR(buf, "-");

	/* R/W 10 is I/O: reported, and that slot left disabled. */
	ASSERT_EQ(x86_dr7_decode(0x628 | (0x2ULL << 20), addr, s), -EINVAL);
	ASSERT_EQ(s[0].enabled, false);
	ASSERT_EQ(s[1].enabled, false);
	ASSERT_EQ(s[2].enabled, true);
	x86_dr7_describe(0x628 | (0x2ULL << 20), addr, buf, sizeof(buf));
	ASSERT_STR(buf, "1:io 2:exec@0x3000/1");

	/* A short buffer truncates like snprintf and stays terminated. */
	ASSERT_EQ(x86_dr7_describe(0x602, addr, buf, 5),
		  (int)strlen("0:exec@0x1000/1"));
	ASSERT_STR(buf, "0:ex");
}

/* Encoding then decoding gives the slots and flags back, for every mix of
 * types and lengths in every slot. */
static void test_round_trip(void **state)
{
	static const struct {
		enum x86_hw_type type;
		unsigned len;
	} kinds[] = {
	    {X86_HW_EXEC, 1},	{X86_HW_WRITE, 1},  {X86_HW_WRITE, 2},
	    {X86_HW_WRITE, 4},	{X86_HW_WRITE, 8},  {X86_HW_ACCESS, 1},
	    {X86_HW_ACCESS, 2}, {X86_HW_ACCESS, 4}, {X86_HW_ACCESS, 8},
	};
	const unsigned nk = ARRAY_SIZE(kinds) + 1; /* + disabled */

	for (unsigned combo = 0; combo < nk * nk * nk * nk; combo++) {
		struct x86_hw_slot in[X86_NR_HW_SLOTS] = {0};
		struct x86_hw_slot out[X86_NR_HW_SLOTS];
		struct x86_dbg_flags f = {.stepping = combo & 1,
					  .blockirq = combo & 1,
					  .sw_bp = (combo >> 1) & 1};
		struct x86_dbg_flags g;
		struct kvm_guest_debug dbg;
		unsigned c = combo;

		for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++, c /= nk) {
			if (c % nk == 0)
				continue;
			in[n].enabled = true;
			in[n].type = kinds[c % nk - 1].type;
			in[n].len = kinds[c % nk - 1].len;
			in[n].addr = 0x10000 * (n + 1) + 8 * (combo & 7);
		}
		ASSERT_EQ(x86_dbg_encode(in, &f, &dbg), 0);
		ASSERT_EQ(x86_dbg_decode(&dbg, out, &g), 0);
		for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++) {
			if (memcmp(&in[n], &out[n], sizeof(in[n])))
				fail_msg("combo %u slot %u: %s@%#llx/%u "
					 "came back %s@%#llx/%u enabled %d",
					 combo, n, x86_hw_type_name(in[n].type),
					 (unsigned long long)in[n].addr,
					 in[n].len,
					 x86_hw_type_name(out[n].type),
					 (unsigned long long)out[n].addr,
					 out[n].len, out[n].enabled);
		}
		ASSERT_EQ(g.stepping, f.stepping);
		ASSERT_EQ(g.blockirq, f.blockirq);
		ASSERT_EQ(g.sw_bp, f.sw_bp);
		ASSERT_EQ(g.inject, 0);
	}
}

static void test_decode_disabled_control(void **state)
{
	struct kvm_guest_debug dbg = {0};
	struct x86_hw_slot s[X86_NR_HW_SLOTS];
	struct x86_dbg_flags f;

	/* Without ENABLE, KVM turns guest debugging off whatever else is
	 * set (kvm_arch_vcpu_ioctl_set_guest_debug). */
	dbg.control = C_USE_HW_BP | C_SINGLESTEP | C_USE_SW_BP;
	dbg.arch.debugreg[7] = 0x602;
	dbg.arch.debugreg[0] = 0x1000;
	ASSERT_EQ(x86_dbg_decode(&dbg, s, &f), 0);
	ASSERT_EQ(s[0].enabled, false);
	ASSERT_EQ(f.stepping, false);
	ASSERT_EQ(f.sw_bp, false);

	/* ENABLE without USE_HW_BP: KVM keeps the guest's own DR7. */
	dbg.control = C_ENABLE | C_INJECT_BP;
	ASSERT_EQ(x86_dbg_decode(&dbg, s, &f), 0);
	ASSERT_EQ(s[0].enabled, false);
	ASSERT_EQ(f.inject, 3);
}

static void test_names(void **state)
{
	ASSERT_STR(x86_hw_type_name(X86_HW_EXEC), "exec");
	ASSERT_STR(x86_hw_type_name(X86_HW_WRITE), "write");
	ASSERT_STR(x86_hw_type_name(X86_HW_ACCESS), "access");
	ASSERT_STR(x86_hw_type_name((enum x86_hw_type)7), "?");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dr7_one_slot),
	    cmocka_unit_test(test_dr7_all_slots),
	    cmocka_unit_test(test_dr7_gaps_and_disabled),
	    cmocka_unit_test(test_bad_slots_rejected),
	    cmocka_unit_test(test_hw_fits),
	    cmocka_unit_test(test_flags_composition),
	    cmocka_unit_test(test_flags_bad_inject),
	    cmocka_unit_test(test_dr6_decode),
	    cmocka_unit_test(test_dr7_decode),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_decode_disabled_control),
	    cmocka_unit_test(test_names),
	};

	/* One test alone: test_x86_dbgregs test_dr7_decode (a glob). */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
