/* Unit tests for memslot bookkeeping, against a fake KVM slot table that
 * refuses what KVM refuses and is checked for exact tiling after each call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/memslots.h"

#define PG 0x1000ULL
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define HIGH_GPA (4 * GiB)
#define MAX_RAM 4
#define BACKING_SIZE (8 * MiB)

/* cmocka's integer asserts print in hex and lose the sign of -EINVAL. */
#define ASSERT_EQ(got, want)                                                   \
	do {                                                                   \
		long long got_ = (long long)(got);                             \
		long long want_ = (long long)(want);                           \
		if (got_ != want_)                                             \
			fail_msg("%s%s == %lld, want %s == %lld", step, #got,  \
				 got_, #want, want_);                          \
	} while (0)

/* Guest RAM lives in one host buffer, ranges back to back as in vm.c, so
 * a merge across two RAM ranges would look plausible to a sloppy check. */
static uint8_t backing[BACKING_SIZE];

/* Prefix of every failure message: which step of a sequence broke. */
static char step[160];

static const char *prot_name(int prot)
{
	switch (prot) {
	case MEM_PROT_RW:
		return "RW";
	case MEM_PROT_RO:
		return "RO";
	case MEM_PROT_NONE:
		return "NONE";
	}
	return "?";
}

struct fake_slot {
	bool used;
	uint64_t gpa, size;
	uint8_t *hva;
	enum mem_prot prot;
};

struct fake_ram {
	uint64_t gpa, size;
	uint8_t *hva;
};

/* KVM's side: a slot table with KVM's rules, plus the RAM the VMM owns so
 * every slot's host address can be checked against its guest address. */
struct fake_kvm {
	struct fake_slot slot[MEMSLOTS_MAX_SPANS];
	uint32_t nr_slots; /* KVM_CAP_NR_MEMSLOTS */
	struct fake_ram ram[MAX_RAM];
	unsigned nr_ram;
	size_t backing_used;
	unsigned calls, installs, deletes;
	/* Refuse the Nth install from now with `refuse_err` (0: never). */
	unsigned refuse_in;
	int refuse_err;
};

struct fixture {
	struct memslots ms;
	struct fake_kvm k;
};

static int fake_set(void *ctx, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *hva_v, enum mem_prot prot)
{
	struct fake_kvm *k = ctx;
	uint8_t *hva = hva_v;
	const struct fake_ram *r = NULL;

	k->calls++;
	if (slot >= k->nr_slots)
		fail_msg("%sslot %u is beyond KVM's %u slots", step, slot,
			 k->nr_slots);
	if (size == 0) {
		if (!k->slot[slot].used)
			fail_msg("%sdelete of unused slot %u", step, slot);
		k->slot[slot].used = false;
		k->deletes++;
		return 0;
	}
	if (k->slot[slot].used)
		fail_msg("%sinstall [%#llx+%#llx) into used slot %u, which "
			 "holds [%#llx+%#llx)",
			 step, (unsigned long long)gpa,
			 (unsigned long long)size, slot,
			 (unsigned long long)k->slot[slot].gpa,
			 (unsigned long long)k->slot[slot].size);
	if ((gpa | size) & (PG - 1) || gpa + size < gpa)
		fail_msg("%sinstall of unaligned [%#llx+%#llx)", step,
			 (unsigned long long)gpa, (unsigned long long)size);
	if (prot != MEM_PROT_RW && prot != MEM_PROT_RO)
		fail_msg("%sinstall [%#llx+%#llx) with prot %s", step,
			 (unsigned long long)gpa, (unsigned long long)size,
			 prot_name(prot));
	for (uint32_t i = 0; i < k->nr_slots; i++) {
		const struct fake_slot *o = &k->slot[i];

		if (o->used && gpa < o->gpa + o->size && o->gpa < gpa + size)
			fail_msg("%sslot %u [%#llx+%#llx) overlaps slot %u "
				 "[%#llx+%#llx)",
				 step, slot, (unsigned long long)gpa,
				 (unsigned long long)size, i,
				 (unsigned long long)o->gpa,
				 (unsigned long long)o->size);
	}
	for (unsigned i = 0; i < k->nr_ram; i++)
		if (gpa >= k->ram[i].gpa &&
		    gpa - k->ram[i].gpa < k->ram[i].size)
			r = &k->ram[i];
	if (!r || size > r->size - (gpa - r->gpa))
		fail_msg("%sslot %u [%#llx+%#llx) is not inside one RAM range",
			 step, slot, (unsigned long long)gpa,
			 (unsigned long long)size);
	if (hva != r->hva + (gpa - r->gpa))
		fail_msg("%sslot %u at gpa %#llx has hva offset %td, want %td",
			 step, slot, (unsigned long long)gpa, hva - backing,
			 (r->hva - backing) + (ptrdiff_t)(gpa - r->gpa));
	if (k->refuse_in && --k->refuse_in == 0)
		return k->refuse_err;
	k->slot[slot] = (struct fake_slot){
	    .used = true, .gpa = gpa, .size = size, .hva = hva, .prot = prot};
	k->installs++;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->k.nr_slots = 32;
	memslots_init(&f->ms, f->k.nr_slots, fake_set, &f->k);
	snprintf(step, sizeof(step), "%s", "");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Start over with a KVM of `nr_slots` slots and no RAM. */
static void reinit(struct fixture *f, uint32_t nr_slots)
{
	memset(&f->k, 0, sizeof(f->k));
	f->k.nr_slots = nr_slots;
	memslots_init(&f->ms, nr_slots, fake_set, &f->k);
}

/* Add RAM with the next piece of the host buffer, telling the fake KVM
 * first so it can check the install. */
static int add_ram(struct fixture *f, uint64_t gpa, uint64_t size)
{
	struct fake_ram *r = &f->k.ram[f->k.nr_ram];
	int ret;

	assert_true(f->k.nr_ram < MAX_RAM);
	assert_true(size <= BACKING_SIZE - f->k.backing_used);
	*r = (struct fake_ram){
	    .gpa = gpa, .size = size, .hva = backing + f->k.backing_used};
	f->k.nr_ram++;
	ret = memslots_add_ram(&f->ms, gpa, size, r->hva);
	if (ret == 0)
		f->k.backing_used += size;
	else
		f->k.nr_ram--;
	return ret;
}

/* A RAM range that must be refused, before KVM hears of it. */
static void add_ram_err(struct fixture *f, uint64_t gpa, uint64_t size,
			int want)
{
	unsigned calls = f->k.calls;
	int ret = memslots_add_ram(&f->ms, gpa, size, backing);

	if (ret != want)
		fail_msg("%smemslots_add_ram(%#llx, %#llx) = %d, want %d", step,
			 (unsigned long long)gpa, (unsigned long long)size, ret,
			 want);
	ASSERT_EQ(f->k.calls, calls);
}

static const struct fake_slot *backend_slot_at(const struct fake_kvm *k,
					       uint64_t gpa)
{
	for (uint32_t i = 0; i < k->nr_slots; i++) {
		const struct fake_slot *s = &k->slot[i];

		if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

struct interval {
	uint64_t gpa, size;
	int prot;
	const char *what;
};

static int cmp_interval(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static int cmp_ram(const void *a, const void *b)
{
	const struct fake_ram *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/*
 * The invariants, after every operation: memslots' installed spans are
 * exactly KVM's slots; every span without a slot is MEM_PROT_NONE; KVM's
 * slots plus the NONE spans tile all RAM with no gap and no overlap; and
 * memslots_prot_at agrees with what KVM maps.
 */
static void check(const struct fixture *f)
{
	const struct memslots *ms = &f->ms;
	const struct fake_kvm *k = &f->k;
	static struct interval iv[2 * MEMSLOTS_MAX_SPANS];
	struct fake_ram ram[MAX_RAM];
	unsigned n = 0, used = 0, spans_with_slot = 0, j;

	for (uint32_t i = 0; i < k->nr_slots; i++) {
		const struct fake_slot *s = &k->slot[i];
		const struct mem_span *match = NULL;

		if (!s->used)
			continue;
		used++;
		for (unsigned m = 0; m < ms->nr_spans; m++)
			if (ms->spans[m].slot == (int)i)
				match = &ms->spans[m];
		if (!match)
			fail_msg("%sKVM slot %u [%#llx+%#llx) %s is unknown to "
				 "memslots",
				 step, i, (unsigned long long)s->gpa,
				 (unsigned long long)s->size,
				 prot_name(s->prot));
		if (match->gpa != s->gpa || match->size != s->size ||
		    match->hva != s->hva || match->prot != s->prot)
			fail_msg(
			    "%smemslots thinks slot %u is [%#llx+%#llx) %s "
			    "hva+%td, KVM has [%#llx+%#llx) %s hva+%td",
			    step, i, (unsigned long long)match->gpa,
			    (unsigned long long)match->size,
			    prot_name(match->prot), match->hva - backing,
			    (unsigned long long)s->gpa,
			    (unsigned long long)s->size, prot_name(s->prot),
			    s->hva - backing);
		iv[n++] = (struct interval){s->gpa, s->size, s->prot, "slot"};
	}
	for (unsigned m = 0; m < ms->nr_spans; m++) {
		const struct mem_span *s = &ms->spans[m];

		if (s->slot >= 0) {
			spans_with_slot++;
			continue;
		}
		if (s->prot != MEM_PROT_NONE)
			fail_msg("%sspan [%#llx+%#llx) is %s but has no KVM "
				 "slot: the guest cannot reach that RAM",
				 step, (unsigned long long)s->gpa,
				 (unsigned long long)s->size,
				 prot_name(s->prot));
		iv[n++] =
		    (struct interval){s->gpa, s->size, MEM_PROT_NONE, "hole"};
	}
	ASSERT_EQ(spans_with_slot, used);
	ASSERT_EQ(memslots_nr_installed(ms), used);

	/* Tiling: walk RAM in address order, consuming intervals. */
	qsort(iv, n, sizeof(iv[0]), cmp_interval);
	memcpy(ram, k->ram, k->nr_ram * sizeof(ram[0]));
	qsort(ram, k->nr_ram, sizeof(ram[0]), cmp_ram);
	j = 0;
	for (unsigned r = 0; r < k->nr_ram; r++) {
		uint64_t cur = ram[r].gpa, end = ram[r].gpa + ram[r].size;

		while (cur < end) {
			if (j >= n || iv[j].gpa != cur)
				fail_msg(
				    "%sRAM at %#llx is %s; want a slot or "
				    "hole starting there (next one "
				    "starts at %#llx)",
				    step, (unsigned long long)cur,
				    j >= n ? "past the last slot" : "not tiled",
				    j >= n ? 0ULL
					   : (unsigned long long)iv[j].gpa);
			if (iv[j].size > end - cur)
				fail_msg("%s%s [%#llx+%#llx) runs past the end "
					 "of RAM range [%#llx, %#llx)",
					 step, iv[j].what,
					 (unsigned long long)iv[j].gpa,
					 (unsigned long long)iv[j].size,
					 (unsigned long long)ram[r].gpa,
					 (unsigned long long)end);
			cur += iv[j].size;
			j++;
		}
	}
	if (j != n)
		fail_msg("%s%s [%#llx+%#llx) lies outside RAM", step,
			 iv[j].what, (unsigned long long)iv[j].gpa,
			 (unsigned long long)iv[j].size);

	/* The bookkeeping answers what KVM maps, at both ends of each piece. */
	for (j = 0; j < n; j++) {
		uint64_t ends[2] = {iv[j].gpa, iv[j].gpa + iv[j].size - 1};

		for (unsigned e = 0; e < 2; e++) {
			enum mem_prot p = MEM_PROT_RW;
			int ret = memslots_prot_at(ms, ends[e], &p);

			if (ret != 0 || (int)p != iv[j].prot)
				fail_msg("%smemslots_prot_at(%#llx) = %d, %s; "
					 "KVM has %s there",
					 step, (unsigned long long)ends[e], ret,
					 prot_name(p), prot_name(iv[j].prot));
		}
	}
}

/* Every page of [gpa, gpa+size) has `prot`, in memslots and in KVM. */
static void expect_prot(const struct fixture *f, uint64_t gpa, uint64_t size,
			enum mem_prot prot)
{
	for (uint64_t a = gpa; a < gpa + size; a += PG) {
		const struct fake_slot *s = backend_slot_at(&f->k, a);
		enum mem_prot got = MEM_PROT_RW;
		int ret = memslots_prot_at(&f->ms, a + PG - 1, &got);

		if (ret != 0 || got != prot)
			fail_msg(
			    "%smemslots_prot_at(%#llx) = %d, %s; want 0, %s",
			    step, (unsigned long long)(a + PG - 1), ret,
			    prot_name(got), prot_name(prot));
		if (prot == MEM_PROT_NONE && s)
			fail_msg("%spage %#llx is NONE but KVM maps it %s",
				 step, (unsigned long long)a,
				 prot_name(s->prot));
		if (prot != MEM_PROT_NONE && (!s || s->prot != prot))
			fail_msg("%spage %#llx should be mapped %s, KVM has %s",
				 step, (unsigned long long)a, prot_name(prot),
				 s ? prot_name(s->prot) : "no slot");
	}
}

static void expect_slots(const struct fixture *f, unsigned want)
{
	unsigned used = 0;

	for (uint32_t i = 0; i < f->k.nr_slots; i++)
		used += f->k.slot[i].used;
	ASSERT_EQ(used, want);
	ASSERT_EQ(memslots_nr_installed(&f->ms), want);
}

static void protect_ok(struct fixture *f, uint64_t gpa, uint64_t size,
		       enum mem_prot prot)
{
	int ret = memslots_protect(&f->ms, gpa, size, prot);

	if (ret != 0)
		fail_msg("%smemslots_protect(%#llx, %#llx, %s) = %d, want 0",
			 step, (unsigned long long)gpa,
			 (unsigned long long)size, prot_name(prot), ret);
	check(f);
}

/* A call that must fail leaves KVM untouched and the layout as it was. */
static void protect_err(struct fixture *f, uint64_t gpa, uint64_t size,
			enum mem_prot prot, int want)
{
	unsigned calls = f->k.calls;
	int ret = memslots_protect(&f->ms, gpa, size, prot);

	if (ret != want)
		fail_msg("%smemslots_protect(%#llx, %#llx, %s) = %d, want %d",
			 step, (unsigned long long)gpa,
			 (unsigned long long)size, prot_name(prot), ret, want);
	ASSERT_EQ(f->k.calls, calls);
	check(f);
}

/* 64 pages at 1 MiB: the usual RAM of these tests. */
#define R0 0x100000ULL
#define NPG 64
#define P(n) (R0 + (uint64_t)(n)*PG)

static void one_range(struct fixture *f)
{
	ASSERT_EQ(add_ram(f, R0, NPG * PG), 0);
	check(f);
}

/* --- adding RAM --- */

static void test_add_one_range(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	expect_slots(f, 1);
	expect_prot(f, R0, NPG * PG, MEM_PROT_RW);
	ASSERT_EQ(f->k.installs, 1);
	ASSERT_EQ(f->k.deletes, 0);
}

static void test_add_two_ranges(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(add_ram(f, 0, 2 * MiB), 0);
	check(f);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), 0);
	check(f);
	expect_slots(f, 2);
	expect_prot(f, 0, 2 * MiB, MEM_PROT_RW);
	expect_prot(f, HIGH_GPA, 1 * MiB, MEM_PROT_RW);
}

static void test_add_ranges_out_of_order(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), 0);
	ASSERT_EQ(add_ram(f, 0, 1 * MiB), 0);
	ASSERT_EQ(add_ram(f, 2 * MiB, 1 * MiB), 0);
	check(f);
	expect_slots(f, 3);
	/* Sorted or not, a protection lands in the right range. */
	protect_ok(f, 2 * MiB + PG, PG, MEM_PROT_RO);
	expect_prot(f, 2 * MiB + PG, PG, MEM_PROT_RO);
	expect_prot(f, 0, 1 * MiB, MEM_PROT_RW);
	expect_prot(f, HIGH_GPA, 1 * MiB, MEM_PROT_RW);
	expect_slots(f, 5);
}

static void test_add_overlap(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(add_ram(f, 0, 2 * MiB), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), 0);
	add_ram_err(f, 1 * MiB, 2 * MiB, -EEXIST);	/* tail */
	add_ram_err(f, 0, PG, -EEXIST);			/* same start */
	add_ram_err(f, 2 * MiB - PG, PG, -EEXIST);	/* last page */
	add_ram_err(f, HIGH_GPA - PG, 2 * PG, -EEXIST); /* head */
	add_ram_err(f, HIGH_GPA + PG, PG, -EEXIST);	/* inside */
	add_ram_err(f, 1 * MiB, 8 * GiB, -EEXIST);	/* covers both */
	check(f);
	expect_slots(f, 2);
	/* Touching is not overlapping. */
	ASSERT_EQ(add_ram(f, 2 * MiB, PG), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA - PG, PG), 0);
	check(f);
	expect_slots(f, 4);
}

static void test_add_invalid(void **state)
{
	struct fixture *f = *state;

	add_ram_err(f, 0x800, PG, -EINVAL);
	add_ram_err(f, 0, PG + 1, -EINVAL);
	add_ram_err(f, 0, 0x800, -EINVAL);
	add_ram_err(f, 0, 0, -EINVAL);
	add_ram_err(f, 0xfffffffffffff000ULL, 2 * PG, -EINVAL);
	check(f);
	expect_slots(f, 0);
}

static void test_add_no_slot_left(void **state)
{
	struct fixture *f = *state;
	enum mem_prot p;

	reinit(f, 1);
	ASSERT_EQ(add_ram(f, 0, 1 * MiB), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), -ENOSPC);
	check(f);
	expect_slots(f, 1);
	ASSERT_EQ(memslots_prot_at(&f->ms, HIGH_GPA, &p), -ENOENT);
}

static void test_add_refused_by_kvm(void **state)
{
	struct fixture *f = *state;
	enum mem_prot p;

	ASSERT_EQ(add_ram(f, 0, 1 * MiB), 0);
	f->k.refuse_in = 1;
	f->k.refuse_err = -ENOMEM;
	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), -ENOMEM);
	check(f);
	expect_slots(f, 1);
	ASSERT_EQ(memslots_prot_at(&f->ms, HIGH_GPA, &p), -ENOENT);
	/* The refused range was forgotten, so it can be added again. */
	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), 0);
	check(f);
	expect_slots(f, 2);
}

/* --- protecting pages --- */

static void test_protect_middle_page(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(10), PG, MEM_PROT_RO);
	expect_slots(f, 3);
	expect_prot(f, P(0), 10 * PG, MEM_PROT_RW);
	expect_prot(f, P(10), PG, MEM_PROT_RO);
	expect_prot(f, P(11), (NPG - 11) * PG, MEM_PROT_RW);
}

static void test_protect_first_page(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(0), PG, MEM_PROT_RO);
	expect_slots(f, 2);
	expect_prot(f, P(0), PG, MEM_PROT_RO);
	expect_prot(f, P(1), (NPG - 1) * PG, MEM_PROT_RW);
}

static void test_protect_last_page(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(NPG - 1), PG, MEM_PROT_RO);
	expect_slots(f, 2);
	expect_prot(f, P(0), (NPG - 1) * PG, MEM_PROT_RW);
	expect_prot(f, P(NPG - 1), PG, MEM_PROT_RO);
}

static void test_protect_none_makes_hole(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(20), PG, MEM_PROT_NONE);
	expect_slots(f, 2);
	expect_prot(f, P(0), 20 * PG, MEM_PROT_RW);
	expect_prot(f, P(20), PG, MEM_PROT_NONE);
	expect_prot(f, P(21), (NPG - 21) * PG, MEM_PROT_RW);
}

static void test_restore_merges(void **state)
{
	struct fixture *f = *state;
	static const enum mem_prot prots[] = {MEM_PROT_RO, MEM_PROT_NONE};
	static const unsigned pages[] = {0, 10, NPG - 1};

	one_range(f);
	for (unsigned i = 0; i < 2; i++) {
		for (unsigned j = 0; j < 3; j++) {
			snprintf(step, sizeof(step), "[%s page %u] ",
				 prot_name(prots[i]), pages[j]);
			protect_ok(f, P(pages[j]), PG, prots[i]);
			protect_ok(f, P(pages[j]), PG, MEM_PROT_RW);
			expect_slots(f, 1);
			expect_prot(f, P(0), NPG * PG, MEM_PROT_RW);
		}
	}
}

static void test_restore_two_pages(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(10), PG, MEM_PROT_RO);
	protect_ok(f, P(40), PG, MEM_PROT_RO);
	expect_slots(f, 5);
	expect_prot(f, P(10), PG, MEM_PROT_RO);
	expect_prot(f, P(40), PG, MEM_PROT_RO);
	expect_prot(f, P(11), 29 * PG, MEM_PROT_RW);

	protect_ok(f, P(10), PG, MEM_PROT_RW);
	expect_slots(f, 3);
	expect_prot(f, P(0), 40 * PG, MEM_PROT_RW);
	expect_prot(f, P(40), PG, MEM_PROT_RO);

	protect_ok(f, P(40), PG, MEM_PROT_RW);
	expect_slots(f, 1);
	expect_prot(f, P(0), NPG * PG, MEM_PROT_RW);
}

static void test_restore_two_pages_other_order(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(10), PG, MEM_PROT_NONE);
	protect_ok(f, P(12), PG, MEM_PROT_RO);
	expect_slots(f, 4); /* RW, hole, RW, RO, RW */
	expect_prot(f, P(10), PG, MEM_PROT_NONE);
	expect_prot(f, P(11), PG, MEM_PROT_RW);
	expect_prot(f, P(12), PG, MEM_PROT_RO);
	protect_ok(f, P(12), PG, MEM_PROT_RW);
	expect_slots(f, 2); /* RW, hole, RW */
	protect_ok(f, P(10), PG, MEM_PROT_RW);
	expect_slots(f, 1);
	expect_prot(f, P(0), NPG * PG, MEM_PROT_RW);
}

static void test_protect_adjacent_pages_merge(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(10), PG, MEM_PROT_RO);
	protect_ok(f, P(11), PG, MEM_PROT_RO);
	protect_ok(f, P(9), PG, MEM_PROT_RO);
	/* One RO slot [9, 12), not three. */
	expect_slots(f, 3);
	expect_prot(f, P(9), 3 * PG, MEM_PROT_RO);
	/* Restoring the middle splits it again. */
	protect_ok(f, P(10), PG, MEM_PROT_RW);
	expect_slots(f, 5);
	expect_prot(f, P(10), PG, MEM_PROT_RW);
}

static void test_protect_multi_page(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(8), 16 * PG, MEM_PROT_RO);
	expect_slots(f, 3);
	expect_prot(f, P(0), 8 * PG, MEM_PROT_RW);
	expect_prot(f, P(8), 16 * PG, MEM_PROT_RO);
	expect_prot(f, P(24), (NPG - 24) * PG, MEM_PROT_RW);

	/* A hole inside the RO span splits it in two RO slots. */
	protect_ok(f, P(16), 4 * PG, MEM_PROT_NONE);
	expect_slots(f, 4);
	expect_prot(f, P(8), 8 * PG, MEM_PROT_RO);
	expect_prot(f, P(16), 4 * PG, MEM_PROT_NONE);
	expect_prot(f, P(20), 4 * PG, MEM_PROT_RO);

	/* A range straddling RO, hole and RW. */
	protect_ok(f, P(18), 10 * PG, MEM_PROT_RO);
	expect_slots(f, 4);
	expect_prot(f, P(16), 2 * PG, MEM_PROT_NONE);
	expect_prot(f, P(18), 10 * PG, MEM_PROT_RO);
	expect_prot(f, P(28), (NPG - 28) * PG, MEM_PROT_RW);

	protect_ok(f, P(8), 20 * PG, MEM_PROT_RW);
	expect_slots(f, 1);
	expect_prot(f, P(0), NPG * PG, MEM_PROT_RW);
}

static void test_protect_whole_range(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, R0, NPG * PG, MEM_PROT_RO);
	expect_slots(f, 1);
	expect_prot(f, R0, NPG * PG, MEM_PROT_RO);
	protect_ok(f, R0, NPG * PG, MEM_PROT_NONE);
	expect_slots(f, 0);
	expect_prot(f, R0, NPG * PG, MEM_PROT_NONE);
	protect_ok(f, R0, NPG * PG, MEM_PROT_RW);
	expect_slots(f, 1);
	expect_prot(f, R0, NPG * PG, MEM_PROT_RW);
}

static void test_protect_same_prot_is_noop(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_ok(f, P(5), PG, MEM_PROT_RW);
	expect_slots(f, 1);
	protect_ok(f, P(10), PG, MEM_PROT_RO);
	protect_ok(f, P(10), PG, MEM_PROT_RO);
	expect_slots(f, 3);
	expect_prot(f, P(10), PG, MEM_PROT_RO);
}

static void test_protect_in_high_range(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(add_ram(f, 0, 2 * MiB), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 1 * MiB), 0);
	protect_ok(f, HIGH_GPA + 5 * PG, PG, MEM_PROT_RO);
	expect_slots(f, 4);
	expect_prot(f, HIGH_GPA + 5 * PG, PG, MEM_PROT_RO);
	expect_prot(f, 0, 2 * MiB, MEM_PROT_RW);
	protect_ok(f, 2 * MiB - PG, PG, MEM_PROT_NONE);
	expect_slots(f, 4);
	protect_ok(f, HIGH_GPA + 5 * PG, PG, MEM_PROT_RW);
	protect_ok(f, 2 * MiB - PG, PG, MEM_PROT_RW);
	expect_slots(f, 2);
}

/* vm.c backs adjacent RAM ranges with adjacent host memory: restoring must
 * still not merge them into one slot crossing the range boundary. */
static void test_no_merge_across_ranges(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(add_ram(f, R0, 16 * PG), 0);
	ASSERT_EQ(add_ram(f, R0 + 16 * PG, 16 * PG), 0);
	check(f);
	expect_slots(f, 2);
	protect_ok(f, R0 + 15 * PG, PG, MEM_PROT_RO);
	protect_ok(f, R0 + 16 * PG, PG, MEM_PROT_RO);
	expect_slots(f, 4);
	protect_ok(f, R0 + 15 * PG, PG, MEM_PROT_RW);
	protect_ok(f, R0 + 16 * PG, PG, MEM_PROT_RW);
	expect_slots(f, 2);
	protect_ok(f, R0 + 15 * PG, PG, MEM_PROT_NONE);
	protect_ok(f, R0 + 16 * PG, PG, MEM_PROT_NONE);
	protect_ok(f, R0 + 15 * PG, PG, MEM_PROT_RW);
	protect_ok(f, R0 + 16 * PG, PG, MEM_PROT_RW);
	expect_slots(f, 2);
}

static void test_protect_spanning_ranges(void **state)
{
	struct fixture *f = *state;

	/* Adjacent ranges: contiguous guest memory, still two ranges. */
	ASSERT_EQ(add_ram(f, R0, 16 * PG), 0);
	ASSERT_EQ(add_ram(f, R0 + 16 * PG, 16 * PG), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 16 * PG), 0);
	protect_err(f, R0 + 15 * PG, 2 * PG, MEM_PROT_RO, -ERANGE);
	protect_err(f, R0, 32 * PG, MEM_PROT_NONE, -ERANGE);
	/* Across the gap up to the high range. */
	protect_err(f, R0 + 31 * PG, HIGH_GPA - (R0 + 31 * PG) + PG,
		    MEM_PROT_RO, -ERANGE);
	/* Same, with part of the first range already split. */
	protect_ok(f, R0 + 14 * PG, PG, MEM_PROT_RO);
	protect_err(f, R0 + 14 * PG, 3 * PG, MEM_PROT_RW, -ERANGE);
	expect_slots(f, 5);
	expect_prot(f, R0 + 14 * PG, PG, MEM_PROT_RO);
	expect_prot(f, R0 + 15 * PG, 17 * PG, MEM_PROT_RW);
}

static void test_protect_outside_ram(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(add_ram(f, R0, NPG * PG), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 16 * PG), 0);
	protect_err(f, 0, PG, MEM_PROT_RO, -ERANGE);	       /* below */
	protect_err(f, R0 - PG, 2 * PG, MEM_PROT_RO, -ERANGE); /* head */
	protect_err(f, P(NPG), PG, MEM_PROT_RO, -ERANGE);      /* just past */
	protect_err(f, P(NPG - 1), 2 * PG, MEM_PROT_RO, -ERANGE); /* tail */
	protect_err(f, 3 * GiB, PG, MEM_PROT_NONE, -ERANGE);	  /* gap */
	protect_err(f, HIGH_GPA - PG, 2 * PG, MEM_PROT_RO, -ERANGE);
	protect_err(f, HIGH_GPA + 16 * PG, PG, MEM_PROT_RO, -ERANGE);
	protect_err(f, 0xffffffffffffe000ULL, PG, MEM_PROT_RO, -ERANGE);
	expect_slots(f, 2);
}

static void test_protect_invalid(void **state)
{
	struct fixture *f = *state;

	one_range(f);
	protect_err(f, P(1) + 0x800, PG, MEM_PROT_RO, -EINVAL);
	protect_err(f, P(1), 0x800, MEM_PROT_RO, -EINVAL);
	protect_err(f, P(1), 0, MEM_PROT_RO, -EINVAL);
	protect_err(f, 0xfffffffffffff000ULL, 2 * PG, MEM_PROT_RO, -EINVAL);
	protect_err(f, 0xfffffffffffff000ULL, PG, MEM_PROT_RO, -EINVAL);
	protect_err(f, P(1), PG, (enum mem_prot)(MEM_PROT_NONE + 1), -EINVAL);
	expect_slots(f, 1);
}

static void test_prot_at_everywhere(void **state)
{
	static const uint64_t offs[] = {0, 1, 0x7ff, PG - 1};
	static const uint64_t outside[] = {
	    0,
	    R0 - 1,
	    P(NPG),
	    P(NPG) + 5,
	    2 * GiB,
	    HIGH_GPA - 1,
	    HIGH_GPA + 4 * PG,
	    UINT64_MAX,
	};
	struct fixture *f = *state;
	enum mem_prot want[NPG], got;

	ASSERT_EQ(add_ram(f, R0, NPG * PG), 0);
	ASSERT_EQ(add_ram(f, HIGH_GPA, 4 * PG), 0);
	for (unsigned i = 0; i < NPG; i++)
		want[i] = MEM_PROT_RW;
	protect_ok(f, P(0), PG, MEM_PROT_NONE);
	want[0] = MEM_PROT_NONE;
	protect_ok(f, P(3), 2 * PG, MEM_PROT_RO);
	want[3] = want[4] = MEM_PROT_RO;
	protect_ok(f, P(30), PG, MEM_PROT_NONE);
	want[30] = MEM_PROT_NONE;
	protect_ok(f, P(NPG - 1), PG, MEM_PROT_RO);
	want[NPG - 1] = MEM_PROT_RO;
	protect_ok(f, HIGH_GPA + PG, PG, MEM_PROT_RO);

	for (unsigned i = 0; i < NPG; i++) {
		for (unsigned o = 0; o < 4; o++) {
			got = (enum mem_prot) - 1;
			ASSERT_EQ(
			    memslots_prot_at(&f->ms, P(i) + offs[o], &got), 0);
			if (got != want[i])
				fail_msg(
				    "prot_at(page %u + %#llx) = %s, want %s", i,
				    (unsigned long long)offs[o], prot_name(got),
				    prot_name(want[i]));
		}
	}
	ASSERT_EQ(memslots_prot_at(&f->ms, HIGH_GPA + PG + 5, &got), 0);
	ASSERT_EQ(got, MEM_PROT_RO);
	ASSERT_EQ(memslots_prot_at(&f->ms, HIGH_GPA + 3 * PG, &got), 0);
	ASSERT_EQ(got, MEM_PROT_RW);

	/* Outside RAM, and `out` left alone. */
	for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		got = (enum mem_prot)7;
		snprintf(step, sizeof(step), "[gpa %#llx] ",
			 (unsigned long long)outside[i]);
		ASSERT_EQ(memslots_prot_at(&f->ms, outside[i], &got), -ENOENT);
		ASSERT_EQ(got, 7);
	}
}

/* Number of KVM slots a per-page model needs: one per maximal run of
 * equal, mapped protection. */
static unsigned model_slots(const enum mem_prot *m, unsigned n)
{
	unsigned slots = 0;

	for (unsigned i = 0; i < n; i++)
		if (m[i] != MEM_PROT_NONE && (i == 0 || m[i] != m[i - 1]))
			slots++;
	return slots;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: the same sequence on every libc. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void test_random_against_model(void **state)
{
	struct fixture *f = *state;
	enum mem_prot model[NPG];
	uint64_t seed = 0x6b766d646267ULL; /* "kvmdbg" */

	reinit(f, 128);
	one_range(f);
	for (unsigned i = 0; i < NPG; i++)
		model[i] = MEM_PROT_RW;
	for (unsigned op = 0; op < 2000; op++) {
		uint64_t r = rng_next(&seed);
		unsigned page = (unsigned)(r % NPG);
		unsigned len =
		    (r >> 8) % 4 == 0 ? 1 + (unsigned)((r >> 16) % 8) : 1;
		/* Restores are as common as new protections. */
		unsigned pick = (unsigned)((r >> 24) % 4);
		enum mem_prot prot = pick < 2	 ? MEM_PROT_RW
				     : pick == 2 ? MEM_PROT_RO
						 : MEM_PROT_NONE;

		if (page + len > NPG)
			len = NPG - page;
		snprintf(step, sizeof(step), "[op %u: pages %u+%u -> %s] ", op,
			 page, len, prot_name(prot));
		protect_ok(f, P(page), len * (uint64_t)PG, prot);
		for (unsigned i = page; i < page + len; i++)
			model[i] = prot;
		for (unsigned i = 0; i < NPG; i++)
			expect_prot(f, P(i), PG, model[i]);
		expect_slots(f, model_slots(model, NPG));
	}
}

/* Snapshot of the per-page protection, to compare before and after. */
static void snapshot(const struct fixture *f, enum mem_prot *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ(memslots_prot_at(&f->ms, P(i), &m[i]), 0);
}

static void expect_model(const struct fixture *f, const enum mem_prot *m,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		expect_prot(f, P(i), PG, m[i]);
}

static void test_slot_exhaustion(void **state)
{
	struct fixture *f = *state;
	enum mem_prot before[NPG];
	int ret;

	reinit(f, 4);
	one_range(f);
	protect_ok(f, P(10), PG, MEM_PROT_RO); /* 3 slots */
	snapshot(f, before, NPG);

	/* A second RO page needs 5 slots: refused, nothing lost. */
	snprintf(step, sizeof(step), "[RO page 30 with 4 slots] ");
	ret = memslots_protect(&f->ms, P(30), PG, MEM_PROT_RO);
	if (ret >= 0)
		fail_msg("%smemslots_protect = %d, want an error", step, ret);
	ASSERT_EQ(ret, -ENOSPC);
	check(f);
	expect_model(f, before, NPG);
	expect_slots(f, 3);

	/* The state is still usable: a hole needs no slot, so it fits. */
	snprintf(step, sizeof(step), "[after the refusal] ");
	protect_ok(f, P(30), PG, MEM_PROT_NONE);
	expect_slots(f, 4);
	protect_ok(f, P(10), PG, MEM_PROT_RW);
	protect_ok(f, P(30), PG, MEM_PROT_RW);
	expect_slots(f, 1);
	expect_prot(f, R0, NPG * PG, MEM_PROT_RW);
}

static void test_slot_exhaustion_at_edge(void **state)
{
	struct fixture *f = *state;
	enum mem_prot before[NPG];

	/* Two slots: [RO][RW] fits exactly, and so does growing the RO. */
	reinit(f, 2);
	one_range(f);
	protect_ok(f, P(0), PG, MEM_PROT_RO);
	expect_slots(f, 2);
	protect_ok(f, P(0), 6 * PG, MEM_PROT_RO);
	expect_slots(f, 2);
	expect_prot(f, P(0), 6 * PG, MEM_PROT_RO);
	snapshot(f, before, NPG);

	/* [RO][RW][RO][RW] does not. */
	snprintf(step, sizeof(step), "[RO page 10 with 2 slots] ");
	ASSERT_EQ(memslots_protect(&f->ms, P(10), PG, MEM_PROT_RO), -ENOSPC);
	check(f);
	expect_model(f, before, NPG);
	expect_slots(f, 2);

	snprintf(step, sizeof(step), "[after the refusal] ");
	protect_ok(f, R0, NPG * PG, MEM_PROT_RO);
	expect_slots(f, 1);
	protect_ok(f, R0, NPG * PG, MEM_PROT_RW);
	expect_slots(f, 1);
}

/* KVM refusing an install halfway (say -ENOMEM) must not leave RAM that
 * memslots believes mapped but KVM does not map. */
static void test_kvm_refusal_during_protect(void **state)
{
	struct fixture *f = *state;
	enum mem_prot before[NPG];
	int ret;

	one_range(f);
	protect_ok(f, P(10), PG, MEM_PROT_RO);
	snapshot(f, before, NPG);
	f->k.refuse_in = 2; /* the second install of the next protect */
	f->k.refuse_err = -ENOMEM;
	snprintf(step, sizeof(step), "[KVM refuses an install] ");
	ret = memslots_protect(&f->ms, P(30), PG, MEM_PROT_RO);
	ASSERT_EQ(ret, -ENOMEM);
	check(f);
	expect_model(f, before, NPG);
}

/* Page holes take no KVM slot but do take bookkeeping spans; running out
 * of spans must fail cleanly too. */
static void test_span_exhaustion(void **state)
{
	struct fixture *f = *state;
	const unsigned npages = 2 * MEMSLOTS_MAX_SPANS;
	unsigned holes = 0;
	int ret = 0;

	reinit(f, MEMSLOTS_MAX_SPANS);
	ASSERT_EQ(add_ram(f, R0, npages * PG), 0);
	/* A hole every other page, left to right, until the table is full. */
	for (unsigned p = 1; p < npages; p += 2) {
		snprintf(step, sizeof(step), "[hole at page %u] ", p);
		ret = memslots_protect(&f->ms, P(p), PG, MEM_PROT_NONE);
		check(f);
		if (ret < 0)
			break;
		holes++;
	}
	snprintf(step, sizeof(step), "[after %u holes] ", holes);
	ASSERT_EQ(ret, -ENOSPC);
	for (unsigned p = 0; p < npages; p++)
		expect_prot(f, P(p), PG,
			    p % 2 && p / 2 < holes ? MEM_PROT_NONE
						   : MEM_PROT_RW);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_add_one_range),
	    T(test_add_two_ranges),
	    T(test_add_ranges_out_of_order),
	    T(test_add_overlap),
	    T(test_add_invalid),
	    T(test_add_no_slot_left),
	    T(test_add_refused_by_kvm),
	    T(test_protect_middle_page),
	    T(test_protect_first_page),
	    T(test_protect_last_page),
	    T(test_protect_none_makes_hole),
	    T(test_restore_merges),
	    T(test_restore_two_pages),
	    T(test_restore_two_pages_other_order),
	    T(test_protect_adjacent_pages_merge),
	    T(test_protect_multi_page),
	    T(test_protect_whole_range),
	    T(test_protect_same_prot_is_noop),
	    T(test_protect_in_high_range),
	    T(test_no_merge_across_ranges),
	    T(test_protect_spanning_ranges),
	    T(test_protect_outside_ram),
	    T(test_protect_invalid),
	    T(test_prot_at_everywhere),
	    T(test_random_against_model),
	    T(test_slot_exhaustion),
	    T(test_slot_exhaustion_at_edge),
	    T(test_kvm_refusal_during_protect),
	    T(test_span_exhaustion),
	};

	/* "test_memslots NAME" runs one test (a glob), so each can run
	 * alone. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("memslots", tests, NULL, NULL);
}
