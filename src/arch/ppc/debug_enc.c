/* PowerPC Book E debug encodings and debug-exit classification, kept pure
 * so they are tested bit for bit on any host (see debug_enc.h). */
#include <errno.h>
#include <string.h>

#include "arch/ppc/debug_enc.h"

_Static_assert(sizeof(struct ppc_kvm_guest_debug_bp) == 16,
	       "bp[] entries are addr, type, reserved");
_Static_assert(sizeof(struct ppc_kvm_guest_debug_arch) == 16 * 16,
	       "kvm_guest_debug_arch is bp[16]");
_Static_assert(sizeof(struct ppc_kvm_debug_exit_arch) == 16,
	       "kvm_debug_exit_arch is address, status, reserved");

bool ppc_is_unconditional_trap(uint32_t insn)
{
	unsigned op = insn >> 26, to = (insn >> 21) & 0x1f;
	unsigned xo = (insn >> 1) & 0x3ff;

	if (to != 31)
		return false;
	/* tdi and twi are opcodes 2 and 3; td and tw are opcode 31 with
	 * extended opcodes 68 and 4. With TO = 31 each traps always. */
	if (op == 2 || op == 3)
		return true;
	return op == 31 && (xo == 4 || xo == 68) && !(insn & 1);
}

void ppc_insn_to_bytes(uint32_t insn, bool big_endian, uint8_t out[4])
{
	for (unsigned i = 0; i < 4; i++) {
		unsigned shift = big_endian ? 8 * (3 - i) : 8 * i;

		out[i] = (uint8_t)(insn >> shift);
	}
}

uint32_t ppc_insn_from_bytes(const uint8_t in[4], bool big_endian)
{
	uint32_t insn = 0;

	for (unsigned i = 0; i < 4; i++) {
		unsigned shift = big_endian ? 8 * (3 - i) : 8 * i;

		insn |= (uint32_t)in[i] << shift;
	}
	return insn;
}

void ppc_debug_init(struct ppc_booke_debug_regs *r)
{
	memset(r, 0, sizeof(*r));
}

/* IDM (internal debug mode) lets debug events raise the debug interrupt
 * KVM intercepts; it stays on while any compare is enabled. */
static void update_idm(struct ppc_booke_debug_regs *r)
{
	uint32_t any = PPC_DBCR0_ICMP;

	for (unsigned i = 0; i < PPC_NR_IAC; i++)
		any |= PPC_DBCR0_IAC(i);
	for (unsigned i = 0; i < PPC_NR_DAC; i++)
		any |= PPC_DBCR0_DACR(i) | PPC_DBCR0_DACW(i);
	if (r->dbcr0 & any)
		r->dbcr0 |= PPC_DBCR0_IDM;
	else
		r->dbcr0 &= ~PPC_DBCR0_IDM;
}

int ppc_iac_set(struct ppc_booke_debug_regs *r, unsigned idx, uint64_t addr)
{
	if (idx >= PPC_NR_IAC || (addr & 3))
		return -EINVAL;
	r->iac[idx] = addr;
	r->dbcr0 |= PPC_DBCR0_IAC(idx);
	update_idm(r);
	return 0;
}

void ppc_iac_clear(struct ppc_booke_debug_regs *r, unsigned idx)
{
	if (idx >= PPC_NR_IAC)
		return;
	r->iac[idx] = 0;
	r->dbcr0 &= ~PPC_DBCR0_IAC(idx);
	update_idm(r);
}

int ppc_dac_set(struct ppc_booke_debug_regs *r, unsigned idx,
		enum ppc_wp_type type, uint64_t addr)
{
	if (idx >= PPC_NR_DAC || (type != PPC_WP_READ && type != PPC_WP_WRITE &&
				  type != PPC_WP_ACCESS))
		return -EINVAL;
	r->dac[idx] = addr;
	r->dbcr0 &= ~(PPC_DBCR0_DACR(idx) | PPC_DBCR0_DACW(idx));
	if (type & PPC_WP_READ)
		r->dbcr0 |= PPC_DBCR0_DACR(idx);
	if (type & PPC_WP_WRITE)
		r->dbcr0 |= PPC_DBCR0_DACW(idx);
	update_idm(r);
	return 0;
}

void ppc_dac_clear(struct ppc_booke_debug_regs *r, unsigned idx)
{
	if (idx >= PPC_NR_DAC)
		return;
	r->dac[idx] = 0;
	r->dbcr0 &= ~(PPC_DBCR0_DACR(idx) | PPC_DBCR0_DACW(idx));
	update_idm(r);
}

enum ppc_wp_type ppc_dac_type(const struct ppc_booke_debug_regs *r,
			      unsigned idx)
{
	unsigned type = 0;

	if (idx >= PPC_NR_DAC)
		return (enum ppc_wp_type)0;
	if (r->dbcr0 & PPC_DBCR0_DACR(idx))
		type |= PPC_WP_READ;
	if (r->dbcr0 & PPC_DBCR0_DACW(idx))
		type |= PPC_WP_WRITE;
	return (enum ppc_wp_type)type;
}

int ppc_debug_to_kvm(const struct ppc_booke_debug_regs *r, unsigned nr_iac,
		     struct ppc_kvm_guest_debug_arch *out)
{
	unsigned n = 0, iacs = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < PPC_NR_IAC; i++) {
		if (!(r->dbcr0 & PPC_DBCR0_IAC(i)))
			continue;
		if (++iacs > nr_iac)
			return -ENOSPC;
		out->bp[n].addr = r->iac[i];
		out->bp[n++].type = PPC_KVM_DEBUG_BREAKPOINT;
	}
	for (unsigned i = 0; i < PPC_NR_DAC; i++) {
		enum ppc_wp_type t = ppc_dac_type(r, i);
		uint32_t type = 0;

		if (!t)
			continue;
		if (t & PPC_WP_READ)
			type |= PPC_KVM_DEBUG_WATCH_READ;
		if (t & PPC_WP_WRITE)
			type |= PPC_KVM_DEBUG_WATCH_WRITE;
		out->bp[n].addr = r->dac[i];
		out->bp[n++].type = type;
	}
	return 0;
}

static struct ppc_verdict verdict(enum ppc_verdict_kind kind,
				  enum ppc_stop_reason reason, uint64_t addr,
				  int slot)
{
	return (struct ppc_verdict){
	    .kind = kind, .reason = reason, .addr = addr, .slot = slot};
}

/* WATCH_ACCESS when the DAC watches both directions (gdb's awatch),
 * otherwise the direction the hardware reported. */
static enum ppc_stop_reason dac_reason(const struct ppc_booke_debug_regs *r,
				       int idx, bool write)
{
	if (r && idx >= 0 && ppc_dac_type(r, (unsigned)idx) == PPC_WP_ACCESS)
		return PPC_REASON_WATCH_ACCESS;
	return write ? PPC_REASON_WATCH_WRITE : PPC_REASON_WATCH_READ;
}

static struct ppc_verdict classify_trap(uint64_t pc,
					const struct ppc_debug_ctx *ctx)
{
	struct ppc_verdict v;

	if (ctx->sw_bp_at && ctx->sw_bp_at(ctx->opaque, pc))
		return verdict(PPC_VERDICT_DEBUGGER, PPC_REASON_SWBREAK, pc,
			       -1);
	v = verdict(PPC_VERDICT_REINJECT, PPC_REASON_NONE, pc, -1);
	v.esr = PPC_ESR_PTR;
	return v;
}

struct ppc_verdict ppc_classify_dbsr(uint32_t dbsr, uint64_t pc,
				     const struct ppc_debug_ctx *ctx)
{
	static const struct ppc_debug_ctx none;
	const struct ppc_booke_debug_regs *r;

	if (!ctx)
		ctx = &none;
	r = ctx->regs;
	for (int i = 0; i < PPC_NR_IAC; i++)
		if (dbsr & PPC_DBSR_IAC(i))
			return verdict(PPC_VERDICT_DEBUGGER, PPC_REASON_HWBREAK,
				       r ? r->iac[i] : pc, i);
	for (int i = 0; i < PPC_NR_DAC; i++) {
		bool w = dbsr & PPC_DBSR_DACW(i);

		if (w || (dbsr & PPC_DBSR_DACR(i)))
			return verdict(PPC_VERDICT_DEBUGGER,
				       dac_reason(r, i, w), r ? r->dac[i] : 0,
				       i);
	}
	if (dbsr & PPC_DBSR_TRAP)
		return classify_trap(pc, ctx);
	if (dbsr & PPC_DBSR_ICMP)
		return verdict(ctx->single_step ? PPC_VERDICT_DEBUGGER
						: PPC_VERDICT_INTERNAL,
			       PPC_REASON_STEP, pc, -1);
	if (dbsr)
		return verdict(PPC_VERDICT_INTERNAL, PPC_REASON_NONE, pc, -1);
	return verdict(PPC_VERDICT_NOT_DEBUG, PPC_REASON_NONE, 0, -1);
}

/* The DAC a KVM watch exit names by its address, or -1. */
static int dac_slot(const struct ppc_booke_debug_regs *r, uint64_t addr)
{
	for (int i = 0; r && i < PPC_NR_DAC; i++)
		if (ppc_dac_type(r, (unsigned)i) && r->dac[i] == addr)
			return i;
	return -1;
}

static int iac_slot(const struct ppc_booke_debug_regs *r, uint64_t addr)
{
	for (int i = 0; r && i < PPC_NR_IAC; i++)
		if ((r->dbcr0 & PPC_DBCR0_IAC(i)) && r->iac[i] == addr)
			return i;
	return -1;
}

struct ppc_verdict ppc_classify_kvm(const struct ppc_kvm_debug_exit_arch *x,
				    uint64_t pc,
				    const struct ppc_debug_ctx *ctx)
{
	static const struct ppc_debug_ctx none;
	const struct ppc_booke_debug_regs *r;
	int slot;

	if (!ctx)
		ctx = &none;
	r = ctx->regs;
	if (x->status & PPC_KVM_DEBUG_BREAKPOINT) {
		slot = iac_slot(r, x->address);
		return verdict(PPC_VERDICT_DEBUGGER,
			       slot >= 0 ? PPC_REASON_HWBREAK : PPC_REASON_NONE,
			       x->address, slot);
	}
	if (x->status &
	    (PPC_KVM_DEBUG_WATCH_WRITE | PPC_KVM_DEBUG_WATCH_READ)) {
		bool w = x->status & PPC_KVM_DEBUG_WATCH_WRITE;

		slot = dac_slot(r, x->address);
		return verdict(PPC_VERDICT_DEBUGGER,
			       slot >= 0 ? dac_reason(r, slot, w)
					 : PPC_REASON_NONE,
			       x->address, slot);
	}
	/* status 0: KVM saw its debug instruction, or completed a step
	 * (Book E reports DBSR[ICMP] without a status bit). */
	if (ctx->single_step)
		return verdict(PPC_VERDICT_DEBUGGER, PPC_REASON_STEP, pc, -1);
	return classify_trap(x->address, ctx);
}
