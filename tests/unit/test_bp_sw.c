/* Unit tests for software breakpoints against a fake guest-physical RAM that
 * counts accesses and fails on demand: refcounts, aliases, shadowed reads,
 * filtered writes, step-over, error paths and byte-exact restoration. */
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
#include <time.h>

#include "bp/sw.h"

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

/* Byte comparison that names the first difference and both sides. */
#define ASSERT_MEM_EQ(got, want, len)                                          \
	assert_mem_eq_(step, #got, (const uint8_t *)(got), #want,              \
		       (const uint8_t *)(want), (len))

#define RAM_SIZE (4u << 20)
#define X86_INT3 0xcc

static const uint8_t trap_x86[] = {X86_INT3};
static const uint8_t trap_arm64[] = {0x00, 0x00, 0x20, 0xd4}; /* BRK #0 */
static const uint8_t trap_ppc[] = {0x7f, 0xe0, 0x00, 0x08};   /* trap, BE */

/* Guest RAM and what it held before any test touched it. */
static uint8_t ram[RAM_SIZE], pristine[RAM_SIZE];

/* Prefix of every failure message: which step of a sequence broke. */
static char step[160];

static void assert_mem_eq_(const char *where, const char *gname,
			   const uint8_t *got, const char *wname,
			   const uint8_t *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (got[i] != want[i])
			fail_msg("%s%s[%zu] == %#04x, want %s[%zu] == %#04x "
				 "(first of %zu bytes to differ)",
				 where, gname, i, got[i], wname, i, want[i],
				 len);
	}
}

struct fake_mem {
	unsigned reads, writes;
	/* Fail the Nth read / write from now (1: the next), 0: never. */
	unsigned fail_read_in, fail_write_in;
	/* Fail every access touching this gpa, when set. */
	bool fail_gpa_on;
	uint64_t fail_gpa;
	int fail_err;
};

static bool touches(const struct fake_mem *m, uint64_t gpa, size_t len)
{
	return m->fail_gpa_on && m->fail_gpa >= gpa && m->fail_gpa - gpa < len;
}

static int fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake_mem *m = ctx;

	m->reads++;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	if ((m->fail_read_in && --m->fail_read_in == 0) || touches(m, gpa, len))
		return m->fail_err;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static int fake_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fake_mem *m = ctx;

	m->writes++;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	if ((m->fail_write_in && --m->fail_write_in == 0) ||
	    touches(m, gpa, len))
		return m->fail_err;
	memcpy(ram + gpa, buf, len);
	return 0;
}

struct fixture {
	struct fake_mem mem;
	struct bp_sw *sw;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64: deterministic, so a failure reproduces. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Fill RAM with a pattern that holds no trap bytes by accident too often
 * but does hold some (0xcc, 0xd4 appear), as real code does. */
static void fill_ram(void)
{
	size_t i;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < RAM_SIZE; i++)
		ram[i] = (uint8_t)(rng() >> 24);
	memcpy(pristine, ram, RAM_SIZE);
}

static struct fixture *fixture_new(const uint8_t *trap, size_t len)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bp_sw_mem mem = {fake_read, fake_write, NULL};

	assert_non_null(f);
	fill_ram();
	f->mem.fail_err = -EIO;
	mem.ctx = &f->mem;
	step[0] = 0;
	ASSERT_EQ(bp_sw_create(trap, len, &mem, &f->sw), 0);
	return f;
}

static int setup_x86(void **state)
{
	*state = fixture_new(trap_x86, sizeof(trap_x86));
	return 0;
}

static int setup_arm64(void **state)
{
	*state = fixture_new(trap_arm64, sizeof(trap_arm64));
	return 0;
}

static int setup_ppc(void **state)
{
	*state = fixture_new(trap_ppc, sizeof(trap_ppc));
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bp_sw_destroy(f->sw);
	free(f);
	return 0;
}

static uint64_t checksum(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* What a debugger read of [gpa, gpa+len) returns: raw, then shadowed. */
static void dbg_read(struct fixture *f, uint64_t gpa, uint8_t *buf, size_t len)
{
	memcpy(buf, ram + gpa, len);
	bp_sw_shadow_read(f->sw, gpa, buf, len);
}

/* What a debugger write does: filter, then store the filtered bytes. */
static void dbg_write(struct fixture *f, uint64_t gpa, const uint8_t *src,
		      size_t len)
{
	uint8_t buf[64];

	assert_true(len <= sizeof(buf));
	memcpy(buf, src, len);
	bp_sw_filter_write(f->sw, gpa, buf, len);
	memcpy(ram + gpa, buf, len);
}

static void test_create_rejects_bad_traps(void **state)
{
	struct bp_sw_mem mem = {fake_read, fake_write, NULL};
	const uint8_t nine[9] = {0};
	struct bp_sw *sw = NULL;

	(void)state;
	ASSERT_EQ(bp_sw_create(nine, 0, &mem, &sw), -EINVAL);
	ASSERT_EQ(bp_sw_create(nine, 3, &mem, &sw), -EINVAL);
	ASSERT_EQ(bp_sw_create(nine, 9, &mem, &sw), -EINVAL);
	ASSERT_EQ(bp_sw_create(NULL, 1, &mem, &sw), -EINVAL);
	ASSERT_EQ(bp_sw_create(nine, 8, &mem, &sw), 0);
	bp_sw_destroy(sw);
	bp_sw_destroy(NULL);
}

static void test_x86_refcount(void **state)
{
	struct fixture *f = *state;
	struct bp_sw_info info;
	size_t tlen;

	assert_ptr_not_equal(bp_sw_trap(f->sw, &tlen), NULL);
	ASSERT_EQ(tlen, 1);
	ASSERT_EQ(bp_sw_insert(f->sw, 0xffff800000301000ULL, 0x301000), 0);
	ASSERT_UEQ(ram[0x301000], X86_INT3);
	ASSERT_EQ(bp_sw_insert(f->sw, 0xffff800000301000ULL, 0x301000), 0);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0xffff800000301000ULL, &info), 0);
	ASSERT_EQ(info.count, 2);
	ASSERT_UEQ(info.gpa, 0x301000);
	ASSERT_UEQ(info.orig[0], pristine[0x301000]);
	ASSERT_EQ(bp_sw_count(f->sw), 1);

	snprintf(step, sizeof(step), "after one remove: ");
	ASSERT_EQ(bp_sw_remove(f->sw, 0xffff800000301000ULL), 0);
	ASSERT_UEQ(ram[0x301000], X86_INT3);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0xffff800000301000ULL, &info), 0);
	ASSERT_EQ(info.count, 1);

	snprintf(step, sizeof(step), "after the second remove: ");
	ASSERT_EQ(bp_sw_remove(f->sw, 0xffff800000301000ULL), 0);
	ASSERT_UEQ(ram[0x301000], pristine[0x301000]);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0xffff800000301000ULL, NULL), -ENOENT);
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, 0x301000, NULL), -ENOENT);
	ASSERT_EQ(bp_sw_count(f->sw), 0);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_double_insert_patches_once(void **state)
{
	struct fixture *f = *state;
	unsigned w;

	ASSERT_EQ(bp_sw_insert(f->sw, 0x1234, 0x1234), 0);
	w = f->mem.writes;
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1234, 0x1234), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1234, 0x1234), 0);
	ASSERT_EQ(f->mem.writes, w);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 1);
	/* A second insert with another gpa only counts: the first stays. */
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1234, 0x9999), 0);
	ASSERT_EQ(f->mem.writes, w);
	ASSERT_UEQ(ram[0x9999], pristine[0x9999]);
	ASSERT_EQ(bp_sw_remove_all(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_alias_two_addrs_one_gpa(void **state)
{
	struct fixture *f = *state;
	struct bp_sw_patch_info pi;
	struct bp_sw_info info;
	unsigned w;

	ASSERT_EQ(bp_sw_insert(f->sw, 0x400000, 0x2000), 0);
	w = f->mem.writes;
	snprintf(step, sizeof(step), "second alias: ");
	ASSERT_EQ(bp_sw_insert(f->sw, 0xffffffff80000000ULL, 0x2000), 0);
	ASSERT_EQ(f->mem.writes, w);
	ASSERT_EQ(bp_sw_count(f->sw), 2);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 1);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0xffffffff80000000ULL, &info), 0);
	/* The original, not the first alias's trap. */
	ASSERT_UEQ(info.orig[0], pristine[0x2000]);
	ASSERT_EQ(info.aliases, 2);
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, 0x2000, &pi), 0);
	ASSERT_EQ(pi.aliases, 2);
	ASSERT_UEQ(pi.orig[0], pristine[0x2000]);

	snprintf(step, sizeof(step), "first alias removed: ");
	ASSERT_EQ(bp_sw_remove(f->sw, 0x400000), 0);
	ASSERT_UEQ(ram[0x2000], X86_INT3);
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, 0x2000, &pi), 0);
	ASSERT_EQ(pi.aliases, 1);
	snprintf(step, sizeof(step), "both removed: ");
	ASSERT_EQ(bp_sw_remove(f->sw, 0xffffffff80000000ULL), 0);
	ASSERT_UEQ(ram[0x2000], pristine[0x2000]);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_remove_unknown(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(bp_sw_remove(f->sw, 0x1000), -ENOENT);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, 0x1000), 0);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1001), -ENOENT);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1000), 0);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1000), -ENOENT);
	ASSERT_EQ(bp_sw_lift(f->sw, 0x1000), -ENOENT);
	ASSERT_EQ(bp_sw_replant(f->sw, 0x1000), -ENOENT);
	ASSERT_EQ(bp_sw_count(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

/* Every window [start, start+len) over a region must read as pristine. */
static void check_all_windows(struct fixture *f, uint64_t base, size_t span)
{
	uint8_t buf[64];
	size_t start, len;

	assert_true(span <= sizeof(buf));
	for (start = 0; start < span; start++) {
		for (len = 0; start + len <= span; len++) {
			snprintf(step, sizeof(step), "window [%#llx, +%zu): ",
				 (unsigned long long)(base + start), len);
			memset(buf, 0x5a, sizeof(buf));
			dbg_read(f, base + start, buf, len);
			ASSERT_MEM_EQ(buf, pristine + base + start, len);
			ASSERT_UEQ(buf[len], 0x5a);
		}
	}
}

static void test_x86_shadow_read_mixed(void **state)
{
	struct fixture *f = *state;
	uint64_t base = 0x3000;

	/* Patched and unpatched bytes interleaved, runs and singletons. */
	ASSERT_EQ(bp_sw_insert(f->sw, base + 1, base + 1), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, base + 2, base + 2), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, base + 5, base + 5), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, base + 17, base + 17), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, base + 30, base + 30), 0);
	ASSERT_UEQ(ram[base + 5], X86_INT3);
	check_all_windows(f, base - 2, 36);
}

static void test_arm64_shadow_read_partial(void **state)
{
	struct fixture *f = *state;
	struct bp_sw_patch_info pi;
	uint64_t base = 0x8000;

	ASSERT_EQ(bp_sw_insert(f->sw, 0xffff000000008000ULL, base), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0xffff000000008008ULL, base + 8), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0xffff00000000800cULL, base + 12), 0);
	ASSERT_MEM_EQ(ram + base, trap_arm64, 4);
	ASSERT_MEM_EQ(ram + base + 12, trap_arm64, 4);
	/* Windows starting, ending or lying inside a 4-byte trap. */
	check_all_windows(f, base - 4, 24);
	/* The classifier may ask about any byte of a trap. */
	step[0] = 0;
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, base + 10, &pi), 0);
	ASSERT_UEQ(pi.gpa, base + 8);
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, base + 4, NULL), -ENOENT);
}

static void test_x86_filter_write(void **state)
{
	struct fixture *f = *state;
	const uint8_t data[] = {0x90, 0x91, 0x92, 0x93, 0x94, 0x95};
	struct bp_sw_info info;
	uint8_t buf[sizeof(data)];
	uint64_t base = 0x5000;

	ASSERT_EQ(bp_sw_insert(f->sw, base + 2, base + 2), 0);
	memcpy(buf, data, sizeof(data));
	bp_sw_filter_write(f->sw, base, buf, sizeof(buf));
	snprintf(step, sizeof(step), "filtered buffer: ");
	ASSERT_UEQ(buf[2], X86_INT3);
	ASSERT_MEM_EQ(buf, data, 2);
	ASSERT_MEM_EQ(buf + 3, data + 3, 3);
	ASSERT_EQ(bp_sw_lookup(f->sw, base + 2, &info), 0);
	ASSERT_UEQ(info.orig[0], 0x92);

	snprintf(step, sizeof(step), "after the write: ");
	memcpy(ram + base, buf, sizeof(buf));
	memcpy(pristine + base, data,
	       sizeof(data)); /* what a bp-less run has */
	ASSERT_UEQ(ram[base + 2], X86_INT3);
	check_all_windows(f, base - 3, 12);
	ASSERT_EQ(bp_sw_remove(f->sw, base + 2), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_arm64_filter_write_partial(void **state)
{
	struct fixture *f = *state;
	uint8_t data[16];
	uint64_t base = 0x6000;
	size_t start, len, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	ASSERT_EQ(bp_sw_insert(f->sw, base + 4, base + 4), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, base + 8, base + 8), 0);
	/* Writes covering 1-3 bytes of a trap from either side, and more. */
	for (start = 0; start < 16; start++) {
		for (len = 1; start + len <= 16; len++) {
			snprintf(step, sizeof(step), "write [%#llx, +%zu): ",
				 (unsigned long long)(base + start), len);
			for (i = 0; i < len; i++)
				data[start + i] = (uint8_t)rng();
			dbg_write(f, base + start, data + start, len);
			memcpy(pristine + base + start, data + start, len);
			ASSERT_MEM_EQ(ram + base + 4, trap_arm64, 4);
			ASSERT_MEM_EQ(ram + base + 8, trap_arm64, 4);
			check_all_windows(f, base, 16);
		}
	}
	step[0] = 0;
	ASSERT_EQ(bp_sw_remove_all(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

/* A debugging session's worth of operations, then detach: RAM must match a
 * run that made the same debugger writes and never had breakpoints. */
static void session_then_remove_all(struct fixture *f, size_t tlen)
{
	uint64_t addrs[200], gpa;
	size_t i, n = 0;

	for (i = 0; i < 200; i++) {
		gpa = (rng() % (RAM_SIZE - 64)) & ~(uint64_t)(tlen - 1);
		addrs[n] = 0xffff800000000000ULL + gpa;
		ASSERT_EQ(bp_sw_insert(f->sw, addrs[n], gpa), 0);
		if (i % 3 == 0) /* refcounted */
			ASSERT_EQ(bp_sw_insert(f->sw, addrs[n], gpa), 0);
		if (i % 5 == 0) /* aliased from low memory */
			ASSERT_EQ(bp_sw_insert(f->sw, gpa, gpa), 0);
		n++;
	}
	for (i = 0; i < 40; i++) {
		uint8_t data[16];
		size_t k;

		gpa = rng() % (RAM_SIZE - 16);
		for (k = 0; k < sizeof(data); k++)
			data[k] = (uint8_t)rng();
		dbg_write(f, gpa, data, sizeof(data));
		memcpy(pristine + gpa, data, sizeof(data));
	}
	/* One patch left lifted, as a vCPU mid-step would. */
	ASSERT_EQ(bp_sw_lift(f->sw, addrs[7]), 0);
	for (i = 0; i < n; i += 4)
		bp_sw_remove(f->sw, addrs[i]);
	ASSERT_EQ(bp_sw_remove_all(f->sw), 0);
	ASSERT_EQ(bp_sw_count(f->sw), 0);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 0);
	ASSERT_UEQ(checksum(ram, RAM_SIZE), checksum(pristine, RAM_SIZE));
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_x86_remove_all_identical(void **state)
{
	session_then_remove_all(*state, 1);
}

static void test_arm64_remove_all_identical(void **state)
{
	session_then_remove_all(*state, 4);
}

static void test_lift_replant(void **state)
{
	struct fixture *f = *state;
	struct bp_sw_patch_info pi;
	struct bp_sw_info info;
	uint8_t buf[8];
	uint64_t g = 0x7000;

	ASSERT_EQ(bp_sw_replant(f->sw, 0x7000), -ENOENT);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x7000, g), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x17000, g), 0); /* alias */
	ASSERT_EQ(bp_sw_replant(f->sw, 0x7000), -EINVAL);

	snprintf(step, sizeof(step), "lifted: ");
	ASSERT_EQ(bp_sw_lift(f->sw, 0x7000), 0);
	ASSERT_MEM_EQ(ram + g, pristine + g, 4);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x17000, &info), 0);
	assert_true(info.lifted); /* the alias shares the patch */
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, g + 3, &pi), 0);
	ASSERT_EQ(pi.lifted, 1);
	dbg_read(f, g - 2, buf, 8);
	ASSERT_MEM_EQ(buf, pristine + g - 2, 8);

	snprintf(step, sizeof(step), "lifted twice: ");
	ASSERT_EQ(bp_sw_lift(f->sw, 0x17000), 0);
	ASSERT_EQ(bp_sw_replant(f->sw, 0x17000), 0);
	ASSERT_MEM_EQ(ram + g, pristine + g, 4); /* still lifted once */

	/* A debugger write during the step lands as is and is adopted. */
	snprintf(step, sizeof(step), "write while lifted: ");
	buf[0] = 0x11;
	buf[1] = 0x22;
	dbg_write(f, g + 1, buf, 2);
	memcpy(pristine + g + 1, buf, 2);
	ASSERT_MEM_EQ(ram + g, pristine + g, 4);

	snprintf(step, sizeof(step), "replanted: ");
	ASSERT_EQ(bp_sw_replant(f->sw, 0x7000), 0);
	ASSERT_MEM_EQ(ram + g, trap_arm64, 4);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x7000, &info), 0);
	assert_false(info.lifted);
	ASSERT_MEM_EQ(info.orig, pristine + g, 4);
	dbg_read(f, g - 2, buf, 8);
	ASSERT_MEM_EQ(buf, pristine + g - 2, 8);
	ASSERT_EQ(bp_sw_replant(f->sw, 0x7000), -EINVAL);

	/* Removing a lifted breakpoint leaves the bytes in memory alone. */
	snprintf(step, sizeof(step), "removed while lifted: ");
	ASSERT_EQ(bp_sw_remove(f->sw, 0x17000), 0);
	ASSERT_EQ(bp_sw_lift(f->sw, 0x7000), 0);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x7000), 0);
	ASSERT_EQ(bp_sw_replant(f->sw, 0x7000), -ENOENT);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_memory_errors_leave_state_consistent(void **state)
{
	struct fixture *f = *state;
	struct bp_sw_info info;

	snprintf(step, sizeof(step), "insert, read fails: ");
	f->mem.fail_read_in = 1;
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, 0x1000), -EIO);
	ASSERT_EQ(bp_sw_count(f->sw), 0);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);

	snprintf(step, sizeof(step), "insert, write fails: ");
	f->mem.fail_write_in = 1;
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, 0x1000), -EIO);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x1000, NULL), -ENOENT);
	ASSERT_EQ(bp_sw_lookup_gpa(f->sw, 0x1000, NULL), -ENOENT);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);

	snprintf(step, sizeof(step), "insert outside RAM: ");
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, RAM_SIZE + 0x1000), -EFAULT);
	ASSERT_EQ(bp_sw_count(f->sw), 0);

	snprintf(step, sizeof(step), "remove, write fails: ");
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, 0x1000), 0);
	f->mem.fail_write_in = 1;
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1000), -EIO);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x1000, &info), 0);
	ASSERT_EQ(info.count, 1);
	ASSERT_UEQ(ram[0x1000], X86_INT3);
	snprintf(step, sizeof(step), "remove, read fails: ");
	f->mem.fail_read_in = 1;
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1000), -EIO);
	ASSERT_EQ(bp_sw_count(f->sw), 1);

	snprintf(step, sizeof(step), "lift, write fails: ");
	f->mem.fail_write_in = 1;
	ASSERT_EQ(bp_sw_lift(f->sw, 0x1000), -EIO);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x1000, &info), 0);
	assert_false(info.lifted);
	ASSERT_UEQ(ram[0x1000], X86_INT3);
	snprintf(step, sizeof(step), "replant, write fails: ");
	ASSERT_EQ(bp_sw_lift(f->sw, 0x1000), 0);
	f->mem.fail_write_in = 1;
	ASSERT_EQ(bp_sw_replant(f->sw, 0x1000), -EIO);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x1000, &info), 0);
	assert_true(info.lifted);
	ASSERT_UEQ(ram[0x1000], pristine[0x1000]);
	ASSERT_EQ(bp_sw_replant(f->sw, 0x1000), 0);

	/* remove_all keeps exactly the patch it could not restore. */
	snprintf(step, sizeof(step), "remove_all with one bad page: ");
	ASSERT_EQ(bp_sw_insert(f->sw, 0x2000, 0x2000), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x3000, 0x3000), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x13000, 0x3000), 0);
	f->mem.fail_gpa_on = true;
	f->mem.fail_gpa = 0x3000;
	ASSERT_EQ(bp_sw_remove_all(f->sw), -EIO);
	ASSERT_EQ(bp_sw_count(f->sw), 2);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), 1);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x13000, NULL), 0);
	ASSERT_UEQ(ram[0x3000], X86_INT3);
	ASSERT_UEQ(ram[0x1000], pristine[0x1000]);
	ASSERT_UEQ(ram[0x2000], pristine[0x2000]);
	snprintf(step, sizeof(step), "remove_all retried: ");
	f->mem.fail_gpa_on = false;
	ASSERT_EQ(bp_sw_remove_all(f->sw), 0);
	ASSERT_EQ(bp_sw_count(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_guest_overwrote_trap(void **state)
{
	struct fixture *f = *state;
	struct bp_sw_info info;
	uint8_t buf[4];

	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, 0x1000), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1004, 0x1004), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1008, 0x1008), 0);
	ASSERT_EQ(bp_sw_check_intact(f->sw, false), 0);

	/* The guest stores a whole new instruction over the first trap and
	 * two bytes over the second (stores bypass the debugger). */
	ram[0x1000] = 0x1f;
	ram[0x1001] = 0x20;
	ram[0x1002] = 0x03;
	ram[0x1003] = 0xd5;
	ram[0x1006] = 0x77;
	ram[0x1007] = 0x88;
	snprintf(step, sizeof(step), "read after guest stores: ");
	dbg_read(f, 0x1000, buf, 4);
	ASSERT_MEM_EQ(buf, ram + 0x1000, 4);
	dbg_read(f, 0x1004, buf, 4);
	ASSERT_MEM_EQ(buf, pristine + 0x1004, 2);
	ASSERT_UEQ(buf[2], 0x77);
	ASSERT_UEQ(buf[3], 0x88);
	ASSERT_EQ(bp_sw_check_intact(f->sw, false), 2);

	snprintf(step, sizeof(step), "remove after guest stores: ");
	memcpy(buf, ram + 0x1000, 4);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1000), 0);
	ASSERT_MEM_EQ(ram + 0x1000, buf, 4); /* the guest's bytes stay */

	snprintf(step, sizeof(step), "repair: ");
	ASSERT_EQ(bp_sw_check_intact(f->sw, true), 1);
	ASSERT_MEM_EQ(ram + 0x1004, trap_arm64, 4);
	ASSERT_EQ(bp_sw_lookup(f->sw, 0x1004, &info), 0);
	ASSERT_MEM_EQ(info.orig, pristine + 0x1004, 2);
	ASSERT_UEQ(info.orig[2], 0x77);
	ASSERT_UEQ(info.orig[3], 0x88);
	ASSERT_EQ(bp_sw_check_intact(f->sw, false), 0);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1004), 0);
	ASSERT_MEM_EQ(ram + 0x1004, pristine + 0x1004, 2);
	ASSERT_UEQ(ram[0x1006], 0x77);
	ASSERT_UEQ(ram[0x1007], 0x88);
	ASSERT_EQ(bp_sw_remove(f->sw, 0x1008), 0);
	ASSERT_MEM_EQ(ram + 0x1008, pristine + 0x1008, 4);
}

static void test_arm64_alignment(void **state)
{
	struct fixture *f = *state;

	ASSERT_EQ(bp_sw_insert(f->sw, 0x1002, 0x1002), -EINVAL);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1004, 0x1001), -EINVAL);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1001, 0x1004), -EINVAL);
	ASSERT_EQ(f->mem.reads + f->mem.writes, 0);
	/* The last aligned word of the address space is fine (not RAM). */
	ASSERT_EQ(bp_sw_insert(f->sw, 0x1000, UINT64_MAX - 3), -EFAULT);
	ASSERT_EQ(bp_sw_count(f->sw), 0);
}

static void test_ppc_trap(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[12];

	ASSERT_EQ(bp_sw_insert(f->sw, 0xc000000000010000ULL, 0x10000), 0);
	ASSERT_MEM_EQ(ram + 0x10000, trap_ppc, 4);
	dbg_read(f, 0xfffc, buf, sizeof(buf));
	ASSERT_MEM_EQ(buf, pristine + 0xfffc, sizeof(buf));
	ASSERT_EQ(bp_sw_remove(f->sw, 0xc000000000010000ULL), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
}

static void test_iterator(void **state)
{
	struct fixture *f = *state;
	const uint64_t addrs[] = {0x500, 0x100, 0x300, 0x200};
	struct bp_sw_info info;
	size_t cur = 0, i;

	assert_false(bp_sw_next(f->sw, &cur, &info));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(bp_sw_insert(f->sw, addrs[i], addrs[i] + 0x1000), 0);
	ASSERT_EQ(bp_sw_insert(f->sw, 0x300, 0x1300), 0);
	cur = 0;
	for (i = 1; i <= 5; i++) {
		snprintf(step, sizeof(step), "item %zu: ", i);
		if (i == 5)
			break;
		assert_true(bp_sw_next(f->sw, &cur, &info));
		ASSERT_UEQ(info.addr, 0x100 * (i < 4 ? i : 5));
		ASSERT_UEQ(info.gpa, info.addr + 0x1000);
		ASSERT_EQ(info.count, info.addr == 0x300 ? 2 : 1);
	}
	assert_false(bp_sw_next(f->sw, &cur, &info));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10,000 breakpoints: inserts, lookups and a read of all RAM must stay
 * far from O(n) per byte (that would be 4e10 steps here). */
static void test_many_breakpoints(void **state)
{
	enum { N = 10000 };
	struct fixture *f = *state;
	static uint64_t gpas[N];
	static uint8_t buf[RAM_SIZE];
	struct bp_sw_patch_info pi;
	double t0 = now(), dt;
	size_t i, cur = 0;
	struct bp_sw_info info;

	/* Distinct gpas spread over RAM, inserted in scrambled order. */
	for (i = 0; i < N; i++)
		gpas[i] = ((i * 7919) % N) * (RAM_SIZE / N);
	for (i = 0; i < N; i++)
		ASSERT_EQ(bp_sw_insert(f->sw, 0xffff000000000000ULL + gpas[i],
				       gpas[i]),
			  0);
	ASSERT_EQ(bp_sw_count(f->sw), N);
	ASSERT_EQ(bp_sw_nr_patches(f->sw), N);
	for (i = 0; i < N; i++) {
		ASSERT_EQ(bp_sw_lookup_gpa(f->sw, gpas[i], &pi), 0);
		ASSERT_UEQ(pi.gpa, gpas[i]);
		ASSERT_EQ(
		    bp_sw_lookup(f->sw, 0xffff000000000000ULL + gpas[i], NULL),
		    0);
	}
	while (bp_sw_next(f->sw, &cur, &info))
		ASSERT_UEQ(ram[info.gpa], X86_INT3);
	ASSERT_EQ(cur, N);
	for (i = 0; i < 4; i++) {
		dbg_read(f, 0, buf, RAM_SIZE);
		ASSERT_MEM_EQ(buf, pristine, RAM_SIZE);
	}
	ASSERT_EQ(bp_sw_remove_all(f->sw), 0);
	ASSERT_MEM_EQ(ram, pristine, RAM_SIZE);
	dt = now() - t0;
	if (dt > 5.0)
		fail_msg("10,000 breakpoints took %.2f s, want < 5 s", dt);
}

int main(void)
{
#define X86(t) cmocka_unit_test_setup_teardown(t, setup_x86, teardown)
#define ARM64(t) cmocka_unit_test_setup_teardown(t, setup_arm64, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_rejects_bad_traps),
	    X86(test_x86_refcount),
	    X86(test_double_insert_patches_once),
	    X86(test_alias_two_addrs_one_gpa),
	    X86(test_remove_unknown),
	    X86(test_x86_shadow_read_mixed),
	    ARM64(test_arm64_shadow_read_partial),
	    X86(test_x86_filter_write),
	    ARM64(test_arm64_filter_write_partial),
	    X86(test_x86_remove_all_identical),
	    ARM64(test_arm64_remove_all_identical),
	    ARM64(test_lift_replant),
	    X86(test_memory_errors_leave_state_consistent),
	    ARM64(test_guest_overwrote_trap),
	    ARM64(test_arm64_alignment),
	    cmocka_unit_test_setup_teardown(test_ppc_trap, setup_ppc, teardown),
	    X86(test_iterator),
	    X86(test_many_breakpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
