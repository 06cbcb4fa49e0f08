/* The arm64 Linux Image header: fields, the pre-3.17 defaults and the
 * images kvmdbg refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "arch/arm64/image.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void header(uint8_t h[64], uint64_t text_offset, uint64_t size,
		   uint64_t flags)
{
	memset(h, 0, 64);
	put64(h + 8, text_offset);
	put64(h + 16, size);
	put64(h + 24, flags);
	memcpy(h + 56, "ARM\x64", 4);
}

static void test_fields(void **state)
{
	struct arm64_image ai;
	uint8_t h[64];
	char err[128];

	(void)state;
	/* 4K pages (flags[2:1] = 1), placement anywhere (flags[3]). */
	header(h, 0x80000, 0x2000000, 0xa);
	assert_true(arm64_image_is(h, sizeof(h)));
	ASSERT_EQ(arm64_image_parse(h, 0x1000000, &ai, err, sizeof(err)), 0);
	ASSERT_HEX(ai.text_offset, 0x80000);
	ASSERT_HEX(ai.image_size, 0x2000000);
	ASSERT_EQ(ai.page_kb, 4);
	assert_true(ai.anywhere);
	assert_false(ai.big_endian);
	/* 64K pages, placed near the start of RAM. */
	header(h, 0, 0x10000, 0x6);
	ASSERT_EQ(arm64_image_parse(h, 0x8000, &ai, err, sizeof(err)), 0);
	ASSERT_EQ(ai.page_kb, 64);
	assert_false(ai.anywhere);
	/* image_size smaller than the file: the file counts. */
	header(h, 0, 0x1000, 0x2);
	ASSERT_EQ(arm64_image_parse(h, 0x3000, &ai, err, sizeof(err)), 0);
	ASSERT_HEX(ai.image_size, 0x3000);
	ASSERT_EQ(ai.page_kb, 4);
}

static void test_legacy(void **state)
{
	struct arm64_image ai;
	uint8_t h[64];
	char err[128];

	(void)state;
	/* Before 3.17: image_size 0, text offset 0x80000 whatever the header
	 * says, flags meaningless. */
	header(h, 0x1234, 0, 0xffff);
	ASSERT_EQ(arm64_image_parse(h, 0x5000, &ai, err, sizeof(err)), 0);
	ASSERT_HEX(ai.text_offset, ARM64_IMAGE_LEGACY_OFFSET);
	ASSERT_HEX(ai.image_size, 0x5000);
	assert_false(ai.big_endian);
	ASSERT_EQ(ai.page_kb, 0);
}

static void test_refused(void **state)
{
	struct arm64_image ai;
	uint8_t h[64];
	char err[128];

	(void)state;
	header(h, 0, 0x1000, 1);
	ASSERT_EQ(arm64_image_parse(h, 64, &ai, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "big-endian"));
	header(h, 0x800, 0x1000, 0);
	ASSERT_EQ(arm64_image_parse(h, 64, &ai, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "text offset 0x800"));
	header(h, 0x200000, 0x1000, 0);
	ASSERT_EQ(arm64_image_parse(h, 64, &ai, err, sizeof(err)), -EINVAL);
	header(h, 0, 0x1000, 0);
	ASSERT_EQ(arm64_image_parse(h, 63, &ai, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too short"));
	assert_false(arm64_image_is(h, 63));
	h[59] = 0x65;
	assert_false(arm64_image_is(h, 64));
	ASSERT_EQ(arm64_image_parse(h, 64, &ai, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "magic"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
