/* Command-line parsing with getopt_long. Strict number parsing: "2x",
 * "-1" and overflows are errors, never silently truncated. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vmm/vmm.h"

enum {
	OPT_SERIAL = 0x100,
	OPT_NO_WAIT,
	OPT_LISTEN,
	OPT_STDIO,
	OPT_ONCE,
	OPT_PROBE,
	/* Long spellings of flags get codes of their own, so that optopt
	 * tells "--help=x" (an argument where none is allowed) from "-h". */
	OPT_VERBOSE,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "mem", required_argument, NULL, 'm' },
	{ "smp", required_argument, NULL, 's' },
	{ "append", required_argument, NULL, 'a' },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "stdio", no_argument, NULL, OPT_STDIO },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *f)
{
	fputs("Usage: kvmdbg [OPTION]... GUEST.elf\n"
	      "Boot GUEST.elf in a tiny KVM virtual machine for debugging.\n"
	      "\n"
	      "Guest:\n"
	      "  -m, --mem SIZE        guest RAM (default 128M; K, M, G, T "
	      "suffixes;\n"
	      "                        a bare number is MiB)\n"
	      "  -s, --smp N           number of vCPUs (default 1)\n"
	      "  -a, --append CMDLINE  guest command line (PVH start_info)\n"
	      "      --serial stdio|file:PATH|none\n"
	      "                        where COM1 output goes (default stdio;"
	      "\n"
	      "                        typed input reaches COM1 when stdin is"
	      " a TTY)\n"
	      "      --no-wait         run the guest at once instead of waiting "
	      "for a\n"
	      "                        debugger (one may still attach later)"
	      "\n"
	      "\n"
	      "Debugger connection (GDB remote protocol):\n"
	      "      --listen ADDR     HOST:PORT (default 127.0.0.1:1234; "
	      "port 0 picks\n"
	      "                        a free one), [IPV6]:PORT, unix:PATH, "
	      "or none\n"
	      "      --stdio           speak the protocol on stdin/stdout "
	      "(gdb: target\n"
	      "                        remote | kvmdbg --stdio guest.elf); "
	      "the guest\n"
	      "                        console then goes to stderr\n"
	      "      --once            exit when the debugger disconnects\n"
	      "\n"
	      "General:\n"
	      "      --probe           print which debug mechanisms this host's "
	      "KVM\n"
	      "                        honours (and the strategy kvmdbg picks),"
	      " then exit\n"
	      "  -v, --verbose         more messages on stderr (repeat for "
	      "more)\n"
	      "  -h, --help            show this help\n"
	      "  -V, --version         show the version\n"
	      "\n"
	      "Images: ELF with a PVH entry note (entered in 32-bit protected"
	      " mode,\n"
	      "ebx = hvm_start_info), or a native ELF64 (entered in 64-bit "
	      "mode with\n"
	      "the first 4 GiB identity-mapped, rdi = hvm_start_info). See "
	      "docs/boot.md.\n"
	      "\n"
	      "Exit status:\n"
	      "  (v<<1)|1  the guest wrote v to the exit port 0xf4 (QEMU "
	      "isa-debug-exit)\n"
	      "  0         the guest powered off\n"
	      "  2         usage error or bad guest image\n"
	      "  3         KVM is unavailable\n"
	      "  4         the guest crashed (triple fault) or KVM could not "
	      "run it\n"
	      "  6         internal error\n"
	      "  128+N     kvmdbg was killed by signal N\n",
	      f);
}

int cli_parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (unsigned)v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1ULL << 20;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p) {
		switch (*p) {
		case 'k': case 'K': mul = 1ULL << 10; break;
		case 'm': case 'M': mul = 1ULL << 20; break;
		case 'g': case 'G': mul = 1ULL << 30; break;
		case 't': case 'T': mul = 1ULL << 40; break;
		default: return -EINVAL;
		}
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (*p == 'B')
			p++;
		if (*p)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int cli_parse(int argc, char *const argv[], struct cli_opts *o, char *err,
	      size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_size = VMM_DEFAULT_MEM;
	o->nr_vcpus = 1;
	opterr = 0;
	optind = 0; /* full re-initialisation, so tests can parse twice */
	while ((c = getopt_long(argc, argv, ":m:s:a:vhV", long_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'm':
			if (cli_parse_size(optarg, &o->mem_size) < 0) {
				snprintf(err, errlen,
					 "--mem: '%s' is not a size (try 128M or 1G)",
					 optarg);
				return -EINVAL;
			}
			break;
		case 's':
			if (cli_parse_uint(optarg, UINT_MAX / 2, &o->nr_vcpus) < 0) {
				snprintf(err, errlen,
					 "--smp: '%s' is not a number of vCPUs",
					 optarg);
				return -EINVAL;
			}
			break;
		case 'a':
			o->append = optarg;
			break;
		case OPT_SERIAL:
			if (strcmp(optarg, "stdio") == 0) {
				o->serial = CLI_SERIAL_STDIO;
			} else if (strcmp(optarg, "none") == 0) {
				o->serial = CLI_SERIAL_NONE;
			} else if (strncmp(optarg, "file:", 5) == 0 && optarg[5]) {
				o->serial = CLI_SERIAL_FILE;
				o->serial_path = optarg + 5;
			} else {
				snprintf(err, errlen,
					 "--serial: '%s' is not stdio, none or "
					 "file:PATH",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_NO_WAIT:
			o->no_wait = true;
			break;
		case OPT_LISTEN:
			if (!*optarg) {
				snprintf(err, errlen, "--listen needs an address");
				return -EINVAL;
			}
			o->listen = optarg;
			o->listen_given = true;
			break;
		case OPT_STDIO:
			o->use_stdio = true;
			break;
		case OPT_ONCE:
			o->once = true;
			break;
		case OPT_PROBE:
			o->action = CLI_PROBE;
			break;
		case 'v':
		case OPT_VERBOSE:
			o->verbosity++;
			break;
		case 'h':
		case OPT_HELP:
			o->action = CLI_HELP;
			return 0;
		case 'V':
		case OPT_VERSION:
			o->action = CLI_VERSION;
			return 0;
		case ':':
			snprintf(err, errlen, "option %s needs an argument",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt && optopt < 0x100)
				snprintf(err, errlen, "unknown option -%c",
					 optopt);
			else if (optopt)
				/* Only a long flag given "=value" gets here. */
				snprintf(err, errlen,
					 "option %s takes no argument",
					 argv[optind - 1]);
			else
				snprintf(err, errlen, "unknown option %s",
					 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (o->action == CLI_PROBE) {
		if (optind < argc) {
			snprintf(err, errlen, "--probe takes no image");
			return -EINVAL;
		}
		return 0;
	}
	if (optind >= argc) {
		snprintf(err, errlen, "no guest image given");
		return -EINVAL;
	}
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument '%s' after the image",
			 argv[optind + 1]);
		return -EINVAL;
	}
	if (o->use_stdio && o->listen) {
		snprintf(err, errlen, "--stdio and --listen exclude each other");
		return -EINVAL;
	}
	if (!o->listen)
		o->listen = CLI_DEFAULT_LISTEN;
	o->image = argv[optind];
	return 0;
}
