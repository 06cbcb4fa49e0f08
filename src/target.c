/* The VMM as an RSP target. Thread N is vCPU N-1. All-stop: every
 * operation but resume/interrupt/kill/detach runs while all vCPUs are
 * parked, so register caches and guest memory are stable. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "target.h"
#include "arch/arch.h"
#include "bp/agent.h"
#include "bp/manager.h"
#include "vmm/probe.h"
#include "vmm/vmm.h"

/* The condition list of the code breakpoint of one type at one address,
 * from the last Z packet there; a breakpoint without one stops at every
 * hit. */
struct bp_condition {
	enum rsp_bp_type type;
	uint64_t addr;
	struct agent_cond *cond;
};

struct kvm_target {
	struct vmm *vm;
	struct kvm_target_host host;
	bool running;
	bool free_running; /* resumed by run_free, not by a debugger */
	bool interrupt_pending; /* report SIGINT at the next stop */
	bool stepping[RSP_MAX_THREADS];
	bool phys; /* monitor phys on: addresses are guest-physical */
	unsigned last_thread; /* 1-based */
	char why[160]; /* the last event's description */
	bool have_probe;
	struct kvm_probe_result probe;
	struct bp_mgr *bp;
	/* The debugger's last resume, kept while kvmdbg steps a vCPU over
	 * its own breakpoint or reinjects a guest exception first. */
	struct rsp_resume pending;
	/* A step kvmdbg completed without running the vCPU (HLT): reported
	 * as that thread's step stop at the next poll. */
	bool emulated_step;
	unsigned emulated_step_vcpu;
	/* Per vCPU: its last reported stop was one of our breakpoints at this
	 * pc. Only then does resuming it there step over the breakpoint; a
	 * vCPU that merely arrives at one (jump, or another vCPU's stop
	 * parked it there) must hit it. */
	bool bp_stop[RSP_MAX_THREADS];
	uint64_t bp_stop_pc[RSP_MAX_THREADS];
	/* Target-side conditions of code breakpoints (Z0/Z1 ";X..."). */
	struct bp_condition *conds;
	size_t nr_conds, cap_conds;
};

static struct kvm_target *T(void *t)
{
	return t;
}

static struct bp_condition *find_condition(struct kvm_target *t,
					   enum rsp_bp_type type,
					   uint64_t addr)
{
	for (size_t k = 0; k < t->nr_conds; k++)
		if (t->conds[k].type == type && t->conds[k].addr == addr)
			return &t->conds[k];
	return NULL;
}

static void drop_condition(struct kvm_target *t, struct bp_condition *c)
{
	agent_cond_free(c->cond);
	*c = t->conds[--t->nr_conds];
}

static void drop_conditions(struct kvm_target *t)
{
	while (t->nr_conds)
		drop_condition(t, &t->conds[0]);
}

static long read_mem(void *opaque, unsigned tid, uint64_t addr, uint8_t *buf,
		     size_t len);

int kvm_target_create(struct vmm *vm, const struct kvm_target_host *host,
		      const struct kvm_probe_result *probe,
		      struct kvm_target **out)
{
	struct kvm_target *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (probe) {
		t->probe = *probe;
		t->have_probe = true;
	}
	if (bp_mgr_create(vm, probe, &t->bp) < 0) {
		free(t);
		return -ENOMEM;
	}
	t->vm = vm;
	t->host = *host;
	t->last_thread = 1;
	*out = t;
	return 0;
}

void kvm_target_destroy(struct kvm_target *t)
{
	if (!t)
		return;
	bp_mgr_destroy(t->bp);
	drop_conditions(t);
	free(t->conds);
	free(t);
}

bool kvm_target_running(const struct kvm_target *t)
{
	return t->running;
}

bool kvm_target_free_running(const struct kvm_target *t)
{
	return t->running && t->free_running;
}

static unsigned nr_threads(void *t)
{
	unsigned n = vmm_nr_vcpus(T(t)->vm);

	return n < RSP_MAX_THREADS ? n : RSP_MAX_THREADS;
}

static struct vcpu *thread_vcpu(struct kvm_target *t, unsigned tid)
{
	if (tid == 0 || tid > nr_threads(t))
		return NULL;
	return vmm_vcpu(t->vm, tid - 1);
}

static int thread_name(void *t, unsigned tid, char *buf, size_t len)
{
	if (!thread_vcpu(T(t), tid))
		return -ESRCH;
	snprintf(buf, len, "vCPU %u", tid - 1);
	return 0;
}

static int thread_extra(void *t, unsigned tid, char *buf, size_t len)
{
	struct vcpu *v = thread_vcpu(T(t), tid);

	if (!v)
		return -ESRCH;
	arch_host.describe(v, buf, len);
	return 0;
}

static const char *features_xml(void *t, const char *annex)
{
	return arch_host.gdb_features_xml(annex);
}

static const char *exec_file(void *t)
{
	/* Absolute (vmm_create resolves it): gdb opens it itself, maybe
	 * from another directory. */
	return vmm_image_path(T(t)->vm);
}

static const char *arch_triple(void *t)
{
	return arch_host.gdb_triple;
}

static unsigned pointer_size(void *t)
{
	return 8;
}

static unsigned nr_regs(void *t)
{
	return arch_host.gdb_nr_regs();
}

static unsigned reg_size(void *t, unsigned regno)
{
	return arch_host.gdb_reg_size(regno);
}

static int read_reg(void *t, unsigned tid, unsigned regno, uint8_t *buf)
{
	struct vcpu *v = thread_vcpu(T(t), tid);

	if (!v)
		return -ESRCH;
	return arch_host.gdb_read_reg(v, regno, buf);
}

static int write_reg(void *t, unsigned tid, unsigned regno,
		     const uint8_t *buf)
{
	struct vcpu *v = thread_vcpu(T(t), tid);

	if (!v)
		return -ESRCH;
	return arch_host.gdb_write_reg(v, regno, buf);
}

static unsigned expedited_regs(void *t, unsigned *regnos, unsigned max)
{
	return arch_host.gdb_expedited(regnos, max);
}

/* One contiguous piece of guest memory at addr: its host pointer and how
 * many bytes of it are usable, at most len. */
static uint8_t *map_piece(struct kvm_target *t, unsigned tid, uint64_t addr,
			  size_t len, size_t *got, uint64_t *gpa_out)
{
	struct vcpu *v;
	uint64_t gpa, left;
	uint8_t *p;

	if (t->phys) {
		left = 0x1000 - (addr & 0xfff);
		gpa = addr;
	} else {
		v = thread_vcpu(t, tid);
		if (!v || arch_host.translate(v, addr, &gpa, &left) < 0)
			return NULL;
	}
	*got = len < left ? len : (size_t)left;
	p = vmm_gpa_to_hva(t->vm, gpa, *got);
	if (gpa_out)
		*gpa_out = gpa;
	return p;
}

static long read_mem(void *opaque, unsigned tid, uint64_t addr, uint8_t *buf,
		     size_t len)
{
	struct kvm_target *t = opaque;
	size_t done = 0;

	while (done < len) {
		uint64_t gpa;
		size_t n;
		uint8_t *p = map_piece(t, tid, addr + done, len - done, &n, &gpa);

		if (!p || addr + done < addr)
			break;
		memcpy(buf + done, p, n);
		/* The debugger sees the guest's bytes, not our traps. */
		bp_mgr_shadow_read(t->bp, gpa, buf + done, n);
		done += n;
	}
	return done ? (long)done : -EFAULT;
}

static int write_mem(void *opaque, unsigned tid, uint64_t addr,
		     const uint8_t *buf, size_t len)
{
	struct kvm_target *t = opaque;
	uint8_t piece[4096];
	size_t done, n;

	/* All or nothing: check every page before writing any. */
	for (done = 0; done < len; done += n)
		if (!map_piece(t, tid, addr + done, len - done, &n, NULL))
			return -EFAULT;
	/* map_piece sets n: call it before n is read. (As one memcpy call's
	 * arguments, n could be read first, stale from the previous page,
	 * so a write across pages copied too little of every later page.) */
	for (done = 0; done < len; done += n) {
		uint64_t gpa;
		uint8_t *p = map_piece(t, tid, addr + done,
				       len - done < sizeof(piece)
					       ? len - done
					       : sizeof(piece),
				       &n, &gpa);

		/* A write over one of our traps updates its saved original
		 * and keeps the trap in place. */
		memcpy(piece, buf + done, n);
		bp_mgr_filter_write(t->bp, gpa, piece, n);
		memcpy(p, piece, n);
	}
	return 0;
}

static int mem_region(void *opaque, unsigned tid, uint64_t addr,
		      struct rsp_mem_region *out)
{
	struct kvm_target *t = opaque;
	size_t n;
	bool mapped = map_piece(t, tid, addr, 1, &n, NULL) != NULL;

	memset(out, 0, sizeof(*out));
	out->start = addr & ~0xfffULL;
	out->size = 0x1000;
	out->mapped = mapped;
	out->readable = out->writable = out->executable = mapped;
	return 0;
}

static int apply_debug(struct kvm_target *t, unsigned idx, bool step)
{
	t->stepping[idx] = step;
	return bp_mgr_arm_vcpu(t->bp, idx, step);
}

static enum rsp_action pending_action(const struct kvm_target *t, unsigned i)
{
	return i < t->pending.nr_threads ? t->pending.thread[i].action
					 : RSP_ACTION_STOP;
}

/* Hand vCPU i's range step to its own thread (vmm_set_step_range), with
 * the pcs the loop must see: any byte of the range that could start an
 * instruction kvmdbg emulates instead of stepping (x86 HLT, 0xf4). A
 * range too large to scan, unreadable or with too many such bytes is
 * stepped through the loop, one event per step. */
static void hand_over_range(struct kvm_target *t, unsigned i)
{
	uint64_t start = t->pending.thread[i].start;
	uint64_t end = t->pending.thread[i].end;
	struct vmm_step_range r = { .start = start, .end = end };
	uint8_t code[4096];

	if (!arch_host.step_on || end <= start || end - start > sizeof(code) ||
	    read_mem(t, i + 1, start, code, end - start) !=
		    (long)(end - start))
		return;
	for (uint64_t k = 0; k < end - start; k++) {
		if (code[k] != 0xf4)
			continue;
		if (r.nr_skip == VMM_STEP_SKIP_MAX)
			return;
		r.skip[r.nr_skip++] = start + k;
	}
	vmm_set_step_range(t->vm, i, &r);
}

static void clear_step_ranges(struct kvm_target *t)
{
	for (unsigned i = 0; i < nr_threads(t); i++)
		vmm_set_step_range(t->vm, i, NULL);
}

/* Run the debugger's pending resume. A vCPU that sits on one of our
 * breakpoints first steps over it alone; the rest follows when that step
 * is done (kvm_target_poll calls back here). */
static int do_resume(struct kvm_target *t)
{
	unsigned n = nr_threads(t);
	int ret;

	clear_step_ranges(t);
	/* A step kvmdbg can complete itself is reported at once, before
	 * anything runs: all-stop allows a step that takes no time. */
	for (unsigned i = 0; i < n; i++) {
		enum rsp_action a = pending_action(t, i);

		if ((a == RSP_ACTION_STEP || a == RSP_ACTION_RANGE_STEP) &&
		    arch_host.emulate_step &&
		    arch_host.emulate_step(vmm_vcpu(t->vm, i)) == 1) {
			t->emulated_step = true;
			t->emulated_step_vcpu = i;
			t->running = true;
			t->host.wake(t->host.opaque);
			return 0;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t pc;

		if (pending_action(t, i) == RSP_ACTION_STOP || !t->bp_stop[i] ||
		    arch_host.get_pc(vmm_vcpu(t->vm, i), &pc) < 0 ||
		    pc != t->bp_stop_pc[i] || !bp_mgr_needs_step_over(t->bp, i))
			continue;
		ret = bp_mgr_begin_step_over(t->bp, i);
		if (ret == 0)
			ret = apply_debug(t, i, false);
		if (ret == 0)
			ret = vmm_resume_one(t->vm, i);
		if (ret < 0)
			return ret;
		t->running = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		enum rsp_action a = pending_action(t, i);

		ret = apply_debug(t, i, a == RSP_ACTION_STEP ||
						a == RSP_ACTION_RANGE_STEP);
		if (ret < 0)
			return ret;
		if (a == RSP_ACTION_RANGE_STEP)
			hand_over_range(t, i);
	}
	t->running = true;
	for (unsigned i = 0; i < n; i++) {
		if (pending_action(t, i) == RSP_ACTION_STOP)
			continue;
		t->bp_stop[i] = false;
		ret = vmm_resume_one(t->vm, i);
		if (ret < 0) {
			log_error("cannot resume vCPU %u: %s", i, strerror(-ret));
			vmm_pause_all(t->vm);
			t->running = false;
			return ret;
		}
	}
	/* A vCPU may still hold an event from the last stop (two vCPUs hit
	 * at once); it stays parked and is reported now. */
	t->host.wake(t->host.opaque);
	return 0;
}

static int resume(void *opaque, const struct rsp_resume *r)
{
	struct kvm_target *t = opaque;

	t->pending = *r;
	t->free_running = false;
	return do_resume(t);
}

void kvm_target_stop_all(struct kvm_target *t, struct rsp_stop *stop)
{
	vmm_pause_all(t->vm);
	t->running = false;
	t->interrupt_pending = false;
	memset(stop, 0, sizeof(*stop));
	stop->kind = RSP_STOP_SIGNAL;
	stop->signal = RSP_SIG_INT;
	stop->thread = t->last_thread;
}

static int interrupt(void *opaque)
{
	struct kvm_target *t = opaque;

	/* The stop is reported from the loop, never from inside the
	 * session's own packet handling. */
	if (!t->running || t->interrupt_pending)
		return 0;
	t->interrupt_pending = true;
	vmm_pause_all(t->vm);
	t->host.wake(t->host.opaque);
	return 0;
}

static void event_to_stop(struct kvm_target *t, const struct vmm_event *ev,
			  struct rsp_stop *stop)
{
	unsigned tid = ev->vcpu + 1;

	memset(stop, 0, sizeof(*stop));
	stop->kind = RSP_STOP_SIGNAL;
	stop->thread = tid;
	switch (ev->kind) {
	case VMM_EVENT_EXIT:
		stop->kind = RSP_STOP_EXITED;
		stop->exit_status = ev->exit_status;
		break;
	case VMM_EVENT_DEBUG:
		stop->signal = RSP_SIG_TRAP;
		break;
	case VMM_EVENT_SHUTDOWN:
	case VMM_EVENT_FAIL:
	default:
		stop->signal = RSP_SIG_SEGV;
		break;
	}
	snprintf(t->why, sizeof(t->why), "%s", ev->why);
	t->last_thread = tid;
}

const char *kvm_target_why(const struct kvm_target *t)
{
	return t->why;
}

static const enum rsp_stop_reason stop_reasons[] = {
	[ARCH_STOP_NONE] = RSP_REASON_NONE,
	[ARCH_STOP_SWBREAK] = RSP_REASON_SWBREAK,
	[ARCH_STOP_HWBREAK] = RSP_REASON_HWBREAK,
	[ARCH_STOP_WATCH_WRITE] = RSP_REASON_WATCH,
	[ARCH_STOP_WATCH_READ] = RSP_REASON_RWATCH,
	[ARCH_STOP_WATCH_ACCESS] = RSP_REASON_AWATCH,
	[ARCH_STOP_STEP] = RSP_REASON_NONE,
};

static bool user_step(const struct kvm_target *t, unsigned i)
{
	enum rsp_action a = pending_action(t, i);

	return a == RSP_ACTION_STEP || a == RSP_ACTION_RANGE_STEP;
}

/* vCPU i range-steps and its pc is still inside [start, end): its step
 * is not reported; it steps on. */
static bool range_step_on(const struct kvm_target *t, unsigned i)
{
	uint64_t pc;

	if (pending_action(t, i) != RSP_ACTION_RANGE_STEP ||
	    arch_host.get_pc(vmm_vcpu(t->vm, i), &pc) < 0)
		return false;
	return pc >= t->pending.thread[i].start &&
	       pc < t->pending.thread[i].end;
}

/* What a condition reads: vCPU i's registers and memory. */
struct cond_env {
	struct kvm_target *t;
	unsigned vcpu;
};

static int cond_read_reg(void *opaque, unsigned regno, uint64_t *val)
{
	struct cond_env *e = opaque;
	uint8_t buf[64];
	unsigned size = arch_host.gdb_reg_size(regno);
	int ret;

	if (size == 0 || size > 8)
		return -EINVAL;
	ret = arch_host.gdb_read_reg(vmm_vcpu(e->t->vm, e->vcpu), regno, buf);
	if (ret < 0)
		return ret;
	/* Registers are in target byte order: little-endian here. */
	*val = 0;
	for (unsigned k = 0; k < size; k++)
		*val |= (uint64_t)buf[k] << (8 * k);
	return 0;
}

static int cond_read_mem(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct cond_env *e = opaque;

	return read_mem(e->t, e->vcpu + 1, addr, buf, len) == (long)len
		       ? 0
		       : -EFAULT;
}

/* vCPU i stopped at a code breakpoint at pc: does the debugger hear of
 * it? Yes when a request there has no condition or one is true; a
 * condition that faults stops too, so the user sees where. */
static bool condition_stops(struct kvm_target *t, unsigned i, uint64_t pc)
{
	struct cond_env env = { .t = t, .vcpu = i };
	const struct agent_env aenv = { .read_reg = cond_read_reg,
					.read_mem = cond_read_mem,
					.opaque = &env };
	static const enum rsp_bp_type types[] = { RSP_BP_SW, RSP_BP_HW };
	bool any = false;

	if (!t->nr_conds)
		return true;
	for (unsigned k = 0; k < 2; k++) {
		unsigned refs = bp_mgr_code_refs(t->bp, (enum bp_type)types[k],
						 pc);
		struct bp_condition *c = find_condition(t, types[k], pc);
		int r;

		if (!refs)
			continue;
		any = true;
		if (!c)
			return true;
		r = agent_cond_eval(c->cond, &aenv);
		if (r < 0)
			log_warn("the condition of the breakpoint at 0x%" PRIx64
				 " could not be evaluated on vCPU %u (%s); "
				 "stopping there",
				 pc, i,
				 r == -EFAULT ? "it reads unmapped memory"
				 : r == -EDOM ? "it divides by zero"
				 : r == -ELOOP ? "it runs too long"
					       : strerror(-r));
		if (r != 0)
			return true;
	}
	/* Not ours by address (a stale hit): let the caller report it. */
	return !any;
}

/* Resume what ran before a stop kvmdbg handled by itself. */
static int run_on(struct kvm_target *t)
{
	return t->free_running ? kvm_target_run_free(t) : do_resume(t);
}

/* Run vCPU i alone for kvmdbg's own single step (a step-over), the
 * others parked: 0, or -errno and nothing runs. */
static int step_alone(struct kvm_target *t, unsigned i)
{
	int ret = apply_debug(t, i, false);

	if (ret == 0)
		ret = vmm_resume_one(t->vm, i);
	if (ret == 0)
		t->running = true;
	return ret;
}

/* A DEBUG event of vCPU i, every vCPU parked. Returns true with *stop
 * filled when the debugger must hear of it; false when kvmdbg handled it
 * itself (step-over done, the guest's own exception reinjected) and the
 * guest runs on. */
static bool debug_event(struct kvm_target *t, const struct vmm_event *ev,
			struct rsp_stop *stop)
{
	unsigned i = ev->vcpu;
	bool stepping_over = bp_mgr_stepping_over(t->bp, i);
	struct arch_verdict v;
	int type, ret;

	/* Whatever resumes vCPU i next sets its step range anew. */
	vmm_set_step_range(t->vm, i, NULL);
	if (ev->from_ram_hook) {
		/* A page-protection watchpoint; the access has completed. */
		bp_mgr_watch_hit(ev, &type, &stop->watch_addr);
		stop->reason = type == BP_WATCH_READ	   ? RSP_REASON_RWATCH
			     : type == BP_WATCH_ACCESS ? RSP_REASON_AWATCH
						       : RSP_REASON_WATCH;
		return true;
	}
	if (ev->lift_page) {
		/* An access to a protected page KVM could not hand over for
		 * kvmdbg to complete, outside the watched bytes: it runs on
		 * its own for one step with the page mapped. */
		ret = bp_mgr_begin_access_step(t->bp, i, ev->lift_gpa);
		if (ret == 0) /* not protected since: it runs as it is */
			return run_on(t) < 0;
		if (ret == 1 && step_alone(t, i) == 0)
			return false;
		log_error("vCPU %u: an access at guest-physical 0x%" PRIx64
			  " KVM cannot emulate, on no watched page: stopped "
			  "with SIGSEGV", i, ev->lift_gpa);
		stop->signal = RSP_SIG_SEGV;
		return true;
	}
	ret = bp_mgr_classify(t->bp, i, ev, t->stepping[i], &v);
	log_debug("vCPU %u: exit %u classified as kind %d reason %d internal "
		  "%d addr 0x%" PRIx64, i, ev->exit_reason, v.kind, v.reason,
		  v.internal, v.addr);
	if (ret < 0) {
		log_warn("cannot classify a debug exit on vCPU %u: %s", i,
			 strerror(-ret));
		return true;
	}
	switch (v.kind) {
	case ARCH_VERDICT_INTERNAL:
		if (v.internal == ARCH_INTERNAL_NONE)
			/* A stale hit of a breakpoint removed since: nothing
			 * happened; run on. */
			return run_on(t) < 0;
		if (v.internal == ARCH_INTERNAL_RESTEP)
			return step_alone(t, i) < 0;
		bp_mgr_end_step_over(t->bp, i);
		/* The step-over was the debugger's own step. */
		if (user_step(t, i) && !range_step_on(t, i))
			return true;
		return do_resume(t) < 0;
	case ARCH_VERDICT_REINJECT:
		if (stepping_over)
			bp_mgr_end_step_over(t->bp, i);
		/* The guest's own exception, delivered to it; with a debugger
		 * or without one (a guest's INT3 works on hosts where KVM
		 * itself cannot deliver it). */
		return run_on(t) < 0;
	case ARCH_VERDICT_DEBUGGER:
		if (stepping_over)
			bp_mgr_end_step_over(t->bp, i);
		/* Range stepping: a step that stays inside the range is
		 * kvmdbg's business, not the debugger's. */
		if (v.reason == ARCH_STOP_STEP && range_step_on(t, i))
			return do_resume(t) < 0;
		if (v.reason == ARCH_STOP_WATCH_ACCESS &&
		    bp_mgr_access_is_read(t->bp, v.addr)) {
			if (bp_mgr_read_hit_was_write(t->bp, i, v.addr) &&
			    !user_step(t, i))
				return do_resume(t) < 0;
			v.reason = ARCH_STOP_WATCH_READ;
		}
		stop->reason = stop_reasons[v.reason];
		if (v.reason == ARCH_STOP_SWBREAK ||
		    v.reason == ARCH_STOP_HWBREAK) {
			t->bp_stop[i] = arch_host.get_pc(vmm_vcpu(t->vm, i),
							 &t->bp_stop_pc[i]) == 0;
			/* A false condition: step over the breakpoint and
			 * go on, as the debugger would have, without it. */
			if (t->bp_stop[i] &&
			    !condition_stops(t, i, t->bp_stop_pc[i]))
				return do_resume(t) < 0;
		}
		if (v.reason == ARCH_STOP_WATCH_WRITE ||
		    v.reason == ARCH_STOP_WATCH_READ ||
		    v.reason == ARCH_STOP_WATCH_ACCESS)
			stop->watch_addr = v.addr;
		return true;
	case ARCH_VERDICT_NOT_DEBUG:
	default:
		if (!stepping_over && bp_mgr_begin_fetch_step(t->bp, i) == 1 &&
		    step_alone(t, i) == 0)
			return false;
		if (stepping_over)
			bp_mgr_end_step_over(t->bp, i);
		log_error("%s: not a breakpoint of kvmdbg's; stopped with "
			  "SIGILL", ev->why);
		stop->signal = RSP_SIG_ILL;
		return true;
	}
}

/* vCPUs whose events may be reported now: the ones the debugger resumed
 * (all of them when the guest runs free). A parked vCPU's event, from
 * before a stop, waits until the debugger lets that vCPU go. */
static uint64_t resumed_mask(struct kvm_target *t)
{
	uint64_t mask = 0;

	if (t->free_running)
		return ~0ULL;
	/* While one vCPU steps over a breakpoint it runs alone. */
	for (unsigned i = 0; i < nr_threads(t); i++)
		if (bp_mgr_stepping_over(t->bp, i))
			return 1ULL << i;
	for (unsigned i = 0; i < nr_threads(t); i++)
		if (pending_action(t, i) != RSP_ACTION_STOP)
			mask |= 1ULL << i;
	return mask;
}

bool kvm_target_poll(struct kvm_target *t, struct rsp_stop *stop)
{
	struct vmm_event ev;

	/* One stop per resume: other vCPUs' events wait, parked, until the
	 * debugger lets those vCPUs run again. */
	if (!t->running)
		return false;
	while (vmm_take_event_of(t->vm, resumed_mask(t), &ev)) {
		vmm_pause_all(t->vm);
		t->running = false;
		event_to_stop(t, &ev, stop);
		if (ev.kind == VMM_EVENT_DEBUG && !debug_event(t, &ev, stop))
			continue;
		t->running = false;
		t->interrupt_pending = false;
		/* A step of HLT completed meanwhile is part of this stop. */
		t->emulated_step = false;
		return true;
	}
	if (t->emulated_step) {
		t->emulated_step = false;
		t->running = false;
		t->interrupt_pending = false;
		memset(stop, 0, sizeof(*stop));
		stop->kind = RSP_STOP_SIGNAL;
		stop->signal = RSP_SIG_TRAP;
		stop->thread = t->emulated_step_vcpu + 1;
		t->last_thread = stop->thread;
		t->why[0] = 0;
		return true;
	}
	if (t->interrupt_pending) {
		t->why[0] = 0;
		kvm_target_stop_all(t, stop);
		return true;
	}
	return false;
}

int kvm_target_run_free(struct kvm_target *t)
{
	unsigned n = nr_threads(t);
	int ret;

	clear_step_ranges(t);
	for (unsigned i = 0; i < n; i++) {
		ret = apply_debug(t, i, false);
		if (ret < 0)
			return ret;
	}
	ret = vmm_resume_all(t->vm);
	if (ret == 0) {
		t->running = true;
		t->free_running = true;
	}
	return ret;
}

int kvm_target_forget_debugger(struct kvm_target *t)
{
	int ret;

	vmm_pause_all(t->vm);
	/* Guest memory must end byte-identical to a run that never had a
	 * breakpoint. */
	ret = bp_mgr_remove_all(t->bp);
	drop_conditions(t);
	if (ret < 0)
		log_warn("could not restore every breakpoint: %s",
			 strerror(-ret));
	memset(&t->pending, 0, sizeof(t->pending));
	return ret;
}

static int kill_target(void *opaque)
{
	struct kvm_target *t = opaque;

	kvm_target_forget_debugger(t);
	t->running = false;
	t->host.kill(t->host.opaque);
	return 0;
}

static int detach(void *opaque)
{
	kvm_target_forget_debugger(opaque);
	return kvm_target_run_free(opaque);
}

static bool supports_range_step(void *opaque)
{
	return true;
}

static bool supports_conditions(void *opaque)
{
	return true;
}

/* The condition list of the code breakpoint (type, addr): cond, or none
 * (NULL: every hit stops). Takes cond. */
static int set_condition(struct kvm_target *t, enum rsp_bp_type type,
			 uint64_t addr, struct agent_cond *cond)
{
	struct bp_condition *c = find_condition(t, type, addr);

	if (c && !cond) {
		drop_condition(t, c);
		return 0;
	}
	if (c) {
		agent_cond_free(c->cond);
		c->cond = cond;
		return 0;
	}
	if (!cond)
		return 0;
	if (t->nr_conds == t->cap_conds) {
		size_t cap = t->cap_conds ? 2 * t->cap_conds : 8;
		struct bp_condition *n = realloc(t->conds, cap * sizeof(*n));

		if (!n) {
			agent_cond_free(cond);
			return -ENOMEM;
		}
		t->conds = n;
		t->cap_conds = cap;
	}
	t->conds[t->nr_conds++] =
		(struct bp_condition){ .type = type, .addr = addr, .cond = cond };
	return 0;
}

/*
 * Z packets are idempotent, as gdb's protocol asks: a Z for a breakpoint
 * or watchpoint that is in place already changes nothing but the
 * condition list, which the latest Z at that address defines. gdb counts
 * on it: it sends a Z again to update a breakpoint's conditions, and with
 * `set breakpoint always-inserted on` whenever the breakpoints at a
 * location change, and then removes it with a single z.
 */
static int insert_bp(void *opaque, enum rsp_bp_type type, uint64_t addr,
		     uint64_t kind, const uint8_t *cond, size_t cond_len)
{
	struct kvm_target *t = opaque;
	struct agent_cond *ac = NULL;
	char err[160];
	int ret;

	if (cond && cond_len && (type == RSP_BP_SW || type == RSP_BP_HW)) {
		ret = agent_cond_parse((const char *)cond, cond_len, &ac, err,
				       sizeof(err));
		if (ret == -EINVAL) {
			log_warn("Z%d at 0x%" PRIx64 ": bad condition: %s",
				 (int)type, addr, err);
			return ret;
		}
		if (ret == -ENOTSUP) {
			/* Accepted without it: every hit is reported and gdb
			 * evaluates the condition itself. (An error reply
			 * would make gdb refuse the breakpoint.) */
			log_info("Z%d at 0x%" PRIx64 ": condition left to the "
				 "debugger: %s", (int)type, addr, err);
			ac = NULL;
		} else if (ret < 0) {
			return ret;
		}
	}
	if (!bp_mgr_has(t->bp, (enum bp_type)type, addr, kind)) {
		ret = bp_mgr_insert(t->bp, t->last_thread - 1,
				    (enum bp_type)type, addr, kind);
		if (ret < 0) {
			agent_cond_free(ac);
			return ret;
		}
	}
	if (type != RSP_BP_SW && type != RSP_BP_HW)
		return 0;
	ret = set_condition(t, type, addr, ac);
	if (ret < 0)
		log_warn("Z%d at 0x%" PRIx64 ": no memory for its condition; "
			 "every hit stops", (int)type, addr);
	return 0;
}

static int remove_bp(void *opaque, enum rsp_bp_type type, uint64_t addr,
		     uint64_t kind)
{
	struct kvm_target *t = opaque;
	struct bp_condition *c;
	int ret;

	ret = bp_mgr_remove(t->bp, (enum bp_type)type, addr, kind);
	c = ret == 0 ? find_condition(t, type, addr) : NULL;
	if (c && !bp_mgr_code_refs(t->bp, (enum bp_type)type, addr))
		drop_condition(t, c);
	return ret;
}

/* Appends to out, never past cap. */
static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int parse_addr(const char *s, uint64_t *out)
{
	char *end;

	s = skip_space(s);
	if (!*s)
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *skip_space(end))
		return -EINVAL;
	return 0;
}

static bool word_is(const char *cmd, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncmp(cmd, word, n) != 0 || (cmd[n] && cmd[n] != ' '))
		return false;
	*rest = skip_space(cmd + n);
	return true;
}

static int monitor(void *opaque, const char *cmd, char *out, size_t cap)
{
	struct kvm_target *t = opaque;
	const char *arg;

	out[0] = 0;
	cmd = skip_space(cmd);
	if (!*cmd || word_is(cmd, "help", &arg)) {
		str_appendf(out, cap,
		     "kvmdbg monitor commands:\n"
		     "  help              this list\n"
		     "  phys [on|off]     memory addresses are guest-physical "
		     "(on) or\n"
		     "                    virtual through the vCPU's page "
		     "tables (off)\n"
		     "  gva2gpa ADDR      translate a guest-virtual address "
		     "(current vCPU)\n"
		     "  vcpus             list vCPUs with their mode and pc\n"
		     "  log LEVEL         kvmdbg's log level: error, warn, "
		     "info, debug, trace\n"
		     "  caps              what this host's KVM honours "
		     "(the start-up probe)\n"
		     "  breakpoints       where each inserted breakpoint and "
		     "watchpoint\n"
		     "                    is served (with gdb's `set "
		     "breakpoint\n"
		     "                    always-inserted on`; else gdb "
		     "removes them\n"
		     "                    at every stop)\n");
		return 0;
	}
	if (word_is(cmd, "phys", &arg)) {
		if (!strcmp(arg, "on"))
			t->phys = true;
		else if (!strcmp(arg, "off"))
			t->phys = false;
		else if (*arg) {
			str_appendf(out, cap, "usage: phys [on|off]\n");
			return 0;
		}
		str_appendf(out, cap, "memory addresses are guest-%s\n",
		     t->phys ? "physical" : "virtual");
		return 0;
	}
	if (word_is(cmd, "gva2gpa", &arg)) {
		uint64_t gva, gpa, left;
		struct vcpu *v = thread_vcpu(t, t->last_thread);

		if (parse_addr(arg, &gva) < 0) {
			str_appendf(out, cap, "usage: gva2gpa ADDR\n");
			return 0;
		}
		if (!v || arch_host.translate(v, gva, &gpa, &left) < 0)
			str_appendf(out, cap, "0x%" PRIx64 " is not mapped on vCPU %u\n",
			     gva, t->last_thread - 1);
		else
			str_appendf(out, cap, "0x%" PRIx64 " -> 0x%" PRIx64
			     " (vCPU %u)\n", gva, gpa, t->last_thread - 1);
		return 0;
	}
	if (word_is(cmd, "vcpus", &arg)) {
		for (unsigned i = 0; i < nr_threads(t); i++) {
			char mode[96];
			uint64_t pc = 0;
			struct vcpu *v = vmm_vcpu(t->vm, i);

			arch_host.describe(v, mode, sizeof(mode));
			arch_host.get_pc(v, &pc);
			str_appendf(out, cap, "vCPU %u (thread %u): pc=0x%" PRIx64
			     " %s\n", i, i + 1, pc, mode);
		}
		return 0;
	}
	if (word_is(cmd, "caps", &arg)) {
		char *table = malloc(8192);

		if (!t->have_probe || !table) {
			str_appendf(out, cap, "the host probe did not run\n");
		} else {
			kvm_probe_format(&t->probe, table, 8192);
			str_appendf(out, cap, "%s", table);
		}
		free(table);
		return 0;
	}
	if (word_is(cmd, "breakpoints", &arg)) {
		bp_mgr_describe(t->bp, out, cap);
		return 0;
	}
	if (word_is(cmd, "log", &arg)) {
		enum log_level level;

		if (!*arg) {
			str_appendf(out, cap, "log level: %s\n",
			     log_level_name(log_get_level()));
		} else if (log_parse_level(arg, &level) < 0) {
			str_appendf(out, cap, "unknown level '%s': error, warn, info, "
			     "debug or trace\n", arg);
		} else {
			log_set_level(level);
			str_appendf(out, cap, "log level: %s\n", arg);
		}
		return 0;
	}
	str_appendf(out, cap, "unknown command '%s'; try 'monitor help'\n", cmd);
	return 0;
}

const struct rsp_target_ops kvm_target_ops = {
	.nr_threads = nr_threads,
	.thread_extra = thread_extra,
	.thread_name = thread_name,
	.features_xml = features_xml,
	.exec_file = exec_file,
	.arch_triple = arch_triple,
	.pointer_size = pointer_size,
	.nr_regs = nr_regs,
	.reg_size = reg_size,
	.read_reg = read_reg,
	.write_reg = write_reg,
	.expedited_regs = expedited_regs,
	.read_mem = read_mem,
	.write_mem = write_mem,
	.mem_region = mem_region,
	.resume = resume,
	.interrupt = interrupt,
	.kill = kill_target,
	.detach = detach,
	.insert_bp = insert_bp,
	.supports_range_step = supports_range_step,
	.supports_conditions = supports_conditions,
	.remove_bp = remove_bp,
	.monitor = monitor,
};
