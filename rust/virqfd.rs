// SPDX-License-Identifier: GPL-2.0

//! Eventfds that call back into the kernel when user space signals them
//! (VFIO's virqfd), e.g. the INTx unmask (resample) eventfd.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use super::bindings;
use kernel::error::{to_result, Result};
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

/// What a [`Virqfd`] calls when its eventfd is signalled.
pub(crate) trait VirqfdHandler: Send + Sync + 'static {
    /// Runs in the eventfd's wake-up, in atomic context, with the
    /// eventfd's wait-queue lock held: it must not signal an eventfd.
    /// Returns whether [`VirqfdHandler::thread`] should run.
    fn handler(&self) -> bool;

    /// Runs in process context after [`VirqfdHandler::handler`] asked for
    /// it.
    fn thread(&self);
}

/// An optional virqfd calling `T` (`struct virqfd *`, managed by
/// `vfio_virqfd_enable()` and `vfio_virqfd_disable()`).
///
/// # Invariants
///
/// `slot` is the C slot of the virqfd, written by vfio under its own lock
/// (it clears the slot itself when user space closes the eventfd). Every
/// virqfd this value enables calls `target`, which it keeps until `drop`
/// has disabled the virqfd and waited for every shutdown.
pub(crate) struct Virqfd<T: VirqfdHandler> {
    slot: KBox<Opaque<*mut bindings::virqfd>>,
    target: Arc<T>,
}

// SAFETY: The C slot is only used through vfio's virqfd functions, which
// lock; `T` is `Send + Sync`.
unsafe impl<T: VirqfdHandler> Send for Virqfd<T> {}
// SAFETY: As above; `&self` methods only call `vfio_virqfd_flush_thread()`.
unsafe impl<T: VirqfdHandler> Sync for Virqfd<T> {}

impl<T: VirqfdHandler> Virqfd<T> {
    /// Creates an empty (disabled) virqfd slot whose virqfds call `target`.
    pub(crate) fn new(target: Arc<T>) -> Result<Self> {
        let slot = KBox::new(Opaque::new(core::ptr::null_mut()), GFP_KERNEL)?;
        Ok(Self { slot, target })
    }

    /// Starts calling the target whenever eventfd `fd` is signalled. Fails
    /// as `vfio_virqfd_enable()` does, in its order: `EBADF` or `EINVAL`
    /// for a bad fd, then `EBUSY` when a virqfd is already active, `ENOMEM`.
    pub(crate) fn enable(&mut self, fd: i32) -> Result {
        let data = core::ptr::from_ref::<T>(&self.target)
            .cast_mut()
            .cast::<c_void>();
        // SAFETY: `data` points at the `T` that `self.target` keeps alive
        // until `drop` has disabled every virqfd (type invariant); the slot
        // is heap-allocated and outlives the virqfd.
        let ret = unsafe {
            bindings::vfio_virqfd_enable(
                data,
                Some(handler_callback::<T>),
                Some(thread_callback::<T>),
                data,
                self.slot.get(),
                fd,
            )
        };
        to_result(ret)
    }

    /// Stops the virqfd, waiting until it no longer calls back.
    pub(crate) fn disable(&mut self) {
        // SAFETY: The slot is valid.
        unsafe { bindings::vfio_virqfd_disable(self.slot.get()) };
    }

    /// Waits for a running or queued [`VirqfdHandler::thread`].
    pub(crate) fn flush_thread(&self) {
        // SAFETY: The slot is valid.
        unsafe { bindings::vfio_virqfd_flush_thread(self.slot.get()) };
    }
}

impl<T: VirqfdHandler> Drop for Virqfd<T> {
    fn drop(&mut self) {
        // After this no virqfd calls the target; then it can go.
        self.disable();
    }
}

/// # Safety
///
/// `data` is the target of a live [`Virqfd<T>`].
unsafe extern "C" fn handler_callback<T: VirqfdHandler>(
    _opaque: *mut c_void,
    data: *mut c_void,
) -> c_int {
    // SAFETY: The `Virqfd` keeps the target alive while it can call back.
    let target = unsafe { &*data.cast::<T>() };
    c_int::from(target.handler())
}

/// # Safety
///
/// As for `handler_callback`.
unsafe extern "C" fn thread_callback<T: VirqfdHandler>(_opaque: *mut c_void, data: *mut c_void) {
    // SAFETY: The `Virqfd` keeps the target alive while it can call back.
    let target = unsafe { &*data.cast::<T>() };
    target.thread();
}
