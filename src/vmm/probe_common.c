/* The host probes' shared timeout signal and helpers. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vmm/probe_common.h"

struct kvm_run *volatile probe_guard_run;
volatile sig_atomic_t probe_guard_fired;

static void probe_sig_handler(int sig)
{
	struct kvm_run *run = probe_guard_run;

	(void)sig;
	probe_guard_fired = 1;
	if (run)
		run->immediate_exit = 1;
}

int probe_sig_enter(struct probe_sig_state *s)
{
	struct sigaction sa;
	sigset_t set;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_sig_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(PROBE_SIG, &sa, &s->old_sa) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, PROBE_SIG);
	r = pthread_sigmask(SIG_UNBLOCK, &set, &s->old_mask);
	if (r) {
		sigaction(PROBE_SIG, &s->old_sa, NULL);
		return -r;
	}
	return 0;
}

void probe_sig_leave(struct probe_sig_state *s)
{
	const struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, PROBE_SIG);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (sigtimedwait(&set, NULL, &zero) == PROBE_SIG)
		;
	pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
	sigaction(PROBE_SIG, &s->old_sa, NULL);
}

uint64_t probe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool probe_module_loaded(const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

int kvm_probe_run(struct kvm_probe_result *out, char *err, size_t errlen)
{
	struct probe_sig_state sig;
	uint64_t t0 = probe_now_ns(), t1, t2, t3;
	struct probe_vm *vm;
	int r;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	vm = calloc(1, probe_vm_size());
	if (!vm) {
		snprintf(err, errlen, "probe: out of memory");
		return -ENOMEM;
	}
	r = probe_sig_enter(&sig);
	if (r < 0) {
		snprintf(err, errlen, "probe: cannot install the SIGUSR2 "
			 "handler: %s", strerror(-r));
		free(vm);
		return r;
	}
	r = probe_vm_create(vm, &out->caps, err, errlen);
	if (r < 0) {
		probe_sig_leave(&sig);
		free(vm);
		return r;
	}
	t1 = probe_now_ns();
	probe_run_tests(vm, out);
	t2 = probe_now_ns();
	probe_vm_destroy(vm);
	free(vm);
	probe_sig_leave(&sig);
	kvm_probe_derive(out);
	t3 = probe_now_ns();
	out->elapsed_ns = t3 - t0;
	out->setup_usec = (uint32_t)((t1 - t0) / 1000);
	out->teardown_usec = (uint32_t)((t3 - t2) / 1000);
	return 0;
}

void probe_out_add(struct probe_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len == 0 || o->pos + 1 >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->pos += (size_t)n;
	if (o->pos >= o->len)
		o->pos = o->len - 1;
}

void probe_out_ms(struct probe_out *o, uint64_t ns)
{
	probe_out_add(o, "%" PRIu64 ".%01" PRIu64 " ms", ns / 1000000,
		      (ns / 100000) % 10);
}

const char *probe_watch_words(enum kvm_probe_watch_strategy s)
{
	switch (s) {
	case KVM_PROBE_WATCH_DEBUG_REGS_THEN_PAGES:
		return "watchpoints by debug registers, then page protection";
	case KVM_PROBE_WATCH_PAGES_ONLY:
		return "watchpoints by page protection";
	case KVM_PROBE_WATCH_DEBUG_REGS_ONLY:
		return "watchpoints by debug registers only";
	case KVM_PROBE_WATCH_NONE:
		break;
	}
	return "no watchpoints";
}

const char *probe_watch_token(enum kvm_probe_watch_strategy s)
{
	switch (s) {
	case KVM_PROBE_WATCH_DEBUG_REGS_THEN_PAGES:
		return "debug_regs_then_pages";
	case KVM_PROBE_WATCH_PAGES_ONLY:
		return "pages_only";
	case KVM_PROBE_WATCH_DEBUG_REGS_ONLY:
		return "debug_regs_only";
	case KVM_PROBE_WATCH_NONE:
		break;
	}
	return "none";
}
