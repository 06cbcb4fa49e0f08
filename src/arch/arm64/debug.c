/* The debugger's view of an arm64 vCPU: gdb-numbered registers from the
 * ONE_REG cache, BRK software breakpoints, the generic slot table encoded
 * into DBGBCR/DBGBVR and DBGWCR/DBGWVR for KVM_SET_GUEST_DEBUG, and debug
 * exits classified by ESR. A BRK that is not kvmdbg's is delivered to the
 * guest by emulating the exception entry, since arm64 KVM has no flag to
 * inject one. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "arch/arch.h"
#include "arch/arm64/arm64.h"
#include "arch/arm64/ldst.h"
#include "bp/hw.h"
#include "vmm/vmm_internal.h"

_Static_assert(sizeof(struct kvm_guest_debug_arch) ==
		       sizeof(struct arm64_kvm_guest_debug_arch),
	       "the arm64 debug registers mirror KVM's");
_Static_assert(sizeof(struct kvm_debug_exit_arch) ==
		       sizeof(struct arm64_kvm_debug_exit_arch),
	       "the arm64 debug exit mirrors KVM's");

unsigned arm64_host_bps, arm64_host_wps;

/* BRK #0, little-endian. */
const uint8_t arm64_sw_trap[4] = { 0x00, 0x00, 0x20, 0xd4 };

static int one_reg_get(void *ctx, uint64_t id, void *val)
{
	struct vcpu *v = ctx;
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };
	long ret = kvm_ioctl(v->fd, KVM_GET_ONE_REG, &r);

	return ret < 0 ? (int)ret : 0;
}

static int one_reg_set(void *ctx, uint64_t id, const void *val)
{
	struct vcpu *v = ctx;
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };
	long ret = kvm_ioctl(v->fd, KVM_SET_ONE_REG, &r);

	return ret < 0 ? (int)ret : 0;
}

static struct arm64_reg_io reg_io(struct vcpu *v)
{
	return (struct arm64_reg_io){ one_reg_get, one_reg_set, v };
}

struct arm64_cpu_state *arm64_vcpu_regs(struct vcpu *v, unsigned regno)
{
	struct arm64_vcpu *a = v->arch_state;
	struct arm64_reg_io io = reg_io(v);

	if (!a)
		return NULL;
	if (regno < ARM64_GDB_NR_REGS &&
	    arm64_state_load_reg(&io, &a->regs, regno) < 0)
		return NULL;
	return &a->regs;
}

int arm64_vcpu_load_parts(struct vcpu *v, unsigned parts)
{
	struct arm64_vcpu *a = v->arch_state;
	struct arm64_reg_io io = reg_io(v);

	return a ? arm64_state_load(&io, &a->regs, parts) : -EIO;
}

unsigned arm64_gdb_expedited(unsigned *regnos, unsigned max)
{
	/* pc first: the session takes the first expedited register as the
	 * pc. */
	static const unsigned exp[] = { ARM64_GDB_PC, ARM64_GDB_SP,
					ARM64_GDB_X29 };
	unsigned n = max < 3 ? max : 3;

	memcpy(regnos, exp, n * sizeof(exp[0]));
	return n;
}

int arm64_vcpu_read_reg(struct vcpu *v, unsigned regno, uint8_t *buf)
{
	struct arm64_cpu_state *s;

	if (regno >= ARM64_GDB_NR_REGS)
		return -EINVAL;
	s = arm64_vcpu_regs(v, regno);
	if (!s)
		return -EIO;
	return arm64_gdb_read_reg(s, regno, buf);
}

int arm64_vcpu_write_reg(struct vcpu *v, unsigned regno, const uint8_t *buf)
{
	struct arm64_cpu_state *s;

	if (regno >= ARM64_GDB_NR_REGS)
		return -EINVAL;
	s = arm64_vcpu_regs(v, regno);
	if (!s)
		return -EIO;
	return arm64_gdb_write_reg(s, regno, buf);
}

int arm64_vcpu_get_pc(struct vcpu *v, uint64_t *pc)
{
	struct arm64_cpu_state *s = arm64_vcpu_regs(v, ARM64_GDB_PC);

	if (!s)
		return -EIO;
	*pc = arm64_reg_get(s, ARM64_GDB_PC);
	return 0;
}

int arm64_vcpu_set_pc(struct vcpu *v, uint64_t pc)
{
	struct arm64_cpu_state *s = arm64_vcpu_regs(v, ARM64_GDB_PC);

	if (!s)
		return -EIO;
	arm64_reg_set(s, ARM64_GDB_PC, pc);
	return 0;
}

int arm64_vcpu_state_flush(struct vcpu *v)
{
	struct arm64_vcpu *a = v->arch_state;
	struct arm64_reg_io io = reg_io(v);

	return a ? arm64_state_flush(&io, &a->regs) : 0;
}

void arm64_vcpu_state_invalidate(struct vcpu *v)
{
	struct arm64_vcpu *a = v->arch_state;

	if (a)
		arm64_state_invalidate(&a->regs);
}

/* ---- Breakpoints and watchpoints --------------------------------------- */

bool arm64_bank_fits(void *ctx, int type, uint64_t addr, uint64_t len)
{
	(void)ctx;
	if (type == BP_HW_EXEC)
		return len == 1 || len == 4 ? !(addr & 3) : false;
	return arm64_wp_fits(addr, len);
}

static enum arm64_wp_type wp_type(enum bp_hw_type t)
{
	switch (t) {
	case BP_HW_WRITE:
		return ARM64_WP_WRITE;
	case BP_HW_READ:
		return ARM64_WP_READ;
	default:
		return ARM64_WP_ACCESS;
	}
}

int arm64_vcpu_set_debug(struct vcpu *v, const struct arch_debug *dbg)
{
	struct arm64_vcpu *a = v->arch_state;
	struct kvm_guest_debug gd;
	struct arm64_kvm_guest_debug_arch hw;
	unsigned nb = 0, nw = 0;
	long ret;

	if (!a)
		return -EIO;
	memset(&gd, 0, sizeof(gd));
	memset(&hw, 0, sizeof(hw));
	for (unsigned i = 0; i < dbg->nr_slots; i++) {
		const struct bp_hw_slot *s = &dbg->slots[i];
		int r;

		if (!s->used || (i < 64 && (dbg->suppressed >> i) & 1))
			continue;
		if (s->type == BP_HW_EXEC) {
			if (nb >= arm64_host_bps)
				return -ENOSPC;
			r = arm64_bp_encode(s->addr, &hw.dbg_bcr[nb],
					    &hw.dbg_bvr[nb]);
			nb++;
		} else {
			if (nw >= arm64_host_wps)
				return -ENOSPC;
			r = arm64_wp_encode(wp_type(s->type), s->addr, s->len,
					    &hw.dbg_wcr[nw], &hw.dbg_wvr[nw]);
			nw++;
		}
		if (r < 0)
			return r;
	}
	if (dbg->single_step)
		gd.control |= KVM_GUESTDBG_SINGLESTEP;
	if (dbg->use_sw_bp)
		gd.control |= KVM_GUESTDBG_USE_SW_BP;
	if (nb || nw)
		gd.control |= KVM_GUESTDBG_USE_HW;
	if (gd.control)
		gd.control |= KVM_GUESTDBG_ENABLE;
	memcpy(&gd.arch, &hw, sizeof(hw));
	ret = kvm_ioctl(v->fd, KVM_SET_GUEST_DEBUG, &gd);
	if (ret < 0)
		return (int)ret;
	a->hw = hw;
	a->hw_in_use = nb || nw;
	a->single_step = dbg->single_step;
	return 0;
}

static bool sw_bp_at(const void *opaque, uint64_t pc)
{
	const struct arch_classify_ctx *ctx = opaque;

	return ctx->sw_bp_at && ctx->sw_bp_at(ctx->opaque, pc);
}

static const enum arch_stop_reason reasons[] = {
	[ARM64_REASON_NONE] = ARCH_STOP_NONE,
	[ARM64_REASON_SWBREAK] = ARCH_STOP_SWBREAK,
	[ARM64_REASON_HWBREAK] = ARCH_STOP_HWBREAK,
	[ARM64_REASON_WATCH_WRITE] = ARCH_STOP_WATCH_WRITE,
	[ARM64_REASON_WATCH_READ] = ARCH_STOP_WATCH_READ,
	[ARM64_REASON_WATCH_ACCESS] = ARCH_STOP_WATCH_ACCESS,
	[ARM64_REASON_STEP] = ARCH_STOP_STEP,
};

/* Deliver the guest's own debug exception: registers as the architecture's
 * exception entry leaves them, in the cache, written back before it runs. */
static int deliver(struct vcpu *v, const struct arm64_verdict *av,
		   uint64_t pc)
{
	struct arm64_cpu_state *s;
	struct arm64_cpu_in in;
	struct arm64_cpu_out out;
	int ret;

	if (arm64_vcpu_load_parts(v, ARM64_PART_CORE | ARM64_PART_SYS) < 0)
		return -EIO;
	s = arm64_vcpu_regs(v, ARM64_GDB_NR_REGS);
	memset(&in, 0, sizeof(in));
	in.pstate = arm64_reg_get(s, ARM64_GDB_CPSR);
	in.pc = pc;
	in.vbar_el1 = arm64_reg_get(s, ARM64_GDB_VBAR_EL1);
	in.sctlr_el1 = arm64_reg_get(s, ARM64_GDB_SCTLR_EL1);
	in.far_el1 = arm64_reg_get(s, ARM64_GDB_FAR_EL1);
	if (ARM64_ESR_EC(av->esr) == ARM64_EC_BRK64) {
		in.brk_imm = ARM64_ISS_BRK_IMM(av->esr);
		ret = arm64_emulate_brk_entry(&in, &out);
	} else {
		ret = arm64_emulate_sync_entry(&in, av->esr, av->far_valid,
					       av->far, &out);
	}
	if (ret < 0)
		return ret;
	arm64_reg_set(s, ARM64_GDB_CPSR, out.pstate);
	arm64_reg_set(s, ARM64_GDB_PC, out.pc);
	arm64_reg_set(s, ARM64_GDB_ESR_EL1, out.esr_el1);
	arm64_reg_set(s, ARM64_GDB_ELR_EL1, out.elr_el1);
	arm64_reg_set(s, ARM64_GDB_SPSR_EL1, out.spsr_el1);
	arm64_reg_set(s, ARM64_GDB_FAR_EL1, out.far_el1);
	return 0;
}

/* Is there still a BRK at pc? A vCPU that hit one of kvmdbg's breakpoints
 * and stayed parked with the event while the debugger removed it finds the
 * guest's own instruction there again. */
static bool brk_at(struct vcpu *v, uint64_t pc)
{
	uint8_t b[4];

	if (vmm_read_virt(v->vm, v->idx, pc, b, sizeof(b)) < 0)
		return true;
	return arm64_brk_imm(arm64_insn_from_bytes(b), NULL);
}

int arm64_vcpu_classify(struct vcpu *v, const struct vmm_event *ev,
			const struct arch_classify_ctx *ctx,
			struct arch_verdict *out)
{
	struct arm64_vcpu *a = v->arch_state;
	struct arm64_kvm_debug_exit_arch x;
	struct arm64_debug_ctx actx;
	struct arm64_verdict av;
	uint64_t pc, esr;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!a || ev->exit_reason != KVM_EXIT_DEBUG) {
		out->kind = ARCH_VERDICT_NOT_DEBUG;
		return 0;
	}
	ret = arm64_vcpu_get_pc(v, &pc);
	if (ret < 0)
		return ret;
	memcpy(&x, ev->exit_info, sizeof(x));
	/* ESR_EL2[63:32] carries nothing a debug exit needs. */
	esr = arm64_exit_esr(&x, false);
	actx = (struct arm64_debug_ctx){
		.hw = a->hw_in_use ? &a->hw : NULL,
		.single_step = a->single_step,
		.sw_bp_at = sw_bp_at,
		.opaque = ctx,
	};
	av = arm64_classify(esr, x.far, pc, &actx);
	switch (av.kind) {
	case ARM64_VERDICT_DEBUGGER:
		out->reason = reasons[av.reason];
		out->addr = av.addr;
		if (av.reason == ARM64_REASON_STEP && ctx->internal_step) {
			out->kind = ARCH_VERDICT_INTERNAL;
			out->internal = ARCH_INTERNAL_CONTINUE;
			return 0;
		}
		out->kind = ARCH_VERDICT_DEBUGGER;
		return 0;
	case ARM64_VERDICT_REINJECT:
		if (ARM64_ESR_EC(esr) == ARM64_EC_BRK64 && !brk_at(v, pc)) {
			out->kind = ARCH_VERDICT_INTERNAL;
			out->internal = ARCH_INTERNAL_NONE;
			return 0;
		}
		ret = deliver(v, &av, pc);
		if (ret < 0)
			return ret;
		out->kind = ARCH_VERDICT_REINJECT;
		out->vector = 0; /* delivered already */
		return 0;
	case ARM64_VERDICT_INTERNAL:
		out->kind = ARCH_VERDICT_INTERNAL;
		out->internal = ARCH_INTERNAL_CONTINUE;
		return 0;
	case ARM64_VERDICT_NOT_DEBUG:
	default:
		out->kind = ARCH_VERDICT_NOT_DEBUG;
		return 0;
	}
}

/* ESR_ELx.WnR: the abort was a write. */
#define ESR_WNR (1u << 6)

int arm64_vcpu_decode_abort(struct vcpu *v, uint64_t *gpa, unsigned *len,
			    bool *is_write)
{
	struct kvm_run *run = v->run;
	uint64_t pc;
	uint8_t b[4];
	int n = -1;

	*gpa = run->arm_nisv.fault_ipa;
	*is_write = (run->arm_nisv.esr_iss & ESR_WNR) != 0;
	if (arm64_vcpu_get_pc(v, &pc) == 0 &&
	    vmm_read_virt(v->vm, v->idx, pc, b, sizeof(b)) == 0)
		n = arm64_ldst_size(arm64_insn_from_bytes(b));
	*len = n > 0 ? (unsigned)n : 1;
	return 0;
}
