// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts of QEMU's edu device through a VFIO PCI driver: GET_IRQ_INFO of
 * every index, device-raised MSI and INTx delivered to eventfds (INTx with its
 * automasking and unmasking), MSI loopback triggers.
 *
 * Usage: vfio_edu_test [BDF] [harness options]; the BDF may also come from
 * $VPI_BDF. The device must be bound to the VFIO driver under test.
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
#include "edu.h"
#include "vfio_util.h"
#include "vfio_test.h"

#define RAISE_VALUE	0x5a
#define MSI_ROUNDS	5
#define INTX_ROUNDS	3

static const char *edu_bdf;

FIXTURE(edu) {
	struct vfio_dev dev;
	int efd;
};

FIXTURE_SETUP(edu)
{
	uint32_t ident;

	self->efd = -1;
	ASSERT_OK(vfio_dev_open(&self->dev, edu_bdf));
	ASSERT_OK(vfio_command_set(&self->dev,
				   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	ASSERT_OK(vfio_bar_read32(&self->dev, EDU_BAR, EDU_IDENT, &ident));
	ASSERT_EQ(EDU_IDENT_VALUE, ident)
		TH_LOG("%s is not an edu device", edu_bdf);
	self->efd = vfio_eventfd();
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(edu)
{
	uint32_t status = 0;

	vfio_irq_disable(&self->dev, VFIO_PCI_MSI_IRQ_INDEX);
	vfio_irq_disable(&self->dev, VFIO_PCI_INTX_IRQ_INDEX);
	if (!vfio_bar_read32(&self->dev, EDU_BAR, EDU_IRQ_STATUS, &status) && status)
		vfio_bar_write32(&self->dev, EDU_BAR, EDU_IRQ_ACK, status);
	if (self->efd >= 0)
		close(self->efd);
	vfio_dev_close(&self->dev);
}

/* Makes edu raise its interrupt (MSI when MSI is enabled, else INTx). */
static int edu_raise(struct vfio_dev *dev, uint32_t bits)
{
	return vfio_bar_write32(dev, EDU_BAR, EDU_IRQ_RAISE, bits);
}

static int edu_status(struct vfio_dev *dev, uint32_t *status)
{
	return vfio_bar_read32(dev, EDU_BAR, EDU_IRQ_STATUS, status);
}

/* Acknowledges every pending status bit; edu then lowers INTx. */
static int edu_ack(struct vfio_dev *dev)
{
	uint32_t status;
	int ret;

	ret = edu_status(dev, &status);
	if (ret || !status)
		return ret;
	return vfio_bar_write32(dev, EDU_BAR, EDU_IRQ_ACK, status);
}

TEST_F(edu, bar0_ident_liveness)
{
	uint32_t val;

	ASSERT_OK(vfio_bar_read32(&self->dev, EDU_BAR, EDU_IDENT, &val));
	EXPECT_EQ(EDU_IDENT_VALUE, val);
	ASSERT_OK(vfio_bar_write32(&self->dev, EDU_BAR, EDU_LIVENESS, 0x12345678));
	ASSERT_OK(vfio_bar_read32(&self->dev, EDU_BAR, EDU_LIVENESS, &val));
	EXPECT_EQ(~0x12345678u, val);
}

TEST_F(edu, irq_info_intx)
{
	struct vfio_irq_info info;

	ASSERT_OK(vfio_irq_info(&self->dev, VFIO_PCI_INTX_IRQ_INDEX, &info));
	EXPECT_EQ(VFIO_PCI_INTX_IRQ_INDEX, info.index);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, info.flags);
}

TEST_F(edu, irq_info_msi)
{
	struct vfio_irq_info info;

	ASSERT_OK(vfio_irq_info(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, &info));
	EXPECT_EQ(VFIO_PCI_MSI_IRQ_INDEX, info.index);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
}

TEST_F(edu, irq_info_msix)
{
	struct vfio_irq_info info;

	/* edu has no MSI-X capability. */
	ASSERT_OK(vfio_irq_info(&self->dev, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	EXPECT_EQ(VFIO_PCI_MSIX_IRQ_INDEX, info.index);
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
}

TEST_F(edu, irq_info_err)
{
	struct vfio_irq_info info;

	/* edu is conventional PCI, not PCIe: no error reporting index. */
	EXPECT_EQ(-EINVAL, vfio_irq_info(&self->dev, VFIO_PCI_ERR_IRQ_INDEX, &info));
}

TEST_F(edu, irq_info_req)
{
	struct vfio_irq_info info;

	ASSERT_OK(vfio_irq_info(&self->dev, VFIO_PCI_REQ_IRQ_INDEX, &info));
	EXPECT_EQ(VFIO_PCI_REQ_IRQ_INDEX, info.index);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
}

TEST_F(edu, irq_info_bad_index)
{
	struct vfio_irq_info info;

	EXPECT_EQ(-EINVAL, vfio_irq_info(&self->dev, VFIO_PCI_NUM_IRQS, &info));
}

TEST_F(edu, msi_raise)
{
	uint32_t status;
	int i;

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
					&self->efd));
	for (i = 0; i < MSI_ROUNDS; i++) {
		ASSERT_OK(edu_raise(&self->dev, RAISE_VALUE));
		ASSERT_FIRES_ONCE(self->efd);
		ASSERT_OK(edu_status(&self->dev, &status));
		EXPECT_EQ(RAISE_VALUE, status);
		ASSERT_OK(edu_ack(&self->dev));
		ASSERT_OK(edu_status(&self->dev, &status));
		EXPECT_EQ(0, status);
		ASSERT_QUIET(self->efd);
	}
	ASSERT_OK(vfio_irq_disable(&self->dev, VFIO_PCI_MSI_IRQ_INDEX));

	/* Disabled: a raise (now on INTx, which has no trigger) signals nothing. */
	ASSERT_OK(edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(edu_ack(&self->dev));
}

TEST_F(edu, msi_loopback)
{
	uint8_t on = 1, off = 0;

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
					&self->efd));
	ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_irq_set_bool(&self->dev, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &on));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(vfio_irq_set_bool(&self->dev, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &off));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, VFIO_PCI_MSI_IRQ_INDEX));
}

TEST_F(edu, intx_automask_unmask)
{
	int i;

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					&self->efd));
	for (i = 0; i < INTX_ROUNDS; i++) {
		ASSERT_OK(edu_raise(&self->dev, RAISE_VALUE));
		ASSERT_FIRES_ONCE(self->efd);
		/* Automasked: another raise must not signal before an unmask. */
		ASSERT_OK(edu_raise(&self->dev, 0x01));
		ASSERT_QUIET(self->efd);
		ASSERT_OK(edu_ack(&self->dev));
		/* Nothing pending any more: unmasking signals nothing. */
		ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_INTX_IRQ_INDEX,
					    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
		ASSERT_QUIET(self->efd);
	}
	ASSERT_OK(vfio_irq_disable(&self->dev, VFIO_PCI_INTX_IRQ_INDEX));
}

TEST_F(edu, intx_unmask_while_asserted)
{
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					&self->efd));
	ASSERT_OK(edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	/* Still asserted: the unmask signals again and the line stays masked. */
	ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_QUIET(self->efd);
	ASSERT_OK(edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_QUIET(self->efd);
	/* Unmasked again: the next raise is delivered. */
	ASSERT_OK(edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_disable(&self->dev, VFIO_PCI_INTX_IRQ_INDEX));
}

TEST_F(edu, intx_mask_then_unmask)
{
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					&self->efd));
	ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	/* Masked by the user: a raise is held back... */
	ASSERT_OK(edu_raise(&self->dev, RAISE_VALUE));
	ASSERT_QUIET(self->efd);
	/* ...and delivered once on unmask, since the line is still asserted. */
	ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_FIRES_ONCE(self->efd);
	ASSERT_OK(edu_ack(&self->dev));
	ASSERT_OK(vfio_irq_set_none(&self->dev, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	ASSERT_QUIET(self->efd);
	ASSERT_OK(vfio_irq_disable(&self->dev, VFIO_PCI_INTX_IRQ_INDEX));
}

int main(int argc, char **argv)
{
	return vfio_test_main(argc, argv, &edu_bdf, "an edu");
}
