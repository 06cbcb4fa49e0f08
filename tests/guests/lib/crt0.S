/* Boot code shared by every test guest: the PVH 32-bit entry (_start32) and
 * the native 64-bit entry (_start64) both end in guest_start() on the stack
 * of the CPU whose initial APIC ID they read from CPUID. */
#include "guest.h"

/*
 * Static tables: every vCPU enters here at once under kvmdbg, so nothing is
 * built at run time and no CPU waits for another. Accessed and dirty bits
 * are preset so the CPU never writes to these pages.
 */
#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A 0x020
#define PTE_D 0x040
#define PTE_PS 0x080
#define PTE_TABLE (PTE_P | PTE_RW | PTE_A)
#define PTE_2M (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS)

	.section .boot.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_TABLE
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_TABLE
	.quad pd + 0x1000 + PTE_TABLE
	.quad pd + 0x2000 + PTE_TABLE
	.quad pd + 0x3000 + PTE_TABLE
	.fill 508, 8, 0
	/* 2048 2 MiB pages identity-map 0-4 GiB; the top GiB holds the
	 * LAPIC, IOAPIC and other MMIO and is mapped uncached. */
pd:
	.set addr, 0
	.rept 1536
	.quad addr + PTE_2M
	.set addr, addr + 0x200000
	.endr
	.rept 512
	.quad addr + PTE_2M + PTE_PCD + PTE_PWT
	.set addr, addr + 0x200000
	.endr

	.section .boot.data, "aw"
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code, accessed */
	.quad 0x00cf93000000ffff	/* 0x10: flat data, accessed */
gdt_end:
	.balign 8
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt
	/* m16:32 far pointer for the jump from _start64 to our own CS. */
far_common64:
	.long common64
	.word GDT_CODE64

	.section .stack, "aw", @nobits
	.balign 16
	.globl guest_stacks
guest_stacks:
	.skip GUEST_MAX_CPUS * GUEST_STACK_SIZE

	.section .text.boot, "ax"

/*
 * PVH entry: 32-bit protected mode, paging off, ebx = struct
 * hvm_start_info. No stack yet, so this code uses registers only.
 */
	.code32
	.globl _start32
	.type _start32, @function
_start32:
	cli
	cld
	movl %ebx, %edi			/* start_info; cpuid clobbers ebx */
	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movl %ebx, %esi			/* initial APIC ID */

	lgdt gdt_desc
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $from32
	.size _start32, . - _start32

	.code64
from32:
	/* The upper halves of registers are undefined after the switch. */
	movl %edi, %edi
	movl %esi, %esi
	jmp common64

/*
 * Native 64-bit entry: long mode with the VMM's page tables and GDT,
 * rdi = struct hvm_start_info, rsp = 0. Switch to our own GDT so the
 * selectors in GDT_CODE64/GDT_DATA hold, but keep the VMM's page tables.
 */
	.globl _start64
	.type _start64, @function
_start64:
	cli
	cld
	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movl %ebx, %esi			/* initial APIC ID; rdi is untouched */
	lgdt gdt_desc(%rip)
	ljmpl *far_common64(%rip)
	.size _start64, . - _start64

/* rdi = start_info, rsi = CPU index. */
common64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	cmpq $GUEST_MAX_CPUS, %rsi
	jae park
	leaq 1(%rsi), %rax
	shlq $GUEST_STACK_SHIFT, %rax
	leaq guest_stacks(%rip), %rsp
	addq %rax, %rsp
	xorl %ebp, %ebp			/* terminates frame-pointer backtraces */
	call guest_start
park:
	cli
	hlt
	jmp park
