/* arm64 guest entry. The VMM (kvmdbg or QEMU virt) enters _start on CPU 0
 * at EL1h with the MMU off and x0 = the device tree; the others start at
 * _start_secondary through PSCI CPU_ON with x0 = their index. Each CPU
 * takes its own 16 KiB stack, installs the vector table, turns the MMU on
 * over an identity map (device memory below 1 GiB, normal memory from RAM
 * up), so atomics and unaligned accesses behave, and calls C. */
#include "guest.h"

#define PTE_BLOCK 0x1
#define PTE_ATTR_DEVICE (0 << 2)	/* MAIR attr 0: Device-nGnRnE */
#define PTE_ATTR_NORMAL (1 << 2)	/* MAIR attr 1: Normal write-back */
#define PTE_SH_INNER (3 << 8)
#define PTE_AF (1 << 10)
#define PTE_XN_DEVICE (3 << 53)		/* PXN, UXN */

#define MAIR_VALUE 0xff00
/* T0SZ 32 (4 GiB), inner/outer write-back walks, inner shareable, 4 KiB
 * granule, TTBR1 walks disabled, 32-bit physical addresses. */
#define TCR_VALUE 0x803520
#define SCTLR_M (1 << 0)
#define SCTLR_C (1 << 2)
#define SCTLR_I (1 << 12)

	.section .text.boot, "ax"
	.global _start
_start:
	mov	x19, x0			/* the device tree */
	mrs	x20, mpidr_el1
	and	x20, x20, #0xff
	bl	build_tables
	bl	cpu_setup
	mov	x0, x19
	mov	w1, w20
	bl	guest_start
1:	wfi
	b	1b

	.global _start_secondary
_start_secondary:
	mov	x20, x0
	bl	cpu_setup
	mov	w0, w20
	bl	guest_start_secondary
1:	wfi
	b	1b

/* x20 = CPU index: stack, vectors, FP/SIMD access, MMU. */
cpu_setup:
	cmp	x20, #GUEST_MAX_CPUS
	b.hs	park
	adrp	x1, guest_stacks
	add	x1, x1, :lo12:guest_stacks
	add	x2, x20, #1
	lsl	x2, x2, #GUEST_STACK_SHIFT
	add	sp, x1, x2
	adrp	x1, vectors
	add	x1, x1, :lo12:vectors
	msr	vbar_el1, x1
	mov	x1, #(3 << 20)		/* CPACR_EL1.FPEN: no FP traps */
	msr	cpacr_el1, x1
	ldr	x1, =MAIR_VALUE
	msr	mair_el1, x1
	ldr	x1, =TCR_VALUE
	msr	tcr_el1, x1
	adrp	x1, guest_l1_table
	msr	ttbr0_el1, x1
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	mrs	x1, sctlr_el1
	ldr	x2, =(SCTLR_M | SCTLR_C | SCTLR_I)
	orr	x1, x1, x2
	msr	sctlr_el1, x1
	isb
	ret

park:
	msr	daifset, #0xf
1:	wfi
	b	1b

/* Four 1 GiB blocks: devices, then RAM and whatever follows it. */
build_tables:
	adrp	x1, guest_l1_table
	ldr	x2, =(PTE_BLOCK | PTE_ATTR_DEVICE | PTE_AF | PTE_XN_DEVICE)
	str	x2, [x1]
	ldr	x2, =(0x40000000 | PTE_BLOCK | PTE_ATTR_NORMAL | PTE_SH_INNER | PTE_AF)
	mov	x3, #1
	mov	x4, #0x40000000
2:	str	x2, [x1, x3, lsl #3]
	add	x2, x2, x4
	add	x3, x3, #1
	cmp	x3, #4
	b.lo	2b
	dsb	sy
	ret

	.section .pagetables, "aw", @nobits
	.balign 4096
	.global guest_l1_table
guest_l1_table:
	.skip 4096

	.section .stack, "aw", @nobits
	.balign 16
	.global guest_stacks
guest_stacks:
	.skip GUEST_STACK_SIZE * GUEST_MAX_CPUS
