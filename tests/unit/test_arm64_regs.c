/* arm64 registers for gdb: the layout, target.xml, and the ONE_REG cache
 * against a fake vCPU that counts and can refuse. */
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

#include "arch/arm64/regs.h"

struct fake {
	uint64_t ids[256], lo[256], hi[256];
	unsigned n, gets, sets;
	uint64_t refuse; /* an id whose set fails */
	uint64_t order[256];
};

static unsigned slot(struct fake *f, uint64_t id)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->ids[i] == id)
			return i;
	f->ids[f->n] = id;
	f->lo[f->n] = id * 3; /* recognisable defaults */
	f->hi[f->n] = ~id;
	return f->n++;
}

static int fget(void *ctx, uint64_t id, void *val)
{
	struct fake *f = ctx;
	unsigned i = slot(f, id);

	f->gets++;
	memcpy(val, &f->lo[i], 8);
	memcpy((uint8_t *)val + 8, &f->hi[i], 8);
	return 0;
}

static int fset(void *ctx, uint64_t id, const void *val)
{
	struct fake *f = ctx;
	unsigned i = slot(f, id);

	f->order[f->sets++] = id;
	if (id == f->refuse)
		return -EINVAL;
	memcpy(&f->lo[i], val, 8);
	memcpy(&f->hi[i], (const uint8_t *)val + 8, 8);
	return 0;
}

static void fake_set(struct fake *f, unsigned regno, uint64_t v)
{
	f->lo[slot(f, arm64_kvm_reg_id(regno))] = v;
}

static uint64_t fake_get(struct fake *f, unsigned regno)
{
	return f->lo[slot(f, arm64_kvm_reg_id(regno))];
}

static void test_layout(void **state)
{
	const char *xml;

	(void)state;
	ASSERT_EQ(arm64_gdb_nr_regs(), ARM64_GDB_NR_REGS);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_X0), 8);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_SP), 8);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_PC), 8);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_CPSR), 4);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_V0 + 31), 16);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_FPSR), 4);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_FPCR), 4);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_TTBR1_EL1), 8);
	ASSERT_EQ(arm64_gdb_reg_size(ARM64_GDB_NR_REGS), 0);
	/* gdb's numbering: v0 right after cpsr, fpsr after v31. */
	ASSERT_EQ(ARM64_GDB_V0, 34);
	ASSERT_EQ(ARM64_GDB_FPSR, 34 + 32);
	xml = arm64_gdb_features_xml("target.xml");
	assert_non_null(xml);
	assert_null(arm64_gdb_features_xml("other.xml"));
	assert_non_null(strstr(xml, "<architecture>aarch64</architecture>"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.aarch64.core\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.aarch64.fpu\">"));
	assert_non_null(strstr(xml, "<reg name=\"x30\" bitsize=\"64\" type=\"int\" "
				    "regnum=\"30\" generic=\"ra\""));
	assert_non_null(strstr(xml, "<reg name=\"sp\" bitsize=\"64\" "
				    "type=\"data_ptr\" regnum=\"31\""));
	assert_non_null(strstr(xml, "<reg name=\"cpsr\" bitsize=\"32\" "
				    "type=\"cpsr_flags\" regnum=\"33\""));
	assert_non_null(strstr(xml, "<reg name=\"v31\" bitsize=\"128\" "
				    "type=\"aarch64v\" regnum=\"65\""));
	assert_non_null(strstr(xml, "<reg name=\"sctlr_el1\" bitsize=\"64\" "
				    "type=\"uint64\" regnum=\"68\" "
				    "group=\"system\""));
	assert_non_null(strstr(xml, "<union id=\"aarch64v\">"));
	/* Every register is in the document once, in regnum order. */
	{
		const char *p = xml;

		for (unsigned i = 0; i < ARM64_GDB_NR_REGS; i++) {
			char needle[32];

			snprintf(needle, sizeof(needle), "regnum=\"%u\"", i);
			p = strstr(p, needle);
			if (!p)
				fail_msg("regnum %u missing or out of order", i);
		}
	}
	/* Parts: elr and the stack pointers are core registers to KVM. */
	ASSERT_EQ(arm64_gdb_reg_part(ARM64_GDB_X0), ARM64_PART_CORE);
	ASSERT_EQ(arm64_gdb_reg_part(ARM64_GDB_V0), ARM64_PART_FP);
	ASSERT_EQ(arm64_gdb_reg_part(ARM64_GDB_SCTLR_EL1), ARM64_PART_SYS);
	ASSERT_EQ(arm64_gdb_reg_part(ARM64_GDB_ELR_EL1), ARM64_PART_CORE);
	ASSERT_EQ(arm64_gdb_reg_part(ARM64_GDB_SP_EL1), ARM64_PART_CORE);
	ASSERT_HEX(arm64_kvm_reg_id(ARM64_GDB_SP), 0);
}

static void test_lazy_load(void **state)
{
	static struct fake f;
	struct arm64_reg_io io = { fget, fset, &f };
	struct arm64_cpu_state s;
	uint8_t buf[16];

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	fake_set(&f, ARM64_GDB_PC, 0x40200000);
	ASSERT_EQ(arm64_state_load_reg(&io, &s, ARM64_GDB_PC), 0);
	ASSERT_EQ(f.gets, 1);
	ASSERT_HEX(arm64_reg_get(&s, ARM64_GDB_PC), 0x40200000);
	/* Cached: no second ioctl. */
	ASSERT_EQ(arm64_state_load_reg(&io, &s, ARM64_GDB_PC), 0);
	ASSERT_EQ(f.gets, 1);
	/* The FP part: 34 registers, v0 is 128 bits, fpsr 32. */
	fake_set(&f, ARM64_GDB_FPSR, 0xffffffff00000011ULL);
	ASSERT_EQ(arm64_state_load(&io, &s, ARM64_PART_FP), 0);
	ASSERT_EQ(f.gets, 35);
	ASSERT_EQ(arm64_gdb_read_reg(&s, ARM64_GDB_V0, buf), 0);
	{
		uint64_t id = arm64_kvm_reg_id(ARM64_GDB_V0), lo, hi;

		memcpy(&lo, buf, 8);
		memcpy(&hi, buf + 8, 8);
		ASSERT_HEX(lo, id * 3);
		ASSERT_HEX(hi, ~id);
	}
	ASSERT_HEX(arm64_reg_get(&s, ARM64_GDB_FPSR), 0x11);
	/* Invalidation forgets everything. */
	arm64_state_invalidate(&s);
	ASSERT_EQ(arm64_state_load_reg(&io, &s, ARM64_GDB_PC), 0);
	ASSERT_EQ(f.gets, 36);
}

static void test_stack_pointer(void **state)
{
	static struct fake f;
	struct arm64_reg_io io = { fget, fset, &f };
	struct arm64_cpu_state s;
	uint8_t buf[8];
	uint64_t v;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	fake_set(&f, ARM64_GDB_SP_EL0, 0x1000);
	fake_set(&f, ARM64_GDB_SP_EL1, 0x2000);
	/* EL1h: sp is SP_EL1. */
	fake_set(&f, ARM64_GDB_CPSR, 0x3c5);
	ASSERT_EQ(arm64_state_load_reg(&io, &s, ARM64_GDB_SP), 0);
	ASSERT_EQ(arm64_gdb_read_reg(&s, ARM64_GDB_SP, buf), 0);
	memcpy(&v, buf, 8);
	ASSERT_HEX(v, 0x2000);
	/* A write goes to SP_EL1, and flushes after PSTATE. */
	v = 0x2ff0;
	memcpy(buf, &v, 8);
	ASSERT_EQ(arm64_gdb_write_reg(&s, ARM64_GDB_SP, buf), 0);
	arm64_reg_set(&s, ARM64_GDB_CPSR, 0x3c4);
	/* EL1t now: sp reads SP_EL0. */
	ASSERT_HEX(arm64_reg_get(&s, ARM64_GDB_SP), 0x1000);
	ASSERT_EQ(arm64_state_flush(&io, &s), 0);
	ASSERT_EQ(f.sets, 2);
	ASSERT_HEX(f.order[0], arm64_kvm_reg_id(ARM64_GDB_CPSR));
	ASSERT_HEX(f.order[1], arm64_kvm_reg_id(ARM64_GDB_SP_EL1));
	ASSERT_HEX(fake_get(&f, ARM64_GDB_SP_EL1), 0x2ff0);
	ASSERT_HEX(fake_get(&f, ARM64_GDB_CPSR), 0x3c4);
	/* Nothing left to write. */
	ASSERT_EQ(arm64_state_flush(&io, &s), 0);
	ASSERT_EQ(f.sets, 2);
}

static void test_writes(void **state)
{
	static struct fake f;
	struct arm64_reg_io io = { fget, fset, &f };
	struct arm64_cpu_state s;
	uint8_t buf[16];

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	ASSERT_EQ(arm64_state_load(&io, &s, ARM64_PART_ALL), 0);
	/* Writing what is there already changes nothing. */
	ASSERT_EQ(arm64_gdb_read_reg(&s, ARM64_GDB_X0 + 5, buf), 0);
	ASSERT_EQ(arm64_gdb_write_reg(&s, ARM64_GDB_X0 + 5, buf), 0);
	ASSERT_EQ(arm64_state_flush(&io, &s), 0);
	ASSERT_EQ(f.sets, 0);
	/* A 128-bit register round trip. */
	for (unsigned i = 0; i < 16; i++)
		buf[i] = (uint8_t)(0xf0 + i);
	ASSERT_EQ(arm64_gdb_write_reg(&s, ARM64_GDB_V0 + 7, buf), 0);
	/* cpsr is 32 bits in gdb's view. */
	memcpy(buf, "\x05\x00\x00\x60", 4);
	ASSERT_EQ(arm64_gdb_write_reg(&s, ARM64_GDB_CPSR, buf), 0);
	/* KVM refuses the pc (as it would a bad PSTATE): the cache shows
	 * KVM's value again afterwards, and the error comes back. */
	f.refuse = arm64_kvm_reg_id(ARM64_GDB_PC);
	arm64_reg_set(&s, ARM64_GDB_PC, 0x1234);
	ASSERT_EQ(arm64_state_flush(&io, &s), -EINVAL);
	ASSERT_HEX(arm64_reg_get(&s, ARM64_GDB_PC),
		   arm64_kvm_reg_id(ARM64_GDB_PC) * 3);
	ASSERT_HEX(fake_get(&f, ARM64_GDB_CPSR), 0x60000005);
	{
		unsigned i = slot(&f, arm64_kvm_reg_id(ARM64_GDB_V0 + 7));

		ASSERT_HEX(f.lo[i], 0xf7f6f5f4f3f2f1f0ULL);
		ASSERT_HEX(f.hi[i], 0xfffefdfcfbfaf9f8ULL);
	}
	ASSERT_EQ(arm64_gdb_write_reg(&s, ARM64_GDB_NR_REGS, buf), -EINVAL);
	ASSERT_EQ(arm64_gdb_read_reg(&s, ARM64_GDB_NR_REGS, buf), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_lazy_load),
		cmocka_unit_test(test_stack_pointer),
		cmocka_unit_test(test_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
