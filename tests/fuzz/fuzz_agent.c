/* libFuzzer target for agent expressions: arbitrary condition-list text (or
 * arbitrary bytecode wrapped as gdb would send it) through agent_cond_parse,
 * and every accepted list evaluated against a fake guest.
 *
 * The first input byte picks the mode: even, the rest is the text after
 * "Z0,addr,kind" as is; odd, the rest is raw bytecode, cut into up to four
 * expressions (lengths from bits of the first byte) and hex-encoded, which
 * reaches the verifier and the interpreter far more often than mutated hex.
 *
 * corpus/agent holds what gdb 13.1 sent for `i == 5000`, `counter > 3 &&
 * flag` and `*(short *)p == -2` in both modes, the same with ';' between
 * items, a counting loop, and a few rejected lists. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp/agent.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* Long enough for AGENT_MAX_CONDS items near the length limit. */
#define MAX_INPUT (64 * 1024)
/* Expressions also evaluated one by one (each has its own budget). */
#define VALUE_CHECKS 4

/*
 * The fake guest: registers 0-31 hold values derived from the input, and
 * two 256-byte windows of memory (at 0, where small constants point, and
 * around 0x404000); every other address faults.
 */
#define WINDOW 256
#define DATA_BASE 0x404000ull

struct fake {
	uint64_t regs[32];
	uint8_t low[WINDOW], data[WINDOW];
};

static int fake_reg(void *opaque, unsigned regno, uint64_t *val)
{
	const struct fake *f = opaque;

	if (regno >= 32)
		return -ENXIO;
	*val = f->regs[regno];
	return 0;
}

static int fake_mem(void *opaque, uint64_t addr, void *buf, size_t len)
{
	const struct fake *f = opaque;

	CHECK(len == 1 || len == 2 || len == 4 || len == 8);
	if (addr <= WINDOW - len) {
		memcpy(buf, f->low + addr, len);
		return 0;
	}
	if (addr >= DATA_BASE && addr - DATA_BASE <= WINDOW - len) {
		memcpy(buf, f->data + (addr - DATA_BASE), len);
		return 0;
	}
	return -EFAULT;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void fake_fill(struct fake *f, const uint8_t *data, size_t len)
{
	uint64_t s = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++)
		s = (s ^ data[i]) * 0x100000001b3ull;
	s |= 1;
	for (i = 0; i < 32; i++)
		f->regs[i] = xorshift(&s);
	/* Small values too, so comparisons and loops go both ways. */
	for (i = 0; i < 8; i++)
		f->regs[i] &= 0xff;
	for (i = 0; i < WINDOW; i++) {
		f->low[i] = (uint8_t)xorshift(&s);
		f->data[i] = (uint8_t)xorshift(&s);
	}
}

static size_t put_item(char *out, const uint8_t *code, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = (size_t)sprintf(out, "X%zx,", n), i;

	for (i = 0; i < n; i++) {
		out[at++] = hex[code[i] >> 4];
		out[at++] = hex[code[i] & 15];
	}
	return at;
}

/* The parsed list written back as gdb would send it must parse the same. */
static void check_round_trip(const struct agent_cond *c)
{
	size_t n = agent_cond_count(c), i, at = 0, total = 1;
	struct agent_cond *again = NULL;
	char *text;

	for (i = 0; i < n; i++) {
		size_t len;

		CHECK(agent_cond_bytes(c, i, &len));
		total += 2 * len + 24;
	}
	text = malloc(total);
	CHECK(text);
	text[at++] = ';';
	for (i = 0; i < n; i++) {
		size_t len;
		const uint8_t *code = agent_cond_bytes(c, i, &len);

		at += put_item(text + at, code, len);
	}
	CHECK(agent_cond_parse(text, at, &again, NULL, 0) == 0);
	CHECK(agent_cond_count(again) == n);
	for (i = 0; i < n; i++) {
		size_t la, lb;
		const uint8_t *a = agent_cond_bytes(c, i, &la);
		const uint8_t *b = agent_cond_bytes(again, i, &lb);

		CHECK(la == lb && !memcmp(a, b, la));
	}
	agent_cond_free(again);
	free(text);
}

static bool runtime_error(int ret)
{
	return ret == -EFAULT || ret == -ENXIO || ret == -EDOM || ret == -ELOOP;
}

static void check_eval(const struct agent_cond *c, const struct fake *f)
{
	const struct agent_env env = {
	    .read_reg = fake_reg,
	    .read_mem = fake_mem,
	    .opaque = (void *)f,
	};
	size_t n = agent_cond_count(c), i;
	int ret = agent_cond_eval(c, &env);
	bool found = ret == -ELOOP;

	CHECK(ret == 0 || ret == 1 || runtime_error(ret));
	/* The same guest gives the same answer. */
	CHECK(agent_cond_eval(c, &env) == ret);
	/* No condition: the breakpoint always stops. */
	if (n == 0)
		CHECK(ret == 1);
	if (n == 0 || n > VALUE_CHECKS)
		return;
	/*
	 * Alone, with a budget of its own, the expression that decided the
	 * list decides the same way; when none decided, each is false.
	 */
	for (i = 0; i < n; i++) {
		uint64_t v = 0;
		int r = agent_cond_value(c, i, &env, &v);

		CHECK(r == 0 || runtime_error(r));
		if (ret == 0)
			CHECK(r == 0 && v == 0);
		else if (ret == 1 && r == 0 && v)
			found = true;
		else if (ret < 0 && r == ret)
			found = true;
	}
	CHECK(ret == 0 || found);
}

static void run_text(const char *text, size_t len, const struct fake *f)
{
	struct agent_cond *c = (struct agent_cond *)f;
	char err[128];
	int ret;

	memset(err, 'x', sizeof(err));
	ret = agent_cond_parse(text, len, &c, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)));
	if (ret) {
		CHECK(ret == -EINVAL || ret == -ENOTSUP);
		CHECK(err[0] != '\0');
		CHECK(c == NULL);
		return;
	}
	CHECK(err[0] == '\0');
	CHECK(agent_cond_count(c) <= AGENT_MAX_CONDS);
	CHECK((c == NULL) == (agent_cond_count(c) == 0));
	if (c)
		check_round_trip(c);
	check_eval(c, f);
	agent_cond_free(c);
}

/* Mode "bytecode": the rest of the input as up to four expressions. */
static void run_bytecode(uint8_t sel, const uint8_t *code, size_t len,
			 const struct fake *f)
{
	size_t parts = 1 + ((sel >> 1) & 3), at = 0, i;
	char *text = malloc(2 * len + 32 * parts + 2);
	size_t tl = 0;

	CHECK(text);
	text[tl++] = ';';
	for (i = 0; i < parts; i++) {
		size_t n = (len - at) / (parts - i);

		/* Bit 3: uneven cuts, the first part takes the larger share. */
		if (i == 0 && (sel & 8))
			n = len - at - (len - at) / (2 * parts);
		at += n;
		tl += put_item(text + tl, code + at - n, n);
		/* Bit 4: a ';' between items, the other form gdb accepts. */
		if ((sel & 16) && i + 1 < parts)
			text[tl++] = ';';
	}
	run_text(text, tl, f);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f;

	if (size == 0)
		return 0;
	if (size > MAX_INPUT)
		size = MAX_INPUT;
	fake_fill(&f, data, size);
	if (data[0] & 1)
		run_bytecode(data[0], data + 1, size - 1, &f);
	else
		run_text((const char *)data + 1, size - 1, &f);
	return 0;
}
