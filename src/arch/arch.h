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
};

/* What the debugger wants from the hardware for one vCPU's next run. */
struct arch_debug {
	bool single_step;
	bool block_irq; /* with single_step: KVM_GUESTDBG_BLOCKIRQ */
};

extern const struct arch_ops arch_host;

#endif
