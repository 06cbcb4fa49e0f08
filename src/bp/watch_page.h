/* Page-protection watchpoints: any number, any length, true read watches.
 * Watched pages are made read-only or unmapped; their accesses exit as MMIO
 * and are checked here against the watched bytes. */
#ifndef KVMDBG_BP_WATCH_PAGE_H
#define KVMDBG_BP_WATCH_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A watch is what gdb asked for: (type, addr, len) at a guest-virtual
 * address, reference-counted. At insert the caller resolves each virtual
 * page the watch touches to its physical page (a translate callback), and
 * the watch is kept as segments of physical bytes, each within one page,
 * remembering the virtual address of its first byte.
 *
 * Each physical page under a watch needs a protection:
 *
 *   RO    only write watches on the page: writes exit, reads run;
 *   NONE  some read or access watch on the page: every access exits;
 *   RW    no watch left: the page is ordinary RAM again.
 *
 * The module computes it per page and reports only changes, through
 * set_prot, which maps onto the VMM's memslots_protect(gpa_page, page_size,
 * prot) (the values match enum mem_prot). The VMM completes every access
 * that exits (reads from, writes to guest RAM) and asks bp_wp_check whether
 * it was a hit.
 *
 * The physical view is what matters: two virtual watches aliasing one
 * physical page share its protection, and a hit is decided on physical
 * bytes, then reported in the virtual terms of the watch that matched.
 *
 * Const functions only read, so vCPU threads may call bp_wp_check and
 * bp_wp_prot_at concurrently while the tables do not change.
 */

/* Values match gdb's Z packet types (and enum bp_hw_type). */
enum bp_wp_type {
	BP_WP_WRITE = 2,  /* Z2 */
	BP_WP_READ = 3,	  /* Z3 */
	BP_WP_ACCESS = 4, /* Z4 */
};

/* Values match enum mem_prot in vmm/memslots.h. */
enum bp_wp_prot {
	BP_WP_PROT_RW = 0,
	BP_WP_PROT_RO = 1,
	BP_WP_PROT_NONE = 2,
};

/*
 * Change the protection of the physical page at gpa_page (page_size bytes).
 * Returns 0 or a negative errno; a failing call must leave that page's
 * protection as it was. Called only for a real change, and never re-entered:
 * it must not call back into this module.
 */
typedef int (*bp_wp_set_prot_fn)(void *ctx, uint64_t gpa_page,
				 enum bp_wp_prot prot);

/*
 * Resolve the virtual page at gva_page to its physical page: 0 and
 * *gpa_page (page-aligned), or a negative errno (-EFAULT when unmapped).
 */
typedef int (*bp_wp_translate_fn)(void *ctx, uint64_t gva_page,
				  uint64_t *gpa_page);

struct bp_wp_config {
	/* Granularity of protection: a power of two, normally 4096. */
	uint64_t page_size;
	bp_wp_set_prot_fn set_prot;
	void *ctx;
};

/* A watch, as gdb knows it. */
struct bp_wp_info {
	enum bp_wp_type type;
	uint64_t addr, len;
	unsigned count; /* Z packets not yet matched by a z packet */
};

/* What bp_wp_check found. */
enum bp_wp_result {
	/* gpa is on no protected page: not ours (a device's MMIO). */
	BP_WP_NOT_OURS = 0,
	/* On a protected page but no matching watch overlaps the access:
	 * complete the access and continue the guest. */
	BP_WP_MISS,
	/* A watch of a matching type overlaps the accessed bytes. */
	BP_WP_HIT,
};

struct bp_wp_hit {
	enum bp_wp_type type; /* of the watch reported: watch/rwatch/awatch */
	uint64_t watch_addr, watch_len; /* the watch as gdb set it */
	/*
	 * Guest-virtual address of the first accessed byte inside the watch
	 * (watch_addr + offset): what the stop reply reports and what gdb
	 * matches against its watchpoint ranges.
	 */
	uint64_t addr;
	/* Matching watches overlapping the access (>= 1 on a hit). */
	unsigned nr_matches;
};

struct bp_wp;

/* Returns 0, -EINVAL (bad page size, no set_prot) or -ENOMEM. */
int bp_wp_create(const struct bp_wp_config *cfg, struct bp_wp **out);
/*
 * Free the tables without touching protections (the VM may be gone): call
 * bp_wp_remove_all first to make every page RW again. NULL is a no-op.
 */
void bp_wp_destroy(struct bp_wp *wp);

/* Number of pages [addr, addr+len) touches (0 for len 0 or a wrap). */
uint64_t bp_wp_nr_pages(const struct bp_wp *wp, uint64_t addr, uint64_t len);

/*
 * Insert a watch. An identical (type, addr, len) only gains a count and does
 * not translate. Otherwise each virtual page of the range is translated
 * once, the page counts updated and every page whose protection changes is
 * reported, in increasing physical address order (one call per page).
 *
 * Returns 0; -EINVAL (bad type, len 0, range wraps past 2^64, translate
 * gave an unaligned gpa); -ENOMEM; -EOVERFLOW (count saturated); or the
 * error of translate or set_prot. On error nothing changed: protections
 * already changed are set back (in reverse order) before returning.
 */
int bp_wp_insert(struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		 uint64_t len, bp_wp_translate_fn translate, void *tctx);
/*
 * Drop one count; the last one removes the watch and relaxes its pages.
 * Returns 0; -ENOENT (no such watch, nothing changed); or set_prot's
 * error, in which case the watch keeps its count and every page its
 * protection (changes already made are set back).
 */
int bp_wp_remove(struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		 uint64_t len);
/*
 * Forget every watch and make every protected page RW (detach, kill,
 * disconnect). A page whose set_prot fails stays recorded with its old
 * protection and no watch (accesses to it are then BP_WP_MISS); the first
 * error is returned and a later call retries. Returns 0 when every page is
 * RW again.
 */
int bp_wp_remove_all(struct bp_wp *wp);

/*
 * Classify an access exit at guest-physical [gpa, gpa+len). A write is
 * matched by WRITE and ACCESS watches, a read by READ and ACCESS watches,
 * and only watches whose physical bytes overlap the accessed bytes count
 * (touching is not overlapping). On BP_WP_HIT, *hit (may be NULL) reports
 * one matching watch: one of the access's own kind (WRITE for a write,
 * READ for a read) before an ACCESS one, then the lowest overlapping byte.
 * O(log pages + segments on the accessed pages).
 */
enum bp_wp_result bp_wp_check(const struct bp_wp *wp, uint64_t gpa,
			      uint64_t len, bool is_write,
			      struct bp_wp_hit *hit);

/* Protection this module gave the page holding gpa (RW when none). */
enum bp_wp_prot bp_wp_prot_at(const struct bp_wp *wp, uint64_t gpa);
/* Whether the page holding gpa is RO or NONE because of a watch. */
bool bp_wp_is_protected(const struct bp_wp *wp, uint64_t gpa);

/* The watch (type, addr, len): 0 and *out filled (may be NULL), -ENOENT. */
int bp_wp_lookup(const struct bp_wp *wp, enum bp_wp_type t, uint64_t addr,
		 uint64_t len, struct bp_wp_info *out);
/* Number of distinct watches, and of pages not RW. */
size_t bp_wp_count(const struct bp_wp *wp);
size_t bp_wp_nr_protected(const struct bp_wp *wp);
/*
 * Iterate the watches, oldest first: start with *cursor = 0; true and *out
 * filled, or false at the end. The tables must not change meanwhile.
 */
bool bp_wp_next(const struct bp_wp *wp, size_t *cursor, struct bp_wp_info *out);

#endif
