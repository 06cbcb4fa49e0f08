/* Unit tests for kvmdbg-ci's script parser: every statement and count
 * form, canonical names, durations and values at their limits, and the
 * exact line-numbered error for each kind of bad line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ci/script.h"

static struct ci_script *parse_ok(const char *text)
{
	struct ci_script *s = NULL;
	char err[256];
	int ret = ci_script_parse(text, strlen(text), &s, err, sizeof(err));

	if (ret)
		fail_msg("parse failed (%d): %s", ret, err);
	return s;
}

static void parse_bad(const char *text, const char *want)
{
	struct ci_script *s = NULL;
	char err[256];
	int ret = ci_script_parse(text, strlen(text), &s, err, sizeof(err));

	ASSERT_EQ(ret, -EINVAL);
	ASSERT_STR(err, want);
	assert_null(s);
}

static void test_issue_example(void **state)
{
	struct ci_script *s = parse_ok(
		"timeout 20s\n"
		"break kmain\n"
		"break drivers/uart.c:42\n"
		"watch write ticks\n"
		"expect hit kmain once\n"
		"expect hit drivers/uart.c:42 at-least 3\n"
		"expect order uart_init before printk\n"
		"expect no-hit panic\n"
		"expect ticks >= 10 at exit\n"
		"expect exit 0\n");

	ASSERT_EQ(s->timeout_ms, 20000);
	ASSERT_EQ(s->timeout_line, 1);
	ASSERT_EQ(s->nr_points, 3);
	ASSERT_EQ(s->points[0].kind, CI_POINT_BREAK);
	ASSERT_STR(s->points[0].loc, "kmain");
	ASSERT_EQ(s->points[0].line, 2);
	ASSERT_STR(s->points[1].loc, "drivers/uart.c:42");
	ASSERT_EQ(s->points[2].kind, CI_POINT_WATCH);
	ASSERT_EQ(s->points[2].watch, CI_WATCH_WRITE);
	ASSERT_STR(s->points[2].loc, "ticks");

	ASSERT_EQ(s->nr_expects, 6);
	ASSERT_EQ(s->expects[0].kind, CI_EXPECT_HIT);
	ASSERT_EQ(s->expects[0].count_op, CI_COUNT_EQ);
	ASSERT_EQ(s->expects[0].count, 1);
	ASSERT_STR(s->expects[0].text, "hit kmain once");
	ASSERT_EQ(s->expects[1].count_op, CI_COUNT_GE);
	ASSERT_EQ(s->expects[1].count, 3);
	ASSERT_STR(s->expects[1].text, "hit drivers/uart.c:42 at-least 3");
	ASSERT_EQ(s->expects[2].kind, CI_EXPECT_ORDER);
	ASSERT_STR(s->expects[2].loc, "uart_init");
	ASSERT_STR(s->expects[2].loc2, "printk");
	ASSERT_STR(s->expects[3].text, "no-hit panic");
	ASSERT_EQ(s->expects[3].count, 0);
	ASSERT_EQ(s->expects[4].kind, CI_EXPECT_VALUE);
	ASSERT_STR(s->expects[4].var, "ticks");
	ASSERT_EQ(s->expects[4].cmp, CI_CMP_GE);
	ASSERT_EQ((long long)s->expects[4].value, 10);
	assert_null(s->expects[4].loc);
	ASSERT_STR(s->expects[4].text, "ticks >= 10 at exit");
	ASSERT_EQ(s->expects[5].kind, CI_EXPECT_EXIT);
	ASSERT_EQ(s->expects[5].exit_value, 0);
	ASSERT_EQ(s->expects[5].line, 10);
	ci_script_free(s);
}

static void test_counts_and_names(void **state)
{
	static const struct {
		const char *line;
		enum ci_count_op op;
		uint64_t count;
		const char *text;
	} cases[] = {
		{ "expect hit f", CI_COUNT_GE, 1, "hit f at-least 1" },
		{ "expect hit f once", CI_COUNT_EQ, 1, "hit f once" },
		{ "expect hit f never", CI_COUNT_EQ, 0, "no-hit f" },
		{ "expect hit f 5 times", CI_COUNT_EQ, 5, "hit f 5 times" },
		{ "expect hit f 1 time", CI_COUNT_EQ, 1, "hit f once" },
		{ "expect hit f exactly 0x10", CI_COUNT_EQ, 16,
		  "hit f 16 times" },
		{ "expect hit f at-most 2", CI_COUNT_LE, 2, "hit f at-most 2" },
		{ "expect hit *0x100000 at-least 0", CI_COUNT_GE, 0,
		  "hit *0x100000 at-least 0" },
		{ "expect   hit\tf.c:7   once   # trailing comment",
		  CI_COUNT_EQ, 1, "hit f.c:7 once" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ci_script *s = parse_ok(cases[i].line);

		ASSERT_EQ(s->nr_expects, 1);
		ASSERT_EQ(s->expects[0].count_op, cases[i].op);
		ASSERT_UEQ(s->expects[0].count, cases[i].count);
		ASSERT_STR(s->expects[0].text, cases[i].text);
		ci_script_free(s);
	}
}

static void test_values(void **state)
{
	struct ci_script *s = parse_ok(
		"expect a == -9223372036854775808 at exit\n"
		"expect b != 18446744073709551615 at f.c:3\n"
		"expect c < 0x7f at *0x1000\n"
		"expect d <= 0 at exit\n"
		"expect e > -1 at exit\n");
	char buf[48];

	ASSERT_EQ(s->nr_expects, 5);
	ci_format_i128(s->expects[0].value, buf, sizeof(buf));
	ASSERT_STR(buf, "-9223372036854775808");
	ci_format_i128(s->expects[1].value, buf, sizeof(buf));
	ASSERT_STR(buf, "18446744073709551615");
	ASSERT_STR(s->expects[1].loc, "f.c:3");
	ASSERT_STR(s->expects[1].text, "b != 18446744073709551615 at f.c:3");
	ASSERT_STR(s->expects[2].text, "c < 127 at *0x1000");
	ASSERT_EQ(s->expects[3].cmp, CI_CMP_LE);
	ASSERT_EQ(s->expects[4].cmp, CI_CMP_GT);
	ASSERT_STR(s->expects[4].text, "e > -1 at exit");
	ci_script_free(s);

	assert_true(ci_cmp_eval(CI_CMP_GE, 10, 10));
	assert_false(ci_cmp_eval(CI_CMP_GT, 10, 10));
	assert_true(ci_cmp_eval(CI_CMP_LT, -1, (__int128)UINT64_MAX));
	assert_true(ci_cmp_eval(CI_CMP_NE, -1, (__int128)UINT64_MAX));
	assert_true(ci_cmp_eval(CI_CMP_EQ, 0, 0));
	assert_true(ci_cmp_eval(CI_CMP_LE, -5, -5));
}

static void test_watch_kinds(void **state)
{
	struct ci_script *s = parse_ok("watch v\nwatch read v\n"
				       "watch access v\nhbreak f\n");

	ASSERT_EQ(s->nr_points, 4);
	ASSERT_EQ(s->points[0].watch, CI_WATCH_WRITE);
	ASSERT_EQ(s->points[1].watch, CI_WATCH_READ);
	ASSERT_EQ(s->points[2].watch, CI_WATCH_ACCESS);
	ASSERT_EQ(s->points[3].kind, CI_POINT_HBREAK);
	ASSERT_EQ(s->nr_expects, 0);
	ci_script_free(s);
}

static void test_durations(void **state)
{
	uint64_t ms = 0;

	ASSERT_EQ(ci_parse_duration("20s", &ms), 0);
	ASSERT_UEQ(ms, 20000);
	ASSERT_EQ(ci_parse_duration("500ms", &ms), 0);
	ASSERT_UEQ(ms, 500);
	ASSERT_EQ(ci_parse_duration("2m", &ms), 0);
	ASSERT_UEQ(ms, 120000);
	ASSERT_EQ(ci_parse_duration("7", &ms), 0);
	ASSERT_UEQ(ms, 7000);
	ASSERT_EQ(ci_parse_duration("1440min", &ms), 0);
	ASSERT_UEQ(ms, 86400000);
	ASSERT_EQ(ci_parse_duration("1441min", &ms), -ERANGE);
	ASSERT_EQ(ci_parse_duration("0s", &ms), -ERANGE);
	ASSERT_EQ(ci_parse_duration("99999999999999999999s", &ms), -EINVAL);
	ASSERT_EQ(ci_parse_duration("s", &ms), -EINVAL);
	ASSERT_EQ(ci_parse_duration("5h", &ms), -EINVAL);
	ASSERT_EQ(ci_parse_duration("-5s", &ms), -EINVAL);
	ASSERT_EQ(ci_parse_duration("", &ms), -EINVAL);
}

static void test_errors(void **state)
{
	parse_bad("\n\nfrobnicate\n",
		  "3: unknown statement 'frobnicate' (want timeout, break, "
		  "hbreak, watch or expect)");
	parse_bad("break\n", "1: usage: break LOCATION");
	parse_bad("hbreak a b\n", "1: usage: hbreak LOCATION");
	parse_bad("break 3kmain\n",
		  "1: bad location '3kmain' (want a function, FILE:LINE or "
		  "*ADDR)");
	parse_bad("break f.c:\n",
		  "1: bad location 'f.c:' (want FILE:LINE with a decimal line "
		  "from 1)");
	parse_bad("break f.c:0x10\n",
		  "1: bad location 'f.c:0x10' (want FILE:LINE with a decimal "
		  "line from 1)");
	parse_bad("break *main\n", "1: bad address '*main' (want *0xHEX)");
	parse_bad("watch sometimes v\n",
		  "1: unknown watch kind 'sometimes' (want write, read or "
		  "access)");
	parse_bad("watch\n", "1: usage: watch [write|read|access] VARIABLE");
	parse_bad("watch f.c:3\n", "1: bad variable name 'f.c:3'");
	parse_bad("timeout\n",
		  "1: usage: timeout DURATION (e.g. 20s, 500ms, 2m)");
	parse_bad("timeout 1s\n# x\ntimeout 2s\n",
		  "3: timeout already set on line 1");
	parse_bad("timeout 10x\n",
		  "1: bad duration '10x' (want e.g. 20s, 500ms, 2m; at most a "
		  "day)");
	parse_bad("expect\n",
		  "1: usage: expect hit|no-hit|order|exit|VARIABLE ...");
	parse_bad("expect hit\n", "1: usage: expect hit LOCATION [COUNT]");
	parse_bad("expect hit f twice\n",
		  "1: bad hit count (want once, never, N times, exactly N, "
		  "at-least N or at-most N)");
	parse_bad("expect hit f at-least\n",
		  "1: bad hit count (want once, never, N times, exactly N, "
		  "at-least N or at-most N)");
	parse_bad("expect no-hit f once\n", "1: usage: expect no-hit LOCATION");
	parse_bad("expect order a after b\n",
		  "1: usage: expect order LOCATION before LOCATION");
	parse_bad("expect order a before a\n",
		  "1: 'a' cannot come before itself");
	parse_bad("expect exit\n", "1: usage: expect exit N");
	parse_bad("expect exit -1\n", "1: bad exit value '-1' (want 0 to 127)");
	parse_bad("expect exit 128\n",
		  "1: bad exit value '128' (want 0 to 127)");
	parse_bad("expect v == 1\n",
		  "1: usage: expect VARIABLE OP VALUE at exit|LOCATION");
	parse_bad("expect v == 1 on exit\n",
		  "1: usage: expect VARIABLE OP VALUE at exit|LOCATION");
	parse_bad("expect v == x at exit\n", "1: bad value 'x' (want a number)");
	parse_bad("expect v == 18446744073709551616 at exit\n",
		  "1: bad value '18446744073709551616' (want a 64-bit number)");
	parse_bad("expect v == -9223372036854775809 at exit\n",
		  "1: bad value '-9223372036854775809' (want a 64-bit number)");
	parse_bad("expect 1v == 1 at exit\n", "1: bad variable name '1v'");
	parse_bad("expect v == 1 at f.c:x\n",
		  "1: bad location 'f.c:x' (want FILE:LINE with a decimal line "
		  "from 1)");
	parse_bad("expect sometimes f\n",
		  "1: unknown expectation 'sometimes' (want hit, no-hit, order, "
		  "exit or VARIABLE OP VALUE at ...)");
	{
		static const char nul[] = "break a\n\nbreak a\0b\n";
		struct ci_script *s = NULL;
		char err[256];

		ASSERT_EQ(ci_script_parse(nul, sizeof(nul) - 1, &s, err,
					  sizeof(err)),
			  -EINVAL);
		ASSERT_STR(err, "3: NUL byte in script");
		assert_null(s);
	}
	parse_bad("break a b c d e f g h i j k l m n o p q\n",
		  "1: too many words");
}

/* A '#' inside a word is part of it (some file names have one). */
static void test_comments(void **state)
{
	struct ci_script *s = parse_ok("# header\n   \t\n"
				       "break a#b.c:3 # comment\n#\n");

	ASSERT_EQ(s->nr_points, 1);
	ASSERT_STR(s->points[0].loc, "a#b.c:3");
	ASSERT_EQ(s->points[0].line, 3);
	ci_script_free(s);
	s = parse_ok("");
	ASSERT_EQ(s->nr_points + s->nr_expects, 0);
	ASSERT_UEQ(s->timeout_ms, 0);
	ci_script_free(s);
}

/* No trailing newline, CRLF line ends. */
static void test_line_ends(void **state)
{
	struct ci_script *s = parse_ok("break a\r\nexpect exit 3");

	ASSERT_EQ(s->nr_points, 1);
	ASSERT_STR(s->points[0].loc, "a");
	ASSERT_EQ(s->nr_expects, 1);
	ASSERT_EQ(s->expects[0].exit_value, 3);
	ASSERT_EQ(s->expects[0].line, 2);
	ci_script_free(s);
}

static void test_format_i128(void **state)
{
	char buf[48];

	ci_format_i128(0, buf, sizeof(buf));
	ASSERT_STR(buf, "0");
	ci_format_i128(-1, buf, sizeof(buf));
	ASSERT_STR(buf, "-1");
	ci_format_i128((__int128)UINT64_MAX * 10, buf, sizeof(buf));
	ASSERT_STR(buf, "184467440737095516150");
	ci_format_i128(12345, buf, 4);
	ASSERT_STR(buf, "123");
	ASSERT_STR(ci_cmp_name(CI_CMP_NE), "!=");
	ASSERT_STR(ci_cmp_name((enum ci_cmp)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_counts_and_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_watch_kinds),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_format_i128),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
