/* Software breakpoints: two sorted tables (breakpoints by address, patches by
 * guest-physical address) so lookups and shadowed reads cost O(log n). */
#include "bp/sw.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct sw_patch {
	uint64_t gpa;
	unsigned aliases;
	unsigned lifted;
	bool keep; /* scratch for bp_sw_remove_all */
	uint8_t orig[BP_SW_MAX_TRAP];
};

struct sw_bp {
	uint64_t addr;
	unsigned count;
	struct sw_patch *patch;
};

/*
 * Arrays of pointers rather than of structs: an insert then moves 8 bytes
 * per entry behind it, which keeps 10,000 breakpoints cheap, and a
 * breakpoint can point at its patch across inserts.
 */
struct bp_sw {
	uint8_t trap[BP_SW_MAX_TRAP];
	size_t tlen;
	struct bp_sw_mem mem;
	struct sw_bp **bps; /* sorted by addr */
	size_t nbps, capbps;
	struct sw_patch **patches; /* sorted by gpa, never overlapping */
	size_t npatches, cappatches;
};

int bp_sw_create(const uint8_t *trap, size_t trap_len,
		 const struct bp_sw_mem *mem, struct bp_sw **out)
{
	struct bp_sw *sw;

	if (!trap || !mem || !out || trap_len == 0 ||
	    trap_len > BP_SW_MAX_TRAP || (trap_len & (trap_len - 1)))
		return -EINVAL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	memcpy(sw->trap, trap, trap_len);
	sw->tlen = trap_len;
	sw->mem = *mem;
	*out = sw;
	return 0;
}

void bp_sw_destroy(struct bp_sw *sw)
{
	size_t i;

	if (!sw)
		return;
	for (i = 0; i < sw->nbps; i++)
		free(sw->bps[i]);
	for (i = 0; i < sw->npatches; i++)
		free(sw->patches[i]);
	free(sw->bps);
	free(sw->patches);
	free(sw);
}

const uint8_t *bp_sw_trap(const struct bp_sw *sw, size_t *len)
{
	if (len)
		*len = sw->tlen;
	return sw->trap;
}

/* Index of the first breakpoint with addr >= key. */
static size_t bp_lower(const struct bp_sw *sw, uint64_t key)
{
	size_t lo = 0, hi = sw->nbps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sw->bps[mid]->addr < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first patch with gpa >= key. */
static size_t patch_lower(const struct bp_sw *sw, uint64_t key)
{
	size_t lo = 0, hi = sw->npatches;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sw->patches[mid]->gpa < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct sw_bp *bp_find(const struct bp_sw *sw, uint64_t addr, size_t *idx)
{
	size_t i = bp_lower(sw, addr);

	if (idx)
		*idx = i;
	if (i < sw->nbps && sw->bps[i]->addr == addr)
		return sw->bps[i];
	return NULL;
}

static struct sw_patch *patch_find(const struct bp_sw *sw, uint64_t gpa,
				   size_t *idx)
{
	size_t i = patch_lower(sw, gpa);

	if (idx)
		*idx = i;
	if (i < sw->npatches && sw->patches[i]->gpa == gpa)
		return sw->patches[i];
	return NULL;
}

/*
 * Room for `need` elements of `size` bytes, doubling: returns the array,
 * perhaps moved, or NULL with the old array untouched. Returning the pointer
 * keeps it generic without punning `struct x **` as `void **`.
 */
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

static void bps_insert(struct bp_sw *sw, size_t at, struct sw_bp *bp)
{
	memmove(sw->bps + at + 1, sw->bps + at,
		(sw->nbps - at) * sizeof(*sw->bps));
	sw->bps[at] = bp;
	sw->nbps++;
}

static void bps_delete(struct bp_sw *sw, size_t at)
{
	memmove(sw->bps + at, sw->bps + at + 1,
		(sw->nbps - at - 1) * sizeof(*sw->bps));
	sw->nbps--;
}

static void patches_insert(struct bp_sw *sw, size_t at, struct sw_patch *p)
{
	memmove(sw->patches + at + 1, sw->patches + at,
		(sw->npatches - at) * sizeof(*sw->patches));
	sw->patches[at] = p;
	sw->npatches++;
}

static void patches_delete(struct bp_sw *sw, size_t at)
{
	memmove(sw->patches + at, sw->patches + at + 1,
		(sw->npatches - at - 1) * sizeof(*sw->patches));
	sw->npatches--;
}

/*
 * Put a planted patch's original bytes back, byte by byte: a byte that no
 * longer holds its trap byte was written by the guest and stays. Nothing is
 * written when no byte of the trap is left.
 */
static int restore_patch(struct bp_sw *sw, const struct sw_patch *p)
{
	uint8_t cur[BP_SW_MAX_TRAP], want[BP_SW_MAX_TRAP];
	size_t j;
	int err;

	err = sw->mem.read(sw->mem.ctx, p->gpa, cur, sw->tlen);
	if (err)
		return err;
	for (j = 0; j < sw->tlen; j++)
		want[j] = cur[j] == sw->trap[j] ? p->orig[j] : cur[j];
	if (!memcmp(want, cur, sw->tlen))
		return 0;
	return sw->mem.write(sw->mem.ctx, p->gpa, want, sw->tlen);
}

static void fill_info(const struct sw_bp *bp, size_t tlen,
		      struct bp_sw_info *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = bp->addr;
	out->gpa = bp->patch->gpa;
	out->count = bp->count;
	out->aliases = bp->patch->aliases;
	out->lifted = bp->patch->lifted > 0;
	memcpy(out->orig, bp->patch->orig, tlen);
}

int bp_sw_insert(struct bp_sw *sw, uint64_t addr, uint64_t gpa)
{
	uint64_t mask = sw->tlen - 1;
	struct sw_patch *p, *newp = NULL;
	struct sw_bp *bp;
	size_t bi, pi;
	void *grown;
	int err;

	/* Aligned, so the trap cannot wrap past 2^64 either. */
	if ((addr & mask) || (gpa & mask))
		return -EINVAL;
	bp = bp_find(sw, addr, &bi);
	if (bp) {
		if (bp->count == UINT_MAX)
			return -EOVERFLOW;
		bp->count++;
		return 0;
	}

	/* Every allocation happens before guest memory is touched. */
	grown = reserve(sw->bps, sizeof(*sw->bps), &sw->capbps, sw->nbps + 1);
	if (!grown)
		return -ENOMEM;
	sw->bps = grown;
	p = patch_find(sw, gpa, &pi);
	if (!p) {
		grown = reserve(sw->patches, sizeof(*sw->patches),
				&sw->cappatches, sw->npatches + 1);
		if (!grown)
			return -ENOMEM;
		sw->patches = grown;
		newp = calloc(1, sizeof(*newp));
		if (!newp)
			return -ENOMEM;
		newp->gpa = gpa;
	}
	bp = calloc(1, sizeof(*bp));
	if (!bp) {
		err = -ENOMEM;
		goto err_free_patch;
	}

	if (newp) {
		err = sw->mem.read(sw->mem.ctx, gpa, newp->orig, sw->tlen);
		if (err)
			goto err_free_bp;
		err = sw->mem.write(sw->mem.ctx, gpa, sw->trap, sw->tlen);
		if (err)
			goto err_free_bp;
		patches_insert(sw, pi, newp);
		p = newp;
	}
	p->aliases++;
	bp->addr = addr;
	bp->count = 1;
	bp->patch = p;
	bps_insert(sw, bi, bp);
	return 0;

err_free_bp:
	free(bp);
err_free_patch:
	free(newp);
	return err;
}

int bp_sw_remove(struct bp_sw *sw, uint64_t addr)
{
	struct sw_patch *p;
	struct sw_bp *bp;
	size_t bi, pi;
	int err;

	bp = bp_find(sw, addr, &bi);
	if (!bp)
		return -ENOENT;
	if (bp->count > 1) {
		bp->count--;
		return 0;
	}
	p = bp->patch;
	if (p->aliases == 1 && !p->lifted) {
		err = restore_patch(sw, p);
		if (err)
			return err;
	}
	bps_delete(sw, bi);
	free(bp);
	if (--p->aliases == 0) {
		patch_find(sw, p->gpa, &pi);
		patches_delete(sw, pi);
		free(p);
	}
	return 0;
}

int bp_sw_remove_all(struct bp_sw *sw)
{
	size_t i, n;
	int first = 0, err;

	for (i = 0; i < sw->npatches; i++) {
		struct sw_patch *p = sw->patches[i];

		p->keep = false;
		if (p->lifted)
			continue;
		err = restore_patch(sw, p);
		if (err) {
			p->keep = true;
			if (!first)
				first = err;
		}
	}
	/* Compact both tables in place, keeping the failed patches. */
	for (i = 0, n = 0; i < sw->nbps; i++) {
		if (sw->bps[i]->patch->keep)
			sw->bps[n++] = sw->bps[i];
		else
			free(sw->bps[i]);
	}
	sw->nbps = n;
	for (i = 0, n = 0; i < sw->npatches; i++) {
		if (sw->patches[i]->keep)
			sw->patches[n++] = sw->patches[i];
		else
			free(sw->patches[i]);
	}
	sw->npatches = n;
	return first;
}

int bp_sw_lookup(const struct bp_sw *sw, uint64_t addr, struct bp_sw_info *out)
{
	const struct sw_bp *bp = bp_find(sw, addr, NULL);

	if (!bp)
		return -ENOENT;
	if (out)
		fill_info(bp, sw->tlen, out);
	return 0;
}

int bp_sw_lookup_gpa(const struct bp_sw *sw, uint64_t gpa,
		     struct bp_sw_patch_info *out)
{
	const struct sw_patch *p;

	/* Patches are naturally aligned, so only one can cover gpa. */
	p = patch_find(sw, gpa & ~(uint64_t)(sw->tlen - 1), NULL);
	if (!p)
		return -ENOENT;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->gpa = p->gpa;
		out->aliases = p->aliases;
		out->lifted = p->lifted;
		memcpy(out->orig, p->orig, sw->tlen);
	}
	return 0;
}

/*
 * Walk the planted patches overlapping [gpa, gpa+len): for each, the
 * overlap's offset in the window (*boff), in the trap (*toff), and its
 * length. Relative arithmetic only, so a window ending at 2^64 works.
 */
struct overlap_walk {
	const struct bp_sw *sw;
	uint64_t gpa;
	size_t len, i;
};

static void walk_start(struct overlap_walk *w, const struct bp_sw *sw,
		       uint64_t gpa, size_t len)
{
	w->sw = sw;
	w->gpa = gpa;
	w->len = len;
	w->i = patch_lower(sw, gpa & ~(uint64_t)(sw->tlen - 1));
}

static struct sw_patch *walk_next(struct overlap_walk *w, size_t *boff,
				  size_t *toff, size_t *n)
{
	const struct bp_sw *sw = w->sw;

	while (w->i < sw->npatches) {
		struct sw_patch *p = sw->patches[w->i];

		if (p->gpa >= w->gpa && p->gpa - w->gpa >= w->len)
			return NULL;
		w->i++;
		if (p->lifted)
			continue;
		if (p->gpa >= w->gpa) {
			*boff = p->gpa - w->gpa;
			*toff = 0;
			*n = w->len - *boff < sw->tlen ? w->len - *boff
						       : sw->tlen;
		} else {
			/* Starts before the window, covers w->gpa. */
			*boff = 0;
			*toff = w->gpa - p->gpa;
			*n = sw->tlen - *toff < w->len ? sw->tlen - *toff
						       : w->len;
		}
		return p;
	}
	return NULL;
}

void bp_sw_shadow_read(const struct bp_sw *sw, uint64_t gpa, void *buf,
		       size_t len)
{
	uint8_t *b = buf;
	struct overlap_walk w;
	struct sw_patch *p;
	size_t boff, toff, n, j;

	if (!len)
		return;
	walk_start(&w, sw, gpa, len);
	while ((p = walk_next(&w, &boff, &toff, &n))) {
		for (j = 0; j < n; j++) {
			if (b[boff + j] == sw->trap[toff + j])
				b[boff + j] = p->orig[toff + j];
		}
	}
}

void bp_sw_filter_write(struct bp_sw *sw, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *b = buf;
	struct overlap_walk w;
	struct sw_patch *p;
	size_t boff, toff, n;

	if (!len)
		return;
	walk_start(&w, sw, gpa, len);
	while ((p = walk_next(&w, &boff, &toff, &n))) {
		memcpy(p->orig + toff, b + boff, n);
		memcpy(b + boff, sw->trap + toff, n);
	}
}

int bp_sw_lift(struct bp_sw *sw, uint64_t addr)
{
	struct sw_bp *bp = bp_find(sw, addr, NULL);
	struct sw_patch *p;
	int err;

	if (!bp)
		return -ENOENT;
	p = bp->patch;
	if (p->lifted == UINT_MAX)
		return -EOVERFLOW;
	if (!p->lifted) {
		err = restore_patch(sw, p);
		if (err)
			return err;
	}
	p->lifted++;
	return 0;
}

int bp_sw_replant(struct bp_sw *sw, uint64_t addr)
{
	struct sw_bp *bp = bp_find(sw, addr, NULL);
	uint8_t cur[BP_SW_MAX_TRAP];
	struct sw_patch *p;
	int err;

	if (!bp)
		return -ENOENT;
	p = bp->patch;
	if (!p->lifted)
		return -EINVAL;
	if (p->lifted > 1) {
		p->lifted--;
		return 0;
	}
	err = sw->mem.read(sw->mem.ctx, p->gpa, cur, sw->tlen);
	if (err)
		return err;
	err = sw->mem.write(sw->mem.ctx, p->gpa, sw->trap, sw->tlen);
	if (err)
		return err;
	memcpy(p->orig, cur, sw->tlen);
	p->lifted = 0;
	return 0;
}

int bp_sw_check_intact(struct bp_sw *sw, bool repair)
{
	uint8_t cur[BP_SW_MAX_TRAP];
	int broken = 0, err;
	size_t i, j;

	for (i = 0; i < sw->npatches; i++) {
		struct sw_patch *p = sw->patches[i];

		if (p->lifted)
			continue;
		err = sw->mem.read(sw->mem.ctx, p->gpa, cur, sw->tlen);
		if (err)
			return err;
		if (!memcmp(cur, sw->trap, sw->tlen))
			continue;
		if (broken < INT_MAX)
			broken++;
		if (!repair)
			continue;
		err = sw->mem.write(sw->mem.ctx, p->gpa, sw->trap, sw->tlen);
		if (err)
			return err;
		for (j = 0; j < sw->tlen; j++) {
			if (cur[j] != sw->trap[j])
				p->orig[j] = cur[j];
		}
	}
	return broken;
}

size_t bp_sw_count(const struct bp_sw *sw)
{
	return sw->nbps;
}

size_t bp_sw_nr_patches(const struct bp_sw *sw)
{
	return sw->npatches;
}

bool bp_sw_next(const struct bp_sw *sw, size_t *cursor, struct bp_sw_info *out)
{
	if (*cursor >= sw->nbps)
		return false;
	fill_info(sw->bps[*cursor], sw->tlen, out);
	(*cursor)++;
	return true;
}
