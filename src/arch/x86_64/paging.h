/* Software walk of x86 guest page tables (Intel SDM vol. 3 ch. 4), so the
 * debugger can turn gdb's virtual addresses into guest-physical ones. */
#ifndef KVMDBG_ARCH_X86_64_PAGING_H
#define KVMDBG_ARCH_X86_64_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The control-register bits that select the paging mode. They carry the
 * module prefix so this header can be included next to others that name
 * the same architectural bits.
 */
#define X86_PAGING_CR0_PG (1ULL << 31)
#define X86_PAGING_CR4_PSE (1ULL << 4)
#define X86_PAGING_CR4_PAE (1ULL << 5)
#define X86_PAGING_CR4_LA57 (1ULL << 12)
#define X86_PAGING_EFER_LME (1ULL << 8)
#define X86_PAGING_EFER_LMA (1ULL << 10)
#define X86_PAGING_EFER_NXE (1ULL << 11)

/* The registers that decide how a linear address is translated, as KVM
 * reports them in struct kvm_sregs. */
struct x86_paging_regs {
	uint64_t cr0, cr3, cr4, efer;
};

/*
 * Read len bytes of guest-physical memory at gpa into buf. Returns 0 or a
 * negative errno (-EFAULT when the range is outside guest RAM).
 */
typedef int (*x86_read_phys_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

struct x86_translation {
	uint64_t gpa; /* physical address of gva */
	/* 4 KiB, 2 MiB, 4 MiB or 1 GiB; 0 when paging is off. */
	uint64_t page_size;
	/*
	 * Effective permissions: the AND of the R/W and U/S bits of every
	 * level (CR0.WP, SMEP, SMAP and protection keys are not applied), and
	 * executable unless some level sets XD while EFER.NXE is on.
	 */
	bool writable, user, executable;
	/*
	 * Depth of the mode's paging hierarchy: 0 (paging off), 2 (32-bit),
	 * 3 (PAE), 4 (4-level) or 5 (5-level). A large page ends the walk
	 * early but does not change this number.
	 */
	int levels;
};

/*
 * Translate the linear address gva the way the CPU would with the given
 * registers, reading each paging-structure entry through rd. Nothing is
 * written to guest memory (accessed and dirty bits are left alone), and
 * *out is written only on success.
 *
 * The mode is chosen as in SDM table 4-1: CR0.PG clear means no paging;
 * otherwise CR4.PAE clear means 32-bit paging, EFER.LMA clear means PAE,
 * and CR4.LA57 picks 5-level over 4-level. Outside long mode only the low
 * 32 bits of gva are used. PAE PDPTEs are read from memory at CR3, not
 * from the PDPTE registers the CPU loaded when CR3 was written.
 *
 * Returns 0; -EFAULT when gva is not mapped (an entry is not present, gva
 * is not canonical in long mode, or an entry sets a reserved bit, which
 * includes XD while EFER.NXE is clear and PS in a PML4E or PML5E); or the
 * error from rd when a paging structure cannot be read.
 */
int x86_paging_translate(const struct x86_paging_regs *r, uint64_t gva,
			 x86_read_phys_fn rd, void *ctx,
			 struct x86_translation *out);

/* "none", "32-bit", "PAE", "4-level" or "5-level", chosen as above. */
const char *x86_paging_mode_name(const struct x86_paging_regs *r);

#endif
