// SPDX-License-Identifier: GPL-2.0
/*
 * Demonstration, not a test: makes an edu device raise MSI and INTx
 * interrupts through VFIO and prints how many reached the eventfd, plus the
 * /proc/interrupts lines of the VFIO interrupts and, for a device bound to
 * vfio-pci-intrs, its debugfs view of the vector contexts.
 *
 * Usage: vfio_edu_demo BDF [ROUNDS]
 * Exits non-zero if an interrupt did not arrive.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "edu.h"
#include "vfio_util.h"

#define IRQ_WAIT_MS	2000
#define RAISE_VALUE	0x5a

static void driver_of(const char *bdf, char *buf, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0) {
		snprintf(buf, size, "no driver");
		return;
	}
	link[len] = '\0';
	snprintf(buf, size, "%s", basename(link));
}

/* Prints the header and the "vfio" lines of /proc/interrupts. */
static void show_vfio_interrupts(void)
{
	char line[512];
	bool first = true;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (first || strstr(line, "vfio"))
			fputs(line, stdout);
		first = false;
	}
	fclose(f);
}

/* Prints vfio-pci-intrs' debugfs view of the device, if it has one. */
static void show_debugfs_view(const char *bdf)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/vfio-pci-intrs/%s/vectors", bdf);
	f = fopen(path, "r");
	if (!f)
		return;
	printf("%s:\n", path);
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
}

static int fail(struct vfio_dev *dev, const char *what, int ret)
{
	fprintf(stderr, "%s: %s: %s\n", what, dev->err, strerror(-ret));
	return -1;
}

static int ack(struct vfio_dev *dev)
{
	uint32_t status;
	int ret;

	ret = vfio_bar_read32(dev, EDU_BAR, EDU_IRQ_STATUS, &status);
	if (!ret && status)
		ret = vfio_bar_write32(dev, EDU_BAR, EDU_IRQ_ACK, status);
	return ret;
}

/*
 * Raises the interrupt ROUNDS times on index (MSI or INTx, set up by the
 * caller) and returns the sum of the eventfd counts, or -1 on error.
 */
static long raise_and_count(struct vfio_dev *dev, uint32_t index, int efd,
			    int rounds)
{
	long total = 0;
	uint64_t count;
	int i, ret;

	for (i = 0; i < rounds; i++) {
		ret = vfio_bar_write32(dev, EDU_BAR, EDU_IRQ_RAISE, RAISE_VALUE);
		if (ret)
			return fail(dev, "raise", ret);
		ret = vfio_eventfd_wait(efd, IRQ_WAIT_MS, &count);
		if (ret < 0)
			return fail(dev, "eventfd", ret);
		total += count;
		ret = ack(dev);
		if (ret)
			return fail(dev, "ack", ret);
		if (index == VFIO_PCI_INTX_IRQ_INDEX) {
			ret = vfio_irq_set_none(dev, index, VFIO_IRQ_SET_ACTION_UNMASK,
						0, 1);
			if (ret)
				return fail(dev, "unmask", ret);
		}
	}
	return total;
}

int main(int argc, char **argv)
{
	static const struct {
		uint32_t index;
		const char *name;
	} kinds[] = {
		{ VFIO_PCI_MSI_IRQ_INDEX, "MSI" },
		{ VFIO_PCI_INTX_IRQ_INDEX, "INTx" },
	};
	struct vfio_dev dev;
	char driver[64];
	int rounds, efd, ret, status = 0;
	size_t k;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BDF [ROUNDS]\n", argv[0]);
		return 2;
	}
	rounds = argc > 2 ? atoi(argv[2]) : 3;
	driver_of(argv[1], driver, sizeof(driver));

	ret = vfio_dev_open(&dev, argv[1]);
	if (ret) {
		fail(&dev, "open", ret);
		return 1;
	}
	ret = vfio_command_set(&dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (ret) {
		fail(&dev, "enable", ret);
		return 1;
	}
	efd = vfio_eventfd();
	if (efd < 0) {
		perror("eventfd");
		return 1;
	}

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		long counted;

		ret = vfio_irq_set_eventfds(&dev, kinds[k].index, 0, 1, &efd);
		if (ret) {
			fail(&dev, kinds[k].name, ret);
			status = 1;
			continue;
		}
		counted = raise_and_count(&dev, kinds[k].index, efd, rounds);
		printf("edu %s via %s: %s raised %d, eventfd counted %ld\n",
		       argv[1], driver, kinds[k].name, rounds, counted);
		show_vfio_interrupts();
		show_debugfs_view(argv[1]);
		if (counted != rounds)
			status = 1;
		ret = vfio_irq_disable(&dev, kinds[k].index);
		if (ret) {
			fail(&dev, "disable", ret);
			status = 1;
		}
	}
	close(efd);
	vfio_dev_close(&dev);
	return status;
}
