/* kvmdbg's command line: parsed into options without side effects, so the
 * parser is unit-tested and main decides what to do. */
#ifndef KVMDBG_CLI_H
#define KVMDBG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum cli_serial {
	CLI_SERIAL_STDIO = 0,
	CLI_SERIAL_FILE,
	CLI_SERIAL_NONE,
};

enum cli_action {
	CLI_RUN = 0,
	CLI_HELP,
	CLI_VERSION,
	CLI_PROBE, /* --probe: print what this host's KVM honours */
};

struct cli_opts {
	enum cli_action action;
	uint64_t mem_size;
	unsigned nr_vcpus;
	const char *append;
	enum cli_serial serial;
	const char *serial_path;
	bool no_wait;
	const char *listen; /* "HOST:PORT", "unix:PATH" or "none" */
	bool listen_given; /* --listen was on the command line */
	bool use_stdio; /* --stdio: the RSP on stdin/stdout */
	bool once; /* exit when the debugger disconnects */
	int verbosity; /* number of -v */
	const char *image;
};

/* Exit codes, documented in --help and docs/kvmdbg.md. Guest statuses from
 * the exit device are always odd; kvmdbg's own are even. */
#define EXIT_USAGE 2
#define EXIT_NO_KVM 3
#define EXIT_GUEST_CRASH 4
#define EXIT_INTERNAL 6

#define CLI_DEFAULT_LISTEN "127.0.0.1:1234"

/* Returns 0 (o filled in) or -EINVAL with one line in err. */
int cli_parse(int argc, char *const argv[], struct cli_opts *o, char *err,
	      size_t errlen);
/* Strict size: digits with an optional K, M, G or T suffix (a bare number
 * means MiB, as QEMU's -m does). */
int cli_parse_size(const char *s, uint64_t *out);
int cli_parse_uint(const char *s, unsigned max, unsigned *out);
void cli_usage(FILE *f);

#endif
