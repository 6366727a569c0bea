// SPDX-License-Identifier: GPL-2.0
/*
 * The module's C API: the functions are defined in Rust
 * (`#[no_mangle] extern "C"`, src/capi.rs) and exported to other modules
 * from here. Their prototypes are in include/linux/vfio_pci_intrs.h, so the
 * compiler checks this list against the header. (checkpatch's
 * EXPORT_SYMBOL check, which wants each export below its C definition, does
 * not apply to this file.)
 */
#include <linux/export.h>
#include <linux/vfio_pci_intrs.h>

EXPORT_SYMBOL_GPL(vfio_pci_intrs_api_version);
