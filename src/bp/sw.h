/* Software breakpoints (gdb's Z0/z0): reference-counted trap-instruction
 * patches in guest-physical memory, hidden from the debugger's memory view. */
#ifndef KVMDBG_BP_SW_H
#define KVMDBG_BP_SW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The module is pure bookkeeping. It never translates addresses and never
 * touches KVM: it patches guest memory only through the physical-memory
 * interface below, so unit tests drive it against a fake RAM.
 *
 * Two tables:
 *
 *   breakpoints  keyed by `addr`, the address gdb gave in Z0 (guest-virtual),
 *                each with a use count: insert twice and remove once, and
 *                the breakpoint is still there.
 *   patches      keyed by `gpa`, the guest-physical address the caller
 *                resolved for `addr` at insert time. Several breakpoints can
 *                share one patch when their virtual addresses alias the same
 *                physical bytes; the patch saves the original bytes once and
 *                counts its breakpoints, so the second alias never saves the
 *                trap as "original".
 *
 * A trap is trap_len bytes (1, 2, 4 or 8) and must sit at an address that
 * is a multiple of trap_len, both virtually and physically (x86 INT3: any
 * byte; arm64 BRK and ppc trap: 4-byte aligned, which these ISAs require of
 * every instruction anyway). Natural alignment guarantees that a trap never
 * crosses a page, so one gpa describes every byte of it, and that two
 * patches either coincide or are disjoint.
 *
 * Concurrency: the tables change only through the non-const functions; the
 * const ones (lookups, shadow_read, iteration) only read, so vCPU threads
 * may call them concurrently while the tables are not being changed (in
 * kvmdbg the tables change only while every vCPU is parked).
 */

#define BP_SW_MAX_TRAP 8

/*
 * Guest-physical memory. Each call covers [gpa, gpa+len) and returns 0 or a
 * negative errno (-EFAULT outside guest RAM). A failing call must leave
 * memory unchanged: the module relies on it to stay consistent.
 */
struct bp_sw_mem {
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	void *ctx;
};

struct bp_sw;

/* One breakpoint, as the debugger knows it. */
struct bp_sw_info {
	uint64_t addr;	  /* the address from Z0 */
	uint64_t gpa;	  /* where its trap is patched */
	unsigned count;	  /* Z0s not yet matched by a z0 */
	unsigned aliases; /* breakpoints sharing the patch, this one included */
	bool lifted;	  /* the patch is lifted (see bp_sw_lift) */
	uint8_t orig[BP_SW_MAX_TRAP]; /* saved original bytes, trap_len used */
};

/* One patch: the trap bytes at one physical address. */
struct bp_sw_patch_info {
	uint64_t gpa;	  /* first byte of the trap */
	unsigned aliases; /* breakpoints (distinct addrs) sharing it */
	unsigned lifted;  /* nesting depth of bp_sw_lift, 0 when planted */
	uint8_t orig[BP_SW_MAX_TRAP];
};

/*
 * Create an empty table. `trap` is the trap instruction's bytes in memory
 * order (x86: {0xcc}; arm64 BRK #0: {0x00, 0x00, 0x20, 0xd4}; ppc trap
 * 0x7fe00008 in the guest's byte order); trap_len is 1, 2, 4 or 8, else
 * -EINVAL. The memory interface is copied; its callbacks must not call back
 * into this module. Returns 0 or -ENOMEM.
 */
int bp_sw_create(const uint8_t *trap, size_t trap_len,
		 const struct bp_sw_mem *mem, struct bp_sw **out);
/*
 * Free the tables. Guest memory is not touched (the guest may be gone): call
 * bp_sw_remove_all first to put the original bytes back. NULL is a no-op.
 */
void bp_sw_destroy(struct bp_sw *sw);

/* The trap bytes this table patches; *len receives trap_len. */
const uint8_t *bp_sw_trap(const struct bp_sw *sw, size_t *len);

/*
 * Insert a breakpoint at `addr` whose trap goes at `gpa`.
 *
 * An `addr` already present only gains a count; its first gpa stays (if the
 * guest remapped `addr` since, the breakpoint still guards the old physical
 * bytes: remove and re-insert it to move it). A new `addr` whose gpa already
 * holds one of our patches shares that patch without touching memory.
 * Otherwise the original bytes are read and the trap written.
 *
 * Returns 0; -EINVAL when addr or gpa is not a multiple of trap_len;
 * -ENOMEM; -EOVERFLOW when the count would wrap; or the memory interface's
 * error, in which case nothing changed.
 */
int bp_sw_insert(struct bp_sw *sw, uint64_t addr, uint64_t gpa);

/*
 * Drop one count of the breakpoint at `addr`. When its last count goes and
 * no other breakpoint shares the patch, the original bytes are written back
 * -- but only where the trap is still in memory: a byte of the trap that the
 * guest has rewritten since (self-modifying code, a loader reusing the page)
 * keeps the guest's value. A lifted patch already holds the guest's bytes
 * and is simply forgotten.
 *
 * Returns 0; -ENOENT when no breakpoint is set at `addr` (nothing changed);
 * or the memory interface's error, in which case the breakpoint keeps its
 * count and its patch.
 */
int bp_sw_remove(struct bp_sw *sw, uint64_t addr);

/*
 * Restore every patch and forget every breakpoint: for detach, kill and a
 * dropped connection, after which guest memory is byte-identical to a run
 * that never had breakpoints (except bytes the guest itself overwrote, see
 * bp_sw_remove). A patch whose memory access fails is kept, together with
 * its breakpoints, so the table still describes memory; the first error is
 * returned and a later call retries the rest.
 */
int bp_sw_remove_all(struct bp_sw *sw);

/* The breakpoint at `addr`: 0 and *out filled (out may be NULL) or -ENOENT. */
int bp_sw_lookup(const struct bp_sw *sw, uint64_t addr, struct bp_sw_info *out);
/*
 * The patch whose trap covers `gpa` (any of its trap_len bytes): 0 and *out
 * filled (out may be NULL), or -ENOENT. This answers the classifier's "is
 * this trap at this pc one of ours?" in O(log n). A lifted patch is still
 * reported (with lifted > 0): the caller decides what a lifted trap means.
 */
int bp_sw_lookup_gpa(const struct bp_sw *sw, uint64_t gpa,
		     struct bp_sw_patch_info *out);

/*
 * Hide the traps from a read. The caller has just read raw guest memory
 * [gpa, gpa+len) into buf; every byte of buf that lies on a planted patch is
 * replaced by the saved original, including traps only partly inside the
 * window. A byte that no longer holds its trap byte (the guest overwrote it)
 * is left as read, so the debugger sees the guest's code, as bp_sw_remove
 * would leave it. Costs O(log n + patches in the window).
 */
void bp_sw_shadow_read(const struct bp_sw *sw, uint64_t gpa, void *buf,
		       size_t len);

/*
 * Keep the traps under a write. Call it right before writing buf to guest
 * memory [gpa, gpa+len), once the write can no longer fail (the range has
 * been checked): for every byte of buf that lies on a planted patch, the new
 * byte becomes the saved original and buf gets the trap byte back, so the
 * breakpoint survives the write and a later read shows the new bytes.
 * Lifted patches are not filtered: memory holds real bytes under them, and
 * bp_sw_replant adopts whatever it finds there.
 */
void bp_sw_filter_write(struct bp_sw *sw, uint64_t gpa, void *buf, size_t len);

/*
 * Step over a breakpoint: lift puts the original bytes of `addr`'s patch
 * back into memory, replant writes the trap again. In between the caller
 * single-steps the one vCPU sitting on the breakpoint, every other vCPU
 * parked. The lift applies to the patch, so it lifts every alias of the same
 * physical bytes; lifts nest (a patch is planted again at its last replant).
 * Replant first reads the bytes now in memory and saves those as the
 * original, so a debugger write or a guest store during the step is kept.
 *
 * Lift restores bytes the way bp_sw_remove does (a byte the guest rewrote
 * stays the guest's). Return 0; -ENOENT (no breakpoint at addr); -EINVAL
 * for a replant without a lift; or the memory interface's error with
 * nothing changed.
 */
int bp_sw_lift(struct bp_sw *sw, uint64_t addr);
int bp_sw_replant(struct bp_sw *sw, uint64_t addr);

/*
 * Find planted patches whose trap is no longer wholly in memory because the
 * guest wrote over some of its bytes. With `repair`, each such patch adopts
 * the guest's new bytes as its original (bytes still holding the trap keep
 * the saved original) and its trap is written again, so the breakpoint
 * guards the guest's new code. Returns how many patches were found broken
 * (>= 0), or a memory error (repairs done before it stay done).
 */
int bp_sw_check_intact(struct bp_sw *sw, bool repair);

/* Number of breakpoints (distinct addrs) and of patches (distinct gpas). */
size_t bp_sw_count(const struct bp_sw *sw);
size_t bp_sw_nr_patches(const struct bp_sw *sw);

/*
 * Iterate the breakpoints in increasing addr order: start with *cursor = 0;
 * each call fills *out and returns true, or returns false at the end. The
 * table must not change during an iteration.
 */
bool bp_sw_next(const struct bp_sw *sw, size_t *cursor, struct bp_sw_info *out);

#endif
