/* kvmdbg: command line, wiring of the VMM to the libuv loop, exit codes.
 * The only place in kvmdbg that exits. */
#include <errno.h>
#include <fcntl.h>
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
#include "vmm/vmm.h"

struct app {
	uv_loop_t loop;
	uv_async_t vcpu_event;
	uv_signal_t sigint, sigterm, sighup;
	uv_tty_t tty_in;
	bool tty_in_active;
	struct termios saved_termios;
	bool termios_saved;
	struct vmm *vm;
	struct cli_opts opts;
	int console_fd;
	int exit_code;
	bool done;
};

static void on_vcpu_notify(void *opaque)
{
	struct app *app = opaque;

	uv_async_send(&app->vcpu_event);
}

static void finish(struct app *app, int code)
{
	if (app->done)
		return;
	app->done = true;
	app->exit_code = code;
	uv_stop(&app->loop);
}

static void report_crash(struct app *app, const struct vmm_event *ev)
{
	char dump[2048];

	log_error("%s", ev->why);
	vmm_dump_vcpu(app->vm, ev->vcpu, dump, sizeof(dump));
	fprintf(stderr, "%s\n", dump);
}

static void on_vcpu_event(uv_async_t *h)
{
	struct app *app = h->data;
	struct vmm_event ev;

	/* Coalesced wake-ups: the events themselves live in the VMM. */
	while (!app->done && vmm_take_event(app->vm, &ev)) {
		vmm_pause_all(app->vm);
		switch (ev.kind) {
		case VMM_EVENT_EXIT:
			log_info("%s: exit status %d", ev.why, ev.exit_status);
			finish(app, ev.exit_status);
			break;
		case VMM_EVENT_SHUTDOWN:
		case VMM_EVENT_FAIL:
		case VMM_EVENT_DEBUG:
		default:
			report_crash(app, &ev);
			finish(app, EXIT_GUEST_CRASH);
			break;
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

	if (app->opts.serial != CLI_SERIAL_STDIO || !isatty(STDIN_FILENO))
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
		app->tty_in_active = true;
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
		return STDOUT_FILENO;
	}
}

static int run(struct app *app)
{
	struct vmm_config cfg = {
		.mem_size = app->opts.mem_size,
		.nr_vcpus = app->opts.nr_vcpus,
		.image = app->opts.image,
		.append = app->opts.append,
		.notify = on_vcpu_notify,
		.notify_opaque = app,
	};
	struct vmm_error e;
	int ret;

	app->console_fd = open_console(&app->opts);
	if (app->console_fd < -1) {
		log_error("--serial file:%s: %s", app->opts.serial_path,
			  strerror(-app->console_fd));
		return EXIT_USAGE;
	}
	cfg.console_fd = app->console_fd;

	if (uv_loop_init(&app->loop) < 0) {
		log_error("cannot start the event loop");
		return EXIT_INTERNAL;
	}
	uv_async_init(&app->loop, &app->vcpu_event, on_vcpu_event);
	app->vcpu_event.data = app;
	uv_signal_init(&app->loop, &app->sigint);
	uv_signal_init(&app->loop, &app->sigterm);
	uv_signal_init(&app->loop, &app->sighup);
	app->sigint.data = app->sigterm.data = app->sighup.data = app;
	uv_signal_start(&app->sigint, on_signal, SIGINT);
	uv_signal_start(&app->sigterm, on_signal, SIGTERM);
	uv_signal_start(&app->sighup, on_signal, SIGHUP);

	ret = vmm_create(&cfg, &app->vm, &e);
	if (ret < 0) {
		log_error("%s", e.msg);
		app->exit_code = e.kvm ? EXIT_NO_KVM : EXIT_USAGE;
		goto out_loop;
	}
	if (!app->opts.no_wait) {
		/* Until the debugger server lands, waiting is not offered. */
		log_error("no debugger server yet: run with --no-wait");
		app->exit_code = EXIT_USAGE;
		goto out_vm;
	}
	start_console_input(app);
	vmm_resume_all(app->vm);
	uv_run(&app->loop, UV_RUN_DEFAULT);

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
	case CLI_RUN:
		break;
	}
	level = LOG_WARN + app.opts.verbosity;
	log_set_level(level > LOG_TRACE ? LOG_TRACE : level);
	/* A console or debugger that hangs up must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return run(&app);
}
