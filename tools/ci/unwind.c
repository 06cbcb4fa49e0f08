/* x86_64 backtraces: rbp chains, each step checked against DWARF CFI.
 * Where both exist and disagree (a leaf without a frame, a stop inside a
 * prologue), CFI wins and the frame says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unwind.h"

/* DWARF register numbers on x86_64. */
#define DW_RBP 6
#define DW_RSP 7

struct regs {
	uint64_t pc, sp, fp;
};

/* Stack reads go through a few 64-byte lines: both walks read the same
 * slots, and one 'm' round trip costs the same for 8 bytes or 64. */
#define LINE 64
#define NR_LINES 8

struct mem {
	ci_read_mem_fn rd;
	void *opaque;
	uint64_t base[NR_LINES];
	bool valid[NR_LINES];
	uint8_t data[NR_LINES][LINE];
	unsigned next;
};

static int read_u64(struct mem *m, uint64_t addr, uint64_t *v)
{
	uint64_t base = addr & ~(uint64_t)(LINE - 1);
	unsigned i, k;
	int j;

	if (addr - base > LINE - 8) {
		/* Straddles two lines: rare, read it directly. */
		uint8_t b[8];

		if (m->rd(m->opaque, addr, b, 8))
			return -1;
		for (*v = 0, j = 7; j >= 0; j--)
			*v = *v << 8 | b[j];
		return 0;
	}
	for (i = 0; i < NR_LINES; i++)
		if (m->valid[i] && m->base[i] == base)
			break;
	if (i == NR_LINES) {
		i = m->next++ % NR_LINES;
		m->valid[i] = false;
		if (m->rd(m->opaque, base, m->data[i], LINE)) {
			/* The line may cross into unmapped memory. */
			uint8_t b[8];

			if (m->rd(m->opaque, addr, b, 8))
				return -1;
			for (*v = 0, j = 7; j >= 0; j--)
				*v = *v << 8 | b[j];
			return 0;
		}
		m->base[i] = base;
		m->valid[i] = true;
	}
	k = (unsigned)(addr - base);
	for (*v = 0, j = 7; j >= 0; j--)
		*v = *v << 8 | m->data[i][k + (unsigned)j];
	return 0;
}

/* The caller by the rbp chain. At a function's first instruction (no
 * CFI to say so otherwise) the return address is still at rsp. */
static int fp_step(const struct ci_syms *s, const struct regs *r, bool top,
		   struct mem *m, struct regs *out)
{
	const struct ci_func *f = ci_syms_func_at(s, r->pc);

	if (top && f && r->pc == f->low) {
		if (read_u64(m, r->sp, &out->pc))
			return -1;
		out->sp = r->sp + 8;
		out->fp = r->fp;
		return 0;
	}
	if (!r->fp || read_u64(m, r->fp + 8, &out->pc) ||
	    read_u64(m, r->fp, &out->fp))
		return -1;
	out->sp = r->fp + 16;
	return 0;
}

static int cfi_step(const struct ci_syms *s, const struct regs *r,
		    uint64_t lookup, struct mem *m, struct regs *out)
{
	struct ci_cfi c;
	uint64_t cfa;

	if (ci_syms_cfi_at(s, lookup, &c))
		return -1;
	cfa = (c.cfa_reg == DW_RSP ? r->sp : r->fp) + (uint64_t)c.cfa_off;
	if (read_u64(m, cfa + (uint64_t)c.ra_off, &out->pc))
		return -1;
	out->fp = r->fp;
	if (c.rbp_saved &&
	    read_u64(m, cfa + (uint64_t)c.rbp_off, &out->fp))
		return -1;
	out->sp = cfa;
	return 0;
}

static void fill(const struct ci_syms *s, struct ci_frame *f, uint64_t pc,
		 bool caller, enum ci_frame_how how)
{
	/* A return address may be past the end of its call's line, or of
	 * its function when the callee does not return. */
	uint64_t lookup = caller ? pc - 1 : pc;
	const struct ci_func *fn = ci_syms_func_at(s, lookup);

	f->pc = pc;
	f->func = fn ? fn->name : NULL;
	f->has_src = ci_syms_src_at(s, lookup, &f->src);
	f->how = how;
}

size_t ci_unwind(const struct ci_syms *s, uint64_t pc, uint64_t sp,
		 uint64_t fp, bool after, ci_read_mem_fn read_mem,
		 void *opaque, struct ci_frame *frames, size_t max)
{
	struct regs r = { pc, sp, fp }, byfp, bycfi, next;
	struct mem m = { .rd = read_mem, .opaque = opaque };
	size_t n = 0;
	bool have_fp, have_cfi;
	enum ci_frame_how how;

	if (max == 0)
		return 0;
	fill(s, &frames[n++], pc, after, CI_FRAME_PC);
	while (n < max) {
		uint64_t lookup = n == 1 ? r.pc : r.pc - 1;

		have_cfi = !cfi_step(s, &r, lookup, &m, &bycfi);
		have_fp = !fp_step(s, &r, n == 1 && !ci_syms_cfi_section(s),
				   &m, &byfp);
		if (have_cfi) {
			next = bycfi;
			how = have_fp && byfp.pc == bycfi.pc &&
					      byfp.sp == bycfi.sp
				      ? CI_FRAME_FP_CFI
				      : CI_FRAME_CFI;
		} else if (have_fp) {
			next = byfp;
			how = CI_FRAME_FP;
		} else {
			break;
		}
		/* The stack grows down, so callers sit higher; a caller
		 * outside every known function ends the walk (crt0, or a
		 * corrupt frame). */
		if (!next.pc || next.sp <= r.sp ||
		    !ci_syms_func_at(s, next.pc - 1))
			break;
		fill(s, &frames[n++], next.pc, true, how);
		r = next;
	}
	return n;
}

static const char *how_name(enum ci_frame_how how)
{
	switch (how) {
	case CI_FRAME_PC: return "pc";
	case CI_FRAME_FP_CFI: return "fp=cfi";
	case CI_FRAME_CFI: return "cfi, fp differs";
	case CI_FRAME_FP: return "fp";
	}
	return "?";
}

char *ci_backtrace_text(const struct ci_syms *s, const struct ci_frame *f,
			size_t n)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&buf, &len);
	const char *cfi = ci_syms_cfi_section(s);

	if (!m)
		return NULL;
	if (cfi)
		fprintf(m, "backtrace (frame pointers checked against %s "
			   "CFI):\n",
			cfi);
	else
		fprintf(m, "backtrace (frame pointers only: the image has "
			   "no CFI):\n");
	for (i = 0; i < n; i++) {
		fprintf(m, "#%zu  %s", i, f[i].func ? f[i].func : "??");
		if (f[i].has_src)
			fprintf(m, " at %s:%u", f[i].src.file, f[i].src.line);
		fprintf(m, ", pc 0x%llx [%s]\n", (unsigned long long)f[i].pc,
			how_name(f[i].how));
	}
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}
