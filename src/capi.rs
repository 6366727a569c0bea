// SPDX-License-Identifier: GPL-2.0

//! The C API of the module (`include/linux/vfio_pci_intrs.h`).
//!
//! Each function here is `#[no_mangle] extern "C"` and exported to other
//! modules by `rust/exports.c`.

use crate::kernel_ext::bindings;

/// The version of the C API, `VFIO_PCI_INTRS_API_VERSION` in the header.
pub(crate) const API_VERSION: i32 = bindings::VFIO_PCI_INTRS_API_VERSION as i32;

/// Returns the version of the C API the module implements.
#[no_mangle]
pub(crate) extern "C" fn vfio_pci_intrs_api_version() -> kernel::ffi::c_int {
    API_VERSION
}
