/* The VM: configuration checks, guest RAM in one memfd split into memslots,
 * the image, vCPUs and the I/O bus. Built in one go by vmm_create and torn
 * down by vmm_destroy; a failure part-way unwinds everything. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "log.h"
#include "arch/arch.h"
#include "vmm/vmm_internal.h"

#define MAX_MEM (1ULL << 40)

static void fmt_size(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ULL << 30) && !(n & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", n >> 30);
	else if (n >= (1ULL << 20) && !(n & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", n >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", n);
}

int vmm_check_config(const struct vmm_config *cfg, uint64_t host_mem,
		     unsigned max_vcpus, char *err, size_t errlen)
{
	char a[32], b[32];

	if (cfg->nr_vcpus == 0) {
		snprintf(err, errlen, "--smp must be at least 1");
		return -EINVAL;
	}
	if (cfg->nr_vcpus > max_vcpus || cfg->nr_vcpus > VMM_MAX_VCPUS) {
		unsigned lim = max_vcpus < VMM_MAX_VCPUS ? max_vcpus
							 : VMM_MAX_VCPUS;
		snprintf(err, errlen,
			 "--smp %u is above the limit of %u vCPUs on this host",
			 cfg->nr_vcpus, lim);
		return -EINVAL;
	}
	if (cfg->mem_size < VMM_MIN_MEM) {
		fmt_size(VMM_MIN_MEM, a, sizeof(a));
		snprintf(err, errlen, "--mem is too small: at least %s", a);
		return -EINVAL;
	}
	if (cfg->mem_size & 0xfff) {
		snprintf(err, errlen, "--mem must be a multiple of 4 KiB");
		return -EINVAL;
	}
	if (cfg->mem_size > MAX_MEM ||
	    (host_mem && cfg->mem_size > host_mem)) {
		fmt_size(cfg->mem_size, a, sizeof(a));
		fmt_size(host_mem && host_mem < MAX_MEM ? host_mem : MAX_MEM, b,
			 sizeof(b));
		snprintf(err, errlen,
			 "--mem %s is more than this host can give (%s)", a, b);
		return -EINVAL;
	}
	return 0;
}

static int set_slot(void *ctx, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *hva, enum mem_prot prot)
{
	struct vmm *vm = ctx;
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = prot == MEM_PROT_RO ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	long ret = kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);

	return ret < 0 ? (int)ret : 0;
}

static int setup_ram(struct vmm *vm, struct vmm_error *e)
{
	int n, ret;

	n = arch_host.ram_layout(vm->mem_size, vm->ram, VMM_MAX_RAM);
	if (n < 0) {
		snprintf(e->msg, sizeof(e->msg), "cannot lay out %" PRIu64
			 " bytes of guest RAM", vm->mem_size);
		return n;
	}
	vm->nr_ram = (unsigned)n;
	vm->memfd = memfd_create("kvmdbg-guest-ram", MFD_CLOEXEC);
	if (vm->memfd < 0 || ftruncate(vm->memfd, (off_t)vm->mem_size) < 0) {
		ret = -errno;
		snprintf(e->msg, sizeof(e->msg), "guest RAM: %s",
			 strerror(errno));
		return ret;
	}
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, vm->memfd, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		ret = -errno;
		snprintf(e->msg, sizeof(e->msg), "guest RAM: mmap: %s",
			 strerror(errno));
		return ret;
	}
	memslots_init(&vm->slots, (uint32_t)vm->sys.nr_memslots, set_slot, vm);
	uint64_t off = 0;

	for (unsigned i = 0; i < vm->nr_ram; i++) {
		struct vmm_ram *r = &vm->ram[i];

		/* The ranges share one mapping, back to back. */
		r->hva = vm->mem + off;
		off += r->size;
		ret = memslots_add_ram(&vm->slots, r->gpa, r->size, r->hva);
		if (ret < 0) {
			snprintf(e->msg, sizeof(e->msg),
				 "KVM refused guest RAM at 0x%" PRIx64 ": %s",
				 r->gpa, strerror(-ret));
			e->kvm = true;
			return ret;
		}
	}
	return 0;
}

static int load_image(struct vmm *vm, struct vmm_error *e)
{
	struct loader_ram ram[VMM_MAX_RAM];
	struct loader_config lc = {
		.ram = ram,
		.nr_ram = vm->nr_ram,
		.reserved_end = arch_host.boot_reserved_end,
		.machine64 = arch_host.elf_machine64,
		.machine32 = arch_host.elf_machine32,
	};

	if (arch_host.load_native) {
		int ret = arch_host.load_native(vm, vm->cfg.image, &vm->image,
						e->msg, sizeof(e->msg));

		if (ret != 0)
			return ret < 0 ? ret : 0;
	}
	for (unsigned i = 0; i < vm->nr_ram; i++)
		ram[i] = (struct loader_ram){ .gpa = vm->ram[i].gpa,
					      .size = vm->ram[i].size,
					      .hva = vm->ram[i].hva };
	return loader_load_file(vm->cfg.image, &lc, &vm->image, e->msg,
				sizeof(e->msg));
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out,
	       struct vmm_error *e)
{
	struct sysinfo si;
	struct vmm *vm;
	unsigned i;
	int ret;

	memset(e, 0, sizeof(*e));
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -ENOMEM;
	}
	vm->cfg = *cfg;
	vm->fd = -1;
	vm->memfd = -1;
	vm->mem_size = cfg->mem_size;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	pthread_cond_init(&vm->parked_cond, NULL);
	/* Debuggers open this path themselves (qXfer:exec-file), maybe from
	 * another directory: keep it absolute. */
	vm->image_path = realpath(cfg->image, NULL);
	if (!vm->image_path)
		vm->image_path = strdup(cfg->image);

	ret = kvm_sys_open(&vm->sys, e->msg, sizeof(e->msg));
	if (ret < 0) {
		e->kvm = true;
		goto err_destroy;
	}
	if (sysinfo(&si) < 0)
		memset(&si, 0, sizeof(si));
	ret = vmm_check_config(cfg, (uint64_t)si.totalram * si.mem_unit,
			       (unsigned)vm->sys.max_vcpus, e->msg,
			       sizeof(e->msg));
	if (ret < 0)
		goto err_destroy;

	ret = (int)kvm_ioctl_val(vm->sys.fd, KVM_CREATE_VM, 0);
	if (ret < 0) {
		snprintf(e->msg, sizeof(e->msg), "KVM_CREATE_VM: %s",
			 strerror(-ret));
		e->kvm = true;
		goto err_destroy;
	}
	vm->fd = ret;

	ret = setup_ram(vm, e);
	if (ret < 0)
		goto err_destroy;
	ret = load_image(vm, e);
	if (ret < 0)
		goto err_destroy;
	ret = arch_host.vm_init(vm, e->msg, sizeof(e->msg));
	if (ret < 0) {
		e->kvm = true;
		goto err_destroy;
	}
	for (i = 0; i < cfg->nr_vcpus; i++) {
		ret = vcpu__create(vm, i, &vm->vcpus[i]);
		if (ret < 0) {
			snprintf(e->msg, sizeof(e->msg),
				 "cannot create vCPU %u: %s", i,
				 strerror(-ret));
			e->kvm = true;
			goto err_destroy;
		}
		vm->nr_vcpus++;
	}
	ret = arch_host.boot(vm, &vm->image, cfg->append, e->msg,
			     sizeof(e->msg));
	if (ret < 0)
		goto err_destroy;
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu__start(vm->vcpus[i]);
		if (ret < 0) {
			snprintf(e->msg, sizeof(e->msg),
				 "cannot start vCPU thread %u: %s", i,
				 strerror(-ret));
			goto err_destroy;
		}
	}
	*out = vm;
	return 0;

err_destroy:
	vmm_destroy(vm);
	return ret;
}

void vmm_destroy(struct vmm *vm)
{
	unsigned i;

	if (!vm)
		return;
	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu__kick(vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu__destroy(vm->vcpus[i]);
	if (arch_host.vm_destroy)
		arch_host.vm_destroy(vm);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->memfd >= 0)
		close(vm->memfd);
	if (vm->fd >= 0)
		close(vm->fd);
	kvm_sys_close(&vm->sys);
	pthread_cond_destroy(&vm->parked_cond);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	free(vm->image_path);
	free(vm);
}

unsigned vmm_nr_vcpus(const struct vmm *vm)
{
	return vm->nr_vcpus;
}

const char *vmm_image_path(const struct vmm *vm)
{
	return vm->image_path;
}

void *vmm_gpa_to_hva(struct vmm *vm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < vm->nr_ram; i++) {
		const struct vmm_ram *r = &vm->ram[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

struct vcpu *vmm_vcpu(struct vmm *vm, unsigned idx)
{
	return idx < vm->nr_vcpus ? vm->vcpus[idx] : NULL;
}

int vmm_read_phys(struct vmm *vm, uint64_t gpa, void *buf, size_t len)
{
	void *p = vmm_gpa_to_hva(vm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int vmm_write_phys(struct vmm *vm, uint64_t gpa, const void *buf, size_t len)
{
	void *p = vmm_gpa_to_hva(vm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

int vmm_translate(struct vmm *vm, unsigned idx, uint64_t gva, uint64_t *gpa)
{
	uint64_t left;

	if (idx >= vm->nr_vcpus)
		return -EINVAL;
	return arch_host.translate(vm->vcpus[idx], gva, gpa, &left);
}

static int virt_access(struct vmm *vm, unsigned idx, uint64_t gva,
		       uint8_t *buf, size_t len, bool write)
{
	if (idx >= vm->nr_vcpus)
		return -EINVAL;
	while (len) {
		uint64_t gpa, left;
		size_t n;
		int ret;

		ret = arch_host.translate(vm->vcpus[idx], gva, &gpa, &left);
		if (ret < 0)
			return ret;
		n = len < left ? len : (size_t)left;
		ret = write ? vmm_write_phys(vm, gpa, buf, n)
			    : vmm_read_phys(vm, gpa, buf, n);
		if (ret < 0)
			return ret;
		gva += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int vmm_read_virt(struct vmm *vm, unsigned idx, uint64_t gva, void *buf,
		  size_t len)
{
	return virt_access(vm, idx, gva, buf, len, false);
}

int vmm_write_virt(struct vmm *vm, unsigned idx, uint64_t gva,
		   const void *buf, size_t len)
{
	return virt_access(vm, idx, gva, (uint8_t *)buf, len, true);
}

void vmm_dump_vcpu(struct vmm *vm, unsigned idx, char *buf, size_t len)
{
	if (idx >= vm->nr_vcpus) {
		snprintf(buf, len, "no vCPU %u", idx);
		return;
	}
	arch_host.dump(vm->vcpus[idx], buf, len);
}

void vmm_console_input(struct vmm *vm, const uint8_t *buf, size_t len)
{
	if (vm->console_input)
		vm->console_input(vm->console, buf, len);
}

void vmm_set_ram_hook(struct vmm *vm, vmm_ram_hook hook, void *opaque)
{
	vm->ram_hook = hook;
	vm->ram_hook_opaque = opaque;
}

int vmm_protect(struct vmm *vm, uint64_t gpa, uint64_t size, int prot)
{
	return memslots_protect(&vm->slots, gpa, size, (enum mem_prot)prot);
}

int vmm__irq_line(struct vmm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };
	long ret = kvm_ioctl(vm->fd, KVM_IRQ_LINE, &l);

	return ret < 0 ? (int)ret : 0;
}

static int register_io(struct vmm_io_range *table, unsigned *n,
		       uint64_t base, uint64_t len, vmm_io_fn fn, void *opaque)
{
	if (*n >= VMM_MAX_IO)
		return -ENOSPC;
	table[(*n)++] = (struct vmm_io_range){ base, len, fn, opaque };
	return 0;
}

int vmm__register_pio(struct vmm *vm, uint64_t base, uint64_t len,
		      vmm_io_fn fn, void *opaque)
{
	return register_io(vm->pio, &vm->nr_pio, base, len, fn, opaque);
}

int vmm__register_mmio(struct vmm *vm, uint64_t base, uint64_t len,
		       vmm_io_fn fn, void *opaque)
{
	return register_io(vm->mmio, &vm->nr_mmio, base, len, fn, opaque);
}

#define UNKNOWN_IO_LOG_LIMIT 20

void vmm__dispatch_io(struct vmm *vm, struct vmm_io_range *table,
		      unsigned n, const char *space, uint64_t addr,
		      bool is_write, uint8_t *data, unsigned size)
{
	unsigned logged;

	for (unsigned i = 0; i < n; i++) {
		if (addr >= table[i].base && addr - table[i].base < table[i].len) {
			table[i].fn(vm, table[i].opaque, addr - table[i].base,
				    is_write, data, size);
			return;
		}
	}
	/* Unknown addresses behave like an empty bus: reads float high,
	 * writes vanish. Guests probe for hardware; that is not an error. */
	if (!is_write)
		memset(data, 0xff, size);
	logged = atomic_fetch_add(&vm->unknown_io_logged, 1);
	if (logged < UNKNOWN_IO_LOG_LIMIT)
		log_info("guest %s %s of %u bytes at unknown %s 0x%" PRIx64
			 "%s",
			 is_write ? "wrote" : "read", space, size, space, addr,
			 logged + 1 == UNKNOWN_IO_LOG_LIMIT
				 ? " (further unknown accesses not logged)"
				 : "");
}
