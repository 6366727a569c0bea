// SPDX-License-Identifier: GPL-2.0
/*
 * Non-inline wrappers around `static inline` kernel functions, for Rust.
 * See helpers.h.
 */
#include "helpers.h"

/* Values rust/ spells out because bindgen cannot see them. */
static_assert(PCI_ERS_RESULT_CAN_RECOVER == 2);

void vpi_helper_eventfd_signal(struct eventfd_ctx *ctx)
{
	eventfd_signal(ctx);
}

unsigned long vpi_helper_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void vpi_helper_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

const char *vpi_helper_pci_name(const struct pci_dev *pdev)
{
	return pci_name(pdev);
}

bool vpi_helper_pci_is_pcie(struct pci_dev *pdev)
{
	return pci_is_pcie(pdev);
}

int vpi_helper_pci_alloc_irq_vectors(struct pci_dev *pdev, unsigned int min,
				     unsigned int max, unsigned int flags)
{
	return pci_alloc_irq_vectors(pdev, min, max, flags);
}

/* pci_register_driver() is a macro that names the calling module. */
int vpi_helper_pci_register_driver(struct pci_driver *drv)
{
	return pci_register_driver(drv);
}

void *vpi_helper_pci_get_drvdata(struct pci_dev *pdev)
{
	return pci_get_drvdata(pdev);
}

void vpi_helper_pci_set_drvdata(struct pci_dev *pdev, void *data)
{
	pci_set_drvdata(pdev, data);
}

void vpi_helper_vfio_put_device(struct vfio_device *device)
{
	vfio_put_device(device);
}

const char *vpi_helper_dev_name(struct device *dev)
{
	return dev_name(dev);
}
