/* The floor under bench/run.py's per-stop figures, from libc and /dev/kvm
 * alone: one KVM exit round trip of a vCPU running `out` in a loop in
 * 64-bit long mode at CPL0 (the mode the test guests debug in), one
 * single-step exit round trip in the same mode, and one loopback TCP
 * round trip of one byte.
 *
 * Usage: kvmdbg-floor [EXITS [ROUND_TRIPS]]; prints key=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x200000UL
#define PML4_GPA 0x1000UL
#define PDPT_GPA 0x2000UL
#define PD_GPA 0x3000UL
#define OUT_LOOP_GPA 0x10000UL
#define JMP_SELF_GPA 0x10010UL
#define STACK_GPA 0x8000UL
#define FLOOR_PORT 0x80
#define WARMUP 1000

struct vm {
	int kvm, fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int fail(const char *what)
{
	fprintf(stderr, "kvmdbg-floor: %s: %s\n", what, strerror(errno));
	return -1;
}

/* Long mode needs CPUID.80000001h:EDX.LM in the vCPU's CPUID table, or
 * KVM refuses EFER.LME; hand the vCPU everything KVM supports. */
static int set_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *c = NULL;
	unsigned nent;
	int ret = -1;

	for (nent = 64; nent <= 4096; nent *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return fail("calloc");
		c->nent = nent;
		if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG) {
			fail("KVM_GET_SUPPORTED_CPUID");
			goto out;
		}
	}
	if (nent > 4096) {
		fail("KVM_GET_SUPPORTED_CPUID");
		goto out;
	}
	if (ioctl(vm->vcpu, KVM_SET_CPUID2, c) < 0) {
		fail("KVM_SET_CPUID2");
		goto out;
	}
	ret = 0;
out:
	free(c);
	return ret;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

/* Identity-maps the first 2 MiB with one large page, and enters 64-bit
 * mode directly at CPL0: flat segments, no GDT needed since nothing
 * reloads a selector. */
static int enter_long_mode(struct vm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(vm->mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(vm->mem + PD_GPA);
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	pml4[0] = PDPT_GPA | 0x3;
	pdpt[0] = PD_GPA | 0x3;
	pd[0] = 0x0 | 0x83; /* present, writable, 2 MiB page */

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;	/* PAE */
	sregs.cr0 = 0x80050033; /* PG, AM, WP, NE, ET, MP, PE */
	sregs.efer = 0x500;	/* LMA, LME */
	seg(&sregs.cs, 0x08, 0xb, 1);
	seg(&sregs.ds, 0x10, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = OUT_LOOP_GPA;
	regs.rsp = STACK_GPA;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");
	return 0;
}

static int vm_create(struct vm *vm)
{
	/* out %al, $0x80; jmp back to the out. Then jmp to itself. */
	static const uint8_t out_loop[] = {0xe6, FLOOR_PORT, 0xeb, 0xfc};
	static const uint8_t jmp_self[] = {0xeb, 0xfe};
	struct kvm_userspace_memory_region region;
	int size;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return fail("/dev/kvm");
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "kvmdbg-floor: unexpected KVM API version\n");
		return -1;
	}
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return fail("KVM_CREATE_VM");
	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		return fail("mmap guest memory");
	memcpy(vm->mem + OUT_LOOP_GPA, out_loop, sizeof(out_loop));
	memcpy(vm->mem + JMP_SELF_GPA, jmp_self, sizeof(jmp_self));
	memset(&region, 0, sizeof(region));
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	vm->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (set_cpuid(vm) < 0)
		return -1;
	return enter_long_mode(vm);
}

/* Runs until `want` exits of the given reason, checking each, and
 * returns the mean microseconds per KVM_RUN. */
static int run_exits(struct vm *vm, long n, uint32_t want, double *mean)
{
	double t0 = 0;
	long i;

	for (i = -WARMUP; i < n; i++) {
		if (i == 0)
			t0 = now_us();
		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0)
			return fail("KVM_RUN");
		if (vm->run->exit_reason != want) {
			fprintf(stderr,
				"kvmdbg-floor: exit reason %u, want %u\n",
				vm->run->exit_reason, want);
			return -1;
		}
		if (want == KVM_EXIT_IO &&
		    (vm->run->io.port != FLOOR_PORT ||
		     vm->run->io.direction != KVM_EXIT_IO_OUT)) {
			fprintf(stderr, "kvmdbg-floor: I/O exit on port %#x\n",
				vm->run->io.port);
			return -1;
		}
	}
	*mean = (now_us() - t0) / (double)n;
	return 0;
}

static int kvm_floor(long n)
{
	struct kvm_guest_debug dbg;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct vm vm;
	double io, step;

	memset(&vm, 0, sizeof(vm));
	if (vm_create(&vm) < 0)
		return -1;
	if (run_exits(&vm, n, KVM_EXIT_IO, &io) < 0)
		return -1;
	/* Prove the mode the numbers are for: the loop bytes alone would
	 * run in 32-bit mode just the same. */
	if (ioctl(vm.vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	if (!(sregs.efer & 0x400) || !sregs.cs.l || sregs.cs.dpl) {
		fprintf(stderr,
			"kvmdbg-floor: not in 64-bit mode at CPL0 "
			"(efer %#llx, cs.l %u, cs.dpl %u)\n",
			(unsigned long long)sregs.efer, sregs.cs.l,
			sregs.cs.dpl);
		return -1;
	}

	/* Single steps of a jmp to itself: each KVM_RUN is one instruction
	 * and one KVM_EXIT_DEBUG, nothing else in between. */
	if (ioctl(vm.vcpu, KVM_GET_REGS, &regs) < 0)
		return fail("KVM_GET_REGS");
	regs.rip = JMP_SELF_GPA;
	if (ioctl(vm.vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");
	memset(&dbg, 0, sizeof(dbg));
	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (ioctl(vm.vcpu, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return fail("KVM_SET_GUEST_DEBUG");
	if (run_exits(&vm, n, KVM_EXIT_DEBUG, &step) < 0)
		return -1;
	if (vm.run->debug.arch.pc != JMP_SELF_GPA) {
		fprintf(stderr, "kvmdbg-floor: single step at %#llx\n",
			(unsigned long long)vm.run->debug.arch.pc);
		return -1;
	}
	printf("mode=64-bit long mode, CPL0\n");
	printf("kvm_exits=%ld\n", n);
	printf("kvm_io_exit_us=%.3f\n", io);
	printf("kvm_step_exit_us=%.3f\n", step);
	return 0;
}

static int nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The child echoes each byte until the parent closes. */
static void echo(int lfd)
{
	char c;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0 || nodelay(fd) < 0)
		_exit(1);
	while (read(fd, &c, 1) == 1)
		if (write(fd, &c, 1) != 1)
			_exit(1);
	_exit(0);
}

static int tcp_floor(long n)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	double t0 = 0;
	int lfd, fd, status;
	pid_t pid;
	long i;
	char c = 'x';

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return fail("socket");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		return fail("listen on 127.0.0.1");
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0)
		echo(lfd);
	close(lfd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    nodelay(fd) < 0)
		return fail("connect to 127.0.0.1");
	for (i = -WARMUP; i < n; i++) {
		if (i == 0)
			t0 = now_us();
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			return fail("loopback round trip");
	}
	printf("tcp_round_trips=%ld\n", n);
	printf("tcp_rtt_us=%.3f\n", (now_us() - t0) / (double)n);
	close(fd);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "kvmdbg-floor: echo child failed\n");
		return -1;
	}
	return 0;
}

static long arg(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	errno = 0;
	v = strtol(argv[i], &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "usage: kvmdbg-floor [EXITS [ROUND_TRIPS]]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long exits = arg(argc, argv, 1, 100000);
	long rtts = arg(argc, argv, 2, 100000);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (kvm_floor(exits) < 0 || tcp_floor(rtts) < 0)
		return 1;
	return 0;
}
