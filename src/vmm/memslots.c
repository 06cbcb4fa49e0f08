/* Memslot bookkeeping. RAM is kept as a sorted list of spans, each with one
 * protection; a protection change splits the spans it touches, merges equal
 * neighbours, and replaces exactly the KVM slots whose span changed. Only
 * called while every vCPU is parked, so slot changes never race KVM_RUN. */
#include <errno.h>
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

/* Split the span holding gpa so that a span starts exactly at gpa. */
static int split_at(struct memslots *ms, uint64_t gpa)
{
	for (unsigned i = 0; i < ms->nr_spans; i++) {
		struct mem_span *s = &ms->spans[i];
		uint64_t off;

		if (gpa <= s->gpa || gpa >= s->gpa + s->size)
			continue;
		if (ms->nr_spans >= MEMSLOTS_MAX_SPANS)
			return -ENOSPC;
		off = gpa - s->gpa;
		memmove(&ms->spans[i + 1], &ms->spans[i],
			(ms->nr_spans - i) * sizeof(*s));
		ms->nr_spans++;
		/* Both halves keep the old slot number for now; the caller
		 * replaces every slot in the range it rebuilds. */
		ms->spans[i].size = off;
		ms->spans[i + 1].gpa = gpa;
		ms->spans[i + 1].size -= off;
		ms->spans[i + 1].hva += off;
		return 0;
	}
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

int memslots_protect(struct memslots *ms, uint64_t gpa, uint64_t size,
		     enum mem_prot prot)
{
	uint64_t end = gpa + size;
	unsigned first, last, i, out;
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
	for (i = first; i <= last; i++) {
		ret = uninstall(ms, &ms->spans[i]);
		if (ret < 0)
			return ret;
	}

	ret = split_at(ms, gpa);
	if (ret == 0)
		ret = split_at(ms, end);
	if (ret < 0)
		return ret;
	for (i = 0; i < ms->nr_spans; i++) {
		struct mem_span *s = &ms->spans[i];

		if (s->gpa >= gpa && s->gpa + s->size <= end)
			s->prot = prot;
	}

	/* Merge neighbours of one RAM range with equal protection. Only
	 * spans without a slot merge: those are the rebuilt window and
	 * unmapped spans, never a slot KVM still holds. */
	for (i = 0, out = 0; i < ms->nr_spans; i++) {
		struct mem_span *s = &ms->spans[i];
		struct mem_span *prev = out ? &ms->spans[out - 1] : NULL;

		if (prev && prev->slot < 0 && s->slot < 0 &&
		    prev->ram == s->ram && prev->prot == s->prot &&
		    prev->gpa + prev->size == s->gpa &&
		    prev->hva + prev->size == s->hva) {
			prev->size += s->size;
			continue;
		}
		ms->spans[out++] = *s;
	}
	ms->nr_spans = out;

	for (i = 0; i < ms->nr_spans; i++) {
		struct mem_span *s = &ms->spans[i];

		if (s->slot >= 0 || s->prot == MEM_PROT_NONE)
			continue;
		ret = install(ms, s);
		if (ret < 0) {
			log_error("memslots: cannot install slot for "
				  "[0x%llx-0x%llx): %s",
				  (unsigned long long)s->gpa,
				  (unsigned long long)(s->gpa + s->size),
				  strerror(-ret));
			return ret;
		}
	}
	return 0;
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
