/* Unit tests for page-protection watchpoints against a fake VMM page table
 * (protection per physical page, failing on demand) and a fake guest page
 * table mapping virtual pages onto scattered physical ones. */
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

#include "bp/watch_page.h"

/* cmocka's integer asserts print in hex and lose the sign of -EINVAL. */
#define ASSERT_EQ(got, want)                                                   \
	do {                                                                   \
		long long got_ = (long long)(got);                             \
		long long want_ = (long long)(want);                           \
		if (got_ != want_)                                             \
			fail_msg("%s%s == %lld, want %s == %lld", step, #got,  \
				 got_, #want, want_);                          \
	} while (0)

#define ASSERT_UEQ(got, want)                                                  \
	do {                                                                   \
		unsigned long long got_ = (unsigned long long)(got);           \
		unsigned long long want_ = (unsigned long long)(want);         \
		if (got_ != want_)                                             \
			fail_msg("%s%s == %#llx, want %s == %#llx", step,      \
				 #got, got_, #want, want_);                    \
	} while (0)

#define PG 0x1000ULL
#define NR_PAGES 2048		    /* 8 MiB of guest-physical address space */
#define KBASE 0xffff800000000000ULL /* scattered mapping starts here */
#define MAX_LOG 1024

#define WR BP_WP_WRITE
#define RD BP_WP_READ
#define AC BP_WP_ACCESS
#define RW BP_WP_PROT_RW
#define RO BP_WP_PROT_RO
#define NO BP_WP_PROT_NONE

/* Prefix of every failure message: which step of a sequence broke. */
static char step[200];

struct prot_call {
	uint64_t gpa;
	enum bp_wp_prot prot;
};

/* The VMM's side: what each physical page is now, and every call made. */
struct fake_vmm {
	enum bp_wp_prot prot[NR_PAGES];
	struct prot_call log[MAX_LOG];
	unsigned nlog;
	/* Fail the Nth set_prot from now (1: the next), 0: never. */
	unsigned fail_in;
	/* Fail every call for this page, when set. */
	bool fail_gpa_on;
	uint64_t fail_gpa;
	unsigned translations;
};

static int fake_set_prot(void *ctx, uint64_t gpa_page, enum bp_wp_prot prot)
{
	struct fake_vmm *v = ctx;

	if (gpa_page % PG || gpa_page / PG >= NR_PAGES)
		fail_msg("set_prot(%#llx): not a page of guest RAM",
			 (unsigned long long)gpa_page);
	if (v->prot[gpa_page / PG] == prot)
		fail_msg("set_prot(%#llx, %d): no change reported as one",
			 (unsigned long long)gpa_page, prot);
	if ((v->fail_in && --v->fail_in == 0) ||
	    (v->fail_gpa_on && v->fail_gpa == gpa_page))
		return -EIO;
	if (v->nlog < MAX_LOG) {
		v->log[v->nlog].gpa = gpa_page;
		v->log[v->nlog].prot = prot;
	}
	v->nlog++;
	v->prot[gpa_page / PG] = prot;
	return 0;
}

/*
 * The guest's page table: virtual pages below 8 MiB map to themselves;
 * virtual page KBASE + i maps to the scattered physical page
 * (37 * i) % 1024 + 1024, so neighbours are never physically contiguous;
 * KBASE + 100 pages is unmapped. Everything else is unmapped.
 */
static int fake_translate(void *ctx, uint64_t gva_page, uint64_t *gpa_page)
{
	struct fake_vmm *v = ctx;
	uint64_t i;

	v->translations++;
	if (gva_page % PG)
		fail_msg("translate(%#llx): not a page",
			 (unsigned long long)gva_page);
	if (gva_page < NR_PAGES * PG) {
		*gpa_page = gva_page;
		return 0;
	}
	if (gva_page >= KBASE && gva_page < KBASE + 100 * PG) {
		i = (gva_page - KBASE) / PG;
		*gpa_page = ((37 * i) % 1024 + 1024) * PG;
		return 0;
	}
	return -EFAULT;
}

static uint64_t kphys(uint64_t gva)
{
	uint64_t gpa = 0;

	assert_int_equal(
	    fake_translate(&(struct fake_vmm){0}, gva & ~(PG - 1), &gpa), 0);
	return gpa + (gva & (PG - 1));
}

struct fixture {
	struct fake_vmm vmm;
	struct bp_wp *wp;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bp_wp_config cfg = {.page_size = PG, .set_prot = fake_set_prot};

	assert_non_null(f);
	cfg.ctx = &f->vmm;
	step[0] = 0;
	ASSERT_EQ(bp_wp_create(&cfg, &f->wp), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bp_wp_destroy(f->wp);
	free(f);
	return 0;
}

static int ins(struct fixture *f, enum bp_wp_type t, uint64_t addr,
	       uint64_t len)
{
	return bp_wp_insert(f->wp, t, addr, len, fake_translate, &f->vmm);
}

/* The module's idea of every page must be the VMM's, and the expected. */
static void check_pages(struct fixture *f, const struct prot_call *want,
			size_t nwant)
{
	size_t i, j, nprot = 0;

	for (i = 0; i < NR_PAGES; i++) {
		enum bp_wp_prot exp = RW;

		for (j = 0; j < nwant; j++) {
			if (want[j].gpa == i * PG)
				exp = want[j].prot;
		}
		if (f->vmm.prot[i] != exp)
			fail_msg("%spage %#llx is %d in the VMM, want %d", step,
				 (unsigned long long)(i * PG), f->vmm.prot[i],
				 exp);
		if (bp_wp_prot_at(f->wp, i * PG + 0x123) != exp)
			fail_msg("%spage %#llx is %d in the module, want %d",
				 step, (unsigned long long)(i * PG),
				 bp_wp_prot_at(f->wp, i * PG), exp);
		if (bp_wp_is_protected(f->wp, i * PG) != (exp != RW))
			fail_msg("%spage %#llx: is_protected wrong", step,
				 (unsigned long long)(i * PG));
		nprot += exp != RW;
	}
	ASSERT_EQ(bp_wp_nr_protected(f->wp), nprot);
}

static void check_log(struct fixture *f, const struct prot_call *want,
		      unsigned n)
{
	unsigned i;

	ASSERT_EQ(f->vmm.nlog, n);
	for (i = 0; i < n; i++) {
		if (f->vmm.log[i].gpa != want[i].gpa ||
		    f->vmm.log[i].prot != want[i].prot)
			fail_msg("%sset_prot call %u was (%#llx, %d), want "
				 "(%#llx, %d)",
				 step, i, (unsigned long long)f->vmm.log[i].gpa,
				 f->vmm.log[i].prot,
				 (unsigned long long)want[i].gpa, want[i].prot);
	}
}

static void expect_hit(struct fixture *f, uint64_t gpa, uint64_t len,
		       bool is_write, enum bp_wp_type type, uint64_t watch_addr,
		       uint64_t addr)
{
	struct bp_wp_hit hit;

	memset(&hit, 0xa5, sizeof(hit));
	ASSERT_EQ(bp_wp_check(f->wp, gpa, len, is_write, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, type);
	ASSERT_UEQ(hit.watch_addr, watch_addr);
	ASSERT_UEQ(hit.addr, addr);
}

static void test_create_rejects_bad_config(void **state)
{
	struct bp_wp_config cfg = {.page_size = PG, .set_prot = fake_set_prot};
	struct bp_wp *wp = NULL;

	(void)state;
	cfg.page_size = 3000;
	ASSERT_EQ(bp_wp_create(&cfg, &wp), -EINVAL);
	cfg.page_size = 0;
	ASSERT_EQ(bp_wp_create(&cfg, &wp), -EINVAL);
	cfg.page_size = PG;
	cfg.set_prot = NULL;
	ASSERT_EQ(bp_wp_create(&cfg, &wp), -EINVAL);
	cfg.set_prot = fake_set_prot;
	ASSERT_EQ(bp_wp_create(&cfg, &wp), 0);
	ASSERT_UEQ(bp_wp_nr_pages(wp, 0xfff, 2), 2);
	ASSERT_UEQ(bp_wp_nr_pages(wp, 0x1000, 0x1000), 1);
	ASSERT_UEQ(bp_wp_nr_pages(wp, 0x1000, 0), 0);
	ASSERT_UEQ(bp_wp_nr_pages(wp, UINT64_MAX, 2), 0);
	bp_wp_destroy(wp);
	bp_wp_destroy(NULL);
}

static void test_mixed_watches_one_page(void **state)
{
	struct fixture *f = *state;
	const struct prot_call log[] = {
	    {0x5000, RO}, {0x5000, NO}, {0x5000, RO}, {0x5000, RW}};

	snprintf(step, sizeof(step), "write watch: ");
	ASSERT_EQ(ins(f, WR, 0x5100, 8), 0);
	check_pages(f, (const struct prot_call[]){{0x5000, RO}}, 1);
	snprintf(step, sizeof(step), "plus a read watch: ");
	ASSERT_EQ(ins(f, RD, 0x5800, 4), 0);
	check_pages(f, (const struct prot_call[]){{0x5000, NO}}, 1);
	snprintf(step, sizeof(step), "read watch removed: ");
	ASSERT_EQ(bp_wp_remove(f->wp, RD, 0x5800, 4), 0);
	check_pages(f, (const struct prot_call[]){{0x5000, RO}}, 1);
	snprintf(step, sizeof(step), "all removed: ");
	ASSERT_EQ(bp_wp_remove(f->wp, WR, 0x5100, 8), 0);
	check_pages(f, NULL, 0);
	check_log(f, log, 4);
	ASSERT_EQ(bp_wp_count(f->wp), 0);
	/* An access watch alone needs NONE as well. */
	snprintf(step, sizeof(step), "access watch: ");
	ASSERT_EQ(ins(f, AC, 0x5ffc, 4), 0);
	check_pages(f, (const struct prot_call[]){{0x5000, NO}}, 1);
}

static void test_multi_page_scattered(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = KBASE + 5 * PG + 0xff0, len = 2 * PG + 0x20;
	uint64_t p5 = kphys(KBASE + 5 * PG), p6 = kphys(KBASE + 6 * PG),
		 p7 = kphys(KBASE + 7 * PG), p8 = kphys(KBASE + 8 * PG);
	const struct prot_call want[] = {
	    {p5, RO}, {p6, RO}, {p7, RO}, {p8, RO}};

	/* 0xff0 into page 5 through 0x10 into page 8: four pages. */
	assert_true(p6 != p5 + PG && p7 != p6 + PG);
	ASSERT_EQ(ins(f, WR, addr, len), 0);
	ASSERT_EQ(f->vmm.translations, 4);
	check_pages(f, want, 4);
	check_log(f, want, 4); /* in the watch's address order */

	snprintf(step, sizeof(step), "first bytes: ");
	expect_hit(f, p5 + 0xff0, 8, true, WR, addr, addr);
	expect_hit(f, p5 + 0xfec, 8, true, WR, addr, addr);
	ASSERT_EQ(bp_wp_check(f->wp, p5 + 0xfe8, 8, true, NULL), BP_WP_MISS);
	snprintf(step, sizeof(step), "middle pages: ");
	expect_hit(f, p6, 1, true, WR, addr, KBASE + 6 * PG);
	expect_hit(f, p7 + 0x800, 4, true, WR, addr, KBASE + 7 * PG + 0x800);
	snprintf(step, sizeof(step), "last bytes: ");
	expect_hit(f, p8 + 0xc, 4, true, WR, addr, KBASE + 8 * PG + 0xc);
	ASSERT_EQ(bp_wp_check(f->wp, p8 + 0x10, 4, true, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, p8 + PG, 4, true, NULL), BP_WP_NOT_OURS);

	snprintf(step, sizeof(step), "removed: ");
	ASSERT_EQ(bp_wp_remove(f->wp, WR, addr, len), 0);
	check_pages(f, NULL, 0);
	ASSERT_EQ(bp_wp_check(f->wp, p6, 1, true, NULL), BP_WP_NOT_OURS);
}

static void test_overlap_rules(void **state)
{
	struct fixture *f = *state;
	uint64_t w = 0x7400;

	ASSERT_EQ(ins(f, AC, w, 4), 0);
	/* Touching either end is not overlapping. */
	ASSERT_EQ(bp_wp_check(f->wp, w - 1, 1, false, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, w - 8, 8, true, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, w + 4, 1, false, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, w + 4, 8, true, NULL), BP_WP_MISS);
	/* One byte in from either side is. */
	expect_hit(f, w - 1, 2, false, AC, w, w);
	expect_hit(f, w - 7, 8, true, AC, w, w);
	expect_hit(f, w + 3, 8, false, AC, w, w + 3);
	expect_hit(f, w + 1, 2, true, AC, w, w + 1);
	expect_hit(f, w - 4, 16, true, AC, w, w);
	/* A zero-length access touches nothing. */
	ASSERT_EQ(bp_wp_check(f->wp, w, 0, true, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, 0x9000, 0, true, NULL), BP_WP_NOT_OURS);
	/* Same page, far away: the VMM completes it and moves on. */
	ASSERT_EQ(bp_wp_check(f->wp, 0x7000, 8, false, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, 0x7ff8, 8, true, NULL), BP_WP_MISS);
	/* An access straddling into the next, unprotected page. */
	ASSERT_EQ(bp_wp_check(f->wp, 0x6ffc, 8, true, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, 0x8000, 8, true, NULL), BP_WP_NOT_OURS);
}

static void test_type_matching(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(ins(f, WR, 0x1000, 4), 0);
	ASSERT_EQ(ins(f, RD, 0x2000, 4), 0);
	ASSERT_EQ(ins(f, AC, 0x3000, 4), 0);
	expect_hit(f, 0x1000, 4, true, WR, 0x1000, 0x1000);
	ASSERT_EQ(bp_wp_check(f->wp, 0x1000, 4, false, NULL), BP_WP_MISS);
	expect_hit(f, 0x2000, 4, false, RD, 0x2000, 0x2000);
	ASSERT_EQ(bp_wp_check(f->wp, 0x2000, 4, true, NULL), BP_WP_MISS);
	expect_hit(f, 0x3000, 4, false, AC, 0x3000, 0x3000);
	expect_hit(f, 0x3000, 4, true, AC, 0x3000, 0x3000);
	ASSERT_EQ(ins(f, (enum bp_wp_type)1, 0x4000, 4), -EINVAL);
	ASSERT_EQ(ins(f, (enum bp_wp_type)5, 0x4000, 4), -EINVAL);
	ASSERT_EQ(ins(f, WR, 0x4000, 0), -EINVAL);
	ASSERT_EQ(ins(f, WR, UINT64_MAX, 2), -EINVAL);
	ASSERT_EQ(bp_wp_count(f->wp), 3);
}

static void test_refcount(void **state)
{
	struct fixture *f = *state;
	struct bp_wp_info info;

	ASSERT_EQ(ins(f, RD, 0x4010, 2), 0);
	ASSERT_EQ(ins(f, RD, 0x4010, 2), 0);
	ASSERT_EQ(f->vmm.translations, 1);
	ASSERT_EQ(f->vmm.nlog, 1);
	ASSERT_EQ(bp_wp_lookup(f->wp, RD, 0x4010, 2, &info), 0);
	ASSERT_EQ(info.count, 2);
	ASSERT_EQ(bp_wp_lookup(f->wp, RD, 0x4010, 1, NULL), -ENOENT);
	ASSERT_EQ(bp_wp_lookup(f->wp, AC, 0x4010, 2, NULL), -ENOENT);

	snprintf(step, sizeof(step), "one remove: ");
	ASSERT_EQ(bp_wp_remove(f->wp, RD, 0x4010, 2), 0);
	check_pages(f, (const struct prot_call[]){{0x4000, NO}}, 1);
	expect_hit(f, 0x4011, 1, false, RD, 0x4010, 0x4011);
	snprintf(step, sizeof(step), "second remove: ");
	ASSERT_EQ(bp_wp_remove(f->wp, RD, 0x4010, 2), 0);
	check_pages(f, NULL, 0);
	ASSERT_EQ(bp_wp_remove(f->wp, RD, 0x4010, 2), -ENOENT);
	ASSERT_EQ(bp_wp_count(f->wp), 0);
}

static void test_set_prot_failure_leaves_state(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = KBASE + 10 * PG + 0x800, len = 2 * PG;
	uint64_t p10 = kphys(KBASE + 10 * PG), p11 = kphys(KBASE + 11 * PG),
		 p12 = kphys(KBASE + 12 * PG);
	struct bp_wp_info info;

	ASSERT_EQ(ins(f, WR, 0x1000, 8), 0);
	f->vmm.nlog = 0;

	snprintf(step, sizeof(step), "first set_prot fails: ");
	f->vmm.fail_in = 1;
	ASSERT_EQ(ins(f, RD, 0x1100, 1), -EIO);
	ASSERT_EQ(bp_wp_count(f->wp), 1);
	check_pages(f, (const struct prot_call[]){{0x1000, RO}}, 1);
	ASSERT_EQ(bp_wp_check(f->wp, 0x1100, 1, false, NULL), BP_WP_MISS);

	/* The third page fails: the first two are set back, newest first. */
	snprintf(step, sizeof(step), "third set_prot fails: ");
	f->vmm.nlog = 0;
	f->vmm.fail_in = 3;
	ASSERT_EQ(ins(f, AC, addr, len), -EIO);
	check_log(f,
		  (const struct prot_call[]){
		      {p10, NO}, {p11, NO}, {p11, RW}, {p10, RW}},
		  4);
	check_pages(f, (const struct prot_call[]){{0x1000, RO}}, 1);
	ASSERT_EQ(bp_wp_lookup(f->wp, AC, addr, len, NULL), -ENOENT);
	ASSERT_EQ(bp_wp_check(f->wp, p11, 1, false, NULL), BP_WP_NOT_OURS);
	ASSERT_EQ(bp_wp_count(f->wp), 1);

	snprintf(step, sizeof(step), "translate fails: ");
	f->vmm.nlog = 0;
	ASSERT_EQ(ins(f, AC, KBASE + 99 * PG + 0xff0, 0x20), -EFAULT);
	ASSERT_EQ(f->vmm.nlog, 0);
	ASSERT_EQ(bp_wp_count(f->wp), 1);

	snprintf(step, sizeof(step), "remove fails: ");
	ASSERT_EQ(ins(f, AC, addr, len), 0);
	f->vmm.nlog = 0;
	f->vmm.fail_in = 2;
	ASSERT_EQ(bp_wp_remove(f->wp, AC, addr, len), -EIO);
	check_log(f, (const struct prot_call[]){{p10, RW}, {p10, NO}}, 2);
	ASSERT_EQ(bp_wp_lookup(f->wp, AC, addr, len, &info), 0);
	ASSERT_EQ(info.count, 1);
	check_pages(f,
		    (const struct prot_call[]){
			{0x1000, RO}, {p10, NO}, {p11, NO}, {p12, NO}},
		    4);
	expect_hit(f, p12 + 0x7ff, 1, true, AC, addr, KBASE + 12 * PG + 0x7ff);
	snprintf(step, sizeof(step), "remove retried: ");
	ASSERT_EQ(bp_wp_remove(f->wp, AC, addr, len), 0);
	check_pages(f, (const struct prot_call[]){{0x1000, RO}}, 1);
}

static void test_remove_all(void **state)
{
	struct fixture *f = *state;
	uint64_t p20 = kphys(KBASE + 20 * PG);

	ASSERT_EQ(ins(f, WR, 0x1000, 3 * PG), 0);
	ASSERT_EQ(ins(f, RD, 0x2000, 1), 0);
	ASSERT_EQ(ins(f, AC, KBASE + 20 * PG, 8), 0);
	ASSERT_EQ(ins(f, AC, KBASE + 20 * PG, 8), 0);
	check_pages(f,
		    (const struct prot_call[]){
			{0x1000, RO}, {0x2000, NO}, {0x3000, RO}, {p20, NO}},
		    4);

	snprintf(step, sizeof(step), "remove_all, one page fails: ");
	f->vmm.fail_gpa_on = true;
	f->vmm.fail_gpa = 0x2000;
	ASSERT_EQ(bp_wp_remove_all(f->wp), -EIO);
	ASSERT_EQ(bp_wp_count(f->wp), 0);
	check_pages(f, (const struct prot_call[]){{0x2000, NO}}, 1);
	/* Still protected, but no watch: complete and continue. */
	ASSERT_EQ(bp_wp_check(f->wp, 0x2000, 1, false, NULL), BP_WP_MISS);

	snprintf(step, sizeof(step), "remove_all retried: ");
	f->vmm.fail_gpa_on = false;
	ASSERT_EQ(bp_wp_remove_all(f->wp), 0);
	check_pages(f, NULL, 0);
	ASSERT_EQ(bp_wp_remove_all(f->wp), 0);
}

/* An orphan page (restore failed) is adopted by the next watch on it. */
static void test_orphan_page_reused(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(ins(f, RD, 0x2000, 1), 0);
	f->vmm.fail_in = 1;
	ASSERT_EQ(bp_wp_remove_all(f->wp), -EIO);
	check_pages(f, (const struct prot_call[]){{0x2000, NO}}, 1);
	snprintf(step, sizeof(step), "write watch on the orphan: ");
	ASSERT_EQ(ins(f, WR, 0x2010, 1), 0);
	check_pages(f, (const struct prot_call[]){{0x2000, RO}}, 1);
	ASSERT_EQ(bp_wp_remove(f->wp, WR, 0x2010, 1), 0);
	check_pages(f, NULL, 0);
}

static void test_unaligned_byte_mid_page(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(ins(f, WR, 0x67ff, 1), 0);
	check_pages(f, (const struct prot_call[]){{0x6000, RO}}, 1);
	expect_hit(f, 0x67ff, 1, true, WR, 0x67ff, 0x67ff);
	expect_hit(f, 0x67fe, 2, true, WR, 0x67ff, 0x67ff);
	expect_hit(f, 0x67f8, 8, true, WR, 0x67ff, 0x67ff);
	ASSERT_EQ(bp_wp_check(f->wp, 0x67fe, 1, true, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, 0x6800, 8, true, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_check(f->wp, 0x67f0, 8, true, NULL), BP_WP_MISS);
}

static void test_same_bytes_different_types(void **state)
{
	struct fixture *f = *state;
	struct bp_wp_hit hit;

	ASSERT_EQ(ins(f, WR, 0x3000, 8), 0);
	ASSERT_EQ(ins(f, RD, 0x3000, 8), 0);
	check_pages(f, (const struct prot_call[]){{0x3000, NO}}, 1);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3004, 4, true, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, WR);
	ASSERT_EQ(hit.nr_matches, 1);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3004, 4, false, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, RD);
	ASSERT_EQ(hit.nr_matches, 1);

	/* An access watch too: the access's own kind is reported first. */
	snprintf(step, sizeof(step), "plus access: ");
	ASSERT_EQ(ins(f, AC, 0x3000, 8), 0);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3000, 1, true, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, WR);
	ASSERT_EQ(hit.nr_matches, 2);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3000, 1, false, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, RD);
	snprintf(step, sizeof(step), "write watch removed: ");
	ASSERT_EQ(bp_wp_remove(f->wp, WR, 0x3000, 8), 0);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3000, 1, true, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, AC);
	ASSERT_EQ(hit.nr_matches, 1);
	snprintf(step, sizeof(step), "read and access removed: ");
	ASSERT_EQ(bp_wp_remove(f->wp, RD, 0x3000, 8), 0);
	ASSERT_EQ(bp_wp_remove(f->wp, AC, 0x3000, 8), 0);
	check_pages(f, NULL, 0);

	/* The preference holds whichever watch came first, and over a lower
	 * overlapping byte of the access watch. */
	snprintf(step, sizeof(step), "access first: ");
	ASSERT_EQ(ins(f, AC, 0x3000, 8), 0);
	ASSERT_EQ(ins(f, WR, 0x3004, 4), 0);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3000, 8, true, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, WR);
	ASSERT_UEQ(hit.addr, 0x3004);
	ASSERT_EQ(hit.nr_matches, 2);
	ASSERT_EQ(bp_wp_check(f->wp, 0x3000, 8, false, &hit), BP_WP_HIT);
	ASSERT_EQ(hit.type, AC);
	ASSERT_UEQ(hit.addr, 0x3000);
	ASSERT_EQ(hit.nr_matches, 1);
}

/* Two virtual watches on one physical page; and one watch whose two
 * virtual pages are the same physical page. */
static void test_physical_aliases(void **state)
{
	struct fixture *f = *state;
	uint64_t k3 = KBASE + 3 * PG, p3 = kphys(k3);

	/* p3 is below 8 MiB, so it is also mapped at virtual p3. */
	ASSERT_EQ(ins(f, WR, k3 + 0x10, 4), 0);
	ASSERT_EQ(ins(f, RD, p3 + 0x20, 4), 0); /* identity alias */
	check_pages(f, (const struct prot_call[]){{p3, NO}}, 1);
	expect_hit(f, p3 + 0x10, 4, true, WR, k3 + 0x10, k3 + 0x10);
	expect_hit(f, p3 + 0x20, 4, false, RD, p3 + 0x20, p3 + 0x20);
	ASSERT_EQ(bp_wp_remove(f->wp, RD, p3 + 0x20, 4), 0);
	check_pages(f, (const struct prot_call[]){{p3, RO}}, 1);
	ASSERT_EQ(bp_wp_remove(f->wp, WR, k3 + 0x10, 4), 0);
	check_pages(f, NULL, 0);
}

static int alias_translate(void *ctx, uint64_t gva_page, uint64_t *gpa_page)
{
	(void)ctx;
	(void)gva_page;
	*gpa_page = 0x9000; /* every virtual page is the same physical one */
	return 0;
}

static void test_watch_aliasing_itself(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = 0x40000ff8;

	ASSERT_EQ(bp_wp_insert(f->wp, AC, addr, 16, alias_translate, NULL), 0);
	check_pages(f, (const struct prot_call[]){{0x9000, NO}}, 1);
	ASSERT_EQ(f->vmm.nlog, 1);
	/* Bytes 0xff8.. are the watch's first half, 0x000..0x007 its second. */
	expect_hit(f, 0x9ffc, 1, false, AC, addr, addr + 4);
	expect_hit(f, 0x9002, 1, false, AC, addr, addr + 10);
	ASSERT_EQ(bp_wp_check(f->wp, 0x9008, 1, false, NULL), BP_WP_MISS);
	ASSERT_EQ(bp_wp_remove(f->wp, AC, addr, 16), 0);
	check_pages(f, NULL, 0);
	ASSERT_EQ(f->vmm.nlog, 2);
}

static int bad_translate(void *ctx, uint64_t gva_page, uint64_t *gpa_page)
{
	(void)ctx;
	*gpa_page = gva_page + 0x10; /* not page-aligned */
	return 0;
}

static void test_unaligned_translation_rejected(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(bp_wp_insert(f->wp, WR, 0x1000, 4, bad_translate, NULL),
		  -EINVAL);
	ASSERT_EQ(bp_wp_insert(f->wp, WR, 0x1000, 4, NULL, NULL), -EINVAL);
	ASSERT_EQ(bp_wp_count(f->wp), 0);
	check_pages(f, NULL, 0);
}

static void test_large_watch_and_iterator(void **state)
{
	struct fixture *f = *state;
	struct bp_wp_info info;
	size_t cur = 0;

	/* 1 MiB: 256 pages, each reported once. */
	ASSERT_EQ(ins(f, WR, 0x100000, 0x100000), 0);
	ASSERT_EQ(f->vmm.nlog, 256);
	ASSERT_EQ(bp_wp_nr_protected(f->wp), 256);
	ASSERT_EQ(ins(f, RD, 0x180000, 0x10), 0);
	ASSERT_EQ(ins(f, AC, 0x3000, 0x10), 0);
	expect_hit(f, 0x1abcde, 2, true, WR, 0x100000, 0x1abcde);
	ASSERT_EQ(bp_wp_prot_at(f->wp, 0x180000), NO);
	ASSERT_EQ(bp_wp_prot_at(f->wp, 0x181000), RO);

	assert_true(bp_wp_next(f->wp, &cur, &info));
	ASSERT_EQ(info.type, WR);
	ASSERT_UEQ(info.len, 0x100000);
	assert_true(bp_wp_next(f->wp, &cur, &info));
	ASSERT_EQ(info.type, RD);
	assert_true(bp_wp_next(f->wp, &cur, &info));
	ASSERT_EQ(info.type, AC);
	ASSERT_UEQ(info.addr, 0x3000);
	ASSERT_EQ(info.count, 1);
	assert_false(bp_wp_next(f->wp, &cur, &info));

	ASSERT_EQ(bp_wp_remove(f->wp, WR, 0x100000, 0x100000), 0);
	check_pages(f, (const struct prot_call[]){{0x180000, NO}, {0x3000, NO}},
		    2);
	ASSERT_EQ(bp_wp_remove_all(f->wp), 0);
	check_pages(f, NULL, 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_rejects_bad_config),
	    T(test_mixed_watches_one_page),
	    T(test_multi_page_scattered),
	    T(test_overlap_rules),
	    T(test_type_matching),
	    T(test_refcount),
	    T(test_set_prot_failure_leaves_state),
	    T(test_remove_all),
	    T(test_orphan_page_reused),
	    T(test_unaligned_byte_mid_page),
	    T(test_same_bytes_different_types),
	    T(test_physical_aliases),
	    T(test_watch_aliasing_itself),
	    T(test_unaligned_translation_rejected),
	    T(test_large_watch_and_iterator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
