/* arm64 arch internals shared between machine.c and debug.c. */
#ifndef KVMDBG_ARCH_ARM64_ARM64_H
#define KVMDBG_ARCH_ARM64_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/debug_enc.h"
#include "arch/arm64/regs.h"

struct vcpu;
struct arch_debug;
struct arch_classify_ctx;
struct arch_verdict;
struct vmm_event;

/* Per-vCPU state (vcpu->arch_state): the register cache and the debug
 * registers last handed to KVM, which the classifier matches hits against. */
struct arm64_vcpu {
	struct arm64_cpu_state regs;
	struct arm64_kvm_guest_debug_arch hw;
	bool hw_in_use;
	bool single_step;
};

/* The vCPU's register cache with `regno` loaded (ARM64_GDB_NR_REGS: none),
 * NULL when KVM refused. */
struct arm64_cpu_state *arm64_vcpu_regs(struct vcpu *v, unsigned regno);
int arm64_vcpu_load_parts(struct vcpu *v, unsigned parts);

unsigned arm64_gdb_expedited(unsigned *regnos, unsigned max);
int arm64_vcpu_read_reg(struct vcpu *v, unsigned regno, uint8_t *buf);
int arm64_vcpu_write_reg(struct vcpu *v, unsigned regno, const uint8_t *buf);
int arm64_vcpu_get_pc(struct vcpu *v, uint64_t *pc);
int arm64_vcpu_set_pc(struct vcpu *v, uint64_t pc);
int arm64_vcpu_state_flush(struct vcpu *v);
void arm64_vcpu_state_invalidate(struct vcpu *v);

extern const uint8_t arm64_sw_trap[4];
bool arm64_bank_fits(void *ctx, int type, uint64_t addr, uint64_t len);
int arm64_vcpu_set_debug(struct vcpu *v, const struct arch_debug *dbg);
int arm64_vcpu_decode_abort(struct vcpu *v, uint64_t *gpa, unsigned *len,
			    bool *is_write);
int arm64_vcpu_classify(struct vcpu *v, const struct vmm_event *ev,
			const struct arch_classify_ctx *ctx,
			struct arch_verdict *out);

/* Host debug register counts (KVM_CAP_GUEST_DEBUG_HW_BPS/_WPS), read when
 * the VM is built; 0 before. */
extern unsigned arm64_host_bps, arm64_host_wps;

#endif
