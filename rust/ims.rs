// SPDX-License-Identifier: GPL-2.0

//! PCI/IMS interrupts (Interrupt Message Store).
//!
//! Linux 6.12 has no IMS; the project's kernel patches
//! (`tools/kernel/patches/`) restore `pci_ims_alloc_irq()` and
//! `pci_ims_free_irq()`. On a kernel without them the module still builds
//! and loads, and [`ImsIrq::alloc`] fails with `EOPNOTSUPP`.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)

use super::bindings;
use super::pci::PciDev;
use kernel::error::{code::*, Error, Result};
use kernel::types::ARef;

/// Whether this kernel has PCI/IMS.
pub(crate) fn available() -> bool {
    // SAFETY: No arguments; a constant answer.
    unsafe { bindings::vpi_helper_have_ims() }
}

/// An IMS interrupt of a device's IMS domain, allocated with a cookie
/// (`pci_ims_alloc_irq()`); freed on drop (`pci_ims_free_irq()`).
///
/// # Invariants
///
/// `index` and `virq` describe an interrupt allocated in `pdev`'s IMS
/// domain and not yet freed.
pub(crate) struct ImsIrq {
    pdev: ARef<PciDev>,
    index: u32,
    virq: u32,
}

impl ImsIrq {
    /// Allocates an IMS interrupt of `pdev` (which must have an IMS
    /// domain), handing `cookie` to the domain's chip.
    pub(crate) fn alloc(pdev: &PciDev, cookie: u64) -> Result<ImsIrq> {
        let mut virq = 0;
        // Without PCI/IMS in the kernel this fails with `EOPNOTSUPP`.
        // SAFETY: `pdev` is valid; `virq` is valid for writes.
        let index =
            unsafe { bindings::vpi_helper_pci_ims_alloc_irq(pdev.as_raw(), cookie, &mut virq) };
        if index < 0 {
            return Err(Error::from_errno(index));
        }
        if virq <= 0 {
            // SAFETY: The interrupt was allocated above and is not used.
            unsafe { bindings::vpi_helper_pci_ims_free_irq(pdev.as_raw(), index, virq) };
            return Err(EINVAL);
        }
        // INVARIANT: Allocated above.
        Ok(ImsIrq {
            pdev: ARef::from(pdev),
            index: index as u32,
            virq: virq as u32,
        })
    }

    /// The IMS index (the slot in the device's message store).
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The Linux interrupt.
    pub(crate) fn virq(&self) -> u32 {
        self.virq
    }
}

impl Drop for ImsIrq {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the interrupt is allocated; the
        // caller freed any handler first (see the IMS backend).
        unsafe {
            bindings::vpi_helper_pci_ims_free_irq(
                self.pdev.as_raw(),
                self.index as i32,
                self.virq as i32,
            )
        };
    }
}
