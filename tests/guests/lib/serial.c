/* Console output on the COM1 16550 by polling (the printf is console.c's).
 * The UART is used as the firmware or VMM left it: no divisor or line
 * setup, so a VMM only has to implement THR and LSR. */
#include "guest.h"

#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20
/* Bounded so a missing or stuck UART slows output down instead of hanging
 * the guest. */
#define UART_POLL_LIMIT 100000

void serial_putc(char c)
{
	unsigned n;

	for (n = 0; n < UART_POLL_LIMIT; n++)
		if (inb(COM1_PORT + UART_LSR) & LSR_THRE)
			break;
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}
