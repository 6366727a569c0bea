// SPDX-License-Identifier: GPL-2.0

//! IRQ bypass producers: let KVM post a device interrupt straight to a
//! guest when its eventfd is also a KVM irqfd.
//!
//! C header: [`include/linux/irqbypass.h`](srctree/include/linux/irqbypass.h)

use super::bindings;
use super::eventfd::EventFd;
use kernel::error::{to_result, Result};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A registered irq-bypass producer for one Linux interrupt, identified by
/// the eventfd it signals (`irq_bypass_register_producer()`); unregistered
/// on drop.
///
/// # Invariants
///
/// The producer is registered and heap-allocated (its address is fixed)
/// for the lifetime of the value.
pub(crate) struct BypassProducer(KBox<Opaque<bindings::irq_bypass_producer>>);

// SAFETY: The producer is only touched by the irqbypass manager, under its
// own lock, and by `drop`.
unsafe impl Send for BypassProducer {}
// SAFETY: No method takes `&self`.
unsafe impl Sync for BypassProducer {}

impl BypassProducer {
    /// Registers a producer for interrupt `irq` whose token is `trigger`
    /// (the address KVM's irqfd consumer matches). The caller unregisters
    /// (drops) the producer before it drops `trigger`.
    pub(crate) fn register(trigger: &EventFd, irq: u32) -> Result<Self> {
        let producer = KBox::new(
            Opaque::new(bindings::irq_bypass_producer::default()),
            GFP_KERNEL,
        )?;
        // SAFETY: The producer is valid and heap-allocated; all-zero fields
        // but the token and the interrupt are what registration expects.
        let ret = unsafe {
            let p = producer.get();
            (*p).token = trigger.as_ptr().cast();
            (*p).irq = irq as i32;
            bindings::irq_bypass_register_producer(p)
        };
        to_result(ret)?;
        // INVARIANT: Registered above; the box fixes the address.
        Ok(Self(producer))
    }
}

impl Drop for BypassProducer {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the producer is registered.
        unsafe { bindings::irq_bypass_unregister_producer(self.0.get()) };
    }
}
