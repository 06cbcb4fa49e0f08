/* A mock debuggee implementing struct rsp_target_ops for the session tests
 * and the session fuzzer. Deterministic, no I/O, records what it is told. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_target.h"

static const unsigned reg_sizes[MOCK_NR_REGS] = {8, 8, 8, 4, 16};

/* Special characters inside, so qXfer replies need escaping. */
static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!-- mock: $#*} -->\n"
    "<target version=\"1.0\"><architecture>mock</architecture>"
    "<feature name=\"org.kvmdbg.mock\">"
    "<reg name=\"r0\" bitsize=\"64\"/><reg name=\"sp\" bitsize=\"64\"/>"
    "<reg name=\"pc\" bitsize=\"64\"/><reg name=\"flags\" bitsize=\"32\"/>"
    "<reg name=\"v0\" bitsize=\"128\"/></feature></target>\n";

static char big_xml[4096];

static struct mock_target *M(void *t)
{
	return t;
}

static void logf_(struct mock_target *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_(struct mock_target *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->log_len >= sizeof(m->log) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->log + m->log_len, sizeof(m->log) - m->log_len, fmt,
		      ap);
	va_end(ap);
	if (n < 0)
		return;
	m->log_len += (size_t)n;
	if (m->log_len >= sizeof(m->log))
		m->log_len = sizeof(m->log) - 1;
}

void mock_clear_log(struct mock_target *m)
{
	m->log_len = 0;
	m->log[0] = 0;
}

/* The initial state, built once: the fuzzer creates a mock per input. */
static struct mock_target initial;

static void build_initial(void)
{
	struct mock_target *m = &initial;
	unsigned t, r, i;
	size_t k;

	for (t = 0; t < MOCK_MAX_THREADS; t++)
		for (r = 0; r < MOCK_NR_REGS; r++)
			for (i = 0; i < MOCK_REG_MAX; i++)
				m->regs[t][r][i] =
				    (uint8_t)((t + 1) << 4 | r << 1) + i;
	/* pc and sp point into the mock's memory. */
	for (t = 0; t < MOCK_MAX_THREADS; t++) {
		mock_set_reg(m, t + 1, MOCK_REG_PC, 0x1000 + 0x10 * t);
		mock_set_reg(m, t + 1, MOCK_REG_SP, 0x3ff0 - 0x100 * t);
	}
	for (k = 0; k < sizeof(m->mem); k++)
		m->mem[k] = (uint8_t)(k * 7 + 1);
	m->exec_path = "/images/guest.elf";

	/* A document larger than a small packet, full of escapes. */
	for (k = 0; k + 1 < sizeof(big_xml); k++)
		big_xml[k] = "<ab$#*}cd>\n"[k % 11];
	big_xml[sizeof(big_xml) - 1] = 0;
}

void mock_init(struct mock_target *m, unsigned nr_threads)
{
	if (!initial.exec_path)
		build_initial();
	*m = initial;
	m->nr_threads = nr_threads;
}

uint64_t mock_reg(const struct mock_target *m, unsigned tid, unsigned regno)
{
	uint64_t v = 0;
	unsigned i, n = reg_sizes[regno] < 8 ? reg_sizes[regno] : 8;

	for (i = 0; i < n; i++)
		v |= (uint64_t)m->regs[tid - 1][regno][i] << (8 * i);
	return v;
}

void mock_set_reg(struct mock_target *m, unsigned tid, unsigned regno,
		  uint64_t v)
{
	unsigned i, n = reg_sizes[regno] < 8 ? reg_sizes[regno] : 8;

	for (i = 0; i < n; i++)
		m->regs[tid - 1][regno][i] = (uint8_t)(v >> (8 * i));
}

void mock_stop(struct mock_target *m, const struct rsp_stop *stop)
{
	m->running = false;
	if (m->session)
		rsp_session_stopped(m->session, stop);
}

void mock_stop_signal(struct mock_target *m, int sig, unsigned thread,
		      enum rsp_stop_reason reason, uint64_t watch_addr)
{
	struct rsp_stop stop = {
	    .kind = RSP_STOP_SIGNAL,
	    .signal = sig,
	    .thread = thread,
	    .reason = reason,
	    .watch_addr = watch_addr,
	};

	mock_stop(m, &stop);
}

static unsigned nr_threads(void *t)
{
	return M(t)->nr_threads;
}

static bool tid_ok(struct mock_target *m, unsigned tid)
{
	return tid >= 1 && tid <= m->nr_threads && tid <= MOCK_MAX_THREADS;
}

static int thread_name(void *t, unsigned tid, char *buf, size_t len)
{
	if (!tid_ok(M(t), tid))
		return -ESRCH;
	snprintf(buf, len, "vCPU %u", tid - 1);
	return 0;
}

static int thread_extra(void *t, unsigned tid, char *buf, size_t len)
{
	if (!tid_ok(M(t), tid))
		return -ESRCH;
	/* Characters XML must escape, to test that it is. */
	snprintf(buf, len, tid == 1 ? "halted" : "idle <&> \"%u\"", tid);
	return 0;
}

static const char *features_xml(void *t, const char *annex)
{
	if (M(t)->no_features_xml)
		return NULL;
	if (!strcmp(annex, "target.xml"))
		return target_xml;
	if (!strcmp(annex, "big.xml"))
		return big_xml;
	return NULL;
}

static const char *exec_file(void *t)
{
	return M(t)->exec_path;
}

static const char *arch_triple(void *t)
{
	return "x86_64-unknown-none";
}

static unsigned pointer_size(void *t)
{
	return 8;
}

static unsigned nr_regs(void *t)
{
	return MOCK_NR_REGS;
}

static unsigned reg_size(void *t, unsigned regno)
{
	return regno < MOCK_NR_REGS ? reg_sizes[regno] : 0;
}

static int read_reg(void *t, unsigned tid, unsigned regno, uint8_t *buf)
{
	struct mock_target *m = M(t);

	if (!tid_ok(m, tid) || regno >= MOCK_NR_REGS)
		return -EINVAL;
	if (m->read_reg_ret)
		return m->read_reg_ret;
	memcpy(buf, m->regs[tid - 1][regno], reg_sizes[regno]);
	return 0;
}

static int write_reg(void *t, unsigned tid, unsigned regno, const uint8_t *buf)
{
	struct mock_target *m = M(t);

	if (!tid_ok(m, tid) || regno >= MOCK_NR_REGS)
		return -EINVAL;
	memcpy(m->regs[tid - 1][regno], buf, reg_sizes[regno]);
	logf_(m, "write_reg %u %u\n", tid, regno);
	return 0;
}

static unsigned expedited_regs(void *t, unsigned *regnos, unsigned max)
{
	static const unsigned regs[] = {MOCK_REG_PC, MOCK_REG_SP};
	unsigned i;

	for (i = 0; i < 2 && i < max; i++)
		regnos[i] = regs[i];
	return i;
}

static bool mapped(uint64_t a)
{
	return a >= MOCK_MEM_BASE && a < MOCK_MEM_END &&
	       !(a >= MOCK_HOLE_START && a < MOCK_HOLE_END);
}

static long read_mem(void *t, unsigned tid, uint64_t addr, uint8_t *buf,
		     size_t len)
{
	struct mock_target *m = M(t);
	size_t i;

	if (!tid_ok(m, tid))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (addr + i < addr || !mapped(addr + i))
			break;
		buf[i] = m->mem[addr + i - MOCK_MEM_BASE];
	}
	return i ? (long)i : -EFAULT;
}

static int write_mem(void *t, unsigned tid, uint64_t addr, const uint8_t *buf,
		     size_t len)
{
	struct mock_target *m = M(t);
	size_t i;

	if (!tid_ok(m, tid))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (addr + i < addr || !mapped(addr + i))
			return -EFAULT;
	memcpy(m->mem + (addr - MOCK_MEM_BASE), buf, len);
	logf_(m, "write_mem %u %" PRIx64 " %zu\n", tid, addr, len);
	return 0;
}

static int mem_region(void *t, unsigned tid, uint64_t addr,
		      struct rsp_mem_region *out)
{
	memset(out, 0, sizeof(*out));
	if (addr < MOCK_MEM_BASE) {
		out->start = 0;
		out->size = MOCK_MEM_BASE;
	} else if (addr < MOCK_HOLE_START) {
		out->start = MOCK_MEM_BASE;
		out->size = MOCK_HOLE_START - MOCK_MEM_BASE;
		out->mapped = out->readable = out->executable = true;
	} else if (addr < MOCK_HOLE_END) {
		out->start = MOCK_HOLE_START;
		out->size = MOCK_HOLE_END - MOCK_HOLE_START;
	} else if (addr < MOCK_MEM_END) {
		out->start = MOCK_HOLE_END;
		out->size = MOCK_MEM_END - MOCK_HOLE_END;
		out->mapped = out->readable = out->writable = true;
	} else {
		out->start = MOCK_MEM_END;
		out->size = 0 - (uint64_t)MOCK_MEM_END;
	}
	return 0;
}

static const char action_char[] = {
    [RSP_ACTION_STOP] = '-',
    [RSP_ACTION_CONTINUE] = 'c',
    [RSP_ACTION_STEP] = 's',
    [RSP_ACTION_RANGE_STEP] = 'r',
};

static int resume(void *t, const struct rsp_resume *r)
{
	struct mock_target *m = M(t);
	unsigned i;

	logf_(m, "resume");
	for (i = 0; i < r->nr_threads; i++) {
		logf_(m, " %u:%c", i + 1, action_char[r->thread[i].action]);
		if (r->thread[i].signal)
			logf_(m, "/%d", r->thread[i].signal);
		if (r->thread[i].action == RSP_ACTION_RANGE_STEP)
			logf_(m, "[%" PRIx64 ",%" PRIx64 ")",
			      r->thread[i].start, r->thread[i].end);
	}
	logf_(m, "\n");
	if (m->resume_ret)
		return m->resume_ret;
	m->resumes++;
	m->last_resume = *r;
	m->running = true;
	if (m->stop_inside_resume)
		mock_stop_signal(m, RSP_SIG_TRAP, 1, RSP_REASON_NONE, 0);
	return 0;
}

static int interrupt(void *t)
{
	struct mock_target *m = M(t);

	logf_(m, "interrupt\n");
	m->interrupts++;
	if (m->interrupt_ret)
		return m->interrupt_ret;
	if (m->stop_inside_interrupt && m->running)
		mock_stop_signal(m, RSP_SIG_INT, 1, RSP_REASON_NONE, 0);
	return 0;
}

static int kill_op(void *t)
{
	struct mock_target *m = M(t);

	logf_(m, "kill\n");
	m->kills++;
	return m->kill_ret;
}

static int detach(void *t)
{
	struct mock_target *m = M(t);

	logf_(m, "detach\n");
	m->detaches++;
	return m->detach_ret;
}

static int insert_bp(void *t, enum rsp_bp_type type, uint64_t addr,
		     uint64_t kind, const uint8_t *cond, size_t cond_len)
{
	struct mock_target *m = M(t);

	logf_(m, "insert %d %" PRIx64 " %" PRIx64, (int)type, addr, kind);
	if (cond)
		logf_(m, " %.*s", (int)cond_len, (const char *)cond);
	logf_(m, "\n");
	return m->insert_ret;
}

static int remove_bp(void *t, enum rsp_bp_type type, uint64_t addr,
		     uint64_t kind)
{
	struct mock_target *m = M(t);

	logf_(m, "remove %d %" PRIx64 " %" PRIx64 "\n", (int)type, addr, kind);
	return m->remove_ret;
}

/*
 * "echo TEXT": TEXT and a newline. "big N": N (<= 4096) bytes of text. "fail":
 * some output, then -EIO. "nosuch": -EOPNOTSUPP. Anything else: -ENOENT.
 */
static int monitor(void *t, const char *cmd, char *out, size_t cap)
{
	struct mock_target *m = M(t);
	unsigned long n;
	size_t i;

	logf_(m, "monitor %s\n", cmd);
	if (!strncmp(cmd, "echo ", 5)) {
		snprintf(out, cap, "%s\n", cmd + 5);
		return 0;
	}
	if (!strncmp(cmd, "big ", 4)) {
		/* Bounded: enough to split replies, cheap for the fuzzer. */
		n = strtoul(cmd + 4, NULL, 10);
		if (n > 4096)
			n = 4096;
		for (i = 0; i < n && i + 1 < cap; i++)
			out[i] = (char)('a' + i % 26);
		out[i] = 0;
		return 0;
	}
	if (!strcmp(cmd, "fail")) {
		snprintf(out, cap, "failing\n");
		return -EIO;
	}
	if (!strcmp(cmd, "nosuch"))
		return -EOPNOTSUPP;
	return -ENOENT;
}

static bool supports_conditions(void *t)
{
	return M(t)->conditions;
}

static bool supports_range_step(void *t)
{
	return M(t)->range_step;
}

static bool big_endian(void *t)
{
	return M(t)->big_endian;
}

static unsigned nr_watchpoints(void *t)
{
	return 4;
}

const struct rsp_target_ops mock_target_ops = {
    .nr_threads = nr_threads,
    .thread_extra = thread_extra,
    .thread_name = thread_name,
    .features_xml = features_xml,
    .exec_file = exec_file,
    .arch_triple = arch_triple,
    .pointer_size = pointer_size,
    .nr_regs = nr_regs,
    .reg_size = reg_size,
    .read_reg = read_reg,
    .write_reg = write_reg,
    .expedited_regs = expedited_regs,
    .read_mem = read_mem,
    .write_mem = write_mem,
    .mem_region = mem_region,
    .resume = resume,
    .interrupt = interrupt,
    .kill = kill_op,
    .detach = detach,
    .insert_bp = insert_bp,
    .remove_bp = remove_bp,
    .monitor = monitor,
    .supports_range_step = supports_range_step,
    .supports_conditions = supports_conditions,
    .big_endian = big_endian,
    .nr_watchpoints = nr_watchpoints,
};
