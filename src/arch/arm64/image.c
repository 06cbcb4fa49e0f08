/* arm64 Image header. The fields are little-endian whatever the kernel's
 * own endianness (booting.rst: "All fields are little endian"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64/image.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le64((const uint8_t[8]){ p[0], p[1], p[2], p[3] });
}

bool arm64_image_is(const void *data, size_t size)
{
	return size >= ARM64_IMAGE_HEADER_SIZE &&
	       le32((const uint8_t *)data + 56) == ARM64_IMAGE_MAGIC;
}

int arm64_image_parse(const void *data, size_t file_size,
		      struct arm64_image *out, char *err, size_t errlen)
{
	const uint8_t *h = data;
	uint64_t flags;
	unsigned ps;

	if (file_size < ARM64_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen, "too short for an arm64 Image header "
			 "(%zu bytes)", file_size);
		return -EINVAL;
	}
	if (!arm64_image_is(data, file_size)) {
		snprintf(err, errlen, "no arm64 Image magic at offset 56");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->text_offset = le64(h + 8);
	out->image_size = le64(h + 16);
	flags = le64(h + 24);
	if (out->image_size == 0) {
		out->text_offset = ARM64_IMAGE_LEGACY_OFFSET;
		flags = 0;
	}
	out->big_endian = flags & 1;
	ps = (unsigned)(flags >> 1) & 3;
	out->page_kb = ps == 1 ? 4 : ps == 2 ? 16 : ps == 3 ? 64 : 0;
	out->anywhere = (flags >> 3) & 1;
	if (out->big_endian) {
		snprintf(err, errlen, "a big-endian arm64 kernel; kvmdbg runs "
			 "little-endian guests only");
		return -EINVAL;
	}
	if ((out->text_offset & 0xfff) || out->text_offset >= (2u << 20)) {
		snprintf(err, errlen, "arm64 Image text offset 0x%llx is not a "
			 "4 KiB multiple below 2 MiB",
			 (unsigned long long)out->text_offset);
		return -EINVAL;
	}
	if (out->image_size < file_size)
		out->image_size = file_size;
	return 0;
}
