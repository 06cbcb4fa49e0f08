/* Unit tests for the RSP packet layer: framer events under every split of
 * the input, the reply encoder (escaping, RLE, checksums), codecs, parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "rsp/packet.h"

#define S(lit) ((const uint8_t *)(lit)), (sizeof(lit) - 1)

/* Printable rendering of bytes, so failed comparisons show both sides. */
static void render(char *dst, size_t cap, const uint8_t *p, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			dst[o++] = (char)p[i];
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", p[i]);
	}
	dst[o] = 0;
}

#define ASSERT_BYTES(got, got_len, want, want_len)                             \
	do {                                                                   \
		char g_[4096], w_[4096];                                       \
		render(g_, sizeof(g_), (const uint8_t *)(got), (got_len));     \
		render(w_, sizeof(w_), (const uint8_t *)(want), (want_len));   \
		assert_string_equal(g_, w_);                                   \
		ASSERT_EQ(got_len, want_len);                                  \
	} while (0)

/*
 * Framer event recorder: every event becomes a short token in a string, so
 * a whole stream's events compare (and print) as one string.
 */
struct recorder {
	char buf[1 << 16];
	size_t len;
	size_t packets;
	size_t max_seen;
};

static void rec_add(struct recorder *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rec_add(struct recorder *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len)
		r->buf[r->len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(r->buf) - r->len);
	r->len += (size_t)n;
}

static void rec_cb(const struct rsp_frame *ev, void *opaque)
{
	struct recorder *r = opaque;
	char pl[2048];

	if (ev->payload) {
		/* The framer promises a NUL after every delivered payload. */
		ASSERT_EQ(ev->payload[ev->len], 0);
		render(pl, sizeof(pl), ev->payload, ev->len);
		if (ev->len > r->max_seen)
			r->max_seen = ev->len;
	}
	switch (ev->kind) {
	case RSP_FRAME_ACK:
		rec_add(r, "ack");
		break;
	case RSP_FRAME_NAK:
		rec_add(r, "nak");
		break;
	case RSP_FRAME_INTERRUPT:
		rec_add(r, "int");
		break;
	case RSP_FRAME_PACKET:
		assert_non_null(ev->payload);
		ASSERT_EQ(ev->csum_sent, ev->csum_calc);
		r->packets++;
		rec_add(r, "pkt[%s]", pl);
		break;
	case RSP_FRAME_BAD_CHECKSUM:
		assert_non_null(ev->payload);
		rec_add(r, "bad[%s sent=%d calc=%02x]", pl, ev->csum_sent,
			ev->csum_calc);
		break;
	case RSP_FRAME_OVERSIZE:
		assert_null(ev->payload);
		rec_add(r, "over[%zu sent=%d calc=%02x]", ev->len, ev->csum_sent,
			ev->csum_calc);
		break;
	case RSP_FRAME_RESTART:
		assert_null(ev->payload);
		rec_add(r, "restart[%zu]", ev->len);
		break;
	case RSP_FRAME_NOTIFICATION:
		rec_add(r, "notif[%s ok=%d]", ev->payload ? pl : "(dropped)",
			ev->csum_sent == ev->csum_calc);
		break;
	case RSP_FRAME_GARBAGE:
		assert_null(ev->payload);
		rec_add(r, "garbage[%zu]", ev->len);
		break;
	default:
		fail_msg("unknown frame kind %d", (int)ev->kind);
	}
}

static struct rsp_framer *new_framer(size_t max)
{
	struct rsp_framer *fr = NULL;

	ASSERT_EQ(rsp_framer_create(max, &fr), 0);
	assert_non_null(fr);
	return fr;
}

/* Feeds the stream in one go into a fresh framer and records the events. */
static void frame_all(size_t max, const uint8_t *data, size_t len,
		      struct recorder *r)
{
	struct rsp_framer *fr = new_framer(max);

	memset(r, 0, sizeof(*r));
	rsp_framer_feed(fr, data, len, rec_cb, r);
	rsp_framer_destroy(fr);
}

static void expect_events(size_t max, const uint8_t *data, size_t len,
			  const char *want)
{
	struct recorder *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	frame_all(max, data, len, r);
	assert_string_equal(r->buf, want);
	free(r);
}

static void test_framer_ack_nak_interrupt(void **state)
{
	(void)state;
	expect_events(64, S("+-\x03+"), "ack nak int ack");
}

static void test_framer_known_packets(void **state)
{
	(void)state;
	expect_events(64, S("$OK#9a"), "pkt[OK]");
	expect_events(64, S("$#00"), "pkt[]");
	expect_events(64, S("+$qSupported:multiprocess+;swbreak+#1b"),
		      "ack pkt[qSupported:multiprocess+;swbreak+]");
}

static void test_framer_uppercase_checksum(void **state)
{
	(void)state;
	/* "m" = 0x6d; "OK" = 0x9a; both digit cases are hex. */
	expect_events(64, S("$OK#9A$OK#9a$m#6D"), "pkt[OK] pkt[OK] pkt[m]");
}

static void test_framer_bad_checksum(void **state)
{
	(void)state;
	expect_events(64, S("$OK#00"), "bad[OK sent=0 calc=9a]");
	expect_events(64, S("$OK#9b"), "bad[OK sent=155 calc=9a]");
	/* Non-hex digits can never match; they still end the packet. */
	expect_events(64, S("$OK#zz$OK#9a"),
		      "bad[OK sent=-1 calc=9a] pkt[OK]");
	expect_events(64, S("$OK#9"), "");
	expect_events(64, S("$OK#9g+"), "bad[OK sent=-1 calc=9a] ack");
}

static void test_framer_restart(void **state)
{
	(void)state;
	/* A '$' anywhere in a packet abandons it and starts the next one. */
	expect_events(64, S("$abc$OK#9a"), "restart[3] pkt[OK]");
	expect_events(64, S("$$OK#9a"), "restart[0] pkt[OK]");
	expect_events(64, S("$abc#$OK#9a"), "restart[3] pkt[OK]");
	expect_events(64, S("$abc#1$OK#9a"), "restart[3] pkt[OK]");
	/* A restarted notification continues as a normal packet. */
	expect_events(64, S("%Stop$OK#9a"), "restart[4] pkt[OK]");
	/* The checksum covers only the new packet. */
	expect_events(64, S("$zzzz$OK#9a"), "restart[4] pkt[OK]");
}

static void test_framer_interrupt_only_between_packets(void **state)
{
	(void)state;
	/* Inside a packet 0x03 is data, as in an X packet's binary bytes. */
	expect_events(64, S("\x03$a\x03#64\x03"), "int pkt[a\\x03] int");
	expect_events(64, S("$+-#58"), "pkt[+-]");
}

static void test_framer_binary_payload(void **state)
{
	static const uint8_t stream[] = "$X10,4:\x00}]\xff%#51";
	struct recorder *r = calloc(1, sizeof(*r));
	uint8_t sum;

	(void)state;
	assert_non_null(r);
	sum = rsp_checksum(stream + 1, 11);
	ASSERT_UEQ(sum, 0x51);
	frame_all(64, stream, sizeof(stream) - 1, r);
	assert_string_equal(r->buf, "pkt[X10,4:\\x00}]\\xff%]");
	free(r);
}

static void test_framer_oversize(void **state)
{
	struct rsp_framer *fr = new_framer(16);
	struct recorder *r = calloc(1, sizeof(*r));
	static uint8_t big[1 << 20];
	char want[128];
	size_t i;

	(void)state;
	assert_non_null(r);
	/* Exactly max fits; one more byte does not. */
	expect_events(4, S("$1234#ca$12345#ff$OK#9a"),
		      "pkt[1234] over[5 sent=255 calc=ff] pkt[OK]");
	expect_events(4, S("$12345#00"), "over[5 sent=0 calc=ff]");
	expect_events(0, S("$#00$a#61"), "pkt[] over[1 sent=97 calc=61]");

	/* A megabyte through a 16-byte framer, in uneven feeds. */
	memset(big, 'a', sizeof(big));
	big[0] = '$';
	big[sizeof(big) - 3] = '#';
	big[sizeof(big) - 2] = 'x';
	big[sizeof(big) - 1] = 'x';
	for (i = 0; i < sizeof(big); i += 4093) {
		size_t n = sizeof(big) - i < 4093 ? sizeof(big) - i : 4093;

		rsp_framer_feed(fr, big + i, n, rec_cb, r);
	}
	rsp_framer_feed(fr, S("$OK#9a"), rec_cb, r);
	/* 'a' * (2^20 - 4) = 0x61 * 0xffffc, which is 0x7c mod 256. */
	snprintf(want, sizeof(want), "over[%zu sent=-1 calc=7c] pkt[OK]",
		 sizeof(big) - 4);
	assert_string_equal(r->buf, want);
	assert_true(r->max_seen <= 16);
	rsp_framer_destroy(fr);
	free(r);
}

static void test_framer_garbage(void **state)
{
	(void)state;
	expect_events(64, S("xyz+\r\n$OK#9a"), "garbage[3] ack garbage[2] pkt[OK]");
	/* A stray '#' or checksum between packets is garbage too. */
	expect_events(64, S("$OK#9a#9a$OK#9a"), "pkt[OK] garbage[3] pkt[OK]");
	/* A run of garbage is reported only once something ends it. */
	expect_events(64, S("+junk"), "ack");
	expect_events(64, S("junk\x03"), "garbage[4] int");
}

static void test_framer_notification(void **state)
{
	(void)state;
	/* "Stop:T05" sums to 0x399, so its checksum is 99. */
	expect_events(64, S("%Stop:T05#99+"), "notif[Stop:T05 ok=1] ack");
	expect_events(64, S("%Stop:T05#00"), "notif[Stop:T05 ok=0]");
	expect_events(4, S("%Stop:T05#99"), "notif[(dropped) ok=1]");
}

static void test_framer_empty_feeds(void **state)
{
	static const uint8_t stream[] = "+$OK#9a\x03-";
	struct rsp_framer *fr = new_framer(64);
	struct recorder *r = calloc(1, sizeof(*r));
	size_t i;

	(void)state;
	assert_non_null(r);
	rsp_framer_feed(fr, NULL, 0, rec_cb, r);
	for (i = 0; i < sizeof(stream) - 1; i++) {
		rsp_framer_feed(fr, NULL, 0, rec_cb, r);
		rsp_framer_feed(fr, stream + i, 1, rec_cb, r);
		rsp_framer_feed(fr, stream + i, 0, rec_cb, r);
	}
	assert_string_equal(r->buf, "ack pkt[OK] int nak");
	rsp_framer_destroy(fr);
	free(r);
}

/*
 * One stream with every kind of event, split at every point and at every
 * pair of points: the events must equal the one-shot events each time.
 */
static void test_framer_every_split(void **state)
{
	static const uint8_t stream[] =
		"+\x03$OK#9a-garbage$m0,4#fd$bad#00$ab$OK#9A"
		"%Stop#e4$toolong!#00$X0,1:}]#f9+";
	const size_t len = sizeof(stream) - 1;
	const char *want = "ack int pkt[OK] nak garbage[7] pkt[m0,4] "
			   "bad[bad sent=0 calc=27] restart[2] pkt[OK] "
			   "notif[Stop ok=0] over[8 sent=0 calc=23] "
			   "pkt[X0,1:}]] ack";
	struct recorder *one = calloc(1, sizeof(*one));
	struct recorder *r = calloc(1, sizeof(*r));
	size_t i, j;

	(void)state;
	assert_non_null(one);
	assert_non_null(r);
	frame_all(7, stream, len, one);
	assert_string_equal(one->buf, want);

	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j++) {
			struct rsp_framer *fr = new_framer(7);

			memset(r, 0, sizeof(*r));
			rsp_framer_feed(fr, stream, i, rec_cb, r);
			rsp_framer_feed(fr, stream + i, j - i, rec_cb, r);
			rsp_framer_feed(fr, stream + j, len - j, rec_cb, r);
			if (strcmp(r->buf, one->buf))
				fail_msg("split at %zu,%zu: got \"%s\", want "
					 "\"%s\"",
					 i, j, r->buf, one->buf);
			rsp_framer_destroy(fr);
		}
	}

	/* And a byte at a time. */
	{
		struct rsp_framer *fr = new_framer(7);

		memset(r, 0, sizeof(*r));
		for (i = 0; i < len; i++)
			rsp_framer_feed(fr, stream + i, 1, rec_cb, r);
		assert_string_equal(r->buf, one->buf);
		rsp_framer_destroy(fr);
	}
	free(one);
	free(r);
}

static void test_framer_reset(void **state)
{
	struct rsp_framer *fr = new_framer(64);
	struct recorder *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	ASSERT_EQ(rsp_framer_max_payload(fr), 64);
	rsp_framer_feed(fr, S("junk$half"), rec_cb, r);
	rsp_framer_reset(fr);
	rsp_framer_feed(fr, S("$OK#9a"), rec_cb, r);
	assert_string_equal(r->buf, "garbage[4] pkt[OK]");
	rsp_framer_destroy(fr);
	rsp_framer_destroy(NULL);
	free(r);
}

static void test_framer_create_invalid(void **state)
{
	struct rsp_framer *fr = NULL;

	(void)state;
	ASSERT_EQ(rsp_framer_create(SIZE_MAX, &fr), -EINVAL);
	assert_null(fr);
	ASSERT_EQ(rsp_framer_create(16, NULL), -EINVAL);
}

static void test_frame_kind_names(void **state)
{
	(void)state;
	assert_string_equal(rsp_frame_kind_name(RSP_FRAME_PACKET), "packet");
	assert_string_equal(rsp_frame_kind_name(RSP_FRAME_GARBAGE), "garbage");
	assert_string_equal(rsp_frame_kind_name((enum rsp_frame_kind)99), "?");
}

/* Encodes and compares the whole frame with the expected wire bytes. */
static void expect_encode(const uint8_t *in, size_t len, bool rle,
			  const uint8_t *want, size_t want_len)
{
	uint8_t out[4096];
	ssize_t n;

	n = rsp_packet_encode(in, len, rle, out, sizeof(out));
	assert_true(n >= 0);
	ASSERT_BYTES(out, (size_t)n, want, want_len);
}

static void test_checksum_known(void **state)
{
	(void)state;
	ASSERT_UEQ(rsp_checksum(S("OK")), 0x9a);
	ASSERT_UEQ(rsp_checksum(NULL, 0), 0);
	expect_encode(S("OK"), false, S("$OK#9a"));
	expect_encode(S("OK"), true, S("$OK#9a"));
	expect_encode(NULL, 0, false, S("$#00"));
	expect_encode(S("E01"), false, S("$E01#a6"));
}

static void test_encode_escapes_each_special(void **state)
{
	(void)state;
	/* The checksum is over the bytes on the wire, escapes included. */
	expect_encode(S("a$b"), false, S("$a}\x04" "b#44"));
	expect_encode(S("a#b"), false, S("$a}\x03" "b#43"));
	expect_encode(S("a}b"), false, S("$a}]b#9d"));
	expect_encode(S("a*b"), false, S("$a}\x0a" "b#4a"));
	/* Other protocol characters are fine inside a packet. */
	expect_encode(S("+-%\x03:;"), false, S("$+-%\x03:;#f5"));
}

static void test_encode_passes_other_bytes(void **state)
{
	uint8_t in[256], out[1024];
	size_t i, o = 1;
	uint64_t sent;
	ssize_t n;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = rsp_packet_encode(in, sizeof(in), false, out, sizeof(out));
	ASSERT_EQ(n, 1 + 256 + 4 + 3);
	for (i = 0; i < 256; i++) {
		if (i == '$' || i == '#' || i == '}' || i == '*') {
			ASSERT_UEQ(out[o], '}');
			ASSERT_UEQ(out[o + 1], i ^ 0x20);
			o += 2;
		} else {
			ASSERT_UEQ(out[o], i);
			o++;
		}
	}
	ASSERT_UEQ(out[o], '#');
	ASSERT_EQ(rsp_parse_hex_u64((const char *)out + o + 1, 2, &sent), 0);
	ASSERT_UEQ(rsp_checksum(out + 1, o - 1), sent);
}

static void test_encode_enospc(void **state)
{
	uint8_t out[64];
	size_t cap;

	(void)state;
	/* "$a}]b#9d" is 8 bytes: every smaller buffer must be refused. */
	for (cap = 0; cap < 8; cap++)
		ASSERT_EQ(rsp_packet_encode(S("a}b"), false, out, cap), -ENOSPC);
	ASSERT_EQ(rsp_packet_encode(S("a}b"), false, out, 8), 8);
	for (cap = 0; cap < 4; cap++)
		ASSERT_EQ(rsp_packet_encode(NULL, 0, false, out, cap), -ENOSPC);
	/* "$0* #7a" is 7 bytes with RLE. */
	ASSERT_EQ(rsp_packet_encode(S("0000"), true, out, 6), -ENOSPC);
	ASSERT_EQ(rsp_packet_encode(S("0000"), true, out, 7), 7);
}

static void test_encode_bound(void **state)
{
	uint8_t in[100], out[512];
	ssize_t n;

	(void)state;
	ASSERT_UEQ(rsp_packet_encode_bound(0), 4);
	ASSERT_UEQ(rsp_packet_encode_bound(10), 24);
	ASSERT_UEQ(rsp_packet_encode_bound(SIZE_MAX / 2), SIZE_MAX);
	ASSERT_UEQ(rsp_packet_encode_bound(SIZE_MAX), SIZE_MAX);
	/* The worst case is reached: every byte escaped. */
	memset(in, '}', sizeof(in));
	n = rsp_packet_encode(in, sizeof(in), true, out,
			      rsp_packet_encode_bound(sizeof(in)));
	ASSERT_EQ(n, rsp_packet_encode_bound(sizeof(in)));
}

/* gdb's order: expand runs over the wire bytes, then unescape. */
static size_t ref_decode_gdb(const uint8_t *in, size_t len, uint8_t *out,
			     size_t cap)
{
	size_t tcap = 2 * cap + 2, i, o = 0;
	uint8_t *tmp = malloc(tcap);
	ssize_t n;

	assert_non_null(tmp);
	for (i = 0; i < len; i++) {
		if (in[i] == '*') {
			size_t k, rep;

			assert_true(i + 1 < len);
			assert_true(o > 0);
			rep = (size_t)in[++i] - 29;
			assert_true(o + rep <= tcap);
			for (k = 0; k < rep; k++, o++)
				tmp[o] = tmp[o - 1];
		} else {
			assert_true(o < tcap);
			tmp[o++] = in[i];
		}
	}
	n = rsp_bin_unescape(tmp, o, out, cap);
	assert_true(n >= 0);
	free(tmp);
	return (size_t)n;
}

/* lldb's order: one pass, unescaping as it goes, runs repeat the output. */
static size_t ref_decode_lldb(const uint8_t *in, size_t len, uint8_t *out,
			      size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '*') {
			size_t k, rep;

			assert_true(i + 1 < len);
			assert_true(o > 0);
			rep = (size_t)in[++i] - 29;
			assert_true(o + rep <= cap);
			for (k = 0; k < rep; k++, o++)
				out[o] = out[o - 1];
		} else if (in[i] == '}') {
			assert_true(i + 1 < len);
			assert_true(o < cap);
			out[o++] = in[++i] ^ 0x20;
		} else {
			assert_true(o < cap);
			out[o++] = in[i];
		}
	}
	return o;
}

/*
 * Encodes, frames the result, checks the count characters, and decodes it
 * both ways; returns the wire length.
 */
static size_t rle_round_trip(const uint8_t *in, size_t len)
{
	size_t cap = rsp_packet_encode_bound(len);
	uint8_t *wire = malloc(cap), *dec = malloc(len + 1);
	struct rsp_framer *fr = new_framer(cap);
	struct recorder *r = calloc(1, sizeof(*r));
	ssize_t n;
	size_t i, d;

	assert_non_null(wire);
	assert_non_null(dec);
	assert_non_null(r);
	n = rsp_packet_encode(in, len, true, wire, cap);
	assert_true(n >= 4);

	/* The frame must be exactly one good packet to our own framer. */
	rsp_framer_feed(fr, wire, (size_t)n, rec_cb, r);
	ASSERT_EQ(r->packets, 1);

	for (i = 1; i < (size_t)n - 3; i++) {
		uint8_t c;

		assert_true(wire[i] != '$' && wire[i] != '#');
		if (wire[i] == '}') {
			/* Runs never start at an escaped byte. */
			assert_true(i + 2 >= (size_t)n - 3 || wire[i + 2] != '*');
			i++;
			continue;
		}
		if (wire[i] != '*')
			continue;
		c = wire[++i];
		/* Printable, not a delimiter, and standing for 3 or more. */
		if (c < ' ' || c > '~' || c == '#' || c == '$')
			fail_msg("bad count char %#x at %zu", c, i);
	}

	d = ref_decode_gdb(wire + 1, (size_t)n - 4, dec, len + 1);
	ASSERT_BYTES(dec, d, in, len);
	d = ref_decode_lldb(wire + 1, (size_t)n - 4, dec, len + 1);
	ASSERT_BYTES(dec, d, in, len);

	rsp_framer_destroy(fr);
	free(r);
	free(wire);
	free(dec);
	return (size_t)n;
}

static void test_encode_rle_known(void **state)
{
	(void)state;
	/* The run-length examples from the gdb manual's Overview. */
	expect_encode(S("000"), true, S("$000#90"));
	expect_encode(S("0000"), true, S("$0* #7a"));
	expect_encode(S("00000"), true, S("$0*!#7b"));
	expect_encode(S("000000"), true, S("$0*\"#7c"));
	/* 7 and 8 would need '#' and '$' as counts: use '"' and the rest. */
	expect_encode(S("0000000"), true, S("$0*\"0#ac"));
	expect_encode(S("00000000"), true, S("$0*\"00#dc"));
	expect_encode(S("000000000"), true, S("$0*%#7f"));
	/* Without rle nothing is compressed. */
	expect_encode(S("0000"), false, S("$0000#c0"));
}

static void test_encode_rle_every_run_length(void **state)
{
	uint8_t in[400];
	size_t len;

	(void)state;
	memset(in, 'x', sizeof(in));
	for (len = 0; len <= sizeof(in); len++) {
		size_t n = rle_round_trip(in, len);

		/* Runs of 1..3 are sent plainly; longer ones never grow. */
		if (len <= 3)
			ASSERT_EQ(n, len + 4);
		else
			assert_true(n <= len + 4);
	}
	/* One '*' covers up to 98 copies: 'x' plus count '~'. */
	expect_encode(in, 98, true, S("$x*~#20"));
}

static void test_encode_rle_not_across_escape(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} cases[] = {
#define C(lit) { lit, sizeof(lit) - 1 }
		C("#\x03\x03\x03\x03\x03"),
		C("}]]]]]]"),
		C("*\x0a\x0a\x0a\x0a\x0a"),
		C("$$$$$$$$$$"),
		C("}}}}}}}}"),
		C("****\x0a\x0a\x0a\x0a"),
		C("ab}}}}cccc$dddd#eeeeeeee*"),
#undef C
	};
	uint8_t wire[128];
	size_t i;
	ssize_t n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		rle_round_trip((const uint8_t *)cases[i].s, cases[i].len);

	/* Escaped bytes are never compressed, even in long runs. */
	n = rsp_packet_encode(S("}}}}}}"), true, wire, sizeof(wire));
	ASSERT_BYTES(wire, (size_t)n, "$}]}]}]}]}]}]#1c", 16);
	/* The plain run after an escape starts fresh. */
	n = rsp_packet_encode(S("#\x03\x03\x03\x03"), true, wire,
			      sizeof(wire));
	ASSERT_BYTES(wire, (size_t)n, "$}\x03\x03* #cd", 9);
}

static void test_encode_rle_random(void **state)
{
	uint8_t in[1024];
	uint32_t seed = 12345;
	int round;

	(void)state;
	for (round = 0; round < 500; round++) {
		size_t len, i;
		uint8_t plain[1024 * 2 + 4];
		ssize_t plain_n;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(in);
		for (i = 0; i < len;) {
			size_t run;
			uint8_t c;

			seed = seed * 1103515245u + 12345u;
			/* Mostly protocol characters, in runs of 1..120. */
			c = (uint8_t)"0$#}*a\x03\xff"[(seed >> 16) % 8];
			run = 1 + (seed >> 4) % 120;
			while (run-- && i < len)
				in[i++] = c;
		}
		plain_n = rsp_packet_encode(in, len, false, plain,
					    sizeof(plain));
		assert_true(plain_n > 0);
		assert_true(rle_round_trip(in, len) <= (size_t)plain_n);
	}
}

static void test_hex_encode(void **state)
{
	static const uint8_t in[] = { 0x00, 0xab, 0xff, 0x10, 0x09 };
	char out[16];

	(void)state;
	ASSERT_EQ(rsp_hex_encode(in, sizeof(in), out, sizeof(out)), 10);
	ASSERT_BYTES(out, 10, "00abff1009", 10);
	ASSERT_EQ(rsp_hex_encode(in, sizeof(in), out, 9), -ENOSPC);
	ASSERT_EQ(rsp_hex_encode(in, sizeof(in), out, 10), 10);
	ASSERT_EQ(rsp_hex_encode(NULL, 0, out, 0), 0);
}

static void test_hex_decode(void **state)
{
	static const uint8_t want[] = { 0x00, 0xab, 0xff, 0x10 };
	char buf[16];
	uint8_t out[16];

	(void)state;
	ASSERT_EQ(rsp_hex_decode("00AbfF10", 8, out, sizeof(out)), 4);
	ASSERT_BYTES(out, 4, want, 4);
	ASSERT_EQ(rsp_hex_decode("", 0, out, 0), 0);
	ASSERT_EQ(rsp_hex_decode("abc", 3, out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_hex_decode("0g", 2, out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_hex_decode("g0", 2, out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_hex_decode(" 0", 2, out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_hex_decode("0x10", 4, out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_hex_decode("00abff10", 8, out, 3), -ENOSPC);
	/* In place, as the session may do with its own copy. */
	memcpy(buf, "00abff10", 8);
	ASSERT_EQ(rsp_hex_decode(buf, 8, (uint8_t *)buf, 8), 4);
	ASSERT_BYTES(buf, 4, want, 4);
}

static void test_bin_unescape(void **state)
{
	uint8_t out[16];
	uint8_t buf[16];

	(void)state;
	ASSERT_EQ(rsp_bin_unescape(S("a}]b}\x04}\x03}\x0a"), out, sizeof(out)),
		  6);
	ASSERT_BYTES(out, 6, "a}b$#*", 6);
	ASSERT_EQ(rsp_bin_unescape(S("ab}"), out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_bin_unescape(S("}"), out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_bin_unescape(S("}]}"), out, sizeof(out)), -EINVAL);
	ASSERT_EQ(rsp_bin_unescape(NULL, 0, out, 0), 0);
	ASSERT_EQ(rsp_bin_unescape(S("abc"), out, 2), -ENOSPC);
	ASSERT_EQ(rsp_bin_unescape(S("a}]"), out, 2), 2);
	/* '}' '}' unescapes to ']'; the escaped byte is never special. */
	ASSERT_EQ(rsp_bin_unescape(S("}}"), out, sizeof(out)), 1);
	ASSERT_UEQ(out[0], ']');
	memcpy(buf, "x}]y}\x04", 6);
	ASSERT_EQ(rsp_bin_unescape(buf, 6, buf, sizeof(buf)), 4);
	ASSERT_BYTES(buf, 4, "x}y$", 4);
}

static void test_bin_escape(void **state)
{
	uint8_t in[256], esc[512], back[256];
	ssize_t n;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = rsp_bin_escape(in, sizeof(in), esc, sizeof(esc));
	ASSERT_EQ(n, 260);
	for (i = 0; i < (size_t)n; i++)
		assert_true(esc[i] != '$' && esc[i] != '#' && esc[i] != '*');
	ASSERT_EQ(rsp_bin_unescape(esc, (size_t)n, back, sizeof(back)), 256);
	ASSERT_BYTES(back, 256, in, 256);
	ASSERT_EQ(rsp_bin_escape(S("a$"), esc, 2), -ENOSPC);
	ASSERT_EQ(rsp_bin_escape(S("a$"), esc, 3), 3);
	ASSERT_BYTES(esc, 3, "a}\x04", 3);
}

static void test_bin_escape_fit(void **state)
{
	(void)state;
	ASSERT_UEQ(rsp_bin_escape_fit(S("ab$cd"), 0), 0);
	ASSERT_UEQ(rsp_bin_escape_fit(S("ab$cd"), 2), 2);
	/* The escaped '$' needs two bytes; one is not enough. */
	ASSERT_UEQ(rsp_bin_escape_fit(S("ab$cd"), 3), 2);
	ASSERT_UEQ(rsp_bin_escape_fit(S("ab$cd"), 4), 3);
	ASSERT_UEQ(rsp_bin_escape_fit(S("ab$cd"), 100), 5);
}

static void expect_hex(const char *s, int want_ret, uint64_t want)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aull;
	int ret = rsp_parse_hex_u64(s, strlen(s), &v);

	if (ret != want_ret)
		fail_msg("parse \"%s\": got %d, want %d", s, ret, want_ret);
	/* On failure the output is left alone. */
	if (ret)
		want = 0x5a5a5a5a5a5a5a5aull;
	if (v != want)
		fail_msg("parse \"%s\": got %#llx, want %#llx", s,
			 (unsigned long long)v, (unsigned long long)want);
}

static void test_parse_hex_u64(void **state)
{
	(void)state;
	expect_hex("0", 0, 0);
	expect_hex("1f", 0, 0x1f);
	expect_hex("DeadBeef", 0, 0xdeadbeef);
	expect_hex("ffffffffffffffff", 0, UINT64_MAX);
	expect_hex("FFFFFFFFFFFFFFFF", 0, UINT64_MAX);
	expect_hex("00000000000000000000ffffffffffffffff", 0, UINT64_MAX);
	expect_hex("10000000000000000", -ERANGE, 0);
	expect_hex("fffffffffffffffff", -ERANGE, 0);
	expect_hex("10000000000000000x", -EINVAL, 0);
	expect_hex("", -EINVAL, 0);
	expect_hex("12x", -EINVAL, 0);
	expect_hex("12 ", -EINVAL, 0);
	expect_hex(" 12", -EINVAL, 0);
	expect_hex("+1", -EINVAL, 0);
	expect_hex("-1", -EINVAL, 0);
	expect_hex("0x10", -EINVAL, 0);
	/* The length is what counts, not a NUL. */
	{
		uint64_t v;

		ASSERT_EQ(rsp_parse_hex_u64("1234", 2, &v), 0);
		ASSERT_UEQ(v, 0x12);
		ASSERT_EQ(rsp_parse_hex_u64("1\0", 2, &v), -EINVAL);
	}
}

/* "m addr,len" and "M addr,len:hex". */
static void test_take_hex_u64(void **state)
{
	static const char m[] = "m7ffe1000,40";
	static const char bad[] = "1000,4x";
	static const char mw[] = "M1000,2:abcd";
	const char *p = m + 1, *end = m + sizeof(m) - 1;
	uint64_t addr = 0, len = 0;
	uint8_t data[2];

	(void)state;
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &addr), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, 0, &len), 0);
	ASSERT_UEQ(addr, 0x7ffe1000);
	ASSERT_UEQ(len, 0x40);
	assert_ptr_equal(p, end);

	/* Missing terminator, empty field, trailing junk: p stays put. */
	p = m + 1;
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ':', &addr), -EINVAL);
	assert_ptr_equal(p, m + 1);
	p = ",4";
	ASSERT_EQ(rsp_take_hex_u64(&p, p + 2, ',', &addr), -EINVAL);
	p = bad;
	ASSERT_EQ(rsp_take_hex_u64(&p, bad + 7, ',', &addr), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, bad + 7, 0, &len), -EINVAL);
	assert_ptr_equal(p, bad + 5);
	/* Nothing left at all. */
	p = bad + 7;
	ASSERT_EQ(rsp_take_hex_u64(&p, bad + 7, 0, &len), -EINVAL);
	ASSERT_EQ(rsp_take_hex_u64(&p, bad + 7, ',', &len), -EINVAL);
	/* A cursor past end is refused, not read. */
	p = bad + 7;
	ASSERT_EQ(rsp_take_hex_u64(&p, bad + 3, 0, &len), -EINVAL);

	p = mw + 1;
	end = mw + sizeof(mw) - 1;
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &addr), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ':', &len), 0);
	ASSERT_UEQ(len, 2);
	ASSERT_EQ(rsp_hex_decode(p, (size_t)(end - p), data, sizeof(data)), 2);
	ASSERT_UEQ(data[0], 0xab);
	ASSERT_UEQ(data[1], 0xcd);
}

/* "X addr,len:bin" with escaped binary data. */
static void test_parse_x_packet(void **state)
{
	static const char x[] = "X1000,4:a}]\x00}\x04";
	const char *p = x + 1, *end = x + sizeof(x) - 1;
	uint64_t addr, len;
	uint8_t data[8];

	(void)state;
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &addr), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ':', &len), 0);
	ASSERT_UEQ(addr, 0x1000);
	ASSERT_EQ(rsp_bin_unescape((const uint8_t *)p, (size_t)(end - p), data,
				   sizeof(data)),
		  (long long)len);
	ASSERT_BYTES(data, 4, "a}\x00$", 4);
}

/* "Z type,addr,kind[;cond...]". */
static void test_parse_z_packet(void **state)
{
	static const char z[] = "Z0,401000,1;X2,0a";
	static const char z2[] = "z1,ffffffff81000000,4";
	const char *p = z + 1, *end = z + sizeof(z) - 1, *f;
	uint64_t type, addr, kind;
	size_t flen;

	(void)state;
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &type), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &addr), 0);
	ASSERT_EQ(rsp_take_field(&p, end, ';', &f, &flen), 1);
	ASSERT_EQ(rsp_parse_hex_u64(f, flen, &kind), 0);
	ASSERT_UEQ(type, 0);
	ASSERT_UEQ(addr, 0x401000);
	ASSERT_UEQ(kind, 1);
	ASSERT_BYTES(p, (size_t)(end - p), "X2,0a", 5);

	p = z2 + 1;
	end = z2 + sizeof(z2) - 1;
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &type), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &addr), 0);
	ASSERT_EQ(rsp_take_field(&p, end, ';', &f, &flen), 0);
	ASSERT_EQ(rsp_parse_hex_u64(f, flen, &kind), 0);
	ASSERT_UEQ(addr, 0xffffffff81000000ull);
	ASSERT_UEQ(kind, 4);
	assert_ptr_equal(p, end);
	/* An exhausted cursor yields one empty field, then the same again. */
	ASSERT_EQ(rsp_take_field(&p, end, ';', &f, &flen), 0);
	ASSERT_EQ(flen, 0);
	p = end + 1;
	ASSERT_EQ(rsp_take_field(&p, end, ';', &f, &flen), -EINVAL);
}

/* "vCont;s:2;C05:p1.1;c": actions split by ';', thread after ':'. */
static void test_parse_vcont(void **state)
{
	static const char v[] = "vCont;s:2;C05:p1.1;c";
	const char *p = v, *end = v + sizeof(v) - 1;
	char got[128] = "";
	int more = 1;

	(void)state;
	assert_true(rsp_take_prefix(&p, end, "vCont"));
	assert_true(rsp_take_char(&p, end, ';'));
	while (more) {
		struct rsp_thread_id id = { .tid = RSP_TID_ALL };
		const char *act, *q, *qend, *name;
		size_t alen, nlen;
		char one[48];

		more = rsp_take_field(&p, end, ';', &act, &alen);
		assert_true(more >= 0);
		q = act;
		qend = act + alen;
		if (rsp_take_field(&q, qend, ':', &name, &nlen) == 1)
			ASSERT_EQ(rsp_parse_thread_id(q, (size_t)(qend - q),
						      &id),
				  0);
		snprintf(one, sizeof(one), "%.*s@%d/%lld/%lld ", (int)nlen,
			 name, id.has_pid, (long long)id.pid,
			 (long long)id.tid);
		strncat(got, one, sizeof(got) - strlen(got) - 1);
	}
	assert_string_equal(got, "s@0/0/2 C05@1/1/1 c@0/0/-1 ");
	assert_ptr_equal(p, end);
	assert_false(rsp_take_char(&p, end, ';'));
	assert_false(rsp_take_prefix(&p, end, "x"));
	assert_true(rsp_take_prefix(&p, end, ""));
}

/* "qXfer:object:read:annex:offset,length". */
static void test_parse_qxfer(void **state)
{
	static const char q[] = "qXfer:features:read:target.xml:1f0,ffb";
	const char *p = q, *end = q + sizeof(q) - 1, *obj, *annex;
	size_t olen, alen;
	uint64_t off, len;

	(void)state;
	assert_false(rsp_take_prefix(&p, end, "qXfer:features:write:"));
	assert_ptr_equal(p, q);
	assert_true(rsp_take_prefix(&p, end, "qXfer:"));
	ASSERT_EQ(rsp_take_field(&p, end, ':', &obj, &olen), 1);
	assert_true(rsp_take_prefix(&p, end, "read:"));
	ASSERT_EQ(rsp_take_field(&p, end, ':', &annex, &alen), 1);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, ',', &off), 0);
	ASSERT_EQ(rsp_take_hex_u64(&p, end, 0, &len), 0);
	ASSERT_BYTES(obj, olen, "features", 8);
	ASSERT_BYTES(annex, alen, "target.xml", 10);
	ASSERT_UEQ(off, 0x1f0);
	ASSERT_UEQ(len, 0xffb);
	/* A prefix longer than what is left does not match or read past. */
	assert_false(rsp_take_prefix(&p, end, "x"));
}

static void expect_tid(const char *s, int want_ret, bool has_pid, int64_t pid,
		       int64_t tid)
{
	struct rsp_thread_id id = { .has_pid = true, .pid = 77, .tid = 77 };
	int ret = rsp_parse_thread_id(s, strlen(s), &id);

	if (ret != want_ret)
		fail_msg("thread id \"%s\": got %d, want %d", s, ret, want_ret);
	if (ret) {
		/* Untouched on failure. */
		has_pid = true;
		pid = 77;
		tid = 77;
	}
	if (id.has_pid != has_pid || id.pid != pid || id.tid != tid)
		fail_msg("thread id \"%s\": got %d/%lld/%lld, want "
			 "%d/%lld/%lld",
			 s, id.has_pid, (long long)id.pid, (long long)id.tid,
			 has_pid, (long long)pid, (long long)tid);
}

static void test_parse_thread_id(void **state)
{
	(void)state;
	expect_tid("-1", 0, false, 0, RSP_TID_ALL);
	expect_tid("0", 0, false, 0, RSP_TID_ANY);
	expect_tid("1f", 0, false, 0, 0x1f);
	expect_tid("7fffffffffffffff", 0, false, 0, INT64_MAX);
	expect_tid("8000000000000000", -ERANGE, false, 0, 0);
	expect_tid("p1.2", 0, true, 1, 2);
	expect_tid("p1", 0, true, 1, RSP_TID_ALL);
	expect_tid("p-1", 0, true, RSP_TID_ALL, RSP_TID_ALL);
	expect_tid("p1.-1", 0, true, 1, RSP_TID_ALL);
	expect_tid("pa.0", 0, true, 0xa, RSP_TID_ANY);
	expect_tid("", -EINVAL, false, 0, 0);
	expect_tid("p", -EINVAL, false, 0, 0);
	expect_tid("p.", -EINVAL, false, 0, 0);
	expect_tid("p1.", -EINVAL, false, 0, 0);
	expect_tid("p.1", -EINVAL, false, 0, 0);
	expect_tid("p1.2.3", -EINVAL, false, 0, 0);
	expect_tid("-2", -EINVAL, false, 0, 0);
	expect_tid("-", -EINVAL, false, 0, 0);
	expect_tid("-10", -EINVAL, false, 0, 0);
	expect_tid("1 ", -EINVAL, false, 0, 0);
	expect_tid("P1.2", -EINVAL, false, 0, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framer_ack_nak_interrupt),
		cmocka_unit_test(test_framer_known_packets),
		cmocka_unit_test(test_framer_uppercase_checksum),
		cmocka_unit_test(test_framer_bad_checksum),
		cmocka_unit_test(test_framer_restart),
		cmocka_unit_test(test_framer_interrupt_only_between_packets),
		cmocka_unit_test(test_framer_binary_payload),
		cmocka_unit_test(test_framer_oversize),
		cmocka_unit_test(test_framer_garbage),
		cmocka_unit_test(test_framer_notification),
		cmocka_unit_test(test_framer_empty_feeds),
		cmocka_unit_test(test_framer_every_split),
		cmocka_unit_test(test_framer_reset),
		cmocka_unit_test(test_framer_create_invalid),
		cmocka_unit_test(test_frame_kind_names),
		cmocka_unit_test(test_checksum_known),
		cmocka_unit_test(test_encode_escapes_each_special),
		cmocka_unit_test(test_encode_passes_other_bytes),
		cmocka_unit_test(test_encode_enospc),
		cmocka_unit_test(test_encode_bound),
		cmocka_unit_test(test_encode_rle_known),
		cmocka_unit_test(test_encode_rle_every_run_length),
		cmocka_unit_test(test_encode_rle_not_across_escape),
		cmocka_unit_test(test_encode_rle_random),
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_hex_decode),
		cmocka_unit_test(test_bin_unescape),
		cmocka_unit_test(test_bin_escape),
		cmocka_unit_test(test_bin_escape_fit),
		cmocka_unit_test(test_parse_hex_u64),
		cmocka_unit_test(test_take_hex_u64),
		cmocka_unit_test(test_parse_x_packet),
		cmocka_unit_test(test_parse_z_packet),
		cmocka_unit_test(test_parse_vcont),
		cmocka_unit_test(test_parse_qxfer),
		cmocka_unit_test(test_parse_thread_id),
	};

	/* "test_packet NAME" runs one test (a glob), so each can run alone. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("packet", tests, NULL, NULL);
}
