/* Symbols, line tables and CFI of the guest image for kvmdbg-ci. Every
 * table is copied out of libdwarf at open time, except the FDE list, which
 * stays with the Dwarf_Debug for frame walks during the run. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols.h"

/* One row of a line-table sequence that starts a statement. */
struct row {
	uint64_t addr;
	unsigned file;
	unsigned line;
};

/* [start, end) maps to file:line. */
struct range {
	uint64_t start, end;
	unsigned file;
	unsigned line;
};

struct ci_syms {
	int fd;
	Elf *elf;
	Dwarf_Debug dbg;
	bool dwarf;
	char cwd[PATH_MAX];

	struct ci_func *funcs;
	size_t nr_funcs, cap_funcs;
	struct ci_var *vars;
	size_t nr_vars, cap_vars;

	/* Source files: full, cleaned paths and how they are shown. */
	char **files;
	char **shown;
	size_t nr_files;

	struct row *rows;
	size_t nr_rows, cap_rows;
	struct range *ranges;
	size_t nr_ranges, cap_ranges;

	Dwarf_Cie *cies;
	Dwarf_Signed nr_cies;
	Dwarf_Fde *fdes;
	Dwarf_Signed nr_fdes;
	const char *cfi_section;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	q = realloc(p, n * size);
	if (q)
		*cap = n;
	return q;
}

/*
 * Paths
 */

/* Removes ".", "x/.." and doubled slashes from an absolute path. */
static void clean_path(char *path)
{
	char *out = path, *p = path;
	size_t len;

	while (*p) {
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, p, len);
			out += len;
		}
		p += len;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/* The file table index of dir/name, adding it if new. */
static int intern_file(struct ci_syms *s, const char *comp_dir,
		       const char *name, unsigned *idx)
{
	char full[PATH_MAX * 2];
	const char *shown;
	char **f, **sh;
	size_t i, cwd_len;

	if (name[0] == '/' || !comp_dir)
		snprintf(full, sizeof(full), "%s%s", name[0] == '/' ? "" : "/",
			 name);
	else
		snprintf(full, sizeof(full), "%s/%s", comp_dir, name);
	clean_path(full);
	for (i = 0; i < s->nr_files; i++)
		if (!strcmp(s->files[i], full)) {
			*idx = (unsigned)i;
			return 0;
		}
	f = realloc(s->files, (s->nr_files + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->files = f;
	sh = realloc(s->shown, (s->nr_files + 1) * sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	s->shown = sh;
	cwd_len = strlen(s->cwd);
	shown = full;
	if (cwd_len > 1 && !strncmp(full, s->cwd, cwd_len) &&
	    full[cwd_len] == '/')
		shown = full + cwd_len + 1;
	s->files[s->nr_files] = strdup(full);
	s->shown[s->nr_files] = strdup(shown);
	if (!s->files[s->nr_files] || !s->shown[s->nr_files]) {
		free(s->files[s->nr_files]);
		free(s->shown[s->nr_files]);
		return -ENOMEM;
	}
	*idx = (unsigned)s->nr_files++;
	return 0;
}

/* Whether spec names path by whole trailing components. */
static bool path_matches(const char *path, const char *spec)
{
	size_t pl = strlen(path), sl;

	while (spec[0] == '.' && spec[1] == '/')
		spec += 2;
	sl = strlen(spec);
	if (spec[0] == '/')
		return !strcmp(path, spec);
	if (sl == 0 || sl > pl)
		return false;
	return !strcmp(path + pl - sl, spec) &&
	       (sl == pl || path[pl - sl - 1] == '/');
}

/*
 * ELF symbols
 */

static int add_func(struct ci_syms *s, const char *name, uint64_t low,
		    uint64_t high, bool dwarf)
{
	struct ci_func *f;

	f = grow(s->funcs, &s->cap_funcs, s->nr_funcs + 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->funcs = f;
	f = &s->funcs[s->nr_funcs];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	if (!f->name)
		return -ENOMEM;
	f->low = low;
	f->high = high;
	f->body = low;
	f->from_dwarf = dwarf;
	s->nr_funcs++;
	return 0;
}

static struct ci_var *add_var(struct ci_syms *s, const char *name)
{
	struct ci_var *v;

	v = grow(s->vars, &s->cap_vars, s->nr_vars + 1, sizeof(*v));
	if (!v)
		return NULL;
	s->vars = v;
	v = &s->vars[s->nr_vars];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	s->nr_vars++;
	return v;
}

/* Functions and objects DWARF did not describe (assembly, or no DWARF at
 * all) come from .symtab. */
static int read_elf_symbols(struct ci_syms *s)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *data;
	size_t i, n;
	const char *name;
	struct ci_var *v;
	int ret;

	while ((scn = elf_nextscn(s->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			name = elf_strptr(s->elf, sh.sh_link, sym.st_name);
			if (!name || !*name || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_size)
				continue;
			if (GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
				if (ci_syms_func(s, name))
					continue;
				ret = add_func(s, name, sym.st_value,
					       sym.st_value + sym.st_size,
					       false);
				if (ret)
					return ret;
			} else if (GELF_ST_TYPE(sym.st_info) == STT_OBJECT) {
				if (ci_syms_var(s, name))
					continue;
				v = add_var(s, name);
				if (!v)
					return -ENOMEM;
				v->addr = sym.st_value;
				v->size = sym.st_size;
				v->scalar = sym.st_size == 1 ||
					    sym.st_size == 2 ||
					    sym.st_size == 4 ||
					    sym.st_size == 8;
				snprintf(v->type, sizeof(v->type),
					 "%llu bytes, no type (ELF symbol)",
					 (unsigned long long)sym.st_size);
			}
		}
	}
	return 0;
}

/*
 * DWARF
 */

static void drop_error(struct ci_syms *s, Dwarf_Error *e)
{
	if (*e) {
		dwarf_dealloc(s->dbg, *e, DW_DLA_ERROR);
		*e = NULL;
	}
}

/* The DIE an attribute of die refers to, or NULL. */
static Dwarf_Die ref_die(struct ci_syms *s, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;
	Dwarf_Off off;
	Dwarf_Die out = NULL;

	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
		drop_error(s, &e);
		return NULL;
	}
	if (dwarf_global_formref(a, &off, &e) != DW_DLV_OK ||
	    dwarf_offdie_b(s->dbg, off, true, &out, &e) != DW_DLV_OK)
		out = NULL;
	drop_error(s, &e);
	dwarf_dealloc_attribute(a);
	return out;
}

static bool udata(struct ci_syms *s, Dwarf_Die die, Dwarf_Half at,
		  Dwarf_Unsigned *out)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;
	bool ok;

	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
		drop_error(s, &e);
		return false;
	}
	ok = dwarf_formudata(a, out, &e) == DW_DLV_OK;
	drop_error(s, &e);
	dwarf_dealloc_attribute(a);
	return ok;
}

static bool has_attr(struct ci_syms *s, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Bool b = false;
	Dwarf_Error e = NULL;

	if (dwarf_hasattr(die, at, &b, &e) != DW_DLV_OK)
		drop_error(s, &e);
	return b;
}

/* The DIE's name, or the name of what it specifies or instantiates. A
 * copy, or NULL. */
static char *die_name(struct ci_syms *s, Dwarf_Die die, Dwarf_Die *origin)
{
	Dwarf_Error e = NULL;
	char *name = NULL, *copy;
	Dwarf_Die other;

	*origin = NULL;
	if (dwarf_diename(die, &name, &e) == DW_DLV_OK)
		return strdup(name);
	drop_error(s, &e);
	other = ref_die(s, die, DW_AT_specification);
	if (!other)
		other = ref_die(s, die, DW_AT_abstract_origin);
	if (!other)
		return NULL;
	if (dwarf_diename(other, &name, &e) == DW_DLV_OK) {
		copy = strdup(name);
		*origin = other;
		return copy;
	}
	drop_error(s, &e);
	dwarf_dealloc_die(other);
	return NULL;
}

/* Describes the type DIE type (consumed) into v: size, scalar, sign. */
static void describe_type(struct ci_syms *s, Dwarf_Die type, struct ci_var *v)
{
	char quals[32] = "";
	Dwarf_Unsigned size = 0, enc = 0, count, total;
	Dwarf_Error e = NULL;
	Dwarf_Half tag;
	Dwarf_Die next, child, sub;
	char *name;
	int depth;

	snprintf(v->type, sizeof(v->type), "unknown type");
	for (depth = 0; type && depth < 16; depth++) {
		if (dwarf_tag(type, &tag, &e) != DW_DLV_OK)
			break;
		switch (tag) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (tag == DW_TAG_volatile_type)
				strcat(quals, "volatile ");
			else if (tag == DW_TAG_const_type)
				strcat(quals, "const ");
			next = ref_die(s, type, DW_AT_type);
			dwarf_dealloc_die(type);
			type = next;
			continue;
		case DW_TAG_base_type:
			udata(s, type, DW_AT_byte_size, &size);
			udata(s, type, DW_AT_encoding, &enc);
			v->size = size;
			v->scalar = enc != DW_ATE_float &&
				    enc != DW_ATE_complex_float && size &&
				    size <= 8;
			v->is_signed = enc == DW_ATE_signed ||
				       enc == DW_ATE_signed_char;
			name = NULL;
			if (dwarf_diename(type, &name, &e) != DW_DLV_OK)
				drop_error(s, &e);
			snprintf(v->type, sizeof(v->type), "%s%s", quals,
				 name ? name : "base type");
			break;
		case DW_TAG_pointer_type:
			size = 8;
			udata(s, type, DW_AT_byte_size, &size);
			v->size = size;
			v->scalar = true;
			snprintf(v->type, sizeof(v->type), "%spointer", quals);
			break;
		case DW_TAG_enumeration_type:
			udata(s, type, DW_AT_byte_size, &size);
			v->size = size;
			v->scalar = size && size <= 8;
			next = ref_die(s, type, DW_AT_type);
			if (next) {
				enc = 0;
				udata(s, next, DW_AT_encoding, &enc);
				v->is_signed = enc == DW_ATE_signed;
				dwarf_dealloc_die(next);
			}
			snprintf(v->type, sizeof(v->type), "%senum", quals);
			break;
		case DW_TAG_array_type: {
			struct ci_var elem = { 0 };

			next = ref_die(s, type, DW_AT_type);
			describe_type(s, next, &elem);
			total = elem.size;
			if (dwarf_child(type, &child, &e) == DW_DLV_OK) {
				do {
					count = 0;
					if (dwarf_tag(child, &tag, &e) ==
						    DW_DLV_OK &&
					    tag == DW_TAG_subrange_type &&
					    !udata(s, child, DW_AT_count,
						   &count) &&
					    udata(s, child, DW_AT_upper_bound,
						  &count))
						count++;
					total *= count;
					sub = NULL;
					if (dwarf_siblingof_b(s->dbg, child,
							      true, &sub,
							      &e) != DW_DLV_OK)
						sub = NULL;
					dwarf_dealloc_die(child);
					child = sub;
				} while (child);
			}
			drop_error(s, &e);
			v->size = total;
			v->scalar = false;
			snprintf(v->type, sizeof(v->type),
				 "array (%llu bytes)", (unsigned long long)total);
			break;
		}
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_class_type:
			udata(s, type, DW_AT_byte_size, &size);
			v->size = size;
			v->scalar = false;
			snprintf(v->type, sizeof(v->type), "%s (%llu bytes)",
				 tag == DW_TAG_union_type ? "union" : "struct",
				 (unsigned long long)size);
			break;
		default:
			break;
		}
		break;
	}
	drop_error(s, &e);
	if (type)
		dwarf_dealloc_die(type);
}

/* A global with a fixed address (DW_OP_addr) becomes a ci_var. */
static int read_variable(struct ci_syms *s, Dwarf_Die die)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;
	Dwarf_Unsigned len = 0;
	Dwarf_Ptr block = NULL;
	Dwarf_Die origin, type;
	const uint8_t *b;
	struct ci_var *v;
	uint64_t addr = 0;
	char *name;
	int i;

	if (dwarf_attr(die, DW_AT_location, &a, &e) != DW_DLV_OK) {
		drop_error(s, &e);
		return 0;
	}
	if (dwarf_formexprloc(a, &len, &block, &e) != DW_DLV_OK || len != 9 ||
	    ((const uint8_t *)block)[0] != DW_OP_addr) {
		drop_error(s, &e);
		dwarf_dealloc_attribute(a);
		return 0;
	}
	b = block;
	for (i = 8; i >= 1; i--)
		addr = addr << 8 | b[i];
	dwarf_dealloc_attribute(a);

	name = die_name(s, die, &origin);
	if (!name || ci_syms_var(s, name)) {
		free(name);
		if (origin)
			dwarf_dealloc_die(origin);
		return name ? 0 : -ENOMEM;
	}
	v = add_var(s, name);
	free(name);
	if (!v) {
		if (origin)
			dwarf_dealloc_die(origin);
		return -ENOMEM;
	}
	v->addr = addr;
	v->from_dwarf = true;
	type = ref_die(s, die, DW_AT_type);
	if (!type && origin)
		type = ref_die(s, origin, DW_AT_type);
	describe_type(s, type, v);
	if (origin)
		dwarf_dealloc_die(origin);
	return 0;
}

static int read_subprogram(struct ci_syms *s, Dwarf_Die die)
{
	Dwarf_Error e = NULL;
	Dwarf_Addr low, high;
	Dwarf_Half form;
	enum Dwarf_Form_Class cls;
	Dwarf_Die origin;
	char *name;
	int ret;

	if (has_attr(s, die, DW_AT_declaration))
		return 0;
	if (dwarf_lowpc(die, &low, &e) != DW_DLV_OK ||
	    dwarf_highpc_b(die, &high, &form, &cls, &e) != DW_DLV_OK) {
		/* Inline-only, or split into ranges: the ELF symbol serves. */
		drop_error(s, &e);
		return 0;
	}
	if (cls == DW_FORM_CLASS_CONSTANT)
		high += low;
	name = die_name(s, die, &origin);
	if (origin)
		dwarf_dealloc_die(origin);
	if (!name)
		return 0;
	ret = ci_syms_func(s, name) ? 0 : add_func(s, name, low, high, true);
	free(name);
	return ret;
}

static char *cu_string(struct ci_syms *s, Dwarf_Die cu, Dwarf_Half at)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;
	char *str = NULL, *copy = NULL;

	if (dwarf_attr(cu, at, &a, &e) == DW_DLV_OK) {
		if (dwarf_formstring(a, &str, &e) == DW_DLV_OK)
			copy = strdup(str);
		dwarf_dealloc_attribute(a);
	}
	drop_error(s, &e);
	return copy;
}

/*
 * Interns the CU's file name table; map[i] is the file table index of the
 * line program's file number i.
 */
static int read_file_table(struct ci_syms *s, Dwarf_Die cu, const char *dir,
			   unsigned version, unsigned **map, Dwarf_Signed *n)
{
	Dwarf_Error e = NULL;
	char **names;
	Dwarf_Signed i;
	int ret = 0;

	*map = NULL;
	*n = 0;
	if (dwarf_srcfiles(cu, &names, n, &e) != DW_DLV_OK) {
		drop_error(s, &e);
		*n = 0;
		return 0;
	}
	*map = calloc((size_t)*n + 1, sizeof(**map));
	if (!*map)
		ret = -ENOMEM;
	for (i = 0; i < *n; i++) {
		if (!ret)
			ret = intern_file(s, dir, names[i], &(*map)[i]);
		dwarf_dealloc(s->dbg, names[i], DW_DLA_STRING);
	}
	dwarf_dealloc(s->dbg, names, DW_DLA_LIST);
	(void)version;
	return ret;
}

static int read_lines(struct ci_syms *s, Dwarf_Die cu)
{
	Dwarf_Unsigned version;
	Dwarf_Small tables;
	Dwarf_Line_Context ctx;
	Dwarf_Line *lines;
	Dwarf_Signed n, i;
	Dwarf_Error e = NULL;
	Dwarf_Addr addr;
	Dwarf_Unsigned lineno;
	Dwarf_Bool stmt, end;
	Dwarf_Unsigned fileno;
	Dwarf_Signed nr_files;
	char *comp_dir, *producer;
	unsigned *map;
	bool gnu_v5;
	struct row *r;
	struct range *g;
	bool open = false, prev_stmt = false;
	struct row prev = { 0 };
	unsigned file;
	int ret = 0;

	if (dwarf_srclines_b(cu, &version, &tables, &ctx, &e) != DW_DLV_OK) {
		drop_error(s, &e);
		return 0;
	}
	if (dwarf_srclines_from_linecontext(ctx, &lines, &n, &e) !=
	    DW_DLV_OK) {
		drop_error(s, &e);
		dwarf_srclines_dealloc_b(ctx);
		return 0;
	}
	comp_dir = cu_string(s, cu, DW_AT_comp_dir);
	producer = cu_string(s, cu, DW_AT_producer);
	/*
	 * Line programs number files from 1 up to DWARF 4 and from 0 in
	 * DWARF 5, where the file register still starts at 1. libdwarf
	 * 20210528 starts it at 0 for DWARF 5, so rows before the first
	 * DW_LNS_set_file say file 0 where they mean file 1. gcc never sets
	 * file 0 itself, so for its output a 0 is taken as 1.
	 */
	gnu_v5 = version >= 5 && producer && !strncmp(producer, "GNU ", 4);
	free(producer);
	ret = read_file_table(s, cu, comp_dir, (unsigned)version, &map,
			      &nr_files);
	for (i = 0; i < n && !ret; i++) {
		if (dwarf_lineaddr(lines[i], &addr, &e) != DW_DLV_OK ||
		    dwarf_lineno(lines[i], &lineno, &e) != DW_DLV_OK ||
		    dwarf_linebeginstatement(lines[i], &stmt, &e) !=
			    DW_DLV_OK ||
		    dwarf_lineendsequence(lines[i], &end, &e) != DW_DLV_OK) {
			drop_error(s, &e);
			continue;
		}
		/* Several rows at one address: a statement row says more
		 * than the non-statement rows after it. */
		if (open && addr == prev.addr && prev_stmt && !stmt && !end)
			continue;
		/* Close the range the previous row opened. */
		if (open && addr > prev.addr) {
			g = grow(s->ranges, &s->cap_ranges, s->nr_ranges + 1,
				 sizeof(*g));
			if (!g) {
				ret = -ENOMEM;
				break;
			}
			s->ranges = g;
			s->ranges[s->nr_ranges++] = (struct range){
				prev.addr, addr, prev.file, prev.line };
		}
		open = false;
		if (end)
			continue;
		if (dwarf_line_srcfileno(lines[i], &fileno, &e) != DW_DLV_OK) {
			drop_error(s, &e);
			continue;
		}
		if (gnu_v5 && fileno == 0)
			fileno = 1;
		else if (version < 5)
			fileno--;
		if (fileno >= (Dwarf_Unsigned)nr_files)
			continue;
		file = map[fileno];
		prev = (struct row){ addr, file, (unsigned)lineno };
		prev_stmt = stmt;
		open = true;
		if (!stmt)
			continue;
		r = grow(s->rows, &s->cap_rows, s->nr_rows + 1, sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			break;
		}
		s->rows = r;
		s->rows[s->nr_rows++] = prev;
	}
	free(comp_dir);
	free(map);
	dwarf_srclines_dealloc_b(ctx);
	return ret;
}

static int read_cu(struct ci_syms *s, Dwarf_Die cu)
{
	Dwarf_Error e = NULL;
	Dwarf_Die child, next;
	Dwarf_Half tag;
	int ret;

	ret = read_lines(s, cu);
	if (ret)
		return ret;
	if (dwarf_child(cu, &child, &e) != DW_DLV_OK) {
		drop_error(s, &e);
		return 0;
	}
	while (child && !ret) {
		if (dwarf_tag(child, &tag, &e) == DW_DLV_OK) {
			if (tag == DW_TAG_subprogram)
				ret = read_subprogram(s, child);
			else if (tag == DW_TAG_variable)
				ret = read_variable(s, child);
		}
		drop_error(s, &e);
		next = NULL;
		if (dwarf_siblingof_b(s->dbg, child, true, &next, &e) !=
		    DW_DLV_OK)
			next = NULL;
		drop_error(s, &e);
		dwarf_dealloc_die(child);
		child = next;
	}
	if (child)
		dwarf_dealloc_die(child);
	return ret;
}

static int read_dwarf(struct ci_syms *s, char *err, size_t err_len)
{
	Dwarf_Unsigned hdr_len, type_off, next_off;
	Dwarf_Half version, addr_size, off_size, ext_size, cu_type;
	Dwarf_Off abbrev;
	Dwarf_Sig8 sig;
	Dwarf_Error e = NULL;
	Dwarf_Die cu;
	int r, ret = 0;

	r = dwarf_init_b(s->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL,
			 &s->dbg, &e);
	if (r == DW_DLV_NO_ENTRY)
		return 0;
	if (r != DW_DLV_OK) {
		snprintf(err, err_len, "cannot read its DWARF: %s",
			 e ? dwarf_errmsg(e) : "libdwarf failed");
		/* No Dwarf_Debug to free the error with. */
		s->dbg = NULL;
		return -EINVAL;
	}
	s->dwarf = true;
	for (;;) {
		r = dwarf_next_cu_header_d(s->dbg, true, &hdr_len, &version,
					   &abbrev, &addr_size, &off_size,
					   &ext_size, &sig, &type_off,
					   &next_off, &cu_type, &e);
		if (r == DW_DLV_NO_ENTRY)
			break;
		if (r != DW_DLV_OK) {
			snprintf(err, err_len, "bad DWARF unit: %s",
				 dwarf_errmsg(e));
			drop_error(s, &e);
			return -EINVAL;
		}
		if (dwarf_siblingof_b(s->dbg, NULL, true, &cu, &e) !=
		    DW_DLV_OK) {
			drop_error(s, &e);
			continue;
		}
		if (!ret)
			ret = read_cu(s, cu);
		dwarf_dealloc_die(cu);
	}
	if (ret)
		return ret;

	r = dwarf_get_fde_list(s->dbg, &s->cies, &s->nr_cies, &s->fdes,
			       &s->nr_fdes, &e);
	if (r == DW_DLV_OK) {
		s->cfi_section = ".debug_frame";
	} else {
		drop_error(s, &e);
		r = dwarf_get_fde_list_eh(s->dbg, &s->cies, &s->nr_cies,
					  &s->fdes, &s->nr_fdes, &e);
		if (r == DW_DLV_OK)
			s->cfi_section = ".eh_frame";
		drop_error(s, &e);
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Body addresses: past the prologue, at the first row of another line. */
static void find_bodies(struct ci_syms *s)
{
	size_t i, j;

	for (i = 0; i < s->nr_funcs; i++) {
		struct ci_func *f = &s->funcs[i];
		const struct row *first = NULL;

		for (j = 0; j < s->nr_rows; j++) {
			const struct row *r = &s->rows[j];

			if (r->addr < f->low || r->addr >= f->high)
				continue;
			if (!first || r->addr < first->addr)
				first = r;
		}
		if (!first)
			continue;
		f->body = f->high;
		for (j = 0; j < s->nr_rows; j++) {
			const struct row *r = &s->rows[j];

			if (r->addr >= f->low && r->addr < f->high &&
			    r->line != first->line && r->addr < f->body)
				f->body = r->addr;
		}
		if (f->body == f->high)
			f->body = f->low;
	}
}

int ci_syms_open(const char *path, struct ci_syms **out, char *err,
		 size_t err_len)
{
	struct ci_syms *s;
	GElf_Ehdr eh;
	int ret;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, err_len, "libelf is unusable");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (!getcwd(s->cwd, sizeof(s->cwd)))
		s->cwd[0] = '\0';
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "cannot open %s: %s", path,
			 strerror(errno));
		free(s);
		return ret;
	}
	s->elf = elf_begin(s->fd, ELF_C_READ, NULL);
	if (!s->elf || elf_kind(s->elf) != ELF_K_ELF || !gelf_getehdr(s->elf, &eh)) {
		snprintf(err, err_len, "%s is not an ELF image", path);
		ret = -EINVAL;
		goto err_close;
	}
	if (eh.e_machine != EM_X86_64) {
		snprintf(err, err_len, "%s is not an x86_64 image", path);
		ret = -EINVAL;
		goto err_close;
	}
	ret = read_dwarf(s, err, err_len);
	if (!ret)
		ret = read_elf_symbols(s);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, err_len, "out of memory reading %s",
				 path);
		goto err_close;
	}
	if (s->nr_ranges)
		qsort(s->ranges, s->nr_ranges, sizeof(*s->ranges), cmp_range);
	find_bodies(s);
	*out = s;
	return 0;

err_close:
	ci_syms_close(s);
	return ret;
}

void ci_syms_close(struct ci_syms *s)
{
	Dwarf_Error e = NULL;
	size_t i;

	if (!s)
		return;
	if (s->dbg) {
		if (s->fdes)
			dwarf_fde_cie_list_dealloc(s->dbg, s->cies, s->nr_cies,
						   s->fdes, s->nr_fdes);
		dwarf_finish(s->dbg, &e);
	}
	if (s->elf)
		elf_end(s->elf);
	close(s->fd);
	for (i = 0; i < s->nr_funcs; i++)
		free(s->funcs[i].name);
	for (i = 0; i < s->nr_vars; i++)
		free(s->vars[i].name);
	for (i = 0; i < s->nr_files; i++) {
		free(s->files[i]);
		free(s->shown[i]);
	}
	free(s->funcs);
	free(s->vars);
	free(s->files);
	free(s->shown);
	free(s->rows);
	free(s->ranges);
	free(s);
}

bool ci_syms_has_dwarf(const struct ci_syms *s)
{
	return s->dwarf;
}

bool ci_syms_has_lines(const struct ci_syms *s)
{
	return s->nr_rows > 0;
}

const char *ci_syms_cfi_section(const struct ci_syms *s)
{
	return s->cfi_section;
}

const struct ci_func *ci_syms_func(const struct ci_syms *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nr_funcs; i++)
		if (!strcmp(s->funcs[i].name, name))
			return &s->funcs[i];
	return NULL;
}

const struct ci_func *ci_syms_func_at(const struct ci_syms *s, uint64_t pc)
{
	const struct ci_func *best = NULL;
	size_t i;

	/* The smallest enclosing range wins over, say, a whole-section
	 * symbol. */
	for (i = 0; i < s->nr_funcs; i++) {
		const struct ci_func *f = &s->funcs[i];

		if (pc >= f->low && pc < f->high &&
		    (!best || f->high - f->low < best->high - best->low))
			best = f;
	}
	return best;
}

const struct ci_var *ci_syms_var(const struct ci_syms *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nr_vars; i++)
		if (!strcmp(s->vars[i].name, name))
			return &s->vars[i];
	return NULL;
}

/* Levenshtein distance, capped: names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = a[i - 1] == b[j - 1] ? prev : 1 + prev;
			if (row[j] > row[j - 1] + 1)
				row[j] = row[j - 1] + 1;
			if (row[j] > tmp + 1)
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *ci_syms_suggest(const struct ci_syms *s, const char *name)
{
	const char *best = NULL;
	size_t d, best_d = strlen(name) / 3 + 1, i;

	for (i = 0; i < s->nr_funcs; i++) {
		d = distance(name, s->funcs[i].name);
		if (d <= best_d && (!best || d < best_d)) {
			best = s->funcs[i].name;
			best_d = d;
		}
	}
	for (i = 0; i < s->nr_vars; i++) {
		d = distance(name, s->vars[i].name);
		if (d <= best_d && (!best || d < best_d)) {
			best = s->vars[i].name;
			best_d = d;
		}
	}
	return best;
}

bool ci_syms_src_at(const struct ci_syms *s, uint64_t pc, struct ci_src *src)
{
	size_t lo = 0, hi = s->nr_ranges, mid;

	/* Last range starting at or before pc. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->ranges[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || pc >= s->ranges[lo - 1].end)
		return false;
	src->file = s->shown[s->ranges[lo - 1].file];
	src->line = s->ranges[lo - 1].line;
	return true;
}

int ci_syms_line_addrs(const struct ci_syms *s, const char *file,
		       unsigned line, uint64_t *addrs, size_t cap,
		       struct ci_src *at, char *err, size_t err_len)
{
	size_t i, j, n = 0;
	long match = -1;
	unsigned best = 0;

	for (i = 0; i < s->nr_files; i++) {
		if (!path_matches(s->files[i], file))
			continue;
		/* Only files with code count: a header named like a source
		 * file elsewhere is no ambiguity. */
		for (j = 0; j < s->nr_rows; j++)
			if (s->rows[j].file == i)
				break;
		if (j == s->nr_rows)
			continue;
		if (match >= 0) {
			snprintf(err, err_len, "'%s' names both %s and %s",
				 file, s->shown[match], s->shown[i]);
			return -EEXIST;
		}
		match = (long)i;
	}
	if (match < 0) {
		snprintf(err, err_len, "no source file '%s' in the line table",
			 file);
		return -ENOENT;
	}
	/* The first line at or after the one asked for that has code. */
	for (j = 0; j < s->nr_rows; j++)
		if (s->rows[j].file == (unsigned)match &&
		    s->rows[j].line >= line &&
		    (!best || s->rows[j].line < best))
			best = s->rows[j].line;
	if (!best) {
		snprintf(err, err_len, "no code at or after %s:%u",
			 s->shown[match], line);
		return -ENODATA;
	}
	for (j = 0; j < s->nr_rows; j++) {
		const struct row *r = &s->rows[j];
		const struct ci_func *f;
		uint64_t addr = r->addr;
		size_t k;

		if (r->file != (unsigned)match || r->line != best)
			continue;
		f = ci_syms_func_at(s, addr);
		if (f && addr == f->low)
			addr = f->body;
		/* One address per function: its lowest for this line. */
		for (k = 0; k < n; k++) {
			const struct ci_func *g = ci_syms_func_at(s, addrs[k]);

			if (g == f && f) {
				if (addr < addrs[k])
					addrs[k] = addr;
				break;
			}
			if (addrs[k] == addr)
				break;
		}
		if (k == n && n < cap)
			addrs[n++] = addr;
	}
	at->file = s->shown[match];
	at->line = best;
	return (int)n;
}

int ci_syms_cfi_at(const struct ci_syms *s, uint64_t pc, struct ci_cfi *out)
{
	Dwarf_Fde fde;
	Dwarf_Addr lo, hi, row;
	Dwarf_Small vt;
	Dwarf_Signed rel, reg, off;
	Dwarf_Ptr block;
	Dwarf_Error e = NULL;
	struct ci_syms *m = (struct ci_syms *)s;

	if (!s->fdes)
		return -ENOENT;
	if (dwarf_get_fde_at_pc(s->fdes, pc, &fde, &lo, &hi, &e) != DW_DLV_OK) {
		drop_error(m, &e);
		return -ENOENT;
	}
	if (dwarf_get_fde_info_for_cfa_reg3(fde, pc, &vt, &rel, &reg, &off,
					    &block, &row, &e) != DW_DLV_OK) {
		drop_error(m, &e);
		return -ENOTSUP;
	}
	if (vt != DW_EXPR_OFFSET || (reg != 6 && reg != 7))
		return -ENOTSUP;
	out->cfa_reg = (unsigned)reg;
	out->cfa_off = off;
	/* Column 16 is the return address on x86_64. */
	if (dwarf_get_fde_info_for_reg3(fde, 16, pc, &vt, &rel, &reg, &off,
					&block, &row, &e) != DW_DLV_OK) {
		drop_error(m, &e);
		return -ENOTSUP;
	}
	if (vt != DW_EXPR_OFFSET || !rel || reg != DW_FRAME_CFA_COL3)
		return -ENOTSUP;
	out->ra_off = off;
	if (dwarf_get_fde_info_for_reg3(fde, 6, pc, &vt, &rel, &reg, &off,
					&block, &row, &e) != DW_DLV_OK) {
		drop_error(m, &e);
		return -ENOTSUP;
	}
	if (reg == DW_FRAME_SAME_VAL) {
		out->rbp_saved = false;
	} else if (vt == DW_EXPR_OFFSET && rel && reg == DW_FRAME_CFA_COL3) {
		out->rbp_saved = true;
		out->rbp_off = off;
	} else {
		return -ENOTSUP;
	}
	return 0;
}
