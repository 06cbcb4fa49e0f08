/* Target-side breakpoint conditions: gdb's agent-expression bytecode as it
 * arrives in Z0/Z1 packets, parsed and verified once, evaluated at each hit. */
#ifndef KVMDBG_BP_AGENT_H
#define KVMDBG_BP_AGENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The module is pure: it never touches KVM or the session. Registers and
 * guest memory come through struct agent_env, so unit tests and the fuzz
 * target drive it with fakes.
 *
 * A condition list is what follows "Z0,addr,kind" when the server
 * advertises ConditionalBreakpoints+: zero or more items "X<len>,<bytes>",
 * len in hex, bytes as 2*len hex digits. gdb 13 writes one ';' and then
 * the items back to back (";Xd,2400...27X28,2400...27"); a ';' between
 * items is accepted too. The breakpoint stops when ANY item is true.
 *
 * Every expression is verified when it is parsed, so evaluation cannot go
 * wrong on the host whatever gdb (or a peer pretending to be gdb) sent:
 * every opcode is one kvmdbg runs, every operand is complete, every jump
 * lands on an instruction inside the expression, every path ends at `end`,
 * and no path can pop an empty stack or push past AGENT_MAX_STACK.
 */

/* Longest expression accepted, in bytecode bytes. */
#define AGENT_MAX_BYTES 4096
/* Deepest stack any path may reach. */
#define AGENT_MAX_STACK 64
/* Most expressions in one list (gdb sends one per breakpoint sharing the
 * location). */
#define AGENT_MAX_CONDS 32
/* Instructions one agent_cond_eval may run over the whole list. */
#define AGENT_MAX_STEPS 100000

struct agent_cond;

/*
 * What an expression may read. Both callbacks return 0 or a negative errno;
 * evaluation stops at the first error and returns it.
 */
struct agent_env {
	/* gdb register number (x86_64: 0 rax ... 6 rbp, 7 rsp, 16 rip) ->
	 * value, zero-extended to 64 bits. */
	int (*read_reg)(void *opaque, unsigned regno, uint64_t *val);
	/* Guest-virtual memory, len 1, 2, 4 or 8 at any alignment; an error
	 * means the guest could not read it either (a fault). */
	int (*read_mem)(void *opaque, uint64_t addr, void *buf, size_t len);
	void *opaque;
};

/*
 * Parse and verify a condition list: text[0..len) is everything after
 * "Z0,addr,kind" (text need not be NUL-terminated). The leading ';' may be
 * there or already consumed by the caller.
 *
 * Returns 0 and *out set (NULL when the list is empty: an unconditional
 * breakpoint), or an error with nothing allocated and a one-line reason in
 * err (when errlen > 0; it names the condition, 1-based, and the offset):
 *
 *   -EINVAL   malformed: bad hex, a length that does not match the bytes, a
 *             truncated operand, a jump outside the expression or into an
 *             instruction, a pop from an empty stack, a path that runs past
 *             the last byte without `end`, `ext 0`.
 *   -ENOTSUP  well-formed, but not something kvmdbg evaluates: an opcode
 *             outside the integer set (float, trace*, getv/setv, printf,
 *             unknown values), an expression over AGENT_MAX_BYTES, a stack
 *             deeper than AGENT_MAX_STACK, more than AGENT_MAX_CONDS items,
 *             breakpoint commands ("cmds:").
 *   -ENOMEM
 *
 * On -ENOTSUP the breakpoint can still be inserted without a condition:
 * every hit is then reported and gdb evaluates the condition itself, which
 * it does for each stop a target reports.
 */
int agent_cond_parse(const char *text, size_t len, struct agent_cond **out,
		     char *err, size_t errlen);
/* NULL is a no-op. */
void agent_cond_free(struct agent_cond *c);

/* Number of expressions in the list (0 for NULL). */
size_t agent_cond_count(const struct agent_cond *c);
/* The bytecode of expression i (0-based) and its length, for logs; NULL
 * when i is out of range. */
const uint8_t *agent_cond_bytes(const struct agent_cond *c, size_t i,
				size_t *len);

/*
 * Evaluate the list: 1 when an expression is true (non-zero on top of the
 * stack at `end`), 0 when all are false. Expressions run in list order and
 * the first one that is true or fails decides. Errors, which the caller
 * should treat as "stop and report" so the user sees them:
 *
 *   the env's own error  a register or memory read failed (-EFAULT ...)
 *   -EDOM                division or remainder by zero
 *   -ELOOP               AGENT_MAX_STEPS instructions ran (over the whole
 *                        list) without deciding: a loop
 *   -EINVAL              env is NULL or lacks a callback the bytecode uses
 *
 * A NULL list (no condition) is true. Thread-safe for a const list as long
 * as the env is.
 */
int agent_cond_eval(const struct agent_cond *c, const struct agent_env *env);

/*
 * Evaluate expression i alone and store its full 64-bit result (the top of
 * the stack at `end`) in *value. Returns 0, -ENOENT for a bad index, or an
 * error as agent_cond_eval, with its own AGENT_MAX_STEPS budget.
 */
int agent_cond_value(const struct agent_cond *c, size_t i,
		     const struct agent_env *env, uint64_t *value);

#endif
