/* Unit tests for the x86 page-table walker: synthetic paging structures in
 * a fake guest-physical memory, exact translations for every paging mode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/paging.h"

/*
 * Architectural bits, spelled out here rather than taken from paging.h so
 * a wrong constant in the header cannot hide behind a matching test.
 */
#define CR0_PE (1ULL << 0)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define P (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define PWT (1ULL << 3)
#define PCD (1ULL << 4)
#define A (1ULL << 5)
#define D (1ULL << 6)
#define PS (1ULL << 7)
#define G (1ULL << 8)
#define PAT_LARGE (1ULL << 12) /* PAT bit of a 2 MiB/4 MiB/1 GiB page */
#define NX (1ULL << 63)

#define TABLE (P | RW | US | A) /* a permissive non-leaf entry */
#define ADDR_MASK 0x000ffffffffff000ULL

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define SZ_4M 0x400000ULL
#define SZ_1G 0x40000000ULL

#define RAM_SIZE (4ULL << 20)

struct fake_ram {
	uint8_t *mem;
	uint64_t size;
	uint64_t next_table; /* bump allocator for paging structures */
	int oob_err;	     /* what a read outside RAM returns */
	unsigned int reads;
	unsigned int failed_reads;
};

static int fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake_ram *ram = ctx;

	ram->reads++;
	/* The walker reads whole, naturally aligned entries only. */
	assert_true(len == 4 || len == 8);
	assert_int_equal(gpa % len, 0);
	if (gpa > ram->size || len > ram->size - gpa) {
		ram->failed_reads++;
		return ram->oob_err;
	}
	memcpy(buf, ram->mem + gpa, len);
	return 0;
}

static void ram_reset(struct fake_ram *ram)
{
	memset(ram->mem, 0, ram->size);
	/* Tables start above 0 so a zeroed entry never points at one. */
	ram->next_table = SZ_4K;
	ram->oob_err = -EFAULT;
	ram->reads = 0;
	ram->failed_reads = 0;
}

static int setup(void **state)
{
	struct fake_ram *ram = calloc(1, sizeof(*ram));

	if (!ram)
		return -1;
	ram->size = RAM_SIZE;
	ram->mem = calloc(1, RAM_SIZE);
	if (!ram->mem) {
		free(ram);
		return -1;
	}
	ram_reset(ram);
	*state = ram;
	return 0;
}

static int teardown(void **state)
{
	struct fake_ram *ram = *state;

	free(ram->mem);
	free(ram);
	return 0;
}

static uint64_t new_table(struct fake_ram *ram)
{
	uint64_t gpa = ram->next_table;

	assert_true(gpa + SZ_4K <= ram->size);
	ram->next_table += SZ_4K;
	return gpa;
}

/* Guest memory is little-endian; store byte by byte. */
static void put(struct fake_ram *ram, uint64_t gpa, uint64_t v, size_t len)
{
	size_t i;

	assert_true(gpa + len <= ram->size);
	for (i = 0; i < len; i++)
		ram->mem[gpa + i] = (uint8_t)(v >> (8 * i));
}

static void put32(struct fake_ram *ram, uint64_t gpa, uint32_t v)
{
	put(ram, gpa, v, 4);
}

static void put64(struct fake_ram *ram, uint64_t gpa, uint64_t v)
{
	put(ram, gpa, v, 8);
}

static uint64_t get64(struct fake_ram *ram, uint64_t gpa)
{
	uint64_t v = 0;
	size_t i;

	assert_true(gpa + 8 <= ram->size);
	for (i = 0; i < 8; i++)
		v |= (uint64_t)ram->mem[gpa + i] << (8 * i);
	return v;
}

/*
 * Install gva in the 8-byte-entry hierarchy rooted at root, reusing tables
 * already present. top is the mode's depth (3 means PAE, whose top table
 * has four entries and PDPTEs hold only P); leaf is the level that maps
 * the page (1 = PTE, 2 = 2 MiB PDE, 3 = 1 GiB PDPTE). When ent is not
 * NULL, ent[level] receives the address of the entry used at each level so
 * a test can corrupt it. The hand-built tables in the 32-bit, PAE and
 * high-half tests check the index arithmetic this shares with the walker.
 */
static void map_page(struct fake_ram *ram, uint64_t root, int top, uint64_t gva,
		     int leaf, uint64_t leaf_entry, uint64_t table_flags,
		     uint64_t ent[6])
{
	uint64_t table = root;
	int level;

	for (level = top; level >= leaf; level--) {
		bool pdpt = top == 3 && level == 3;
		unsigned int shift = 12 + 9 * (unsigned int)(level - 1);
		uint64_t at = table + ((gva >> shift) & (pdpt ? 3 : 0x1ff)) * 8;
		uint64_t e;

		if (ent)
			ent[level] = at;
		if (level == leaf) {
			put64(ram, at, leaf_entry);
			return;
		}
		e = get64(ram, at);
		if (!(e & P)) {
			e = new_table(ram) | (pdpt ? P : table_flags);
			put64(ram, at, e);
		}
		table = e & ADDR_MASK;
	}
}

static void clear_bits(struct fake_ram *ram, uint64_t at, uint64_t bits)
{
	put64(ram, at, get64(ram, at) & ~bits);
}

static void set_bits(struct fake_ram *ram, uint64_t at, uint64_t bits)
{
	put64(ram, at, get64(ram, at) | bits);
}

static struct x86_paging_regs regs_32bit(uint64_t cr3, uint64_t cr4)
{
	return (struct x86_paging_regs){
	    .cr0 = CR0_PE | CR0_PG,
	    .cr3 = cr3,
	    .cr4 = cr4,
	};
}

static struct x86_paging_regs regs_pae(uint64_t cr3, uint64_t efer)
{
	return (struct x86_paging_regs){
	    .cr0 = CR0_PE | CR0_PG,
	    .cr3 = cr3,
	    .cr4 = CR4_PAE | CR4_PSE,
	    .efer = efer,
	};
}

static struct x86_paging_regs regs_long(uint64_t cr3, bool la57, uint64_t efer)
{
	return (struct x86_paging_regs){
	    .cr0 = CR0_PE | CR0_PG,
	    .cr3 = cr3,
	    .cr4 = CR4_PAE | CR4_PSE | (la57 ? CR4_LA57 : 0),
	    .efer = EFER_LME | EFER_LMA | efer,
	};
}

/*
 * Translate with a poisoned result so stale fields cannot pass a check,
 * and enforce the documented promise that a failure leaves *out alone.
 */
static int xlate(struct fake_ram *ram, const struct x86_paging_regs *r,
		 uint64_t gva, struct x86_translation *t)
{
	struct x86_translation poison;
	int ret;

	memset(&poison, 0xa5, sizeof(poison));
	*t = poison;
	ret = x86_paging_translate(r, gva, fake_read, ram, t);
	if (ret)
		assert_memory_equal(t, &poison, sizeof(poison));
	return ret;
}

static void check_ret(const char *file, int line, const char *what, int got,
		      int want)
{
	if (got == want)
		return;
	print_error("%s = %d (%s), want %d (%s)\n", what, got, strerror(-got),
		    want, strerror(-want));
	_fail(file, line);
}

#define ASSERT_RET(expr, want)                                                 \
	check_ret(__FILE__, __LINE__, #expr, (expr), (want))

static void check_xlate(const char *file, int line, uint64_t gva,
			const struct x86_translation *got,
			const struct x86_translation *want)
{
	if (got->gpa == want->gpa && got->page_size == want->page_size &&
	    got->writable == want->writable && got->user == want->user &&
	    got->executable == want->executable && got->levels == want->levels)
		return;
	print_error("translation of %#" PRIx64 ":\n"
		    "  got  gpa=%#" PRIx64 " size=%#" PRIx64
		    " w=%d u=%d x=%d levels=%d\n"
		    "  want gpa=%#" PRIx64 " size=%#" PRIx64
		    " w=%d u=%d x=%d levels=%d\n",
		    gva, got->gpa, got->page_size, got->writable, got->user,
		    got->executable, got->levels, want->gpa, want->page_size,
		    want->writable, want->user, want->executable, want->levels);
	_fail(file, line);
}

/* ASSERT_XLATE(ram, regs, gva, .gpa = ..., .page_size = ..., ...) */
#define ASSERT_XLATE(ram, regs, gva, ...)                                      \
	do {                                                                   \
		struct x86_translation got_;                                   \
		ASSERT_RET(xlate((ram), (regs), (gva), &got_), 0);             \
		check_xlate(__FILE__, __LINE__, (gva), &got_,                  \
			    &(struct x86_translation){__VA_ARGS__});           \
	} while (0)

#define ASSERT_XLATE_ERR(ram, regs, gva, err)                                  \
	do {                                                                   \
		struct x86_translation got_;                                   \
		ASSERT_RET(xlate((ram), (regs), (gva), &got_), (err));         \
	} while (0)

static void test_header_constants(void **state)
{
	(void)state;
	assert_int_equal(X86_PAGING_CR0_PG, CR0_PG);
	assert_int_equal(X86_PAGING_CR4_PSE, CR4_PSE);
	assert_int_equal(X86_PAGING_CR4_PAE, CR4_PAE);
	assert_int_equal(X86_PAGING_CR4_LA57, CR4_LA57);
	assert_int_equal(X86_PAGING_EFER_LME, EFER_LME);
	assert_int_equal(X86_PAGING_EFER_LMA, EFER_LMA);
	assert_int_equal(X86_PAGING_EFER_NXE, EFER_NXE);
}

static void test_mode_names(void **state)
{
	struct x86_paging_regs r = {.cr0 = CR0_PE};

	(void)state;
	/* PG decides first, whatever else is set. */
	r.cr4 = CR4_PAE | CR4_LA57;
	r.efer = EFER_LME | EFER_LMA;
	assert_string_equal(x86_paging_mode_name(&r), "none");

	r = regs_32bit(0, CR4_PSE);
	assert_string_equal(x86_paging_mode_name(&r), "32-bit");
	r = regs_pae(0, EFER_NXE);
	assert_string_equal(x86_paging_mode_name(&r), "PAE");
	/* LME without LMA is the moment before paging is turned on. */
	r.efer |= EFER_LME;
	assert_string_equal(x86_paging_mode_name(&r), "PAE");
	r = regs_long(0, false, 0);
	assert_string_equal(x86_paging_mode_name(&r), "4-level");
	r = regs_long(0, true, 0);
	assert_string_equal(x86_paging_mode_name(&r), "5-level");
}

static void test_paging_off(void **state)
{
	struct fake_ram *ram = *state;
	struct x86_paging_regs r = {
	    .cr0 = CR0_PE,
	    .cr3 = 0xdead000, /* must not be used */
	    .cr4 = CR4_PAE | CR4_PSE,
	    .efer = EFER_NXE,
	};

	ASSERT_XLATE(ram, &r, 0x12345678, .gpa = 0x12345678, .page_size = 0,
		     .writable = true, .user = true, .executable = true,
		     .levels = 0);
	ASSERT_XLATE(ram, &r, 0xfffffffffedcbfffULL, .gpa = 0xfedcbfff,
		     .page_size = 0, .writable = true, .user = true,
		     .executable = true, .levels = 0);
	r.cr0 = 0; /* real mode too */
	ASSERT_XLATE(ram, &r, 0xfffff, .gpa = 0xfffff, .page_size = 0,
		     .writable = true, .user = true, .executable = true,
		     .levels = 0);
	assert_int_equal(ram->reads, 0);
}

static void test_32bit_4k(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pd = new_table(ram), pt = new_table(ram);
	/* PWT|PCD in CR3 are not address bits. */
	struct x86_paging_regs r = regs_32bit(pd | PWT | PCD, CR4_PSE);

	/* 0x80403fff: PDE 0x201, PTE 0x003, offset 0xfff. */
	put32(ram, pd + 0x201 * 4, (uint32_t)(pt | P | RW | US | A));
	put32(ram, pt + 0x003 * 4, 0xabcde000 | P | RW | US | A | D | G);

	ASSERT_XLATE(ram, &r, 0x80403fff, .gpa = 0xabcdefff, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 2);
	/* The first byte of the page and a linear address above 4 GiB,
	 * which 32-bit paging truncates. */
	ASSERT_XLATE(ram, &r, 0x80403000, .gpa = 0xabcde000, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 2);
	ASSERT_XLATE(ram, &r, 0xffffffff80403fffULL, .gpa = 0xabcdefff,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 2);
	/* 32-bit paging has no XD bit, so NXE changes nothing. */
	r.efer = EFER_NXE;
	ASSERT_XLATE(ram, &r, 0x80403fff, .gpa = 0xabcdefff, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 2);
}

static void test_32bit_4m_pse36(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pd = new_table(ram);
	struct x86_paging_regs r = regs_32bit(pd, CR4_PSE);

	/*
	 * 0xc07fffff: PDE 0x301, offset 0x3fffff. PDE bits 20:13 = 0xa5 are
	 * physical bits 39:32; the PAT bit (12) must not reach the address.
	 */
	put32(ram, pd + 0x301 * 4,
	      0x7fc00000 | (0xa5 << 13) | PAT_LARGE | PS | P | RW | US);

	ASSERT_XLATE(ram, &r, 0xc07fffff, .gpa = 0xa57fffffffULL,
		     .page_size = SZ_4M, .writable = true, .user = true,
		     .executable = true, .levels = 2);
	ASSERT_XLATE(ram, &r, 0xc0400000, .gpa = 0xa57fc00000ULL,
		     .page_size = SZ_4M, .writable = true, .user = true,
		     .executable = true, .levels = 2);
	assert_int_equal(ram->reads, 2);
}

static void test_32bit_ps_ignored_without_pse(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pd = new_table(ram), pt = new_table(ram);
	struct x86_paging_regs r = regs_32bit(pd, 0);

	/* With CR4.PSE clear the PS bit is ignored: this PDE still
	 * references a page table. */
	put32(ram, pd + 0x001 * 4, (uint32_t)(pt | PS | P | RW | US));
	put32(ram, pt + 0x3ff * 4, 0x00123000 | P | RW | US);

	ASSERT_XLATE(ram, &r, 0x007fffff, .gpa = 0x00123fff, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 2);
}

static void test_32bit_4m_reserved(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pd = new_table(ram);
	struct x86_paging_regs r = regs_32bit(pd, CR4_PSE);

	/* Bit 21 of a 4 MiB PDE is reserved. */
	put32(ram, pd, 0x00c00000 | (1U << 21) | PS | P | RW);
	ASSERT_XLATE_ERR(ram, &r, 0x1234, -EFAULT);
}

static void test_32bit_not_present(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pd = new_table(ram), pt = new_table(ram);
	struct x86_paging_regs r = regs_32bit(pd, CR4_PSE);

	put32(ram, pd + 0x002 * 4, (uint32_t)(pt | P | RW));
	put32(ram, pt + 0x005 * 4, 0x00200000 | P | RW);
	ASSERT_XLATE(ram, &r, 0x00805abc, .gpa = 0x00200abc, .page_size = SZ_4K,
		     .writable = true, .user = false, .executable = true,
		     .levels = 2);

	/* Not-present PTE; the other bits must not matter. */
	put32(ram, pt + 0x005 * 4, 0x00200000 | RW | US);
	ASSERT_XLATE_ERR(ram, &r, 0x00805abc, -EFAULT);
	/* Not-present PDE, and a PDE slot never filled in. */
	put32(ram, pt + 0x005 * 4, 0x00200000 | P | RW);
	put32(ram, pd + 0x002 * 4, (uint32_t)(pt | RW));
	ASSERT_XLATE_ERR(ram, &r, 0x00805abc, -EFAULT);
	ASSERT_XLATE_ERR(ram, &r, 0x00c05abc, -EFAULT);
	/* Not-present 4 MiB PDE. */
	put32(ram, pd + 0x002 * 4, 0x00800000 | PS | RW);
	ASSERT_XLATE_ERR(ram, &r, 0x00805abc, -EFAULT);
}

static void test_pae_4k(void **state)
{
	struct fake_ram *ram = *state;
	/* The PDPT only needs 32-byte alignment. */
	uint64_t pdpt = new_table(ram) + 0x60;
	uint64_t pd = new_table(ram), pt = new_table(ram);
	struct x86_paging_regs r = regs_pae(pdpt | PWT | PCD, EFER_NXE);

	/* 0xc0201fff: PDPTE 3, PDE 0x001, PTE 0x001, offset 0xfff. */
	put64(ram, pdpt + 3 * 8, pd | P);
	put64(ram, pd + 0x001 * 8, pt | P | RW | US | A);
	put64(ram, pt + 0x001 * 8, 0x123456000ULL | P | RW | US | A | D);

	ASSERT_XLATE(ram, &r, 0xc0201fff, .gpa = 0x123456fffULL,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 3);
	/* Linear addresses are 32 bits outside long mode. */
	ASSERT_XLATE(ram, &r, 0x00000001c0201fffULL, .gpa = 0x123456fffULL,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 3);
}

static void test_pae_2m(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pdpt = new_table(ram), pd = new_table(ram);
	struct x86_paging_regs r = regs_pae(pdpt, 0);

	/* 0x7fffffff: PDPTE 1, PDE 0x1ff, offset 0x1fffff. */
	put64(ram, pdpt + 1 * 8, pd | P);
	put64(ram, pd + 0x1ff * 8,
	      0x234400000ULL | PAT_LARGE | PS | P | RW | US | A | D);

	ASSERT_XLATE(ram, &r, 0x7fffffff, .gpa = 0x2345fffffULL,
		     .page_size = SZ_2M, .writable = true, .user = true,
		     .executable = true, .levels = 3);
	ASSERT_XLATE(ram, &r, 0x7fe00000, .gpa = 0x234400000ULL,
		     .page_size = SZ_2M, .writable = true, .user = true,
		     .executable = true, .levels = 3);
}

static void test_pae_reserved(void **state)
{
	struct fake_ram *ram = *state;
	static const uint64_t pdpte_bad[] = {RW,	US, PS,
					     1ULL << 5, NX, 1ULL << 52};
	static const uint64_t pde_bad[] = {1ULL << 52, 1ULL << 62};
	struct x86_paging_regs r;
	uint64_t ent[6];
	uint64_t root, gva = 0x40201abc;
	size_t i;
	int level;

	for (i = 0; i < sizeof(pdpte_bad) / sizeof(pdpte_bad[0]); i++) {
		ram_reset(ram);
		root = new_table(ram);
		r = regs_pae(root, EFER_NXE);
		map_page(ram, root, 3, gva, 1, 0x5000 | P | RW, TABLE, ent);
		ASSERT_XLATE(ram, &r, gva, .gpa = 0x5abc, .page_size = SZ_4K,
			     .writable = true, .user = false,
			     .executable = true, .levels = 3);
		set_bits(ram, ent[3], pdpte_bad[i]);
		ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	}

	/* Bits 62:52 are reserved in PAE PDEs and PTEs. */
	for (i = 0; i < sizeof(pde_bad) / sizeof(pde_bad[0]); i++) {
		for (level = 1; level <= 2; level++) {
			ram_reset(ram);
			root = new_table(ram);
			r = regs_pae(root, EFER_NXE);
			map_page(ram, root, 3, gva, 1, 0x5000 | P | RW, TABLE,
				 ent);
			set_bits(ram, ent[level], pde_bad[i]);
			ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
		}
	}

	/* Bits 20:13 of a 2 MiB PDE are reserved. */
	ram_reset(ram);
	root = new_table(ram);
	r = regs_pae(root, 0);
	map_page(ram, root, 3, gva, 2, 0x600000 | (1ULL << 13) | PS | P, TABLE,
		 NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
}

static void test_pae_not_present(void **state)
{
	struct fake_ram *ram = *state;
	struct x86_paging_regs r;
	uint64_t gva = 0xbfe01234, root, ent[6];
	int level;

	for (level = 1; level <= 3; level++) {
		ram_reset(ram);
		root = new_table(ram);
		r = regs_pae(root, EFER_NXE);
		map_page(ram, root, 3, gva, 1, 0x9000 | P | RW | US, TABLE,
			 ent);
		ASSERT_XLATE(ram, &r, gva, .gpa = 0x9234, .page_size = SZ_4K,
			     .writable = true, .user = true, .executable = true,
			     .levels = 3);
		clear_bits(ram, ent[level], P);
		ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	}
}

static void test_4level_4k(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t root = new_table(ram);
	/* A PCID in CR3 bits 11:0 is not part of the address. */
	struct x86_paging_regs r = regs_long(root | 0xabc, false, EFER_NXE);
	uint64_t gva = 0x00007fabcdef1fffULL;

	map_page(ram, root, 4, gva, 1, 0x000fedcba9876000ULL | P | RW | US,
		 TABLE, NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x000fedcba9876fffULL,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 4);
	ASSERT_XLATE(ram, &r, gva & ~0xfffULL, .gpa = 0x000fedcba9876000ULL,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 4);
	assert_int_equal(ram->reads, 8);
	/* The neighbouring page is not mapped. */
	ASSERT_XLATE_ERR(ram, &r, gva + 1, -EFAULT);
}

static void test_4level_2m(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, EFER_NXE);
	/* The highest lower-half canonical address. */
	uint64_t gva = 0x00007fffffffffffULL;

	map_page(ram, root, 4, gva, 2,
		 0x0000001234600000ULL | PAT_LARGE | PS | P | RW | US, TABLE,
		 NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x00000012347fffffULL,
		     .page_size = SZ_2M, .writable = true, .user = true,
		     .executable = true, .levels = 4);
	ASSERT_XLATE(ram, &r, 0x00007fffffe00000ULL,
		     .gpa = 0x0000001234600000ULL, .page_size = SZ_2M,
		     .writable = true, .user = true, .executable = true,
		     .levels = 4);
	assert_int_equal(ram->reads, 6);
}

static void test_4level_1g(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, 0);
	uint64_t gva = 0x000000407fffffffULL; /* PDPTE 0x101 */

	map_page(ram, root, 4, gva, 3,
		 0x000fffc000000000ULL | PAT_LARGE | PS | P | RW | US, TABLE,
		 NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x000fffc03fffffffULL,
		     .page_size = SZ_1G, .writable = true, .user = true,
		     .executable = true, .levels = 4);
	ASSERT_XLATE(ram, &r, 0x0000004040000000ULL,
		     .gpa = 0x000fffc000000000ULL, .page_size = SZ_1G,
		     .writable = true, .user = true, .executable = true,
		     .levels = 4);
	assert_int_equal(ram->reads, 4);
}

static void test_4level_high_half_kernel(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t pml4 = new_table(ram), pdpt = new_table(ram);
	uint64_t pd = new_table(ram), pt = new_table(ram);
	struct x86_paging_regs r = regs_long(pml4, false, EFER_NXE);

	/* 0xffffffff80001234: PML4E 511, PDPTE 510, PDE 0, PTE 1, built by
	 * hand to check the index arithmetic independently. */
	put64(ram, pml4 + 511 * 8, pdpt | P | RW | A);
	put64(ram, pdpt + 510 * 8, pd | P | RW | A);
	put64(ram, pd + 0 * 8, pt | P | RW | A);
	put64(ram, pt + 1 * 8, 0x01000000 | G | D | A | P | RW);

	ASSERT_XLATE(ram, &r, 0xffffffff80001234ULL, .gpa = 0x01000234,
		     .page_size = SZ_4K, .writable = true, .user = false,
		     .executable = true, .levels = 4);
	ASSERT_XLATE(ram, &r, 0xffffffff80001fffULL, .gpa = 0x01000fff,
		     .page_size = SZ_4K, .writable = true, .user = false,
		     .executable = true, .levels = 4);
	ASSERT_XLATE_ERR(ram, &r, 0xffffffff80000234ULL, -EFAULT);
}

static void test_4level_canonical(void **state)
{
	struct fake_ram *ram = *state;
	static const uint64_t bad[] = {
	    0x0000800000000000ULL, 0xffff7fffffffffffULL, 0x8000000000000000ULL,
	    0x00ffffffffffffffULL, 0x7fffffffffffffffULL, 0xfffe800000000000ULL,
	};
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, 0);
	size_t i;

	/*
	 * Map both canonical edges. The non-canonical addresses share their
	 * table indices with these, so only the canonical check stops them.
	 */
	map_page(ram, root, 4, 0x00007ffffffff000ULL, 1, 0x7000 | P | RW, TABLE,
		 NULL);
	map_page(ram, root, 4, 0xffff800000000000ULL, 1, 0x8000 | P | RW, TABLE,
		 NULL);
	map_page(ram, root, 4, 0x0000000000000000ULL, 1, 0x9000 | P | RW, TABLE,
		 NULL);
	ASSERT_XLATE(ram, &r, 0x00007fffffffffffULL, .gpa = 0x7fff,
		     .page_size = SZ_4K, .writable = true, .user = false,
		     .executable = true, .levels = 4);
	ASSERT_XLATE(ram, &r, 0xffff800000000000ULL, .gpa = 0x8000,
		     .page_size = SZ_4K, .writable = true, .user = false,
		     .executable = true, .levels = 4);

	ram->reads = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_XLATE_ERR(ram, &r, bad[i], -EFAULT);
	assert_int_equal(ram->reads, 0);
}

static void test_5level_4k(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, true, EFER_NXE);
	/* Canonical with 57 bits but not with 48. */
	uint64_t gva = 0x00abcdef12345fffULL;

	map_page(ram, root, 5, gva, 1, 0x00000abcdef01000ULL | P | RW | US,
		 TABLE, NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x00000abcdef01fffULL,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 5);
	assert_int_equal(ram->reads, 5);

	/* The same tables under 4-level paging: not canonical there. */
	r = regs_long(root, false, EFER_NXE);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
}

static void test_5level_1g(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, true, 0);
	uint64_t gva = 0xff8012347fffffffULL;

	map_page(ram, root, 5, gva, 3, 0x0000000140000000ULL | PS | P | RW,
		 TABLE, NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x000000017fffffffULL,
		     .page_size = SZ_1G, .writable = true, .user = false,
		     .executable = true, .levels = 5);
	assert_int_equal(ram->reads, 3);
}

static void test_5level_canonical(void **state)
{
	struct fake_ram *ram = *state;
	static const uint64_t bad[] = {
	    0x0100000000000000ULL,
	    0xfeffffffffffffffULL,
	    0x8000000000000000ULL,
	    0x7fffffffffffffffULL,
	};
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, true, 0);
	size_t i;

	map_page(ram, root, 5, 0x00fffffffffff000ULL, 1, 0x7000 | P | RW, TABLE,
		 NULL);
	map_page(ram, root, 5, 0xff00000000000000ULL, 1, 0x8000 | P | RW, TABLE,
		 NULL);
	ASSERT_XLATE(ram, &r, 0x00ffffffffffffffULL, .gpa = 0x7fff,
		     .page_size = SZ_4K, .writable = true, .user = false,
		     .executable = true, .levels = 5);
	ASSERT_XLATE(ram, &r, 0xff00000000000000ULL, .gpa = 0x8000,
		     .page_size = SZ_4K, .writable = true, .user = false,
		     .executable = true, .levels = 5);

	ram->reads = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_XLATE_ERR(ram, &r, bad[i], -EFAULT);
	assert_int_equal(ram->reads, 0);
}

static void test_long_not_present(void **state)
{
	struct fake_ram *ram = *state;
	struct x86_paging_regs r;
	uint64_t gva = 0xffffc90000123456ULL, root, ent[6];
	int top, level;

	for (top = 4; top <= 5; top++) {
		for (level = 1; level <= top; level++) {
			ram_reset(ram);
			root = new_table(ram);
			r = regs_long(root, top == 5, EFER_NXE);
			map_page(ram, root, top, gva, 1, 0xa000 | P | RW, TABLE,
				 ent);
			ASSERT_XLATE(ram, &r, gva, .gpa = 0xa456,
				     .page_size = SZ_4K, .writable = true,
				     .user = false, .executable = true,
				     .levels = top);
			clear_bits(ram, ent[level], P);
			ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
		}
	}

	/* Not-present large-page entries. */
	ram_reset(ram);
	root = new_table(ram);
	r = regs_long(root, false, 0);
	map_page(ram, root, 4, gva, 2, 0x200000 | PS | RW, TABLE, NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	map_page(ram, root, 4, gva, 3, 0x40000000 | PS | RW, TABLE, NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
}

static void test_long_ps_in_top_levels(void **state)
{
	struct fake_ram *ram = *state;
	struct x86_paging_regs r;
	uint64_t gva = 0x0000123456789abcULL, root, ent[6];
	int top, level;

	/* PS is reserved in PML4Es and PML5Es: no 512 GiB pages. */
	for (top = 4; top <= 5; top++) {
		for (level = 4; level <= top; level++) {
			ram_reset(ram);
			root = new_table(ram);
			r = regs_long(root, top == 5, 0);
			map_page(ram, root, top, gva, 1, 0xb000 | P | RW, TABLE,
				 ent);
			set_bits(ram, ent[level], PS);
			ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
		}
	}
}

static void test_long_large_reserved(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t gva = 0x0000000080000000ULL;
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, EFER_NXE);

	/* Bits 20:13 of a 2 MiB PDE are reserved. */
	map_page(ram, root, 4, gva, 2, 0x400000 | (1ULL << 13) | PS | P, TABLE,
		 NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	map_page(ram, root, 4, gva, 2, 0x400000 | (1ULL << 20) | PS | P, TABLE,
		 NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	map_page(ram, root, 4, gva, 2, 0x400000 | PS | P, TABLE, NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x400000, .page_size = SZ_2M,
		     .writable = false, .user = false, .executable = true,
		     .levels = 4);

	/* Bits 29:13 of a 1 GiB PDPTE are reserved. */
	map_page(ram, root, 4, gva, 3, 0x80000000 | (1ULL << 29) | PS | P,
		 TABLE, NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	map_page(ram, root, 4, gva, 3, 0x80000000 | (1ULL << 21) | PS | P,
		 TABLE, NULL);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	map_page(ram, root, 4, gva, 3, 0x80000000 | PS | P, TABLE, NULL);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x80000000, .page_size = SZ_1G,
		     .writable = false, .user = false, .executable = true,
		     .levels = 4);
}

static void test_long_ignored_bits(void **state)
{
	struct fake_ram *ram = *state;
	/* Bits 62:52 (protection keys, ignored) and 11:9 (ignored). */
	const uint64_t junk = 0x7ff0000000000e00ULL;
	uint64_t gva = 0xffff888000345678ULL, ent[6];
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, EFER_NXE);
	int level;

	map_page(ram, root, 4, gva, 1, 0x000ffffffffff000ULL | P | RW | US,
		 TABLE, ent);
	for (level = 1; level <= 4; level++)
		set_bits(ram, ent[level], junk);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x000ffffffffff678ULL,
		     .page_size = SZ_4K, .writable = true, .user = true,
		     .executable = true, .levels = 4);
}

static void test_table_outside_ram(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t gva = 0x0000000000403000ULL, ent[6];
	uint64_t root = new_table(ram), pd = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, 0);

	/* A PDE pointing past the end of RAM: the callback's error. */
	map_page(ram, root, 4, gva, 1, 0x1000 | P | RW, TABLE, ent);
	put64(ram, ent[2], 0x40000000 | TABLE);
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	assert_int_equal(ram->failed_reads, 1);
	/* Whatever the callback returns is passed through unchanged. */
	ram->oob_err = -EIO;
	ASSERT_XLATE_ERR(ram, &r, gva, -EIO);

	/* CR3 itself outside RAM, in every paging mode. */
	r = regs_long(0x000ffffffffff000ULL, false, 0);
	ASSERT_XLATE_ERR(ram, &r, gva, -EIO);
	r = regs_long(0x000ffffffffff000ULL, true, 0);
	ASSERT_XLATE_ERR(ram, &r, gva, -EIO);
	r = regs_pae(0xffffffe0, 0);
	ASSERT_XLATE_ERR(ram, &r, gva, -EIO);
	r = regs_32bit(0xfffff000, CR4_PSE);
	ASSERT_XLATE_ERR(ram, &r, gva, -EIO);

	/* A 32-bit PDE pointing at a page table outside RAM. */
	r = regs_32bit(pd, CR4_PSE);
	put32(ram, pd + 0x001 * 4, 0x80000000 | P | RW);
	ASSERT_XLATE_ERR(ram, &r, gva, -EIO);
	assert_int_equal(ram->failed_reads, 7);
}

static void test_perm_readonly(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t gva = 0x00007f0000001fffULL, ent[6];
	uint64_t root = new_table(ram);
	uint64_t pd = new_table(ram), pt = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, EFER_NXE);
	int level;

	/* A read-only PTE under writable tables. */
	map_page(ram, root, 4, gva, 1, 0x3000 | P | US, TABLE, ent);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x3fff, .page_size = SZ_4K,
		     .writable = false, .user = true, .executable = true,
		     .levels = 4);

	/* A read-only entry at any higher level also wins. */
	for (level = 2; level <= 4; level++) {
		set_bits(ram, ent[1], RW);
		set_bits(ram, ent[level - 1], RW);
		clear_bits(ram, ent[level], RW);
		ASSERT_XLATE(ram, &r, gva, .gpa = 0x3fff, .page_size = SZ_4K,
			     .writable = false, .user = true,
			     .executable = true, .levels = 4);
	}
	set_bits(ram, ent[4], RW);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x3fff, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 4);

	/* Same rule in 32-bit paging. */
	r = regs_32bit(pd, 0);
	put32(ram, pd, (uint32_t)(pt | P | RW | US));
	put32(ram, pt + 4, 0x5000 | P | US);
	ASSERT_XLATE(ram, &r, 0x1fff, .gpa = 0x5fff, .page_size = SZ_4K,
		     .writable = false, .user = true, .executable = true,
		     .levels = 2);
}

static void test_perm_supervisor(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t gva = 0x00000000c0000abcULL, ent[6];
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_pae(root, EFER_NXE);

	/* A user PTE under a supervisor PDE is supervisor-only. */
	map_page(ram, root, 3, gva, 1, 0x4000 | P | RW | US, TABLE, ent);
	clear_bits(ram, ent[2], US);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x4abc, .page_size = SZ_4K,
		     .writable = true, .user = false, .executable = true,
		     .levels = 3);
}

static void test_perm_nx(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t gva = 0x00005555deadbeefULL, ent[6];
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_long(root, false, EFER_NXE);

	/* XD at the PDE makes the whole 4 KiB page non-executable. */
	map_page(ram, root, 4, gva, 1, 0x6000 | P | RW | US, TABLE, ent);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x6eef, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 4);
	set_bits(ram, ent[2], NX);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x6eef, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = false,
		     .levels = 4);

	/* With EFER.NXE clear, bit 63 is reserved (SDM 4.5.4): a fault,
	 * not an executable page. Without it the page is executable. */
	r.efer &= ~EFER_NXE;
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
	clear_bits(ram, ent[2], NX);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x6eef, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = true,
		     .levels = 4);

	/* XD at the PML4E reaches a 1 GiB page. */
	r.efer |= EFER_NXE;
	map_page(ram, root, 4, gva, 3, 0xc0000000 | PS | P | RW | US, TABLE,
		 ent);
	set_bits(ram, ent[4], NX);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0xc0000000 + (gva & (SZ_1G - 1)),
		     .page_size = SZ_1G, .writable = true, .user = true,
		     .executable = false, .levels = 4);
}

static void test_perm_nx_pae(void **state)
{
	struct fake_ram *ram = *state;
	uint64_t gva = 0x00403123, ent[6];
	uint64_t root = new_table(ram);
	struct x86_paging_regs r = regs_pae(root, EFER_NXE);

	map_page(ram, root, 3, gva, 1, 0x6000 | P | RW | US, TABLE, ent);
	set_bits(ram, ent[2], NX);
	ASSERT_XLATE(ram, &r, gva, .gpa = 0x6123, .page_size = SZ_4K,
		     .writable = true, .user = true, .executable = false,
		     .levels = 3);
	r.efer = 0;
	ASSERT_XLATE_ERR(ram, &r, gva, -EFAULT);
}

#define PAGING_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    PAGING_TEST(test_header_constants),
	    PAGING_TEST(test_mode_names),
	    PAGING_TEST(test_paging_off),
	    PAGING_TEST(test_32bit_4k),
	    PAGING_TEST(test_32bit_4m_pse36),
	    PAGING_TEST(test_32bit_ps_ignored_without_pse),
	    PAGING_TEST(test_32bit_4m_reserved),
	    PAGING_TEST(test_32bit_not_present),
	    PAGING_TEST(test_pae_4k),
	    PAGING_TEST(test_pae_2m),
	    PAGING_TEST(test_pae_reserved),
	    PAGING_TEST(test_pae_not_present),
	    PAGING_TEST(test_4level_4k),
	    PAGING_TEST(test_4level_2m),
	    PAGING_TEST(test_4level_1g),
	    PAGING_TEST(test_4level_high_half_kernel),
	    PAGING_TEST(test_4level_canonical),
	    PAGING_TEST(test_5level_4k),
	    PAGING_TEST(test_5level_1g),
	    PAGING_TEST(test_5level_canonical),
	    PAGING_TEST(test_long_not_present),
	    PAGING_TEST(test_long_ps_in_top_levels),
	    PAGING_TEST(test_long_large_reserved),
	    PAGING_TEST(test_long_ignored_bits),
	    PAGING_TEST(test_table_outside_ram),
	    PAGING_TEST(test_perm_readonly),
	    PAGING_TEST(test_perm_supervisor),
	    PAGING_TEST(test_perm_nx),
	    PAGING_TEST(test_perm_nx_pae),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
