/* libFuzzer target for the RSP session: the input is a raw byte stream from
 * a debugger, fed to a session over the mock target in splits derived from
 * the data, with stops delivered whenever the mock runs. Everything the
 * session sends must be an ack or a well-formed packet within the packet
 * size, and the session must still answer at the end (no lost packets, no
 * stall).
 *
 * corpus/session holds gdb 13 and lldb 14 style exchanges written for this
 * target; corpus/packet's recorded streams make good seeds too. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_target.h"
#include "rsp/session.h"

/* Invariant failures abort so libFuzzer records the input. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#define MAX_INPUT (64 * 1024)

struct run {
	struct mock_target m;
	struct rsp_session *s;
	size_t packet_size;
	unsigned closes;
	/* Packets sent, and whether the last one was a qC answer. */
	unsigned long packets;
	bool saw_qc;
	uint64_t rng;
};

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
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

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Each send is one unit: an ack, a nak, or one whole packet with a
 * lowercase checksum that matches, and a payload no longer than the
 * advertised packet size.
 */
static void on_send(void *opaque, const uint8_t *buf, size_t len)
{
	struct run *r = opaque;
	unsigned sum = 0;
	size_t i;

	CHECK(len > 0);
	if (len == 1) {
		CHECK(buf[0] == '+' || buf[0] == '-');
		return;
	}
	CHECK(len >= 4 && buf[0] == '$' && buf[len - 3] == '#');
	CHECK(len - 4 <= r->packet_size);
	for (i = 1; i < len - 3; i++) {
		/* Inside a packet these only appear escaped. */
		CHECK(buf[i] != '$' && buf[i] != '#');
		sum += buf[i];
	}
	CHECK(hexval(buf[len - 2]) >= 0 && hexval(buf[len - 1]) >= 0);
	CHECK((unsigned)(hexval(buf[len - 2]) << 4 | hexval(buf[len - 1])) ==
	      (sum & 0xff));
	r->packets++;
	r->saw_qc = len >= 6 && buf[1] == 'Q' && buf[2] == 'C';
}

static void on_close(void *opaque)
{
	struct run *r = opaque;

	r->closes++;
	CHECK(r->closes == 1);
}

/* A stop the target might report: mostly signals on real threads, with
 * exits and out-of-range threads mixed in. */
static void deliver_stop(struct run *r)
{
	struct rsp_stop stop;
	uint64_t v = xorshift(&r->rng);

	memset(&stop, 0, sizeof(stop));
	switch (v % 8) {
	case 0:
		stop.kind = RSP_STOP_EXITED;
		stop.exit_status = (int)(v >> 8);
		break;
	case 1:
		stop.kind = RSP_STOP_TERMINATED;
		stop.signal = (int)(v >> 8) % 64;
		break;
	default:
		stop.kind = RSP_STOP_SIGNAL;
		stop.signal = (int)((v >> 8) % 32);
		stop.thread = (unsigned)((v >> 16) % (r->m.nr_threads + 2));
		stop.reason = (enum rsp_stop_reason)((v >> 24) % 6);
		stop.watch_addr = v >> 32;
		break;
	}
	mock_stop(&r->m, &stop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Mostly small packets: clamping is exercised and each run stays
	 * cheap; the default size now and then. */
	static const size_t sizes[] = {512,  513,  777,	 1024,
				       2048, 4096, 8192, RSP_PACKET_SIZE};
	struct rsp_session_io io = {.send = on_send, .close = on_close};
	struct rsp_session_config cfg;
	struct run *r;
	uint64_t seed;
	size_t off = 0;
	unsigned i;

	if (size > MAX_INPUT)
		return 0;
	r = calloc(1, sizeof(*r));
	CHECK(r);
	/* Everything random comes from the data, so crashes reproduce. */
	seed = fnv1a(data, size);
	r->rng = seed | 1;
	mock_init(&r->m, 1 + (unsigned)(xorshift(&r->rng) % MOCK_MAX_THREADS));
	r->m.range_step = xorshift(&r->rng) & 1;
	r->m.big_endian = (xorshift(&r->rng) & 7) == 0;
	if ((xorshift(&r->rng) & 7) == 0)
		r->m.exec_path = NULL;
	if ((xorshift(&r->rng) & 15) == 0)
		r->m.stop_inside_resume = true;
	if ((xorshift(&r->rng) & 15) == 0)
		r->m.stop_inside_interrupt = true;
	memset(&cfg, 0, sizeof(cfg));
	cfg.packet_size = sizes[xorshift(&r->rng) % 8];
	cfg.target_running = (xorshift(&r->rng) & 7) == 0;
	r->packet_size = cfg.packet_size;
	r->m.running = cfg.target_running;
	io.opaque = r;
	CHECK(rsp_session_create(&mock_target_ops, &r->m, &io, &cfg, &r->s) ==
	      0);
	r->m.session = r->s;

	while (off < size) {
		size_t n = 1 + xorshift(&r->rng) % 64;

		if (n > size - off)
			n = size - off;
		rsp_session_input(r->s, data + off, n);
		off += n;
		if (r->closes)
			break;
		/* The target stops after a while, not always at once. */
		if (r->m.running && xorshift(&r->rng) % 3 == 0)
			deliver_stop(r);
	}

	/*
	 * Unless the session ended, it must still answer: stop the target
	 * (each stop lets held packets run, which may resume it again), then
	 * ask for the current thread.
	 */
	if (!r->closes) {
		for (i = 0; i < 1000 && rsp_session_target_running(r->s); i++)
			deliver_stop(r);
		CHECK(!rsp_session_target_running(r->s));
		r->saw_qc = false;
		rsp_session_input(r->s, (const uint8_t *)"$qC#b4", 6);
		CHECK(r->closes || r->saw_qc);
	}
	if ((seed & 3) == 0)
		rsp_session_disconnected(r->s);
	rsp_session_destroy(r->s);
	free(r);
	return 0;
}
