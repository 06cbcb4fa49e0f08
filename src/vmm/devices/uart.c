/* 16550A UART. Enough of the chip for polled and interrupt-driven drivers
 * (Linux's 8250 probes scratch and loopback): THR/RBR, IER, IIR/FCR, LCR,
 * MCR with loopback, LSR, MSR, SCR and the divisor latch. Transmission is
 * instantaneous, so THR is always empty. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices/uart.h"

enum {
	UART_RBR_THR = 0, UART_IER, UART_IIR_FCR, UART_LCR, UART_MCR,
	UART_LSR, UART_MSR, UART_SCR,
};

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08
#define IER_RDI 0x01
#define IER_THRI 0x02
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0

void uart16550_init(struct uart16550 *u, int out_fd,
		    void (*set_irq)(void *opaque, int level), void *opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->set_irq = set_irq;
	u->irq_opaque = opaque;
	u->dll = 12; /* 9600 baud, the power-on divisor */
}

void uart16550_destroy(struct uart16550 *u)
{
	pthread_mutex_destroy(&u->lock);
}

static uint8_t iir(const struct uart16550 *u)
{
	uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_len)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_irq)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* Called with the lock held. The line is only driven while OUT2 is set,
 * as on PC hardware where OUT2 gates the interrupt to the PIC. */
static void update_irq(struct uart16550 *u)
{
	int level = !(iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2);

	if (level != u->irq_level && u->set_irq) {
		u->irq_level = level;
		u->set_irq(u->irq_opaque, level);
	}
}

static void rx_push(struct uart16550 *u, uint8_t c)
{
	if (u->rx_len == UART_RX_FIFO)
		return;
	u->rx[(u->rx_head + u->rx_len) % UART_RX_FIFO] = c;
	u->rx_len++;
}

static void transmit(struct uart16550 *u, uint8_t c)
{
	u->tx_bytes++;
	if (u->mcr & MCR_LOOP) {
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

static uint8_t read_reg(struct uart16550 *u, unsigned off)
{
	uint8_t v = 0;

	switch (off) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (u->rx_len) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
			u->rx_len--;
		}
		return v;
	case UART_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_irq = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
	case UART_MSR:
		if (u->mcr & MCR_LOOP)
			/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI,
			 * OUT2->DCD. */
			return (uint8_t)(((u->mcr & 0x01) << 5) |
					 ((u->mcr & 0x02) << 3) |
					 ((u->mcr & 0x04) << 4) |
					 ((u->mcr & 0x08) << 4));
		/* CTS, DSR and DCD: a terminal is always attached. */
		return 0xb0;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void write_reg(struct uart16550 *u, unsigned off, uint8_t v)
{
	switch (off) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return;
		}
		transmit(u, v);
		u->thr_irq = true;
		return;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling THRI with an empty THR raises it at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_irq = true;
		u->ier = v & 0x0f;
		return;
	case UART_IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & 0x02) /* clear the receive FIFO */
			u->rx_len = 0;
		return;
	case UART_LCR:
		u->lcr = v;
		return;
	case UART_MCR:
		u->mcr = v & 0x1f;
		return;
	case UART_SCR:
		u->scr = v;
		return;
	}
}

void uart16550_access(struct uart16550 *u, unsigned offset, bool is_write,
		      uint8_t *val)
{
	pthread_mutex_lock(&u->lock);
	if (offset > 7)
		*val = is_write ? *val : 0xff;
	else if (is_write)
		write_reg(u, offset, *val);
	else
		*val = read_reg(u, offset);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_len < UART_RX_FIFO)
		rx_push(u, buf[n++]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
