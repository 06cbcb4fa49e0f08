/* x86_64 registers for the debugger: a lazily loaded per-vCPU cache of KVM's
 * register state, and gdb's amd64 register layout on top of it. */
#ifndef KVMDBG_ARCH_X86_64_REGS_H
#define KVMDBG_ARCH_X86_64_REGS_H

#include <stdint.h>
#include <linux/kvm.h>

/*
 * The parts of the cache, one per KVM ioctl pair, so reading rip costs one
 * KVM_GET_REGS and nothing else.
 *
 * The FPU part uses KVM_GET_XSAVE/KVM_SET_XSAVE, not KVM_GET_FPU: x86 KVM's
 * KVM_GET_FPU never fills in kvm_fpu.mxcsr and KVM_SET_FPU ignores it (a
 * known, unfixed wart of that ioctl), and KVM_SET_FPU cannot set the
 * XSTATE_BV bits that make a write to x87 or SSE state stick when the guest
 * had left that state in its init configuration.
 */
#define X86_STATE_REGS (1ULL << 0)  /* KVM_GET_REGS: GPRs, rip, rflags */
#define X86_STATE_SREGS (1ULL << 1) /* KVM_GET_SREGS: segments, CRs, EFER */
#define X86_STATE_FPU (1ULL << 2)   /* KVM_GET_XSAVE: x87, SSE, MXCSR */
#define X86_STATE_ALL (X86_STATE_REGS | X86_STATE_SREGS | X86_STATE_FPU)

/*
 * What KVM_GET_XSAVE/KVM_SET_XSAVE transfer: the standard (non-compacted)
 * XSAVE layout, the FXSAVE64 image in the first 512 bytes and the XSAVE
 * header at 512. struct kvm_xsave itself now ends in a flexible array for
 * KVM_GET_XSAVE2 and cannot be a member of another struct in ISO C. 4 KiB
 * covers every component but AMX tile data; KVM_SET_XSAVE reads more only
 * after the VM was granted AMX (ARCH_REQ_XCOMP_GUEST_PERM), which kvmdbg
 * never asks for.
 */
struct x86_xsave_area {
	uint32_t region[1024];
};

struct x86_cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct x86_xsave_area xsave;
	uint64_t valid; /* X86_STATE_* parts that hold the vCPU's values */
	uint64_t dirty; /* parts to write back before the vCPU runs */
	/* The last KVM_SET_GUEST_DEBUG this vCPU got, to skip repeating an
	 * unchanged one. */
	struct kvm_guest_debug applied_debug;
	bool debug_applied;
	/* KVM_GET_MP_STATE, once per stop (thread lists ask at every stop). */
	struct kvm_mp_state mp;
	bool mp_valid;
};

/*
 * Load the parts in `parts` that are not valid yet (a dirty part is valid and
 * is never overwritten). Returns 0 or a negative errno from the failing
 * ioctl; parts loaded before the failure stay valid.
 */
int x86_state_load(int vcpu_fd, struct x86_cpu_state *s, uint64_t parts);

/*
 * Write every dirty part back, sregs first so that regs written afterwards
 * win over any side effect of a mode change. KVM validates what it is given
 * (CR0/CR4/EFER combinations, MXCSR reserved bits): a part it rejects is
 * dropped from the cache, valid and dirty both cleared, so the next load
 * shows the vCPU's real values instead of the refused ones. The other dirty
 * parts are still written. Returns 0 or the first negative errno. Afterwards
 * nothing is dirty.
 *
 * Note that KVM_SET_REGS discards an exception KVM had queued for the guest;
 * that is why only dirty parts are written, and why x86_gdb_write_reg() does
 * not mark a part dirty for a write that changes nothing.
 */
int x86_state_flush(int vcpu_fd, struct x86_cpu_state *s);

/* Forget everything cached, after the vCPU ran. Flush first: dirty parts
 * are discarded too. */
void x86_state_invalidate(struct x86_cpu_state *s);

/*
 * gdb's register numbers for "i386:x86-64". 0-56 are gdb's amd64 numbering
 * (the org.gnu.gdb.i386.core and .sse features), so gdb's built-in knowledge
 * of rip, rsp and the x87 registers applies; then the org.gnu.gdb.i386.segments
 * bases and kvmdbg's own org.kvmdbg.x86.system feature. The layout is the
 * same whatever mode the guest runs in, 32-bit PVH entry code included, so
 * the 'g' packet always has the size gdb computed from target.xml.
 */
enum x86_gdb_regno {
	X86_GDB_RAX = 0,
	X86_GDB_RBX,
	X86_GDB_RCX,
	X86_GDB_RDX,
	X86_GDB_RSI,
	X86_GDB_RDI,
	X86_GDB_RBP,
	X86_GDB_RSP,
	X86_GDB_R8,
	X86_GDB_R9,
	X86_GDB_R10,
	X86_GDB_R11,
	X86_GDB_R12,
	X86_GDB_R13,
	X86_GDB_R14,
	X86_GDB_R15,
	X86_GDB_RIP = 16,
	X86_GDB_EFLAGS,
	X86_GDB_CS,
	X86_GDB_SS,
	X86_GDB_DS,
	X86_GDB_ES,
	X86_GDB_FS,
	X86_GDB_GS,
	X86_GDB_ST0 = 24, /* st0..st7 follow */
	X86_GDB_FCTRL = 32,
	X86_GDB_FSTAT,
	X86_GDB_FTAG,
	X86_GDB_FISEG,
	X86_GDB_FIOFF,
	X86_GDB_FOSEG,
	X86_GDB_FOOFF,
	X86_GDB_FOP,
	X86_GDB_XMM0 = 40, /* xmm0..xmm15 follow */
	X86_GDB_MXCSR = 56,
	X86_GDB_FS_BASE = 57,
	X86_GDB_GS_BASE,
	X86_GDB_CR0 = 59,
	X86_GDB_CR2,
	X86_GDB_CR3,
	X86_GDB_CR4,
	X86_GDB_CR8,
	X86_GDB_EFER,
	X86_GDB_NR_REGS /* 65 */
};

#define X86_GDB_MAX_REG_SIZE 16 /* xmm */

unsigned x86_gdb_nr_regs(void);
/* Size in bytes of register regno in the 'g'/'p' packets; 0 if none. */
unsigned x86_gdb_reg_size(unsigned regno);
/* The X86_STATE_* parts register regno lives in; 0 if there is no such
 * register. Load them before reading or writing it. */
uint64_t x86_gdb_reg_parts(unsigned regno);

/*
 * The one self-contained target description for annex "target.xml": the
 * amd64 features inline, no xi:include, with lldb's extra attributes
 * (generic, dwarf_regnum, ehframe_regnum, altname, group). NULL for any
 * other annex, or if the document could not be built. The string is built
 * once and lives as long as the process.
 */
const char *x86_gdb_features_xml(const char *annex);

/*
 * Copy register regno, in gdb's encoding (little-endian, x86_gdb_reg_size()
 * bytes), into buf. Returns 0, -EINVAL for an unknown regno, or -ENODATA when
 * the part holding it is not loaded.
 *
 * st0-st7 are the 80-bit values in stack order (FXSAVE keeps ST(i), not the
 * physical registers). ftag is the full x87 tag word, rebuilt from the
 * abridged FXSAVE tag byte, TOP and the register contents, as FSAVE would
 * store it. In the 64-bit FXSAVE image the x87 instruction and operand
 * pointers are 64-bit offsets with no selectors; as gdb itself does for
 * amd64, fioff/fooff carry their low 32 bits and fiseg/foseg the high 32.
 */
int x86_gdb_read_reg(const struct x86_cpu_state *s, unsigned regno,
		     uint8_t *buf);

/*
 * Store buf (gdb's encoding) into register regno of the cache and mark its
 * part dirty; a value equal to the current one changes nothing. Returns 0,
 * -EINVAL for an unknown regno or a value the register cannot hold, or
 * -ENODATA when the part is not loaded (writing into an unloaded part would
 * later flush garbage into its other registers).
 *
 * Values checked here: eflags must leave reserved bits clear (bit 1 is set
 * for the caller); selectors, fctrl, fstat and ftag fit in 16 bits, fop in
 * 11; mxcsr respects the CPU's MXCSR_MASK; fs_base/gs_base are canonical;
 * cr8 is 0-15. Limits:
 * - Writing a segment selector changes only the selector: unlike a mov to
 *   the segment register, the hidden base, limit and attributes are not
 *   reloaded from the GDT, so CPL and code size do not change.
 * - cr0, cr3, cr4 and efer go to KVM as given; KVM refuses invalid
 *   combinations when the part is flushed (see x86_state_flush()). A caller
 *   that wants the error in the write's reply flushes right away.
 * - ftag is abridged as FXSAVE keeps it: empty (11) or not. The other tag
 *   values are recomputed from the contents on the next read.
 * - Writing st0-st7 does not change their tags.
 */
int x86_gdb_write_reg(struct x86_cpu_state *s, unsigned regno,
		      const uint8_t *buf);

#endif
