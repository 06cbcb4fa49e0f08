/* Unit tests for the x86 debug-exit classifier: recorded kvm_run exits from
 * kvm_pvm and from real (SVM) KVM, each with the breakpoint tables and step
 * state around it, to the verdict; plus the bounds of the kvm_run copy. */
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

#include "arch/x86_64/classify.h"

/*
 * Exit reasons and the suberror as numbers (uapi linux/kvm.h), so the
 * recorded rows read like the dump they came from.
 */
#define EXIT_IO 2
#define EXIT_DEBUG 4
#define EXIT_HLT 5
#define EXIT_INTERNAL_ERROR 17
#define SUB_EMULATION 1
#define SUB_DELIVERY_EV 3

/* What the probe learnt (HOST.md): kvm_pvm, and VMX/SVM KVM. */
static const struct x86_host_facts host_pvm = {
    .int3_exits_as_emulation_failure = true,
    .rf_ignored = true,
    .dr_data_works = false,
};
static const struct x86_host_facts host_real = {
    .int3_exits_as_emulation_failure = false,
    .rf_ignored = false,
    .dr_data_works = true,
};

/*
 * The recorded exits. tests/unit/data/x86-exits/ holds the probe that made
 * them (one tiny 32-bit protected-mode guest: int3 at 0x1000, nops at
 * 0x1010-0x1012, `mov [0x3000],eax` at 0x1020, `jmp .` at 0x1030) and its
 * output on kvm_pvm (this host) and on real KVM (kvm-amd under the
 * realkvm harness). Fields are as KVM left them, pad included.
 */

/* kvm_pvm, INT3 at 0x1000 with USE_SW_BP: emulation failure, ndata 8,
 * flags = INSTRUCTION_BYTES, insn_size 15 (bytes fetched, not the INT3's
 * length), bytes cc f4 00..., then unspecified debug data (rip again). */
#define PVM_INT3_1000                                                          \
	{                                                                      \
		.exit_reason = EXIT_INTERNAL_ERROR,                            \
		.internal = {                                                  \
		    .suberror = SUB_EMULATION,                                 \
		    .ndata = 8,                                                \
		    .data = {0x1, 0xf4cc0f, 0x0, 0x1000, 0x0, 0x0, 0x0, 0x0}}, \
	}

/* kvm_pvm: fetching code from guest-physical memory with no slot (rip
 * 0x20000): emulation failure without instruction bytes (flags 0). */
#define PVM_FETCH_UNBACKED                                                     \
	{                                                                      \
		.exit_reason = EXIT_INTERNAL_ERROR,                            \
		.internal = {.suberror = SUB_EMULATION,                        \
			     .ndata = 6,                                       \
			     .data = {0x0, 0x1000, 0x0, 0x0, 0x0, 0x0}},       \
	}

#define DEBUG_EXIT(exc, pad_, pc_, dr6_, dr7_)                                 \
	{                                                                      \
		.exit_reason = EXIT_DEBUG,                                     \
		.debug = {.arch = {.exception = (exc),                         \
				   .pad = (pad_),                              \
				   .pc = (pc_),                                \
				   .dr6 = (dr6_),                              \
				   .dr7 = (dr7_)}},                            \
	}

#define EXEC(a)                                                                \
	{                                                                      \
		.enabled = true, .type = X86_HW_EXEC, .addr = (a), .len = 1    \
	}
#define WRITE(a, l)                                                            \
	{                                                                      \
		.enabled = true, .type = X86_HW_WRITE, .addr = (a), .len = (l) \
	}
#define ACCESS(a, l)                                                           \
	{                                                                      \
		.enabled = true, .type = X86_HW_ACCESS, .addr = (a),           \
		.len = (l)                                                     \
	}

struct want {
	enum x86_verdict_kind kind;
	enum x86_stop_reason reason;
	enum x86_internal_action internal;
	uint64_t addr;
	unsigned vector;
	uint64_t rewind_pc;
	bool set_pc;
	uint8_t slots;
	uint8_t step_over;
	bool sw_bp_here;
};

struct row {
	const char *name;
	/* The probe scenario the exit was recorded in (see data/x86-exits/),
	 * or "synthesized" for layouts built by hand from the recorded ones
	 * and the uapi headers. */
	const char *src;
	struct kvm_run run;
	uint64_t rip; /* from KVM_GET_REGS at the exit */
	/* the tables and step state */
	unsigned nsw;
	uint64_t sw[4];
	struct x86_hw_slot hw[X86_NR_HW_SLOTS];
	uint8_t suppressed;
	bool stepping, internal_step;
	uint64_t step_from;
	const struct x86_host_facts *host;
	struct want want;
};

#define SW(...)                                                                \
	.nsw = ARRAY_SIZE(((uint64_t[]){__VA_ARGS__})), .sw = {__VA_ARGS__}

#define W_SWBREAK(a)                                                           \
	{                                                                      \
		.kind = X86_VERDICT_DEBUGGER, .reason = X86_STOP_SWBREAK,      \
		.addr = (a), .rewind_pc = (a), .sw_bp_here = true              \
	}
#define W_REINJECT(v, pc)                                                      \
	{                                                                      \
		.kind = X86_VERDICT_REINJECT, .vector = (v), .rewind_pc = (pc) \
	}
#define W_NOT_DEBUG(pc)                                                        \
	{                                                                      \
		.kind = X86_VERDICT_NOT_DEBUG, .rewind_pc = (pc)               \
	}

static const struct row rows[] = {
    /* ---- kvm_pvm: INT3 as an emulation failure ---- */
    {
	.name = "pvm: INT3 of ours",
	.src = "int3_sw_bp",
	.run = PVM_INT3_1000,
	.rip = 0x1000,
	SW(0x1000),
	.host = &host_pvm,
	/* rip is already on the INT3: nothing to rewind for swbreak. */
	.want = W_SWBREAK(0x1000),
    },
    {
	.name = "pvm: the guest's own INT3 (no INT3 of ours there)",
	.src = "int3_sw_bp, int3_reinject, int3_reinject_rip_plus1",
	.run = PVM_INT3_1000,
	.rip = 0x1000,
	SW(0x2000),
	.host = &host_pvm,
	/* INJECT_BP on kvm_pvm returns to the current rip: move past the
	 * INT3 first, as the CPU would have (recorded: with rip 0x1000 the
	 * handler saw 0x1000, with 0x1001 it saw 0x1001). */
	.want = {.kind = X86_VERDICT_REINJECT,
		 .vector = 3,
		 .rewind_pc = 0x1001,
		 .set_pc = true},
    },
    {
	.name = "pvm: INT3 of ours executed by the debugger's step",
	.src = "step_int3",
	.run = PVM_INT3_1000, /* recorded as step_int3: the same exit */
	.rip = 0x1000,
	SW(0x1000),
	.stepping = true,
	.step_from = 0x1000,
	.host = &host_pvm,
	.want = W_SWBREAK(0x1000),
    },
    {
	.name = "pvm: INT3 of ours with an exec slot on it too",
	.src = "int3_sw_bp, tables synthesized",
	.run = PVM_INT3_1000,
	.rip = 0x1000,
	SW(0x1000),
	.hw = {[2] = EXEC(0x1000)},
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_SWBREAK,
		 .addr = 0x1000,
		 .rewind_pc = 0x1000,
		 .sw_bp_here = true,
		 .step_over = 0x4},
    },
    {
	.name = "pvm: fetch from unbacked memory, no bytes: a crash",
	.src = "fetch_unbacked",
	.run = PVM_FETCH_UNBACKED,
	.rip = 0x20000,
	SW(0x1000),
	.host = &host_pvm,
	.want = W_NOT_DEBUG(0x20000),
    },
    {
	.name = "pvm: no bytes, but our INT3 is the failing instruction",
	.src = "synthesized from fetch_unbacked",
	/* The layout of PVM_FETCH_UNBACKED at an INT3 of ours: a host that
	 * leaves the bytes out still names the instruction by rip. */
	.run = PVM_FETCH_UNBACKED,
	.rip = 0x1000,
	SW(0x1000),
	.host = &host_pvm,
	.want = W_SWBREAK(0x1000),
    },
    {
	.name = "pvm: emulation failure on another instruction",
	.src = "synthesized, int3_sw_bp layout",
	/* flds (%eax), the selftests' unemulatable instruction: d9 00. */
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_EMULATION,
			     .ndata = 8,
			     .data = {0x1, 0x00d90f, 0x0, 0x1040}}},
	.rip = 0x1040,
	SW(0x1000),
	.host = &host_pvm,
	.want = W_NOT_DEBUG(0x1040),
    },
    {
	.name = "pvm: first byte not 0xCC though our table says INT3",
	.src = "synthesized, int3_sw_bp layout",
	/* The guest rewrote its code under our breakpoint: what failed is
	 * not our INT3. */
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_EMULATION,
			     .ndata = 8,
			     .data = {0x1, 0x00d90f, 0x0, 0x1000}}},
	.rip = 0x1000,
	SW(0x1000),
	.host = &host_pvm,
	.want = W_NOT_DEBUG(0x1000),
    },
    {
	.name = "pvm: bytes flagged but ndata too short to hold them",
	.src = "synthesized",
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_EMULATION,
			     .ndata = 2,
			     .data = {0x1, 0xf4cc0f}}},
	.rip = 0x1000,
	SW(0x2000),
	.host = &host_pvm,
	/* Without trustworthy bytes and no INT3 of ours: a crash, not a
	 * reinjection built on guesswork. */
	.want = W_NOT_DEBUG(0x1000),
    },
    /* ---- kvm_pvm: #DB exits ---- */
    {
	.name = "pvm: the debugger's single step",
	.src = "step1",
	.run = DEBUG_EXIT(1, 8, 0x1011, 0xffff4ff0, 0x0),
	.rip = 0x1011,
	.stepping = true,
	.step_from = 0x1010,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_STEP,
		 .addr = 0x1011,
		 .rewind_pc = 0x1011},
    },
    {
	.name = "pvm: exec breakpoint in DR0",
	.src = "hwexec",
	/* kvm_pvm reports dr7 as 0 whatever was programmed. */
	.run = DEBUG_EXIT(1, 8, 0x1012, 0xffff0ff1, 0x0),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_HWBREAK,
		 .addr = 0x1012,
		 .rewind_pc = 0x1012,
		 .slots = 0x1,
		 .step_over = 0x1},
    },
    {
	.name = "pvm: RF ignored: the exec breakpoint re-fires on the "
		"internal step",
	.src = "step_from_hwexec, hwexec_rf_resume",
	/* Recorded stepping from 0x1012 with DR0 = 0x1012 still armed (and
	 * identically when resuming with RFLAGS.RF set). */
	.run = DEBUG_EXIT(1, 8, 0x1012, 0xffff0ff1, 0x0),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.internal_step = true,
	.step_from = 0x1012,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_INTERNAL,
		 .internal = X86_INTERNAL_RESTEP,
		 .rewind_pc = 0x1012,
		 .step_over = 0x1},
    },
    {
	.name = "pvm: the debugger's step from an exec breakpoint re-fires",
	.src = "step_from_hwexec",
	.run = DEBUG_EXIT(1, 8, 0x1012, 0xffff0ff1, 0x0),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.stepping = true,
	.step_from = 0x1012,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_INTERNAL,
		 .internal = X86_INTERNAL_RESTEP,
		 .rewind_pc = 0x1012,
		 .step_over = 0x1},
    },
    {
	.name = "pvm: the debugger's step completes onto an exec breakpoint",
	.src = "step_onto_hwexec",
	/* Recorded: step from 0x1011 with DR0 = 0x1012 gives BS at 0x1012;
	 * the breakpoint fires only on the next run. */
	.run = DEBUG_EXIT(1, 8, 0x1012, 0xffff4ff0, 0x0),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.stepping = true,
	.step_from = 0x1011,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_STEP,
		 .addr = 0x1012,
		 .rewind_pc = 0x1012,
		 .step_over = 0x1},
    },
    {
	.name = "pvm: the debugger's step completes onto our INT3",
	.src = "step1, tables synthesized",
	.run = DEBUG_EXIT(1, 8, 0x1011, 0xffff4ff0, 0x0),
	.rip = 0x1011,
	SW(0x1011),
	.stepping = true,
	.step_from = 0x1010,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_STEP,
		 .addr = 0x1011,
		 .rewind_pc = 0x1011,
		 .sw_bp_here = true},
    },
    {
	.name = "pvm: step-over of a suppressed exec slot completes",
	.src = "step_blockirq",
	.run = DEBUG_EXIT(1, 8, 0x1013, 0xffff4ff0, 0x0),
	.rip = 0x1013,
	.hw = {EXEC(0x1012)},
	.suppressed = 0x1,
	.internal_step = true,
	.step_from = 0x1012,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_INTERNAL,
		 .internal = X86_INTERNAL_CONTINUE,
		 .rewind_pc = 0x1013},
    },
    {
	.name = "pvm: step-over lands on another INT3 of ours",
	.src = "step1",
	.run = DEBUG_EXIT(1, 8, 0x1011, 0xffff4ff0, 0x0),
	.rip = 0x1011,
	SW(0x1010, 0x1011),
	.internal_step = true,
	.step_from = 0x1010,
	.host = &host_pvm,
	/* A continue would trap there at once: report it now. */
	.want = W_SWBREAK(0x1011),
    },
    {
	.name = "pvm: step-over lands on another exec slot",
	.src = "step_blockirq",
	.run = DEBUG_EXIT(1, 8, 0x1013, 0xffff4ff0, 0x0),
	.rip = 0x1013,
	.hw = {EXEC(0x1012), EXEC(0x1013)},
	.suppressed = 0x1,
	.internal_step = true,
	.step_from = 0x1012,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_HWBREAK,
		 .addr = 0x1013,
		 .rewind_pc = 0x1013,
		 .slots = 0x2,
		 .step_over = 0x2},
    },
    {
	.name = "pvm: step-over of `jmp .` lands on its own suppressed slot",
	.src = "step_jmp_self",
	/* Recorded: a step of the jmp-to-self at 0x1030. One iteration ran,
	 * so this is a hit, not another step-over. */
	.run = DEBUG_EXIT(1, 8, 0x1030, 0xffff4ff0, 0x0),
	.rip = 0x1030,
	.hw = {EXEC(0x1030)},
	.suppressed = 0x1,
	.internal_step = true,
	.step_from = 0x1030,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_HWBREAK,
		 .addr = 0x1030,
		 .rewind_pc = 0x1030,
		 .slots = 0x1,
		 .step_over = 0x1},
    },
    {
	.name = "pvm: a step over a watched write: DR data never fires",
	.src = "datawrite_step",
	/* Recorded: DR0 = 0x3000 write/4 and a step of the mov: BS only. */
	.run = DEBUG_EXIT(1, 8, 0x1025, 0xffff4ff0, 0x0),
	.rip = 0x1025,
	.hw = {WRITE(0x3000, 4)},
	.stepping = true,
	.step_from = 0x1020,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_STEP,
		 .addr = 0x1025,
		 .rewind_pc = 0x1025},
    },
    {
	.name = "pvm: B bit of a suppressed slot is not ours",
	.src = "synthesized",
	.run = DEBUG_EXIT(1, 8, 0x1013, 0xffff4ff1, 0x0),
	.rip = 0x1013,
	.hw = {WRITE(0x3000, 4)},
	.suppressed = 0x1,
	.internal_step = true,
	.step_from = 0x1012,
	.host = &host_pvm,
	.want = {.kind = X86_VERDICT_INTERNAL,
		 .internal = X86_INTERNAL_CONTINUE,
		 .rewind_pc = 0x1013},
    },

    /* ---- real KVM (SVM; VMX reports the same fields) ---- */
    {
	.name = "real: INT3 of ours, KVM_EXIT_DEBUG exception 3",
	.src = "int3_sw_bp",
	.run = DEBUG_EXIT(3, 0, 0x1000, 0x0, 0x0),
	.rip = 0x1000,
	SW(0x1000),
	.host = &host_real,
	/* pc and rip name the INT3 itself: no rewind. */
	.want = W_SWBREAK(0x1000),
    },
    {
	.name = "real: the guest's own INT3",
	.src = "int3_sw_bp, int3_reinject",
	.run = DEBUG_EXIT(3, 0, 0x1000, 0x0, 0x0),
	.rip = 0x1000,
	SW(0x1010),
	.host = &host_real,
	/* rip stays on the INT3: KVM adds its length when injecting. */
	.want = W_REINJECT(3, 0x1000),
    },
    {
	.name = "real: INT3 of ours met by the debugger's step",
	.src = "step_int3",
	.run = DEBUG_EXIT(3, 1, 0x1000, 0xffff4ff0, 0x400),
	.rip = 0x1000,
	SW(0x1000),
	.stepping = true,
	.step_from = 0x1000,
	.host = &host_real,
	.want = W_SWBREAK(0x1000),
    },
    {
	.name = "real: exec breakpoint in DR0",
	.src = "hwexec",
	.run = DEBUG_EXIT(1, 1, 0x1012, 0xffff0ff1, 0x602),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_HWBREAK,
		 .addr = 0x1012,
		 .rewind_pc = 0x1012,
		 .slots = 0x1,
		 .step_over = 0x1},
    },
    {
	.name = "real: exec breakpoint in DR2 beside a write slot",
	.src = "synthesized",
	.run = DEBUG_EXIT(1, 0, 0x1012, 0xffff0ff4, 0xd00628),
	.rip = 0x1012,
	.hw = {[1] = WRITE(0x3000, 4), [2] = EXEC(0x1012)},
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_HWBREAK,
		 .addr = 0x1012,
		 .rewind_pc = 0x1012,
		 .slots = 0x4,
		 .step_over = 0x4},
    },
    {
	.name = "real: write watchpoint, a trap after the mov",
	.src = "datawrite",
	.run = DEBUG_EXIT(1, 1, 0x1025, 0xffff0ff1, 0xd0602),
	.rip = 0x1025,
	.hw = {WRITE(0x3000, 4)},
	.host = &host_real,
	/* The address is the watched one, not the pc. */
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_WATCH_WRITE,
		 .addr = 0x3000,
		 .rewind_pc = 0x1025,
		 .slots = 0x1},
    },
    {
	.name = "real: a stepped write hits a watchpoint: BS and B0",
	.src = "datawrite_step",
	.run = DEBUG_EXIT(1, 1, 0x1025, 0xffff4ff1, 0xd0602),
	.rip = 0x1025,
	.hw = {WRITE(0x3000, 4)},
	.stepping = true,
	.step_from = 0x1020,
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_WATCH_WRITE,
		 .addr = 0x3000,
		 .rewind_pc = 0x1025,
		 .slots = 0x1},
    },
    {
	.name = "real: a step-over's instruction hits a watchpoint",
	.src = "datawrite_step",
	.run = DEBUG_EXIT(1, 1, 0x1025, 0xffff4ff1, 0xd0602),
	.rip = 0x1025,
	SW(0x1020),
	.hw = {WRITE(0x3000, 4)},
	.internal_step = true,
	.step_from = 0x1020,
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_WATCH_WRITE,
		 .addr = 0x3000,
		 .rewind_pc = 0x1025,
		 .slots = 0x1},
    },
    {
	.name = "real: two watchpoints hit: the lowest slot reports",
	.src = "synthesized",
	.run = DEBUG_EXIT(1, 0, 0x1025, 0xffff0ffa, 0x50f00688),
	.rip = 0x1025,
	.hw = {[1] = ACCESS(0x3000, 4), [3] = WRITE(0x3002, 2)},
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_WATCH_ACCESS,
		 .addr = 0x3000,
		 .rewind_pc = 0x1025,
		 .slots = 0xa},
    },
    {
	.name = "real: the debugger's single step",
	.src = "step1",
	.run = DEBUG_EXIT(1, 1, 0x1011, 0xffff4ff0, 0x400),
	.rip = 0x1011,
	.stepping = true,
	.step_from = 0x1010,
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_STEP,
		 .addr = 0x1011,
		 .rewind_pc = 0x1011},
    },
    {
	.name = "real: BS and an exec B bit together while the debugger "
		"steps",
	.src = "step_onto_hwexec",
	.run = DEBUG_EXIT(1, 1, 0x1012, 0xffff4ff1, 0x602),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.stepping = true,
	.step_from = 0x1011,
	.host = &host_real,
	/* The step completed; the instruction at the breakpoint has not
	 * run. Report the step, and say a slot sits here. */
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_STEP,
		 .addr = 0x1012,
		 .rewind_pc = 0x1012,
		 .step_over = 0x1},
    },
    {
	.name = "real: exec breakpoint hit while the debugger steps, "
		"elsewhere",
	.src = "synthesized",
	/* E.g. the stepped instruction faulted and the handler's first
	 * instruction carries the breakpoint: no BS, not the start. */
	.run = DEBUG_EXIT(1, 0, 0x1120, 0xffff0ff1, 0x602),
	.rip = 0x1120,
	.hw = {EXEC(0x1120)},
	.stepping = true,
	.step_from = 0x1040,
	.host = &host_real,
	.want = {.kind = X86_VERDICT_DEBUGGER,
		 .reason = X86_STOP_HWBREAK,
		 .addr = 0x1120,
		 .rewind_pc = 0x1120,
		 .slots = 0x1,
		 .step_over = 0x1},
    },
    {
	.name = "real: the debugger's step from an exec breakpoint re-fires",
	.src = "step_from_hwexec",
	/* KVM sets no RF for a single step: stepping from an armed
	 * instruction breakpoint faults on it first, as on kvm_pvm. */
	.run = DEBUG_EXIT(1, 1, 0x1012, 0xffff0ff1, 0x602),
	.rip = 0x1012,
	.hw = {EXEC(0x1012)},
	.stepping = true,
	.step_from = 0x1012,
	.host = &host_real,
	.want = {.kind = X86_VERDICT_INTERNAL,
		 .internal = X86_INTERNAL_RESTEP,
		 .rewind_pc = 0x1012,
		 .step_over = 0x1},
    },
    {
	.name = "real: unemulatable fetch, no bytes, at an INT3 of ours",
	.src = "fetch_unbacked",
	/* KVM's own emulation-failure data (SVM exit code 0x400, NPF, and
	 * the gpa), no instruction bytes: on a host that reports INT3 as
	 * #BP this is never our INT3, whatever the table says. */
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_EMULATION,
			     .ndata = 6,
			     .data = {0x0, 0x400, 0x100000014, 0x20000, 0x0,
				      0x0}}},
	.rip = 0x20000,
	SW(0x20000),
	.host = &host_real,
	.want = W_NOT_DEBUG(0x20000),
    },
    {
	.name = "real: step-over of an INT3 of ours completes",
	.src = "step1",
	.run = DEBUG_EXIT(1, 1, 0x1011, 0xffff4ff0, 0x400),
	.rip = 0x1011,
	SW(0x1010),
	.internal_step = true,
	.step_from = 0x1010,
	.host = &host_real,
	.want = {.kind = X86_VERDICT_INTERNAL,
		 .internal = X86_INTERNAL_CONTINUE,
		 .rewind_pc = 0x1011},
    },
    {
	.name = "real: the guest's own TF (BS, nobody stepping)",
	.src = "guest_tf",
	.run = DEBUG_EXIT(1, 1, 0x1011, 0xffff4ff0, 0x400),
	.rip = 0x1011,
	.hw = {EXEC(0x1012)},
	.host = &host_real,
	.want = W_REINJECT(1, 0x1011),
    },
    {
	.name = "real: #DB with no DR6 bits (ICEBP)",
	.src = "synthesized",
	.run = DEBUG_EXIT(1, 0, 0x1011, 0xffff0ff0, 0x602),
	.rip = 0x1011,
	.hw = {EXEC(0x1012)},
	.host = &host_real,
	.want = W_REINJECT(1, 0x1011),
    },
    {
	.name = "real: B2 set for a slot we do not use",
	.src = "synthesized",
	/* The SDM lets B bits report conditions DR7 does not enable. */
	.run = DEBUG_EXIT(1, 0, 0x1011, 0xffff0ff4, 0x602),
	.rip = 0x1011,
	.hw = {EXEC(0x1012)},
	.host = &host_real,
	.want = W_REINJECT(1, 0x1011),
    },
    {
	.name = "real: exec B bit for a slot that names another address",
	.src = "synthesized",
	.run = DEBUG_EXIT(1, 0, 0x1013, 0xffff0ff1, 0x602),
	.rip = 0x1013,
	.hw = {EXEC(0x1012)},
	.host = &host_real,
	.want = W_REINJECT(1, 0x1013),
    },
    {
	.name = "real: BD, the guest touched a debug register",
	.src = "synthesized",
	.run = DEBUG_EXIT(1, 0, 0x1040, 0xffff2ff0, 0x602),
	.rip = 0x1040,
	.hw = {EXEC(0x1012)},
	.host = &host_real,
	.want = W_REINJECT(1, 0x1040),
    },
    {
	.name = "real: emulation failure at an INT3 of ours",
	.src = "synthesized",
	/* Not how VMX/SVM report INT3, but rip names the failing
	 * instruction and the bytes prove it is ours. */
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_EMULATION,
			     .ndata = 3,
			     .data = {0x1, 0x90cc02, 0x0}}},
	.rip = 0x1000,
	SW(0x1000),
	.host = &host_real,
	.want = W_SWBREAK(0x1000),
    },
    {
	.name = "real: emulation failure at an INT3 not ours",
	.src = "synthesized",
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_EMULATION,
			     .ndata = 3,
			     .data = {0x1, 0x90cc02, 0x0}}},
	.rip = 0x1000,
	SW(0x2000),
	.host = &host_real,
	.want = W_NOT_DEBUG(0x1000),
    },
    {
	.name = "any: KVM_EXIT_DEBUG with an exception we do not know",
	.src = "synthesized",
	.run = DEBUG_EXIT(6, 0, 0x1040, 0x0, 0x0),
	.rip = 0x1040,
	SW(0x1040),
	.host = &host_real,
	.want = W_NOT_DEBUG(0x1040),
    },
    {
	.name = "any: internal error, delivery-event suberror",
	.src = "synthesized",
	.run = {.exit_reason = EXIT_INTERNAL_ERROR,
		.internal = {.suberror = SUB_DELIVERY_EV,
			     .ndata = 4,
			     .data = {0x80000b0e, 0x0, 0x31, 0x0}}},
	.rip = 0x1000,
	SW(0x1000),
	.host = &host_pvm,
	.want = W_NOT_DEBUG(0x1000),
    },
    {
	.name = "any: not a debug exit (HLT)",
	.src = "synthesized",
	.run = {.exit_reason = EXIT_HLT},
	.rip = 0x1001,
	SW(0x1000),
	.host = &host_pvm,
	.want = W_NOT_DEBUG(0x1001),
    },
};

static bool sw_lookup(void *opaque, uint64_t pc)
{
	const struct row *r = opaque;

	for (unsigned i = 0; i < r->nsw; i++)
		if (r->sw[i] == pc)
			return true;
	return false;
}

static void row_ctx(const struct row *r, struct x86_classify_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sw_bp_at = sw_lookup;
	ctx->opaque = (void *)r;
	memcpy(ctx->hw, r->hw, sizeof(ctx->hw));
	ctx->hw_suppressed = r->suppressed;
	ctx->stepping = r->stepping;
	ctx->internal_step = r->internal_step;
	ctx->step_from = r->step_from;
	ctx->host = *r->host;
}

static void check_verdict(const struct x86_verdict *v, const struct want *w)
{
	if (v->kind != w->kind)
		fail_msg("kind == %s, want %s", x86_verdict_kind_name(v->kind),
			 x86_verdict_kind_name(w->kind));
	if (v->reason != w->reason)
		fail_msg("reason == %s, want %s",
			 x86_stop_reason_name(v->reason),
			 x86_stop_reason_name(w->reason));
	ASSERT_EQ(v->internal, w->internal);
	ASSERT_HEX(v->addr, w->addr);
	ASSERT_EQ(v->vector, w->vector);
	ASSERT_HEX(v->rewind_pc, w->rewind_pc);
	ASSERT_EQ(v->set_pc, w->set_pc);
	ASSERT_HEX(v->slots, w->slots);
	ASSERT_HEX(v->step_over, w->step_over);
	ASSERT_EQ(v->sw_bp_here, w->sw_bp_here);
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct x86_exit_record ex;
	struct x86_classify_ctx ctx;
	struct x86_verdict v;

	print_message("recorded as: %s\n", r->src);
	ASSERT_EQ(x86_exit_record_from_run(&r->run, r->rip, &ex), 0);
	row_ctx(r, &ctx);
	ASSERT_EQ(x86_classify(&ex, &ctx, &v), 0);
	check_verdict(&v, &r->want);
}

/* ---- the kvm_run copy ---------------------------------------------------- */

static void test_record_debug(void **state)
{
	const struct kvm_run run = DEBUG_EXIT(1, 8, 0x1012, 0xffff0ff1, 0x602);
	struct x86_exit_record ex;

	memset(&ex, 0x5a, sizeof(ex));
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1012, &ex), 0);
	ASSERT_EQ(ex.exit_reason, EXIT_DEBUG);
	ASSERT_HEX(ex.rip, 0x1012);
	ASSERT_EQ(ex.debug.exception, 1);
	ASSERT_HEX(ex.debug.pc, 0x1012);
	ASSERT_HEX(ex.debug.dr6, 0xffff0ff1);
	ASSERT_HEX(ex.debug.dr7, 0x602);
	ASSERT_EQ(ex.internal.suberror, 0);
	ASSERT_EQ(ex.internal.ndata, 0);
	ASSERT_EQ(ex.internal.has_insn, false);
}

static void test_record_pvm_int3(void **state)
{
	const struct kvm_run run = PVM_INT3_1000;
	struct x86_exit_record ex;
	static const uint8_t bytes[X86_INSN_MAX] = {0xcc, 0xf4};

	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(ex.exit_reason, EXIT_INTERNAL_ERROR);
	ASSERT_EQ(ex.internal.suberror, 1);
	ASSERT_EQ(ex.internal.ndata, 8);
	ASSERT_HEX(ex.internal.data[3], 0x1000);
	ASSERT_EQ(ex.internal.has_insn, true);
	ASSERT_EQ(ex.internal.insn_size, 15);
	ASSERT_EQ(memcmp(ex.internal.insn_bytes, bytes, sizeof(bytes)), 0);
	ASSERT_HEX(ex.debug.pc, 0);
}

static void test_record_bounds(void **state)
{
	struct kvm_run run;
	struct x86_exit_record ex;

	/* ndata past data[16]: clamped, nothing beyond read. */
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run.internal.ndata = 0xffffffff;
	for (unsigned i = 0; i < 16; i++)
		run.internal.data[i] = 0x100 + i;
	run.emulation_failure.flags =
	    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run.emulation_failure.insn_size = 200;
	memset(run.emulation_failure.insn_bytes, X86_INT3,
	       sizeof(run.emulation_failure.insn_bytes));
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(ex.internal.ndata, 16);
	ASSERT_HEX(ex.internal.data[15], 0x10f);
	ASSERT_EQ(ex.internal.has_insn, true);
	ASSERT_EQ(ex.internal.insn_size, 15);
	ASSERT_HEX(ex.internal.insn_bytes[14], 0xcc);

	/* Flag set, but ndata does not reach the bytes. */
	run.internal.ndata = 2;
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(ex.internal.ndata, 2);
	ASSERT_HEX(ex.internal.data[2], 0);
	ASSERT_EQ(ex.internal.has_insn, false);
	ASSERT_EQ(ex.internal.insn_size, 0);

	/* ndata enough, flag clear: the overlay is not instruction bytes. */
	run.internal.ndata = 3;
	run.emulation_failure.flags = 0;
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(ex.internal.has_insn, false);

	/* Another suberror never has the emulation overlay. */
	run.internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	run.internal.data[0] =
	    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(ex.internal.has_insn, false);
	ASSERT_EQ(ex.internal.ndata, 3);

	/* An instruction-bytes flag with insn_size 0: no byte to look at,
	 * so no INT3, even at an address of ours. */
	run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run.emulation_failure.flags =
	    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run.emulation_failure.insn_size = 0;
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(ex.internal.has_insn, true);
	ASSERT_EQ(ex.internal.insn_size, 0);
	{
		static const struct row r = {SW(0x1000), .host = &host_pvm};
		struct x86_classify_ctx ctx;
		struct x86_verdict v;

		row_ctx(&r, &ctx);
		ASSERT_EQ(x86_classify(&ex, &ctx, &v), 0);
		ASSERT_EQ(v.kind, X86_VERDICT_NOT_DEBUG);
	}

	/* Other exits copy only the reason and rip. */
	memset(&run, 0xff, sizeof(run));
	run.exit_reason = KVM_EXIT_MMIO;
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x42, &ex), 0);
	ASSERT_EQ(ex.exit_reason, KVM_EXIT_MMIO);
	ASSERT_HEX(ex.rip, 0x42);
	ASSERT_HEX(ex.debug.dr6, 0);
	ASSERT_EQ(ex.internal.ndata, 0);
}

static void test_null_arguments(void **state)
{
	const struct kvm_run run = PVM_INT3_1000;
	struct x86_exit_record ex;
	struct x86_classify_ctx ctx = {0};
	struct x86_verdict v;

	ASSERT_EQ(x86_exit_record_from_run(NULL, 0, &ex), -EINVAL);
	ASSERT_EQ(x86_exit_record_from_run(&run, 0, NULL), -EINVAL);
	ASSERT_EQ(x86_exit_record_from_run(&run, 0x1000, &ex), 0);
	ASSERT_EQ(x86_classify(NULL, &ctx, &v), -EINVAL);
	ASSERT_EQ(x86_classify(&ex, NULL, &v), -EINVAL);
	ASSERT_EQ(x86_classify(&ex, &ctx, NULL), -EINVAL);

	/* No sw_bp_at callback: no INT3 is ours, so on kvm_pvm the INT3 is
	 * the guest's. */
	ctx.host = host_pvm;
	ASSERT_EQ(x86_classify(&ex, &ctx, &v), 0);
	ASSERT_EQ(v.kind, X86_VERDICT_REINJECT);
	ASSERT_EQ(v.vector, 3);
	ASSERT_HEX(v.rewind_pc, 0x1001);
}

static void test_names(void **state)
{
	ASSERT_EQ(
	    strcmp(x86_verdict_kind_name(X86_VERDICT_REINJECT), "reinject"), 0);
	ASSERT_EQ(strcmp(x86_stop_reason_name(X86_STOP_WATCH_ACCESS), "awatch"),
		  0);
	ASSERT_EQ(strcmp(x86_verdict_kind_name((enum x86_verdict_kind)9), "?"),
		  0);
	ASSERT_EQ(strcmp(x86_stop_reason_name((enum x86_stop_reason) - 1), "?"),
		  0);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_record_debug),
	    cmocka_unit_test(test_record_pvm_int3),
	    cmocka_unit_test(test_record_bounds),
	    cmocka_unit_test(test_null_arguments),
	    cmocka_unit_test(test_names),
	};
	struct CMUnitTest tests[ARRAY_SIZE(fixed) + ARRAY_SIZE(rows)];

	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		tests[ARRAY_SIZE(fixed) + i] = (struct CMUnitTest){
		    .name = rows[i].name,
		    .test_func = test_row,
		    .initial_state = (void *)&rows[i],
		};
	/* One test alone: test_x86_classify 'pvm: INT3*' (a glob). */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
