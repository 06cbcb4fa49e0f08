/* The exit device: a write of v ends the run with process status
 * (v << 1) | 1, the contract of QEMU's isa-debug-exit, so guest CI scripts
 * written for QEMU keep working. Any access width is accepted. */
#include <stdio.h>
#include <string.h>

#include "vmm/devices/exitdev.h"
#include "vmm/vmm_internal.h"

void exitdev_io(struct vmm *vm, void *opaque, uint64_t addr, bool is_write,
		uint8_t *data, unsigned size)
{
	struct vcpu *v = vmm__current_vcpu();
	struct vmm_event ev = { .kind = VMM_EVENT_EXIT };
	uint64_t val = 0;

	(void)vm;
	(void)opaque;
	(void)addr;
	if (!is_write) {
		memset(data, 0xff, size);
		return;
	}
	memcpy(&val, data, size < sizeof(val) ? size : sizeof(val));
	ev.exit_status = (int)(((val << 1) | 1) & 0xff);
	snprintf(ev.why, sizeof(ev.why), "the guest wrote 0x%llx to the exit "
		 "device", (unsigned long long)val);
	if (v)
		vmm__vcpu_event(v, &ev);
}
