// SPDX-License-Identifier: GPL-2.0
/*
 * Non-inline wrappers around `static inline` kernel functions, for Rust.
 * See helpers.h.
 */
#include "helpers.h"

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
