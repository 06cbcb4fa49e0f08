/* A mock debuggee for the RSP session tests and fuzzer: a few threads with
 * fixed-size registers, a small memory with an unmapped hole, and a log of
 * every operation the session asked for. */
#ifndef KVMDBG_TESTS_MOCK_TARGET_H
#define KVMDBG_TESTS_MOCK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsp/session.h"
#include "rsp/target.h"

#define MOCK_MAX_THREADS 8

/* Registers: 0 r0 (8 bytes), 1 sp (8), 2 pc (8), 3 flags (4), 4 v0 (16). */
#define MOCK_NR_REGS 5
#define MOCK_REG_MAX 16
#define MOCK_REG_SP 1
#define MOCK_REG_PC 2

/* Memory [0x1000, 0x4000) with [0x2000, 0x2800) unmapped: text below the
 * hole (r-x), data above it (rw-). */
#define MOCK_MEM_BASE 0x1000
#define MOCK_MEM_END 0x4000
#define MOCK_HOLE_START 0x2000
#define MOCK_HOLE_END 0x2800

/* The operation log; tests clear it between steps. */
#define MOCK_LOG_MAX 65536

struct mock_target {
	unsigned nr_threads;
	uint8_t regs[MOCK_MAX_THREADS][MOCK_NR_REGS][MOCK_REG_MAX];
	uint8_t mem[MOCK_MEM_END - MOCK_MEM_BASE];

	/* Knobs. */
	bool range_step; /* supports_range_step */
	bool conditions; /* supports_conditions */
	bool big_endian;
	bool no_features_xml;
	const char *exec_path; /* NULL: unknown */
	int resume_ret, interrupt_ret, kill_ret, detach_ret;
	int insert_ret, remove_ret, read_reg_ret;
	/* Report the stop from inside resume/interrupt, re-entrantly. */
	bool stop_inside_resume;
	bool stop_inside_interrupt;

	/* State and records. */
	bool running;
	unsigned resumes, interrupts, kills, detaches;
	struct rsp_resume last_resume;
	/* Every operation, one line each, e.g. "insert 0 1000 1 ;X2,0a". */
	char log[MOCK_LOG_MAX];
	size_t log_len;

	/* Where stops go. */
	struct rsp_session *session;
};

extern const struct rsp_target_ops mock_target_ops;

/* nr_threads threads with recognisable register values and memory. */
void mock_init(struct mock_target *m, unsigned nr_threads);

/* The target stops (it was running) and tells the session. */
void mock_stop(struct mock_target *m, const struct rsp_stop *stop);
void mock_stop_signal(struct mock_target *m, int sig, unsigned thread,
		      enum rsp_stop_reason reason, uint64_t watch_addr);

/* Clears the operation log. */
void mock_clear_log(struct mock_target *m);

/* A register's bytes as a little-endian number (first 8 bytes). */
uint64_t mock_reg(const struct mock_target *m, unsigned tid, unsigned regno);
void mock_set_reg(struct mock_target *m, unsigned tid, unsigned regno,
		  uint64_t v);

#endif
