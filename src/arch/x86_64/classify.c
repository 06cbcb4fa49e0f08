/* The x86 debug-exit classifier: KVM_EXIT_DEBUG and INT3 emulation failures
 * to debugger events, reinjections or kvmdbg's own step-overs. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/classify.h"

/* kvm_run.emulation_failure overlays kvm_run.internal: flags is data[0],
 * insn_size and insn_bytes[15] are data[1] and data[2] (uapi kvm.h). */
#define EMUL_INSN_NDATA 3

int x86_exit_record_from_run(const struct kvm_run *run, uint64_t rip,
			     struct x86_exit_record *out)
{
	if (!run || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->exit_reason = run->exit_reason;
	out->rip = rip;
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		out->debug.exception = run->debug.arch.exception;
		out->debug.pc = run->debug.arch.pc;
		out->debug.dr6 = run->debug.arch.dr6;
		out->debug.dr7 = run->debug.arch.dr7;
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		uint32_t n = run->internal.ndata;

		/* ndata comes from whatever KVM implementation is below us:
		 * never index past the array with it. */
		if (n > X86_INTERNAL_NDATA)
			n = X86_INTERNAL_NDATA;
		out->internal.suberror = run->internal.suberror;
		out->internal.ndata = n;
		for (uint32_t i = 0; i < n; i++)
			out->internal.data[i] = run->internal.data[i];
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    n >= EMUL_INSN_NDATA &&
		    (run->emulation_failure.flags &
		     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
			uint8_t size = run->emulation_failure.insn_size;

			if (size > X86_INSN_MAX)
				size = X86_INSN_MAX;
			out->internal.has_insn = true;
			out->internal.insn_size = size;
			memcpy(out->internal.insn_bytes,
			       run->emulation_failure.insn_bytes, size);
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

static bool sw_bp_at(const struct x86_classify_ctx *ctx, uint64_t pc)
{
	return ctx->sw_bp_at && ctx->sw_bp_at(ctx->opaque, pc);
}

/* Enabled exec slots at pc, suppressed or not. */
static uint8_t exec_slots_at(const struct x86_classify_ctx *ctx, uint64_t pc)
{
	uint8_t mask = 0;

	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++) {
		const struct x86_hw_slot *s = &ctx->hw[n];

		if (s->enabled && s->type == X86_HW_EXEC && s->addr == pc)
			mask |= (uint8_t)(1u << n);
	}
	return mask;
}

static void debugger(struct x86_verdict *out, enum x86_stop_reason reason,
		     uint64_t addr)
{
	out->kind = X86_VERDICT_DEBUGGER;
	out->reason = reason;
	out->addr = addr;
}

static void reinject(struct x86_verdict *out, unsigned vector)
{
	out->kind = X86_VERDICT_REINJECT;
	out->vector = vector;
}

static void internal(struct x86_verdict *out, enum x86_internal_action act)
{
	out->kind = X86_VERDICT_INTERNAL;
	out->internal = act;
}

static int lowest_slot(uint8_t mask)
{
	for (int n = 0; n < X86_NR_HW_SLOTS; n++)
		if (mask & (1u << n))
			return n;
	return -1;
}

/*
 * #BP. VMX (handle_exception_nmi) and SVM (bp_interception) both report the
 * linear address of the INT3 itself in debug.arch.pc and leave rip on it;
 * the KVM selftest debug_regs checks pc == the int3 and then skips one
 * byte. So the stop pc needs no rewinding for gdb's swbreak, and a
 * reinjected #BP keeps rip on the INT3: KVM injects BP_VECTOR as a software
 * exception with the length it saved at the exit (VMX event_exit_inst_len)
 * or by skipping the instruction (SVM without NRIPS). Recorded on SVM: the
 * guest's handler saw INT3 + 1 with rip left alone, and rip moved past the
 * INT3 beforehand made KVM skip a second instruction.
 */
static void classify_bp(const struct x86_exit_record *ex,
			const struct x86_classify_ctx *ctx,
			struct x86_verdict *out)
{
	uint64_t pc = ex->debug.pc;

	if (sw_bp_at(ctx, pc)) {
		debugger(out, X86_STOP_SWBREAK, pc);
		out->sw_bp_here = true;
		out->step_over = exec_slots_at(ctx, pc);
		return;
	}
	reinject(out, 3);
}

static void classify_db(const struct x86_exit_record *ex,
			const struct x86_classify_ctx *ctx,
			struct x86_verdict *out)
{
	uint64_t pc = ex->debug.pc;
	bool stepping = ctx->stepping || ctx->internal_step;
	uint8_t owned_data = 0, owned_exec = 0;
	struct x86_dr6 dr6;

	x86_dr6_decode(ex->debug.dr6, &dr6);
	/* The SDM allows B bits for breakpoints DR7 does not enable, so only
	 * the bits of slots we programmed for this run count as ours. */
	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++) {
		const struct x86_hw_slot *s = &ctx->hw[n];
		uint8_t bit = (uint8_t)(1u << n);

		if (!(dr6.hits & bit) || !s->enabled ||
		    (ctx->hw_suppressed & bit))
			continue;
		if (s->type != X86_HW_EXEC)
			owned_data |= bit;
		else if (s->addr == pc)
			/* An instruction breakpoint is a fault on the
			 * instruction it names: anywhere else the bit is
			 * stale. */
			owned_exec |= bit;
	}

	if (owned_data) {
		const struct x86_hw_slot *s = &ctx->hw[lowest_slot(owned_data)];

		/* Data breakpoints are traps: rip is already past the
		 * access, which is where gdb expects the stop. */
		debugger(out,
			 s->type == X86_HW_WRITE ? X86_STOP_WATCH_WRITE
						 : X86_STOP_WATCH_ACCESS,
			 s->addr);
		out->slots = owned_data;
		out->step_over = exec_slots_at(ctx, pc);
		out->sw_bp_here = sw_bp_at(ctx, pc);
		return;
	}
	if (owned_exec && stepping && !dr6.bs && pc == ctx->step_from) {
		internal(out, X86_INTERNAL_RESTEP);
		out->step_over = owned_exec;
		return;
	}
	if (dr6.bs && ctx->stepping) {
		debugger(out, X86_STOP_STEP, pc);
		out->step_over = exec_slots_at(ctx, pc);
		out->sw_bp_here = sw_bp_at(ctx, pc);
		return;
	}
	if (owned_exec) {
		debugger(out, X86_STOP_HWBREAK, pc);
		out->slots = owned_exec;
		out->step_over = exec_slots_at(ctx, pc);
		out->sw_bp_here = sw_bp_at(ctx, pc);
		return;
	}
	if (dr6.bs && ctx->internal_step) {
		/* The step-over is done. Landing on another breakpoint means a
		 * continue would stop there before running anything: report
		 * it now, on every host alike. */
		uint8_t exec = exec_slots_at(ctx, pc);

		if (sw_bp_at(ctx, pc)) {
			debugger(out, X86_STOP_SWBREAK, pc);
			out->sw_bp_here = true;
			out->step_over = exec;
		} else if (exec) {
			debugger(out, X86_STOP_HWBREAK, pc);
			out->slots = exec;
			out->step_over = exec;
		} else {
			internal(out, X86_INTERNAL_CONTINUE);
		}
		return;
	}
	reinject(out, 1);
}

/*
 * An emulation failure. kvm_pvm reports a CPL0 INT3 this way, with rip on
 * the INT3 and the fetched bytes (measured: ndata 8, flags 1, insn_size 15,
 * rip = the INT3). A guest's own INT3 can still reach the guest through
 * KVM_GUESTDBG_INJECT_BP, but kvm_pvm then pushes the current rip as the
 * return address (measured), so rip must move past the INT3 first.
 */
static void classify_internal(const struct x86_exit_record *ex,
			      const struct x86_classify_ctx *ctx,
			      struct x86_verdict *out)
{
	uint64_t rip = ex->rip;
	bool int3;

	if (ex->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
		return;
	if (ex->internal.has_insn) {
		int3 = ex->internal.insn_size >= 1 &&
		       ex->internal.insn_bytes[0] == X86_INT3;
	} else {
		/* No bytes (older kernels, or a host that leaves them out):
		 * rip names the failing instruction, so our INT3 there is
		 * the instruction, on a host known to fail on INT3. */
		int3 = ctx->host.int3_exits_as_emulation_failure &&
		       sw_bp_at(ctx, rip);
	}
	if (!int3)
		return;
	if (sw_bp_at(ctx, rip)) {
		debugger(out, X86_STOP_SWBREAK, rip);
		out->sw_bp_here = true;
		out->step_over = exec_slots_at(ctx, rip);
		return;
	}
	if (ctx->host.int3_exits_as_emulation_failure) {
		reinject(out, 3);
		out->rewind_pc = rip + 1;
		out->set_pc = true;
	}
}

int x86_classify(const struct x86_exit_record *ex,
		 const struct x86_classify_ctx *ctx, struct x86_verdict *out)
{
	if (!ex || !ctx || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->kind = X86_VERDICT_NOT_DEBUG;
	out->rewind_pc = ex->rip;
	switch (ex->exit_reason) {
	case KVM_EXIT_DEBUG:
		if (ex->debug.exception == 3)
			classify_bp(ex, ctx, out);
		else if (ex->debug.exception == 1)
			classify_db(ex, ctx, out);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		classify_internal(ex, ctx, out);
		break;
	default:
		break;
	}
	return 0;
}

const char *x86_verdict_kind_name(enum x86_verdict_kind kind)
{
	static const char *const names[] = {
	    [X86_VERDICT_NOT_DEBUG] = "not-debug",
	    [X86_VERDICT_DEBUGGER] = "debugger",
	    [X86_VERDICT_REINJECT] = "reinject",
	    [X86_VERDICT_INTERNAL] = "internal",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == 4,
		       "one name per verdict kind");

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[kind];
}

const char *x86_stop_reason_name(enum x86_stop_reason reason)
{
	static const char *const names[] = {
	    [X86_STOP_NONE] = "none",
	    [X86_STOP_SWBREAK] = "swbreak",
	    [X86_STOP_HWBREAK] = "hwbreak",
	    [X86_STOP_WATCH_WRITE] = "watch",
	    [X86_STOP_WATCH_ACCESS] = "awatch",
	    [X86_STOP_STEP] = "step",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == 6,
		       "one name per stop reason");

	if ((unsigned)reason >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[reason];
}
