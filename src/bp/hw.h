/* Hardware breakpoints and watchpoints (gdb's Z1-Z4): a reference-counted
 * allocator over one bank of debug address registers, shared by all vCPUs. */
#ifndef KVMDBG_BP_HW_H
#define KVMDBG_BP_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A pool models one register bank: x86 has a single bank (DR0-DR3) serving
 * every type, so it creates one pool of 4 slots for EXEC, WRITE and ACCESS;
 * arm64 has separate banks, so it creates an EXEC pool over its BVR/BCR
 * pairs and a WRITE/READ/ACCESS pool over its WVR/WCR pairs. Every vCPU
 * loads the same slots: the pool is global, not per vCPU.
 *
 * The pool knows nothing of register encodings. The architecture says what
 * one slot can watch through `fits`; the pool splits a request the
 * registers cannot express into pieces that each fit, and the arch code
 * encodes the resulting slot table (bp_hw_get_slot) into its registers.
 *
 * Requests are what gdb asked for: (type, addr, len), reference-counted, so
 * a second identical Z packet only counts and a z packet releases a count.
 * All functions are O(nr_slots * pieces) or better; pools are small.
 * Const functions only read and may run concurrently with each other.
 */

/* Values match gdb's Z packet types. */
enum bp_hw_type {
	BP_HW_EXEC = 1,	  /* Z1: hardware breakpoint */
	BP_HW_WRITE = 2,  /* Z2: write watchpoint */
	BP_HW_READ = 3,	  /* Z3: read watchpoint */
	BP_HW_ACCESS = 4, /* Z4: access (read or write) watchpoint */
};

#define BP_HW_TYPE_BIT(t) (1u << (t))

struct bp_hw_config {
	/* Number of registers in the bank (1..64). */
	unsigned nr_slots;
	/*
	 * Types this bank can watch, as BP_HW_TYPE_BIT()s. A request for any
	 * other type fails with -EOPNOTSUPP; in particular READ on x86 (which
	 * has no read-only watch) tells the caller to use page protection.
	 */
	unsigned types;
	/* Longest piece one slot can cover (x86: 8; arm64 with MASK: 2 GiB). */
	uint64_t max_len;
	/*
	 * Can one slot watch exactly [addr, addr+len) for type t? Called with
	 * 1 <= len <= max_len and types the bank supports. x86: EXEC needs
	 * len 1; data lengths 1, 2, 4, 8 aligned to themselves. arm64: any
	 * 1..8 bytes inside an aligned doubleword (BAS), or a power of two
	 * from 8 bytes to 2 GiB aligned to itself (MASK).
	 */
	bool (*fits)(void *ctx, enum bp_hw_type t, uint64_t addr, uint64_t len);
	void *ctx;
};

/* One register of the bank, as the arch code encodes it. */
struct bp_hw_slot {
	bool used;
	enum bp_hw_type type;
	uint64_t addr, len; /* what this slot watches; fits() accepted it */
};

/* A request, as gdb knows it. */
struct bp_hw_request {
	enum bp_hw_type type;
	uint64_t addr, len;
	unsigned count;	   /* Z packets not yet matched by a z packet */
	unsigned nr_slots; /* slots its pieces occupy */
};

struct bp_hw;

/* Returns 0, -EINVAL for a bad config, or -ENOMEM. */
int bp_hw_create(const struct bp_hw_config *cfg, struct bp_hw **out);
/* NULL is a no-op. */
void bp_hw_destroy(struct bp_hw *hw);

/*
 * Insert a request. A request identical to one in the pool only gains a
 * count. Otherwise [addr, addr+len) is split, from its start, into the
 * fewest pieces a greedy choice gives: each piece is the longest one from
 * the current address that fits() accepts (candidates: the rest of the
 * range, every power of two, and every distance to a power-of-two
 * boundary, each capped by max_len). The pieces cover the range exactly.
 * EXEC requests are never split: a breakpoint is an address, not a range.
 * Pieces take the lowest-numbered free slots, in address order.
 *
 * All or nothing. Returns 0; -EINVAL (len 0, range wraps past 2^64, or no
 * piece fits); -EOPNOTSUPP (type not in the bank); -ENOSPC (not enough free
 * slots: nothing was allocated); -EOVERFLOW (count saturated).
 */
int bp_hw_insert(struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		 uint64_t len);
/*
 * Drop one count of an identical request; its last count frees all its
 * slots. Returns 0 or -ENOENT (no such request; nothing changed).
 */
int bp_hw_remove(struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		 uint64_t len);
/* Forget every request and free every slot (detach, kill, disconnect). */
void bp_hw_remove_all(struct bp_hw *hw);

unsigned bp_hw_nr_slots(const struct bp_hw *hw);
unsigned bp_hw_nr_free(const struct bp_hw *hw);
/* Number of distinct requests. */
unsigned bp_hw_count(const struct bp_hw *hw);

/* Slot i: 0 and *out filled (used or not), or -EINVAL past the bank. */
int bp_hw_get_slot(const struct bp_hw *hw, unsigned i, struct bp_hw_slot *out);

/*
 * Map a triggered slot (x86: DR6.Bn; arm64: the matching WVR) back to the
 * request it serves, for the stop reply. 0 and *out filled, or -ENOENT when
 * the slot is free or past the bank.
 */
int bp_hw_find_slot(const struct bp_hw *hw, unsigned slot,
		    struct bp_hw_request *out);

/* The request (type, addr, len): 0 and *out filled (may be NULL), -ENOENT. */
int bp_hw_lookup(const struct bp_hw *hw, enum bp_hw_type t, uint64_t addr,
		 uint64_t len, struct bp_hw_request *out);

/*
 * Iterate the requests, oldest first: start with *cursor = 0; true and *out
 * filled, or false at the end. The pool must not change meanwhile.
 */
bool bp_hw_next(const struct bp_hw *hw, size_t *cursor,
		struct bp_hw_request *out);

/*
 * Bumped by every change to the slot table (not by counts alone), so each
 * vCPU can reload its debug registers only when the set changed.
 */
uint64_t bp_hw_generation(const struct bp_hw *hw);

#endif
