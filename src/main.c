/* kvmdbg: command line, wiring of the VMM, the debugger target, the RSP
 * session and its transport to the libuv loop; exit codes. The only place
 * in kvmdbg that exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "cli.h"
#include "log.h"
#include "target.h"
#include "rsp/session.h"
#include "rsp/transport.h"
#include "vmm/probe.h"
#include "vmm/vmm.h"

struct app {
	uv_loop_t loop;
	uv_async_t wake;
	uv_signal_t sigint, sigterm, sighup;
	uv_tty_t tty_in;
	struct termios saved_termios;
	bool termios_saved;
	struct cli_opts opts;
	struct vmm *vm;
	struct kvm_target *target;
	struct rsp_transport *transport;
	struct rsp_session *session;
	struct rsp_stop last_stop;
	struct kvm_probe_result probe;
	int console_fd;
	int exit_code;
	bool exiting; /* the guest is gone; end once the reply is out */
	bool done;
};

static void finish(struct app *app, int code)
{
	if (app->done)
		return;
	app->done = true;
	app->exit_code = code;
	uv_stop(&app->loop);
}

static void target_wake(void *opaque)
{
	struct app *app = opaque;

	uv_async_send(&app->wake);
}

static void target_kill(void *opaque)
{
	struct app *app = opaque;

	log_info("the debugger killed the guest");
	app->exiting = true;
	app->exit_code = 0;
	if (!app->transport)
		finish(app, 0);
}

static void report_crash(struct app *app, const struct rsp_stop *stop)
{
	char dump[2048];

	log_error("%s", kvm_target_why(app->target));
	vmm_dump_vcpu(app->vm, stop->thread - 1, dump, sizeof(dump));
	fprintf(stderr, "%s\n", dump);
}

/* A stop with no debugger attached: the guest ran free (--no-wait or
 * after detach). Its exit ends kvmdbg; anything else fatal too. */
static void stop_without_debugger(struct app *app, const struct rsp_stop *stop)
{
	if (stop->kind == RSP_STOP_EXITED) {
		finish(app, stop->exit_status);
		return;
	}
	if (stop->signal == RSP_SIG_INT)
		return;
	report_crash(app, stop);
	finish(app, EXIT_GUEST_CRASH);
}

static void on_wake(uv_async_t *h)
{
	struct app *app = h->data;
	struct rsp_stop stop;

	/* Coalesced wake-ups: the events themselves live in the VMM. */
	while (!app->done && kvm_target_poll(app->target, &stop)) {
		app->last_stop = stop;
		if (!app->session) {
			stop_without_debugger(app, &stop);
			continue;
		}
		if (stop.kind == RSP_STOP_SIGNAL && stop.signal == RSP_SIG_SEGV)
			log_warn("%s; reported to the debugger as SIGSEGV",
				 kvm_target_why(app->target));
		rsp_session_stopped(app->session, &stop);
		if (stop.kind == RSP_STOP_EXITED) {
			app->exiting = true;
			app->exit_code = stop.exit_status;
			/* The debugger has its W; end once it is written. */
			rsp_transport_hangup(app->transport);
		}
	}
}

static void session_send(void *opaque, const uint8_t *buf, size_t len)
{
	struct app *app = opaque;

	rsp_transport_send(app->transport, buf, len);
}

static void session_close(void *opaque)
{
	struct app *app = opaque;

	rsp_transport_hangup(app->transport);
}

static void on_connected(void *opaque)
{
	struct app *app = opaque;
	struct rsp_session_io io = {
		.send = session_send,
		.close = session_close,
		.opaque = app,
	};
	struct rsp_session_config cfg = {
		.packet_size = RSP_PACKET_SIZE,
		.target_running = kvm_target_running(app->target),
	};
	int ret;

	if (app->session)
		return;
	ret = rsp_session_create(&kvm_target_ops, app->target, &io, &cfg,
				 &app->session);
	if (ret < 0) {
		log_error("cannot start a debugger session: %s", strerror(-ret));
		rsp_transport_hangup(app->transport);
		return;
	}
	if (!cfg.target_running)
		rsp_session_stopped(app->session, &app->last_stop);
}

static void on_data(void *opaque, const uint8_t *buf, size_t len)
{
	struct app *app = opaque;

	if (app->session)
		rsp_session_input(app->session, buf, len);
}

static void on_disconnected(void *opaque)
{
	struct app *app = opaque;
	struct rsp_stop stop;

	if (app->session) {
		rsp_session_disconnected(app->session);
		rsp_session_destroy(app->session);
		app->session = NULL;
	}
	if (app->exiting) {
		finish(app, app->exit_code);
		return;
	}
	/* A detached guest runs on to its own end, whose status kvmdbg then
	 * exits with, even when no other debugger can come (--stdio, --once). */
	if (kvm_target_free_running(app->target))
		return;
	if (app->opts.once || app->opts.use_stdio) {
		log_info("debugger gone; exiting");
		finish(app, 0);
		return;
	}
	/* A debugger that vanished leaves the guest stopped for the next
	 * one, with its breakpoints gone; one that detached let it run on. */
	if (!kvm_target_free_running(app->target)) {
		bool was_running = kvm_target_running(app->target);

		kvm_target_forget_debugger(app->target);
		if (was_running) {
			kvm_target_stop_all(app->target, &stop);
			app->last_stop = stop;
		}
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct app *app = h->data;

	log_info("stopping on signal %d", signum);
	finish(app, 128 + signum);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char tty_buf[256];

	(void)h;
	(void)suggested;
	*buf = uv_buf_init(tty_buf, sizeof(tty_buf));
}

static void on_tty_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct app *app = s->data;

	if (n > 0)
		vmm_console_input(app->vm, (const uint8_t *)buf->base,
				  (size_t)n);
	else if (n < 0)
		uv_read_stop(s);
}

/* Typed characters go to the guest one at a time, unechoed, but Ctrl-C
 * still stops kvmdbg: ISIG stays on. */
static void start_console_input(struct app *app)
{
	struct termios t;

	if (app->opts.serial != CLI_SERIAL_STDIO || app->opts.use_stdio ||
	    !isatty(STDIN_FILENO))
		return;
	if (tcgetattr(STDIN_FILENO, &app->saved_termios) == 0) {
		app->termios_saved = true;
		t = app->saved_termios;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	if (uv_tty_init(&app->loop, &app->tty_in, STDIN_FILENO, 1) == 0) {
		app->tty_in.data = app;
		uv_read_start((uv_stream_t *)&app->tty_in, alloc_cb, on_tty_read);
	}
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int open_console(const struct cli_opts *o)
{
	int fd;

	switch (o->serial) {
	case CLI_SERIAL_NONE:
		return -1;
	case CLI_SERIAL_FILE:
		fd = open(o->serial_path,
			  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		return fd;
	case CLI_SERIAL_STDIO:
	default:
		/* With --stdio, stdout is the debugger's: the guest console
		 * goes to stderr. */
		return o->use_stdio ? STDERR_FILENO : STDOUT_FILENO;
	}
}

static void print_attach_hint(struct app *app)
{
	const char *addr = rsp_transport_address(app->transport);
	char image[PATH_MAX];

	if (!realpath(app->opts.image, image))
		snprintf(image, sizeof(image), "%s", app->opts.image);
	/* One machine-readable line for scripts, then what a person types. */
	fprintf(stderr, "kvmdbg: listening on %s\n",
		rsp_transport_describe(app->transport));
	if (app->opts.no_wait)
		return;
	if (rsp_transport_port(app->transport))
		fprintf(stderr,
			"kvmdbg: guest stopped at its entry; attach with:\n"
			"  gdb -ex 'target remote %s' %s\n"
			"  lldb -o 'gdb-remote %s' %s\n",
			addr, image, addr, image);
	else
		fprintf(stderr,
			"kvmdbg: guest stopped at its entry; attach with:\n"
			"  gdb -ex 'target remote %s' %s\n",
			addr, image);
}

static int start_server(struct app *app)
{
	struct rsp_transport_cb cb = {
		.connected = on_connected,
		.data = on_data,
		.disconnected = on_disconnected,
		.opaque = app,
	};
	char err[256];
	int ret;

	if (app->opts.use_stdio)
		ret = rsp_transport_stdio(&app->loop, &cb, &app->transport, err,
					  sizeof(err));
	else if (strcmp(app->opts.listen, "none") == 0)
		return 0;
	else
		ret = rsp_transport_listen(&app->loop, app->opts.listen, &cb,
					   &app->transport, err, sizeof(err));
	if (ret < 0 && app->opts.no_wait && !app->opts.listen_given) {
		/* The guest was asked to run; a busy default port must not
		 * stop it. */
		log_warn("%s; running without a debugger server", err);
		return 0;
	}
	if (ret < 0) {
		log_error("%s", err);
		return ret;
	}
	if (!app->opts.use_stdio)
		print_attach_hint(app);
	return 0;
}

/* The host probe, on a thread of its own while the guest's VM is made. */
struct probe_job {
	struct app *app;
	pthread_t thread;
	bool started;
	int ret;
	char err[256];
};

static void *probe_thread(void *arg)
{
	struct probe_job *j = arg;

	j->ret = kvm_probe_run(&j->app->probe, j->err, sizeof(j->err));
	return NULL;
}

static int run(struct app *app)
{
	struct vmm_config cfg = {
		.mem_size = app->opts.mem_size,
		.nr_vcpus = app->opts.nr_vcpus,
		.image = app->opts.image,
		.append = app->opts.append,
		.notify = target_wake,
		.notify_opaque = app,
	};
	struct kvm_target_host host = {
		.wake = target_wake,
		.kill = target_kill,
		.opaque = app,
	};
	struct vmm_error e;
	bool have_probe = false;
	struct probe_job probe = { 0 };
	int ret;

	app->console_fd = open_console(&app->opts);
	if (app->console_fd < -1) {
		log_error("--serial file:%s: %s", app->opts.serial_path,
			  strerror(-app->console_fd));
		return EXIT_USAGE;
	}
	cfg.console_fd = app->console_fd;
	/* Until a debugger resumes it, the guest sits at its entry. */
	app->last_stop = (struct rsp_stop){ .kind = RSP_STOP_SIGNAL,
					    .signal = RSP_SIG_TRAP,
					    .thread = 1 };

	if (uv_loop_init(&app->loop) < 0) {
		log_error("cannot start the event loop");
		return EXIT_INTERNAL;
	}
	uv_async_init(&app->loop, &app->wake, on_wake);
	app->wake.data = app;
	uv_signal_init(&app->loop, &app->sigint);
	uv_signal_init(&app->loop, &app->sigterm);
	uv_signal_init(&app->loop, &app->sighup);
	app->sigint.data = app->sigterm.data = app->sighup.data = app;
	uv_signal_start(&app->sigint, on_signal, SIGINT);
	uv_signal_start(&app->sigterm, on_signal, SIGTERM);
	uv_signal_start(&app->sighup, on_signal, SIGHUP);

	/* What this host's KVM honours decides how breakpoints work; a
	 * few milliseconds, measured rather than assumed, in a VM of its
	 * own: so it runs while the guest's VM is built and loaded. */
	probe.app = app;
	probe.started = pthread_create(&probe.thread, NULL, probe_thread,
				       &probe) == 0;
	ret = vmm_create(&cfg, &app->vm, &e);
	if (probe.started)
		pthread_join(probe.thread, NULL);
	else
		probe_thread(&probe);
	if (ret < 0) {
		log_error("%s", e.msg);
		app->exit_code = e.kvm ? EXIT_NO_KVM : EXIT_USAGE;
		goto out_loop;
	}
	if (probe.ret < 0)
		log_warn("host probe failed (%s); using conservative "
			 "strategies", probe.err);
	else
		have_probe = true;
	ret = kvm_target_create(app->vm, &host, have_probe ? &app->probe : NULL,
				&app->target);
	if (ret < 0) {
		log_error("out of memory");
		app->exit_code = EXIT_INTERNAL;
		goto out_vm;
	}
	if (start_server(app) < 0) {
		app->exit_code = EXIT_USAGE;
		goto out_target;
	}
	start_console_input(app);
	if (app->opts.no_wait) {
		ret = kvm_target_run_free(app->target);
		if (ret < 0) {
			log_error("cannot start the guest: %s", strerror(-ret));
			app->exit_code = EXIT_GUEST_CRASH;
			goto out_server;
		}
	}
	uv_run(&app->loop, UV_RUN_DEFAULT);

out_server:
	if (app->session) {
		rsp_session_destroy(app->session);
		app->session = NULL;
	}
	if (app->transport)
		rsp_transport_destroy(app->transport);
	app->transport = NULL;
out_target:
	/* Parked vCPUs first: nothing may run while the VM goes away. */
	vmm_pause_all(app->vm);
	kvm_target_destroy(app->target);
out_vm:
	vmm_destroy(app->vm);
	app->vm = NULL;
out_loop:
	if (app->termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &app->saved_termios);
	uv_walk(&app->loop, close_walk_cb, NULL);
	uv_run(&app->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&app->loop) != 0)
		log_warn("event loop did not close cleanly");
	if (app->console_fd > STDERR_FILENO)
		close(app->console_fd);
	return app->exit_code;
}

static int probe(int verbosity)
{
	static struct kvm_probe_result r;
	static char table[8192];
	char err[256];

	if (kvm_probe_run(&r, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmdbg: %s\n", err);
		return EXIT_NO_KVM;
	}
	kvm_probe_format(&r, table, sizeof(table));
	fputs(table, stdout);
	if (verbosity) {
		kvm_probe_format_kv(&r, table, sizeof(table));
		printf("%s\n", table);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct app app;
	char err[256];
	enum log_level level;

	if (cli_parse(argc, argv, &app.opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmdbg: %s\nTry 'kvmdbg --help' for more.\n",
			err);
		return EXIT_USAGE;
	}
	switch (app.opts.action) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("kvmdbg %s (%s)\n", KVMDBG_VERSION, KVMDBG_ARCH);
		return 0;
	case CLI_PROBE:
		return probe(app.opts.verbosity);
	case CLI_RUN:
		break;
	}
	level = LOG_WARN + app.opts.verbosity;
	log_set_level(level > LOG_TRACE ? LOG_TRACE : level);
	/* A console or debugger that hangs up must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return run(&app);
}
