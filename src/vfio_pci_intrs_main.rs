// SPDX-License-Identifier: GPL-2.0

//! VFIO PCI interrupt management in Rust.
//!
//! The module owns the interrupts of VFIO PCI devices: a frontend takes
//! `VFIO_DEVICE_GET_IRQ_INFO` and `VFIO_DEVICE_SET_IRQS`, validates them as
//! upstream vfio-pci does and dispatches them to a backend (PCI passthrough,
//! or IMS for virtual devices). Variant drivers use it through the C API in
//! `include/linux/vfio_pci_intrs.h`.

#[path = "../rust/kernel_ext.rs"]
mod kernel_ext;

mod backend;
mod debugfs;
mod driver;
mod frontend;
mod ims;
mod passthrough;

use kernel::prelude::*;
use kernel_ext::vfio::Registration;

module! {
    type: VfioPciIntrs,
    name: "vfio_pci_intrs",
    author: "vfio_pci_intrs developers",
    description: "VFIO PCI interrupt management (frontend and backends)",
    license: "GPL",
}

struct VfioPciIntrs {
    // Dropped in this order: unbinding the devices removes their debugfs
    // directories before the top one goes.
    _driver: Pin<KBox<Registration<driver::IntrsDriver>>>,
    _debugfs: Option<kernel_ext::debugfs::Dir>,
}

impl kernel::Module for VfioPciIntrs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Without debugfs the module works, with no view.
        let debugfs = kernel_ext::debugfs::Dir::new(debugfs::TOP).ok();
        let driver = KBox::pin_init(Registration::new(), GFP_KERNEL)?;
        pr_info!(
            "loaded, C API version {}, PCI/IMS {}\n",
            kernel_ext::capi::API_VERSION,
            if kernel_ext::ims::available() {
                "available"
            } else {
                "not in this kernel"
            }
        );
        Ok(VfioPciIntrs {
            _driver: driver,
            _debugfs: debugfs,
        })
    }
}

impl Drop for VfioPciIntrs {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
