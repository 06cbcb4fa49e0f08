/* The breakpoint manager: Z0-Z4 requests routed to software traps, the
 * global hardware slot pool or page-protection watchpoints, following the
 * host probe's strategy; the per-vCPU debug state for each run; stepping
 * a vCPU over its own breakpoint; and the classification of debug exits.
 * Lives on the loop thread; vCPU threads only read its tables (the watch
 * hook) while they run, and the tables change only while all are parked. */
#ifndef KVMDBG_BP_MANAGER_H
#define KVMDBG_BP_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vmm_event;
struct kvm_probe_result;
struct arch_verdict;
struct bp_mgr;

/* Z packet types. */
enum bp_type {
	BP_SW = 0,
	BP_HW = 1,
	BP_WATCH_WRITE = 2,
	BP_WATCH_READ = 3,
	BP_WATCH_ACCESS = 4,
};

/* probe may be NULL: then traps are assumed to exit as KVM documents,
 * and watchpoints use page protection only. */
int bp_mgr_create(struct vmm *vm, const struct kvm_probe_result *probe,
		  struct bp_mgr **out);
void bp_mgr_destroy(struct bp_mgr *m);

/* Insert or remove one Z/z request. Addresses are guest-virtual, resolved
 * through vCPU `vcpu`'s page tables. Errors: -ENOSPC (no slot left),
 * -EFAULT (unmapped), -ENOENT (remove of an unknown one), -EOPNOTSUPP. */
int bp_mgr_insert(struct bp_mgr *m, unsigned vcpu, enum bp_type type,
		  uint64_t addr, uint64_t kind);
int bp_mgr_remove(struct bp_mgr *m, enum bp_type type, uint64_t addr,
		  uint64_t kind);
/* Is the request (type, addr, kind) in place? */
bool bp_mgr_has(const struct bp_mgr *m, enum bp_type type, uint64_t addr,
		uint64_t kind);
/* How many Z0 (type BP_SW) or Z1 (BP_HW) requests at addr are live. */
unsigned bp_mgr_code_refs(const struct bp_mgr *m, enum bp_type type,
			  uint64_t addr);
/* Every breakpoint and watchpoint gone, every byte and page restored
 * (detach, kill, a dropped connection). */
int bp_mgr_remove_all(struct bp_mgr *m);

/* Guest memory as the debugger must see it: patched traps read as the
 * original bytes, writes over them update the saved original. */
void bp_mgr_shadow_read(const struct bp_mgr *m, uint64_t gpa, void *buf,
			size_t len);
void bp_mgr_filter_write(struct bp_mgr *m, uint64_t gpa, void *buf,
			 size_t len);

/* Before vCPU `vcpu` runs: does it sit on one of our breakpoints? Then
 * it must first step over it alone (bp_mgr_begin_step_over). */
bool bp_mgr_needs_step_over(struct bp_mgr *m, unsigned vcpu);
int bp_mgr_begin_step_over(struct bp_mgr *m, unsigned vcpu);
int bp_mgr_end_step_over(struct bp_mgr *m, unsigned vcpu);
/* After an emulation failure: was it a fetch from a page unmapped for a
 * watchpoint? Then that page is mapped read-only for one internal step
 * (returns 1; finish with bp_mgr_end_step_over), else 0. */
int bp_mgr_begin_fetch_step(struct bp_mgr *m, unsigned vcpu);
/* An access to the protected page at gpa that kvmdbg cannot complete
 * itself (arm64: an instruction KVM gives no syndrome for), outside the
 * watched bytes: that page is mapped for one internal step of this vCPU
 * (returns 1; finish with bp_mgr_end_step_over), 0 when gpa is on no
 * protected page, or -errno. Other bytes of the page that this one
 * instruction touches are not seen. */
int bp_mgr_begin_access_step(struct bp_mgr *m, unsigned vcpu, uint64_t gpa);
bool bp_mgr_stepping_over(const struct bp_mgr *m, unsigned vcpu);

/* Program vCPU `vcpu` for its next run: single-step or not, the global
 * slots, traps, and an exception to deliver to the guest (set by a
 * REINJECT verdict, delivered once). */
int bp_mgr_arm_vcpu(struct bp_mgr *m, unsigned vcpu, bool step);

/* A DEBUG event of vCPU `vcpu` (parked). `stepping`: the debugger asked
 * that vCPU to step. Applies what the verdict implies to the vCPU (pc
 * rewind, pending reinjection) and returns it. */
int bp_mgr_classify(struct bp_mgr *m, unsigned vcpu,
		    const struct vmm_event *ev, bool stepping,
		    struct arch_verdict *out);

/* A hit of the debug-register access slot watching addr: does it serve
 * a read watchpoint (report rwatch) rather than an access one? */
bool bp_mgr_access_is_read(const struct bp_mgr *m, uint64_t addr);
/* For such a hit: did the watched bytes change since the guest resumed?
 * Then it was a write, which a read watchpoint does not report (as gdb
 * itself does with x86's access-only debug registers). */
bool bp_mgr_read_hit_was_write(struct bp_mgr *m, unsigned vcpu,
			       uint64_t addr);

/* Where each live request is served, for a person (monitor
 * breakpoints): traps with their guest-physical address, each bank's
 * slots, page-protection watchpoints and the pages they protect. */
void bp_mgr_describe(const struct bp_mgr *m, char *out, size_t cap);

/* A page-protection watch hit recorded by the RAM hook. */
void bp_mgr_watch_hit(const struct vmm_event *ev, int *type, uint64_t *addr);

#endif
