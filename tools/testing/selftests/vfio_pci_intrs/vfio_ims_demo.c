// SPDX-License-Identifier: GPL-2.0
/*
 * Demonstration, not a test: opens a virtual device of the IDXD-style test
 * variant driver (tools/vidxd) through VFIO, enables each of its MSI-X
 * vectors the way QEMU does, has the driver fire each vector (the emulated
 * vector 0 by vfio_pci_send_signal(), the others, backed by host IMS
 * interrupts, by edu DMA writes of their IMS slot's message) and prints
 * how many interrupts reached each vector's eventfd, plus the
 * /proc/interrupts lines of the device's IMS interrupts, the module's
 * debugfs view of the device (if it has one) and the driver's view of the
 * device's IMS slots.
 *
 * Usage: vfio_ims_demo UUID [ROUNDS]
 * Exits non-zero if an interrupt did not arrive where it should.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include "vfio_util.h"

#define NVEC		8	/* the driver's vectors per device */
#define IRQ_WAIT_MS	5000	/* an IMS fire is one or two ~100 ms edu DMAs */
#define DBG		"/sys/kernel/debug/vpi-vidxd"
#define MODULE_DBG	"/sys/kernel/debug/vfio-pci-intrs"

static void show_file(const char *path, const char *filter)
{
	char line[512];
	bool first = true;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!filter || first || strstr(line, filter))
			printf("  %s", line);
		first = false;
	}
	fclose(f);
}

/* Asks the driver to fire vector @v of device @uuid: 0 or -errno. */
static int vidxd_fire(const char *uuid, int v)
{
	char path[PATH_MAX], val[16];

	snprintf(path, sizeof(path), DBG "/%s/fire", uuid);
	snprintf(val, sizeof(val), "%d", v);
	return vfio_sysfs_write(path, val);
}

int main(int argc, char **argv)
{
	long counted[NVEC] = { 0 }, fired[NVEC] = { 0 };
	int efd[NVEC], fd = -1, rounds, ret, i, r, status = 0;
	char path[PATH_MAX];
	struct vfio_dev dev;
	uint64_t count;

	if (argc < 2) {
		fprintf(stderr, "usage: %s UUID [ROUNDS]\n", argv[0]);
		return 2;
	}
	rounds = argc > 2 ? atoi(argv[2]) : 2;
	ret = vfio_dev_open(&dev, argv[1]);
	if (ret) {
		fprintf(stderr, "open: %s: %s\n", dev.err, strerror(-ret));
		return 1;
	}
	for (i = 0; i < NVEC && !ret; i++) {
		efd[i] = vfio_eventfd();
		if (efd[i] < 0)
			ret = efd[i];
	}
	/* QEMU's way in: MSI-X on with no live vector, then one per call. */
	if (!ret)
		ret = vfio_irq_set_eventfds(&dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					    &fd);
	for (i = 0; i < NVEC && !ret; i++)
		ret = vfio_irq_set_eventfds(&dev, VFIO_PCI_MSIX_IRQ_INDEX, i, 1,
					    &efd[i]);
	if (ret) {
		fprintf(stderr, "setup: %s: %s\n", dev.err, strerror(-ret));
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NVEC; i++) {
			ret = vidxd_fire(argv[1], i);
			if (ret) {
				fprintf(stderr, "fire vector %d: %s\n", i,
					strerror(-ret));
				continue;
			}
			fired[i]++;
			if (vfio_eventfd_wait(efd[i], IRQ_WAIT_MS, &count) == 1)
				counted[i] += count;
		}
	}
	/* Nothing more arrives late, or anywhere else. */
	usleep(200 * 1000);
	for (i = 0; i < NVEC; i++) {
		if (!vfio_eventfd_read(efd[i], &count))
			counted[i] += count;
		printf("vidxd %s MSI-X vector %d (%s): fired %ld, eventfd counted %ld\n",
		       argv[1], i, i ? "IMS" : "emulated", fired[i], counted[i]);
		if (fired[i] != rounds || counted[i] != rounds)
			status = 1;
	}
	printf("/proc/interrupts (IMS):\n");
	show_file("/proc/interrupts", argv[1]);
	snprintf(path, sizeof(path), MODULE_DBG "/%s/vectors", argv[1]);
	if (access(path, R_OK) == 0) {
		printf("%s:\n", path);
		show_file(path, NULL);
	} else {
		printf("%s: none (the module has no debugfs view of C API contexts)\n",
		       path);
	}
	snprintf(path, sizeof(path), DBG "/%s/slots", argv[1]);
	printf("%s:\n", path);
	show_file(path, NULL);
	vfio_irq_disable(&dev, VFIO_PCI_MSIX_IRQ_INDEX);
	vfio_dev_close(&dev);
	return status;
}
