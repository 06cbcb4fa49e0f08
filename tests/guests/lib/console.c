/* The console every architecture shares: serial_write and a small printf
 * over the architecture's serial_putc. Included as <guest.h>: each
 * architecture's own, first on the include path. */
#include <guest.h>

static struct spinlock console_lock GUEST_CONSOLE_LOCK_ATTR;

void serial_write(const char *s, size_t len)
{
	while (len--)
		serial_putc(*s++);
}

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_number(struct fmt_out *o, unsigned long v, unsigned base,
		       int negative, unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[n++] = '-';
	for (; width > n; width--)
		fmt_putc(o, pad);
	while (n)
		fmt_putc(o, tmp[--n]);
}

int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = {.buf = buf, .size = size, .len = 0};
	unsigned width, is_long;
	unsigned long u;
	long s;
	const char *str;
	char pad;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			fmt_putc(&o, *fmt);
			continue;
		}
		fmt++;
		pad = ' ';
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		for (width = 0; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (unsigned)(*fmt - '0');
		is_long = 0;
		if (*fmt == 'l') {
			is_long = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'c':
			fmt_putc(&o, (char)va_arg(ap, int));
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			for (u = strlen(str); width > u; width--)
				fmt_putc(&o, ' ');
			while (*str)
				fmt_putc(&o, *str++);
			break;
		case 'd':
			s = is_long ? va_arg(ap, long) : va_arg(ap, int);
			u = s < 0 ? -(unsigned long)s : (unsigned long)s;
			fmt_number(&o, u, 10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = is_long ? va_arg(ap, unsigned long)
				    : va_arg(ap, unsigned int);
			fmt_number(&o, u, *fmt == 'u' ? 10 : 16, 0, width, pad);
			break;
		case 'p':
			fmt_putc(&o, '0');
			fmt_putc(&o, 'x');
			u = (unsigned long)va_arg(ap, void *);
			fmt_number(&o, u, 16, 0, width, pad);
			break;
		case '%':
			fmt_putc(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			fmt_putc(&o, '%');
			fmt_putc(&o, *fmt);
			break;
		}
	}
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
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	spin_lock(&console_lock);
	serial_write(buf, (size_t)n);
	spin_unlock(&console_lock);
}
