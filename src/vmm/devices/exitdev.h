/* The guest's exit device (QEMU isa-debug-exit compatible). */
#ifndef KVMDBG_VMM_EXITDEV_H
#define KVMDBG_VMM_EXITDEV_H

#include <stdbool.h>
#include <stdint.h>

struct vmm;

void exitdev_io(struct vmm *vm, void *opaque, uint64_t addr, bool is_write,
		uint8_t *data, unsigned size);

#endif
