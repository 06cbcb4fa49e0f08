/* The smallest guest: greets on the console, echoes its command line and
 * exits with status 1. Built twice: PVH (hello.elf) and native 64-bit
 * (hello64.elf). */
#include "guest.h"

GUEST_PARK_APS()

int main(const struct hvm_start_info *si)
{
	guest_printf("Hello from the kvmdbg test guest\n");
	if (!si || si->magic != HVM_START_MAGIC) {
		guest_printf("hello: bad start_info %p magic 0x%x\n",
			     (const void *)si, si ? si->magic : 0);
		return 2;
	}
	guest_printf("hello: cmdline=%s\n", guest_cmdline(si));
	return 0;
}
