/* The start-up host probe: a one-vCPU VM of its own, in flat 32-bit
 * protected mode at CPL0, that tries each guest-debug mechanism once. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "log.h"
#include "vmm/kvm.h"
#include "vmm/probe.h"
#include "vmm/probe_common.h"

/*
 * Guest-physical layout. Slot 0 is RAM; slot 1 one read-only page; the
 * page at PG_HOLE has no slot at all.
 *
 *   0x0000  IDT: gates for #BP (vector 3) and the test IRQ (0x30)
 *   0x0200  GDT: null, 0x08 code32, 0x10 data, 0x18 TSS
 *   0x1000  the current test's code
 *   0x1800  #BP handler, 0x1840 IRQ handler
 *   0x2000  the watched dword
 *   0x3800  TSS (never used: no privilege changes), 0x4000 stack top
 */
#define PG_IDT 0x0000u
#define PG_GDT 0x0200u
#define PG_CODE 0x1000u
#define PG_BP_HANDLER 0x1800u
#define PG_IRQ_HANDLER 0x1840u
#define PG_DATA 0x2000u
#define PG_TSS 0x3800u
#define PG_STACK_TOP 0x4000u
#define PG_RAM_SIZE 0x4000u
#define PG_RO 0x10000u
#define PG_RO_SIZE 0x1000u
#define PG_HOLE 0x20000u

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
#define IRQ_VECTOR 0x30
#define IDT_ENTRIES (IRQ_VECTOR + 1)

/* Every blob ends by writing eax to MARK_PORT; the #BP handler writes
 * its return eip to HANDLER_PORT, the IRQ handler to IRQ_PORT. */
#define MARK_PORT 0x80
#define HANDLER_PORT 0x81
#define IRQ_PORT 0x82

#define RO_PATTERN 0x600dcafeu
#define HOLE_DATA 0x89abcdefu

#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)
#define RFLAGS_FIXED 0x2u
#define RFLAGS_IF (1u << 9)
#define RFLAGS_RF (1u << 16)
#define DR6_B0 (1u << 0)
#define DR6_BS (1u << 14)
#define DR7_FIXED 0x400u
#define DR7_G0 (1u << 1)
#define DR7_RW0(x) ((uint64_t)(x) << 16)
#define DR7_LEN0(x) ((uint64_t)(x) << 18)

#define APIC_SVR 0xf0
#define APIC_MSI_ADDR 0xfee00000u

#define PROBE_TIMEOUT_MS 200

/* --- the timeout guard ------------------------------------------------ */

/*
 * A per-thread POSIX timer that sends PROBE_SIG to the probing thread
 * itself. The handler sets immediate_exit, which covers the window before
 * KVM_RUN, and the signal makes a running KVM_RUN return: the way kvmdbg
 * stops any vCPU. No helper thread: arming and disarming are one syscall
 * each, and nothing waits on the scheduler of a loaded host. The handler
 * finds the kvm_run through a static, which is why only one probe may run
 * at a time.
 */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid /* glibc < 2.41 */
#endif

struct probe_guard {
	timer_t timer;
};

static int guard_start(struct probe_guard *g, struct kvm_run *run)
{
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = PROBE_SIG;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &g->timer) < 0)
		return -errno;
	probe_guard_run = run;
	return 0;
}

static void guard_stop(struct probe_guard *g)
{
	timer_delete(g->timer);
	probe_guard_run = NULL;
}

static void guard_arm(struct probe_guard *g, unsigned ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L },
	};

	probe_guard_fired = 0;
	timer_settime(g->timer, 0, &its, NULL);
}

/* After this returns no kick is pending: a signal the timer raised before
 * it was stopped is delivered on the way out of timer_settime, so the
 * caller's reset of immediate_exit and probe_guard_fired comes after it. */
static void guard_disarm(struct probe_guard *g)
{
	const struct itimerspec off = { { 0, 0 }, { 0, 0 } };

	timer_settime(g->timer, 0, &off, NULL);
}

/* --- the probe VM ----------------------------------------------------- */

struct probe_vm {
	struct kvm_sys sys;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	uint8_t *ro;
	bool have_ro_slot;
	bool irqchip;
	bool dead; /* KVM said -EIO: later tests cannot run */
	struct kvm_sregs sregs;
	struct probe_guard guard;
	struct kvm_probe_caps *caps;
	unsigned timeout_ms;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void write_tables(struct probe_vm *p)
{
	const uint64_t gdt[4] = {
		0,
		0x00cf9b000000ffffULL, /* 0x08: code, 32-bit, 4 GiB */
		0x00cf93000000ffffULL, /* 0x10: data, 4 GiB */
		0x00008b0038000067ULL, /* 0x18: TSS (busy) at PG_TSS */
	};
	const uint32_t handlers[][2] = {
		{ 3, PG_BP_HANDLER },
		{ IRQ_VECTOR, PG_IRQ_HANDLER },
	};
	/* #BP handler: report the return eip the CPU pushed. */
	static const uint8_t bp_handler[] = {
		0x8b, 0x04, 0x24,   /* mov eax, [esp]      */
		0xe7, HANDLER_PORT, /* out HANDLER_PORT, eax */
		0xeb, 0xfe,         /* jmp $               */
	};
	/* IRQ handler: report that the interrupt was taken. */
	static const uint8_t irq_handler[] = {
		0xb8, IRQ_VECTOR, 0, 0, 0, /* mov eax, IRQ_VECTOR  */
		0xe7, IRQ_PORT,            /* out IRQ_PORT, eax    */
		0xeb, 0xfe,                /* jmp $                */
	};

	memcpy(p->ram + PG_GDT, gdt, sizeof(gdt));
	/* 32-bit interrupt gates; every other vector is not present, so a
	 * stray exception ends in a triple fault (KVM_EXIT_SHUTDOWN). */
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		uint8_t *gate = p->ram + PG_IDT + handlers[i][0] * 8;
		uint32_t h = handlers[i][1];

		put32(gate, ((uint32_t)SEL_CODE << 16) | (h & 0xffff));
		put32(gate + 4, (h & 0xffff0000u) | 0x8e00);
	}
	memcpy(p->ram + PG_BP_HANDLER, bp_handler, sizeof(bp_handler));
	memcpy(p->ram + PG_IRQ_HANDLER, irq_handler, sizeof(irq_handler));
}

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

static int init_sregs(struct probe_vm *p)
{
	struct kvm_sregs *sr = &p->sregs;
	long ret;

	ret = kvm_ioctl(p->vcpu_fd, KVM_GET_SREGS, sr);
	if (ret < 0)
		return (int)ret;
	flat_seg(&sr->cs, SEL_CODE, 0xb);
	flat_seg(&sr->ds, SEL_DATA, 0x3);
	sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
	sr->tr = (struct kvm_segment){ .base = PG_TSS, .limit = 0x67,
				       .selector = SEL_TSS, .type = 0xb,
				       .present = 1 };
	sr->ldt = (struct kvm_segment){ .type = 0x2, .present = 1,
					.limit = 0xffff };
	sr->gdt.base = PG_GDT;
	sr->gdt.limit = 4 * 8 - 1;
	sr->idt.base = PG_IDT;
	sr->idt.limit = IDT_ENTRIES * 8 - 1;
	sr->cr0 = CR0_PE | CR0_ET;
	sr->cr3 = 0;
	sr->cr4 = 0;
	sr->efer = 0;
	return 0;
}

static void read_caps(struct probe_vm *p, struct kvm_probe_caps *c)
{
	int fd = p->vm_fd >= 0 ? p->vm_fd : p->sys.fd;

	c->set_guest_debug = kvm_check_cap(fd, KVM_CAP_SET_GUEST_DEBUG);
	c->set_guest_debug2 = kvm_check_cap(fd, KVM_CAP_SET_GUEST_DEBUG2);
	c->nr_vcpus = kvm_check_cap(p->sys.fd, KVM_CAP_NR_VCPUS);
	c->max_vcpus = kvm_check_cap(p->sys.fd, KVM_CAP_MAX_VCPUS);
	c->guest_debug_hw_bps = kvm_check_cap(fd, KVM_CAP_GUEST_DEBUG_HW_BPS);
	c->guest_debug_hw_wps = kvm_check_cap(fd, KVM_CAP_GUEST_DEBUG_HW_WPS);
	c->immediate_exit = kvm_check_cap(fd, KVM_CAP_IMMEDIATE_EXIT);
	c->sync_regs = kvm_check_cap(fd, KVM_CAP_SYNC_REGS);
	c->readonly_mem = kvm_check_cap(fd, KVM_CAP_READONLY_MEM);
	c->signal_msi = kvm_check_cap(fd, KVM_CAP_SIGNAL_MSI);
	c->exit_on_emulation_failure =
		kvm_check_cap(fd, KVM_CAP_EXIT_ON_EMULATION_FAILURE);
	c->mod_kvm_pvm = probe_module_loaded("kvm_pvm");
	c->mod_kvm_intel = probe_module_loaded("kvm_intel");
	c->mod_kvm_amd = probe_module_loaded("kvm_amd");
}

static void *map_anon(size_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static int set_slot(struct probe_vm *p, uint32_t slot, uint64_t gpa,
		    uint64_t size, void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return (int)kvm_ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* Build the VM. On failure err says which step failed and nothing is
 * left behind. */
int probe_vm_create(struct probe_vm *p, struct kvm_probe_caps *caps,
			   char *err, size_t errlen)
{
	struct kvm_enable_cap split;
	long ret;
	int r;

	memset(&split, 0, sizeof(split));
	p->caps = caps;
	p->timeout_ms = PROBE_TIMEOUT_MS;
	r = kvm_sys_open(&p->sys, err, errlen);
	if (r < 0)
		return r;
	ret = kvm_ioctl_val(p->sys.fd, KVM_CREATE_VM, 0);
	if (ret < 0) {
		r = (int)ret;
		snprintf(err, errlen, "probe: KVM_CREATE_VM: %s", strerror(-r));
		goto err_close_sys;
	}
	p->vm_fd = (int)ret;
	read_caps(p, caps);
	/* Intel hosts without unrestricted guest need the TSS area; others
	 * accept and ignore it, so a failure here is not fatal. */
	(void)kvm_ioctl_val(p->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	/*
	 * An in-kernel LAPIC gives the IRQ-blocking check a real pending
	 * interrupt; without one that check is skipped. The split irqchip
	 * (LAPIC only) comes first: on these hosts a full irqchip makes the
	 * next memslot change wait ~7 ms for an SRCU grace period.
	 */
	split.cap = KVM_CAP_SPLIT_IRQCHIP;
	split.args[0] = 24; /* IOAPIC pins routed to user space, unused */
	p->irqchip = kvm_ioctl(p->vm_fd, KVM_ENABLE_CAP, &split) == 0 ||
		     kvm_ioctl_val(p->vm_fd, KVM_CREATE_IRQCHIP, 0) == 0;

	r = -ENOMEM;
	snprintf(err, errlen, "probe: out of memory");
	p->ram = map_anon(PG_RAM_SIZE);
	if (!p->ram)
		goto err_close_vm;
	p->ro = map_anon(PG_RO_SIZE);
	if (!p->ro)
		goto err_unmap_ram;
	write_tables(p);
	for (unsigned i = 0; i < PG_RO_SIZE; i += 4)
		put32(p->ro + i, RO_PATTERN);
	r = set_slot(p, 0, 0, PG_RAM_SIZE, p->ram, 0);
	if (r < 0) {
		snprintf(err, errlen, "probe: KVM_SET_USER_MEMORY_REGION: %s",
			 strerror(-r));
		goto err_unmap_ro;
	}
	if (caps->readonly_mem > 0)
		p->have_ro_slot = set_slot(p, 1, PG_RO, PG_RO_SIZE, p->ro,
					   KVM_MEM_READONLY) == 0;

	ret = kvm_ioctl_val(p->vm_fd, KVM_CREATE_VCPU, 0);
	if (ret < 0) {
		r = (int)ret;
		snprintf(err, errlen, "probe: KVM_CREATE_VCPU: %s",
			 strerror(-r));
		goto err_unmap_ro;
	}
	p->vcpu_fd = (int)ret;
	p->run_size = (size_t)p->sys.vcpu_mmap_size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->vcpu_fd, 0);
	if (p->run == MAP_FAILED) {
		r = -errno;
		snprintf(err, errlen, "probe: mmap(vcpu): %s", strerror(-r));
		goto err_close_vcpu;
	}
	r = init_sregs(p);
	if (r < 0) {
		snprintf(err, errlen, "probe: KVM_GET_SREGS: %s", strerror(-r));
		goto err_unmap_run;
	}
	r = guard_start(&p->guard, p->run);
	if (r < 0) {
		snprintf(err, errlen, "probe: timer_create: %s", strerror(-r));
		goto err_unmap_run;
	}
	err[0] = '\0';
	return 0;

err_unmap_run:
	munmap(p->run, p->run_size);
err_close_vcpu:
	close(p->vcpu_fd);
err_unmap_ro:
	munmap(p->ro, PG_RO_SIZE);
err_unmap_ram:
	munmap(p->ram, PG_RAM_SIZE);
err_close_vm:
	close(p->vm_fd);
err_close_sys:
	kvm_sys_close(&p->sys);
	return r;
}

/* Closing the VM's descriptors releases the memslots and the vCPU; the
 * mappings go with them. */
void probe_vm_destroy(struct probe_vm *p)
{
	guard_stop(&p->guard);
	munmap(p->run, p->run_size);
	close(p->vcpu_fd);
	munmap(p->ro, PG_RO_SIZE);
	munmap(p->ram, PG_RAM_SIZE);
	close(p->vm_fd);
	kvm_sys_close(&p->sys);
}

/* --- running one test ---------------------------------------------- */

/* Put the vCPU at PG_CODE with `code` loaded, the given rflags and guest
 * debugging off, and clear the watched dword. */
static int cpu_reset(struct probe_vm *p, const uint8_t *code, size_t len,
		     uint64_t rflags)
{
	struct kvm_guest_debug dbg = { .control = 0 };
	struct kvm_regs regs = {
		.rip = PG_CODE, .rsp = PG_STACK_TOP, .rflags = rflags,
	};
	long ret;

	memset(p->ram + PG_CODE, 0xf4, 0x800); /* hlt */
	memcpy(p->ram + PG_CODE, code, len);
	put32(p->ram + PG_DATA, 0);
	ret = kvm_ioctl(p->vcpu_fd, KVM_SET_SREGS, &p->sregs);
	if (ret == 0)
		ret = kvm_ioctl(p->vcpu_fd, KVM_SET_REGS, &regs);
	if (ret == 0)
		ret = kvm_ioctl(p->vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg);
	return (int)ret;
}

static int set_debug(struct probe_vm *p, uint32_t control, uint64_t dr0,
		     uint64_t dr7)
{
	struct kvm_guest_debug dbg;

	memset(&dbg, 0, sizeof(dbg));
	dbg.control = control;
	dbg.arch.debugreg[0] = dr0;
	dbg.arch.debugreg[7] = dr7;
	return (int)kvm_ioctl(p->vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg);
}

/*
 * KVM_RUN under the guard. Returns 0 with the exit in p->run (or
 * *timed_out set), or -errno. Any other signal that interrupts KVM_RUN
 * (the process may have handlers of its own) is simply retried.
 */
static int vcpu_run(struct probe_vm *p, bool *timed_out)
{
	long ret;

	*timed_out = false;
	guard_arm(&p->guard, p->timeout_ms);
	for (;;) {
		ret = kvm_ioctl_val(p->vcpu_fd, KVM_RUN, 0);
		if (ret != -EINTR)
			break;
		if (probe_guard_fired) {
			*timed_out = true;
			ret = 0;
			break;
		}
	}
	guard_disarm(&p->guard);
	probe_guard_fired = 0;
	p->run->immediate_exit = 0;
	if (ret == -EIO)
		p->dead = true;
	return (int)ret;
}

static int get_regs(struct probe_vm *p, struct kvm_regs *regs)
{
	return (int)kvm_ioctl(p->vcpu_fd, KVM_GET_REGS, regs);
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
		return "IO";
	case KVM_EXIT_DEBUG:
		return "DEBUG";
	case KVM_EXIT_HLT:
		return "HLT";
	case KVM_EXIT_MMIO:
		return "MMIO";
	case KVM_EXIT_SHUTDOWN:
		return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:
		return "FAIL_ENTRY";
	case KVM_EXIT_INTR:
		return "INTR";
	case KVM_EXIT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT:
		return "SYSTEM_EVENT";
	default:
		return NULL;
	}
}

/* Evidence text: appended to, never overflowing. */
static void ev_add(struct kvm_probe_test *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ev_add(struct kvm_probe_test *t, const char *fmt, ...)
{
	size_t used = strnlen(t->evidence, sizeof(t->evidence));
	va_list ap;

	if (used + 1 >= sizeof(t->evidence))
		return;
	va_start(ap, fmt);
	vsnprintf(t->evidence + used, sizeof(t->evidence) - used, fmt, ap);
	va_end(ap);
}

static void set_verdict(struct kvm_probe_test *t, enum kvm_probe_verdict v,
			enum kvm_probe_variant var)
{
	t->verdict = v;
	t->variant = var;
}

/* What the run ended on, as the test's exit and as evidence. Reads rip
 * for exits that do not carry a pc. */
static void note_exit(struct probe_vm *p, struct kvm_probe_test *t,
		      bool timed_out, struct kvm_regs *regs)
{
	struct kvm_run *run = p->run;
	const char *name;

	memset(regs, 0, sizeof(*regs));
	(void)get_regs(p, regs);
	t->exit.reason = timed_out ? KVM_EXIT_INTR : run->exit_reason;
	t->exit.detail = 0;
	t->exit.dr6 = 0;
	t->exit.pc = regs->rip;
	if (timed_out) {
		ev_add(t, "no exit in %u ms, rip=%#" PRIx64, p->timeout_ms,
		       (uint64_t)regs->rip);
		return;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		t->exit.detail = run->debug.arch.exception;
		t->exit.pc = run->debug.arch.pc;
		t->exit.dr6 = run->debug.arch.dr6;
		ev_add(t, "DEBUG ex %u, DR6=%#" PRIx64 ", pc=%#" PRIx64,
		       run->debug.arch.exception,
		       (uint64_t)run->debug.arch.dr6,
		       (uint64_t)run->debug.arch.pc);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		t->exit.detail = run->internal.suberror;
		ev_add(t, "INTERNAL_ERROR suberror %u", run->internal.suberror);
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    run->emulation_failure.ndata >= 3 &&
		    (run->emulation_failure.flags &
		     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
		    run->emulation_failure.insn_size > 0) {
			unsigned n = run->emulation_failure.insn_size;

			ev_add(t, ", insn");
			for (unsigned i = 0; i < n && i < 4; i++)
				ev_add(t, " %02x",
				       run->emulation_failure.insn_bytes[i]);
		}
		ev_add(t, ", rip=%#" PRIx64, (uint64_t)regs->rip);
		break;
	case KVM_EXIT_IO:
		ev_add(t, "IO %s port %#x, eax=%#" PRIx64 ", rip=%#" PRIx64,
		       run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
		       run->io.port, (uint64_t)regs->rax,
		       (uint64_t)regs->rip);
		break;
	case KVM_EXIT_MMIO:
		ev_add(t, "MMIO %s %u bytes at %#" PRIx64,
		       run->mmio.is_write ? "write" : "read", run->mmio.len,
		       (uint64_t)run->mmio.phys_addr);
		break;
	default:
		name = exit_name(run->exit_reason);
		if (name)
			ev_add(t, "%s", name);
		else
			ev_add(t, "exit %u", run->exit_reason);
		ev_add(t, ", rip=%#" PRIx64, (uint64_t)regs->rip);
		break;
	}
}

static bool is_out(struct probe_vm *p, bool timed_out, unsigned port)
{
	return !timed_out && p->run->exit_reason == KVM_EXIT_IO &&
	       p->run->io.direction == KVM_EXIT_IO_OUT &&
	       p->run->io.port == port;
}

static bool is_debug(struct probe_vm *p, bool timed_out, uint32_t ex)
{
	return !timed_out && p->run->exit_reason == KVM_EXIT_DEBUG &&
	       p->run->debug.arch.exception == ex;
}

static bool is_emulation_failure(struct probe_vm *p, bool timed_out)
{
	return !timed_out && p->run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	       p->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION;
}

/* The first instruction byte of an emulation failure, -1 if not given. */
static int emulation_first_byte(struct probe_vm *p)
{
	struct kvm_run *run = p->run;

	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size > 0)
		return run->emulation_failure.insn_bytes[0];
	return -1;
}

static void ioctl_error(struct kvm_probe_test *t, const char *what, int r)
{
	set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_NONE);
	ev_add(t, "%s%s: %s", t->evidence[0] ? "; " : "", what, strerror(-r));
}

/* A run whose ending fits none of the expected shapes. */
static void unexpected(struct kvm_probe_test *t, bool timed_out)
{
	if (timed_out)
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_TIMEOUT);
	else
		set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED);
}

/* --- the tests -------------------------------------------------------- */

/* Two single-steps over instructions of different lengths. */
static void test_single_step(struct probe_vm *p, struct kvm_probe_test *t)
{
	static const uint8_t code[] = {
		0xb8, 0x78, 0x56, 0x34, 0x12, /* 0x1000: mov eax, 0x12345678 */
		0x40,                         /* 0x1005: inc eax             */
		0xe7, MARK_PORT,              /* 0x1006: out MARK_PORT, eax  */
		0xeb, 0xfe,                   /* 0x1008: jmp $               */
	};
	const uint64_t after[2] = { PG_CODE + 5, PG_CODE + 6 };
	struct kvm_regs regs;
	bool to;
	int r;

	r = cpu_reset(p, code, sizeof(code), RFLAGS_FIXED);
	if (r == 0)
		r = set_debug(p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
			      0, 0);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		r = vcpu_run(p, &to);
		if (r < 0) {
			ioctl_error(t, "KVM_RUN", r);
			return;
		}
		t->exit.expect_pc = after[i];
		if (!is_debug(p, to, 1) || !(p->run->debug.arch.dr6 & DR6_BS) ||
		    p->run->debug.arch.pc != after[i]) {
			note_exit(p, t, to, &regs);
			if (is_out(p, to, MARK_PORT))
				set_verdict(t, KVM_PROBE_NOT_HONOURED,
					    KVM_PROBE_VAR_NO_EXIT);
			else
				unexpected(t, to);
			ev_add(t, " (step %u, want pc %#" PRIx64 ")", i + 1,
			       after[i]);
			return;
		}
	}
	note_exit(p, t, false, &regs);
	t->evidence[0] = '\0';
	if (regs.rax != 0x12345679) {
		set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED);
		ev_add(t, "stepped, but eax=%#" PRIx64 ", want 0x12345679",
		       (uint64_t)regs.rax);
		return;
	}
	set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	ev_add(t, "DEBUG ex 1, DR6.BS, pc %#x -> %#x -> %#x", PG_CODE,
	       PG_CODE + 5, PG_CODE + 6);
}

/* Code shared by the execute-breakpoint tests: DR0 points at the inc. */
static const uint8_t hw_exec_code[] = {
	0x90,            /* 0x1000: nop                */
	0x90,            /* 0x1001: nop                */
	0x40,            /* 0x1002: inc eax   <- DR0   */
	0xe7, MARK_PORT, /* 0x1003: out MARK_PORT, eax */
	0xeb, 0xfe,      /* 0x1005: jmp $              */
};
#define HW_EXEC_ADDR (PG_CODE + 2)
#define HW_EXEC_DR7 (DR7_FIXED | DR7_G0 | DR7_RW0(0) | DR7_LEN0(0))

static bool hw_exec_hit(struct probe_vm *p, bool to)
{
	return is_debug(p, to, 1) && (p->run->debug.arch.dr6 & DR6_B0) &&
	       p->run->debug.arch.pc == HW_EXEC_ADDR;
}

/* Leaves the vCPU stopped on the breakpoint when it works, for the RF
 * test that follows. */
static void test_hw_exec(struct probe_vm *p, struct kvm_probe_test *t)
{
	struct kvm_regs regs;
	bool to;
	int r;

	r = cpu_reset(p, hw_exec_code, sizeof(hw_exec_code), RFLAGS_FIXED);
	if (r == 0)
		r = set_debug(p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
			      HW_EXEC_ADDR, HW_EXEC_DR7);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	t->exit.expect_pc = HW_EXEC_ADDR;
	note_exit(p, t, to, &regs);
	if (hw_exec_hit(p, to))
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	else if (is_out(p, to, MARK_PORT))
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_NO_EXIT);
	else
		unexpected(t, to);
}

/*
 * From the stop on the execute breakpoint: resume with RFLAGS.RF. Where
 * RF is ignored, also check the fallback the breakpoint manager then
 * uses: step once with the slot disabled, re-enable it, continue.
 */
static void test_hw_exec_rf(struct probe_vm *p, struct kvm_probe_test *t,
			    const struct kvm_probe_test *hw_exec)
{
	struct kvm_regs regs;
	bool to;
	int r;

	if (hw_exec->verdict != KVM_PROBE_WORKS) {
		ev_add(t, "needs a working DR execute breakpoint");
		return;
	}
	r = get_regs(p, &regs);
	if (r < 0) {
		ioctl_error(t, "KVM_GET_REGS", r);
		return;
	}
	regs.rflags |= RFLAGS_RF;
	r = (int)kvm_ioctl(p->vcpu_fd, KVM_SET_REGS, &regs);
	if (r < 0) {
		ioctl_error(t, "KVM_SET_REGS", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	t->exit.expect_pc = HW_EXEC_ADDR + 1;
	if (is_out(p, to, MARK_PORT)) {
		note_exit(p, t, to, &regs);
		t->evidence[0] = '\0';
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
		ev_add(t, "resumed past %#x to the end marker", HW_EXEC_ADDR);
		return;
	}
	if (!hw_exec_hit(p, to)) {
		note_exit(p, t, to, &regs);
		unexpected(t, to);
		return;
	}
	note_exit(p, t, to, &regs);
	t->evidence[0] = '\0';
	set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_HIT_AGAIN);
	ev_add(t, "hit again at %#x", HW_EXEC_ADDR);

	/* The fallback: one step with DR7 cleared, then the slot back on. */
	r = set_debug(p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, 0,
		      DR7_FIXED);
	if (r == 0)
		r = vcpu_run(p, &to);
	if (r < 0 || !is_debug(p, to, 1) ||
	    p->run->debug.arch.pc != HW_EXEC_ADDR + 1) {
		ev_add(t, "; slot-off step failed");
		return;
	}
	r = set_debug(p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
		      HW_EXEC_ADDR, HW_EXEC_DR7);
	if (r == 0)
		r = vcpu_run(p, &to);
	if (r < 0 || !is_out(p, to, MARK_PORT)) {
		ev_add(t, "; continuing after the slot-off step failed");
		return;
	}
	ev_add(t, "; slot-off step ok");
}

/* A DR0 data watchpoint on the dword at PG_DATA; `write` selects the
 * write-only watch (RW=01) with a store, else RW=11 with a load. */
static void test_hw_data(struct probe_vm *p, struct kvm_probe_test *t,
			 bool write)
{
	static const uint8_t store[] = {
		0xc7, 0x05, 0x00, 0x20, 0x00, 0x00, /* 0x1000: mov dword    */
		0xef, 0xbe, 0xad, 0xde,             /*   [0x2000], 0xdeadbeef */
		0x40,                               /* 0x100a: inc eax      */
		0xe7, MARK_PORT,                    /* 0x100b: out 0x80, eax */
		0xeb, 0xfe,                         /* 0x100d: jmp $        */
	};
	static const uint8_t load[] = {
		0xa1, 0x00, 0x20, 0x00, 0x00, /* 0x1000: mov eax, [0x2000] */
		0x40,                         /* 0x1005: inc eax           */
		0xe7, MARK_PORT,              /* 0x1006: out 0x80, eax     */
		0xeb, 0xfe,                   /* 0x1008: jmp $             */
	};
	const uint8_t *code = write ? store : load;
	size_t len = write ? sizeof(store) : sizeof(load);
	uint64_t after = PG_CODE + (write ? 10 : 5);
	uint64_t dr7 = DR7_FIXED | DR7_G0 | DR7_RW0(write ? 1 : 3) |
		       DR7_LEN0(3);
	struct kvm_regs regs;
	bool to;
	int r;

	r = cpu_reset(p, code, len, RFLAGS_FIXED);
	if (r == 0)
		r = set_debug(p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
			      PG_DATA, dr7);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	t->exit.expect_pc = after;
	note_exit(p, t, to, &regs);
	if (is_debug(p, to, 1) && (p->run->debug.arch.dr6 & DR6_B0) &&
	    p->run->debug.arch.pc == after) {
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	} else if (is_out(p, to, MARK_PORT)) {
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_NO_EXIT);
		t->evidence[0] = '\0';
		ev_add(t, "ran to the end marker (%s at %#x done)",
		       write ? "store" : "load", PG_DATA);
	} else {
		unexpected(t, to);
	}
}

/*
 * A store to the read-only slot must exit as MMIO with the data; after
 * re-entry the load from the same slot reads its unchanged contents
 * without an exit (a host that exits on it too is served from the page).
 */
static void test_readonly_mem(struct probe_vm *p, struct kvm_probe_test *t)
{
	static const uint8_t code[] = {
		0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, /* 0x1000: mov dword       */
		0x0d, 0xf0, 0xfe, 0xca,             /*  [0x10000], 0xcafef00d  */
		0xa1, 0x00, 0x00, 0x01, 0x00,       /* 0x100a: mov eax,        */
		                                    /*  [0x10000]              */
		0xe7, MARK_PORT,                    /* 0x100f: out 0x80, eax   */
		0xeb, 0xfe,                         /* 0x1011: jmp $           */
	};
	struct kvm_run *run = p->run;
	struct kvm_regs regs;
	unsigned read_exits = 0;
	bool to;
	int r;

	if (!p->have_ro_slot) {
		ev_add(t, p->caps->readonly_mem > 0
				  ? "KVM_MEM_READONLY slot refused"
				  : "no KVM_CAP_READONLY_MEM");
		return;
	}
	r = cpu_reset(p, code, sizeof(code), RFLAGS_FIXED);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	note_exit(p, t, to, &regs);
	if (to || run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write ||
	    run->mmio.phys_addr != PG_RO || run->mmio.len != 4 ||
	    get32(run->mmio.data) != 0xcafef00du) {
		if (is_out(p, to, MARK_PORT))
			set_verdict(t, KVM_PROBE_NOT_HONOURED,
				    KVM_PROBE_VAR_NO_EXIT);
		else
			unexpected(t, to);
		return;
	}
	ev_add(t, " (%#x)", get32(run->mmio.data));
	/* Re-enter: the store completes, the load reads the slot. */
	for (;;) {
		r = vcpu_run(p, &to);
		if (r < 0) {
			ioctl_error(t, "KVM_RUN", r);
			return;
		}
		if (to || run->exit_reason != KVM_EXIT_MMIO ||
		    run->mmio.is_write || read_exits++ > 0)
			break;
		memcpy(run->mmio.data, p->ro, sizeof(run->mmio.data));
	}
	if (!is_out(p, to, MARK_PORT) || get_regs(p, &regs) < 0 ||
	    regs.rax != RO_PATTERN) {
		ev_add(t, "; then ");
		note_exit(p, t, to, &regs);
		unexpected(t, to);
		return;
	}
	if (get32(p->ro) != RO_PATTERN) {
		set_verdict(t, KVM_PROBE_ERROR, KVM_PROBE_VAR_UNEXPECTED);
		ev_add(t, "; the store reached the read-only page");
		return;
	}
	set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	ev_add(t, ", completed%s", read_exits ? ", reads exit too" : "");
}

/* A load from a gpa with no slot exits as MMIO; the data we fill in
 * lands in eax. */
static void test_unmapped_read(struct probe_vm *p, struct kvm_probe_test *t)
{
	static const uint8_t code[] = {
		0xa1, 0x00, 0x00, 0x02, 0x00, /* 0x1000: mov eax, [0x20000] */
		0xe7, MARK_PORT,              /* 0x1005: out 0x80, eax      */
		0xeb, 0xfe,                   /* 0x1007: jmp $              */
	};
	struct kvm_run *run = p->run;
	struct kvm_regs regs;
	bool to;
	int r;

	r = cpu_reset(p, code, sizeof(code), RFLAGS_FIXED);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	note_exit(p, t, to, &regs);
	if (to || run->exit_reason != KVM_EXIT_MMIO || run->mmio.is_write ||
	    run->mmio.phys_addr != PG_HOLE || run->mmio.len != 4) {
		unexpected(t, to);
		return;
	}
	put32(run->mmio.data, HOLE_DATA);
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	if (!is_out(p, to, MARK_PORT) || get_regs(p, &regs) < 0 ||
	    regs.rax != HOLE_DATA) {
		ev_add(t, "; then ");
		note_exit(p, t, to, &regs);
		unexpected(t, to);
		return;
	}
	set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	ev_add(t, ", eax=%#x after re-entry", HOLE_DATA);
}

static int lapic_enable(struct probe_vm *p)
{
	struct kvm_lapic_state la;
	uint32_t svr;
	int r;

	r = (int)kvm_ioctl(p->vcpu_fd, KVM_GET_LAPIC, &la);
	if (r < 0)
		return r;
	memcpy(&svr, la.regs + APIC_SVR, sizeof(svr));
	svr |= 0x1ff; /* software-enable, spurious vector 0xff */
	memcpy(la.regs + APIC_SVR, &svr, sizeof(svr));
	return (int)kvm_ioctl(p->vcpu_fd, KVM_SET_LAPIC, &la);
}

static bool irq_taken(struct probe_vm *p, bool to)
{
	uint64_t pc;

	if (is_out(p, to, IRQ_PORT))
		return true;
	if (!is_debug(p, to, 1))
		return false;
	pc = p->run->debug.arch.pc;
	return pc >= PG_IRQ_HANDLER && pc < PG_IRQ_HANDLER + 0x10;
}

/*
 * With an interrupt pending in the LAPIC and IF=1, a single-step with
 * BLOCKIRQ must execute the next instruction, not enter the handler; a
 * step without BLOCKIRQ then takes the interrupt, which shows the
 * interrupt really was pending.
 */
static void test_blockirq(struct probe_vm *p, struct kvm_probe_test *t)
{
	static const uint8_t code[] = {
		0xb8, 0x01, 0x00, 0x00, 0x00, /* 0x1000: mov eax, 1        */
		0x40,                         /* 0x1005: inc eax           */
		0x40,                         /* 0x1006: inc eax           */
		0xe7, MARK_PORT,              /* 0x1007: out 0x80, eax     */
		0xeb, 0xfe,                   /* 0x1009: jmp $             */
	};
	const uint32_t step = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	struct kvm_msi msi = { .address_lo = APIC_MSI_ADDR,
			       .data = IRQ_VECTOR };
	struct kvm_regs regs;
	long delivered;
	bool to;
	int r;

	if (!(p->caps->set_guest_debug2 & KVM_GUESTDBG_BLOCKIRQ)) {
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_NONE);
		ev_add(t, "not in SET_GUEST_DEBUG2=%#x",
		       (unsigned)p->caps->set_guest_debug2);
		return;
	}
	set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
	ev_add(t, "SET_GUEST_DEBUG2=%#x", (unsigned)p->caps->set_guest_debug2);
	if (!p->irqchip || p->caps->signal_msi <= 0) {
		ev_add(t, "; no irqchip/MSI to test with");
		t->verdict = KVM_PROBE_UNTESTED;
		return;
	}
	r = cpu_reset(p, code, sizeof(code), RFLAGS_FIXED | RFLAGS_IF);
	if (r == 0)
		r = lapic_enable(p);
	if (r == 0)
		r = set_debug(p, step | KVM_GUESTDBG_BLOCKIRQ, 0, 0);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	delivered = kvm_ioctl(p->vm_fd, KVM_SIGNAL_MSI, &msi);
	if (delivered <= 0) {
		t->verdict = KVM_PROBE_UNTESTED;
		ev_add(t, "; KVM_SIGNAL_MSI not delivered (%ld)", delivered);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	t->exit.expect_pc = PG_CODE + 5;
	if (irq_taken(p, to)) {
		note_exit(p, t, to, &regs);
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_DELIVERED);
		ev_add(t, " (IRQ taken while stepping)");
		return;
	}
	if (!is_debug(p, to, 1) || p->run->debug.arch.pc != PG_CODE + 5) {
		ev_add(t, "; ");
		note_exit(p, t, to, &regs);
		unexpected(t, to);
		return;
	}
	note_exit(p, t, to, &regs);
	/* The control: the same pending interrupt, stepped without it. */
	r = set_debug(p, step, 0, 0);
	if (r == 0)
		r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "control step", r);
		return;
	}
	if (irq_taken(p, to)) {
		t->evidence[0] = '\0';
		ev_add(t, "SET_GUEST_DEBUG2=%#x; stepped past a pending IRQ",
		       (unsigned)p->caps->set_guest_debug2);
		return;
	}
	/* BLOCKIRQ held nothing back that a plain step would take: the
	 * flag is accepted but the check proves nothing. */
	t->verdict = KVM_PROBE_UNTESTED;
	ev_add(t, "; IRQ not taken without BLOCKIRQ either");
}

/* The INT3 blob for the #BP tests; the #BP handler reports its return
 * eip on HANDLER_PORT. */
static const uint8_t int3_code[] = {
	0x90,            /* 0x1000: nop                */
	0xcc,            /* 0x1001: int3               */
	0x40,            /* 0x1002: inc eax            */
	0xe7, MARK_PORT, /* 0x1003: out MARK_PORT, eax */
	0xeb, 0xfe,      /* 0x1005: jmp $              */
};
#define INT3_ADDR (PG_CODE + 1)

/* An INT3 stop as an emulation failure: suberror 1 at the INT3, with the
 * 0xCC byte when the instruction bytes are reported. */
static bool int3_emulation_failure(struct probe_vm *p, bool to,
				   const struct kvm_regs *regs)
{
	int b;

	if (!is_emulation_failure(p, to))
		return false;
	b = emulation_first_byte(p);
	return regs->rip == INT3_ADDR && (b < 0 || b == 0xcc);
}

/* A guest #BP handler report: the return eip it saw. */
static void handler_report(struct probe_vm *p, struct kvm_probe_test *t,
			   const struct kvm_regs *regs)
{
	t->evidence[0] = '\0';
	ev_add(t, "guest handler ran, return eip=int3%+d",
	       (int)((int64_t)regs->rax - INT3_ADDR));
	t->exit.pc = regs->rax;
}

static void test_sw_bp(struct probe_vm *p, struct kvm_probe_test *t)
{
	struct kvm_regs regs;
	bool to;
	int r;

	r = cpu_reset(p, int3_code, sizeof(int3_code), RFLAGS_FIXED);
	if (r == 0)
		r = set_debug(p, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP,
			      0, 0);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	t->exit.expect_pc = INT3_ADDR;
	t->exit.ref = INT3_ADDR;
	note_exit(p, t, to, &regs);
	if (is_debug(p, to, 3)) {
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
		ev_add(t, " (int3%+d)",
		       (int)((int64_t)t->exit.pc - INT3_ADDR));
	} else if (int3_emulation_failure(p, to, &regs)) {
		set_verdict(t, KVM_PROBE_DIFFERS,
			    KVM_PROBE_VAR_EMULATION_FAILURE);
	} else if (is_out(p, to, HANDLER_PORT)) {
		set_verdict(t, KVM_PROBE_NOT_HONOURED, KVM_PROBE_VAR_DELIVERED);
		handler_report(p, t, &regs);
	} else {
		unexpected(t, to);
	}
}

/* Queue #BP with KVM_GUESTDBG_INJECT_BP and run to the guest handler's
 * report; *ret is the return eip it saw. */
static int inject_bp(struct probe_vm *p, struct kvm_probe_test *t,
		     uint64_t *ret)
{
	const uint32_t control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP |
				 KVM_GUESTDBG_INJECT_BP;
	struct kvm_regs regs;
	bool to;
	int r;

	r = set_debug(p, control, 0, 0);
	if (r < 0) {
		ioctl_error(t, "KVM_SET_GUEST_DEBUG(INJECT_BP)", r);
		return r;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return r;
	}
	if (!is_out(p, to, HANDLER_PORT) || get_regs(p, &regs) < 0) {
		note_exit(p, t, to, &regs);
		unexpected(t, to);
		return -EPROTO;
	}
	t->exit.reason = KVM_EXIT_IO;
	*ret = regs.rax;
	return 0;
}

/*
 * From the sw_bp stop, hand the #BP to the guest with
 * KVM_GUESTDBG_INJECT_BP, as the classifier does for the guest's own INT3,
 * and see which return eip its handler gets. Documented KVM takes the
 * INT3's length from the intercept: the handler sees int3+1. Where it sees
 * the INT3 itself (it would return into it forever), check that moving rip
 * past the INT3 before injecting gives the right frame.
 */
static void test_bp_reinject(struct probe_vm *p, struct kvm_probe_test *t,
			     const struct kvm_probe_test *sw_bp)
{
	struct kvm_regs regs;
	uint64_t ret, ret2;
	int r;

	if (sw_bp->verdict != KVM_PROBE_WORKS &&
	    sw_bp->verdict != KVM_PROBE_DIFFERS) {
		ev_add(t, "needs an INT3 stop");
		return;
	}
	if (!(p->caps->set_guest_debug2 & KVM_GUESTDBG_INJECT_BP)) {
		ev_add(t, "INJECT_BP not in SET_GUEST_DEBUG2");
		return;
	}
	t->exit.expect_pc = INT3_ADDR + 1;
	t->exit.ref = INT3_ADDR;
	if (inject_bp(p, t, &ret) < 0)
		return;
	t->exit.pc = ret;
	ev_add(t, "INJECT_BP at the INT3: handler got eip int3%+d",
	       (int)((int64_t)ret - INT3_ADDR));
	if (ret == INT3_ADDR + 1) {
		set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
		return;
	}
	set_verdict(t, KVM_PROBE_DIFFERS, KVM_PROBE_VAR_UNEXPECTED);
	if (ret != INT3_ADDR)
		return;
	memset(&regs, 0, sizeof(regs));
	regs.rip = INT3_ADDR + 1;
	regs.rsp = PG_STACK_TOP;
	regs.rflags = RFLAGS_FIXED;
	r = (int)kvm_ioctl(p->vcpu_fd, KVM_SET_REGS, &regs);
	if (r < 0) {
		ioctl_error(t, "KVM_SET_REGS", r);
		return;
	}
	ev_add(t, "; rip=int3+1 first: ");
	if (inject_bp(p, t, &ret2) < 0)
		return;
	ev_add(t, "int3%+d", (int)((int64_t)ret2 - INT3_ADDR));
	if (ret2 == INT3_ADDR + 1)
		set_verdict(t, KVM_PROBE_DIFFERS, KVM_PROBE_VAR_FAULT_LIKE);
}

/* INT3 with guest debugging off must reach the guest's IDT. */
static void test_guest_bp(struct probe_vm *p, struct kvm_probe_test *t)
{
	struct kvm_regs regs;
	bool to;
	int r;

	r = cpu_reset(p, int3_code, sizeof(int3_code), RFLAGS_FIXED);
	if (r < 0) {
		ioctl_error(t, "set-up", r);
		return;
	}
	r = vcpu_run(p, &to);
	if (r < 0) {
		ioctl_error(t, "KVM_RUN", r);
		return;
	}
	t->exit.expect_pc = INT3_ADDR + 1;
	t->exit.ref = INT3_ADDR;
	note_exit(p, t, to, &regs);
	if (is_out(p, to, HANDLER_PORT)) {
		handler_report(p, t, &regs);
		if (regs.rax == INT3_ADDR + 1)
			set_verdict(t, KVM_PROBE_WORKS, KVM_PROBE_VAR_NONE);
		else
			set_verdict(t, KVM_PROBE_DIFFERS,
				    KVM_PROBE_VAR_UNEXPECTED);
	} else if (int3_emulation_failure(p, to, &regs)) {
		set_verdict(t, KVM_PROBE_NOT_HONOURED,
			    KVM_PROBE_VAR_EMULATION_FAILURE);
	} else {
		unexpected(t, to);
	}
}

void probe_run_tests(struct probe_vm *p, struct kvm_probe_result *out)
{
	struct kvm_probe_test *t = out->test;
	/* The order matters twice: the RF test continues from the execute
	 * breakpoint's stop and the reinjection from the INT3 stop, and the
	 * INT3 tests, the likeliest to upset a KVM, come last. */
	static const enum kvm_probe_mech order[] = {
		KVM_PROBE_SINGLE_STEP,   KVM_PROBE_HW_EXEC,
		KVM_PROBE_HW_EXEC_RF,    KVM_PROBE_HW_DATA_WRITE,
		KVM_PROBE_HW_DATA_RW,    KVM_PROBE_READONLY_MEM,
		KVM_PROBE_UNMAPPED_READ, KVM_PROBE_BLOCKIRQ,
		KVM_PROBE_SW_BP,         KVM_PROBE_BP_REINJECT,
		KVM_PROBE_GUEST_BP,
	};
	_Static_assert(sizeof(order) / sizeof(order[0]) == KVM_PROBE_NR_MECH,
		       "every mechanism is probed once");

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum kvm_probe_mech m = order[i];
		uint64_t t0 = probe_now_ns();

		if (p->dead) {
			set_verdict(&t[m], KVM_PROBE_ERROR, KVM_PROBE_VAR_NONE);
			ev_add(&t[m], "not run: the probe VM died (EIO)");
			continue;
		}
		switch (m) {
		case KVM_PROBE_SINGLE_STEP:
			test_single_step(p, &t[m]);
			break;
		case KVM_PROBE_HW_EXEC:
			test_hw_exec(p, &t[m]);
			break;
		case KVM_PROBE_HW_EXEC_RF:
			test_hw_exec_rf(p, &t[m], &t[KVM_PROBE_HW_EXEC]);
			break;
		case KVM_PROBE_HW_DATA_WRITE:
			test_hw_data(p, &t[m], true);
			break;
		case KVM_PROBE_HW_DATA_RW:
			test_hw_data(p, &t[m], false);
			break;
		case KVM_PROBE_READONLY_MEM:
			test_readonly_mem(p, &t[m]);
			break;
		case KVM_PROBE_UNMAPPED_READ:
			test_unmapped_read(p, &t[m]);
			break;
		case KVM_PROBE_BLOCKIRQ:
			test_blockirq(p, &t[m]);
			break;
		case KVM_PROBE_SW_BP:
			test_sw_bp(p, &t[m]);
			break;
		case KVM_PROBE_BP_REINJECT:
			test_bp_reinject(p, &t[m], &t[KVM_PROBE_SW_BP]);
			break;
		case KVM_PROBE_GUEST_BP:
			test_guest_bp(p, &t[m]);
			break;
		case KVM_PROBE_NR_MECH:
			break;
		}
		t[m].usec = (uint32_t)((probe_now_ns() - t0) / 1000);
	}
}

size_t probe_vm_size(void)
{
	return sizeof(struct probe_vm);
}

int kvm__probe_timeout_selftest(unsigned ms, char *err, size_t errlen)
{
	static const uint8_t spin[] = {
		0xeb, 0xfe, /* 0x1000: jmp $ */
	};
	static const uint8_t mark[] = {
		0xb8, 0x2a, 0x00, 0x00, 0x00, /* 0x1000: mov eax, 42 */
		0xe7, MARK_PORT,              /* 0x1005: out 0x80, eax */
		0xeb, 0xfe,                   /* 0x1007: jmp $ */
	};
	struct kvm_probe_caps caps;
	struct kvm_probe_test t;
	struct kvm_regs regs;
	struct probe_vm p;
	struct probe_sig_state sig;
	uint64_t t0, waited;
	bool to = false;
	int r;

	memset(&p, 0, sizeof(p));
	memset(&caps, 0, sizeof(caps));
	memset(&t, 0, sizeof(t));
	r = probe_sig_enter(&sig);
	if (r < 0) {
		snprintf(err, errlen, "cannot install the SIGUSR2 handler");
		return r;
	}
	r = probe_vm_create(&p, &caps, err, errlen);
	if (r < 0)
		goto out_signal;
	p.timeout_ms = ms;
	r = cpu_reset(&p, spin, sizeof(spin), RFLAGS_FIXED);
	t0 = probe_now_ns();
	if (r == 0)
		r = vcpu_run(&p, &to);
	waited = probe_now_ns() - t0;
	if (r < 0 || !to) {
		note_exit(&p, &t, to, &regs);
		snprintf(err, errlen, "spinning guest: %s%s",
			 r < 0 ? strerror(-r) : "not stopped by the guard: ",
			 t.evidence);
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
	/* The vCPU must still be usable after being kicked. */
	r = cpu_reset(&p, mark, sizeof(mark), RFLAGS_FIXED);
	if (r == 0)
		r = vcpu_run(&p, &to);
	if (r < 0 || !is_out(&p, to, MARK_PORT) || get_regs(&p, &regs) < 0 ||
	    regs.rax != 42) {
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
	if (t[KVM_PROBE_SW_BP].verdict == KVM_PROBE_WORKS)
		s->sw_bp = KVM_PROBE_SW_BP_KVM_DEBUG_EXIT;
	else if (t[KVM_PROBE_SW_BP].verdict == KVM_PROBE_DIFFERS &&
		 t[KVM_PROBE_SW_BP].variant == KVM_PROBE_VAR_EMULATION_FAILURE)
		s->sw_bp = KVM_PROBE_SW_BP_EMULATION_FAILURE;
	else
		s->sw_bp = KVM_PROBE_SW_BP_NONE;

	/* Disabling the slot for one step is the safe default: it works
	 * wherever single-stepping does, RF or not. */
	s->hw_exec_resume = t[KVM_PROBE_HW_EXEC_RF].verdict == KVM_PROBE_WORKS
				    ? KVM_PROBE_RESUME_RF
				    : KVM_PROBE_RESUME_DISABLE_SLOT;

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

	/* An untestable functional check leaves the capability bit to
	 * decide; a failed one overrides it. */
	s->step_blockirq =
		(r->caps.set_guest_debug2 & KVM_GUESTDBG_BLOCKIRQ) &&
		(t[KVM_PROBE_BLOCKIRQ].verdict == KVM_PROBE_WORKS ||
		 t[KVM_PROBE_BLOCKIRQ].verdict == KVM_PROBE_UNTESTED);
	s->guest_can_take_bp = t[KVM_PROBE_GUEST_BP].verdict == KVM_PROBE_WORKS;
	s->reinject_bp_skips_int3 =
		t[KVM_PROBE_BP_REINJECT].verdict == KVM_PROBE_DIFFERS &&
		t[KVM_PROBE_BP_REINJECT].variant == KVM_PROBE_VAR_FAULT_LIKE;
}

static const struct {
	const char *key;   /* the kv form's name */
	const char *label; /* the table's name */
	/* Mechanism-specific words for "not honoured", kv and table. */
	const char *nh_token;
	const char *nh_phrase;
	const char *works_phrase;
} mech_info[KVM_PROBE_NR_MECH] = {
	[KVM_PROBE_SW_BP] = { "sw_bp", "#BP intercept", NULL, NULL, NULL },
	[KVM_PROBE_GUEST_BP] = { "guest_bp", "guest #BP", "not_delivered",
				 "not delivered", "delivered" },
	[KVM_PROBE_BP_REINJECT] = { "bp_reinject", "#BP reinjection", NULL,
				    NULL, NULL },
	[KVM_PROBE_HW_EXEC] = { "hw_exec", "DR execute", NULL, NULL, NULL },
	[KVM_PROBE_HW_EXEC_RF] = { "hw_exec_rf", "DR execute + RF",
				   "ignored", "RF ignored", "RF honoured" },
	[KVM_PROBE_HW_DATA_WRITE] = { "hw_data_write", "DR data write",
				      "never_fires", "never fires", NULL },
	[KVM_PROBE_HW_DATA_RW] = { "hw_data_rw", "DR data read/write",
				   "never_fires", "never fires", NULL },
	[KVM_PROBE_SINGLE_STEP] = { "single_step", "single-step", NULL, NULL,
				    NULL },
	[KVM_PROBE_BLOCKIRQ] = { "blockirq_check", "IRQ blocking",
				 "not_honoured", "not available",
				 "available" },
	[KVM_PROBE_READONLY_MEM] = { "readonly_mem", "read-only memslot",
				     NULL, NULL, NULL },
	[KVM_PROBE_UNMAPPED_READ] = { "unmapped_read", "unmapped read", NULL,
				      NULL, NULL },
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
		if (t->variant == KVM_PROBE_VAR_EMULATION_FAILURE)
			return "emulation_failure";
		if (t->variant == KVM_PROBE_VAR_FAULT_LIKE)
			return "fault_like";
		return "differs";
	case KVM_PROBE_NOT_HONOURED:
		if (t->variant == KVM_PROBE_VAR_TIMEOUT)
			return "timeout";
		return mech_info[m].nh_token ? mech_info[m].nh_token
					     : "not_honoured";
	case KVM_PROBE_ERROR:
		return "error";
	}
	return "?";
}

static const char *outcome_phrase(enum kvm_probe_mech m,
				  const struct kvm_probe_test *t)
{
	switch (t->verdict) {
	case KVM_PROBE_UNTESTED:
		/* IRQ blocking is still reported from the capability. */
		if (m == KVM_PROBE_BLOCKIRQ)
			return "available (untested)";
		return "not tested";
	case KVM_PROBE_WORKS:
		return mech_info[m].works_phrase ? mech_info[m].works_phrase
						 : "works";
	case KVM_PROBE_DIFFERS:
		if (t->variant == KVM_PROBE_VAR_EMULATION_FAILURE)
			return "emulation failure";
		if (t->variant == KVM_PROBE_VAR_FAULT_LIKE)
			return "returns to the INT3";
		return "differs";
	case KVM_PROBE_NOT_HONOURED:
		if (t->variant == KVM_PROBE_VAR_TIMEOUT)
			return "hangs";
		return mech_info[m].nh_phrase ? mech_info[m].nh_phrase
					      : "not honoured";
	case KVM_PROBE_ERROR:
		return "error";
	}
	return "?";
}

/* snprintf into buf at *pos, never past len, always terminated. */
/* The table's row order: the breakpoint mechanisms first, then stepping,
 * then memory. */
static const enum kvm_probe_mech table_order[] = {
	KVM_PROBE_SW_BP,         KVM_PROBE_GUEST_BP,
	KVM_PROBE_BP_REINJECT,   KVM_PROBE_HW_EXEC,
	KVM_PROBE_HW_EXEC_RF,    KVM_PROBE_HW_DATA_WRITE,
	KVM_PROBE_HW_DATA_RW,    KVM_PROBE_SINGLE_STEP,
	KVM_PROBE_BLOCKIRQ,      KVM_PROBE_READONLY_MEM,
	KVM_PROBE_UNMAPPED_READ,
};
_Static_assert(sizeof(table_order) / sizeof(table_order[0]) ==
		       KVM_PROBE_NR_MECH,
	       "every mechanism has a row");

static const char *sw_bp_words(enum kvm_probe_sw_bp_strategy s)
{
	switch (s) {
	case KVM_PROBE_SW_BP_KVM_DEBUG_EXIT:
		return "software breakpoints by KVM debug exit";
	case KVM_PROBE_SW_BP_EMULATION_FAILURE:
		return "software breakpoints by emulation failure";
	case KVM_PROBE_SW_BP_NONE:
		break;
	}
	return "no software breakpoints";
}

void kvm_probe_format(const struct kvm_probe_result *r, char *buf,
		      size_t len)
{
	const struct kvm_probe_caps *c = &r->caps;
	const struct kvm_probe_strategy *s = &r->strategy;
	struct probe_out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	probe_out_add(&o, "kvmdbg host probe (");
	probe_out_ms(&o, r->elapsed_ns);
	probe_out_add(&o, ": set-up ");
	probe_out_ms(&o, (uint64_t)r->setup_usec * 1000);
	probe_out_add(&o, ", tear-down ");
	probe_out_ms(&o, (uint64_t)r->teardown_usec * 1000);
	probe_out_add(&o, ")\n%-18s %-24s %s\n", "mechanism", "result", "evidence");
	for (size_t i = 0; i < KVM_PROBE_NR_MECH; i++) {
		enum kvm_probe_mech m = table_order[i];
		const struct kvm_probe_test *t = &r->test[m];

		probe_out_add(&o, "%-18s %-24s %s\n", mech_info[m].label,
			outcome_phrase(m, t), t->evidence);
	}
	probe_out_add(&o,
		"caps: SET_GUEST_DEBUG=%d SET_GUEST_DEBUG2=%#x NR_VCPUS=%d "
		"MAX_VCPUS=%d\n"
		"      GUEST_DEBUG_HW_BPS=%d GUEST_DEBUG_HW_WPS=%d "
		"IMMEDIATE_EXIT=%d SYNC_REGS=%#x READONLY_MEM=%d\n",
		c->set_guest_debug, (unsigned)c->set_guest_debug2, c->nr_vcpus,
		c->max_vcpus, c->guest_debug_hw_bps, c->guest_debug_hw_wps,
		c->immediate_exit, (unsigned)c->sync_regs, c->readonly_mem);
	probe_out_add(&o, "modules (informational):");
	if (c->mod_kvm_pvm)
		probe_out_add(&o, " kvm_pvm");
	if (c->mod_kvm_intel)
		probe_out_add(&o, " kvm_intel");
	if (c->mod_kvm_amd)
		probe_out_add(&o, " kvm_amd");
	if (!c->mod_kvm_pvm && !c->mod_kvm_intel && !c->mod_kvm_amd)
		probe_out_add(&o, " none of kvm_pvm, kvm_intel, kvm_amd");
	probe_out_add(&o, "\n");
	probe_out_add(&o, "strategy: %s; %s; %s; %s; %s%s\n", sw_bp_words(s->sw_bp),
		s->hw_exec_resume == KVM_PROBE_RESUME_RF
			? "step over hw breakpoints with RF"
			: "step over hw breakpoints by disabling the slot",
		probe_watch_words(s->watch),
		s->step_blockirq ? "stepping blocks IRQs"
				 : "stepping may enter IRQ handlers",
		s->guest_can_take_bp ? "the guest takes its own #BP"
				     : "the guest's own INT3 needs reinjection",
		s->reinject_bp_skips_int3 ? " (rip moved past it first)" : "");
}

static const char *sw_bp_token(enum kvm_probe_sw_bp_strategy s)
{
	switch (s) {
	case KVM_PROBE_SW_BP_KVM_DEBUG_EXIT:
		return "kvm_debug_exit";
	case KVM_PROBE_SW_BP_EMULATION_FAILURE:
		return "emulation_failure";
	case KVM_PROBE_SW_BP_NONE:
		break;
	}
	return "none";
}

static bool stopped(const struct kvm_probe_test *t)
{
	return t->verdict == KVM_PROBE_WORKS || t->verdict == KVM_PROBE_DIFFERS;
}

static int int3_offset(const struct kvm_probe_test *t)
{
	return (int)((int64_t)t->exit.pc - (int64_t)t->exit.ref);
}

void kvm_probe_format_kv(const struct kvm_probe_result *r, char *buf,
			 size_t len)
{
	const struct kvm_probe_test *t = r->test;
	const struct kvm_probe_caps *c = &r->caps;
	const struct kvm_probe_strategy *s = &r->strategy;
	const struct kvm_probe_test *w = &t[KVM_PROBE_HW_DATA_WRITE];
	const struct kvm_probe_test *rw = &t[KVM_PROBE_HW_DATA_RW];
	const char *wt = kvm_probe_outcome_token(KVM_PROBE_HW_DATA_WRITE, w);
	const char *rwt = kvm_probe_outcome_token(KVM_PROBE_HW_DATA_RW, rw);
	bool blockirq = c->set_guest_debug2 & KVM_GUESTDBG_BLOCKIRQ;
	struct probe_out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	probe_out_add(&o, "probe_us=%" PRIu64 " setup_us=%u teardown_us=%u",
		r->elapsed_ns / 1000, r->setup_usec, r->teardown_usec);
	for (size_t i = 0; i < KVM_PROBE_NR_MECH; i++) {
		enum kvm_probe_mech m = table_order[i];

		probe_out_add(&o, " %s=%s", mech_info[m].key,
			kvm_probe_outcome_token(m, &t[m]));
		/* Where the stop was reported (sw_bp) and the return
		 * address the guest got (bp_reinject), from the INT3. */
		if (m == KVM_PROBE_SW_BP && stopped(&t[m]))
			probe_out_add(&o, " sw_bp_pc_offset=%d", int3_offset(&t[m]));
		if (m == KVM_PROBE_BP_REINJECT && stopped(&t[m]))
			probe_out_add(&o, " bp_reinject_ret_offset=%d",
				int3_offset(&t[m]));
		if (m == KVM_PROBE_HW_DATA_RW)
			probe_out_add(&o, " hw_data=%s",
				strcmp(wt, rwt) == 0 ? wt : "mixed");
		if (m == KVM_PROBE_SINGLE_STEP)
			probe_out_add(&o, " blockirq=%d", blockirq ? 1 : 0);
	}
	probe_out_add(&o,
		" cap_set_guest_debug=%d cap_set_guest_debug2=%#x"
		" cap_nr_vcpus=%d cap_max_vcpus=%d cap_guest_debug_hw_bps=%d"
		" cap_guest_debug_hw_wps=%d cap_immediate_exit=%d"
		" cap_sync_regs=%#x cap_readonly_mem=%d",
		c->set_guest_debug, (unsigned)c->set_guest_debug2, c->nr_vcpus,
		c->max_vcpus, c->guest_debug_hw_bps, c->guest_debug_hw_wps,
		c->immediate_exit, (unsigned)c->sync_regs, c->readonly_mem);
	probe_out_add(&o, " module_kvm_pvm=%d module_kvm_intel=%d module_kvm_amd=%d",
		c->mod_kvm_pvm, c->mod_kvm_intel, c->mod_kvm_amd);
	probe_out_add(&o,
		" strategy_sw_bp=%s strategy_hw_exec_resume=%s"
		" strategy_watch=%s strategy_step_blockirq=%d"
		" strategy_guest_can_take_bp=%d"
		" strategy_reinject_bp_skips_int3=%d",
		sw_bp_token(s->sw_bp),
		s->hw_exec_resume == KVM_PROBE_RESUME_RF ? "rf"
							 : "disable_slot",
		probe_watch_token(s->watch), s->step_blockirq, s->guest_can_take_bp,
		s->reinject_bp_skips_int3);
}
