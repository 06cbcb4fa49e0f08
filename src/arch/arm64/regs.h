/* arm64 registers for the debugger: a per-vCPU cache over KVM_GET/SET_ONE_REG
 * filled lazily by part, and gdb's aarch64 register layout on top of it
 * (org.gnu.gdb.aarch64.core and .fpu, then kvmdbg's system registers). */
#ifndef KVMDBG_ARCH_ARM64_REGS_H
#define KVMDBG_ARCH_ARM64_REGS_H

#include <stdbool.h>
#include <stdint.h>

enum arm64_gdb_regno {
	ARM64_GDB_X0 = 0, /* x0..x30 */
	ARM64_GDB_X29 = 29,
	ARM64_GDB_X30 = 30,
	ARM64_GDB_SP = 31, /* the stack pointer PSTATE.SP selects */
	ARM64_GDB_PC = 32,
	ARM64_GDB_CPSR = 33, /* PSTATE, 32 bits */
	ARM64_GDB_V0 = 34,   /* v0..v31, 128 bits */
	ARM64_GDB_FPSR = 66,
	ARM64_GDB_FPCR = 67,
	ARM64_GDB_SCTLR_EL1 = 68,
	ARM64_GDB_TCR_EL1,
	ARM64_GDB_TTBR0_EL1,
	ARM64_GDB_TTBR1_EL1,
	ARM64_GDB_MAIR_EL1,
	ARM64_GDB_VBAR_EL1,
	ARM64_GDB_ESR_EL1,
	ARM64_GDB_FAR_EL1,
	ARM64_GDB_ELR_EL1,
	ARM64_GDB_SPSR_EL1,
	ARM64_GDB_SP_EL0,
	ARM64_GDB_SP_EL1,
	ARM64_GDB_MPIDR_EL1,
	ARM64_GDB_NR_REGS
};

/* Cache parts: each is loaded with one ONE_REG call per register. */
#define ARM64_PART_CORE (1u << 0) /* x, pc, pstate, sp_el0/1, elr, spsr */
#define ARM64_PART_FP (1u << 1)	  /* v0-v31, fpsr, fpcr */
#define ARM64_PART_SYS (1u << 2)  /* the EL1 system registers */
#define ARM64_PART_ALL 7u

/* The vCPU behind the cache: KVM_GET_ONE_REG / KVM_SET_ONE_REG of id into
 * or from val (8 or 16 bytes, as the id's size says). 0 or -errno. */
struct arm64_reg_io {
	int (*get)(void *ctx, uint64_t id, void *val);
	int (*set)(void *ctx, uint64_t id, const void *val);
	void *ctx;
};

struct arm64_cpu_state {
	uint64_t val[ARM64_GDB_NR_REGS][2]; /* [1]: v registers' high half */
	uint64_t valid[2]; /* a bit per gdb regno: holds the vCPU's value */
	uint64_t dirty[2]; /* a bit per gdb regno: to write back */
};

unsigned arm64_gdb_nr_regs(void);
/* Bytes in the 'g' packet, 0 past the end. */
unsigned arm64_gdb_reg_size(unsigned regno);
/* target.xml; NULL for any other annex. */
const char *arm64_gdb_features_xml(const char *annex);
/* The part of the cache regno lives in. */
unsigned arm64_gdb_reg_part(unsigned regno);
/* KVM's ONE_REG id for a stored register (not ARM64_GDB_SP, which is
 * sp_el0 or sp_el1 by PSTATE), 0 for none. */
uint64_t arm64_kvm_reg_id(unsigned regno);

/* Load the registers of these parts not loaded yet. 0 or the first
 * -errno. */
int arm64_state_load(const struct arm64_reg_io *io, struct arm64_cpu_state *s,
		     unsigned parts);
/* Load what reading or writing one register needs: the register itself,
 * and for ARM64_GDB_SP PSTATE and both stack pointers. */
int arm64_state_load_reg(const struct arm64_reg_io *io,
			 struct arm64_cpu_state *s, unsigned regno);
/* Write back what changed. A register KVM refuses is reloaded from KVM, so
 * the cache shows what the vCPU really holds. 0 or the first -errno. */
int arm64_state_flush(const struct arm64_reg_io *io,
		      struct arm64_cpu_state *s);
void arm64_state_invalidate(struct arm64_cpu_state *s);

/* gdb's view, in target byte order (little-endian); the parts must be
 * loaded (arm64_gdb_reg_part). A write marks the register dirty only when
 * it changes it. */
int arm64_gdb_read_reg(const struct arm64_cpu_state *s, unsigned regno,
		       uint8_t *buf);
int arm64_gdb_write_reg(struct arm64_cpu_state *s, unsigned regno,
			const uint8_t *buf);
/* Direct access by regno (ARM64_GDB_SP resolved by PSTATE). */
uint64_t arm64_reg_get(const struct arm64_cpu_state *s, unsigned regno);
void arm64_reg_set(struct arm64_cpu_state *s, unsigned regno, uint64_t v);

#endif
