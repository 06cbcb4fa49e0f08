/* Memslot bookkeeping. RAM is kept as a sorted list of spans, each with one
 * protection; a protection change splits the spans it touches, merges equal
 * neighbours, and replaces exactly the KVM slots whose span changed. Only
 * called while every vCPU is parked, so slot changes never race KVM_RUN. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "vmm/memslots.h"

#define PAGE_MASK_4K 0xfffULL

void memslots_init(struct memslots *ms, uint32_t max_slots, memslots_set_fn set,
		   void *ctx)
{
	memset(ms, 0, sizeof(*ms));
	ms->max_slots = max_slots < MEMSLOTS_MAX_SPANS ? max_slots
						       : MEMSLOTS_MAX_SPANS;
	ms->set = set;
	ms->ctx = ctx;
}

static int alloc_slot(struct memslots *ms)
{
	for (uint32_t i = 0; i < ms->max_slots; i++) {
		if (!ms->slot_used[i]) {
			ms->slot_used[i] = 1;
			return (int)i;
		}
	}
	return -ENOSPC;
}

static int install(struct memslots *ms, struct mem_span *s)
{
	int slot, ret;

	s->slot = -1;
	if (s->prot == MEM_PROT_NONE)
		return 0;
	slot = alloc_slot(ms);
	if (slot < 0)
		return slot;
	ret = ms->set(ms->ctx, (uint32_t)slot, s->gpa, s->size, s->hva, s->prot);
	if (ret < 0) {
		ms->slot_used[slot] = 0;
		return ret;
	}
	s->slot = slot;
	return 0;
}

static int uninstall(struct memslots *ms, struct mem_span *s)
{
	int ret;

	if (s->slot < 0)
		return 0;
	ret = ms->set(ms->ctx, (uint32_t)s->slot, s->gpa, 0, s->hva, s->prot);
	if (ret < 0)
		return ret;
	ms->slot_used[s->slot] = 0;
	s->slot = -1;
	return 0;
}

int memslots_add_ram(struct memslots *ms, uint64_t gpa, uint64_t size,
		     uint8_t *hva)
{
	struct mem_span *s;
	unsigned pos;
	int ret;

	if (!size || (gpa | size) & PAGE_MASK_4K || gpa + size < gpa)
		return -EINVAL;
	if (ms->nr_spans >= MEMSLOTS_MAX_SPANS)
		return -ENOSPC;
	for (pos = 0; pos < ms->nr_spans; pos++) {
		s = &ms->spans[pos];
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return -EEXIST;
		if (s->gpa > gpa)
			break;
	}
	memmove(&ms->spans[pos + 1], &ms->spans[pos],
		(ms->nr_spans - pos) * sizeof(*s));
	s = &ms->spans[pos];
	*s = (struct mem_span){ .gpa = gpa, .size = size, .hva = hva,
				.prot = MEM_PROT_RW, .ram = ms->nr_ram };
	ms->nr_spans++;
	ret = install(ms, s);
	if (ret < 0) {
		memmove(&ms->spans[pos], &ms->spans[pos + 1],
			(ms->nr_spans - pos - 1) * sizeof(*s));
		ms->nr_spans--;
		return ret;
	}
	ms->nr_ram++;
	return 0;
}

static int range_in_one_ram(const struct memslots *ms, uint64_t gpa,
			    uint64_t end)
{
	uint64_t cur = gpa;
	int ram = -1;

	for (unsigned i = 0; i < ms->nr_spans && cur < end; i++) {
		const struct mem_span *s = &ms->spans[i];

		if (cur < s->gpa || cur >= s->gpa + s->size)
			continue;
		if (ram >= 0 && (int)s->ram != ram)
			return 0;
		ram = (int)s->ram;
		cur = s->gpa + s->size;
	}
	return cur >= end;
}

/* Append a piece to the planned layout, merging it into the previous one
 * when both are rebuilt (or unmapped) parts of one RAM range with equal
 * protection. */
static int plan_push(struct memslots *ms, unsigned *n,
		     const struct mem_span *s)
{
	struct mem_span *prev = *n ? &ms->next[*n - 1] : NULL;

	if (prev && prev->slot < 0 && s->slot < 0 && prev->ram == s->ram &&
	    prev->prot == s->prot && prev->gpa + prev->size == s->gpa &&
	    prev->hva + prev->size == s->hva) {
		prev->size += s->size;
		return 0;
	}
	if (*n >= MEMSLOTS_MAX_SPANS)
		return -ENOSPC;
	ms->next[(*n)++] = *s;
	return 0;
}

/* Plan the layout after setting [gpa, end) to prot in ms->next, without
 * touching KVM. Spans in [first, last] lose their slot: they are rebuilt. */
static int plan(struct memslots *ms, uint64_t gpa, uint64_t end,
		enum mem_prot prot, unsigned first, unsigned last,
		unsigned *nr_next)
{
	unsigned n = 0;
	int ret;

	for (unsigned i = 0; i < ms->nr_spans; i++) {
		struct mem_span s = ms->spans[i];
		uint64_t a = s.gpa, b = s.gpa + s.size, cut[4];
		unsigned k = 0;

		if (i >= first && i <= last)
			s.slot = -1;
		cut[k++] = a;
		if (gpa > a && gpa < b)
			cut[k++] = gpa;
		if (end > a && end < b)
			cut[k++] = end;
		cut[k] = b;
		for (unsigned p = 0; p < k; p++) {
			struct mem_span piece = s;

			piece.gpa = cut[p];
			piece.size = cut[p + 1] - cut[p];
			piece.hva = s.hva + (cut[p] - a);
			if (piece.gpa >= gpa && piece.gpa + piece.size <= end)
				piece.prot = prot;
			ret = plan_push(ms, &n, &piece);
			if (ret < 0)
				return ret;
		}
	}
	*nr_next = n;
	return 0;
}

int memslots_protect(struct memslots *ms, uint64_t gpa, uint64_t size,
		     enum mem_prot prot)
{
	uint64_t end = gpa + size;
	unsigned first, last, i, n, used = 0, freed = 0, needed = 0;
	bool fresh[MEMSLOTS_MAX_SPANS];
	int ret;

	if (!size || (gpa | size) & PAGE_MASK_4K || end < gpa ||
	    prot > MEM_PROT_NONE)
		return -EINVAL;
	if (!range_in_one_ram(ms, gpa, end))
		return -ERANGE;

	/* Every slot from the first span touching the range (or its left
	 * neighbour, which may merge) to the right neighbour is rebuilt. */
	for (first = 0; first < ms->nr_spans; first++)
		if (ms->spans[first].gpa + ms->spans[first].size > gpa)
			break;
	if (first > 0 && ms->spans[first - 1].ram == ms->spans[first].ram)
		first--;
	for (last = first; last + 1 < ms->nr_spans; last++)
		if (ms->spans[last + 1].gpa > end ||
		    ms->spans[last + 1].ram != ms->spans[first].ram)
			break;

	/* Plan first and check that the plan fits, so that a refusal
	 * leaves KVM and the bookkeeping exactly as they were. */
	ret = plan(ms, gpa, end, prot, first, last, &n);
	if (ret < 0)
		return ret;
	for (i = 0; i < ms->nr_spans; i++) {
		used += ms->spans[i].slot >= 0;
		freed += ms->spans[i].slot >= 0 && i >= first && i <= last;
	}
	for (i = 0; i < n; i++)
		needed += ms->next[i].slot < 0 &&
			  ms->next[i].prot != MEM_PROT_NONE;
	if (used - freed + needed > ms->max_slots)
		return -ENOSPC;

	for (i = first; i <= last; i++) {
		ret = uninstall(ms, &ms->spans[i]);
		if (ret < 0)
			goto err_reinstall_old;
	}
	for (i = 0; i < n; i++)
		fresh[i] = ms->next[i].slot < 0 &&
			   ms->next[i].prot != MEM_PROT_NONE;
	for (i = 0; i < n; i++) {
		struct mem_span *s = &ms->next[i];

		if (!fresh[i])
			continue;
		ret = install(ms, s);
		if (ret < 0) {
			log_error("memslots: cannot install slot for "
				  "[0x%llx-0x%llx): %s",
				  (unsigned long long)s->gpa,
				  (unsigned long long)(s->gpa + s->size),
				  strerror(-ret));
			goto err_uninstall_new;
		}
	}
	memcpy(ms->spans, ms->next, n * sizeof(ms->next[0]));
	ms->nr_spans = n;
	return 0;

err_uninstall_new:
	/* Pieces installed by this call are the rebuilt ones before i. */
	while (i-- > 0)
		if (fresh[i])
			uninstall(ms, &ms->next[i]);
err_reinstall_old:
	/* Best effort: the old slots fitted before, so they fit again. */
	for (i = first; i <= last; i++)
		if (ms->spans[i].slot < 0 &&
		    ms->spans[i].prot != MEM_PROT_NONE &&
		    install(ms, &ms->spans[i]) < 0)
			log_error("memslots: cannot restore slot for "
				  "[0x%llx-0x%llx)",
				  (unsigned long long)ms->spans[i].gpa,
				  (unsigned long long)(ms->spans[i].gpa +
						       ms->spans[i].size));
	return ret;
}

int memslots_prot_at(const struct memslots *ms, uint64_t gpa,
		     enum mem_prot *out)
{
	for (unsigned i = 0; i < ms->nr_spans; i++) {
		const struct mem_span *s = &ms->spans[i];

		if (gpa >= s->gpa && gpa - s->gpa < s->size) {
			*out = s->prot;
			return 0;
		}
	}
	return -ENOENT;
}

unsigned memslots_nr_installed(const struct memslots *ms)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ms->nr_spans; i++)
		n += ms->spans[i].slot >= 0;
	return n;
}
