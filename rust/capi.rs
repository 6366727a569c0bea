// SPDX-License-Identifier: GPL-2.0

//! The C API of the module (`include/linux/vfio_pci_intrs.h`): where C
//! calls into the crate.
//!
//! Each function is `#[no_mangle] extern "C"` and exported to other modules
//! by `rust/exports.c`. An interrupt context is handed to C as an opaque
//! `struct vfio_pci_intr_ctx *`: a [`Handle`] in foreign form, owned by the
//! caller from `*_init_intr_ctx()` until `vfio_pci_intrs_release_intr_ctx()`.
//! The header's kernel-doc is the contract each `# Safety` section refers
//! to.

use super::bindings;
use super::pci::PciDev;
use super::vfio::CoreDeviceHandle;
use crate::debugfs::DeviceView;
use crate::frontend::IntrCtx;
use crate::ims::Ims;
use crate::passthrough::Passthrough;
use core::ptr::NonNull;
use kernel::c_str;
use kernel::error::{code::*, Result};
use kernel::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use kernel::fmt;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::str::CString;
use kernel::sync::{Arc, ArcBorrow};
use kernel::types::ForeignOwnable;

/// The version of the C API, `VFIO_PCI_INTRS_API_VERSION` in the header.
pub(crate) const API_VERSION: i32 = bindings::VFIO_PCI_INTRS_API_VERSION as i32;

/// The opaque C type of an interrupt context.
type CCtx = c_void;

/// What a C caller holds: the interrupt context and its debugfs view
/// (`vfio-pci-intrs/<name>/vectors`, as the driver's own devices have).
pub(crate) struct Handle {
    intr: Arc<IntrCtx>,
    // Removed before the context is closed.
    view: Option<DeviceView>,
}

/// Hands a new context to C, with a view named `name`.
fn to_c(name: &CStr, intr: Result<Arc<IntrCtx>>) -> *mut CCtx {
    let handle = intr.and_then(|intr| {
        // The view is a convenience: the context works without it.
        let view = DeviceView::new(name, intr.clone()).ok();
        Ok(KBox::new(Handle { intr, view }, GFP_KERNEL)?)
    });
    match handle {
        Ok(handle) => handle.into_foreign().cast_mut(),
        Err(e) => e.to_ptr(),
    }
}

/// # Safety
///
/// `ctx` was returned by an `*_init_intr_ctx()` function and not released.
unsafe fn borrow<'a>(ctx: *mut CCtx) -> ArcBorrow<'a, IntrCtx> {
    // SAFETY: The caller guarantees `ctx` is a live handle.
    let handle: &'a Handle = unsafe { <KBox<Handle> as ForeignOwnable>::borrow(ctx) };
    handle.intr.as_arc_borrow()
}

fn to_errno(r: Result) -> c_int {
    r.map_or_else(|e| e.to_errno(), |()| 0)
}

/// Returns the version of the C API the module implements.
#[no_mangle]
pub(crate) extern "C" fn vfio_pci_intrs_api_version() -> c_int {
    API_VERSION
}

/// Creates an interrupt context for a passthrough device.
///
/// # Safety
///
/// `vdev` is a core device initialised by `vfio_pci_core_init_dev()` that
/// outlives the context.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_intrs_init_intr_ctx(
    vdev: *mut bindings::vfio_pci_core_device,
) -> *mut CCtx {
    let Some(vdev) = NonNull::new(vdev) else {
        return EINVAL.to_ptr();
    };
    // SAFETY: The caller guarantees the device outlives the context, which
    // is the only holder of the handle.
    let handle = unsafe { CoreDeviceHandle::from_raw(vdev) };
    let name = match CString::try_from_fmt(fmt!("{}", handle.pdev().name())) {
        Ok(name) => name,
        Err(e) => return e.to_ptr(),
    };
    let intr = (|| {
        let backend: Arc<dyn crate::backend::Backend> =
            Arc::new(Passthrough::new(handle), GFP_KERNEL)?;
        Arc::pin_init(IntrCtx::new(backend), GFP_KERNEL)
    })();
    to_c(&name, intr)
}

/// Creates an interrupt context for an IMS-backed virtual device.
///
/// # Safety
///
/// `vdev` and `pdev` are valid; `default_cookie` is null or valid.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_ims_init_intr_ctx(
    vdev: *mut bindings::vfio_device,
    pdev: *mut bindings::pci_dev,
    num_vectors: c_uint,
    default_cookie: *const bindings::msi_instance_cookie,
) -> *mut CCtx {
    if vdev.is_null() || pdev.is_null() || num_vectors == 0 {
        return EINVAL.to_ptr();
    }
    if !super::ims::available() {
        return kernel::error::Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32)).to_ptr();
    }
    // SAFETY: The caller guarantees the pointers are valid; a union of a
    // `u64` and a pointer is read as its `u64`. The interrupts are named
    // after the parent device (an mdev's UUID), not the "vfioN" class
    // device; `Ims::new` copies the name.
    let (name, pdev, cookie) = unsafe {
        let parent = (*vdev).dev;
        let name = if parent.is_null() {
            core::ptr::null()
        } else {
            bindings::vpi_helper_dev_name(parent)
        };
        let name = if name.is_null() {
            c_str!("vfio")
        } else {
            CStr::from_char_ptr(name)
        };
        let cookie = if default_cookie.is_null() {
            0
        } else {
            (*default_cookie).value
        };
        (name, PciDev::from_raw(pdev), cookie)
    };
    let intr = (|| {
        let backend: Arc<dyn crate::backend::Backend> =
            Arc::new(Ims::new(pdev, name, num_vectors, cookie)?, GFP_KERNEL)?;
        Arc::pin_init(IntrCtx::new(backend), GFP_KERNEL)
    })();
    to_c(name, intr)
}

/// Releases an interrupt context, tearing down whatever is active.
///
/// # Safety
///
/// `ctx` is a live context, not used after this call.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_intrs_release_intr_ctx(ctx: *mut CCtx) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: The caller gives back its handle.
    let handle = unsafe { <KBox<Handle> as ForeignOwnable>::from_foreign(ctx) };
    let Handle { intr, view } = KBox::into_inner(handle);
    drop(view);
    intr.close();
}

/// Dispatches a validated SET_IRQS request.
///
/// # Safety
///
/// `ctx` is live; `data` holds `count` elements of the type `flags` names
/// (none for `VFIO_IRQ_SET_DATA_NONE`).
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_intrs_set_irqs_ioctl(
    ctx: *mut CCtx,
    flags: u32,
    index: c_uint,
    start: c_uint,
    count: c_uint,
    data: *mut c_void,
) -> c_int {
    let size = match flags & bindings::VFIO_IRQ_SET_DATA_TYPE_MASK {
        bindings::VFIO_IRQ_SET_DATA_BOOL => 1,
        bindings::VFIO_IRQ_SET_DATA_EVENTFD => 4,
        _ => 0,
    } * count as usize;
    let raw: &[u8] = if size == 0 || data.is_null() {
        &[]
    } else {
        // SAFETY: The caller guarantees `data` holds `size` bytes.
        unsafe { core::slice::from_raw_parts(data.cast::<u8>(), size) }
    };
    // SAFETY: The caller guarantees `ctx` is live.
    let ctx = unsafe { borrow(ctx) };
    match ctx.set_irqs(flags, index, start, count, raw) {
        Ok(n) => n,
        Err(e) => e.to_errno(),
    }
}

/// Handles `VFIO_DEVICE_GET_IRQ_INFO` and `VFIO_DEVICE_SET_IRQS` whole from
/// their user-space argument; `-ENOTTY` for any other command.
///
/// # Safety
///
/// `ctx` is live; `arg` is the ioctl's user-space argument.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_intrs_ioctl(
    ctx: *mut CCtx,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: The caller guarantees `ctx` is live.
    let ctx = unsafe { borrow(ctx) };
    match ctx.ioctl(cmd, arg) {
        Some(Ok(n)) => n as c_long,
        Some(Err(e)) => e.to_errno() as c_long,
        None => ENOTTY.to_errno() as c_long,
    }
}

/// Signals the REQ trigger, as `vfio_pci_core_request()` does for
/// vfio-pci: 1 if user space had one, 0 if not.
///
/// # Safety
///
/// `ctx` is live.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_intrs_request(ctx: *mut CCtx) -> c_int {
    // SAFETY: The caller guarantees `ctx` is live.
    c_int::from(unsafe { borrow(ctx) }.signal_req())
}

/// Marks vectors `start..start + count` emulated.
///
/// # Safety
///
/// `ctx` is live.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_set_emulated(
    ctx: *mut CCtx,
    start: c_uint,
    count: c_uint,
) -> c_int {
    // SAFETY: The caller guarantees `ctx` is live.
    to_errno(unsafe { borrow(ctx) }.set_emulated(start, count))
}

/// Signals emulated vector `vector`.
///
/// # Safety
///
/// `ctx` is live; process context.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_send_signal(ctx: *mut CCtx, vector: c_uint) -> c_int {
    // SAFETY: The caller guarantees `ctx` is live.
    to_errno(unsafe { borrow(ctx) }.send_signal(vector))
}

/// Sets the cookie of `vector`'s next IMS allocation.
///
/// # Safety
///
/// `ctx` is live; `cookie` is valid.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_ims_set_cookie(
    ctx: *mut CCtx,
    vector: c_uint,
    cookie: *const bindings::msi_instance_cookie,
) -> c_int {
    if cookie.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: The caller guarantees both pointers; the union is read as
    // its `u64`.
    let (ctx, value) = unsafe { (borrow(ctx), (*cookie).value) };
    to_errno(ctx.set_cookie(vector, value))
}

/// The IMS index of `vector`'s live interrupt, or `-EINVAL`.
///
/// # Safety
///
/// `ctx` is live.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_ims_hwirq(ctx: *mut CCtx, vector: c_uint) -> c_int {
    // SAFETY: The caller guarantees `ctx` is live.
    match unsafe { borrow(ctx) }.ims_index(vector) {
        Ok(index) => index as c_int,
        Err(e) => e.to_errno(),
    }
}
