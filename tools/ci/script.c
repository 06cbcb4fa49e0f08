/* kvmdbg-ci script parser: one statement per line, words separated by
 * blanks, '#' starts a comment. The grammar is in docs/ci-scripts.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

#define MAX_WORDS 16

struct parser {
	struct ci_script *s;
	unsigned line;
	char *err;
	size_t err_len;
};

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->err_len, "%u: ", p->line);
	if (n < 0 || (size_t)n >= p->err_len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *const cmp_names[] = {
	[CI_CMP_EQ] = "==", [CI_CMP_NE] = "!=", [CI_CMP_LT] = "<",
	[CI_CMP_LE] = "<=", [CI_CMP_GT] = ">",	[CI_CMP_GE] = ">=",
};
_Static_assert(sizeof(cmp_names) / sizeof(cmp_names[0]) == CI_CMP_GE + 1,
	       "one name per comparison");

const char *ci_cmp_name(enum ci_cmp cmp)
{
	return (unsigned)cmp <= CI_CMP_GE ? cmp_names[cmp] : "?";
}

bool ci_cmp_eval(enum ci_cmp cmp, __int128 a, __int128 b)
{
	switch (cmp) {
	case CI_CMP_EQ: return a == b;
	case CI_CMP_NE: return a != b;
	case CI_CMP_LT: return a < b;
	case CI_CMP_LE: return a <= b;
	case CI_CMP_GT: return a > b;
	case CI_CMP_GE: return a >= b;
	}
	return false;
}

void ci_format_i128(__int128 v, char *buf, size_t len)
{
	char tmp[48];
	unsigned __int128 m = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	size_t i = sizeof(tmp);

	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + (unsigned)(m % 10));
		m /= 10;
	} while (m);
	if (v < 0)
		tmp[--i] = '-';
	snprintf(buf, len, "%s", tmp + i);
}

/* Strict unsigned number: decimal, or hex with 0x. No sign, no junk. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* A value in an expectation: what a signed or unsigned 64-bit variable
 * can hold, so -2^63 .. 2^64-1. */
static int parse_value(const char *s, __int128 *out)
{
	uint64_t m;
	int ret;

	if (*s == '-') {
		ret = parse_u64(s + 1, &m);
		if (ret)
			return ret;
		if (m > (uint64_t)1 << 63)
			return -ERANGE;
		*out = -(__int128)m;
		return 0;
	}
	ret = parse_u64(s, &m);
	if (ret)
		return ret;
	*out = m;
	return 0;
}

int ci_parse_duration(const char *s, uint64_t *ms)
{
	char num[32];
	uint64_t v, mul = 1000;
	size_t n = strspn(s, "0123456789");
	const char *unit = s + n;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_u64(num, &v))
		return -EINVAL;
	if (!strcmp(unit, "ms"))
		mul = 1;
	else if (!strcmp(unit, "s") || !*unit)
		mul = 1000;
	else if (!strcmp(unit, "m") || !strcmp(unit, "min"))
		mul = 60000;
	else
		return -EINVAL;
	/* A day is far beyond any CI job and keeps deadlines from
	 * overflowing. */
	if (v == 0 || v > 86400000 / mul)
		return -ERANGE;
	*ms = v * mul;
	return 0;
}

static bool is_ident(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* FUNCTION, FILE:LINE or *ADDR; watched variables are identifiers. */
static int check_loc(struct parser *p, const char *w)
{
	const char *colon = strrchr(w, ':');
	uint64_t v;

	if (*w == '*') {
		if (parse_u64(w + 1, &v))
			return fail(p, "bad address '%s' (want *0xHEX)", w);
		return 0;
	}
	if (colon) {
		if (colon == w || parse_u64(colon + 1, &v) || v == 0 ||
		    v > 0xffffffffu || colon[1] == '0')
			return fail(p,
				    "bad location '%s' (want FILE:LINE with "
				    "a decimal line from 1)",
				    w);
		return 0;
	}
	if (!is_ident(w))
		return fail(p,
			    "bad location '%s' (want a function, FILE:LINE or "
			    "*ADDR)",
			    w);
	return 0;
}

static char *join(char **w, size_t n)
{
	size_t len = 1, i;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(w[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, w[i]);
	}
	return s;
}

static int add_point(struct parser *p, enum ci_point_kind kind,
		     enum ci_watch_kind watch, const char *loc)
{
	struct ci_script *s = p->s;
	struct ci_point *pt;

	pt = realloc(s->points, (s->nr_points + 1) * sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	s->points = pt;
	pt = &s->points[s->nr_points];
	memset(pt, 0, sizeof(*pt));
	pt->kind = kind;
	pt->watch = watch;
	pt->line = p->line;
	pt->loc = strdup(loc);
	if (!pt->loc)
		return -ENOMEM;
	s->nr_points++;
	return 0;
}

static int parse_watch(struct parser *p, char **w, size_t n)
{
	enum ci_watch_kind k = CI_WATCH_WRITE;
	const char *var;

	if (n == 2) {
		var = w[1];
	} else if (n == 3) {
		if (!strcmp(w[1], "write"))
			k = CI_WATCH_WRITE;
		else if (!strcmp(w[1], "read"))
			k = CI_WATCH_READ;
		else if (!strcmp(w[1], "access"))
			k = CI_WATCH_ACCESS;
		else
			return fail(p,
				    "unknown watch kind '%s' (want write, read "
				    "or access)",
				    w[1]);
		var = w[2];
	} else {
		return fail(p, "usage: watch [write|read|access] VARIABLE");
	}
	if (!is_ident(var))
		return fail(p, "bad variable name '%s'", var);
	return add_point(p, CI_POINT_WATCH, k, var);
}

static int parse_count(struct parser *p, char **w, size_t n,
		       struct ci_expect *e)
{
	uint64_t v;

	if (n == 0) {
		e->count_op = CI_COUNT_GE;
		e->count = 1;
		return 0;
	}
	if (n == 1 && !strcmp(w[0], "once")) {
		e->count_op = CI_COUNT_EQ;
		e->count = 1;
		return 0;
	}
	if (n == 1 && !strcmp(w[0], "never")) {
		e->count_op = CI_COUNT_EQ;
		e->count = 0;
		return 0;
	}
	if (n == 2 && (!strcmp(w[1], "times") || !strcmp(w[1], "time")) &&
	    !parse_u64(w[0], &v)) {
		e->count_op = CI_COUNT_EQ;
		e->count = v;
		return 0;
	}
	if (n == 2 && !parse_u64(w[1], &v)) {
		if (!strcmp(w[0], "at-least"))
			e->count_op = CI_COUNT_GE;
		else if (!strcmp(w[0], "at-most"))
			e->count_op = CI_COUNT_LE;
		else if (!strcmp(w[0], "exactly"))
			e->count_op = CI_COUNT_EQ;
		else
			goto bad;
		e->count = v;
		return 0;
	}
bad:
	return fail(p,
		    "bad hit count (want once, never, N times, exactly N, "
		    "at-least N or at-most N)");
}

static int parse_cmp(const char *w, enum ci_cmp *out)
{
	unsigned i;

	for (i = 0; i <= CI_CMP_GE; i++)
		if (!strcmp(w, cmp_names[i])) {
			*out = (enum ci_cmp)i;
			return 0;
		}
	return -EINVAL;
}

/* Builds the canonical text of e from its fields. */
static int canonical_text(struct ci_expect *e)
{
	char buf[512], num[48];

	switch (e->kind) {
	case CI_EXPECT_HIT:
		if (e->count_op == CI_COUNT_EQ && e->count == 0)
			snprintf(buf, sizeof(buf), "no-hit %s", e->loc);
		else if (e->count_op == CI_COUNT_EQ && e->count == 1)
			snprintf(buf, sizeof(buf), "hit %s once", e->loc);
		else if (e->count_op == CI_COUNT_EQ)
			snprintf(buf, sizeof(buf), "hit %s %llu times", e->loc,
				 (unsigned long long)e->count);
		else
			snprintf(buf, sizeof(buf), "hit %s %s %llu", e->loc,
				 e->count_op == CI_COUNT_GE ? "at-least"
							    : "at-most",
				 (unsigned long long)e->count);
		break;
	case CI_EXPECT_ORDER:
		snprintf(buf, sizeof(buf), "order %s before %s", e->loc,
			 e->loc2);
		break;
	case CI_EXPECT_VALUE:
		ci_format_i128(e->value, num, sizeof(num));
		snprintf(buf, sizeof(buf), "%s %s %s at %s", e->var,
			 ci_cmp_name(e->cmp), num, e->loc ? e->loc : "exit");
		break;
	case CI_EXPECT_EXIT:
		snprintf(buf, sizeof(buf), "exit %u", e->exit_value);
		break;
	}
	e->text = strdup(buf);
	return e->text ? 0 : -ENOMEM;
}

static int parse_expect(struct parser *p, char **w, size_t n)
{
	struct ci_script *s = p->s;
	struct ci_expect e, *v;
	uint64_t u;
	int ret;

	memset(&e, 0, sizeof(e));
	e.line = p->line;
	if (n < 2)
		return fail(p, "usage: expect hit|no-hit|order|exit|VARIABLE "
			       "...");
	if (n >= 4 && !parse_cmp(w[2], &e.cmp)) {
		/* expect VAR OP VALUE at exit|LOC */
		e.kind = CI_EXPECT_VALUE;
		if (!is_ident(w[1]))
			return fail(p, "bad variable name '%s'", w[1]);
		ret = parse_value(w[3], &e.value);
		if (ret)
			return fail(p, "bad value '%s' (want a %snumber)", w[3],
				    ret == -ERANGE ? "64-bit " : "");
		if (n != 6 || strcmp(w[4], "at"))
			return fail(p, "usage: expect VARIABLE OP VALUE at "
				       "exit|LOCATION");
		if (strcmp(w[5], "exit")) {
			ret = check_loc(p, w[5]);
			if (ret)
				return ret;
			e.loc = w[5];
		}
		e.var = w[1];
	} else if (!strcmp(w[1], "hit")) {
		e.kind = CI_EXPECT_HIT;
		if (n < 3)
			return fail(p, "usage: expect hit LOCATION [COUNT]");
		ret = check_loc(p, w[2]);
		if (ret)
			return ret;
		e.loc = w[2];
		ret = parse_count(p, w + 3, n - 3, &e);
		if (ret)
			return ret;
	} else if (!strcmp(w[1], "no-hit")) {
		e.kind = CI_EXPECT_HIT;
		if (n != 3)
			return fail(p, "usage: expect no-hit LOCATION");
		ret = check_loc(p, w[2]);
		if (ret)
			return ret;
		e.loc = w[2];
		e.count_op = CI_COUNT_EQ;
		e.count = 0;
	} else if (!strcmp(w[1], "order")) {
		e.kind = CI_EXPECT_ORDER;
		if (n != 5 || strcmp(w[3], "before"))
			return fail(p,
				    "usage: expect order LOCATION before "
				    "LOCATION");
		ret = check_loc(p, w[2]);
		if (!ret)
			ret = check_loc(p, w[4]);
		if (ret)
			return ret;
		if (!strcmp(w[2], w[4]))
			return fail(p, "'%s' cannot come before itself", w[2]);
		e.loc = w[2];
		e.loc2 = w[4];
	} else if (!strcmp(w[1], "exit")) {
		e.kind = CI_EXPECT_EXIT;
		if (n != 3)
			return fail(p, "usage: expect exit N");
		/* The exit port carries v in the low 7 bits of the process
		 * status (v<<1)|1, as an 8-bit W reply. */
		if (parse_u64(w[2], &u) || u > 127)
			return fail(p, "bad exit value '%s' (want 0 to 127)",
				    w[2]);
		e.exit_value = (unsigned)u;
	} else {
		return fail(p,
			    "unknown expectation '%s' (want hit, no-hit, "
			    "order, exit or VARIABLE OP VALUE at ...)",
			    w[1]);
	}

	{
		const char *loc = e.loc, *loc2 = e.loc2, *var = e.var;

		e.loc = loc ? strdup(loc) : NULL;
		e.loc2 = loc2 ? strdup(loc2) : NULL;
		e.var = var ? strdup(var) : NULL;
		ret = (loc && !e.loc) || (loc2 && !e.loc2) || (var && !e.var);
	}
	v = realloc(s->expects, (s->nr_expects + 1) * sizeof(*v));
	if (v)
		s->expects = v;
	if (ret || !v || canonical_text(&e)) {
		free(e.loc);
		free(e.loc2);
		free(e.var);
		free(e.text);
		return -ENOMEM;
	}
	s->expects[s->nr_expects++] = e;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *w[MAX_WORDS], *tok, *save = NULL;
	size_t n = 0;
	char *hash;
	uint64_t ms;

	/* A '#' at the start of a word starts a comment. */
	for (hash = line; (hash = strchr(hash, '#')); hash++)
		if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = '\0';
			break;
		}
	for (tok = strtok_r(line, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_WORDS)
			return fail(p, "too many words");
		w[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (!strcmp(w[0], "timeout")) {
		if (n != 2)
			return fail(p, "usage: timeout DURATION (e.g. 20s, "
				       "500ms, 2m)");
		if (p->s->timeout_ms)
			return fail(p, "timeout already set on line %u",
				    p->s->timeout_line);
		if (ci_parse_duration(w[1], &ms))
			return fail(p,
				    "bad duration '%s' (want e.g. 20s, 500ms, "
				    "2m; at most a day)",
				    w[1]);
		p->s->timeout_ms = ms;
		p->s->timeout_line = p->line;
		return 0;
	}
	if (!strcmp(w[0], "break") || !strcmp(w[0], "hbreak")) {
		int ret;

		if (n != 2)
			return fail(p, "usage: %s LOCATION", w[0]);
		ret = check_loc(p, w[1]);
		if (ret)
			return ret;
		return add_point(p, w[0][0] == 'h' ? CI_POINT_HBREAK
						   : CI_POINT_BREAK,
				 CI_WATCH_WRITE, w[1]);
	}
	if (!strcmp(w[0], "watch"))
		return parse_watch(p, w, n);
	if (!strcmp(w[0], "expect"))
		return parse_expect(p, w, n);
	{
		char *text = join(w, n);
		int ret;

		if (!text)
			return -ENOMEM;
		ret = fail(p,
			   "unknown statement '%s' (want timeout, break, "
			   "hbreak, watch or expect)",
			   text);
		free(text);
		return ret;
	}
}

int ci_script_parse(const char *text, size_t len, struct ci_script **out,
		    char *err, size_t err_len)
{
	struct parser p = { .err = err, .err_len = err_len };
	size_t start = 0, end;
	char *line;
	int ret = 0;

	if (err_len)
		err[0] = '\0';
	p.s = calloc(1, sizeof(*p.s));
	if (!p.s)
		return -ENOMEM;
	while (start < len) {
		for (end = start; end < len && text[end] != '\n'; end++)
			;
		p.line++;
		if (memchr(text + start, '\0', end - start)) {
			ret = fail(&p, "NUL byte in script");
			break;
		}
		line = strndup(text + start, end - start);
		if (!line) {
			ret = -ENOMEM;
			break;
		}
		ret = parse_line(&p, line);
		free(line);
		if (ret)
			break;
		start = end + 1;
	}
	if (ret) {
		ci_script_free(p.s);
		return ret;
	}
	*out = p.s;
	return 0;
}

void ci_script_free(struct ci_script *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_points; i++)
		free(s->points[i].loc);
	for (i = 0; i < s->nr_expects; i++) {
		free(s->expects[i].text);
		free(s->expects[i].loc);
		free(s->expects[i].loc2);
		free(s->expects[i].var);
	}
	free(s->points);
	free(s->expects);
	free(s);
}
