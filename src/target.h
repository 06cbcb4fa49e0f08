/* kvmdbg's debuggee: the VMM presented to the RSP session through
 * struct rsp_target_ops. Lives on the loop thread. */
#ifndef KVMDBG_TARGET_H
#define KVMDBG_TARGET_H

#include <stdbool.h>

#include "rsp/target.h"

struct vmm;
struct vmm_event;
struct kvm_target;

/* What the target asks of its owner (main). wake: call kvm_target_poll
 * soon, from the loop (it is uv_async_send, so it may be called from any
 * thread and coalesces). kill: end the run. */
struct kvm_target_host {
	void (*wake)(void *opaque);
	void (*kill)(void *opaque);
	void *opaque;
};

extern const struct rsp_target_ops kvm_target_ops;

struct kvm_probe_result;

/* probe: what this host's KVM honours (from start-up), or NULL when the
 * probe could not run: then the most conservative strategies are used. */
int kvm_target_create(struct vmm *vm, const struct kvm_target_host *host,
		      const struct kvm_probe_result *probe,
		      struct kvm_target **out);
void kvm_target_destroy(struct kvm_target *t);

/* The guest is running (resumed by a debugger or --no-wait). */
bool kvm_target_running(const struct kvm_target *t);
/* The debugger is gone (or detached): every breakpoint removed, every
 * byte restored, every vCPU parked. */
int kvm_target_forget_debugger(struct kvm_target *t);
/* Running because of run_free (not a debugger's resume)? */
bool kvm_target_free_running(const struct kvm_target *t);
/* Start the guest without a debugger (--no-wait, or after detach). */
int kvm_target_run_free(struct kvm_target *t);
/* Stop every vCPU now (a debugger attached, or disconnected). Returns the
 * stop to report. */
void kvm_target_stop_all(struct kvm_target *t, struct rsp_stop *stop);
/* After a wake: is there a stop to report? Pauses every vCPU when there
 * is. Events from vCPUs come before a pending interrupt request. */
bool kvm_target_poll(struct kvm_target *t, struct rsp_stop *stop);
/* The description of the event behind the last stop ("" for none). */
const char *kvm_target_why(const struct kvm_target *t);

#endif
