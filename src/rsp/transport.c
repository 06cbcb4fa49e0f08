/* libuv transport for the RSP. The loop thread owns every handle here;
 * handles are embedded in struct rsp_transport or a client and freed in
 * their close callbacks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "rsp/transport.h"

enum kind { T_TCP, T_UNIX, T_STDIO };

struct client {
	struct rsp_transport *t;
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
		uv_tty_t tty;
	} in;
	/* stdio writes to a second handle; sockets write where they read. */
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_pipe_t pipe;
		uv_tty_t tty;
		uv_tcp_t tcp;
	} out;
	bool separate_out;
	bool closing;
	bool hangup_after_write;
	int open_handles;
	size_t pending;
	char buf[65536];
};

struct rsp_transport {
	uv_loop_t *loop;
	enum kind kind;
	struct rsp_transport_cb cb;
	union {
		uv_handle_t h;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} listener;
	bool listening;
	bool destroyed;
	int open_handles;
	struct client *client;
	int port;
	char path[108];
	char describe[160];
	char address[140];
	struct termios saved_tty;
	bool tty_saved;
};

struct write_req {
	uv_write_t req;
	struct client *c;
	size_t len;
	uint8_t data[];
};

static void maybe_free_transport(struct rsp_transport *t)
{
	if (t->destroyed && t->open_handles == 0 && !t->client) {
		if (t->kind == T_UNIX && t->path[0])
			unlink(t->path);
		free(t);
	}
}

static void client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct rsp_transport *t = c->t;

	if (--c->open_handles > 0)
		return;
	if (t->client == c)
		t->client = NULL;
	free(c);
	maybe_free_transport(t);
}

static void client_close(struct client *c, bool notify)
{
	struct rsp_transport *t = c->t;

	if (c->closing)
		return;
	c->closing = true;
	if (t->kind == T_STDIO && t->tty_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved_tty);
		t->tty_saved = false;
	}
	uv_close(&c->in.h, client_handle_closed);
	if (c->separate_out)
		uv_close(&c->out.h, client_handle_closed);
	if (notify && t->cb.disconnected && !t->destroyed)
		t->cb.disconnected(t->cb.opaque);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;

	(void)suggested;
	*buf = uv_buf_init(c->buf, sizeof(c->buf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;
	struct rsp_transport *t = c->t;

	if (n > 0) {
		if (t->cb.data && !c->closing)
			t->cb.data(t->cb.opaque, (const uint8_t *)buf->base,
				   (size_t)n);
		return;
	}
	if (n == 0)
		return;
	if (n != UV_EOF)
		log_info("debugger connection: %s", uv_strerror((int)n));
	else
		log_info("debugger disconnected");
	client_close(c, true);
}

static void write_cb(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct client *c = w->c;

	c->pending -= w->len;
	free(w);
	if (status < 0 && status != UV_ECANCELED) {
		log_info("debugger connection: write: %s", uv_strerror(status));
		client_close(c, true);
		return;
	}
	if (c->hangup_after_write && c->pending == 0)
		client_close(c, true);
}

int rsp_transport_send(struct rsp_transport *t, const uint8_t *buf,
		       size_t len)
{
	struct client *c = t->client;
	struct write_req *w;
	uv_buf_t b;
	int ret;

	if (!c || c->closing)
		return -ENOTCONN;
	if (!len)
		return 0;
	w = malloc(sizeof(*w) + len);
	if (!w)
		return -ENOMEM;
	memcpy(w->data, buf, len);
	w->c = c;
	w->len = len;
	b = uv_buf_init((char *)w->data, (unsigned)len);
	ret = uv_write(&w->req, c->separate_out ? &c->out.s : &c->in.s, &b, 1,
		       write_cb);
	if (ret < 0) {
		free(w);
		client_close(c, true);
		return ret;
	}
	c->pending += len;
	return 0;
}

void rsp_transport_hangup(struct rsp_transport *t)
{
	struct client *c = t->client;

	if (!c || c->closing)
		return;
	if (c->pending) {
		c->hangup_after_write = true;
		uv_read_stop(&c->in.s);
		return;
	}
	client_close(c, true);
}

static struct client *new_client(struct rsp_transport *t)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c)
		c->t = t;
	return c;
}

static void refuse_closed(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct rsp_transport *t = server->data;
	struct client *c;
	int ret;

	if (status < 0) {
		log_warn("accept: %s", uv_strerror(status));
		return;
	}
	if (t->client) {
		/* One debugger at a time: take the connection off the queue
		 * and close it, so the second client sees a clean refusal. */
		uv_handle_t *h = malloc(t->kind == T_TCP ? sizeof(uv_tcp_t)
							 : sizeof(uv_pipe_t));

		if (!h)
			return;
		if (t->kind == T_TCP)
			uv_tcp_init(t->loop, (uv_tcp_t *)h);
		else
			uv_pipe_init(t->loop, (uv_pipe_t *)h, 0);
		if (uv_accept(server, (uv_stream_t *)h) == 0)
			log_warn("refused a second debugger connection: one "
				 "is already attached");
		uv_close(h, refuse_closed);
		return;
	}
	c = new_client(t);
	if (!c)
		return;
	if (t->kind == T_TCP)
		uv_tcp_init(t->loop, &c->in.tcp);
	else
		uv_pipe_init(t->loop, &c->in.pipe, 0);
	c->in.h.data = c;
	c->open_handles = 1;
	ret = uv_accept(server, &c->in.s);
	if (ret < 0) {
		log_warn("accept: %s", uv_strerror(ret));
		c->closing = true;
		uv_close(&c->in.h, client_handle_closed);
		return;
	}
	if (t->kind == T_TCP)
		/* Packets are small and latency is what a debugger feels. */
		uv_tcp_nodelay(&c->in.tcp, 1);
	t->client = c;
	log_info("debugger connected");
	if (t->cb.connected)
		t->cb.connected(t->cb.opaque);
	if (!c->closing)
		uv_read_start(&c->in.s, alloc_cb, read_cb);
}

static void listener_closed(uv_handle_t *h)
{
	struct rsp_transport *t = h->data;

	t->open_handles--;
	maybe_free_transport(t);
}

/* Parse "HOST:PORT", "[V6]:PORT" or ":PORT"/"PORT". */
static int parse_hostport(const char *spec, struct sockaddr_storage *ss,
			  char *err, size_t errlen)
{
	char host[64] = "127.0.0.1";
	const char *colon, *port_s;
	unsigned long port;
	char *end;
	bool v6 = false;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':' ||
		    (size_t)(close - spec - 1) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = 0;
		port_s = close + 2;
		v6 = true;
	} else if ((colon = strrchr(spec, ':'))) {
		if ((size_t)(colon - spec) >= sizeof(host))
			goto bad;
		if (colon != spec) {
			memcpy(host, spec, (size_t)(colon - spec));
			host[colon - spec] = 0;
		}
		port_s = colon + 1;
	} else {
		port_s = spec;
	}
	if (!*port_s || *port_s == '-' || *port_s == '+')
		goto bad;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss)
	       : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss)) {
		snprintf(err, errlen, "--listen %s: '%s' is not an IP address",
			 spec, host);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "--listen %s: expected HOST:PORT, [IPV6]:PORT or unix:PATH",
		 spec);
	return -EINVAL;
}

static struct rsp_transport *new_transport(uv_loop_t *loop, enum kind k,
					   const struct rsp_transport_cb *cb)
{
	struct rsp_transport *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->kind = k;
	t->cb = *cb;
	return t;
}

static int listen_tcp(struct rsp_transport *t, const char *spec, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	char ip[INET6_ADDRSTRLEN];
	int namelen = sizeof(ss);
	int ret;

	memset(&ss, 0, sizeof(ss));
	ret = parse_hostport(spec, &ss, err, errlen);
	if (ret < 0)
		return ret;
	uv_tcp_init(t->loop, &t->listener.tcp);
	t->listener.h.data = t;
	t->open_handles++;
	ret = uv_tcp_bind(&t->listener.tcp, (struct sockaddr *)&ss, 0);
	if (ret == 0)
		ret = uv_listen((uv_stream_t *)&t->listener.tcp, 1,
				on_connection);
	if (ret < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec,
			 uv_strerror(ret));
		return ret;
	}
	uv_tcp_getsockname(&t->listener.tcp, (struct sockaddr *)&ss,
			   &namelen);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		uv_ip6_name(a, ip, sizeof(ip));
		t->port = ntohs(a->sin6_port);
		snprintf(t->address, sizeof(t->address), "[%s]:%d", ip,
			 t->port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		uv_ip4_name(a, ip, sizeof(ip));
		t->port = ntohs(a->sin_port);
		snprintf(t->address, sizeof(t->address), "%s:%d", ip, t->port);
	}
	snprintf(t->describe, sizeof(t->describe), "tcp %s %d", ip, t->port);
	return 0;
}

static int listen_unix(struct rsp_transport *t, const char *path, char *err,
		       size_t errlen)
{
	struct stat st;
	mode_t old;
	int ret;

	if (!*path || strlen(path) >= sizeof(t->path)) {
		snprintf(err, errlen, "--listen unix:%s: bad socket path", path);
		return -EINVAL;
	}
	/* Replace a stale socket, never any other kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "--listen unix:%s: exists and is not a socket",
				 path);
			return -EEXIST;
		}
		unlink(path);
	}
	uv_pipe_init(t->loop, &t->listener.pipe, 0);
	t->listener.h.data = t;
	t->open_handles++;
	/* Created 0600 from the start: no window where others may connect. */
	old = umask(0177);
	ret = uv_pipe_bind(&t->listener.pipe, path);
	umask(old);
	if (ret == 0)
		ret = uv_listen((uv_stream_t *)&t->listener.pipe, 1,
				on_connection);
	if (ret < 0) {
		snprintf(err, errlen, "cannot listen on unix:%s: %s", path,
			 uv_strerror(ret));
		return ret;
	}
	strcpy(t->path, path);
	snprintf(t->describe, sizeof(t->describe), "unix %s", path);
	snprintf(t->address, sizeof(t->address), "%s", path);
	return 0;
}

int rsp_transport_listen(uv_loop_t *loop, const char *spec,
			 const struct rsp_transport_cb *cb,
			 struct rsp_transport **out, char *err, size_t errlen)
{
	bool is_unix = strncmp(spec, "unix:", 5) == 0;
	struct rsp_transport *t = new_transport(loop, is_unix ? T_UNIX : T_TCP,
						cb);
	int ret;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = is_unix ? listen_unix(t, spec + 5, err, errlen)
		      : listen_tcp(t, spec, err, errlen);
	if (ret < 0) {
		t->path[0] = 0;
		rsp_transport_destroy(t);
		return ret;
	}
	t->listening = true;
	*out = t;
	return 0;
}

static int open_stdio_handle(uv_loop_t *loop, int fd, void *h, bool readable)
{
	switch (uv_guess_handle(fd)) {
	case UV_TTY:
		return uv_tty_init(loop, h, fd, readable);
	case UV_TCP:
		uv_tcp_init(loop, h);
		return uv_tcp_open(h, fd);
	case UV_NAMED_PIPE:
	case UV_FILE:
	default:
		uv_pipe_init(loop, h, 0);
		return uv_pipe_open(h, fd);
	}
}

int rsp_transport_stdio(uv_loop_t *loop, const struct rsp_transport_cb *cb,
			struct rsp_transport **out, char *err, size_t errlen)
{
	struct rsp_transport *t = new_transport(loop, T_STDIO, cb);
	struct client *c;
	int ret;

	if (!t || !(c = new_client(t))) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* A serial line must pass every byte untouched: no echo, no CR/LF
	 * translation, no signals from 0x03 (that is Ctrl-C for the RSP). */
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t->saved_tty) == 0) {
		struct termios raw = t->saved_tty;

		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		t->tty_saved = true;
	}
	ret = open_stdio_handle(loop, STDIN_FILENO, &c->in, true);
	if (ret == 0) {
		c->open_handles = 1;
		c->in.h.data = c;
		ret = open_stdio_handle(loop, STDOUT_FILENO, &c->out, false);
		if (ret == 0) {
			c->open_handles = 2;
			c->out.h.data = c;
			c->separate_out = true;
		}
	}
	if (ret < 0) {
		snprintf(err, errlen, "--stdio: %s", uv_strerror(ret));
		t->client = c;
		t->destroyed = true;
		if (c->open_handles)
			client_close(c, false);
		else {
			t->client = NULL;
			free(c);
			free(t);
		}
		return ret;
	}
	t->client = c;
	snprintf(t->describe, sizeof(t->describe), "stdio");
	snprintf(t->address, sizeof(t->address), "stdio");
	*out = t;
	if (cb->connected)
		cb->connected(cb->opaque);
	if (!c->closing)
		uv_read_start(&c->in.s, alloc_cb, read_cb);
	return 0;
}

const char *rsp_transport_describe(const struct rsp_transport *t)
{
	return t->describe;
}

int rsp_transport_port(const struct rsp_transport *t)
{
	return t->port;
}

const char *rsp_transport_address(const struct rsp_transport *t)
{
	return t->address;
}

void rsp_transport_destroy(struct rsp_transport *t)
{
	if (!t || t->destroyed)
		return;
	t->destroyed = true;
	if (t->client)
		client_close(t->client, false);
	if (t->open_handles && !uv_is_closing(&t->listener.h))
		uv_close(&t->listener.h, listener_closed);
	maybe_free_transport(t);
}
