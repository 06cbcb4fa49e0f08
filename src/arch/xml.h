/* Writing gdb target descriptions (qXfer:features:read target.xml): a
 * bounded text buffer and the <reg> element, shared by the architectures'
 * register code. */
#ifndef KVMDBG_ARCH_XML_H
#define KVMDBG_ARCH_XML_H

#include <stdbool.h>
#include <stddef.h>

struct xml_buf {
	char *p;
	size_t len, cap;
	bool overflow; /* something did not fit: the text is unusable */
};

void xml_add(struct xml_buf *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One register of a target description. */
struct xml_reg {
	const char *name, *type;
	unsigned bits, regnum;
	const char *group;   /* NULL: none */
	const char *generic; /* gdb's generic name (pc, sp, fp), NULL: none */
	bool generic_alias;  /* lldb: also name it altname=generic */
	int dwarf;           /* DWARF and eh_frame number, -1: none */
};

void xml_add_reg(struct xml_buf *x, const struct xml_reg *r);

#endif
