/* Unit tests for the hardware breakpoint pool with x86-like (DR0-DR3) and
 * arm64-like (BAS/MASK) capabilities: allocation order, all-or-nothing
 * exhaustion, reference counts, and exact, minimal splitting of ranges. */
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

#include "bp/hw.h"

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

#define GiB (1ULL << 30)
#define W BP_HW_WRITE
#define R BP_HW_READ
#define A BP_HW_ACCESS
#define X BP_HW_EXEC

/* Prefix of every failure message: which step of a sequence broke. */
static char step[200];

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* DR7: execute length 1; data lengths 1, 2, 4, 8 aligned to themselves. */
static bool x86_fits(void *ctx, enum bp_hw_type t, uint64_t addr, uint64_t len)
{
	(void)ctx;
	if (t == BP_HW_EXEC)
		return len == 1;
	return len <= 8 && is_pow2(len) && addr % len == 0;
}

/* arm64: BVR/BCR execute on aligned words; WCR byte-address-select covers
 * any bytes of one aligned doubleword, MASK a power of two from 8 bytes to
 * 2 GiB aligned to itself. */
static bool arm64_fits(void *ctx, enum bp_hw_type t, uint64_t addr,
		       uint64_t len)
{
	(void)ctx;
	if (t == BP_HW_EXEC)
		return len == 4 && addr % 4 == 0;
	if (len <= 8 && (addr & ~7ULL) == ((addr + len - 1) & ~7ULL))
		return true;
	return len >= 8 && len <= 2 * GiB && is_pow2(len) && addr % len == 0;
}

static struct bp_hw *x86_pool(unsigned nr)
{
	struct bp_hw_config cfg = {
	    .nr_slots = nr,
	    .types = BP_HW_TYPE_BIT(X) | BP_HW_TYPE_BIT(W) | BP_HW_TYPE_BIT(A),
	    .max_len = 8,
	    .fits = x86_fits,
	};
	struct bp_hw *hw = NULL;

	ASSERT_EQ(bp_hw_create(&cfg, &hw), 0);
	return hw;
}

static struct bp_hw *arm64_watch_pool(unsigned nr)
{
	struct bp_hw_config cfg = {
	    .nr_slots = nr,
	    .types = BP_HW_TYPE_BIT(W) | BP_HW_TYPE_BIT(R) | BP_HW_TYPE_BIT(A),
	    .max_len = 2 * GiB,
	    .fits = arm64_fits,
	};
	struct bp_hw *hw = NULL;

	ASSERT_EQ(bp_hw_create(&cfg, &hw), 0);
	return hw;
}

static struct bp_hw *arm64_exec_pool(unsigned nr)
{
	struct bp_hw_config cfg = {
	    .nr_slots = nr,
	    .types = BP_HW_TYPE_BIT(X),
	    .max_len = 4,
	    .fits = arm64_fits,
	};
	struct bp_hw *hw = NULL;

	ASSERT_EQ(bp_hw_create(&cfg, &hw), 0);
	return hw;
}

struct piece {
	uint64_t addr, len;
};

/* The request's pieces, in slot order: number found. */
static unsigned pieces_of(struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
			  uint64_t len, struct piece *out, unsigned *slots)
{
	unsigned i, n = 0;

	for (i = 0; i < bp_hw_nr_slots(hw); i++) {
		struct bp_hw_request rq;
		struct bp_hw_slot s;

		ASSERT_EQ(bp_hw_get_slot(hw, i, &s), 0);
		if (!s.used)
			continue;
		ASSERT_EQ(bp_hw_find_slot(hw, i, &rq), 0);
		if (rq.type != t || rq.addr != addr || rq.len != len)
			continue;
		ASSERT_EQ(s.type, t);
		out[n].addr = s.addr;
		out[n].len = s.len;
		if (slots)
			slots[n] = i;
		n++;
	}
	return n;
}

/* Pieces in slot order must be in address order and tile the range. */
static void check_tiling(const struct piece *p, unsigned n, uint64_t addr,
			 uint64_t len, enum bp_hw_type t,
			 bool (*fits)(void *, enum bp_hw_type, uint64_t,
				      uint64_t))
{
	uint64_t cur = addr, covered = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (p[i].addr != cur)
			fail_msg("%spiece %u starts at %#llx, want %#llx", step,
				 i, (unsigned long long)p[i].addr,
				 (unsigned long long)cur);
		if (!fits(NULL, t, p[i].addr, p[i].len))
			fail_msg("%spiece %u (%#llx, %llu) does not fit a slot",
				 step, i, (unsigned long long)p[i].addr,
				 (unsigned long long)p[i].len);
		cur += p[i].len;
		covered += p[i].len;
	}
	ASSERT_UEQ(covered, len);
}

/* Fewest aligned power-of-two pieces (<= 8) covering [addr, addr+len):
 * an independent dynamic program to hold the greedy split against. */
static unsigned x86_optimal(uint64_t addr, uint64_t len)
{
	unsigned dp[128];
	uint64_t i, s;

	assert_true(len < 128);
	dp[0] = 0;
	for (i = 1; i <= len; i++) {
		dp[i] = 1000;
		for (s = 1; s <= 8 && s <= i; s *= 2) {
			if ((addr + i - s) % s == 0 && dp[i - s] + 1 < dp[i])
				dp[i] = dp[i - s] + 1;
		}
	}
	return dp[len];
}

static void test_create_rejects_bad_config(void **state)
{
	struct bp_hw_config cfg = {
	    .nr_slots = 4,
	    .types = BP_HW_TYPE_BIT(W),
	    .max_len = 8,
	    .fits = x86_fits,
	};
	struct bp_hw_config bad;
	struct bp_hw *hw = NULL;

	(void)state;
	bad = cfg;
	bad.nr_slots = 0;
	ASSERT_EQ(bp_hw_create(&bad, &hw), -EINVAL);
	bad.nr_slots = 65;
	ASSERT_EQ(bp_hw_create(&bad, &hw), -EINVAL);
	bad = cfg;
	bad.fits = NULL;
	ASSERT_EQ(bp_hw_create(&bad, &hw), -EINVAL);
	bad = cfg;
	bad.types = 0;
	ASSERT_EQ(bp_hw_create(&bad, &hw), -EINVAL);
	bad.types = 1u << 7;
	ASSERT_EQ(bp_hw_create(&bad, &hw), -EINVAL);
	bad = cfg;
	bad.max_len = 0;
	ASSERT_EQ(bp_hw_create(&bad, &hw), -EINVAL);
	ASSERT_EQ(bp_hw_create(&cfg, &hw), 0);
	ASSERT_EQ(bp_hw_nr_slots(hw), 4);
	ASSERT_EQ(bp_hw_nr_free(hw), 4);
	bp_hw_destroy(hw);
	bp_hw_destroy(NULL);
}

static void test_allocation_order(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct piece p[4];
	unsigned slots[4];
	struct bp_hw_slot s;

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, X, 0x1000, 1), 0);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x2000, 4), 0);
	ASSERT_EQ(bp_hw_insert(hw, A, 0x3000, 8), 0);
	ASSERT_EQ(bp_hw_get_slot(hw, 0, &s), 0);
	assert_true(s.used);
	ASSERT_EQ(s.type, X);
	ASSERT_UEQ(s.addr, 0x1000);
	ASSERT_EQ(bp_hw_get_slot(hw, 1, &s), 0);
	ASSERT_EQ(s.type, W);
	ASSERT_UEQ(s.addr, 0x2000);
	ASSERT_UEQ(s.len, 4);
	ASSERT_EQ(bp_hw_get_slot(hw, 2, &s), 0);
	ASSERT_EQ(s.type, A);
	ASSERT_EQ(bp_hw_get_slot(hw, 3, &s), 0);
	assert_false(s.used);
	ASSERT_EQ(bp_hw_get_slot(hw, 4, &s), -EINVAL);

	/* A freed middle slot is the first one reused; a two-piece request
	 * then takes the lowest free slots in address order. */
	snprintf(step, sizeof(step), "after freeing slot 1: ");
	ASSERT_EQ(bp_hw_remove(hw, W, 0x2000, 4), 0);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x4006, 4), 0);
	ASSERT_EQ(pieces_of(hw, W, 0x4006, 4, p, slots), 2);
	ASSERT_EQ(slots[0], 1);
	ASSERT_EQ(slots[1], 3);
	ASSERT_UEQ(p[0].addr, 0x4006);
	ASSERT_UEQ(p[0].len, 2);
	ASSERT_UEQ(p[1].addr, 0x4008);
	ASSERT_UEQ(p[1].len, 2);
	ASSERT_EQ(bp_hw_nr_free(hw), 0);
	bp_hw_destroy(hw);
}

static void test_exhaustion_all_or_nothing(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct bp_hw_slot before[4], after;
	uint64_t gen;
	unsigned i;

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1000, 8), 0);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x2000, 8), 0);
	ASSERT_EQ(bp_hw_insert(hw, X, 0x3000, 1), 0);
	for (i = 0; i < 4; i++)
		bp_hw_get_slot(hw, i, &before[i]);
	gen = bp_hw_generation(hw);

	/* Needs 2 slots, 1 is free. */
	ASSERT_EQ(bp_hw_insert(hw, A, 0x5004, 8), -ENOSPC);
	ASSERT_EQ(bp_hw_nr_free(hw), 1);
	ASSERT_EQ(bp_hw_count(hw), 3);
	ASSERT_EQ(bp_hw_lookup(hw, A, 0x5004, 8, NULL), -ENOENT);
	ASSERT_UEQ(bp_hw_generation(hw), gen);
	for (i = 0; i < 4; i++) {
		snprintf(step, sizeof(step), "slot %u: ", i);
		bp_hw_get_slot(hw, i, &after);
		ASSERT_EQ(after.used, before[i].used);
		ASSERT_UEQ(after.addr, before[i].addr);
		ASSERT_UEQ(after.len, before[i].len);
	}
	step[0] = 0;
	ASSERT_EQ(bp_hw_insert(hw, A, 0x5000, 8), 0);
	ASSERT_EQ(bp_hw_insert(hw, X, 0x6000, 1), -ENOSPC);
	bp_hw_destroy(hw);
}

static void test_refcount(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct bp_hw_request rq;
	uint64_t gen;

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1003, 10), 0);
	gen = bp_hw_generation(hw);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1003, 10), 0);
	ASSERT_UEQ(bp_hw_generation(hw), gen);
	ASSERT_EQ(bp_hw_nr_free(hw), 0);
	ASSERT_EQ(bp_hw_lookup(hw, W, 0x1003, 10, &rq), 0);
	ASSERT_EQ(rq.count, 2);
	ASSERT_EQ(rq.nr_slots, 4);
	/* Same bytes, another type: another request (and no room). */
	ASSERT_EQ(bp_hw_insert(hw, A, 0x1003, 10), -ENOSPC);

	snprintf(step, sizeof(step), "after one remove: ");
	ASSERT_EQ(bp_hw_remove(hw, W, 0x1003, 10), 0);
	ASSERT_EQ(bp_hw_nr_free(hw), 0);
	ASSERT_EQ(bp_hw_lookup(hw, W, 0x1003, 10, &rq), 0);
	ASSERT_EQ(rq.count, 1);
	ASSERT_UEQ(bp_hw_generation(hw), gen);
	snprintf(step, sizeof(step), "after the second remove: ");
	ASSERT_EQ(bp_hw_remove(hw, W, 0x1003, 10), 0);
	ASSERT_EQ(bp_hw_nr_free(hw), 4);
	ASSERT_EQ(bp_hw_count(hw), 0);
	assert_true(bp_hw_generation(hw) != gen);
	ASSERT_EQ(bp_hw_remove(hw, W, 0x1003, 10), -ENOENT);
	/* Removal matches the exact request, not a piece of it. */
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1003, 10), 0);
	ASSERT_EQ(bp_hw_remove(hw, W, 0x1004, 4), -ENOENT);
	ASSERT_EQ(bp_hw_remove(hw, A, 0x1003, 10), -ENOENT);
	ASSERT_EQ(bp_hw_nr_free(hw), 0);
	bp_hw_destroy(hw);
}

static void test_x86_split_example(void **state)
{
	const struct piece want[] = {
	    {0x1003, 1}, {0x1004, 4}, {0x1008, 4}, {0x100c, 1}};
	struct bp_hw *hw = x86_pool(4);
	struct piece p[4];
	unsigned i;

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1003, 10), 0);
	ASSERT_EQ(pieces_of(hw, W, 0x1003, 10, p, NULL), 4);
	for (i = 0; i < 4; i++) {
		snprintf(step, sizeof(step), "piece %u: ", i);
		ASSERT_UEQ(p[i].addr, want[i].addr);
		ASSERT_UEQ(p[i].len, want[i].len);
	}
	bp_hw_destroy(hw);
}

/* Every (addr, len) near a few alignments: the split tiles the range with
 * pieces that fit and is as short as the optimum. */
static void test_x86_split_exact_and_minimal(void **state)
{
	struct bp_hw *hw = x86_pool(64);
	struct bp_hw_request rq;
	struct piece p[64];
	uint64_t base, off, len;
	unsigned n;

	(void)state;
	for (base = 0x7000; base <= 0x7010; base += 0x10) {
		for (off = 0; off < 16; off++) {
			for (len = 1; len <= 70; len++) {
				uint64_t a = base + off;

				snprintf(step, sizeof(step),
					 "range %#llx len %llu: ",
					 (unsigned long long)a,
					 (unsigned long long)len);
				ASSERT_EQ(bp_hw_insert(hw, A, a, len), 0);
				n = pieces_of(hw, A, a, len, p, NULL);
				check_tiling(p, n, a, len, A, x86_fits);
				ASSERT_EQ(n, x86_optimal(a, len));
				ASSERT_EQ(bp_hw_lookup(hw, A, a, len, &rq), 0);
				ASSERT_EQ(rq.nr_slots, n);
				ASSERT_EQ(bp_hw_remove(hw, A, a, len), 0);
				ASSERT_EQ(bp_hw_nr_free(hw), 64);
			}
		}
	}
	bp_hw_destroy(hw);
}

static void test_x86_32_and_33_bytes(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct piece p[4];
	uint64_t gen;

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, W, 0x8000, 32), 0);
	ASSERT_EQ(pieces_of(hw, W, 0x8000, 32, p, NULL), 4);
	check_tiling(p, 4, 0x8000, 32, W, x86_fits);
	ASSERT_EQ(bp_hw_nr_free(hw), 0);
	ASSERT_EQ(bp_hw_remove(hw, W, 0x8000, 32), 0);

	gen = bp_hw_generation(hw);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x8000, 33), -ENOSPC);
	ASSERT_EQ(bp_hw_nr_free(hw), 4);
	ASSERT_EQ(bp_hw_count(hw), 0);
	ASSERT_UEQ(bp_hw_generation(hw), gen);
	/* Far too long: refused without walking the whole range. */
	ASSERT_EQ(bp_hw_insert(hw, W, 0, UINT64_MAX), -ENOSPC);
	bp_hw_destroy(hw);
}

static void test_x86_invalid_requests(void **state)
{
	struct bp_hw *hw = x86_pool(4);

	(void)state;
	/* No read-only watch on x86: the caller falls back to pages. */
	ASSERT_EQ(bp_hw_insert(hw, R, 0x1000, 4), -EOPNOTSUPP);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1000, 0), -EINVAL);
	ASSERT_EQ(bp_hw_insert(hw, W, UINT64_MAX, 2), -EINVAL);
	ASSERT_EQ(bp_hw_insert(hw, (enum bp_hw_type)0, 0x1000, 1), -EINVAL);
	ASSERT_EQ(bp_hw_insert(hw, (enum bp_hw_type)5, 0x1000, 1), -EINVAL);
	/* Breakpoints are not split. */
	ASSERT_EQ(bp_hw_insert(hw, X, 0x1000, 2), -EINVAL);
	ASSERT_EQ(bp_hw_insert(hw, X, 0x1000, 16), -EINVAL);
	ASSERT_EQ(bp_hw_nr_free(hw), 4);
	ASSERT_EQ(bp_hw_count(hw), 0);
	bp_hw_destroy(hw);
}

static void test_x86_range_ending_at_top(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct piece p[4];

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, W, UINT64_MAX - 7, 8), 0);
	ASSERT_EQ(pieces_of(hw, W, UINT64_MAX - 7, 8, p, NULL), 1);
	ASSERT_EQ(bp_hw_insert(hw, A, UINT64_MAX - 9, 10), 0);
	ASSERT_EQ(pieces_of(hw, A, UINT64_MAX - 9, 10, p, NULL), 2);
	check_tiling(p, 2, UINT64_MAX - 9, 10, A, x86_fits);
	ASSERT_EQ(bp_hw_insert(hw, W, UINT64_MAX, 1), 0);
	ASSERT_EQ(bp_hw_nr_free(hw), 0);
	bp_hw_destroy(hw);
}

static void test_find_slot_and_remove_exact(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct bp_hw_request rq;
	struct bp_hw_slot s;
	unsigned i;

	(void)state;
	ASSERT_EQ(bp_hw_insert(hw, X, 0xffffffff81000000ULL, 1), 0);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x2006, 4), 0); /* slots 1, 2 */
	ASSERT_EQ(bp_hw_insert(hw, A, 0x3000, 2), 0);
	for (i = 1; i <= 2; i++) {
		snprintf(step, sizeof(step), "slot %u: ", i);
		ASSERT_EQ(bp_hw_find_slot(hw, i, &rq), 0);
		ASSERT_EQ(rq.type, W);
		ASSERT_UEQ(rq.addr, 0x2006);
		ASSERT_UEQ(rq.len, 4);
		ASSERT_EQ(rq.nr_slots, 2);
	}
	step[0] = 0;
	ASSERT_EQ(bp_hw_find_slot(hw, 0, &rq), 0);
	ASSERT_UEQ(rq.addr, 0xffffffff81000000ULL);
	ASSERT_EQ(bp_hw_find_slot(hw, 3, &rq), 0);
	ASSERT_EQ(rq.type, A);

	/* Removing the middle request frees exactly its two slots, and the
	 * later request still maps back correctly. */
	ASSERT_EQ(bp_hw_remove(hw, W, 0x2006, 4), 0);
	ASSERT_EQ(bp_hw_find_slot(hw, 1, &rq), -ENOENT);
	ASSERT_EQ(bp_hw_find_slot(hw, 2, &rq), -ENOENT);
	ASSERT_EQ(bp_hw_find_slot(hw, 3, &rq), 0);
	ASSERT_EQ(rq.type, A);
	ASSERT_UEQ(rq.addr, 0x3000);
	ASSERT_EQ(bp_hw_get_slot(hw, 3, &s), 0);
	ASSERT_UEQ(s.addr, 0x3000);
	ASSERT_UEQ(s.len, 2);
	ASSERT_EQ(bp_hw_find_slot(hw, 0, &rq), 0);
	ASSERT_EQ(rq.type, X);
	ASSERT_EQ(bp_hw_find_slot(hw, 4, &rq), -ENOENT);
	ASSERT_EQ(bp_hw_nr_free(hw), 2);
	bp_hw_destroy(hw);
}

static void test_iterator_and_remove_all(void **state)
{
	struct bp_hw *hw = x86_pool(4);
	struct bp_hw_request rq;
	size_t cur = 0;
	uint64_t gen;

	(void)state;
	assert_false(bp_hw_next(hw, &cur, &rq));
	bp_hw_remove_all(hw);
	ASSERT_UEQ(bp_hw_generation(hw), 0);
	ASSERT_EQ(bp_hw_insert(hw, W, 0x3000, 4), 0);
	ASSERT_EQ(bp_hw_insert(hw, X, 0x1000, 1), 0);
	ASSERT_EQ(bp_hw_insert(hw, A, 0x2000, 1), 0);
	ASSERT_EQ(bp_hw_remove(hw, X, 0x1000, 1), 0);
	cur = 0;
	assert_true(bp_hw_next(hw, &cur, &rq));
	ASSERT_UEQ(rq.addr, 0x3000);
	assert_true(bp_hw_next(hw, &cur, &rq));
	ASSERT_UEQ(rq.addr, 0x2000);
	assert_false(bp_hw_next(hw, &cur, &rq));

	gen = bp_hw_generation(hw);
	bp_hw_remove_all(hw);
	assert_true(bp_hw_generation(hw) != gen);
	ASSERT_EQ(bp_hw_count(hw), 0);
	ASSERT_EQ(bp_hw_nr_free(hw), 4);
	ASSERT_EQ(bp_hw_find_slot(hw, 0, &rq), -ENOENT);
	bp_hw_destroy(hw);
}

static void test_arm64_bas_and_mask(void **state)
{
	struct bp_hw *hw = arm64_watch_pool(16);
	struct piece p[16];
	unsigned n, i;
	const struct piece want[] = {
	    {0x1003, 5},    {0x1008, 8},    {0x1010, 16},   {0x1020, 32},
	    {0x1040, 64},   {0x1080, 128},  {0x1100, 256},  {0x1200, 512},
	    {0x1400, 1024}, {0x1800, 2048}, {0x2000, 4096}, {0x3000, 3},
	};

	(void)state;
	/* Byte-address-select: any bytes inside one aligned doubleword. */
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1003, 5), 0);
	ASSERT_EQ(pieces_of(hw, W, 0x1003, 5, p, NULL), 1);
	ASSERT_EQ(bp_hw_insert(hw, R, 0x1009, 6), 0);
	ASSERT_EQ(pieces_of(hw, R, 0x1009, 6, p, NULL), 1);
	/* A doubleword boundary inside: two BAS pieces. */
	ASSERT_EQ(bp_hw_insert(hw, A, 0x1006, 4), 0);
	ASSERT_EQ(pieces_of(hw, A, 0x1006, 4, p, NULL), 2);
	check_tiling(p, 2, 0x1006, 4, A, arm64_fits);
	/* MASK: one slot for an aligned page, or 2 GiB. */
	ASSERT_EQ(bp_hw_insert(hw, W, 0x10000, 0x1000), 0);
	ASSERT_EQ(pieces_of(hw, W, 0x10000, 0x1000, p, NULL), 1);
	ASSERT_EQ(bp_hw_insert(hw, A, 2 * GiB, 2 * GiB), 0);
	ASSERT_EQ(pieces_of(hw, A, 2 * GiB, 2 * GiB, p, NULL), 1);
	ASSERT_EQ(bp_hw_nr_free(hw), 10);
	bp_hw_remove_all(hw);

	/* An unaligned 8 KiB range: BAS to the doubleword, then MASK pieces
	 * doubling up to alignment, then the tail. */
	n = 0;
	ASSERT_EQ(bp_hw_insert(hw, W, 0x1003, 0x2000), 0);
	n = pieces_of(hw, W, 0x1003, 0x2000, p, NULL);
	ASSERT_EQ(n, 12);
	check_tiling(p, n, 0x1003, 0x2000, W, arm64_fits);
	for (i = 0; i < n; i++) {
		snprintf(step, sizeof(step), "piece %u: ", i);
		ASSERT_UEQ(p[i].addr, want[i].addr);
		ASSERT_UEQ(p[i].len, want[i].len);
	}
	step[0] = 0;
	/* 4 slots left: a 5-piece request fails and takes nothing. */
	ASSERT_EQ(bp_hw_insert(hw, A, 0x1001, 0x1f), 0);
	ASSERT_EQ(bp_hw_nr_free(hw), 1);
	ASSERT_EQ(bp_hw_insert(hw, A, 0x5001, 0x1f), -ENOSPC);
	ASSERT_EQ(bp_hw_nr_free(hw), 1);
	bp_hw_destroy(hw);
}

static void test_arm64_separate_banks(void **state)
{
	struct bp_hw *ex = arm64_exec_pool(6), *wa = arm64_watch_pool(4);
	struct bp_hw_request rq;

	(void)state;
	ASSERT_EQ(bp_hw_insert(ex, W, 0x1000, 4), -EOPNOTSUPP);
	ASSERT_EQ(bp_hw_insert(wa, X, 0x1000, 4), -EOPNOTSUPP);
	ASSERT_EQ(bp_hw_insert(ex, X, 0x1002, 4), -EINVAL);
	ASSERT_EQ(bp_hw_insert(ex, X, 0x1000, 1), -EINVAL);
	ASSERT_EQ(bp_hw_insert(ex, X, 0xffff000000081000ULL, 4), 0);
	ASSERT_EQ(bp_hw_insert(wa, R, 0x2000, 8), 0);
	ASSERT_EQ(bp_hw_nr_free(ex), 5);
	ASSERT_EQ(bp_hw_nr_free(wa), 3);
	ASSERT_EQ(bp_hw_find_slot(wa, 0, &rq), 0);
	ASSERT_EQ(rq.type, R);
	ASSERT_EQ(bp_hw_find_slot(ex, 0, &rq), 0);
	ASSERT_EQ(rq.type, X);
	bp_hw_destroy(ex);
	bp_hw_destroy(wa);
}

/* Each test starts with an empty failure prefix, whatever ran before. */
static int reset_step(void **state)
{
	(void)state;
	step[0] = 0;
	return 0;
}

int main(void)
{
#define T(t) cmocka_unit_test_setup(t, reset_step)
	const struct CMUnitTest tests[] = {
	    T(test_create_rejects_bad_config),
	    T(test_allocation_order),
	    T(test_exhaustion_all_or_nothing),
	    T(test_refcount),
	    T(test_x86_split_example),
	    T(test_x86_split_exact_and_minimal),
	    T(test_x86_32_and_33_bytes),
	    T(test_x86_invalid_requests),
	    T(test_x86_range_ending_at_top),
	    T(test_find_slot_and_remove_exact),
	    T(test_iterator_and_remove_all),
	    T(test_arm64_bas_and_mask),
	    T(test_arm64_separate_banks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
