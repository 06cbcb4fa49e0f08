/* What the host probes of every architecture share: the timeout signal
 * that stops a probe vCPU, and small helpers. One probe runs at a time. */
#ifndef KVMDBG_VMM_PROBE_COMMON_H
#define KVMDBG_VMM_PROBE_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#define PROBE_SIG SIGUSR2

/* The kvm_run the timeout signal stops (its immediate_exit is set), and
 * whether the signal came. */
extern struct kvm_run *volatile probe_guard_run;
extern volatile sig_atomic_t probe_guard_fired;

/*
 * The timeout signal: a handler without SA_RESTART, unblocked in the
 * calling thread only for the probe's duration. On the way out a kick that
 * raced with the last exit may still be pending; it is consumed while
 * blocked so it cannot reach the old disposition.
 */
struct probe_sig_state {
	struct sigaction old_sa;
	sigset_t old_mask;
};
int probe_sig_enter(struct probe_sig_state *s);
void probe_sig_leave(struct probe_sig_state *s);

uint64_t probe_now_ns(void);
/* Informational only: is a kernel module loaded? */
bool probe_module_loaded(const char *name);

#endif
