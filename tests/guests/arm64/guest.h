/* Support library of the arm64 test guests: the same interface the x86_64
 * guests have (tests/guests/lib/guest.h), so hello.c, loop.c, smp.c and
 * spin.c build unchanged, on a PL011 console, PSCI and an exception vector
 * table. */
#ifndef KVMDBG_GUEST_H
#define KVMDBG_GUEST_H

#define GUEST_MAX_CPUS 8
#define GUEST_STACK_SHIFT 14 /* 16 KiB per CPU */
#define GUEST_STACK_SIZE (1 << GUEST_STACK_SHIFT)

/* QEMU virt's devices, which kvmdbg's arm64 machine has at the same
 * addresses, plus kvmdbg's exit device (a hole on QEMU). */
#define PL011_BASE 0x09000000UL
#define EXIT_DEVICE 0x09100000UL
#define RAM_BASE 0x40000000UL

/* PSCI 0.2 function IDs (SMC64 where there are both). */
#define PSCI_CPU_ON 0xc4000003UL
#define PSCI_AFFINITY_INFO 0xc4000004UL
#define PSCI_SYSTEM_OFF 0x84000008UL
#define PSCI_INVALID_PARAMETERS (-2L)

/* The exception frame vectors.S builds. */
#define FRAME_ELR 248
#define FRAME_SPSR 256
#define FRAME_ESR 264
#define FRAME_FAR 272
#define FRAME_SIZE 304

#ifndef __ASSEMBLER__

#include <stdint.h>

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

/* The virtual counter scaled to nanoseconds, under the x86 guests' name:
 * smp.c's time-outs are in "cycles" of about 1 ns. */
static inline uint64_t rdtsc(void)
{
	uint64_t cnt, frq;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(cnt));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frq));
	return frq ? cnt * (1000000000ULL / frq) : cnt;
}

long psci_call(unsigned long fn, unsigned long a1, unsigned long a2,
	       unsigned long a3);

/* cpu_index() is MPIDR_EL1 Aff0; cpu_count() the CPUs PSCI knows.
 * The console lock sits on a page of its own: a page a debugger protects
 * to watch a program's variable makes every access to it trap, and an
 * exclusive load/store pair that traps between its halves loses its
 * reservation, so the lock could spin for good. */
#define GUEST_CONSOLE_LOCK_ATTR __attribute__((aligned(4096)))
#include "guest_common.h"

/* Called by crt0 on a fresh per-CPU stack with the MMU on. CPU 0 passes
 * the device tree it was given in x0 (0 if none). */
void guest_start(uint64_t dtb, unsigned cpu) __attribute__((noreturn));
void guest_start_secondary(unsigned cpu) __attribute__((noreturn));

/* Exceptions (vectors.S): the frame, and a handler per exception class
 * (ESR_EL1.EC) of synchronous exceptions. Unhandled ones print and exit
 * with GUEST_EXIT_UNHANDLED. */
struct exc_frame {
	uint64_t x[31];
	uint64_t elr, spsr, esr, far;
};

typedef void (*exc_handler_fn)(struct exc_frame *frame);
void exc_set_handler(unsigned ec, exc_handler_fn fn);
/* Called by vectors.S only; kind is the vector's index (0-15). */
void exc_dispatch(struct exc_frame *frame, unsigned kind);

#define GUEST_EXIT_UNHANDLED 0x7f

#endif /* __ASSEMBLER__ */
#endif
