/* PL011 UART. Enough of the chip for polled output and Linux's amba-pl011
 * driver: data, flags, the control and line registers, the interrupt mask,
 * raw and masked status, clear, and the identification registers drivers
 * match on. Transmission is instantaneous, so the transmit FIFO is always
 * empty and the transmit interrupt is raised by every write, as QEMU's
 * model does. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices/pl011.h"

/* PeriphID0-3 and PCellID0-3: part 0x011, designer Arm, revision r1p5. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x34, 0x00,
				     0x0d, 0xf0, 0x05, 0xb1 };

void pl011_init(struct pl011 *u, int out_fd,
		void (*set_irq)(void *opaque, int level), void *opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->set_irq = set_irq;
	u->irq_opaque = opaque;
	/* The reset values: transmit and receive enabled, UART off (guests
	 * and firmware that never touch CR still get their output). */
	u->cr = PL011_CR_TXE | PL011_CR_RXE;
	u->ifls = 0x12;
}

void pl011_destroy(struct pl011 *u)
{
	pthread_mutex_destroy(&u->lock);
}

/* Called with the lock held. */
static void update_irq(struct pl011 *u)
{
	int level = (u->ris & u->imsc) != 0;

	if (level != u->irq_level && u->set_irq) {
		u->irq_level = level;
		u->set_irq(u->irq_opaque, level);
	}
}

static void rx_push(struct pl011 *u, uint8_t c)
{
	if (u->rx_len == PL011_RX_FIFO)
		return;
	u->rx[(u->rx_head + u->rx_len) % PL011_RX_FIFO] = c;
	u->rx_len++;
	u->ris |= PL011_INT_RX;
}

static void transmit(struct pl011 *u, uint8_t c)
{
	u->tx_bytes++;
	if (u->cr & PL011_CR_LBE) {
		rx_push(u, c);
		return;
	}
	if (u->out_fd >= 0) {
		ssize_t n;

		do {
			n = write(u->out_fd, &c, 1);
		} while (n < 0 && errno == EINTR);
		/* A closed console must not stop the guest: drop output. */
		if (n < 0 && errno != EAGAIN)
			u->out_fd = -1;
	}
}

static uint32_t read_dr(struct pl011 *u)
{
	uint32_t v = 0;

	if (u->rx_len) {
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % PL011_RX_FIFO;
		u->rx_len--;
	}
	if (!u->rx_len)
		u->ris &= ~(PL011_INT_RX | PL011_INT_RT);
	return v;
}

static uint32_t read_reg(struct pl011 *u, unsigned off)
{
	uint32_t fr;

	switch (off) {
	case PL011_DR:
		return read_dr(u);
	case PL011_RSR:
		return 0; /* no framing, parity, break or overrun errors */
	case PL011_FR:
		fr = PL011_FR_TXFE;
		if (!u->rx_len)
			fr |= PL011_FR_RXFE;
		if (u->rx_len == PL011_RX_FIFO)
			fr |= PL011_FR_RXFF;
		return fr;
	case PL011_ILPR:
		return u->ilpr;
	case PL011_IBRD:
		return u->ibrd;
	case PL011_FBRD:
		return u->fbrd;
	case PL011_LCR_H:
		return u->lcr_h;
	case PL011_CR:
		return u->cr;
	case PL011_IFLS:
		return u->ifls;
	case PL011_IMSC:
		return u->imsc;
	case PL011_RIS:
		return u->ris;
	case PL011_MIS:
		return u->ris & u->imsc;
	case PL011_DMACR:
		return u->dmacr;
	}
	if (off >= PL011_PERIPHID0 && off < PL011_PERIPHID0 + 0x20)
		return pl011_id[(off - PL011_PERIPHID0) >> 2];
	return 0;
}

static void write_reg(struct pl011 *u, unsigned off, uint32_t v)
{
	switch (off) {
	case PL011_DR:
		transmit(u, (uint8_t)v);
		u->ris |= PL011_INT_TX;
		break;
	case PL011_RSR: /* ECR: a write clears the error flags we never set */
		break;
	case PL011_ILPR:
		u->ilpr = v & 0xff;
		break;
	case PL011_IBRD:
		u->ibrd = v & 0xffff;
		break;
	case PL011_FBRD:
		u->fbrd = v & 0x3f;
		break;
	case PL011_LCR_H:
		u->lcr_h = v & 0xff;
		break;
	case PL011_CR:
		u->cr = v & 0xff87;
		break;
	case PL011_IFLS:
		u->ifls = v & 0x3f;
		break;
	case PL011_IMSC:
		u->imsc = v & PL011_INT_ALL;
		break;
	case PL011_ICR:
		u->ris &= ~v;
		/* Data still waiting keeps its interrupt raised. */
		if (u->rx_len)
			u->ris |= v & PL011_INT_RX;
		break;
	case PL011_DMACR:
		u->dmacr = v & 7;
		break;
	}
}

void pl011_access(struct pl011 *u, unsigned offset, bool is_write,
		  uint32_t *val)
{
	if (offset >= PL011_MMIO_SIZE || (offset & 3)) {
		if (!is_write)
			*val = 0;
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (is_write)
		write_reg(u, offset, *val);
	else
		*val = read_reg(u, offset);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_len < PL011_RX_FIFO)
		rx_push(u, buf[n++]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
