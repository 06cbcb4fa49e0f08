/* Unit tests for agent expressions (target-side breakpoint conditions): each
 * opcode with exact values, the bytecode gdb 13 really sent for three
 * conditions, condition lists, every parse error and every runtime fault. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp/agent.h"
#include "testutil.h"

/*
 * Opcode bytes written from gdb's manual (appendix "Agent Expressions"),
 * independently of src/bp/agent.c. Operands are most significant byte
 * first.
 */
#define ADD 0x02
#define SUB 0x03
#define MUL 0x04
#define DIV_S 0x05
#define DIV_U 0x06
#define REM_S 0x07
#define REM_U 0x08
#define LSH 0x09
#define RSH_S 0x0a
#define RSH_U 0x0b
#define LOG_NOT 0x0e
#define AND 0x0f
#define OR 0x10
#define XOR 0x11
#define NOT 0x12
#define EQUAL 0x13
#define LESS_S 0x14
#define LESS_U 0x15
#define EXT(n) 0x16, (n)
#define REF8 0x17
#define REF16 0x18
#define REF32 0x19
#define REF64 0x1a
#define BE16(v) (uint8_t)((v) >> 8), (uint8_t)(v)
#define IF_GOTO(to) 0x20, BE16(to)
#define GOTO(to) 0x21, BE16(to)
#define K8(v) 0x22, (uint8_t)(v)
#define K16(v) 0x23, BE16(v)
#define K32(v) 0x24, BE16((uint32_t)(v) >> 16), BE16(v)
#define K64(v)                                                                 \
	0x25, BE16((uint64_t)(v) >> 48), BE16((uint64_t)(v) >> 32),            \
	    BE16((uint64_t)(v) >> 16), BE16(v)
#define REG(n) 0x26, BE16(n)
#define END 0x27
#define DUP 0x28
#define POP 0x29
#define ZEXT(n) 0x2a, (n)
#define SWAP 0x2b
#define PICK(n) 0x32, (n)
#define ROT 0x33

#define M1 UINT64_MAX /* -1 */
#define MIN64 0x8000000000000000ull

/* A compound-literal byte array and its size, as two arguments. */
#define CODE(...)                                                              \
	(const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/*
 * The fake guest: 64 registers, two 256-byte windows of memory (globals
 * around 0x404000 as in a non-PIE x86_64 binary, and a stack page), and
 * faults everywhere else.
 */
#define DATA_BASE 0x404000ull
#define STACK_BASE 0x7fffffffe000ull
#define WINDOW 0x100
#define RBP 6

struct fake {
	uint64_t regs[64];
	uint8_t data[WINDOW], stack[WINDOW];
	int mem_err; /* returned by every memory read when non-zero */
	unsigned mem_reads, reg_reads;
	uint64_t last_addr;
	size_t last_len;
	unsigned last_reg;
};

static struct fake fk;

static int fake_reg(void *opaque, unsigned regno, uint64_t *val)
{
	struct fake *f = opaque;

	f->reg_reads++;
	f->last_reg = regno;
	/* A register number past gdb's x86_64 set, to check 16-bit operands. */
	if (regno == 0x0123) {
		*val = 0xfeedface;
		return 0;
	}
	if (regno >= 64)
		return -ENXIO;
	*val = f->regs[regno];
	return 0;
}

static uint8_t *window(struct fake *f, uint64_t addr, size_t len)
{
	if (addr >= DATA_BASE && addr - DATA_BASE <= WINDOW - len)
		return f->data + (addr - DATA_BASE);
	if (addr >= STACK_BASE && addr - STACK_BASE <= WINDOW - len)
		return f->stack + (addr - STACK_BASE);
	return NULL;
}

static int fake_mem(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = opaque;
	uint8_t *p = window(f, addr, len);

	f->mem_reads++;
	f->last_addr = addr;
	f->last_len = len;
	if (f->mem_err)
		return f->mem_err;
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

static const struct agent_env env = {
    .read_reg = fake_reg,
    .read_mem = fake_mem,
    .opaque = &fk,
};

/* Store v at guest address addr, little-endian (x86_64). */
static void poke(uint64_t addr, uint64_t v, size_t len)
{
	uint8_t *p = window(&fk, addr, len);
	size_t i;

	if (!p)
		fail_msg("poke outside the fake windows: %#llx",
			 (unsigned long long)addr);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	return 0;
}

/* "X<len>,<hex>" for one expression, as gdb writes it. */
static char *item_text(const uint8_t *code, size_t n)
{
	char *t = malloc(2 * n + 32);
	int at;
	size_t i;

	assert_non_null(t);
	at = sprintf(t, "X%zx,", n);
	for (i = 0; i < n; i++)
		at += sprintf(t + at, "%02x", code[i]);
	return t;
}

static struct agent_cond *parse_ok(int line, const char *text)
{
	struct agent_cond *c = NULL;
	char err[200] = "unset";
	int ret;

	ret = agent_cond_parse(text, strlen(text), &c, err, sizeof(err));
	if (ret)
		fail_msg("line %d: parse of \"%.80s\" = %d (%s), want 0", line,
			 text, ret, err);
	return c;
}

/* The expression must verify and evaluate to exactly `want`. */
static void check_value(int line, uint64_t want, const uint8_t *code, size_t n)
{
	char *text = item_text(code, n);
	struct agent_cond *c = parse_ok(line, text);
	uint64_t got = 0xdeadbeef;
	int ret;

	ASSERT_EQ(agent_cond_count(c), 1);
	ret = agent_cond_value(c, 0, &env, &got);
	if (ret)
		fail_msg("line %d: evaluation = %d, want value %#llx", line,
			 ret, (unsigned long long)want);
	if (got != want)
		fail_msg("line %d: value %#llx (%lld), want %#llx (%lld)", line,
			 (unsigned long long)got, (long long)got,
			 (unsigned long long)want, (long long)want);
	ret = agent_cond_eval(c, &env);
	if (ret != (want != 0))
		fail_msg("line %d: agent_cond_eval = %d, want %d", line, ret,
			 want != 0);
	agent_cond_free(c);
	free(text);
}

/* The expression must verify and fail at run time with `want`. */
static void check_fault(int line, int want, const uint8_t *code, size_t n)
{
	char *text = item_text(code, n);
	struct agent_cond *c = parse_ok(line, text);
	uint64_t got;
	int ret;

	ret = agent_cond_value(c, 0, &env, &got);
	if (ret != want)
		fail_msg("line %d: agent_cond_value = %d, want %d", line, ret,
			 want);
	ret = agent_cond_eval(c, &env);
	if (ret != want)
		fail_msg("line %d: agent_cond_eval = %d, want %d", line, ret,
			 want);
	agent_cond_free(c);
	free(text);
}

/* Parsing `text` must fail with `want` and exactly the message `msg`. */
static void check_reject_text(int line, int want, const char *msg,
			      const char *text, size_t len)
{
	struct agent_cond *c = (struct agent_cond *)&fk;
	char err[200] = "unset";
	int ret;

	ret = agent_cond_parse(text, len, &c, err, sizeof(err));
	if (ret != want)
		fail_msg("line %d: parse of \"%.80s\" = %d (%s), want %d (%s)",
			 line, text, ret, err, want, msg);
	if (strcmp(err, msg))
		fail_msg("line %d: error \"%s\", want \"%s\"", line, err, msg);
	if (c)
		fail_msg("line %d: *out not NULL after an error", line);
}

static void check_reject(int line, int want, const char *msg,
			 const uint8_t *code, size_t n)
{
	char *text = item_text(code, n);

	check_reject_text(line, want, msg, text, strlen(text));
	free(text);
}

#define VALUE(want, ...) check_value(__LINE__, (want), CODE(__VA_ARGS__))
#define FAULT(want, ...) check_fault(__LINE__, (want), CODE(__VA_ARGS__))
#define REJECT(want, msg, ...)                                                 \
	check_reject(__LINE__, (want), (msg), CODE(__VA_ARGS__))
#define REJECT_TEXT(want, msg, text)                                           \
	check_reject_text(__LINE__, (want), (msg), (text), strlen(text))

static void test_add_sub_mul(void **state)
{
	VALUE(8, K8(5), K8(3), ADD, END);
	VALUE(1, K64(M1), K8(2), ADD, END); /* wraps */
	VALUE(2, K8(5), K8(3), SUB, END);
	VALUE(0xfffffffffffffffeull, K8(3), K8(5), SUB, END);
	VALUE(42, K8(6), K8(7), MUL, END);
	VALUE((uint64_t)-15, K8(0xfd), EXT(8), K8(5), MUL, END);
	VALUE(0, K64(1ull << 32), K64(1ull << 32), MUL, END);
	VALUE(MIN64, K64(MIN64), K64(M1), MUL, END);
}

static void test_div_rem(void **state)
{
	/* Signed division truncates toward zero, as in C. */
	VALUE((uint64_t)-3, K8(0xf9), EXT(8), K8(2), DIV_S, END);
	VALUE((uint64_t)-3, K8(7), K8(0xfe), EXT(8), DIV_S, END);
	VALUE(3, K8(0xf9), EXT(8), K8(0xfe), EXT(8), DIV_S, END);
	/* INT64_MIN / -1 wraps instead of trapping the host. */
	VALUE(MIN64, K64(MIN64), K64(M1), DIV_S, END);
	VALUE(0, K64(MIN64), K64(M1), REM_S, END);
	VALUE(0xc000000000000000ull, K64(MIN64), K8(2), DIV_S, END);
	VALUE(0x7ffffffffffffffcull, K8(0xf9), EXT(8), K8(2), DIV_U, END);
	VALUE(3, K8(7), K8(2), DIV_U, END);
	VALUE(0, K8(7), K64(M1), DIV_U, END);
	VALUE((uint64_t)-1, K8(0xf9), EXT(8), K8(2), REM_S, END);
	VALUE(1, K8(7), K8(0xfe), EXT(8), REM_S, END);
	VALUE(9, K8(0xf9), EXT(8), K8(10), REM_U, END); /* 2^64-7 */
	VALUE(7, K8(7), K64(M1), REM_U, END);
}

static void test_shifts(void **state)
{
	VALUE(6, K8(3), K8(1), LSH, END);
	VALUE(MIN64, K8(1), K8(63), LSH, END);
	/* Counts of 64 and more: as many one-bit shifts (see agent.c). */
	VALUE(0, K8(1), K8(64), LSH, END);
	VALUE(0, K8(1), K64(M1), LSH, END);
	VALUE(5, K8(5), K8(0), LSH, END);
	VALUE(4, K8(16), K8(2), RSH_S, END);
	VALUE((uint64_t)-4, K8(0xf0), EXT(8), K8(2), RSH_S, END);
	VALUE(M1, K64(MIN64), K8(63), RSH_S, END);
	VALUE(M1, K8(0xf0), EXT(8), K8(100), RSH_S, END);
	VALUE(0, K64(0x7fffffffffffffffull), K8(64), RSH_S, END);
	VALUE(0xfffffffffffffff0ull, K8(0xf0), EXT(8), K8(0), RSH_S, END);
	VALUE(1, K64(MIN64), K8(63), RSH_U, END);
	VALUE(0x3ffffffffffffffcull, K8(0xf0), EXT(8), K8(2), RSH_U, END);
	VALUE(0, K64(M1), K8(64), RSH_U, END);
	VALUE(0, K64(M1), K64(M1), RSH_U, END);
}

static void test_logic_and_bits(void **state)
{
	VALUE(1, K8(0), LOG_NOT, END);
	VALUE(0, K8(5), LOG_NOT, END);
	VALUE(0, K64(MIN64), LOG_NOT, END); /* only the top bit set */
	VALUE(0x0c, K8(0x3c), K8(0x0f), AND, END);
	VALUE(0x3f, K8(0x3c), K8(0x0f), OR, END);
	VALUE(0x33, K8(0x3c), K8(0x0f), XOR, END);
	VALUE(0xffffffffffffff00ull, K8(0xff), NOT, END);
	VALUE(M1, K8(0), NOT, END);
}

static void test_comparisons(void **state)
{
	VALUE(1, K8(5), K8(5), EQUAL, END);
	VALUE(0, K8(5), K8(6), EQUAL, END);
	VALUE(1, K8(0xff), EXT(8), K64(M1), EQUAL, END);
	VALUE(0, K8(0xff), K64(M1), EQUAL, END); /* no implicit extension */
	VALUE(1, K8(0xff), EXT(8), K8(0), LESS_S, END);
	VALUE(0, K8(0), K8(0xff), EXT(8), LESS_S, END);
	VALUE(0, K8(5), K8(5), LESS_S, END);
	VALUE(1, K64(MIN64), K64(0x7fffffffffffffffull), LESS_S, END);
	VALUE(0, K8(0xff), EXT(8), K8(0), LESS_U, END);
	VALUE(1, K8(0), K8(0xff), EXT(8), LESS_U, END);
	VALUE(0, K64(MIN64), K64(0x7fffffffffffffffull), LESS_U, END);
}

static void test_ext(void **state)
{
	VALUE(0xffffffffffffff80ull, K8(0x80), EXT(8), END);
	VALUE(0x7f, K8(0x7f), EXT(8), END);
	VALUE(M1, K16(0x1ff), EXT(8), END); /* only the low 8 bits count */
	VALUE(0x7f, K16(0xff7f), EXT(8), END);
	VALUE(0xffffffffffff8000ull, K16(0x8000), EXT(16), END);
	VALUE(0x7fff, K16(0x7fff), EXT(16), END);
	VALUE(0xffffffff80000000ull, K32(0x80000000), EXT(32), END);
	VALUE(0x12345678, K64(0xabcdef0012345678ull), EXT(32), END);
	VALUE(M1, K8(1), EXT(1), END);
	VALUE(0, K8(2), EXT(1), END);
	VALUE(0xc000000000000000ull, K64(0x4000000000000000ull), EXT(63), END);
	/* n >= 64: no effect, as the manual says. */
	VALUE(0x8000000000000001ull, K64(0x8000000000000001ull), EXT(64), END);
	VALUE(0x1234, K16(0x1234), EXT(200), END);
}

static void test_zero_ext(void **state)
{
	VALUE(0x80, K8(0x80), EXT(8), ZEXT(8), END);
	VALUE(0xff80, K8(0x80), EXT(8), ZEXT(16), END);
	VALUE(0xffffff80, K8(0x80), EXT(8), ZEXT(32), END);
	VALUE(1, K8(0xff), ZEXT(1), END);
	VALUE(0, K8(0xff), ZEXT(0), END); /* zero all but the bottom 0 bits */
	VALUE(0x7fffffffffffffffull, K64(M1), ZEXT(63), END);
	VALUE(M1, K64(M1), ZEXT(64), END);
	VALUE(M1, K64(M1), ZEXT(255), END);
}

static void test_refs_little_endian_unaligned(void **state)
{
	int i;

	for (i = 0; i < 16; i++)
		poke(DATA_BASE + 0x10 + i, 0x11 * (i + 1), 1);

	VALUE(0x11, K32(0x404010), REF8, END);
	ASSERT_HEX(fk.last_addr, 0x404010);
	ASSERT_EQ(fk.last_len, 1);
	VALUE(0x3322, K32(0x404011), REF16, END);
	ASSERT_HEX(fk.last_addr, 0x404011);
	ASSERT_EQ(fk.last_len, 2);
	VALUE(0x66554433, K32(0x404012), REF32, END);
	ASSERT_EQ(fk.last_len, 4);
	VALUE(0xccbbaa9988776655ull, K32(0x404014), REF64, END);
	ASSERT_HEX(fk.last_addr, 0x404014);
	ASSERT_EQ(fk.last_len, 8);
	/* Refs push unsigned values; ext makes them signed. */
	poke(DATA_BASE, 0xfffe, 2);
	VALUE(0xfffe, K32(0x404000), REF16, END);
	VALUE((uint64_t)-2, K32(0x404000), REF16, EXT(16), END);
	/* The last byte of a window is readable, one past it faults. */
	poke(STACK_BASE + WINDOW - 8, 0x0102030405060708ull, 8);
	VALUE(0x0102030405060708ull, K64(STACK_BASE + WINDOW - 8), REF64, END);
	FAULT(-EFAULT, K64(STACK_BASE + WINDOW - 7), REF64, END);
}

static void test_if_goto_and_goto(void **state)
{
	/* 0 const8 | 2 if_goto 10 | 5 const8 1 | 7 goto 12 | 10 const8 2
	 * | 12 end */
	VALUE(2, K8(1), IF_GOTO(10), K8(1), GOTO(12), K8(2), END);
	VALUE(1, K8(0), IF_GOTO(10), K8(1), GOTO(12), K8(2), END);
	/* Nested: a jump to a jump, and a backward jump. */
	VALUE(0x33,
	      /* 0 */ GOTO(6),
	      /* 3 */ K8(0x33), END,
	      /* 6 */ GOTO(9),
	      /* 9 */ GOTO(3));
	/* if_goto pops its operand whether or not it jumps. */
	VALUE(7, K8(7), K8(1), IF_GOTO(7), END);
	VALUE(7, K8(7), K8(0), IF_GOTO(7), END);
	/* Any non-zero value jumps, even with only the top bit set. */
	VALUE(9, K64(MIN64), IF_GOTO(15), K8(8), END, K8(9), END);
}

static void test_loop_counts_down(void **state)
{
	/*
	 * sum = 0; n = 10; do { sum += n; n--; } while (n);  55. Exercises
	 * a backward if_goto with a stack of the same depth on both paths.
	 * 0 const8 0 | 2 const8 10 | 4 dup | 5 rot | 6 add | 7 swap
	 * 8 const8 1 | 10 sub | 11 dup | 12 if_goto 4 | 15 pop | 16 end
	 */
	VALUE(55, K8(0), K8(10), DUP, ROT, ADD, SWAP, K8(1), SUB, DUP,
	      IF_GOTO(4), POP, END);
}

static void test_consts_big_endian(void **state)
{
	VALUE(0xab, K8(0xab), END);
	VALUE(0x1234, K16(0x1234), END);
	VALUE(0x89abcdef, K32(0x89abcdef), END); /* no sign extension */
	VALUE(0x0123456789abcdefull, K64(0x0123456789abcdefull), END);
	VALUE(0xfedcba9876543210ull, K64(0xfedcba9876543210ull), END);
}

static void test_reg(void **state)
{
	fk.regs[RBP] = 0x7fffffffe0f0ull;
	fk.regs[16] = 0x401000;
	VALUE(0x7fffffffe0f0ull, REG(RBP), END);
	ASSERT_EQ(fk.last_reg, RBP);
	VALUE(0x401000, REG(16), END);
	VALUE(0xfeedface, REG(0x0123), END);
	ASSERT_HEX(fk.last_reg, 0x0123);
	/* An unknown register is the env's error. */
	FAULT(-ENXIO, REG(0x0200), END);
}

static void test_stack_ops(void **state)
{
	VALUE(2, K8(1), K8(2), END); /* end takes the top, not the bottom */
	VALUE(4, K8(2), DUP, ADD, END);
	VALUE(1, K8(1), K8(2), POP, END);
	VALUE((uint64_t)-2, K8(1), K8(3), SUB, END);
	VALUE(2, K8(1), K8(3), SWAP, SUB, END);
	/* pick 0 is dup; pick n copies the item n below the top. */
	VALUE(3, K8(1), K8(2), K8(3), PICK(0), END);
	VALUE(2, K8(1), K8(2), K8(3), PICK(1), END);
	VALUE(1, K8(1), K8(2), K8(3), PICK(2), END);
	VALUE(6, K8(1), K8(2), K8(3), PICK(2), ADD, ADD, END);
	/* rot: a b c => c a b (top b, then a, then c). */
	VALUE(2, K8(1), K8(2), K8(3), ROT, END);
	VALUE(1, K8(1), K8(2), K8(3), ROT, POP, END);
	VALUE(3, K8(1), K8(2), K8(3), ROT, POP, POP, END);
	VALUE(9, K8(9), K8(1), K8(2), K8(3), ROT, POP, POP, POP, END);
}

/*
 * What gdb 13.1 sent to gdbserver 13.1 ("set breakpoint
 * condition-evaluation target", "set debug remote 1") for a small non-PIE
 * x86_64 program with globals `int i` at 0x404010, `char flag` at 0x404014,
 * `int counter` at 0x404020, and a parameter `short *p` at DW_OP_fbreg -40,
 * the frame base being the CFA, rbp + 16:
 *
 *   break work if i == 5000
 *   break work if counter > 3 && flag       (same address: one Z0, two X)
 *   break p.c:9 if *(short *)p == -2
 */
static const char gdb_two_conds[] =
    ";Xd,24004040101916202313881327"
    "X28,24004040201916202203"
    "2b14200012210025240040401417160820002021002522012100272200"
    "27";
static const char gdb_short_ptr[] =
    ";X15,26000622100222d81608021a18161022fe16081327";

static void test_gdb_i_equals_5000(void **state)
{
	/* const32 0x404010, ref32, ext 32, const16 5000, equal, end */
	static const uint8_t want[] = {0x24, 0x00, 0x40, 0x40, 0x10, 0x19, 0x16,
				       0x20, 0x23, 0x13, 0x88, 0x13, 0x27};
	struct agent_cond *c = parse_ok(__LINE__, gdb_two_conds);
	const uint8_t *code;
	uint64_t v;
	size_t len;

	ASSERT_EQ(agent_cond_count(c), 2);
	code = agent_cond_bytes(c, 0, &len);
	ASSERT_EQ(len, sizeof(want));
	assert_memory_equal(code, want, sizeof(want));
	assert_null(agent_cond_bytes(c, 2, &len));

	poke(0x404010, 5000, 4);
	ASSERT_EQ(agent_cond_value(c, 0, &env, &v), 0);
	ASSERT_EQ(v, 1);
	ASSERT_HEX(fk.last_addr, 0x404010);
	ASSERT_EQ(fk.last_len, 4);
	poke(0x404010, 4999, 4);
	ASSERT_EQ(agent_cond_value(c, 0, &env, &v), 0);
	ASSERT_EQ(v, 0);
	/* 5000 in the low 16 bits, more above: ref32 + ext 32 sees it all. */
	poke(0x404010, 0x10000 + 5000, 4);
	ASSERT_EQ(agent_cond_value(c, 0, &env, &v), 0);
	ASSERT_EQ(v, 0);
	agent_cond_free(c);
}

static void test_gdb_counter_and_flag(void **state)
{
	struct agent_cond *c = parse_ok(__LINE__, gdb_two_conds);
	uint64_t v;

	ASSERT_EQ(agent_cond_bytes(c, 1, NULL)[0], 0x24);
	poke(0x404020, 4, 4);
	poke(0x404014, 1, 1);
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(v, 1);
	poke(0x404020, 3, 4); /* counter > 3 is false */
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(v, 0);
	poke(0x404020, (uint32_t)-5, 4); /* signed: -5 > 3 is false */
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(v, 0);
	poke(0x404020, 0x7fffffff, 4);
	poke(0x404014, 0, 1); /* flag false */
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(v, 0);
	poke(0x404014, 0x80, 1); /* char -128 is true */
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(v, 1);
	/* && short-circuits: with counter <= 3, flag is never read. */
	poke(0x404020, 0, 4);
	fk.mem_reads = 0;
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(v, 0);
	ASSERT_EQ(fk.mem_reads, 1);
	ASSERT_HEX(fk.last_addr, 0x404020);
	agent_cond_free(c);
}

static void test_gdb_short_ptr(void **state)
{
	struct agent_cond *c = parse_ok(__LINE__, gdb_short_ptr);
	uint64_t rbp = STACK_BASE + 0x80, v;

	/* p lives at rbp + 16 - 40 = rbp - 0x18 and points at a global. */
	fk.regs[RBP] = rbp;
	poke(rbp - 0x18, DATA_BASE + 0x42, 8);
	poke(DATA_BASE + 0x42, 0xfffe, 2);
	ASSERT_EQ(agent_cond_eval(c, &env), 1);
	ASSERT_EQ(fk.last_reg, RBP);
	ASSERT_HEX(fk.last_addr, DATA_BASE + 0x42);
	ASSERT_EQ(fk.last_len, 2);
	ASSERT_EQ(agent_cond_value(c, 0, &env, &v), 0);
	ASSERT_EQ(v, 1);
	poke(DATA_BASE + 0x42, 2, 2);
	ASSERT_EQ(agent_cond_eval(c, &env), 0);
	poke(DATA_BASE + 0x42, 0x7ffe, 2); /* -2 only in the low byte */
	ASSERT_EQ(agent_cond_eval(c, &env), 0);
	/* A wild p: the guest would fault too, so does the condition. */
	poke(rbp - 0x18, 0x10, 8);
	ASSERT_EQ(agent_cond_eval(c, &env), -EFAULT);
	ASSERT_HEX(fk.last_addr, 0x10);
	agent_cond_free(c);
}

static void test_list_is_or(void **state)
{
	/* The same two conditions with a ';' before each item. */
	static const char semis[] =
	    ";Xd,24004040101916202313881327"
	    ";X28,24004040201916202203"
	    "2b14200012210025240040401417160820002021002522012100272200"
	    "27";
	const char *texts[] = {gdb_two_conds, semis, gdb_two_conds + 1};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(texts); k++) {
		struct agent_cond *c = parse_ok(__LINE__, texts[k]);

		ASSERT_EQ(agent_cond_count(c), 2);
		poke(0x404010, 1, 4);
		poke(0x404020, 0, 4);
		poke(0x404014, 1, 1);
		ASSERT_EQ(agent_cond_eval(c, &env), 0);
		poke(0x404010, 5000, 4); /* first true */
		ASSERT_EQ(agent_cond_eval(c, &env), 1);
		poke(0x404020, 9, 4); /* both true */
		ASSERT_EQ(agent_cond_eval(c, &env), 1);
		poke(0x404010, 0, 4); /* second true */
		ASSERT_EQ(agent_cond_eval(c, &env), 1);
		agent_cond_free(c);
	}
}

static void test_list_first_decides(void **state)
{
	/* "1", "0" and a fault (ref8 of address 0). */
	struct agent_cond *c;
	char text[128];
	const char *one = "X3,220127", *zero = "X3,220027",
		   *fault = "X4,22001727";

	snprintf(text, sizeof(text), "%s%s", fault, one);
	c = parse_ok(__LINE__, text);
	ASSERT_EQ(agent_cond_eval(c, &env), -EFAULT);
	agent_cond_free(c);

	snprintf(text, sizeof(text), "%s%s", one, fault);
	c = parse_ok(__LINE__, text);
	fk.mem_reads = 0;
	ASSERT_EQ(agent_cond_eval(c, &env), 1);
	ASSERT_EQ(fk.mem_reads, 0); /* the fault never ran */
	agent_cond_free(c);

	snprintf(text, sizeof(text), "%s;%s", zero, fault);
	c = parse_ok(__LINE__, text);
	ASSERT_EQ(agent_cond_eval(c, &env), -EFAULT);
	agent_cond_free(c);

	snprintf(text, sizeof(text), "%s%s%s", zero, zero, zero);
	c = parse_ok(__LINE__, text);
	ASSERT_EQ(agent_cond_count(c), 3);
	ASSERT_EQ(agent_cond_eval(c, &env), 0);
	agent_cond_free(c);
}

static void test_empty_list_is_unconditional(void **state)
{
	struct agent_cond *c = (struct agent_cond *)&fk;
	char err[64] = "unset";

	ASSERT_EQ(agent_cond_parse("", 0, &c, err, sizeof(err)), 0);
	assert_null(c);
	ASSERT_EQ(strlen(err), 0);
	ASSERT_EQ(agent_cond_count(NULL), 0);
	ASSERT_EQ(agent_cond_eval(NULL, &env), 1);
	ASSERT_EQ(agent_cond_eval(NULL, NULL), 1);
	assert_null(agent_cond_bytes(NULL, 0, NULL));
	agent_cond_free(NULL);
}

static void test_reject_list_syntax(void **state)
{
	REJECT_TEXT(-EINVAL, "condition 1: empty expression", ";X0,");
	REJECT_TEXT(-ENOTSUP,
		    "condition 1: expression of 4097 bytes, limit "
		    "4096",
		    ";X1001,27");
	REJECT_TEXT(-EINVAL, "condition 1: bad length at text offset 2",
		    ";Xg,27");
	REJECT_TEXT(-EINVAL, "condition 1: bad length at text offset 1",
		    "X127");
	REJECT_TEXT(-EINVAL, "condition 1: bad length at text offset 1",
		    "X11111111111111111,27");
	REJECT_TEXT(-EINVAL,
		    "condition 1: 2 bytes declared, only 2 hex "
		    "digits follow",
		    ";X2,27");
	REJECT_TEXT(-EINVAL,
		    "condition 1: 2 bytes declared, only 3 hex "
		    "digits follow",
		    ";X2,220");
	REJECT_TEXT(-EINVAL,
		    "condition 1: bad hex digit in bytecode at text "
		    "offset 4",
		    ";X1,zz");
	REJECT_TEXT(-EINVAL, "condition 1: expected 'X' at text offset 1",
		    ";x1,27");
	REJECT_TEXT(-EINVAL, "condition 2: expected 'X' at text offset 11",
		    ";X3,220127;;X3,220127");
	REJECT_TEXT(-EINVAL, "condition 2: expected 'X' at text offset 10",
		    ";X3,220127 ");
	REJECT_TEXT(-EINVAL, "nothing after ';' at text offset 10",
		    ";X3,220127;");
	REJECT_TEXT(-EINVAL, "nothing after ';' at text offset 0", ";");
	REJECT_TEXT(-ENOTSUP,
		    "condition 1: breakpoint commands are not "
		    "supported",
		    ";cmds:0,X3,220127");
	REJECT_TEXT(-ENOTSUP,
		    "condition 2: breakpoint commands are not "
		    "supported",
		    ";X3,220127;cmds:1,X3,220127");
	/* A NUL inside the text is just a bad character. */
	check_reject_text(__LINE__, -EINVAL,
			  "condition 1: bad hex digit in bytecode at text "
			  "offset 4",
			  ";X1,\0"
			  "7",
			  6);
}

static void test_reject_too_many_conditions(void **state)
{
	char text[64 * 10];
	size_t i, at = 0;
	struct agent_cond *c;

	for (i = 0; i < AGENT_MAX_CONDS; i++)
		at += (size_t)sprintf(text + at, "X3,220%zx27", i % 10);
	c = parse_ok(__LINE__, text);
	ASSERT_EQ(agent_cond_count(c), 32);
	agent_cond_free(c);
	sprintf(text + at, "X3,220127");
	REJECT_TEXT(-ENOTSUP, "more than 32 conditions", text);
}

static void test_reject_opcodes(void **state)
{
	static const struct {
		uint8_t op;
		const char *name;
	} unsupported[] = {
	    {0x01, "float"},	   {0x0c, "trace"},
	    {0x0d, "trace_quick"}, {0x1b, "ref_float"},
	    {0x1c, "ref_double"},  {0x1d, "ref_long_double"},
	    {0x1e, "l_to_d"},	   {0x1f, "d_to_l"},
	    {0x2c, "getv"},	   {0x2d, "setv"},
	    {0x2e, "tracev"},	   {0x2f, "tracenz"},
	    {0x30, "trace16"},	   {0x34, "printf"},
	};
	static const uint8_t unknown[] = {0x00, 0x31, 0x35, 0x80, 0xff};
	char msg[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unsupported); i++) {
		uint8_t code[] = {K8(1), unsupported[i].op, 0, 0, 0, END};

		snprintf(msg, sizeof(msg),
			 "condition 1: unsupported opcode %s (0x%02x) at "
			 "offset 2",
			 unsupported[i].name, unsupported[i].op);
		check_reject(__LINE__, -ENOTSUP, msg, code, sizeof(code));
	}
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		uint8_t code[] = {unknown[i], END};

		snprintf(msg, sizeof(msg),
			 "condition 1: unknown opcode 0x%02x at offset 0",
			 unknown[i]);
		check_reject(__LINE__, -ENOTSUP, msg, code, sizeof(code));
	}
	/* The first bad opcode is named, even in unreachable code. */
	REJECT(-ENOTSUP,
	       "condition 1: unsupported opcode getv (0x2c) at offset 3", K8(1),
	       END, 0x2c, 0, 1);
}

static void test_reject_truncated(void **state)
{
	REJECT(-EINVAL, "condition 1: truncated operand of const8 at offset 0",
	       0x22);
	REJECT(-EINVAL,
	       "condition 1: truncated operand of const16 at offset "
	       "2",
	       K8(1), 0x23, 0x00);
	REJECT(-EINVAL,
	       "condition 1: truncated operand of const32 at offset "
	       "0",
	       0x24, 1, 2, 3);
	REJECT(-EINVAL,
	       "condition 1: truncated operand of const64 at offset "
	       "0",
	       0x25, 1, 2, 3, 4, 5, 6, 7);
	REJECT(-EINVAL, "condition 1: truncated operand of reg at offset 0",
	       0x26, 0);
	REJECT(-EINVAL, "condition 1: truncated operand of goto at offset 1",
	       END, 0x21, 0);
	REJECT(-EINVAL,
	       "condition 1: truncated operand of if_goto at offset "
	       "2",
	       K8(1), 0x20);
	REJECT(-EINVAL, "condition 1: truncated operand of ext at offset 2",
	       K8(1), 0x16);
	REJECT(-EINVAL,
	       "condition 1: truncated operand of zero_ext at "
	       "offset 2",
	       K8(1), 0x2a);
	REJECT(-EINVAL, "condition 1: truncated operand of pick at offset 2",
	       K8(1), 0x32);
	REJECT(-EINVAL, "condition 1: ext 0 at offset 2", K8(1), EXT(0), END);
}

static void test_reject_bad_jumps(void **state)
{
	REJECT(-EINVAL,
	       "condition 1: goto at offset 0 jumps to 4, outside "
	       "the 4-byte expression",
	       GOTO(4), END);
	REJECT(-EINVAL,
	       "condition 1: if_goto at offset 2 jumps to 65535, "
	       "outside the 6-byte expression",
	       K8(1), IF_GOTO(0xffff), END);
	REJECT(-EINVAL,
	       "condition 1: goto at offset 0 jumps to 1, inside an "
	       "instruction",
	       GOTO(1), END);
	REJECT(-EINVAL,
	       "condition 1: if_goto at offset 2 jumps to 6, inside "
	       "an instruction",
	       K8(1), IF_GOTO(6), K8(2), END);
	/* Unreachable jumps are checked too. */
	REJECT(-EINVAL,
	       "condition 1: goto at offset 3 jumps to 9, outside "
	       "the 6-byte expression",
	       K8(1), END, GOTO(9));
}

static void test_reject_stack(void **state)
{
	uint8_t code[2 * 65 + 1];
	size_t i;

	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 0: end needs "
	       "1 item, a path reaches it with 0",
	       END);
	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 2: add needs "
	       "2 items, a path reaches it with 1",
	       K8(1), ADD, END);
	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 0: pop needs "
	       "1 item, a path reaches it with 0",
	       POP, K8(1), END);
	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 4: rot needs "
	       "3 items, a path reaches it with 2",
	       K8(1), K8(2), ROT, END);
	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 4: pick needs "
	       "3 items, a path reaches it with 2",
	       K8(1), K8(2), PICK(2), END);
	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 3: if_goto "
	       "needs 1 item, a path reaches it with 0",
	       K8(1), POP, IF_GOTO(0), END);
	/* Only one path pops too much: the jump skips the pop, the
	 * fallthrough does not. 0 k8 | 2 k8 | 4 if_goto 8 | 7 pop | 8 end */
	REJECT(-EINVAL,
	       "condition 1: stack underflow at offset 8: end needs "
	       "1 item, a path reaches it with 0",
	       K8(5), K8(1), IF_GOTO(8), POP, END);

	/* 64 items is the limit; the 65th push is refused. */
	for (i = 0; i < 64; i++) {
		code[2 * i] = 0x22;
		code[2 * i + 1] = (uint8_t)i;
	}
	code[128] = END;
	check_value(__LINE__, 63, code, 129);
	code[128] = 0x22;
	code[129] = 64;
	code[130] = END;
	check_reject(__LINE__, -ENOTSUP,
		     "condition 1: stack deeper than 64 at offset 128 "
		     "(const8)",
		     code, 131);
	/* A loop that pushes on every turn could grow without bound. */
	REJECT(-ENOTSUP,
	       "condition 1: stack deeper than 64 at offset 2 "
	       "(dup)",
	       K8(1), DUP, IF_GOTO(0), END);
	/* A loop that keeps its depth is fine (see test_loop_counts_down). */
}

static void test_reject_missing_end(void **state)
{
	REJECT(-EINVAL,
	       "condition 1: missing end: const8 at offset 0 is the "
	       "last instruction",
	       K8(1));
	REJECT(-EINVAL,
	       "condition 1: missing end: if_goto at offset 2 is "
	       "the last instruction",
	       K8(1), IF_GOTO(0));
	REJECT(-EINVAL,
	       "condition 1: missing end: add at offset 10 is the "
	       "last instruction",
	       K8(1), K8(1), IF_GOTO(8), END, K8(2), ADD);
	REJECT(-EINVAL, "condition 1: no path reaches end", GOTO(0));
	REJECT(-EINVAL, "condition 1: no path reaches end", GOTO(3), GOTO(0),
	       END);
	/* The error names the condition it is in; nothing is kept. */
	REJECT_TEXT(-EINVAL,
		    "condition 2: missing end: const8 at offset 0 "
		    "is the last instruction",
		    ";X3,220127X2,2201");
}

static void test_longest_expression(void **state)
{
	uint8_t code[AGENT_MAX_BYTES];
	size_t at = 0, k;

	/* const8 1, 1363 x (const8 1, add), 4 x bit_not, end: 4096 bytes. */
	code[at++] = 0x22;
	code[at++] = 1;
	for (k = 0; k < 1363; k++) {
		code[at++] = 0x22;
		code[at++] = 1;
		code[at++] = ADD;
	}
	for (k = 0; k < 4; k++)
		code[at++] = NOT;
	code[at++] = END;
	ASSERT_EQ(at, AGENT_MAX_BYTES);
	check_value(__LINE__, 1364, code, at);
}

static void test_fault_memory(void **state)
{
	FAULT(-EFAULT, K8(0), REF8, END);
	FAULT(-EFAULT, K64(M1), REF64, END); /* address + 8 wraps */
	FAULT(-EFAULT, K32(DATA_BASE + WINDOW - 1), REF16, END);
	/* The env's own error comes back unchanged. */
	fk.mem_err = -EIO;
	FAULT(-EIO, K32(0x404000), REF32, END);
	/* A positive return is a bug in the env, still a fault. */
	fk.mem_err = 1;
	FAULT(-EFAULT, K32(0x404000), REF32, END);
}

static void test_fault_division_by_zero(void **state)
{
	FAULT(-EDOM, K8(1), K8(0), DIV_S, END);
	FAULT(-EDOM, K8(1), K8(0), DIV_U, END);
	FAULT(-EDOM, K8(1), K8(0), REM_S, END);
	FAULT(-EDOM, K8(1), K8(0), REM_U, END);
	FAULT(-EDOM, K64(MIN64), K8(0), DIV_S, END);
}

/*
 * n, `pad` times zero_ext 64 (changes nothing), dup, pop, then the loop
 * "const8 1, sub, dup, if_goto loop", end: runs 4n + 4 + pad instructions
 * and leaves 0.
 */
static void countdown(uint8_t *code, size_t *len, uint32_t n, unsigned pad)
{
	const uint8_t head[] = {K32(n)};
	size_t at = 0, loop;
	unsigned i;

	memcpy(code, head, sizeof(head));
	at = sizeof(head);
	for (i = 0; i < pad; i++) {
		code[at++] = 0x2a;
		code[at++] = 64;
	}
	code[at++] = DUP;
	code[at++] = POP;
	loop = at;
	code[at++] = 0x22;
	code[at++] = 1;
	code[at++] = SUB;
	code[at++] = DUP;
	code[at++] = 0x20;
	code[at++] = (uint8_t)(loop >> 8);
	code[at++] = (uint8_t)loop;
	code[at++] = END;
	*len = at;
}

static void test_fault_step_budget(void **state)
{
	uint8_t a[32], b[32];
	size_t alen, blen;
	char *ta, *tb, text[128];
	struct agent_cond *c;
	uint64_t v = 1;

	/* An endless loop with an exit the data never takes. */
	FAULT(-ELOOP, K8(1), IF_GOTO(0), K8(0), END);
	/* Exactly AGENT_MAX_STEPS instructions is allowed, one turn more
	 * is not. */
	countdown(a, &alen, (AGENT_MAX_STEPS - 4) / 4, 0);
	check_value(__LINE__, 0, a, alen);
	countdown(a, &alen, (AGENT_MAX_STEPS - 4) / 4, 1);
	check_fault(__LINE__, -ELOOP, a, alen);
	countdown(a, &alen, (AGENT_MAX_STEPS - 4) / 4 - 1, 3);
	check_value(__LINE__, 0, a, alen);

	/* The budget covers the whole list: two 60000-step conditions are
	 * fine alone, not together. */
	countdown(a, &alen, 14999, 0);
	countdown(b, &blen, 14999, 0);
	ta = item_text(a, alen);
	tb = item_text(b, blen);
	snprintf(text, sizeof(text), "%s%s", ta, tb);
	c = parse_ok(__LINE__, text);
	ASSERT_EQ(agent_cond_value(c, 0, &env, &v), 0);
	ASSERT_EQ(v, 0);
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), 0);
	ASSERT_EQ(agent_cond_eval(c, &env), -ELOOP);
	agent_cond_free(c);
	free(ta);
	free(tb);
}

static void test_bad_calls(void **state)
{
	static const struct agent_env no_mem = {.read_reg = fake_reg,
						.opaque = &fk};
	static const struct agent_env no_reg = {.read_mem = fake_mem,
						.opaque = &fk};
	struct agent_cond *c;
	char err[80];
	uint64_t v;

	c = parse_ok(__LINE__, "X8,2600062600071327");
	ASSERT_EQ(agent_cond_eval(c, NULL), -EINVAL);
	ASSERT_EQ(agent_cond_eval(c, &no_reg), -EINVAL);
	ASSERT_EQ(agent_cond_eval(c, &no_mem), 1); /* rbp == rsp == 0 */
	ASSERT_EQ(agent_cond_value(c, 1, &env, &v), -ENOENT);
	ASSERT_EQ(agent_cond_value(NULL, 0, &env, &v), -ENOENT);
	ASSERT_EQ(agent_cond_value(c, 0, NULL, &v), -EINVAL);
	agent_cond_free(c);

	c = parse_ok(__LINE__, "X4,22001727");
	ASSERT_EQ(agent_cond_eval(c, &no_mem), -EINVAL);
	agent_cond_free(c);

	ASSERT_EQ(agent_cond_parse("X3,220127", 9, NULL, err, sizeof(err)),
		  -EINVAL);
	assert_string_equal(err, "no text or no result pointer");
	ASSERT_EQ(agent_cond_parse(NULL, 3, &c, err, sizeof(err)), -EINVAL);
	/* No room for a message is fine. */
	ASSERT_EQ(agent_cond_parse(";X0,", 4, &c, NULL, 0), -EINVAL);
	ASSERT_EQ(agent_cond_parse(";X0,", 4, &c, err, 1), -EINVAL);
	ASSERT_EQ(err[0], '\0');
	/* A short buffer gets a truncated, terminated message. */
	ASSERT_EQ(agent_cond_parse(";X0,", 4, &c, err, 10), -EINVAL);
	assert_string_equal(err, "condition");
}

int main(void)
{
#define T(t) cmocka_unit_test_setup(t, setup)
	const struct CMUnitTest tests[] = {
	    T(test_add_sub_mul),
	    T(test_div_rem),
	    T(test_shifts),
	    T(test_logic_and_bits),
	    T(test_comparisons),
	    T(test_ext),
	    T(test_zero_ext),
	    T(test_refs_little_endian_unaligned),
	    T(test_if_goto_and_goto),
	    T(test_loop_counts_down),
	    T(test_consts_big_endian),
	    T(test_reg),
	    T(test_stack_ops),
	    T(test_gdb_i_equals_5000),
	    T(test_gdb_counter_and_flag),
	    T(test_gdb_short_ptr),
	    T(test_list_is_or),
	    T(test_list_first_decides),
	    T(test_empty_list_is_unconditional),
	    T(test_reject_list_syntax),
	    T(test_reject_too_many_conditions),
	    T(test_reject_opcodes),
	    T(test_reject_truncated),
	    T(test_reject_bad_jumps),
	    T(test_reject_stack),
	    T(test_reject_missing_end),
	    T(test_longest_expression),
	    T(test_fault_memory),
	    T(test_fault_division_by_zero),
	    T(test_fault_step_budget),
	    T(test_bad_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
