/* GDB Remote Serial Protocol packet layer: an incremental framer, the reply
 * encoder, hex/binary codecs and strict argument parsing. Pure: no I/O. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/packet.h"

#define RSP_ESCAPE 0x7d /* '}' */
#define RSP_ESCAPE_XOR 0x20

/*
 * Run-length counts travel as count + 29 so that every useful count is a
 * printable character; '~' (126) is the largest one allowed.
 */
#define RLE_BIAS 29
#define RLE_MIN_EXTRA 3
#define RLE_MAX_EXTRA ('~' - RLE_BIAS)

enum framer_state {
	FR_IDLE,	/* between packets */
	FR_PAYLOAD,	/* after '$' or '%' */
	FR_CSUM_HI,	/* after '#' */
	FR_CSUM_LO,	/* after the first checksum digit */
};

struct rsp_framer {
	enum framer_state state;
	bool notification;
	uint8_t sum;
	int csum_hi;
	/* Payload bytes seen so far; may exceed max, only max are kept. */
	size_t len;
	size_t max;
	size_t garbage;
	/* max + 1 bytes: room for the NUL after a full-size payload. */
	uint8_t *buf;
};

static int hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char hex_digits[] = "0123456789abcdef";

int rsp_framer_create(size_t max_payload, struct rsp_framer **out)
{
	struct rsp_framer *fr;

	if (!out || max_payload == SIZE_MAX)
		return -EINVAL;
	fr = calloc(1, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	fr->buf = malloc(max_payload + 1);
	if (!fr->buf)
		goto err_free_fr;
	fr->max = max_payload;
	rsp_framer_reset(fr);
	*out = fr;
	return 0;

err_free_fr:
	free(fr);
	return -ENOMEM;
}

void rsp_framer_destroy(struct rsp_framer *fr)
{
	if (!fr)
		return;
	free(fr->buf);
	free(fr);
}

void rsp_framer_reset(struct rsp_framer *fr)
{
	fr->state = FR_IDLE;
	fr->notification = false;
	fr->sum = 0;
	fr->csum_hi = -1;
	fr->len = 0;
	fr->garbage = 0;
}

size_t rsp_framer_max_payload(const struct rsp_framer *fr)
{
	return fr->max;
}

const char *rsp_frame_kind_name(enum rsp_frame_kind kind)
{
	static const char *const names[] = {
		[RSP_FRAME_ACK] = "ack",
		[RSP_FRAME_NAK] = "nak",
		[RSP_FRAME_INTERRUPT] = "interrupt",
		[RSP_FRAME_PACKET] = "packet",
		[RSP_FRAME_BAD_CHECKSUM] = "bad-checksum",
		[RSP_FRAME_OVERSIZE] = "oversize",
		[RSP_FRAME_RESTART] = "restart",
		[RSP_FRAME_NOTIFICATION] = "notification",
		[RSP_FRAME_GARBAGE] = "garbage",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) ==
			       RSP_FRAME_GARBAGE + 1,
		       "every frame kind needs a name");

	if ((unsigned int)kind >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[kind];
}

static void emit(rsp_frame_cb cb, void *opaque, enum rsp_frame_kind kind,
		 size_t len)
{
	struct rsp_frame ev = {
		.kind = kind,
		.len = len,
		.csum_sent = -1,
	};

	cb(&ev, opaque);
}

/* Garbage is reported when its run ends, so splits cannot change the count. */
static void flush_garbage(struct rsp_framer *fr, rsp_frame_cb cb, void *opaque)
{
	size_t n = fr->garbage;

	if (!n)
		return;
	fr->garbage = 0;
	emit(cb, opaque, RSP_FRAME_GARBAGE, n);
}

static void start_packet(struct rsp_framer *fr, bool notification)
{
	fr->state = FR_PAYLOAD;
	fr->notification = notification;
	fr->sum = 0;
	fr->csum_hi = -1;
	fr->len = 0;
}

/* A '$' inside a packet: the peer abandoned it and is sending a new one. */
static void restart_packet(struct rsp_framer *fr, rsp_frame_cb cb,
			   void *opaque)
{
	size_t dropped = fr->len;

	start_packet(fr, false);
	emit(cb, opaque, RSP_FRAME_RESTART, dropped);
}

static void finish_packet(struct rsp_framer *fr, int csum_lo, rsp_frame_cb cb,
			  void *opaque)
{
	struct rsp_frame ev = {
		.len = fr->len,
		.csum_calc = fr->sum,
		.csum_sent = -1,
	};
	bool fits = fr->len <= fr->max;

	if (fr->csum_hi >= 0 && csum_lo >= 0)
		ev.csum_sent = fr->csum_hi << 4 | csum_lo;
	if (fits) {
		fr->buf[fr->len] = 0;
		ev.payload = fr->buf;
	}
	if (fr->notification)
		ev.kind = RSP_FRAME_NOTIFICATION;
	else if (!fits)
		ev.kind = RSP_FRAME_OVERSIZE;
	else if (ev.csum_sent == ev.csum_calc)
		ev.kind = RSP_FRAME_PACKET;
	else
		ev.kind = RSP_FRAME_BAD_CHECKSUM;

	/* Back to idle first, so the framer is consistent during the call. */
	fr->state = FR_IDLE;
	fr->len = 0;
	cb(&ev, opaque);
}

void rsp_framer_feed(struct rsp_framer *fr, const uint8_t *data, size_t len,
		     rsp_frame_cb cb, void *opaque)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = data[i];

		switch (fr->state) {
		case FR_IDLE:
			i++;
			switch (c) {
			case '+':
				flush_garbage(fr, cb, opaque);
				emit(cb, opaque, RSP_FRAME_ACK, 0);
				break;
			case '-':
				flush_garbage(fr, cb, opaque);
				emit(cb, opaque, RSP_FRAME_NAK, 0);
				break;
			case 0x03:
				flush_garbage(fr, cb, opaque);
				emit(cb, opaque, RSP_FRAME_INTERRUPT, 0);
				break;
			case '$':
			case '%':
				flush_garbage(fr, cb, opaque);
				start_packet(fr, c == '%');
				break;
			default:
				if (fr->garbage != SIZE_MAX)
					fr->garbage++;
				break;
			}
			break;

		case FR_PAYLOAD:
			/*
			 * The hot loop: memory writes arrive as packets of
			 * hundreds of KiB, so stay here until a delimiter.
			 * Bytes beyond max still count towards the checksum
			 * and length but are not stored.
			 */
			while (i < len && data[i] != '$' && data[i] != '#') {
				fr->sum += data[i];
				if (fr->len < fr->max)
					fr->buf[fr->len] = data[i];
				if (fr->len != SIZE_MAX)
					fr->len++;
				i++;
			}
			if (i == len)
				break;
			if (data[i] == '$')
				restart_packet(fr, cb, opaque);
			else
				fr->state = FR_CSUM_HI;
			i++;
			break;

		case FR_CSUM_HI:
			i++;
			if (c == '$') {
				restart_packet(fr, cb, opaque);
				break;
			}
			fr->csum_hi = hex_val(c);
			fr->state = FR_CSUM_LO;
			break;

		case FR_CSUM_LO:
			i++;
			if (c == '$') {
				restart_packet(fr, cb, opaque);
				break;
			}
			finish_packet(fr, hex_val(c), cb, opaque);
			break;
		}
	}
}

uint8_t rsp_checksum(const uint8_t *data, size_t len)
{
	uint8_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += data[i];
	return sum;
}

size_t rsp_packet_encode_bound(size_t len)
{
	/* '$' + two bytes per escaped payload byte + '#' + two digits. */
	if (len > (SIZE_MAX - 4) / 2)
		return SIZE_MAX;
	return 2 * len + 4;
}

static bool needs_escape(uint8_t c)
{
	return c == '$' || c == '#' || c == RSP_ESCAPE || c == '*';
}

/*
 * The largest repeat count usable for extra more copies: '#' and '$' as the
 * count character would end or restart the packet, so step down to the
 * largest count below them ('"'), leaving the rest to the next run.
 */
static size_t rle_extra(size_t extra)
{
	if (extra > RLE_MAX_EXTRA)
		extra = RLE_MAX_EXTRA;
	if (extra + RLE_BIAS == '#' || extra + RLE_BIAS == '$')
		extra = '"' - RLE_BIAS;
	return extra;
}

ssize_t rsp_packet_encode(const uint8_t *payload, size_t len, bool rle,
			  uint8_t *out, size_t cap)
{
	uint8_t sum = 0;
	size_t o = 0;
	size_t i = 0;

	/* Nothing written can exceed SSIZE_MAX: cap bounds it. */
	if (cap > SSIZE_MAX)
		cap = SSIZE_MAX;
	if (cap < 4)
		return -ENOSPC;
	out[o++] = '$';

	while (i < len) {
		uint8_t c = payload[i];
		size_t run, extra;

		if (needs_escape(c)) {
			if (cap - o < 2)
				return -ENOSPC;
			out[o++] = RSP_ESCAPE;
			out[o++] = c ^ RSP_ESCAPE_XOR;
			sum += RSP_ESCAPE + (uint8_t)(c ^ RSP_ESCAPE_XOR);
			i++;
			continue;
		}

		run = 1;
		if (rle) {
			while (i + run < len && payload[i + run] == c)
				run++;
		}
		i += run;

		/*
		 * Each pass writes the byte and then, if at least three more
		 * copies remain, a '*' and count standing for them.
		 */
		while (run) {
			if (cap - o < 1)
				return -ENOSPC;
			out[o++] = c;
			sum += c;
			run--;
			if (run < RLE_MIN_EXTRA)
				continue;
			extra = rle_extra(run);
			if (cap - o < 2)
				return -ENOSPC;
			out[o++] = '*';
			out[o++] = (uint8_t)(extra + RLE_BIAS);
			sum += '*' + (uint8_t)(extra + RLE_BIAS);
			run -= extra;
		}
	}

	if (cap - o < 3)
		return -ENOSPC;
	out[o++] = '#';
	out[o++] = hex_digits[sum >> 4];
	out[o++] = hex_digits[sum & 0xf];
	return (ssize_t)o;
}

ssize_t rsp_hex_encode(const uint8_t *in, size_t in_len, char *out,
		       size_t out_cap)
{
	size_t i;

	if (in_len > SSIZE_MAX / 2)
		return -EINVAL;
	if (in_len > out_cap / 2)
		return -ENOSPC;
	for (i = 0; i < in_len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0xf];
	}
	return (ssize_t)(2 * in_len);
}

ssize_t rsp_hex_decode(const char *in, size_t in_len, uint8_t *out,
		       size_t out_cap)
{
	size_t i, n;

	if (in_len % 2 || in_len / 2 > SSIZE_MAX)
		return -EINVAL;
	n = in_len / 2;
	if (n > out_cap)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		int hi = hex_val((uint8_t)in[2 * i]);
		int lo = hex_val((uint8_t)in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)n;
}

ssize_t rsp_bin_unescape(const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t out_cap)
{
	size_t i = 0, o = 0;

	if (out_cap > SSIZE_MAX)
		out_cap = SSIZE_MAX;
	while (i < in_len) {
		uint8_t c = in[i++];

		if (c == RSP_ESCAPE) {
			if (i == in_len)
				return -EINVAL;
			c = in[i++] ^ RSP_ESCAPE_XOR;
		}
		if (o == out_cap)
			return -ENOSPC;
		out[o++] = c;
	}
	return (ssize_t)o;
}

ssize_t rsp_bin_escape(const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t out_cap)
{
	size_t i, o = 0;

	if (out_cap > SSIZE_MAX)
		out_cap = SSIZE_MAX;
	for (i = 0; i < in_len; i++) {
		uint8_t c = in[i];

		if (needs_escape(c)) {
			if (out_cap - o < 2)
				return -ENOSPC;
			out[o++] = RSP_ESCAPE;
			out[o++] = c ^ RSP_ESCAPE_XOR;
		} else {
			if (out_cap - o < 1)
				return -ENOSPC;
			out[o++] = c;
		}
	}
	return (ssize_t)o;
}

size_t rsp_bin_escape_fit(const uint8_t *in, size_t in_len, size_t out_cap)
{
	size_t i, used = 0;

	for (i = 0; i < in_len; i++) {
		size_t need = needs_escape(in[i]) ? 2 : 1;

		if (out_cap - used < need)
			break;
		used += need;
	}
	return i;
}

int rsp_parse_hex_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int d = hex_val((uint8_t)s[i]);

		if (d < 0)
			return -EINVAL;
		/*
		 * A value that is both too big and malformed is reported as
		 * malformed, so the error does not depend on where junk sits.
		 */
		if (v >> 60) {
			for (; i < len; i++)
				if (hex_val((uint8_t)s[i]) < 0)
					return -EINVAL;
			return -ERANGE;
		}
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

int rsp_take_hex_u64(const char **p, const char *end, char terminator,
		     uint64_t *out)
{
	const char *s = *p, *e = end;
	uint64_t v;
	int ret;

	if (s > end)
		return -EINVAL;
	if (terminator) {
		e = s < end ? memchr(s, terminator, (size_t)(end - s)) : NULL;
		if (!e)
			return -EINVAL;
	}
	ret = rsp_parse_hex_u64(s, (size_t)(e - s), &v);
	if (ret)
		return ret;
	*p = terminator ? e + 1 : e;
	*out = v;
	return 0;
}

int rsp_take_field(const char **p, const char *end, char terminator,
		   const char **field, size_t *field_len)
{
	const char *s = *p, *e;

	if (s > end)
		return -EINVAL;
	e = s < end ? memchr(s, terminator, (size_t)(end - s)) : NULL;
	*field = s;
	if (!e) {
		*field_len = (size_t)(end - s);
		*p = end;
		return 0;
	}
	*field_len = (size_t)(e - s);
	*p = e + 1;
	return 1;
}

bool rsp_take_prefix(const char **p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	if (*p > end || (size_t)(end - *p) < n)
		return false;
	if (n && memcmp(*p, prefix, n))
		return false;
	*p += n;
	return true;
}

bool rsp_take_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* One part of a thread id: "-1" or hex that fits a non-negative int64_t. */
static int parse_tid_part(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	int ret;

	if (len == 2 && s[0] == '-' && s[1] == '1') {
		*out = RSP_TID_ALL;
		return 0;
	}
	ret = rsp_parse_hex_u64(s, len, &v);
	if (ret)
		return ret;
	if (v > INT64_MAX)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

int rsp_parse_thread_id(const char *s, size_t len, struct rsp_thread_id *out)
{
	struct rsp_thread_id id = { .has_pid = false };
	const char *dot;
	int ret;

	if (len == 0 || s[0] != 'p') {
		ret = parse_tid_part(s, len, &id.tid);
		if (ret)
			return ret;
		*out = id;
		return 0;
	}

	s++;
	len--;
	id.has_pid = true;
	dot = memchr(s, '.', len);
	if (!dot) {
		ret = parse_tid_part(s, len, &id.pid);
		id.tid = RSP_TID_ALL;
	} else {
		ret = parse_tid_part(s, (size_t)(dot - s), &id.pid);
		if (!ret)
			ret = parse_tid_part(dot + 1,
					     len - (size_t)(dot - s) - 1,
					     &id.tid);
	}
	if (ret)
		return ret;
	*out = id;
	return 0;
}
