/* Unit tests for the command line: every option in both spellings, GNU
 * permutation, strict sizes and counts, and the exact error messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

/*
 * An argv that getopt may permute: pointers into our own buffers, since
 * string literals are const. The image pointer in cli_opts points in here,
 * so it lives as long as the struct.
 */
#define MAX_ARGS 24
struct args {
	int argc;
	char *argv[MAX_ARGS + 1];
	char buf[MAX_ARGS][96];
};

static void args_fill(struct args *a, va_list ap)
{
	const char *s;

	memset(a, 0, sizeof(*a));
	snprintf(a->buf[0], sizeof(a->buf[0]), "%s", "kvmdbg");
	a->argv[0] = a->buf[0];
	a->argc = 1;
	while ((s = va_arg(ap, const char *)) != NULL) {
		assert_true(a->argc < MAX_ARGS);
		assert_true(strlen(s) < sizeof(a->buf[0]));
		memcpy(a->buf[a->argc], s, strlen(s) + 1);
		a->argv[a->argc] = a->buf[a->argc];
		a->argc++;
	}
	a->argv[a->argc] = NULL;
}

struct result {
	struct args args;
	struct cli_opts o;
	char err[256];
	int ret;
};

static struct result res;

/* Parse "kvmdbg ARGS..." into r; the error line is "" unless one is set. */
static int parse_into(struct result *r, ...)
{
	va_list ap;

	va_start(ap, r);
	args_fill(&r->args, ap);
	va_end(ap);
	memset(r->err, 0, sizeof(r->err));
	r->ret = cli_parse(r->args.argc, r->args.argv, &r->o, r->err,
			   sizeof(r->err));
	return r->ret;
}

#define PARSE(...) parse_into(&res, __VA_ARGS__, (const char *)NULL)

/* Parse must succeed; on failure show the message it gave. */
#define PARSE_OK(...)                                                          \
	do {                                                                   \
		if (PARSE(__VA_ARGS__) != 0)                                   \
			fail_msg("cli_parse(%s) = %d (%s), want 0",            \
				 #__VA_ARGS__, res.ret, res.err);              \
	} while (0)

/* Parse must fail with -EINVAL and a message containing `want`. */
#define PARSE_ERR(want, ...)                                                   \
	do {                                                                   \
		if (PARSE(__VA_ARGS__) != -EINVAL)                             \
			fail_msg("cli_parse(%s) = %d, want -EINVAL",           \
				 #__VA_ARGS__, res.ret);                       \
		if (!strstr(res.err, (want)))                                  \
			fail_msg("cli_parse(%s) says \"%s\", want it to "      \
				 "mention \"%s\"",                             \
				 #__VA_ARGS__, res.err, (want));               \
	} while (0)

static void expect_defaults_but_image(const struct cli_opts *o)
{
	ASSERT_EQ(o->action, CLI_RUN);
	ASSERT_UEQ(o->mem_size, 128 * MiB);
	ASSERT_EQ(o->nr_vcpus, 1);
	ASSERT_STR(o->append, NULL);
	ASSERT_EQ(o->serial, CLI_SERIAL_STDIO);
	ASSERT_STR(o->serial_path, NULL);
	ASSERT_EQ(o->no_wait, false);
	ASSERT_STR(o->listen, CLI_DEFAULT_LISTEN);
	ASSERT_EQ(o->use_stdio, false);
	ASSERT_EQ(o->once, false);
	ASSERT_EQ(o->verbosity, 0);
}

static int setup(void **state)
{
	memset(&res, 0, sizeof(res));
	return 0;
}

/* --- defaults and options --- */

static void test_defaults(void **state)
{
	PARSE_OK("guest.elf");
	expect_defaults_but_image(&res.o);
	ASSERT_STR(res.o.image, "guest.elf");
	ASSERT_STR(res.err, "");
}

static void test_short_options(void **state)
{
	PARSE_OK("-m", "1G", "-s", "4", "-a", "console=ttyS0 quiet", "-v", "-v",
		 "guest.elf");
	ASSERT_EQ(res.o.action, CLI_RUN);
	ASSERT_UEQ(res.o.mem_size, 1 * GiB);
	ASSERT_EQ(res.o.nr_vcpus, 4);
	ASSERT_STR(res.o.append, "console=ttyS0 quiet");
	ASSERT_EQ(res.o.verbosity, 2);
	ASSERT_STR(res.o.image, "guest.elf");

	/* Attached arguments and grouped flags. */
	PARSE_OK("-m256M", "-s2", "-vvv", "-aroot=/dev/vda", "guest.elf");
	ASSERT_UEQ(res.o.mem_size, 256 * MiB);
	ASSERT_EQ(res.o.nr_vcpus, 2);
	ASSERT_EQ(res.o.verbosity, 3);
	ASSERT_STR(res.o.append, "root=/dev/vda");

	/* A flag group ending in an option that takes the next word. */
	PARSE_OK("-vm", "64", "guest.elf");
	ASSERT_EQ(res.o.verbosity, 1);
	ASSERT_UEQ(res.o.mem_size, 64 * MiB);
}

static void test_long_options(void **state)
{
	PARSE_OK("--mem", "2G", "--smp", "3", "--append", "a b c", "--serial",
		 "none", "--no-wait", "--listen", "0.0.0.0:2345", "--once",
		 "--verbose", "--verbose", "--verbose", "guest.elf");
	ASSERT_EQ(res.o.action, CLI_RUN);
	ASSERT_UEQ(res.o.mem_size, 2 * GiB);
	ASSERT_EQ(res.o.nr_vcpus, 3);
	ASSERT_STR(res.o.append, "a b c");
	ASSERT_EQ(res.o.serial, CLI_SERIAL_NONE);
	ASSERT_EQ(res.o.no_wait, true);
	ASSERT_STR(res.o.listen, "0.0.0.0:2345");
	ASSERT_EQ(res.o.use_stdio, false);
	ASSERT_EQ(res.o.once, true);
	ASSERT_EQ(res.o.verbosity, 3);
	ASSERT_STR(res.o.image, "guest.elf");

	/* --opt=value spellings, and an empty command line is allowed. */
	PARSE_OK("--mem=512K", "--smp=8", "--append=", "--serial=file:out.log",
		 "--listen=unix:/tmp/kvmdbg.sock", "guest.elf");
	ASSERT_UEQ(res.o.mem_size, 512 * KiB);
	ASSERT_EQ(res.o.nr_vcpus, 8);
	ASSERT_STR(res.o.append, "");
	ASSERT_EQ(res.o.serial, CLI_SERIAL_FILE);
	ASSERT_STR(res.o.serial_path, "out.log");
	ASSERT_STR(res.o.listen, "unix:/tmp/kvmdbg.sock");

	PARSE_OK("--stdio", "--once", "guest.elf");
	ASSERT_EQ(res.o.use_stdio, true);
	ASSERT_EQ(res.o.once, true);

	/* Unambiguous abbreviations, as getopt_long allows. */
	PARSE_OK("--me", "1G", "--no-w", "guest.elf");
	ASSERT_UEQ(res.o.mem_size, 1 * GiB);
	ASSERT_EQ(res.o.no_wait, true);
}

static void test_last_value_wins(void **state)
{
	PARSE_OK("-m", "1G", "--mem", "2G", "--serial", "none", "--serial",
		 "stdio", "-s", "2", "--smp", "5", "guest.elf");
	ASSERT_UEQ(res.o.mem_size, 2 * GiB);
	ASSERT_EQ(res.o.serial, CLI_SERIAL_STDIO);
	ASSERT_EQ(res.o.nr_vcpus, 5);
}

static void test_options_after_image(void **state)
{
	PARSE_OK("guest.elf", "-m", "256M", "--smp", "2", "-v", "--no-wait");
	ASSERT_STR(res.o.image, "guest.elf");
	ASSERT_UEQ(res.o.mem_size, 256 * MiB);
	ASSERT_EQ(res.o.nr_vcpus, 2);
	ASSERT_EQ(res.o.verbosity, 1);
	ASSERT_EQ(res.o.no_wait, true);

	PARSE_OK("-v", "guest.elf", "--serial", "file:/tmp/x");
	ASSERT_STR(res.o.image, "guest.elf");
	ASSERT_EQ(res.o.serial, CLI_SERIAL_FILE);
	ASSERT_STR(res.o.serial_path, "/tmp/x");
}

static void test_double_dash(void **state)
{
	/* After "--" a leading dash is a file name, not an option. */
	PARSE_OK("-v", "--", "-guest.elf");
	ASSERT_STR(res.o.image, "-guest.elf");
	ASSERT_EQ(res.o.verbosity, 1);
	/* An option's argument may itself start with a dash. */
	PARSE_OK("--append", "-x --y", "guest.elf");
	ASSERT_STR(res.o.append, "-x --y");
}

/* --- sizes --- */

static void expect_size(const char *s, uint64_t want)
{
	uint64_t got = 0xdeadbeef;
	int ret = cli_parse_size(s, &got);

	if (ret != 0 || got != want)
		fail_msg("cli_parse_size(\"%s\") = %d, %llu; want 0, %llu", s,
			 ret, (unsigned long long)got,
			 (unsigned long long)want);
}

static void expect_size_err(const char *s, int want)
{
	uint64_t got = 0xdeadbeef;
	int ret = cli_parse_size(s, &got);

	if (ret != want || got != 0xdeadbeef)
		fail_msg("cli_parse_size(\"%s\") = %d, out %#llx; want %d, out "
			 "untouched",
			 s ? s : "(null)", ret, (unsigned long long)got, want);
}

static void test_size_accepts(void **state)
{
	expect_size("128M", 128 * MiB);
	expect_size("1G", 1 * GiB);
	expect_size("512K", 512 * KiB);
	expect_size("64", 64 * MiB); /* a bare number is MiB */
	expect_size("2GiB", 2 * GiB);
	expect_size("1T", 1 * TiB);
	expect_size("1g", 1 * GiB);
	expect_size("3k", 3 * KiB);
	expect_size("4MB", 4 * MiB);
	expect_size("4MiB", 4 * MiB);
	expect_size("0128M", 128 * MiB);
	/* The largest value of each unit, just below 2^64. */
	expect_size("16777215T", 16777215ULL * TiB);
	expect_size("17179869183G", 17179869183ULL * GiB);
	expect_size("17592186044415", 17592186044415ULL * MiB);
	expect_size("18014398509481983K", 18014398509481983ULL * KiB);
}

static void test_size_rejects(void **state)
{
	static const char *const bad[] = {
	    "",	    "12Q", "-1",  "1.5G", "G",	   " 1G", "1G ", "+1G",
	    "0x10", "1Gi", "1iB", "1GBB", "1GiBB", "1 G", "1M2", "1KM",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_size_err(bad[i], -EINVAL);
	expect_size_err(NULL, -EINVAL);
	expect_size_err("99999999999999999999G", -ERANGE);
	expect_size_err("99999999999999999999", -ERANGE);
	expect_size_err("20000000T", -ERANGE);
	expect_size_err("16777216T", -ERANGE);
	expect_size_err("17179869184G", -ERANGE);
	expect_size_err("17592186044416", -ERANGE);
	expect_size_err("18014398509481984K", -ERANGE);
}

static void test_mem_option(void **state)
{
	static const struct {
		const char *arg;
		uint64_t want;
	} ok[] = {
	    {"128M", 128 * MiB}, {"1G", 1 * GiB},   {"512K", 512 * KiB},
	    {"64", 64 * MiB},	 {"2GiB", 2 * GiB}, {"1T", 1 * TiB},
	};
	static const char *const bad[] = {
	    "", "12Q", "-1", "1.5G", "99999999999999999999G", "20000000T",
	};
	char want[128];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		PARSE_OK("--mem", ok[i].arg, "guest.elf");
		ASSERT_UEQ(res.o.mem_size, ok[i].want);
		PARSE_OK("-m", ok[i].arg, "guest.elf");
		ASSERT_UEQ(res.o.mem_size, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "--mem: '%s' is not a size",
			 bad[i]);
		PARSE_ERR(want, "--mem", bad[i], "guest.elf");
		PARSE_ERR(want, "-m", bad[i], "guest.elf");
	}
}

/* --- counts --- */

static void test_uint(void **state)
{
	unsigned got = 77;

	ASSERT_EQ(cli_parse_uint("0", 10, &got), 0);
	ASSERT_EQ(got, 0);
	ASSERT_EQ(cli_parse_uint("10", 10, &got), 0);
	ASSERT_EQ(got, 10);
	ASSERT_EQ(cli_parse_uint("007", 10, &got), 0);
	ASSERT_EQ(got, 7);
	ASSERT_EQ(cli_parse_uint("4294967295", UINT_MAX, &got), 0);
	ASSERT_UEQ(got, UINT_MAX);

	got = 77;
	ASSERT_EQ(cli_parse_uint("11", 10, &got), -ERANGE);
	ASSERT_EQ(cli_parse_uint("4294967296", UINT_MAX, &got), -ERANGE);
	ASSERT_EQ(cli_parse_uint("99999999999999999999999", UINT_MAX, &got),
		  -ERANGE);
	ASSERT_EQ(cli_parse_uint("", 10, &got), -EINVAL);
	ASSERT_EQ(cli_parse_uint(NULL, 10, &got), -EINVAL);
	ASSERT_EQ(cli_parse_uint("2x", 10, &got), -EINVAL);
	ASSERT_EQ(cli_parse_uint("-1", 10, &got), -EINVAL);
	ASSERT_EQ(cli_parse_uint("+1", 10, &got), -EINVAL);
	ASSERT_EQ(cli_parse_uint(" 1", 10, &got), -EINVAL);
	ASSERT_EQ(cli_parse_uint("1 ", 10, &got), -EINVAL);
	ASSERT_EQ(got, 77);
}

static void test_smp_option(void **state)
{
	static const char *const bad[] = {
	    "2x",	  "-1",		"",    "99999999999999999999",
	    "4294967296", "2147483648", "0x2", "1.0",
	};
	char want[128];

	PARSE_OK("--smp", "16", "guest.elf");
	ASSERT_EQ(res.o.nr_vcpus, 16);
	PARSE_OK("-s", "2147483647", "guest.elf"); /* UINT_MAX / 2 */
	ASSERT_UEQ(res.o.nr_vcpus, 2147483647u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "--smp: '%s' is not a number of vCPUs", bad[i]);
		PARSE_ERR(want, "--smp", bad[i], "guest.elf");
		PARSE_ERR(want, "-s", bad[i], "guest.elf");
	}
}

/* --- serial --- */

static void test_serial_option(void **state)
{
	static const char *const bad[] = {
	    "file:", "bogus", "", "FILE:x", "stdio2", "Stdio", "file", "none ",
	};
	char want[128];

	PARSE_OK("--serial", "stdio", "guest.elf");
	ASSERT_EQ(res.o.serial, CLI_SERIAL_STDIO);
	ASSERT_STR(res.o.serial_path, NULL);
	PARSE_OK("--serial", "none", "guest.elf");
	ASSERT_EQ(res.o.serial, CLI_SERIAL_NONE);
	ASSERT_STR(res.o.serial_path, NULL);
	PARSE_OK("--serial", "file:/var/tmp/com1.log", "guest.elf");
	ASSERT_EQ(res.o.serial, CLI_SERIAL_FILE);
	ASSERT_STR(res.o.serial_path, "/var/tmp/com1.log");
	/* Only the first "file:" is the prefix. */
	PARSE_OK("--serial=file:file:x", "guest.elf");
	ASSERT_STR(res.o.serial_path, "file:x");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "--serial: '%s' is not stdio, none or file:PATH",
			 bad[i]);
		PARSE_ERR(want, "--serial", bad[i], "guest.elf");
	}
}

/* --- the debugger connection --- */

static void test_listen_stdio(void **state)
{
	PARSE_OK("--listen", "none", "guest.elf");
	ASSERT_STR(res.o.listen, "none");
	PARSE_OK("guest.elf", "--listen", "localhost:0");
	ASSERT_STR(res.o.listen, "localhost:0");
	PARSE_ERR("--listen needs an address", "--listen", "", "guest.elf");
	PARSE_ERR("--listen needs an address", "--listen=", "guest.elf");
	PARSE_ERR("--stdio and --listen exclude each other", "--stdio",
		  "--listen", "127.0.0.1:1", "guest.elf");
	PARSE_ERR("--stdio and --listen exclude each other", "--listen",
		  "127.0.0.1:1", "guest.elf", "--stdio");
	/* --stdio alone is not a conflict with the default address. */
	PARSE_OK("--stdio", "guest.elf");
	ASSERT_EQ(res.o.use_stdio, true);
	/* --serial stdio is the console, not the debugger. */
	PARSE_OK("--serial", "stdio", "guest.elf");
	ASSERT_EQ(res.o.use_stdio, false);
	ASSERT_EQ(res.o.serial, CLI_SERIAL_STDIO);
}

/* --- images, unknown options, missing arguments --- */

static void test_missing_image(void **state)
{
	PARSE_ERR("no guest image given", "-m", "1G");
	PARSE_ERR("no guest image given", "--no-wait", "-v");
	parse_into(&res, (const char *)NULL);
	ASSERT_EQ(res.ret, -EINVAL);
	ASSERT_STR(res.err, "no guest image given");
	/* "--" ends the options; it is not an image. */
	PARSE_ERR("no guest image given", "-v", "--");
}

static void test_two_images(void **state)
{
	PARSE_ERR("unexpected argument 'b.elf' after the image", "a.elf",
		  "b.elf");
	PARSE_ERR("unexpected argument 'b.elf'", "a.elf", "-v", "b.elf",
		  "c.elf");
	PARSE_ERR("unexpected argument 'b.elf'", "-v", "--", "a.elf", "b.elf");
}

static void test_unknown_options(void **state)
{
	PARSE_ERR("unknown option --bogus", "--bogus", "guest.elf");
	PARSE_ERR("unknown option --bogus", "guest.elf", "--bogus");
	PARSE_ERR("unknown option --bogus=1", "--bogus=1", "guest.elf");
	PARSE_ERR("unknown option -x", "-x", "guest.elf");
	PARSE_ERR("unknown option -x", "guest.elf", "-x");
	/* Inside a group, the bad letter is named. */
	PARSE_ERR("unknown option -x", "-vxv", "guest.elf");
	PARSE_ERR("unknown option -q", "-vq", "guest.elf");
	/* Ambiguous: --ver could be --verbose or --version. */
	PARSE_ERR("--ver", "--ver", "guest.elf");
	/* A no-argument long option given one. */
	PARSE_ERR("--no-wait", "--no-wait=1", "guest.elf");
	PARSE_ERR("--once", "--once=yes", "guest.elf");
}

/*
 * `--help=now` names --help, not -h: the user typed no -h. With the bare
 * letter, "unknown option -h" (or -v, -V) names a perfectly valid option
 * the user never typed.
 */
static void test_flag_with_argument_names_it(void **state)
{
	PARSE_ERR("--help", "--help=now", "guest.elf");
	PARSE_ERR("--verbose", "--verbose=2", "guest.elf");
	PARSE_ERR("--version", "--version=1", "guest.elf");
}

static void test_missing_argument(void **state)
{
	static const char *const opts[] = {
	    "-m", "--mem",    "-s",	  "--smp",
	    "-a", "--append", "--serial", "--listen",
	};
	char want[64];

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		snprintf(want, sizeof(want), "option %s needs an argument",
			 opts[i]);
		/* Last on the line, before or after the image. */
		PARSE_ERR(want, "guest.elf", opts[i]);
		PARSE_ERR(want, "-v", opts[i]);
		ASSERT_STR(res.err, want);
	}
	/* Abbreviated: the message shows what was typed. */
	PARSE_ERR("option --me needs an argument", "guest.elf", "--me");
}

static void test_small_error_buffer(void **state)
{
	char argv0[] = "kvmdbg", a1[] = "--mem", a2[] = "12Q", a3[] = "x.elf";
	char *argv[] = {argv0, a1, a2, a3, NULL};
	struct cli_opts o;
	char err[9];

	memset(err, 'z', sizeof(err));
	ASSERT_EQ(cli_parse(4, argv, &o, err, sizeof(err)), -EINVAL);
	ASSERT_STR(err, "--mem: '");
}

/* --- actions --- */

static void test_help_version(void **state)
{
	static const struct {
		const char *arg;
		enum cli_action want;
	} cases[] = {
	    {"--help", CLI_HELP},
	    {"-h", CLI_HELP},
	    {"--version", CLI_VERSION},
	    {"-V", CLI_VERSION},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* No image needed, and what follows is not parsed. */
		PARSE_OK(cases[i].arg);
		ASSERT_EQ(res.o.action, cases[i].want);
		PARSE_OK(cases[i].arg, "--mem", "bogus", "a", "b");
		ASSERT_EQ(res.o.action, cases[i].want);
		PARSE_OK("-v", "guest.elf", cases[i].arg);
		ASSERT_EQ(res.o.action, cases[i].want);
	}
	/* Grouped after a flag. */
	PARSE_OK("-vh");
	ASSERT_EQ(res.o.action, CLI_HELP);
	/* An error before --help still counts. */
	PARSE_ERR("--mem", "--mem", "bogus", "--help");
}

static void test_usage_mentions_options(void **state)
{
	static const char *const words[] = {
	    "--mem",	 "--smp",     "--append",  "--serial",
	    "--no-wait", "--listen",  "--stdio",   "--once",
	    "--help",	 "--version", "--verbose", "Exit status",
	};
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	size_t n;

	assert_non_null(f);
	cli_usage(f);
	n = (size_t)ftell(f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(buf));
	buf[n] = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strstr(buf, words[i]))
			fail_msg("usage lacks \"%s\":\n%s", words[i], buf);
}

/* --- state between calls --- */

static void test_parse_twice(void **state)
{
	struct result *a = calloc(1, sizeof(*a));
	struct result *b = calloc(1, sizeof(*b));

	assert_non_null(a);
	assert_non_null(b);
	/* Stop getopt halfway through a flag group... */
	ASSERT_EQ(parse_into(a, "-xv", "one.elf", (const char *)NULL), -EINVAL);
	/* ...and the next parse starts from scratch anyway. */
	ASSERT_EQ(parse_into(b, "-s", "2", "two.elf", (const char *)NULL), 0);
	ASSERT_STR(b->o.image, "two.elf");
	ASSERT_EQ(b->o.nr_vcpus, 2);
	ASSERT_EQ(b->o.verbosity, 0);

	/* Permutation state does not leak either. */
	ASSERT_EQ(parse_into(a, "one.elf", "-v", "--bogus", (const char *)NULL),
		  -EINVAL);
	ASSERT_EQ(parse_into(b, "two.elf", "-m", "1G", (const char *)NULL), 0);
	ASSERT_STR(b->o.image, "two.elf");
	ASSERT_UEQ(b->o.mem_size, 1 * GiB);

	/* Successful parses repeat identically, defaults included. */
	ASSERT_EQ(parse_into(a, "-v", "--serial", "none", "x.elf",
			     (const char *)NULL),
		  0);
	ASSERT_EQ(parse_into(b, "y.elf", (const char *)NULL), 0);
	expect_defaults_but_image(&b->o);
	ASSERT_EQ(parse_into(b, "-v", "--serial", "none", "x.elf",
			     (const char *)NULL),
		  0);
	ASSERT_EQ(b->o.verbosity, a->o.verbosity);
	ASSERT_EQ(b->o.serial, a->o.serial);
	ASSERT_STR(b->o.image, "x.elf");
	free(a);
	free(b);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_defaults),
	    T(test_short_options),
	    T(test_long_options),
	    T(test_last_value_wins),
	    T(test_options_after_image),
	    T(test_double_dash),
	    T(test_size_accepts),
	    T(test_size_rejects),
	    T(test_mem_option),
	    T(test_uint),
	    T(test_smp_option),
	    T(test_serial_option),
	    T(test_listen_stdio),
	    T(test_missing_image),
	    T(test_two_images),
	    T(test_unknown_options),
	    T(test_flag_with_argument_names_it),
	    T(test_missing_argument),
	    T(test_small_error_buffer),
	    T(test_help_version),
	    T(test_usage_mentions_options),
	    T(test_parse_twice),
	};

	/* GNU permutation is part of the interface under test; POSIXLY_CORRECT
	 * in the caller's environment would turn it off. */
	unsetenv("POSIXLY_CORRECT");
	/* "test_cmdline NAME" runs one test (a glob), so each can run alone. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
