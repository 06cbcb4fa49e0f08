/* kvmdbg-ci: scripted breakpoint tests for CI jobs. Boots an image under
 * `kvmdbg --stdio`, drives it over the GDB remote protocol and reports the
 * script's expectations as TAP and JUnit XML. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "run.h"
#include "script.h"

enum {
	OPT_TAP = 0x100,
	OPT_JUNIT,
	OPT_KVMDBG,
	OPT_CONSOLE,
	OPT_TIMEOUT,
	OPT_STATS,
	OPT_RESOLVE,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "kvmdbg", required_argument, NULL, OPT_KVMDBG },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "smp", required_argument, NULL, 's' },
	{ "mem", required_argument, NULL, 'm' },
	{ "append", required_argument, NULL, 'a' },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "resolve", no_argument, NULL, OPT_RESOLVE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("Usage: kvmdbg-ci [OPTION]... SCRIPT IMAGE\n"
	      "Boot IMAGE under kvmdbg, run the breakpoint/watchpoint "
	      "script SCRIPT\n"
	      "against it and report each expectation as TAP (stdout) and "
	      "JUnit XML.\n"
	      "Locations are resolved from IMAGE's DWARF (ELF symbols when "
	      "it has none).\n"
	      "\n"
	      "Script (one statement per line, '#' comments; see "
	      "docs/ci-scripts.md):\n"
	      "  timeout 20s                        limit of the whole guest "
	      "run\n"
	      "  break LOC | hbreak LOC             LOC: function, FILE:LINE "
	      "or *ADDR\n"
	      "  watch [write|read|access] VAR      a global variable, whole\n"
	      "  expect hit LOC [once|never|N times|at-least N|at-most N]\n"
	      "  expect no-hit LOC\n"
	      "  expect order LOC before LOC        first hits, in that "
	      "order\n"
	      "  expect VAR OP N at exit|LOC        OP: == != < <= > >=\n"
	      "  expect exit N                      the value the guest wrote "
	      "to port 0xf4\n"
	      "\n"
	      "Output:\n"
	      "      --tap FILE       write TAP to FILE instead of stdout\n"
	      "      --junit FILE     also write JUnit XML to FILE\n"
	      "      --stats          print where the time went (symbols, "
	      "start,\n"
	      "                       guest running, protocol exchanges)\n"
	      "      --resolve        print what each location resolves to, "
	      "then exit\n"
	      "                       without starting the guest\n"
	      "  -v, --verbose        one line per stop on stderr\n"
	      "\n"
	      "Guest (passed to kvmdbg):\n"
	      "  -s, --smp N          vCPUs\n"
	      "  -m, --mem SIZE       guest RAM\n"
	      "  -a, --append TEXT    guest command line\n"
	      "      --console FILE   guest console to FILE (default: "
	      "stderr)\n"
	      "      --timeout DUR    overrides the script's timeout "
	      "(default 60s)\n"
	      "      --kvmdbg PATH    the server to run (default: kvmdbg "
	      "next to\n"
	      "                       kvmdbg-ci, then in PATH)\n"
	      "\n"
	      "  -h, --help           show this help\n"
	      "  -V, --version        show the version\n"
	      "\n"
	      "Exit status:\n"
	      "  0  every expectation held\n"
	      "  1  at least one expectation failed\n"
	      "  2  usage or script error (bad line, unknown symbol): the "
	      "guest never ran\n"
	      "  3  the guest or kvmdbg failed: crash, timeout, server died "
	      "or a\n"
	      "     protocol error; expectations it left open are errors\n",
	      f);
}

/* kvmdbg next to this program (installed side by side), or one directory
 * up (the build tree: build/kvmdbg and build/tools/kvmdbg-ci), else the
 * bare name for PATH. */
static const char *default_kvmdbg(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return "kvmdbg";
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return "kvmdbg";
	*slash = '\0';
	snprintf(buf, len, "%s/kvmdbg", self);
	if (!access(buf, X_OK))
		return buf;
	snprintf(buf, len, "%s/../kvmdbg", self);
	if (!access(buf, X_OK))
		return buf;
	return "kvmdbg";
}

int main(int argc, char **argv)
{
	struct ci_options o = { 0 };
	char kvmdbg[PATH_MAX + 16];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:m:a:vhV", long_opts, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_TAP: o.tap = optarg; break;
		case OPT_JUNIT: o.junit = optarg; break;
		case OPT_KVMDBG: o.kvmdbg = optarg; break;
		case OPT_CONSOLE: o.console = optarg; break;
		case OPT_TIMEOUT:
			if (ci_parse_duration(optarg, &o.timeout_ms)) {
				fprintf(stderr,
					"kvmdbg-ci: bad --timeout '%s' (want "
					"e.g. 20s, 500ms, 2m)\n",
					optarg);
				return CI_EXIT_SCRIPT;
			}
			break;
		case 's': o.smp = optarg; break;
		case 'm': o.mem = optarg; break;
		case 'a': o.append = optarg; break;
		case OPT_STATS: o.stats = true; break;
		case OPT_RESOLVE: o.resolve_only = true; break;
		case 'v': o.verbose++; break;
		case 'h':
		case OPT_HELP: usage(stdout); return 0;
		case 'V':
		case OPT_VERSION:
			printf("kvmdbg-ci %s\n", KVMDBG_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "kvmdbg-ci: %s needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return CI_EXIT_SCRIPT;
		default:
			fprintf(stderr, "kvmdbg-ci: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return CI_EXIT_SCRIPT;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "kvmdbg-ci: want a SCRIPT and an IMAGE\n");
		usage(stderr);
		return CI_EXIT_SCRIPT;
	}
	o.script = argv[optind];
	o.image = argv[optind + 1];
	if (!o.kvmdbg)
		o.kvmdbg = default_kvmdbg(kvmdbg, sizeof(kvmdbg));
	return ci_run(&o);
}
