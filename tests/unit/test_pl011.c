/* PL011 UART model: what a polled guest and Linux's amba-pl011 driver see
 * through its registers, its interrupt line and its output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices/pl011.h"

struct irq_log {
	int level;
	int changes;
};

static void set_irq(void *opaque, int level)
{
	struct irq_log *l = opaque;

	l->level = level;
	l->changes++;
}

static uint32_t rd(struct pl011 *u, unsigned off)
{
	uint32_t v = 0xdeadbeef;

	pl011_access(u, off, false, &v);
	return v;
}

static void wr(struct pl011 *u, unsigned off, uint32_t v)
{
	pl011_access(u, off, true, &v);
}

static void test_output(void **state)
{
	int fds[2];
	char buf[16];
	struct pl011 u;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pl011_init(&u, fds[1], NULL, NULL);
	/* Transmission is instantaneous: the FIFO is never full or busy. */
	ASSERT_HEX(rd(&u, PL011_FR), PL011_FR_TXFE | PL011_FR_RXFE);
	wr(&u, PL011_DR, 'o');
	wr(&u, PL011_DR, 0x100 | 'k'); /* only the data byte is sent */
	ASSERT_EQ(read(fds[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);
	ASSERT_EQ(u.tx_bytes, 2);
	pl011_destroy(&u);
	close(fds[0]);
	close(fds[1]);
}

static void test_ids(void **state)
{
	/* amba_device probing reads PeriphID0-3 and PCellID0-3. */
	static const uint32_t want[8] = { 0x11, 0x10, 0x34, 0x00,
					  0x0d, 0xf0, 0x05, 0xb1 };
	struct pl011 u;

	(void)state;
	pl011_init(&u, -1, NULL, NULL);
	for (unsigned i = 0; i < 8; i++)
		ASSERT_HEX(rd(&u, PL011_PERIPHID0 + 4 * i), want[i]);
	/* Unknown and misaligned offsets read 0 and ignore writes. */
	ASSERT_HEX(rd(&u, 0x800), 0);
	ASSERT_HEX(rd(&u, PL011_FR + 1), 0);
	wr(&u, 0x10000, 1);
	pl011_destroy(&u);
}

static void test_control_registers(void **state)
{
	struct pl011 u;

	(void)state;
	pl011_init(&u, -1, NULL, NULL);
	ASSERT_HEX(rd(&u, PL011_CR), PL011_CR_TXE | PL011_CR_RXE);
	ASSERT_HEX(rd(&u, PL011_IFLS), 0x12);
	wr(&u, PL011_IBRD, 0x12345);
	wr(&u, PL011_FBRD, 0xff);
	wr(&u, PL011_LCR_H, 0x170);
	wr(&u, PL011_CR, 0xffffffff);
	ASSERT_HEX(rd(&u, PL011_IBRD), 0x2345);
	ASSERT_HEX(rd(&u, PL011_FBRD), 0x3f);
	ASSERT_HEX(rd(&u, PL011_LCR_H), 0x70);
	ASSERT_HEX(rd(&u, PL011_CR), 0xff87);
	pl011_destroy(&u);
}

static void test_receive(void **state)
{
	struct irq_log irq = { 0, 0 };
	uint8_t many[64];
	struct pl011 u;

	(void)state;
	pl011_init(&u, -1, set_irq, &irq);
	ASSERT_EQ(pl011_receive(&u, (const uint8_t *)"ab", 2), 2);
	/* Raised in RIS, masked: the line stays low until IMSC asks. */
	ASSERT_HEX(rd(&u, PL011_RIS), PL011_INT_RX);
	ASSERT_HEX(rd(&u, PL011_MIS), 0);
	ASSERT_EQ(irq.level, 0);
	wr(&u, PL011_IMSC, PL011_INT_RX);
	ASSERT_EQ(irq.level, 1);
	ASSERT_HEX(rd(&u, PL011_MIS), PL011_INT_RX);
	ASSERT_HEX(rd(&u, PL011_FR) & PL011_FR_RXFE, 0);
	ASSERT_HEX(rd(&u, PL011_DR), 'a');
	/* Clearing with data left keeps the interrupt. */
	wr(&u, PL011_ICR, PL011_INT_RX);
	ASSERT_EQ(irq.level, 1);
	ASSERT_HEX(rd(&u, PL011_DR), 'b');
	ASSERT_EQ(irq.level, 0);
	ASSERT_HEX(rd(&u, PL011_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
	ASSERT_HEX(rd(&u, PL011_DR), 0);
	/* The FIFO holds 32; the rest is dropped like an overrun. */
	memset(many, 'x', sizeof(many));
	ASSERT_EQ(pl011_receive(&u, many, sizeof(many)), PL011_RX_FIFO);
	ASSERT_HEX(rd(&u, PL011_FR) & PL011_FR_RXFF, PL011_FR_RXFF);
	ASSERT_EQ(pl011_receive(&u, many, 1), 0);
	pl011_destroy(&u);
}

static void test_tx_interrupt(void **state)
{
	struct irq_log irq = { 0, 0 };
	struct pl011 u;

	(void)state;
	pl011_init(&u, -1, set_irq, &irq);
	wr(&u, PL011_IMSC, PL011_INT_TX);
	ASSERT_EQ(irq.level, 0);
	wr(&u, PL011_DR, 'x');
	ASSERT_EQ(irq.level, 1);
	wr(&u, PL011_ICR, PL011_INT_TX);
	ASSERT_EQ(irq.level, 0);
	ASSERT_EQ(irq.changes, 2);
	pl011_destroy(&u);
}

static void test_loopback(void **state)
{
	int fds[2];
	struct pl011 u;
	char c;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pl011_init(&u, fds[1], NULL, NULL);
	wr(&u, PL011_CR, PL011_CR_TXE | PL011_CR_RXE | PL011_CR_LBE |
			      PL011_CR_UARTEN);
	wr(&u, PL011_DR, 'L');
	ASSERT_HEX(rd(&u, PL011_DR), 'L');
	/* Nothing went out. */
	close(fds[1]);
	ASSERT_EQ(read(fds[0], &c, 1), 0);
	pl011_destroy(&u);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_control_registers),
		cmocka_unit_test(test_receive),
		cmocka_unit_test(test_tx_interrupt),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
