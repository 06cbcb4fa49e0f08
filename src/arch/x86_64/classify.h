/* x86 debug-exit classifier: what a KVM_EXIT_DEBUG or INT3 emulation failure
 * means for the debugger, as a pure function of the exit and the tables. */
#ifndef KVMDBG_ARCH_X86_64_CLASSIFY_H
#define KVMDBG_ARCH_X86_64_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "arch/x86_64/dbgregs.h"

#define X86_INSN_MAX 15	      /* longest x86 instruction, emulation_failure */
#define X86_INTERNAL_NDATA 16 /* kvm_run.internal.data[] */
#define X86_INT3 0xcc

/*
 * What the vCPU thread copies out of kvm_run at a debug-relevant exit,
 * plus the vCPU's rip (KVM_GET_REGS): an internal error does not carry the
 * pc. Fields of the other exit kind stay zero.
 */
struct x86_exit_record {
	uint32_t exit_reason; /* KVM_EXIT_* */
	uint64_t rip;
	struct {
		uint32_t exception; /* 1 (#DB) or 3 (#BP) */
		uint64_t pc;	    /* linear: CS.base + rip */
		uint64_t dr6;
		uint64_t dr7;
	} debug; /* KVM_EXIT_DEBUG */
	struct {
		uint32_t suberror; /* KVM_INTERNAL_ERROR_* */
		uint32_t ndata; /* entries of data[] KVM filled, at most 16 */
		uint64_t data[X86_INTERNAL_NDATA];
		/* KVM_INTERNAL_ERROR_EMULATION with the instruction-bytes
		 * flag and ndata covering them: the bytes KVM fetched at
		 * rip. insn_size counts fetched bytes, not the length of
		 * the instruction (kvm_pvm always reports 15). */
		bool has_insn;
		uint8_t insn_size;
		uint8_t insn_bytes[X86_INSN_MAX];
	} internal; /* KVM_EXIT_INTERNAL_ERROR */
};

/*
 * Copy the exit out of run (zeroing *out first). ndata is clamped to the
 * size of data[] and insn_size to 15; the instruction bytes are taken only
 * for the emulation suberror when flags has
 * KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES and ndata covers
 * flags and the 16 bytes of insn_size/insn_bytes (ndata >= 3). Returns 0,
 * or -EINVAL for a NULL argument.
 */
int x86_exit_record_from_run(const struct kvm_run *run, uint64_t rip,
			     struct x86_exit_record *out);

/* What the start-up probe learnt about this host's KVM (HOST.md). */
struct x86_host_facts {
	/* INT3 exits as KVM_EXIT_INTERNAL_ERROR, emulation suberror, with
	 * the instruction bytes and rip on the INT3 (kvm_pvm), instead of
	 * KVM_EXIT_DEBUG exception 3. */
	bool int3_exits_as_emulation_failure;
	/* RFLAGS.RF does not suppress an instruction breakpoint (kvm_pvm):
	 * resuming from one means stepping with its slot left out of DR7. */
	bool rf_ignored;
	/* DR0-3 data watchpoints fire. Not consulted by x86_classify: a data
	 * slot that hits is reported whatever the probe said; the pool uses
	 * this to choose page protection instead. */
	bool dr_data_works;
};

/*
 * The breakpoint tables and the vCPU's step state, as the classifier needs
 * them. Read without locks: the tables change only while every vCPU is
 * parked.
 */
struct x86_classify_ctx {
	/* Is one of kvmdbg's INT3s planted at this guest address? May be
	 * NULL: no software breakpoints. */
	bool (*sw_bp_at)(void *opaque, uint64_t pc);
	void *opaque;
	/* The debugger's hardware slots (the pool's table), including any
	 * left out of DR7 for this run. */
	struct x86_hw_slot hw[X86_NR_HW_SLOTS];
	/* Bit n: slot n was left out of DR7 for this run (a step-over of an
	 * instruction breakpoint); its B bit is not ours this time. */
	uint8_t hw_suppressed;
	/* The debugger asked for this run to be a single step. */
	bool stepping;
	/* kvmdbg itself is stepping this vCPU over one of its breakpoints
	 * (INT3 removed, or the exec slot suppressed) before continuing. */
	bool internal_step;
	/* The rip the step (either kind) started from. */
	uint64_t step_from;
	struct x86_host_facts host;
};

enum x86_verdict_kind {
	/* Not a debug event: an internal error that is no trap (a real
	 * emulation failure), or an exit the classifier does not handle.
	 * Report it as a crash. */
	X86_VERDICT_NOT_DEBUG,
	/* Stop every vCPU and report `reason` at `addr`. */
	X86_VERDICT_DEBUGGER,
	/* The guest's own INT3 or #DB: set rip to rewind_pc, then re-run
	 * with KVM_GUESTDBG_INJECT_BP (vector 3) or _INJECT_DB (vector 1). */
	X86_VERDICT_REINJECT,
	/* kvmdbg's own business: see `internal`. */
	X86_VERDICT_INTERNAL,
};

enum x86_stop_reason {
	X86_STOP_NONE,
	X86_STOP_SWBREAK,      /* one of our INT3s; addr = its address */
	X86_STOP_HWBREAK,      /* an exec slot; addr = pc */
	X86_STOP_WATCH_WRITE,  /* a write slot; addr = the slot's address */
	X86_STOP_WATCH_ACCESS, /* an access slot; addr = the slot's address */
	X86_STOP_STEP,	       /* the debugger's step completed; addr = pc */
};

enum x86_internal_action {
	X86_INTERNAL_NONE,
	/* The step-over finished: re-plant the INT3 or re-enable the slot
	 * and continue. */
	X86_INTERNAL_CONTINUE,
	/* The step made no progress: the instruction breakpoint at the
	 * step's start fired before the instruction ran (RF ignored or not
	 * set). Leave the slots in step_over out of DR7 and step again. */
	X86_INTERNAL_RESTEP,
};

struct x86_verdict {
	enum x86_verdict_kind kind;
	enum x86_stop_reason reason;	   /* DEBUGGER */
	enum x86_internal_action internal; /* INTERNAL */
	uint64_t addr;			   /* DEBUGGER: see x86_stop_reason */
	unsigned vector;		   /* REINJECT: 1 or 3 */
	/* The rip the vCPU must hold before the integrator reports the stop
	 * or injects; equal to the exit's rip unless set_pc. */
	uint64_t rewind_pc;
	bool set_pc;
	/* DEBUGGER HWBREAK/WATCH_*: the owned slots DR6 reports as hit. */
	uint8_t slots;
	/*
	 * Exec slots whose address is the stop pc. Resuming from this stop
	 * must not re-trigger them: with host.rf_ignored, step once with
	 * these slots in hw_suppressed (internal_step), then restore them;
	 * otherwise RFLAGS.RF may be set instead. Also filled for RESTEP.
	 */
	uint8_t step_over;
	/* One of our INT3s is at the stop pc (DEBUGGER): resuming needs an
	 * INT3 step-over, unless the debugger removes it first. */
	bool sw_bp_here;
};

/*
 * The stop pc on each host. gdb's swbreak+ wants the breakpoint's own
 * address (not the address after it, as Linux ptrace reports), and both
 * host kinds already stop there:
 * - VMX/SVM #BP: debug.arch.pc = CS.base + rip = the INT3 (vmx.c
 *   handle_exception_nmi, svm.c bp_interception; the selftest debug_regs
 *   asserts pc == its int3 label, then skips one byte; recorded alike), so
 *   rewind_pc = rip.
 * - kvm_pvm emulation failure: rip = the INT3 (recorded), rewind_pc = rip.
 * - #DB: instruction breakpoints are faults (pc = the breakpoint), data
 *   breakpoints and single steps are traps (pc = the next instruction).
 * Only reinjecting a guest's INT3 on kvm_pvm moves rip, to the INT3 + 1.
 * kvmdbg's guests use flat segments, so the linear pc equals rip.
 *
 * Resuming from a stop whose step_over is not 0: where RF is honoured, set
 * RFLAGS.RF; with host.rf_ignored, run one internal step (step_from = rip,
 * those slots in hw_suppressed), then restore them and continue. INTERNAL
 * RESTEP asks for the same when a step made no progress.
 *
 * Classify one exit. Precedence, first match wins:
 *
 * KVM_EXIT_DEBUG, exception 3 (#BP), pc = the INT3 on VMX and SVM:
 *   our INT3 at pc -> DEBUGGER SWBREAK; else the guest's own -> REINJECT 3
 *   with rip unchanged (KVM adds the INT3's length when it injects).
 * KVM_EXIT_DEBUG, exception 1 (#DB); owned = DR6 B bits of enabled,
 * unsuppressed slots, exec slots counting only when their address is pc:
 *   1. an owned data slot -> DEBUGGER WATCH_* at the lowest such slot's
 *      address, even when BS is set too (the stepped instruction wrote it);
 *   2. an owned exec slot, stepping (either kind), no BS, pc == step_from
 *      -> INTERNAL RESTEP (the breakpoint we are resuming from re-fired);
 *   3. BS while the debugger steps -> DEBUGGER STEP at pc, even onto a
 *      breakpoint (sw_bp_here / step_over tell the integrator);
 *   4. an owned exec slot -> DEBUGGER HWBREAK at pc (also while stepping
 *      without BS: the fault preceded the instruction);
 *   5. BS while kvmdbg steps over a breakpoint: landing on our INT3 ->
 *      DEBUGGER SWBREAK; on an enabled exec slot -> DEBUGGER HWBREAK (a
 *      continue would hit it at once); else INTERNAL CONTINUE;
 *   6. anything else (the guest's TF, ICEBP, BD, BT, B bits of slots not
 *      ours) -> REINJECT 1, rip unchanged.
 *   Other exception numbers -> NOT_DEBUG.
 * KVM_EXIT_INTERNAL_ERROR, emulation suberror, rip = the instruction:
 *   first fetched byte 0xCC and our INT3 at rip -> DEBUGGER SWBREAK, rip
 *   unchanged; without instruction bytes, the same when the host is known
 *   to report INT3 this way and our INT3 is at rip; first byte 0xCC not
 *   ours on such a host -> REINJECT 3 with rewind_pc = rip + 1 (measured
 *   on kvm_pvm: INJECT_BP pushes the current rip as the return address);
 *   anything else -> NOT_DEBUG.
 * Any other exit -> NOT_DEBUG.
 *
 * Returns 0, or -EINVAL for a NULL ex, ctx or out.
 */
int x86_classify(const struct x86_exit_record *ex,
		 const struct x86_classify_ctx *ctx, struct x86_verdict *out);

const char *x86_verdict_kind_name(enum x86_verdict_kind kind);
const char *x86_stop_reason_name(enum x86_stop_reason reason);

#endif
