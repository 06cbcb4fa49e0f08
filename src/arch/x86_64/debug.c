/* The debugger's view of an x86_64 vCPU: gdb-numbered registers served
 * from a per-vCPU cache that is filled on demand while the vCPU is parked
 * and written back before it runs. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "arch/arch.h"
#include "arch/x86_64/x86.h"
#include "arch/x86_64/classify.h"
#include "arch/x86_64/dbgregs.h"
#include "bp/hw.h"
#include "vmm/vmm_internal.h"

/* Synced registers, once per process compared with what the ioctls
 * return: a host whose copies differ is not trusted with them again. */
static int sync_trust; /* 0 untested, 1 trusted, -1 not */

static bool sync_matches(struct vcpu *v, const struct kvm_sync_regs *sr)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (kvm_ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
	    kvm_ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	if (memcmp(&regs, &sr->regs, sizeof(regs)) != 0) {
		log_warn("KVM's synced registers differ from KVM_GET_REGS "
			 "(rip %#llx against %#llx); not using them",
			 (unsigned long long)sr->regs.rip,
			 (unsigned long long)regs.rip);
		return false;
	}
	if (memcmp(&sregs, &sr->sregs, sizeof(sregs)) != 0) {
		log_warn("KVM's synced special registers differ from "
			 "KVM_GET_SREGS; not using them");
		return false;
	}
	return true;
}

/* The registers KVM stored in the run structure at this vCPU's last exit
 * are its own and may be used: the first use compares them with the
 * ioctls' answer once for the process. */
static bool synced_usable(struct vcpu *v)
{
	int trust = __atomic_load_n(&sync_trust, __ATOMIC_RELAXED);

	if (!v->regs_synced || !v->run->kvm_valid_regs || trust < 0)
		return false;
	if (trust == 0) {
		trust = sync_matches(v, &v->run->s.regs) ? 1 : -1;
		__atomic_store_n(&sync_trust, trust, __ATOMIC_RELAXED);
	}
	return trust > 0;
}

/* Fill regs and sregs from the run structure (KVM_CAP_SYNC_REGS):
 * no ioctl per stop for them. */
static void load_synced(struct vcpu *v, struct x86_cpu_state *s,
			uint64_t parts)
{
	const struct kvm_sync_regs *sr = &v->run->s.regs;
	uint64_t need = parts & ~s->valid &
			(X86_STATE_REGS | X86_STATE_SREGS);

	if (!need || !synced_usable(v))
		return;
	if (need & X86_STATE_REGS)
		s->regs = sr->regs;
	if (need & X86_STATE_SREGS)
		s->sregs = sr->sregs;
	s->valid |= need;
}

struct x86_cpu_state *x86_vcpu_state(struct vcpu *v, uint64_t parts)
{
	struct x86_cpu_state *s = v->arch_state;

	if (!s)
		return NULL;
	load_synced(v, s, parts);
	if (x86_state_load(v->fd, s, parts) < 0)
		return NULL;
	return s;
}

unsigned x86_gdb_expedited(unsigned *regnos, unsigned max)
{
	/* The pc must come first: the session takes the first expedited
	 * register as the pc (rsp_target_ops: "pc, sp, fp"), e.g. for lldb's
	 * thread-pcs, which carried rbp while rbp was listed first. */
	static const unsigned exp[] = { X86_GDB_RIP, X86_GDB_RSP, X86_GDB_RBP };
	unsigned n = max < 3 ? max : 3;

	memcpy(regnos, exp, n * sizeof(exp[0]));
	return n;
}

int x86_vcpu_read_reg(struct vcpu *v, unsigned regno, uint8_t *buf)
{
	struct x86_cpu_state *s;

	if (regno >= x86_gdb_nr_regs())
		return -EINVAL;
	s = x86_vcpu_state(v, x86_gdb_reg_parts(regno));
	if (!s)
		return -EIO;
	return x86_gdb_read_reg(s, regno, buf);
}

int x86_vcpu_write_reg(struct vcpu *v, unsigned regno, const uint8_t *buf)
{
	struct x86_cpu_state *s;

	if (regno >= x86_gdb_nr_regs())
		return -EINVAL;
	s = x86_vcpu_state(v, x86_gdb_reg_parts(regno));
	if (!s)
		return -EIO;
	return x86_gdb_write_reg(s, regno, buf);
}

int x86_vcpu_get_pc(struct vcpu *v, uint64_t *pc)
{
	struct x86_cpu_state *s = x86_vcpu_state(v, X86_STATE_REGS);

	if (!s)
		return -EIO;
	*pc = s->regs.rip;
	return 0;
}

int x86_vcpu_state_flush(struct vcpu *v)
{
	struct x86_cpu_state *s = v->arch_state;

	if (!s)
		return 0;
	/* Registers set by ioctl make the synced copy stale. */
	if (s->dirty & (X86_STATE_REGS | X86_STATE_SREGS))
		v->regs_synced = false;
	return x86_state_flush(v->fd, s);
}

void x86_vcpu_state_invalidate(struct vcpu *v)
{
	if (v->arch_state)
		x86_state_invalidate(v->arch_state);
}

/* Breakpoints: the generic slot table and verdicts mapped onto DR0-DR7,
 * KVM_SET_GUEST_DEBUG and the x86 classifier. */

const uint8_t x86_sw_trap[1] = { 0xcc };

static enum x86_hw_type hw_type(int t)
{
	return t == BP_HW_EXEC ? X86_HW_EXEC
	     : t == BP_HW_WRITE ? X86_HW_WRITE
				: X86_HW_ACCESS;
}

bool x86_bank_fits(void *ctx, int type, uint64_t addr, uint64_t len)
{
	(void)ctx;
	if (type == BP_HW_READ || len > 8)
		return false;
	return x86_hw_fits(hw_type(type), addr, (unsigned)len);
}

static void to_x86_slots(const struct bp_hw_slot *slots, unsigned n,
			 uint64_t suppressed,
			 struct x86_hw_slot out[X86_NR_HW_SLOTS])
{
	memset(out, 0, sizeof(struct x86_hw_slot) * X86_NR_HW_SLOTS);
	for (unsigned i = 0; i < n && i < X86_NR_HW_SLOTS; i++) {
		if (!slots[i].used || (suppressed & (1ULL << i)))
			continue;
		out[i] = (struct x86_hw_slot){
			.enabled = true,
			.type = hw_type(slots[i].type),
			.addr = slots[i].addr,
			.len = (unsigned)slots[i].len,
		};
	}
}

int x86_vcpu_set_debug(struct vcpu *v, const struct arch_debug *dbg)
{
	struct x86_hw_slot slots[X86_NR_HW_SLOTS];
	struct x86_dbg_flags f = {
		.stepping = dbg->single_step,
		.blockirq = dbg->block_irq,
		.sw_bp = dbg->use_sw_bp,
		.inject = dbg->inject,
	};
	struct kvm_guest_debug gd;
	struct x86_cpu_state *st;
	long ret;
	int r;

	to_x86_slots(dbg->slots, dbg->nr_slots, dbg->suppressed, slots);
	r = x86_dbg_encode(slots, &f, &gd);
	if (r < 0)
		return r;
	/* Registers the debugger changed go to KVM first: KVM keeps TF set
	 * for a single-step only while rip is where it was at
	 * KVM_SET_GUEST_DEBUG, so a step after `set $pc` would run free. */
	r = x86_vcpu_state_flush(v);
	if (r < 0)
		return r;
	/* The same settings again need no ioctl, unless they step (KVM
	 * re-arms TF for the current rip only in KVM_SET_GUEST_DEBUG) or
	 * inject (a one-shot). */
	st = v->arch_state;
	if (st && st->debug_applied &&
	    !(gd.control & (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_INJECT_BP |
			    KVM_GUESTDBG_INJECT_DB)) &&
	    memcmp(&gd, &st->applied_debug, sizeof(gd)) == 0)
		return 0;
	ret = kvm_ioctl(v->fd, KVM_SET_GUEST_DEBUG, &gd);
	if (st) {
		st->debug_applied = ret >= 0;
		st->applied_debug = gd;
	}
	return ret < 0 ? (int)ret : 0;
}

int x86_vcpu_set_pc(struct vcpu *v, uint64_t pc)
{
	struct x86_cpu_state *s = x86_vcpu_state(v, X86_STATE_REGS);

	if (!s)
		return -EIO;
	if (s->regs.rip != pc) {
		s->regs.rip = pc;
		s->dirty |= X86_STATE_REGS;
	}
	return 0;
}

static enum arch_stop_reason stop_reason(enum x86_stop_reason r)
{
	switch (r) {
	case X86_STOP_SWBREAK:
		return ARCH_STOP_SWBREAK;
	case X86_STOP_HWBREAK:
		return ARCH_STOP_HWBREAK;
	case X86_STOP_WATCH_WRITE:
		return ARCH_STOP_WATCH_WRITE;
	case X86_STOP_WATCH_ACCESS:
		return ARCH_STOP_WATCH_ACCESS;
	case X86_STOP_STEP:
		return ARCH_STOP_STEP;
	case X86_STOP_NONE:
	default:
		return ARCH_STOP_NONE;
	}
}

int x86_vcpu_classify(struct vcpu *v, const struct vmm_event *ev,
		      const struct arch_classify_ctx *ctx,
		      struct arch_verdict *out)
{
	struct x86_cpu_state *s = x86_vcpu_state(v, X86_STATE_REGS);
	struct x86_classify_ctx xc;
	struct x86_exit_record rec;
	struct x86_verdict xv;
	static __thread struct kvm_run run;
	int ret;

	if (!s)
		return -EIO;
	/* The exit as KVM wrote it: the reason and the union after it. */
	memset(&run, 0, sizeof(run));
	run.exit_reason = ev->exit_reason;
	memcpy(run.padding, ev->exit_info, sizeof(ev->exit_info));
	ret = x86_exit_record_from_run(&run, s->regs.rip, &rec);
	if (ret < 0)
		return ret;
	memset(&xc, 0, sizeof(xc));
	xc.sw_bp_at = ctx->sw_bp_at;
	xc.opaque = ctx->opaque;
	to_x86_slots(ctx->slots, ctx->nr_slots, 0, xc.hw);
	xc.hw_suppressed = (uint8_t)ctx->suppressed;
	xc.stepping = ctx->stepping;
	xc.internal_step = ctx->internal_step;
	xc.step_from = ctx->step_from;
	xc.host.int3_exits_as_emulation_failure =
		ctx->trap_is_emulation_failure;
	xc.host.rf_ignored = ctx->rf_ignored;
	xc.host.dr_data_works = ctx->dr_data_works;
	ret = x86_classify(&rec, &xc, &xv);
	if (ret < 0)
		return ret;
	memset(out, 0, sizeof(*out));
	switch (xv.kind) {
	case X86_VERDICT_DEBUGGER:
		out->kind = ARCH_VERDICT_DEBUGGER;
		break;
	case X86_VERDICT_REINJECT:
		out->kind = ARCH_VERDICT_REINJECT;
		break;
	case X86_VERDICT_INTERNAL:
		out->kind = ARCH_VERDICT_INTERNAL;
		break;
	case X86_VERDICT_NOT_DEBUG:
	default:
		out->kind = ARCH_VERDICT_NOT_DEBUG;
		break;
	}
	out->reason = stop_reason(xv.reason);
	out->internal = xv.internal == X86_INTERNAL_CONTINUE ? ARCH_INTERNAL_CONTINUE
		      : xv.internal == X86_INTERNAL_RESTEP   ? ARCH_INTERNAL_RESTEP
							     : ARCH_INTERNAL_NONE;
	out->addr = xv.addr;
	out->vector = xv.vector;
	out->set_pc = xv.set_pc;
	out->rewind_pc = xv.rewind_pc;
	return 0;
}

/* A step of HLT completes at once, as when a pending interrupt wakes it:
 * the interrupt stays pending and arrives once the guest runs freely.
 * Stepping HLT in the guest instead can leave the vCPU unable to take
 * interrupts on some hosts (kvm_pvm), which hangs the guest. */
bool x86_vcpu_step_on(struct vcpu *v, const struct vmm_step_range *r)
{
	const struct kvm_run *run = v->run;
	const struct x86_cpu_state *st = v->arch_state;
	uint64_t dr6 = run->debug.arch.dr6, rip;
	struct kvm_guest_debug gd;
	struct kvm_regs regs;

	/* The single-step trap alone: no breakpoint or watchpoint bit. */
	if (run->debug.arch.exception != 1 || !(dr6 & X86_DR6_BS) ||
	    (dr6 & X86_DR6_B_MASK))
		return false;
	if (!st || !st->debug_applied ||
	    (st->applied_debug.control &
	     (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_INJECT_BP |
	      KVM_GUESTDBG_INJECT_DB)) != KVM_GUESTDBG_SINGLESTEP)
		return false;
	if (v->regs_synced && run->kvm_valid_regs &&
	    __atomic_load_n(&sync_trust, __ATOMIC_RELAXED) > 0) {
		rip = run->s.regs.regs.rip;
	} else {
		if (kvm_ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
			return false;
		rip = regs.rip;
	}
	if (rip < r->start || rip >= r->end)
		return false;
	for (unsigned i = 0; i < r->nr_skip; i++)
		if (rip == r->skip[i])
			return false;
	/* KVM arms TF for the rip current at KVM_SET_GUEST_DEBUG. */
	gd = st->applied_debug;
	return kvm_ioctl(v->fd, KVM_SET_GUEST_DEBUG, &gd) >= 0;
}

int x86_vcpu_emulate_step(struct vcpu *v)
{
	struct x86_cpu_state *s = x86_vcpu_state(v, X86_STATE_REGS);
	uint64_t gpa, left;
	uint8_t insn;

	if (!s)
		return -EIO;
	if (arch_host.translate(v, s->regs.rip, &gpa, &left) < 0 ||
	    vmm_read_phys(v->vm, gpa, &insn, 1) < 0 || insn != 0xf4)
		return 0;
	s->regs.rip += 1;
	s->dirty |= X86_STATE_REGS;
	return 1;
}
