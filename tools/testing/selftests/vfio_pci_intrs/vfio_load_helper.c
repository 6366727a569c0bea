// SPDX-License-Identifier: GPL-2.0
/*
 * A VFIO user that keeps a device busy for vfio_teardown_test.sh: it
 * opens the device, enables its interrupts with eventfds (edu: INTx with an
 * unmask eventfd; igb: all MSI-X vectors and ERR; a tools/vidxd virtual
 * device: all its MSI-X vectors, IMS-backed but vector 0), sets a REQ
 * eventfd, prints "ready", then raises interrupts one after the other
 * (edu IRQ_RAISE, igb EICS, vidxd's debugfs "fire"), checks that each lands
 * exactly once on its eventfd, triggers vectors by loopback and replaces
 * their eventfds, until it is told to let go: by REQ (the device is being
 * unbound or removed) or by SIGTERM. After REQ it goes on for a moment, as
 * a VMM would, then closes everything, prints when it closed
 * (CLOCK_BOOTTIME, as /proc/uptime) and exits 0 when every raised
 * interrupt was counted once and nothing failed.
 *
 * Usage: vfio_load_helper BDF|UUID
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest.h"
#include "edu.h"
#include "igb.h"
#include "vfio_stress.h"
#include "vfio_util.h"

#define MAXVEC		10
#define WAIT_MS		5000	/* a vidxd fire takes two edu DMAs */
#define AFTER_REQ_MS	300

enum kind { EDU, IGB, VIDXD };

/* Set by the SIGTERM handler (an async-signal-safe flag). */
static sig_atomic_t terminated;

static void on_term(int sig)
{
	terminated = 1;
}

static double boottime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct helper {
	const char *name;
	enum kind kind;
	struct vfio_dev dev;
	int nvec;
	int efd[MAXVEC];
	int req, err, unmask;
	unsigned long raised, counted, loopbacks, replaced, errors;
};

static void __printf(2, 3) fail(struct helper *h, const char *fmt, ...)
{
	va_list ap;

	h->errors++;
	printf("# helper %s: FAIL: ", h->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int fire(struct helper *h, int v)
{
	char path[PATH_MAX], val[16];

	switch (h->kind) {
	case EDU:
		return vfio_edu_raise(&h->dev, 1);
	case IGB:
		return vfio_bar_write32(&h->dev, IGB_BAR, IGB_EICS, 1u << v);
	case VIDXD:
		snprintf(path, sizeof(path), "/sys/kernel/debug/vpi-vidxd/%s/%s", h->name, "fire");
		snprintf(val, sizeof(val), "%d", v);
		return vfio_sysfs_write(path, val);
	}
	return -EINVAL;
}

/* Whether REQ was signalled (reads it). */
static bool req_signalled(struct helper *h)
{
	uint64_t cnt;

	return !vfio_eventfd_read(h->req, &cnt) && cnt;
}

static int setup(struct helper *h)
{
	uint16_t id[2];
	int ret, v;

	ret = vfio_config_read(&h->dev, PCI_VENDOR_ID, id, sizeof(id));
	if (ret)
		return ret;
	if (id[0] == IGB_VENDOR_ID && id[1] == IGB_DEVICE_ID)
		h->kind = IGB;
	else if (id[0] == EDU_VENDOR_ID && id[1] == EDU_DEVICE_ID)
		h->kind = EDU;
	else if (id[0] == EDU_VENDOR_ID && id[1] == 0x11e9)
		h->kind = VIDXD;
	else
		return -ENODEV;
	h->nvec = h->kind == IGB ? IGB_MSIX_VECTORS : h->kind == VIDXD ? 8 : 1;
	for (v = 0; v < h->nvec; v++) {
		h->efd[v] = vfio_eventfd();
		if (h->efd[v] < 0)
			return h->efd[v];
	}
	h->req = vfio_eventfd();
	h->err = vfio_eventfd();
	h->unmask = vfio_eventfd();
	if (h->req < 0 || h->err < 0 || h->unmask < 0)
		return -EMFILE;
	if (h->kind != VIDXD) {
		ret = vfio_command_set(&h->dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		if (ret)
			return ret;
	}
	switch (h->kind) {
	case EDU:
		ret = vfio_intx_enable(&h->dev, h->efd[0], h->unmask);
		break;
	case IGB:
		ret = vfio_bar_write32(&h->dev, IGB_BAR, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
		for (v = 0; !ret && v < IGB_MSIX_VECTORS; v++)
			ret = vfio_bar_write32(&h->dev, IGB_BAR, IGB_EITR(v), 0);
		ret = ret ?: vfio_bar_write32(&h->dev, IGB_BAR, IGB_EIAC, IGB_MSIX_ALL);
		ret = ret ?: vfio_bar_write32(&h->dev, IGB_BAR, IGB_EIMS, IGB_MSIX_ALL);
		ret = ret ?: vfio_irq_set_eventfds(&h->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, h->nvec,
						   h->efd);
		ret = ret ?: vfio_irq_set_eventfds(&h->dev, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &h->err);
		break;
	case VIDXD:
		ret = vfio_irq_set_eventfds(&h->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, h->nvec, h->efd);
		break;
	}
	if (!ret)
		ret = vfio_irq_set_eventfds(&h->dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &h->req);
	return ret;
}

/*
 * Raises vector v and waits for it: 1 when counted once, 0 when the device
 * is going away (REQ came instead), -1 on failure.
 */
static int raise_once(struct helper *h, int v, bool *req)
{
	uint64_t cnt = 0;
	int ret;

	ret = fire(h, v);
	if (ret) {
		/* vidxd removes its control files before it signals REQ. */
		if (*req || vfio_eventfd_wait(h->req, 2000, &cnt) == 1) {
			*req = true;
			return 0;
		}
		fail(h, "raising vector %d: %s", v, strerror(-ret));
		return -1;
	}
	h->raised++;
	if (vfio_eventfd_wait(h->efd[v], WAIT_MS, &cnt) != 1) {
		fail(h, "vector %d: no interrupt within %d ms", v, WAIT_MS);
		return -1;
	}
	h->counted += cnt;
	if (cnt != 1)
		fail(h, "vector %d raised once, counted %llu", v, (unsigned long long)cnt);
	if (h->kind == EDU) {
		vfio_edu_ack(&h->dev);
		/* Automasked: unmask as KVM does, or by ioctl. */
		if (h->raised & 1)
			vfio_eventfd_signal(h->unmask);
		else
			vfio_irq_set_none(&h->dev, VFIO_PCI_INTX_IRQ_INDEX,
					  VFIO_IRQ_SET_ACTION_UNMASK, 0, 1);
	}
	return 1;
}

static void trigger_by_ioctl(struct helper *h, int v)
{
	uint32_t index = h->kind == EDU ? VFIO_PCI_INTX_IRQ_INDEX : VFIO_PCI_MSIX_IRQ_INDEX;
	uint64_t cnt;
	int ret;

	ret = vfio_irq_set_none(&h->dev, index, VFIO_IRQ_SET_ACTION_TRIGGER, v, 1);
	if (ret) {
		fail(h, "loopback trigger of vector %d: %s", v, strerror(-ret));
		return;
	}
	h->loopbacks++;
	h->raised++;
	vfio_eventfd_read(h->efd[v], &cnt);
	h->counted += cnt;
	if (cnt != 1)
		fail(h, "loopback trigger of vector %d counted %llu", v, (unsigned long long)cnt);
}

/* Replaces vector v's eventfd with a new one; the old one is closed. */
static void replace(struct helper *h, int v)
{
	uint32_t index = h->kind == EDU ? VFIO_PCI_INTX_IRQ_INDEX : VFIO_PCI_MSIX_IRQ_INDEX;
	int fd = vfio_eventfd(), ret;

	if (fd < 0) {
		fail(h, "eventfd: %s", strerror(-fd));
		return;
	}
	ret = vfio_irq_set_eventfds(&h->dev, index, v, 1, &fd);
	if (ret) {
		fail(h, "replacing the eventfd of vector %d: %s", v, strerror(-ret));
		close(fd);
		return;
	}
	close(h->efd[v]);
	h->efd[v] = fd;
	h->replaced++;
}

int main(int argc, char **argv)
{
	struct helper h = { .req = -1, .err = -1, .unmask = -1 };
	struct sigaction sa = { .sa_handler = on_term };
	double req_at = 0, closed_at;
	bool req = false;
	unsigned int seed;
	int ret, v, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF|UUID\n", argv[0]);
		return 2;
	}
	h.name = argv[1];
	for (v = 0; v < MAXVEC; v++)
		h.efd[v] = -1;
	sigaction(SIGTERM, &sa, NULL);
	seed = getpid();
	ret = vfio_dev_open(&h.dev, h.name);
	if (!ret)
		ret = setup(&h);
	if (ret) {
		printf("# helper %s: FAIL: setup: %s: %s\n", h.name, h.dev.err, strerror(-ret));
		return 1;
	}
	printf("ready\n");
	for (i = 0; !terminated; i++) {
		if (!req && req_signalled(&h)) {
			req = true;
			req_at = boottime();
			printf("# helper %s: REQ at %.3f\n", h.name, req_at);
		}
		/* After REQ, a moment more of interrupts, then let go. */
		if (req && (!req_at || boottime() - req_at > AFTER_REQ_MS / 1e3))
			break;
		v = rand_r(&seed) % h.nvec;
		if (i % 5 == 4)
			trigger_by_ioctl(&h, v);
		else if (i % 11 == 10 && !req)
			replace(&h, v);
		else if (raise_once(&h, v, &req) < 0 || h.errors > 10)
			break;
		usleep(2000);
	}
	/* Everything closed with the vectors still active. */
	vfio_dev_close(&h.dev);
	closed_at = boottime();
	for (v = 0; v < h.nvec; v++)
		close(h.efd[v]);
	close(h.req);
	close(h.err);
	close(h.unmask);
	printf("# helper %s: %s, raised %lu, counted %lu, loopbacks %lu, eventfds replaced %lu\n",
	       h.name, req ? "told by REQ" : terminated ? "told by SIGTERM" : "stopped",
	       h.raised, h.counted, h.loopbacks, h.replaced);
	printf("# helper %s: closed at %.3f\n", h.name, closed_at);
	if (h.raised != h.counted)
		h.errors++;
	return h.errors ? 1 : 0;
}
