// SPDX-License-Identifier: GPL-2.0

//! The backend trait: how an interrupt context's vectors are backed.
//!
//! It is the RFC's `struct vfio_pci_intr_ops` as a Rust trait. The frontend
//! ([`crate::frontend`]) holds one backend per interrupt context as a
//! trait object, chosen when the context is created: the PCI passthrough
//! backend ([`crate::passthrough`]) for a physical function, the IMS
//! backend for a virtual device whose MSI-X vectors are host IMS
//! interrupts. Operations a backend does not support keep their defaults,
//! which make SET_IRQS fail with `ENOTTY` as a NULL op does in the RFC.
//!
//! Every method runs with `igate` held (it is given the state it guards)
//! and may sleep.

use crate::frontend::{Data, Index, IntrState, IrqInfo, IrqType, Trigger, VectorCtx};
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

/// How an interrupt context's vectors are backed.
pub(crate) trait Backend: Send + Sync {
    /// The type enabled when nothing is: none for a physical function;
    /// MSI-X for a virtual device that has nothing else.
    fn initial_irq_type(&self) -> IrqType {
        IrqType::None
    }

    /// Whether vectors are IMS-backed (cookies and IMS indexes apply).
    fn is_ims(&self) -> bool {
        false
    }

    /// GET_IRQ_INFO of `index`; `EINVAL` for an index the device lacks.
    fn irq_info(&self, index: Index) -> Result<IrqInfo>;

    /// Whether SET_IRQS on MSI, MSI-X, ERR or REQ is supported.
    fn has_index(&self, index: Index) -> bool;

    /// Whether the backend handles INTx.
    fn has_intx(&self) -> bool {
        false
    }

    /// INTx `ACTION_MASK`.
    fn set_intx_mask(
        &self,
        _st: &mut IntrState,
        _start: u32,
        _count: u32,
        _data: Data<'_>,
    ) -> Result {
        Err(ENOTTY)
    }

    /// INTx `ACTION_UNMASK`.
    fn set_intx_unmask(
        &self,
        _st: &mut IntrState,
        _start: u32,
        _count: u32,
        _data: Data<'_>,
    ) -> Result {
        Err(ENOTTY)
    }

    /// INTx `ACTION_TRIGGER`.
    fn set_intx_trigger(
        &self,
        _st: &mut IntrState,
        _start: u32,
        _count: u32,
        _data: Data<'_>,
    ) -> Result {
        Err(ENOTTY)
    }

    /// Disables INTx (close).
    fn intx_disable(&self, _st: &mut IntrState) {}

    /// The user's INTx-disable bit (`PCI_COMMAND_INTX_DISABLE` in the
    /// virtual command register) changed to `disabled`.
    fn intx_disable_bit(&self, _st: &mut IntrState, _disabled: bool) {}

    /// Enables MSI or MSI-X with `nvec` vectors and sets `st.irq_type`.
    /// Returns how many vectors are available: fewer than `nvec` means
    /// nothing was enabled and the user should retry with that many.
    fn msi_enable(&self, st: &mut IntrState, index: Index, nvec: u32) -> Result<u32>;

    /// Disables MSI or MSI-X once every vector was cleared, and resets
    /// `st.irq_type`.
    fn msi_disable(&self, st: &mut IntrState, index: Index);

    /// Readies the host interrupt of `vector` before its eventfd is taken;
    /// returns its Linux interrupt, or 0 when it is only allocated by
    /// [`Backend::msi_request_interrupt`].
    fn msi_prepare(&self, ctx: &mut VectorCtx, index: Index, vector: u32) -> Result<u32>;

    /// Requests the host interrupt of `vector` (Linux interrupt `virq`
    /// from [`Backend::msi_prepare`]) with a handler signalling `trigger`,
    /// and stores it in `ctx.backing`; returns the Linux interrupt.
    fn msi_request_interrupt(
        &self,
        ctx: &mut VectorCtx,
        index: Index,
        vector: u32,
        virq: u32,
        name: CString,
        trigger: Arc<Trigger>,
    ) -> Result<u32>;

    /// Frees what [`Backend::msi_request_interrupt`] requested.
    fn msi_free_interrupt(&self, ctx: &mut VectorCtx, index: Index, vector: u32);

    /// The name of `vector`'s Linux interrupt (`/proc/interrupts`).
    fn msi_device_name(&self, index: Index, vector: u32) -> Result<CString>;

    /// The cookie a new vector context starts with (the RFC's
    /// `init_irq_ctx`).
    fn default_cookie(&self) -> u64 {
        0
    }
}
