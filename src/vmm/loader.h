/* ELF guest images: validation and loading into guest memory through
 * libelf. Architecture-neutral; the caller names the accepted machines. */
#ifndef KVMDBG_VMM_LOADER_H
#define KVMDBG_VMM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A range of guest-physical RAM the image may be loaded into. */
struct loader_ram {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva; /* host mapping of the whole range */
};

struct loader_config {
	const struct loader_ram *ram; /* sorted, non-overlapping */
	unsigned nr_ram;
	/* Guest-physical bytes [0, reserved_end) belong to the VMM (boot
	 * structures); no segment may touch them. */
	uint64_t reserved_end;
	uint16_t machine64; /* e_machine accepted for ELFCLASS64 */
	uint16_t machine32; /* e_machine accepted for ELFCLASS32, 0 = none */
};

#define LOADER_MAX_SEGMENTS 32

struct loader_image {
	uint64_t entry; /* e_entry */
	bool has_pvh; /* XEN_ELFNOTE_PHYS32_ENTRY present */
	uint32_t pvh_entry;
	bool is_64; /* ELFCLASS64 */
	uint16_t machine;
	uint64_t lowest_gpa; /* first byte loaded */
	uint64_t highest_gpa; /* one past the last byte loaded (memsz) */
	unsigned nr_segments;
	struct {
		uint64_t gpa, memsz, filesz, vaddr;
		uint32_t flags; /* PF_X | PF_W | PF_R */
	} segments[LOADER_MAX_SEGMENTS];
};

/*
 * Validate the ELF file at path and copy its PT_LOAD segments into guest
 * RAM (by physical address, zero-filling memsz beyond filesz). Nothing is
 * written to guest memory unless every check passes. Returns 0, or a
 * negative errno with a one-line human-readable reason in err (no trailing
 * newline, no program name), e.g. "guest.elf: not an ELF file".
 * Errors: -EINVAL for a bad image, -errno from open/read for file errors
 * (-ENOENT, -EACCES, ...), -EISDIR, -EFBIG above 1 GiB, -ENOMEM. *out is
 * written only on success.
 */
int loader_load_file(const char *path, const struct loader_config *cfg,
		     struct loader_image *out, char *err, size_t errlen);

/* The same for an image already in memory (used by tests and fuzzing);
 * name is used in messages. */
int loader_load_mem(const char *name, const void *data, size_t size,
		    const struct loader_config *cfg, struct loader_image *out,
		    char *err, size_t errlen);

#endif
