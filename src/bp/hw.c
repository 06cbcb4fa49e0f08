/* Hardware breakpoint pool: requests split greedily into pieces one debug
 * register can express, allocated all-or-nothing from a fixed bank. */
#include "bp/hw.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS 64

struct hw_req {
	enum bp_hw_type type;
	uint64_t addr, len;
	unsigned count, nr_slots;
};

struct bp_hw {
	struct bp_hw_config cfg;
	struct bp_hw_slot slots[MAX_SLOTS];
	unsigned owner[MAX_SLOTS];     /* index into reqs of a used slot */
	struct hw_req reqs[MAX_SLOTS]; /* oldest first; each holds >= 1 slot */
	unsigned nreqs;
	uint64_t gen;
};

static bool type_valid(enum bp_hw_type t)
{
	return t >= BP_HW_EXEC && t <= BP_HW_ACCESS;
}

int bp_hw_create(const struct bp_hw_config *cfg, struct bp_hw **out)
{
	unsigned all =
	    BP_HW_TYPE_BIT(BP_HW_EXEC) | BP_HW_TYPE_BIT(BP_HW_WRITE) |
	    BP_HW_TYPE_BIT(BP_HW_READ) | BP_HW_TYPE_BIT(BP_HW_ACCESS);
	struct bp_hw *hw;

	if (!cfg || !out || !cfg->fits || cfg->nr_slots == 0 ||
	    cfg->nr_slots > MAX_SLOTS || cfg->max_len == 0 || cfg->types == 0 ||
	    (cfg->types & ~all))
		return -EINVAL;
	hw = calloc(1, sizeof(*hw));
	if (!hw)
		return -ENOMEM;
	hw->cfg = *cfg;
	*out = hw;
	return 0;
}

void bp_hw_destroy(struct bp_hw *hw)
{
	free(hw);
}

static int req_find(const struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		    uint64_t len)
{
	unsigned i;

	for (i = 0; i < hw->nreqs; i++) {
		const struct hw_req *r = &hw->reqs[i];

		if (r->type == t && r->addr == addr && r->len == len)
			return (int)i;
	}
	return -1;
}

/*
 * The longest piece starting at cur, at most rem bytes, that one slot can
 * watch; 0 when none. The candidates are the lengths a register encoding
 * could plausibly take: the whole rest, powers of two, and the distances to
 * power-of-two boundaries (arm64's BAS covers "up to the doubleword's end").
 */
static uint64_t best_piece(const struct bp_hw *hw, enum bp_hw_type t,
			   uint64_t cur, uint64_t rem)
{
	uint64_t cap = rem < hw->cfg.max_len ? rem : hw->cfg.max_len;
	uint64_t cand[1 + 2 * 64], prev = 0;
	unsigned n = 0, i, j, k;

	cand[n++] = cap;
	for (k = 0; k < 64; k++) {
		uint64_t p = 1ULL << k;
		uint64_t d = p - (cur & (p - 1));

		if (p <= cap)
			cand[n++] = p;
		if (d <= cap)
			cand[n++] = d;
	}
	/* Insertion sort, longest first. */
	for (i = 1; i < n; i++) {
		uint64_t v = cand[i];

		for (j = i; j > 0 && cand[j - 1] < v; j--)
			cand[j] = cand[j - 1];
		cand[j] = v;
	}
	for (i = 0; i < n; i++) {
		if (cand[i] == prev)
			continue;
		prev = cand[i];
		if (hw->cfg.fits(hw->cfg.ctx, t, cur, cand[i]))
			return cand[i];
	}
	return 0;
}

unsigned bp_hw_nr_free(const struct bp_hw *hw)
{
	unsigned i, n = 0;

	for (i = 0; i < hw->cfg.nr_slots; i++)
		n += !hw->slots[i].used;
	return n;
}

int bp_hw_insert(struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		 uint64_t len)
{
	uint64_t pa[MAX_SLOTS], pl[MAX_SLOTS], cur, rem;
	unsigned nfree, npieces = 0, i, s;
	struct hw_req *r;
	int ri;

	if (!type_valid(t))
		return -EINVAL;
	if (!(hw->cfg.types & BP_HW_TYPE_BIT(t)))
		return -EOPNOTSUPP;
	if (len == 0 || addr > UINT64_MAX - (len - 1))
		return -EINVAL;
	ri = req_find(hw, t, addr, len);
	if (ri >= 0) {
		if (hw->reqs[ri].count == UINT_MAX)
			return -EOVERFLOW;
		hw->reqs[ri].count++;
		return 0;
	}

	/* Plan every piece before taking any slot. */
	nfree = bp_hw_nr_free(hw);
	if (t == BP_HW_EXEC) {
		if (len > hw->cfg.max_len ||
		    !hw->cfg.fits(hw->cfg.ctx, t, addr, len))
			return -EINVAL;
		pa[0] = addr;
		pl[0] = len;
		npieces = 1;
	} else {
		/* cur wraps to 0 after a range ending at 2^64; rem is 0 then.
		 */
		for (cur = addr, rem = len; rem; cur += pl[npieces++]) {
			uint64_t piece = best_piece(hw, t, cur, rem);

			if (!piece)
				return -EINVAL;
			if (npieces == nfree)
				return -ENOSPC;
			pa[npieces] = cur;
			pl[npieces] = piece;
			rem -= piece;
		}
	}
	if (npieces > nfree)
		return -ENOSPC;

	/* A request holds at least one slot, so reqs cannot be full here. */
	r = &hw->reqs[hw->nreqs];
	r->type = t;
	r->addr = addr;
	r->len = len;
	r->count = 1;
	r->nr_slots = npieces;
	for (i = 0, s = 0; i < npieces; i++, s++) {
		while (hw->slots[s].used)
			s++;
		hw->slots[s].used = true;
		hw->slots[s].type = t;
		hw->slots[s].addr = pa[i];
		hw->slots[s].len = pl[i];
		hw->owner[s] = hw->nreqs;
	}
	hw->nreqs++;
	hw->gen++;
	return 0;
}

int bp_hw_remove(struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		 uint64_t len)
{
	unsigned s, ri;
	int found = req_find(hw, t, addr, len);

	if (found < 0)
		return -ENOENT;
	ri = (unsigned)found;
	if (--hw->reqs[ri].count > 0)
		return 0;
	for (s = 0; s < hw->cfg.nr_slots; s++) {
		if (!hw->slots[s].used)
			continue;
		if (hw->owner[s] == ri)
			memset(&hw->slots[s], 0, sizeof(hw->slots[s]));
		else if (hw->owner[s] > ri)
			hw->owner[s]--;
	}
	memmove(&hw->reqs[ri], &hw->reqs[ri + 1],
		(hw->nreqs - ri - 1) * sizeof(hw->reqs[0]));
	hw->nreqs--;
	hw->gen++;
	return 0;
}

void bp_hw_remove_all(struct bp_hw *hw)
{
	if (!hw->nreqs)
		return;
	memset(hw->slots, 0, sizeof(hw->slots));
	hw->nreqs = 0;
	hw->gen++;
}

unsigned bp_hw_nr_slots(const struct bp_hw *hw)
{
	return hw->cfg.nr_slots;
}

unsigned bp_hw_count(const struct bp_hw *hw)
{
	return hw->nreqs;
}

int bp_hw_get_slot(const struct bp_hw *hw, unsigned i, struct bp_hw_slot *out)
{
	if (i >= hw->cfg.nr_slots)
		return -EINVAL;
	*out = hw->slots[i];
	return 0;
}

static void fill_req(const struct hw_req *r, struct bp_hw_request *out)
{
	out->type = r->type;
	out->addr = r->addr;
	out->len = r->len;
	out->count = r->count;
	out->nr_slots = r->nr_slots;
}

int bp_hw_find_slot(const struct bp_hw *hw, unsigned slot,
		    struct bp_hw_request *out)
{
	if (slot >= hw->cfg.nr_slots || !hw->slots[slot].used)
		return -ENOENT;
	fill_req(&hw->reqs[hw->owner[slot]], out);
	return 0;
}

int bp_hw_lookup(const struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		 uint64_t len, struct bp_hw_request *out)
{
	int ri = req_find(hw, t, addr, len);

	if (ri < 0)
		return -ENOENT;
	if (out)
		fill_req(&hw->reqs[ri], out);
	return 0;
}

bool bp_hw_next(const struct bp_hw *hw, size_t *cursor,
		struct bp_hw_request *out)
{
	if (*cursor >= hw->nreqs)
		return false;
	fill_req(&hw->reqs[*cursor], out);
	(*cursor)++;
	return true;
}

uint64_t bp_hw_generation(const struct bp_hw *hw)
{
	return hw->gen;
}
