// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables local interrupts.
//!
//! Linux 6.12's [`kernel::sync::SpinLock`] takes `spin_lock()`, which must
//! not be shared with a hard interrupt handler. [`IrqSpinLock`] is the same
//! [`Lock`] over a `spinlock_t`, locked with
//! `spin_lock_irqsave()`, so process context and an interrupt handler can
//! share it.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use super::bindings;
use kernel::sync::lock::{Backend, Lock};

/// Creates an [`IrqSpinLock`] initialiser with a static lock class.
macro_rules! new_irq_spinlock {
    ($inner:expr, $name:literal $(,)?) => {
        $crate::kernel_ext::sync::IrqSpinLock::new(
            $inner,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_irq_spinlock;

/// A spinlock taken with local interrupts disabled (`spin_lock_irqsave()`).
pub(crate) type IrqSpinLock<T> = Lock<T, IrqSaveBackend>;

/// The [`Backend`] of [`IrqSpinLock`].
pub(crate) struct IrqSaveBackend;

// SAFETY: `spinlock_t` ensures mutual exclusion; the guard state carries the
// interrupt flags saved at lock time, which unlock restores.
unsafe impl Backend for IrqSaveBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = kernel::ffi::c_ulong;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: The caller guarantees that `ptr` is valid for writes and
        // that `name` and `key` live forever.
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees that `ptr` is an initialised lock.
        // Our bindings declare their own (identical) `spinlock_t`.
        unsafe { bindings::vpi_helper_spin_lock_irqsave(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: The caller guarantees that it holds the lock, which `lock`
        // took with these flags.
        unsafe { bindings::vpi_helper_spin_unlock_irqrestore(ptr.cast(), *flags) }
    }
}
