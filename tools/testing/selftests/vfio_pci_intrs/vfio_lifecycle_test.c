// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt state across close and open, on QEMU's edu device through a
 * VFIO PCI driver: close with INTx (trigger and unmask eventfd, line
 * masked) or MSI active, then open again: GET_IRQ_INFO, SET_IRQS and
 * delivery are those of a fresh device; then many such cycles, with INTx,
 * MSI, INTx without trigger and INTx disabled in the command register (the
 * debug kernel's kmemleak checks for leaks at the end of the run).
 *
 * Usage: vfio_lifecycle_test [BDF] [harness options]; the BDF may also come
 * from $VPI_BDF. The device must be bound to the VFIO driver under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_util.h"
#include "vfio_test.h"

#define RAISE_VALUE	0x5a
#define REOPEN_ROUNDS	20

#define INTX		VFIO_PCI_INTX_IRQ_INDEX
#define MSI		VFIO_PCI_MSI_IRQ_INDEX
#define TRIGGER		VFIO_IRQ_SET_ACTION_TRIGGER
#define UNMASK		VFIO_IRQ_SET_ACTION_UNMASK

static const char *edu_bdf;

FIXTURE(lc) {
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

FIXTURE_SETUP(lc)
{
	ASSERT_OK(vfio_edu_open_eventfds(&self->dev, edu_bdf, self->fds,
					 ARRAY_SIZE(self->fds)));
}

FIXTURE_TEARDOWN(lc)
{
	vfio_edu_close_eventfds(&self->dev, self->fds, ARRAY_SIZE(self->fds));
}

/*
 * Close with INTx enabled, its unmask eventfd registered and the line
 * masked by a delivered interrupt; open again and start over.
 */
TEST_F(lc, close_intx_active_reopen)
{
	struct vfio_irq_info info;

	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, self->ufd));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	vfio_dev_close(&self->dev);
	ASSERT_OK(vfio_edu_open(&self->dev, edu_bdf));

	ASSERT_OK(vfio_irq_info(&self->dev, INTX, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, info.flags);
	ASSERT_OK(vfio_irq_info(&self->dev, MSI, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
	/* Nothing is enabled any more. */
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, INTX, TRIGGER, 0, 1));
	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_ERR(EINVAL, vfio_irq_disable(&self->dev, INTX));

	/* The same unmask eventfd is free again. */
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd2, self->ufd));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_eventfd_signal(self->ufd));
	ASSERT_QUIET(self->efd2);
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_set_none(&self->dev, INTX, UNMASK, 0, 1));
	ASSERT_QUIET(self->efd2);
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
}

/* Close with MSI enabled; open again and start over. */
TEST_F(lc, close_msi_active_reopen)
{
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1, &self->efd));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	vfio_dev_close(&self->dev);
	ASSERT_OK(vfio_edu_open(&self->dev, edu_bdf));

	ASSERT_ERR(EINVAL, vfio_irq_set_none(&self->dev, MSI, TRIGGER, 0, 1));
	ASSERT_ERR(EINVAL, vfio_irq_disable(&self->dev, MSI));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1, &self->efd2));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_QUIET(self->efd2);
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, MSI));
}

/* Close with something active, over and over; then a fresh cycle. */
TEST_F_TIMEOUT(lc, reopen_with_vectors_active, 400)
{
	int round, none = -1;

	for (round = 0; round < REOPEN_ROUNDS; round++) {
		switch (round % 4) {
		case 0:		/* INTx with unmask eventfd, masked */
			ASSERT_OK(vfio_intx_enable(&self->dev, self->efd,
						   self->ufd));
			ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
			ASSERT_FIRES_ONCE(self->efd);
			break;
		case 1:		/* MSI */
			ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1,
							&self->efd));
			ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
			ASSERT_FIRES_ONCE(self->efd);
			break;
		case 2:		/* INTx whose trigger was removed */
			ASSERT_OK(vfio_intx_enable(&self->dev, self->efd,
						   self->ufd));
			ASSERT_OK(vfio_irq_set_eventfds(&self->dev, INTX, 0, 1,
							&none));
			break;
		default:	/* INTx disabled in the command register */
			ASSERT_OK(vfio_intx_enable(&self->dev, self->efd, -1));
			ASSERT_OK(vfio_command_intx_disable(&self->dev,
							    PCI_COMMAND, 2,
							    true));
			break;
		}
		ASSERT_OK(vfio_edu_ack(&self->dev));
		vfio_dev_close(&self->dev);
		ASSERT_OK(vfio_edu_open(&self->dev, edu_bdf));
	}
	ASSERT_QUIET(self->efd);

	/* Fresh: INTx-disable is clear and INTx delivers, then MSI. */
	ASSERT_OK(vfio_intx_enable(&self->dev, self->efd2, self->ufd));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_disable(&self->dev, INTX));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, MSI, 0, 1, &self->efd2));
	ASSERT_OK(vfio_edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd2);
	ASSERT_OK(vfio_edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_disable(&self->dev, MSI));
	ASSERT_QUIET(self->efd);
}

int main(int argc, char **argv)
{
	return vfio_test_main(argc, argv, &edu_bdf, "an edu");
}
