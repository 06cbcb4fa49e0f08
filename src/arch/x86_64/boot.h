/* x86_64 boot layout: where kvmdbg puts its boot structures in guest RAM,
 * and the PVH start-of-day structures. Shared with tests. */
#ifndef KVMDBG_ARCH_X86_64_BOOT_H
#define KVMDBG_ARCH_X86_64_BOOT_H

#include <stdint.h>

#define X86_BOOT_GDT 0x0500ULL
#define X86_BOOT_PML4 0x1000ULL
#define X86_BOOT_PDPT 0x2000ULL
#define X86_BOOT_PD 0x3000ULL /* four pages: the first 4 GiB, 2 MiB pages */
#define X86_BOOT_START_INFO 0x7000ULL
#define X86_BOOT_MEMMAP 0x7040ULL
#define X86_BOOT_MEMMAP_MAX 16
#define X86_BOOT_CMDLINE 0x8000ULL
#define X86_BOOT_CMDLINE_MAX 0x7fffULL /* bytes, without the NUL */
#define X86_BOOT_RESERVED_END 0x10000ULL

#define X86_LOW_RAM_END 0xc0000000ULL /* MMIO hole up to 4 GiB */
#define X86_HIGH_RAM 0x100000000ULL

#define X86_GDT_CODE64 0x08
#define X86_GDT_CODE32 0x10
#define X86_GDT_DATA 0x18
#define X86_GDT_TSS 0x20

#define HVM_START_MAGIC 0x336ec578U

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

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define HVM_MEMMAP_RAM 1
#define HVM_MEMMAP_RESERVED 2

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info ABI");
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "memmap entry ABI");

#endif
