/* Unit tests for the 16550A model: what the guest transmits is read back
 * from a pipe, interrupts are recorded from the callback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices/uart.h"

/*
 * Register offsets and bits, spelled out here rather than taken from
 * uart.c so a wrong constant there cannot hide behind a matching test.
 */
#define RBR 0 /* read, DLAB=0 */
#define THR 0 /* write, DLAB=0 */
#define DLL 0 /* DLAB=1 */
#define IER 1
#define DLM 1 /* DLAB=1 */
#define IIR 2 /* read */
#define FCR 2 /* write */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ON 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define FIFO 256 /* UART_RX_FIFO, as documented to the user */

/* A register read that must give exactly `want`. */
#define ASSERT_REG(f, off, want)                                               \
	do {                                                                   \
		unsigned got_ = rd(f, off);                                    \
		unsigned want_ = (unsigned)(want);                             \
		if (got_ != want_)                                             \
			fail_msg("%s reads %#04x, want %s == %#04x", #off,     \
				 got_, #want, want_);                          \
	} while (0)

struct fixture {
	struct uart16550 u;
	int rfd, wfd; /* the pipe: the UART writes wfd, we read rfd */
	int level;    /* last level the UART drove */
	unsigned irq_calls;
	int history[64];
};

static void record_irq(void *opaque, int level)
{
	struct fixture *f = opaque;

	if (level != 0 && level != 1)
		fail_msg("set_irq(level %d), want 0 or 1", level);
	if (f->irq_calls < sizeof(f->history) / sizeof(f->history[0]))
		f->history[f->irq_calls] = level;
	f->irq_calls++;
	f->level = level;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int p[2];

	assert_non_null(f);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->rfd = p[0];
	f->wfd = p[1];
	/* Reading back never blocks: an empty pipe reads as EAGAIN. */
	assert_int_equal(fcntl(f->rfd, F_SETFL, O_NONBLOCK), 0);
	uart16550_init(&f->u, f->wfd, record_irq, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart16550_destroy(&f->u);
	if (f->rfd >= 0)
		close(f->rfd);
	close(f->wfd);
	free(f);
	return 0;
}

static void wr(struct fixture *f, unsigned off, uint8_t v)
{
	uart16550_access(&f->u, off, true, &v);
}

static unsigned rd(struct fixture *f, unsigned off)
{
	uint8_t v = 0x5a;

	uart16550_access(&f->u, off, false, &v);
	return v;
}

static size_t rx(struct fixture *f, const char *s)
{
	return uart16550_receive(&f->u, (const uint8_t *)s, strlen(s));
}

/* Everything the guest transmitted since the last call, as a string. */
static const char *out(struct fixture *f)
{
	static char buf[8192];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 &&
	       (n = read(f->rfd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	return buf;
}

static void tx(struct fixture *f, const char *s)
{
	for (; *s; s++)
		wr(f, THR, (uint8_t)*s);
}

static void expect_irq(const struct fixture *f, unsigned calls, int level)
{
	if (f->irq_calls != calls || f->level != level)
		fail_msg(
		    "irq: %u set_irq calls, level %d; want %u calls, level "
		    "%d",
		    f->irq_calls, f->level, calls, level);
}

/* --- transmit and line status --- */

static void test_thr_goes_to_fd(void **state)
{
	struct fixture *f = *state;

	tx(f, "Hello, 16550!\n");
	assert_string_equal(out(f), "Hello, 16550!\n");
	wr(f, THR, 0);
	wr(f, THR, 0xff);
	ASSERT_EQ(read(f->rfd, (char[2]){0}, 2), 2);
	assert_string_equal(out(f), "");
	expect_irq(f, 0, 0);
}

static void test_thr_all_byte_values(void **state)
{
	struct fixture *f = *state;
	uint8_t got[256];

	for (unsigned i = 0; i < 256; i++)
		wr(f, THR, (uint8_t)i);
	ASSERT_EQ(read(f->rfd, got, sizeof(got)), 256);
	for (unsigned i = 0; i < 256; i++)
		ASSERT_EQ(got[i], i);
}

static void test_discard_fd(void **state)
{
	struct fixture *f = *state;

	/* out_fd -1 is "--serial none": output goes nowhere, quietly. */
	uart16550_destroy(&f->u);
	uart16550_init(&f->u, -1, record_irq, f);
	tx(f, "dropped");
	assert_string_equal(out(f), "");
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
}

static void test_lsr(void **state)
{
	struct fixture *f = *state;

	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
	tx(f, "x"); /* transmission is instantaneous */
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
	ASSERT_EQ(rx(f, "ab"), 2);
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT | LSR_DR);
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT | LSR_DR); /* no side effect */
	ASSERT_REG(f, RBR, 'a');
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT | LSR_DR);
	ASSERT_REG(f, RBR, 'b');
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
}

/* --- receive --- */

static void test_receive_in_order(void **state)
{
	struct fixture *f = *state;
	const char *msg = "typed by the user";

	ASSERT_EQ(rx(f, msg), strlen(msg));
	for (const char *p = msg; *p; p++) {
		ASSERT_EQ(rd(f, LSR) & LSR_DR, LSR_DR);
		ASSERT_REG(f, RBR, *p);
	}
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
	/* An empty RBR read does not make data appear. */
	rd(f, RBR);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
	/* Receiving is not transmitting. */
	assert_string_equal(out(f), "");
	ASSERT_EQ(uart16550_receive(&f->u, NULL, 0), 0);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
}

static void test_receive_wraps_around(void **state)
{
	struct fixture *f = *state;
	char chunk[101];

	/* Many times the FIFO size through it, in odd-sized chunks. */
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 100; i++)
			chunk[i] = (char)('0' + (round * 100 + i) % 64);
		chunk[100] = 0;
		ASSERT_EQ(rx(f, chunk), 100);
		for (unsigned i = 0; i < 100; i++)
			ASSERT_REG(f, RBR, (uint8_t)chunk[i]);
		ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
	}
}

static void test_receive_overrun(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[FIFO + 44];

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	ASSERT_EQ(uart16550_receive(&f->u, buf, sizeof(buf)), FIFO);
	/* A full FIFO takes nothing more. */
	ASSERT_EQ(uart16550_receive(&f->u, buf, 1), 0);
	for (unsigned i = 0; i < FIFO; i++)
		ASSERT_REG(f, RBR, buf[i]);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);

	/* Partly full: only the room left is taken. */
	ASSERT_EQ(uart16550_receive(&f->u, buf, FIFO - 6), FIFO - 6);
	ASSERT_EQ(uart16550_receive(&f->u, buf + 100, 10), 6);
	for (unsigned i = 0; i < FIFO - 6; i++)
		ASSERT_REG(f, RBR, buf[i]);
	for (unsigned i = 0; i < 6; i++)
		ASSERT_REG(f, RBR, buf[100 + i]);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
}

/* --- registers --- */

static void test_divisor_latch(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_RDI);
	wr(f, LCR, LCR_DLAB | LCR_8N1);
	ASSERT_REG(f, LCR, LCR_DLAB | LCR_8N1);
	ASSERT_REG(f, DLL, 12); /* 9600 baud at power-on */
	ASSERT_REG(f, DLM, 0);
	wr(f, DLL, 0x01); /* 115200 */
	wr(f, DLM, 0x00);
	ASSERT_REG(f, DLL, 0x01);
	ASSERT_REG(f, DLM, 0x00);
	wr(f, DLL, 0x34);
	wr(f, DLM, 0x12);
	ASSERT_REG(f, DLL, 0x34);
	ASSERT_REG(f, DLM, 0x12);
	/* The latch is not THR or IER. */
	assert_string_equal(out(f), "");
	ASSERT_EQ(f->u.tx_bytes, 0);

	/* Received data waits behind the latch, unread. */
	ASSERT_EQ(rx(f, "r"), 1);
	ASSERT_REG(f, DLL, 0x34);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, LSR_DR);

	wr(f, LCR, LCR_8N1);
	ASSERT_REG(f, IER, IER_RDI);
	ASSERT_REG(f, RBR, 'r');
	tx(f, "t");
	assert_string_equal(out(f), "t");
	/* And the divisor survived. */
	wr(f, LCR, LCR_DLAB | LCR_8N1);
	ASSERT_REG(f, DLL, 0x34);
	ASSERT_REG(f, DLM, 0x12);
}

static void test_scratch(void **state)
{
	struct fixture *f = *state;

	ASSERT_REG(f, SCR, 0);
	wr(f, SCR, 0x55);
	ASSERT_REG(f, SCR, 0x55);
	wr(f, SCR, 0xaa);
	ASSERT_REG(f, SCR, 0xaa);
	/* DLAB does not bank the scratch register. */
	wr(f, LCR, LCR_DLAB);
	ASSERT_REG(f, SCR, 0xaa);
	assert_string_equal(out(f), "");
}

static void test_register_readback(void **state)
{
	struct fixture *f = *state;

	wr(f, LCR, 0x1b); /* 8 bits, even parity, 1 stop */
	ASSERT_REG(f, LCR, 0x1b);
	wr(f, IER, 0xff);
	ASSERT_REG(f, IER, 0x0f); /* the upper nibble is not implemented */
	wr(f, IER, 0);
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	ASSERT_REG(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(f, MCR, 0xe0); /* reserved bits read as zero */
	ASSERT_REG(f, MCR, 0);
	/* CTS, DSR and DCD: a terminal is attached. */
	ASSERT_REG(f, MSR, MSR_CTS | MSR_DSR | MSR_DCD);
}

static void test_bad_offset(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 'x';

	uart16550_access(&f->u, 8, true, &v);
	ASSERT_EQ(v, 'x');
	ASSERT_REG(f, 8, 0xff);
	ASSERT_REG(f, 1000, 0xff);
	assert_string_equal(out(f), "");
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
}

/* --- loopback, as Linux's 8250 probe uses it --- */

static void test_loopback(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_LOOP);
	tx(f, "xyz");
	assert_string_equal(out(f), "");
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT | LSR_DR);
	ASSERT_REG(f, RBR, 'x');
	ASSERT_REG(f, RBR, 'y');
	ASSERT_REG(f, RBR, 'z');
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);

	/* Leaving loopback sends to the console again. */
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	tx(f, "ok");
	assert_string_equal(out(f), "ok");
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
}

static void test_loopback_msr(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint8_t mcr, msr;
	} wires[] = {
	    {0, 0},
	    {MCR_DTR, MSR_DSR},
	    {MCR_RTS, MSR_CTS},
	    {MCR_OUT1, MSR_RI},
	    {MCR_OUT2, MSR_DCD},
	    {MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2,
	     MSR_DSR | MSR_CTS | MSR_RI | MSR_DCD},
	    {MCR_RTS | MCR_OUT2, MSR_CTS | MSR_DCD},
	};

	for (size_t i = 0; i < sizeof(wires) / sizeof(wires[0]); i++) {
		wr(f, MCR, MCR_LOOP | wires[i].mcr);
		if (rd(f, MSR) != wires[i].msr)
			fail_msg("loopback MCR %#04x: MSR %#04x, want %#04x",
				 MCR_LOOP | wires[i].mcr, rd(f, MSR),
				 wires[i].msr);
	}
}

static void test_loopback_overrun(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_LOOP);
	for (unsigned i = 0; i < FIFO + 10; i++)
		wr(f, THR, (uint8_t)i);
	for (unsigned i = 0; i < FIFO; i++)
		ASSERT_REG(f, RBR, (uint8_t)i);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
	assert_string_equal(out(f), "");
}

/* --- interrupts --- */

static void test_rdi_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_RDI);
	wr(f, MCR, MCR_OUT2);
	expect_irq(f, 0, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);

	ASSERT_EQ(rx(f, "ab"), 2);
	expect_irq(f, 1, 1);
	ASSERT_REG(f, IIR, IIR_RDI);
	ASSERT_REG(f, IIR, IIR_RDI); /* reading IIR does not ack RDI */
	expect_irq(f, 1, 1);
	/* More data while raised: no second edge. */
	ASSERT_EQ(rx(f, "c"), 1);
	expect_irq(f, 1, 1);

	ASSERT_REG(f, RBR, 'a');
	ASSERT_REG(f, RBR, 'b');
	expect_irq(f, 1, 1);
	ASSERT_REG(f, RBR, 'c');
	expect_irq(f, 2, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);

	/* Again, to see it is not one-shot. */
	ASSERT_EQ(rx(f, "d"), 1);
	expect_irq(f, 3, 1);
	ASSERT_REG(f, RBR, 'd');
	expect_irq(f, 4, 0);
}

static void test_rdi_disabled(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	ASSERT_EQ(rx(f, "a"), 1);
	expect_irq(f, 0, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);
	/* Enabling RDI with data waiting raises it at once... */
	wr(f, IER, IER_RDI);
	expect_irq(f, 1, 1);
	ASSERT_REG(f, IIR, IIR_RDI);
	/* ...and disabling lowers it, data or not. */
	wr(f, IER, 0);
	expect_irq(f, 2, 0);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, LSR_DR);
}

static void test_rdi_over_thri(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	ASSERT_EQ(rx(f, "a"), 1);
	wr(f, IER, IER_RDI | IER_THRI);
	expect_irq(f, 1, 1);
	/* Both pending: RDI is reported, and THRI is not acked by it. */
	ASSERT_REG(f, IIR, IIR_RDI);
	ASSERT_REG(f, IIR, IIR_RDI);
	ASSERT_REG(f, RBR, 'a');
	expect_irq(f, 1, 1); /* THRI keeps the line up */
	ASSERT_REG(f, IIR, IIR_THRI);
	expect_irq(f, 2, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);
}

static void test_thri_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	/* Enabling THRI with THR empty raises it at once. */
	wr(f, IER, IER_THRI);
	expect_irq(f, 1, 1);
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT); /* LSR does not ack */
	expect_irq(f, 1, 1);
	/* Reading IIR reports and acknowledges it. */
	ASSERT_REG(f, IIR, IIR_THRI);
	expect_irq(f, 2, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);
	expect_irq(f, 2, 0);

	/* Each transmitted byte empties THR again. */
	tx(f, "A");
	expect_irq(f, 3, 1);
	assert_string_equal(out(f), "A");
	ASSERT_REG(f, IIR, IIR_THRI);
	expect_irq(f, 4, 0);

	/* Rewriting IER with THRI already on is not a new edge. */
	wr(f, IER, IER_THRI);
	expect_irq(f, 4, 0);
	/* Turning it off and on is. */
	wr(f, IER, 0);
	wr(f, IER, IER_THRI);
	expect_irq(f, 5, 1);

	/* Disabling THRI drops the line. */
	wr(f, IER, 0);
	expect_irq(f, 6, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);
}

static void test_no_irq_without_out2(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_DTR | MCR_RTS); /* OUT2 off */
	wr(f, IER, IER_RDI | IER_THRI);
	ASSERT_EQ(rx(f, "a"), 1);
	tx(f, "b");
	expect_irq(f, 0, 0);
	/* The chip still reports the cause; only the line is gated. */
	ASSERT_REG(f, IIR, IIR_RDI);
	/* OUT2 on: the pending interrupt reaches the line. */
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	expect_irq(f, 1, 1);
	/* And off again lowers it. */
	wr(f, MCR, MCR_DTR | MCR_RTS);
	expect_irq(f, 2, 0);
	ASSERT_REG(f, RBR, 'a');
	expect_irq(f, 2, 0);
}

static void test_no_irq_callback(void **state)
{
	struct fixture *f = *state;

	/* A UART without an interrupt line (polled only) must not crash. */
	uart16550_destroy(&f->u);
	uart16550_init(&f->u, f->wfd, NULL, NULL);
	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_RDI | IER_THRI);
	ASSERT_EQ(rx(f, "a"), 1);
	ASSERT_REG(f, IIR, IIR_RDI);
	ASSERT_REG(f, RBR, 'a');
	tx(f, "b");
	assert_string_equal(out(f), "b");
	expect_irq(f, 0, 0);
}

/* --- FIFO control --- */

static void test_fcr(void **state)
{
	struct fixture *f = *state;

	ASSERT_REG(f, IIR, IIR_NO_INT);
	wr(f, FCR, FCR_ENABLE);
	ASSERT_REG(f, IIR, IIR_FIFO_ON | IIR_NO_INT);
	/* Enabling FIFOs again does not drop data. */
	ASSERT_EQ(rx(f, "abc"), 3);
	wr(f, FCR, FCR_ENABLE);
	ASSERT_REG(f, RBR, 'a');
	/* Clear RX drops what is queued; the clear bits do not stick. */
	wr(f, FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
	ASSERT_REG(f, IIR, IIR_FIFO_ON | IIR_NO_INT);
	ASSERT_EQ(rx(f, "d"), 1);
	ASSERT_REG(f, RBR, 'd');
	/* FIFOs off. */
	wr(f, FCR, 0);
	ASSERT_REG(f, IIR, IIR_NO_INT);
}

static void test_fcr_clear_lowers_irq(void **state)
{
	struct fixture *f = *state;
	uint8_t big[FIFO];

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_RDI);
	wr(f, FCR, FCR_ENABLE);
	ASSERT_EQ(rx(f, "abc"), 3);
	expect_irq(f, 1, 1);
	ASSERT_REG(f, IIR, IIR_FIFO_ON | IIR_RDI);
	wr(f, FCR, FCR_ENABLE | FCR_CLEAR_RX);
	expect_irq(f, 2, 0);
	ASSERT_EQ(rd(f, LSR) & LSR_DR, 0);
	/* The whole FIFO is free again. */
	memset(big, 'q', sizeof(big));
	ASSERT_EQ(uart16550_receive(&f->u, big, sizeof(big)), FIFO);
	expect_irq(f, 3, 1);
}

/* --- a console that goes away --- */

static void test_closed_reader(void **state)
{
	struct fixture *f = *state;

	close(f->rfd);
	f->rfd = -1;
	/* The guest keeps running: no SIGPIPE death, no error, no hang. */
	tx(f, "into the void");
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
	ASSERT_EQ(f->u.tx_bytes, 13);
	tx(f, "and more");
	ASSERT_EQ(f->u.tx_bytes, 21);
	/* The rest of the chip still works. */
	wr(f, SCR, 0x42);
	ASSERT_REG(f, SCR, 0x42);
	ASSERT_EQ(rx(f, "k"), 1);
	ASSERT_REG(f, RBR, 'k');
}

static void test_full_pipe_drops_not_blocks(void **state)
{
	struct fixture *f = *state;
	static char junk[4096];
	ssize_t n;

	/* A console that cannot keep up: a non-blocking, full pipe. */
	assert_int_equal(fcntl(f->wfd, F_SETFL, O_NONBLOCK), 0);
	memset(junk, '.', sizeof(junk));
	while ((n = write(f->wfd, junk, sizeof(junk))) > 0)
		;
	ASSERT_EQ(errno, EAGAIN);
	while ((n = write(f->wfd, junk, 1)) > 0)
		;
	tx(f, "lost");
	ASSERT_REG(f, LSR, LSR_THRE | LSR_TEMT);
	/* Drain; output resumes once there is room (the fd is kept). */
	while (read(f->rfd, junk, sizeof(junk)) > 0)
		;
	tx(f, "back");
	assert_string_equal(out(f), "back");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_thr_goes_to_fd),
	    T(test_thr_all_byte_values),
	    T(test_discard_fd),
	    T(test_lsr),
	    T(test_receive_in_order),
	    T(test_receive_wraps_around),
	    T(test_receive_overrun),
	    T(test_divisor_latch),
	    T(test_scratch),
	    T(test_register_readback),
	    T(test_bad_offset),
	    T(test_loopback),
	    T(test_loopback_msr),
	    T(test_loopback_overrun),
	    T(test_rdi_irq),
	    T(test_rdi_disabled),
	    T(test_rdi_over_thri),
	    T(test_thri_irq),
	    T(test_no_irq_without_out2),
	    T(test_no_irq_callback),
	    T(test_fcr),
	    T(test_fcr_clear_lowers_irq),
	    T(test_closed_reader),
	    T(test_full_pipe_drops_not_blocks),
	};

	/* kvmdbg's main ignores SIGPIPE, so a closed console is EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* "test_uart NAME" runs one test (a glob), so each can run alone. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
