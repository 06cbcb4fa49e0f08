/* One kvmdbg-ci run: resolve the script against the image, drive
 * kvmdbg over the protocol, judge the expectations and write reports. */
#ifndef KVMDBG_CI_RUN_H
#define KVMDBG_CI_RUN_H

#include <stdbool.h>
#include <stdint.h>

/* kvmdbg-ci's exit statuses (docs/ci-scripts.md). */
enum {
	CI_EXIT_OK = 0, /* every expectation held */
	CI_EXIT_FAILED = 1, /* at least one did not */
	CI_EXIT_SCRIPT = 2, /* usage or script error: nothing ran */
	CI_EXIT_RUN = 3, /* the guest or kvmdbg failed: crash, timeout, ... */
};

#define CI_DEFAULT_TIMEOUT_MS 60000

struct ci_options {
	const char *script;
	const char *image;
	const char *kvmdbg; /* the server binary */
	const char *tap; /* NULL: stdout */
	const char *junit; /* NULL: none */
	const char *console; /* NULL: the server's stderr to ours */
	const char *smp, *mem, *append; /* passed to kvmdbg */
	uint64_t timeout_ms; /* 0: the script's, else the default */
	bool stats;
	bool resolve_only;
	int verbose;
};

/* Returns one of the CI_EXIT_* statuses. */
int ci_run(const struct ci_options *o);

#endif
