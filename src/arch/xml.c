/* Target description text; see xml.h. */
#include <stdarg.h>
#include <stdio.h>

#include "arch/xml.h"

void xml_add(struct xml_buf *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->p + x->len, x->cap - x->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= x->cap - x->len)
		x->overflow = true;
	else
		x->len += (size_t)n;
}

void xml_add_reg(struct xml_buf *x, const struct xml_reg *r)
{
	xml_add(x, "  <reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
		r->name, r->bits, r->type, r->regnum);
	if (r->group)
		xml_add(x, " group=\"%s\"", r->group);
	if (r->generic && r->generic_alias)
		xml_add(x, " generic=\"%s\" altname=\"%s\"", r->generic,
			r->generic);
	else if (r->generic)
		xml_add(x, " generic=\"%s\"", r->generic);
	if (r->dwarf >= 0)
		xml_add(x, " dwarf_regnum=\"%d\" ehframe_regnum=\"%d\"",
			r->dwarf, r->dwarf);
	xml_add(x, "/>\n");
}
