/* Unit tests for kvmdbg-ci's report writers: exact TAP 13 and JUnit XML
 * for passing, failing and undecided expectations, YAML quoting, and XML
 * escaping of markup, control characters and broken UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ci/report.h"

static const struct ci_outcome outcomes[] = {
	{ .name = "hit kmain once", .line = 3, .verdict = CI_PASS },
	{
		.name = "no-hit panic",
		.line = 4,
		.verdict = CI_FAIL,
		.message = "panic was hit",
		.where = "src/panic.c:12",
		.backtrace = "backtrace (frame pointers checked against "
			     ".debug_frame CFI):\n"
			     "#0  panic at src/panic.c:12, pc 0x1000 [pc]\n"
			     "#1  kmain at src/main.c:40, pc 0x2005 [fp=cfi]\n",
	},
	{
		.name = "x < 3 at exit",
		.line = 5,
		.verdict = CI_ERROR,
		.message = "undecided: it's <late> & \"odd\"",
	},
};

static const struct ci_report report = {
	.suite = "boot.ci",
	.script = "tests/boot.ci",
	.image = "k<1>.elf",
	.seconds = 1.5,
	.outcomes = outcomes,
	.nr_outcomes = 3,
};

typedef int (*writer)(FILE *f, const struct ci_report *r);

static char *render(writer w, const struct ci_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	ASSERT_EQ(w(f, r), 0);
	fclose(f);
	return buf;
}

static void test_tap(void **state)
{
	char *out = render(ci_report_tap, &report);

	ASSERT_STR(out,
		   "TAP version 13\n"
		   "1..3\n"
		   "ok 1 - hit kmain once\n"
		   "not ok 2 - no-hit panic\n"
		   "  ---\n"
		   "  message: 'panic was hit'\n"
		   "  severity: fail\n"
		   "  script-line: 4\n"
		   "  at: 'src/panic.c:12'\n"
		   "  backtrace: |\n"
		   "    backtrace (frame pointers checked against .debug_frame "
		   "CFI):\n"
		   "    #0  panic at src/panic.c:12, pc 0x1000 [pc]\n"
		   "    #1  kmain at src/main.c:40, pc 0x2005 [fp=cfi]\n"
		   "  ...\n"
		   "not ok 3 - x < 3 at exit\n"
		   "  ---\n"
		   "  message: 'undecided: it''s <late> & \"odd\"'\n"
		   "  severity: error\n"
		   "  script-line: 5\n"
		   "  ...\n");
	free(out);
}

static void test_tap_run_error(void **state)
{
	struct ci_report r = report;
	char *out;

	r.nr_outcomes = 1;
	r.run_error = "timeout: the guest ran 2 s without exiting";
	out = render(ci_report_tap, &r);
	ASSERT_STR(out, "TAP version 13\n"
			"1..1\n"
			"ok 1 - hit kmain once\n"
			"# the run ended early: timeout: the guest ran 2 s "
			"without exiting\n");
	free(out);
}

static void test_junit(void **state)
{
	char *out = render(ci_report_junit, &report);

	ASSERT_STR(
		out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"kvmdbg-ci\" tests=\"3\" failures=\"1\" "
		"errors=\"1\" time=\"1.500\">\n"
		"  <testsuite name=\"boot.ci\" tests=\"3\" failures=\"1\" "
		"errors=\"1\" skipped=\"0\" time=\"1.500\">\n"
		"    <properties>\n"
		"      <property name=\"script\" value=\"tests/boot.ci\"/>\n"
		"      <property name=\"image\" value=\"k&lt;1&gt;.elf\"/>\n"
		"    </properties>\n"
		"    <testcase name=\"hit kmain once\" classname=\"boot.ci\"/>\n"
		"    <testcase name=\"no-hit panic\" classname=\"boot.ci\">\n"
		"      <failure message=\"panic was hit\" "
		"type=\"expectation\">script line 4, at src/panic.c:12\n"
		"backtrace (frame pointers checked against .debug_frame "
		"CFI):\n"
		"#0  panic at src/panic.c:12, pc 0x1000 [pc]\n"
		"#1  kmain at src/main.c:40, pc 0x2005 [fp=cfi]\n"
		"</failure>\n"
		"    </testcase>\n"
		"    <testcase name=\"x &lt; 3 at exit\" classname=\"boot.ci\">\n"
		"      <error message=\"undecided: it&apos;s &lt;late&gt; &amp; "
		"&quot;odd&quot;\" type=\"run-ended-early\">script line 5\n"
		"</error>\n"
		"    </testcase>\n"
		"  </testsuite>\n"
		"</testsuites>\n");
	free(out);
}

static void test_junit_run_error(void **state)
{
	struct ci_report r = report;
	char *out, *tail;

	r.nr_outcomes = 0;
	r.run_error = "kvmdbg exited with status 4 (<crash>)";
	out = render(ci_report_junit, &r);
	tail = strstr(out, "    </properties>\n");
	assert_non_null(tail);
	ASSERT_STR(tail, "    </properties>\n"
			 "    <system-err>kvmdbg exited with status 4 "
			 "(&lt;crash&gt;)</system-err>\n"
			 "  </testsuite>\n"
			 "</testsuites>\n");
	assert_non_null(strstr(out, "tests=\"0\" failures=\"0\" "
				    "errors=\"0\""));
	free(out);
}

static char *escape(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ci_xml_escape(f, s);
	fclose(f);
	return buf;
}

static void test_xml_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "<a href='x'>&</a>",
		  "&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;" },
		{ "tab\tnl\n", "tab&#9;nl&#10;" },
		/* Control characters XML 1.0 cannot carry. */
		{ "a\x01" "b\x1b", "a\xef\xbf\xbd" "b\xef\xbf\xbd" },
		/* Valid UTF-8 passes through. */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		/* A stray continuation, a truncated sequence, an overlong
		 * '/', a surrogate, U+FFFE. */
		{ "\x80", "\xef\xbf\xbd" },
		{ "\xc3", "\xef\xbf\xbd" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xef\xbf\xbe", "\xef\xbf\xbd" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = escape(cases[i].in);

		ASSERT_STR(got, cases[i].out);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap),
		cmocka_unit_test(test_tap_run_error),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_junit_run_error),
		cmocka_unit_test(test_xml_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
