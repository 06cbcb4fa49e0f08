/* Guest-physical RAM split into KVM memslots, so that any page range can be
 * made read-only or unmapped (page-protection watchpoints) and restored.
 * Pure bookkeeping: the KVM side is a callback, so tests drive it alone. */
#ifndef KVMDBG_VMM_MEMSLOTS_H
#define KVMDBG_VMM_MEMSLOTS_H

#include <stdint.h>
#include <stddef.h>

enum mem_prot {
	MEM_PROT_RW = 0, /* ordinary RAM */
	MEM_PROT_RO, /* guest writes exit as MMIO */
	MEM_PROT_NONE, /* no slot: every guest access exits as MMIO */
};

/* Install (size > 0) or delete (size == 0) KVM slot `slot`. */
typedef int (*memslots_set_fn)(void *ctx, uint32_t slot, uint64_t gpa,
			       uint64_t size, void *hva, enum mem_prot prot);

struct mem_span {
	uint64_t gpa, size;
	uint8_t *hva;
	enum mem_prot prot;
	int slot; /* -1 when not installed (MEM_PROT_NONE) */
	unsigned ram; /* index of the RAM range it belongs to */
};

#define MEMSLOTS_MAX_SPANS 512

struct memslots {
	struct mem_span spans[MEMSLOTS_MAX_SPANS];
	unsigned nr_spans;
	unsigned nr_ram;
	uint32_t max_slots;
	uint8_t slot_used[MEMSLOTS_MAX_SPANS];
	/* The layout memslots_protect plans before touching KVM. */
	struct mem_span next[MEMSLOTS_MAX_SPANS];
	memslots_set_fn set;
	void *ctx;
};

void memslots_init(struct memslots *ms, uint32_t max_slots, memslots_set_fn set,
		   void *ctx);
/* Add a RAM range (page-aligned, not overlapping others) as one slot. */
int memslots_add_ram(struct memslots *ms, uint64_t gpa, uint64_t size,
		     uint8_t *hva);
/* Change the protection of [gpa, gpa+size) (page-aligned, inside RAM). */
int memslots_protect(struct memslots *ms, uint64_t gpa, uint64_t size,
		     enum mem_prot prot);
/* Protection of the page holding gpa; -ENOENT outside RAM. */
int memslots_prot_at(const struct memslots *ms, uint64_t gpa,
		     enum mem_prot *out);
/* Number of KVM slots installed now. */
unsigned memslots_nr_installed(const struct memslots *ms);

#endif
