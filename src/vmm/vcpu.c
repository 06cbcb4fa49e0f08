/* vCPU threads. Each runs KVM_RUN and serves device exits itself; the loop
 * thread stops it with a signal plus kvm_run->immediate_exit and it parks
 * on vm->cond until told to go again. Events a vCPU raises itself (guest
 * exit, triple fault, debug exits) park that vCPU and call cfg.notify. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "arch/arch.h"
#include "vmm/vmm_internal.h"

#define SIG_KICK SIGUSR1

static __thread struct vcpu *current_vcpu;

struct vcpu *vmm__current_vcpu(void)
{
	return current_vcpu;
}

static void kick_handler(int sig)
{
	(void)sig;
}

static int kick_handler_result;

static void install_kick_handler_once(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/* No SA_RESTART: the signal must make KVM_RUN return. */
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		kick_handler_result = -errno;
}

static int install_kick_handler(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, install_kick_handler_once);
	return kick_handler_result;
}

int vcpu__create(struct vmm *vm, unsigned idx, struct vcpu **out)
{
	struct vcpu *v;
	long ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->idx = idx;
	v->state = VCPU_PARKED;
	ret = kvm_ioctl_val(vm->fd, KVM_CREATE_VCPU, idx);
	if (ret < 0)
		goto err_free;
	v->fd = (int)ret;
	v->run_size = (size_t)vm->sys.vcpu_mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	ret = arch_host.vcpu_init(vm, v);
	if (ret < 0)
		goto err_unmap;
	*out = v;
	return 0;

err_unmap:
	munmap(v->run, v->run_size);
err_close:
	close(v->fd);
err_free:
	free(v);
	return (int)ret;
}

void vcpu__destroy(struct vcpu *v)
{
	if (!v)
		return;
	if (v->thread_started)
		pthread_join(v->thread, NULL);
	munmap(v->run, v->run_size);
	close(v->fd);
	free(v->arch_state);
	free(v);
}

void vcpu__kick(struct vcpu *v)
{
	/* immediate_exit covers the window between the thread's last check
	 * and its entry into KVM_RUN; the signal covers a guest already
	 * running. */
	v->run->immediate_exit = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (v->thread_started)
		pthread_kill(v->thread, SIG_KICK);
}

void vmm__vcpu_event(struct vcpu *v, const struct vmm_event *ev)
{
	struct vmm *vm = v->vm;

	pthread_mutex_lock(&vm->lock);
	if (!v->has_event) {
		v->has_event = true;
		v->event = *ev;
		v->event.vcpu = v->idx;
		v->event_seq = ++vm->event_seq;
	}
	pthread_mutex_unlock(&vm->lock);
}

static void fail_event(struct vcpu *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_event(struct vcpu *v, const char *fmt, ...)
{
	struct vmm_event ev = { .kind = VMM_EVENT_FAIL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev.why, sizeof(ev.why), fmt, ap);
	va_end(ap);
	vmm__vcpu_event(v, &ev);
}

static void handle_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool wr = run->io.direction == KVM_EXIT_IO_OUT;

	if (run->io.data_offset + (uint64_t)run->io.size * run->io.count >
	    v->run_size) {
		fail_event(v, "KVM reported an I/O exit outside kvm_run");
		return;
	}
	for (uint32_t i = 0; i < run->io.count; i++) {
		vmm__dispatch_io(v->vm, v->vm->pio, v->vm->nr_pio, "port",
				 run->io.port, wr, data, run->io.size);
		data += run->io.size;
	}
}

/* Does an access to protected RAM touch watched bytes? Then post the
 * watchpoint's DEBUG event. */
static bool ram_watch_hit(struct vcpu *v, uint64_t gpa, unsigned len,
			  bool is_write)
{
	struct vmm *vm = v->vm;
	struct vmm_event ev;

	memset(&ev, 0, sizeof(ev));
	if (!vm->ram_hook ||
	    !vm->ram_hook(vm->ram_hook_opaque, v->idx, gpa, len, is_write,
			  ev.hook_data))
		return false;
	ev.kind = VMM_EVENT_DEBUG;
	ev.from_ram_hook = true;
	ev.exit_reason = v->run->exit_reason;
	vmm__vcpu_event(v, &ev);
	return true;
}

/* An MMIO exit on guest RAM means the page is protected for a watchpoint.
 * Where watchpoints trap before the access, a watched one is reported
 * undone: KVM must not complete it (it would on the next KVM_RUN of an
 * MMIO exit), and the instruction runs again when the vCPU resumes.
 * Otherwise complete the access on the RAM itself, as the hardware would
 * have, then let the hook decide whether it was a watched byte. */
static bool handle_ram_access(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *p = vmm_gpa_to_hva(v->vm, run->mmio.phys_addr,
				    run->mmio.len);

	if (!p)
		return false;
	if (arch_host.watch_before_access &&
	    ram_watch_hit(v, run->mmio.phys_addr, run->mmio.len,
			  run->mmio.is_write)) {
		run->exit_reason = KVM_EXIT_UNKNOWN;
		return true;
	}
	if (run->mmio.is_write)
		memcpy(p, run->mmio.data, run->mmio.len);
	else
		memcpy(run->mmio.data, p, run->mmio.len);
	if (!arch_host.watch_before_access)
		ram_watch_hit(v, run->mmio.phys_addr, run->mmio.len,
			      run->mmio.is_write);
	return true;
}

/* KVM_EXIT_ARM_NISV: a data abort without a syndrome, which KVM cannot
 * emulate. On a protected RAM page: a watched access is reported before
 * it happens (the instruction has not run); any other is handed to the
 * loop, which maps the page for one step. Elsewhere it is a device access
 * no VMM can complete. */
static void handle_nisv(struct vcpu *v)
{
	struct vmm_event ev;
	uint64_t gpa;
	unsigned len;
	bool is_write;

	if (!arch_host.decode_abort ||
	    arch_host.decode_abort(v, &gpa, &len, &is_write) < 0) {
		fail_event(v, "KVM could not decode a data abort on vCPU %u",
			   v->idx);
		return;
	}
	if (!vmm_gpa_to_hva(v->vm, gpa, 1)) {
		fail_event(v, "vCPU %u accessed device memory at 0x%llx with "
			   "an instruction KVM cannot emulate (a load/store "
			   "pair, writeback, SIMD or exclusive access)",
			   v->idx, (unsigned long long)gpa);
		return;
	}
	if (ram_watch_hit(v, gpa, len, is_write))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = VMM_EVENT_DEBUG;
	ev.lift_page = true;
	ev.lift_gpa = gpa;
	ev.exit_reason = v->run->exit_reason;
	vmm__vcpu_event(v, &ev);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.len > sizeof(run->mmio.data)) {
		fail_event(v, "KVM reported an MMIO exit of %u bytes",
			   run->mmio.len);
		return;
	}
	if (handle_ram_access(v))
		return;
	vmm__dispatch_io(v->vm, v->vm->mmio, v->vm->nr_mmio, "MMIO",
			 run->mmio.phys_addr, run->mmio.is_write,
			 run->mmio.data, run->mmio.len);
}

static void record_exit(struct vcpu *v, struct vmm_event *ev)
{
	_Static_assert(sizeof(ev->exit_info) <= sizeof(v->run->padding),
		       "exit_info holds the kvm_run exit union");
	ev->exit_reason = v->run->exit_reason;
	memcpy(ev->exit_info, v->run->padding, sizeof(ev->exit_info));
}

static bool pending_event(struct vcpu *v)
{
	bool ev;

	pthread_mutex_lock(&v->vm->lock);
	ev = v->has_event;
	pthread_mutex_unlock(&v->vm->lock);
	return ev;
}

/* Before parking with an event: finish the instruction behind an I/O
 * exit, so the state a debugger reads is consistent. KVM_RUN with
 * immediate_exit completes the access and returns before the guest runs
 * again, unless the instruction needs another one: a read-modify-write of
 * an unmapped page exits once to read and once more to write, and that
 * write, left unserved, would be lost. So every access it still makes is
 * served here. */
static void finish_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	for (unsigned n = 0; n < 4096; n++) {
		if (run->exit_reason != KVM_EXIT_IO &&
		    run->exit_reason != KVM_EXIT_MMIO)
			return;
		run->immediate_exit = 1;
		if (kvm_ioctl_val(v->fd, KVM_RUN, 0) < 0)
			return; /* -EINTR: the instruction is complete */
		if (run->exit_reason == KVM_EXIT_IO)
			handle_pio(v);
		else if (run->exit_reason == KVM_EXIT_MMIO)
			handle_mmio(v);
	}
}

/* Run the guest until the loop stops us (returns false) or this vCPU has
 * an event (returns true). */
static bool run_until_stop(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vmm_event ev;

	for (;;) {
		long ret = kvm_ioctl_val(v->fd, KVM_RUN, 0);

		v->regs_synced = run->kvm_valid_regs != 0;
		if (ret < 0) {
			if (ret == -EINTR || ret == -EAGAIN)
				return pending_event(v);
			fail_event(v, "KVM_RUN failed: %s", strerror((int)-ret));
			return true;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_pio(v);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(v);
			break;
		case KVM_EXIT_ARM_NISV:
			handle_nisv(v);
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel irqchip; nothing can wake
			 * the guest but a debugger, so do not spin. */
			usleep(1000);
			break;
		case KVM_EXIT_INTR:
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break;
		case KVM_EXIT_SHUTDOWN:
			memset(&ev, 0, sizeof(ev));
			ev.kind = VMM_EVENT_SHUTDOWN;
			snprintf(ev.why, sizeof(ev.why),
				 "the guest triple-faulted on vCPU %u", v->idx);
			vmm__vcpu_event(v, &ev);
			break;
		case KVM_EXIT_DEBUG:
			/* A step inside the debugger's range: step on here,
			 * without waking the loop. */
			if (v->step_range_on && arch_host.step_on &&
			    arch_host.step_on(v, &v->step_range))
				break;
			memset(&ev, 0, sizeof(ev));
			ev.kind = VMM_EVENT_DEBUG;
			record_exit(v, &ev);
			vmm__vcpu_event(v, &ev);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			memset(&ev, 0, sizeof(ev));
			ev.kind = VMM_EVENT_EXIT;
			ev.exit_status = 0;
			snprintf(ev.why, sizeof(ev.why),
				 "the guest asked for %s",
				 run->system_event.type ==
						 KVM_SYSTEM_EVENT_RESET
					 ? "a reset"
					 : "power-off");
			vmm__vcpu_event(v, &ev);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			fail_event(v,
				   "KVM could not enter vCPU %u (hardware "
				   "entry failure reason 0x%llx)",
				   v->idx,
				   (unsigned long long)run->fail_entry
					   .hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			memset(&ev, 0, sizeof(ev));
			/* An emulation failure may be a trap instruction the
			 * debugger planted; the classifier decides. */
			ev.kind = run->internal.suberror ==
						  KVM_INTERNAL_ERROR_EMULATION
					  ? VMM_EVENT_DEBUG
					  : VMM_EVENT_FAIL;
			snprintf(ev.why, sizeof(ev.why),
				 "KVM internal error on vCPU %u (suberror %u)",
				 v->idx, run->internal.suberror);
			record_exit(v, &ev);
			vmm__vcpu_event(v, &ev);
			break;
		default:
			fail_event(v, "unhandled KVM exit reason %u on vCPU %u",
				   run->exit_reason, v->idx);
			break;
		}
		if (pending_event(v)) {
			finish_io(v);
			return true;
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vmm *vm = v->vm;
	sigset_t set;

	current_vcpu = v;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	pthread_mutex_lock(&vm->lock);
	for (;;) {
		bool event;

		while ((!v->go || v->has_event) && !vm->quit) {
			if (v->state != VCPU_PARKED) {
				v->state = VCPU_PARKED;
				pthread_cond_broadcast(&vm->parked_cond);
			}
			pthread_cond_wait(&vm->cond, &vm->lock);
		}
		if (vm->quit)
			break;
		v->state = VCPU_RUNNING;
		v->run->immediate_exit = 0;
		pthread_mutex_unlock(&vm->lock);

		event = run_until_stop(v);

		pthread_mutex_lock(&vm->lock);
		if (event) {
			v->go = false;
			pthread_mutex_unlock(&vm->lock);
			if (vm->cfg.notify)
				vm->cfg.notify(vm->cfg.notify_opaque);
			pthread_mutex_lock(&vm->lock);
		}
	}
	v->state = VCPU_DEAD;
	pthread_cond_broadcast(&vm->parked_cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

int vcpu__start(struct vcpu *v)
{
	sigset_t set, old;
	int ret;

	ret = install_kick_handler();
	if (ret < 0)
		return ret;
	/* The thread unblocks the kick signal itself; block it while
	 * creating so it is never delivered before the handler matters. */
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0)
		return -ret;
	v->thread_started = true;
	return 0;
}

static void set_go(struct vmm *vm, unsigned idx, bool go)
{
	struct vcpu *v = vm->vcpus[idx];

	v->go = go;
	if (!go && v->state == VCPU_RUNNING)
		vcpu__kick(v);
}

/* Registers the debugger changed go back to KVM before the vCPU runs;
 * called on the loop thread while the vCPU is parked. */
static int prepare_run(struct vcpu *v)
{
	int ret = 0;

	if (v->go || v->state == VCPU_RUNNING)
		return 0;
	if (arch_host.state_flush)
		ret = arch_host.state_flush(v);
	if (arch_host.state_invalidate)
		arch_host.state_invalidate(v);
	return ret;
}

void vmm_set_step_range(struct vmm *vm, unsigned idx,
			const struct vmm_step_range *r)
{
	struct vcpu *v = vm->vcpus[idx];

	v->step_range_on = r != NULL;
	if (r)
		v->step_range = *r;
}

int vmm_resume_all(struct vmm *vm)
{
	int ret = 0;

	for (unsigned i = 0; i < vm->nr_vcpus && ret == 0; i++)
		ret = prepare_run(vm->vcpus[i]);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		set_go(vm, i, true);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int vmm_resume_one(struct vmm *vm, unsigned idx)
{
	int ret;

	if (idx >= vm->nr_vcpus)
		return -EINVAL;
	ret = prepare_run(vm->vcpus[idx]);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&vm->lock);
	set_go(vm, idx, true);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void vmm_pause_all(struct vmm *vm)
{
	bool running;

	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		set_go(vm, i, false);
	do {
		running = false;
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i]->state == VCPU_RUNNING)
				running = true;
		if (running)
			pthread_cond_wait(&vm->parked_cond, &vm->lock);
	} while (running);
	pthread_mutex_unlock(&vm->lock);
}

bool vmm_take_event_of(struct vmm *vm, uint64_t mask, struct vmm_event *ev)
{
	struct vcpu *oldest = NULL;

	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!(mask & (1ULL << i)))
			continue;
		if (v->has_event && (!oldest || v->event_seq < oldest->event_seq))
			oldest = v;
	}
	if (oldest) {
		*ev = oldest->event;
		oldest->has_event = false;
	}
	pthread_mutex_unlock(&vm->lock);
	return oldest != NULL;
}
