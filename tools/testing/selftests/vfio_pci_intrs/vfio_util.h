/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers for VFIO tests: open a PCI device by BDF through its IOMMU
 * group and a type1v2 container, access its config space and BARs, query and
 * set interrupts, wait on eventfds. A mediated device is opened the same
 * way, by its UUID instead of a BDF (it has an IOMMU group of its own).
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

#include "kselftest.h"	/* __printf() */

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
/*
 * VFIO_DEVICE_SET_IRQS with DATA_EVENTFD and ACTION (MASK, UNMASK, TRIGGER);
 * fd -1 unsets.
 */
int vfio_irq_set_eventfds_action(struct vfio_dev *dev, uint32_t index,
				 uint32_t action, uint32_t start,
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

/*
 * Reads (and so resets) an eventfd's counter into *count without waiting:
 * 0 with *count 0 when it is not signalled. Returns 0 or -errno.
 */
int vfio_eventfd_read(int fd, uint64_t *count);

/* Writes 1 to an eventfd (what KVM does to an INTx unmask eventfd). */
int vfio_eventfd_signal(int fd);

/*
 * Enables INTx with eventfd trigger (-1: none) and registers unmask as its
 * unmask eventfd (-1: none).
 */
int vfio_intx_enable(struct vfio_dev *dev, int trigger, int unmask);
/*
 * Sets or clears PCI_COMMAND_INTX_DISABLE in the command register with one
 * write of len bytes at config offset off, which must cover PCI_COMMAND + 1
 * (the other bytes are written back as read).
 */
int vfio_command_intx_disable(struct vfio_dev *dev, unsigned int off,
			      unsigned int len, bool on);
/* Reads PCI_COMMAND_INTX_DISABLE from the command register. */
int vfio_command_intx_disabled(struct vfio_dev *dev, bool *on);

/*
 * QEMU's edu device (edu.h): opens it (as vfio_dev_open()), enables memory
 * and bus mastering and checks its identification register.
 */
int vfio_edu_open(struct vfio_dev *dev, const char *bdf);
/* Raises edu's interrupt (MSI when MSI is enabled, else INTx). */
int vfio_edu_raise(struct vfio_dev *dev, uint32_t bits);
/* Acknowledges every pending status bit; edu then lowers INTx. */
int vfio_edu_ack(struct vfio_dev *dev);
/*
 * Opens edu (as vfio_edu_open()) and n eventfds into fds[0..n-1], which
 * are -1 where none was made.
 */
int vfio_edu_open_eventfds(struct vfio_dev *dev, const char *bdf, int *fds,
			   int n);
/*
 * Undoes vfio_edu_open_eventfds(), whatever a test left enabled: disables
 * MSI and INTx, acknowledges edu, closes the device and the eventfds.
 */
void vfio_edu_close_eventfds(struct vfio_dev *dev, int *fds, int n);

/* Writes val to a sysfs file in one write: 0 or -errno. */
int vfio_sysfs_write(const char *path, const char *val);
/* Reads a sysfs file into buf (NUL-terminated, at most len - 1 bytes). */
int vfio_sysfs_read(const char *path, char *buf, size_t len);
/*
 * Puts the name of the driver PCI device bdf is bound to in buf; -ENOENT
 * when it has none.
 */
int vfio_driver_of(const char *bdf, char *buf, size_t len);

/* Prints one kselftest diagnostic line: "# ", the message, a newline. */
void vfio_note(const char *fmt, ...) __printf(1, 2);

#endif /* VFIO_UTIL_H */
