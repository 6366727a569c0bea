// SPDX-License-Identifier: GPL-2.0

//! Eventfd contexts.
//!
//! C header: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h)

use super::bindings;
use core::ptr::NonNull;
use kernel::error::{from_err_ptr, Result};

/// A counted reference to an eventfd context (`struct eventfd_ctx`), the
/// object user space hands over as a file descriptor to be signalled.
///
/// # Invariants
///
/// The pointer is valid and the [`EventFd`] owns one reference to the
/// context, which it drops in [`Drop::drop`].
pub(crate) struct EventFd(NonNull<bindings::eventfd_ctx>);

// SAFETY: An eventfd context is reference counted and its operations lock
// internally, so it may be used and released from any thread.
unsafe impl Send for EventFd {}

// SAFETY: `signal` is the only operation through `&EventFd`, and
// `eventfd_signal()` may be called concurrently from any context.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// Takes a reference to the eventfd context behind file descriptor `fd`
    /// of the calling process.
    ///
    /// Fails with `EBADF` when `fd` is not an open file and `EINVAL` when it
    /// is not an eventfd, as `eventfd_ctx_fdget()` does.
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: `eventfd_ctx_fdget` accepts any value and returns either a
        // new reference or an error pointer.
        let ptr = from_err_ptr(unsafe { bindings::vpi_helper_eventfd_ctx_fdget(fd) })?;
        // INVARIANT: `from_err_ptr` filtered out errors, so `ptr` is a
        // valid context and we own the reference `eventfd_ctx_fdget` took.
        NonNull::new(ptr)
            .map(Self)
            .ok_or(kernel::error::code::EINVAL)
    }

    /// Adds one to the eventfd's counter and wakes up its waiters.
    ///
    /// May be called from any context, hard interrupt handlers included.
    pub(crate) fn signal(&self) {
        // SAFETY: By the type invariant the context is valid.
        unsafe { bindings::vpi_helper_eventfd_signal(self.0.as_ptr()) }
    }

    /// The C pointer, for C APIs that identify a context by its address
    /// (an irq-bypass producer's token).
    pub(crate) fn as_ptr(&self) -> *mut bindings::eventfd_ctx {
        self.0.as_ptr()
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference.
        unsafe { bindings::eventfd_ctx_put(self.0.as_ptr()) }
    }
}
