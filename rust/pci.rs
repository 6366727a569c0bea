// SPDX-License-Identifier: GPL-2.0

//! PCI devices: interrupt vectors, INTx masking and configuration space.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)

use super::bindings;
use core::ptr::NonNull;
use kernel::error::{code::*, to_result, Error, Result};
use kernel::str::CStr;
use kernel::types::AlwaysRefCounted;
use kernel::types::Opaque;

pub(crate) use bindings::{
    PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_INTERRUPT_PIN, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE,
    PCI_MSI_FLAGS, PCI_MSI_FLAGS_QMASK,
};

/// A PCI device (`struct pci_dev`).
///
/// Handed out by reference by the owner of a binding (a VFIO device built
/// on it), or held as an [`ARef<PciDev>`](kernel::types::ARef) that keeps the structure alive.
/// Its operations are meant for a device bound to one of this module's
/// drivers; on a device that is not, they act on hardware that someone
/// else may drive, but remain memory safe.
///
/// # Invariants
///
/// The wrapped `pci_dev` is valid (its reference count is held by the
/// owner of the reference, or by the `ARef`).
#[repr(transparent)]
pub(crate) struct PciDev(Opaque<bindings::pci_dev>);

// SAFETY: The PCI core's functions used here may be called from any
// thread; the structure is reference counted.
unsafe impl Send for PciDev {}
// SAFETY: As above: every method only calls thread-safe PCI core functions
// or reads fields fixed at enumeration.
unsafe impl Sync for PciDev {}

// SAFETY: `pci_dev_get()` and `pci_dev_put()` take and drop a reference;
// the structure is freed only when the count drops to zero.
unsafe impl AlwaysRefCounted for PciDev {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the device is valid.
        unsafe { bindings::pci_dev_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference.
        unsafe { bindings::pci_dev_put(obj.cast().as_ptr()) }
    }
}

/// Which kind of message-signalled interrupts to allocate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MsiKind {
    /// MSI (`PCI_IRQ_MSI`).
    Msi,
    /// MSI-X (`PCI_IRQ_MSIX`).
    Msix,
}

impl PciDev {
    /// Creates a reference from a C pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is valid and stays bound as the type invariant requires, for
    /// `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::pci_dev) -> &'a PciDev {
        // SAFETY: `PciDev` is a transparent wrapper of `pci_dev`, and the
        // caller guarantees validity for `'a`.
        unsafe { &*ptr.cast::<PciDev>() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::pci_dev {
        self.0.get()
    }

    /// The device's name, its address `DDDD:BB:DD.F` (`pci_name()`).
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: By the type invariant the device is valid; its name is a
        // NUL-terminated string that lives as long as the device.
        unsafe { CStr::from_char_ptr(bindings::vpi_helper_pci_name(self.as_raw())) }
    }

    /// The device's INTx Linux interrupt, if the platform routed one.
    pub(crate) fn intx_irq(&self) -> Option<u32> {
        // SAFETY: By the type invariant the device is valid; `irq` is set
        // at enumeration and stable while the device is bound.
        let irq = unsafe { (*self.as_raw()).irq };
        (irq != 0 && irq != bindings::IRQ_NOTCONNECTED).then_some(irq)
    }

    /// Whether the device is PCI Express (`pci_is_pcie()`).
    pub(crate) fn is_pcie(&self) -> bool {
        // SAFETY: By the type invariant the device is valid.
        unsafe { bindings::vpi_helper_pci_is_pcie(self.as_raw()) }
    }

    /// Offset of the MSI capability, if the device has one.
    pub(crate) fn msi_cap(&self) -> Option<u8> {
        // SAFETY: By the type invariant the device is valid; the field is
        // set at enumeration.
        let cap = unsafe { (*self.as_raw()).msi_cap };
        (cap != 0).then_some(cap)
    }

    /// Offset of the MSI-X capability, if the device has one.
    pub(crate) fn msix_cap(&self) -> Option<u8> {
        // SAFETY: As in `msi_cap`.
        let cap = unsafe { (*self.as_raw()).msix_cap };
        (cap != 0).then_some(cap)
    }

    /// Reads a 16-bit word of configuration space.
    pub(crate) fn read_config_word(&self, offset: u32) -> Result<u16> {
        let mut val = 0u16;
        // SAFETY: As in `read_config_byte`.
        let ret = unsafe { bindings::pci_read_config_word(self.as_raw(), offset as i32, &mut val) };
        pcibios_to_result(ret)?;
        Ok(val)
    }

    /// Writes a 16-bit word of configuration space.
    pub(crate) fn write_config_word(&self, offset: u32, val: u16) -> Result {
        // SAFETY: By the type invariant the device is valid.
        let ret = unsafe { bindings::pci_write_config_word(self.as_raw(), offset as i32, val) };
        pcibios_to_result(ret)
    }

    /// Sets (`enable == false`) or clears the Interrupt Disable bit of the
    /// command register (`pci_intx()`).
    pub(crate) fn intx(&self, enable: bool) {
        // SAFETY: By the type invariant the device is valid.
        unsafe { bindings::pci_intx(self.as_raw(), enable.into()) }
    }

    /// Masks INTx if the device asserts it; returns whether it did
    /// (`pci_check_and_mask_intx()`). May be called from an interrupt
    /// handler.
    pub(crate) fn check_and_mask_intx(&self) -> bool {
        // SAFETY: By the type invariant the device is valid.
        unsafe { bindings::pci_check_and_mask_intx(self.as_raw()) }
    }

    /// Unmasks INTx unless the device asserts it; returns whether it did
    /// (`pci_check_and_unmask_intx()`).
    pub(crate) fn check_and_unmask_intx(&self) -> bool {
        // SAFETY: By the type invariant the device is valid.
        unsafe { bindings::pci_check_and_unmask_intx(self.as_raw()) }
    }

    /// Allocates between 1 and `max` vectors of `kind`; returns how many
    /// (`pci_alloc_irq_vectors()`).
    pub(crate) fn alloc_irq_vectors(&self, max: u32, kind: MsiKind) -> Result<u32> {
        let flags = match kind {
            MsiKind::Msi => bindings::PCI_IRQ_MSI,
            MsiKind::Msix => bindings::PCI_IRQ_MSIX,
        };
        // SAFETY: By the type invariant the device is valid.
        let ret =
            unsafe { bindings::vpi_helper_pci_alloc_irq_vectors(self.as_raw(), 1, max, flags) };
        to_result(ret)?;
        Ok(ret as u32)
    }

    /// Frees all MSI or MSI-X vectors (`pci_free_irq_vectors()`).
    pub(crate) fn free_irq_vectors(&self) {
        // SAFETY: By the type invariant the device is valid.
        unsafe { bindings::pci_free_irq_vectors(self.as_raw()) }
    }

    /// The Linux interrupt of allocated vector `nr` (`pci_irq_vector()`):
    /// `EINVAL` when it is not allocated.
    pub(crate) fn irq_vector(&self, nr: u32) -> Result<u32> {
        // SAFETY: By the type invariant the device is valid.
        let irq = unsafe { bindings::pci_irq_vector(self.as_raw(), nr) };
        to_result(irq)?;
        if irq == 0 {
            return Err(EINVAL);
        }
        Ok(irq as u32)
    }

    /// Allocates MSI-X vector `index` while MSI-X is enabled
    /// (`pci_msix_alloc_irq_at()`); returns its Linux interrupt.
    pub(crate) fn msix_alloc_irq_at(&self, index: u32) -> Result<u32> {
        let mut virq = 0;
        // SAFETY: By the type invariant the device is valid; `virq` is
        // valid for writes. (The helper passes the default affinity.)
        let index =
            unsafe { bindings::vpi_helper_pci_msix_alloc_irq_at(self.as_raw(), index, &mut virq) };
        to_result(index)?;
        Ok(virq as u32)
    }
}

/// Rewrites the cached MSI message of `irq` to the device (MSI-X table
/// entries can be lost to a reset behind the kernel's back).
pub(crate) fn rewrite_cached_msi_msg(irq: u32) {
    let mut msg = bindings::msi_msg::default();
    // SAFETY: `irq` is an allocated MSI(-X) interrupt of a bound device
    // (callers hold the vector); `msg` is valid for writes.
    unsafe {
        bindings::get_cached_msi_msg(irq, &mut msg);
        bindings::pci_write_msi_msg(irq, &mut msg);
    }
}

/// Converts a `PCIBIOS_*` status to a result, like `pcibios_err_to_errno()`.
fn pcibios_to_result(ret: i32) -> Result {
    match ret {
        0 => Ok(()),
        r if r < 0 => Err(Error::from_errno(r)),
        r => Err(match r as u32 {
            bindings::PCIBIOS_FUNC_NOT_SUPPORTED => ENOENT,
            bindings::PCIBIOS_BAD_VENDOR_ID => ENOTTY,
            bindings::PCIBIOS_DEVICE_NOT_FOUND => ENODEV,
            bindings::PCIBIOS_BAD_REGISTER_NUMBER => EFAULT,
            bindings::PCIBIOS_SET_FAILED => EIO,
            bindings::PCIBIOS_BUFFER_TOO_SMALL => ENOSPC,
            _ => ERANGE,
        }),
    }
}
