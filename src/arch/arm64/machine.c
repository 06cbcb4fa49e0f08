/* arm64 machine: RAM and devices at QEMU virt's addresses, an in-kernel
 * GICv3 and the architected timer, a PL011 console and the exit device,
 * vCPUs with PSCI 0.2 (secondaries powered off until the guest's CPU_ON,
 * which KVM serves in-kernel), a libfdt device tree in x0, and ELF64 or
 * Linux Image entry at EL1h with the MMU off. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "arch/arch.h"
#include "arch/arm64/arm64.h"
#include "arch/arm64/fdt.h"
#include "arch/arm64/image.h"
#include "arch/arm64/machine.h"
#include "arch/arm64/paging.h"
#include "bp/hw.h"
#include "vmm/vmm_internal.h"
#include "vmm/devices/exitdev.h"
#include "vmm/devices/pl011.h"

#define DTB_ALIGN 0x200000ULL

struct arm64_vm {
	struct pl011 uart;
	bool uart_ready;
	struct kvm_vcpu_init init; /* KVM_ARM_PREFERRED_TARGET */
	int gic_fd;
};

static int arm64_ram_layout(uint64_t mem_size, struct vmm_ram *out,
			    unsigned max)
{
	if (max < 1)
		return -ENOSPC;
	if (mem_size > ARM64_IPA_LIMIT - ARM64_RAM_BASE)
		return -E2BIG;
	out[0] = (struct vmm_ram){ .gpa = ARM64_RAM_BASE, .size = mem_size };
	return 1;
}

/* ---- Linux Image ------------------------------------------------------- */

static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int arm64_load_native(struct vmm *vm, const char *path,
			     struct loader_image *img, char *err,
			     size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HEADER_SIZE];
	struct arm64_image ai;
	struct stat st;
	uint64_t base = ARM64_RAM_BASE, load;
	uint8_t *dst;
	int fd, ret;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the ELF loader says what is wrong */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n != (ssize_t)sizeof(hdr) || !arm64_image_is(hdr, sizeof(hdr))) {
		close(fd);
		return 0;
	}
	ret = arm64_image_parse(hdr, (size_t)st.st_size, &ai, err, errlen);
	if (ret == 0 && st.st_size > (off_t)1 << 30) {
		snprintf(err, errlen, "%s: larger than 1 GiB", path);
		ret = -EFBIG;
	}
	load = base + ai.text_offset;
	if (ret == 0) {
		/* The kernel wants image_size bytes from its load address,
		 * and its device tree goes after it. */
		dst = vmm_gpa_to_hva(vm, load, ai.image_size + DTB_ALIGN +
						       ARM64_DTB_MAX);
		if (!dst) {
			snprintf(err, errlen, "%s: the kernel needs %" PRIu64
				 " MiB of RAM and its device tree another 4; "
				 "raise --mem", path,
				 (ai.image_size + (1 << 20) - 1) >> 20);
			ret = -EINVAL;
		} else {
			ret = read_all(fd, dst, (size_t)st.st_size);
			if (ret < 0)
				snprintf(err, errlen, "%s: %s", path,
					 strerror(-ret));
			else
				memset(dst + st.st_size, 0,
				       ai.image_size - (uint64_t)st.st_size);
		}
	}
	close(fd);
	if (ret < 0)
		return ret;
	memset(img, 0, sizeof(*img));
	img->entry = load;
	img->is_64 = true;
	img->machine = EM_AARCH64;
	img->lowest_gpa = load;
	img->highest_gpa = load + ai.image_size;
	img->nr_segments = 1;
	img->segments[0].gpa = img->segments[0].vaddr = load;
	img->segments[0].memsz = ai.image_size;
	img->segments[0].filesz = (uint64_t)st.st_size;
	img->segments[0].flags = PF_R | PF_W | PF_X;
	log_info("%s: arm64 Image, %" PRIu64 " bytes at 0x%" PRIx64, path,
		 ai.image_size, load);
	return 1;
}

/* ---- Devices ----------------------------------------------------------- */

static void uart_irq(void *opaque, int level)
{
	/* KVM_IRQ_LINE on arm64: type SPI, INTID 32 + SPI number. */
	vmm__irq_line(opaque,
		      (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
			      (32 + ARM64_UART_SPI),
		      level);
}

static void uart_io(struct vmm *vm, void *opaque, uint64_t addr,
		    bool is_write, uint8_t *data, unsigned size)
{
	uint32_t v = 0;

	(void)vm;
	/* Registers are 32 bits wide; narrower accesses reach the low
	 * bytes, as on the APB bus. */
	if (is_write)
		memcpy(&v, data, size < 4 ? size : 4);
	pl011_access(opaque, (unsigned)(addr & ~3ULL), is_write, &v);
	if (!is_write) {
		memset(data, 0, size);
		memcpy(data, &v, size < 4 ? size : 4);
	}
}

static void uart_input(void *console, const uint8_t *buf, size_t len)
{
	pl011_receive(console, buf, len);
}

static int gic_attr(int fd, uint32_t group, uint64_t attr, void *addr)
{
	struct kvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)addr };
	long ret = kvm_ioctl(fd, KVM_SET_DEVICE_ATTR, &a);

	return ret < 0 ? (int)ret : 0;
}

static int arm64_vm_init(struct vmm *vm, char *err, size_t errlen)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	uint64_t dist = ARM64_GICD_BASE, redist = ARM64_GICR_BASE;
	struct arm64_vm *a;
	long ret;

	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->gic_fd = -1;
	vm->arch = a;
	if ((uint64_t)vm->cfg.nr_vcpus * ARM64_GICR_PER_CPU > ARM64_GICR_SIZE) {
		snprintf(err, errlen, "--smp %u: the GICv3 redistributor "
			 "region holds %llu vCPUs", vm->cfg.nr_vcpus,
			 ARM64_GICR_SIZE / ARM64_GICR_PER_CPU);
		return -EINVAL;
	}
	arm64_host_bps = (unsigned)kvm_check_cap(vm->fd,
						 KVM_CAP_GUEST_DEBUG_HW_BPS);
	arm64_host_wps = (unsigned)kvm_check_cap(vm->fd,
						 KVM_CAP_GUEST_DEBUG_HW_WPS);
	/* Data aborts KVM cannot decode (no syndrome: pairs, writeback,
	 * SIMD) come to kvmdbg as KVM_EXIT_ARM_NISV, so a page protected for
	 * a watchpoint works whatever instruction touches it; without the
	 * capability KVM_RUN fails on them with ENOSYS. */
	if (kvm_check_cap(vm->fd, KVM_CAP_ARM_NISV_TO_USER) > 0) {
		struct kvm_enable_cap nisv = { .cap = KVM_CAP_ARM_NISV_TO_USER };

		if (kvm_ioctl(vm->fd, KVM_ENABLE_CAP, &nisv) < 0)
			log_warn("KVM_CAP_ARM_NISV_TO_USER: cannot enable it; "
				 "watched pages touched by load/store pairs "
				 "or SIMD stop the guest");
	}
	ret = kvm_ioctl(vm->fd, KVM_ARM_PREFERRED_TARGET, &a->init);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_ARM_PREFERRED_TARGET: %s",
			 strerror((int)-ret));
		return (int)ret;
	}
	ret = kvm_ioctl(vm->fd, KVM_CREATE_DEVICE, &cd);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create the in-kernel GICv3 "
			 "(KVM_CREATE_DEVICE): %s", strerror((int)-ret));
		return (int)ret;
	}
	a->gic_fd = (int)cd.fd;
	ret = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
		       KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (ret == 0)
		ret = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			       KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	if (ret < 0) {
		snprintf(err, errlen, "GICv3 addresses: %s",
			 strerror((int)-ret));
		return (int)ret;
	}
	pl011_init(&a->uart, vm->cfg.console_fd, uart_irq, vm);
	a->uart_ready = true;
	vm->console = &a->uart;
	vm->console_input = uart_input;
	ret = vmm__register_mmio(vm, ARM64_UART_BASE, ARM64_UART_SIZE, uart_io,
				 &a->uart);
	if (ret == 0)
		ret = vmm__register_mmio(vm, ARM64_EXIT_BASE, ARM64_EXIT_SIZE,
					 exitdev_io, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "cannot register devices: %s",
			 strerror((int)-ret));
		return (int)ret;
	}
	return 0;
}

static void arm64_vm_destroy(struct vmm *vm)
{
	struct arm64_vm *a = vm->arch;

	if (!a)
		return;
	if (a->uart_ready)
		pl011_destroy(&a->uart);
	if (a->gic_fd >= 0)
		close(a->gic_fd);
	free(a);
	vm->arch = NULL;
}

static int arm64_vcpu_init(struct vmm *vm, struct vcpu *v)
{
	struct arm64_vm *a = vm->arch;
	struct kvm_vcpu_init init = a->init;
	long ret;

	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	/* Secondaries wait powered off for the guest's PSCI CPU_ON, as on
	 * QEMU virt and real firmware. */
	if (v->idx > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	ret = kvm_ioctl(v->fd, KVM_ARM_VCPU_INIT, &init);
	if (ret < 0)
		return (int)ret;
	v->arch_state = calloc(1, sizeof(struct arm64_vcpu));
	return v->arch_state ? 0 : -ENOMEM;
}

static unsigned dbg_regs(unsigned host)
{
	return host > ARM64_KVM_MAX_DBG_REGS ? ARM64_KVM_MAX_DBG_REGS : host;
}

static unsigned arm64_bp_slots(void)
{
	return dbg_regs(arm64_host_bps);
}

static unsigned arm64_wp_slots(void)
{
	return dbg_regs(arm64_host_wps);
}

/* ---- Boot -------------------------------------------------------------- */

static int get_sysreg(struct vcpu *v, unsigned regno, uint64_t *val)
{
	struct arm64_cpu_state *s = arm64_vcpu_regs(v, regno);

	if (!s)
		return -EIO;
	*val = arm64_reg_get(s, regno);
	return 0;
}

static int arm64_boot(struct vmm *vm, const struct loader_image *img,
		      const char *cmdline, char *err, size_t errlen)
{
	struct arm64_vm *a = vm->arch;
	struct arm64_fdt_config fc;
	uint64_t dtb;
	struct arm64_cpu_state *s;
	void *buf;
	int ret;

	/* The GIC can be finalised only once every vCPU exists. */
	ret = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
		       KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "GICv3 initialisation: %s",
			 strerror(-ret));
		return ret;
	}
	memset(&fc, 0, sizeof(fc));
	fc.ram_base = vm->ram[0].gpa;
	fc.ram_size = vm->ram[0].size;
	fc.nr_cpus = vm->nr_vcpus;
	fc.bootargs = cmdline;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		ret = get_sysreg(vm->vcpus[i], ARM64_GDB_MPIDR_EL1,
				 &fc.mpidr[i]);
		if (ret < 0) {
			snprintf(err, errlen, "cannot read vCPU %u's MPIDR", i);
			return ret;
		}
	}
	/* ELF images leave [RAM base, +2 MiB) to the device tree, where QEMU
	 * puts it too; a Linux Image starts at the RAM base (plus its text
	 * offset) and gets its device tree after its end. */
	if (img->lowest_gpa >= ARM64_BOOT_RESERVED_END)
		dtb = ARM64_RAM_BASE;
	else
		dtb = (img->highest_gpa + DTB_ALIGN - 1) & ~(DTB_ALIGN - 1);
	buf = vmm_gpa_to_hva(vm, dtb, ARM64_DTB_MAX);
	if (!buf) {
		snprintf(err, errlen, "no room for the device tree at 0x%" PRIx64
			 "; raise --mem", dtb);
		return -ENOSPC;
	}
	ret = arm64_fdt_build(&fc, buf, ARM64_DTB_MAX, err, errlen);
	if (ret < 0)
		return ret;
	/* vCPU 0 enters the image; the others start where the guest's
	 * CPU_ON says. */
	s = arm64_vcpu_regs(vm->vcpus[0], ARM64_GDB_PC);
	if (!s || !arm64_vcpu_regs(vm->vcpus[0], ARM64_GDB_X0)) {
		snprintf(err, errlen, "cannot read vCPU 0's registers");
		return -EIO;
	}
	arm64_reg_set(s, ARM64_GDB_PC, img->entry);
	arm64_reg_set(s, ARM64_GDB_X0, dtb);
	ret = arm64_vcpu_state_flush(vm->vcpus[0]);
	arm64_vcpu_state_invalidate(vm->vcpus[0]);
	if (ret < 0) {
		snprintf(err, errlen, "cannot set vCPU 0's entry state: %s",
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* ---- Inspection -------------------------------------------------------- */

static int read_phys_cb(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len);
}

static int arm64_translate(struct vcpu *v, uint64_t gva, uint64_t *gpa,
			   uint64_t *page_left)
{
	static const unsigned need[4] = { ARM64_GDB_SCTLR_EL1,
					  ARM64_GDB_TCR_EL1,
					  ARM64_GDB_TTBR0_EL1,
					  ARM64_GDB_TTBR1_EL1 };
	struct arm64_paging_regs pr;
	struct arm64_translation t;
	struct arm64_cpu_state *s = NULL;
	int ret;

	for (unsigned i = 0; i < 4; i++) {
		s = arm64_vcpu_regs(v, need[i]);
		if (!s)
			return -EIO;
	}
	pr = (struct arm64_paging_regs){
		.sctlr_el1 = arm64_reg_get(s, ARM64_GDB_SCTLR_EL1),
		.tcr_el1 = arm64_reg_get(s, ARM64_GDB_TCR_EL1),
		.ttbr0_el1 = arm64_reg_get(s, ARM64_GDB_TTBR0_EL1),
		.ttbr1_el1 = arm64_reg_get(s, ARM64_GDB_TTBR1_EL1),
	};
	ret = arm64_paging_translate(&pr, gva, read_phys_cb, v->vm, &t);
	if (ret < 0)
		return -EFAULT;
	*gpa = t.gpa;
	*page_left = t.size - (gva & (t.size - 1));
	return 0;
}

static const char *el_name(uint64_t pstate)
{
	static const char *const modes[16] = {
		[0x0] = "EL0t", [0x4] = "EL1t", [0x5] = "EL1h",
		[0x8] = "EL2t", [0x9] = "EL2h",
	};

	if (pstate & ARM64_PSR_MODE32)
		return "AArch32";
	return modes[pstate & 0xf] ? modes[pstate & 0xf] : "bad mode";
}

static void arm64_dump(struct vcpu *v, char *buf, size_t len)
{
	struct arm64_cpu_state *s;
	size_t off;

	if (arm64_vcpu_load_parts(v, ARM64_PART_CORE | ARM64_PART_SYS) < 0 ||
	    !(s = arm64_vcpu_regs(v, ARM64_GDB_NR_REGS))) {
		snprintf(buf, len, "vCPU %u: registers unavailable", v->idx);
		return;
	}
	off = (size_t)snprintf(buf, len,
			       "vCPU %u: pc=%016" PRIx64 " pstate=%08" PRIx64
			       " (%s)\n",
			       v->idx, arm64_reg_get(s, ARM64_GDB_PC),
			       arm64_reg_get(s, ARM64_GDB_CPSR),
			       el_name(arm64_reg_get(s, ARM64_GDB_CPSR)));
	for (unsigned i = 0; i <= 30 && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off,
					"%sx%-2u=%016" PRIx64 "%s",
					i % 4 == 0 ? "  " : " ", i,
					arm64_reg_get(s, ARM64_GDB_X0 + i),
					i % 4 == 3 ? "\n" : "");
	if (off < len)
		snprintf(buf + off, len - off,
			 "\n  sp_el0=%016" PRIx64 " sp_el1=%016" PRIx64
			 " elr_el1=%016" PRIx64 " spsr_el1=%08" PRIx64 "\n"
			 "  esr_el1=%08" PRIx64 " far_el1=%016" PRIx64
			 " vbar_el1=%016" PRIx64 "\n"
			 "  sctlr_el1=%016" PRIx64 " tcr_el1=%016" PRIx64
			 " ttbr0_el1=%016" PRIx64 " ttbr1_el1=%016" PRIx64,
			 arm64_reg_get(s, ARM64_GDB_SP_EL0),
			 arm64_reg_get(s, ARM64_GDB_SP_EL1),
			 arm64_reg_get(s, ARM64_GDB_ELR_EL1),
			 arm64_reg_get(s, ARM64_GDB_SPSR_EL1),
			 arm64_reg_get(s, ARM64_GDB_ESR_EL1),
			 arm64_reg_get(s, ARM64_GDB_FAR_EL1),
			 arm64_reg_get(s, ARM64_GDB_VBAR_EL1),
			 arm64_reg_get(s, ARM64_GDB_SCTLR_EL1),
			 arm64_reg_get(s, ARM64_GDB_TCR_EL1),
			 arm64_reg_get(s, ARM64_GDB_TTBR0_EL1),
			 arm64_reg_get(s, ARM64_GDB_TTBR1_EL1));
}

static void arm64_describe(struct vcpu *v, char *buf, size_t len)
{
	struct arm64_cpu_state *s = arm64_vcpu_regs(v, ARM64_GDB_CPSR);
	struct kvm_mp_state mp;
	uint64_t sctlr = 0;
	const char *state = "";

	if (!s || get_sysreg(v, ARM64_GDB_SCTLR_EL1, &sctlr) < 0) {
		snprintf(buf, len, "state unavailable");
		return;
	}
	if (kvm_ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0)
		state = mp.mp_state == KVM_MP_STATE_STOPPED ? ", powered off"
			: mp.mp_state == KVM_MP_STATE_HALTED ? ", halted"
							     : "";
	snprintf(buf, len, "%s, MMU %s%s",
		 el_name(arm64_reg_get(s, ARM64_GDB_CPSR)),
		 (sctlr & ARM64_SCTLR_M) ? "on" : "off", state);
}

const struct arch_ops arch_host = {
	.name = "arm64",
	.elf_machine64 = EM_AARCH64,
	.elf_machine32 = 0,
	.boot_reserved_end = ARM64_BOOT_RESERVED_END,
	.ram_layout = arm64_ram_layout,
	.load_native = arm64_load_native,
	.vm_init = arm64_vm_init,
	.vm_destroy = arm64_vm_destroy,
	.vcpu_init = arm64_vcpu_init,
	.boot = arm64_boot,
	.translate = arm64_translate,
	.dump = arm64_dump,
	.describe = arm64_describe,
	.gdb_triple = "aarch64-unknown-none",
	.set_debug = arm64_vcpu_set_debug,
	.set_pc = arm64_vcpu_set_pc,
	.emulate_step = NULL,
	.sw_trap = arm64_sw_trap,
	.sw_trap_len = sizeof(arm64_sw_trap),
	/* Two banks, two pools, each as large as the host says (6
	 * breakpoints and 4 watchpoints under run-arm64); the architecture
	 * guarantees two of each. */
	.hw_bank = {
		.nr_slots = 2,
		.host_slots = arm64_bp_slots,
		.types = BP_HW_TYPE_BIT(BP_HW_EXEC),
		.max_len = 4,
		.fits = arm64_bank_fits,
	},
	.hw_data_bank = {
		.nr_slots = 2,
		.host_slots = arm64_wp_slots,
		.types = BP_HW_TYPE_BIT(BP_HW_WRITE) | BP_HW_TYPE_BIT(BP_HW_READ) |
			 BP_HW_TYPE_BIT(BP_HW_ACCESS),
		.max_len = 1ULL << 31,
		.fits = arm64_bank_fits,
	},
	.classify = arm64_vcpu_classify,
	.watch_before_access = true,
	.decode_abort = arm64_vcpu_decode_abort,
	.gdb_nr_regs = arm64_gdb_nr_regs,
	.gdb_reg_size = arm64_gdb_reg_size,
	.gdb_features_xml = arm64_gdb_features_xml,
	.gdb_read_reg = arm64_vcpu_read_reg,
	.gdb_write_reg = arm64_vcpu_write_reg,
	.gdb_expedited = arm64_gdb_expedited,
	.get_pc = arm64_vcpu_get_pc,
	.state_flush = arm64_vcpu_state_flush,
	.state_invalidate = arm64_vcpu_state_invalidate,
};
