// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for known INTx bugs, on QEMU's edu device through a VFIO
 * PCI driver:
 *
 * - INTx trigger removed while INTx stays enabled: loopback, unmask and a
 *   device interrupt signal nothing and crash nothing (CVE-2024-26812);
 * - the INTx-disable bit of the command register, written through the
 *   config region, masks delivery and clearing it re-signals a pending
 *   interrupt, also raced against SET_IRQS (CVE-2024-26810);
 * - the unmask eventfd: a second registration is EBUSY, one closed by the
 *   user (POLLHUP) can be replaced at once; one that is also the trigger
 *   loops while the device asserts its line, without locking a CPU up.
 *
 * Usage: vfio_intx_test [BDF] [harness options]; the BDF may also come from
 * $VPI_BDF. The device must be bound to the VFIO driver under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_util.h"
#include "vfio_test.h"

#define RAISE_VALUE	0x5a
#define RACE_SECONDS	3

#define INTX		VFIO_PCI_INTX_IRQ_INDEX
#define MSI		VFIO_PCI_MSI_IRQ_INDEX
#define TRIGGER		VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK		VFIO_IRQ_SET_ACTION_MASK
#define UNMASK		VFIO_IRQ_SET_ACTION_UNMASK

static const char *edu_bdf;

FIXTURE(intx) {
	struct vfio_dev dev;
	union {
		int fds[3];
		struct {
			int efd;	/* trigger */
			int efd2;	/* another trigger */
			int ufd;	/* unmask eventfd */
		};
	};
};

FIXTURE_SETUP(intx)
{
	ASSERT_OK(vfio_edu_open_eventfds(&self->dev, edu_bdf, self->fds,
					 ARRAY_SIZE(self->fds)));
}

FIXTURE_TEARDOWN(intx)
{
	vfio_edu_close_eventfds(&self->dev, self->fds, ARRAY_SIZE(self->fds));
}

/* INTx unmask eventfd (the resample eventfd of KVM); -1 drops it. */
static int set_irqs_unmask_eventfd(struct vfio_dev *dev, int fd)
{
	return vfio_irq_set_eventfds_action(dev, INTX, UNMASK, 0, 1, &fd);
}

static int set_irqs_mask_eventfd(struct vfio_dev *dev, int fd)
{
	return vfio_irq_set_eventfds_action(dev, INTX, MASK, 0, 1, &fd);
}

/*
 * One round of a working line: the device raises, the trigger fires once;
 * acknowledged and unmasked by the unmask eventfd, the line stays quiet.
 */
#define ASSERT_ROUND(trigger, unmask) do { \
	const int round_trigger = (trigger); \
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE)); \
	ASSERT_FIRES_ONCE(round_trigger); \
	ASSERT_OK(vfio_edu_ack(&self->dev)); \
	ASSERT_OK(vfio_eventfd_signal(unmask)); \
	ASSERT_QUIET(round_trigger); \
} while (0)

/*
 * How a test writes the command register through the config region: at
 * which offset and with how many bytes (the INTx-disable bit is bit 2 of
 * byte 5).
 */
struct cmd_write {
	unsigned int off, len;
};

static const struct cmd_write cmd_writes[] = {
	{ PCI_COMMAND, 2 },		/* the register */
	{ PCI_COMMAND + 1, 1 },		/* its high byte */
	{ PCI_COMMAND, 4 },		/* with the status register */
	{ PCI_VENDOR_ID, 8 },		/* from the start of the header */
};

/* Sets or clears PCI_COMMAND_INTX_DISABLE with a write of kind w. */
static int disintx(struct vfio_dev *dev, const struct cmd_write *w, bool on)
{
	return vfio_command_intx_disable(dev, w->off, w->len, on);
}

/*
 * CVE-2024-26812: the INTx trigger is removed (-1) while INTx stays
 * enabled. Loopback, unmask (ioctl and eventfd) and a device interrupt must
 * signal nothing, and must not crash; a new trigger then gets the interrupt
 * that is still pending. The same for INTx enabled without a trigger.
 */
TEST_F(intx, intx_trigger_removed)
{
	uint8_t on = 1;
	int none = -1;

	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, self->ufd));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, INTX, 0, 1, &none));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, TRIGGER, 0, 1));
	ASSERT_OK(vfio_irq_set_bool(&self->dev, INTX, TRIGGER, 0, 1, &on));
	ASSERT_QUIET(self->efd);

	/* Still INTx: the handler masks the line, nothing is signalled. */
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSI, 0, 1,
						 &self->efd2));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, MASK, 0, 1));
	ASSERT_OK(vfio_irq_set_bool(&self->dev, INTX, UNMASK, 0, 1, &on));
	ASSERT_QUIET(self->efd);

	/* A new trigger: the interrupt still pending arrives on unmask. */
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, INTX, 0, 1, &self->efd2));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_QUIET(self->efd2);
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, INTX, TRIGGER, 0, 1));

	/* INTx enabled with no trigger at all (-1 from the start). */
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, INTX, 0, 1, &none));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, TRIGGER, 0, 1));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, INTX, 0, 1, &self->efd));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
}

/*
 * The INTx-disable bit, written through the config region in several ways
 * while INTx is enabled, masks delivery; clearing it re-signals a pending
 * interrupt once (CVE-2024-26810 path).
 */
TEST_F(intx, intx_disable_bit_masks)
{
	unsigned int i;
	bool on;

	for (i = 0; i < ARRAY_SIZE(cmd_writes); i++) {
		const struct cmd_write *w = &cmd_writes[i];

		TH_LOG("command register written at %u, %u bytes", w->off,
		       w->len);
		ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, -1));
		ASSERT_OK(disintx(&self->dev, w, true));
		ASSERT_OK(vfio_command_intx_disabled(&self->dev, &on));
		ASSERT_TRUE(on);
		ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
		ASSERT_QUIET(self->efd);
		/* Unmasking does not override the bit. */
		ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
		ASSERT_QUIET(self->efd);
		ASSERT_OK(disintx(&self->dev, w, false));
		ASSERT_OK(vfio_command_intx_disabled(&self->dev, &on));
		ASSERT_FALSE(on);
		ASSERT_FIRES_ONCE(self->efd);
		ASSERT_QUIET(self->efd);
		ASSERT_OK(vfio_edu_ack(&self->dev));
		ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
		ASSERT_QUIET(self->efd);
		ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
		ASSERT_FIRES_ONCE(self->efd);
		ASSERT_OK(vfio_edu_ack(&self->dev));
		ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
	}
}

/*
 * The bit set while an interrupt is delivered and automasked: unmasking
 * and loopback do nothing until it is cleared. The bit set before INTx is
 * enabled: INTx starts masked.
 */
TEST_F(intx, intx_disable_bit_states)
{
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, self->ufd));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(disintx(&self->dev, &cmd_writes[0], true));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_QUIET(self->efd);
	/* Loopback is suppressed while the bit is set, too. */
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, TRIGGER, 0, 1));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(disintx(&self->dev, &cmd_writes[0], false));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));

	ASSERT_OK(disintx(&self->dev, &cmd_writes[0], true));
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, -1));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(disintx(&self->dev, &cmd_writes[0], false));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
}

struct race {
	struct vfio_dev *dev;
	int efd, ufd;
	atomic_bool stop;
	atomic_int errors;
	unsigned long rounds;
	char err[256];
};

static void race_error(struct race *r, const char *what, int ret)
{
	if (atomic_fetch_add(&r->errors, 1) == 0)
		snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(-ret));
}

/* INTx on (trigger and unmask eventfd), loopback, off; again. */
static void *race_set_irqs(void *arg)
{
	struct race *r = arg;
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = vfio_intx_enable(r->dev, r->efd, r->ufd);
		if (ret) {
			race_error(r, "INTx enable", ret);
			break;
		}
		ret = vfio_irq_set_none(r->dev, INTX, UNMASK, 0, 1);
		if (ret)
			race_error(r, "INTx unmask", ret);
		ret = vfio_irq_disable(r->dev, INTX);
		if (ret) {
			race_error(r, "INTx disable", ret);
			break;
		}
		r->rounds++;
	}
	return NULL;
}

/*
 * SET_IRQS enabling and disabling INTx in one thread, the INTx-disable bit
 * toggled through the config region in another, for a few seconds; then
 * the state must be consistent: bit clear, INTx off, and a fresh enable
 * delivers exactly once.
 */
TEST_F(intx, intx_disable_bit_race)
{
	struct race r = {
		.dev = &self->dev, .efd = self->efd, .ufd = self->ufd,
	};
	unsigned long toggles = 0;
	pthread_t thread;
	time_t end;
	bool on;
	int ret;

	ASSERT_EQ(0, pthread_create(&thread, NULL, race_set_irqs, &r));
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end && !atomic_load(&r.errors)) {
		const struct cmd_write *w = &cmd_writes[toggles % 2];

		ret = disintx(&self->dev, w, !(toggles & 2));
		if (ret) {
			race_error(&r, "command write", ret);
			break;
		}
		toggles++;
	}
	atomic_store(&r.stop, true);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TH_LOG("%lu INTx enable/disable rounds, %lu command writes",
	       r.rounds, toggles);
	ASSERT_EQ(0, atomic_load(&r.errors)) TH_LOG("%s", r.err);
	ASSERT_LT(0, r.rounds);
	ASSERT_LT(0, toggles);

	ASSERT_OK(disintx(&self->dev, &cmd_writes[0], false));
	ASSERT_OK(vfio_command_intx_disabled(&self->dev, &on));
	ASSERT_FALSE(on);
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, INTX, TRIGGER, 0, 1));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd2, self->ufd));
	ASSERT_ROUND(self->efd2, self->ufd);
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
	ASSERT_QUIET(self->efd);
}

/* One unmask eventfd at a time: the second registration is EBUSY. */
TEST_F(intx, intx_unmask_eventfd_twice)
{
	int none = -1;

	/* Not without INTx, and no mask eventfd at all. */
	ASSERT_ERR(EINVAL, set_irqs_unmask_eventfd(&self->dev, self->ufd));
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, self->ufd));
	ASSERT_ERR(EBUSY, set_irqs_unmask_eventfd(&self->dev, self->efd2));
	ASSERT_ERR(EBUSY, set_irqs_unmask_eventfd(&self->dev, self->ufd));
	ASSERT_ERR(ENOTTY, set_irqs_mask_eventfd(&self->dev, self->efd2));

	/* Dropped (-1), another one can come; the first no longer unmasks. */
	ASSERT_OK(set_irqs_unmask_eventfd(&self->dev, none));
	ASSERT_OK(set_irqs_unmask_eventfd(&self->dev, self->efd2));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_eventfd_signal(self->efd2));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_eventfd_signal(self->efd2));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
}

/*
 * The user closes the unmask eventfd (the kernel sees POLLHUP): another can
 * be registered right away, and unmasks.
 */
TEST_F(intx, intx_unmask_eventfd_closed)
{
	int gone = vfio_eventfd();

	ASSERT_LE(0, gone);
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, gone));
	ASSERT_EQ(0, close(gone));
	ASSERT_OK(set_irqs_unmask_eventfd(&self->dev, self->ufd));

	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	/* Still asserted: the unmask re-signals. */
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_QUIET(self->efd);
	ASSERT_ROUND(self->efd, self->ufd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
}

/* The interrupts of the device's INTx line so far (/proc/interrupts). */
static unsigned long long intx_interrupts(const char *bdf)
{
	char line[512], name[64], *p, *end;
	unsigned long long n = 0, v;
	FILE *f = fopen("/proc/interrupts", "re");

	snprintf(name, sizeof(name), "vfio-intx(%s)", bdf);
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, name))
			continue;
		p = strchr(line, ':');
		/* The per-CPU counts follow the colon. */
		for (p = p ? p + 1 : line;; p = end) {
			v = strtoull(p, &end, 10);
			if (end == p)
				break;
			n += v;
		}
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * The unmask eventfd is the trigger too: each interrupt unmasks the line
 * that raised it, which the device still asserts, so it comes again until
 * the device is acknowledged (the virqfd reads the eventfd as it goes, so
 * the user sees few counts, if any). With DisINTx masking the loop runs in
 * the virqfd's work item, with both drivers. On an exclusive line
 * (vfio_pci.nointxmask=1) upstream unmasks from inside the line's own
 * handler and the interrupt storms, locking the CPU up: skipped there;
 * vfio-pci-intrs leaves that unmask to the work item. Either way the loop
 * ends with the acknowledgment, unmasked, and the line then works as
 * before.
 */
TEST_F(intx, intx_unmask_eventfd_is_trigger)
{
	char drv[64] = "", exclusive[8] = "";
	unsigned long long before, during;
	uint64_t count;
	int none = -1;

	ASSERT_OK(vfio_driver_of(edu_bdf, drv, sizeof(drv)));
	vfio_sysfs_read("/sys/module/vfio_pci/parameters/nointxmask", exclusive,
			sizeof(exclusive));
	if (!strcmp(drv, "vfio-pci") && exclusive[0] == 'Y')
		SKIP(return, "vfio-pci storms on an exclusive line here");

	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, self->efd));
	before = intx_interrupts(edu_bdf);
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	usleep(300 * 1000);
	during = intx_interrupts(edu_bdf) - before;
	ASSERT_OK(vfio_edu_ack(&self->dev));
	usleep(100 * 1000);
	vfio_note("%llu interrupts while the device asserted its line (%s line)", during,
		  exclusive[0] == 'Y' ? "exclusive" : "DisINTx-masked");
	ASSERT_LE(1, during);
	/* An exclusive line takes an interrupt per round of the loop. */
	if (exclusive[0] == 'Y')
		ASSERT_LE(2, during);

	/* Over once acknowledged: quiet, unmasked, working. */
	ASSERT_OK(set_irqs_unmask_eventfd(&self->dev, none));
	vfio_eventfd_wait(self->efd, 0, &count);
	ASSERT_QUIET(self->efd);
	ASSERT_OK(set_irqs_unmask_eventfd(&self->dev, self->ufd));
	ASSERT_ROUND(self->efd, self->ufd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
}

int main(int argc, char **argv)
{
	return vfio_test_main(argc, argv, &edu_bdf, "an edu");
}
