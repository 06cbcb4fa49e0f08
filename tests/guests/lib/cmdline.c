/* The guest's command line, the same on every architecture. */
#include <guest.h>

const char *guest_cmdline(const struct hvm_start_info *si)
{
	if (!si || si->magic != HVM_START_MAGIC || !si->cmdline_paddr)
		return "";
	return (const char *)(uintptr_t)si->cmdline_paddr;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	unsigned base = 10, digits = 0, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s && *s != ' '; s++, digits++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (v > (~0UL - d) / base)
			return -1;
		v = v * base + d;
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

int guest_cmdline_ulong(const char *cmdline, const char *key,
			unsigned long *out)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=')
			return parse_ulong(p + klen + 1, out);
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}
