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

#define HVM_START_MAGIC 0x336ec578

/* Ports of the devices every guest relies on. */
#define COM1_PORT 0x3f8
#define DEBUG_EXIT_PORT 0xf4

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The PVH boot information block (Xen's struct hvm_start_info, version 1). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");

/*
 * Every guest program defines these two. crt0 runs main() on CPU 0 and
 * passes its return value to guest_exit(); every other vCPU runs ap_main().
 * Guests that use one CPU define ap_main with GUEST_PARK_APS().
 */
int main(const struct hvm_start_info *si);
void ap_main(unsigned cpu);

#define GUEST_PARK_APS()                                                       \
	void ap_main(unsigned cpu)                                             \
	{                                                                      \
		(void)cpu;                                                     \
		guest_park();                                                  \
	}

/* Called by crt0 on a fresh per-CPU stack; cpu is the initial APIC ID. */
void guest_start(const struct hvm_start_info *si, unsigned cpu)
    __attribute__((noreturn));

/* Ends the run with process status (v << 1) | 1 through the debug-exit
 * port; if nothing is listening there the CPU halts for good. */
void guest_exit(uint32_t v) __attribute__((noreturn));
/* Stops this CPU for good with interrupts off. */
void guest_park(void) __attribute__((noreturn));

/* The command line from start_info, or "" when there is none. */
const char *guest_cmdline(const struct hvm_start_info *si);
/* Finds "key=value" as a whole word of cmdline and parses value as a
 * decimal or 0x-prefixed number. Returns 0, or -1 if absent or malformed. */
int guest_cmdline_ulong(const char *cmdline, const char *key,
			unsigned long *out);

/* Console on COM1. guest_printf holds a lock across one whole call, so
 * lines from different CPUs do not interleave. Supports %c %s %d %u %x %p
 * %%, the l modifier, a width and the 0 flag. */
void serial_putc(char c);
void serial_write(const char *s, size_t len);
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Freestanding versions of what the compiler may call on its own. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

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

/* This CPU's index: its initial APIC ID, CPUID.1:EBX[31:24]. */
unsigned cpu_index(void);
/* The vCPU count from CPUID.1:EBX[23:16]; at least 1 (QEMU reports 0 for a
 * single CPU because it leaves the HTT field unset). */
unsigned cpu_count(void);

/* A test-and-test-and-set lock; enough for a handful of vCPUs. */
struct spinlock {
	volatile uint32_t locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
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
