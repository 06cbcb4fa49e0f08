/* AArch64 self-hosted debug as KVM exposes it to a VMM: the BRK software
 * breakpoint, DBGBCR/DBGBVR and DBGWCR/DBGWVR encodings, ESR decoding of
 * debug exits, and the exception entry a reinjected BRK needs. Pure: no I/O,
 * no KVM, builds and is tested on any host. */
#ifndef KVMDBG_ARCH_ARM64_DEBUG_ENC_H
#define KVMDBG_ARCH_ARM64_DEBUG_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * KVM ABI mirrors
 *
 * <linux/kvm.h> only carries the arm64 structures on arm64 builds, so the
 * layouts are restated here; an arm64 build maps them 1:1 onto the kernel's
 * (Documentation/virt/kvm/api.rst, KVM_SET_GUEST_DEBUG and KVM_EXIT_DEBUG;
 * arch/arm64/include/uapi/asm/kvm.h). The control registers are 32 bits in
 * the architecture but 64 bits in the ABI, like KVM_{GET,SET}_ONE_REG.
 */
#define ARM64_KVM_MAX_DBG_REGS 16

/* struct kvm_guest_debug_arch: __u64 dbg_{bcr,bvr,wcr,wvr}[16]. */
struct arm64_kvm_guest_debug_arch {
	uint64_t dbg_bcr[ARM64_KVM_MAX_DBG_REGS];
	uint64_t dbg_bvr[ARM64_KVM_MAX_DBG_REGS];
	uint64_t dbg_wcr[ARM64_KVM_MAX_DBG_REGS];
	uint64_t dbg_wvr[ARM64_KVM_MAX_DBG_REGS];
};

/* struct kvm_debug_exit_arch: __u32 hsr (ESR_EL2[31:0]); __u32 hsr_high
 * (ESR_EL2[63:32], valid when kvm_run->flags has
 * KVM_DEBUG_ARCH_HSR_HIGH_VALID); __u64 far (FAR_EL2, set for watchpoints). */
struct arm64_kvm_debug_exit_arch {
	uint32_t hsr;
	uint32_t hsr_high;
	uint64_t far;
};

/* kvm_guest_debug.control bits: generic ones, then the arm64 ones. */
#define ARM64_KVM_GUESTDBG_ENABLE 0x00000001u
#define ARM64_KVM_GUESTDBG_SINGLESTEP 0x00000002u
#define ARM64_KVM_GUESTDBG_USE_SW_BP 0x00010000u
#define ARM64_KVM_GUESTDBG_USE_HW 0x00020000u
/* kvm_run->flags on KVM_EXIT_DEBUG: hsr_high is meaningful. */
#define ARM64_KVM_DEBUG_ARCH_HSR_HIGH_VALID 0x1u

/* The full ESR_EL2 of a debug exit; hsr_high only counts when KVM said it
 * is valid (older kernels left that word uninitialised). */
uint64_t arm64_exit_esr(const struct arm64_kvm_debug_exit_arch *x,
			bool hsr_high_valid);

/*
 * Software breakpoint
 *
 * BRK #imm16 is 0xd4200000 | imm16 << 5. A64 instructions are little-endian
 * in memory whatever the data endianness, so BRK #0 is the bytes
 * 00 00 20 d4.
 */
#define ARM64_BRK_INSN 0xd4200000u
#define ARM64_BRK_MASK 0xffe0001fu
#define ARM64_INSN_LEN 4u

/* Whether insn is a BRK; if so and imm is not NULL, its immediate. */
bool arm64_brk_imm(uint32_t insn, uint16_t *imm);
/* An instruction to and from its four bytes in guest memory. */
void arm64_insn_to_bytes(uint32_t insn, uint8_t out[4]);
uint32_t arm64_insn_from_bytes(const uint8_t in[4]);

/*
 * DBGBCR<n>_EL1 / DBGWCR<n>_EL1 fields (Arm ARM DDI 0487, register descriptions
 * DBGBCR<n>_EL1 and DBGWCR<n>_EL1).
 *
 *   BCR: E[0] PMC[2:1] BAS[8:5] HMC[13] SSC[15:14] LBN[19:16] BT[23:20]
 *   WCR: E[0] PAC[2:1] LSC[4:3] BAS[12:5] HMC[13] SSC[15:14] LBN[19:16]
 *        WT[20] MASK[28:24]
 *
 * kvmdbg programs unlinked address matches that fire at EL1 and EL0 in
 * either security state: HMC=0, SSC=0b00, PMC/PAC=0b11, which is valid
 * whether or not EL2/EL3 exist (the guest never sees EL2 here; KVM runs it
 * at EL1/EL0 and routes the debug exception to itself).
 */
#define ARM64_DBG_E (1u << 0)
#define ARM64_DBG_PMC_SHIFT 1
#define ARM64_DBG_PMC_EL1_EL0 (3u << ARM64_DBG_PMC_SHIFT)
#define ARM64_BCR_BAS_SHIFT 5
#define ARM64_BCR_BAS_A64 (0xfu << ARM64_BCR_BAS_SHIFT) /* RES1 for A64 */
#define ARM64_DBG_HMC (1u << 13)
#define ARM64_DBG_SSC_SHIFT 14
#define ARM64_DBG_LBN_SHIFT 16
#define ARM64_BCR_BT_SHIFT 20
#define ARM64_WCR_LSC_SHIFT 3
#define ARM64_WCR_LSC_LOAD (1u << ARM64_WCR_LSC_SHIFT)
#define ARM64_WCR_LSC_STORE (2u << ARM64_WCR_LSC_SHIFT)
#define ARM64_WCR_LSC_BOTH (3u << ARM64_WCR_LSC_SHIFT)
#define ARM64_WCR_BAS_SHIFT 5
#define ARM64_WCR_WT (1u << 20)
#define ARM64_WCR_MASK_SHIFT 24

/* The largest MASK: 31 address bits, a 2 GiB naturally aligned block. */
#define ARM64_WCR_MASK_MAX 31u

/* Program a breakpoint on the instruction at addr: bcr = E|PMC=11|BAS=1111,
 * bvr = addr with bits [63:53] made the sign extension of bit 52 (RESS).
 * -EINVAL when addr is not word aligned (A64 instructions are). */
int arm64_bp_encode(uint64_t addr, uint64_t *bcr, uint64_t *bvr);
/* Whether an enabled address-match breakpoint (bcr, bvr) fires at pc. */
bool arm64_bp_matches(uint64_t bcr, uint64_t bvr, uint64_t pc);

enum arm64_wp_type {
	ARM64_WP_READ = 1,   /* LSC 01: loads */
	ARM64_WP_WRITE = 2,  /* LSC 10: stores */
	ARM64_WP_ACCESS = 3, /* LSC 11: both */
};

/*
 * Whether [addr, addr + len) can be watched exactly by one register pair:
 * either inside one aligned doubleword (BAS selects the bytes) or a
 * power-of-two block of 8 bytes to 2 GiB aligned to its size (MASK).
 */
bool arm64_wp_fits(uint64_t addr, uint64_t len);
/*
 * Program a watchpoint on exactly [addr, addr + len):
 *   - inside one doubleword: wvr = addr & ~7, BAS = ones(len) << (addr & 7),
 *     MASK = 0;
 *   - else a power of two >= 8, aligned to len, at most 2 GiB: wvr = addr,
 *     BAS = 0xff, MASK = log2(len);
 *   - else -EINVAL: the caller splits the range or uses page protection.
 * LSC comes from type; PAC = 11, HMC = 0, SSC = 00, E = 1.
 */
int arm64_wp_encode(enum arm64_wp_type type, uint64_t addr, uint64_t len,
		    uint64_t *wcr, uint64_t *wvr);
/*
 * The architecture's address match for a one-byte access at addr: with
 * MASK (3..31) the access matches when addr and wvr agree above bit MASK
 * (BAS must then be 0xff); without it the byte lies in the doubleword at
 * wvr (or the word, when wvr[2] is set and only BAS[3:0] counts) and its BAS
 * bit is set. Disabled, reserved (MASK 1 or 2) or UNPREDICTABLE
 * configurations never match.
 */
bool arm64_wp_contains(uint64_t wcr, uint64_t wvr, uint64_t addr);
/* The byte range [*lo, *lo + *len) an enabled watchpoint covers, from its
 * lowest to its highest selected byte. -EINVAL when it matches nothing. */
int arm64_wp_range(uint64_t wcr, uint64_t wvr, uint64_t *lo, uint64_t *len);
/* The type a watchpoint was programmed with, or 0 when LSC is 00. */
enum arm64_wp_type arm64_wp_type_of(uint64_t wcr);

/*
 * ESR_ELx (Arm ARM DDI 0487, ESR_EL1 and its ISS encodings): EC[31:26], IL[25],
 * ISS[24:0], ISS2[55:32].
 */
#define ARM64_ESR_EC_SHIFT 26
#define ARM64_ESR_EC(esr) ((unsigned)(((esr) >> ARM64_ESR_EC_SHIFT) & 0x3f))
#define ARM64_ESR_IL (1u << 25)
#define ARM64_ESR_ISS_MASK 0x01ffffffu

#define ARM64_EC_IABT_LOW 0x20
#define ARM64_EC_IABT_CUR 0x21
#define ARM64_EC_DABT_LOW 0x24
#define ARM64_EC_DABT_CUR 0x25
#define ARM64_EC_BKPT_LOW 0x30	/* Breakpoint from a lower EL */
#define ARM64_EC_BKPT_CUR 0x31	/* Breakpoint from the same EL */
#define ARM64_EC_SSTEP_LOW 0x32 /* Software Step from a lower EL */
#define ARM64_EC_SSTEP_CUR 0x33
#define ARM64_EC_WATCH_LOW 0x34 /* Watchpoint from a lower EL */
#define ARM64_EC_WATCH_CUR 0x35
#define ARM64_EC_BKPT32 0x38 /* AArch32 BKPT */
#define ARM64_EC_BRK64 0x3c  /* AArch64 BRK */

/* Watchpoint ISS: WnR[6] (write, not read), CM[8] (cache maintenance),
 * DFSC[5:0] = 0b100010 (debug exception). */
#define ARM64_ISS_WNR (1u << 6)
#define ARM64_ISS_CM (1u << 8)
#define ARM64_FSC_DEBUG 0x22u
/* BRK ISS: the immediate in ISS[15:0]. */
#define ARM64_ISS_BRK_IMM(esr) ((uint16_t)((esr)&0xffff))

/* The ESR a BRK #imm produces: EC 0x3c, IL 1, ISS = imm. */
uint64_t arm64_esr_brk(uint16_t imm);

/*
 * Exit classifier
 *
 * Same shape as the generic classifier (bp/classify): what kind of event,
 * why, and where. NOT_DEBUG: the ESR is no debug exception at all.
 * DEBUGGER: report to gdb. REINJECT: the guest's own exception; arm64 KVM
 * has no inject flag, so the verdict carries the syndrome for
 * arm64_emulate_sync_entry(). INTERNAL: resume without reporting.
 */
enum arm64_verdict_kind {
	ARM64_VERDICT_NOT_DEBUG,
	ARM64_VERDICT_DEBUGGER,
	ARM64_VERDICT_REINJECT,
	ARM64_VERDICT_INTERNAL,
};

enum arm64_stop_reason {
	ARM64_REASON_NONE, /* a plain SIGTRAP without a stop reason */
	ARM64_REASON_SWBREAK,
	ARM64_REASON_HWBREAK,
	ARM64_REASON_WATCH_WRITE,
	ARM64_REASON_WATCH_READ,
	ARM64_REASON_WATCH_ACCESS,
	ARM64_REASON_STEP,
};

struct arm64_verdict {
	enum arm64_verdict_kind kind;
	enum arm64_stop_reason reason;
	/* DEBUGGER: the pc for breaks and steps, the watched address for
	 * watchpoints. */
	uint64_t addr;
	/* The DBGB/DBGW register pair that fired, or -1. */
	int slot;
	/* REINJECT: the syndrome to deliver and, when far_valid, FAR. */
	uint64_t esr;
	bool far_valid;
	uint64_t far;
};

struct arm64_debug_ctx {
	/* The registers handed to KVM_SET_GUEST_DEBUG, or NULL when no
	 * hardware breakpoints or watchpoints are in use. */
	const struct arm64_kvm_guest_debug_arch *hw;
	/* KVM_GUESTDBG_SINGLESTEP was set for this run. */
	bool single_step;
	/* Whether kvmdbg planted a BRK #0 at addr (the software breakpoint
	 * table); NULL means none. */
	bool (*sw_bp_at)(const void *opaque, uint64_t addr);
	const void *opaque;
};

/*
 * How far below a watched range FAR may point and still name it. For an
 * access that straddles the watched bytes the architecture reports any
 * address from the lowest one accessed up to the highest watched one, and a
 * DC ZVA block is at most 2 KiB.
 */
#define ARM64_WATCH_FAR_SLACK 2048u

/*
 * Classify a KVM_EXIT_DEBUG from its ESR, FAR and the vCPU's pc:
 *   - EC 0x3c BRK #0 at a kvmdbg breakpoint: SWBREAK at pc; any other BRK:
 *     REINJECT with its syndrome (the guest's own BRK);
 *   - EC 0x30/0x31: HWBREAK at pc, naming the slot whose BVR matches;
 *   - EC 0x32/0x33: STEP when kvmdbg asked for it, else REINJECT;
 *   - EC 0x34/0x35: WATCH_{WRITE,READ,ACCESS} by the slot's LSC, reporting
 *     FAR when it lies in the watched bytes and the range start otherwise;
 *   - a hardware event no slot explains: DEBUGGER with REASON_NONE, so a
 *     bookkeeping error shows as a SIGTRAP instead of vanishing;
 *   - any other EC: NOT_DEBUG.
 */
struct arm64_verdict arm64_classify(uint64_t esr, uint64_t far, uint64_t pc,
				    const struct arm64_debug_ctx *ctx);

/*
 * Exception entry
 *
 * PSTATE in SPSR_ELx layout (Arm ARM DDI 0487, SPSR_EL1 for AArch64 state):
 * M[3:0] (EL and SP select), nRW[4], F[6] I[7] A[8] D[9], BTYPE[11:10],
 * SSBS[12], ALLINT[13], IL[20], SS[21], PAN[22], UAO[23], DIT[24], TCO[25],
 * V[28] C[29] Z[30] N[31].
 */
#define ARM64_PSR_MODE_MASK 0xfu
#define ARM64_PSR_MODE_EL0t 0x0u
#define ARM64_PSR_MODE_EL1t 0x4u
#define ARM64_PSR_MODE_EL1h 0x5u
#define ARM64_PSR_MODE32 (1u << 4)
#define ARM64_PSR_MODE32_USR 0x10u /* AArch32 User mode: EL0 */
#define ARM64_PSR_F (1u << 6)
#define ARM64_PSR_I (1u << 7)
#define ARM64_PSR_A (1u << 8)
#define ARM64_PSR_D (1u << 9)
#define ARM64_PSR_BTYPE (3u << 10)
#define ARM64_PSR_SSBS (1u << 12)
#define ARM64_PSR_ALLINT (1u << 13)
#define ARM64_PSR_IL (1u << 20)
#define ARM64_PSR_SS (1u << 21)
#define ARM64_PSR_PAN (1u << 22)
#define ARM64_PSR_UAO (1u << 23)
#define ARM64_PSR_DIT (1u << 24)
#define ARM64_PSR_TCO (1u << 25)
#define ARM64_PSR_V (1u << 28)
#define ARM64_PSR_C (1u << 29)
#define ARM64_PSR_Z (1u << 30)
#define ARM64_PSR_N (1u << 31)

/* SCTLR_EL1 bits exception entry reads. SPAN is RES1 without FEAT_PAN and
 * DSSBS RES0 without FEAT_SSBS, so a faithful SCTLR value needs no feature
 * flags for them. */
#define ARM64_SCTLR_SPAN (1ull << 23)
#define ARM64_SCTLR_DSSBS (1ull << 44)

/* Vector offsets from VBAR_EL1 (Arm ARM DDI 0487, "Exception vectors");
 * synchronous is +0x000. */
#define ARM64_VEC_CUR_SP0 0x000u
#define ARM64_VEC_CUR_SPX 0x200u
#define ARM64_VEC_LOWER_A64 0x400u
#define ARM64_VEC_LOWER_A32 0x600u

struct arm64_cpu_in {
	uint64_t pstate;    /* at the faulting instruction */
	uint64_t pc;	    /* of the faulting instruction (the BRK) */
	uint64_t vbar_el1;  /* bits [10:0] are RES0 and ignored */
	uint64_t sctlr_el1; /* SPAN decides PAN, DSSBS decides SSBS */
	uint64_t far_el1;   /* current value, kept when FAR is UNKNOWN */
	bool mte;	    /* FEAT_MTE is exposed: PSTATE.TCO is set */
	uint16_t brk_imm;   /* arm64_emulate_brk_entry only */
};

struct arm64_cpu_out {
	uint64_t pstate;
	uint64_t pc;
	uint64_t esr_el1;
	uint64_t elr_el1;
	uint64_t spsr_el1;
	uint64_t far_el1;
};

/* The vector offset for a synchronous exception taken to EL1 from a
 * context with this PSTATE, or -EINVAL when it is not EL0/EL1 or not a
 * legal mode. */
int arm64_el1_vector_offset(uint64_t pstate);

/*
 * Take a synchronous exception to EL1h as the architecture does
 * (AArch64.TakeException): ELR_EL1 = pc (the preferred return address the
 * caller passes), SPSR_EL1 = PSTATE, ESR_EL1 = esr with a lower/current-EL
 * EC pair (0x20/21, 0x24/25, 0x30/31, 0x32/33, 0x34/35) rebased to the
 * origin, FAR_EL1 = far when far_valid and unchanged otherwise, PC =
 * VBAR_EL1 + vector offset. The new PSTATE keeps NZCV and DIT; PAN is set
 * when SCTLR_EL1.SPAN is 0 and kept otherwise; SSBS = SCTLR_EL1.DSSBS; TCO
 * = 1 with MTE; D, A, I, F = 1; M = EL1h; SS, IL, UAO, BTYPE and ALLINT
 * = 0 (FEAT_NMI is not modelled). -EINVAL when the origin is not EL0 or
 * EL1 (nested EL2 guests are out of scope) or an AArch32 EL1.
 */
int arm64_emulate_sync_entry(const struct arm64_cpu_in *in, uint64_t esr,
			     bool far_valid, uint64_t far,
			     struct arm64_cpu_out *out);

/*
 * Deliver a guest's own BRK #in->brk_imm: ESR_EL1 = EC 0x3c, IL 1, ISS =
 * imm; ELR_EL1 = the BRK itself (its preferred return address); FAR_EL1 is
 * UNKNOWN for BRK and left unchanged. -EINVAL from an AArch32 origin (BRK
 * is A64 only) or from EL2 and above.
 */
int arm64_emulate_brk_entry(const struct arm64_cpu_in *in,
			    struct arm64_cpu_out *out);

#endif
