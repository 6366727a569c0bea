// SPDX-License-Identifier: GPL-2.0

//! The IMS backend: a virtual device's guest MSI-X vectors backed by host
//! IMS interrupts of its parent PCI device.
//!
//! A variant driver (IDXD-style: one physical function, many virtual
//! devices) creates the IMS domain on its PCI device and one interrupt
//! context per virtual device. Each guest vector that gets a trigger gets a
//! host IMS interrupt, allocated with the vector's cookie (for IDXD, the
//! PASID), and gives it back when the trigger is cleared. MSI-X is the
//! only interrupt type and is always on; the device does not report
//! NORESIZE, since IMS allocates vectors one at a time.

use crate::backend::Backend;
use crate::frontend::{
    irq_name, Backing, DevName, Index, IntrState, IrqInfo, IrqType, MsiHandler, Trigger, VectorCtx,
};
use crate::kernel_ext::ims::ImsIrq;
use crate::kernel_ext::irq::{Flags, Registration};
use crate::kernel_ext::pci::PciDev;
use crate::kernel_ext::uapi;
use kernel::fmt;
use kernel::prelude::*;
use kernel::str::{CStr, CString};
use kernel::sync::Arc;
use kernel::types::ARef;

/// The IMS backend of one virtual device.
pub(crate) struct Ims {
    /// The PCI device that owns the IMS domain.
    pdev: ARef<PciDev>,
    /// The virtual device's name, for interrupt names.
    name: CString,
    /// Guest MSI-X vectors.
    num_vectors: u32,
    /// The cookie new vector contexts start with.
    default_cookie: u64,
}

impl Ims {
    /// A backend for a virtual device called `name` with `num_vectors`
    /// MSI-X vectors, backed by `pdev`'s IMS domain.
    pub(crate) fn new(
        pdev: &PciDev,
        name: &CStr,
        num_vectors: u32,
        default_cookie: u64,
    ) -> Result<Ims> {
        Ok(Ims {
            pdev: ARef::from(pdev),
            name: CString::try_from_fmt(fmt!("{}", name))?,
            num_vectors,
            default_cookie,
        })
    }
}

impl Backend for Ims {
    fn initial_irq_type(&self) -> IrqType {
        IrqType::Msix
    }

    fn is_ims(&self) -> bool {
        true
    }

    fn irq_info(&self, index: Index) -> Result<IrqInfo> {
        match index {
            Index::Msix => Ok(IrqInfo {
                flags: uapi::VFIO_IRQ_INFO_EVENTFD,
                count: self.num_vectors,
            }),
            Index::Req => Ok(IrqInfo {
                flags: uapi::VFIO_IRQ_INFO_EVENTFD | uapi::VFIO_IRQ_INFO_NORESIZE,
                count: 1,
            }),
            Index::Intx | Index::Msi | Index::Err => Err(EINVAL),
        }
    }

    fn has_index(&self, index: Index) -> bool {
        matches!(index, Index::Msix | Index::Req)
    }

    fn msi_enable(&self, _st: &mut IntrState, _index: Index, _nvec: u32) -> Result<u32> {
        // MSI-X is always enabled: the frontend never gets here.
        Err(EINVAL)
    }

    fn msi_disable(&self, st: &mut IntrState, _index: Index) {
        // Every vector was cleared; MSI-X stays the enabled type.
        st.irq_type = IrqType::Msix;
    }

    fn msi_prepare(&self, _ctx: &mut VectorCtx, _index: Index, _vector: u32) -> Result<u32> {
        // The interrupt is allocated with the cookie at request time.
        Ok(0)
    }

    fn msi_request_interrupt(
        &self,
        ctx: &mut VectorCtx,
        _index: Index,
        _vector: u32,
        _virq: u32,
        name: CString,
        trigger: Arc<Trigger>,
    ) -> Result<u32> {
        let irq = ImsIrq::alloc(&self.pdev, ctx.cookie)?;
        let virq = irq.virq();
        // On failure `irq` is dropped here, freeing the IMS interrupt.
        let reg = KBox::pin_init(
            Registration::new(virq, Flags::default(), name, MsiHandler { trigger }),
            GFP_KERNEL,
        )?;
        ctx.backing = Backing::Ims { _reg: reg, irq };
        Ok(virq)
    }

    fn msi_free_interrupt(&self, ctx: &mut VectorCtx, _index: Index, _vector: u32) {
        // Frees the handler, then the IMS interrupt.
        ctx.backing = Backing::None;
        ctx.virq = 0;
    }

    fn msi_device_name(&self, _index: Index, vector: u32) -> Result<CString> {
        irq_name(fmt!("vfio-ims[{}]({})", vector, DevName(&self.name)))
    }

    fn default_cookie(&self) -> u64 {
        self.default_cookie
    }
}
