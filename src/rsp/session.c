/* The RSP session: one debugger connection's state machine. Frames bytes
 * from gdb or lldb, answers each packet through the target ops, and holds
 * the protocol state (acks, thread selection, the last stop, what the
 * client negotiated) between them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rsp/features.h"
#include "rsp/packet.h"
#include "rsp/session.h"

/* qRcmd output is bounded so a chatty command cannot eat memory. */
#define MONITOR_OUT_MAX 0x10000
/* Packets held while the target runs; debuggers send none in all-stop,
 * so these bounds only matter against a misbehaving peer. */
#define HELD_MAX_PACKETS 64
/* Expedited registers and the pc are small; larger ones are skipped. */
#define STOP_REG_MAX 64
#define EXPEDITED_MAX 16
/* lldb sends an address annex at most; gdb "target.xml" and includes. */
#define ANNEX_MAX 128

enum reply {
	REPLY,	  /* send s->rb */
	NO_REPLY, /* resumed, closed, or already sent */
};

struct held_packet {
	struct held_packet *next;
	bool oversize;
	size_t len;
	uint8_t data[];
};

struct rsp_session {
	const struct rsp_target_ops *ops;
	void *t;
	struct rsp_session_io io;
	size_t packet_size;
	struct rsp_framer *framer;

	/* Link state. */
	bool acks;
	/* The OK to QStartNoAckMode was the last packet: a '-' for it is
	 * still honoured, since the peer was in ack mode when it came. */
	bool noack_reply_last;
	bool disconnected;
	/* D, k or vKill decided to end the connection; io.close is called
	 * on the way out of the outermost entry point. */
	bool closing;
	bool closed;

	/* What the client negotiated. */
	struct rsp__client_features client;
	bool thread_suffix;
	bool threads_in_stop;
	/* lldb-only packets were seen: 'k' then gets the X reply lldb
	 * waits for, and 'x' replies carry no 'b'. */
	bool lldb;

	/* Execution state. */
	bool running;
	/* The debugger sent a resume and waits for its stop reply. */
	bool waiting;
	struct rsp_stop stop;
	/* Hg and Hc; 0 means "any": the thread of the last stop for Hg,
	 * every thread for Hc. */
	unsigned gen_thread;
	unsigned cont_thread;
	/* Next thread for qsThreadInfo. */
	unsigned list_next;

	/* A public entry point is on the stack; what arrives meanwhile
	 * (a stop reported from inside an op, input from inside send) is
	 * deferred, never nested. */
	bool busy;
	bool stop_pending;
	struct rsp_stop pending_stop;
	uint8_t *pending_in;
	size_t pending_in_len;
	size_t pending_in_cap;

	/* Packets that arrived while the target ran, oldest first. */
	struct held_packet *held_head;
	struct held_packet **held_tail;
	size_t held_count;
	size_t held_bytes;
	/* Packets refused after the queue filled; answered with errors in
	 * their turn, after every held packet. */
	size_t held_refused;

	/* The reply being built (raw payload, at most packet_size). */
	struct rsp__buf rb;
	char *reply;
	/* Encoded packets: the one being sent and the last one, for '-'. */
	uint8_t *wire;
	uint8_t *last;
	size_t wire_cap;
	size_t last_len;
	/* Decoded memory and register data; packet_size bytes. */
	uint8_t *scratch;
	char *monitor_out;
};

static void dispatch(struct rsp_session *s, const uint8_t *data, size_t len,
		     bool oversize);

/*
 * Sending
 */

static bool dead(const struct rsp_session *s)
{
	return s->disconnected || s->closing;
}

static void send_raw(struct rsp_session *s, const void *buf, size_t len)
{
	if (s->disconnected || s->closed)
		return;
	s->io.send(s->io.opaque, buf, len);
}

static void send_packet(struct rsp_session *s, const void *payload, size_t len)
{
	ssize_t n;
	uint8_t *tmp;

	if (s->disconnected || s->closed)
		return;
	n = rsp_packet_encode(payload, len, true, s->wire, s->wire_cap);
	if (n < 0) {
		/* wire_cap is the worst case for packet_size, so a reply
		 * that fails here was built wrong; say so, not nothing. */
		log_error("rsp: reply of %zu bytes does not encode", len);
		n = rsp_packet_encode((const uint8_t *)"E01", 3, false, s->wire,
				      s->wire_cap);
		if (n < 0)
			return;
	}
	s->io.send(s->io.opaque, s->wire, (size_t)n);
	tmp = s->last;
	s->last = s->wire;
	s->wire = tmp;
	s->last_len = (size_t)n;
	s->noack_reply_last = false;
}

static void send_reply(struct rsp_session *s)
{
	if (s->rb.overflow) {
		log_error("rsp: reply overflowed %zu bytes", s->rb.cap);
		rsp__buf_reset(&s->rb);
		rsp__buf_puts(&s->rb, "E28");
	}
	send_packet(s, s->rb.p, s->rb.len);
}

static enum reply reply_str(struct rsp_session *s, const char *str)
{
	rsp__buf_reset(&s->rb);
	rsp__buf_puts(&s->rb, str);
	return REPLY;
}

static enum reply reply_ok(struct rsp_session *s)
{
	return reply_str(s, "OK");
}

static enum reply reply_empty(struct rsp_session *s)
{
	return reply_str(s, "");
}

/* Malformed arguments. */
static enum reply reply_bad(struct rsp_session *s)
{
	return reply_str(s, "E01");
}

/*
 * An operation's -errno as a reply: unsupported operations get the empty
 * packet, as the protocol wants for things a stub does not do, and the
 * rest "E" and the errno in two digits (EFAULT is E14, ENOSPC E28), the
 * convention QEMU's gdbstub uses too.
 */
static enum reply reply_errno(struct rsp_session *s, long err)
{
	long n = -err;

	if (n == EOPNOTSUPP || n == ENOSYS)
		return reply_empty(s);
	if (n <= 0 || n > 99)
		n = 1;
	rsp__buf_reset(&s->rb);
	rsp__buf_printf(&s->rb, "E%02ld", n);
	return REPLY;
}

/*
 * Threads and registers
 */

static unsigned nr_threads(const struct rsp_session *s)
{
	unsigned n = s->ops->nr_threads ? s->ops->nr_threads(s->t) : 1;

	if (n == 0)
		return 1;
	return n < RSP_MAX_THREADS ? n : RSP_MAX_THREADS;
}

static bool thread_ok(const struct rsp_session *s, uint64_t tid)
{
	return tid >= 1 && tid <= nr_threads(s);
}

/* The thread of the last stop; thread 1 after an exit or a bad report. */
static unsigned stop_thread(const struct rsp_session *s)
{
	if (s->stop.kind == RSP_STOP_SIGNAL && thread_ok(s, s->stop.thread))
		return s->stop.thread;
	return 1;
}

/* Registers and memory go to the Hg thread. */
static unsigned gen_thread(const struct rsp_session *s)
{
	if (s->gen_thread && thread_ok(s, s->gen_thread))
		return s->gen_thread;
	return stop_thread(s);
}

enum tid_kind {
	TID_ONE,
	TID_ALL, /* -1 */
	TID_ANY, /* 0 */
};

/* A thread id from the peer: "-1", "0", a live thread, or -EINVAL. The
 * pid of the multiprocess form is ignored: there is one process. */
static int parse_tid(const struct rsp_session *s, const char *p, size_t len,
		     enum tid_kind *kind, unsigned *tid)
{
	struct rsp_thread_id id;

	if (rsp_parse_thread_id(p, len, &id))
		return -EINVAL;
	if (id.tid == RSP_TID_ALL) {
		*kind = TID_ALL;
		*tid = 0;
		return 0;
	}
	if (id.tid == RSP_TID_ANY) {
		*kind = TID_ANY;
		*tid = 0;
		return 0;
	}
	if (!thread_ok(s, (uint64_t)id.tid))
		return -EINVAL;
	*kind = TID_ONE;
	*tid = (unsigned)id.tid;
	return 0;
}

static unsigned nr_regs(const struct rsp_session *s)
{
	return s->ops->nr_regs ? s->ops->nr_regs(s->t) : 0;
}

static unsigned reg_size(const struct rsp_session *s, unsigned regno)
{
	if (!s->ops->reg_size || regno >= nr_regs(s))
		return 0;
	return s->ops->reg_size(s->t, regno);
}

static int read_reg(struct rsp_session *s, unsigned tid, unsigned regno,
		    uint8_t *buf)
{
	if (!s->ops->read_reg)
		return -EOPNOTSUPP;
	return s->ops->read_reg(s->t, tid, regno, buf);
}

static bool big_endian(const struct rsp_session *s)
{
	return s->ops->big_endian && s->ops->big_endian(s->t);
}

static unsigned expedited(const struct rsp_session *s, unsigned *regnos)
{
	unsigned n;

	if (!s->ops->expedited_regs)
		return 0;
	n = s->ops->expedited_regs(s->t, regnos, EXPEDITED_MAX);
	return n < EXPEDITED_MAX ? n : EXPEDITED_MAX;
}

/* The pc is the first expedited register (target.h: "pc, sp, fp"). */
static int pc_regno(const struct rsp_session *s, unsigned *regno,
		    unsigned *size)
{
	unsigned regnos[EXPEDITED_MAX];

	if (!expedited(s, regnos))
		return -EOPNOTSUPP;
	*regno = regnos[0];
	*size = reg_size(s, regnos[0]);
	if (*size == 0 || *size > 8)
		return -EOPNOTSUPP;
	return 0;
}

static int read_pc(struct rsp_session *s, unsigned tid, uint64_t *pc)
{
	uint8_t buf[8];
	unsigned regno, size, i;
	uint64_t v = 0;
	int ret;

	ret = pc_regno(s, &regno, &size);
	if (ret)
		return ret;
	ret = read_reg(s, tid, regno, buf);
	if (ret)
		return ret;
	for (i = 0; i < size; i++) {
		unsigned b = big_endian(s) ? i : size - 1 - i;

		v = v << 8 | buf[b];
	}
	*pc = v;
	return 0;
}

static int write_pc(struct rsp_session *s, unsigned tid, uint64_t pc)
{
	uint8_t buf[8];
	unsigned regno, size, i;
	int ret;

	ret = pc_regno(s, &regno, &size);
	if (ret)
		return ret;
	if (!s->ops->write_reg)
		return -EOPNOTSUPP;
	for (i = 0; i < size; i++) {
		unsigned shift = 8 * (big_endian(s) ? size - 1 - i : i);

		buf[i] = (uint8_t)(pc >> shift);
	}
	return s->ops->write_reg(s->t, tid, regno, buf);
}

/*
 * Stop replies
 */

static void put_expedited(struct rsp_session *s, unsigned tid)
{
	unsigned regnos[EXPEDITED_MAX], n, i;
	uint8_t val[STOP_REG_MAX];

	n = expedited(s, regnos);
	for (i = 0; i < n; i++) {
		unsigned size = reg_size(s, regnos[i]);

		if (size == 0 || size > sizeof(val))
			continue;
		if (read_reg(s, tid, regnos[i], val))
			continue;
		rsp__buf_printf(&s->rb, "%02x:", regnos[i]);
		rsp__buf_hex(&s->rb, val, size);
		rsp__buf_puts(&s->rb, ";");
	}
}

/* lldb's QListThreadsInStopReply keys: every thread and, if all can be
 * read, every pc (big-endian hex numbers, in the same order). */
static void put_thread_list(struct rsp_session *s)
{
	unsigned nr = nr_threads(s), tid;
	uint64_t pcs[RSP_MAX_THREADS];

	rsp__buf_puts(&s->rb, "threads:");
	for (tid = 1; tid <= nr; tid++)
		rsp__buf_printf(&s->rb, tid > 1 ? ",%x" : "%x", tid);
	rsp__buf_puts(&s->rb, ";");
	for (tid = 1; tid <= nr; tid++)
		if (read_pc(s, tid, &pcs[tid - 1]))
			return;
	rsp__buf_puts(&s->rb, "thread-pcs:");
	for (tid = 1; tid <= nr; tid++)
		rsp__buf_printf(&s->rb, tid > 1 ? ",%" PRIx64 : "%" PRIx64,
				pcs[tid - 1]);
	rsp__buf_puts(&s->rb, ";");
}

static void put_reason(struct rsp_session *s, const struct rsp_stop *stop)
{
	switch (stop->reason) {
	case RSP_REASON_SWBREAK:
		/* Only for clients that asked: the protocol says a stub must
		 * not send these keys otherwise. */
		if (s->client.swbreak)
			rsp__buf_puts(&s->rb, "swbreak:;");
		break;
	case RSP_REASON_HWBREAK:
		if (s->client.hwbreak)
			rsp__buf_puts(&s->rb, "hwbreak:;");
		break;
	case RSP_REASON_WATCH:
		rsp__buf_printf(&s->rb, "watch:%" PRIx64 ";", stop->watch_addr);
		break;
	case RSP_REASON_RWATCH:
		rsp__buf_printf(&s->rb, "rwatch:%" PRIx64 ";",
				stop->watch_addr);
		break;
	case RSP_REASON_AWATCH:
		rsp__buf_printf(&s->rb, "awatch:%" PRIx64 ";",
				stop->watch_addr);
		break;
	case RSP_REASON_NONE:
	default:
		break;
	}
}

/* "T<sig>thread:<tid>;<regno>:<value>;...<reason>[threads:...]". */
static void put_stop_t(struct rsp_session *s, int sig, unsigned tid,
		       const struct rsp_stop *reason)
{
	rsp__buf_printf(&s->rb, "T%02xthread:%x;", (unsigned)sig & 0xff, tid);
	put_expedited(s, tid);
	if (reason)
		put_reason(s, reason);
	if (s->threads_in_stop)
		put_thread_list(s);
}

static enum reply reply_stop(struct rsp_session *s, const struct rsp_stop *stop)
{
	rsp__buf_reset(&s->rb);
	switch (stop->kind) {
	case RSP_STOP_EXITED:
		rsp__buf_printf(&s->rb, "W%02x",
				(unsigned)stop->exit_status & 0xff);
		break;
	case RSP_STOP_TERMINATED:
		rsp__buf_printf(&s->rb, "X%02x", (unsigned)stop->signal & 0xff);
		break;
	case RSP_STOP_SIGNAL:
	default:
		put_stop_t(s, stop->signal, stop_thread(s), stop);
		break;
	}
	return REPLY;
}

/*
 * Held packets
 */

static void hold(struct rsp_session *s, const uint8_t *data, size_t len,
		 bool oversize)
{
	struct held_packet *h;
	size_t keep = oversize ? 0 : len;

	if (s->held_refused || s->held_count >= HELD_MAX_PACKETS ||
	    keep > 4 * s->packet_size - s->held_bytes) {
		s->held_refused++;
		return;
	}
	h = malloc(sizeof(*h) + keep + 1);
	if (!h) {
		s->held_refused++;
		return;
	}
	h->next = NULL;
	h->oversize = oversize;
	h->len = keep;
	if (keep)
		memcpy(h->data, data, keep);
	/* Handlers may rely on the NUL the framer puts after payloads. */
	h->data[keep] = 0;
	*s->held_tail = h;
	s->held_tail = &h->next;
	s->held_count++;
	s->held_bytes += keep;
}

static void drop_held(struct rsp_session *s)
{
	struct held_packet *h = s->held_head, *next;

	for (; h; h = next) {
		next = h->next;
		free(h);
	}
	s->held_head = NULL;
	s->held_tail = &s->held_head;
	s->held_count = 0;
	s->held_bytes = 0;
	s->held_refused = 0;
}

/* Answers one held packet; false when there is none. */
static bool run_one_held(struct rsp_session *s)
{
	struct held_packet *h = s->held_head;

	if (!h) {
		if (!s->held_refused)
			return false;
		s->held_refused--;
		/* ENOMEM: the packet was not kept, so it was not run. */
		reply_str(s, "E12");
		send_reply(s);
		return true;
	}
	s->held_head = h->next;
	if (!s->held_head)
		s->held_tail = &s->held_head;
	s->held_count--;
	s->held_bytes -= h->len;
	dispatch(s, h->data, h->len, h->oversize);
	free(h);
	return true;
}

/*
 * Stops
 */

static void handle_stop(struct rsp_session *s, const struct rsp_stop *stop)
{
	s->stop = *stop;
	s->running = false;
	if (!s->waiting || dead(s))
		return;
	s->waiting = false;
	/*
	 * gdb takes the thread of a stop reply as the stub's new general
	 * thread (remote.c, record_currthread) and will not send Hg for it
	 * again, so follow it here.
	 */
	s->gen_thread = 0;
	reply_stop(s, &s->stop);
	send_reply(s);
}

/*
 * Packets: registers
 */

/* Cuts lldb's ";thread:<tid>;" suffix off g/G/p/P. Returns 0 with *tid
 * the thread to use, or -EINVAL. */
static int take_thread_suffix(struct rsp_session *s, const char *p,
			      const char **end, unsigned *tid)
{
	static const char key[] = ";thread:";
	const char *k, *e;
	enum tid_kind kind;
	unsigned t;

	*tid = gen_thread(s);
	k = memmem(p, (size_t)(*end - p), key, sizeof(key) - 1);
	if (!k)
		return 0;
	e = k + sizeof(key) - 1;
	while (e < *end && *e != ';')
		e++;
	if (parse_tid(s, k + sizeof(key) - 1,
		      (size_t)(e - (k + sizeof(key) - 1)), &kind, &t))
		return -EINVAL;
	if (kind == TID_ONE)
		*tid = t;
	*end = k;
	return 0;
}

static enum reply handle_g(struct rsp_session *s, const char *p,
			   const char *end)
{
	unsigned tid, regno, nr = nr_regs(s);

	if (take_thread_suffix(s, p, &end, &tid) || p != end)
		return reply_bad(s);
	if (!s->ops->read_reg || !nr)
		return reply_empty(s);
	rsp__buf_reset(&s->rb);
	for (regno = 0; regno < nr; regno++) {
		unsigned size = reg_size(s, regno);

		if (size == 0)
			continue;
		if (size > s->packet_size / 2)
			return reply_errno(s, -ENOSPC);
		if (read_reg(s, tid, regno, s->scratch) == 0) {
			rsp__buf_hex(&s->rb, s->scratch, size);
		} else {
			/* gdb reads "xx" as "value unavailable". */
			while (size-- && !s->rb.overflow)
				rsp__buf_puts(&s->rb, "xx");
		}
		if (s->rb.overflow)
			return reply_errno(s, -ENOSPC);
	}
	return REPLY;
}

static enum reply handle_G(struct rsp_session *s, const char *p,
			   const char *end)
{
	unsigned tid, regno, nr = nr_regs(s);
	size_t off = 0, total;
	ssize_t n;
	int ret;

	if (take_thread_suffix(s, p, &end, &tid))
		return reply_bad(s);
	if (!s->ops->write_reg || !nr)
		return reply_empty(s);
	n = rsp_hex_decode(p, (size_t)(end - p), s->scratch, s->packet_size);
	if (n < 0)
		return reply_bad(s);
	total = (size_t)n;
	/* Check that the data ends on a register boundary before writing
	 * anything, so a bad packet changes nothing. */
	for (regno = 0; regno < nr && off < total; regno++)
		off += reg_size(s, regno);
	if (off != total)
		return reply_bad(s);
	off = 0;
	for (regno = 0; regno < nr && off < total; regno++) {
		unsigned size = reg_size(s, regno);

		if (size == 0)
			continue;
		ret = s->ops->write_reg(s->t, tid, regno, s->scratch + off);
		if (ret)
			return reply_errno(s, ret);
		off += size;
	}
	return reply_ok(s);
}

static enum reply handle_p(struct rsp_session *s, const char *p,
			   const char *end)
{
	unsigned tid, size;
	uint64_t regno;
	int ret;

	if (take_thread_suffix(s, p, &end, &tid) ||
	    rsp_take_hex_u64(&p, end, 0, &regno))
		return reply_bad(s);
	if (!s->ops->read_reg)
		return reply_empty(s);
	size = regno < nr_regs(s) ? reg_size(s, (unsigned)regno) : 0;
	if (size == 0 || size > s->packet_size / 2)
		return reply_bad(s);
	ret = read_reg(s, tid, (unsigned)regno, s->scratch);
	if (ret)
		return reply_errno(s, ret);
	rsp__buf_reset(&s->rb);
	rsp__buf_hex(&s->rb, s->scratch, size);
	return REPLY;
}

static enum reply handle_P(struct rsp_session *s, const char *p,
			   const char *end)
{
	unsigned tid, size;
	uint64_t regno;
	ssize_t n;
	int ret;

	if (take_thread_suffix(s, p, &end, &tid) ||
	    rsp_take_hex_u64(&p, end, '=', &regno))
		return reply_bad(s);
	if (!s->ops->write_reg)
		return reply_empty(s);
	size = regno < nr_regs(s) ? reg_size(s, (unsigned)regno) : 0;
	if (size == 0)
		return reply_bad(s);
	n = rsp_hex_decode(p, (size_t)(end - p), s->scratch, s->packet_size);
	if (n != (ssize_t)size)
		return reply_bad(s);
	ret = s->ops->write_reg(s->t, tid, (unsigned)regno, s->scratch);
	if (ret)
		return reply_errno(s, ret);
	return reply_ok(s);
}

/*
 * Packets: memory
 */

/* At most max bytes from addr, never wrapping past the top of the
 * address space. */
static size_t clamp_len(uint64_t addr, uint64_t len, size_t max)
{
	uint64_t to_top = UINT64_MAX - addr + 1; /* 0 means 2^64 */

	if (len > max)
		len = max;
	if (to_top && len > to_top)
		len = to_top;
	return (size_t)len;
}

/* Reads up to len bytes; returns the count (> 0) or -errno, with an
 * empty read reported as -EFAULT like an unmapped first byte. */
static long read_mem(struct rsp_session *s, uint64_t addr, size_t len)
{
	long got;

	if (!s->ops->read_mem)
		return -EOPNOTSUPP;
	got = s->ops->read_mem(s->t, gen_thread(s), addr, s->scratch, len);
	if (got == 0)
		return -EFAULT;
	if (got > (long)len)
		got = (long)len;
	return got;
}

static enum reply handle_m(struct rsp_session *s, const char *p,
			   const char *end)
{
	uint64_t addr, len;
	long got;

	if (rsp_take_hex_u64(&p, end, ',', &addr) ||
	    rsp_take_hex_u64(&p, end, 0, &len))
		return reply_bad(s);
	if (len == 0)
		return reply_empty(s);
	/* A short reply is a short read; the client asks for the rest. */
	got = read_mem(s, addr, clamp_len(addr, len, s->packet_size / 2));
	if (got < 0)
		return reply_errno(s, got);
	rsp__buf_reset(&s->rb);
	rsp__buf_hex(&s->rb, s->scratch, (size_t)got);
	return REPLY;
}

static enum reply write_mem(struct rsp_session *s, uint64_t addr, size_t len)
{
	int ret;

	/* gdb probes X support with a zero-length write. */
	if (len == 0)
		return reply_ok(s);
	if (!s->ops->write_mem)
		return reply_empty(s);
	if (clamp_len(addr, len, len) != len)
		return reply_errno(s, -EFAULT);
	ret = s->ops->write_mem(s->t, gen_thread(s), addr, s->scratch, len);
	if (ret)
		return reply_errno(s, ret);
	return reply_ok(s);
}

static enum reply handle_M(struct rsp_session *s, const char *p,
			   const char *end)
{
	uint64_t addr, len;
	ssize_t n;

	if (rsp_take_hex_u64(&p, end, ',', &addr) ||
	    rsp_take_hex_u64(&p, end, ':', &len))
		return reply_bad(s);
	n = rsp_hex_decode(p, (size_t)(end - p), s->scratch, s->packet_size);
	if (n < 0 || (uint64_t)n != len)
		return reply_bad(s);
	return write_mem(s, addr, (size_t)n);
}

static enum reply handle_X(struct rsp_session *s, const char *p,
			   const char *end)
{
	uint64_t addr, len;
	ssize_t n;

	if (rsp_take_hex_u64(&p, end, ',', &addr) ||
	    rsp_take_hex_u64(&p, end, ':', &len))
		return reply_bad(s);
	n = rsp_bin_unescape((const uint8_t *)p, (size_t)(end - p), s->scratch,
			     s->packet_size);
	if (n < 0 || (uint64_t)n != len)
		return reply_bad(s);
	return write_mem(s, addr, (size_t)n);
}

/*
 * lldb's bare 'x' data is ambiguous: lldb 14 classifies every reply by
 * its decoded text before looking at what it asked for, so raw memory
 * that reads "OK", "+", "-" or "Exx[;hex]" would be taken for an
 * acknowledgement or an error (StringExtractorGDBRemote::GetResponseType).
 */
static bool is_hex_digit(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool lldb_misreads(const uint8_t *d, size_t n)
{
	size_t i;

	if (n == 1)
		return d[0] == '+' || d[0] == '-';
	if (n == 2)
		return d[0] == 'O' && d[1] == 'K';
	if (n < 3 || d[0] != 'E' || !is_hex_digit(d[1]) || !is_hex_digit(d[2]))
		return false;
	if (n == 3)
		return true;
	if (d[3] != ';')
		return false;
	for (i = 4; i < n; i++)
		if (!is_hex_digit(d[i]))
			return false;
	return true;
}

/*
 * 'x' has two dialects. gdb (16 and later) wants "b" before the data and
 * uses 'x' only because our qSupported reply says binary-upload+ (the
 * feature is the stub's, per the gdb commit that added it); lldb 14 has
 * always sent 'x' and wants the bare data. lldb is recognised by its own
 * packets (QThreadSuffixSupported and friends come long before its
 * "x0,0" probe); a client that asks for binary-upload+ itself gets "b".
 */
static enum reply handle_x(struct rsp_session *s, const char *p,
			   const char *end)
{
	bool prefix = s->client.binary_upload || !s->lldb;
	size_t room = s->packet_size - (prefix ? 1 : 0);
	uint64_t addr, len;
	size_t fit;
	long got;

	if (rsp_take_hex_u64(&p, end, ',', &addr) ||
	    rsp_take_hex_u64(&p, end, 0, &len))
		return reply_bad(s);
	/* lldb's probe for 'x' support is "x0,0" expecting OK. */
	if (len == 0)
		return reply_ok(s);
	got = read_mem(s, addr, clamp_len(addr, len, room));
	if (got < 0)
		return reply_errno(s, got);
	fit = rsp_bin_escape_fit(s->scratch, (size_t)got, room);
	if (!prefix && lldb_misreads(s->scratch, fit)) {
		/*
		 * A shorter read is never misread: 'O' or 'E' alone. A lone
		 * '+' or '-' needs one byte more; lldb keeps only what it
		 * asked for, and without that byte there is no honest
		 * answer but an error.
		 */
		if (fit > 1) {
			fit = 1;
		} else {
			got = read_mem(s, addr, clamp_len(addr, 2, 2));
			if (got < 2)
				return reply_errno(s, -EFAULT);
			fit = 2;
		}
	}
	rsp__buf_reset(&s->rb);
	if (prefix)
		rsp__buf_put(&s->rb, "b", 1);
	rsp__buf_put(&s->rb, s->scratch, fit);
	return REPLY;
}

/*
 * Packets: execution
 */

static bool range_step_ok(const struct rsp_session *s)
{
	return s->ops->supports_range_step && s->ops->supports_range_step(s->t);
}

static void resume_init(struct rsp_session *s, struct rsp_resume *r)
{
	memset(r, 0, sizeof(*r));
	r->nr_threads = nr_threads(s);
}

static enum reply do_resume(struct rsp_session *s, struct rsp_resume *r)
{
	bool any = false;
	unsigned i;
	int ret;

	for (i = 0; i < r->nr_threads; i++) {
		if (r->thread[i].action == RSP_ACTION_RANGE_STEP &&
		    !range_step_ok(s))
			/* Degenerate range stepping: one step, which the
			 * protocol explicitly allows. */
			r->thread[i].action = RSP_ACTION_STEP;
		if (r->thread[i].action != RSP_ACTION_STOP)
			any = true;
	}
	if (!any) {
		/*
		 * Nothing to run ("vCont;t" in all-stop): no stop would
		 * ever come, so report at once, with signal 0 as a 't' stop
		 * is reported, and gdb's new general thread.
		 */
		s->gen_thread = 0;
		rsp__buf_reset(&s->rb);
		put_stop_t(s, 0, stop_thread(s), NULL);
		return REPLY;
	}
	if (!s->ops->resume)
		return reply_empty(s);
	ret = s->ops->resume(s->t, r);
	if (ret)
		return reply_errno(s, ret);
	s->running = true;
	s->waiting = true;
	return NO_REPLY;
}

/* c [addr], s [addr], C sig[;addr], S sig[;addr]: the deprecated forms,
 * acting on the Hc thread. */
static enum reply handle_legacy_resume(struct rsp_session *s, char cmd,
				       const char *p, const char *end)
{
	enum rsp_action act =
	    (cmd == 'c' || cmd == 'C') ? RSP_ACTION_CONTINUE : RSP_ACTION_STEP;
	uint64_t sig = 0, addr;
	bool has_addr = false;
	struct rsp_resume r;
	unsigned primary, i;
	int ret;

	if (cmd == 'C' || cmd == 'S') {
		const char *semi = memchr(p, ';', (size_t)(end - p));

		if (rsp_take_hex_u64(&p, end, semi ? ';' : 0, &sig) ||
		    sig > 0xff)
			return reply_bad(s);
		if (semi && p == end)
			return reply_bad(s);
	}
	if (p < end) {
		if (rsp_take_hex_u64(&p, end, 0, &addr))
			return reply_bad(s);
		has_addr = true;
	}

	/*
	 * As gdbserver does: a specific Hc thread runs alone; otherwise the
	 * current thread takes the action (and the signal) and every other
	 * thread continues.
	 */
	primary = s->cont_thread && thread_ok(s, s->cont_thread)
		      ? s->cont_thread
		      : gen_thread(s);
	if (has_addr) {
		ret = write_pc(s, primary, addr);
		if (ret)
			return reply_errno(s, ret);
	}
	resume_init(s, &r);
	for (i = 0; i < r.nr_threads; i++) {
		if (i + 1 == primary) {
			r.thread[i].action = act;
			r.thread[i].signal = (int)sig;
		} else if (!s->cont_thread) {
			r.thread[i].action = RSP_ACTION_CONTINUE;
		}
	}
	return do_resume(s, &r);
}

/* One vCont action "c", "C05", "s", "S05", "t", "r1000,2000", without
 * its ":tid". */
static int parse_vcont_action(const char *p, const char *end,
			      enum rsp_action *act, int *sig, uint64_t *start,
			      uint64_t *stop_at)
{
	uint64_t v;
	char c;

	if (p == end)
		return -EINVAL;
	c = *p++;
	*sig = 0;
	switch (c) {
	case 'c':
	case 's':
	case 't':
		if (p != end)
			return -EINVAL;
		*act = c == 'c'	  ? RSP_ACTION_CONTINUE
		       : c == 's' ? RSP_ACTION_STEP
				  : RSP_ACTION_STOP;
		return 0;
	case 'C':
	case 'S':
		if (rsp_take_hex_u64(&p, end, 0, &v) || v > 0xff)
			return -EINVAL;
		*act = c == 'C' ? RSP_ACTION_CONTINUE : RSP_ACTION_STEP;
		*sig = (int)v;
		return 0;
	case 'r':
		if (rsp_take_hex_u64(&p, end, ',', start) ||
		    rsp_take_hex_u64(&p, end, 0, stop_at))
			return -EINVAL;
		*act = RSP_ACTION_RANGE_STEP;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * "vCont;action[:tid];action[:tid]...". Each thread takes the leftmost
 * action that names it or names no thread; threads no action covers stay
 * stopped. The whole packet is parsed before anything runs.
 */
static enum reply handle_vcont(struct rsp_session *s, const char *p,
			       const char *end)
{
	bool taken[RSP_MAX_THREADS] = {false};
	struct rsp_resume r;

	resume_init(s, &r);
	if (p == end)
		return reply_bad(s);
	while (p < end) {
		const char *a, *colon;
		size_t alen;
		enum rsp_action act;
		enum tid_kind kind = TID_ALL;
		uint64_t start = 0, stop_at = 0;
		unsigned tid = 0, i;
		int sig;

		if (!rsp_take_char(&p, end, ';'))
			return reply_bad(s);
		a = p;
		while (p < end && *p != ';')
			p++;
		alen = (size_t)(p - a);
		colon = memchr(a, ':', alen);
		if (colon) {
			if (parse_tid(s, colon + 1,
				      alen - (size_t)(colon + 1 - a), &kind,
				      &tid))
				return reply_bad(s);
			alen = (size_t)(colon - a);
		}
		if (parse_vcont_action(a, a + alen, &act, &sig, &start,
				       &stop_at))
			return reply_bad(s);
		/* Thread 0, "any thread", is the current one. */
		if (kind == TID_ANY) {
			kind = TID_ONE;
			tid = gen_thread(s);
		}
		for (i = 0; i < r.nr_threads; i++) {
			if (taken[i] || (kind == TID_ONE && tid != i + 1))
				continue;
			taken[i] = true;
			r.thread[i].action = act;
			r.thread[i].signal = sig;
			r.thread[i].start = start;
			r.thread[i].end = stop_at;
		}
	}
	return do_resume(s, &r);
}

static void request_close(struct rsp_session *s)
{
	s->closing = true;
	drop_held(s);
}

static enum reply handle_kill(struct rsp_session *s, bool vkill)
{
	int ret = s->ops->kill ? s->ops->kill(s->t) : -EOPNOTSUPP;

	if (vkill) {
		if (ret)
			return reply_errno(s, ret);
		send_packet(s, "OK", 2);
		request_close(s);
		return NO_REPLY;
	}
	/*
	 * 'k' has no reply in the protocol and gdb reads none, but lldb
	 * waits for the exit status (ProcessGDBRemote::DoDestroy), so it
	 * gets the one a killed process would have.
	 */
	if (s->lldb)
		send_packet(s, "X09", 3);
	request_close(s);
	return NO_REPLY;
}

static enum reply handle_detach(struct rsp_session *s, const char *p,
				const char *end)
{
	uint64_t pid;
	int ret;

	/* "D" or "D;pid"; lldb's "D1" (stay stopped) is not offered. */
	if (p < end && (!rsp_take_char(&p, end, ';') ||
			rsp_take_hex_u64(&p, end, 0, &pid)))
		return reply_bad(s);
	if (!s->ops->detach)
		return reply_empty(s);
	ret = s->ops->detach(s->t);
	if (ret)
		return reply_errno(s, ret);
	send_packet(s, "OK", 2);
	request_close(s);
	return NO_REPLY;
}

static enum reply handle_H(struct rsp_session *s, const char *p,
			   const char *end)
{
	enum tid_kind kind;
	unsigned tid;
	char op;

	if (p == end)
		return reply_bad(s);
	op = *p++;
	if ((op != 'g' && op != 'c') ||
	    parse_tid(s, p, (size_t)(end - p), &kind, &tid))
		return reply_bad(s);
	if (op == 'g')
		s->gen_thread = tid;
	else
		s->cont_thread = tid;
	return reply_ok(s);
}

static enum reply handle_T(struct rsp_session *s, const char *p,
			   const char *end)
{
	enum tid_kind kind;
	unsigned tid;

	if (parse_tid(s, p, (size_t)(end - p), &kind, &tid) || kind != TID_ONE)
		return reply_bad(s);
	return reply_ok(s);
}

static enum reply handle_Z(struct rsp_session *s, bool insert, const char *p,
			   const char *end)
{
	uint64_t type, addr, kind;
	const char *f;
	size_t flen;
	bool tail;
	int ret;

	if (rsp_take_hex_u64(&p, end, ',', &type) ||
	    rsp_take_hex_u64(&p, end, ',', &addr))
		return reply_bad(s);
	tail = rsp_take_field(&p, end, ';', &f, &flen) == 1;
	if (rsp_parse_hex_u64(f, flen, &kind))
		return reply_bad(s);
	if (type > RSP_BP_ACCESS)
		return reply_empty(s);
	if (insert) {
		/* Conditions and commands stay raw, from their ';' on. */
		const uint8_t *cond = tail ? (const uint8_t *)p - 1 : NULL;
		size_t cond_len = tail ? (size_t)(end - p) + 1 : 0;

		if (!s->ops->insert_bp)
			return reply_empty(s);
		ret = s->ops->insert_bp(s->t, (enum rsp_bp_type)type, addr,
					kind, cond, cond_len);
	} else {
		if (tail)
			return reply_bad(s);
		if (!s->ops->remove_bp)
			return reply_empty(s);
		ret =
		    s->ops->remove_bp(s->t, (enum rsp_bp_type)type, addr, kind);
	}
	if (ret)
		return reply_errno(s, ret);
	return reply_ok(s);
}

/*
 * Packets: queries
 */

/* True if [*p, end) is name, optionally followed by sep and arguments;
 * *p then points at the arguments. */
static bool take_cmd(const char **p, const char *end, const char *name,
		     char sep)
{
	const char *q = *p;

	if (!rsp_take_prefix(&q, end, name))
		return false;
	if (q == end) {
		*p = q;
		return true;
	}
	if (!sep || *q != sep)
		return false;
	*p = q + 1;
	return true;
}

static enum reply handle_thread_list(struct rsp_session *s, bool first)
{
	unsigned nr = nr_threads(s);
	size_t mark;
	bool any = false;

	if (first)
		s->list_next = 1;
	if (s->list_next == 0 || s->list_next > nr)
		return reply_str(s, "l");
	rsp__buf_reset(&s->rb);
	rsp__buf_put(&s->rb, "m", 1);
	for (; s->list_next <= nr; s->list_next++) {
		mark = s->rb.len;
		rsp__buf_printf(&s->rb, any ? ",%x" : "%x", s->list_next);
		if (s->rb.overflow) {
			/* The rest goes in the next qsThreadInfo. */
			s->rb.len = mark;
			s->rb.overflow = false;
			break;
		}
		any = true;
	}
	return REPLY;
}

static enum reply handle_thread_extra(struct rsp_session *s, const char *p,
				      const char *end)
{
	char text[256] = "";
	enum tid_kind kind;
	unsigned tid;
	int ret = -EOPNOTSUPP;

	if (parse_tid(s, p, (size_t)(end - p), &kind, &tid) || kind != TID_ONE)
		return reply_bad(s);
	if (s->ops->thread_extra)
		ret = s->ops->thread_extra(s->t, tid, text, sizeof(text) - 1);
	if (ret && s->ops->thread_name) {
		memset(text, 0, sizeof(text));
		ret = s->ops->thread_name(s->t, tid, text, sizeof(text) - 1);
	}
	if (ret)
		text[0] = 0;
	text[sizeof(text) - 1] = 0;
	rsp__buf_reset(&s->rb);
	rsp__buf_hex(&s->rb, text, strlen(text));
	return REPLY;
}

/* qXfer:object:read:annex:offset,length. */
static enum reply handle_qxfer(struct rsp_session *s, const char *p,
			       const char *end)
{
	const char *object, *op, *annex;
	size_t object_len, op_len, annex_len;
	char annex_z[ANNEX_MAX];
	uint64_t off, len;
	const char *doc = NULL;
	char *owned = NULL;
	size_t doc_len = 0;

	if (rsp_take_field(&p, end, ':', &object, &object_len) != 1 ||
	    rsp_take_field(&p, end, ':', &op, &op_len) != 1)
		return reply_empty(s);
	if (op_len != 4 || memcmp(op, "read", 4))
		return reply_empty(s);
	if (rsp_take_field(&p, end, ':', &annex, &annex_len) != 1 ||
	    rsp_take_hex_u64(&p, end, ',', &off) ||
	    rsp_take_hex_u64(&p, end, 0, &len) || len == 0)
		return reply_str(s, "E00");
	if (annex_len >= sizeof(annex_z) || memchr(annex, 0, annex_len))
		return reply_str(s, "E00");
	memcpy(annex_z, annex, annex_len);
	annex_z[annex_len] = 0;

#define OBJECT_IS(name)                                                        \
	(object_len == sizeof(name) - 1 && !memcmp(object, name, object_len))
	if (OBJECT_IS("features")) {
		if (!s->ops->features_xml)
			return reply_empty(s);
		doc = s->ops->features_xml(s->t, annex_z);
		if (doc)
			doc_len = strlen(doc);
	} else if (OBJECT_IS("threads")) {
		if (annex_len)
			return reply_str(s, "E00");
		owned = rsp__threads_xml(s->ops, s->t, nr_threads(s), &doc_len);
		if (!owned)
			return reply_errno(s, -ENOMEM);
		doc = owned;
	} else if (OBJECT_IS("exec-file")) {
		/* The annex is a pid; there is one process. */
		if (!s->ops->exec_file)
			return reply_empty(s);
		doc = s->ops->exec_file(s->t);
		if (doc)
			doc_len = strlen(doc);
	} else {
		return reply_empty(s);
	}
#undef OBJECT_IS
	if (!doc)
		return reply_str(s, "E00");
	rsp__buf_reset(&s->rb);
	rsp__xfer_reply(&s->rb, doc, doc_len, off, len, s->packet_size);
	free(owned);
	return REPLY;
}

static enum reply handle_rcmd(struct rsp_session *s, const char *p,
			      const char *end)
{
	size_t out_len, chunk, off;
	ssize_t n;
	int ret;

	n = rsp_hex_decode(p, (size_t)(end - p), s->scratch,
			   s->packet_size - 1);
	if (n < 0 || memchr(s->scratch, 0, (size_t)n))
		return reply_bad(s);
	s->scratch[n] = 0;
	if (!s->ops->monitor)
		return reply_empty(s);
	memset(s->monitor_out, 0, MONITOR_OUT_MAX + 1);
	ret = s->ops->monitor(s->t, (const char *)s->scratch, s->monitor_out,
			      MONITOR_OUT_MAX);
	out_len = strnlen(s->monitor_out, MONITOR_OUT_MAX);
	/* Console output packets, each "O" and hex, each within the size. */
	chunk = (s->packet_size - 1) / 2;
	for (off = 0; off < out_len; off += chunk) {
		size_t this = out_len - off < chunk ? out_len - off : chunk;

		rsp__buf_reset(&s->rb);
		rsp__buf_put(&s->rb, "O", 1);
		rsp__buf_hex(&s->rb, s->monitor_out + off, this);
		send_reply(s);
	}
	if (ret)
		return reply_errno(s, ret);
	return reply_ok(s);
}

static enum reply handle_host_info(struct rsp_session *s, bool process)
{
	const char *triple =
	    s->ops->arch_triple ? s->ops->arch_triple(s->t) : NULL;
	unsigned ptrsize =
	    s->ops->pointer_size ? s->ops->pointer_size(s->t) : 0;

	s->lldb = true;
	if (!triple)
		return reply_empty(s);
	rsp__buf_reset(&s->rb);
	if (process)
		rsp__buf_puts(&s->rb, "pid:1;");
	/* Hex-encoded in both replies, as lldb parses "triple". */
	rsp__buf_puts(&s->rb, "triple:");
	rsp__buf_hex(&s->rb, triple, strnlen(triple, 128));
	rsp__buf_puts(&s->rb, ";");
	if (ptrsize)
		rsp__buf_printf(&s->rb, "ptrsize:%u;", ptrsize);
	rsp__buf_printf(&s->rb, "endian:%s;", big_endian(s) ? "big" : "little");
	return REPLY;
}

static enum reply handle_thread_stop_info(struct rsp_session *s, const char *p,
					  const char *end)
{
	enum tid_kind kind;
	unsigned tid;

	if (parse_tid(s, p, (size_t)(end - p), &kind, &tid) || kind != TID_ONE)
		return reply_bad(s);
	if (s->stop.kind != RSP_STOP_SIGNAL || tid == stop_thread(s))
		return reply_stop(s, &s->stop);
	/* A thread that merely stopped with the others: "T00", as the lldb
	 * documentation asks. */
	rsp__buf_reset(&s->rb);
	put_stop_t(s, 0, tid, NULL);
	return REPLY;
}

static enum reply handle_region_info(struct rsp_session *s, const char *p,
				     const char *end)
{
	struct rsp_mem_region r;
	uint64_t addr;
	int ret;

	if (rsp_take_hex_u64(&p, end, 0, &addr))
		return reply_bad(s);
	if (!s->ops->mem_region)
		return reply_empty(s);
	memset(&r, 0, sizeof(r));
	ret = s->ops->mem_region(s->t, gen_thread(s), addr, &r);
	if (ret)
		return reply_errno(s, ret);
	/*
	 * lldb walks regions by start + size until the end is
	 * LLDB_INVALID_ADDRESS (UINT64_MAX), so the last region must end
	 * there and not wrap to 0, or lldb 14 loops forever (seen when its
	 * expression evaluator looks for free memory). An empty region, or
	 * one that does not hold addr, would stall the walk as well.
	 */
	if (r.size > UINT64_MAX - r.start)
		r.size = UINT64_MAX - r.start;
	if (r.size == 0 || addr < r.start || addr - r.start >= r.size)
		return reply_bad(s);
	rsp__buf_reset(&s->rb);
	rsp__buf_printf(&s->rb, "start:%" PRIx64 ";size:%" PRIx64 ";", r.start,
			r.size);
	/* No permissions key: nothing is mapped there. */
	if (r.mapped && (r.readable || r.writable || r.executable))
		rsp__buf_printf(&s->rb, "permissions:%s%s%s;",
				r.readable ? "r" : "", r.writable ? "w" : "",
				r.executable ? "x" : "");
	return REPLY;
}

static enum reply handle_q(struct rsp_session *s, const char *p,
			   const char *end)
{
	const char *a = p;

	if (take_cmd(&a, end, "qSupported", ':')) {
		struct rsp__stub_features f = {
		    .packet_size = s->packet_size,
		    .features_xml = s->ops->features_xml &&
				    s->ops->features_xml(s->t, "target.xml"),
		    .exec_file = s->ops->exec_file && s->ops->exec_file(s->t),
		    .conditions = s->ops->supports_conditions &&
				  s->ops->supports_conditions(s->t),
		};

		rsp__parse_client_features(a, end, &s->client);
		rsp__buf_reset(&s->rb);
		rsp__supported_reply(&s->rb, &f);
		return REPLY;
	}
	if (take_cmd(&a, end, "qXfer", ':'))
		return handle_qxfer(s, a, end);
	if (take_cmd(&a, end, "qC", 0)) {
		rsp__buf_reset(&s->rb);
		rsp__buf_printf(&s->rb, "QC%x", gen_thread(s));
		return REPLY;
	}
	if (take_cmd(&a, end, "qfThreadInfo", 0))
		return handle_thread_list(s, true);
	if (take_cmd(&a, end, "qsThreadInfo", 0))
		return handle_thread_list(s, false);
	if (take_cmd(&a, end, "qThreadExtraInfo", ','))
		return a == end ? reply_bad(s) : handle_thread_extra(s, a, end);
	if (take_cmd(&a, end, "qAttached", ':'))
		return reply_str(s, "1");
	if (take_cmd(&a, end, "qOffsets", 0))
		/* Sections sit at their link addresses. */
		return reply_str(s, "Text=0;Data=0;Bss=0");
	if (take_cmd(&a, end, "qSymbol", ':'))
		return reply_ok(s);
	if (take_cmd(&a, end, "qRcmd", ','))
		/* "qRcmd," is an empty command; "qRcmd" is malformed. */
		return a[-1] != ',' ? reply_bad(s) : handle_rcmd(s, a, end);
	if (take_cmd(&a, end, "qHostInfo", 0))
		return handle_host_info(s, false);
	if (take_cmd(&a, end, "qProcessInfo", 0))
		return handle_host_info(s, true);
	if (rsp_take_prefix(&a, end, "qThreadStopInfo"))
		return handle_thread_stop_info(s, a, end);
	if (take_cmd(&a, end, "qMemoryRegionInfo", ':'))
		return a == end ? reply_bad(s) : handle_region_info(s, a, end);
	if (take_cmd(&a, end, "qWatchpointSupportInfo", ':')) {
		if (!s->ops->nr_watchpoints)
			return reply_empty(s);
		rsp__buf_reset(&s->rb);
		rsp__buf_printf(&s->rb, "num:%u;",
				s->ops->nr_watchpoints(s->t));
		return REPLY;
	}
	if (rsp_take_prefix(&a, end, "qRegisterInfo")) {
		/* lldb falls back to target.xml on the empty reply. */
		s->lldb = true;
		return reply_empty(s);
	}
	/*
	 * Everything else is unsupported, and the empty reply says so: qTStatus
	 * (no tracepoints), lldb's qGetWorkingDir, qQueryGDBServer,
	 * qShlibInfoAddr, qVAttachOrWaitSupported, qStructuredDataPlugins,
	 * qfProcessInfo and the like.
	 */
	return reply_empty(s);
}

static enum reply handle_Q(struct rsp_session *s, const char *p,
			   const char *end)
{
	const char *a = p;

	if (take_cmd(&a, end, "QStartNoAckMode", 0)) {
		/* The OK still goes out under acks; they stop after it. */
		reply_ok(s);
		send_reply(s);
		s->acks = false;
		s->noack_reply_last = true;
		return NO_REPLY;
	}
	if (take_cmd(&a, end, "QThreadSuffixSupported", 0)) {
		s->thread_suffix = true;
		s->lldb = true;
		return reply_ok(s);
	}
	if (take_cmd(&a, end, "QListThreadsInStopReply", 0)) {
		s->threads_in_stop = true;
		s->lldb = true;
		return reply_ok(s);
	}
	if (take_cmd(&a, end, "QEnableErrorStrings", 0)) {
		/* Accepted; replies keep to plain Exx, which is allowed. */
		s->lldb = true;
		return reply_ok(s);
	}
	return reply_empty(s);
}

static enum reply handle_v(struct rsp_session *s, const char *p,
			   const char *end)
{
	const char *a = p;

	if (take_cmd(&a, end, "vCont?", 0))
		return reply_str(s, range_step_ok(s) ? "vCont;c;C;s;S;t;r"
						     : "vCont;c;C;s;S;t");
	if (rsp_take_prefix(&a, end, "vCont") && (a == end || *a == ';'))
		return handle_vcont(s, a, end);
	a = p;
	if (take_cmd(&a, end, "vCtrlC", 0))
		/* Already stopped: nothing to interrupt. */
		return reply_ok(s);
	if (take_cmd(&a, end, "vKill", ';'))
		return handle_kill(s, true);
	/* vMustReplyEmpty and every unknown v packet: empty, as required. */
	return reply_empty(s);
}

static enum reply handle(struct rsp_session *s, const char *p, const char *end)
{
	char cmd = *p;

	switch (cmd) {
	case '?':
		if (p + 1 != end)
			return reply_bad(s);
		return reply_stop(s, &s->stop);
	case 'g':
		return handle_g(s, p + 1, end);
	case 'G':
		return handle_G(s, p + 1, end);
	case 'p':
		return handle_p(s, p + 1, end);
	case 'P':
		return handle_P(s, p + 1, end);
	case 'm':
		return handle_m(s, p + 1, end);
	case 'M':
		return handle_M(s, p + 1, end);
	case 'X':
		return handle_X(s, p + 1, end);
	case 'x':
		return handle_x(s, p + 1, end);
	case 'c':
	case 's':
	case 'C':
	case 'S':
		return handle_legacy_resume(s, cmd, p + 1, end);
	case 'H':
		return handle_H(s, p + 1, end);
	case 'T':
		return handle_T(s, p + 1, end);
	case 'Z':
	case 'z':
		return handle_Z(s, cmd == 'Z', p + 1, end);
	case 'k':
		return handle_kill(s, false);
	case 'D':
		return handle_detach(s, p + 1, end);
	case 'q':
		return handle_q(s, p, end);
	case 'Q':
		return handle_Q(s, p, end);
	case 'v':
		return handle_v(s, p, end);
	default:
		/* Includes lldb's j... JSON packets: none is offered. */
		return reply_empty(s);
	}
}

static void dispatch(struct rsp_session *s, const uint8_t *data, size_t len,
		     bool oversize)
{
	const char *p = (const char *)data;

	if (dead(s))
		return;
	if (oversize) {
		/* EMSGSIZE: the packet was longer than our PacketSize. */
		reply_str(s, "E90");
		send_reply(s);
		return;
	}
	if (len == 0) {
		reply_empty(s);
		send_reply(s);
		return;
	}
	if (log_enabled(LOG_TRACE))
		log_trace("rsp: <- %.*s", (int)(len < 80 ? len : 80), p);
	if (handle(s, p, p + len) == REPLY)
		send_reply(s);
}

/*
 * Framing
 */

static bool is_vctrlc(const uint8_t *data, size_t len)
{
	return len == 6 && !memcmp(data, "vCtrlC", 6);
}

static void interrupt_target(struct rsp_session *s)
{
	int ret;

	if (!s->ops->interrupt)
		return;
	ret = s->ops->interrupt(s->t);
	if (ret)
		log_warn("rsp: interrupt failed: %s", strerror(-ret));
}

static void got_packet(struct rsp_session *s, const uint8_t *data, size_t len,
		       bool oversize)
{
	if (s->running && !oversize && is_vctrlc(data, len)) {
		/* The OK now, the stop reply when the target stops. */
		interrupt_target(s);
		send_packet(s, "OK", 2);
		return;
	}
	/* Held packets keep their order behind anything already held. */
	if (s->running || s->held_head || s->held_refused) {
		hold(s, data, len, oversize);
		return;
	}
	dispatch(s, data, len, oversize);
}

static void on_frame(const struct rsp_frame *f, void *opaque)
{
	struct rsp_session *s = opaque;

	if (dead(s))
		return;
	switch (f->kind) {
	case RSP_FRAME_ACK:
		break;
	case RSP_FRAME_NAK:
		if ((s->acks || s->noack_reply_last) && s->last_len)
			send_raw(s, s->last, s->last_len);
		break;
	case RSP_FRAME_INTERRUPT:
		if (s->running)
			interrupt_target(s);
		break;
	case RSP_FRAME_PACKET:
		if (s->acks)
			send_raw(s, "+", 1);
		got_packet(s, f->payload, f->len, false);
		break;
	case RSP_FRAME_BAD_CHECKSUM:
		/*
		 * Without acks nobody would resend, so the packet is taken
		 * as it came, as gdbserver and lldb do in no-ack mode.
		 */
		if (s->acks) {
			send_raw(s, "-", 1);
			break;
		}
		got_packet(s, f->payload, f->len, false);
		break;
	case RSP_FRAME_OVERSIZE:
		if (s->acks && f->csum_sent != f->csum_calc) {
			send_raw(s, "-", 1);
			break;
		}
		if (s->acks)
			send_raw(s, "+", 1);
		got_packet(s, NULL, f->len, true);
		break;
	case RSP_FRAME_RESTART:
	case RSP_FRAME_NOTIFICATION:
	case RSP_FRAME_GARBAGE:
	default:
		log_debug("rsp: ignored %s (%zu bytes)",
			  rsp_frame_kind_name(f->kind), f->len);
		break;
	}
}

/*
 * Entry points
 */

static void take_pending_input(struct rsp_session *s)
{
	/* Feed a private copy: new re-entrant input appends to the
	 * pending buffer while this runs. */
	size_t len = s->pending_in_len;
	uint8_t *buf = malloc(len);

	if (!buf) {
		log_error("rsp: out of memory; %zu input bytes lost", len);
		s->pending_in_len = 0;
		return;
	}
	memcpy(buf, s->pending_in, len);
	s->pending_in_len = 0;
	rsp_framer_feed(s->framer, buf, len, on_frame, s);
	free(buf);
}

/*
 * The work that may not run inside a handler, in order: a stop that was
 * reported from inside an op, then held packets while the target is
 * stopped, then input that arrived re-entrantly.
 */
static void run_deferred(struct rsp_session *s)
{
	while (!dead(s)) {
		if (s->stop_pending) {
			s->stop_pending = false;
			handle_stop(s, &s->pending_stop);
			continue;
		}
		if (!s->running && run_one_held(s))
			continue;
		if (s->pending_in_len) {
			take_pending_input(s);
			continue;
		}
		break;
	}
}

static void enter(struct rsp_session *s)
{
	s->busy = true;
}

/* Must be the last thing a public entry point does: io.close may free
 * the session. */
static void leave(struct rsp_session *s)
{
	/* Still busy while deferred work runs, so that anything it
	 * triggers is deferred in turn instead of nesting. */
	run_deferred(s);
	s->busy = false;
	if (s->closing && !s->closed && !s->disconnected) {
		s->closed = true;
		s->io.close(s->io.opaque);
	}
}

void rsp_session_input(struct rsp_session *s, const uint8_t *data, size_t len)
{
	if (dead(s) || len == 0)
		return;
	if (s->busy) {
		if (len > s->pending_in_cap - s->pending_in_len) {
			size_t cap = s->pending_in_len + len;
			uint8_t *p = realloc(s->pending_in, cap);

			if (!p) {
				log_error("rsp: out of memory; input lost");
				return;
			}
			s->pending_in = p;
			s->pending_in_cap = cap;
		}
		memcpy(s->pending_in + s->pending_in_len, data, len);
		s->pending_in_len += len;
		return;
	}
	enter(s);
	rsp_framer_feed(s->framer, data, len, on_frame, s);
	leave(s);
}

void rsp_session_stopped(struct rsp_session *s, const struct rsp_stop *stop)
{
	if (s->busy) {
		if (s->stop_pending)
			log_warn("rsp: two stops reported at once; "
				 "the later one wins");
		s->pending_stop = *stop;
		s->stop_pending = true;
		return;
	}
	enter(s);
	handle_stop(s, stop);
	leave(s);
}

bool rsp_session_target_running(const struct rsp_session *s)
{
	return s->running;
}

void rsp_session_disconnected(struct rsp_session *s)
{
	s->disconnected = true;
	drop_held(s);
}

int rsp_session_create(const struct rsp_target_ops *ops, void *target,
		       const struct rsp_session_io *io,
		       const struct rsp_session_config *cfg,
		       struct rsp_session **out)
{
	size_t psize =
	    cfg && cfg->packet_size ? cfg->packet_size : RSP_PACKET_SIZE;
	struct rsp_session *s;
	int ret;

	if (!ops || !io || !io->send || !io->close || !out ||
	    psize < RSP_PACKET_SIZE_MIN || psize > RSP_PACKET_SIZE_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->t = target;
	s->io = *io;
	s->packet_size = psize;
	s->acks = true;
	s->held_tail = &s->held_head;
	s->stop.kind = RSP_STOP_SIGNAL;
	s->stop.signal = RSP_SIG_TRAP;
	s->stop.thread = 1;

	ret = rsp_framer_create(psize, &s->framer);
	if (ret)
		goto err_free_session;
	ret = -ENOMEM;
	s->wire_cap = rsp_packet_encode_bound(psize);
	s->reply = malloc(psize);
	s->wire = malloc(s->wire_cap);
	s->last = malloc(s->wire_cap);
	/* One spare byte for the NUL after a monitor command. */
	s->scratch = malloc(psize + 1);
	s->monitor_out = malloc(MONITOR_OUT_MAX + 1);
	if (!s->reply || !s->wire || !s->last || !s->scratch || !s->monitor_out)
		goto err_free_buffers;
	rsp__buf_init(&s->rb, s->reply, psize);

	if (cfg && cfg->target_running) {
		s->running = true;
		ret = s->ops->interrupt ? s->ops->interrupt(s->t) : -EOPNOTSUPP;
		if (ret)
			goto err_free_buffers;
	}
	*out = s;
	return 0;

err_free_buffers:
	free(s->monitor_out);
	free(s->scratch);
	free(s->last);
	free(s->wire);
	free(s->reply);
	rsp_framer_destroy(s->framer);
err_free_session:
	free(s);
	return ret;
}

void rsp_session_destroy(struct rsp_session *s)
{
	if (!s)
		return;
	drop_held(s);
	free(s->pending_in);
	free(s->monitor_out);
	free(s->scratch);
	free(s->last);
	free(s->wire);
	free(s->reply);
	rsp_framer_destroy(s->framer);
	free(s);
}
