/* Agent expressions for target-side breakpoint conditions: a parser for the
 * Z0/Z1 condition list, a verifier that proves each expression safe to run
 * once, at insertion, and a 64-bit integer interpreter for each hit. */
#include "bp/agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/packet.h"

/* Opcode values from gdb's manual, appendix "Agent Expressions". */
enum {
	OP_ADD = 0x02,
	OP_SUB = 0x03,
	OP_MUL = 0x04,
	OP_DIV_SIGNED = 0x05,
	OP_DIV_UNSIGNED = 0x06,
	OP_REM_SIGNED = 0x07,
	OP_REM_UNSIGNED = 0x08,
	OP_LSH = 0x09,
	OP_RSH_SIGNED = 0x0a,
	OP_RSH_UNSIGNED = 0x0b,
	OP_LOG_NOT = 0x0e,
	OP_BIT_AND = 0x0f,
	OP_BIT_OR = 0x10,
	OP_BIT_XOR = 0x11,
	OP_BIT_NOT = 0x12,
	OP_EQUAL = 0x13,
	OP_LESS_SIGNED = 0x14,
	OP_LESS_UNSIGNED = 0x15,
	OP_EXT = 0x16,
	OP_REF8 = 0x17,
	OP_REF16 = 0x18,
	OP_REF32 = 0x19,
	OP_REF64 = 0x1a,
	OP_IF_GOTO = 0x20,
	OP_GOTO = 0x21,
	OP_CONST8 = 0x22,
	OP_CONST16 = 0x23,
	OP_CONST32 = 0x24,
	OP_CONST64 = 0x25,
	OP_REG = 0x26,
	OP_END = 0x27,
	OP_DUP = 0x28,
	OP_POP = 0x29,
	OP_ZERO_EXT = 0x2a,
	OP_SWAP = 0x2b,
	OP_PICK = 0x32,
	OP_ROT = 0x33,
};

struct op_info {
	const char *name;
	bool run;	 /* kvmdbg evaluates it */
	uint8_t operand; /* operand bytes after the opcode byte */
	uint8_t need;	 /* stack items it reads (pick: plus its operand) */
	int8_t delta;	 /* change in stack depth */
};

#define RUN(op, nm, opnd, nd, d)                                               \
	[op] = {                                                               \
	    .name = nm, .run = true, .operand = opnd, .need = nd, .delta = d}
/* Defined by gdb, not evaluated here: named in the error only. */
#define NAME(op, nm) [op] = {.name = nm}

static const struct op_info ops[256] = {
    NAME(0x01, "float"),
    RUN(OP_ADD, "add", 0, 2, -1),
    RUN(OP_SUB, "sub", 0, 2, -1),
    RUN(OP_MUL, "mul", 0, 2, -1),
    RUN(OP_DIV_SIGNED, "div_signed", 0, 2, -1),
    RUN(OP_DIV_UNSIGNED, "div_unsigned", 0, 2, -1),
    RUN(OP_REM_SIGNED, "rem_signed", 0, 2, -1),
    RUN(OP_REM_UNSIGNED, "rem_unsigned", 0, 2, -1),
    RUN(OP_LSH, "lsh", 0, 2, -1),
    RUN(OP_RSH_SIGNED, "rsh_signed", 0, 2, -1),
    RUN(OP_RSH_UNSIGNED, "rsh_unsigned", 0, 2, -1),
    NAME(0x0c, "trace"),
    NAME(0x0d, "trace_quick"),
    RUN(OP_LOG_NOT, "log_not", 0, 1, 0),
    RUN(OP_BIT_AND, "bit_and", 0, 2, -1),
    RUN(OP_BIT_OR, "bit_or", 0, 2, -1),
    RUN(OP_BIT_XOR, "bit_xor", 0, 2, -1),
    RUN(OP_BIT_NOT, "bit_not", 0, 1, 0),
    RUN(OP_EQUAL, "equal", 0, 2, -1),
    RUN(OP_LESS_SIGNED, "less_signed", 0, 2, -1),
    RUN(OP_LESS_UNSIGNED, "less_unsigned", 0, 2, -1),
    RUN(OP_EXT, "ext", 1, 1, 0),
    RUN(OP_REF8, "ref8", 0, 1, 0),
    RUN(OP_REF16, "ref16", 0, 1, 0),
    RUN(OP_REF32, "ref32", 0, 1, 0),
    RUN(OP_REF64, "ref64", 0, 1, 0),
    NAME(0x1b, "ref_float"),
    NAME(0x1c, "ref_double"),
    NAME(0x1d, "ref_long_double"),
    NAME(0x1e, "l_to_d"),
    NAME(0x1f, "d_to_l"),
    RUN(OP_IF_GOTO, "if_goto", 2, 1, -1),
    RUN(OP_GOTO, "goto", 2, 0, 0),
    RUN(OP_CONST8, "const8", 1, 0, 1),
    RUN(OP_CONST16, "const16", 2, 0, 1),
    RUN(OP_CONST32, "const32", 4, 0, 1),
    RUN(OP_CONST64, "const64", 8, 0, 1),
    RUN(OP_REG, "reg", 2, 0, 1),
    RUN(OP_END, "end", 0, 1, 0),
    RUN(OP_DUP, "dup", 0, 1, 1),
    RUN(OP_POP, "pop", 0, 1, -1),
    RUN(OP_ZERO_EXT, "zero_ext", 1, 1, 0),
    RUN(OP_SWAP, "swap", 0, 2, 0),
    NAME(0x2c, "getv"),
    NAME(0x2d, "setv"),
    NAME(0x2e, "tracev"),
    NAME(0x2f, "tracenz"),
    NAME(0x30, "trace16"),
    RUN(OP_PICK, "pick", 1, 1, 1),
    RUN(OP_ROT, "rot", 0, 3, 0),
    NAME(0x34, "printf"),
};
_Static_assert(sizeof(ops) / sizeof(ops[0]) == 256, "one entry per byte");

struct agent_expr {
	uint8_t *code;
	size_t len;
};

struct agent_cond {
	size_t n;
	struct agent_expr e[];
};

/*
 * Operands (constants, register numbers, jump offsets) are stored most
 * significant byte first whatever the target's byte order, per gdb's manual.
 */
static uint64_t operand_be(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Scratch state of one verification, indexed by byte offset. */
struct verifier {
	bool start[AGENT_MAX_BYTES];  /* an instruction begins here */
	bool seen[AGENT_MAX_BYTES];   /* reached by some path */
	bool queued[AGENT_MAX_BYTES]; /* in work[] */
	/* Stack depths the paths reaching the offset can have: [lo, hi]. */
	uint8_t lo[AGENT_MAX_BYTES], hi[AGENT_MAX_BYTES];
	uint16_t work[AGENT_MAX_BYTES];
	size_t nwork;
};

/* Merge a path arriving at pc with depths [lo, hi]; requeue on widening. */
static void flow(struct verifier *v, size_t pc, unsigned lo, unsigned hi)
{
	if (v->seen[pc]) {
		if (lo >= v->lo[pc] && hi <= v->hi[pc])
			return;
		if (lo < v->lo[pc])
			v->lo[pc] = (uint8_t)lo;
		if (hi > v->hi[pc])
			v->hi[pc] = (uint8_t)hi;
	} else {
		v->seen[pc] = true;
		v->lo[pc] = (uint8_t)lo;
		v->hi[pc] = (uint8_t)hi;
	}
	if (!v->queued[pc]) {
		v->queued[pc] = true;
		v->work[v->nwork++] = (uint16_t)pc;
	}
}

/* Pass 1: decode linearly; every byte must belong to a known instruction. */
static int check_decode(struct verifier *v, const uint8_t *code, size_t n,
			char *msg, size_t msglen)
{
	size_t pc;

	for (pc = 0; pc < n; pc += 1u + ops[code[pc]].operand) {
		const struct op_info *o = &ops[code[pc]];

		if (!o->run) {
			if (o->name)
				put_err(msg, msglen,
					"unsupported opcode %s (0x%02x) at "
					"offset %zu",
					o->name, code[pc], pc);
			else
				put_err(msg, msglen,
					"unknown opcode 0x%02x at offset %zu",
					code[pc], pc);
			return -ENOTSUP;
		}
		if (o->operand > n - pc - 1) {
			put_err(msg, msglen,
				"truncated operand of %s at offset %zu",
				o->name, pc);
			return -EINVAL;
		}
		/* Sign-extending from zero bits has no meaning. */
		if (code[pc] == OP_EXT && code[pc + 1] == 0) {
			put_err(msg, msglen, "ext 0 at offset %zu", pc);
			return -EINVAL;
		}
		v->start[pc] = true;
	}
	for (pc = 0; pc < n; pc++) {
		uint64_t to;

		if (!v->start[pc] ||
		    (code[pc] != OP_GOTO && code[pc] != OP_IF_GOTO))
			continue;
		to = operand_be(code + pc + 1, 2);
		if (to >= n) {
			put_err(msg, msglen,
				"%s at offset %zu jumps to %u, outside the "
				"%zu-byte expression",
				ops[code[pc]].name, pc, (unsigned)to, n);
			return -EINVAL;
		}
		if (!v->start[to]) {
			put_err(msg, msglen,
				"%s at offset %zu jumps to %u, inside an "
				"instruction",
				ops[code[pc]].name, pc, (unsigned)to);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Pass 2: follow every path from offset 0 with the interval of stack depths
 * it can have at each instruction (widened at joins, so loops converge),
 * which proves the interpreter never pops an empty stack, never pushes past
 * AGENT_MAX_STACK and never runs off the end.
 */
static int check_paths(struct verifier *v, const uint8_t *code, size_t n,
		       char *msg, size_t msglen)
{
	bool reached_end = false;

	flow(v, 0, 0, 0);
	while (v->nwork) {
		size_t pc = v->work[--v->nwork], next;
		const struct op_info *o = &ops[code[pc]];
		unsigned need = o->need, lo, hi;

		v->queued[pc] = false;
		if (code[pc] == OP_PICK)
			need += code[pc + 1];
		if (v->lo[pc] < need) {
			put_err(msg, msglen,
				"stack underflow at offset %zu: %s needs %u "
				"item%s, a path reaches it with %u",
				pc, o->name, need, need == 1 ? "" : "s",
				v->lo[pc]);
			return -EINVAL;
		}
		lo = (unsigned)(v->lo[pc] + o->delta);
		hi = (unsigned)(v->hi[pc] + o->delta);
		if (hi > AGENT_MAX_STACK) {
			put_err(msg, msglen,
				"stack deeper than %u at offset %zu (%s)",
				AGENT_MAX_STACK, pc, o->name);
			return -ENOTSUP;
		}
		if (code[pc] == OP_END) {
			reached_end = true;
			continue;
		}
		if (code[pc] == OP_GOTO || code[pc] == OP_IF_GOTO)
			flow(v, (size_t)operand_be(code + pc + 1, 2), lo, hi);
		if (code[pc] == OP_GOTO)
			continue;
		next = pc + 1 + o->operand;
		if (next >= n) {
			put_err(msg, msglen,
				"missing end: %s at offset %zu is the last "
				"instruction",
				o->name, pc);
			return -EINVAL;
		}
		flow(v, next, lo, hi);
	}
	if (!reached_end) {
		put_err(msg, msglen, "no path reaches end");
		return -EINVAL;
	}
	return 0;
}

static int verify(const uint8_t *code, size_t n, char *msg, size_t msglen)
{
	struct verifier *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	ret = check_decode(v, code, n, msg, msglen);
	if (!ret)
		ret = check_paths(v, code, n, msg, msglen);
	free(v);
	return ret;
}

void agent_cond_free(struct agent_cond *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->e[i].code);
	free(c);
}

/* One "X<len>,<hex>" item at *p: decoded and verified into *e. */
static int parse_item(const char **p, const char *end, const char *text,
		      struct agent_expr *e, char *msg, size_t msglen)
{
	const char *q = *p;
	uint64_t n;
	size_t digits;
	uint8_t *code;
	int ret;

	if (end - q >= 5 && !memcmp(q, "cmds:", 5)) {
		put_err(msg, msglen, "breakpoint commands are not supported");
		return -ENOTSUP;
	}
	if (*q != 'X') {
		put_err(msg, msglen, "expected 'X' at text offset %zu",
			(size_t)(q - text));
		return -EINVAL;
	}
	q++;
	if (rsp_take_hex_u64(&q, end, ',', &n)) {
		put_err(msg, msglen, "bad length at text offset %zu",
			(size_t)(q - text));
		return -EINVAL;
	}
	if (n == 0) {
		put_err(msg, msglen, "empty expression");
		return -EINVAL;
	}
	if (n > AGENT_MAX_BYTES) {
		put_err(msg, msglen, "expression of %llu bytes, limit %u",
			(unsigned long long)n, AGENT_MAX_BYTES);
		return -ENOTSUP;
	}
	digits = (size_t)(end - q);
	if (digits > 2 * n)
		digits = 2 * n;
	if (digits < 2 * n) {
		put_err(msg, msglen,
			"%llu bytes declared, only %zu hex digits follow",
			(unsigned long long)n, digits);
		return -EINVAL;
	}
	code = malloc(n);
	if (!code)
		return -ENOMEM;
	if (rsp_hex_decode(q, digits, code, n) != (ssize_t)n) {
		put_err(msg, msglen,
			"bad hex digit in bytecode at text "
			"offset %zu",
			(size_t)(q - text));
		free(code);
		return -EINVAL;
	}
	ret = verify(code, n, msg, msglen);
	if (ret) {
		free(code);
		return ret;
	}
	e->code = code;
	e->len = n;
	*p = q + digits;
	return 0;
}

int agent_cond_parse(const char *text, size_t len, struct agent_cond **out,
		     char *err, size_t errlen)
{
	const char *p, *end;
	struct agent_cond *c;
	char msg[160];
	int ret = 0;

	put_err(err, errlen, "%s", "");
	if (!out || (!text && len)) {
		put_err(err, errlen, "no text or no result pointer");
		return -EINVAL;
	}
	*out = NULL;
	if (!len)
		return 0;
	p = text;
	end = text + len;
	c = calloc(1, sizeof(*c) + AGENT_MAX_CONDS * sizeof(c->e[0]));
	if (!c)
		return -ENOMEM;
	/* A ';' before each item is optional: gdb writes only the first. */
	while (p < end) {
		if (*p == ';' && ++p == end) {
			put_err(err, errlen,
				"nothing after ';' at text offset "
				"%zu",
				len - 1);
			ret = -EINVAL;
			goto err_free;
		}
		if (c->n == AGENT_MAX_CONDS) {
			put_err(err, errlen, "more than %u conditions",
				AGENT_MAX_CONDS);
			ret = -ENOTSUP;
			goto err_free;
		}
		ret = parse_item(&p, end, text, &c->e[c->n], msg, sizeof(msg));
		if (ret) {
			put_err(err, errlen, "condition %zu: %s", c->n + 1,
				msg);
			goto err_free;
		}
		c->n++;
	}
	*out = c;
	return 0;

err_free:
	agent_cond_free(c);
	return ret;
}

size_t agent_cond_count(const struct agent_cond *c)
{
	return c ? c->n : 0;
}

const uint8_t *agent_cond_bytes(const struct agent_cond *c, size_t i,
				size_t *len)
{
	if (!c || i >= c->n)
		return NULL;
	if (len)
		*len = c->e[i].len;
	return c->e[i].code;
}

/*
 * A ref of `size` bytes. The guest is x86_64, so memory is little-endian:
 * this is the one place that assembles guest bytes into a value.
 */
static int load_le(const struct agent_env *env, uint64_t addr, unsigned size,
		   uint64_t *out)
{
	uint8_t buf[8];
	uint64_t v = 0;
	unsigned i;
	int ret;

	if (!env->read_mem)
		return -EINVAL;
	ret = env->read_mem(env->opaque, addr, buf, size);
	if (ret)
		return ret < 0 ? ret : -EFAULT;
	for (i = size; i-- > 0;)
		v = v << 8 | buf[i];
	*out = v;
	return 0;
}

/*
 * Signed division on two's complement values without trapping the host:
 * INT64_MIN / -1 overflows in C (and raises #DE on x86), so a divisor of -1
 * is negation, which wraps to INT64_MIN, and its remainder is 0.
 */
static uint64_t div_signed(uint64_t a, uint64_t b)
{
	if (b == UINT64_MAX)
		return 0 - a;
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static uint64_t rem_signed(uint64_t a, uint64_t b)
{
	if (b == UINT64_MAX)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

/*
 * Shifts take the count as an unsigned 64-bit value and behave as that many
 * one-bit shifts would: a count of 64 or more gives 0 for lsh and
 * rsh_unsigned, and all copies of the sign bit for rsh_signed. (C leaves
 * such counts undefined, and x86 would use the count modulo 64.)
 */
static uint64_t rsh_signed(uint64_t a, uint64_t b)
{
	uint64_t fill = (a >> 63) ? UINT64_MAX : 0;

	if (b >= 64)
		return fill;
	if (b == 0)
		return a;
	return a >> b | fill << (64 - b);
}

/* ext n: treat the low n bits (1 <= n) as two's complement; n >= 64 keeps. */
static uint64_t sign_extend(uint64_t a, unsigned n)
{
	uint64_t sign;

	if (n >= 64)
		return a;
	sign = 1ull << (n - 1);
	a &= (sign << 1) - 1;
	return (a ^ sign) - sign;
}

static uint64_t zero_extend(uint64_t a, unsigned n)
{
	return n >= 64 ? a : a & ((1ull << n) - 1);
}

/*
 * Run one verified expression. The verifier has proved every stack access
 * and operand fetch below in bounds, so only the guest can make it fail.
 */
static int run(const struct agent_expr *e, const struct agent_env *env,
	       unsigned *steps, uint64_t *value)
{
	const uint8_t *code = e->code;
	uint64_t st[AGENT_MAX_STACK], a, b;
	unsigned sp = 0;
	size_t pc = 0;
	int ret;

#define POP() (st[--sp])
#define TOP (st[sp - 1])
	for (;;) {
		const uint8_t *arg = code + pc + 1;

		if (*steps >= AGENT_MAX_STEPS)
			return -ELOOP;
		(*steps)++;
		switch (code[pc]) {
		case OP_ADD:
			b = POP();
			TOP += b;
			break;
		case OP_SUB:
			b = POP();
			TOP -= b;
			break;
		case OP_MUL:
			b = POP();
			TOP *= b;
			break;
		case OP_DIV_SIGNED:
		case OP_DIV_UNSIGNED:
		case OP_REM_SIGNED:
		case OP_REM_UNSIGNED:
			b = POP();
			if (!b)
				return -EDOM;
			if (code[pc] == OP_DIV_SIGNED)
				TOP = div_signed(TOP, b);
			else if (code[pc] == OP_DIV_UNSIGNED)
				TOP /= b;
			else if (code[pc] == OP_REM_SIGNED)
				TOP = rem_signed(TOP, b);
			else
				TOP %= b;
			break;
		case OP_LSH:
			b = POP();
			TOP = b >= 64 ? 0 : TOP << b;
			break;
		case OP_RSH_SIGNED:
			b = POP();
			TOP = rsh_signed(TOP, b);
			break;
		case OP_RSH_UNSIGNED:
			b = POP();
			TOP = b >= 64 ? 0 : TOP >> b;
			break;
		case OP_LOG_NOT:
			TOP = !TOP;
			break;
		case OP_BIT_AND:
			b = POP();
			TOP &= b;
			break;
		case OP_BIT_OR:
			b = POP();
			TOP |= b;
			break;
		case OP_BIT_XOR:
			b = POP();
			TOP ^= b;
			break;
		case OP_BIT_NOT:
			TOP = ~TOP;
			break;
		case OP_EQUAL:
			b = POP();
			TOP = TOP == b;
			break;
		case OP_LESS_SIGNED:
			b = POP();
			TOP = (int64_t)TOP < (int64_t)b;
			break;
		case OP_LESS_UNSIGNED:
			b = POP();
			TOP = TOP < b;
			break;
		case OP_EXT:
			TOP = sign_extend(TOP, arg[0]);
			break;
		case OP_ZERO_EXT:
			TOP = zero_extend(TOP, arg[0]);
			break;
		case OP_REF8:
		case OP_REF16:
		case OP_REF32:
		case OP_REF64:
			ret =
			    load_le(env, TOP, 1u << (code[pc] - OP_REF8), &TOP);
			if (ret)
				return ret;
			break;
		case OP_IF_GOTO:
			if (POP()) {
				pc = (size_t)operand_be(arg, 2);
				continue;
			}
			break;
		case OP_GOTO:
			pc = (size_t)operand_be(arg, 2);
			continue;
		case OP_CONST8:
		case OP_CONST16:
		case OP_CONST32:
		case OP_CONST64:
			st[sp++] = operand_be(arg, ops[code[pc]].operand);
			break;
		case OP_REG:
			if (!env->read_reg)
				return -EINVAL;
			ret = env->read_reg(env->opaque,
					    (unsigned)operand_be(arg, 2), &a);
			if (ret)
				return ret < 0 ? ret : -EFAULT;
			st[sp++] = a;
			break;
		case OP_END:
			*value = TOP;
			return 0;
		case OP_DUP:
			a = TOP;
			st[sp++] = a;
			break;
		case OP_POP:
			sp--;
			break;
		case OP_SWAP:
			a = TOP;
			TOP = st[sp - 2];
			st[sp - 2] = a;
			break;
		case OP_PICK:
			a = st[sp - 1 - arg[0]];
			st[sp++] = a;
			break;
		case OP_ROT:
			/* a b c => c a b: the top goes third. */
			a = st[sp - 3];
			st[sp - 3] = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = a;
			break;
		default:
			/* The verifier admits no other opcode. */
			return -EINVAL;
		}
		pc += 1u + ops[code[pc]].operand;
	}
#undef POP
#undef TOP
}

int agent_cond_eval(const struct agent_cond *c, const struct agent_env *env)
{
	unsigned steps = 0;
	uint64_t v;
	size_t i;
	int ret;

	if (!c)
		return 1;
	if (!env)
		return -EINVAL;
	for (i = 0; i < c->n; i++) {
		ret = run(&c->e[i], env, &steps, &v);
		if (ret)
			return ret;
		if (v)
			return 1;
	}
	return 0;
}

int agent_cond_value(const struct agent_cond *c, size_t i,
		     const struct agent_env *env, uint64_t *value)
{
	unsigned steps = 0;

	if (!c || i >= c->n)
		return -ENOENT;
	if (!env || !value)
		return -EINVAL;
	return run(&c->e[i], env, &steps, value);
}
