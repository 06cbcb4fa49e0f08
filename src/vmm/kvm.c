/* /dev/kvm access. Every KVM ioctl in kvmdbg goes through kvm__ioctl so
 * argument sizes are checked against the ioctl number and errors name the
 * call that failed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "log.h"
#include "vmm/kvm.h"

long kvm__ioctl(int fd, unsigned long cmd, const char *name, void *arg,
		size_t size)
{
	long ret;

	if (size != KVM_IOCTL_NOARG && _IOC_SIZE(cmd) != 0 &&
	    _IOC_SIZE(cmd) != size) {
		log_error("%s: argument size %zu, ioctl expects %u", name, size,
			  (unsigned)_IOC_SIZE(cmd));
		return -EINVAL;
	}
	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR && cmd != KVM_RUN);
	if (ret < 0) {
		ret = -errno;
		if (ret != -EINTR)
			log_debug("%s failed: %s", name, strerror((int)-ret));
		if (ret == -EIO)
			log_error("%s: the VM is dead (EIO)", name);
	}
	return ret;
}

int kvm_check_cap(int fd, long cap)
{
	long r = kvm_ioctl_val(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : (int)r;
}

static void explain_eacces(const char *dev, char *err, size_t errlen)
{
	struct stat st;
	struct group *gr = NULL;

	if (stat(dev, &st) == 0)
		gr = getgrgid(st.st_gid);
	if (gr && strcmp(gr->gr_name, "root") != 0)
		snprintf(err, errlen,
			 "%s: permission denied; add yourself to the '%s' group "
			 "(sudo usermod -aG %s $USER, then log in again)",
			 dev, gr->gr_name, gr->gr_name);
	else
		snprintf(err, errlen,
			 "%s: permission denied; run as root or give your user "
			 "access (usually the 'kvm' group)",
			 dev);
}

int kvm_sys_open(struct kvm_sys *sys, char *err, size_t errlen)
{
	const char *dev = getenv("KVMDBG_DEV");
	long version;
	int fd, e;

	if (!dev || !*dev)
		dev = "/dev/kvm";
	memset(sys, 0, sizeof(*sys));
	sys->fd = -1;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			snprintf(err, errlen,
				 "%s does not exist: KVM is not available "
				 "(enable virtualization in the firmware, load "
				 "kvm_intel or kvm_amd, or run on a host that "
				 "offers nested virtualization)",
				 dev);
		else if (e == EACCES || e == EPERM)
			explain_eacces(dev, err, errlen);
		else
			snprintf(err, errlen, "%s: %s", dev, strerror(e));
		return -e;
	}
	version = kvm_ioctl_val(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %ld, kvmdbg needs %d",
			 dev, version, KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	sys->vcpu_mmap_size =
		(int)kvm_ioctl_val(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sys->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "%s: bad KVM_GET_VCPU_MMAP_SIZE %d", dev,
			 sys->vcpu_mmap_size);
		close(fd);
		return -ENOTSUP;
	}
	sys->fd = fd;
	sys->nr_vcpus = kvm_check_cap(fd, KVM_CAP_NR_VCPUS);
	sys->max_vcpus = kvm_check_cap(fd, KVM_CAP_MAX_VCPUS);
	if (sys->nr_vcpus <= 0)
		sys->nr_vcpus = 4;
	if (sys->max_vcpus <= 0)
		sys->max_vcpus = sys->nr_vcpus;
	sys->nr_memslots = kvm_check_cap(fd, KVM_CAP_NR_MEMSLOTS);
	if (sys->nr_memslots <= 0)
		sys->nr_memslots = 32;
	return 0;
}

void kvm_sys_close(struct kvm_sys *sys)
{
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
}
