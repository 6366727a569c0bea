/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of vfio_pci_intrs.ko: non-inline wrappers around the kernel's
 * `static inline` functions and macros, which bindgen cannot bind. Each
 * helper has the name of the wrapped function with a `vpi_helper_` prefix.
 */
#ifndef _VPI_HELPERS_H
#define _VPI_HELPERS_H

#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>

void vpi_helper_eventfd_signal(struct eventfd_ctx *ctx);
unsigned long vpi_helper_spin_lock_irqsave(spinlock_t *lock);
void vpi_helper_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
const char *vpi_helper_pci_name(const struct pci_dev *pdev);
bool vpi_helper_pci_is_pcie(struct pci_dev *pdev);
int vpi_helper_pci_alloc_irq_vectors(struct pci_dev *pdev, unsigned int min,
				     unsigned int max, unsigned int flags);
int vpi_helper_pci_register_driver(struct pci_driver *drv);
void *vpi_helper_pci_get_drvdata(struct pci_dev *pdev);
void vpi_helper_pci_set_drvdata(struct pci_dev *pdev, void *data);
void vpi_helper_vfio_put_device(struct vfio_device *device);
const char *vpi_helper_dev_name(struct device *dev);
bool vpi_helper_have_ims(void);
bool vpi_helper_in_hardirq(void);

/*
 * Fault injection points: wrappers of the module's request and allocation
 * calls that fail_function can make fail (ALLOW_ERROR_INJECTION, ERRNO),
 * e.g. echo vpi_helper_request_irq > /sys/kernel/debug/fail_function/inject.
 * vpi_helper_pci_alloc_irq_vectors() and vpi_helper_pci_ims_alloc_irq() are
 * injection points too.
 */
int vpi_helper_request_irq(unsigned int irq, irq_handler_t handler,
			   unsigned long flags, const char *name, void *dev);
struct eventfd_ctx *vpi_helper_eventfd_ctx_fdget(int fd);
int vpi_helper_pci_msix_alloc_irq_at(struct pci_dev *pdev, unsigned int index,
				     int *virq);
int vpi_helper_pci_ims_alloc_irq(struct pci_dev *pdev, u64 cookie, int *virq);
void vpi_helper_pci_ims_free_irq(struct pci_dev *pdev, int index, int virq);

#endif /* _VPI_HELPERS_H */
