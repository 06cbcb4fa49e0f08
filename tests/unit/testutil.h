/* Assertions shared by kvmdbg's cmocka tests. They print both sides, in
 * decimal and hex: cmocka's own integer asserts print hex only and lose
 * the sign of -EINVAL. Include after <cmocka.h>. */
#ifndef KVMDBG_TESTS_TESTUTIL_H
#define KVMDBG_TESTS_TESTUTIL_H

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define ASSERT_EQ(got, want)                                                   \
	do {                                                                   \
		long long got_ = (long long)(got);                             \
		long long want_ = (long long)(want);                           \
		if (got_ != want_)                                             \
			fail_msg("%s == %lld (%#llx), want %s == %lld (%#llx)", \
				 #got, got_, (unsigned long long)got_, #want,  \
				 want_, (unsigned long long)want_);            \
	} while (0)

#define ASSERT_UEQ(got, want)                                                  \
	do {                                                                   \
		unsigned long long got_ = (unsigned long long)(got);           \
		unsigned long long want_ = (unsigned long long)(want);         \
		if (got_ != want_)                                             \
			fail_msg("%s == %#llx, want %s == %#llx", #got, got_,  \
				 #want, want_);                                \
	} while (0)

#define ASSERT_HEX(got, want) ASSERT_UEQ(got, want)

/* NULL-safe string equality (needs <string.h>). */
#define ASSERT_STR(got, want)                                                  \
	do {                                                                   \
		const char *got_ = (got), *want_ = (want);                     \
		if (!got_ || !want_ ? got_ != want_ : strcmp(got_, want_))     \
			fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", #got,    \
				 got_ ? got_ : "(null)",                       \
				 want_ ? want_ : "(null)");                    \
	} while (0)

#endif
