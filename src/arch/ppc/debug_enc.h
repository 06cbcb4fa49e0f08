/* PowerPC Book E debug facilities as KVM exposes them to a VMM: the trap
 * software breakpoint, IAC/DAC and DBCR0 encodings, and classification of
 * debug exits from DBSR or from KVM's exit record. Pure: no I/O, no KVM,
 * builds and is tested on any host. */
#ifndef KVMDBG_ARCH_PPC_DEBUG_ENC_H
#define KVMDBG_ARCH_PPC_DEBUG_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Software breakpoint
 *
 * `trap` is `tw 31,0,0`: primary opcode 31, TO = 31 (trap unconditionally),
 * RA = RB = 0, extended opcode 4 -> 0x7fe00008. Instructions are stored in
 * the guest's instruction byte order: 7f e0 00 08 on a big-endian guest
 * (Book E's default; the page's E attribute or MSR[LE] selects
 * little-endian, 08 00 e0 7f).
 *
 * KVM names the instruction it wants for software breakpoints through the
 * one-reg KVM_REG_PPC_DEBUG_INST: `tw` on some hosts, `ehpriv` (0x7c00021c
 * with OC in bits 25:11) on e500 Book E HV. The runtime reads it and passes
 * it where PPC_TRAP_INSN is the default.
 */
#define PPC_TRAP_INSN 0x7fe00008u
#define PPC_INSN_LEN 4u

/* Whether insn traps unconditionally: tw, twi, td or tdi with TO = 31. */
bool ppc_is_unconditional_trap(uint32_t insn);
/* An instruction to and from its four bytes in guest memory. */
void ppc_insn_to_bytes(uint32_t insn, bool big_endian, uint8_t out[4]);
uint32_t ppc_insn_from_bytes(const uint8_t in[4], bool big_endian);

/*
 * DBCR0 and DBSR (Power ISA v2.06 Book III-E, "Debug Facilities"; Linux
 * arch/powerpc/include/asm/reg_booke.h). Book E numbers bits from the most
 * significant end: ISA bit n of a 32-bit register is mask 1 << (31 - n).
 *
 *   DBCR0: IDM[1] RST[2:3] ICMP[4] BRT[5] IRPT[6] TRAP[7] IAC1[8] IAC2[9]
 *          IAC3[10] IAC4[11] DAC1R[12] DAC1W[13] DAC2R[14] DAC2W[15]
 *          RET[16] FT[31]
 *   DBSR:  IDE[0] MRR[2:3] ICMP[4] BRT[5] IRPT[6] TRAP[7] IAC1[8] .. IAC4[11]
 *          DAC1R[12] DAC1W[13] DAC2R[14] DAC2W[15] RET[16]
 */
#define PPC_DBCR0_IDM 0x40000000u
#define PPC_DBCR0_ICMP 0x08000000u
#define PPC_DBCR0_BRT 0x04000000u
#define PPC_DBCR0_IRPT 0x02000000u
#define PPC_DBCR0_TRAP 0x01000000u
#define PPC_DBCR0_IAC(n) (0x00800000u >> (n)) /* n = 0..3: IAC1..IAC4 */
#define PPC_DBCR0_DAC1R 0x00080000u
#define PPC_DBCR0_DAC1W 0x00040000u
#define PPC_DBCR0_DAC2R 0x00020000u
#define PPC_DBCR0_DAC2W 0x00010000u
#define PPC_DBCR0_DACR(n) (0x00080000u >> (2 * (n))) /* n = 0, 1 */
#define PPC_DBCR0_DACW(n) (0x00040000u >> (2 * (n)))
#define PPC_DBCR0_RET 0x00008000u
#define PPC_DBCR0_FT 0x00000001u

#define PPC_DBSR_IDE 0x80000000u
#define PPC_DBSR_MRR 0x30000000u
#define PPC_DBSR_ICMP 0x08000000u /* Linux: DBSR_IC */
#define PPC_DBSR_BRT 0x04000000u
#define PPC_DBSR_IRPT 0x02000000u
#define PPC_DBSR_TRAP 0x01000000u /* Linux: DBSR_TIE */
#define PPC_DBSR_IAC(n) (0x00800000u >> (n))
#define PPC_DBSR_DAC1R 0x00080000u
#define PPC_DBSR_DAC1W 0x00040000u
#define PPC_DBSR_DAC2R 0x00020000u
#define PPC_DBSR_DAC2W 0x00010000u
#define PPC_DBSR_DACR(n) (0x00080000u >> (2 * (n)))
#define PPC_DBSR_DACW(n) (0x00040000u >> (2 * (n)))
#define PPC_DBSR_RET 0x00008000u

/* ESR[PTR]: the program interrupt was a trap (delivering a guest's own). */
#define PPC_ESR_PTR 0x02000000u

/* The pools: four instruction and two data address compares. (KVM on
 * e500, CONFIG_PPC_FSL_BOOK3E, has only two IACs.) */
#define PPC_NR_IAC 4
#define PPC_NR_DAC 2

/*
 * The architected register image, laid out like the kernel's
 * struct debug_reg (kvmppc_booke_debug_reg): DBCR0-2, IAC1-4, DAC1-2.
 * kvmdbg builds it, derives KVM's bp[] list from it, and the DBSR
 * classifier reads the addresses back from it.
 */
struct ppc_booke_debug_regs {
	uint32_t dbcr0;
	uint32_t dbcr1;
	uint32_t dbcr2;
	uint64_t iac[PPC_NR_IAC];
	uint64_t dac[PPC_NR_DAC];
};

/*
 * KVM ABI mirrors (Documentation/virt/kvm/api.rst, KVM_SET_GUEST_DEBUG and
 * KVM_EXIT_DEBUG; arch/powerpc/include/uapi/asm/kvm.h), restated because
 * <linux/kvm.h> only has them on powerpc builds.
 */
#define PPC_KVM_DEBUG_NONE 0x0u
#define PPC_KVM_DEBUG_BREAKPOINT (1u << 1)
#define PPC_KVM_DEBUG_WATCH_WRITE (1u << 2)
#define PPC_KVM_DEBUG_WATCH_READ (1u << 3)
#define PPC_KVM_NR_BP 16

/* struct kvm_guest_debug_arch { struct { __u64 addr; __u32 type;
 * __u32 reserved; } bp[16]; } */
struct ppc_kvm_guest_debug_bp {
	uint64_t addr;
	uint32_t type;
	uint32_t reserved;
};

struct ppc_kvm_guest_debug_arch {
	struct ppc_kvm_guest_debug_bp bp[PPC_KVM_NR_BP];
};

/* struct kvm_debug_exit_arch { __u64 address; __u32 status;
 * __u32 reserved; } */
struct ppc_kvm_debug_exit_arch {
	uint64_t address;
	uint32_t status;
	uint32_t reserved;
};

/* kvm_guest_debug.control bits: generic ones, then the ppc ones. */
#define PPC_KVM_GUESTDBG_ENABLE 0x00000001u
#define PPC_KVM_GUESTDBG_SINGLESTEP 0x00000002u
#define PPC_KVM_GUESTDBG_USE_SW_BP 0x00010000u
#define PPC_KVM_GUESTDBG_USE_HW_BP 0x00020000u

enum ppc_wp_type {
	PPC_WP_READ = 1,
	PPC_WP_WRITE = 2,
	PPC_WP_ACCESS = 3,
};

/* An empty image: no compares enabled, DBCR0 = 0. */
void ppc_debug_init(struct ppc_booke_debug_regs *r);
/* Enable IAC<idx + 1> at addr: DBCR0 gets IACn and IDM. -EINVAL when idx
 * is out of the pool or addr is not word aligned. */
int ppc_iac_set(struct ppc_booke_debug_regs *r, unsigned idx, uint64_t addr);
void ppc_iac_clear(struct ppc_booke_debug_regs *r, unsigned idx);
/* Enable DAC<idx + 1> at addr for reads, writes or both: DBCR0 gets DACnR
 * and/or DACnW and IDM. KVM leaves DBCR2[DAC12M] at exact-address compare,
 * so a DAC names one address; lengths are the caller's business. */
int ppc_dac_set(struct ppc_booke_debug_regs *r, unsigned idx,
		enum ppc_wp_type type, uint64_t addr);
void ppc_dac_clear(struct ppc_booke_debug_regs *r, unsigned idx);
/* The type DAC<idx + 1> is enabled for, or 0. */
enum ppc_wp_type ppc_dac_type(const struct ppc_booke_debug_regs *r,
			      unsigned idx);

/*
 * KVM's bp[] list for an image. KVM hands the k-th BREAKPOINT entry to
 * IAC k and the k-th watch entry to DAC k, scanning only the first
 * nr_iac + PPC_NR_DAC entries, so the list is packed in slot order:
 * enabled IACs, then enabled DACs. nr_iac is the host's IAC count
 * (PPC_NR_IAC, or 2 on e500); -ENOSPC when more IACs are enabled.
 */
int ppc_debug_to_kvm(const struct ppc_booke_debug_regs *r, unsigned nr_iac,
		     struct ppc_kvm_guest_debug_arch *out);

/* Classifier verdicts, the same shape as the generic classifier's. */
enum ppc_verdict_kind {
	PPC_VERDICT_NOT_DEBUG,
	PPC_VERDICT_DEBUGGER,
	PPC_VERDICT_REINJECT,
	PPC_VERDICT_INTERNAL,
};

enum ppc_stop_reason {
	PPC_REASON_NONE, /* a plain SIGTRAP without a stop reason */
	PPC_REASON_SWBREAK,
	PPC_REASON_HWBREAK,
	PPC_REASON_WATCH_WRITE,
	PPC_REASON_WATCH_READ,
	PPC_REASON_WATCH_ACCESS,
	PPC_REASON_STEP,
};

struct ppc_verdict {
	enum ppc_verdict_kind kind;
	enum ppc_stop_reason reason;
	/* DEBUGGER: the pc for breaks and steps, the DAC address for
	 * watchpoints. */
	uint64_t addr;
	/* IAC index (0..3) or DAC index (0..1) that fired, or -1. */
	int slot;
	/* REINJECT: the guest's own trap becomes a program interrupt with
	 * this ESR. */
	uint32_t esr;
};

struct ppc_debug_ctx {
	/* The image programmed for this run, or NULL when none. */
	const struct ppc_booke_debug_regs *regs;
	/* KVM_GUESTDBG_SINGLESTEP was set for this run. */
	bool single_step;
	/* Whether kvmdbg planted its breakpoint instruction at addr. */
	bool (*sw_bp_at)(const void *opaque, uint64_t addr);
	const void *opaque;
};

/*
 * From the architected status, in the order the events can coexist:
 *   - IAC1..IAC4: HWBREAK at that IAC's address (the pc);
 *   - DAC1R/W, DAC2R/W: WATCH_WRITE when a W bit is set, else WATCH_READ,
 *     or WATCH_ACCESS when the DAC was enabled for both; at the DAC address;
 *   - TRAP: SWBREAK at pc if kvmdbg planted it, else REINJECT (program
 *     interrupt, ESR[PTR]);
 *   - ICMP: STEP at pc when kvmdbg asked for it, else INTERNAL;
 *   - only other bits (IDE, RET, BRT, IRPT...): INTERNAL; none: NOT_DEBUG.
 */
struct ppc_verdict ppc_classify_dbsr(uint32_t dbsr, uint64_t pc,
				     const struct ppc_debug_ctx *ctx);

/*
 * From KVM's exit record (booke.c kvmppc_handle_debug and the emulated
 * debug instruction). status 0 is the debug instruction or, while
 * stepping, the completed step; BREAKPOINT carries the pc; WATCH_WRITE /
 * WATCH_READ carry the DAC address, which names the slot.
 */
struct ppc_verdict ppc_classify_kvm(const struct ppc_kvm_debug_exit_arch *x,
				    uint64_t pc,
				    const struct ppc_debug_ctx *ctx);

#endif
