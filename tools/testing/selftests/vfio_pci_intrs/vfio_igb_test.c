// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X and MSI of QEMU's igb device through a VFIO PCI driver: GET_IRQ_INFO,
 * every MSI-X vector sent by the device landing once on its own eventfd and
 * on no other, the SET_IRQS sequences QEMU sends (enable with no vector, one
 * vector per call, bulk enable with unused vectors, removal, disable and
 * re-enable, vectors added while MSI-X is on), MSI, type switches, failed
 * calls and close with vectors active.
 *
 * Usage: vfio_igb_test [BDF] [harness options]; the BDF may also come from
 * $VPI_BDF. The device must be bound to the VFIO driver under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "igb.h"
#include "vfio_util.h"
#include "vfio_test.h"

/*
 * Open and close cycles with vectors active; an igb open or close costs a
 * function reset (seconds in a TCG guest), vfio_lifecycle_test does 20 on
 * edu.
 */
#define REOPEN_ROUNDS	3

#define NVEC		IGB_MSIX_VECTORS
/* Eventfds: two sets of one per vector, "A" (0..9) and "B" (10..19). */
#define NEFD		(2 * NVEC)
#define SET_B		NVEC
#define BIT_A(v)	(1u << (v))
#define BIT_B(v)	(1u << (SET_B + (v)))
#define ALL_A		IGB_MSIX_ALL
#define ALL_B		(IGB_MSIX_ALL << SET_B)

#define MSIX		VFIO_PCI_MSIX_IRQ_INDEX
#define MSI		VFIO_PCI_MSI_IRQ_INDEX
#define INTX		VFIO_PCI_INTX_IRQ_INDEX

static const char *igb_bdf;

FIXTURE(igb) {
	struct vfio_dev dev;
	int efd[NEFD];
};

/*
 * Readies the device to send MSI-X vector n for EICS bit n, every time:
 * Multiple_MSIX mode, no throttling, every cause enabled and auto-cleared.
 * A device reset (open and close do one) undoes it.
 */
static int igb_msix_causes(struct vfio_dev *dev)
{
	int ret, v;

	ret = vfio_bar_write32(dev, IGB_BAR, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
	for (v = 0; !ret && v < NVEC; v++)
		ret = vfio_bar_write32(dev, IGB_BAR, IGB_EITR(v), 0);
	if (!ret)
		ret = vfio_bar_write32(dev, IGB_BAR, IGB_EIAC, IGB_MSIX_ALL);
	if (!ret)
		ret = vfio_bar_write32(dev, IGB_BAR, IGB_EIMS, IGB_MSIX_ALL);
	return ret;
}

/* Readies the device to send MSI for an ICS write of IGB_ICR_MDAC. */
static int igb_msi_cause(struct vfio_dev *dev)
{
	int ret;

	ret = vfio_bar_write32(dev, IGB_BAR, IGB_GPIE, 0);
	if (!ret)
		ret = vfio_bar_write32(dev, IGB_BAR, IGB_ICR, ~0u);
	if (!ret)
		ret = vfio_bar_write32(dev, IGB_BAR, IGB_IMS, IGB_ICR_MDAC);
	return ret;
}

/* Stops the device from sending anything. */
static void igb_quiesce(struct vfio_dev *dev)
{
	vfio_bar_write32(dev, IGB_BAR, IGB_EIMC, ~0u);
	vfio_bar_write32(dev, IGB_BAR, IGB_IMC, ~0u);
	vfio_bar_write32(dev, IGB_BAR, IGB_EICR, ~0u);
	vfio_bar_write32(dev, IGB_BAR, IGB_ICR, ~0u);
	vfio_bar_write32(dev, IGB_BAR, IGB_GPIE, 0);
}

/* Opens the device and readies it (after setup, or after a close). */
static int igb_open(struct vfio_dev *dev)
{
	uint16_t id[2];
	int ret;

	ret = vfio_dev_open(dev, igb_bdf);
	if (!ret)
		ret = vfio_config_read(dev, PCI_VENDOR_ID, id, sizeof(id));
	if (!ret && (id[0] != IGB_VENDOR_ID || id[1] != IGB_DEVICE_ID)) {
		snprintf(dev->err, sizeof(dev->err),
			 "%s is %04x:%04x, not an igb", igb_bdf, id[0], id[1]);
		return -ENODEV;
	}
	if (!ret)
		ret = vfio_command_set(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!ret)
		ret = igb_msix_causes(dev);
	return ret;
}

FIXTURE_SETUP(igb)
{
	int i;

	for (i = 0; i < NEFD; i++)
		self->efd[i] = -1;
	ASSERT_OK(igb_open(&self->dev));
	for (i = 0; i < NEFD; i++) {
		self->efd[i] = vfio_eventfd();
		ASSERT_LE(0, self->efd[i]);
	}
}

FIXTURE_TEARDOWN(igb)
{
	int i;

	if (self->dev.device_fd >= 0) {
		igb_quiesce(&self->dev);
		vfio_irq_disable(&self->dev, MSIX);
		vfio_irq_disable(&self->dev, MSI);
		vfio_irq_disable(&self->dev, INTX);
	}
	vfio_dev_close(&self->dev);
	for (i = 0; i < NEFD; i++)
		if (self->efd[i] >= 0)
			close(self->efd[i]);
}

/* Makes the device send the MSI-X vectors of mask (EICS). */
static int igb_fire(struct vfio_dev *dev, uint32_t mask)
{
	return vfio_bar_write32(dev, IGB_BAR, IGB_EICS, mask);
}

static char efd_set(int i)
{
	return i < SET_B ? 'A' : 'B';
}

/* Asserts that eventfd i gets signalled, with a count of exactly 1. */
static void expect_once(struct __test_metadata *_metadata,
			const int *efd, int i)
{
	uint64_t count;

	ASSERT_EQ(1, vfio_eventfd_wait(efd[i], IRQ_WAIT_MS, &count))
		TH_LOG("eventfd %c%d: no interrupt within %d ms", efd_set(i),
		       i % NVEC, IRQ_WAIT_MS);
	ASSERT_EQ(1, count)
		TH_LOG("eventfd %c%d signalled %llu times", efd_set(i), i % NVEC,
		       (unsigned long long)count);
}

/*
 * Asserts that no eventfd gets signalled within QUIET_MS (nor was since it
 * was last read).
 */
static void expect_quiet(struct __test_metadata *_metadata,
			 const int *efd)
{
	uint64_t count;
	int i;

	usleep(QUIET_MS * 1000);
	for (i = 0; i < NEFD; i++) {
		ASSERT_EQ(0, vfio_eventfd_read(efd[i], &count));
		EXPECT_EQ(0, count)
			TH_LOG("eventfd %c%d: unexpected interrupt, count %llu",
			       efd_set(i), i % NVEC, (unsigned long long)count);
	}
}

/*
 * Asserts that every eventfd i in mask (over efd) is signalled exactly
 * once, and that no eventfd at all is signalled otherwise.
 */
static void expect_signals(struct __test_metadata *_metadata,
			   const int *efd, uint32_t mask)
{
	int i;

	for (i = 0; i < NEFD; i++)
		if (mask & (1u << i))
			expect_once(_metadata, efd, i);
	expect_quiet(_metadata, efd);
}

/* Sends the vectors of fire, then expects the eventfds of mask. */
static void fire_expect(struct __test_metadata *_metadata,
			struct vfio_dev *dev, const int *efd,
			uint32_t fire, uint32_t mask)
{
	ASSERT_DEV_OK(dev, igb_fire(dev, fire));
	expect_signals(_metadata, efd, mask);
}

/*
 * Sends each vector of fire alone, expecting the eventfd of set (0 or SET_B)
 * for that vector exactly once, then that nothing else was signalled: a
 * wrong eventfd signalled along the way would show as a count of 2 when its
 * own vector is sent, or in the final check.
 */
static void fire_each(struct __test_metadata *_metadata,
		      struct vfio_dev *dev, const int *efd,
		      uint32_t fire, int set)
{
	int v;

	for (v = 0; v < NVEC; v++) {
		if (!(fire & BIT_A(v)))
			continue;
		ASSERT_DEV_OK(dev, igb_fire(dev, BIT_A(v)));
		expect_once(_metadata, efd, set + v);
	}
	expect_quiet(_metadata, efd);
}

/* Sends each vector of fire alone, expecting no eventfd to be signalled. */
static void fire_each_silent(struct __test_metadata *_metadata,
			     struct vfio_dev *dev, const int *efd,
			     uint32_t fire)
{
	int v;

	for (v = 0; v < NVEC; v++)
		if (fire & BIT_A(v))
			ASSERT_DEV_OK(dev, igb_fire(dev, BIT_A(v)));
	expect_quiet(_metadata, efd);
}

/* Fills fds with the eventfds of set for the vectors of mask, -1 elsewhere. */
static void fds_of(const int *efd, int set, uint32_t mask, int *fds)
{
	int v;

	for (v = 0; v < NVEC; v++)
		fds[v] = mask & BIT_A(v) ? efd[set + v] : -1;
}

static bool msix_noresize(struct __test_metadata *_metadata,
			  struct vfio_dev *dev)
{
	struct vfio_irq_info info;

	ASSERT_DEV_OK(dev, vfio_irq_info(dev, MSIX, &info));
	return info.flags & VFIO_IRQ_INFO_NORESIZE;
}

/*
 * The guest unmasks vector nr (QEMU's vfio_msix_vector_use): without
 * NORESIZE the vector is set alone; with NORESIZE and nr beyond the enabled
 * vectors, MSI-X is disabled and enabled again with nr + 1 vectors, the
 * vectors in use (*in_use) keeping their eventfds. Uses the eventfds of set.
 */
static int qemu_vector_use(struct vfio_dev *dev, const int *efd,
			   bool noresize, uint32_t *in_use,
			   unsigned int *nr_vectors, unsigned int nr, int set)
{
	int fds[NVEC];
	int ret;

	*in_use |= BIT_A(nr);
	if (!noresize || nr < *nr_vectors)
		return vfio_irq_set_eventfds(dev, MSIX, nr, 1,
					     &efd[set + nr]);
	ret = vfio_irq_disable(dev, MSIX);
	if (ret)
		return ret;
	fds_of(efd, set, *in_use, fds);
	*nr_vectors = nr + 1;
	return vfio_irq_set_eventfds(dev, MSIX, 0, nr + 1, fds);
}

/* QEMU's MSI-X enable when no vector is in use: vector 0, no eventfd. */
static int qemu_msix_enable_no_vector(struct vfio_dev *dev)
{
	int fd = -1;

	return vfio_irq_set_eventfds(dev, MSIX, 0, 1, &fd);
}

TEST_F(igb, irq_info)
{
	struct vfio_irq_info info;

	/*
	 * igb has a 10-entry MSI-X table. vfio-pci reports NORESIZE for
	 * MSI-X only when vectors cannot be added one at a time
	 * (pci_msix_can_alloc_dyn()); the test guest's MSI-X domain (x86
	 * interrupt remapping) supports dynamic allocation, so upstream
	 * reports EVENTFD alone.
	 */
	ASSERT_OK(vfio_irq_info(&self->dev, MSIX, &info));
	EXPECT_EQ(MSIX, info.index);
	EXPECT_EQ(NVEC, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD, info.flags);
	/* One MSI vector (QEMU's igb asks for one), not resizable. */
	ASSERT_OK(vfio_irq_info(&self->dev, MSI, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
	/* Interrupt pin A. */
	ASSERT_OK(vfio_irq_info(&self->dev, INTX, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, info.flags);
	/* PCIe: the error index exists. */
	ASSERT_OK(vfio_irq_info(&self->dev, VFIO_PCI_ERR_IRQ_INDEX, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
	ASSERT_OK(vfio_irq_info(&self->dev, VFIO_PCI_REQ_IRQ_INDEX, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
}

/*
 * All vectors in one call: each lands once on its own eventfd only, alone
 * or all at once; a vector moved to another eventfd signals only that one.
 */
TEST_F(igb, msix_every_vector_once)
{
	int fds[NVEC];

	fds_of(self->efd, 0, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_each(_metadata, &self->dev, self->efd, ALL_A, 0);
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_A);

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 4, 1,
					&self->efd[SET_B + 4]));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A,
		    (ALL_A & ~BIT_A(4)) | BIT_B(4));
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

/* QEMU (a): MSI-X on with vector 0 and no eventfd, then one vector per call. */
TEST_F(igb, msix_qemu_enable_then_vector_use)
{
	bool noresize = msix_noresize(_metadata, &self->dev);
	unsigned int nr_vectors = 1, v;
	uint32_t in_use = 0;

	ASSERT_OK(qemu_msix_enable_no_vector(&self->dev));
	for (v = 0; v < NVEC; v++) {
		ASSERT_OK(qemu_vector_use(&self->dev, self->efd, noresize,
					  &in_use, &nr_vectors, v, 0));
		/* The new vector lands once. */
		ASSERT_OK(igb_fire(&self->dev, BIT_A(v)));
		expect_once(_metadata, self->efd, v);
	}
	expect_quiet(_metadata, self->efd);
	/* Every vector still lands, once. */
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_A);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

/*
 * Unused vectors (-1) in a bulk enable: sending them signals nothing, and
 * a loopback over the whole range signals exactly the vectors in use.
 */
static void bulk_with_holes(struct __test_metadata *_metadata,
			    struct vfio_dev *dev, const int *efd,
			    bool no_vector_first)
{
	const uint8_t bools[NVEC] = { 1, 1, 0, 0, 1, 1, 0, 0, 1, 1 };
	const uint32_t used = 0x155;	/* 0, 2, 4, 6, 8 */
	int fds[NVEC];

	if (no_vector_first)
		ASSERT_DEV_OK(dev, qemu_msix_enable_no_vector(dev));
	fds_of(efd, 0, used, fds);
	ASSERT_DEV_OK(dev, vfio_irq_set_eventfds(dev, MSIX, 0, NVEC, fds));

	ASSERT_DEV_OK(dev, vfio_irq_set_none(dev, MSIX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0,
					     NVEC));
	expect_signals(_metadata, efd, used);
	ASSERT_DEV_OK(dev, vfio_irq_set_bool(dev, MSIX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0,
					     NVEC, bools));
	expect_signals(_metadata, efd, BIT_A(0) | BIT_A(4) | BIT_A(8));
	ASSERT_DEV_OK(dev, vfio_irq_set_bool(dev, MSIX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 3, 3,
					     &bools[3]));
	expect_signals(_metadata, efd, BIT_A(4));

	/* The holes, one by one, then all together. */
	fire_each_silent(_metadata, dev, efd, ALL_A & ~used);
	fire_expect(_metadata, dev, efd, ALL_A & ~used, 0);
	fire_each(_metadata, dev, efd, used, 0);
	fire_expect(_metadata, dev, efd, ALL_A, used);
	ASSERT_DEV_OK(dev, vfio_irq_disable(dev, MSIX));
}

TEST_F(igb, msix_bulk_with_holes)
{
	bulk_with_holes(_metadata, &self->dev, self->efd, false);
}

/* QEMU (b): with dynamic MSI-X, QEMU enables with no vector first. */
TEST_F(igb, msix_qemu_bulk_with_holes)
{
	if (msix_noresize(_metadata, &self->dev))
		SKIP(return, "MSI-X is not resizable: QEMU enables in bulk at once");
	bulk_with_holes(_metadata, &self->dev, self->efd, true);
}

/* QEMU (c): a vector removed with -1 signals nothing, the others still do. */
TEST_F(igb, msix_remove_vector)
{
	const uint32_t removed = BIT_A(0) | BIT_A(3) | BIT_A(9);
	int fds[NVEC], none = -1, v;

	fds_of(self->efd, 0, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	for (v = 0; v < NVEC; v++) {
		if (!(removed & BIT_A(v)))
			continue;
		ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, v, 1, &none));
		ASSERT_OK(igb_fire(&self->dev, BIT_A(v)));
		/* Loopback of a vector without eventfd: nothing either. */
		ASSERT_OK(vfio_irq_set_none(&self->dev, MSIX,
					    VFIO_IRQ_SET_ACTION_TRIGGER, v, 1));
	}
	expect_quiet(_metadata, self->efd);
	fire_each(_metadata, &self->dev, self->efd, ALL_A & ~removed, 0);
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_A & ~removed);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

/*
 * QEMU (d): disable, then enable again with other eventfds (QEMU's way,
 * then in one call); once disabled, nothing reaches the old eventfds.
 * (What the device sends while MSI-X is off stays pending in its table and
 * would be delivered by the next enable, so that comes last.)
 */
TEST_F(igb, msix_disable_reenable)
{
	bool noresize = msix_noresize(_metadata, &self->dev);
	unsigned int nr_vectors = 1, v;
	uint32_t in_use = 0;
	int fds[NVEC];

	fds_of(self->efd, 0, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_A);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
	/* Off: no loopback, no second disable. */
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, MSIX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	ASSERT_ERR(EINVAL, vfio_irq_disable(&self->dev, MSIX));

	ASSERT_OK(qemu_msix_enable_no_vector(&self->dev));
	for (v = 0; v < NVEC; v++)
		ASSERT_OK(qemu_vector_use(&self->dev, self->efd, noresize,
					  &in_use, &nr_vectors, v, SET_B));
	fire_each(_metadata, &self->dev, self->efd, ALL_A, SET_B);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_A);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, 0);
}

/*
 * QEMU (e): a vector beyond those enabled, set while MSI-X is on, works
 * exactly when the device reports no NORESIZE (dynamic allocation).
 */
TEST_F(igb, msix_add_vector_while_enabled)
{
	bool noresize = msix_noresize(_metadata, &self->dev);
	int fds[NVEC];

	fds_of(self->efd, 0, BIT_A(0) | BIT_A(1), fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, 2, fds));
	if (noresize) {
		ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSIX, 5, 1,
							 &self->efd[5]));
		fire_expect(_metadata, &self->dev, self->efd,
			    BIT_A(0) | BIT_A(1), BIT_A(0) | BIT_A(1));
		ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
		return;
	}
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 5, 1, &self->efd[5]));
	fire_expect(_metadata, &self->dev, self->efd, BIT_A(5), BIT_A(5));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 9, 1, &self->efd[9]));
	fire_expect(_metadata, &self->dev, self->efd, BIT_A(9), BIT_A(9));
	/* Vectors never set stay silent, the others land once each. */
	fire_expect(_metadata, &self->dev, self->efd, ALL_A,
		    BIT_A(0) | BIT_A(1) | BIT_A(5) | BIT_A(9));
	/* Past the table: rejected. */
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSIX, NVEC, 1,
						 &self->efd[0]));
	/* MSI-X has no mask or unmask. */
	ASSERT_ERR(ENOTTY, vfio_irq_set_none(&self->dev, MSIX,
					     VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	ASSERT_ERR(ENOTTY, vfio_irq_set_none(&self->dev, MSIX,
					     VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

/*
 * A call that fails on one of its eventfds clears every vector it touched;
 * MSI-X is off again when the call was the one enabling it, and stays on
 * when it already was. (Vectors the device sent while they had no eventfd
 * are pending in its MSI-X table and would be delivered by a later enable:
 * the failures that enable come first.)
 */
TEST_F(igb, msix_failed_call_rolls_back)
{
	int fds[NVEC], bad;

	bad = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, bad);

	/* Failing while enabling: MSI-X is off again, MSI can be enabled. */
	fds_of(self->efd, SET_B, ALL_A, fds);
	fds[7] = bad;
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, MSIX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1, &self->efd[0]));
	ASSERT_OK(vfio_irq_disable(&self->dev, MSI));

	/* Vectors 2 and 3 get set B, then vector 4 fails: 2, 3, 4 cleared. */
	fds_of(self->efd, 0, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fds[0] = self->efd[SET_B + 2];
	fds[1] = self->efd[SET_B + 3];
	fds[2] = bad;
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSIX, 2, 3, fds));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A,
		    ALL_A & ~(BIT_A(2) | BIT_A(3) | BIT_A(4)));
	/* A closed file descriptor: EBADF, the same clearing. */
	close(bad);
	fds[0] = self->efd[SET_B + 6];
	fds[1] = bad;
	ASSERT_ERR(EBADF, vfio_irq_set_eventfds(&self->dev, MSIX, 6, 2, fds));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A,
		    ALL_A & ~(BIT_A(2) | BIT_A(3) | BIT_A(4) | BIT_A(6) |
			      BIT_A(7)));
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

/* (f) MSI: device-sent, loopback, disable and enable again. */
TEST_F(igb, msi_send_loopback)
{
	uint8_t on = 1, off = 0;
	int round;

	ASSERT_OK(igb_msi_cause(&self->dev));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1, &self->efd[0]));
	for (round = 0; round < 3; round++) {
		ASSERT_OK(vfio_bar_write32(&self->dev, IGB_BAR, IGB_ICS,
					   IGB_ICR_MDAC));
		expect_once(_metadata, self->efd, 0);
		ASSERT_OK(vfio_bar_write32(&self->dev, IGB_BAR, IGB_ICR,
					   IGB_ICR_MDAC));
	}
	ASSERT_OK(vfio_irq_set_none(&self->dev, MSI,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	expect_once(_metadata, self->efd, 0);
	ASSERT_OK(vfio_irq_set_bool(&self->dev, MSI,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &on));
	expect_once(_metadata, self->efd, 0);
	ASSERT_OK(vfio_irq_set_bool(&self->dev, MSI,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &off));
	expect_quiet(_metadata, self->efd);
	ASSERT_ERR(ENOTTY, vfio_irq_set_none(&self->dev, MSI,
					     VFIO_IRQ_SET_ACTION_MASK, 0, 1));

	ASSERT_OK(vfio_irq_disable(&self->dev, MSI));
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, MSI,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	/* Again, with another eventfd: only that one is signalled. */
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1,
					&self->efd[SET_B]));
	ASSERT_OK(vfio_bar_write32(&self->dev, IGB_BAR, IGB_ICS, IGB_ICR_MDAC));
	expect_signals(_metadata, self->efd, BIT_B(0));
	/* Past the single vector: rejected. */
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSI, 1, 1,
						 &self->efd[1]));
	igb_quiesce(&self->dev);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSI));
}

/* (g) No switch between INTx, MSI and MSI-X without a disable. */
TEST_F(igb, type_switch_needs_disable)
{
	int fds[NVEC];

	fds_of(self->efd, 0, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSI, 0, 1,
						 &self->efd[SET_B]));
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, INTX, 0, 1,
						 &self->efd[SET_B]));
	ASSERT_ERR(EINVAL, vfio_irq_disable(&self->dev, MSI));
	ASSERT_ERR(EINVAL, vfio_irq_disable(&self->dev, INTX));
	/* MSI-X is untouched. */
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_A);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1, &self->efd[0]));
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, INTX, 0, 1,
						 &self->efd[SET_B]));
	ASSERT_ERR(EINVAL, vfio_irq_disable(&self->dev, MSIX));
	ASSERT_OK(vfio_irq_set_none(&self->dev, MSI,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	expect_once(_metadata, self->efd, 0);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSI));

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, INTX, 0, 1, &self->efd[0]));
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	ASSERT_ERR(EINVAL, vfio_irq_set_eventfds(&self->dev, MSI, 0, 1,
						 &self->efd[SET_B]));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	expect_once(_metadata, self->efd, 0);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));

	/* Everything off: MSI-X works again. */
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_expect(_metadata, &self->dev, self->efd, BIT_A(6), BIT_A(6));
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

/*
 * Close with MSI-X (or MSI) active, open again: GET_IRQ_INFO and a full
 * enable, send and disable cycle are those of a fresh device, and the
 * eventfds of before the close stay silent. Then more such cycles (the
 * debug kernel's kmemleak checks for leaks at the end of the run).
 */
TEST_F_TIMEOUT(igb, close_with_vectors_active, 400)
{
	struct vfio_irq_info info;
	int fds[NVEC], round, v;

	fds_of(self->efd, 0, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_expect(_metadata, &self->dev, self->efd, BIT_A(2), BIT_A(2));
	vfio_dev_close(&self->dev);
	ASSERT_OK(igb_open(&self->dev));

	ASSERT_OK(vfio_irq_info(&self->dev, MSIX, &info));
	EXPECT_EQ(NVEC, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD, info.flags);
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, MSIX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	fds_of(self->efd, SET_B, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_each(_metadata, &self->dev, self->efd, ALL_A, SET_B);

	for (round = 0; round < REOPEN_ROUNDS; round++) {
		vfio_dev_close(&self->dev);
		ASSERT_OK(igb_open(&self->dev));
		v = round % NVEC;
		switch (round % 3) {
		case 0:		/* all vectors in one call */
			fds_of(self->efd, 0, ALL_A, fds);
			ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0,
							NVEC, fds));
			ASSERT_OK(igb_fire(&self->dev, BIT_A(v)));
			break;
		case 1:		/* QEMU: no vector, then vector v */
			ASSERT_OK(qemu_msix_enable_no_vector(&self->dev));
			ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, v, 1,
							&self->efd[v]));
			ASSERT_OK(igb_fire(&self->dev, BIT_A(v)));
			break;
		default:	/* MSI */
			v = 0;
			ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1,
							&self->efd[0]));
			ASSERT_OK(vfio_irq_set_none(&self->dev, MSI,
						    VFIO_IRQ_SET_ACTION_TRIGGER,
						    0, 1));
			break;
		}
		expect_once(_metadata, self->efd, v);
	}
	vfio_dev_close(&self->dev);
	ASSERT_OK(igb_open(&self->dev));
	expect_quiet(_metadata, self->efd);
	fds_of(self->efd, SET_B, ALL_A, fds);
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, fds));
	fire_expect(_metadata, &self->dev, self->efd, ALL_A, ALL_B);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSIX));
}

int main(int argc, char **argv)
{
	return vfio_test_main(argc, argv, &igb_bdf, "an igb");
}
