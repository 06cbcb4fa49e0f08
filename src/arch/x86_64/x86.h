/* x86_64 arch internals shared between cpu.c and debug.c. */
#ifndef KVMDBG_ARCH_X86_64_X86_H
#define KVMDBG_ARCH_X86_64_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/regs.h"

struct vcpu;

/* The vCPU's register cache, loaded with at least `parts`; NULL when KVM
 * refused to give the registers. */
struct x86_cpu_state *x86_vcpu_state(struct vcpu *v, uint64_t parts);

unsigned x86_gdb_expedited(unsigned *regnos, unsigned max);
int x86_vcpu_read_reg(struct vcpu *v, unsigned regno, uint8_t *buf);
int x86_vcpu_write_reg(struct vcpu *v, unsigned regno, const uint8_t *buf);
int x86_vcpu_get_pc(struct vcpu *v, uint64_t *pc);
int x86_vcpu_state_flush(struct vcpu *v);
void x86_vcpu_state_invalidate(struct vcpu *v);

struct arch_debug;
struct arch_classify_ctx;
struct arch_verdict;
struct vmm_event;
struct vmm_step_range;

extern const uint8_t x86_sw_trap[1];
bool x86_bank_fits(void *ctx, int type, uint64_t addr, uint64_t len);
int x86_vcpu_set_debug(struct vcpu *v, const struct arch_debug *dbg);
int x86_vcpu_set_pc(struct vcpu *v, uint64_t pc);
int x86_vcpu_emulate_step(struct vcpu *v);
bool x86_vcpu_step_on(struct vcpu *v, const struct vmm_step_range *r);
int x86_vcpu_classify(struct vcpu *v, const struct vmm_event *ev,
		      const struct arch_classify_ctx *ctx,
		      struct arch_verdict *out);

#endif
