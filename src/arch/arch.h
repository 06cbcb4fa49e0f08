/* Everything machine-specific the generic VMM and debugger code need, behind
 * one ops table per architecture chosen at build time. */
#ifndef KVMDBG_ARCH_ARCH_H
#define KVMDBG_ARCH_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vcpu;
struct vmm_ram;
struct loader_image;

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
};

extern const struct arch_ops arch_host;

#endif
