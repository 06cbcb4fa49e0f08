/* x86_64 arch internals shared between cpu.c and debug.c. */
#ifndef KVMDBG_ARCH_X86_64_X86_H
#define KVMDBG_ARCH_X86_64_X86_H

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

#endif
