/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO PCI interrupt management: the C API of vfio_pci_intrs.ko.
 *
 * Variant drivers (for example an IDXD-style driver backing a virtual
 * device's MSI-X with IMS interrupts) use these functions to hand interrupt
 * management of a VFIO device to the module. All functions are exported with
 * EXPORT_SYMBOL_GPL.
 */
#ifndef _LINUX_VFIO_PCI_INTRS_H
#define _LINUX_VFIO_PCI_INTRS_H

/*
 * The version of this API. It changes whenever a function's meaning changes,
 * so a variant driver built against one header can refuse another module.
 */
#define VFIO_PCI_INTRS_API_VERSION 1

/**
 * vfio_pci_intrs_api_version() - Version of the loaded module's C API.
 *
 * Context: Any context.
 * Return: The VFIO_PCI_INTRS_API_VERSION the module was built with.
 */
int vfio_pci_intrs_api_version(void);

#endif /* _LINUX_VFIO_PCI_INTRS_H */
