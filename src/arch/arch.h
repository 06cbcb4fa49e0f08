/* Everything machine-specific the generic VMM and debugger code need, behind
 * one ops table per architecture chosen at build time. */
#ifndef KVMDBG_ARCH_ARCH_H
#define KVMDBG_ARCH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vcpu;
struct vmm_ram;
struct loader_image;
struct arch_debug;

struct bp_hw_slot;
struct vmm_event;
struct vmm_step_range;

/* What the debugger wants from the hardware for one vCPU's next run. */
struct arch_debug {
	bool single_step;
	bool block_irq; /* with single_step: KVM_GUESTDBG_BLOCKIRQ */
	bool use_sw_bp; /* trap instructions are planted */
	/* The global hardware slots (every vCPU gets the same), minus the
	 * ones suppressed for this run (stepping over one of them). */
	const struct bp_hw_slot *slots;
	unsigned nr_slots;
	uint64_t suppressed;
	unsigned inject; /* deliver the guest's own exception: 0 or vector */
};

enum arch_verdict_kind {
	ARCH_VERDICT_NOT_DEBUG = 0, /* not a trap: report as a crash */
	ARCH_VERDICT_DEBUGGER, /* stop and report reason at addr */
	ARCH_VERDICT_REINJECT, /* the guest's own: inject vector, run on */
	ARCH_VERDICT_INTERNAL, /* kvmdbg's own step-over */
};

enum arch_stop_reason {
	ARCH_STOP_NONE = 0,
	ARCH_STOP_SWBREAK,
	ARCH_STOP_HWBREAK,
	ARCH_STOP_WATCH_WRITE,
	ARCH_STOP_WATCH_READ,
	ARCH_STOP_WATCH_ACCESS,
	ARCH_STOP_STEP,
};

enum arch_internal {
	ARCH_INTERNAL_NONE = 0,
	ARCH_INTERNAL_CONTINUE, /* step-over done: re-plant and go on */
	ARCH_INTERNAL_RESTEP, /* no progress: step again */
};

struct arch_verdict {
	enum arch_verdict_kind kind;
	enum arch_stop_reason reason;
	enum arch_internal internal;
	uint64_t addr;
	unsigned vector;
	bool set_pc; /* write rewind_pc to the pc before going on */
	uint64_t rewind_pc;
};

/* What the classifier needs to know besides the exit itself. */
struct arch_classify_ctx {
	bool (*sw_bp_at)(void *opaque, uint64_t pc);
	void *opaque;
	const struct bp_hw_slot *slots;
	unsigned nr_slots;
	uint64_t suppressed;
	bool stepping; /* the debugger asked for a step */
	bool internal_step; /* kvmdbg steps over its own breakpoint */
	uint64_t step_from;
	/* Host facts from the probe. */
	bool trap_is_emulation_failure;
	bool rf_ignored;
	bool dr_data_works;
};

/* Hardware debug registers of one bank, for one global pool. */
struct arch_hw_bank {
	unsigned nr_slots;
	unsigned types; /* BP_HW_TYPE_BIT()s */
	uint64_t max_len;
	bool (*fits)(void *ctx, int type, uint64_t addr, uint64_t len);
	/* The slot count this host gives, known once the VM exists (arm64:
	 * from KVM_CAP_GUEST_DEBUG_HW_BPS/_WPS); NULL or 0: nr_slots. */
	unsigned (*host_slots)(void);
};

struct arch_ops {
	const char *name;
	uint16_t elf_machine64;
	uint16_t elf_machine32; /* 0: no 32-bit images */
	/* Guest-physical [0, boot_reserved_end) holds boot structures. */
	uint64_t boot_reserved_end;
	/* Split mem_size bytes of RAM into guest-physical ranges around the
	 * machine's holes. Returns the number of ranges or -errno. */
	int (*ram_layout)(uint64_t mem_size, struct vmm_ram *out,
			  unsigned max);
	/* Load an image in a format of this machine's other than ELF (arm64:
	 * the Linux Image): 1 when path is one and it is loaded into RAM, 0
	 * when it is not (the ELF loader runs), -errno with err filled when
	 * it is one but cannot be loaded. NULL: ELF only. */
	int (*load_native)(struct vmm *vm, const char *path,
			   struct loader_image *img, char *err,
			   size_t errlen);
	/* Create interrupt controllers and timers, register devices. */
	int (*vm_init)(struct vmm *vm, char *err, size_t errlen);
	void (*vm_destroy)(struct vmm *vm);
	/* Per-vCPU setup after KVM_CREATE_VCPU (CPUID, MSRs...). */
	int (*vcpu_init)(struct vmm *vm, struct vcpu *v);
	/* Write boot structures and set every vCPU's entry state. */
	int (*boot)(struct vmm *vm, const struct loader_image *img,
		    const char *cmdline, char *err, size_t errlen);
	/* Guest-virtual to guest-physical through the vCPU's page tables:
	 * 0, or -EFAULT when unmapped. *page_left is the number of bytes
	 * from gva to the end of its page. */
	int (*translate)(struct vcpu *v, uint64_t gva, uint64_t *gpa,
			 uint64_t *page_left);
	/* Registers and mode of a parked vCPU, for a person to read. */
	void (*dump)(struct vcpu *v, char *buf, size_t len);
	/* One line on the vCPU's mode, e.g. "64-bit, CPL 0". */
	void (*describe)(struct vcpu *v, char *buf, size_t len);

	/* The debugger's register view, in gdb's numbering. Reads and writes
	 * go to a per-vCPU cache filled lazily while the vCPU is parked. */
	const char *gdb_triple; /* lldb's triple, e.g. "x86_64-unknown-none" */
	unsigned (*gdb_nr_regs)(void);
	unsigned (*gdb_reg_size)(unsigned regno);
	const char *(*gdb_features_xml)(const char *annex);
	int (*gdb_read_reg)(struct vcpu *v, unsigned regno, uint8_t *buf);
	int (*gdb_write_reg)(struct vcpu *v, unsigned regno,
			     const uint8_t *buf);
	unsigned (*gdb_expedited)(unsigned *regnos, unsigned max);
	int (*get_pc)(struct vcpu *v, uint64_t *pc);
	/* Write cached registers back before the vCPU runs; forget them
	 * once it has run. */
	int (*state_flush)(struct vcpu *v);
	void (*state_invalidate)(struct vcpu *v);
	/* Guest debugging for the next run of this vCPU. */
	int (*set_debug)(struct vcpu *v, const struct arch_debug *dbg);
	int (*set_pc)(struct vcpu *v, uint64_t pc);
	/* A single-step of the instruction at pc that kvmdbg completes
	 * itself instead of running it: 1 when it did (pc moved on), 0
	 * when the vCPU must run the step. x86: HLT, whose single-step
	 * leaves some hosts unable to deliver interrupts. */
	int (*emulate_step)(struct vcpu *v);
	/* On the vCPU thread, right after a KVM_EXIT_DEBUG of a vCPU with a
	 * step range (vmm_set_step_range): true when the exit is that
	 * single-step alone and the pc is inside the range and not skipped,
	 * and the step is re-armed, so the vCPU runs on. NULL: the loop
	 * sees every step. */
	bool (*step_on)(struct vcpu *v, const struct vmm_step_range *r);
	/* Watchpoints of this architecture trap before the access (arm64),
	 * and its debuggers step the instruction with the watchpoint removed:
	 * page-protection hits are reported the same way, the access not
	 * done. false (x86): reported after the access completed. */
	bool watch_before_access;
	/* A data abort KVM could not decode and handed over as
	 * KVM_EXIT_ARM_NISV (arm64: pairs, writeback forms, SIMD,
	 * exclusives): the guest-physical address of its first byte, how
	 * many bytes the instruction at the pc accesses (1 when unknown) and
	 * whether it writes. Runs on the vCPU's thread. NULL: no such exit. */
	int (*decode_abort)(struct vcpu *v, uint64_t *gpa, unsigned *len,
			    bool *is_write);
	/* The trap instruction software breakpoints patch in. */
	const uint8_t *sw_trap;
	size_t sw_trap_len;
	/* The debug registers, each bank a global pool. hw_bank serves
	 * every type it lists (x86: DR0-3 for execute and data alike). An
	 * architecture with a separate bank of watchpoint registers (arm64:
	 * BVR/BCR pairs and WVR/WCR pairs, counted apart by the host) lists
	 * the execute type in hw_bank and the data types in hw_data_bank;
	 * types 0 there: no such bank. */
	struct arch_hw_bank hw_bank;
	struct arch_hw_bank hw_data_bank;
	/* Classify a DEBUG event (ev->exit_reason, ev->exit_info) of this
	 * vCPU, parked. */
	int (*classify)(struct vcpu *v, const struct vmm_event *ev,
			const struct arch_classify_ctx *ctx,
			struct arch_verdict *out);
};

extern const struct arch_ops arch_host;

#endif
