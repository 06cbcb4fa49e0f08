/* GDB Remote Serial Protocol session: one debugger connection's state
 * machine. Bytes in, replies out, calls into a struct rsp_target_ops. */
#ifndef KVMDBG_RSP_SESSION_H
#define KVMDBG_RSP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsp/target.h"

/* Advertised PacketSize and the largest packet accepted, by default. */
#define RSP_PACKET_SIZE 0x40000
/* Bounds on rsp_session_config.packet_size: the qSupported reply and a
 * full stop reply must fit below, and buffers stay sane above. */
#define RSP_PACKET_SIZE_MIN 512
#define RSP_PACKET_SIZE_MAX 0x1000000

struct rsp_session;

struct rsp_session_io {
	/*
	 * Bytes for the peer. The transport copies them before returning
	 * and sends them in call order. It may call
	 * rsp_session_disconnected() from here, but must not destroy the
	 * session.
	 */
	void (*send)(void *opaque, const uint8_t *buf, size_t len);
	/*
	 * The session is done with this connection (after D, k, vKill): the
	 * transport should flush what was sent and hang up. Called at most
	 * once, as the last thing the session does in the call that decided
	 * it, so the transport may even destroy the session from here
	 * (deferring that to the close callback is still the better habit).
	 */
	void (*close)(void *opaque);
	void *opaque;
};

struct rsp_session_config {
	/* Advertised PacketSize and framer maximum; 0 means RSP_PACKET_SIZE.
	 * Outside [RSP_PACKET_SIZE_MIN, RSP_PACKET_SIZE_MAX] is -EINVAL. */
	size_t packet_size;
	/*
	 * The connection starts while the target runs (attach to a running
	 * guest): the session calls ops->interrupt at once and the resulting
	 * stop becomes the answer to '?'. Packets that arrive before it are
	 * held and answered after it.
	 */
	bool target_running;
};

/*
 * ops and target must outlive the session; io and cfg are copied. cfg may
 * be NULL for the defaults. Until the first rsp_session_stopped() the last
 * stop is "T05" on thread 1 (stopped at the entry point). Returns 0,
 * -EINVAL, -ENOMEM, or the error of ops->interrupt (target_running).
 */
int rsp_session_create(const struct rsp_target_ops *ops, void *target,
		       const struct rsp_session_io *io,
		       const struct rsp_session_config *cfg,
		       struct rsp_session **out);
void rsp_session_destroy(struct rsp_session *s);

/* Bytes from the peer, any split, including none. */
void rsp_session_input(struct rsp_session *s, const uint8_t *data, size_t len);

/*
 * The target stopped (after resume or interrupt), or exited: the session
 * sends the stop reply (T/W/X) if the debugger is waiting for one, and
 * remembers it for '?'. Held packets are then answered. Called on the
 * same thread as everything else (the libuv loop thread); calling it from
 * inside an op is tolerated (the stop is handled once that op returns).
 */
void rsp_session_stopped(struct rsp_session *s, const struct rsp_stop *stop);

/* Between a resume (or the initial interrupt) and the stop it produces. */
bool rsp_session_target_running(const struct rsp_session *s);

/*
 * The connection dropped: nothing more is sent and input is ignored. The
 * target is left as it is; what becomes of it is the caller's choice.
 */
void rsp_session_disconnected(struct rsp_session *s);

#endif
