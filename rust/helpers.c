// SPDX-License-Identifier: GPL-2.0
/*
 * Non-inline wrappers around `static inline` kernel functions, for Rust.
 * See helpers.h.
 */
#include <linux/error-injection.h>

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

bool vpi_helper_in_hardirq(void)
{
	return in_hardirq();
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
ALLOW_ERROR_INJECTION(vpi_helper_pci_alloc_irq_vectors, ERRNO);

int vpi_helper_pci_msix_alloc_irq_at(struct pci_dev *pdev, unsigned int index,
				     int *virq)
{
	struct msi_map map = pci_msix_alloc_irq_at(pdev, index, NULL);

	*virq = map.virq;
	return map.index;
}
ALLOW_ERROR_INJECTION(vpi_helper_pci_msix_alloc_irq_at, ERRNO);

int vpi_helper_request_irq(unsigned int irq, irq_handler_t handler,
			   unsigned long flags, const char *name, void *dev)
{
	return request_threaded_irq(irq, handler, NULL, flags, name, dev);
}
ALLOW_ERROR_INJECTION(vpi_helper_request_irq, ERRNO);

struct eventfd_ctx *vpi_helper_eventfd_ctx_fdget(int fd)
{
	return eventfd_ctx_fdget(fd);
}
ALLOW_ERROR_INJECTION(vpi_helper_eventfd_ctx_fdget, ERRNO);

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

/*
 * PCI/IMS exists only on kernels with the project's IMS patches
 * (tools/kernel/patches/); Kbuild defines VPI_HAVE_IMS when the kernel
 * declares pci_ims_alloc_irq(). Without it the module still builds and
 * every IMS allocation fails with -EOPNOTSUPP.
 */
bool vpi_helper_have_ims(void)
{
#ifdef VPI_HAVE_IMS
	return IS_ENABLED(CONFIG_PCI_MSI);
#else
	return false;
#endif
}

/*
 * Returns the IMS index (>= 0) and sets *virq, or returns -errno: -ENODEV
 * when the device has no IMS domain.
 *
 * pci_ims_alloc_irq() takes the device's MSI descriptor lock, which exists
 * only once the device has MSI data (pci_create_ims_domain() or MSI/MSI-X
 * enabled): on a device without it, it would dereference NULL. With MSI
 * data but no IMS domain it fails with -ENODEV itself. The data lives until
 * the device's driver unbinds, and the caller's driver is bound.
 */
int vpi_helper_pci_ims_alloc_irq(struct pci_dev *pdev, u64 cookie, int *virq)
{
#ifdef VPI_HAVE_IMS
	union msi_instance_cookie icookie = { .value = cookie };
	struct msi_map map;

	*virq = 0;
	if (!pdev->dev.msi.data)
		return -ENODEV;
	map = pci_ims_alloc_irq(pdev, &icookie, NULL);

	*virq = map.virq;
	return map.index;
#else
	*virq = 0;
	return -EOPNOTSUPP;
#endif
}
ALLOW_ERROR_INJECTION(vpi_helper_pci_ims_alloc_irq, ERRNO);

void vpi_helper_pci_ims_free_irq(struct pci_dev *pdev, int index, int virq)
{
#ifdef VPI_HAVE_IMS
	struct msi_map map = { .index = index, .virq = virq };

	pci_ims_free_irq(pdev, map);
#endif
}
