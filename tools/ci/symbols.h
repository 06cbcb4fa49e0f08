/* kvmdbg-ci's view of the guest image: functions, globals, line tables
 * and call frame information, read with libelf and libdwarf once at start.
 * Without DWARF it falls back to the ELF symbol table. */
#ifndef KVMDBG_CI_SYMBOLS_H
#define KVMDBG_CI_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ci_syms;

struct ci_func {
	char *name;
	uint64_t low, high; /* [low, high) */
	/* Where a breakpoint on the function goes: past the prologue, at
	 * the first line-table row of another line (low without lines). */
	uint64_t body;
	bool from_dwarf;
};

struct ci_var {
	char *name;
	uint64_t addr;
	uint64_t size;
	/* Integers, enums, booleans, characters and pointers can be compared
	 * with a number; arrays, structs, unions and floats cannot. */
	bool scalar;
	bool is_signed;
	/* "volatile unsigned long", "struct (24 bytes)", ... */
	char type[64];
	bool from_dwarf;
};

/* A source position; file is shown relative to the working directory when
 * it lies below it. */
struct ci_src {
	const char *file;
	unsigned line;
};

/* One row of the call frame table at a pc, as far as an x86_64 frame walk
 * needs it. Registers are DWARF numbers: 6 rbp, 7 rsp, 16 return address. */
struct ci_cfi {
	unsigned cfa_reg;
	int64_t cfa_off;
	/* The return address is at CFA + ra_off. */
	int64_t ra_off;
	/* rbp: unchanged (same value) or saved at CFA + rbp_off. */
	bool rbp_saved;
	int64_t rbp_off;
};

/*
 * Reads path. Returns 0, or a negative errno with a sentence in err
 * (a file that is not an ELF image, DWARF that libdwarf rejects). An image
 * without DWARF is not an error: ci_syms_has_dwarf says so.
 */
int ci_syms_open(const char *path, struct ci_syms **out, char *err,
		 size_t err_len);
void ci_syms_close(struct ci_syms *s);

bool ci_syms_has_dwarf(const struct ci_syms *s);
bool ci_syms_has_lines(const struct ci_syms *s);
/* ".debug_frame", ".eh_frame", or NULL when the image has no CFI. */
const char *ci_syms_cfi_section(const struct ci_syms *s);

const struct ci_func *ci_syms_func(const struct ci_syms *s, const char *name);
const struct ci_func *ci_syms_func_at(const struct ci_syms *s, uint64_t pc);
const struct ci_var *ci_syms_var(const struct ci_syms *s, const char *name);
/* The known name closest to name (functions and globals), for "did you
 * mean"; NULL when nothing is close. */
const char *ci_syms_suggest(const struct ci_syms *s, const char *name);

/* The line-table row covering pc. */
bool ci_syms_src_at(const struct ci_syms *s, uint64_t pc, struct ci_src *src);

/*
 * Addresses of FILE:LINE, one per function with code for it (its lowest
 * statement address there; a function's opening line means its body). A
 * line without code moves to the next line with code, reported in *at.
 * file matches whole trailing path components. Returns the count, or
 * -ENOENT (no such file; err says so), -ENODATA (no code at or after the
 * line), -EEXIST (file names two different files; err lists them).
 */
int ci_syms_line_addrs(const struct ci_syms *s, const char *file,
		       unsigned line, uint64_t *addrs, size_t cap,
		       struct ci_src *at, char *err, size_t err_len);

/* The CFI row for pc; -ENOENT when no FDE covers it, -ENOTSUP when the
 * rules are beyond a register-plus-offset walk. */
int ci_syms_cfi_at(const struct ci_syms *s, uint64_t pc, struct ci_cfi *out);

#endif
