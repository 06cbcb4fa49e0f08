/* The test guests' interface that is the same on every architecture:
 * the boot information the programs read, exit, command line, console,
 * string functions and a lock. Each architecture's guest.h includes it
 * after defining cpu_relax() and GUEST_CONSOLE_LOCK_ATTR. */
#ifndef KVMDBG_GUEST_COMMON_H
#define KVMDBG_GUEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578

/* The PVH boot information block (Xen's struct hvm_start_info, version 1).
 * x86 guests get it from the VMM; arm64 ones fill one from the device
 * tree (the command line is /chosen/bootargs), so the programs read their
 * command line the same way everywhere. */
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

/* Ends the run with process status (v << 1) | 1 through the VMM's exit
 * device; where there is none the guest stops for good. */
void guest_exit(uint32_t v) __attribute__((noreturn));
/* Stops this CPU for good with interrupts off. */
void guest_park(void) __attribute__((noreturn));

/* The command line from start_info, or "" when there is none. */
const char *guest_cmdline(const struct hvm_start_info *si);
/* Finds "key=value" as a whole word of cmdline and parses value as a
 * decimal or 0x-prefixed number. Returns 0, or -1 if absent or malformed. */
int guest_cmdline_ulong(const char *cmdline, const char *key,
			unsigned long *out);

/* The console. serial_putc is the architecture's UART; guest_printf holds
 * a lock across one whole call, so lines from different CPUs do not
 * interleave. Supports %c %s %d %u %x %p %%, the l modifier, a width and
 * the 0 flag. */
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

/* This CPU's index and the number of CPUs. */
unsigned cpu_index(void);
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

#endif
