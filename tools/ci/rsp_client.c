/* A blocking GDB remote protocol client over the pipes of a child
 * `kvmdbg --stdio`. Every wait is a poll() with a deadline, so a silent or
 * dead server is an error, never a hang. Framing is kvmdbg's own codec. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsp/packet.h"
#include "rsp_client.h"

#define IN_BUF 65536

struct ci_rsp {
	pid_t pid;
	int to_fd; /* the server's stdin */
	int from_fd; /* its stdout */
	int err_fd; /* its stderr, -1 once closed */
	FILE *console;
	struct rsp_framer *fr;
	bool acks;
	bool eof;
	/* Bytes read but not yet fed to the framer. */
	uint8_t in[IN_BUF];
	size_t in_off, in_len;
	/* The packet the framer just completed. */
	bool have;
	bool nak;
	char *pkt;
	size_t pkt_len;
	/* The last packet sent, for a NAK while acks are on. */
	char *last;
	size_t last_len;
	/* The stderr line being collected and the last "kvmdbg:" line. */
	char line[512];
	size_t line_len;
	char last_msg[512];
};

uint64_t ci_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double ci_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EPIPE ? -EPIPE : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ci_rsp_start(const char *const *argv, FILE *console, struct ci_rsp **out,
		 char *err, size_t err_len)
{
	int in_p[2], out_p[2], err_p[2], exec_p[2];
	struct ci_rsp *c;
	pid_t parent = getpid();
	ssize_t n;
	int ret, code;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->pkt = malloc(CI_RSP_MAX_PAYLOAD + 1);
	ret = rsp_framer_create(CI_RSP_MAX_PAYLOAD, &c->fr);
	if (!c->pkt || ret) {
		free(c->pkt);
		free(c);
		return -ENOMEM;
	}
	c->console = console;
	c->acks = true;
	if (pipe2(in_p, O_CLOEXEC))
		goto err_pipe;
	if (pipe2(out_p, O_CLOEXEC))
		goto err_in;
	if (pipe2(err_p, O_CLOEXEC))
		goto err_out;
	/* Reports a failed exec, which would otherwise look like a server
	 * that died at once. */
	if (pipe2(exec_p, O_CLOEXEC))
		goto err_err;
	c->pid = fork();
	if (c->pid < 0)
		goto err_exec;
	if (c->pid == 0) {
		/* The server must not outlive us, whatever kills us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in_p[0], 0) < 0 || dup2(out_p[1], 1) < 0 ||
		    dup2(err_p[1], 2) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		code = errno;
		n = write(exec_p[1], &code, sizeof(code));
		(void)n;
		_exit(127);
	}
	close(in_p[0]);
	close(out_p[1]);
	close(err_p[1]);
	close(exec_p[1]);
	c->to_fd = in_p[1];
	c->from_fd = out_p[0];
	c->err_fd = err_p[0];
	do
		n = read(exec_p[0], &code, sizeof(code));
	while (n < 0 && errno == EINTR);
	close(exec_p[0]);
	if (n == sizeof(code)) {
		snprintf(err, err_len, "cannot run %s: %s", argv[0],
			 strerror(code));
		ci_rsp_kill(c, &ret, NULL, 0);
		return -code;
	}
	*out = c;
	return 0;

err_exec:
	close(exec_p[0]);
	close(exec_p[1]);
err_err:
	close(err_p[0]);
	close(err_p[1]);
err_out:
	close(out_p[0]);
	close(out_p[1]);
err_in:
	close(in_p[0]);
	close(in_p[1]);
err_pipe:
	ret = -errno;
	snprintf(err, err_len, "cannot start %s: %s", argv[0], strerror(errno));
	rsp_framer_destroy(c->fr);
	free(c->pkt);
	free(c);
	return ret;
}

void ci_rsp_set_noack(struct ci_rsp *c)
{
	c->acks = false;
}

static void console_bytes(struct ci_rsp *c, const char *buf, size_t len)
{
	size_t i;

	if (c->console) {
		fwrite(buf, 1, len, c->console);
		fflush(c->console);
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (c->line_len < sizeof(c->line) - 1)
				c->line[c->line_len++] = buf[i];
			continue;
		}
		c->line[c->line_len] = '\0';
		if (!strncmp(c->line, "kvmdbg:", 7))
			snprintf(c->last_msg, sizeof(c->last_msg), "%s",
				 c->line);
		c->line_len = 0;
	}
}

static void drain_stderr(struct ci_rsp *c)
{
	char buf[4096];
	ssize_t n;

	if (c->err_fd < 0)
		return;
	n = read(c->err_fd, buf, sizeof(buf));
	if (n > 0) {
		console_bytes(c, buf, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(c->err_fd);
		c->err_fd = -1;
	}
}

static void on_frame(const struct rsp_frame *f, void *opaque)
{
	struct ci_rsp *c = opaque;

	if (f->kind == RSP_FRAME_NAK) {
		c->nak = true;
		return;
	}
	if (f->kind != RSP_FRAME_PACKET || c->have)
		return;
	memcpy(c->pkt, f->payload, f->len);
	c->pkt_len = f->len;
	c->have = true;
}

/* Feeds buffered bytes one at a time until a packet is complete, so the
 * bytes after it stay buffered for the next call. */
static void feed(struct ci_rsp *c)
{
	while (c->in_off < c->in_len && !c->have) {
		rsp_framer_feed(c->fr, c->in + c->in_off, 1, on_frame, c);
		c->in_off++;
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
}

/* Undoes run-length encoding and '}' escapes into out. */
static long decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0, rep;

	if (cap == 0)
		return -EMSGSIZE;
	for (i = 0; i < len; i++) {
		char ch = in[i];

		if (ch == '}' && i + 1 < len) {
			ch = (char)(in[++i] ^ 0x20);
		} else if (ch == '*' && o > 0 && i + 1 < len) {
			rep = (size_t)((unsigned char)in[++i]) - 29;
			if ((unsigned char)in[i] < 29 || o + rep >= cap)
				return -EPROTO;
			memset(out + o, out[o - 1], rep);
			o += rep;
			continue;
		}
		if (o + 1 >= cap)
			return -EMSGSIZE;
		out[o++] = ch;
	}
	out[o] = '\0';
	return (long)o;
}

static int send_raw(struct ci_rsp *c, const char *payload, size_t len)
{
	size_t cap = rsp_packet_encode_bound(len);
	uint8_t *buf = malloc(cap);
	ssize_t n;
	int ret;

	if (!buf)
		return -ENOMEM;
	n = rsp_packet_encode((const uint8_t *)payload, len, false, buf, cap);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	ret = write_all(c->to_fd, buf, (size_t)n);
	free(buf);
	return ret;
}

int ci_rsp_send(struct ci_rsp *c, const char *payload)
{
	size_t len = strlen(payload);
	char *copy;

	if (c->acks) {
		copy = strdup(payload);
		if (!copy)
			return -ENOMEM;
		free(c->last);
		c->last = copy;
		c->last_len = len;
	}
	return send_raw(c, payload, len);
}

int ci_rsp_interrupt(struct ci_rsp *c)
{
	return write_all(c->to_fd, "\x03", 1);
}

long ci_rsp_receive(struct ci_rsp *c, char *reply, size_t cap, int timeout_ms)
{
	uint64_t deadline = ci_now_ms() + (uint64_t)(timeout_ms > 0
						      ? timeout_ms : 0);
	struct pollfd pfd[2];
	long ret;
	ssize_t n;
	int r;

	for (;;) {
		feed(c);
		if (c->nak && c->acks && c->last) {
			c->nak = false;
			r = send_raw(c, c->last, c->last_len);
			if (r)
				return r;
		}
		if (c->have) {
			c->have = false;
			if (c->acks) {
				r = write_all(c->to_fd, "+", 1);
				if (r)
					return r;
			}
			ret = decode(c->pkt, c->pkt_len, reply, cap);
			return ret;
		}
		if (c->eof)
			return -EPIPE;
		{
			uint64_t now = ci_now_ms();

			if (now >= deadline)
				return -ETIMEDOUT;
			pfd[0] = (struct pollfd){ .fd = c->from_fd,
						  .events = POLLIN };
			pfd[1] = (struct pollfd){ .fd = c->err_fd,
						  .events = POLLIN };
			r = poll(pfd, 2, (int)(deadline - now));
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			drain_stderr(c);
		if (pfd[0].revents) {
			n = read(c->from_fd, c->in, sizeof(c->in));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				c->eof = true;
				continue;
			}
			c->in_off = 0;
			c->in_len = (size_t)n;
		}
	}
}

long ci_rsp_request(struct ci_rsp *c, const char *payload, char *reply,
		    size_t cap, int timeout_ms)
{
	int ret = ci_rsp_send(c, payload);

	if (ret)
		return ret;
	return ci_rsp_receive(c, reply, cap, timeout_ms);
}

/* Collects the server's last words on stderr for up to timeout_ms. */
static void drain_until_eof(struct ci_rsp *c, int timeout_ms)
{
	uint64_t deadline = ci_now_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd;
	uint64_t now;

	while (c->err_fd >= 0 && (now = ci_now_ms()) < deadline) {
		pfd = (struct pollfd){ .fd = c->err_fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			break;
		drain_stderr(c);
	}
}

static void destroy(struct ci_rsp *c)
{
	if (c->to_fd >= 0)
		close(c->to_fd);
	close(c->from_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	if (c->line_len && c->console) {
		/* A last line without its newline. */
		fputc('\n', c->console);
		fflush(c->console);
	}
	rsp_framer_destroy(c->fr);
	free(c->pkt);
	free(c->last);
	free(c);
}

static bool reap(pid_t pid, int *status, int timeout_ms)
{
	uint64_t deadline = ci_now_ms() + (uint64_t)timeout_ms;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return true;
		if (ci_now_ms() >= deadline)
			return false;
		nanosleep(&ts, NULL);
	}
}

int ci_rsp_finish(struct ci_rsp *c, int timeout_ms, int *status, char *msg,
		  size_t msg_len)
{
	int ret = 0;

	close(c->to_fd);
	c->to_fd = -1;
	drain_until_eof(c, timeout_ms);
	if (!reap(c->pid, status, timeout_ms)) {
		kill(c->pid, SIGKILL);
		reap(c->pid, status, 5000);
		ret = -ETIMEDOUT;
	}
	snprintf(msg, msg_len, "%s", c->last_msg);
	destroy(c);
	return ret;
}

void ci_rsp_kill(struct ci_rsp *c, int *status, char *msg, size_t msg_len)
{
	kill(c->pid, SIGKILL);
	reap(c->pid, status, 5000);
	drain_until_eof(c, 200);
	if (msg_len)
		snprintf(msg, msg_len, "%s", c->last_msg);
	destroy(c);
}
