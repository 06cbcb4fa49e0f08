/* Byte transport for the RSP over libuv: a TCP listener (loopback by
 * default), a Unix socket, or the process's stdin/stdout. One client at a
 * time; a second connection is refused while one is active. */
#ifndef KVMDBG_RSP_TRANSPORT_H
#define KVMDBG_RSP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct rsp_transport;

struct rsp_transport_cb {
	void (*connected)(void *opaque);
	void (*data)(void *opaque, const uint8_t *buf, size_t len);
	/* The client went away (EOF, error, or rsp_transport_hangup). */
	void (*disconnected)(void *opaque);
	void *opaque;
};

/* spec: "HOST:PORT" (IPv4 or "[v6]:PORT"; HOST may be omitted for
 * 127.0.0.1), or "unix:PATH" (created 0600; an existing socket file is
 * replaced). Port 0 picks a free port. On failure err says why. */
int rsp_transport_listen(uv_loop_t *loop, const char *spec,
			 const struct rsp_transport_cb *cb,
			 struct rsp_transport **out, char *err, size_t errlen);
/* Serve one client on stdin/stdout (pipes, sockets or a TTY put in raw
 * mode). Connected is called at once. */
int rsp_transport_stdio(uv_loop_t *loop, const struct rsp_transport_cb *cb,
			struct rsp_transport **out, char *err, size_t errlen);

/* "tcp 127.0.0.1 1234" / "unix /path" / "stdio": where it listens, in the
 * form kvmdbg prints for scripts. */
const char *rsp_transport_describe(const struct rsp_transport *t);
/* The bound TCP port, or 0. */
int rsp_transport_port(const struct rsp_transport *t);
/* The address a debugger should be told to use ("127.0.0.1:1234",
 * "/path" for unix). */
const char *rsp_transport_address(const struct rsp_transport *t);

int rsp_transport_send(struct rsp_transport *t, const uint8_t *buf,
		       size_t len);
/* Close the current client once queued output is written. */
void rsp_transport_hangup(struct rsp_transport *t);
/* Stop listening and close everything; frees t from a close callback. */
void rsp_transport_destroy(struct rsp_transport *t);

#endif
