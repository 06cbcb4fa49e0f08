/* A 16550A UART: transmit to a file descriptor, receive from the user, with
 * interrupts through a callback. Pure register logic plus one lock. */
#ifndef KVMDBG_VMM_UART_H
#define KVMDBG_VMM_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RX_FIFO 256

struct uart16550 {
	pthread_mutex_t lock;
	int out_fd; /* -1: discard */
	void (*set_irq)(void *opaque, int level);
	void *irq_opaque;
	int irq_level;

	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_irq; /* THR-empty interrupt pending until IIR is read */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_len;
	uint64_t tx_bytes;
};

void uart16550_init(struct uart16550 *u, int out_fd,
		    void (*set_irq)(void *opaque, int level), void *opaque);
void uart16550_destroy(struct uart16550 *u);
/* Register access at offset 0..7. */
void uart16550_access(struct uart16550 *u, unsigned offset, bool is_write,
		      uint8_t *val);
/* Bytes typed by the user; the excess beyond the FIFO is dropped like a
 * real UART's overrun. Returns the number queued. */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

#endif
