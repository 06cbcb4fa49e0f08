/* libFuzzer target for the RSP packet layer: the framer must give the same
 * events however the input is split, and the codecs must round-trip.
 *
 * corpus/packet holds raw byte streams: what gdb 13 and lldb 14 sent to
 * gdbserver 13 and lldb-server 14 in short sessions (breakpoints, stepping,
 * memory writes, a watchpoint, an interrupt), the start of gdbserver's
 * run-length encoded replies, and hand-made edge-*.raw cases. Sessions are
 * cut at packet boundaries into files under 4 KiB, which keeps libFuzzer's
 * default -max_len, and so its speed, where it is. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/packet.h"

/*
 * Invariant failures abort so libFuzzer records the input; network input
 * is never asserted on in src/, but here a failed check is the finding.
 */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* Keeps each execution fast; bigger inputs add little the small ones miss. */
#define MAX_INPUT (64 * 1024)
#define CURSOR_MAX 512
#define BYTEWISE_MAX 4096

struct fuzz_input {
	const uint8_t *data;
	size_t len;
	/* Derived from the data, so a crash reproduces from the file alone. */
	uint64_t seed;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/*
 * Reference decoders for what the encoder produces, written the way each
 * debugger reads a reply. Both return the decoded length or -1.
 */

/* gdb: expand runs over the wire bytes first, unescape afterwards. */
static ssize_t ref_decode_gdb(const uint8_t *in, size_t len, uint8_t *out,
			      size_t cap)
{
	uint8_t *tmp = malloc(2 * cap + 2);
	size_t i, o = 0, tcap = 2 * cap + 2;
	ssize_t n;

	CHECK(tmp);
	for (i = 0; i < len; i++) {
		if (in[i] == '*') {
			size_t k, rep;

			if (i + 1 == len || o == 0 || in[i + 1] < 29)
				goto fail;
			rep = (size_t)in[++i] - 29;
			if (rep > tcap - o)
				goto fail;
			for (k = 0; k < rep; k++, o++)
				tmp[o] = tmp[o - 1];
		} else {
			if (o == tcap)
				goto fail;
			tmp[o++] = in[i];
		}
	}
	n = rsp_bin_unescape(tmp, o, out, cap);
	free(tmp);
	return n < 0 ? -1 : n;
fail:
	free(tmp);
	return -1;
}

/* lldb: one pass that unescapes as it goes; runs repeat decoded output. */
static ssize_t ref_decode_lldb(const uint8_t *in, size_t len, uint8_t *out,
			       size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '*') {
			size_t k, rep;

			if (i + 1 == len || o == 0 || in[i + 1] < 29)
				return -1;
			rep = (size_t)in[++i] - 29;
			if (rep > cap - o)
				return -1;
			for (k = 0; k < rep; k++, o++)
				out[o] = out[o - 1];
		} else if (in[i] == '}') {
			if (i + 1 == len || o == cap)
				return -1;
			out[o++] = in[++i] ^ 0x20;
		} else {
			if (o == cap)
				return -1;
			out[o++] = in[i];
		}
	}
	return (ssize_t)o;
}

/*
 * Encoder round trip: frame payload, parse the frame back with our own
 * framer, decode it as gdb and as lldb would, and compare.
 */
struct one_packet {
	int packets;
	int others;
	uint8_t *copy;
	size_t len;
};

static void one_packet_cb(const struct rsp_frame *ev, void *opaque)
{
	struct one_packet *op = opaque;

	if (ev->kind != RSP_FRAME_PACKET) {
		op->others++;
		return;
	}
	op->packets++;
	op->copy = malloc(ev->len + 1);
	CHECK(op->copy);
	memcpy(op->copy, ev->payload, ev->len);
	op->len = ev->len;
}

static void check_encode(const uint8_t *payload, size_t len)
{
	size_t cap = rsp_packet_encode_bound(len);
	uint8_t *wire = malloc(cap), *scratch = malloc(cap);
	uint8_t *dec = malloc(len + 1);
	ssize_t n, plain_n = 0;
	int rle;

	CHECK(wire && scratch && dec);
	for (rle = 0; rle <= 1; rle++) {
		struct rsp_framer *fr = NULL;
		struct one_packet op = { 0 };
		ssize_t d;

		n = rsp_packet_encode(payload, len, rle, wire, cap);
		CHECK(n >= 4 && (size_t)n <= cap);
		if (!rle)
			plain_n = n;
		else
			CHECK(n <= plain_n);
		/* One byte less room must fail cleanly, never overrun. */
		CHECK(rsp_packet_encode(payload, len, rle, scratch,
					(size_t)n - 1) == -ENOSPC);

		CHECK(rsp_framer_create((size_t)n, &fr) == 0);
		rsp_framer_feed(fr, wire, (size_t)n, one_packet_cb, &op);
		rsp_framer_destroy(fr);
		CHECK(op.packets == 1 && op.others == 0);

		d = ref_decode_gdb(op.copy, op.len, dec, len + 1);
		CHECK(d == (ssize_t)len && !memcmp(dec, payload, len));
		d = ref_decode_lldb(op.copy, op.len, dec, len + 1);
		CHECK(d == (ssize_t)len && !memcmp(dec, payload, len));
		free(op.copy);
	}
	free(wire);
	free(scratch);
	free(dec);
}

/* Hex, binary and number codecs on one payload as the session would see it. */
static void check_codecs(const uint8_t *payload, size_t len)
{
	uint8_t *buf = malloc(2 * len + 2), *back = malloc(2 * len + 2);
	const char *s = (const char *)payload;
	ssize_t n, m;
	uint64_t v;
	size_t i;

	CHECK(buf && back);

	n = rsp_hex_decode(s, len, buf, len);
	if (n >= 0) {
		CHECK((size_t)n * 2 == len);
		m = rsp_hex_encode(buf, (size_t)n, (char *)back, 2 * len + 2);
		CHECK(m == (ssize_t)len);
		for (i = 0; i < len; i++) {
			uint8_t c = payload[i];

			if (c >= 'A' && c <= 'F')
				c += 'a' - 'A';
			CHECK(back[i] == c);
		}
	} else {
		CHECK(n == -EINVAL);
	}

	n = rsp_bin_unescape(payload, len, buf, len);
	if (n >= 0) {
		CHECK((size_t)n <= len);
		m = rsp_bin_escape(buf, (size_t)n, back, 2 * len + 2);
		CHECK(m >= n);
		CHECK(rsp_bin_escape_fit(buf, (size_t)n, (size_t)m) ==
		      (size_t)n);
		m = rsp_bin_unescape(back, (size_t)m, back, (size_t)m);
		CHECK(m == n && !memcmp(back, buf, (size_t)n));
	} else {
		CHECK(n == -EINVAL && len && payload[len - 1] == '}');
	}

	if (rsp_parse_hex_u64(s, len, &v) == 0) {
		char txt[17];
		size_t skip = 0;
		int t;

		while (skip + 1 < len && s[skip] == '0')
			skip++;
		t = snprintf(txt, sizeof(txt), "%llx", (unsigned long long)v);
		CHECK((size_t)t == len - skip);
		for (i = 0; i < (size_t)t; i++)
			CHECK(txt[i] == (s[skip + i] | 0x20));
	}

	{
		struct rsp_thread_id id;

		if (rsp_parse_thread_id(s, len, &id) == 0) {
			CHECK(id.tid >= RSP_TID_ALL);
			CHECK(!id.has_pid || id.pid >= RSP_TID_ALL);
		}
	}

	free(buf);
	free(back);
}

/*
 * Walks the payload the way packet handlers do, splitting on the
 * separators RSP uses, and checks the cursor only ever moves forward and
 * stops exactly at the end.
 */
static void check_cursor(const uint8_t *payload, size_t len, uint64_t seed)
{
	static const char seps[] = ",:;.=";
	const char *p = (const char *)payload, *end;
	unsigned int steps = 0;

	/*
	 * Every take may scan to the end, so a walk is quadratic; argument
	 * syntax lives in the first bytes of a packet anyway.
	 */
	if (len > CURSOR_MAX)
		len = CURSOR_MAX;
	end = p + len;
	while (p < end && steps++ < 1024) {
		const char *before = p, *f;
		char sep = seps[xorshift(&seed) % (sizeof(seps) - 1)];
		uint64_t v;
		size_t flen;
		int ret;

		switch (xorshift(&seed) % 4) {
		case 0:
			ret = rsp_take_hex_u64(&p, end, sep, &v);
			CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE);
			CHECK(ret ? p == before : p > before);
			break;
		case 1:
			ret = rsp_take_hex_u64(&p, end, 0, &v);
			CHECK(ret ? p == before : p == end);
			break;
		case 2:
			ret = rsp_take_field(&p, end, sep, &f, &flen);
			CHECK(ret == 0 || ret == 1);
			CHECK(f == before && f + flen <= end);
			CHECK(p == f + flen + (size_t)ret);
			break;
		default:
			if (!rsp_take_char(&p, end, sep))
				rsp_take_prefix(&p, end, "vCont;");
			break;
		}
		CHECK(p >= before && p <= end);
		/* Make progress whatever the parsers decided. */
		if (p == before)
			p++;
	}
}

/*
 * Phase "framer": the events of one feed, of byte-at-a-time feeds and of
 * random splits (with empty feeds) must be identical.
 */
struct framer_run {
	size_t max;
	uint64_t digest;
	size_t events;
	bool check_payloads;
	uint64_t seed;
};

static void framer_cb(const struct rsp_frame *ev, void *opaque)
{
	struct framer_run *run = opaque;
	uint64_t h = run->digest;

	run->events++;
	h = fnv1a(h, &ev->kind, sizeof(ev->kind));
	h = fnv1a(h, &ev->len, sizeof(ev->len));
	h = fnv1a(h, &ev->csum_calc, sizeof(ev->csum_calc));
	h = fnv1a(h, &ev->csum_sent, sizeof(ev->csum_sent));
	CHECK(ev->csum_sent >= -1 && ev->csum_sent <= 0xff);

	if (ev->payload) {
		CHECK(ev->len <= run->max);
		CHECK(ev->payload[ev->len] == 0);
		CHECK(rsp_checksum(ev->payload, ev->len) == ev->csum_calc);
		CHECK(!memchr(ev->payload, '$', ev->len));
		CHECK(!memchr(ev->payload, '#', ev->len));
		h = fnv1a(h, ev->payload, ev->len);
	}

	switch (ev->kind) {
	case RSP_FRAME_ACK:
	case RSP_FRAME_NAK:
	case RSP_FRAME_INTERRUPT:
		CHECK(!ev->payload && ev->len == 0);
		break;
	case RSP_FRAME_PACKET:
		CHECK(ev->payload && ev->csum_sent == ev->csum_calc);
		break;
	case RSP_FRAME_BAD_CHECKSUM:
		CHECK(ev->payload && ev->csum_sent != ev->csum_calc);
		break;
	case RSP_FRAME_OVERSIZE:
		CHECK(!ev->payload && ev->len > run->max);
		break;
	case RSP_FRAME_RESTART:
	case RSP_FRAME_GARBAGE:
		CHECK(!ev->payload);
		CHECK(ev->kind == RSP_FRAME_RESTART || ev->len > 0);
		break;
	case RSP_FRAME_NOTIFICATION:
		CHECK(!ev->payload == (ev->len > run->max));
		break;
	default:
		CHECK(!"unknown frame kind");
	}
	run->digest = h;

	if (run->check_payloads && ev->kind == RSP_FRAME_PACKET) {
		check_codecs(ev->payload, ev->len);
		check_encode(ev->payload, ev->len);
		check_cursor(ev->payload, ev->len, run->seed ^ run->events);
	}
}

static void framer_once(const struct fuzz_input *in, size_t max, int mode,
			struct framer_run *run)
{
	struct rsp_framer *fr = NULL;
	uint64_t s = in->seed | 1;
	size_t i = 0;

	memset(run, 0, sizeof(*run));
	run->max = max;
	run->seed = in->seed;
	run->check_payloads = mode == 0;
	CHECK(rsp_framer_create(max, &fr) == 0);
	CHECK(rsp_framer_max_payload(fr) == max);

	switch (mode) {
	case 0:
		rsp_framer_feed(fr, in->data, in->len, framer_cb, run);
		break;
	case 1:
		for (i = 0; i < in->len; i++)
			rsp_framer_feed(fr, in->data + i, 1, framer_cb, run);
		break;
	default:
		/* Chunks of 0..63 bytes, a quarter of them empty reads. */
		while (i < in->len) {
			uint64_t r = xorshift(&s);
			size_t n = (r & 3) == 0 ? 0 : (size_t)(r >> 8) % 64;

			if (n > in->len - i)
				n = in->len - i;
			rsp_framer_feed(fr, in->data + i, n, framer_cb, run);
			i += n;
		}
		rsp_framer_feed(fr, NULL, 0, framer_cb, run);
		break;
	}
	rsp_framer_destroy(fr);
}

static void phase_framer(const struct fuzz_input *in)
{
	/* A tiny limit reaches the oversize paths; a large one the rest. */
	const size_t maxes[] = { (size_t)(in->seed % 24), 1 << 16 };
	size_t k;

	for (k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
		struct framer_run ref, run;
		int mode;

		framer_once(in, maxes[k], 0, &ref);
		for (mode = 1; mode <= 2; mode++) {
			/* A call per byte is slow under coverage tracing. */
			if (mode == 1 && in->len > BYTEWISE_MAX)
				continue;
			framer_once(in, maxes[k], mode, &run);
			CHECK(run.events == ref.events);
			CHECK(run.digest == ref.digest);
		}
	}
}

/* Phase "encoder": the raw input as a reply payload, any bytes at all. */
static void phase_encoder(const struct fuzz_input *in)
{
	check_encode(in->data, in->len);
	check_codecs(in->data, in->len);
}

/*
 * Each phase sees every input. A new phase (the session against a mock
 * target, say) is one function and one line here.
 */
static const struct fuzz_phase {
	const char *name;
	void (*run)(const struct fuzz_input *in);
} phases[] = {
	{ .name = "framer", .run = phase_framer },
	{ .name = "encoder", .run = phase_encoder },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {
		.data = data,
		.len = size < MAX_INPUT ? size : MAX_INPUT,
	};
	size_t i;

	in.seed = fnv1a(0xcbf29ce484222325ull, data, in.len);
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		phases[i].run(&in);
	return 0;
}
