/* The arm64 machine kvmdbg emulates: QEMU virt's memory map, so the same
 * image boots under both (docs/boot.md). Shared by the arm64 arch code and
 * its unit tests. */
#ifndef KVMDBG_ARCH_ARM64_MACHINE_H
#define KVMDBG_ARCH_ARM64_MACHINE_H

#include <stdint.h>

#define ARM64_GICD_BASE 0x08000000ULL
#define ARM64_GICD_SIZE 0x00010000ULL
#define ARM64_GICR_BASE 0x080a0000ULL
#define ARM64_GICR_SIZE 0x00f60000ULL /* 0x20000 per vCPU: 123 vCPUs */
#define ARM64_GICR_PER_CPU 0x20000ULL
#define ARM64_UART_BASE 0x09000000ULL
#define ARM64_UART_SIZE 0x1000ULL
#define ARM64_UART_SPI 1 /* INTID 33 */
/* kvmdbg's exit device: a 32-bit write of v ends the run with status
 * (v << 1) | 1. A hole in QEMU virt's map, so under QEMU the write faults
 * and the guest can tell there is no exit device. */
#define ARM64_EXIT_BASE 0x09100000ULL
#define ARM64_EXIT_SIZE 0x1000ULL
#define ARM64_RAM_BASE 0x40000000ULL
/* The guest-physical address space KVM gives a VM by default (40 bits). */
#define ARM64_IPA_LIMIT (1ULL << 40)
/* An ELF image's device tree sits at the base of RAM, where QEMU puts it
 * for bare-metal images; images load from 2 MiB up. */
#define ARM64_DTB_MAX 0x200000ULL
#define ARM64_BOOT_RESERVED_END (ARM64_RAM_BASE + ARM64_DTB_MAX)

/* GIC interrupt specifiers in the device tree: type, number, flags. */
#define ARM64_GIC_SPI 0
#define ARM64_GIC_PPI 1
#define ARM64_IRQ_LEVEL_HIGH 4
/* The architected timer's PPIs: secure and non-secure physical, virtual,
 * hypervisor. */
#define ARM64_TIMER_PPI_S 13
#define ARM64_TIMER_PPI_NS 14
#define ARM64_TIMER_PPI_VIRT 11
#define ARM64_TIMER_PPI_HYP 10

#endif
