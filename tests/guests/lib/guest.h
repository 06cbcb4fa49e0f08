/* Support library shared by the freestanding x86_64 test guests: boot
 * contract, port I/O, console, exit, CPU identification and locking. */
#ifndef KVMDBG_GUEST_H
#define KVMDBG_GUEST_H

/* Constants shared with the assembly in crt0.S and isr.S. */
#define GUEST_MAX_CPUS 8
#define GUEST_STACK_SHIFT 14 /* 16 KiB per CPU */
#define GUEST_STACK_SIZE (1 << GUEST_STACK_SHIFT)

#define GDT_CODE64 0x08
#define GDT_DATA 0x10

#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100

/* Ports of the devices every guest relies on. */
#define COM1_PORT 0x3f8
#define DEBUG_EXIT_PORT 0xf4

#ifndef __ASSEMBLER__

#include <stdint.h>

/* Port I/O. */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* cpu_index() is the initial APIC ID, CPUID.1:EBX[31:24]; cpu_count() is
 * CPUID.1:EBX[23:16], at least 1 (QEMU reports 0 for a single CPU because
 * it leaves the HTT field unset). */
#define GUEST_CONSOLE_LOCK_ATTR
#include "guest_common.h"

/* Called by crt0 on a fresh per-CPU stack; cpu is the initial APIC ID. */
void guest_start(const struct hvm_start_info *si, unsigned cpu)
    __attribute__((noreturn));

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a,
			 uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v),
			   "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Interrupt descriptor table (idt.c, isr.S). isr.S builds the frame below
 * on the interrupted stack; the handler may not switch stacks. */
struct isr_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*isr_handler_fn)(struct isr_frame *frame);

/* Fills all 256 gates with the stubs from isr.S and loads the IDT. Vectors
 * without a handler print a message and exit with GUEST_EXIT_UNHANDLED. */
void idt_init(void);
void idt_set_handler(unsigned vector, isr_handler_fn fn);
/* Called by isr.S only. */
void isr_dispatch(struct isr_frame *frame);

#define GUEST_EXIT_UNHANDLED 0x7f

#endif /* __ASSEMBLER__ */
#endif
