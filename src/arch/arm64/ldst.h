/* How many bytes an A64 load or store touches, from its encoding alone:
 * what a VMM needs when KVM reports a data abort without a syndrome
 * (KVM_EXIT_ARM_NISV: pairs, writeback forms, SIMD, exclusives, atomics),
 * to tell whether the access overlaps a watched range. Pure; tested on
 * any host. */
#ifndef KVMDBG_ARCH_ARM64_LDST_H
#define KVMDBG_ARCH_ARM64_LDST_H

#include <stdint.h>

/*
 * The number of contiguous bytes from the access's first address that
 * insn reads or writes: 1-64 (LD4/ST4 of four Q registers); 0 for a
 * prefetch; -1 for anything that is not a load or store this decoder
 * knows (then the caller knows only the faulting byte).
 */
int arm64_ldst_size(uint32_t insn);

#endif
