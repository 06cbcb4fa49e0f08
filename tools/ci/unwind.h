/* Backtraces for kvmdbg-ci: an x86_64 frame-pointer walk, each step
 * checked against the image's DWARF call frame information when it has
 * some. Memory comes through a callback (the RSP 'm' packet). */
#ifndef KVMDBG_CI_UNWIND_H
#define KVMDBG_CI_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "symbols.h"

#define CI_MAX_FRAMES 32

/* How a frame was found. */
enum ci_frame_how {
	CI_FRAME_PC, /* frame 0: the stopped registers */
	CI_FRAME_FP_CFI, /* frame pointers and CFI agree */
	CI_FRAME_CFI, /* CFI; the frame-pointer walk said otherwise */
	CI_FRAME_FP, /* frame pointers; no CFI covers the callee */
};

struct ci_frame {
	uint64_t pc;
	const char *func; /* NULL when unknown */
	struct ci_src src;
	int has_src;
	enum ci_frame_how how;
};

typedef int (*ci_read_mem_fn)(void *opaque, uint64_t addr, void *buf,
			      size_t len);

/* Walks from the registers of a stopped vCPU; returns the frame count
 * (at least 1). after: pc is just past the instruction that stopped it
 * (a watchpoint), whose source line frame 0 then shows. */
size_t ci_unwind(const struct ci_syms *s, uint64_t pc, uint64_t sp,
		 uint64_t fp, bool after, ci_read_mem_fn read_mem,
		 void *opaque, struct ci_frame *frames, size_t max);

/*
 * The backtrace as text: a heading that says which method the walk used,
 * then one "#N  func at file:line, pc 0x... [how]" line per frame. A
 * malloc'd string, or NULL when out of memory.
 */
char *ci_backtrace_text(const struct ci_syms *s, const struct ci_frame *f,
			size_t n);

#endif
