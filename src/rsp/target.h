/* What the RSP session needs from a debuggee. src/rsp talks to the guest
 * only through this table; kvmdbg's VMM implements it (src/target.c), a
 * mock implements it in tests. Unsupported operations are NULL or return
 * -EOPNOTSUPP, and the session answers the empty packet.
 *
 * Threads are numbered 1..nr_threads (gdb reserves 0 and -1). All-stop: the
 * session only calls operations other than interrupt/kill/detach while the
 * target is stopped, i.e. between a stop report and the next resume. */
#ifndef KVMDBG_RSP_TARGET_H
#define KVMDBG_RSP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RSP_MAX_THREADS 64

/* gdb's own signal numbers, which are what the protocol carries. */
enum rsp_signal {
	RSP_SIG_0 = 0,
	RSP_SIG_INT = 2,
	RSP_SIG_ILL = 4,
	RSP_SIG_TRAP = 5,
	RSP_SIG_ABRT = 6,
	RSP_SIG_BUS = 10,
	RSP_SIG_SEGV = 11,
	RSP_SIG_KILL = 9,
};

enum rsp_stop_kind {
	RSP_STOP_SIGNAL, /* T<sig> with thread and reason */
	RSP_STOP_EXITED, /* W<status> */
	RSP_STOP_TERMINATED, /* X<sig> */
};

enum rsp_stop_reason {
	RSP_REASON_NONE = 0, /* e.g. single-step done, Ctrl-C */
	RSP_REASON_SWBREAK,
	RSP_REASON_HWBREAK,
	RSP_REASON_WATCH,
	RSP_REASON_RWATCH,
	RSP_REASON_AWATCH,
};

struct rsp_stop {
	enum rsp_stop_kind kind;
	int signal; /* enum rsp_signal for SIGNAL/TERMINATED */
	int exit_status; /* EXITED */
	unsigned thread; /* SIGNAL: the thread that stopped, 1-based */
	enum rsp_stop_reason reason;
	uint64_t watch_addr; /* WATCH/RWATCH/AWATCH */
};

enum rsp_action {
	RSP_ACTION_STOP = 0, /* stay stopped (no action, or vCont 't') */
	RSP_ACTION_CONTINUE,
	RSP_ACTION_STEP,
	RSP_ACTION_RANGE_STEP, /* vCont 'r': step while pc in [start,end) */
};

struct rsp_resume {
	unsigned nr_threads;
	struct {
		enum rsp_action action;
		int signal; /* to deliver on resume; 0 for none */
		uint64_t start, end; /* RANGE_STEP */
	} thread[RSP_MAX_THREADS]; /* index = thread id - 1 */
};

/* Z/z packet types. */
enum rsp_bp_type {
	RSP_BP_SW = 0,
	RSP_BP_HW = 1,
	RSP_BP_WRITE = 2,
	RSP_BP_READ = 3,
	RSP_BP_ACCESS = 4,
};

struct rsp_mem_region {
	uint64_t start, size;
	bool readable, writable, executable, mapped;
};

struct rsp_target_ops {
	/* Description */
	unsigned (*nr_threads)(void *t);
	/* Human text for qThreadExtraInfo / qXfer:threads (name excluded). */
	int (*thread_extra)(void *t, unsigned tid, char *buf, size_t len);
	/* Thread name for qXfer:threads, e.g. "vCPU 0". */
	int (*thread_name)(void *t, unsigned tid, char *buf, size_t len);
	/* qXfer:features:read annex ("target.xml" and what it includes);
	 * NULL when there is no such document. */
	const char *(*features_xml)(void *t, const char *annex);
	/* Path of the image for qXfer:exec-file; NULL when unknown. */
	const char *(*exec_file)(void *t);
	/* lldb's qHostInfo/qProcessInfo: "x86_64", 8, little-endian. */
	const char *(*arch_triple)(void *t); /* e.g. "x86_64-unknown-none" */
	unsigned (*pointer_size)(void *t);

	/* Registers, numbered as in features_xml. A register's size in
	 * bytes comes from reg_size; 0 means no such register. */
	unsigned (*nr_regs)(void *t);
	unsigned (*reg_size)(void *t, unsigned regno);
	/* Copy register regno of thread tid (target byte order) into buf. */
	int (*read_reg)(void *t, unsigned tid, unsigned regno, uint8_t *buf);
	int (*write_reg)(void *t, unsigned tid, unsigned regno,
			 const uint8_t *buf);
	/* Registers a stop reply carries: pc, sp, fp (regnos). */
	unsigned (*expedited_regs)(void *t, unsigned *regnos, unsigned max);

	/* Memory (guest-virtual through the thread's page tables unless the
	 * target was switched to physical). Read returns the number of bytes
	 * read from the start (short at the first unmapped byte), or -EFAULT
	 * when the first byte is unmapped. Write is all or nothing. */
	long (*read_mem)(void *t, unsigned tid, uint64_t addr, uint8_t *buf,
			 size_t len);
	int (*write_mem)(void *t, unsigned tid, uint64_t addr,
			 const uint8_t *buf, size_t len);
	int (*mem_region)(void *t, unsigned tid, uint64_t addr,
			  struct rsp_mem_region *out);
	/* (Note added with the session: lldb walks the whole address space
	 * region by region, start + size each time, e.g. when it looks for
	 * free memory for an expression, so mem_region should return the
	 * largest range with the same attributes around addr, unmapped
	 * gaps included, not one page; page-sized answers can make that
	 * walk take millions of packets. The session clips the last region
	 * to end at UINT64_MAX, where lldb stops.) */

	/* Execution. resume returns at once; the stop comes later through
	 * rsp_session_stopped(). interrupt asks for a stop (reported with
	 * SIGINT). */
	int (*resume)(void *t, const struct rsp_resume *r);
	int (*interrupt)(void *t);
	/* Kill: end the debuggee. Detach: remove every breakpoint and let it
	 * run free. Both return at once. */
	int (*kill)(void *t);
	int (*detach)(void *t);

	/* Breakpoints and watchpoints (Z/z). kind is the packet's kind field
	 * (instruction length or watch length). cond/cond_len: the raw
	 * ";X..." condition list, or NULL. */
	int (*insert_bp)(void *t, enum rsp_bp_type type, uint64_t addr,
			 uint64_t kind, const uint8_t *cond, size_t cond_len);
	int (*remove_bp)(void *t, enum rsp_bp_type type, uint64_t addr,
			 uint64_t kind);

	/* qRcmd: run cmd, write what a person should read into out (text,
	 * may be several lines). Returns 0, or -errno for an error reply. */
	int (*monitor)(void *t, const char *cmd, char *out, size_t cap);

	/*
	 * Optional additions; NULL means the default in each comment.
	 */

	/* vCont 'r' (range stepping) is honoured by resume: threads with
	 * RSP_ACTION_RANGE_STEP keep stepping while their pc stays in
	 * [start, end). NULL or false: the session never advertises 'r'
	 * and turns a stray 'r' into a single step, which the protocol
	 * allows. */
	bool (*supports_range_step)(void *t);
	/* insert_bp evaluates a Z0/Z1 condition list itself (gdb's agent
	 * expressions): advertised as ConditionalBreakpoints+. A list it
	 * cannot run is an error reply, and gdb then evaluates the
	 * condition on its side. NULL or false: not advertised. */
	bool (*supports_conditions)(void *t);
	/* Register values are big-endian. The session needs this only to
	 * turn the pc (the first of expedited_regs) into a number for
	 * lldb's thread-pcs and qHostInfo's endian key. NULL: little. */
	bool (*big_endian)(void *t);
	/* How many watchpoints the debugger may set at once, for lldb's
	 * qWatchpointSupportInfo. NULL: the session does not answer and
	 * lldb assumes watchpoints are available. */
	unsigned (*nr_watchpoints)(void *t);
};

#endif
