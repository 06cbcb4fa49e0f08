/* VMM internals shared by vm.c, vcpu.c, devices/ and arch/. */
#ifndef KVMDBG_VMM_INTERNAL_H
#define KVMDBG_VMM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <linux/kvm.h>

#include "vmm/vmm.h"
#include "vmm/kvm.h"
#include "vmm/memslots.h"
#include "vmm/loader.h"

struct vmm_ram {
	uint64_t gpa, size;
	uint8_t *hva;
};

#define VMM_MAX_RAM 4

/* I/O handlers run on vCPU threads; each device locks its own state. */
typedef void (*vmm_io_fn)(struct vmm *vm, void *opaque, uint64_t addr,
			  bool is_write, uint8_t *data, unsigned size);

struct vmm_io_range {
	uint64_t base, len;
	vmm_io_fn fn;
	void *opaque;
};

#define VMM_MAX_IO 16

enum vcpu_state {
	VCPU_PARKED = 0,
	VCPU_RUNNING,
	VCPU_DEAD,
};

struct vcpu {
	struct vmm *vm;
	unsigned idx;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;

	/* Under vm->lock. */
	bool go; /* the loop wants it running */
	enum vcpu_state state;
	bool has_event;
	struct vmm_event event;
	uint64_t event_seq;
	void *arch_state; /* arch register cache, owned by arch code */
	/* The registers KVM stores in run->s after every KVM_RUN when
	 * run->kvm_valid_regs asks for them (x86 KVM_CAP_SYNC_REGS) are the
	 * vCPU's: set by the vCPU thread after KVM_RUN, cleared by arch code
	 * whenever it sets registers through an ioctl instead. */
	bool regs_synced;
	/* vmm_set_step_range(); read by the vCPU thread while it runs. */
	bool step_range_on;
	struct vmm_step_range step_range;
};

struct vmm {
	struct vmm_config cfg;
	struct kvm_sys sys;
	int fd; /* VM fd */
	int memfd;
	uint8_t *mem; /* whole RAM mapping */
	uint64_t mem_size;
	struct vmm_ram ram[VMM_MAX_RAM];
	unsigned nr_ram;
	struct memslots slots;
	struct loader_image image;
	char *image_path;

	struct vcpu *vcpus[VMM_MAX_VCPUS];
	unsigned nr_vcpus;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* vCPU threads wait here for go */
	pthread_cond_t parked_cond; /* the loop waits here for parks */
	bool quit;
	uint64_t event_seq;

	struct vmm_io_range pio[VMM_MAX_IO], mmio[VMM_MAX_IO];
	unsigned nr_pio, nr_mmio;
	atomic_uint unknown_io_logged;

	vmm_ram_hook ram_hook;
	void *ram_hook_opaque;

	void *arch; /* arch-private VM state */
	void *console; /* the console device, for vmm_console_input */
	void (*console_input)(void *console, const uint8_t *buf, size_t len);
};

int vmm__register_pio(struct vmm *vm, uint64_t base, uint64_t len,
		      vmm_io_fn fn, void *opaque);
int vmm__register_mmio(struct vmm *vm, uint64_t base, uint64_t len,
		       vmm_io_fn fn, void *opaque);
void vmm__dispatch_io(struct vmm *vm, struct vmm_io_range *table,
		      unsigned n, const char *space, uint64_t addr,
		      bool is_write, uint8_t *data, unsigned size);

/* Called by devices on a vCPU thread: stop this vCPU with an event once
 * the current exit is handled. */
void vmm__vcpu_event(struct vcpu *v, const struct vmm_event *ev);
/* The vCPU currently running on this thread, or NULL. */
struct vcpu *vmm__current_vcpu(void);

int vmm__irq_line(struct vmm *vm, unsigned irq, int level);

int vcpu__create(struct vmm *vm, unsigned idx, struct vcpu **out);
int vcpu__start(struct vcpu *v);
void vcpu__destroy(struct vcpu *v);
void vcpu__kick(struct vcpu *v);

#endif
