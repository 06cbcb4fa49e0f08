/* The arm64 Linux kernel Image header (Documentation/arch/arm64/booting.rst):
 * pure parsing, for the loader and its tests. */
#ifndef KVMDBG_ARCH_ARM64_IMAGE_H
#define KVMDBG_ARCH_ARM64_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" at offset 56 */
/* Before Linux 3.17 the header carried no size and the text offset was
 * 0x80000 whatever it said. */
#define ARM64_IMAGE_LEGACY_OFFSET 0x80000u

struct arm64_image {
	uint64_t text_offset; /* load at a 2 MiB aligned base + this */
	uint64_t image_size;  /* bytes from the load address the kernel uses,
			       * bss included; at least the file size */
	bool big_endian;
	unsigned page_kb;     /* 4, 16, 64, or 0: unspecified */
	bool anywhere;	      /* flags bit 3: the base need not be near the
			       * start of RAM */
};

/* Whether the first bytes of a file are an Image header (the magic). */
bool arm64_image_is(const void *data, size_t size);
/*
 * Parse the header of an Image of file_size bytes. Returns 0, or -EINVAL
 * with err saying why (too short, no magic, big-endian kernel, reserved
 * page size, text offset not 4 KiB aligned or above 2 MiB).
 */
int arm64_image_parse(const void *data, size_t file_size,
		      struct arm64_image *out, char *err, size_t errlen);

#endif
