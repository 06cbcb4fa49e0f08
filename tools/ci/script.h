/* kvmdbg-ci scripts: the line-oriented language of docs/ci-scripts.md,
 * parsed into breakpoints, watchpoints, limits and expectations. Pure: no
 * symbols, no I/O; names are resolved later against the image. */
#ifndef KVMDBG_CI_SCRIPT_H
#define KVMDBG_CI_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ci_point_kind {
	CI_POINT_BREAK, /* software breakpoint (Z0) */
	CI_POINT_HBREAK, /* hardware breakpoint (Z1) */
	CI_POINT_WATCH, /* watchpoint (Z2, Z3, Z4) */
};

enum ci_watch_kind {
	CI_WATCH_WRITE,
	CI_WATCH_READ,
	CI_WATCH_ACCESS,
};

/* "break LOC", "hbreak LOC", "watch [write|read|access] VAR". */
struct ci_point {
	enum ci_point_kind kind;
	enum ci_watch_kind watch; /* CI_POINT_WATCH only */
	char *loc; /* function, FILE:LINE, *ADDR, or the watched variable */
	unsigned line; /* script line */
};

enum ci_expect_kind {
	CI_EXPECT_HIT, /* expect hit LOC [COUNT] / expect no-hit LOC */
	CI_EXPECT_ORDER, /* expect order LOC before LOC */
	CI_EXPECT_VALUE, /* expect VAR OP VALUE at exit|LOC */
	CI_EXPECT_EXIT, /* expect exit N */
};

/* How a hit count is compared: exactly, at least or at most count. */
enum ci_count_op {
	CI_COUNT_EQ,
	CI_COUNT_GE,
	CI_COUNT_LE,
};

enum ci_cmp {
	CI_CMP_EQ,
	CI_CMP_NE,
	CI_CMP_LT,
	CI_CMP_LE,
	CI_CMP_GT,
	CI_CMP_GE,
};

struct ci_expect {
	enum ci_expect_kind kind;
	unsigned line; /* script line */
	/* The expectation in canonical form, for TAP and JUnit names. */
	char *text;
	/* HIT: loc. ORDER: loc before loc2. VALUE: at loc, or at exit when
	 * loc is NULL. */
	char *loc;
	char *loc2;
	enum ci_count_op count_op;
	uint64_t count;
	/* VALUE: var cmp value. */
	char *var;
	enum ci_cmp cmp;
	__int128 value;
	/* EXIT: the value the guest passed to the exit port. */
	unsigned exit_value;
};

struct ci_script {
	/* Wall-clock limit of the whole guest run in ms; 0 when the script
	 * sets none. */
	uint64_t timeout_ms;
	unsigned timeout_line;
	struct ci_point *points;
	size_t nr_points;
	struct ci_expect *expects;
	size_t nr_expects;
};

/*
 * Parses a whole script. On a syntax error returns -EINVAL with
 * "LINE: message" in err (the caller prefixes the file name); -ENOMEM
 * when out of memory. On success *out is the script, freed with
 * ci_script_free.
 */
int ci_script_parse(const char *text, size_t len, struct ci_script **out,
		    char *err, size_t err_len);
void ci_script_free(struct ci_script *s);

/* Parses a duration: "20s", "500ms", "2m", or bare seconds. */
int ci_parse_duration(const char *s, uint64_t *ms);

/* "==", "<" ... as written in scripts. */
const char *ci_cmp_name(enum ci_cmp cmp);
/* Whether a op b holds. */
bool ci_cmp_eval(enum ci_cmp cmp, __int128 a, __int128 b);
/* Decimal text of v (at most 41 bytes with the NUL). */
void ci_format_i128(__int128 v, char *buf, size_t len);

#endif
