/* GDB Remote Serial Protocol packet layer: framing, checksums, escaping,
 * run-length encoding, hex/binary codecs and argument parsing. Pure: no I/O. */
#ifndef KVMDBG_RSP_PACKET_H
#define KVMDBG_RSP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Framer
 *
 * The framer turns an arbitrary split of the byte stream from gdb or lldb
 * into events, one callback per event, in stream order. The events produced
 * depend only on the bytes, never on how they were split across feeds, so a
 * transport can hand over whatever each read returned (including nothing).
 *
 * Packet payloads are delivered exactly as received: still escaped, because
 * only the binary packets (X, vFile:pwrite, lldb's binary forms) use '}'
 * escaping and only the session knows which packet it is looking at.
 */

enum rsp_frame_kind {
	/* '+' between packets. */
	RSP_FRAME_ACK,
	/* '-' between packets: the peer wants the last reply again. */
	RSP_FRAME_NAK,
	/* 0x03 between packets: the user pressed Ctrl-C. */
	RSP_FRAME_INTERRUPT,
	/* "$payload#xx" whose checksum matched; payload and len are set. */
	RSP_FRAME_PACKET,
	/*
	 * "$payload#xx" whose checksum did not match or whose checksum digits
	 * were not hex. payload and len are set for logging only; the session
	 * answers '-' while acknowledgements are on.
	 */
	RSP_FRAME_BAD_CHECKSUM,
	/*
	 * A packet longer than the framer's maximum. It was consumed up to its
	 * checksum and dropped; len is the full payload length seen. The
	 * checksum fields are filled so the session can tell a corrupted
	 * packet ('-') from a well-formed one that is simply too big (an error
	 * reply).
	 */
	RSP_FRAME_OVERSIZE,
	/*
	 * A '$' arrived inside a packet (payload or checksum), which means the
	 * peer gave up on the old packet. The partial packet is dropped (len is
	 * its payload length so far) and framing restarts at the new '$'.
	 */
	RSP_FRAME_RESTART,
	/*
	 * "%payload#xx": an asynchronous notification. Debuggers never send
	 * these to a stub, so the session ignores them. payload is set when
	 * the notification fitted, NULL otherwise; the checksum fields say
	 * whether it was intact.
	 */
	RSP_FRAME_NOTIFICATION,
	/*
	 * len bytes between packets that mean nothing (line noise, a stray
	 * '#'); reported once the run of them ends, just before the event that
	 * ended it.
	 */
	RSP_FRAME_GARBAGE,
};

struct rsp_frame {
	enum rsp_frame_kind kind;
	/*
	 * The payload bytes, valid only until the callback returns. Followed
	 * by a NUL for the convenience of prefix comparisons, but binary
	 * payloads may contain NULs too, so always honour len.
	 */
	const uint8_t *payload;
	/* Payload length, or the count of dropped bytes; see the kinds. */
	size_t len;
	/* Checksum computed over the received payload. */
	uint8_t csum_calc;
	/* Checksum the peer sent, or -1 if its digits were not hex. */
	int csum_sent;
};

/*
 * Called once per event. It must not feed, reset or destroy the framer that
 * called it; a consumer that wants to stop should note that and ignore the
 * remaining events of this feed.
 */
typedef void (*rsp_frame_cb)(const struct rsp_frame *frame, void *opaque);

struct rsp_framer;

/*
 * Creates a framer that buffers at most max_payload payload bytes; longer
 * packets become RSP_FRAME_OVERSIZE events. The buffer is allocated once,
 * here. Returns 0, -EINVAL or -ENOMEM.
 */
int rsp_framer_create(size_t max_payload, struct rsp_framer **out);
void rsp_framer_destroy(struct rsp_framer *fr);

/* Forgets any partial packet and uncounted garbage, as on a new connection. */
void rsp_framer_reset(struct rsp_framer *fr);

size_t rsp_framer_max_payload(const struct rsp_framer *fr);

/* Consumes all len bytes (data may be NULL when len is 0). */
void rsp_framer_feed(struct rsp_framer *fr, const uint8_t *data, size_t len,
		     rsp_frame_cb cb, void *opaque);

/* A short lowercase name for logs ("packet", "bad-checksum", ...). */
const char *rsp_frame_kind_name(enum rsp_frame_kind kind);

/*
 * Encoder
 */

/* Modulo-256 sum of the bytes, as carried after '#'. */
uint8_t rsp_checksum(const uint8_t *data, size_t len);

/*
 * Worst-case size of rsp_packet_encode's output for a payload of len bytes
 * (every byte escaped, no run-length savings). Saturates at SIZE_MAX.
 */
size_t rsp_packet_encode_bound(size_t len);

/*
 * Frames a reply: '$', the payload with '$', '#', '}' and '*' escaped as '}'
 * followed by the byte XOR 0x20, '#', two lowercase hex checksum digits.
 *
 * Pass the raw payload; do not escape it first. gdb expands run-length
 * encoding in every reply and unescapes binary replies, and lldb does both
 * for every reply, so this escaping is right for text and binary replies.
 *
 * With rle, runs of four or more identical unescaped bytes become the byte,
 * '*' and a count character (extra repeats + 29), never '#', '$' or a
 * character above '~'. An escaped byte never starts a run, because gdb
 * expands runs before unescaping and lldb after, and they would disagree.
 *
 * Returns the bytes written to out, or -ENOSPC if cap is too small (out's
 * contents are then unspecified).
 */
ssize_t rsp_packet_encode(const uint8_t *payload, size_t len, bool rle,
			  uint8_t *out, size_t cap);

/*
 * Codecs
 *
 * Each returns the bytes written to out, -EINVAL for malformed input or
 * -ENOSPC when out_cap is too small; out is unspecified on failure. Decoders
 * may run in place (out == in), since they never write ahead of what they
 * have read.
 */

/* Two lowercase hex digits per byte. */
ssize_t rsp_hex_encode(const uint8_t *in, size_t in_len, char *out,
		       size_t out_cap);

/* Either case accepted; an odd length or a non-hex digit is -EINVAL. */
ssize_t rsp_hex_decode(const char *in, size_t in_len, uint8_t *out,
		       size_t out_cap);

/*
 * '}' x becomes x ^ 0x20; a trailing lone '}' is -EINVAL. Every other byte,
 * '*' included, is taken literally: debuggers never run-length encode what
 * they send, and the framer has already ruled out a bare '$' or '#'.
 */
ssize_t rsp_bin_unescape(const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t out_cap);

/*
 * The escaping rsp_packet_encode applies, for callers that need the escaped
 * form on its own (sizing a binary reply, a test's reference); never apply it
 * before rsp_packet_encode.
 */
ssize_t rsp_bin_escape(const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t out_cap);

/*
 * How many leading bytes of in fit in out_cap bytes once escaped, so a
 * binary reply (qXfer, vFile:pread, lldb's x) can be cut to a packet size.
 */
size_t rsp_bin_escape_fit(const uint8_t *in, size_t in_len, size_t out_cap);

/*
 * Argument parsing
 *
 * Packets are parsed with a cursor: a pointer *p into the payload that the
 * take functions advance, and end, one past the last byte. The payload is
 * not NUL-terminated as far as these functions are concerned. A failed take
 * leaves *p where it was. For example "m addr,len":
 *
 *	const char *p = (const char *)payload + 1, *end = ...;
 *	if (rsp_take_hex_u64(&p, end, ',', &addr) ||
 *	    rsp_take_hex_u64(&p, end, 0, &len))
 *		reply E01;
 *
 * and "X addr,len:bin" takes ',' then ':' and hands [p, end) to
 * rsp_bin_unescape.
 */

/*
 * Parses exactly len hex digits (either case, leading zeros allowed) into
 * *out. Empty input or any other character is -EINVAL; a value that needs
 * more than 64 bits is -ERANGE. *out is written only on success.
 */
int rsp_parse_hex_u64(const char *s, size_t len, uint64_t *out);

/*
 * Parses a hex number running from *p to the first terminator, which must be
 * present and is consumed; with terminator 0 the number runs to end. Errors
 * as rsp_parse_hex_u64, plus -EINVAL for a missing terminator.
 */
int rsp_take_hex_u64(const char **p, const char *end, char terminator,
		     uint64_t *out);

/*
 * Splits off the field from *p up to the first terminator or end, whichever
 * comes first, and advances past the terminator if there was one. Returns 1
 * if a terminator ended the field, 0 if end did (the field may be empty), or
 * -EINVAL for a cursor beyond end. Use it for optional tails such as
 * "Z type,addr,kind[;cond]", vCont actions and qXfer's object:annex parts.
 */
int rsp_take_field(const char **p, const char *end, char terminator,
		   const char **field, size_t *field_len);

/* Consumes prefix (a C string) if [*p, end) starts with it. */
bool rsp_take_prefix(const char **p, const char *end, const char *prefix);

/* Consumes one character c if it is next. */
bool rsp_take_char(const char **p, const char *end, char c);

/* Thread ids: "-1" means every thread (or process), "0" any one. */
#define RSP_TID_ALL ((int64_t)-1)
#define RSP_TID_ANY ((int64_t)0)

struct rsp_thread_id {
	/* Set only by the multiprocess form "p<pid>[.<tid>]". */
	bool has_pid;
	int64_t pid;
	/* RSP_TID_ALL when the multiprocess form leaves it out. */
	int64_t tid;
};

/*
 * Parses a thread id as gdb and lldb send it: "-1", or hex, or with
 * multiprocess "p<pid>.<tid>" / "p<pid>" where each part is "-1" or hex.
 * Values above INT64_MAX are -ERANGE; anything else malformed is -EINVAL.
 */
int rsp_parse_thread_id(const char *s, size_t len, struct rsp_thread_id *out);

#endif
