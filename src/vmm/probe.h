/* The start-up host probe: a throwaway VM that learns which guest-debug
 * mechanisms this host's KVM honours, and the strategy kvmdbg derives. */
#ifndef KVMDBG_VMM_PROBE_H
#define KVMDBG_VMM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * KVM implementations differ in how they honour guest debugging (see
 * HOST.md), so kvmdbg measures instead of assuming. The probe runs its own
 * one-vCPU VM in flat 32-bit protected mode at CPL0 with hand-assembled
 * code, tries each mechanism once under a per-test timeout, and records a
 * verdict with the evidence (exit reason, exception, pc, DR6). The strategy
 * is derived from the verdicts alone, never from the name of the module
 * that provides /dev/kvm.
 */

enum kvm_probe_mech {
	KVM_PROBE_SW_BP = 0,     /* INT3 with KVM_GUESTDBG_USE_SW_BP */
	KVM_PROBE_GUEST_BP,      /* INT3 without guest debugging */
	KVM_PROBE_BP_REINJECT,   /* KVM_GUESTDBG_INJECT_BP after an INT3 stop */
	KVM_PROBE_HW_EXEC,       /* DR0 execute breakpoint */
	KVM_PROBE_HW_EXEC_RF,    /* resuming from it with RFLAGS.RF */
	KVM_PROBE_HW_DATA_WRITE, /* DR0 write watchpoint */
	KVM_PROBE_HW_DATA_RW,    /* DR0 read/write watchpoint, read access */
	KVM_PROBE_SINGLE_STEP,   /* KVM_GUESTDBG_SINGLESTEP */
	KVM_PROBE_BLOCKIRQ,      /* KVM_GUESTDBG_BLOCKIRQ while stepping */
	KVM_PROBE_READONLY_MEM,  /* a write to a KVM_MEM_READONLY slot */
	KVM_PROBE_UNMAPPED_READ, /* a read of a gpa with no slot */
	KVM_PROBE_NR_MECH
};

enum kvm_probe_verdict {
	KVM_PROBE_UNTESTED = 0, /* not run: a capability is missing */
	KVM_PROBE_WORKS,        /* as Documentation/virt/kvm/api.rst says */
	KVM_PROBE_DIFFERS,      /* usable, but another way: see the variant */
	KVM_PROBE_NOT_HONOURED, /* silently ignored, or the guest hung */
	KVM_PROBE_ERROR,        /* an ioctl failed or the exit made no sense */
};

/* How a mechanism differs, or how it failed; NONE when it works. */
enum kvm_probe_variant {
	KVM_PROBE_VAR_NONE = 0,
	KVM_PROBE_VAR_EMULATION_FAILURE, /* INTERNAL_ERROR, emulation */
	KVM_PROBE_VAR_DELIVERED,         /* the guest's own handler ran */
	KVM_PROBE_VAR_NO_EXIT,           /* ran on to the end marker */
	KVM_PROBE_VAR_HIT_AGAIN,         /* stopped again at the same pc */
	KVM_PROBE_VAR_TIMEOUT,           /* no exit within the time limit */
	KVM_PROBE_VAR_FAULT_LIKE,        /* injected #BP returns to the INT3 */
	KVM_PROBE_VAR_UNEXPECTED,        /* some other exit or state */
};

/* The KVM exit a test ended on, as far as it is known. */
struct kvm_probe_exit {
	uint32_t reason;    /* KVM_EXIT_*; KVM_EXIT_INTR after a timeout */
	uint32_t detail;    /* DEBUG: exception; INTERNAL_ERROR: suberror */
	uint64_t pc;        /* DEBUG: debug.arch.pc; otherwise rip */
	uint64_t dr6;       /* DEBUG only */
	uint64_t expect_pc; /* the pc the documented behaviour gives */
	uint64_t ref;       /* INT3 tests: the INT3's address */
};

struct kvm_probe_test {
	enum kvm_probe_verdict verdict;
	enum kvm_probe_variant variant;
	struct kvm_probe_exit exit;
	uint32_t usec; /* wall time of this test */
	char evidence[112];
};

struct kvm_probe_caps {
	int set_guest_debug;
	int set_guest_debug2; /* the KVM_GUESTDBG_* mask this KVM accepts */
	int nr_vcpus;
	int max_vcpus;
	int guest_debug_hw_bps;
	int guest_debug_hw_wps;
	int immediate_exit;
	int sync_regs;
	int readonly_mem;
	int signal_msi;
	int exit_on_emulation_failure;
	/* Informational only: which modules are loaded. Nothing in kvmdbg
	 * may choose a strategy from these. */
	bool mod_kvm_pvm, mod_kvm_intel, mod_kvm_amd;
};

enum kvm_probe_sw_bp_strategy {
	KVM_PROBE_SW_BP_NONE = 0,          /* no usable INT3 stop */
	KVM_PROBE_SW_BP_KVM_DEBUG_EXIT,    /* KVM_EXIT_DEBUG, exception 3 */
	KVM_PROBE_SW_BP_EMULATION_FAILURE, /* emulation failure on 0xCC */
};

enum kvm_probe_hw_resume {
	KVM_PROBE_RESUME_DISABLE_SLOT = 0, /* clear the slot for one step */
	KVM_PROBE_RESUME_RF,               /* set RFLAGS.RF and continue */
};

enum kvm_probe_watch_strategy {
	KVM_PROBE_WATCH_NONE = 0,
	KVM_PROBE_WATCH_PAGES_ONLY,
	KVM_PROBE_WATCH_DEBUG_REGS_ONLY,
	KVM_PROBE_WATCH_DEBUG_REGS_THEN_PAGES,
};

struct kvm_probe_strategy {
	enum kvm_probe_sw_bp_strategy sw_bp;
	enum kvm_probe_hw_resume hw_exec_resume;
	enum kvm_probe_watch_strategy watch;
	bool step_blockirq;
	bool guest_can_take_bp;
	/* KVM_GUESTDBG_INJECT_BP delivers #BP with the return address at
	 * the current rip (fault-like), so before reinjecting the guest's own
	 * INT3 the VMM must move rip past it; documented KVM takes the INT3's
	 * length from the intercepted instruction itself. */
	bool reinject_bp_skips_int3;
};

struct kvm_probe_result {
	struct kvm_probe_test test[KVM_PROBE_NR_MECH];
	struct kvm_probe_caps caps;
	struct kvm_probe_strategy strategy;
	uint64_t elapsed_ns;
	/* Where the time went: building the VM (memslot changes wait for an
	 * SRCU grace period) and tearing it down. */
	uint32_t setup_usec, teardown_usec;
};

/*
 * Run the probe: open /dev/kvm (or $KVMDBG_DEV), build the probe VM, run
 * every test, tear everything down and fill *out, strategy included. A
 * mechanism that misbehaves is a verdict, not a failure: the return value
 * is negative (errno, with err filled in) only when no VM could be built at
 * all. The calling thread receives SIGUSR2 when a test times out; the
 * probe installs a handler for it and restores the old one. Not
 * reentrant: run one probe at a time per process.
 */
int kvm_probe_run(struct kvm_probe_result *out, char *err, size_t errlen);

/* Fill r->strategy from r's verdicts and caps. Pure. */
void kvm_probe_derive(struct kvm_probe_result *r);

/* The human table (several lines, each ending in '\n') and the
 * machine-readable form (one line of space-separated key=value tokens, no
 * trailing newline). Both are truncated to fit len and always terminated
 * when len > 0. Pure. */
void kvm_probe_format(const struct kvm_probe_result *r, char *buf,
		      size_t len);
void kvm_probe_format_kv(const struct kvm_probe_result *r, char *buf,
			 size_t len);

/* Names used in the kv form: "sw_bp", ... and the mechanism's outcome
 * token ("works", "emulation_failure", "never_fires", "ignored", ...). */
const char *kvm_probe_mech_key(enum kvm_probe_mech m);
const char *kvm_probe_outcome_token(enum kvm_probe_mech m,
				    const struct kvm_probe_test *t);

/* For tests: build the probe VM, run a guest that spins forever under a
 * timeout of `ms`, and check the guard stops it (KVM_RUN returns, the
 * vCPU still runs code afterwards). 0 when it does, else -errno with err
 * filled in. */
int kvm__probe_timeout_selftest(unsigned ms, char *err, size_t errlen);

#endif
