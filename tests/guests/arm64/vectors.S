/* The exception vector table: 16 entries of 0x80 bytes (current EL with
 * SP0 and SPx, lower EL AArch64 and AArch32; synchronous, IRQ, FIQ,
 * SError each). Every entry saves x0/x1, loads its index and joins the
 * common path, which saves the rest into a struct exc_frame, calls
 * exc_dispatch(frame, index) and returns with the (possibly changed) ELR
 * and SPSR. */
#include "guest.h"

	.macro	vec_entry idx
	.balign	0x80
	stp	x0, x1, [sp, #-16]!
	mov	x0, #\idx
	b	vec_common
	.endm

	.text
	.balign	0x800
	.global	vectors
vectors:
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vec_entry \i
	.endr

vec_common:
	sub	sp, sp, #(FRAME_SIZE - 16)
	stp	x2, x3, [sp, #16]
	ldp	x2, x3, [sp, #(FRAME_SIZE - 16)]
	stp	x2, x3, [sp, #0]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #FRAME_ELR]
	mrs	x2, esr_el1
	mrs	x3, far_el1
	stp	x2, x3, [sp, #FRAME_ESR]
	mov	x1, x0
	mov	x0, sp
	bl	exc_dispatch
	ldp	x2, x3, [sp, #FRAME_ELR]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #FRAME_SIZE
	eret

	.global	psci_call
psci_call:
	hvc	#0
	ret
