// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for VFIO tests; see vfio_util.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "edu.h"
#include "vfio_util.h"

/* Records what failed and returns -errno (errno as it was on entry). */
static int fail(struct vfio_dev *dev, const char *fmt, ...)
{
	int err = errno ? errno : EINVAL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->err, sizeof(dev->err), fmt, ap);
	va_end(ap);
	return -err;
}

const char *vfio_test_bdf(int argc, char **argv)
{
	const char *env;

	if (argc > 1 && argv[1][0] != '-')
		return argv[1];
	env = getenv("VPI_BDF");
	return env && *env ? env : NULL;
}

/* The IOMMU group of a PCI device (BDF) or of a mediated device (UUID). */
static int iommu_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group",
			 bdf);
		len = readlink(path, link, sizeof(link) - 1);
	}
	if (len < 0)
		return -errno;
	link[len] = '\0';
	return atoi(basename(link));
}

static int region_info(struct vfio_dev *dev, uint32_t index,
		       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, info))
		return fail(dev, "GET_REGION_INFO(%u)", index);
	return 0;
}

int vfio_dev_open(struct vfio_dev *dev, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int i, ret;

	memset(dev, 0, sizeof(*dev));
	dev->container_fd = -1;
	dev->group_fd = -1;
	dev->device_fd = -1;
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);

	dev->group = iommu_group_of(bdf);
	if (dev->group < 0) {
		errno = -dev->group;
		return fail(dev, "no IOMMU group for %s", bdf);
	}

	dev->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0)
		return fail(dev, "open /dev/vfio/vfio");
	ret = ioctl(dev->container_fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		errno = EPROTO;
		return fail(dev, "VFIO API version %d, expected %d", ret,
			    VFIO_API_VERSION);
	}
	if (ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		errno = ENOTSUP;
		return fail(dev, "no VFIO_TYPE1v2_IOMMU");
	}

	snprintf(path, sizeof(path), "/dev/vfio/%d", dev->group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0)
		return fail(dev, "open %s (is %s bound to a VFIO driver?)", path, bdf);
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status))
		return fail(dev, "GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		return fail(dev, "group %d is not viable", dev->group);
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd))
		return fail(dev, "GROUP_SET_CONTAINER");
	if (ioctl(dev->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail(dev, "SET_IOMMU(TYPE1v2)");

	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev->device_fd < 0)
		return fail(dev, "GROUP_GET_DEVICE_FD(%s)", bdf);

	dev->info.argsz = sizeof(dev->info);
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &dev->info))
		return fail(dev, "DEVICE_GET_INFO");
	if (!(dev->info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		errno = ENODEV;
		return fail(dev, "%s is not a VFIO PCI device", bdf);
	}

	ret = region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &dev->config);
	if (ret)
		return ret;
	for (i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		struct vfio_region_info *bar = &dev->bar[i];
		void *map;

		ret = region_info(dev, i, bar);
		if (ret)
			return ret;
		if (!bar->size || !(bar->flags & VFIO_REGION_INFO_FLAG_MMAP))
			continue;
		map = mmap(NULL, bar->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   dev->device_fd, bar->offset);
		if (map != MAP_FAILED)
			dev->bar_map[i] = map;
	}
	return 0;
}

void vfio_dev_close(struct vfio_dev *dev)
{
	int i;

	for (i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		if (dev->bar_map[i])
			munmap(dev->bar_map[i], dev->bar[i].size);
		dev->bar_map[i] = NULL;
	}
	if (dev->device_fd >= 0)
		close(dev->device_fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	dev->device_fd = -1;
	dev->group_fd = -1;
	dev->container_fd = -1;
}

int vfio_config_read(struct vfio_dev *dev, uint64_t off, void *buf, size_t len)
{
	ssize_t ret = pread(dev->device_fd, buf, len, dev->config.offset + off);

	if (ret == (ssize_t)len)
		return 0;
	if (ret >= 0)
		errno = EIO;
	return fail(dev, "config read at 0x%llx", (unsigned long long)off);
}

int vfio_config_write(struct vfio_dev *dev, uint64_t off, const void *buf,
		      size_t len)
{
	ssize_t ret = pwrite(dev->device_fd, buf, len, dev->config.offset + off);

	if (ret == (ssize_t)len)
		return 0;
	if (ret >= 0)
		errno = EIO;
	return fail(dev, "config write at 0x%llx", (unsigned long long)off);
}

int vfio_config_read16(struct vfio_dev *dev, uint64_t off, uint16_t *val)
{
	return vfio_config_read(dev, off, val, sizeof(*val));
}

int vfio_config_write16(struct vfio_dev *dev, uint64_t off, uint16_t val)
{
	return vfio_config_write(dev, off, &val, sizeof(val));
}

int vfio_command_set(struct vfio_dev *dev, uint16_t bits)
{
	uint16_t cmd;
	int ret;

	ret = vfio_config_read16(dev, PCI_COMMAND, &cmd);
	if (ret)
		return ret;
	ret = vfio_config_write16(dev, PCI_COMMAND, cmd | bits);
	if (ret)
		return ret;
	ret = vfio_config_read16(dev, PCI_COMMAND, &cmd);
	if (ret)
		return ret;
	if ((cmd & bits) != bits) {
		errno = EIO;
		return fail(dev, "PCI_COMMAND is 0x%04x, bits 0x%04x did not stick",
			    cmd, bits);
	}
	return 0;
}

/*
 * One 32-bit access to a mapped register, which the compiler may neither
 * split, merge nor drop (a relaxed atomic is a plain load/store on x86).
 */
static uint32_t mmio_read32(void *addr)
{
	return __atomic_load_n((uint32_t *)addr, __ATOMIC_RELAXED);
}

static void mmio_write32(void *addr, uint32_t val)
{
	__atomic_store_n((uint32_t *)addr, val, __ATOMIC_RELAXED);
}

static int bar_check(struct vfio_dev *dev, int bar, uint64_t off)
{
	if (bar < 0 || bar >= VFIO_PCI_ROM_REGION_INDEX ||
	    off + 4 > dev->bar[bar].size) {
		errno = EINVAL;
		return fail(dev, "BAR%d offset 0x%llx out of range", bar,
			    (unsigned long long)off);
	}
	return 0;
}

int vfio_bar_read32(struct vfio_dev *dev, int bar, uint64_t off, uint32_t *val)
{
	int ret = bar_check(dev, bar, off);

	if (ret)
		return ret;
	if (dev->bar_map[bar]) {
		*val = mmio_read32((char *)dev->bar_map[bar] + off);
		return 0;
	}
	if (pread(dev->device_fd, val, 4, dev->bar[bar].offset + off) != 4)
		return fail(dev, "BAR%d read at 0x%llx", bar, (unsigned long long)off);
	return 0;
}

int vfio_bar_write32(struct vfio_dev *dev, int bar, uint64_t off, uint32_t val)
{
	int ret = bar_check(dev, bar, off);

	if (ret)
		return ret;
	if (dev->bar_map[bar]) {
		mmio_write32((char *)dev->bar_map[bar] + off, val);
		return 0;
	}
	if (pwrite(dev->device_fd, &val, 4, dev->bar[bar].offset + off) != 4)
		return fail(dev, "BAR%d write at 0x%llx", bar, (unsigned long long)off);
	return 0;
}

int vfio_irq_info(struct vfio_dev *dev, uint32_t index,
		  struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_IRQ_INFO, info))
		return fail(dev, "GET_IRQ_INFO(%u)", index);
	return 0;
}

/* SET_IRQS with a payload of count elements of elem_size bytes. */
static int set_irqs(struct vfio_dev *dev, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const void *data,
		    size_t elem_size)
{
	size_t size = sizeof(struct vfio_irq_set) + (size_t)count * elem_size;
	struct vfio_irq_set *set;
	int ret = 0;

	set = calloc(1, size);
	if (!set)
		return fail(dev, "out of memory");
	set->argsz = size;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (data && count)
		memcpy(set->data, data, (size_t)count * elem_size);
	if (ioctl(dev->device_fd, VFIO_DEVICE_SET_IRQS, set))
		ret = fail(dev, "SET_IRQS(flags 0x%x, index %u, start %u, count %u)",
			   flags, index, start, count);
	free(set);
	return ret;
}

int vfio_irq_set_eventfds(struct vfio_dev *dev, uint32_t index, uint32_t start,
			  uint32_t count, const int *fds)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			index, start, count, fds, sizeof(int32_t));
}

int vfio_irq_set_eventfds_action(struct vfio_dev *dev, uint32_t index,
				 uint32_t action, uint32_t start,
				 uint32_t count, const int *fds)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | action, index, start,
			count, fds, sizeof(int32_t));
}

int vfio_irq_set_none(struct vfio_dev *dev, uint32_t index, uint32_t action,
		      uint32_t start, uint32_t count)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | action, index, start, count,
			NULL, 0);
}

int vfio_irq_set_bool(struct vfio_dev *dev, uint32_t index, uint32_t action,
		      uint32_t start, uint32_t count, const uint8_t *vals)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_BOOL | action, index, start, count,
			vals, sizeof(uint8_t));
}

int vfio_irq_disable(struct vfio_dev *dev, uint32_t index)
{
	return vfio_irq_set_none(dev, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
}

int vfio_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vfio_eventfd_wait(int fd, int timeout_ms, uint64_t *count)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret;

	*count = 0;
	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	if (read(fd, count, sizeof(*count)) != sizeof(*count))
		return -errno;
	return 1;
}

int vfio_eventfd_read(int fd, uint64_t *count)
{
	*count = 0;
	if (read(fd, count, sizeof(*count)) == sizeof(*count))
		return 0;
	*count = 0;
	return errno == EAGAIN ? 0 : -errno;
}

int vfio_eventfd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

int vfio_intx_enable(struct vfio_dev *dev, int trigger, int unmask)
{
	int ret;

	ret = vfio_irq_set_eventfds(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trigger);
	if (!ret && unmask >= 0)
		ret = vfio_irq_set_eventfds_action(dev, VFIO_PCI_INTX_IRQ_INDEX,
						   VFIO_IRQ_SET_ACTION_UNMASK,
						   0, 1, &unmask);
	return ret;
}

int vfio_command_intx_disable(struct vfio_dev *dev, unsigned int off,
			      unsigned int len, bool on)
{
	const uint8_t bit = PCI_COMMAND_INTX_DISABLE >> 8;
	uint8_t buf[8], *hi;
	int ret;

	if (off > PCI_COMMAND + 1 || off + len <= PCI_COMMAND + 1 ||
	    len > sizeof(buf)) {
		errno = EINVAL;
		return fail(dev, "a write of %u bytes at %u misses the command register",
			    len, off);
	}
	ret = vfio_config_read(dev, off, buf, len);
	if (ret)
		return ret;
	hi = &buf[PCI_COMMAND + 1 - off];
	*hi = on ? *hi | bit : *hi & ~bit;
	return vfio_config_write(dev, off, buf, len);
}

int vfio_command_intx_disabled(struct vfio_dev *dev, bool *on)
{
	uint16_t cmd;
	int ret;

	ret = vfio_config_read16(dev, PCI_COMMAND, &cmd);
	*on = !ret && (cmd & PCI_COMMAND_INTX_DISABLE);
	return ret;
}

int vfio_edu_open(struct vfio_dev *dev, const char *bdf)
{
	uint32_t ident;
	int ret;

	ret = vfio_dev_open(dev, bdf);
	if (!ret)
		ret = vfio_command_set(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!ret)
		ret = vfio_bar_read32(dev, EDU_BAR, EDU_IDENT, &ident);
	if (!ret && ident != EDU_IDENT_VALUE) {
		errno = ENODEV;
		return fail(dev, "%s is not an edu device (ident 0x%08x)", bdf,
			    ident);
	}
	return ret;
}

int vfio_edu_raise(struct vfio_dev *dev, uint32_t bits)
{
	return vfio_bar_write32(dev, EDU_BAR, EDU_IRQ_RAISE, bits);
}

int vfio_edu_ack(struct vfio_dev *dev)
{
	uint32_t status;
	int ret;

	ret = vfio_bar_read32(dev, EDU_BAR, EDU_IRQ_STATUS, &status);
	if (ret || !status)
		return ret;
	return vfio_bar_write32(dev, EDU_BAR, EDU_IRQ_ACK, status);
}

int vfio_edu_open_eventfds(struct vfio_dev *dev, const char *bdf, int *fds,
			   int n)
{
	int i, ret;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	ret = vfio_edu_open(dev, bdf);
	for (i = 0; !ret && i < n; i++) {
		fds[i] = vfio_eventfd();
		if (fds[i] < 0)
			ret = fail(dev, "eventfd");
	}
	return ret;
}

void vfio_edu_close_eventfds(struct vfio_dev *dev, int *fds, int n)
{
	int i;

	if (dev->device_fd >= 0) {
		vfio_irq_disable(dev, VFIO_PCI_MSI_IRQ_INDEX);
		vfio_irq_disable(dev, VFIO_PCI_INTX_IRQ_INDEX);
		vfio_edu_ack(dev);
	}
	vfio_dev_close(dev);
	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int vfio_sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	n = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return n;
}

int vfio_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	n = n < 0 ? -errno : n;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return 0;
}

int vfio_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(buf, len, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return 0;
}

void vfio_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}
