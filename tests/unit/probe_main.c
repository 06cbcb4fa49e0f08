/* kvmdbg-probe: the host probe on its own, for tests and measurements.
 * Prints the table (default) or the key=value line; --loop N runs it N
 * times and checks that no file descriptor is left behind;
 * --timeout-selftest MS checks that a hung test guest is stopped;
 * --fd-limits makes each descriptor the probe opens fail in turn. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "log.h"
#include "vmm/probe.h"

#define EXIT_USAGE 2
#define EXIT_NO_KVM 3

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* The kv line without its timing tokens (keys ending in _us), which
 * differ from run to run. */
static void facts_only(const char *kv, char *out, size_t len)
{
	size_t pos = 0;

	out[0] = '\0';
	while (*kv) {
		size_t n = strcspn(kv, " ");
		const char *eq = memchr(kv, '=', n);

		if (!(eq && eq - kv >= 3 && memcmp(eq - 3, "_us", 3) == 0) &&
		    pos + n + 2 < len) {
			memcpy(out + pos, kv, n);
			pos += n;
			out[pos++] = ' ';
			out[pos] = '\0';
		}
		kv += n;
		while (*kv == ' ')
			kv++;
	}
}

/*
 * Run the probe with RLIMIT_NOFILE just above the descriptors already
 * open, so /dev/kvm, then the VM, then the vCPU fail to open in turn: each
 * failure must be reported and leave no descriptor behind, and with room
 * for all three the probe succeeds.
 */
static int fd_limits(void)
{
	struct rlimit old, lim;
	struct kvm_probe_result r;
	char err[512];
	int fds, bad = 0, highest = 0, ret, fillers[1024], nfill = 0, fd;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	/* The limit bounds descriptor numbers, not their count: find the
	 * highest open one and fill the holes below it. */
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) > highest)
			highest = atoi(e->d_name);
	if (d)
		closedir(d);
	while (nfill < 1024 && (fd = open("/dev/null", O_RDONLY)) >= 0) {
		if (fd > highest) {
			close(fd);
			break;
		}
		fillers[nfill++] = fd;
	}
	fds = count_fds();
	getrlimit(RLIMIT_NOFILE, &old);
	for (int room = 0; room <= 3; room++) {
		lim = old;
		lim.rlim_cur = (rlim_t)(highest + 1 + room);
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0) {
			perror("setrlimit");
			return 1;
		}
		ret = kvm_probe_run(&r, err, sizeof(err));
		setrlimit(RLIMIT_NOFILE, &old);
		printf("room=%d ret=%d err=\"%s\" fds=%d\n", room, ret, err,
		       count_fds());
		if ((room < 3) != (ret < 0) || count_fds() != fds)
			bad = 1;
	}
	while (nfill > 0)
		close(fillers[--nfill]);
	return bad;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kvmdbg-probe [--kv] [--times] [--loop N]\n"
		   "       kvmdbg-probe --timeout-selftest MS\n"
		   "       kvmdbg-probe --fd-limits\n");
}

int main(int argc, char **argv)
{
	static char buf[8192];
	struct kvm_probe_result r;
	char err[512];
	bool kv = false, times = false;
	long loops = 0, selftest_ms = 0;
	uint64_t *ns;
	int fds_before, fds_after, ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--kv") == 0) {
			kv = true;
		} else if (strcmp(argv[i], "--times") == 0) {
			times = true;
		} else if (strcmp(argv[i], "--fd-limits") == 0) {
			return fd_limits();
		} else if (strcmp(argv[i], "--loop") == 0 && i + 1 < argc) {
			char *end;

			loops = strtol(argv[++i], &end, 10);
			if (*end || loops < 1 || loops > 100000) {
				usage(stderr);
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--timeout-selftest") == 0 &&
			   i + 1 < argc) {
			char *end;

			selftest_ms = strtol(argv[++i], &end, 10);
			if (*end || selftest_ms < 1 || selftest_ms > 10000) {
				usage(stderr);
				return EXIT_USAGE;
			}
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (getenv("KVMDBG_LOG")) {
		enum log_level lv;

		if (log_parse_level(getenv("KVMDBG_LOG"), &lv) == 0)
			log_set_level(lv);
	}

	if (selftest_ms) {
		ret = kvm__probe_timeout_selftest((unsigned)selftest_ms, err,
						  sizeof(err));
		printf("timeout selftest: %s: %s\n", ret < 0 ? "FAIL" : "ok",
		       err);
		return ret < 0 ? 1 : 0;
	}
	if (loops == 0) {
		ret = kvm_probe_run(&r, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "kvmdbg-probe: %s\n", err);
			return ret == -ENOENT || ret == -EACCES || ret == -EPERM
				       ? EXIT_NO_KVM
				       : 1;
		}
		if (kv)
			kvm_probe_format_kv(&r, buf, sizeof(buf));
		else
			kvm_probe_format(&r, buf, sizeof(buf));
		printf("%s%s", buf, kv ? "\n" : "");
		if (times)
			for (int m = 0; m < KVM_PROBE_NR_MECH; m++)
				printf("time %s %u us\n", kvm_probe_mech_key(m),
				       r.test[m].usec);
		return 0;
	}

	/* The loop: the same facts every time, the same fds afterwards. */
	ns = calloc((size_t)loops, sizeof(*ns));
	if (!ns)
		return 1;
	fds_before = count_fds();
	for (long i = 0; i < loops; i++) {
		static char first[8192], now[8192];

		ret = kvm_probe_run(&r, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "kvmdbg-probe: run %ld: %s\n", i, err);
			free(ns);
			return 1;
		}
		ns[i] = r.elapsed_ns;
		kvm_probe_format_kv(&r, buf, sizeof(buf));
		facts_only(buf, now, sizeof(now));
		if (i == 0) {
			memcpy(first, now, sizeof(first));
		} else if (strcmp(first, now) != 0) {
			fprintf(stderr,
				"kvmdbg-probe: run %ld differs:\n  first: %s\n"
				"  now:   %s\n",
				i, first, now);
			free(ns);
			return 1;
		}
	}
	fds_after = count_fds();
	qsort(ns, (size_t)loops, sizeof(*ns), cmp_u64);
	printf("runs=%ld min_us=%" PRIu64 " median_us=%" PRIu64
	       " max_us=%" PRIu64 " fds_before=%d fds_after=%d\n",
	       loops, ns[0] / 1000, ns[loops / 2] / 1000,
	       ns[loops - 1] / 1000, fds_before, fds_after);
	free(ns);
	return fds_before == fds_after ? 0 : 1;
}
