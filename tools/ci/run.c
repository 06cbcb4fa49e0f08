/* The kvmdbg-ci engine: resolves a script's locations through the image's
 * DWARF (or ELF symbols), plants them in kvmdbg over the protocol, counts
 * what the guest hits until it exits, and judges every expectation. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "report.h"
#include "rsp/packet.h"
#include "rsp_client.h"
#include "run.h"
#include "script.h"
#include "symbols.h"
#include "unwind.h"

#define MAX_ADDRS 16
/* Every exchange that is not a resume gets this long. */
#define REQUEST_MS 10000
/* After the timeout, how long Ctrl-C gets to stop the guest. */
#define INTERRUPT_MS 5000

/* gdb's amd64 register numbers, as kvmdbg expedites them. */
#define GDB_RBP 6
#define GDB_RSP 7
#define GDB_RIP 16

/* RSP signal numbers (gdb's). */
#define SIG_INT 2
#define SIG_TRAP 5

/* A stop worth reporting: where it was and the backtrace there. */
struct snap {
	bool valid;
	uint64_t pc;
	char *where;
	char *bt;
};

/* A resolved location: a breakpoint's addresses or a watched variable. */
struct loc {
	char *spec; /* as the script wrote it */
	bool watch;
	enum ci_watch_kind wk;
	const struct ci_var *var;
	bool hw;
	uint64_t addrs[MAX_ADDRS];
	size_t nr_addrs;
	struct ci_src src;
	bool has_src;
	/* Run time. */
	uint64_t hits;
	uint64_t first_seq;
	struct snap first, last;
};

struct xstate {
	const struct ci_expect *e;
	int loc, loc2; /* indices into locs, or -1 */
	const struct ci_var *var;
	/* VALUE at LOC: checks made, the first that failed. */
	uint64_t checks;
	bool bad;
	__int128 bad_value;
	struct snap bad_at;
	/* HIT: the hit that broke an upper bound. */
	struct snap over;
	/* VALUE at exit: the value as last seen and where it was written. */
	__int128 value;
	bool value_known;
	uint64_t writes;
	struct snap written;
};

/* What one stop reply said. */
struct stop {
	char kind; /* 'T', 'W' or 'X' */
	unsigned sig;
	unsigned status;
	unsigned thread;
	uint64_t pc, sp, fp;
	bool have_regs;
	int watch; /* -1, or the kind the reply named */
	uint64_t watch_addr;
};

struct stats {
	double start, syms, spawned, setup, running, protocol, end;
	unsigned resumes, exchanges, stops, backtraces;
};

struct run {
	const struct ci_options *o;
	const char *suite;
	struct ci_syms *syms;
	struct ci_script *script;
	uint64_t timeout_ms;
	struct loc *locs;
	size_t nr_locs;
	struct xstate *xs;
	struct ci_rsp *rsp;
	uint64_t seq;
	bool exited;
	unsigned exit_status;
	/* kvmdbg closed the pipe on its own; the guest crashed. */
	bool server_died;
	bool crashed;
	char *run_error;
	struct snap run_error_at;
	struct stats st;
	char reply[CI_RSP_MAX_PAYLOAD + 1];
};

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void progress(const char *fmt, ...)
{
	va_list ap;

	fputs("kvmdbg-ci: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void snap_free(struct snap *s)
{
	free(s->where);
	free(s->bt);
	memset(s, 0, sizeof(*s));
}

static void snap_copy(struct snap *dst, const struct snap *src)
{
	snap_free(dst);
	if (!src->valid)
		return;
	dst->valid = true;
	dst->pc = src->pc;
	dst->where = src->where ? strdup(src->where) : NULL;
	dst->bt = src->bt ? strdup(src->bt) : NULL;
}

/*
 * Resolution
 */

static int script_error(struct run *r, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int script_error(struct run *r, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", r->o->script, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int find_loc(struct run *r, const char *spec, bool watch_ok)
{
	size_t i;

	for (i = 0; i < r->nr_locs; i++)
		if (!strcmp(r->locs[i].spec, spec) &&
		    (watch_ok || !r->locs[i].watch))
			return (int)i;
	return -1;
}

static struct loc *new_loc(struct run *r, const char *spec)
{
	struct loc *l = realloc(r->locs, (r->nr_locs + 1) * sizeof(*l));

	if (!l)
		return NULL;
	r->locs = l;
	l = &r->locs[r->nr_locs];
	memset(l, 0, sizeof(*l));
	l->spec = strdup(spec);
	if (!l->spec)
		return NULL;
	r->nr_locs++;
	return l;
}

static int unknown_name(struct run *r, unsigned line, const char *name,
			const char *what)
{
	const char *hint = ci_syms_suggest(r->syms, name);

	if (hint)
		return script_error(r, line, "no %s '%s' in %s (did you mean "
					     "'%s'?)",
				    what, name, r->o->image, hint);
	return script_error(r, line, "no %s '%s' in %s", what, name,
			    r->o->image);
}

/* Resolves a breakpoint location (function, FILE:LINE, *ADDR) into l. */
static int resolve_code(struct run *r, unsigned line, struct loc *l)
{
	const char *spec = l->spec, *colon = strrchr(spec, ':');
	char err[512], file[1024];
	const struct ci_func *f;
	int n;

	if (spec[0] == '*') {
		l->addrs[0] = strtoull(spec + 1, NULL, 0);
		l->nr_addrs = 1;
		l->has_src = ci_syms_src_at(r->syms, l->addrs[0], &l->src);
		return 0;
	}
	if (colon) {
		if (!ci_syms_has_lines(r->syms))
			return script_error(r, line,
					    "%s: FILE:LINE needs DWARF line "
					    "tables, and %s has none",
					    spec, r->o->image);
		snprintf(file, sizeof(file), "%.*s", (int)(colon - spec),
			 spec);
		n = ci_syms_line_addrs(r->syms, file,
				       (unsigned)strtoul(colon + 1, NULL, 10),
				       l->addrs, MAX_ADDRS, &l->src, err,
				       sizeof(err));
		if (n < 0)
			return script_error(r, line, "%s: %s", spec, err);
		if (n == 0)
			return script_error(r, line, "%s: no code", spec);
		l->nr_addrs = (size_t)n;
		l->has_src = true;
		return 0;
	}
	f = ci_syms_func(r->syms, spec);
	if (!f) {
		if (ci_syms_var(r->syms, spec))
			return script_error(r, line,
					    "'%s' is a variable, not code; "
					    "'watch %s' follows its writes",
					    spec, spec);
		return unknown_name(r, line, spec, "function");
	}
	l->addrs[0] = f->body;
	l->nr_addrs = 1;
	l->has_src = ci_syms_src_at(r->syms, f->body, &l->src);
	return 0;
}

static int resolve_watch(struct run *r, unsigned line, struct loc *l,
			 enum ci_watch_kind wk)
{
	l->watch = true;
	l->wk = wk;
	l->var = ci_syms_var(r->syms, l->spec);
	if (!l->var) {
		if (ci_syms_func(r->syms, l->spec))
			return script_error(r, line,
					    "'%s' is a function; watch takes "
					    "a global variable",
					    l->spec);
		return unknown_name(r, line, l->spec, "global variable");
	}
	if (!l->var->size)
		return script_error(r, line, "'%s' has no size to watch",
				    l->spec);
	l->addrs[0] = l->var->addr;
	l->nr_addrs = 1;
	return 0;
}

/* The location an expectation names: a point the script set, a watched
 * variable, or else a new software breakpoint. */
static int expect_loc(struct run *r, unsigned line, const char *spec)
{
	struct loc *l;
	int i = find_loc(r, spec, true);

	if (i >= 0)
		return i;
	l = new_loc(r, spec);
	if (!l)
		return -ENOMEM;
	if (resolve_code(r, line, l))
		return -EINVAL;
	return (int)r->nr_locs - 1;
}

static const struct ci_var *scalar_var(struct run *r, unsigned line,
				       const char *name)
{
	const struct ci_var *v = ci_syms_var(r->syms, name);

	if (!v) {
		unknown_name(r, line, name, "global variable");
		return NULL;
	}
	if (!v->scalar) {
		script_error(r, line,
			     "'%s' is not a number (%s); compare scalars "
			     "only",
			     name, v->type);
		return NULL;
	}
	return v;
}

/* The script line of the point locs[i] came from. */
static unsigned point_line(struct run *r, size_t i)
{
	return i < r->script->nr_points ? r->script->points[i].line : 0;
}

static int resolve(struct run *r)
{
	struct ci_script *s = r->script;
	size_t i, j;
	int ret;

	for (i = 0; i < s->nr_points; i++) {
		const struct ci_point *p = &s->points[i];
		struct loc *l = new_loc(r, p->loc);

		if (!l)
			return -ENOMEM;
		if (p->kind == CI_POINT_WATCH) {
			ret = resolve_watch(r, p->line, l, p->watch);
		} else {
			l->hw = p->kind == CI_POINT_HBREAK;
			ret = resolve_code(r, p->line, l);
		}
		if (ret)
			return ret;
	}
	r->xs = calloc(s->nr_expects ? s->nr_expects : 1, sizeof(*r->xs));
	if (!r->xs)
		return -ENOMEM;
	for (i = 0; i < s->nr_expects; i++) {
		const struct ci_expect *e = &s->expects[i];
		struct xstate *x = &r->xs[i];

		x->e = e;
		x->loc = x->loc2 = -1;
		switch (e->kind) {
		case CI_EXPECT_HIT:
			x->loc = expect_loc(r, e->line, e->loc);
			if (x->loc < 0)
				return x->loc;
			break;
		case CI_EXPECT_ORDER:
			x->loc = expect_loc(r, e->line, e->loc);
			if (x->loc < 0)
				return x->loc;
			x->loc2 = expect_loc(r, e->line, e->loc2);
			if (x->loc2 < 0)
				return x->loc2;
			break;
		case CI_EXPECT_VALUE:
			x->var = scalar_var(r, e->line, e->var);
			if (!x->var)
				return -EINVAL;
			if (e->loc) {
				x->loc = expect_loc(r, e->line, e->loc);
				if (x->loc < 0)
					return x->loc;
				break;
			}
			/* Its value at exit: every write is followed by a
			 * write watchpoint, added unless the script has one.
			 * A read or access watch on it would take the stop of
			 * a read-modify-write (`counter++` at -O2): kvmdbg
			 * reports one stop per instruction, the read, and the
			 * write stop that follows values here never comes, so
			 * the two do not mix. */
			for (j = 0; j < r->nr_locs; j++)
				if (r->locs[j].watch &&
				    r->locs[j].var == x->var &&
				    r->locs[j].wk != CI_WATCH_WRITE)
					return script_error(
						r, e->line,
						"'%s' follows the writes of "
						"%s, which cannot "
						"share it with the %s watch of "
						"line %u",
						e->text, e->var,
						r->locs[j].wk == CI_WATCH_READ
							? "read"
							: "access",
						point_line(r, j));
			for (j = 0; j < r->nr_locs; j++)
				if (r->locs[j].watch &&
				    r->locs[j].var == x->var)
					break;
			if (j == r->nr_locs) {
				struct loc *l = new_loc(r, e->var);

				if (!l)
					return -ENOMEM;
				resolve_watch(r, e->line, l, CI_WATCH_WRITE);
			}
			x->loc = (int)j;
			break;
		case CI_EXPECT_EXIT:
			break;
		}
	}
	return 0;
}

static void print_resolution(struct run *r, FILE *f)
{
	size_t i, j;

	for (i = 0; i < r->nr_locs; i++) {
		const struct loc *l = &r->locs[i];

		if (l->watch) {
			fprintf(f, "%s: %s watch at 0x%" PRIx64 ", %" PRIu64
				   " bytes, %s\n",
				l->spec,
				l->wk == CI_WATCH_WRITE	 ? "write"
				: l->wk == CI_WATCH_READ ? "read"
							 : "access",
				l->var->addr, l->var->size, l->var->type);
			continue;
		}
		fprintf(f, "%s: %s at", l->spec, l->hw ? "hbreak" : "break");
		for (j = 0; j < l->nr_addrs; j++)
			fprintf(f, " 0x%" PRIx64, l->addrs[j]);
		if (l->has_src)
			fprintf(f, " (%s:%u)", l->src.file, l->src.line);
		fputc('\n', f);
	}
}

/*
 * Protocol
 */

static const char *rsp_error(long ret)
{
	switch (ret) {
	case -ETIMEDOUT: return "no reply in time";
	case -EPIPE: return "kvmdbg closed the connection";
	case -EPROTO: return "malformed packet";
	case -EMSGSIZE: return "reply too large";
	default: return strerror((int)-ret);
	}
}

static void set_run_error(struct run *r, char *msg)
{
	if (r->run_error) {
		free(msg);
		return;
	}
	r->run_error = msg ? msg : strdup("out of memory");
}

/* One request and its reply, timed as protocol. */
static long request(struct run *r, const char *payload)
{
	double t0 = ci_now_s();
	long ret;

	ret = ci_rsp_request(r->rsp, payload, r->reply, sizeof(r->reply),
			     REQUEST_MS);
	r->st.protocol += ci_now_s() - t0;
	r->st.exchanges++;
	if (ret == -EPIPE)
		r->server_died = true;
	if (ret < 0)
		set_run_error(r, xasprintf("'%.20s' got %s", payload,
					   rsp_error(ret)));
	return ret;
}

static int read_mem(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct run *r = opaque;
	char req[64];
	long n;

	snprintf(req, sizeof(req), "m%" PRIx64 ",%zx", addr, len);
	n = request(r, req);
	if (n < 0 || (size_t)n != 2 * len ||
	    rsp_hex_decode(r->reply, (size_t)n, buf, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

static int read_var(struct run *r, const struct ci_var *v, __int128 *out)
{
	uint8_t b[8];
	uint64_t u = 0;
	int i;

	if (read_mem(r, v->addr, b, v->size))
		return -EIO;
	for (i = (int)v->size - 1; i >= 0; i--)
		u = u << 8 | b[i];
	if (v->is_signed && v->size < 8 && (u >> (8 * v->size - 1)) & 1)
		u |= ~0ULL << (8 * v->size);
	*out = v->is_signed ? (__int128)(int64_t)u : (__int128)u;
	return 0;
}

static uint64_t le_hex(const char *s, size_t len)
{
	uint8_t b[8];
	uint64_t v = 0;
	int i;

	if (len != 16 || rsp_hex_decode(s, len, b, 8) != 8)
		return 0;
	for (i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static int parse_stop(const char *p, size_t len, struct stop *st)
{
	const char *end = p + len, *key, *val;
	size_t klen, vlen;
	uint64_t v;
	unsigned have = 0;

	memset(st, 0, sizeof(*st));
	st->watch = -1;
	if (len < 3)
		return -EPROTO;
	st->kind = p[0];
	if (rsp_parse_hex_u64(p + 1, 2, &v))
		return -EPROTO;
	if (st->kind == 'W' || st->kind == 'X') {
		st->status = (unsigned)v;
		return 0;
	}
	if (st->kind != 'T' && st->kind != 'S')
		return -EPROTO;
	st->sig = (unsigned)v;
	p += 3;
	while (p < end) {
		if (rsp_take_field(&p, end, ':', &key, &klen) != 1)
			break;
		rsp_take_field(&p, end, ';', &val, &vlen);
		if (klen == 6 && !memcmp(key, "thread", 6)) {
			if (!rsp_parse_hex_u64(val, vlen, &v))
				st->thread = (unsigned)v;
		} else if ((klen == 5 && !memcmp(key, "watch", 5)) ||
			   (klen == 6 && !memcmp(key, "rwatch", 6)) ||
			   (klen == 6 && !memcmp(key, "awatch", 6))) {
			if (rsp_parse_hex_u64(val, vlen, &st->watch_addr))
				continue;
			st->watch = key[0] == 'w'   ? CI_WATCH_WRITE
				    : key[0] == 'r' ? CI_WATCH_READ
						    : CI_WATCH_ACCESS;
		} else if (klen == 2 && !rsp_parse_hex_u64(key, 2, &v)) {
			if (v == GDB_RIP) {
				st->pc = le_hex(val, vlen);
				have |= 1;
			} else if (v == GDB_RSP) {
				st->sp = le_hex(val, vlen);
				have |= 2;
			} else if (v == GDB_RBP) {
				st->fp = le_hex(val, vlen);
				have |= 4;
			}
		}
	}
	st->have_regs = have == 7;
	return 0;
}

/* Registers the stop reply did not carry, from 'g'. */
static int fetch_regs(struct run *r, struct stop *st)
{
	char req[32];
	long n;

	if (st->have_regs)
		return 0;
	if (st->thread) {
		snprintf(req, sizeof(req), "Hg%x", st->thread);
		if (request(r, req) < 0)
			return -EIO;
	}
	n = request(r, "g");
	if (n < 17 * 16)
		return -EIO;
	st->fp = le_hex(r->reply + GDB_RBP * 16, 16);
	st->sp = le_hex(r->reply + GDB_RSP * 16, 16);
	st->pc = le_hex(r->reply + GDB_RIP * 16, 16);
	st->have_regs = true;
	return 0;
}

static void take_snap(struct run *r, const struct stop *st, bool after,
		      struct snap *out)
{
	struct ci_frame frames[CI_MAX_FRAMES];
	struct ci_src src;
	size_t n;
	uint64_t at = after ? st->pc - 1 : st->pc;

	memset(out, 0, sizeof(*out));
	out->valid = true;
	out->pc = st->pc;
	if (ci_syms_src_at(r->syms, at, &src))
		out->where = xasprintf("%s:%u", src.file, src.line);
	else
		out->where = xasprintf("0x%" PRIx64, st->pc);
	n = ci_unwind(r->syms, st->pc, st->sp, st->fp, after, read_mem, r, frames,
		      CI_MAX_FRAMES);
	out->bt = ci_backtrace_text(r->syms, frames, n);
	r->st.backtraces++;
}

static bool loc_has(const struct loc *l, uint64_t pc)
{
	size_t i;

	for (i = 0; i < l->nr_addrs; i++)
		if (l->addrs[i] == pc)
			return true;
	return false;
}

/* Records a hit of l at this stop; runs what the expectations on it need. */
static void hit(struct run *r, size_t li, const struct snap *here)
{
	struct loc *l = &r->locs[li];
	size_t i;

	l->hits++;
	if (l->hits == 1) {
		l->first_seq = r->seq;
		snap_copy(&l->first, here);
	}
	snap_copy(&l->last, here);
	if (r->o->verbose)
		progress("stop %" PRIu64 ": %s (hit %" PRIu64 ") at %s",
			 r->seq, l->spec, l->hits, here->where);
	for (i = 0; i < r->script->nr_expects; i++) {
		struct xstate *x = &r->xs[i];
		const struct ci_expect *e = x->e;
		__int128 v;

		if (x->loc != (int)li)
			continue;
		if (e->kind == CI_EXPECT_HIT && !x->over.valid &&
		    e->count_op != CI_COUNT_GE && l->hits > e->count)
			snap_copy(&x->over, here);
		if (e->kind != CI_EXPECT_VALUE)
			continue;
		if (read_var(r, x->var, &v))
			continue;
		if (!e->loc) {
			x->value = v;
			x->value_known = true;
			x->writes++;
			snap_copy(&x->written, here);
			continue;
		}
		x->checks++;
		if (!x->bad && !ci_cmp_eval(e->cmp, v, e->value)) {
			x->bad = true;
			x->bad_value = v;
			snap_copy(&x->bad_at, here);
		}
	}
}

static void on_trap(struct run *r, const struct stop *st)
{
	struct snap here;
	bool any = false;
	size_t i;

	/* A watchpoint stops after the access, so its source line is the
	 * accessing instruction's, just before pc. */
	take_snap(r, st, st->watch >= 0, &here);
	for (i = 0; i < r->nr_locs; i++) {
		const struct loc *l = &r->locs[i];

		if (st->watch >= 0) {
			if (!l->watch || st->watch_addr < l->var->addr ||
			    st->watch_addr >= l->var->addr + l->var->size)
				continue;
			/* A reply names one kind; an access watch also
			 * sees writes and reads. */
			if (l->wk != (enum ci_watch_kind)st->watch &&
			    l->wk != CI_WATCH_ACCESS)
				continue;
		} else if (l->watch || !loc_has(l, st->pc)) {
			continue;
		}
		hit(r, i, &here);
		any = true;
	}
	if (!any) {
		set_run_error(r, xasprintf("unexpected SIGTRAP at %s on "
					   "thread %u",
					   here.where, st->thread));
		snap_copy(&r->run_error_at, &here);
	}
	snap_free(&here);
}

static int insert_points(struct run *r)
{
	char req[96];
	size_t i, j, k;
	long n;

	for (i = 0; i < r->nr_locs; i++) {
		const struct loc *l = &r->locs[i];

		for (j = 0; j < l->nr_addrs; j++) {
			bool dup = false;

			/* The same request twice would only take a second
			 * reference. */
			for (k = 0; k < i && !dup; k++)
				dup = r->locs[k].watch == l->watch &&
				      r->locs[k].hw == l->hw &&
				      r->locs[k].wk == l->wk &&
				      loc_has(&r->locs[k], l->addrs[j]);
			if (dup)
				continue;
			if (l->watch)
				snprintf(req, sizeof(req),
					 "Z%d,%" PRIx64 ",%" PRIx64,
					 l->wk == CI_WATCH_WRITE  ? 2
					 : l->wk == CI_WATCH_READ ? 3
								  : 4,
					 l->var->addr, l->var->size);
			else
				snprintf(req, sizeof(req), "Z%d,%" PRIx64 ",1",
					 l->hw ? 1 : 0, l->addrs[j]);
			n = request(r, req);
			if (n < 0)
				return -EIO;
			if (strcmp(r->reply, "OK")) {
				set_run_error(r, xasprintf(
					"kvmdbg refused %s (%s): '%s'",
					l->spec, req,
					*r->reply ? r->reply : "unsupported"));
				return -EIO;
			}
		}
	}
	return 0;
}

/* The guest ran past its timeout: stop it, say where it was. */
static void timed_out(struct run *r)
{
	struct stop st;
	struct snap here;
	long n;

	set_run_error(r, xasprintf("timeout: the guest ran %.3g s without "
				   "exiting",
				   (double)r->timeout_ms / 1000));
	if (ci_rsp_interrupt(r->rsp))
		return;
	n = ci_rsp_receive(r->rsp, r->reply, sizeof(r->reply), INTERRUPT_MS);
	if (n < 0 || parse_stop(r->reply, (size_t)n, &st) || st.kind != 'T')
		return;
	if (fetch_regs(r, &st))
		return;
	take_snap(r, &st, false, &here);
	free(r->run_error);
	r->run_error = xasprintf("timeout: the guest ran %.3g s without "
				 "exiting; stopped at %s",
				 (double)r->timeout_ms / 1000, here.where);
	snap_copy(&r->run_error_at, &here);
	snap_free(&here);
}

static const char *signal_name(unsigned sig)
{
	switch (sig) {
	case 4: return "SIGILL";
	case 5: return "SIGTRAP";
	case 6: return "SIGABRT";
	case 7: return "SIGBUS";
	case 8: return "SIGFPE";
	case 9: return "SIGKILL";
	case 11: return "SIGSEGV";
	default: return "a signal";
	}
}

/* Resumes until the guest exits, fails or times out. */
static void drive(struct run *r)
{
	uint64_t deadline = ci_now_ms() + r->timeout_ms, now;
	struct stop st;
	struct snap here;
	double t0;
	long n;
	int ret;

	for (;;) {
		now = ci_now_ms();
		if (now >= deadline) {
			timed_out(r);
			return;
		}
		t0 = ci_now_s();
		ret = ci_rsp_send(r->rsp, "vCont;c");
		if (ret) {
			r->server_died = ret == -EPIPE;
			set_run_error(r, xasprintf("resuming the guest: %s",
						   rsp_error(ret)));
			return;
		}
		r->st.resumes++;
		/* Console output packets ('O') may come before the stop. */
		do
			n = ci_rsp_receive(r->rsp, r->reply, sizeof(r->reply),
					   (int)(deadline - now));
		while (n > 0 && r->reply[0] == 'O' && strcmp(r->reply, "OK"));
		r->st.running += ci_now_s() - t0;
		if (n == -ETIMEDOUT) {
			timed_out(r);
			return;
		}
		if (n < 0) {
			r->server_died = n == -EPIPE;
			set_run_error(r, xasprintf("waiting for the guest: %s",
						   rsp_error(n)));
			return;
		}
		if (parse_stop(r->reply, (size_t)n, &st)) {
			set_run_error(r, xasprintf("bad stop reply '%.40s'",
						   r->reply));
			return;
		}
		r->seq++;
		r->st.stops++;
		if (st.kind == 'W') {
			r->exited = true;
			r->exit_status = st.status;
			return;
		}
		if (st.kind == 'X') {
			set_run_error(r, xasprintf("the guest was terminated "
						   "by %s",
						   signal_name(st.status)));
			return;
		}
		if (fetch_regs(r, &st))
			return;
		if (st.sig == SIG_TRAP) {
			on_trap(r, &st);
			if (r->run_error)
				return;
			continue;
		}
		if (st.sig == SIG_INT)
			continue;
		take_snap(r, &st, false, &here);
		set_run_error(r, xasprintf("the guest crashed: %s on thread "
					   "%u at %s",
					   signal_name(st.sig), st.thread,
					   here.where));
		r->crashed = true;
		snap_copy(&r->run_error_at, &here);
		snap_free(&here);
		return;
	}
}

static int handshake(struct run *r)
{
	struct stop st;
	long n;
	size_t i;

	if (request(r, "qSupported:swbreak+;hwbreak+;vContSupported+") < 0)
		return -EIO;
	if (request(r, "QStartNoAckMode") < 0)
		return -EIO;
	if (strcmp(r->reply, "OK")) {
		set_run_error(r, xasprintf("QStartNoAckMode: '%s'", r->reply));
		return -EIO;
	}
	ci_rsp_set_noack(r->rsp);
	n = request(r, "?");
	if (n < 0)
		return -EIO;
	if (parse_stop(r->reply, (size_t)n, &st) || st.kind != 'T') {
		set_run_error(r, xasprintf("the guest is not stopped at its "
					   "entry: '%.40s'",
					   r->reply));
		return -EIO;
	}
	/* Values at exit start from what the image holds. */
	for (i = 0; i < r->script->nr_expects; i++) {
		struct xstate *x = &r->xs[i];

		if (x->e->kind == CI_EXPECT_VALUE && !x->e->loc &&
		    !read_var(r, x->var, &x->value))
			x->value_known = true;
	}
	return 0;
}

/*
 * Verdicts
 */

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void judge(struct run *r, size_t i, struct ci_outcome *o)
{
	struct xstate *x = &r->xs[i];
	const struct ci_expect *e = x->e;
	const struct loc *a = x->loc >= 0 ? &r->locs[x->loc] : NULL;
	const struct loc *b = x->loc2 >= 0 ? &r->locs[x->loc2] : NULL;
	bool done = r->exited && !r->run_error;
	const struct snap *at = NULL;
	char *msg = NULL, num[48], got[48];

	o->name = e->text;
	o->line = e->line;
	o->verdict = CI_PASS;
	switch (e->kind) {
	case CI_EXPECT_HIT: {
		bool ok;

		ok = e->count_op == CI_COUNT_EQ	  ? a->hits == e->count
		     : e->count_op == CI_COUNT_GE ? a->hits >= e->count
						  : a->hits <= e->count;
		if (x->over.valid) {
			o->verdict = CI_FAIL;
			msg = e->count == 0
				      ? xasprintf("%s was hit", a->spec)
				      : xasprintf("%s was hit more than %" PRIu64
						  " time%s",
						  a->spec, e->count,
						  plural(e->count));
			at = &x->over;
		} else if (!done && (e->count_op != CI_COUNT_GE || !ok)) {
			o->verdict = CI_ERROR;
			msg = xasprintf("undecided: %s was hit %" PRIu64
					" time%s before the run ended early",
					a->spec, a->hits, plural(a->hits));
		} else if (!ok) {
			o->verdict = CI_FAIL;
			msg = xasprintf("%s was hit %" PRIu64 " time%s, want %s%" PRIu64,
					a->spec, a->hits, plural(a->hits),
					e->count_op == CI_COUNT_GE ? "at least "
					: e->count_op == CI_COUNT_LE ? "at most "
								     : "",
					e->count);
			at = a->hits ? &a->last : NULL;
		}
		break;
	}
	case CI_EXPECT_ORDER:
		if (b->hits && (!a->hits || b->first_seq < a->first_seq)) {
			o->verdict = CI_FAIL;
			msg = a->hits ? xasprintf("%s was first hit before %s",
						  b->spec, a->spec)
				      : xasprintf("%s was hit and %s never "
						  "was before it",
						  b->spec, a->spec);
			at = &b->first;
		} else if (b->hits && b->first_seq == a->first_seq) {
			o->verdict = CI_FAIL;
			msg = xasprintf("%s and %s were first hit at the same "
					"stop",
					a->spec, b->spec);
			at = &b->first;
		} else if (!b->hits && !done) {
			o->verdict = CI_ERROR;
			msg = xasprintf("undecided: %s was not hit before the "
					"run ended early",
					b->spec);
		} else if (!b->hits) {
			o->verdict = CI_FAIL;
			msg = xasprintf("%s was never hit%s", b->spec,
					a->hits ? "" : ", nor was the other");
			at = a->hits ? &a->first : NULL;
		}
		break;
	case CI_EXPECT_VALUE:
		ci_format_i128(e->value, num, sizeof(num));
		if (e->loc) {
			if (x->bad) {
				o->verdict = CI_FAIL;
				ci_format_i128(x->bad_value, got, sizeof(got));
				msg = xasprintf("%s was %s at %s (check %" PRIu64
						"), want %s %s",
						e->var, got, a->spec,
						x->checks, ci_cmp_name(e->cmp),
						num);
				at = &x->bad_at;
			} else if (!done) {
				o->verdict = CI_ERROR;
				msg = xasprintf("undecided: the run ended "
						"early after %" PRIu64
						" check%s",
						x->checks, plural(x->checks));
			} else if (!x->checks) {
				o->verdict = CI_FAIL;
				msg = xasprintf("%s was never hit, so %s was "
						"never checked",
						a->spec, e->var);
			}
			break;
		}
		if (!done) {
			o->verdict = CI_ERROR;
			msg = xasprintf("undecided: the guest did not exit");
		} else if (!x->value_known) {
			o->verdict = CI_FAIL;
			msg = xasprintf("%s could not be read", e->var);
		} else if (!ci_cmp_eval(e->cmp, x->value, e->value)) {
			o->verdict = CI_FAIL;
			ci_format_i128(x->value, got, sizeof(got));
			msg = x->writes
				      ? xasprintf("%s was %s at exit, want %s "
						  "%s (last written by write "
						  "%" PRIu64 ")",
						  e->var, got,
						  ci_cmp_name(e->cmp), num,
						  x->writes)
				      : xasprintf("%s was %s at exit, want %s "
						  "%s; the guest never wrote "
						  "it",
						  e->var, got,
						  ci_cmp_name(e->cmp), num);
			at = x->writes ? &x->written : NULL;
		}
		break;
	case CI_EXPECT_EXIT:
		if (!done) {
			o->verdict = CI_ERROR;
			msg = xasprintf("undecided: the guest did not exit");
		} else if (!(r->exit_status & 1)) {
			o->verdict = CI_FAIL;
			msg = xasprintf("the guest powered off (status 0x%02x) "
					"instead of writing %u to the exit "
					"port",
					r->exit_status, e->exit_value);
		} else if (r->exit_status >> 1 != e->exit_value) {
			o->verdict = CI_FAIL;
			msg = xasprintf("the guest exited with %u (status "
					"0x%02x), want %u",
					r->exit_status >> 1, r->exit_status,
					e->exit_value);
		}
		break;
	}
	if (o->verdict == CI_ERROR && r->run_error_at.valid)
		at = &r->run_error_at;
	o->message = msg;
	o->where = at ? at->where : NULL;
	o->backtrace = at ? at->bt : NULL;
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		progress("cannot write %s: %s", path, strerror(errno));
	return f;
}

static int write_reports(struct run *r, const struct ci_report *rep)
{
	FILE *f;
	int ret = 0;

	if (r->o->tap) {
		f = open_out(r->o->tap);
		if (!f)
			return -EIO;
		ret = ci_report_tap(f, rep);
		if (fclose(f))
			ret = -EIO;
	} else {
		ret = ci_report_tap(stdout, rep);
	}
	if (!ret && r->o->junit) {
		f = open_out(r->o->junit);
		if (!f)
			return -EIO;
		ret = ci_report_junit(f, rep);
		if (fclose(f))
			ret = -EIO;
	}
	if (ret)
		progress("writing the reports failed");
	return ret;
}

/* A script that never ran still leaves reports a CI job can show. */
static void report_script_error(struct run *r)
{
	struct ci_outcome o = {
		.name = "script",
		.line = 0,
		.verdict = CI_ERROR,
		.message = "the script has errors (see the job's log); "
			   "nothing ran",
	};
	struct ci_report rep = {
		.suite = r->suite,
		.script = r->o->script,
		.image = r->o->image,
		.run_error = "script error",
		.outcomes = &o,
		.nr_outcomes = 1,
	};

	write_reports(r, &rep);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (cap - *len < 4096) {
			char *b;

			if (cap > (64u << 20)) {
				errno = EFBIG;
				break;
			}
			b = realloc(buf, cap ? cap * 2 : 8192);
			if (!b)
				break;
			buf = b;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0) {
			if (ferror(f))
				break;
			fclose(f);
			return buf;
		}
	}
	fclose(f);
	free(buf);
	return NULL;
}

static void print_stats(struct run *r)
{
	struct stats *s = &r->st;
	double total = s->end - s->start;
	double start = s->spawned - s->syms;
	double other = total - (s->syms - s->start) - start - s->running -
		       s->protocol;

	progress("stats: total %.3f s", total);
	progress("stats:   symbols   %.3f s (DWARF and ELF, before the guest "
		 "starts)",
		 s->syms - s->start);
	progress("stats:   start     %.3f s (kvmdbg boots the guest to its "
		 "entry)",
		 start);
	progress("stats:   running   %.3f s (%u resume%s until the stop "
		 "replies; guest execution plus stop handling)",
		 s->running, s->resumes, plural(s->resumes));
	progress("stats:   protocol  %.3f s (%u request/reply exchange%s, "
		 "%.1f us each; %u backtrace%s)",
		 s->protocol, s->exchanges, plural(s->exchanges),
		 s->exchanges ? s->protocol * 1e6 / s->exchanges : 0.0,
		 s->backtraces, plural(s->backtraces));
	progress("stats:   other     %.3f s (kvmdbg-ci itself, shutdown, "
		 "reports)",
		 other);
}

static void free_run(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nr_locs; i++) {
		free(r->locs[i].spec);
		snap_free(&r->locs[i].first);
		snap_free(&r->locs[i].last);
	}
	if (r->xs && r->script)
		for (i = 0; i < r->script->nr_expects; i++) {
			snap_free(&r->xs[i].bad_at);
			snap_free(&r->xs[i].over);
			snap_free(&r->xs[i].written);
		}
	snap_free(&r->run_error_at);
	free(r->locs);
	free(r->xs);
	free(r->run_error);
	ci_script_free(r->script);
	ci_syms_close(r->syms);
}

static int run_guest(struct run *r)
{
	const struct ci_options *o = r->o;
	const char *argv[16];
	char err[512], serial[4200], msg[512];
	size_t argc = 0;
	int status, ret;

	argv[argc++] = o->kvmdbg;
	argv[argc++] = "--stdio";
	argv[argc++] = "--once";
	if (o->smp) {
		argv[argc++] = "--smp";
		argv[argc++] = o->smp;
	}
	if (o->mem) {
		argv[argc++] = "--mem";
		argv[argc++] = o->mem;
	}
	if (o->append) {
		argv[argc++] = "--append";
		argv[argc++] = o->append;
	}
	if (o->console) {
		snprintf(serial, sizeof(serial), "file:%s", o->console);
		argv[argc++] = "--serial";
		argv[argc++] = serial;
	}
	argv[argc++] = o->image;
	argv[argc] = NULL;

	ret = ci_rsp_start(argv, stderr, &r->rsp, err, sizeof(err));
	if (ret) {
		set_run_error(r, strdup(err));
		return -EIO;
	}
	if (!handshake(r)) {
		r->st.spawned = ci_now_s();
		if (!insert_points(r)) {
			r->st.setup = ci_now_s();
			progress("running %s (timeout %.3g s)", o->image,
				 (double)r->timeout_ms / 1000);
			drive(r);
		}
	}
	if (!r->st.spawned)
		r->st.spawned = ci_now_s();
	if (r->run_error && !r->exited) {
		/* Ask politely, then make sure. */
		ci_rsp_send(r->rsp, "k");
		ret = ci_rsp_finish(r->rsp, 2000, &status, msg, sizeof(msg));
	} else {
		ret = ci_rsp_finish(r->rsp, 5000, &status, msg, sizeof(msg));
	}
	r->rsp = NULL;
	if (ret == -ETIMEDOUT)
		progress("kvmdbg did not exit; killed it");
	if (r->crashed && *msg) {
		/* kvmdbg names the crash (a triple fault, ...). */
		char *more = xasprintf("%s (%s)", r->run_error, msg);

		if (more) {
			free(r->run_error);
			r->run_error = more;
		}
	}
	if (r->server_died) {
		/* What the server said last usually explains it. */
		char *more;

		if (WIFSIGNALED(status))
			more = xasprintf("kvmdbg was killed by signal %d%s%s "
					 "(%s)",
					 WTERMSIG(status),
					 *msg ? "; it said: " : "", msg,
					 r->run_error);
		else
			more = xasprintf("kvmdbg exited with status %d%s%s "
					 "(%s)",
					 WEXITSTATUS(status),
					 *msg ? "; it said: " : "", msg,
					 r->run_error);
		if (more) {
			free(r->run_error);
			r->run_error = more;
		}
	}
	return 0;
}

int ci_run(const struct ci_options *o)
{
	struct run *r;
	struct ci_outcome *outs = NULL;
	struct ci_report rep;
	char err[512], *text, *base;
	size_t len, i, failed = 0, errors = 0;
	int status = CI_EXIT_OK;

	signal(SIGPIPE, SIG_IGN);
	r = calloc(1, sizeof(*r));
	if (!r) {
		progress("out of memory");
		return CI_EXIT_RUN;
	}
	r->o = o;
	r->st.start = ci_now_s();
	base = strrchr(o->script, '/');
	r->suite = base ? base + 1 : o->script;

	text = read_file(o->script, &len);
	if (!text) {
		progress("cannot read %s: %s", o->script, strerror(errno));
		status = CI_EXIT_SCRIPT;
		goto out;
	}
	if (ci_script_parse(text, len, &r->script, err, sizeof(err))) {
		fprintf(stderr, "%s:%s\n", o->script,
			*err ? err : " out of memory");
		free(text);
		status = CI_EXIT_SCRIPT;
		goto out_report;
	}
	free(text);
	if (ci_syms_open(o->image, &r->syms, err, sizeof(err))) {
		progress("%s", err);
		status = CI_EXIT_SCRIPT;
		goto out_report;
	}
	if (!ci_syms_has_dwarf(r->syms) || !ci_syms_has_lines(r->syms))
		progress("%s has no DWARF%s: falling back to ELF symbols; "
			 "FILE:LINE locations and source lines are "
			 "unavailable",
			 o->image,
			 ci_syms_has_dwarf(r->syms) ? " line tables" : "");
	if (!ci_syms_cfi_section(r->syms))
		progress("%s has no CFI: backtraces follow frame pointers "
			 "only",
			 o->image);
	if (resolve(r)) {
		status = CI_EXIT_SCRIPT;
		goto out_report;
	}
	r->st.syms = ci_now_s();
	if (o->resolve_only) {
		print_resolution(r, stdout);
		goto out;
	}
	if (!r->script->nr_expects) {
		fprintf(stderr, "%s: no expectations: nothing to check\n",
			o->script);
		status = CI_EXIT_SCRIPT;
		goto out_report;
	}
	if (o->verbose)
		print_resolution(r, stderr);
	r->timeout_ms = o->timeout_ms     ? o->timeout_ms
			: r->script->timeout_ms ? r->script->timeout_ms
						: CI_DEFAULT_TIMEOUT_MS;

	run_guest(r);
	if (r->exited)
		progress("the guest exited with %u (status 0x%02x)",
			 r->exit_status >> 1, r->exit_status);
	if (r->run_error)
		progress("%s", r->run_error);
	if (r->run_error_at.valid && r->run_error_at.bt)
		fputs(r->run_error_at.bt, stderr);

	outs = calloc(r->script->nr_expects, sizeof(*outs));
	if (!outs) {
		progress("out of memory");
		status = CI_EXIT_RUN;
		goto out;
	}
	for (i = 0; i < r->script->nr_expects; i++) {
		judge(r, i, &outs[i]);
		failed += outs[i].verdict == CI_FAIL;
		errors += outs[i].verdict == CI_ERROR;
		if (outs[i].verdict != CI_PASS)
			progress("%s:%u: %s: %s%s%s", o->script, outs[i].line,
				 outs[i].verdict == CI_FAIL ? "FAIL" : "ERROR",
				 outs[i].message ? outs[i].message : "",
				 outs[i].where ? " at " : "",
				 outs[i].where ? outs[i].where : "");
	}
	r->st.end = ci_now_s();
	rep = (struct ci_report){
		.suite = r->suite,
		.script = o->script,
		.image = o->image,
		.seconds = r->st.end - r->st.start,
		.run_error = r->run_error,
		.outcomes = outs,
		.nr_outcomes = r->script->nr_expects,
	};
	if (write_reports(r, &rep))
		status = CI_EXIT_RUN;
	else if (r->run_error)
		status = CI_EXIT_RUN;
	else if (failed)
		status = CI_EXIT_FAILED;
	progress("%zu of %zu expectation%s held, %zu failed, %zu undecided",
		 r->script->nr_expects - failed - errors,
		 r->script->nr_expects, plural(r->script->nr_expects), failed,
		 errors);
	for (i = 0; i < r->script->nr_expects; i++)
		free((char *)outs[i].message);
	free(outs);
	r->st.end = ci_now_s();
	if (o->stats)
		print_stats(r);
	goto out;

out_report:
	if (!o->resolve_only)
		report_script_error(r);
out:
	free_run(r);
	free(r);
	return status;
}
