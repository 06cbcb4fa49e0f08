/* RSP feature negotiation and qXfer objects: what the debugger supports,
 * what kvmdbg offers, the thread list document and qXfer chunking. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/features.h"
#include "rsp/packet.h"

void rsp__buf_init(struct rsp__buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->cap = cap;
	rsp__buf_reset(b);
}

void rsp__buf_reset(struct rsp__buf *b)
{
	b->len = 0;
	b->overflow = false;
}

void rsp__buf_put(struct rsp__buf *b, const void *data, size_t len)
{
	if (b->overflow || len > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

void rsp__buf_puts(struct rsp__buf *b, const char *s)
{
	rsp__buf_put(b, s, strlen(s));
}

void rsp__buf_printf(struct rsp__buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	/*
	 * Through a bounce buffer because vsnprintf wants room for a NUL
	 * that replies do not have; every caller formats short fields.
	 */
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->overflow = true;
		return;
	}
	rsp__buf_put(b, tmp, (size_t)n);
}

void rsp__buf_hex(struct rsp__buf *b, const void *data, size_t len)
{
	ssize_t n;

	if (b->overflow)
		return;
	n = rsp_hex_encode(data, len, b->p + b->len, b->cap - b->len);
	if (n < 0) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

void rsp__buf_xml(struct rsp__buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			rsp__buf_puts(b, "&amp;");
			break;
		case '<':
			rsp__buf_puts(b, "&lt;");
			break;
		case '>':
			rsp__buf_puts(b, "&gt;");
			break;
		case '"':
			rsp__buf_puts(b, "&quot;");
			break;
		case '\'':
			rsp__buf_puts(b, "&apos;");
			break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				rsp__buf_put(b, " ", 1);
			else
				rsp__buf_put(b, s, 1);
			break;
		}
	}
}

static bool feature_is(const char *f, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(f, name, len);
}

void rsp__parse_client_features(const char *p, const char *end,
				struct rsp__client_features *out)
{
	const char *f;
	size_t len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		if (rsp_take_field(&p, end, ';', &f, &len) < 0)
			break;
		if (feature_is(f, len, "multiprocess+"))
			out->multiprocess = true;
		else if (feature_is(f, len, "swbreak+"))
			out->swbreak = true;
		else if (feature_is(f, len, "hwbreak+"))
			out->hwbreak = true;
		else if (feature_is(f, len, "binary-upload+"))
			out->binary_upload = true;
	}
}

void rsp__supported_reply(struct rsp__buf *b,
			  const struct rsp__stub_features *f)
{
	/*
	 * Only what the session really implements. No multiprocess+: one
	 * guest is one process, and gdb then never sends "p<pid>.<tid>".
	 * qXfer:threads is always there because the session builds it from
	 * the thread ops.
	 */
	rsp__buf_printf(b, "PacketSize=%zx", f->packet_size);
	if (f->features_xml)
		rsp__buf_puts(b, ";qXfer:features:read+");
	rsp__buf_puts(b, ";qXfer:threads:read+");
	if (f->exec_file)
		rsp__buf_puts(b, ";qXfer:exec-file:read+");
	if (f->conditions)
		rsp__buf_puts(b, ";ConditionalBreakpoints+");
	rsp__buf_puts(b, ";QStartNoAckMode+;swbreak+;hwbreak+"
			 ";vContSupported+;binary-upload+"
			 ";QThreadSuffixSupported+;QListThreadsInStopReply+");
}

/* Fixed caps keep each element bounded whatever the target writes. */
#define THREAD_NAME_MAX 64
#define THREAD_EXTRA_MAX 256
/* Worst case per thread: every character escaped to 6 bytes, plus tags. */
#define THREAD_XML_MAX (6 * (THREAD_NAME_MAX + THREAD_EXTRA_MAX) + 96)

char *rsp__threads_xml(const struct rsp_target_ops *ops, void *t, unsigned nr,
		       size_t *len)
{
	static const char head[] = "<?xml version=\"1.0\"?>\n<threads>\n";
	static const char tail[] = "</threads>\n";
	size_t cap = sizeof(head) + sizeof(tail) + (size_t)nr * THREAD_XML_MAX;
	char name[THREAD_NAME_MAX], extra[THREAD_EXTRA_MAX];
	struct rsp__buf b;
	char *doc;
	unsigned tid;

	doc = malloc(cap + 1);
	if (!doc)
		return NULL;
	rsp__buf_init(&b, doc, cap);
	rsp__buf_puts(&b, head);
	for (tid = 1; tid <= nr; tid++) {
		/* The vCPU index is the core gdb shows in "info threads". */
		rsp__buf_printf(&b, "<thread id=\"%x\" core=\"%u\"", tid,
				tid - 1);
		memset(name, 0, sizeof(name));
		if (ops->thread_name &&
		    ops->thread_name(t, tid, name, sizeof(name) - 1) == 0 &&
		    name[0]) {
			rsp__buf_puts(&b, " name=\"");
			rsp__buf_xml(&b, name);
			rsp__buf_puts(&b, "\"");
		}
		rsp__buf_puts(&b, ">");
		memset(extra, 0, sizeof(extra));
		if (ops->thread_extra &&
		    ops->thread_extra(t, tid, extra, sizeof(extra) - 1) == 0)
			rsp__buf_xml(&b, extra);
		rsp__buf_puts(&b, "</thread>\n");
	}
	rsp__buf_puts(&b, tail);
	/* cap was sized for the worst case, so this cannot overflow. */
	if (b.overflow) {
		free(doc);
		return NULL;
	}
	doc[b.len] = 0;
	*len = b.len;
	return doc;
}

void rsp__xfer_reply(struct rsp__buf *b, const void *doc, size_t doc_len,
		     uint64_t off, uint64_t len, size_t max_payload)
{
	const uint8_t *d = doc;
	size_t want, fit;

	if (off >= doc_len) {
		rsp__buf_put(b, "l", 1);
		return;
	}
	want = doc_len - (size_t)off;
	if (len < want)
		want = (size_t)len;
	/* One byte of max_payload is the 'm' or 'l'. */
	fit = rsp_bin_escape_fit(d + off, want, max_payload - 1);
	rsp__buf_put(b, off + fit == doc_len ? "l" : "m", 1);
	rsp__buf_put(b, d + off, fit);
}
