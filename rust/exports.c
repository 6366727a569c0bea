// SPDX-License-Identifier: GPL-2.0
/*
 * The module's C API: the functions are defined in Rust
 * (`#[no_mangle] extern "C"`, rust/capi.rs) and exported to other modules
 * from here. Their prototypes are in include/linux/vfio_pci_intrs.h, so the
 * compiler checks this list against the header. (checkpatch's
 * EXPORT_SYMBOL check, which wants each export below its C definition, does
 * not apply to this file.)
 */
#include <linux/export.h>
#include <linux/vfio_pci_intrs.h>

EXPORT_SYMBOL_GPL(vfio_pci_intrs_api_version);
EXPORT_SYMBOL_GPL(vfio_pci_intrs_init_intr_ctx);
EXPORT_SYMBOL_GPL(vfio_pci_ims_init_intr_ctx);
EXPORT_SYMBOL_GPL(vfio_pci_intrs_release_intr_ctx);
EXPORT_SYMBOL_GPL(vfio_pci_intrs_ioctl);
EXPORT_SYMBOL_GPL(vfio_pci_intrs_set_irqs_ioctl);
EXPORT_SYMBOL_GPL(vfio_pci_intrs_request);
EXPORT_SYMBOL_GPL(vfio_pci_set_emulated);
EXPORT_SYMBOL_GPL(vfio_pci_send_signal);
EXPORT_SYMBOL_GPL(vfio_pci_ims_set_cookie);
EXPORT_SYMBOL_GPL(vfio_pci_ims_hwirq);
