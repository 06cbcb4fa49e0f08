/* Console output on the PL011 by polling, a small printf, and the string
 * functions the compiler may call on its own. The UART is used as the
 * firmware or VMM left it: only DR and FR are touched. */
#include "guest.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define FR_TXFF (1u << 5)
/* Bounded so a missing or stuck UART slows output down instead of hanging
 * the guest. */
#define UART_POLL_LIMIT 100000

/* On a page of its own: the lock's exclusive load and store carry no
 * syndrome KVM could hand to a VMM, so they must never touch a page that
 * a debugger protects to watch the programs' variables. */
static struct spinlock console_lock __attribute__((aligned(4096)));

void serial_putc(char c)
{
	for (unsigned n = 0; n < UART_POLL_LIMIT; n++)
		if (!(mmio_read32(PL011_BASE + PL011_FR) & FR_TXFF))
			break;
	mmio_write32(PL011_BASE + PL011_DR, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
	while (len--)
		serial_putc(*s++);
}

struct sink {
	char *buf;
	size_t size, len;
};

static void put(struct sink *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct sink *o, unsigned long v, unsigned base, int neg,
		    unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		put(o, pad);
		width--;
	}
	while (n)
		put(o, tmp[--n]);
}

int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		unsigned width = 0;
		char pad = ' ';
		int lng = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case 'd': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);

			put_num(&o, v < 0 ? -(unsigned long)v : (unsigned long)v,
				10, v < 0, width, pad);
			break;
		}
		case 'u':
			put_num(&o, lng ? va_arg(ap, unsigned long)
					: va_arg(ap, unsigned),
				10, 0, width, pad);
			break;
		case 'x':
			put_num(&o, lng ? va_arg(ap, unsigned long)
					: va_arg(ap, unsigned),
				16, 0, width, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (unsigned long)va_arg(ap, void *), 16, 0,
				width, pad);
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
			break;
		}
	}
done:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void guest_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	spin_lock(&console_lock);
	serial_write(buf, (size_t)n);
	spin_unlock(&console_lock);
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}
