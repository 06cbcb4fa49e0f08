/* What the host probes of every architecture share: the timeout signal
 * that stops a probe vCPU, and small helpers. One probe runs at a time. */
#ifndef KVMDBG_VMM_PROBE_COMMON_H
#define KVMDBG_VMM_PROBE_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "vmm/probe.h"

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

/*
 * What each architecture's probe (probe.c, probe_arm64.c; one per build)
 * defines: its probe VM, created zeroed, and the tests run in it.
 * kvm_probe_run (probe_common.c) is the frame around them, the same on
 * every architecture: the timeout signal, create, run the tests, destroy,
 * then the strategy and the timings.
 */
struct probe_vm;
size_t probe_vm_size(void);
int probe_vm_create(struct probe_vm *p, struct kvm_probe_caps *caps,
		    char *err, size_t errlen);
void probe_run_tests(struct probe_vm *p, struct kvm_probe_result *out);
void probe_vm_destroy(struct probe_vm *p);

/* Bounded text output for the probe's tables. */
struct probe_out {
	char *buf;
	size_t len, pos;
};
void probe_out_add(struct probe_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void probe_out_ms(struct probe_out *o, uint64_t ns);
/* The watch strategy as words for the table and as a key=value token. */
const char *probe_watch_words(enum kvm_probe_watch_strategy s);
const char *probe_watch_token(enum kvm_probe_watch_strategy s);
/* Informational only: is a kernel module loaded? */
bool probe_module_loaded(const char *name);

#endif
