/* The start-up host probe on arm64: a one-vCPU VM of its own at EL1 with
 * the MMU off that tries each guest-debug mechanism once (BRK, hardware
 * breakpoint and watchpoints, single-step, the guest's own BRK, read-only
 * and missing memslots) and records what KVM reported. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "log.h"
#include "arch/arm64/debug_enc.h"
#include "vmm/kvm.h"
#include "vmm/probe.h"
#include "vmm/probe_common.h"

/*
 * Guest-physical layout. Slot 0 is RAM; slot 1 one read-only page; nothing
 * at PG_HOLE or the marks, so accesses there exit as MMIO.
 *
 *   RAM + 0x0000  vector table: every entry stores x1 to MARK_VECTOR
 *   RAM + 0x1000  the current test's code
 *   RAM + 0x2000  the watched doubleword
 */
#define PG_RAM 0x40000000ULL
#define PG_RAM_SIZE 0x10000ULL
#define PG_VECTORS (PG_RAM + 0x0000)
#define PG_CODE (PG_RAM + 0x1000)
#define PG_DATA (PG_RAM + 0x2000)
#define PG_RO 0x40100000ULL
#define PG_RO_SIZE 0x1000ULL
#define PG_HOLE 0x40200000ULL
/* Each code blob ends by storing x1 to MARK_END; the vector table stores
 * it to MARK_VECTOR + the vector offset. */
#define MARK_END 0x50000000ULL
#define MARK_VECTOR 0x50001000ULL

#define RO_PATTERN 0x600dcafe600dcafeULL

/* A64 instructions. */
#define I_NOP 0xd503201fu
#define I_BRK0 0xd4200000u
#define I_STR_X1_X0 0xf9000001u /* str x1, [x0] */
#define I_LDR_X1_X0 0xf9400001u /* ldr x1, [x0] */
#define I_STR_X1_X2 0xf9000041u /* str x1, [x2]: the end mark */
#define I_STR_X1_X3 0xf9000061u /* str x1, [x3]: the vector mark */
#define I_STR_X1_X4 0xf9000081u /* str x1, [x4] */
#define I_LDR_X1_X5 0xf94000a1u /* ldr x1, [x5] */
#define I_B_SELF 0x14000000u

#define PSTATE_EL1H_MASKED 0x3c5u /* D, A, I, F set; EL1h */

#define PROBE_TIMEOUT_MS 300

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid /* glibc < 2.41 */
#endif

struct probe_vm {
	struct kvm_sys sys;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	uint8_t *ro;
	bool dead;
	timer_t timer;
	bool have_timer;
	unsigned timeout_ms;
};

static void read_caps(struct probe_vm *p, struct kvm_probe_caps *c)
{
	int fd = p->vm_fd >= 0 ? p->vm_fd : p->sys.fd;

	c->set_guest_debug = kvm_check_cap(fd, KVM_CAP_SET_GUEST_DEBUG);
#ifdef KVM_CAP_SET_GUEST_DEBUG2
	c->set_guest_debug2 = kvm_check_cap(fd, KVM_CAP_SET_GUEST_DEBUG2);
#endif
	c->nr_vcpus = kvm_check_cap(fd, KVM_CAP_NR_VCPUS);
	c->max_vcpus = kvm_check_cap(fd, KVM_CAP_MAX_VCPUS);
	c->guest_debug_hw_bps = kvm_check_cap(fd, KVM_CAP_GUEST_DEBUG_HW_BPS);
	c->guest_debug_hw_wps = kvm_check_cap(fd, KVM_CAP_GUEST_DEBUG_HW_WPS);
	c->immediate_exit = kvm_check_cap(fd, KVM_CAP_IMMEDIATE_EXIT);
	c->sync_regs = kvm_check_cap(fd, KVM_CAP_SYNC_REGS);
	c->readonly_mem = kvm_check_cap(fd, KVM_CAP_READONLY_MEM);
	c->mod_kvm_pvm = probe_module_loaded("kvm_pvm");
	c->mod_kvm_intel = probe_module_loaded("kvm_intel");
	c->mod_kvm_amd = probe_module_loaded("kvm_amd");
}

static void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int set_slot(struct probe_vm *p, uint32_t slot, uint64_t gpa,
		    uint64_t size, void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	long ret = kvm_ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);

	return ret < 0 ? (int)ret : 0;
}

void probe_vm_destroy(struct probe_vm *p)
{
	if (p->have_timer)
		timer_delete(p->timer);
	probe_guard_run = NULL;
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->vcpu_fd >= 0)
		close(p->vcpu_fd);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	if (p->ram)
		munmap(p->ram, PG_RAM_SIZE);
	if (p->ro)
		munmap(p->ro, PG_RO_SIZE);
	kvm_sys_close(&p->sys);
}

int probe_vm_create(struct probe_vm *p, struct kvm_probe_caps *caps,
			   char *err, size_t errlen)
{
	struct kvm_vcpu_init init;
	struct sigevent sev;
	long r;

	p->vm_fd = p->vcpu_fd = -1;
	p->timeout_ms = PROBE_TIMEOUT_MS;
	r = kvm_sys_open(&p->sys, err, errlen);
	if (r < 0)
		return (int)r;
	read_caps(p, caps);
	r = kvm_ioctl_val(p->sys.fd, KVM_CREATE_VM, 0);
	if (r < 0) {
		snprintf(err, errlen, "probe: KVM_CREATE_VM: %s",
			 strerror((int)-r));
		goto fail;
	}
	p->vm_fd = (int)r;
	read_caps(p, caps); /* the VM's answers, where they differ */
	p->ram = map_anon(PG_RAM_SIZE);
	p->ro = map_anon(PG_RO_SIZE);
	if (!p->ram || !p->ro) {
		r = -ENOMEM;
		snprintf(err, errlen, "probe: out of memory");
		goto fail;
	}
	memcpy(p->ro, &(uint64_t){ RO_PATTERN }, 8);
	r = set_slot(p, 0, PG_RAM, PG_RAM_SIZE, p->ram, 0);
	if (r == 0 && caps->readonly_mem)
		r = set_slot(p, 1, PG_RO, PG_RO_SIZE, p->ro, KVM_MEM_READONLY);
	if (r < 0) {
		snprintf(err, errlen, "probe: memslots: %s", strerror((int)-r));
		goto fail;
	}
	r = kvm_ioctl_val(p->vm_fd, KVM_CREATE_VCPU, 0);
	if (r < 0) {
		snprintf(err, errlen, "probe: KVM_CREATE_VCPU: %s",
			 strerror((int)-r));
		goto fail;
	}
	p->vcpu_fd = (int)r;
	r = kvm_ioctl(p->vm_fd, KVM_ARM_PREFERRED_TARGET, &init);
	if (r == 0)
		r = kvm_ioctl(p->vcpu_fd, KVM_ARM_VCPU_INIT, &init);
	if (r < 0) {
		snprintf(err, errlen, "probe: KVM_ARM_VCPU_INIT: %s",
			 strerror((int)-r));
		goto fail;
	}
	p->run_size = (size_t)p->sys.vcpu_mmap_size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->vcpu_fd, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		r = -errno;
		snprintf(err, errlen, "probe: mmap kvm_run: %s",
			 strerror((int)-r));
		goto fail;
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = PROBE_SIG;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &p->timer) < 0) {
		r = -errno;
		snprintf(err, errlen, "probe: timer_create: %s",
			 strerror((int)-r));
		goto fail;
	}
	p->have_timer = true;
	probe_guard_run = p->run;
	return 0;

fail:
	probe_vm_destroy(p);
	return (int)r;
}

static uint64_t core_id(uint64_t off)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (off / sizeof(uint32_t));
}

static int set_reg(struct probe_vm *p, uint64_t id, uint64_t v)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&v };

	return (int)kvm_ioctl(p->vcpu_fd, KVM_SET_ONE_REG, &r);
}

static int get_reg(struct probe_vm *p, uint64_t id, uint64_t *v)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)v };

	return (int)kvm_ioctl(p->vcpu_fd, KVM_GET_ONE_REG, &r);
}

#define REG_X(n) core_id(offsetof(struct kvm_regs, regs.regs[n]))
#define REG_PC core_id(offsetof(struct kvm_regs, regs.pc))
#define REG_PSTATE core_id(offsetof(struct kvm_regs, regs.pstate))
#define REG_VBAR ARM64_SYS_REG(3, 0, 12, 0, 0)

/* Put the code at PG_CODE and the vCPU at its start, EL1h, interrupts
 * masked, with the addresses the blobs use in x0-x5. */
static int cpu_reset(struct probe_vm *p, const uint32_t *code, size_t n)
{
	static const uint64_t xs[6] = { PG_DATA, 0x1234, MARK_END,
					MARK_VECTOR, PG_RO, PG_HOLE };
	int r = 0;

	/* An MMIO exit is completed on the next entry, which moves the pc
	 * past the access: do that now, before the pc is set. */
	if (p->run->exit_reason == KVM_EXIT_MMIO) {
		p->run->immediate_exit = 1;
		kvm_ioctl_val(p->vcpu_fd, KVM_RUN, 0);
		p->run->immediate_exit = 0;
		p->run->exit_reason = KVM_EXIT_UNKNOWN;
	}
	for (unsigned i = 0; i < 0x800 / 4; i++) {
		/* Each 0x80-byte vector: store x1 to MARK_VECTOR plus the
		 * vector offset (x3 is set per entry below), then spin. */
		uint32_t insn = I_NOP;

		if (i % 32 == 0)
			insn = 0x91000063u | ((i * 4) << 10); /* add x3,x3,#off */
		else if (i % 32 == 1)
			insn = I_STR_X1_X3;
		else if (i % 32 == 2)
			insn = I_B_SELF;
		memcpy(p->ram + (PG_VECTORS - PG_RAM) + i * 4, &insn, 4);
	}
	memset(p->ram + (PG_CODE - PG_RAM), 0, 0x1000);
	memcpy(p->ram + (PG_CODE - PG_RAM), code, n * 4);
	memset(p->ram + (PG_DATA - PG_RAM), 0, 16);
	for (unsigned i = 0; i < 6 && r == 0; i++)
		r = set_reg(p, REG_X(i), xs[i]);
	if (r == 0)
		r = set_reg(p, REG_PC, PG_CODE);
	if (r == 0)
		r = set_reg(p, REG_PSTATE, PSTATE_EL1H_MASKED);
	if (r == 0)
		r = set_reg(p, REG_VBAR, PG_VECTORS);
	return r;
}

static int set_debug(struct probe_vm *p, uint32_t control,
		     const struct arm64_kvm_guest_debug_arch *hw)
{
	struct kvm_guest_debug d;

	memset(&d, 0, sizeof(d));
	d.control = control;
	if (hw)
		memcpy(&d.arch, hw, sizeof(*hw));
	return (int)kvm_ioctl(p->vcpu_fd, KVM_SET_GUEST_DEBUG, &d);
}

/* One KVM_RUN under the timeout guard. */
static int vcpu_run(struct probe_vm *p, bool *timed_out)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = p->timeout_ms / 1000,
			      .tv_nsec = (long)(p->timeout_ms % 1000) *
					 1000000L },
	};
	const struct itimerspec off = { { 0, 0 }, { 0, 0 } };
	long r;

	probe_guard_fired = 0;
	p->run->immediate_exit = 0;
	timer_settime(p->timer, 0, &its, NULL);
	r = kvm_ioctl_val(p->vcpu_fd, KVM_RUN, 0);
	timer_settime(p->timer, 0, &off, NULL);
	*timed_out = probe_guard_fired || r == -EINTR;
	p->run->immediate_exit = 0;
	probe_guard_fired = 0;
	if (r == -EINTR)
		return 0;
	if (r == -EIO)
		p->dead = true;
	return r < 0 ? (int)r : 0;
}

static void ev_add(struct kvm_probe_test *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ev_add(struct kvm_probe_test *t, const char *fmt, ...)
{
	size_t n = strlen(t->evidence);
	va_list ap;

	if (n + 1 >= sizeof(t->evidence))
		return;
	va_start(ap, fmt);
	vsnprintf(t->evidence + n, sizeof(t->evidence) - n, fmt, ap);
	va_end(ap);
}

/* Record the exit in t (and its evidence) and return the ESR for debug
 * exits. */
static uint64_t note_exit(struct probe_vm *p, struct kvm_probe_test *t,
			  bool timed_out)
{
	struct kvm_run *run = p->run;
	uint64_t pc = 0, esr = 0;

	get_reg(p, REG_PC, &pc);
	t->exit.pc = pc;
	if (timed_out) {
		t->exit.reason = KVM_EXIT_INTR;
		ev_add(t, "no exit in %u ms, pc=0x%" PRIx64, p->timeout_ms, pc);
		return 0;
	}
	t->exit.reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		esr = run->debug.arch.hsr;
		t->exit.detail = ARM64_ESR_EC(esr);
		t->exit.dr6 = run->debug.arch.far;
		ev_add(t, "DEBUG EC=0x%02x pc=0x%" PRIx64, ARM64_ESR_EC(esr),
		       pc);
		/* FAR is only meaningful for watchpoints. */
		if (ARM64_ESR_EC(esr) == ARM64_EC_WATCH_LOW ||
		    ARM64_ESR_EC(esr) == ARM64_EC_WATCH_CUR)
			ev_add(t, " far=0x%llx",
			       (unsigned long long)run->debug.arch.far);
		break;
	case KVM_EXIT_MMIO:
		ev_add(t, "MMIO %s 0x%llx pc=0x%" PRIx64,
		       run->mmio.is_write ? "write" : "read",
		       (unsigned long long)run->mmio.phys_addr, pc);
		break;
	default:
		ev_add(t, "exit %u pc=0x%" PRIx64, run->exit_reason, pc);
		break;
	}
	return esr;
}

static bool is_mmio(struct probe_vm *p, bool to, uint64_t gpa, bool write)
{
	return !to && p->run->exit_reason == KVM_EXIT_MMIO &&
	       p->run->mmio.phys_addr == gpa && !!p->run->mmio.is_write == write;
}

static void set_verdict(struct kvm_probe_test *t, enum kvm_probe_verdict v,
			enum kvm_probe_variant var)
{
	t->verdict = v;
	t->variant = var;
}

/* A debug exit of class ec at pc: WORKS; the end mark reached: NOT
 * HONOURED; anything else: UNEXPECTED. */
static void expect_debug(struct probe_vm *p, struct kvm_probe_test *t,
			 uint32_t control,
			 const struct arm64_kvm_guest_debug_arch *hw,
			 const uint32_t *code, size_t n, unsigned ec,
			 uint64_t want_pc, uint64_t want_far)
{
	bool to = false;
	uint64_t esr;
	int r;

	t->exit.expect_pc = want_pc;
	r = cpu_reset(p, code, n);
	if (r == 0)
		r = set_debug(p, control, hw);
	if (r == 0)
		r = vcpu_run(p, &to);
	if (r < 0) {
		set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED);
		ev_add(t, "ioctl failed: %s", strerror(-r));
		set_debug(p, 0, NULL);
		return;
	}
	esr = note_exit(p, t, to);
	set_debug(p, 0, NULL);
	if (!to && p->run->exit_reason == KVM_EXIT_DEBUG &&
	    ARM64_ESR_EC(esr) == ec && t->exit.pc == want_pc &&
	    (!want_far || p->run->debug.arch.far == want_far))
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	else if (is_mmio(p, to, MARK_END, true))
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_NO_EXIT);
	else if (to)
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_TIMEOUT);
	else
		set_verdict(t, KVM_PROBE_DIFFERS, KVM_PROBE_VAR_UNEXPECTED);
}

static void test_sw_bp(struct probe_vm *p, struct kvm_probe_test *t)
{
	const uint32_t code[] = { I_NOP, I_BRK0, I_STR_X1_X2, I_B_SELF };

	t->exit.ref = PG_CODE + 4;
	expect_debug(p, t, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, NULL,
		     code, 4, ARM64_EC_BRK64, PG_CODE + 4, 0);
}

static void test_single_step(struct probe_vm *p, struct kvm_probe_test *t)
{
	const uint32_t code[] = { I_NOP, I_NOP, I_STR_X1_X2, I_B_SELF };

	expect_debug(p, t, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, NULL,
		     code, 4, ARM64_EC_SSTEP_LOW, PG_CODE + 4, 0);
}

static void test_hw_exec(struct probe_vm *p, struct kvm_probe_test *t)
{
	const uint32_t code[] = { I_NOP, I_NOP, I_STR_X1_X2, I_B_SELF };
	struct arm64_kvm_guest_debug_arch hw;

	memset(&hw, 0, sizeof(hw));
	arm64_bp_encode(PG_CODE + 4, &hw.dbg_bcr[0], &hw.dbg_bvr[0]);
	expect_debug(p, t, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW, &hw,
		     code, 4, ARM64_EC_BKPT_LOW, PG_CODE + 4, 0);
}

static void test_hw_data(struct probe_vm *p, struct kvm_probe_test *t,
			 bool write)
{
	const uint32_t code[] = { I_NOP, write ? I_STR_X1_X0 : I_LDR_X1_X0,
				  I_STR_X1_X2, I_B_SELF };
	struct arm64_kvm_guest_debug_arch hw;

	memset(&hw, 0, sizeof(hw));
	arm64_wp_encode(write ? ARM64_WP_WRITE : ARM64_WP_ACCESS, PG_DATA, 8,
			&hw.dbg_wcr[0], &hw.dbg_wvr[0]);
	/* A watchpoint is taken before the access completes: pc is the
	 * load or store. */
	expect_debug(p, t, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW, &hw,
		     code, 4, ARM64_EC_WATCH_LOW, PG_CODE + 4, PG_DATA);
}

/* The guest's own BRK without guest debugging: its vector at VBAR + 0x200
 * (current EL, SPx) must run. */
static void test_guest_bp(struct probe_vm *p, struct kvm_probe_test *t)
{
	const uint32_t code[] = { I_BRK0, I_STR_X1_X2, I_B_SELF };
	bool to = false;
	int r;

	r = cpu_reset(p, code, 3);
	if (r == 0)
		r = set_debug(p, 0, NULL);
	if (r == 0)
		r = vcpu_run(p, &to);
	if (r < 0) {
		set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED);
		ev_add(t, "ioctl failed: %s", strerror(-r));
		return;
	}
	note_exit(p, t, to);
	if (is_mmio(p, to, MARK_VECTOR + 0x200, true))
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_DELIVERED);
	else if (to)
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_TIMEOUT);
	else
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_UNEXPECTED);
}

/* A store to the read-only slot exits as MMIO with the data; a load from
 * a gpa without a slot exits as an MMIO read. Either completes when the
 * VMM re-enters and then reaches the end mark. */
static void test_mmio(struct probe_vm *p, struct kvm_probe_test *t,
		      bool write)
{
	const uint32_t code[] = { write ? I_STR_X1_X4 : I_LDR_X1_X5,
				  I_STR_X1_X2, I_B_SELF };
	uint64_t gpa = write ? PG_RO : PG_HOLE;
	bool to = false;
	int r;

	if (write && !p->ro) {
		set_verdict(t, KVM_PROBE_UNTESTED, KVM_PROBE_VAR_NONE);
		return;
	}
	r = cpu_reset(p, code, 3);
	if (r == 0)
		r = set_debug(p, 0, NULL);
	if (r == 0)
		r = vcpu_run(p, &to);
	if (r < 0) {
		set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED);
		ev_add(t, "ioctl failed: %s", strerror(-r));
		return;
	}
	note_exit(p, t, to);
	if (!is_mmio(p, to, gpa, write)) {
		set_verdict(t, to ? KVM_PROBE_NOT_HONOURED : KVM_PROBE_DIFFERS,
			    to ? KVM_PROBE_VAR_TIMEOUT
			       : KVM_PROBE_VAR_UNEXPECTED);
		return;
	}
	if (!write)
		memcpy(p->run->mmio.data, &(uint64_t){ RO_PATTERN }, 8);
	r = vcpu_run(p, &to);
	if (r == 0 && is_mmio(p, to, MARK_END, true)) {
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
		return;
	}
	set_verdict(t, KVM_PROBE_DIFFERS, KVM_PROBE_VAR_UNEXPECTED);
	ev_add(t, "; did not complete");
}

void probe_run_tests(struct probe_vm *p, struct kvm_probe_result *out)
{
	static const struct {
		enum kvm_probe_mech m;
	} order[] = {
		{ KVM_PROBE_SW_BP },	     { KVM_PROBE_GUEST_BP },
		{ KVM_PROBE_HW_EXEC },	     { KVM_PROBE_HW_DATA_WRITE },
		{ KVM_PROBE_HW_DATA_RW },    { KVM_PROBE_SINGLE_STEP },
		{ KVM_PROBE_READONLY_MEM },  { KVM_PROBE_UNMAPPED_READ },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct kvm_probe_test *t = &out->test[order[i].m];
		uint64_t t0 = probe_now_ns();

		if (p->dead) {
			set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_NONE);
			ev_add(t, "the probe VM died");
			continue;
		}
		switch (order[i].m) {
		case KVM_PROBE_SW_BP:
			test_sw_bp(p, t);
			break;
		case KVM_PROBE_GUEST_BP:
			test_guest_bp(p, t);
			break;
		case KVM_PROBE_HW_EXEC:
			if (out->caps.guest_debug_hw_bps > 0)
				test_hw_exec(p, t);
			break;
		case KVM_PROBE_HW_DATA_WRITE:
		case KVM_PROBE_HW_DATA_RW:
			if (out->caps.guest_debug_hw_wps > 0)
				test_hw_data(p, t, order[i].m ==
						   KVM_PROBE_HW_DATA_WRITE);
			break;
		case KVM_PROBE_SINGLE_STEP:
			test_single_step(p, t);
			break;
		case KVM_PROBE_READONLY_MEM:
			test_mmio(p, t, true);
			break;
		case KVM_PROBE_UNMAPPED_READ:
			test_mmio(p, t, false);
			break;
		default:
			break;
		}
		t->usec = (uint32_t)((probe_now_ns() - t0) / 1000);
	}
}

size_t probe_vm_size(void)
{
	return sizeof(struct probe_vm);
}

int kvm__probe_timeout_selftest(unsigned ms, char *err, size_t errlen)
{
	const uint32_t spin[] = { I_B_SELF };
	const uint32_t mark[] = { I_STR_X1_X2, I_B_SELF };
	struct kvm_probe_caps caps;
	struct probe_vm p;
	struct probe_sig_state sig;
	uint64_t t0, waited;
	bool to = false;
	int r;

	memset(&p, 0, sizeof(p));
	memset(&caps, 0, sizeof(caps));
	r = probe_sig_enter(&sig);
	if (r < 0) {
		snprintf(err, errlen, "cannot install the SIGUSR2 handler");
		return r;
	}
	r = probe_vm_create(&p, &caps, err, errlen);
	if (r < 0)
		goto out_signal;
	p.timeout_ms = ms;
	r = cpu_reset(&p, spin, 1);
	t0 = probe_now_ns();
	if (r == 0)
		r = vcpu_run(&p, &to);
	waited = probe_now_ns() - t0;
	if (r < 0 || !to) {
		snprintf(err, errlen, "spinning guest: %s",
			 r < 0 ? strerror(-r) : "not stopped by the guard");
		r = r < 0 ? r : -EPROTO;
		goto out;
	}
	if (waited < (uint64_t)ms * 1000000ULL) {
		snprintf(err, errlen,
			 "guard fired after %" PRIu64 " us, before its %u ms",
			 waited / 1000, ms);
		r = -EPROTO;
		goto out;
	}
	r = cpu_reset(&p, mark, 2);
	if (r == 0)
		r = vcpu_run(&p, &to);
	if (r < 0 || !is_mmio(&p, to, MARK_END, true)) {
		snprintf(err, errlen, "the vCPU did not run after the kick");
		r = r < 0 ? r : -EPROTO;
		goto out;
	}
	snprintf(err, errlen, "stopped after %" PRIu64 " us", waited / 1000);
	r = 0;
out:
	probe_vm_destroy(&p);
out_signal:
	probe_sig_leave(&sig);
	return r;
}

/* --- strategy and formatting (pure) ------------------------------------ */

void kvm_probe_derive(struct kvm_probe_result *r)
{
	const struct kvm_probe_test *t = r->test;
	struct kvm_probe_strategy *s = &r->strategy;
	bool dr, pages;

	memset(s, 0, sizeof(*s));
	s->sw_bp = t[KVM_PROBE_SW_BP].verdict == KVM_PROBE_WORKS
			   ? KVM_PROBE_SW_BP_KVM_DEBUG_EXIT
			   : KVM_PROBE_SW_BP_NONE;
	/* There is no RF on arm64: a hardware breakpoint is stepped over
	 * with its slot disabled. */
	s->hw_exec_resume = KVM_PROBE_RESUME_DISABLE_SLOT;
	dr = t[KVM_PROBE_HW_DATA_WRITE].verdict == KVM_PROBE_WORKS &&
	     t[KVM_PROBE_HW_DATA_RW].verdict == KVM_PROBE_WORKS;
	pages = t[KVM_PROBE_READONLY_MEM].verdict == KVM_PROBE_WORKS &&
		t[KVM_PROBE_UNMAPPED_READ].verdict == KVM_PROBE_WORKS;
	if (dr && pages)
		s->watch = KVM_PROBE_WATCH_DEBUG_REGS_THEN_PAGES;
	else if (dr)
		s->watch = KVM_PROBE_WATCH_DEBUG_REGS_ONLY;
	else if (pages)
		s->watch = KVM_PROBE_WATCH_PAGES_ONLY;
	else
		s->watch = KVM_PROBE_WATCH_NONE;
	/* arm64 KVM has no KVM_GUESTDBG_BLOCKIRQ. */
	s->step_blockirq = false;
	s->guest_can_take_bp = t[KVM_PROBE_GUEST_BP].verdict == KVM_PROBE_WORKS;
	s->reinject_bp_skips_int3 = false;
}

static const struct {
	const char *key, *label;
} mech_info[KVM_PROBE_NR_MECH] = {
	[KVM_PROBE_SW_BP] = { "sw_bp", "BRK exit" },
	[KVM_PROBE_GUEST_BP] = { "guest_bp", "guest BRK" },
	[KVM_PROBE_BP_REINJECT] = { "bp_reinject", "BRK reinjection" },
	[KVM_PROBE_HW_EXEC] = { "hw_exec", "hw breakpoint" },
	[KVM_PROBE_HW_EXEC_RF] = { "hw_exec_rf", "hw bp resume flag" },
	[KVM_PROBE_HW_DATA_WRITE] = { "hw_data_write", "watchpoint write" },
	[KVM_PROBE_HW_DATA_RW] = { "hw_data_rw", "watchpoint read" },
	[KVM_PROBE_SINGLE_STEP] = { "single_step", "single-step" },
	[KVM_PROBE_BLOCKIRQ] = { "blockirq_check", "IRQ blocking" },
	[KVM_PROBE_READONLY_MEM] = { "readonly_mem", "read-only memslot" },
	[KVM_PROBE_UNMAPPED_READ] = { "unmapped_read", "unmapped read" },
};

/* The rows of the arm64 table; the others have no arm64 mechanism. */
static const enum kvm_probe_mech table_order[] = {
	KVM_PROBE_SW_BP,	 KVM_PROBE_GUEST_BP,
	KVM_PROBE_HW_EXEC,	 KVM_PROBE_HW_DATA_WRITE,
	KVM_PROBE_HW_DATA_RW,	 KVM_PROBE_SINGLE_STEP,
	KVM_PROBE_READONLY_MEM, KVM_PROBE_UNMAPPED_READ,
};

const char *kvm_probe_mech_key(enum kvm_probe_mech m)
{
	return (unsigned)m < KVM_PROBE_NR_MECH ? mech_info[m].key : "?";
}

const char *kvm_probe_outcome_token(enum kvm_probe_mech m,
				    const struct kvm_probe_test *t)
{
	if ((unsigned)m >= KVM_PROBE_NR_MECH)
		return "?";
	switch (t->verdict) {
	case KVM_PROBE_UNTESTED:
		return "untested";
	case KVM_PROBE_WORKS:
		return "works";
	case KVM_PROBE_DIFFERS:
		return "differs";
	case KVM_PROBE_NOT_HONOURED:
		return t->variant == KVM_PROBE_VAR_TIMEOUT ? "timeout"
							   : "not_honoured";
	case KVM_PROBE_ERROR:
		return "error";
	}
	return "?";
}

static const char *outcome_phrase(const struct kvm_probe_test *t)
{
	switch (t->verdict) {
	case KVM_PROBE_UNTESTED:
		return "not tested";
	case KVM_PROBE_WORKS:
		return t->variant == KVM_PROBE_VAR_DELIVERED ? "delivered"
							     : "works";
	case KVM_PROBE_DIFFERS:
		return "differs";
	case KVM_PROBE_NOT_HONOURED:
		return t->variant == KVM_PROBE_VAR_TIMEOUT ? "hangs"
							   : "not honoured";
	case KVM_PROBE_ERROR:
		return "error";
	}
	return "?";
}

void kvm_probe_format(const struct kvm_probe_result *r, char *buf,
		      size_t len)
{
	const struct kvm_probe_caps *c = &r->caps;
	const struct kvm_probe_strategy *s = &r->strategy;
	struct probe_out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	probe_out_add(&o, "kvmdbg host probe, arm64 (");
	probe_out_ms(&o, r->elapsed_ns);
	probe_out_add(&o, ": set-up ");
	probe_out_ms(&o, (uint64_t)r->setup_usec * 1000);
	probe_out_add(&o, ", tear-down ");
	probe_out_ms(&o, (uint64_t)r->teardown_usec * 1000);
	probe_out_add(&o, ")\n%-18s %-24s %s\n", "mechanism", "result", "evidence");
	for (size_t i = 0; i < sizeof(table_order) / sizeof(table_order[0]);
	     i++) {
		enum kvm_probe_mech m = table_order[i];
		const struct kvm_probe_test *t = &r->test[m];

		probe_out_add(&o, "%-18s %-24s %s\n", mech_info[m].label,
			outcome_phrase(t), t->evidence);
	}
	probe_out_add(&o, "debug registers: %d hardware breakpoints, %d "
		    "watchpoints (KVM_CAP_GUEST_DEBUG_HW_BPS/_WPS)\n",
		c->guest_debug_hw_bps, c->guest_debug_hw_wps);
	probe_out_add(&o,
		"caps: SET_GUEST_DEBUG=%d NR_VCPUS=%d MAX_VCPUS=%d "
		"IMMEDIATE_EXIT=%d SYNC_REGS=%#x READONLY_MEM=%d\n",
		c->set_guest_debug, c->nr_vcpus, c->max_vcpus,
		c->immediate_exit, (unsigned)c->sync_regs, c->readonly_mem);
	probe_out_add(&o, "strategy: %s; step over hw breakpoints by disabling the "
		    "slot; %s; stepping may enter IRQ handlers; %s\n",
		s->sw_bp == KVM_PROBE_SW_BP_KVM_DEBUG_EXIT
			? "software breakpoints (BRK #0) by KVM debug exit"
			: "no software breakpoints",
		probe_watch_words(s->watch),
		"the guest's own BRK is delivered by emulated exception entry");
}

void kvm_probe_format_kv(const struct kvm_probe_result *r, char *buf,
			 size_t len)
{
	const struct kvm_probe_caps *c = &r->caps;
	const struct kvm_probe_strategy *s = &r->strategy;
	struct probe_out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	probe_out_add(&o, "arch=arm64 probe_us=%" PRIu64 " setup_us=%u teardown_us=%u",
		r->elapsed_ns / 1000, r->setup_usec, r->teardown_usec);
	for (size_t i = 0; i < sizeof(table_order) / sizeof(table_order[0]);
	     i++) {
		enum kvm_probe_mech m = table_order[i];

		probe_out_add(&o, " %s=%s", mech_info[m].key,
			kvm_probe_outcome_token(m, &r->test[m]));
	}
	probe_out_add(&o,
		" cap_set_guest_debug=%d cap_nr_vcpus=%d cap_max_vcpus=%d"
		" cap_guest_debug_hw_bps=%d cap_guest_debug_hw_wps=%d"
		" cap_immediate_exit=%d cap_sync_regs=%#x cap_readonly_mem=%d",
		c->set_guest_debug, c->nr_vcpus, c->max_vcpus,
		c->guest_debug_hw_bps, c->guest_debug_hw_wps,
		c->immediate_exit, (unsigned)c->sync_regs, c->readonly_mem);
	probe_out_add(&o, " strategy_sw_bp=%s strategy_watch=%s"
		    " strategy_guest_can_take_bp=%d",
		s->sw_bp == KVM_PROBE_SW_BP_KVM_DEBUG_EXIT ? "kvm_debug_exit"
							   : "none",
		probe_watch_token(s->watch),
		s->guest_can_take_bp);
}
