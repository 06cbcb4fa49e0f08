/*
 * Standalone probe that recorded the exits in ../../test_x86_classify.c:
 * one tiny 32-bit protected-mode guest (flat segments, no paging, CPL0) run
 * through INT3, single steps, DR0 execute and write breakpoints and an
 * unemulatable fetch, printing what KVM leaves in kvm_run and rip.
 *
 *   cc -O1 -Wall -o /tmp/x86-exit-probe tests/unit/data/x86-exits/probe.c
 *   /tmp/x86-exit-probe                                    (this host's KVM)
 *   ../shared/realkvm/run -- /tmp/x86-exit-probe           (real SVM KVM)
 *
 * Not part of the build: it is evidence, rerun it when a host changes.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int kvm, vm, vcpu;
static struct kvm_run *run;
static uint8_t *mem;
#define MEMSZ 0x10000

static void on_alarm(int sig)
{
	(void)sig;
}

static void die(const char *m)
{
	perror(m);
	exit(1);
}

static void setup_mode(void)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("sregs");
	struct kvm_segment cs = {.base = 0,
				 .limit = 0xffffffff,
				 .selector = 8,
				 .type = 0xb,
				 .present = 1,
				 .dpl = 0,
				 .db = 1,
				 .s = 1,
				 .l = 0,
				 .g = 1};
	struct kvm_segment ds = cs;
	ds.selector = 0x10;
	ds.type = 3;
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.cr0 = 0x11; /* PE|ET */
	s.gdt.base = 0x400;
	s.gdt.limit = 23;
	s.idt.base = 0x500;
	s.idt.limit = 8 * 32 - 1;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		die("set sregs");
	memset(&r, 0, sizeof r);
	r.rflags = 2;
	r.rsp = 0x8000;
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("set regs");
}

static void set_rip(uint64_t rip, uint64_t rflags_or)
{
	struct kvm_regs r;
	/* A triple fault (ud2 without a handler) resets the vCPU: start
	 * every scenario from the same protected-mode state. */
	setup_mode();
	if (ioctl(vcpu, KVM_GET_REGS, &r) < 0)
		die("get regs");
	r.rip = rip;
	r.rsp = 0x8000;
	r.rflags = 2 | rflags_or;
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("set regs");
}

static void gdbg(uint32_t control, uint64_t dr0, uint64_t dr7)
{
	struct kvm_guest_debug d;
	memset(&d, 0, sizeof d);
	d.control = control;
	d.arch.debugreg[0] = dr0;
	d.arch.debugreg[7] = dr7;
	if (ioctl(vcpu, KVM_SET_GUEST_DEBUG, &d) < 0)
		die("set guest debug");
}

static void dump(const char *name)
{
	struct kvm_regs r;
	int rc;

	/* A run that never exits is a finding too: SIGALRM breaks it. */
	alarm(5);
	rc = ioctl(vcpu, KVM_RUN, 0);
	alarm(0);
	if (rc < 0) {
		printf("%s: KVM_RUN %s\n", name, strerror(errno));
		return;
	}
	ioctl(vcpu, KVM_GET_REGS, &r);
	printf("%s: exit_reason=%u rip=%#llx rflags=%#llx\n", name,
	       run->exit_reason, (unsigned long long)r.rip,
	       (unsigned long long)r.rflags);
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		printf("  debug: exception=%u pad=%u pc=%#llx dr6=%#llx "
		       "dr7=%#llx\n",
		       run->debug.arch.exception, run->debug.arch.pad,
		       (unsigned long long)run->debug.arch.pc,
		       (unsigned long long)run->debug.arch.dr6,
		       (unsigned long long)run->debug.arch.dr7);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		printf("  internal: suberror=%u ndata=%u\n",
		       run->internal.suberror, run->internal.ndata);
		for (unsigned i = 0; i < run->internal.ndata && i < 16; i++)
			printf("   data[%u]=%#018llx\n", i,
			       (unsigned long long)run->internal.data[i]);
		if (run->internal.suberror == 1) {
			printf("  emul: flags=%#llx insn_size=%u bytes=",
			       (unsigned long long)run->emulation_failure.flags,
			       run->emulation_failure.insn_size);
			for (int i = 0; i < 15; i++)
				printf("%02x",
				       run->emulation_failure.insn_bytes[i]);
			printf("\n");
		}
		break;
	case KVM_EXIT_IO:
		printf("  io: dir=%u size=%u port=%#x data=%#x\n",
		       run->io.direction, run->io.size, run->io.port,
		       *(uint32_t *)((uint8_t *)run + run->io.data_offset));
		break;
	case KVM_EXIT_MMIO:
		printf("  mmio: addr=%#llx len=%u write=%u\n",
		       (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		       run->mmio.is_write);
		break;
	}
}

static void put(uint32_t at, const char *hex)
{
	for (unsigned i = 0; hex[2 * i]; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		mem[at + i] = (uint8_t)v;
	}
}

static void gate(int vec, uint32_t handler)
{
	uint8_t *g = mem + 0x500 + 8 * vec;
	g[0] = handler & 0xff;
	g[1] = (handler >> 8) & 0xff;
	g[2] = 8;
	g[3] = 0;
	g[4] = 0;
	g[5] = 0x8e;
	g[6] = (handler >> 16) & 0xff;
	g[7] = handler >> 24;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_alarm};

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGALRM, &sa, NULL);
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		die("/dev/kvm");
	printf("GUEST_DEBUG2=%#x\n",
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2));
	printf(
	    "EXIT_ON_EMULATION_FAILURE=%d\n",
	    ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE));
	printf("INTERNAL_ERROR_DATA=%d\n",
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_INTERNAL_ERROR_DATA));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("vm");
	mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region reg = {.slot = 0,
						  .guest_phys_addr = 0,
						  .memory_size = MEMSZ,
						  .userspace_addr =
						      (uint64_t)mem};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
		die("mem");
	if (argc > 1 && !strcmp(argv[1], "emulfail")) {
		struct kvm_enable_cap c = {
		    .cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = {1}};
		printf("enable EXIT_ON_EMULATION_FAILURE: %d\n",
		       ioctl(vm, KVM_ENABLE_CAP, &c));
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("vcpu");
	run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
		   PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	/* GDT */
	put(0x400, "0000000000000000"
		   "ffff0000009acf00"
		   "ffff00000092cf00");
	gate(1, 0x1120);
	gate(3, 0x1100);
	put(0x1000, "ccf4");	 /* int3; hlt */
	put(0x1010, "909090f4"); /* nop x3; hlt */
	put(0x1020, "a300300000"
		    "90"
		    "f4");   /* mov [0x3000],eax; nop; hlt */
	put(0x1030, "ebfe"); /* jmp . */
	put(0x1040, "0f0b"); /* ud2 */
	put(0x1100, "8b0424"
		    "e710"
		    "f4"); /* mov eax,[esp]; out 0x10,eax; hlt */
	put(0x1120, "8b0424"
		    "e711"
		    "f4"); /* mov eax,[esp]; out 0x11,eax; hlt */
	setup_mode();

	const uint32_t E = KVM_GUESTDBG_ENABLE;
	/* 1: INT3 with USE_SW_BP */
	set_rip(0x1000, 0);
	gdbg(E | KVM_GUESTDBG_USE_SW_BP, 0, 0);
	dump("int3_sw_bp");
	/* 1b: reinject #BP */
	gdbg(E | KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_INJECT_BP, 0, 0);
	dump("int3_reinject");
	/* 1b': reinject with rip advanced past the INT3 */
	set_rip(0x1000, 0);
	gdbg(E | KVM_GUESTDBG_USE_SW_BP, 0, 0);
	dump("int3_sw_bp_again");
	set_rip(0x1001, 0);
	gdbg(E | KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_INJECT_BP, 0, 0);
	dump("int3_reinject_rip_plus1");
	/* 1c: INT3 without guest debugging */
	set_rip(0x1000, 0);
	gdbg(0, 0, 0);
	dump("int3_nodebug");
	/* 2: single step from 0x1010 */
	set_rip(0x1010, 0);
	gdbg(E | KVM_GUESTDBG_SINGLESTEP, 0, 0);
	dump("step1");
	dump("step2");
	/* 2b: step with BLOCKIRQ */
	gdbg(E | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_BLOCKIRQ, 0, 0);
	dump("step_blockirq");
	/* 3: hw exec bp at 0x1012 via DR0 */
	set_rip(0x1010, 0);
	gdbg(E | KVM_GUESTDBG_USE_HW_BP, 0x1012, 0x602);
	dump("hwexec");
	/* 3b: resume with RF set */
	{
		struct kvm_regs r;
		ioctl(vcpu, KVM_GET_REGS, &r);
		r.rflags |= 0x10000;
		ioctl(vcpu, KVM_SET_REGS, &r);
	}
	gdbg(E | KVM_GUESTDBG_USE_HW_BP, 0x1012, 0x602);
	dump("hwexec_rf_resume");
	/* 3c: step onto the hw exec bp address */
	set_rip(0x1011, 0);
	gdbg(E | KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_SINGLESTEP, 0x1012,
	     0x602);
	dump("step_onto_hwexec");
	dump("step_onto_hwexec_next");
	/* 3d: hw exec bp and step starting AT the bp address */
	set_rip(0x1012, 0);
	gdbg(E | KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_SINGLESTEP, 0x1012,
	     0x602);
	dump("step_from_hwexec");
	/* 4: data write watch DR0=0x3000 len 4 RW=01 */
	set_rip(0x1020, 0);
	gdbg(E | KVM_GUESTDBG_USE_HW_BP, 0x3000, 0x602 | (0xdUL << 16));
	dump("datawrite");
	/* 4b: data write + step */
	set_rip(0x1020, 0);
	gdbg(E | KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_SINGLESTEP, 0x3000,
	     0x602 | (0xdUL << 16));
	dump("datawrite_step");
	/* 5: guest's own TF */
	/* Guest debugging first: KVM_SET_GUEST_DEBUG drops a TF it takes
	 * for its own leftover from the previous single step. */
	gdbg(E | KVM_GUESTDBG_USE_HW_BP, 0, 0x400);
	set_rip(0x1010, 0x100);
	dump("guest_tf");
	set_rip(0x1010, 0x100);
	gdbg(0, 0, 0);
	dump("guest_tf_nodebug");
	/* 6: ud2 */
	set_rip(0x1040, 0);
	gdbg(E | KVM_GUESTDBG_USE_SW_BP, 0, 0);
	dump("ud2");
	/* 7b: step a jmp-to-self */
	set_rip(0x1030, 0);
	gdbg(E | KVM_GUESTDBG_SINGLESTEP, 0, 0);
	dump("step_jmp_self");
	/* 7c: guest TF while the debugger single-steps too */
	set_rip(0x1010, 0x100);
	gdbg(E | KVM_GUESTDBG_SINGLESTEP, 0, 0);
	dump("guest_tf_and_step");
	/* 8: int3 via step: step an int3 */
	set_rip(0x1000, 0);
	gdbg(E | KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_SINGLESTEP, 0, 0);
	dump("step_int3");
	/* 9, last: real KVM never comes back from this one. */
	set_rip(0x20000, 0);
	gdbg(E | KVM_GUESTDBG_USE_SW_BP, 0, 0);
	dump("fetch_unbacked");
	return 0;
}
