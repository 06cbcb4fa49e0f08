/* x86_64 machine: RAM below the 3-4 GiB MMIO hole, in-kernel irqchip and
 * PIT, COM1 and the exit port, CPUID with the vCPU topology, and the PVH
 * and native 64-bit entry states. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/x86.h"
#include "bp/hw.h"
#include "vmm/vmm_internal.h"
#include "vmm/devices/uart.h"
#include "vmm/devices/exitdev.h"

#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define EXIT_PORT 0xf4
#define TSS_ADDR 0xfffbd000ULL
#define IDENTITY_MAP_ADDR 0xfffbc000ULL

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

struct x86_vm {
	struct uart16550 com1;
	struct kvm_cpuid2 *cpuid;
};

static int x86_ram_layout(uint64_t mem_size, struct vmm_ram *out,
			  unsigned max)
{
	uint64_t low = mem_size < X86_LOW_RAM_END ? mem_size : X86_LOW_RAM_END;

	if (max < 2)
		return -ENOSPC;
	out[0] = (struct vmm_ram){ .gpa = 0, .size = low };
	if (mem_size == low)
		return 1;
	out[1] = (struct vmm_ram){ .gpa = X86_HIGH_RAM, .size = mem_size - low };
	return 2;
}

static void com1_irq(void *opaque, int level)
{
	vmm__irq_line(opaque, COM1_IRQ, level);
}

static void com1_io(struct vmm *vm, void *opaque, uint64_t addr, bool is_write,
		    uint8_t *data, unsigned size)
{
	(void)vm;
	/* Wider accesses hit consecutive registers, as on the ISA bus. */
	for (unsigned i = 0; i < size; i++)
		uart16550_access(opaque, (unsigned)addr + i, is_write, &data[i]);
}

static void com1_input(void *console, const uint8_t *buf, size_t len)
{
	uart16550_receive(console, buf, len);
}

static void quiet_io(struct vmm *vm, void *opaque, uint64_t addr,
		     bool is_write, uint8_t *data, unsigned size)
{
	/* The POST code port: guests write progress here; nothing to do. */
	if (!is_write)
		memset(data, 0xff, size);
}

static struct kvm_cpuid2 *get_supported_cpuid(int sys_fd)
{
	for (uint32_t n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		long ret;

		if (!c)
			return NULL;
		c->nent = n;
		/* The size check cannot cover the flexible array. */
		ret = kvm__ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID,
				 "KVM_GET_SUPPORTED_CPUID", c, sizeof(*c));
		if (ret == 0)
			return c;
		free(c);
		if (ret != -E2BIG)
			return NULL;
	}
	return NULL;
}

static int x86_vm_init(struct vmm *vm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = 0 };
	uint64_t idmap = IDENTITY_MAP_ADDR;
	struct x86_vm *x;
	long ret;

	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->arch = x;
	x->cpuid = get_supported_cpuid(vm->sys.fd);
	if (!x->cpuid) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID failed");
		return -ENOTSUP;
	}
	ret = kvm_ioctl_val(vm->fd, KVM_SET_TSS_ADDR, TSS_ADDR);
	if (ret == 0)
		ret = kvm_ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror((int)-ret));
		return (int)ret;
	}
	ret = kvm_ioctl_val(vm->fd, KVM_CREATE_IRQCHIP, 0);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s",
			 strerror((int)-ret));
		return (int)ret;
	}
	ret = kvm_ioctl(vm->fd, KVM_CREATE_PIT2, &pit);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_CREATE_PIT2: %s", strerror((int)-ret));
		return (int)ret;
	}
	uart16550_init(&x->com1, vm->cfg.console_fd, com1_irq, vm);
	vm->console = &x->com1;
	vm->console_input = com1_input;
	vmm__register_pio(vm, COM1_BASE, 8, com1_io, &x->com1);
	vmm__register_pio(vm, EXIT_PORT, 4, exitdev_io, NULL);
	vmm__register_pio(vm, 0x80, 1, quiet_io, NULL);
	return 0;
}

static void x86_vm_destroy(struct vmm *vm)
{
	struct x86_vm *x = vm->arch;

	if (!x)
		return;
	if (vm->console)
		uart16550_destroy(&x->com1);
	free(x->cpuid);
	free(x);
	vm->arch = NULL;
}

static int x86_vcpu_init(struct vmm *vm, struct vcpu *v)
{
	struct x86_vm *x = vm->arch;
	struct kvm_cpuid2 *c;
	size_t sz = sizeof(*c) + x->cpuid->nent * sizeof(c->entries[0]);
	long ret;

	c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, x->cpuid, sz);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC ID and the logical processor count:
			 * the guest contract for finding its vCPUs. */
			e->ebx = (e->ebx & 0x0000ffff) | (v->idx << 24) |
				 ((uint32_t)vm->cfg.nr_vcpus << 16);
			if (vm->cfg.nr_vcpus > 1)
				e->edx |= 1U << 28; /* HTT */
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->idx;
			break;
		}
	}
	ret = kvm__ioctl(v->fd, KVM_SET_CPUID2, "KVM_SET_CPUID2", c,
			 sizeof(*c));
	free(c);
	if (ret < 0)
		return (int)ret;
	v->arch_state = calloc(1, sizeof(struct x86_cpu_state));
	if (!v->arch_state)
		return -ENOMEM;
	/* Have KVM store regs and sregs in the run structure at every exit:
	 * a stop then reads them without an ioctl each (on some hosts each
	 * vCPU ioctl costs tens of microseconds). */
	if ((kvm_check_cap(vm->sys.fd, KVM_CAP_SYNC_REGS) &
	     (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) ==
	    (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS))
		v->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
		    bool code64, bool db)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = code64, .g = 1,
	};
}

static void write_gdt(struct vmm *vm)
{
	uint64_t gdt[5] = {
		0,
		0x00af9b000000ffffULL, /* 0x08: 64-bit code */
		0x00cf9b000000ffffULL, /* 0x10: 32-bit code */
		0x00cf93000000ffffULL, /* 0x18: data */
		0x00008b0000000067ULL, /* 0x20: TSS (busy), base 0 */
	};

	vmm_write_phys(vm, X86_BOOT_GDT, gdt, sizeof(gdt));
}

static void write_page_tables(struct vmm *vm)
{
	uint64_t pml4 = X86_BOOT_PDPT | 3, pdpt[4], pd[512];

	vmm_write_phys(vm, X86_BOOT_PML4, &pml4, sizeof(pml4));
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (X86_BOOT_PD + i * 0x1000) | 3;
	vmm_write_phys(vm, X86_BOOT_PDPT, pdpt, sizeof(pdpt));
	for (unsigned g = 0; g < 4; g++) {
		for (unsigned i = 0; i < 512; i++)
			pd[i] = ((uint64_t)g << 30) + ((uint64_t)i << 21) +
				0x83; /* present, writable, 2 MiB */
		vmm_write_phys(vm, X86_BOOT_PD + g * 0x1000, pd, sizeof(pd));
	}
}

static int write_start_info(struct vmm *vm, const char *cmdline, char *err,
			    size_t errlen)
{
	struct hvm_memmap_entry map[X86_BOOT_MEMMAP_MAX];
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.memmap_paddr = X86_BOOT_MEMMAP,
	};
	unsigned n = 0;

	if (cmdline) {
		size_t len = strlen(cmdline);

		if (len > X86_BOOT_CMDLINE_MAX) {
			snprintf(err, errlen,
				 "--append is %zu bytes; at most %llu fit",
				 len, X86_BOOT_CMDLINE_MAX);
			return -E2BIG;
		}
		vmm_write_phys(vm, X86_BOOT_CMDLINE, cmdline, len + 1);
		si.cmdline_paddr = X86_BOOT_CMDLINE;
	}
	map[n++] = (struct hvm_memmap_entry){ 0, X86_BOOT_RESERVED_END,
					      HVM_MEMMAP_RESERVED, 0 };
	for (unsigned i = 0; i < vm->nr_ram && n < X86_BOOT_MEMMAP_MAX; i++) {
		uint64_t start = vm->ram[i].gpa, end = start + vm->ram[i].size;

		if (start < X86_BOOT_RESERVED_END)
			start = X86_BOOT_RESERVED_END;
		map[n++] = (struct hvm_memmap_entry){ start, end - start,
						      HVM_MEMMAP_RAM, 0 };
	}
	si.memmap_entries = n;
	vmm_write_phys(vm, X86_BOOT_MEMMAP, map, n * sizeof(map[0]));
	vmm_write_phys(vm, X86_BOOT_START_INFO, &si, sizeof(si));
	return 0;
}

static int set_entry_state(struct vcpu *v, const struct loader_image *img)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;
	bool native = !img->has_pvh;
	long ret;

	ret = kvm_ioctl(v->fd, KVM_GET_SREGS, &sr);
	if (ret < 0)
		return (int)ret;
	sr.gdt.base = X86_BOOT_GDT;
	sr.gdt.limit = 5 * 8 - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	set_seg(&sr.ds, X86_GDT_DATA, 0x3, false, true);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.tr = (struct kvm_segment){ .selector = X86_GDT_TSS, .limit = 0x67,
				      .type = 0xb, .present = 1 };
	sr.ldt = (struct kvm_segment){ .type = 0x2, .present = 1,
				       .limit = 0xffff };
	if (native) {
		set_seg(&sr.cs, X86_GDT_CODE64, 0xb, true, false);
		sr.cr0 = CR0_PE | CR0_ET | CR0_PG;
		sr.cr3 = X86_BOOT_PML4;
		sr.cr4 = CR4_PAE;
		sr.efer = EFER_LME | EFER_LMA;
	} else {
		set_seg(&sr.cs, X86_GDT_CODE32, 0xb, false, true);
		sr.cr0 = CR0_PE | CR0_ET;
		sr.cr3 = 0;
		sr.cr4 = 0;
		sr.efer = 0;
	}
	ret = kvm_ioctl(v->fd, KVM_SET_SREGS, &sr);
	if (ret < 0)
		return (int)ret;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	if (native) {
		regs.rip = img->entry;
		regs.rdi = X86_BOOT_START_INFO;
	} else {
		regs.rip = img->pvh_entry;
		regs.rbx = X86_BOOT_START_INFO;
	}
	ret = kvm_ioctl(v->fd, KVM_SET_REGS, &regs);
	v->regs_synced = false;
	return ret < 0 ? (int)ret : 0;
}

static int x86_boot(struct vmm *vm, const struct loader_image *img,
		    const char *cmdline, char *err, size_t errlen)
{
	int ret;

	write_gdt(vm);
	write_page_tables(vm);
	ret = write_start_info(vm, cmdline, err, errlen);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		ret = set_entry_state(v, img);
		/* Application processors start at the entry too, instead of
		 * waiting for INIT/SIPI: every vCPU runs the image. */
		if (ret == 0 && i > 0) {
			struct kvm_mp_state mp = { KVM_MP_STATE_RUNNABLE };

			ret = (int)kvm_ioctl(v->fd, KVM_SET_MP_STATE, &mp);
		}
		if (ret < 0) {
			snprintf(err, errlen, "cannot set vCPU %u's entry state: %s",
				 i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int read_phys_cb(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len);
}

static int x86_translate(struct vcpu *v, uint64_t gva, uint64_t *gpa,
			 uint64_t *page_left)
{
	struct x86_cpu_state *st = x86_vcpu_state(v, X86_STATE_SREGS);
	struct x86_translation t;
	struct x86_paging_regs pr;
	uint64_t size;
	int r;

	if (!st)
		return -EIO;
	pr = (struct x86_paging_regs){ .cr0 = st->sregs.cr0,
				       .cr3 = st->sregs.cr3,
				       .cr4 = st->sregs.cr4,
				       .efer = st->sregs.efer };
	r = x86_paging_translate(&pr, gva, read_phys_cb, v->vm, &t);
	if (r < 0)
		return r;
	*gpa = t.gpa;
	size = t.page_size ? t.page_size : 0x1000;
	*page_left = size - (gva & (size - 1));
	return 0;
}

static void x86_dump(struct vcpu *v, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct x86_paging_regs pr;

	if (kvm_ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    kvm_ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "vCPU %u: registers unavailable", v->idx);
		return;
	}
	pr = (struct x86_paging_regs){ s.cr0, s.cr3, s.cr4, s.efer };
	snprintf(buf, len,
		 "vCPU %u: rip=%016llx rflags=%08llx cs=%04x (%s, CPL %u, "
		 "paging %s)\n"
		 "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		 "  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n"
		 "  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		 "  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		 "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n"
		 "  efer=%016llx idt=%016llx/%04x gdt=%016llx/%04x",
		 v->idx, r.rip, r.rflags, s.cs.selector,
		 s.cs.l ? "64-bit" : s.cs.db ? "32-bit" : "16-bit",
		 s.cs.dpl, x86_paging_mode_name(&pr), r.rax, r.rbx, r.rcx,
		 r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11,
		 r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4,
		 s.efer, s.idt.base, s.idt.limit, s.gdt.base, s.gdt.limit);
}

static void x86_describe(struct vcpu *v, char *buf, size_t len)
{
	struct x86_cpu_state *st = x86_vcpu_state(v, X86_STATE_SREGS);
	struct kvm_sregs s;
	const char *mode;

	if (!st) {
		snprintf(buf, len, "state unavailable");
		return;
	}
	s = st->sregs;
	if (!(s.cr0 & CR0_PE))
		mode = "real mode";
	else if (s.cs.l)
		mode = "64-bit";
	else if (s.efer & EFER_LMA)
		mode = "compatibility mode";
	else
		mode = s.cs.db ? "32-bit protected" : "16-bit protected";
	if (!st->mp_valid)
		st->mp_valid = kvm_ioctl(v->fd, KVM_GET_MP_STATE, &st->mp) == 0;
	snprintf(buf, len, "%s, CPL %u%s", mode, s.cs.dpl,
		 st->mp_valid && st->mp.mp_state == KVM_MP_STATE_HALTED
			 ? ", halted"
			 : "");
}

const struct arch_ops arch_host = {
	.name = "x86_64",
	.elf_machine64 = EM_X86_64,
	.elf_machine32 = EM_386,
	.boot_reserved_end = X86_BOOT_RESERVED_END,
	.ram_layout = x86_ram_layout,
	.vm_init = x86_vm_init,
	.vm_destroy = x86_vm_destroy,
	.vcpu_init = x86_vcpu_init,
	.boot = x86_boot,
	.translate = x86_translate,
	.dump = x86_dump,
	.describe = x86_describe,
	.gdb_triple = "x86_64-unknown-none",
	.set_debug = x86_vcpu_set_debug,
	.set_pc = x86_vcpu_set_pc,
	.emulate_step = x86_vcpu_emulate_step,
	.step_on = x86_vcpu_step_on,
	.sw_trap = x86_sw_trap,
	.sw_trap_len = sizeof(x86_sw_trap),
	.hw_bank = {
		.nr_slots = 4,
		.types = BP_HW_TYPE_BIT(BP_HW_EXEC) | BP_HW_TYPE_BIT(BP_HW_WRITE) |
			 BP_HW_TYPE_BIT(BP_HW_ACCESS),
		.max_len = 8,
		.fits = x86_bank_fits,
	},
	.classify = x86_vcpu_classify,
	.gdb_nr_regs = x86_gdb_nr_regs,
	.gdb_reg_size = x86_gdb_reg_size,
	.gdb_features_xml = x86_gdb_features_xml,
	.gdb_read_reg = x86_vcpu_read_reg,
	.gdb_write_reg = x86_vcpu_write_reg,
	.gdb_expedited = x86_gdb_expedited,
	.get_pc = x86_vcpu_get_pc,
	.state_flush = x86_vcpu_state_flush,
	.state_invalidate = x86_vcpu_state_invalidate,
};
