/* Console output on the PL011 by polling (the printf is
 * tests/guests/lib/console.c's). The UART is used as the firmware or VMM
 * left it: only DR and FR are touched. */
#include "guest.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define FR_TXFF (1u << 5)
/* Bounded so a missing or stuck UART slows output down instead of hanging
 * the guest. */
#define UART_POLL_LIMIT 100000

void serial_putc(char c)
{
	for (unsigned n = 0; n < UART_POLL_LIMIT; n++)
		if (!(mmio_read32(PL011_BASE + PL011_FR) & FR_TXFF))
			break;
	mmio_write32(PL011_BASE + PL011_DR, (uint8_t)c);
}
