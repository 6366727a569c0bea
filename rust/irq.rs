// SPDX-License-Identifier: GPL-2.0

//! Interrupt handler registration.
//!
//! C header: [`include/linux/interrupt.h`](srctree/include/linux/interrupt.h)

use super::bindings;
use core::marker::PhantomPinned;
use core::pin::Pin;
use kernel::error::{to_result, Result};
use kernel::init::PinInit;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::types::Opaque;

/// What a hard interrupt handler reports (`irqreturn_t`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IrqReturn {
    /// The interrupt was not from this device.
    None,
    /// The interrupt was handled.
    Handled,
}

/// A hard interrupt handler.
///
/// [`Handler::handle`] runs in hard interrupt context: it must not sleep,
/// and may only take locks that disable interrupts.
pub(crate) trait Handler: Sync {
    /// Handles one interrupt.
    fn handle(&self) -> IrqReturn;
}

/// Flags of [`Registration::new`] (`IRQF_*`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Flags(u32);

impl Flags {
    /// The line may be shared with other devices (`IRQF_SHARED`).
    pub(crate) const SHARED: Flags = Flags(bindings::IRQF_SHARED);
    /// Do not enable the interrupt at request time (`IRQF_NO_AUTOEN`).
    pub(crate) const NO_AUTOEN: Flags = Flags(bindings::IRQF_NO_AUTOEN);
}

/// A handler registered for a Linux interrupt: `request_irq()` on creation,
/// `free_irq()` on drop.
///
/// # Invariants
///
/// While the registration exists, `handler` is registered for `irq` with the
/// address of `handler` as its cookie, and `name` is the name it was
/// registered with.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: Handler> {
    irq: u32,
    name: CString,
    #[pin]
    handler: Opaque<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The registration only hands out `&T`, and `T: Sync`.
unsafe impl<T: Handler + Send> Send for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Handler> Sync for Registration<T> {}

impl<T: Handler + 'static> Registration<T> {
    /// Registers `handler` for interrupt `irq` under `name` (shown in
    /// `/proc/interrupts`).
    ///
    /// The handler may run as soon as this returns, before the
    /// registration is in its final place: that is why it is pinned.
    pub(crate) fn new(
        irq: u32,
        flags: Flags,
        name: CString,
        handler: T,
    ) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| -> Result {
            // SAFETY: `slot` is valid for writes and pinned (pin-init).
            let handler_ptr = unsafe { core::ptr::addr_of_mut!((*slot).handler) };
            // SAFETY: Likewise; `Opaque<T>` has the layout of `T`.
            unsafe { Opaque::raw_get(handler_ptr).write(handler) };
            let cookie = Opaque::raw_get(handler_ptr).cast::<kernel::ffi::c_void>();
            // SAFETY: `handle_irq::<T>` matches `irq_handler_t`, `name`
            // outlives the registration (it is stored in it below), and the
            // cookie points at the pinned handler, freed only after
            // `free_irq()` in `drop`.
            let ret = unsafe {
                bindings::vpi_helper_request_irq(
                    irq,
                    Some(handle_irq::<T>),
                    flags.0 as kernel::ffi::c_ulong,
                    name.as_char_ptr(),
                    cookie,
                )
            };
            if let Err(e) = to_result(ret) {
                // SAFETY: The handler was written above and is not
                // registered, so it is ours to drop.
                unsafe { core::ptr::drop_in_place(Opaque::raw_get(handler_ptr)) };
                return Err(e);
            }
            // INVARIANT: The handler is registered with its address as the
            // cookie, under `name`.
            // SAFETY: `slot` is valid for writes; these fields are plain.
            unsafe {
                core::ptr::addr_of_mut!((*slot).irq).write(irq);
                core::ptr::addr_of_mut!((*slot).name).write(name);
            }
            Ok(())
        };
        // SAFETY: On success every field of `*slot` is initialised, and on
        // failure nothing is left behind (the handler was dropped).
        unsafe { kernel::init::pin_init_from_closure(init) }
    }
}

#[pinned_drop]
impl<T: Handler> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        let cookie = self.handler.get().cast::<kernel::ffi::c_void>();
        // SAFETY: By the type invariant the handler is registered for `irq`
        // with this cookie. After `free_irq()` returns it no longer runs.
        unsafe { bindings::free_irq(self.irq, cookie) };
        // SAFETY: The handler is initialised and no longer registered.
        unsafe { core::ptr::drop_in_place(self.handler.get()) };
    }
}

/// The C handler of [`Registration`].
///
/// # Safety
///
/// `cookie` is the address of the handler of a live [`Registration<T>`].
unsafe extern "C" fn handle_irq<T: Handler>(
    _irq: kernel::ffi::c_int,
    cookie: *mut kernel::ffi::c_void,
) -> bindings::irqreturn_t {
    // SAFETY: The registration keeps the handler alive and pinned while it
    // is registered.
    let handler = unsafe { &*cookie.cast::<T>() };
    match handler.handle() {
        IrqReturn::None => bindings::irqreturn_IRQ_NONE,
        IrqReturn::Handled => bindings::irqreturn_IRQ_HANDLED,
    }
}

/// Waits until running handlers of `irq` have returned
/// (`synchronize_irq()`). Sleeps.
pub(crate) fn synchronize(irq: u32) {
    // SAFETY: Any interrupt number is accepted.
    unsafe { bindings::synchronize_irq(irq) }
}

/// Disables `irq` without waiting for running handlers
/// (`disable_irq_nosync()`); nests with [`enable`].
pub(crate) fn disable_nosync(irq: u32) {
    // SAFETY: Any interrupt number is accepted.
    unsafe { bindings::disable_irq_nosync(irq) }
}

/// Undoes one [`disable_nosync`] (`enable_irq()`).
pub(crate) fn enable(irq: u32) {
    // SAFETY: Any interrupt number is accepted.
    unsafe { bindings::enable_irq(irq) }
}

/// Whether the caller runs in a hard interrupt handler (`in_hardirq()`).
pub(crate) fn in_hardirq() -> bool {
    // SAFETY: Reads the current CPU's preemption count; no precondition.
    unsafe { bindings::vpi_helper_in_hardirq() }
}

/// Makes `disable_irq()` of `irq` mask the line at once instead of lazily
/// (`IRQ_DISABLE_UNLAZY`), or stops doing so.
pub(crate) fn set_disable_unlazy(irq: u32, on: bool) {
    let flag = bindings::IRQ_DISABLE_UNLAZY as kernel::ffi::c_ulong;
    let (clr, set) = if on { (0, flag) } else { (flag, 0) };
    // SAFETY: Any interrupt number is accepted.
    unsafe { bindings::irq_modify_status(irq, clr, set) }
}
