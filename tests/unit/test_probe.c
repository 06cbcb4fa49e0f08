/* Unit tests for the host probe's pure half: the strategy derived from
 * recorded verdicts of both host flavours, the table and the key=value
 * form, and truncation. No KVM needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>

#include "vmm/probe.h"

#define ASSERT_STREQ(got, want)                                                \
	do {                                                                   \
		const char *got_ = (got), *want_ = (want);                     \
		if (strcmp(got_, want_) != 0)                                  \
			fail_msg("%s is\n%s\nwant\n%s", #got, got_, want_);    \
	} while (0)

/* A key=value token present in the line, whole. */
#define ASSERT_TOKEN(line, tok)                                                \
	do {                                                                   \
		if (!has_token((line), (tok)))                                 \
			fail_msg("token %s missing from: %s", (tok), (line));  \
	} while (0)

static bool has_token(const char *line, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = line; (p = strstr(p, tok)) != NULL; p++)
		if ((p == line || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static void set(struct kvm_probe_result *r, enum kvm_probe_mech m,
		enum kvm_probe_verdict v, enum kvm_probe_variant var,
		const char *evidence)
{
	r->test[m].verdict = v;
	r->test[m].variant = var;
	snprintf(r->test[m].evidence, sizeof(r->test[m].evidence), "%s",
		 evidence);
}

/* What the probe recorded on the kvm_pvm development hosts. */
static void pvm_result(struct kvm_probe_result *r)
{
	memset(r, 0, sizeof(*r));
	r->elapsed_ns = 3812345;
	r->setup_usec = 612;
	r->teardown_usec = 401;
	set(r, KVM_PROBE_SW_BP, KVM_PROBE_DIFFERS,
	    KVM_PROBE_VAR_EMULATION_FAILURE,
	    "INTERNAL_ERROR suberror 1, insn cc 40 e7 80, rip=0x1001");
	r->test[KVM_PROBE_SW_BP].exit = (struct kvm_probe_exit){
		.reason = KVM_EXIT_INTERNAL_ERROR, .detail = 1, .pc = 0x1001,
		.expect_pc = 0x1001, .ref = 0x1001 };
	set(r, KVM_PROBE_GUEST_BP, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_EMULATION_FAILURE,
	    "INTERNAL_ERROR suberror 1, insn cc 40 e7 80, rip=0x1001");
	set(r, KVM_PROBE_BP_REINJECT, KVM_PROBE_DIFFERS,
	    KVM_PROBE_VAR_FAULT_LIKE,
	    "INJECT_BP at the INT3: handler got eip int3+0; rip=int3+1 "
	    "first: int3+1");
	r->test[KVM_PROBE_BP_REINJECT].exit = (struct kvm_probe_exit){
		.reason = KVM_EXIT_IO, .pc = 0x1001, .expect_pc = 0x1002,
		.ref = 0x1001 };
	set(r, KVM_PROBE_HW_EXEC, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "DEBUG ex 1, DR6=0xffff0ff1, pc=0x1002");
	set(r, KVM_PROBE_HW_EXEC_RF, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_HIT_AGAIN, "hit again at 0x1002; slot-off step ok");
	set(r, KVM_PROBE_HW_DATA_WRITE, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_NO_EXIT,
	    "ran to the end marker (store at 0x2000 done)");
	set(r, KVM_PROBE_HW_DATA_RW, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_NO_EXIT,
	    "ran to the end marker (load at 0x2000 done)");
	set(r, KVM_PROBE_SINGLE_STEP, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "DEBUG ex 1, DR6.BS, pc 0x1000 -> 0x1005 -> 0x1006");
	set(r, KVM_PROBE_BLOCKIRQ, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "SET_GUEST_DEBUG2=0x1f0003; stepped past a pending IRQ");
	set(r, KVM_PROBE_READONLY_MEM, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "MMIO write 4 bytes at 0x10000 (0xcafef00d), completed");
	set(r, KVM_PROBE_UNMAPPED_READ, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "MMIO read 4 bytes at 0x20000, eax=0x89abcdef after re-entry");
	r->caps = (struct kvm_probe_caps){
		.set_guest_debug = 1, .set_guest_debug2 = 0x1f0003,
		.nr_vcpus = 2, .max_vcpus = 1024, .immediate_exit = 1,
		.sync_regs = 7, .readonly_mem = 1, .signal_msi = 1,
		.mod_kvm_pvm = true };
}

/* What documented VMX/SVM KVM answers (api.rst), for the same tests. */
static void real_kvm_result(struct kvm_probe_result *r)
{
	pvm_result(r);
	set(r, KVM_PROBE_SW_BP, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "DEBUG ex 3, DR6=0xffff0ff0, pc=0x1001 (int3+0)");
	r->test[KVM_PROBE_SW_BP].exit = (struct kvm_probe_exit){
		.reason = KVM_EXIT_DEBUG, .detail = 3, .pc = 0x1001,
		.expect_pc = 0x1001, .ref = 0x1001 };
	set(r, KVM_PROBE_GUEST_BP, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "guest handler ran, return eip=int3+1");
	set(r, KVM_PROBE_BP_REINJECT, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "INJECT_BP at the INT3: handler got eip int3+1");
	r->test[KVM_PROBE_BP_REINJECT].exit.pc = 0x1002;
	set(r, KVM_PROBE_HW_EXEC_RF, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "resumed past 0x1002 to the end marker");
	set(r, KVM_PROBE_HW_DATA_WRITE, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "DEBUG ex 1, DR6=0xffff0ff1, pc=0x100a");
	set(r, KVM_PROBE_HW_DATA_RW, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE,
	    "DEBUG ex 1, DR6=0xffff0ff1, pc=0x1005");
	r->caps.set_guest_debug2 = 0x1f0003;
	r->caps.mod_kvm_pvm = false;
	r->caps.mod_kvm_intel = true;
}

static void test_derive_pvm(void **state)
{
	struct kvm_probe_result r;

	pvm_result(&r);
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_EMULATION_FAILURE);
	ASSERT_EQ(r.strategy.hw_exec_resume, KVM_PROBE_RESUME_DISABLE_SLOT);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_PAGES_ONLY);
	ASSERT_EQ(r.strategy.step_blockirq, true);
	ASSERT_EQ(r.strategy.guest_can_take_bp, false);
	ASSERT_EQ(r.strategy.reinject_bp_skips_int3, true);
}

static void test_derive_real_kvm(void **state)
{
	struct kvm_probe_result r;

	real_kvm_result(&r);
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_KVM_DEBUG_EXIT);
	ASSERT_EQ(r.strategy.hw_exec_resume, KVM_PROBE_RESUME_RF);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_DEBUG_REGS_THEN_PAGES);
	ASSERT_EQ(r.strategy.step_blockirq, true);
	ASSERT_EQ(r.strategy.guest_can_take_bp, true);
	ASSERT_EQ(r.strategy.reinject_bp_skips_int3, false);
}

/* The module names must not matter: a kvm_pvm result labelled as
 * kvm_intel (or with no module at all) gives the same strategy. */
static void test_derive_ignores_modules(void **state)
{
	struct kvm_probe_result a, b;

	pvm_result(&a);
	pvm_result(&b);
	b.caps.mod_kvm_pvm = false;
	b.caps.mod_kvm_intel = true;
	b.caps.mod_kvm_amd = true;
	kvm_probe_derive(&a);
	kvm_probe_derive(&b);
	ASSERT_EQ(memcmp(&a.strategy, &b.strategy, sizeof(a.strategy)), 0);
	real_kvm_result(&a);
	real_kvm_result(&b);
	b.caps.mod_kvm_intel = false;
	b.caps.mod_kvm_pvm = true;
	kvm_probe_derive(&a);
	kvm_probe_derive(&b);
	ASSERT_EQ(memcmp(&a.strategy, &b.strategy, sizeof(a.strategy)), 0);
}

static void test_derive_sw_bp(void **state)
{
	struct kvm_probe_result r;

	pvm_result(&r);
	/* An INT3 that reaches the guest despite USE_SW_BP, or hangs, or
	 * errs, leaves no software breakpoint mechanism. */
	set(&r, KVM_PROBE_SW_BP, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_DELIVERED, "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_NONE);
	set(&r, KVM_PROBE_SW_BP, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_TIMEOUT,
	    "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_NONE);
	set(&r, KVM_PROBE_SW_BP, KVM_PROBE_ERROR, KVM_PROBE_VAR_NONE, "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_NONE);
	/* DIFFERS in some other way than an emulation failure is not the
	 * emulation-failure strategy. */
	set(&r, KVM_PROBE_SW_BP, KVM_PROBE_DIFFERS, KVM_PROBE_VAR_UNEXPECTED,
	    "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_NONE);
}

static void test_derive_hw_resume(void **state)
{
	struct kvm_probe_result r;

	real_kvm_result(&r);
	/* Anything short of RF working falls back to disabling the slot. */
	for (int v = KVM_PROBE_UNTESTED; v <= KVM_PROBE_ERROR; v++) {
		set(&r, KVM_PROBE_HW_EXEC_RF, v, KVM_PROBE_VAR_NONE, "");
		kvm_probe_derive(&r);
		ASSERT_EQ(r.strategy.hw_exec_resume,
			  v == KVM_PROBE_WORKS ? KVM_PROBE_RESUME_RF
					       : KVM_PROBE_RESUME_DISABLE_SLOT);
	}
}

static void test_derive_watch(void **state)
{
	struct kvm_probe_result r;

	real_kvm_result(&r);
	/* Debug registers without read-only memslots. */
	set(&r, KVM_PROBE_READONLY_MEM, KVM_PROBE_UNTESTED, KVM_PROBE_VAR_NONE,
	    "no KVM_CAP_READONLY_MEM");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_DEBUG_REGS_ONLY);
	/* Neither. */
	set(&r, KVM_PROBE_HW_DATA_WRITE, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_NO_EXIT, "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_NONE);
	/* Pages need the unmapped read too (read and access watches). */
	pvm_result(&r);
	set(&r, KVM_PROBE_UNMAPPED_READ, KVM_PROBE_ERROR,
	    KVM_PROBE_VAR_UNEXPECTED, "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_NONE);
	/* Write watch by DR but read/write not: not good enough. */
	real_kvm_result(&r);
	set(&r, KVM_PROBE_HW_DATA_RW, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_NO_EXIT, "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_PAGES_ONLY);
}

static void test_derive_blockirq(void **state)
{
	struct kvm_probe_result r;

	pvm_result(&r);
	/* The capability alone decides when the check could not run. */
	set(&r, KVM_PROBE_BLOCKIRQ, KVM_PROBE_UNTESTED, KVM_PROBE_VAR_NONE,
	    "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.step_blockirq, true);
	/* A failed check overrides the capability. */
	set(&r, KVM_PROBE_BLOCKIRQ, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_DELIVERED, "");
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.step_blockirq, false);
	/* No capability, no blocking, whatever the verdict says. */
	set(&r, KVM_PROBE_BLOCKIRQ, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE, "");
	r.caps.set_guest_debug2 = 0x0f0003;
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.step_blockirq, false);
}

static const char pvm_table[] =
	"kvmdbg host probe (3.8 ms: set-up 0.6 ms, tear-down 0.4 ms)\n"
	"mechanism          result                   evidence\n"
	"#BP intercept      emulation failure        INTERNAL_ERROR suberror "
	"1, insn cc 40 e7 80, rip=0x1001\n"
	"guest #BP          not delivered            INTERNAL_ERROR suberror "
	"1, insn cc 40 e7 80, rip=0x1001\n"
	"#BP reinjection    returns to the INT3      INJECT_BP at the INT3: "
	"handler got eip int3+0; rip=int3+1 first: int3+1\n"
	"DR execute         works                    DEBUG ex 1, "
	"DR6=0xffff0ff1, pc=0x1002\n"
	"DR execute + RF    RF ignored               hit again at 0x1002; "
	"slot-off step ok\n"
	"DR data write      never fires              ran to the end marker "
	"(store at 0x2000 done)\n"
	"DR data read/write never fires              ran to the end marker "
	"(load at 0x2000 done)\n"
	"single-step        works                    DEBUG ex 1, DR6.BS, pc "
	"0x1000 -> 0x1005 -> 0x1006\n"
	"IRQ blocking       available                "
	"SET_GUEST_DEBUG2=0x1f0003; stepped past a pending IRQ\n"
	"read-only memslot  works                    MMIO write 4 bytes at "
	"0x10000 (0xcafef00d), completed\n"
	"unmapped read      works                    MMIO read 4 bytes at "
	"0x20000, eax=0x89abcdef after re-entry\n"
	"caps: SET_GUEST_DEBUG=1 SET_GUEST_DEBUG2=0x1f0003 NR_VCPUS=2 "
	"MAX_VCPUS=1024\n"
	"      GUEST_DEBUG_HW_BPS=0 GUEST_DEBUG_HW_WPS=0 IMMEDIATE_EXIT=1 "
	"SYNC_REGS=0x7 READONLY_MEM=1\n"
	"modules (informational): kvm_pvm\n"
	"strategy: software breakpoints by emulation failure; step over hw "
	"breakpoints by disabling the slot; watchpoints by page protection; "
	"stepping blocks IRQs; the guest's own INT3 needs reinjection (rip "
	"moved past it first)\n";

static void test_format_table_pvm(void **state)
{
	struct kvm_probe_result r;
	char buf[4096];

	pvm_result(&r);
	kvm_probe_derive(&r);
	kvm_probe_format(&r, buf, sizeof(buf));
	ASSERT_STREQ(buf, pvm_table);
}

static void test_format_table_real_kvm(void **state)
{
	struct kvm_probe_result r;
	char buf[4096];

	real_kvm_result(&r);
	kvm_probe_derive(&r);
	kvm_probe_format(&r, buf, sizeof(buf));
	if (!strstr(buf, "\n#BP intercept      works                    "
			 "DEBUG ex 3,"))
		fail_msg("no #BP intercept row in:\n%s", buf);
	if (!strstr(buf, "\nguest #BP          delivered  "))
		fail_msg("no guest #BP row in:\n%s", buf);
	if (!strstr(buf, "\nDR execute + RF    RF honoured  "))
		fail_msg("no RF row in:\n%s", buf);
	if (!strstr(buf, "modules (informational): kvm_intel\n"))
		fail_msg("no modules line in:\n%s", buf);
	if (!strstr(buf, "strategy: software breakpoints by KVM debug exit; "
			 "step over hw breakpoints with RF; watchpoints by "
			 "debug registers, then page protection; stepping "
			 "blocks IRQs; the guest takes its own #BP\n"))
		fail_msg("wrong strategy in:\n%s", buf);
}

static void test_format_kv_pvm(void **state)
{
	struct kvm_probe_result r;
	char buf[4096];

	pvm_result(&r);
	kvm_probe_derive(&r);
	kvm_probe_format_kv(&r, buf, sizeof(buf));
	ASSERT_STREQ(
		buf,
		"probe_us=3812 setup_us=612 teardown_us=401"
		" sw_bp=emulation_failure sw_bp_pc_offset=0"
		" guest_bp=not_delivered bp_reinject=fault_like"
		" bp_reinject_ret_offset=0 hw_exec=works hw_exec_rf=ignored"
		" hw_data_write=never_fires hw_data_rw=never_fires"
		" hw_data=never_fires single_step=works blockirq=1"
		" blockirq_check=works readonly_mem=works unmapped_read=works"
		" cap_set_guest_debug=1 cap_set_guest_debug2=0x1f0003"
		" cap_nr_vcpus=2 cap_max_vcpus=1024 cap_guest_debug_hw_bps=0"
		" cap_guest_debug_hw_wps=0 cap_immediate_exit=1"
		" cap_sync_regs=0x7 cap_readonly_mem=1"
		" module_kvm_pvm=1 module_kvm_intel=0 module_kvm_amd=0"
		" strategy_sw_bp=emulation_failure"
		" strategy_hw_exec_resume=disable_slot"
		" strategy_watch=pages_only strategy_step_blockirq=1"
		" strategy_guest_can_take_bp=0"
		" strategy_reinject_bp_skips_int3=1");
}

static void test_format_kv_real_kvm(void **state)
{
	struct kvm_probe_result r;
	char buf[4096];

	real_kvm_result(&r);
	kvm_probe_derive(&r);
	kvm_probe_format_kv(&r, buf, sizeof(buf));
	ASSERT_TOKEN(buf, "sw_bp=works");
	ASSERT_TOKEN(buf, "sw_bp_pc_offset=0");
	ASSERT_TOKEN(buf, "guest_bp=works");
	ASSERT_TOKEN(buf, "bp_reinject=works");
	ASSERT_TOKEN(buf, "bp_reinject_ret_offset=1");
	ASSERT_TOKEN(buf, "hw_exec_rf=works");
	ASSERT_TOKEN(buf, "hw_data=works");
	ASSERT_TOKEN(buf, "strategy_sw_bp=kvm_debug_exit");
	ASSERT_TOKEN(buf, "strategy_hw_exec_resume=rf");
	ASSERT_TOKEN(buf, "strategy_watch=debug_regs_then_pages");
	ASSERT_TOKEN(buf, "strategy_guest_can_take_bp=1");
	ASSERT_TOKEN(buf, "strategy_reinject_bp_skips_int3=0");
	ASSERT_TOKEN(buf, "module_kvm_intel=1");
	if (strchr(buf, '\n'))
		fail_msg("the kv form is one line: %s", buf);
}

/* Mixed data-watch verdicts and the mechanism-specific words. */
static void test_outcome_tokens(void **state)
{
	struct kvm_probe_result r;
	char buf[4096];

	pvm_result(&r);
	set(&r, KVM_PROBE_HW_DATA_RW, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE, "");
	kvm_probe_format_kv(&r, buf, sizeof(buf));
	ASSERT_TOKEN(buf, "hw_data=mixed");
	ASSERT_TOKEN(buf, "hw_data_rw=works");
	ASSERT_TOKEN(buf, "hw_data_write=never_fires");

	set(&r, KVM_PROBE_SINGLE_STEP, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_TIMEOUT, "");
	ASSERT_STREQ(kvm_probe_outcome_token(KVM_PROBE_SINGLE_STEP,
					     &r.test[KVM_PROBE_SINGLE_STEP]),
		     "timeout");
	set(&r, KVM_PROBE_SINGLE_STEP, KVM_PROBE_NOT_HONOURED,
	    KVM_PROBE_VAR_NO_EXIT, "");
	ASSERT_STREQ(kvm_probe_outcome_token(KVM_PROBE_SINGLE_STEP,
					     &r.test[KVM_PROBE_SINGLE_STEP]),
		     "not_honoured");
	set(&r, KVM_PROBE_READONLY_MEM, KVM_PROBE_UNTESTED, KVM_PROBE_VAR_NONE,
	    "");
	ASSERT_STREQ(kvm_probe_outcome_token(KVM_PROBE_READONLY_MEM,
					     &r.test[KVM_PROBE_READONLY_MEM]),
		     "untested");
	set(&r, KVM_PROBE_HW_EXEC, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED,
	    "");
	ASSERT_STREQ(kvm_probe_outcome_token(KVM_PROBE_HW_EXEC,
					     &r.test[KVM_PROBE_HW_EXEC]),
		     "error");
	ASSERT_STREQ(kvm_probe_outcome_token(KVM_PROBE_NR_MECH,
					     &r.test[KVM_PROBE_HW_EXEC]),
		     "?");
	ASSERT_STREQ(kvm_probe_mech_key(KVM_PROBE_NR_MECH), "?");

	/* Every mechanism has a distinct key. */
	for (int a = 0; a < KVM_PROBE_NR_MECH; a++)
		for (int b = a + 1; b < KVM_PROBE_NR_MECH; b++)
			if (strcmp(kvm_probe_mech_key(a),
				   kvm_probe_mech_key(b)) == 0)
				fail_msg("mechanisms %d and %d share key %s", a,
					 b, kvm_probe_mech_key(a));
}

/*
 * Truncation: every buffer size gives a terminated prefix of the full
 * text and nothing is written past len (checked with a guard region).
 */
static void check_truncation(void (*fmt)(const struct kvm_probe_result *,
					 char *, size_t),
			     const struct kvm_probe_result *r)
{
	char full[4096];
	size_t full_len;

	fmt(r, full, sizeof(full));
	full_len = strlen(full);
	if (full_len + 1 >= sizeof(full))
		fail_msg("the full text does not fit %zu bytes", sizeof(full));
	for (size_t len = 0; len <= full_len + 1; len++) {
		char *buf = malloc(len + 16);

		assert_non_null(buf);
		memset(buf, 0x5a, len + 16);
		fmt(r, buf, len);
		for (size_t i = len; i < len + 16; i++)
			if ((unsigned char)buf[i] != 0x5a)
				fail_msg("len %zu: byte %zu written", len, i);
		if (len > 0) {
			size_t n = strnlen(buf, len);

			if (n != (len - 1 < full_len ? len - 1 : full_len))
				fail_msg("len %zu: %zu bytes, want %zu", len,
					 n, len - 1);
			if (memcmp(buf, full, n) != 0)
				fail_msg("len %zu: not a prefix", len);
		}
		free(buf);
	}
}

static void test_truncation(void **state)
{
	struct kvm_probe_result r;

	pvm_result(&r);
	kvm_probe_derive(&r);
	check_truncation(kvm_probe_format, &r);
	check_truncation(kvm_probe_format_kv, &r);
}

/* An all-zero result (nothing probed) formats without surprises. */
static void test_format_empty(void **state)
{
	struct kvm_probe_result r;
	char buf[4096];

	memset(&r, 0, sizeof(r));
	kvm_probe_derive(&r);
	ASSERT_EQ(r.strategy.sw_bp, KVM_PROBE_SW_BP_NONE);
	ASSERT_EQ(r.strategy.watch, KVM_PROBE_WATCH_NONE);
	ASSERT_EQ(r.strategy.step_blockirq, false);
	kvm_probe_format(&r, buf, sizeof(buf));
	if (!strstr(buf, "\nsingle-step        not tested  "))
		fail_msg("untested rows missing in:\n%s", buf);
	if (!strstr(buf, "modules (informational): none of kvm_pvm, "
			 "kvm_intel, kvm_amd\n"))
		fail_msg("no modules line in:\n%s", buf);
	kvm_probe_format_kv(&r, buf, sizeof(buf));
	ASSERT_TOKEN(buf, "sw_bp=untested");
	ASSERT_TOKEN(buf, "strategy_sw_bp=none");
	ASSERT_TOKEN(buf, "strategy_watch=none");
	ASSERT_TOKEN(buf, "blockirq=0");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive_pvm),
		cmocka_unit_test(test_derive_real_kvm),
		cmocka_unit_test(test_derive_ignores_modules),
		cmocka_unit_test(test_derive_sw_bp),
		cmocka_unit_test(test_derive_hw_resume),
		cmocka_unit_test(test_derive_watch),
		cmocka_unit_test(test_derive_blockirq),
		cmocka_unit_test(test_format_table_pvm),
		cmocka_unit_test(test_format_table_real_kvm),
		cmocka_unit_test(test_format_kv_pvm),
		cmocka_unit_test(test_format_kv_real_kvm),
		cmocka_unit_test(test_outcome_tokens),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_format_empty),
	};

	/* "test_probe NAME" runs one test (a glob), so each can run alone. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
