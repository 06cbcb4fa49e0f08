/* x86 debug registers for guest debugging: the DR0-DR3/DR7 and control-flag
 * encoding KVM_SET_GUEST_DEBUG takes, and DR6/DR7 decoding for diagnostics. */
#ifndef KVMDBG_ARCH_X86_64_DBGREGS_H
#define KVMDBG_ARCH_X86_64_DBGREGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

/* x86 has four debug address registers (DR0-DR3), shared by every kind of
 * hardware breakpoint and watchpoint. */
#define X86_NR_HW_SLOTS 4

/*
 * DR7 and DR6 bits (Intel SDM vol. 3, 17.2.4 and 17.2.3). Bit 10 of DR7 is
 * reserved and reads as 1; the encoder sets it, as QEMU's gdbstub and the
 * KVM selftests do, so the value KVM loads is the value the CPU reports.
 */
#define X86_DR7_G(n) (1ULL << (2 * (n) + 1))
#define X86_DR7_L(n) (1ULL << (2 * (n)))
#define X86_DR7_LE (1ULL << 8)
#define X86_DR7_GE (1ULL << 9)
#define X86_DR7_FIXED1 (1ULL << 10)
#define X86_DR7_GD (1ULL << 13)
#define X86_DR7_RW_SHIFT(n) (16 + 4 * (n))
#define X86_DR7_LEN_SHIFT(n) (18 + 4 * (n))

#define X86_DR6_B(n) (1ULL << (n))
#define X86_DR6_B_MASK 0xfULL
#define X86_DR6_BD (1ULL << 13)
#define X86_DR6_BS (1ULL << 14)
#define X86_DR6_BT (1ULL << 15)

/* What a slot watches. x86 cannot watch reads alone: a read watchpoint is
 * an ACCESS slot whose write hits the caller filters out, or a page. */
enum x86_hw_type {
	X86_HW_EXEC,   /* instruction fetch: R/W 00, length 1 */
	X86_HW_WRITE,  /* data write: R/W 01 */
	X86_HW_ACCESS, /* data read or write: R/W 11 */
};

struct x86_hw_slot {
	bool enabled;
	enum x86_hw_type type;
	uint64_t addr; /* linear address, aligned to len */
	unsigned len;  /* 1, 2, 4 or 8 bytes; 1 for X86_HW_EXEC */
};

/* The control bits besides the slots, for one run of one vCPU. */
struct x86_dbg_flags {
	bool stepping; /* KVM_GUESTDBG_SINGLESTEP for this run */
	bool blockirq; /* the host has KVM_GUESTDBG_BLOCKIRQ: use it to step */
	bool sw_bp;    /* INT3s are planted: KVM_GUESTDBG_USE_SW_BP */
	unsigned inject; /* 0, or 1 / 3: KVM_GUESTDBG_INJECT_DB / _INJECT_BP */
};

/* True when one debug register can watch exactly [addr, addr + len) for
 * `type`: len 1, 2, 4 or 8 with addr aligned to it, and len 1 for EXEC.
 * A pool allocator splits or falls back to page protection otherwise. */
bool x86_hw_fits(enum x86_hw_type type, uint64_t addr, unsigned len);

/*
 * Fill *out (zeroed first) for KVM_SET_GUEST_DEBUG: debugreg[n] holds the
 * address of each enabled slot, debugreg[7] the DR7 with global enables
 * (Gn, GE), R/Wn and LENn; the control is ENABLE plus USE_HW_BP when a slot
 * is enabled, SINGLESTEP (and BLOCKIRQ when available) when stepping,
 * USE_SW_BP when INT3s are planted, INJECT_DB/INJECT_BP on request. With
 * nothing asked for, control is 0: guest debugging off. Disabled slots
 * contribute nothing, whatever their other fields hold. Returns 0, or
 * -EINVAL when an enabled slot does not fit one register (x86_hw_fits) or
 * `inject` is not 0, 1 or 3; *out is then all zeroes.
 */
int x86_dbg_encode(const struct x86_hw_slot slots[X86_NR_HW_SLOTS],
		   const struct x86_dbg_flags *f, struct kvm_guest_debug *out);

/* DR6 as the classifier and logs need it. */
struct x86_dr6 {
	uint8_t hits; /* B0-B3: bit n set when DRn's condition was met */
	bool bd;      /* debug-register access detected (DR7.GD) */
	bool bs;      /* single step */
	bool bt;      /* task switch */
};

void x86_dr6_decode(uint64_t dr6, struct x86_dr6 *out);

/*
 * The slots a DR7 value enables (Ln or Gn set), with addresses from
 * addr[0..3] (may be NULL: addresses 0). Disabled slots come back zeroed.
 * Returns 0, or -EINVAL when an enabled slot has R/W 10 (I/O), which
 * kvmdbg never programs; that slot comes back disabled.
 */
int x86_dr7_decode(uint64_t dr7, const uint64_t addr[X86_NR_HW_SLOTS],
		   struct x86_hw_slot out[X86_NR_HW_SLOTS]);

/* The inverse of x86_dbg_encode, for tests and "monitor" diagnostics. */
int x86_dbg_decode(const struct kvm_guest_debug *dbg,
		   struct x86_hw_slot slots[X86_NR_HW_SLOTS],
		   struct x86_dbg_flags *f);

/* One line for logs, e.g. "B0 B2 BS" or "-" when no bit is set; and
 * "0:exec@0x1000/1 2:write@0x2000/8" for DR7 ("-" when none enabled).
 * Return what snprintf returns. */
int x86_dr6_describe(uint64_t dr6, char *buf, size_t len);
int x86_dr7_describe(uint64_t dr7, const uint64_t addr[X86_NR_HW_SLOTS],
		     char *buf, size_t len);

const char *x86_hw_type_name(enum x86_hw_type type);

#endif
