/* The debugger's view of an x86_64 vCPU: gdb-numbered registers served
 * from a per-vCPU cache that is filled on demand while the vCPU is parked
 * and written back before it runs. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/x86.h"
#include "vmm/vmm_internal.h"

struct x86_cpu_state *x86_vcpu_state(struct vcpu *v, uint64_t parts)
{
	struct x86_cpu_state *s = v->arch_state;

	if (!s || x86_state_load(v->fd, s, parts) < 0)
		return NULL;
	return s;
}

unsigned x86_gdb_expedited(unsigned *regnos, unsigned max)
{
	/* The pc must come first: the session takes the first expedited
	 * register as the pc (rsp_target_ops: "pc, sp, fp"), e.g. for lldb's
	 * thread-pcs, which carried rbp while rbp was listed first. */
	static const unsigned exp[] = { X86_GDB_RIP, X86_GDB_RSP, X86_GDB_RBP };
	unsigned n = max < 3 ? max : 3;

	memcpy(regnos, exp, n * sizeof(exp[0]));
	return n;
}

int x86_vcpu_read_reg(struct vcpu *v, unsigned regno, uint8_t *buf)
{
	struct x86_cpu_state *s;

	if (regno >= x86_gdb_nr_regs())
		return -EINVAL;
	s = x86_vcpu_state(v, x86_gdb_reg_parts(regno));
	if (!s)
		return -EIO;
	return x86_gdb_read_reg(s, regno, buf);
}

int x86_vcpu_write_reg(struct vcpu *v, unsigned regno, const uint8_t *buf)
{
	struct x86_cpu_state *s;

	if (regno >= x86_gdb_nr_regs())
		return -EINVAL;
	s = x86_vcpu_state(v, x86_gdb_reg_parts(regno));
	if (!s)
		return -EIO;
	return x86_gdb_write_reg(s, regno, buf);
}

int x86_vcpu_get_pc(struct vcpu *v, uint64_t *pc)
{
	struct x86_cpu_state *s = x86_vcpu_state(v, X86_STATE_REGS);

	if (!s)
		return -EIO;
	*pc = s->regs.rip;
	return 0;
}

int x86_vcpu_state_flush(struct vcpu *v)
{
	return v->arch_state ? x86_state_flush(v->fd, v->arch_state) : 0;
}

void x86_vcpu_state_invalidate(struct vcpu *v)
{
	if (v->arch_state)
		x86_state_invalidate(v->arch_state);
}
