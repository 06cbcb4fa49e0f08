/* /dev/kvm: opening it with a clear diagnosis, capabilities, and the one
 * checked ioctl wrapper every KVM call goes through. */
#ifndef KVMDBG_VMM_KVM_H
#define KVMDBG_VMM_KVM_H

#include <stddef.h>
#include <sys/ioctl.h>

struct kvm_sys {
	int fd;
	int vcpu_mmap_size;
	int nr_vcpus; /* recommended (KVM_CAP_NR_VCPUS) */
	int max_vcpus; /* KVM_CAP_MAX_VCPUS */
	int nr_memslots;
};

/* Open /dev/kvm (or $KVMDBG_DEV). On failure err holds one line that says
 * what is wrong and what to do. Returns 0 or negative errno. */
int kvm_sys_open(struct kvm_sys *sys, char *err, size_t errlen);
void kvm_sys_close(struct kvm_sys *sys);

/* KVM_CHECK_EXTENSION on fd (system or VM); returns the value, 0 when
 * absent or on error. */
int kvm_check_cap(int fd, long cap);

/*
 * The checked ioctl: size is what the caller passes (sizeof *arg), or
 * KVM_IOCTL_NOARG for ioctls whose argument is a value, not a pointer. A
 * mismatch with _IOC_SIZE(cmd) is a programming error reported as -EINVAL.
 * Returns the ioctl's non-negative result or -errno; failures are logged at
 * debug level with the ioctl's name. -EIO means the VM is dead.
 */
#define KVM_IOCTL_NOARG ((size_t)-1)
long kvm__ioctl(int fd, unsigned long cmd, const char *name, void *arg,
		size_t size);

#define kvm_ioctl(fd, cmd, arg) \
	kvm__ioctl((fd), (cmd), #cmd, (arg), sizeof(*(arg)))
#define kvm_ioctl_val(fd, cmd, val) \
	kvm__ioctl((fd), (cmd), #cmd, (void *)(unsigned long)(val), \
		   KVM_IOCTL_NOARG)

#endif
