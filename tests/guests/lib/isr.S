/* Interrupt and exception entry stubs for all 256 vectors, 16 bytes apart
 * from isr_stubs, and the common path into isr_dispatch(). */
#include "guest.h"

#define ISR_STUB_SIZE 16

	.text
	.balign ISR_STUB_SIZE
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign ISR_STUB_SIZE
	/* Give every frame the same layout: push a zero where the CPU pushes
	 * no error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX push
	 * one). */
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

/* The CPU aligned rsp to 16 before pushing its 5-word frame; with the error
 * code, the vector and 9 registers, rsp is 16-byte aligned at the call. */
isr_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq %rsp, %rdi
	cld
	call isr_dispatch
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq
