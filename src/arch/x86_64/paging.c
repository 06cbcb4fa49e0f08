/* Software walk of x86 guest page tables for the five paging modes of the
 * Intel SDM vol. 3 ch. 4; pure, all memory access goes through a callback. */
#include "arch/x86_64/paging.h"

#include <errno.h>

enum paging_mode {
	PAGING_NONE,
	PAGING_32BIT,
	PAGING_PAE,
	PAGING_4LEVEL,
	PAGING_5LEVEL,
	PAGING_NR_MODES,
};

/* One mode per line reads better than clang-format's packed columns. */
/* clang-format off */
static const char *const paging_mode_names[] = {
	[PAGING_NONE] = "none",
	[PAGING_32BIT] = "32-bit",
	[PAGING_PAE] = "PAE",
	[PAGING_4LEVEL] = "4-level",
	[PAGING_5LEVEL] = "5-level",
};
/* clang-format on */
_Static_assert(sizeof(paging_mode_names) / sizeof(paging_mode_names[0]) ==
		   PAGING_NR_MODES,
	       "every paging mode needs a name");

/* Bits shared by every paging-structure entry format. */
#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7) /* in a PTE this bit is PAT instead */
#define PTE_XD (1ULL << 63)

/*
 * Bits 51:12 of a 64-bit entry hold the physical address. MAXPHYADDR is
 * taken to be 52 because the host's real value is not known here, so
 * bits 51:M, which the CPU would reserve, are treated as address bits.
 */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

/* Bits 62:52, reserved in PAE entries but ignored (or protection keys)
 * in 4-level and 5-level entries. */
#define PTE_HIGH_MASK 0x7ff0000000000000ULL

/* Bits 20:13 between PAT and the frame of a 2 MiB page, and bits 29:13
 * for a 1 GiB page; both reserved. */
#define PTE_RSVD_2M 0x00000000001fe000ULL
#define PTE_RSVD_1G 0x000000003fffe000ULL

/* A PAE PDPTE reserves bits 2:1 and 8:5 (it has no R/W, U/S or PS) and
 * bits 63:M, including bit 63 since it has no XD. */
#define PAE_PDPTE_RSVD (0xfff0000000000000ULL | 0x1e6ULL)

/* 32-bit paging: PSE-36 puts physical bits 39:32 of a 4 MiB page in PDE
 * bits 20:13 and reserves bit 21 (MAXPHYADDR is capped at 40 here). */
#define PDE32_ADDR_4M 0xffc00000ULL
#define PDE32_PSE36_MASK 0x001fe000ULL
#define PDE32_PSE36_SHIFT 19
#define PDE32_RSVD_4M (1ULL << 21)
#define PTE32_ADDR_MASK 0xfffff000ULL

#define SIZE_4K (1ULL << 12)
#define SIZE_4M (1ULL << 22)

static enum paging_mode paging_mode(const struct x86_paging_regs *r)
{
	if (!(r->cr0 & X86_PAGING_CR0_PG))
		return PAGING_NONE;
	/*
	 * LMA implies PAE on a real CPU (setting PG with LME=1 and PAE=0
	 * raises #GP), so checking PAE first only matters for register
	 * values no CPU can hold; it follows the order of SDM table 4-1.
	 */
	if (!(r->cr4 & X86_PAGING_CR4_PAE))
		return PAGING_32BIT;
	if (!(r->efer & X86_PAGING_EFER_LMA))
		return PAGING_PAE;
	return (r->cr4 & X86_PAGING_CR4_LA57) ? PAGING_5LEVEL : PAGING_4LEVEL;
}

const char *x86_paging_mode_name(const struct x86_paging_regs *r)
{
	return paging_mode_names[paging_mode(r)];
}

/*
 * Entries are little-endian in guest memory; assembling them byte by byte
 * keeps the walker independent of host byte order and alignment.
 */
static int read_entry(x86_read_phys_fn rd, void *ctx, uint64_t gpa, size_t size,
		      uint64_t *entry)
{
	uint8_t b[8] = {0};
	uint64_t v = 0;
	int ret;
	size_t i;

	ret = rd(ctx, gpa, b, size);
	if (ret < 0)
		return ret;
	for (i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	*entry = v;
	return 0;
}

static int walk_32bit(const struct x86_paging_regs *r, uint32_t la,
		      x86_read_phys_fn rd, void *ctx,
		      struct x86_translation *out)
{
	uint64_t pde, pte, addr;
	int ret;

	addr = (r->cr3 & PTE32_ADDR_MASK) | (uint64_t)(la >> 22) << 2;
	ret = read_entry(rd, ctx, addr, 4, &pde);
	if (ret)
		return ret;
	if (!(pde & PTE_P))
		return -EFAULT;

	/* Without CR4.PSE the PS bit is ignored and the PDE always
	 * references a page table. */
	if ((r->cr4 & X86_PAGING_CR4_PSE) && (pde & PTE_PS)) {
		if (pde & PDE32_RSVD_4M)
			return -EFAULT;
		out->gpa = (pde & PDE32_ADDR_4M) |
			   (pde & PDE32_PSE36_MASK) << PDE32_PSE36_SHIFT |
			   (la & (SIZE_4M - 1));
		out->page_size = SIZE_4M;
		out->writable = pde & PTE_RW;
		out->user = pde & PTE_US;
		out->executable = true;
		return 0;
	}

	addr = (pde & PTE32_ADDR_MASK) | (uint64_t)((la >> 12) & 0x3ff) << 2;
	ret = read_entry(rd, ctx, addr, 4, &pte);
	if (ret)
		return ret;
	if (!(pte & PTE_P))
		return -EFAULT;

	out->gpa = (pte & PTE32_ADDR_MASK) | (la & (SIZE_4K - 1));
	out->page_size = SIZE_4K;
	out->writable = (pde & PTE_RW) && (pte & PTE_RW);
	out->user = (pde & PTE_US) && (pte & PTE_US);
	/* 32-bit paging has no XD bit. */
	out->executable = true;
	return 0;
}

/* The bits of a present 64-bit entry at this level that must be zero.
 * Level 1 is the PTE, level 2 the PDE, and so on up to the PML5E. */
static uint64_t reserved_bits(bool pae, bool nxe, int level, uint64_t entry)
{
	uint64_t rsvd = nxe ? 0 : PTE_XD;

	if (pae) {
		if (level == 3)
			return PAE_PDPTE_RSVD;
		rsvd |= PTE_HIGH_MASK;
	}
	if (level >= 4)
		return rsvd | PTE_PS;
	if (level == 3 && (entry & PTE_PS))
		return rsvd | PTE_RSVD_1G;
	if (level == 2 && (entry & PTE_PS))
		return rsvd | PTE_RSVD_2M;
	return rsvd;
}

/* A long-mode address is canonical when bits 63:(bits-1) are all equal. */
static bool is_canonical(uint64_t gva, unsigned int bits)
{
	uint64_t top = gva >> (bits - 1);

	return top == 0 || top == (UINT64_MAX >> (bits - 1));
}

/* PAE, 4-level and 5-level paging share the 8-byte entry format and
 * differ in depth, in the top table and in which bits are reserved. */
static int walk_64bit(const struct x86_paging_regs *r, uint64_t la, int top,
		      x86_read_phys_fn rd, void *ctx,
		      struct x86_translation *out)
{
	bool pae = top == 3;
	bool nxe = r->efer & X86_PAGING_EFER_NXE;
	bool writable = true, user = true, executable = true;
	uint64_t table, entry, index, size;
	int level, ret;

	/* The CPU faults on a non-canonical address before any walk. */
	if (!pae && !is_canonical(la, top == 5 ? 57 : 48))
		return -EFAULT;

	/* A PAE CR3 points at a 32-byte aligned table of four PDPTEs. */
	table = pae ? (r->cr3 & 0xffffffe0ULL) : (r->cr3 & PTE_ADDR_MASK);

	for (level = top;; level--) {
		unsigned int shift = 12 + 9 * (unsigned int)(level - 1);

		index = (la >> shift) & (pae && level == 3 ? 0x3 : 0x1ff);
		ret = read_entry(rd, ctx, table + index * 8, 8, &entry);
		if (ret)
			return ret;
		if (!(entry & PTE_P))
			return -EFAULT;
		if (entry & reserved_bits(pae, nxe, level, entry))
			return -EFAULT;

		/* PAE PDPTEs carry no permission bits. */
		if (!(pae && level == 3)) {
			writable = writable && (entry & PTE_RW);
			user = user && (entry & PTE_US);
			if (nxe && (entry & PTE_XD))
				executable = false;
		}

		/* Reserved-bit checks above already refused PS at the
		 * levels that cannot map a page. */
		if (level == 1 || (entry & PTE_PS)) {
			size = 1ULL << shift;
			break;
		}
		table = entry & PTE_ADDR_MASK;
	}

	/* The frame mask also drops the PAT bit (bit 12) of large pages. */
	out->gpa = (entry & PTE_ADDR_MASK & ~(size - 1)) | (la & (size - 1));
	out->page_size = size;
	out->writable = writable;
	out->user = user;
	out->executable = executable;
	return 0;
}

int x86_paging_translate(const struct x86_paging_regs *r, uint64_t gva,
			 x86_read_phys_fn rd, void *ctx,
			 struct x86_translation *out)
{
	struct x86_translation t = {0};
	int ret;

	switch (paging_mode(r)) {
	case PAGING_NONE:
		/* Long mode needs paging, so gva is a 32-bit address. */
		t.gpa = gva & 0xffffffffULL;
		t.writable = t.user = t.executable = true;
		t.levels = 0;
		ret = 0;
		break;
	case PAGING_32BIT:
		t.levels = 2;
		ret = walk_32bit(r, (uint32_t)gva, rd, ctx, &t);
		break;
	case PAGING_PAE:
		t.levels = 3;
		ret = walk_64bit(r, gva & 0xffffffffULL, 3, rd, ctx, &t);
		break;
	case PAGING_4LEVEL:
		t.levels = 4;
		ret = walk_64bit(r, gva, 4, rd, ctx, &t);
		break;
	case PAGING_5LEVEL:
		t.levels = 5;
		ret = walk_64bit(r, gva, 5, rd, ctx, &t);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret)
		return ret;
	*out = t;
	return 0;
}
