/* kvmdbg-ci results as TAP (version 13, with YAML diagnostics) and JUnit
 * XML. Pure writers: a result list in, text out. */
#ifndef KVMDBG_CI_REPORT_H
#define KVMDBG_CI_REPORT_H

#include <stddef.h>
#include <stdio.h>

enum ci_verdict {
	CI_PASS,
	/* The expectation was checked and does not hold. */
	CI_FAIL,
	/* It could not be decided: the run ended early (timeout, crash,
	 * server failure). */
	CI_ERROR,
};

struct ci_outcome {
	const char *name; /* canonical expectation text */
	unsigned line; /* script line */
	enum ci_verdict verdict;
	/* For CI_FAIL and CI_ERROR: one line saying what happened; the source
	 * location FILE:LINE it happened at, or NULL; a backtrace, lines
	 * each ending in '\n', or NULL. */
	const char *message;
	const char *where;
	const char *backtrace;
};

struct ci_report {
	const char *suite; /* the script's name */
	const char *script; /* its path */
	const char *image;
	double seconds; /* wall clock of the whole run */
	/* Why the run ended early, or NULL when the guest ran to its end. */
	const char *run_error;
	const struct ci_outcome *outcomes;
	size_t nr_outcomes;
};

/* Each returns 0 or -EIO when writing failed. */
int ci_report_tap(FILE *f, const struct ci_report *r);
int ci_report_junit(FILE *f, const struct ci_report *r);

/* XML-escapes s (text and attribute values alike) onto f; characters
 * XML 1.0 cannot carry become U+FFFD. */
void ci_xml_escape(FILE *f, const char *s);

#endif
