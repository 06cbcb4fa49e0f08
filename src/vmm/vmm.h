/* The tiny VMM: one VM, its RAM and vCPU threads. The libuv loop thread
 * owns the VM; vCPU threads only run the guest, serve device exits and
 * report events through the notify callback. */
#ifndef KVMDBG_VMM_VMM_H
#define KVMDBG_VMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vcpu;

#define VMM_MAX_VCPUS 64
#define VMM_DEFAULT_MEM (128ULL << 20)
#define VMM_MIN_MEM (2ULL << 20)

struct vmm_config {
	uint64_t mem_size;
	unsigned nr_vcpus;
	const char *image;
	const char *append; /* guest command line, may be NULL */
	int console_fd; /* guest serial output, -1 to discard */
	/* Called on a vCPU thread when that vCPU stopped on its own (guest
	 * exit, triple fault, debug event). Must be async-signal-safe enough
	 * to run from any thread: uv_async_send is. */
	void (*notify)(void *opaque);
	void *notify_opaque;
};

enum vmm_event_kind {
	VMM_EVENT_NONE = 0,
	VMM_EVENT_EXIT, /* the guest wrote the exit device */
	VMM_EVENT_SHUTDOWN, /* triple fault */
	VMM_EVENT_DEBUG, /* KVM_EXIT_DEBUG or an emulation failure on a trap */
	VMM_EVENT_FAIL, /* KVM could not run the vCPU (entry failure,
			   internal error, dead VM) */
};

struct vmm_event {
	enum vmm_event_kind kind;
	unsigned vcpu;
	int exit_status; /* EXIT: the process status, (v << 1) | 1 */
	char why[160]; /* FAIL/SHUTDOWN: a human description */
	/* DEBUG: the exit as KVM reported it, for the classifier: the exit
	 * reason and the kvm_run union that describes it. */
	uint32_t exit_reason;
	uint8_t exit_info[256];
	/* DEBUG from a RAM access hook (page-protection watchpoints): what
	 * the hook recorded. */
	bool from_ram_hook;
	uint64_t hook_data[4];
	/* DEBUG: an access KVM could not decode to a protected page, outside
	 * the watched bytes: the page at lift_gpa must be mapped for one step
	 * so the instruction can run. */
	bool lift_page;
	uint64_t lift_gpa;
};

/* Called on a vCPU thread after it completed a guest access to RAM that is
 * protected (read-only or unmapped memslot): gpa, len and direction of the
 * access. Return true to stop this vCPU with a DEBUG event; fill
 * hook_data. The tables it reads change only while every vCPU is parked. */
typedef bool (*vmm_ram_hook)(void *opaque, unsigned vcpu, uint64_t gpa,
			     unsigned len, bool is_write, uint64_t data[4]);
void vmm_set_ram_hook(struct vmm *vm, vmm_ram_hook hook, void *opaque);

/* Change the protection of guest-physical pages [gpa, gpa+size) (every
 * vCPU parked): "rw", read-only (writes exit) or none (all accesses exit). */
int vmm_protect(struct vmm *vm, uint64_t gpa, uint64_t size, int prot);

struct vmm_error {
	bool kvm; /* KVM itself is unavailable or refused (vs. bad input) */
	char msg[512]; /* one line, no program name, no newline */
};

/* Build the VM, load the image and leave every vCPU parked at its entry.
 * Returns 0, or a negative errno with e filled in; on failure nothing is
 * left behind. */
int vmm_create(const struct vmm_config *cfg, struct vmm **out,
	       struct vmm_error *e);
void vmm_destroy(struct vmm *vm);

/* The checks vmm_create makes on the configuration before touching KVM,
 * given the host's memory and KVM's vCPU limit; pure, for tests. */
int vmm_check_config(const struct vmm_config *cfg, uint64_t host_mem,
		     unsigned max_vcpus, char *err, size_t errlen);

unsigned vmm_nr_vcpus(const struct vmm *vm);
const char *vmm_image_path(const struct vmm *vm);

/* Run control, called from the loop thread only. vCPUs start parked. */
/* Resume every vCPU / one vCPU; cached registers are written back
 * first (a failure to write them is returned and nothing runs). */
int vmm_resume_all(struct vmm *vm);
int vmm_resume_one(struct vmm *vm, unsigned idx);
/* Stop every vCPU and wait until each is parked with its state complete
 * (pending I/O finished). */
void vmm_pause_all(struct vmm *vm);

/* Range stepping done by the vCPU thread itself: while a vCPU that was
 * resumed with a single-step stops by that step alone at a pc inside
 * [start, end), not one of skip[], it steps on without an event; the
 * first stop outside (or for any other reason) is its event as usual.
 * skip[] lists pcs the loop must see (an instruction kvmdbg completes
 * itself, e.g. x86 HLT). Set while the vCPU is parked; NULL clears. */
#define VMM_STEP_SKIP_MAX 8
struct vmm_step_range {
	uint64_t start, end;
	unsigned nr_skip;
	uint64_t skip[VMM_STEP_SKIP_MAX];
};
void vmm_set_step_range(struct vmm *vm, unsigned idx,
			const struct vmm_step_range *r);

/* Take the oldest pending event (a vCPU that stopped itself) among the
 * vCPUs whose bit is set in mask (bit i: vCPU i): a vCPU the debugger did
 * not resume keeps its event for later. */
bool vmm_take_event_of(struct vmm *vm, uint64_t mask, struct vmm_event *ev);

/* Guest memory. vmm_gpa_to_hva checks [gpa, gpa+len) lies in one RAM
 * range, overflow-safely, and returns NULL otherwise. */
void *vmm_gpa_to_hva(struct vmm *vm, uint64_t gpa, uint64_t len);
int vmm_read_phys(struct vmm *vm, uint64_t gpa, void *buf, size_t len);
int vmm_write_phys(struct vmm *vm, uint64_t gpa, const void *buf, size_t len);
/* Through the page tables of vCPU idx (which must be parked): -EFAULT on
 * the first unmapped byte. */
int vmm_read_virt(struct vmm *vm, unsigned idx, uint64_t gva, void *buf,
		  size_t len);
int vmm_write_virt(struct vmm *vm, unsigned idx, uint64_t gva,
		   const void *buf, size_t len);
int vmm_translate(struct vmm *vm, unsigned idx, uint64_t gva, uint64_t *gpa);

/* The vCPU object for arch and debugger code, or NULL. */
struct vcpu *vmm_vcpu(struct vmm *vm, unsigned idx);

/* Human-readable register dump of a parked vCPU (for fatal exits). */
void vmm_dump_vcpu(struct vmm *vm, unsigned idx, char *buf, size_t len);

/* Serial input from the user (stdin), queued for the guest's UART. */
void vmm_console_input(struct vmm *vm, const uint8_t *buf, size_t len);

#endif
