/* A guest for breakpoint, stepping and memory tests: a counted loop over
 * small named functions, then a checksum of the image so a test can prove
 * a debugger left guest memory exactly as a debugger-free run does. */
#include "guest.h"

#define DEFAULT_ITERS 100

volatile unsigned long counter;
volatile unsigned long total;
unsigned char buffer[64];

/* Non-static, so declared here for -Wmissing-prototypes; debuggers find them
 * by name. */
void tick(void);
void accumulate(unsigned long v);
void fill_buffer(unsigned n);
uint64_t image_checksum(void);

/* Bounds of the checksummed image, from guest.ld. */
extern const unsigned char _image_start[], _image_end[];

GUEST_PARK_APS()

__attribute__((noinline)) void tick(void)
{
	counter++;
}

__attribute__((noinline)) void accumulate(unsigned long v)
{
	total += v;
}

__attribute__((noinline)) void fill_buffer(unsigned n)
{
	unsigned k;

	for (k = 0; k < 8; k++)
		buffer[(n + k) % sizeof(buffer)] = (unsigned char)(n * 8 + k);
}

/*
 * FNV-1a over 64-bit little-endian words of [.text, end of .bss): text,
 * read-only data, data and bss, but not the boot tables or the stacks
 * (guest.ld keeps those outside). All state is in registers or on the stack,
 * so the hash does not cover its own variables. Whole words keep it to a
 * few thousand emulated instructions.
 */
__attribute__((noinline)) uint64_t image_checksum(void)
{
	const uint64_t *p = (const uint64_t *)(const void *)_image_start;
	const uint64_t *end = (const uint64_t *)(const void *)_image_end;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; p < end; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int main(const struct hvm_start_info *si)
{
	unsigned long iters = DEFAULT_ITERS;
	unsigned long i;

	if (guest_cmdline_ulong(guest_cmdline(si), "iters", &iters))
		iters = DEFAULT_ITERS;
	for (i = 0; i < iters; i++) {
		tick();
		accumulate(i);
		fill_buffer((unsigned)i);
	}
	guest_printf("loop: iters=%lu counter=%lu total=%lu\n", iters, counter,
		     total);
	guest_printf("loop: checksum=0x%016lx\n", image_checksum());
	return 0;
}
