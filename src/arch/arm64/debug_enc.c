/* AArch64 debug encodings, ESR classification and exception entry, kept
 * pure so they are tested bit for bit on any host (see debug_enc.h). */
#include <errno.h>

#include "arch/arm64/debug_enc.h"

_Static_assert(sizeof(struct arm64_kvm_guest_debug_arch) == 4 * 16 * 8,
	       "kvm_guest_debug_arch is four arrays of 16 __u64");
_Static_assert(sizeof(struct arm64_kvm_debug_exit_arch) == 16,
	       "kvm_debug_exit_arch is hsr, hsr_high, far");

/* DBGBVR/DBGWVR hold VA[52:0]; bits [63:53] are RESS, a copy of bit 52. */
#define VA_BITS 53
#define VA_MASK ((1ull << VA_BITS) - 1)

static uint64_t va_ress(uint64_t addr)
{
	uint64_t low = addr & VA_MASK;

	if (low & (1ull << (VA_BITS - 1)))
		return low | ~VA_MASK;
	return low;
}

uint64_t arm64_exit_esr(const struct arm64_kvm_debug_exit_arch *x,
			bool hsr_high_valid)
{
	uint64_t esr = x->hsr;

	if (hsr_high_valid)
		esr |= (uint64_t)x->hsr_high << 32;
	return esr;
}

bool arm64_brk_imm(uint32_t insn, uint16_t *imm)
{
	if ((insn & ARM64_BRK_MASK) != ARM64_BRK_INSN)
		return false;
	if (imm)
		*imm = (uint16_t)(insn >> 5);
	return true;
}

void arm64_insn_to_bytes(uint32_t insn, uint8_t out[4])
{
	for (unsigned i = 0; i < 4; i++)
		out[i] = (uint8_t)(insn >> (8 * i));
}

uint32_t arm64_insn_from_bytes(const uint8_t in[4])
{
	uint32_t insn = 0;

	for (unsigned i = 0; i < 4; i++)
		insn |= (uint32_t)in[i] << (8 * i);
	return insn;
}

int arm64_bp_encode(uint64_t addr, uint64_t *bcr, uint64_t *bvr)
{
	if (addr & 3)
		return -EINVAL;
	*bcr = ARM64_DBG_E | ARM64_DBG_PMC_EL1_EL0 | ARM64_BCR_BAS_A64;
	*bvr = va_ress(addr);
	return 0;
}

bool arm64_bp_matches(uint64_t bcr, uint64_t bvr, uint64_t pc)
{
	/* Only unlinked address matches (BT = 0b0000) are ours to decode. */
	if (!(bcr & ARM64_DBG_E) || ((bcr >> ARM64_BCR_BT_SHIFT) & 0xf))
		return false;
	return ((bvr ^ pc) & VA_MASK & ~3ull) == 0;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static unsigned log2_u64(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

/* The MASK a [addr, addr + len) needs, or 0 when one doubleword holds it,
 * or -EINVAL when no single register pair can watch it exactly. */
static int wp_shape(uint64_t addr, uint64_t len)
{
	if (len == 0 || len > (1ull << ARM64_WCR_MASK_MAX))
		return -EINVAL;
	if ((addr & 7) + len <= 8)
		return 0;
	if (len < 8 || !is_pow2(len) || (addr & (len - 1)))
		return -EINVAL;
	return (int)log2_u64(len);
}

bool arm64_wp_fits(uint64_t addr, uint64_t len)
{
	return wp_shape(addr, len) >= 0;
}

int arm64_wp_encode(enum arm64_wp_type type, uint64_t addr, uint64_t len,
		    uint64_t *wcr, uint64_t *wvr)
{
	uint64_t bas, w;
	int mask;

	if (type != ARM64_WP_READ && type != ARM64_WP_WRITE &&
	    type != ARM64_WP_ACCESS)
		return -EINVAL;
	mask = wp_shape(addr, len);
	if (mask < 0)
		return mask;

	w = ARM64_DBG_E | ARM64_DBG_PMC_EL1_EL0 |
	    (uint64_t)type << ARM64_WCR_LSC_SHIFT;
	if (mask == 0) {
		bas = ((1ull << len) - 1) << (addr & 7);
		*wvr = va_ress(addr & ~7ull);
	} else {
		bas = 0xff;
		w |= (uint64_t)mask << ARM64_WCR_MASK_SHIFT;
		*wvr = va_ress(addr);
	}
	*wcr = w | bas << ARM64_WCR_BAS_SHIFT;
	return 0;
}

static unsigned wcr_mask(uint64_t wcr)
{
	return (unsigned)(wcr >> ARM64_WCR_MASK_SHIFT) & 0x1f;
}

static unsigned wcr_bas(uint64_t wcr)
{
	return (unsigned)(wcr >> ARM64_WCR_BAS_SHIFT) & 0xff;
}

enum arm64_wp_type arm64_wp_type_of(uint64_t wcr)
{
	return (enum arm64_wp_type)((wcr >> ARM64_WCR_LSC_SHIFT) & 3);
}

/* A watchpoint kvmdbg could have programmed: enabled, unlinked, with a
 * load/store selection and either a legal MASK with BAS all ones, or no
 * MASK and some BAS bits (BAS[7:4] RES0 for a word-aligned WVR). */
static bool wp_valid(uint64_t wcr, uint64_t wvr)
{
	unsigned mask = wcr_mask(wcr), bas = wcr_bas(wcr);

	if (!(wcr & ARM64_DBG_E) || (wcr & ARM64_WCR_WT) ||
	    !arm64_wp_type_of(wcr))
		return false;
	if (mask)
		return mask >= 3 && bas == 0xff;
	if (wvr & 4)
		return bas && !(bas & 0xf0);
	return bas != 0;
}

bool arm64_wp_contains(uint64_t wcr, uint64_t wvr, uint64_t addr)
{
	unsigned mask = wcr_mask(wcr);

	if (!wp_valid(wcr, wvr))
		return false;
	if (mask)
		return ((addr ^ wvr) & VA_MASK & ~((1ull << mask) - 1)) == 0;
	if (wvr & 4) {
		/* Word-aligned WVR: BAS[3:0] select bytes of that word. */
		if ((addr ^ wvr) & VA_MASK & ~3ull)
			return false;
		return (wcr_bas(wcr) >> (addr & 3)) & 1;
	}
	if ((addr ^ wvr) & VA_MASK & ~7ull)
		return false;
	return (wcr_bas(wcr) >> (addr & 7)) & 1;
}

int arm64_wp_range(uint64_t wcr, uint64_t wvr, uint64_t *lo, uint64_t *len)
{
	unsigned mask = wcr_mask(wcr), bas = wcr_bas(wcr);
	unsigned first, last;
	uint64_t base;

	if (!wp_valid(wcr, wvr))
		return -EINVAL;
	if (mask) {
		*lo = wvr & ~((1ull << mask) - 1);
		*len = 1ull << mask;
		return 0;
	}
	base = wvr & ~((wvr & 4) ? 3ull : 7ull);
	first = (unsigned)__builtin_ctz(bas);
	last = 31u - (unsigned)__builtin_clz(bas);
	*lo = base + first;
	*len = last - first + 1;
	return 0;
}

uint64_t arm64_esr_brk(uint16_t imm)
{
	return (uint64_t)ARM64_EC_BRK64 << ARM64_ESR_EC_SHIFT | ARM64_ESR_IL |
	       imm;
}

static struct arm64_verdict verdict(enum arm64_verdict_kind kind,
				    enum arm64_stop_reason reason,
				    uint64_t addr, int slot)
{
	return (struct arm64_verdict){
	    .kind = kind, .reason = reason, .addr = addr, .slot = slot};
}

static struct arm64_verdict reinject(uint64_t esr, bool far_valid, uint64_t far)
{
	struct arm64_verdict v =
	    verdict(ARM64_VERDICT_REINJECT, ARM64_REASON_NONE, 0, -1);

	v.esr = esr;
	v.far_valid = far_valid;
	v.far = far;
	return v;
}

static struct arm64_verdict classify_hwbreak(uint64_t pc,
					     const struct arm64_debug_ctx *ctx)
{
	const struct arm64_kvm_guest_debug_arch *hw = ctx->hw;

	for (int i = 0; hw && i < ARM64_KVM_MAX_DBG_REGS; i++)
		if (arm64_bp_matches(hw->dbg_bcr[i], hw->dbg_bvr[i], pc))
			return verdict(ARM64_VERDICT_DEBUGGER,
				       ARM64_REASON_HWBREAK, pc, i);
	return verdict(ARM64_VERDICT_DEBUGGER, ARM64_REASON_NONE, pc, -1);
}

static enum arm64_stop_reason watch_reason(uint64_t wcr)
{
	switch (arm64_wp_type_of(wcr)) {
	case ARM64_WP_READ:
		return ARM64_REASON_WATCH_READ;
	case ARM64_WP_WRITE:
		return ARM64_REASON_WATCH_WRITE;
	default:
		return ARM64_REASON_WATCH_ACCESS;
	}
}

/*
 * FAR names the watchpoint when it falls in the watched bytes. When an
 * access only overlaps them, FAR may lie below the range (down to the
 * lowest byte accessed); then the nearest range above FAR within
 * ARM64_WATCH_FAR_SLACK is the one that fired.
 */
static struct arm64_verdict classify_watch(uint64_t far,
					   const struct arm64_debug_ctx *ctx)
{
	const struct arm64_kvm_guest_debug_arch *hw = ctx->hw;
	uint64_t best_gap = UINT64_MAX, best_lo = 0, lo, len, gap;
	int best = -1;

	for (int i = 0; hw && i < ARM64_KVM_MAX_DBG_REGS; i++) {
		uint64_t wcr = hw->dbg_wcr[i], wvr = hw->dbg_wvr[i];

		if (arm64_wp_range(wcr, wvr, &lo, &len) < 0)
			continue;
		if (arm64_wp_contains(wcr, wvr, far))
			return verdict(ARM64_VERDICT_DEBUGGER,
				       watch_reason(wcr), far, i);
		gap = (lo & VA_MASK) - (far & VA_MASK);
		if ((lo & VA_MASK) > (far & VA_MASK) &&
		    gap <= ARM64_WATCH_FAR_SLACK && gap < best_gap) {
			best_gap = gap;
			best_lo = lo;
			best = i;
		}
	}
	if (best >= 0)
		return verdict(ARM64_VERDICT_DEBUGGER,
			       watch_reason(hw->dbg_wcr[best]), best_lo, best);
	return verdict(ARM64_VERDICT_DEBUGGER, ARM64_REASON_NONE, far, -1);
}

struct arm64_verdict arm64_classify(uint64_t esr, uint64_t far, uint64_t pc,
				    const struct arm64_debug_ctx *ctx)
{
	static const struct arm64_debug_ctx none;
	uint16_t imm;

	if (!ctx)
		ctx = &none;
	switch (ARM64_ESR_EC(esr)) {
	case ARM64_EC_BRK64:
		imm = ARM64_ISS_BRK_IMM(esr);
		if (imm == 0 && ctx->sw_bp_at && ctx->sw_bp_at(ctx->opaque, pc))
			return verdict(ARM64_VERDICT_DEBUGGER,
				       ARM64_REASON_SWBREAK, pc, -1);
		/* FAR is UNKNOWN for BRK: nothing to deliver there. */
		return reinject(arm64_esr_brk(imm), false, 0);
	case ARM64_EC_BKPT_LOW:
	case ARM64_EC_BKPT_CUR:
		return classify_hwbreak(pc, ctx);
	case ARM64_EC_SSTEP_LOW:
	case ARM64_EC_SSTEP_CUR:
		if (ctx->single_step)
			return verdict(ARM64_VERDICT_DEBUGGER,
				       ARM64_REASON_STEP, pc, -1);
		return reinject(esr, false, 0);
	case ARM64_EC_WATCH_LOW:
	case ARM64_EC_WATCH_CUR:
		return classify_watch(far, ctx);
	default:
		return verdict(ARM64_VERDICT_NOT_DEBUG, ARM64_REASON_NONE, 0,
			       -1);
	}
}

/* The exception level of a PSTATE, or -1 when M is not a legal EL0/EL1
 * mode (AArch64 EL0t, EL1t, EL1h; AArch32 User). */
static int origin_el(uint64_t pstate)
{
	unsigned m =
	    (unsigned)pstate & (ARM64_PSR_MODE32 | ARM64_PSR_MODE_MASK);

	switch (m) {
	case ARM64_PSR_MODE_EL0t:
	case ARM64_PSR_MODE32_USR:
		return 0;
	case ARM64_PSR_MODE_EL1t:
	case ARM64_PSR_MODE_EL1h:
		return 1;
	default:
		return -1;
	}
}

int arm64_el1_vector_offset(uint64_t pstate)
{
	unsigned m =
	    (unsigned)pstate & (ARM64_PSR_MODE32 | ARM64_PSR_MODE_MASK);

	switch (m) {
	case ARM64_PSR_MODE_EL1t:
		return ARM64_VEC_CUR_SP0;
	case ARM64_PSR_MODE_EL1h:
		return ARM64_VEC_CUR_SPX;
	case ARM64_PSR_MODE_EL0t:
		return ARM64_VEC_LOWER_A64;
	case ARM64_PSR_MODE32_USR:
		return ARM64_VEC_LOWER_A32;
	default:
		return -EINVAL;
	}
}

/* ECs that come in lower-EL/current-EL pairs say which one relative to
 * the EL taking the exception: KVM reports them relative to EL2 (always
 * "lower"), the guest's EL1 must see "current" for an EL1 origin. */
static uint64_t esr_rebase(uint64_t esr, int from_el)
{
	unsigned ec = ARM64_ESR_EC(esr);

	switch (ec & ~1u) {
	case ARM64_EC_IABT_LOW:
	case ARM64_EC_DABT_LOW:
	case ARM64_EC_BKPT_LOW:
	case ARM64_EC_SSTEP_LOW:
	case ARM64_EC_WATCH_LOW:
		ec = (ec & ~1u) | (from_el == 1);
		esr &= ~((uint64_t)0x3f << ARM64_ESR_EC_SHIFT);
		return esr | (uint64_t)ec << ARM64_ESR_EC_SHIFT;
	default:
		return esr;
	}
}

int arm64_emulate_sync_entry(const struct arm64_cpu_in *in, uint64_t esr,
			     bool far_valid, uint64_t far,
			     struct arm64_cpu_out *out)
{
	uint64_t old = in->pstate, new = 0;
	int el = origin_el(old), off = arm64_el1_vector_offset(old);

	if (el < 0 || off < 0)
		return -EINVAL;

	new |= old &(ARM64_PSR_N | ARM64_PSR_Z | ARM64_PSR_C | ARM64_PSR_V);
	new |= old &ARM64_PSR_DIT;
	if (in->mte)
		new |= ARM64_PSR_TCO;
	/* PAN is set on entry unless SCTLR_EL1.SPAN asks to keep it. */
	new |= old &ARM64_PSR_PAN;
	if (!(in->sctlr_el1 & ARM64_SCTLR_SPAN))
		new |= ARM64_PSR_PAN;
	if (in->sctlr_el1 & ARM64_SCTLR_DSSBS)
		new |= ARM64_PSR_SSBS;
	/* UAO, SS, IL, BTYPE and ALLINT start at zero. */
	new |= ARM64_PSR_D | ARM64_PSR_A | ARM64_PSR_I | ARM64_PSR_F;
	new |= ARM64_PSR_MODE_EL1h;

	out->pstate = new;
	out->spsr_el1 = old;
	out->elr_el1 = in->pc;
	out->esr_el1 = esr_rebase(esr, el);
	out->far_el1 = far_valid ? far : in->far_el1;
	out->pc = (in->vbar_el1 & ~0x7ffull) + (uint64_t)off;
	return 0;
}

int arm64_emulate_brk_entry(const struct arm64_cpu_in *in,
			    struct arm64_cpu_out *out)
{
	if (in->pstate & ARM64_PSR_MODE32)
		return -EINVAL;
	return arm64_emulate_sync_entry(in, arm64_esr_brk(in->brk_imm), false,
					0, out);
}
