/* Unit tests for the RSP session against the mock target: raw bytes in,
 * exact bytes out, and the operations the target was asked for. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "mock_target.h"
#include "rsp/packet.h"
#include "rsp/session.h"

/* Printable rendering of bytes, so failed comparisons show both sides. */
static void render(char *dst, size_t cap, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t o = 0, i;

	for (i = 0; i < len && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			dst[o++] = (char)p[i];
		else
			o +=
			    (size_t)snprintf(dst + o, cap - o, "\\x%02x", p[i]);
	}
	dst[o] = 0;
}

#define ASSERT_BYTES(got, got_len, want, want_len)                             \
	do {                                                                   \
		static char g_[1 << 18], w_[1 << 18];                          \
		render(g_, sizeof(g_), (got), (got_len));                      \
		render(w_, sizeof(w_), (want), (want_len));                    \
		ASSERT_STR(g_, w_);                                            \
		ASSERT_EQ(got_len, want_len);                                  \
	} while (0)

/*
 * Harness: a session over the mock target whose io records every byte
 * sent and every close.
 */
struct harness {
	struct mock_target m;
	struct rsp_session *s;
	uint8_t *out;
	size_t out_len, out_cap;
	/* How far expect_* has consumed out. */
	size_t rd;
	unsigned closes;
	bool destroy_on_close;
	size_t packet_size;
	/* Done from inside the next send of a packet, once. */
	const char *feed_in_send;
	bool disconnect_in_send;
};

static void h_send(void *opaque, const uint8_t *buf, size_t len)
{
	struct harness *h = opaque;

	if (h->out_len + len > h->out_cap) {
		size_t cap = 2 * (h->out_len + len);

		h->out = realloc(h->out, cap);
		assert_non_null(h->out);
		h->out_cap = cap;
	}
	memcpy(h->out + h->out_len, buf, len);
	h->out_len += len;
	if (len > 1 && h->feed_in_send) {
		const char *in = h->feed_in_send;

		h->feed_in_send = NULL;
		rsp_session_input(h->s, (const uint8_t *)in, strlen(in));
	}
	if (len > 1 && h->disconnect_in_send) {
		h->disconnect_in_send = false;
		rsp_session_disconnected(h->s);
	}
}

static void h_close(void *opaque)
{
	struct harness *h = opaque;

	h->closes++;
	if (h->destroy_on_close) {
		rsp_session_destroy(h->s);
		h->s = NULL;
		h->m.session = NULL;
	}
}

static void h_open(struct harness *h, size_t packet_size, unsigned threads,
		   bool running)
{
	struct rsp_session_io io = {
	    .send = h_send,
	    .close = h_close,
	    .opaque = h,
	};
	struct rsp_session_config cfg = {
	    .packet_size = packet_size,
	    .target_running = running,
	};

	if (h->s)
		rsp_session_destroy(h->s);
	h->s = NULL;
	mock_init(&h->m, threads);
	h->m.running = running;
	h->out_len = h->rd = 0;
	h->closes = 0;
	h->packet_size = packet_size ? packet_size : RSP_PACKET_SIZE;
	ASSERT_EQ(rsp_session_create(&mock_target_ops, &h->m, &io, &cfg, &h->s),
		  0);
	assert_non_null(h->s);
	h->m.session = h->s;
}

static void feedn(struct harness *h, const void *data, size_t len)
{
	rsp_session_input(h->s, data, len);
}

static void feed(struct harness *h, const char *s)
{
	feedn(h, s, strlen(s));
}

/* "$payload#xx" around a payload given exactly as it goes on the wire. */
static size_t frame(char *dst, size_t cap, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	unsigned sum = 0;
	size_t i;

	assert_true(len + 5 <= cap);
	dst[0] = '$';
	for (i = 0; i < len; i++) {
		dst[1 + i] = (char)p[i];
		sum += p[i];
	}
	snprintf(dst + 1 + len, cap - 1 - len, "#%02x", sum & 0xff);
	return len + 4;
}

static void pktn(struct harness *h, const void *payload, size_t len)
{
	static char buf[1 << 20];

	feedn(h, buf, frame(buf, sizeof(buf), payload, len));
}

static void pkt(struct harness *h, const char *payload)
{
	pktn(h, payload, strlen(payload));
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Takes the next packet from what the session sent: checks the framing and
 * the checksum (lowercase, as the encoder promises), then undoes run-length
 * encoding (first, as gdb does) and '}' escaping into buf.
 */
static size_t pop(struct harness *h, uint8_t *buf, size_t cap)
{
	const uint8_t *p = h->out + h->rd, *end = h->out + h->out_len;
	const uint8_t *hash;
	uint8_t *tmp;
	unsigned sum = 0;
	size_t n = 0, i, o = 0;

	if (p == end)
		fail_msg("expected a packet, the session sent nothing more");
	if (*p != '$') {
		char r[256];

		render(r, sizeof(r), p, (size_t)(end - p));
		fail_msg("expected '$', got \"%s\"", r);
	}
	hash = memchr(p, '#', (size_t)(end - p));
	assert_non_null(hash);
	assert_true(end - hash >= 3);
	for (i = 1; p + i < hash; i++)
		sum += p[i];
	if (hexval(hash[1]) < 0 || hexval(hash[2]) < 0 ||
	    (unsigned)(hexval(hash[1]) << 4 | hexval(hash[2])) != (sum & 0xff))
		fail_msg("bad checksum %c%c, want %02x", hash[1], hash[2],
			 sum & 0xff);
	/* Packets never exceed the advertised size on the wire. */
	assert_true((size_t)(hash - p - 1) <= h->packet_size);

	tmp = malloc((size_t)(hash - p) * 100 + 1);
	assert_non_null(tmp);
	for (i = 1; p + i < hash; i++) {
		if (p[i] == '*') {
			unsigned k, count;

			assert_true(n > 0 && p + i + 1 < hash);
			count = (unsigned)p[++i] - 29;
			for (k = 0; k < count; k++, n++)
				tmp[n] = tmp[n - 1];
		} else {
			tmp[n++] = p[i];
		}
	}
	for (i = 0; i < n; i++) {
		uint8_t c = tmp[i];

		if (c == '}') {
			assert_true(i + 1 < n);
			c = tmp[++i] ^ 0x20;
		}
		assert_true(o < cap);
		buf[o++] = c;
	}
	free(tmp);
	h->rd = (size_t)(hash + 3 - h->out);
	return o;
}

static void expect_pktn(struct harness *h, const void *want, size_t len)
{
	static uint8_t buf[1 << 20];
	size_t n = pop(h, buf, sizeof(buf));

	ASSERT_BYTES(buf, n, want, len);
}

static void expect_pkt(struct harness *h, const char *want)
{
	expect_pktn(h, want, strlen(want));
}

static void expect_byte(struct harness *h, char c)
{
	if (h->rd == h->out_len)
		fail_msg("expected '%c', the session sent nothing more", c);
	if (h->out[h->rd] != (uint8_t)c)
		fail_msg("expected '%c', got 0x%02x", c, h->out[h->rd]);
	h->rd++;
}

static void expect_none(struct harness *h)
{
	char r[512];

	if (h->rd == h->out_len)
		return;
	render(r, sizeof(r), h->out + h->rd, h->out_len - h->rd);
	fail_msg("unexpected output \"%s\"", r);
}

/* Everything sent since the last check, byte for byte. */
static void expect_wire(struct harness *h, const char *want)
{
	ASSERT_BYTES(h->out + h->rd, h->out_len - h->rd, want, strlen(want));
	h->rd = h->out_len;
}

/* Asks and checks one reply, in no-ack mode. */
static void ask(struct harness *h, const char *q, const char *want)
{
	pkt(h, q);
	expect_pkt(h, want);
	expect_none(h);
}

static void noack(struct harness *h)
{
	feed(h, "$QStartNoAckMode#b0");
	expect_wire(h, "+$OK#9a");
	feed(h, "+");
	expect_none(h);
}

static void hex_of(char *dst, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(dst + 2 * i, "%02x", p[i]);
	dst[2 * len] = 0;
}

/* "T<sig>thread:<tid>;02:<pc>;01:<sp>;" for a mock thread. */
static char *stop_t(struct harness *h, int sig, unsigned tid)
{
	static char buf[512];
	char pc[40], sp[40];

	hex_of(pc, h->m.regs[tid - 1][MOCK_REG_PC], 8);
	hex_of(sp, h->m.regs[tid - 1][MOCK_REG_SP], 8);
	snprintf(buf, sizeof(buf), "T%02xthread:%x;02:%s;01:%s;", sig, tid, pc,
		 sp);
	return buf;
}

static void expect_log(struct harness *h, const char *want)
{
	ASSERT_STR(h->m.log, want);
	mock_clear_log(&h->m);
}

/* Each test starts with two threads, the default packet size, no acks. */
static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h_open(h, 0, 2, false);
	noack(h);
	*state = h;
	return 0;
}

/* The same in ack mode, for the tests of acknowledgements. */
static int setup_acks(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h_open(h, 0, 2, false);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;

	rsp_session_destroy(h->s);
	free(h->out);
	free(h);
	return 0;
}

static const char supported[] =
    "PacketSize=40000;qXfer:features:read+;qXfer:threads:read+;"
    "qXfer:exec-file:read+;QStartNoAckMode+;swbreak+;hwbreak+;"
    "vContSupported+;binary-upload+;QThreadSuffixSupported+;"
    "QListThreadsInStopReply+";

/*
 * Acknowledgements and framing
 */

static void test_ack_mode_then_noack(void **state)
{
	struct harness *h = *state;
	char want[512], wire[512];

	/* Literal bytes: the four zeros of 40000 go out run-length encoded
	 * ('0', '*', ' ' = three more). */
	snprintf(wire, sizeof(wire), "PacketSize=40* %s",
		 supported + strlen("PacketSize=40000"));
	want[0] = '+';
	frame(want + 1, sizeof(want) - 1, wire, strlen(wire));
	feed(h, "$qSupported:multiprocess+;swbreak+;hwbreak+#fb");
	expect_wire(h, "-");
	pkt(h, "qSupported:multiprocess+;swbreak+;hwbreak+");
	expect_wire(h, want);
	feed(h, "+");
	feed(h, "$QStartNoAckMode#b0");
	expect_wire(h, "+$OK#9a");
	feed(h, "+");
	pkt(h, "vMustReplyEmpty");
	expect_wire(h, "$#00");
	pkt(h, "?");
	expect_pkt(h, stop_t(h, 5, 1));
	expect_none(h);
}

static void test_bad_checksum_gets_nak(void **state)
{
	struct harness *h = *state;

	feed(h, "$?#00");
	expect_wire(h, "-");
	feed(h, "$?#zz");
	expect_wire(h, "-");
	feed(h, "$?#3f");
	expect_byte(h, '+');
	expect_pkt(h, stop_t(h, 5, 1));
	expect_none(h);
	ASSERT_EQ(h->m.log_len, 0);
}

static void test_nak_resends_last_reply(void **state)
{
	struct harness *h = *state;
	size_t first;
	char copy[512];

	feed(h, "$?#3f");
	expect_byte(h, '+');
	first = h->out_len - h->rd;
	memcpy(copy, h->out + h->rd, first);
	copy[first] = 0;
	h->rd = h->out_len;
	feed(h, "-");
	expect_wire(h, copy);
	feed(h, "-");
	expect_wire(h, copy);
	/* '+' and line noise between packets are ignored. */
	feed(h, "+++ \r\n");
	expect_none(h);
}

static void test_nak_after_noack_ok_resends_it(void **state)
{
	struct harness *h = *state;

	feed(h, "$QStartNoAckMode#b0");
	expect_wire(h, "+$OK#9a");
	/* The peer was still in ack mode when the OK came. */
	feed(h, "-");
	expect_wire(h, "$OK#9a");
	feed(h, "+");
	pkt(h, "?");
	expect_pkt(h, stop_t(h, 5, 1));
	/* From here on a '-' means nothing. */
	feed(h, "-");
	expect_none(h);
}

static void test_noack_takes_bad_checksum(void **state)
{
	struct harness *h = *state;

	/* No one would resend it, so it is answered as it came. */
	feed(h, "$?#00");
	expect_pkt(h, stop_t(h, 5, 1));
	expect_none(h);
}

static void test_split_input(void **state)
{
	struct harness *h = *state;
	static const char *const parts[] = {
	    "$qSupported:swbreak+",
	    "+",
	    "$qC",
	    "$Hg2",
	    "garbage",
	    "$m1000,4",
	    "\x03",
	    "$p2",
	    "$qfThreadInfo",
	    "$qsThreadInfo",
	    "$?",
	    "$g",
	    "$X2810,2:}]*",
	    "$x1ff0,100",
	    "$qC#00",
	};
	char stream[512];
	size_t n = 0, i;
	uint8_t *whole;
	size_t whole_len;
	unsigned seed = 1;

	/* Packets (with good checksums unless given), acks, noise. */
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *p = parts[i];

		if (p[0] == '$' && !strchr(p, '#'))
			n += frame(stream + n, sizeof(stream) - n, p + 1,
				   strlen(p + 1));
		else
			n += (size_t)snprintf(stream + n, sizeof(stream) - n,
					      "%s", p);
	}
	feedn(h, stream, n);
	whole_len = h->out_len - h->rd;
	whole = malloc(whole_len);
	assert_non_null(whole);
	memcpy(whole, h->out + h->rd, whole_len);
	assert_true(whole_len > 100);

	/* Byte at a time, then random splits: the same bytes out. */
	for (int round = 0; round < 20; round++) {
		h_open(h, 0, 2, false);
		noack(h);
		h->rd = h->out_len;
		for (i = 0; i < n;) {
			size_t k =
			    round == 0
				? 1
				: 1 + (seed = seed * 1103515245 + 12345) % 9;

			if (k > n - i)
				k = n - i;
			feedn(h, stream + i, k);
			/* Empty reads are harmless. */
			feedn(h, stream, 0);
			i += k;
		}
		ASSERT_BYTES(h->out + h->rd, h->out_len - h->rd, whole,
			     whole_len);
		h->rd = h->out_len;
	}
	free(whole);
}

static void test_empty_packet(void **state)
{
	struct harness *h = *state;

	feed(h, "$#00");
	expect_wire(h, "$#00");
}

static void test_garbage_and_truncated(void **state)
{
	struct harness *h = *state;

	/* A packet abandoned by a new '$', notifications and noise. */
	feed(h, "xyz#$m10");
	feed(h, "00,4$?#3f");
	expect_pkt(h, stop_t(h, 5, 1));
	feed(h, "%Stop:T05#00\x7f\xff");
	expect_none(h);
	/* A packet cut off at the end waits for the rest. */
	feed(h, "$?#3");
	expect_none(h);
	feed(h, "f");
	expect_pkt(h, stop_t(h, 5, 1));
	/* Interrupts while stopped do nothing. */
	feed(h, "\x03\x03");
	expect_none(h);
	ASSERT_EQ(h->m.interrupts, 0);
}

static void test_oversized_packet(void **state)
{
	struct harness *h = *state;
	char big[700];

	h_open(h, 512, 2, false);
	memset(big, 'a', sizeof(big));
	big[0] = 'q';
	pktn(h, big, sizeof(big));
	/* Acked (it arrived intact), refused, and the session goes on. */
	expect_byte(h, '+');
	expect_pkt(h, "E90");
	expect_none(h);
	feed(h, "$?#3f");
	expect_byte(h, '+');
	expect_pkt(h, stop_t(h, 5, 1));
	/* A corrupted oversized packet gets '-' like any other. */
	feed(h, "$");
	feedn(h, big, sizeof(big));
	feed(h, "#00");
	expect_wire(h, "-");
}

/*
 * Stops and '?'
 */

static void test_question_initial_stop(void **state)
{
	struct harness *h = *state;

	ask(h, "?", stop_t(h, 5, 1));
	ASSERT_EQ(rsp_session_target_running(h->s), false);
}

static void test_stop_before_first_packet(void **state)
{
	struct harness *h = *state;

	/* main reports the stop it has before any '?' arrives. */
	mock_stop_signal(&h->m, RSP_SIG_INT, 2, RSP_REASON_NONE, 0);
	expect_none(h);
	ask(h, "?", stop_t(h, 2, 2));
	/* And '?' keeps saying so. */
	ask(h, "?", stop_t(h, 2, 2));
}

static void test_attach_to_running_target(void **state)
{
	struct harness *h = *state;

	h_open(h, 0, 2, true);
	/* The session interrupted at once. */
	ASSERT_EQ(h->m.interrupts, 1);
	ASSERT_EQ(rsp_session_target_running(h->s), true);
	feed(h, "$qC#b4$?#3f");
	/* Acks go out at once; answers wait for the stop. */
	expect_wire(h, "++");
	mock_stop_signal(&h->m, RSP_SIG_INT, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, "QC2");
	expect_pkt(h, stop_t(h, 2, 2));
	expect_none(h);
	ASSERT_EQ(rsp_session_target_running(h->s), false);
}

static void test_attach_interrupt_failure(void **state)
{
	struct harness *h = *state;
	struct rsp_session *s = NULL;
	struct rsp_session_io io = {
	    .send = h_send, .close = h_close, .opaque = h};
	struct rsp_session_config cfg = {.target_running = true};

	h->m.interrupt_ret = -EIO;
	ASSERT_EQ(rsp_session_create(&mock_target_ops, &h->m, &io, &cfg, &s),
		  -EIO);
	assert_null(s);
}

static void test_create_invalid(void **state)
{
	struct harness *h = *state;
	struct rsp_session *s = NULL;
	struct rsp_session_io io = {
	    .send = h_send, .close = h_close, .opaque = h};
	struct rsp_session_io no_send = {.close = h_close, .opaque = h};
	struct rsp_session_config small = {.packet_size = 100};
	struct rsp_session_config huge = {.packet_size = (size_t)1 << 30};

	ASSERT_EQ(rsp_session_create(&mock_target_ops, &h->m, &io, &small, &s),
		  -EINVAL);
	ASSERT_EQ(rsp_session_create(&mock_target_ops, &h->m, &io, &huge, &s),
		  -EINVAL);
	ASSERT_EQ(
	    rsp_session_create(&mock_target_ops, &h->m, &no_send, NULL, &s),
	    -EINVAL);
	ASSERT_EQ(rsp_session_create(NULL, &h->m, &io, NULL, &s), -EINVAL);
	assert_null(s);
	/* NULL config: the defaults. */
	ASSERT_EQ(rsp_session_create(&mock_target_ops, &h->m, &io, NULL, &s),
		  0);
	rsp_session_destroy(s);
	rsp_session_destroy(NULL);
}

static void test_exit_and_question(void **state)
{
	struct harness *h = *state;
	struct rsp_stop exited = {.kind = RSP_STOP_EXITED, .exit_status = 3};
	struct rsp_stop killed = {.kind = RSP_STOP_TERMINATED,
				  .signal = RSP_SIG_KILL};

	pkt(h, "c");
	expect_none(h);
	mock_stop(&h->m, &exited);
	expect_pkt(h, "W03");
	ask(h, "?", "W03");
	ask(h, "qThreadStopInfo1", "W03");
	pkt(h, "c");
	mock_stop(&h->m, &killed);
	expect_pkt(h, "X09");
	ask(h, "?", "X09");
}

static void test_stop_reasons(void **state)
{
	struct harness *h = *state;
	char want[512];

	/* Without swbreak+/hwbreak+ the keys stay out. */
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_SWBREAK, 0);
	expect_pkt(h, stop_t(h, 5, 2));

	ask(h, "qSupported:swbreak+;hwbreak+", supported);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_SWBREAK, 0);
	snprintf(want, sizeof(want), "%sswbreak:;", stop_t(h, 5, 2));
	expect_pkt(h, want);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_HWBREAK, 0);
	snprintf(want, sizeof(want), "%shwbreak:;", stop_t(h, 5, 1));
	expect_pkt(h, want);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_WATCH, 0x2810);
	snprintf(want, sizeof(want), "%swatch:2810;", stop_t(h, 5, 1));
	expect_pkt(h, want);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_RWATCH, 0x3000);
	snprintf(want, sizeof(want), "%srwatch:3000;", stop_t(h, 5, 2));
	expect_pkt(h, want);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_AWATCH, 0xffffffffffff0000);
	snprintf(want, sizeof(want), "%sawatch:ffffffffffff0000;",
		 stop_t(h, 5, 2));
	expect_pkt(h, want);
	expect_none(h);
	/* A new qSupported forgets the old features. */
	ask(h, "qSupported", supported);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_SWBREAK, 0);
	expect_pkt(h, stop_t(h, 5, 2));
}

static void test_stop_with_bad_thread(void **state)
{
	struct harness *h = *state;

	/* A target bug must not become a bad thread id on the wire. */
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 9, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
}

/*
 * Registers
 */

static char *regs_hex(struct harness *h, unsigned tid)
{
	static char buf[256];
	static const unsigned sizes[MOCK_NR_REGS] = {8, 8, 8, 4, 16};
	size_t o = 0;

	for (unsigned r = 0; r < MOCK_NR_REGS; r++) {
		hex_of(buf + o, h->m.regs[tid - 1][r], sizes[r]);
		o += 2 * sizes[r];
	}
	return buf;
}

static void test_g_and_G(void **state)
{
	struct harness *h = *state;
	char want[256], g[300];
	unsigned i;

	ask(h, "g", regs_hex(h, 1));
	/* G writes every register from the same layout. */
	for (i = 0; i < 88; i++)
		g[1 + i] = "0123456789abcdef"[(i * 5 + 3) % 16];
	g[0] = 'G';
	g[89] = 0;
	ask(h, g, "OK");
	expect_log(h, "write_reg 1 0\nwrite_reg 1 1\nwrite_reg 1 2\n"
		      "write_reg 1 3\nwrite_reg 1 4\n");
	ask(h, "g", g + 1);
	/* Thread 2 untouched. */
	snprintf(want, sizeof(want), "%s", regs_hex(h, 2));
	ask(h, "Hg2", "OK");
	ask(h, "g", want);
	/* Data that does not end on a register boundary, odd or bad hex:
	 * nothing is written. */
	ask(h, "G00", "E01");
	ask(h, "G0", "E01");
	ask(h, "Gzz", "E01");
	g[89 + 0] = '0';
	g[90] = '0';
	g[91] = 0;
	ask(h, g, "E01");
	ASSERT_STR(h->m.log, "");
	/* A prefix that covers whole registers writes just those. */
	ask(h, "G00112233445566778899aabbccddeeff", "OK");
	expect_log(h, "write_reg 2 0\nwrite_reg 2 1\n");
	ASSERT_EQ(mock_reg(&h->m, 2, 1), 0xffeeddccbbaa9988ULL);
	ask(h, "g;", "E01");
}

static void test_g_unavailable_registers(void **state)
{
	struct harness *h = *state;
	char want[256];

	h->m.read_reg_ret = -EIO;
	memset(want, 'x', 88);
	want[88] = 0;
	ask(h, "g", want);
	ask(h, "p2", "E05");
}

static void test_Hg_selects_thread(void **state)
{
	struct harness *h = *state;
	char want[256];

	ask(h, "Hg2", "OK");
	snprintf(want, sizeof(want), "%s", regs_hex(h, 2));
	ask(h, "g", want);
	ask(h, "qC", "QC2");
	/* Thread ids that do not exist, and nonsense. */
	ask(h, "Hg3", "E01");
	ask(h, "Hg", "E01");
	ask(h, "Hgzz", "E01");
	ask(h, "Hx1", "E01");
	ask(h, "H", "E01");
	ask(h, "Hg10000000000000000", "E01");
	ask(h, "qC", "QC2");
	/* 0 and -1: back to the thread of the last stop. */
	ask(h, "Hg0", "OK");
	ask(h, "qC", "QC1");
	ask(h, "Hg2", "OK");
	ask(h, "Hg-1", "OK");
	ask(h, "g", regs_hex(h, 1));
	/* The multiprocess form is understood too. */
	ask(h, "Hgp1.2", "OK");
	ask(h, "qC", "QC2");
}

static void test_stop_resets_general_thread(void **state)
{
	struct harness *h = *state;

	/* gdb records a stop reply's thread as the stub's general thread. */
	ask(h, "Hg2", "OK");
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	ask(h, "qC", "QC1");
	ask(h, "g", regs_hex(h, 1));
	/* '?' does not: gdb keeps its own idea across it. */
	ask(h, "Hg2", "OK");
	ask(h, "?", stop_t(h, 5, 1));
	ask(h, "qC", "QC2");
}

static void test_p_and_P(void **state)
{
	struct harness *h = *state;
	char want[64];

	hex_of(want, h->m.regs[0][MOCK_REG_PC], 8);
	ask(h, "p2", want);
	hex_of(want, h->m.regs[0][4], 16);
	ask(h, "p4", want);
	hex_of(want, h->m.regs[0][3], 4);
	ask(h, "p03", want);
	ask(h, "p5", "E01");
	ask(h, "pffffffffffffffff", "E01");
	ask(h, "p", "E01");
	ask(h, "pzz", "E01");
	ask(h, "p2,", "E01");

	ask(h, "P2=0010000000000000", "OK");
	expect_log(h, "write_reg 1 2\n");
	ASSERT_EQ(mock_reg(&h->m, 1, MOCK_REG_PC), 0x1000);
	ask(h, "P3=11223344", "OK");
	ASSERT_EQ(mock_reg(&h->m, 1, 3), 0x44332211);
	mock_clear_log(&h->m);
	/* Wrong length, bad register, bad syntax: nothing written. */
	ask(h, "P3=112233", "E01");
	ask(h, "P3=1122334455", "E01");
	ask(h, "P9=00", "E01");
	ask(h, "P3", "E01");
	ask(h, "P=00", "E01");
	ask(h, "P3=zz223344", "E01");
	ASSERT_STR(h->m.log, "");
}

static void test_lldb_thread_suffix(void **state)
{
	struct harness *h = *state;
	char want[256];

	ask(h, "QThreadSuffixSupported", "OK");
	snprintf(want, sizeof(want), "%s", regs_hex(h, 2));
	ask(h, "g;thread:2;", want);
	ask(h, "g;thread:0002;", want);
	/* The suffix does not change the Hg thread. */
	ask(h, "g", regs_hex(h, 1));
	hex_of(want, h->m.regs[1][MOCK_REG_SP], 8);
	ask(h, "p1;thread:2;", want);
	ask(h, "P1=0800000000000000;thread:2;", "OK");
	expect_log(h, "write_reg 2 1\n");
	ASSERT_EQ(mock_reg(&h->m, 2, 1), 8);
	ASSERT_EQ(mock_reg(&h->m, 1, 1), 0x3ff0);
	snprintf(want, sizeof(want), "G%s;thread:2;", regs_hex(h, 1));
	ask(h, want, "OK");
	ask(h, "g;thread:2;", regs_hex(h, 1));
	/* No such thread. */
	ask(h, "g;thread:9;", "E01");
	ask(h, "p1;thread:zz;", "E01");
	ask(h, "p1;thread:", "E01");
}

/*
 * Memory
 */

static void test_m_read(void **state)
{
	struct harness *h = *state;
	char want[4096];

	hex_of(want, h->m.mem, 4);
	ask(h, "m1000,4", want);
	hex_of(want, h->m.mem + 0xff0, 16);
	ask(h, "m1ff0,10", want);
	/* Across the hole: what was read. */
	hex_of(want, h->m.mem + 0xff8, 8);
	ask(h, "m1ff8,100", want);
	/* Nothing readable. */
	ask(h, "m2000,4", "E14");
	ask(h, "m0,1", "E14");
	ask(h, "mffffffffffffffff,10", "E14");
	/* Malformed. */
	ask(h, "m1000", "E01");
	ask(h, "m1000,", "E01");
	ask(h, "m,4", "E01");
	ask(h, "m1000,zz", "E01");
	ask(h, "m1000,4,5", "E01");
	ask(h, "m10000000000000000,1", "E01");
	ask(h, "m", "E01");
	/* Zero length: nothing to say. */
	ask(h, "m1000,0", "");
	/* Reads go through the Hg thread. */
	ask(h, "Hg2", "OK");
	hex_of(want, h->m.mem, 2);
	ask(h, "m1000,2", want);
}

static void test_m_clamped_to_packet_size(void **state)
{
	struct harness *h = *state;
	char want[4096];

	h_open(h, 512, 2, false);
	noack(h);
	/* 256 bytes are 512 hex digits: a full packet. */
	hex_of(want, h->m.mem + 0x10, 256);
	ask(h, "m1010,1000", want);
	ask(h, "m1010,ffffffffffffffff", want);
}

static void test_rle_on_the_wire(void **state)
{
	struct harness *h = *state;

	memset(h->m.mem, 0, 8);
	pkt(h, "m1000,8");
	/* 16 '0's: one, then '*' and ',' (44 - 29 = 15 more). */
	expect_wire(h, "$0*,#86");
}

static void test_M_write(void **state)
{
	struct harness *h = *state;
	static const uint8_t want[] = {0xde, 0xad, 0xbe, 0xef};

	ask(h, "M2810,4:deadbeef", "OK");
	expect_log(h, "write_mem 1 2810 4\n");
	ASSERT_BYTES(h->m.mem + 0x1810, 4, want, 4);
	/* Length and data disagree, bad hex, unmapped, straddling. */
	ask(h, "M2810,4:dead", "E01");
	ask(h, "M2810,2:deadbeef", "E01");
	ask(h, "M2810,2:dxad", "E01");
	ask(h, "M2810,2", "E01");
	ask(h, "M2810:dead", "E01");
	ask(h, "M2000,1:00", "E14");
	ask(h, "M1fff,2:0000", "E14");
	ask(h, "Mffffffffffffffff,2:0000", "E14");
	ASSERT_STR(h->m.log, "");
	/* A zero-length write is a probe: OK without touching the target. */
	ask(h, "M2810,0:", "OK");
	ASSERT_STR(h->m.log, "");
}

static void test_X_binary_write(void **state)
{
	struct harness *h = *state;
	/* '$', '#', '}' and '*' travel escaped; 0x03 and NUL raw. */
	static const uint8_t pkt_bytes[] = "X2820,8:a}\x04}\x03}]}\x0a\x03\0z";
	static const uint8_t want[] = {'a', '$', '#', '}', '*', 3, 0, 'z'};

	pktn(h, pkt_bytes, sizeof(pkt_bytes) - 1);
	expect_pkt(h, "OK");
	expect_log(h, "write_mem 1 2820 8\n");
	ASSERT_BYTES(h->m.mem + 0x1820, 8, want, 8);
	/* Length mismatch, lone escape, unmapped: nothing written. */
	ask(h, "X2820,5:ab", "E01");
	ask(h, "X2820,1:}", "E01");
	ask(h, "X2820,1", "E01");
	ask(h, "X2000,1:a", "E14");
	ASSERT_STR(h->m.log, "");
	/* gdb's probe. */
	ask(h, "X2820,0:", "OK");
	ASSERT_STR(h->m.log, "");
}

static void set_mem(struct harness *h, uint64_t addr, const char *bytes)
{
	memcpy(h->m.mem + (addr - MOCK_MEM_BASE), bytes, strlen(bytes));
}

static void test_x_lldb_mode(void **state)
{
	struct harness *h = *state;

	/* lldb shows itself, then probes. */
	ask(h, "QThreadSuffixSupported", "OK");
	ask(h, "x0,0", "OK");
	set_mem(h, 0x1000, "ab$#*}cd");
	ask(h, "x1000,8", "ab$#*}cd");
	pkt(h, "x1ffe,10");
	expect_pktn(h, h->m.mem + 0xffe, 2);
	ask(h, "x2000,4", "E14");
	ask(h, "x1000", "E01");
	/* Raw memory lldb would take for a control reply: shortened. */
	set_mem(h, 0x1100, "OKE01E02;abE0g+-");
	ask(h, "x1100,2", "O");
	ask(h, "x1102,3", "E");
	ask(h, "x1105,6", "E");
	ask(h, "x1105,4", "E");
	ask(h, "x110b,3", "E0g");
	/* A lone '+' or '-' takes one more byte. */
	ask(h, "x110e,1", "+-");
	set_mem(h, 0x1fff, "-");
	ask(h, "x1fff,1", "E14");
	ask(h, "x1fff,4", "E14");
}

static void test_x_gdb16_mode(void **state)
{
	struct harness *h = *state;
	char want[64];

	/* gdb 16 uses 'x' because the stub says binary-upload+; it need not
	 * say so itself. Whatever is not lldb gets the 'b'. */
	ask(h, "qSupported:multiprocess+;swbreak+;hwbreak+", supported);
	set_mem(h, 0x1100, "OK$}");
	ask(h, "x1100,4", "bOK$}");
	/* A client that asks for the 'b' gets it, lldb or not. */
	ask(h, "QThreadSuffixSupported", "OK");
	ask(h, "x1100,4", "OK$}");
	ask(h, "qSupported:binary-upload+", supported);
	ask(h, "x1100,4", "bOK$}");
	set_mem(h, 0x1100, "+");
	ask(h, "x1100,1", "b+");
	ask(h, "x2000,4", "E14");
	want[0] = 'b';
	memcpy(want + 1, h->m.mem + 0xff8, 8);
	pkt(h, "x1ff8,10");
	expect_pktn(h, want, 9);
	ask(h, "x0,0", "OK");
}

static void test_x_clamped_to_packet_size(void **state)
{
	struct harness *h = *state;
	uint8_t buf[1024];
	size_t n;

	h_open(h, 512, 2, false);
	noack(h);
	/* Every byte needs escaping: 256 fit in 512 wire bytes (lldb). */
	memset(h->m.mem, '}', 1024);
	ask(h, "QListThreadsInStopReply", "OK");
	pkt(h, "x1000,400");
	n = pop(h, buf, sizeof(buf));
	ASSERT_EQ(n, 256);
	ask(h, "qSupported:binary-upload+",
	    "PacketSize=200;"
	    "qXfer:features:read+;qXfer:threads:read+;"
	    "qXfer:exec-file:read+;QStartNoAckMode+;swbreak+;hwbreak+;"
	    "vContSupported+;binary-upload+;QThreadSuffixSupported+;"
	    "QListThreadsInStopReply+");
	pkt(h, "x1000,400");
	n = pop(h, buf, sizeof(buf));
	/* The 'b' takes one byte: 255 escaped bytes (510) fit in 511. */
	ASSERT_EQ(n, 256);
	ASSERT_EQ(buf[0], 'b');
}

/*
 * Execution
 */

static void test_continue_and_stop(void **state)
{
	struct harness *h = *state;

	pkt(h, "c");
	expect_none(h);
	expect_log(h, "resume 1:c 2:c\n");
	ASSERT_EQ(rsp_session_target_running(h->s), true);
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	expect_none(h);
	ASSERT_EQ(rsp_session_target_running(h->s), false);
	/* A spurious second stop is remembered, not sent. */
	mock_stop_signal(&h->m, 11, 1, RSP_REASON_NONE, 0);
	expect_none(h);
	ask(h, "?", stop_t(h, 11, 1));
}

static void test_legacy_resume_forms(void **state)
{
	struct harness *h = *state;

	/* s steps the current thread, the others continue. */
	pkt(h, "s");
	expect_log(h, "resume 1:s 2:c\n");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	/* With Hc naming a thread, only that thread moves. */
	ask(h, "Hc2", "OK");
	pkt(h, "s");
	expect_log(h, "resume 1:- 2:s\n");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	pkt(h, "C0b");
	expect_log(h, "resume 1:- 2:c/11\n");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	/* Resume at an address: the pc is written first. */
	pkt(h, "S05;1234");
	expect_log(h, "write_reg 2 2\nresume 1:- 2:s/5\n");
	ASSERT_EQ(mock_reg(&h->m, 2, MOCK_REG_PC), 0x1234);
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	ask(h, "Hc-1", "OK");
	pkt(h, "c2000");
	expect_log(h, "write_reg 2 2\nresume 1:c 2:c\n");
	ASSERT_EQ(mock_reg(&h->m, 2, MOCK_REG_PC), 0x2000);
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	ask(h, "Hc0", "OK");
	pkt(h, "C05");
	expect_log(h, "resume 1:c/5 2:c\n");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	/* Malformed: nothing runs. */
	ask(h, "Czz", "E01");
	ask(h, "C100", "E01");
	ask(h, "C05;", "E01");
	ask(h, "S05;xyz", "E01");
	ask(h, "cxyz", "E01");
	ask(h, "Hc3", "E01");
	ASSERT_STR(h->m.log, "");
	ASSERT_EQ(rsp_session_target_running(h->s), false);
}

static void test_resume_failure(void **state)
{
	struct harness *h = *state;

	h->m.resume_ret = -EBUSY;
	ask(h, "c", "E16");
	ask(h, "vCont;c", "E16");
	ASSERT_EQ(rsp_session_target_running(h->s), false);
	h->m.resume_ret = -EOPNOTSUPP;
	ask(h, "s", "");
}

static void test_vcont_query(void **state)
{
	struct harness *h = *state;

	ask(h, "vCont?", "vCont;c;C;s;S;t");
	h->m.range_step = true;
	ask(h, "vCont?", "vCont;c;C;s;S;t;r");
}

static void test_vcont_actions(void **state)
{
	struct harness *h = *state;

	h_open(h, 0, 3, false);
	noack(h);
	/* gdb's "step this thread, let the others run". */
	pkt(h, "vCont;s:2;c");
	expect_none(h);
	expect_log(h, "resume 1:c 2:s 3:c\n");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	/* Only the named thread moves. */
	pkt(h, "vCont;c:1");
	expect_log(h, "resume 1:c 2:- 3:-\n");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	/* Leftmost wins; lldb's zero-padded ids; signals. */
	pkt(h, "vCont;s:0001;c:0001;C0b:3;c");
	expect_log(h, "resume 1:s 2:c 3:c/11\n");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	pkt(h, "vCont;S05:p1.2;t");
	expect_log(h, "resume 1:- 2:s/5 3:-\n");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	/* -1 names every thread; 0 the current one. */
	pkt(h, "vCont;s:0;c:-1");
	expect_log(h, "resume 1:c 2:s 3:c\n");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
}

static void test_vcont_t_alone(void **state)
{
	struct harness *h = *state;

	/* Nothing would run, so nothing would ever stop: report at once. */
	ask(h, "vCont;t", stop_t(h, 0, 1));
	ask(h, "vCont;t:1;t:2", stop_t(h, 0, 1));
	ASSERT_STR(h->m.log, "");
	ASSERT_EQ(rsp_session_target_running(h->s), false);
}

static void test_conditional_breakpoints(void **state)
{
	struct harness *h = *state;
	char want[512];

	/* Advertised only when the target evaluates conditions. */
	ask(h, "qSupported:swbreak+", supported);
	h->m.conditions = true;
	snprintf(want, sizeof(want), "%.*sConditionalBreakpoints+;%s",
		 (int)(strstr(supported, "QStartNoAckMode+") - supported),
		 supported, strstr(supported, "QStartNoAckMode+"));
	ask(h, "qSupported:swbreak+", want);
	/* gdb 13's form: one ';', the expressions back to back. The list
	 * reaches the target raw, from its ';' on. */
	ask(h, "Z0,1080c2,1;X3,220527X2,2227", "OK");
	expect_log(h, "insert 0 1080c2 1 ;X3,220527X2,2227\n");
}

static void test_vcont_range_step(void **state)
{
	struct harness *h = *state;

	/* Without target support 'r' degrades to a single step. */
	pkt(h, "vCont;r1000,1010:1;c");
	expect_log(h, "resume 1:s 2:c\n");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	h->m.range_step = true;
	pkt(h, "vCont;r1000,1010:1;c");
	expect_log(h, "resume 1:r[1000,1010) 2:c\n");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
}

static void test_vcont_malformed(void **state)
{
	struct harness *h = *state;
	static const char *const bad[] = {
	    "vCont",	   "vCont;",	 "vCont;x",	"vCont;c;",
	    "vCont;;c",	   "vCont;c:9",	 "vCont;c:",	"vCont;C",
	    "vCont;Czz",   "vCont;C100", "vCont;cc",	"vCont;s1",
	    "vCont;r10",   "vCont;r10,", "vCont;r,10",	"vCont;c:zz",
	    "vCont;t:1;x", "vCont c",	 "vCont;c:1:2",
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ask(h, bad[i], strcmp(bad[i], "vCont c") ? "E01" : "");
	ASSERT_STR(h->m.log, "");
	ASSERT_EQ(rsp_session_target_running(h->s), false);
}

static void test_interrupt_while_running(void **state)
{
	struct harness *h = *state;

	pkt(h, "vCont;c");
	expect_log(h, "resume 1:c 2:c\n");
	feed(h, "\x03");
	expect_none(h);
	expect_log(h, "interrupt\n");
	mock_stop_signal(&h->m, RSP_SIG_INT, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 2, 2));
	expect_none(h);
}

static void test_vctrlc(void **state)
{
	struct harness *h = *state;

	/* Stopped: nothing to do. */
	ask(h, "vCtrlC", "OK");
	ASSERT_STR(h->m.log, "");
	pkt(h, "c");
	mock_clear_log(&h->m);
	/* Running: OK at once, the stop reply later. */
	pkt(h, "vCtrlC");
	expect_pkt(h, "OK");
	expect_none(h);
	expect_log(h, "interrupt\n");
	mock_stop_signal(&h->m, RSP_SIG_INT, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 2, 1));
	expect_none(h);
}

static void test_packets_held_while_running(void **state)
{
	struct harness *h = *state;
	char want[64];

	pkt(h, "c");
	mock_clear_log(&h->m);
	/* Neither answered nor dropped while the target runs... */
	pkt(h, "?");
	pkt(h, "m1000,2");
	pkt(h, "c");
	pkt(h, "qC");
	expect_none(h);
	ASSERT_STR(h->m.log, "");
	/* ...but after the stop reply, in order, until one resumes. */
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	expect_pkt(h, stop_t(h, 5, 2));
	hex_of(want, h->m.mem, 2);
	expect_pkt(h, want);
	expect_none(h);
	expect_log(h, "resume 1:c 2:c\n");
	ASSERT_EQ(rsp_session_target_running(h->s), true);
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	expect_pkt(h, "QC1");
	expect_none(h);
}

static void test_held_packets_in_ack_mode(void **state)
{
	struct harness *h = *state;

	feed(h, "$c#63");
	expect_wire(h, "+");
	/* Acks go out on arrival; replies wait. */
	feed(h, "$qC#b4");
	expect_wire(h, "+");
	feed(h, "$qC#00");
	expect_wire(h, "-");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	expect_pkt(h, "QC2");
	expect_none(h);
}

static void test_held_queue_overflow(void **state)
{
	struct harness *h = *state;
	unsigned i;

	pkt(h, "c");
	for (i = 0; i < 70; i++)
		pkt(h, "qC");
	expect_none(h);
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	/* Every packet is answered, those beyond the bound with ENOMEM. */
	for (i = 0; i < 64; i++)
		expect_pkt(h, "QC1");
	for (; i < 70; i++)
		expect_pkt(h, "E12");
	expect_none(h);
	ask(h, "qC", "QC1");
}

static void test_oversized_packet_while_running(void **state)
{
	struct harness *h = *state;
	char big[600];

	h_open(h, 512, 2, false);
	noack(h);
	pkt(h, "c");
	memset(big, 'm', sizeof(big));
	pktn(h, big, sizeof(big));
	pkt(h, "qC");
	expect_none(h);
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 1));
	expect_pkt(h, "E90");
	expect_pkt(h, "QC1");
	expect_none(h);
}

static void test_stop_reported_inside_resume(void **state)
{
	struct harness *h = *state;

	/* A target that reports at once is still answered in order. */
	h->m.stop_inside_resume = true;
	pkt(h, "c");
	pkt(h, "qC");
	expect_pkt(h, stop_t(h, 5, 1));
	expect_pkt(h, "QC1");
	expect_none(h);
	h->m.stop_inside_resume = false;
	pkt(h, "c");
	h->m.stop_inside_interrupt = true;
	feed(h, "\x03$qC#b4");
	expect_pkt(h, stop_t(h, 2, 1));
	expect_pkt(h, "QC1");
	expect_none(h);
}

static void test_T_thread_alive(void **state)
{
	struct harness *h = *state;

	ask(h, "T1", "OK");
	ask(h, "T2", "OK");
	ask(h, "T3", "E01");
	ask(h, "T0", "E01");
	ask(h, "T-1", "E01");
	ask(h, "T", "E01");
	ask(h, "Tx", "E01");
}

/*
 * Queries
 */

static void test_thread_queries(void **state)
{
	struct harness *h = *state;
	char want[512];

	ask(h, "qC", "QC1");
	ask(h, "qfThreadInfo", "m1,2");
	ask(h, "qsThreadInfo", "l");
	ask(h, "qsThreadInfo", "l");
	ask(h, "qThreadExtraInfo,1", "68616c746564"); /* "halted" */
	hex_of(want, "idle <&> \"2\"", 12);
	ask(h, "qThreadExtraInfo,2", want);
	ask(h, "qThreadExtraInfo,3", "E01");
	ask(h, "qThreadExtraInfo", "E01");
	ask(h, "qThreadExtraInfo,", "E01");

	h_open(h, 512, 8, false);
	noack(h);
	ask(h, "qfThreadInfo", "m1,2,3,4,5,6,7,8");
	ask(h, "qsThreadInfo", "l");
	ask(h, "qCx", "");
}

static void test_thread_stop_info(void **state)
{
	struct harness *h = *state;
	char want[512];

	ask(h, "qSupported:swbreak+", supported);
	pkt(h, "c");
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_SWBREAK, 0);
	snprintf(want, sizeof(want), "%sswbreak:;", stop_t(h, 5, 2));
	expect_pkt(h, want);
	ask(h, "qThreadStopInfo2", want);
	/* A thread that only stopped along: signal 0, no reason. */
	ask(h, "qThreadStopInfo1", stop_t(h, 0, 1));
	ask(h, "qThreadStopInfo3", "E01");
	ask(h, "qThreadStopInfo", "E01");
}

static void test_qxfer_features(void **state)
{
	struct harness *h = *state;
	const char *doc = mock_target_ops.features_xml(&h->m, "target.xml");
	size_t len = strlen(doc);
	char want[4096], q[128];

	/* All at once. */
	snprintf(want, sizeof(want), "l%s", doc);
	ask(h, "qXfer:features:read:target.xml:0,ffff", want);
	/* In chunks, as gdb reads with small lengths. */
	snprintf(want, sizeof(want), "m%.16s", doc);
	ask(h, "qXfer:features:read:target.xml:0,10", want);
	snprintf(want, sizeof(want), "m%.16s", doc + 0x10);
	ask(h, "qXfer:features:read:target.xml:10,10", want);
	snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,10",
		 len - 5);
	snprintf(want, sizeof(want), "l%s", doc + len - 5);
	ask(h, q, want);
	/* Exactly at the end, and beyond it. */
	snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,10", len);
	ask(h, q, "l");
	ask(h, "qXfer:features:read:target.xml:ffffffffffffffff,10", "l");
	/* Unknown annex, malformed requests, writes, unknown objects. */
	ask(h, "qXfer:features:read:nosuch.xml:0,10", "E00");
	ask(h, "qXfer:features:read:target.xml:0", "E00");
	ask(h, "qXfer:features:read:target.xml:0,", "E00");
	ask(h, "qXfer:features:read:target.xml:zz,10", "E00");
	ask(h, "qXfer:features:read:target.xml:0,0", "E00");
	ask(h, "qXfer:features:read:target.xml", "E00");
	ask(h, "qXfer:features:read", "");
	ask(h, "qXfer:features:write:target.xml:0:abc", "");
	ask(h, "qXfer:auxv:read::0,10", "");
	ask(h, "qXfer:libraries:read::0,10", "");
	ask(h, "qXfer", "");
}

static void test_qxfer_chunks_fit_packet_size(void **state)
{
	struct harness *h = *state;
	const char *doc;
	size_t len, off = 0, n;
	uint8_t buf[1024];
	char q[128];
	unsigned rounds = 0;

	h_open(h, 512, 2, false);
	noack(h);
	doc = mock_target_ops.features_xml(&h->m, "big.xml");
	len = strlen(doc);
	/* pop() checks every wire payload against the packet size. */
	for (;;) {
		snprintf(q, sizeof(q), "qXfer:features:read:big.xml:%zx,1000",
			 off);
		pkt(h, q);
		n = pop(h, buf, sizeof(buf));
		assert_true(n >= 1);
		assert_true(off + n - 1 <= len);
		ASSERT_BYTES(buf + 1, n - 1, doc + off, n - 1);
		off += n - 1;
		assert_true(++rounds < 100);
		if (buf[0] == 'l')
			break;
		ASSERT_EQ(buf[0], 'm');
		assert_true(n > 1);
	}
	ASSERT_EQ(off, len);
	expect_none(h);
}

static void test_qxfer_threads(void **state)
{
	struct harness *h = *state;

	ask(h, "qXfer:threads:read::0,fff",
	    "l<?xml version=\"1.0\"?>\n<threads>\n"
	    "<thread id=\"1\" core=\"0\" name=\"vCPU 0\">halted</thread>\n"
	    "<thread id=\"2\" core=\"1\" name=\"vCPU 1\">"
	    "idle &lt;&amp;&gt; &quot;2&quot;</thread>\n"
	    "</threads>\n");
	ask(h, "qXfer:threads:read::0,5", "m<?xml");
	ask(h, "qXfer:threads:read:x:0,5", "E00");
}

static void test_qxfer_exec_file(void **state)
{
	struct harness *h = *state;

	ask(h, "qXfer:exec-file:read::0,fff", "l/images/guest.elf");
	ask(h, "qXfer:exec-file:read:1:0,7", "m/images");
	ask(h, "qXfer:exec-file:read:1:7,7", "m/guest.");
	ask(h, "qXfer:exec-file:read:1:e,7", "lelf");
	/* Unknown path: not advertised, and an error if asked anyway. */
	h->m.exec_path = NULL;
	ask(h, "qSupported",
	    "PacketSize=40000;qXfer:features:read+;qXfer:threads:read+;"
	    "QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+;"
	    "binary-upload+;QThreadSuffixSupported+;"
	    "QListThreadsInStopReply+");
	ask(h, "qXfer:exec-file:read::0,fff", "E00");
	h->m.no_features_xml = true;
	ask(h, "qSupported",
	    "PacketSize=40000;qXfer:threads:read+;"
	    "QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+;"
	    "binary-upload+;QThreadSuffixSupported+;"
	    "QListThreadsInStopReply+");
}

static void test_qxfer_annex_limits(void **state)
{
	struct harness *h = *state;
	char q[512];

	memset(q, 0, sizeof(q));
	strcpy(q, "qXfer:features:read:");
	memset(q + strlen(q), 'a', 200);
	strcat(q, ":0,10");
	ask(h, q, "E00");
	static const char nul[] = "qXfer:features:read:tar\0et.xml:0,10";

	pktn(h, nul, sizeof(nul) - 1);
	expect_pkt(h, "E00");
}

static void test_simple_queries(void **state)
{
	struct harness *h = *state;
	static const char *const empty[] = {
	    "qTStatus",
	    "vMustReplyEmpty",
	    "qFoo",
	    "!",
	    "jThreadsInfo",
	    "qGetWorkingDir",
	    "qQueryGDBServer",
	    "qShlibInfoAddr",
	    "qVAttachOrWaitSupported",
	    "qStructuredDataPlugins",
	    "jGetLoadedDynamicLibrariesInfos:{}",
	    "qfProcessInfo",
	    "qsProcessInfo",
	    "qTfV",
	    "vFile:setfs:0",
	    "vFoo",
	    "QFoo",
	    "QPassSignals:0e",
	    "qL1200000000000000000",
	    "R00",
	    "A",
	    "qSupportsDetachAndStayStopped:",
	    "_M1000,rwx",
	    "\x7f",
	    "qCRC:1000,10",
	    "qSearch:memory:1000,10;aa",
	    "QNonStop:0",
	};
	unsigned i;

	ask(h, "qAttached", "1");
	ask(h, "qAttached:1", "1");
	ask(h, "qOffsets", "Text=0;Data=0;Bss=0");
	ask(h, "qSymbol::", "OK");
	ask(h, "qSymbol:6d61696e", "OK");
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		ask(h, empty[i], "");
	ASSERT_STR(h->m.log, "");
	ask(h, "?x", "E01");
}

static void test_lldb_info_packets(void **state)
{
	struct harness *h = *state;
	char triple[64];

	hex_of(triple, "x86_64-unknown-none", 19);
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "triple:%s;ptrsize:8;endian:little;", triple);
		ask(h, "qHostInfo", want);
		snprintf(want, sizeof(want),
			 "pid:1;triple:%s;ptrsize:8;endian:little;", triple);
		ask(h, "qProcessInfo", want);
		h->m.big_endian = true;
		snprintf(want, sizeof(want), "triple:%s;ptrsize:8;endian:big;",
			 triple);
		ask(h, "qHostInfo", want);
	}
	ask(h, "qWatchpointSupportInfo:", "num:4;");
	ask(h, "qWatchpointSupportInfo", "num:4;");
	ask(h, "qRegisterInfo0", "");
	ask(h, "QEnableErrorStrings", "OK");
	ask(h, "QThreadSuffixSupported", "OK");
}

static void test_lldb_threads_in_stop_reply(void **state)
{
	struct harness *h = *state;
	char want[512];

	ask(h, "QListThreadsInStopReply", "OK");
	mock_set_reg(&h->m, 2, MOCK_REG_PC, 0xffffffff81000000ULL);
	snprintf(want, sizeof(want),
		 "%sthreads:1,2;thread-pcs:1000,ffffffff81000000;",
		 stop_t(h, 5, 1));
	ask(h, "?", want);
	/* thread-pcs are numbers: big-endian targets read differently. */
	h->m.big_endian = true;
	snprintf(want, sizeof(want),
		 "%sthreads:1,2;thread-pcs:10000000000000,"
		 "81ffffffff;",
		 stop_t(h, 5, 1));
	ask(h, "?", want);
	/* A pc that cannot be read drops the list, not the reply. */
	h->m.big_endian = false;
	h->m.read_reg_ret = -EIO;
	ask(h, "?", "T05thread:1;threads:1,2;");
}

static void test_memory_region_info(void **state)
{
	struct harness *h = *state;

	ask(h, "qMemoryRegionInfo:1000",
	    "start:1000;size:1000;permissions:rx;");
	ask(h, "qMemoryRegionInfo:1fff",
	    "start:1000;size:1000;permissions:rx;");
	ask(h, "qMemoryRegionInfo:2400", "start:2000;size:800;");
	ask(h, "qMemoryRegionInfo:3000",
	    "start:2800;size:1800;permissions:rw;");
	ask(h, "qMemoryRegionInfo:0", "start:0;size:1000;");
	/* The last region ends at UINT64_MAX, lldb's end of the walk, not
	 * at 2^64 (which would wrap to 0 and start the walk again). */
	ask(h, "qMemoryRegionInfo:5000", "start:4000;size:ffffffffffffbfff;");
	ask(h, "qMemoryRegionInfo:fffffffffffffffe",
	    "start:4000;size:ffffffffffffbfff;");
	ask(h, "qMemoryRegionInfo:ffffffffffffffff", "E01");
	ask(h, "qMemoryRegionInfo:", "E01");
	ask(h, "qMemoryRegionInfo", "E01");
	ask(h, "qMemoryRegionInfo:zz", "E01");
}

static void test_breakpoints(void **state)
{
	struct harness *h = *state;

	ask(h, "Z0,1000,1", "OK");
	ask(h, "z0,1000,1", "OK");
	ask(h, "Z1,ffffffff81000000,1", "OK");
	ask(h, "z1,ffffffff81000000,1", "OK");
	ask(h, "Z2,2810,8", "OK");
	ask(h, "Z3,2810,4", "OK");
	ask(h, "Z4,2810,2", "OK");
	ask(h, "z4,2810,2", "OK");
	ask(h, "Z0,1000,1;X2,0a01;cmds:0,X1,0a", "OK");
	expect_log(h, "insert 0 1000 1\nremove 0 1000 1\n"
		      "insert 1 ffffffff81000000 1\n"
		      "remove 1 ffffffff81000000 1\n"
		      "insert 2 2810 8\ninsert 3 2810 4\ninsert 4 2810 2\n"
		      "remove 4 2810 2\n"
		      "insert 0 1000 1 ;X2,0a01;cmds:0,X1,0a\n");
	/* Unknown types are unsupported; malformed is an error. */
	ask(h, "Z5,1000,1", "");
	ask(h, "Z0,1000", "E01");
	ask(h, "Z0,1000,", "E01");
	ask(h, "Z0", "E01");
	ask(h, "Zx,1000,1", "E01");
	ask(h, "z0,1000,1;X", "E01");
	ASSERT_STR(h->m.log, "");
	/* Errors from the target map onto errno replies. */
	h->m.insert_ret = -ENOSPC;
	ask(h, "Z1,1000,1", "E28");
	h->m.insert_ret = -EINVAL;
	ask(h, "Z2,1000,3", "E22");
	h->m.insert_ret = -EOPNOTSUPP;
	ask(h, "Z0,1000,1", "");
	h->m.insert_ret = -EFAULT;
	ask(h, "Z0,2000,1", "E14");
	h->m.insert_ret = -1000;
	ask(h, "Z0,2000,1", "E01");
	h->m.remove_ret = -ENOENT;
	ask(h, "z0,1000,1", "E02");
}

static void test_monitor(void **state)
{
	struct harness *h = *state;
	char q[256], want[256];

	hex_of(q + 6, "echo hello", 10);
	memcpy(q, "qRcmd,", 6);
	hex_of(want + 1, "hello\n", 6);
	want[0] = 'O';
	pkt(h, q);
	expect_pkt(h, want);
	expect_pkt(h, "OK");
	expect_none(h);
	expect_log(h, "monitor echo hello\n");
	/* Output, then the error. */
	hex_of(q + 6, "fail", 4);
	hex_of(want + 1, "failing\n", 8);
	pkt(h, q);
	expect_pkt(h, want);
	expect_pkt(h, "E05");
	expect_none(h);
	hex_of(q + 6, "nosuch", 6);
	ask(h, q, "");
	hex_of(q + 6, "what", 4);
	ask(h, q, "E02");
	/* Malformed hex, embedded NUL, no command at all. */
	ask(h, "qRcmd,6", "E01");
	ask(h, "qRcmd,zz", "E01");
	ask(h, "qRcmd,6100", "E01");
	ask(h, "qRcmd", "E01");
	mock_clear_log(&h->m);
	ask(h, "qRcmd,", "E02");
	expect_log(h, "monitor \n");
}

static void test_monitor_output_split(void **state)
{
	struct harness *h = *state;
	char q[64];
	uint8_t buf[1024], text[2000];
	size_t n, got = 0, i;

	h_open(h, 512, 2, false);
	noack(h);
	memcpy(q, "qRcmd,", 6);
	hex_of(q + 6, "big 1000", 8);
	pkt(h, q);
	/* 1000 bytes: O packets of 255 bytes (510 hex digits + 'O'). */
	while (got < 1000) {
		n = pop(h, buf, sizeof(buf));
		ASSERT_EQ(buf[0], 'O');
		assert_true(n <= 512);
		ASSERT_EQ(rsp_hex_decode((char *)buf + 1, n - 1, text + got,
					 sizeof(text) - got),
			  (long long)(n - 1) / 2);
		got += (n - 1) / 2;
	}
	ASSERT_EQ(got, 1000);
	for (i = 0; i < got; i++)
		ASSERT_EQ(text[i], 'a' + i % 26);
	expect_pkt(h, "OK");
	expect_none(h);
}

static void test_kill(void **state)
{
	struct harness *h = *state;

	/* gdb: no reply, then the connection ends. */
	pkt(h, "k");
	expect_none(h);
	expect_log(h, "kill\n");
	ASSERT_EQ(h->closes, 1);
	/* Nothing more is heard or said. */
	pkt(h, "?");
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	expect_none(h);
	ASSERT_EQ(h->closes, 1);
	ASSERT_STR(h->m.log, "");
}

static void test_kill_lldb(void **state)
{
	struct harness *h = *state;

	/* lldb waits for an exit status after 'k'. */
	ask(h, "QThreadSuffixSupported", "OK");
	pkt(h, "k");
	expect_pkt(h, "X09");
	expect_none(h);
	expect_log(h, "kill\n");
	ASSERT_EQ(h->closes, 1);
}

static void test_kill_in_ack_mode(void **state)
{
	struct harness *h = *state;

	feed(h, "$k#6b$?#3f");
	/* The '+' for k, then silence. */
	expect_wire(h, "+");
	ASSERT_EQ(h->closes, 1);
	ASSERT_EQ(h->m.kills, 1);
}

static void test_vkill(void **state)
{
	struct harness *h = *state;

	pkt(h, "vKill;a410");
	expect_pkt(h, "OK");
	expect_none(h);
	expect_log(h, "kill\n");
	ASSERT_EQ(h->closes, 1);

	h_open(h, 0, 2, false);
	noack(h);
	h->m.kill_ret = -EIO;
	ask(h, "vKill;1", "E05");
	ASSERT_EQ(h->closes, 0);
}

static void test_detach(void **state)
{
	struct harness *h = *state;

	ask(h, "D1", "E01");
	ask(h, "D;", "E01");
	ask(h, "D;zz", "E01");
	ASSERT_EQ(h->m.detaches, 0);
	h->m.detach_ret = -EIO;
	ask(h, "D", "E05");
	ASSERT_EQ(h->closes, 0);
	h->m.detach_ret = 0;
	pkt(h, "D;1");
	expect_pkt(h, "OK");
	expect_none(h);
	ASSERT_EQ(h->m.detaches, 2);
	ASSERT_EQ(h->closes, 1);
	pkt(h, "D");
	expect_none(h);
	ASSERT_EQ(h->closes, 1);
}

static void test_destroy_from_close(void **state)
{
	struct harness *h = *state;

	/* The transport may free the session from its close callback:
	 * the rest of the input is then never looked at. */
	h->destroy_on_close = true;
	feed(h, "$D#44$?#3f$?#3f");
	expect_pkt(h, "OK");
	expect_none(h);
	ASSERT_EQ(h->closes, 1);
	assert_null(h->s);
}

static void test_disconnected(void **state)
{
	struct harness *h = *state;

	pkt(h, "c");
	pkt(h, "qC");
	rsp_session_disconnected(h->s);
	mock_stop_signal(&h->m, 5, 1, RSP_REASON_NONE, 0);
	pkt(h, "?");
	feed(h, "-");
	expect_none(h);
	ASSERT_EQ(h->closes, 0);
}

static void test_input_from_inside_send(void **state)
{
	struct harness *h = *state;

	/* A transport that reads while it writes: the input waits for the
	 * reply being sent, then is answered in order. */
	h->feed_in_send = "$qC#b4$qfThreadInfo#bb";
	pkt(h, "?");
	expect_pkt(h, stop_t(h, 5, 1));
	expect_pkt(h, "QC1");
	expect_pkt(h, "m1,2");
	expect_none(h);
	/* The same while a stop reply goes out. */
	pkt(h, "c");
	h->feed_in_send = "$qC#b4";
	mock_stop_signal(&h->m, 5, 2, RSP_REASON_NONE, 0);
	expect_pkt(h, stop_t(h, 5, 2));
	expect_pkt(h, "QC2");
	expect_none(h);
}

static void test_disconnect_from_inside_send(void **state)
{
	struct harness *h = *state;
	uint8_t buf[1024];
	char q[64];

	/* The write failed and the transport says so at once: nothing more
	 * goes out, not the rest of the monitor output, not the OK. */
	memcpy(q, "qRcmd,", 6);
	hex_of(q + 6, "big 1000", 8);
	h_open(h, 512, 2, false);
	noack(h);
	h->disconnect_in_send = true;
	pkt(h, q);
	pop(h, buf, sizeof(buf));
	expect_none(h);
	ASSERT_EQ(h->closes, 0);
}

/* A small deterministic fuzz: random packets from the protocol's own
 * vocabulary, with stops when the target runs. It must never crash or
 * stall, and every packet must be answered. */
static void test_random_packets(void **state)
{
	struct harness *h = *state;
	static const char *const words[] = {
	    "?",
	    "g",
	    "G00",
	    "p2",
	    "P2=00",
	    "m1000,10",
	    "M1000,1:",
	    "X1000,1:",
	    "x1ff0,100",
	    "c",
	    "s",
	    "C05",
	    "S05;",
	    "vCont;",
	    "vCont;s:1;c",
	    "vCont;t",
	    "vCont?",
	    "vCtrlC",
	    "Hg",
	    "Hc-1",
	    "Hg2",
	    "T",
	    "qC",
	    "qfThreadInfo",
	    "qsThreadInfo",
	    "qXfer:threads:read::",
	    "0,",
	    "qXfer:features:read:target.xml:",
	    "qRcmd,",
	    "6563686f",
	    "Z0,",
	    "z1,",
	    "1000",
	    ",1",
	    ";",
	    ":",
	    "thread:",
	    "qThreadStopInfo",
	    "qMemoryRegionInfo:",
	    "}",
	    "*",
	    "ffffffffffffffff",
	    "-1",
	    "p1.",
	};
	static uint8_t reply[1 << 16];
	char buf[256];
	unsigned seed = 12345, i, w;

	for (i = 0; i < 3000; i++) {
		size_t len = 0;
		unsigned nwords = 1 + (seed = seed * 1103515245 + 12345) % 4;

		for (w = 0; w < nwords; w++) {
			const char *word =
			    words[((seed = seed * 1103515245 + 12345) >> 8) %
				  (sizeof(words) / sizeof(words[0]))];

			if (len + strlen(word) < sizeof(buf))
				len += (size_t)snprintf(
				    buf + len, sizeof(buf) - len, "%s", word);
		}
		if (!memcmp(buf, "k", 1) || !memcmp(buf, "D", 1) ||
		    !memcmp(buf, "vKill", 5))
			continue;
		pktn(h, buf, len);
		if (rsp_session_target_running(h->s))
			mock_stop_signal(&h->m, 5, 1 + i % 3,
					 (enum rsp_stop_reason)(i % 6), i);
		/* At least one well-formed reply per packet: the answer, or
		 * console output and the answer, or the stop reply. */
		assert_true(h->rd < h->out_len);
		while (h->rd < h->out_len)
			pop(h, reply, sizeof(reply));
	}
	ASSERT_EQ(h->closes, 0);
	ask(h, "Hg1", "OK");
	ask(h, "qC", "QC1");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TA(name) cmocka_unit_test_setup_teardown(name, setup_acks, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TA(test_ack_mode_then_noack),
	    TA(test_bad_checksum_gets_nak),
	    TA(test_nak_resends_last_reply),
	    TA(test_nak_after_noack_ok_resends_it),
	    T(test_noack_takes_bad_checksum),
	    T(test_split_input),
	    T(test_empty_packet),
	    T(test_garbage_and_truncated),
	    TA(test_oversized_packet),
	    T(test_question_initial_stop),
	    T(test_stop_before_first_packet),
	    TA(test_attach_to_running_target),
	    T(test_attach_interrupt_failure),
	    T(test_create_invalid),
	    T(test_exit_and_question),
	    T(test_stop_reasons),
	    T(test_stop_with_bad_thread),
	    T(test_g_and_G),
	    T(test_g_unavailable_registers),
	    T(test_Hg_selects_thread),
	    T(test_stop_resets_general_thread),
	    T(test_p_and_P),
	    T(test_lldb_thread_suffix),
	    T(test_m_read),
	    T(test_m_clamped_to_packet_size),
	    T(test_rle_on_the_wire),
	    T(test_M_write),
	    T(test_X_binary_write),
	    T(test_x_lldb_mode),
	    T(test_x_gdb16_mode),
	    T(test_x_clamped_to_packet_size),
	    T(test_continue_and_stop),
	    T(test_legacy_resume_forms),
	    T(test_resume_failure),
	    T(test_vcont_query),
	    T(test_vcont_actions),
	    T(test_vcont_t_alone),
	    T(test_vcont_range_step),
	    T(test_conditional_breakpoints),
	    T(test_vcont_malformed),
	    T(test_interrupt_while_running),
	    T(test_vctrlc),
	    T(test_packets_held_while_running),
	    TA(test_held_packets_in_ack_mode),
	    T(test_held_queue_overflow),
	    T(test_oversized_packet_while_running),
	    T(test_stop_reported_inside_resume),
	    T(test_T_thread_alive),
	    T(test_thread_queries),
	    T(test_thread_stop_info),
	    T(test_qxfer_features),
	    T(test_qxfer_chunks_fit_packet_size),
	    T(test_qxfer_threads),
	    T(test_qxfer_exec_file),
	    T(test_qxfer_annex_limits),
	    T(test_simple_queries),
	    T(test_lldb_info_packets),
	    T(test_lldb_threads_in_stop_reply),
	    T(test_memory_region_info),
	    T(test_breakpoints),
	    T(test_monitor),
	    T(test_monitor_output_split),
	    T(test_kill),
	    T(test_kill_lldb),
	    TA(test_kill_in_ack_mode),
	    T(test_vkill),
	    T(test_detach),
	    T(test_destroy_from_close),
	    T(test_disconnected),
	    T(test_input_from_inside_send),
	    T(test_disconnect_from_inside_send),
	    T(test_random_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
