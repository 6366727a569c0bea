// SPDX-License-Identifier: GPL-2.0
/*
 * Demonstration, not a test: makes an igb device send each of its MSI-X
 * vectors through VFIO (EICS) and prints how many reached each vector's
 * eventfd, plus the /proc/interrupts lines of the VFIO interrupts and, for a
 * device bound to vfio-pci-intrs, its debugfs view of the vector contexts.
 *
 * Usage: vfio_igb_demo BDF [ROUNDS]
 * Exits non-zero if an interrupt did not arrive where it should.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include "igb.h"
#include "vfio_util.h"

#define IRQ_WAIT_MS	2000

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

int main(int argc, char **argv)
{
	int efd[IGB_MSIX_VECTORS];
	long counted[IGB_MSIX_VECTORS] = { 0 };
	char path[PATH_MAX];
	struct vfio_dev dev;
	int rounds, ret, i, r, status = 0;
	uint64_t count;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BDF [ROUNDS]\n", argv[0]);
		return 2;
	}
	rounds = argc > 2 ? atoi(argv[2]) : 2;
	ret = vfio_dev_open(&dev, argv[1]);
	if (ret) {
		fprintf(stderr, "open: %s: %s\n", dev.err, strerror(-ret));
		return 1;
	}
	ret = vfio_command_set(&dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	for (i = 0; i < IGB_MSIX_VECTORS && !ret; i++) {
		efd[i] = vfio_eventfd();
		if (efd[i] < 0)
			ret = efd[i];
	}
	/* QEMU's way in: MSI-X on with no live vector, then one per call. */
	if (!ret)
		ret = vfio_irq_set_eventfds(&dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					    (int[]){ -1 });
	for (i = 0; i < IGB_MSIX_VECTORS && !ret; i++)
		ret = vfio_irq_set_eventfds(&dev, VFIO_PCI_MSIX_IRQ_INDEX, i, 1,
					    &efd[i]);
	if (!ret)
		ret = vfio_bar_write32(&dev, IGB_BAR, IGB_GPIE,
				       IGB_GPIE_MULTIPLE_MSIX);
	if (!ret)
		ret = vfio_bar_write32(&dev, IGB_BAR, IGB_EIAC, IGB_MSIX_ALL);
	if (!ret)
		ret = vfio_bar_write32(&dev, IGB_BAR, IGB_EIMS, IGB_MSIX_ALL);
	if (ret) {
		fprintf(stderr, "setup: %s: %s\n", dev.err, strerror(-ret));
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < IGB_MSIX_VECTORS; i++) {
			ret = vfio_bar_write32(&dev, IGB_BAR, IGB_EICS, 1u << i);
			if (ret || vfio_eventfd_wait(efd[i], IRQ_WAIT_MS, &count) != 1)
				continue;
			counted[i] += count;
		}
	}
	for (i = 0; i < IGB_MSIX_VECTORS; i++) {
		printf("igb %s MSI-X vector %d: raised %d, eventfd counted %ld\n",
		       argv[1], i, rounds, counted[i]);
		if (counted[i] != rounds)
			status = 1;
	}
	show_file("/proc/interrupts", "vfio-msix");
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/vfio-pci-intrs/%s/vectors", argv[1]);
	if (access(path, R_OK) == 0) {
		printf("%s:\n", path);
		show_file(path, NULL);
	}
	vfio_irq_disable(&dev, VFIO_PCI_MSIX_IRQ_INDEX);
	vfio_dev_close(&dev);
	return status;
}
