/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers for VFIO tests: open a PCI device by BDF through its IOMMU
 * group and a type1v2 container, access its config space and BARs, query and
 * set interrupts, wait on eventfds.
 *
 * Functions returning int return 0 (or a count) on success and -errno on
 * failure, so that a test can report strerror(-ret).
 */
#ifndef VFIO_UTIL_H
#define VFIO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

struct vfio_dev {
	char bdf[32];
	int group;			/* IOMMU group number */
	int container_fd;
	int group_fd;
	int device_fd;
	struct vfio_device_info info;
	struct vfio_region_info config;	/* config space region */
	struct vfio_region_info bar[VFIO_PCI_ROM_REGION_INDEX];
	void *bar_map[VFIO_PCI_ROM_REGION_INDEX]; /* NULL if not mapped */
	char err[256];			/* what failed, when a call fails */
};

/* The BDF to test: argv[1] if given, else $VPI_BDF, else NULL. */
const char *vfio_test_bdf(int argc, char **argv);

int vfio_dev_open(struct vfio_dev *dev, const char *bdf);
void vfio_dev_close(struct vfio_dev *dev);

int vfio_config_read(struct vfio_dev *dev, uint64_t off, void *buf, size_t len);
int vfio_config_write(struct vfio_dev *dev, uint64_t off, const void *buf,
		      size_t len);
int vfio_config_read16(struct vfio_dev *dev, uint64_t off, uint16_t *val);
int vfio_config_write16(struct vfio_dev *dev, uint64_t off, uint16_t val);
/* Sets bits in PCI_COMMAND, e.g. PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER. */
int vfio_command_set(struct vfio_dev *dev, uint16_t bits);

/* 32-bit BAR access, through the mmap when there is one, else pread/pwrite. */
int vfio_bar_read32(struct vfio_dev *dev, int bar, uint64_t off, uint32_t *val);
int vfio_bar_write32(struct vfio_dev *dev, int bar, uint64_t off, uint32_t val);

int vfio_irq_info(struct vfio_dev *dev, uint32_t index,
		  struct vfio_irq_info *info);
/* VFIO_DEVICE_SET_IRQS with DATA_EVENTFD | ACTION_TRIGGER; fd -1 unsets. */
int vfio_irq_set_eventfds(struct vfio_dev *dev, uint32_t index, uint32_t start,
			  uint32_t count, const int *fds);
/* VFIO_DEVICE_SET_IRQS with DATA_NONE and ACTION (MASK, UNMASK, TRIGGER). */
int vfio_irq_set_none(struct vfio_dev *dev, uint32_t index, uint32_t action,
		      uint32_t start, uint32_t count);
/* VFIO_DEVICE_SET_IRQS with DATA_BOOL and ACTION. */
int vfio_irq_set_bool(struct vfio_dev *dev, uint32_t index, uint32_t action,
		      uint32_t start, uint32_t count, const uint8_t *vals);
/* Disables an index: DATA_NONE | ACTION_TRIGGER with count 0. */
int vfio_irq_disable(struct vfio_dev *dev, uint32_t index);

/* A non-blocking eventfd, or -errno. */
int vfio_eventfd(void);
/*
 * Waits up to timeout_ms for the eventfd to be signalled, then reads (and so
 * resets) its counter into *count. Returns 1 when signalled, 0 on timeout.
 */
int vfio_eventfd_wait(int fd, int timeout_ms, uint64_t *count);

#endif /* VFIO_UTIL_H */
