/* The breakpoint manager. See manager.h; the strategy comes from the host
 * probe, never from what the host is called. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "arch/arch.h"
#include "bp/hw.h"
#include "bp/manager.h"
#include "bp/sw.h"
#include "bp/watch_page.h"
#include "vmm/probe.h"
#include "vmm/vmm.h"

#define PAGE_SIZE 4096ULL

struct vcpu_bp {
	bool stepping_over; /* kvmdbg steps this vCPU over a breakpoint */
	uint64_t step_from;
	uint64_t sw_lifted; /* address of the lifted trap, when lifted */
	bool has_lifted;
	uint64_t suppressed; /* hw slots off for the step-over */
	unsigned inject; /* vector to deliver on the next run */
	bool fetch_step; /* stepping with code pages lifted */
};

/* A page whose protection the watch table wants changed. Changes are
 * applied only when the guest is about to run: gdb removes every
 * watchpoint at each stop and inserts them again to resume, and each
 * memslot change costs milliseconds on some hosts. */
struct prot_page {
	uint64_t gpa;
	enum bp_wp_prot applied, wanted;
	/* Mapped for one step, read-only so code on it can be fetched, or
	 * read-write for an access kvmdbg cannot complete; the next commit
	 * after the step puts it back. */
	bool fetch_lifted;
};

/* A read watchpoint served by an access slot (x86 debug registers cannot
 * watch reads alone): reported as a read watchpoint. */
struct read_as_access {
	uint64_t addr, len;
	unsigned count;
	/* The watched bytes when the guest last resumed: a hit that changed
	 * them was a write, which a read watchpoint does not report. */
	uint8_t seen[64];
	bool have_seen;
};

struct bp_mgr {
	struct vmm *vm;
	struct read_as_access reads[64];
	unsigned nr_reads;
	struct prot_page *pages;
	size_t nr_pages, cap_pages;
	struct bp_sw *sw;
	/* Execute slots; data slots too where one bank serves both. */
	struct bp_hw *hw;
	/* Data slots: its own pool where the arch has a second bank, else hw. */
	struct bp_hw *hw_data;
	unsigned data_types; /* BP_HW_TYPE_BIT()s hw_data takes */
	struct bp_wp *wp;
	/* Both pools' slots, hw's first: what the arch code encodes. */
	struct bp_hw_slot slots[64];
	unsigned nr_slots;
	bool trap_is_emulation_failure;
	bool rf_ignored;
	bool dr_data_works;
	bool sw_usable;
	bool block_irq;
	struct vcpu_bp vcpu[VMM_MAX_VCPUS];
};

static int phys_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len);
}

static int phys_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	return vmm_write_phys(ctx, gpa, buf, len);
}

static int set_prot(void *ctx, uint64_t gpa_page, enum bp_wp_prot prot)
{
	struct bp_mgr *m = ctx;
	struct prot_page *p;

	for (size_t i = 0; i < m->nr_pages; i++) {
		if (m->pages[i].gpa == gpa_page) {
			m->pages[i].wanted = prot;
			return 0;
		}
	}
	if (prot == BP_WP_PROT_RW)
		return 0;
	if (m->nr_pages == m->cap_pages) {
		size_t cap = m->cap_pages ? m->cap_pages * 2 : 16;

		p = realloc(m->pages, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->pages = p;
		m->cap_pages = cap;
	}
	m->pages[m->nr_pages++] = (struct prot_page){ .gpa = gpa_page,
						      .applied = BP_WP_PROT_RW,
						      .wanted = prot };
	return 0;
}

/* Apply the protections the watch table wants; every vCPU is parked. */
static int commit_prot(struct bp_mgr *m)
{
	size_t out = 0;
	int ret = 0;

	for (size_t i = 0; i < m->nr_pages; i++) {
		struct prot_page *p = &m->pages[i];

		if (p->applied != p->wanted && !p->fetch_lifted && ret == 0) {
			/* bp_wp_prot and the VMM's protections share their
			 * values. */
			ret = vmm_protect(m->vm, p->gpa, PAGE_SIZE,
					  (int)p->wanted);
			if (ret == 0)
				p->applied = p->wanted;
		}
		if (p->applied != BP_WP_PROT_RW || p->wanted != BP_WP_PROT_RW)
			m->pages[out++] = *p;
	}
	m->nr_pages = out;
	return ret;
}

static bool hw_fits(void *ctx, enum bp_hw_type t, uint64_t addr, uint64_t len)
{
	const struct arch_hw_bank *b = ctx;

	return b->fits(ctx, (int)t, addr, len);
}

static int create_pool(const struct arch_hw_bank *b, unsigned max_slots,
		       struct bp_hw **out)
{
	unsigned host = b->host_slots ? b->host_slots() : 0;
	struct bp_hw_config hc = {
		.nr_slots = host ? host : b->nr_slots,
		.types = b->types,
		.max_len = b->max_len,
		.fits = hw_fits,
		.ctx = (void *)b,
	};

	if (hc.nr_slots > max_slots)
		hc.nr_slots = max_slots;
	return bp_hw_create(&hc, out);
}

/* Runs on vCPU threads: reads the watch table only. */
static bool ram_hook(void *opaque, unsigned vcpu, uint64_t gpa, unsigned len,
		     bool is_write, uint64_t data[4])
{
	struct bp_mgr *m = opaque;
	struct bp_wp_hit hit;

	if (bp_wp_check(m->wp, gpa, len, is_write, &hit) != BP_WP_HIT)
		return false;
	data[0] = (uint64_t)hit.type;
	data[1] = hit.addr;
	data[2] = hit.watch_addr;
	data[3] = hit.watch_len;
	return true;
}

int bp_mgr_create(struct vmm *vm, const struct kvm_probe_result *probe,
		  struct bp_mgr **out)
{
	struct bp_sw_mem mem = { phys_read, phys_write, vm };
	const unsigned max_slots = sizeof(((struct bp_mgr *)0)->slots) /
				   sizeof(struct bp_hw_slot);
	struct bp_wp_config wc = { .page_size = PAGE_SIZE, .set_prot = set_prot };
	struct bp_mgr *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	wc.ctx = m;
	m->vm = vm;
	m->sw_usable = true;
	if (probe) {
		const struct kvm_probe_strategy *s = &probe->strategy;

		m->trap_is_emulation_failure =
			s->sw_bp == KVM_PROBE_SW_BP_EMULATION_FAILURE;
		m->sw_usable = s->sw_bp != KVM_PROBE_SW_BP_NONE;
		m->rf_ignored = s->hw_exec_resume != KVM_PROBE_RESUME_RF;
		m->dr_data_works =
			s->watch == KVM_PROBE_WATCH_DEBUG_REGS_ONLY ||
			s->watch == KVM_PROBE_WATCH_DEBUG_REGS_THEN_PAGES;
		m->block_irq = s->step_blockirq;
	}
	ret = bp_sw_create(arch_host.sw_trap, arch_host.sw_trap_len, &mem,
			   &m->sw);
	if (ret == 0)
		ret = create_pool(&arch_host.hw_bank, max_slots, &m->hw);
	m->hw_data = m->hw;
	m->data_types = arch_host.hw_bank.types;
	if (ret == 0 && arch_host.hw_data_bank.types) {
		ret = create_pool(&arch_host.hw_data_bank,
				  max_slots - bp_hw_nr_slots(m->hw),
				  &m->hw_data);
		m->data_types = arch_host.hw_data_bank.types;
	}
	if (ret == 0)
		ret = bp_wp_create(&wc, &m->wp);
	if (ret < 0) {
		bp_mgr_destroy(m);
		return ret;
	}
	m->nr_slots = bp_hw_nr_slots(m->hw);
	if (m->hw_data != m->hw)
		m->nr_slots += bp_hw_nr_slots(m->hw_data);
	vmm_set_ram_hook(vm, ram_hook, m);
	*out = m;
	return 0;
}

void bp_mgr_destroy(struct bp_mgr *m)
{
	if (!m)
		return;
	vmm_set_ram_hook(m->vm, NULL, NULL);
	bp_wp_destroy(m->wp);
	free(m->pages);
	if (m->hw_data != m->hw)
		bp_hw_destroy(m->hw_data);
	bp_hw_destroy(m->hw);
	bp_sw_destroy(m->sw);
	free(m);
}

static void refresh_slots(struct bp_mgr *m)
{
	unsigned n = bp_hw_nr_slots(m->hw);

	for (unsigned i = 0; i < m->nr_slots; i++)
		bp_hw_get_slot(i < n ? m->hw : m->hw_data, i < n ? i : i - n,
			       &m->slots[i]);
}

static int translate_page(void *ctx, uint64_t gva_page, uint64_t *gpa_page)
{
	struct bp_mgr *m = ((void **)ctx)[0];
	unsigned vcpu = (unsigned)(uintptr_t)((void **)ctx)[1];

	return vmm_translate(m->vm, vcpu, gva_page, gpa_page);
}

/* Does page protection already cover some page of [addr, addr+len)? */
static bool pages_protected(struct bp_mgr *m, unsigned vcpu, uint64_t addr,
			    uint64_t len)
{
	uint64_t page = addr & ~(PAGE_SIZE - 1), end = addr + len - 1;

	for (; page <= end && page >= (addr & ~(PAGE_SIZE - 1));
	     page += PAGE_SIZE) {
		uint64_t gpa;

		if (vmm_translate(m->vm, vcpu, page, &gpa) == 0 &&
		    bp_wp_prot_at(m->wp, gpa) != BP_WP_PROT_RW)
			return true;
		if (page + PAGE_SIZE < page)
			break;
	}
	return false;
}

static struct read_as_access *find_read(struct bp_mgr *m, uint64_t addr,
					 uint64_t len)
{
	for (unsigned i = 0; i < m->nr_reads; i++)
		if (m->reads[i].addr == addr && m->reads[i].len == len)
			return &m->reads[i];
	return NULL;
}

/* Accesses to a protected page are completed by kvmdbg, where debug
 * registers see nothing: move every debug-register watch that shares a
 * page with page protection over to page protection. */
static int migrate_hw_watches(struct bp_mgr *m, unsigned vcpu)
{
	void *tctx[2] = { m, (void *)(uintptr_t)vcpu };
	struct bp_hw_request r;
	bool moved;

	do {
		size_t cursor = 0;

		moved = false;
		while (bp_hw_next(m->hw_data, &cursor, &r)) {
			int ret;

			if (r.type == BP_HW_EXEC ||
			    !pages_protected(m, vcpu, r.addr, r.len))
				continue;
			struct read_as_access *ra = r.type == BP_HW_ACCESS
				? find_read(m, r.addr, r.len) : NULL;
			enum bp_wp_type wt = (enum bp_wp_type)r.type;

			/* An access slot may serve read watchpoints and an
			 * access watchpoint at once; each keeps its kind. */
			for (unsigned n = 0; n < r.count; n++) {
				if (ra && n < ra->count)
					wt = BP_WP_READ;
				else
					wt = (enum bp_wp_type)r.type;
				ret = bp_wp_insert(m->wp, wt, r.addr, r.len,
						   translate_page, tctx);
				if (ret < 0)
					return ret;
			}
			for (unsigned n = 0; n < r.count; n++)
				bp_hw_remove(m->hw_data, r.type, r.addr,
					     r.len);
			if (ra)
				*ra = m->reads[--m->nr_reads];
			moved = true;
			break; /* the pool changed: iterate afresh */
		}
	} while (moved);
	refresh_slots(m);
	return 0;
}

static int insert_watch(struct bp_mgr *m, unsigned vcpu, enum bp_type type,
			uint64_t addr, uint64_t len)
{
	void *tctx[2] = { m, (void *)(uintptr_t)vcpu };
	enum bp_hw_type hw_type = (enum bp_hw_type)type;
	int ret = -EOPNOTSUPP;

	if (!len)
		return -EINVAL;
	/* Debug registers first where they fire; page protection for the
	 * rest: more than the registers hold, any length, hosts whose data
	 * breakpoints never fire, and pages that are protected already.
	 * A read watchpoint takes an access slot (x86 has no read-only
	 * one): unmapping the page instead would stop code on that page
	 * from running where KVM cannot fetch from it. */
	if (type == BP_WATCH_READ &&
	    !(m->data_types & BP_HW_TYPE_BIT(BP_HW_READ)))
		hw_type = BP_HW_ACCESS;
	if (m->dr_data_works && !pages_protected(m, vcpu, addr, len) &&
	    (type != BP_WATCH_READ || find_read(m, addr, len) ||
	     m->nr_reads < sizeof(m->reads) / sizeof(m->reads[0]))) {
		ret = bp_hw_insert(m->hw_data, hw_type, addr, len);
		if (ret == 0) {
			refresh_slots(m);
			if (hw_type == BP_HW_ACCESS && type == BP_WATCH_READ) {
				struct read_as_access *r = find_read(m, addr, len);

				if (!r) {
					r = &m->reads[m->nr_reads++];
					*r = (struct read_as_access){ .addr = addr,
								      .len = len };
				}
				r->count++;
			}
		}
		if (ret != -ENOSPC && ret != -EOPNOTSUPP)
			return ret;
	}
	ret = bp_wp_insert(m->wp, (enum bp_wp_type)type, addr, len,
			   translate_page, tctx);
	if (ret == 0 && m->dr_data_works)
		ret = migrate_hw_watches(m, vcpu);
	return ret;
}

static void snapshot_reads(struct bp_mgr *m, unsigned vcpu)
{
	for (unsigned i = 0; i < m->nr_reads; i++) {
		struct read_as_access *r = &m->reads[i];
		size_t n = r->len < sizeof(r->seen) ? r->len : sizeof(r->seen);

		r->have_seen = vmm_read_virt(m->vm, vcpu, r->addr, r->seen,
					     n) == 0;
	}
}

bool bp_mgr_read_hit_was_write(struct bp_mgr *m, unsigned vcpu,
			       uint64_t addr)
{
	uint8_t now[64];

	for (unsigned i = 0; i < m->nr_reads; i++) {
		struct read_as_access *r = &m->reads[i];
		size_t n = r->len < sizeof(r->seen) ? r->len : sizeof(r->seen);

		if (addr < r->addr || addr - r->addr >= r->len || !r->have_seen)
			continue;
		if (vmm_read_virt(m->vm, vcpu, r->addr, now, n) < 0)
			return false;
		return memcmp(now, r->seen, n) != 0;
	}
	return false;
}

/* Is a hit of the access slot at addr really a read watchpoint's? */
bool bp_mgr_access_is_read(const struct bp_mgr *m, uint64_t addr)
{
	for (unsigned i = 0; i < m->nr_reads; i++)
		if (addr >= m->reads[i].addr &&
		    addr - m->reads[i].addr < m->reads[i].len)
			return true;
	return false;
}

int bp_mgr_insert(struct bp_mgr *m, unsigned vcpu, enum bp_type type,
		  uint64_t addr, uint64_t kind)
{
	uint64_t gpa;
	int ret;

	switch (type) {
	case BP_SW:
		if (!m->sw_usable) {
			/* No trap stops here; a hardware slot still can. */
			ret = bp_hw_insert(m->hw, BP_HW_EXEC, addr, 1);
			break;
		}
		ret = vmm_translate(m->vm, vcpu, addr, &gpa);
		if (ret == 0)
			ret = bp_sw_insert(m->sw, addr, gpa);
		break;
	case BP_HW:
		ret = bp_hw_insert(m->hw, BP_HW_EXEC, addr, 1);
		break;
	case BP_WATCH_WRITE:
	case BP_WATCH_READ:
	case BP_WATCH_ACCESS:
		return insert_watch(m, vcpu, type, addr, kind);
	default:
		return -EOPNOTSUPP;
	}
	if (ret == 0)
		refresh_slots(m);
	return ret;
}

unsigned bp_mgr_code_refs(const struct bp_mgr *m, enum bp_type type,
			  uint64_t addr)
{
	struct bp_sw_info si;
	struct bp_hw_request hr;

	if (type == BP_SW && m->sw_usable)
		return bp_sw_lookup(m->sw, addr, &si) == 0 ? si.count : 0;
	if (type != BP_SW && type != BP_HW)
		return 0;
	/* Without usable traps, Z0 and Z1 share the execute slots. */
	return bp_hw_lookup(m->hw, BP_HW_EXEC, addr, 1, &hr) == 0 ? hr.count
								   : 0;
}

bool bp_mgr_has(const struct bp_mgr *m, enum bp_type type, uint64_t addr,
		uint64_t kind)
{
	struct bp_hw_request hr;
	unsigned as_read = 0;

	switch (type) {
	case BP_SW:
	case BP_HW:
		return bp_mgr_code_refs(m, type, addr) > 0;
	case BP_WATCH_READ:
		for (unsigned i = 0; i < m->nr_reads; i++)
			if (m->reads[i].addr == addr && m->reads[i].len == kind)
				return true;
		break;
	case BP_WATCH_ACCESS:
		/* An access slot may serve read watchpoints as well. */
		for (unsigned i = 0; i < m->nr_reads; i++)
			if (m->reads[i].addr == addr && m->reads[i].len == kind)
				as_read = m->reads[i].count;
		break;
	case BP_WATCH_WRITE:
		break;
	default:
		return false;
	}
	if (bp_hw_lookup(m->hw_data, (enum bp_hw_type)type, addr, kind, &hr) ==
		    0 &&
	    hr.count > as_read)
		return true;
	return bp_wp_lookup(m->wp, (enum bp_wp_type)type, addr, kind, NULL) ==
	       0;
}

int bp_mgr_remove(struct bp_mgr *m, enum bp_type type, uint64_t addr,
		  uint64_t kind)
{
	int ret;

	switch (type) {
	case BP_SW:
		ret = m->sw_usable ? bp_sw_remove(m->sw, addr)
				   : bp_hw_remove(m->hw, BP_HW_EXEC, addr, 1);
		break;
	case BP_HW:
		ret = bp_hw_remove(m->hw, BP_HW_EXEC, addr, 1);
		break;
	case BP_WATCH_READ: {
		struct read_as_access *r = find_read(m, addr, kind);

		if (r) {
			ret = bp_hw_remove(m->hw_data, BP_HW_ACCESS, addr,
					   kind);
			if (ret == 0 && --r->count == 0)
				*r = m->reads[--m->nr_reads];
			break;
		}
		/* Banks with load-only watchpoints (arm64) hold it as is. */
		ret = bp_hw_remove(m->hw_data, BP_HW_READ, addr, kind);
		if (ret == -ENOENT || ret == -EOPNOTSUPP)
			ret = bp_wp_remove(m->wp, BP_WP_READ, addr, kind);
		break;
	}
	case BP_WATCH_WRITE:
	case BP_WATCH_ACCESS:
		ret = bp_hw_remove(m->hw_data, (enum bp_hw_type)type, addr,
				   kind);
		if (ret == -ENOENT || ret == -EOPNOTSUPP)
			ret = bp_wp_remove(m->wp, (enum bp_wp_type)type, addr,
					   kind);
		break;
	default:
		return -EOPNOTSUPP;
	}
	refresh_slots(m);
	return ret;
}

int bp_mgr_remove_all(struct bp_mgr *m)
{
	int ret = 0, r;

	for (unsigned i = 0; i < VMM_MAX_VCPUS; i++) {
		m->vcpu[i].stepping_over = false;
		m->vcpu[i].has_lifted = false;
		m->vcpu[i].suppressed = 0;
		m->vcpu[i].inject = 0;
	}
	r = bp_sw_remove_all(m->sw);
	if (r < 0)
		ret = r;
	bp_hw_remove_all(m->hw);
	if (m->hw_data != m->hw)
		bp_hw_remove_all(m->hw_data);
	m->nr_reads = 0;
	r = bp_wp_remove_all(m->wp);
	if (r < 0 && !ret)
		ret = r;
	refresh_slots(m);
	return ret;
}

void bp_mgr_shadow_read(const struct bp_mgr *m, uint64_t gpa, void *buf,
			size_t len)
{
	bp_sw_shadow_read(m->sw, gpa, buf, len);
}

void bp_mgr_filter_write(struct bp_mgr *m, uint64_t gpa, void *buf,
			 size_t len)
{
	bp_sw_filter_write(m->sw, gpa, buf, len);
}

static bool get_pc(struct bp_mgr *m, unsigned vcpu, uint64_t *pc)
{
	struct vcpu *v = vmm_vcpu(m->vm, vcpu);

	return v && arch_host.get_pc(v, pc) == 0;
}

static int exec_slot_at(struct bp_mgr *m, uint64_t pc)
{
	for (unsigned i = 0; i < m->nr_slots; i++)
		if (m->slots[i].used && m->slots[i].type == BP_HW_EXEC &&
		    m->slots[i].addr == pc)
			return (int)i;
	return -1;
}

bool bp_mgr_needs_step_over(struct bp_mgr *m, unsigned vcpu)
{
	struct bp_sw_info info;
	uint64_t pc;

	if (!get_pc(m, vcpu, &pc))
		return false;
	if (bp_sw_lookup(m->sw, pc, &info) == 0 && !info.lifted)
		return true;
	/* Suppressing the slot for one step works on every host, whether or
	 * not it honours RFLAGS.RF (kvm_pvm does not). */
	return exec_slot_at(m, pc) >= 0;
}

int bp_mgr_begin_step_over(struct bp_mgr *m, unsigned vcpu)
{
	struct vcpu_bp *vb = &m->vcpu[vcpu];
	struct bp_sw_info info;
	uint64_t pc;
	int slot, ret;

	if (!get_pc(m, vcpu, &pc))
		return -EIO;
	vb->stepping_over = true;
	vb->step_from = pc;
	vb->suppressed = 0;
	vb->has_lifted = false;
	if (bp_sw_lookup(m->sw, pc, &info) == 0 && !info.lifted) {
		ret = bp_sw_lift(m->sw, pc);
		if (ret < 0)
			return ret;
		vb->sw_lifted = pc;
		vb->has_lifted = true;
	}
	slot = exec_slot_at(m, pc);
	if (slot >= 0)
		vb->suppressed = 1ULL << slot;
	return 0;
}

/* KVM cannot execute from a page without a memslot: an instruction
 * fetch from a page unmapped for a read or access watchpoint fails as an
 * emulation failure. Map that page read-only for one step of this vCPU
 * (writes still trap); reads that this one instruction makes of watched
 * bytes on that same page are not seen. */
int bp_mgr_begin_fetch_step(struct bp_mgr *m, unsigned vcpu)
{
	struct vcpu_bp *vb = &m->vcpu[vcpu];
	bool lifted = false;
	uint64_t pc, va[2];

	if (!get_pc(m, vcpu, &pc))
		return 0;
	/* The longest x86 instruction may reach into the next page. */
	va[0] = pc;
	va[1] = pc + 15;
	for (unsigned k = 0; k < 2; k++) {
		uint64_t gpa;

		if (vmm_translate(m->vm, vcpu, va[k], &gpa) < 0)
			continue;
		gpa &= ~(PAGE_SIZE - 1);
		for (size_t i = 0; i < m->nr_pages; i++) {
			struct prot_page *p = &m->pages[i];

			if (p->gpa != gpa || p->applied != BP_WP_PROT_NONE ||
			    p->fetch_lifted)
				continue;
			if (vmm_protect(m->vm, gpa, PAGE_SIZE,
					(int)BP_WP_PROT_RO) < 0)
				return -EIO;
			p->applied = BP_WP_PROT_RO;
			p->fetch_lifted = true;
			lifted = true;
		}
	}
	if (!lifted)
		return 0;
	vb->stepping_over = true;
	vb->fetch_step = true;
	vb->step_from = pc;
	vb->suppressed = 0;
	vb->has_lifted = false;
	return 1;
}

int bp_mgr_begin_access_step(struct bp_mgr *m, unsigned vcpu, uint64_t gpa)
{
	struct vcpu_bp *vb = &m->vcpu[vcpu];
	struct prot_page *p = NULL;

	gpa &= ~(PAGE_SIZE - 1);
	for (size_t i = 0; i < m->nr_pages && !p; i++)
		if (m->pages[i].gpa == gpa &&
		    m->pages[i].applied != BP_WP_PROT_RW)
			p = &m->pages[i];
	if (!p)
		return 0;
	if (vmm_protect(m->vm, gpa, PAGE_SIZE, (int)BP_WP_PROT_RW) < 0)
		return -EIO;
	p->applied = BP_WP_PROT_RW;
	p->fetch_lifted = true;
	/* The instruction may be a step-over's already, or touch a second
	 * protected page on this same step: that step goes on. */
	if (!vb->stepping_over) {
		vb->stepping_over = true;
		get_pc(m, vcpu, &vb->step_from);
		vb->suppressed = 0;
		vb->has_lifted = false;
	}
	vb->fetch_step = true;
	return 1;
}

int bp_mgr_end_step_over(struct bp_mgr *m, unsigned vcpu)
{
	struct vcpu_bp *vb = &m->vcpu[vcpu];
	int ret = 0;

	if (vb->fetch_step) {
		for (size_t i = 0; i < m->nr_pages; i++)
			m->pages[i].fetch_lifted = false;
		vb->fetch_step = false;
	}

	if (vb->has_lifted)
		ret = bp_sw_replant(m->sw, vb->sw_lifted);
	vb->has_lifted = false;
	vb->suppressed = 0;
	vb->stepping_over = false;
	return ret;
}

bool bp_mgr_stepping_over(const struct bp_mgr *m, unsigned vcpu)
{
	return m->vcpu[vcpu].stepping_over;
}

int bp_mgr_arm_vcpu(struct bp_mgr *m, unsigned vcpu, bool step)
{
	struct vcpu_bp *vb = &m->vcpu[vcpu];
	bool stepping = step || vb->stepping_over;
	struct arch_debug dbg = {
		.single_step = stepping,
		.block_irq = stepping && m->block_irq,
		.use_sw_bp = bp_sw_nr_patches(m->sw) > 0,
		.slots = m->slots,
		.nr_slots = m->nr_slots,
		.suppressed = vb->suppressed,
		.inject = vb->inject,
	};
	int ret;

	ret = commit_prot(m);
	if (ret < 0)
		return ret;
	snapshot_reads(m, vcpu);
	/* Where this run starts: the classifier compares against it to tell
	 * a finished step from a breakpoint hit again in place. A step-over
	 * recorded its start already. */
	if (!vb->stepping_over)
		get_pc(m, vcpu, &vb->step_from);
	ret = arch_host.set_debug(vmm_vcpu(m->vm, vcpu), &dbg);
	vb->inject = 0;
	return ret;
}

static bool sw_bp_at(void *opaque, uint64_t pc)
{
	struct bp_mgr *m = opaque;
	struct bp_sw_info info;

	return bp_sw_lookup(m->sw, pc, &info) == 0;
}

/* Is the instruction at the vCPU's pc no longer a trap? */
static bool stale_trap(struct bp_mgr *m, unsigned vcpu)
{
	uint8_t insn[BP_SW_MAX_TRAP];
	uint64_t pc, gpa;

	if (!get_pc(m, vcpu, &pc) ||
	    vmm_translate(m->vm, vcpu, pc, &gpa) < 0 ||
	    vmm_read_phys(m->vm, gpa, insn, arch_host.sw_trap_len) < 0)
		return false;
	return memcmp(insn, arch_host.sw_trap, arch_host.sw_trap_len) != 0;
}

int bp_mgr_classify(struct bp_mgr *m, unsigned vcpu,
		    const struct vmm_event *ev, bool stepping,
		    struct arch_verdict *out)
{
	struct vcpu_bp *vb = &m->vcpu[vcpu];
	struct vcpu *v = vmm_vcpu(m->vm, vcpu);
	struct arch_classify_ctx ctx = {
		.sw_bp_at = sw_bp_at,
		.opaque = m,
		.slots = m->slots,
		.nr_slots = m->nr_slots,
		.suppressed = vb->suppressed,
		.stepping = stepping,
		.internal_step = vb->stepping_over,
		.step_from = vb->step_from,
		.trap_is_emulation_failure = m->trap_is_emulation_failure,
		.rf_ignored = m->rf_ignored,
		.dr_data_works = m->dr_data_works,
	};
	int ret;

	ret = arch_host.classify(v, ev, &ctx, out);
	if (ret < 0)
		return ret;
	if (out->kind == ARCH_VERDICT_REINJECT && out->vector == 3 &&
	    stale_trap(m, vcpu)) {
		/* The vCPU hit one of our traps before it was removed (it was
		 * parked with the event while another vCPU ran): the byte is
		 * the guest's own again, so there is nothing to deliver. The
		 * pc is still at the trap; run it again. */
		memset(out, 0, sizeof(*out));
		out->kind = ARCH_VERDICT_INTERNAL;
		out->internal = ARCH_INTERNAL_NONE;
		return 0;
	}
	/* Where the host needs it (a trap that faulted instead of trapping),
	 * the classifier moves the pc past the guest's own trap before it
	 * is delivered, as a real #BP would have. */
	if (out->set_pc) {
		ret = arch_host.set_pc(v, out->rewind_pc);
		if (ret < 0)
			return ret;
	}
	if (out->kind == ARCH_VERDICT_REINJECT)
		vb->inject = out->vector;
	return 0;
}

void bp_mgr_watch_hit(const struct vmm_event *ev, int *type, uint64_t *addr)
{
	*type = (int)ev->hook_data[0];
	*addr = ev->hook_data[1];
}

static const char *const type_names[] = {
	[BP_HW_EXEC] = "execute",
	[BP_HW_WRITE] = "write",
	[BP_HW_READ] = "read",
	[BP_HW_ACCESS] = "access",
};

static void describe_pool(const struct bp_mgr *m, const char *what,
			  unsigned first, unsigned n, char *out, size_t cap)
{
	unsigned used = 0;

	for (unsigned i = first; i < first + n; i++)
		used += m->slots[i].used;
	str_appendf(out, cap, "%s slots: %u, %u used\n", what, n, used);
	for (unsigned i = first; i < first + n; i++) {
		const struct bp_hw_slot *s = &m->slots[i];
		bool read = s->type == BP_HW_ACCESS &&
			    bp_mgr_access_is_read(m, s->addr);

		if (!s->used)
			continue;
		if (s->type == BP_HW_EXEC)
			str_appendf(out, cap, "  %u: execute 0x%" PRIx64 "\n",
				    i - first, s->addr);
		else
			str_appendf(out, cap, "  %u: %s 0x%" PRIx64 " len %" PRIu64
				    "%s\n", i - first, type_names[s->type],
				    s->addr, s->len,
				    read ? " (serves a read watchpoint)" : "");
	}
}

void bp_mgr_describe(const struct bp_mgr *m, char *out, size_t cap)
{
	unsigned n_exec = bp_hw_nr_slots(m->hw);
	struct bp_sw_info si;
	struct bp_wp_info wi;
	size_t cursor = 0;

	str_appendf(out, cap, "software breakpoints: %zu\n",
		    bp_sw_count(m->sw));
	while (bp_sw_next(m->sw, &cursor, &si))
		str_appendf(out, cap, "  0x%" PRIx64 " at gpa 0x%" PRIx64
			    ", %u reference%s\n", si.addr, si.gpa, si.count,
			    si.count == 1 ? "" : "s");
	if (m->hw_data == m->hw) {
		describe_pool(m, "debug register", 0, m->nr_slots, out, cap);
	} else {
		describe_pool(m, "breakpoint", 0, n_exec, out, cap);
		describe_pool(m, "watchpoint", n_exec, m->nr_slots - n_exec,
			      out, cap);
	}
	str_appendf(out, cap, "page-protection watchpoints: %zu on %zu "
		    "page%s\n", bp_wp_count(m->wp), bp_wp_nr_protected(m->wp),
		    bp_wp_nr_protected(m->wp) == 1 ? "" : "s");
	cursor = 0;
	while (bp_wp_next(m->wp, &cursor, &wi))
		str_appendf(out, cap, "  %s 0x%" PRIx64 " len %" PRIu64 "\n",
			    type_names[wi.type], wi.addr, wi.len);
}
