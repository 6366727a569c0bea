// SPDX-License-Identifier: GPL-2.0
/*
 * The module's C API: functions defined in Rust (`#[no_mangle] extern "C"`)
 * and exported to other modules from here, as rust/exports.c does for the
 * kernel crate. Their prototypes are in include/linux/vfio_pci_intrs.h, so
 * the compiler checks this list against the header.
 */
#include <linux/export.h>
#include <linux/vfio_pci_intrs.h>

EXPORT_SYMBOL_GPL(vfio_pci_intrs_api_version);
