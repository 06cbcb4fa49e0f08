/* An Arm PL011 UART (the console of the arm64 machine): transmit to a file
 * descriptor, receive from the user, interrupts through a callback. Pure
 * register logic plus one lock. */
#ifndef KVMDBG_VMM_PL011_H
#define KVMDBG_VMM_PL011_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL011_RX_FIFO 32 /* the chip's receive FIFO depth */
#define PL011_MMIO_SIZE 0x1000

/* Register offsets (PL011 TRM, "Summary of registers"). */
#define PL011_DR 0x000
#define PL011_RSR 0x004
#define PL011_FR 0x018
#define PL011_ILPR 0x020
#define PL011_IBRD 0x024
#define PL011_FBRD 0x028
#define PL011_LCR_H 0x02c
#define PL011_CR 0x030
#define PL011_IFLS 0x034
#define PL011_IMSC 0x038
#define PL011_RIS 0x03c
#define PL011_MIS 0x040
#define PL011_ICR 0x044
#define PL011_DMACR 0x048
#define PL011_PERIPHID0 0xfe0
#define PL011_PCELLID0 0xff0

/* FR bits. */
#define PL011_FR_BUSY (1u << 3)
#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_FR_RXFF (1u << 6)
#define PL011_FR_TXFE (1u << 7)

/* Interrupt bits of RIS, MIS, IMSC and ICR. */
#define PL011_INT_RX (1u << 4)
#define PL011_INT_TX (1u << 5)
#define PL011_INT_RT (1u << 6)
#define PL011_INT_ALL 0x7ffu

/* CR bits. */
#define PL011_CR_UARTEN (1u << 0)
#define PL011_CR_LBE (1u << 7)
#define PL011_CR_TXE (1u << 8)
#define PL011_CR_RXE (1u << 9)

struct pl011 {
	pthread_mutex_t lock;
	int out_fd; /* -1: discard */
	void (*set_irq)(void *opaque, int level);
	void *irq_opaque;
	int irq_level;

	uint32_t ris, imsc, cr, lcr_h, ibrd, fbrd, ifls, ilpr, dmacr;
	uint8_t rx[PL011_RX_FIFO];
	unsigned rx_head, rx_len;
	uint64_t tx_bytes;
};

void pl011_init(struct pl011 *u, int out_fd,
		void (*set_irq)(void *opaque, int level), void *opaque);
void pl011_destroy(struct pl011 *u);
/* A 32-bit register access at offset (0..0xffc); reads of unknown or
 * write-only registers give 0, writes to read-only ones are ignored. */
void pl011_access(struct pl011 *u, unsigned offset, bool is_write,
		  uint32_t *val);
/* Bytes typed by the user; the excess beyond the FIFO is dropped like a
 * real UART's overrun. Returns the number queued. */
size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len);

#endif
