/* kvmdbg-ci's side of the GDB remote protocol: starts `kvmdbg --stdio`,
 * exchanges packets on its stdin/stdout with a deadline on every read, and
 * forwards what the server prints on stderr (its messages and the guest
 * console). */
#ifndef KVMDBG_CI_RSP_CLIENT_H
#define KVMDBG_CI_RSP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ci_rsp;

/* Largest reply payload accepted (kvmdbg's PacketSize is smaller). */
#define CI_RSP_MAX_PAYLOAD (64 * 1024)

/*
 * Starts argv[0] with argv (NULL-terminated) and the protocol on its
 * stdin/stdout. What it writes to stderr is copied to console as it
 * arrives. Returns 0 or a negative errno (err says why).
 */
int ci_rsp_start(const char *const *argv, FILE *console, struct ci_rsp **out,
		 char *err, size_t err_len);

/*
 * Sends a packet and waits up to timeout_ms for its reply, a payload
 * with run-length encoding and escapes undone, NUL-terminated (at most
 * cap - 1 bytes are kept). Returns the payload length, -ETIMEDOUT,
 * -EPIPE when the server closed the pipe (it died), -EPROTO or -EMSGSIZE.
 */
long ci_rsp_request(struct ci_rsp *c, const char *payload, char *reply,
		    size_t cap, int timeout_ms);

/* Sends a packet without waiting for anything. */
int ci_rsp_send(struct ci_rsp *c, const char *payload);

/* Waits up to timeout_ms for the next packet; as ci_rsp_request. */
long ci_rsp_receive(struct ci_rsp *c, char *reply, size_t cap, int timeout_ms);

/* Sends the interrupt byte 0x03 (Ctrl-C). */
int ci_rsp_interrupt(struct ci_rsp *c);

/* Turns off acknowledgements once the server agreed to QStartNoAckMode. */
void ci_rsp_set_noack(struct ci_rsp *c);

/*
 * Closes the protocol pipe and waits up to timeout_ms for the server to
 * exit, then kills it (SIGKILL) and reaps it. *status is its wait status;
 * msg gets the last line it printed that starts with "kvmdbg:" (or "").
 * Returns 0 if it exited by itself, -ETIMEDOUT if it had to be killed.
 * Frees c.
 */
int ci_rsp_finish(struct ci_rsp *c, int timeout_ms, int *status, char *msg,
		  size_t msg_len);

/* Kills the server at once (SIGKILL), reaps it and frees c; msg as for
 * ci_rsp_finish. */
void ci_rsp_kill(struct ci_rsp *c, int *status, char *msg, size_t msg_len);

/* Milliseconds on the monotonic clock. */
uint64_t ci_now_ms(void);
double ci_now_s(void);

#endif
