/* The host probes' shared timeout signal and helpers. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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
