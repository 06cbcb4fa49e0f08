/* Page-protection watchpoints: watches split into per-page physical
 * segments, per-page counts deciding each page's protection, and a sorted
 * segment index for classifying access exits. */
#include "bp/watch_page.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Physical bytes of one watch within one page. */
struct wp_seg {
	uint64_t gpa, len;
	uint64_t gva; /* virtual address of the segment's first byte */
	const struct wp_watch *w;
};

struct wp_undo {
	uint64_t gpa;
	enum bp_wp_prot prot;
};

struct wp_watch {
	enum bp_wp_type type;
	uint64_t addr, len;
	unsigned count;
	struct wp_seg *seg; /* in virtual order, one per virtual page */
	size_t nseg;
	/* Distinct physical pages, sorted; and room to undo a change to each,
	 * so that removing the watch never needs memory. */
	uint64_t *pages;
	struct wp_undo *undo;
	size_t npages;
};

struct wp_page {
	uint64_t gpa;
	unsigned nwrite;      /* WRITE segments on the page */
	unsigned nread;	      /* READ and ACCESS segments on the page */
	enum bp_wp_prot prot; /* what set_prot last made it */
};

struct bp_wp {
	struct bp_wp_config cfg;
	struct wp_watch **watches; /* oldest first */
	size_t nwatches, capwatches;
	struct wp_seg *segs; /* every watch's segments, sorted by gpa */
	size_t nsegs, capsegs;
	struct wp_page *pages; /* sorted by gpa; counts > 0 or prot != RW */
	size_t npages, cappages;
};

static bool type_valid(enum bp_wp_type t)
{
	return t == BP_WP_WRITE || t == BP_WP_READ || t == BP_WP_ACCESS;
}

int bp_wp_create(const struct bp_wp_config *cfg, struct bp_wp **out)
{
	struct bp_wp *wp;

	if (!cfg || !out || !cfg->set_prot || cfg->page_size < 2 ||
	    (cfg->page_size & (cfg->page_size - 1)))
		return -EINVAL;
	wp = calloc(1, sizeof(*wp));
	if (!wp)
		return -ENOMEM;
	wp->cfg = *cfg;
	*out = wp;
	return 0;
}

static void watch_free(struct wp_watch *w)
{
	if (!w)
		return;
	free(w->seg);
	free(w->pages);
	free(w->undo);
	free(w);
}

void bp_wp_destroy(struct bp_wp *wp)
{
	size_t i;

	if (!wp)
		return;
	for (i = 0; i < wp->nwatches; i++)
		watch_free(wp->watches[i]);
	free(wp->watches);
	free(wp->segs);
	free(wp->pages);
	free(wp);
}

/* Room for `need` elements of `size` bytes: the array, perhaps moved, or
 * NULL with the old one untouched. */
static void *reserve(void *arr, size_t size, size_t *cap, size_t need)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return arr;
	ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return NULL;
		ncap *= 2;
	}
	n = realloc(arr, ncap * size);
	if (n)
		*cap = ncap;
	return n;
}

static uint64_t page_of(const struct bp_wp *wp, uint64_t a)
{
	return a & ~(wp->cfg.page_size - 1);
}

uint64_t bp_wp_nr_pages(const struct bp_wp *wp, uint64_t addr, uint64_t len)
{
	if (len == 0 || addr > UINT64_MAX - (len - 1))
		return 0;
	return (page_of(wp, addr + (len - 1)) - page_of(wp, addr)) /
		   wp->cfg.page_size +
	       1;
}

/* Index of the first page record with gpa >= key. */
static size_t page_lower(const struct bp_wp *wp, uint64_t key)
{
	size_t lo = 0, hi = wp->npages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (wp->pages[mid].gpa < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct wp_page *page_find(const struct bp_wp *wp, uint64_t gpa_page)
{
	size_t i = page_lower(wp, gpa_page);

	if (i < wp->npages && wp->pages[i].gpa == gpa_page)
		return &wp->pages[i];
	return NULL;
}

/* Index of the first segment with gpa >= key. */
static size_t seg_lower(const struct bp_wp *wp, uint64_t key)
{
	size_t lo = 0, hi = wp->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (wp->segs[mid].gpa < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static enum bp_wp_prot required(const struct wp_page *pg)
{
	if (pg->nread)
		return BP_WP_PROT_NONE;
	if (pg->nwrite)
		return BP_WP_PROT_RO;
	return BP_WP_PROT_RW;
}

/* Add `delta` (+1 or -1) of a watch's type to the pages of its segments. */
static void count_segments(struct bp_wp *wp, const struct wp_watch *w,
			   int delta)
{
	size_t i;

	for (i = 0; i < w->nseg; i++) {
		struct wp_page *pg = page_find(wp, page_of(wp, w->seg[i].gpa));
		unsigned *c = w->type == BP_WP_WRITE ? &pg->nwrite : &pg->nread;

		*c = delta > 0 ? *c + 1 : *c - 1;
	}
}

static void rollback(struct bp_wp *wp, const struct wp_undo *undo, size_t n)
{
	while (n--) {
		/* Best effort: set_prot failing here leaves the record saying
		 * what we asked for, the best guess we have. */
		wp->cfg.set_prot(wp->cfg.ctx, undo[n].gpa, undo[n].prot);
		page_find(wp, undo[n].gpa)->prot = undo[n].prot;
	}
}

/*
 * Bring the protection of the watch's pages in line with their counts.
 * All or nothing: on a set_prot failure the pages changed so far are set
 * back, in reverse order.
 */
static int sync_pages(struct bp_wp *wp, struct wp_watch *w)
{
	size_t i, n = 0;
	int err;

	for (i = 0; i < w->npages; i++) {
		struct wp_page *pg = page_find(wp, w->pages[i]);
		enum bp_wp_prot want = required(pg);

		if (want == pg->prot)
			continue;
		err = wp->cfg.set_prot(wp->cfg.ctx, pg->gpa, want);
		if (err) {
			rollback(wp, w->undo, n);
			return err;
		}
		w->undo[n].gpa = pg->gpa;
		w->undo[n].prot = pg->prot;
		n++;
		pg->prot = want;
	}
	return 0;
}

/* Drop page records that no watch needs and that are RW again. */
static void prune_pages(struct bp_wp *wp)
{
	size_t i, n = 0;

	for (i = 0; i < wp->npages; i++) {
		const struct wp_page *pg = &wp->pages[i];

		if (pg->nwrite || pg->nread || pg->prot != BP_WP_PROT_RW)
			wp->pages[n++] = *pg;
	}
	wp->npages = n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct wp_seg *x = a, *y = b;

	if (x->gpa != y->gpa)
		return x->gpa < y->gpa ? -1 : 1;
	return x->gva < y->gva ? -1 : x->gva > y->gva;
}

static int watch_find(const struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		      uint64_t len, size_t *idx)
{
	size_t i;

	for (i = 0; i < wp->nwatches; i++) {
		const struct wp_watch *w = wp->watches[i];

		if (w->type == t && w->addr == addr && w->len == len) {
			*idx = i;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Build a watch: translate each virtual page and cut the range into
 * per-page segments; list its distinct physical pages. No shared state is
 * touched.
 */
static int watch_build(const struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		       uint64_t len, bp_wp_translate_fn translate, void *tctx,
		       struct wp_watch **out)
{
	uint64_t ps = wp->cfg.page_size, last = addr + (len - 1);
	uint64_t n = bp_wp_nr_pages(wp, addr, len), gva_page, gpa_page;
	struct wp_watch *w;
	size_t i, d;
	int err;

	if (n > SIZE_MAX / sizeof(struct wp_seg))
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->type = t;
	w->addr = addr;
	w->len = len;
	w->count = 1;
	w->nseg = n;
	w->seg = calloc(n, sizeof(*w->seg));
	w->pages = calloc(n, sizeof(*w->pages));
	w->undo = calloc(n, sizeof(*w->undo));
	if (!w->seg || !w->pages || !w->undo) {
		err = -ENOMEM;
		goto err_free;
	}
	gva_page = page_of(wp, addr);
	for (i = 0; i < n; i++, gva_page += ps) {
		uint64_t first = i ? gva_page : addr;
		uint64_t end = i + 1 < n ? gva_page + (ps - 1) : last;

		err = translate(tctx, gva_page, &gpa_page);
		if (err)
			goto err_free;
		if (gpa_page & (ps - 1)) {
			err = -EINVAL;
			goto err_free;
		}
		w->seg[i].gva = first;
		w->seg[i].gpa = gpa_page + (first - gva_page);
		w->seg[i].len = end - first + 1;
		w->seg[i].w = w;
		w->pages[i] = gpa_page;
	}
	/* Distinct pages: two virtual pages may alias one physical page. */
	qsort(w->pages, n, sizeof(*w->pages), cmp_u64);
	for (i = 0, d = 0; i < n; i++) {
		if (!d || w->pages[d - 1] != w->pages[i])
			w->pages[d++] = w->pages[i];
	}
	w->npages = d;
	*out = w;
	return 0;

err_free:
	watch_free(w);
	return err;
}

/* Merge the watch's nnew pages that have no record yet into the sorted
 * table, as RW with no counts; the capacity was reserved. */
static void add_page_records(struct bp_wp *wp, const struct wp_watch *w,
			     size_t nnew)
{
	size_t i = wp->npages, j = w->npages, k = wp->npages + nnew;

	/* Merge from the back: pages absent from the table are new. */
	while (j > 0) {
		uint64_t g = w->pages[j - 1];

		if (i > 0 && wp->pages[i - 1].gpa > g) {
			wp->pages[--k] = wp->pages[--i];
		} else if (i > 0 && wp->pages[i - 1].gpa == g) {
			wp->pages[--k] = wp->pages[--i];
			j--;
		} else {
			k--;
			memset(&wp->pages[k], 0, sizeof(wp->pages[k]));
			wp->pages[k].gpa = g;
			wp->pages[k].prot = BP_WP_PROT_RW;
			j--;
		}
	}
	wp->npages += nnew;
}

/* Merge the watch's segments (sorted copy in tmp) into the index. */
static void add_segments(struct bp_wp *wp, const struct wp_seg *tmp, size_t n)
{
	size_t i = wp->nsegs, j = n, k = wp->nsegs + n;

	while (j > 0) {
		if (i > 0 && cmp_seg(&wp->segs[i - 1], &tmp[j - 1]) > 0)
			wp->segs[--k] = wp->segs[--i];
		else
			wp->segs[--k] = tmp[--j];
	}
	wp->nsegs += n;
}

int bp_wp_insert(struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		 uint64_t len, bp_wp_translate_fn translate, void *tctx)
{
	struct wp_seg *sorted = NULL;
	struct wp_watch *w;
	size_t idx, nnew = 0, i;
	void *grown;
	int err;

	if (!type_valid(t) || len == 0 || addr > UINT64_MAX - (len - 1) ||
	    !translate)
		return -EINVAL;
	if (!watch_find(wp, t, addr, len, &idx)) {
		w = wp->watches[idx];
		if (w->count == UINT_MAX)
			return -EOVERFLOW;
		w->count++;
		return 0;
	}

	err = watch_build(wp, t, addr, len, translate, tctx, &w);
	if (err)
		return err;

	/* Every allocation before the first shared change. */
	for (i = 0; i < w->npages; i++)
		nnew += !page_find(wp, w->pages[i]);
	err = -ENOMEM;
	sorted = malloc(w->nseg * sizeof(*sorted));
	if (!sorted)
		goto err_free_watch;
	grown = reserve(wp->pages, sizeof(*wp->pages), &wp->cappages,
			wp->npages + nnew);
	if (!grown)
		goto err_free_sorted;
	wp->pages = grown;
	grown = reserve(wp->segs, sizeof(*wp->segs), &wp->capsegs,
			wp->nsegs + w->nseg);
	if (!grown)
		goto err_free_sorted;
	wp->segs = grown;
	grown = reserve(wp->watches, sizeof(*wp->watches), &wp->capwatches,
			wp->nwatches + 1);
	if (!grown)
		goto err_free_sorted;
	wp->watches = grown;

	add_page_records(wp, w, nnew);
	count_segments(wp, w, +1);
	err = sync_pages(wp, w);
	if (err) {
		count_segments(wp, w, -1);
		prune_pages(wp);
		goto err_free_sorted;
	}
	memcpy(sorted, w->seg, w->nseg * sizeof(*sorted));
	qsort(sorted, w->nseg, sizeof(*sorted), cmp_seg);
	add_segments(wp, sorted, w->nseg);
	wp->watches[wp->nwatches++] = w;
	free(sorted);
	return 0;

err_free_sorted:
	free(sorted);
err_free_watch:
	watch_free(w);
	return err;
}

/* Drop the watch's segments from the index, keeping it sorted. */
static void remove_segments(struct bp_wp *wp, const struct wp_watch *w)
{
	size_t i, n = 0;

	for (i = 0; i < wp->nsegs; i++) {
		if (wp->segs[i].w != w)
			wp->segs[n++] = wp->segs[i];
	}
	wp->nsegs = n;
}

int bp_wp_remove(struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		 uint64_t len)
{
	struct wp_watch *w;
	size_t idx;
	int err;

	if (watch_find(wp, t, addr, len, &idx))
		return -ENOENT;
	w = wp->watches[idx];
	if (w->count > 1) {
		w->count--;
		return 0;
	}
	count_segments(wp, w, -1);
	err = sync_pages(wp, w);
	if (err) {
		count_segments(wp, w, +1);
		return err;
	}
	remove_segments(wp, w);
	prune_pages(wp);
	memmove(&wp->watches[idx], &wp->watches[idx + 1],
		(wp->nwatches - idx - 1) * sizeof(*wp->watches));
	wp->nwatches--;
	watch_free(w);
	return 0;
}

int bp_wp_remove_all(struct bp_wp *wp)
{
	size_t i;
	int first = 0, err;

	for (i = 0; i < wp->nwatches; i++)
		watch_free(wp->watches[i]);
	wp->nwatches = 0;
	wp->nsegs = 0;
	for (i = 0; i < wp->npages; i++) {
		struct wp_page *pg = &wp->pages[i];

		pg->nwrite = pg->nread = 0;
		if (pg->prot == BP_WP_PROT_RW)
			continue;
		err = wp->cfg.set_prot(wp->cfg.ctx, pg->gpa, BP_WP_PROT_RW);
		if (err) {
			if (!first)
				first = err;
			continue;
		}
		pg->prot = BP_WP_PROT_RW;
	}
	prune_pages(wp);
	return first;
}

/* Rank of a matching watch for a report: its own kind before ACCESS. */
static int match_rank(enum bp_wp_type t, bool is_write)
{
	if (t == BP_WP_ACCESS)
		return 1;
	if ((t == BP_WP_WRITE) == is_write)
		return 0;
	return -1; /* no match */
}

enum bp_wp_result bp_wp_check(const struct bp_wp *wp, uint64_t gpa,
			      uint64_t len, bool is_write,
			      struct bp_wp_hit *hit)
{
	uint64_t last, best_gpa = 0;
	const struct wp_seg *best = NULL;
	bool prot = false;
	unsigned matches = 0;
	int best_rank = 2;
	size_t i;

	if (len == 0)
		return bp_wp_is_protected(wp, gpa) ? BP_WP_MISS
						   : BP_WP_NOT_OURS;
	last = gpa > UINT64_MAX - (len - 1) ? UINT64_MAX : gpa + (len - 1);
	for (i = page_lower(wp, page_of(wp, gpa));
	     i < wp->npages && wp->pages[i].gpa <= last; i++) {
		if (wp->pages[i].prot != BP_WP_PROT_RW)
			prot = true;
	}
	if (!prot)
		return BP_WP_NOT_OURS;

	/* Segments never cross a page, so none before gpa's page overlaps. */
	for (i = seg_lower(wp, page_of(wp, gpa));
	     i < wp->nsegs && wp->segs[i].gpa <= last; i++) {
		const struct wp_seg *s = &wp->segs[i];
		uint64_t first;
		int rank;

		if (s->gpa < gpa && gpa - s->gpa >= s->len)
			continue; /* ends at or before gpa */
		rank = match_rank(s->w->type, is_write);
		if (rank < 0)
			continue;
		matches++;
		first = s->gpa > gpa ? s->gpa : gpa;
		if (rank < best_rank ||
		    (rank == best_rank && first < best_gpa)) {
			best = s;
			best_rank = rank;
			best_gpa = first;
		}
	}
	if (!best)
		return BP_WP_MISS;
	if (hit) {
		hit->type = best->w->type;
		hit->watch_addr = best->w->addr;
		hit->watch_len = best->w->len;
		hit->addr = best->gva + (best_gpa - best->gpa);
		hit->nr_matches = matches;
	}
	return BP_WP_HIT;
}

enum bp_wp_prot bp_wp_prot_at(const struct bp_wp *wp, uint64_t gpa)
{
	const struct wp_page *pg = page_find(wp, page_of(wp, gpa));

	return pg ? pg->prot : BP_WP_PROT_RW;
}

bool bp_wp_is_protected(const struct bp_wp *wp, uint64_t gpa)
{
	return bp_wp_prot_at(wp, gpa) != BP_WP_PROT_RW;
}

static void fill_info(const struct wp_watch *w, struct bp_wp_info *out)
{
	out->type = w->type;
	out->addr = w->addr;
	out->len = w->len;
	out->count = w->count;
}

int bp_wp_lookup(const struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		 uint64_t len, struct bp_wp_info *out)
{
	size_t idx;

	if (watch_find(wp, t, addr, len, &idx))
		return -ENOENT;
	if (out)
		fill_info(wp->watches[idx], out);
	return 0;
}

size_t bp_wp_count(const struct bp_wp *wp)
{
	return wp->nwatches;
}

size_t bp_wp_nr_protected(const struct bp_wp *wp)
{
	size_t i, n = 0;

	for (i = 0; i < wp->npages; i++)
		n += wp->pages[i].prot != BP_WP_PROT_RW;
	return n;
}

bool bp_wp_next(const struct bp_wp *wp, size_t *cursor, struct bp_wp_info *out)
{
	if (*cursor >= wp->nwatches)
		return false;
	fill_info(wp->watches[*cursor], out);
	(*cursor)++;
	return true;
}
