// SPDX-License-Identifier: GPL-2.0

//! The PCI passthrough backend: INTx, MSI and MSI-X of a physical function,
//! ERR and REQ.
//!
//! It does what upstream vfio-pci's `vfio_pci_intrs.c` does on Linux 6.12,
//! behind the [`Backend`] trait:
//!
//! - INTx with a handler registered for as long as INTx is enabled
//!   (trigger changes only swap the eventfd), automasking, mask and unmask
//!   by ioctl, by the unmask (resample) eventfd and by the user's
//!   `DisINTx` bit; PCI 2.3 devices mask at the device and share the line,
//!   others get an exclusive line masked at the interrupt controller,
//!   started disabled when it starts masked (no spurious enable);
//! - MSI and MSI-X vectors allocated under `memory_lock` with memory
//!   decoding on, MSI-X vectors one at a time where the device allows it,
//!   the cached message rewritten before each request.
//!
//! # Locking
//!
//! [`IntxShared::lock`] (interrupt-safe spinlock) guards the INTx mask
//! state and trigger. The hard interrupt handler and the unmask eventfd's
//! wake-up take only it; everything else runs under `igate` and takes it
//! inside. Eventfds are signalled outside it: a resample eventfd's wake-up
//! holds that eventfd's wait-queue lock and then takes this lock, so
//! signalling under it could deadlock.

use crate::backend::Backend;
use crate::frontend::{
    irq_name, Backing, Data, DevName, Index, IntrState, IrqInfo, IrqType, MsiHandler, Trigger,
    VectorCtx,
};
use crate::kernel_ext::irq::{self, Flags, IrqReturn, Registration};
use crate::kernel_ext::pci::{self, MsiKind, PciDev};
use crate::kernel_ext::sync::{new_irq_spinlock, IrqSpinLock};
use crate::kernel_ext::uapi;
use crate::kernel_ext::vfio::{CoreDevice, CoreDeviceHandle};
use crate::kernel_ext::virqfd::{Virqfd, VirqfdHandler};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::fmt;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;
use kernel::types::ARef;

/// The PCI passthrough backend of one device.
pub(crate) struct Passthrough {
    dev: CoreDeviceHandle,
}

impl Passthrough {
    /// A backend for `dev`.
    pub(crate) fn new(dev: CoreDeviceHandle) -> Passthrough {
        Passthrough { dev }
    }

    fn dev(&self) -> &CoreDevice {
        &self.dev
    }

    fn pdev(&self) -> &PciDev {
        self.dev().pdev()
    }

    fn msi_kind(index: Index) -> MsiKind {
        if index == Index::Msix {
            MsiKind::Msix
        } else {
            MsiKind::Msi
        }
    }

    /// Enables INTx with `trigger` (upstream's `vfio_intx_enable()`).
    fn intx_enable(&self, st: &mut IntrState, trigger: Option<Arc<Trigger>>) -> Result {
        if st.irq_type != IrqType::None {
            return Err(EINVAL);
        }
        let pdev = self.pdev();
        let irq = pdev.intx_irq().ok_or(ENODEV)?;
        let pci_2_3 = self.dev().pci_2_3();
        let name = irq_name(fmt!("vfio-intx({})", DevName(pdev.name())))?;
        // The initial mask state follows the user's DisINTx bit. Nothing
        // can unmask before the handler is registered: we hold igate and
        // the unmask eventfd does not exist yet.
        let masked = self.dev().virq_disabled();
        let handler_trigger = trigger.clone();
        let shared = Arc::pin_init(
            pin_init!(IntxShared {
                pdev: ARef::from(pdev),
                irq,
                pci_2_3,
                virq_disabled: AtomicBool::new(masked),
                lock <- new_irq_spinlock!(
                    IntxIrq { masked, trigger: handler_trigger },
                    "vfio_pci_intrs::intx"
                ),
            }),
            GFP_KERNEL,
        )?;
        let unmask = Virqfd::new(shared.clone())?;
        if st.vectors.get(&0).is_none() {
            st.vectors
                .try_create_and_insert(0, VectorCtx::new_intx(), GFP_KERNEL_ACCOUNT)?;
        }

        let flags = if pci_2_3 {
            pdev.intx(!masked);
            Flags::SHARED
        } else if masked {
            // An exclusive line that starts masked must not be enabled by
            // request_irq(), or it would be disabled twice (CVE-2024-27437).
            Flags::NO_AUTOEN
        } else {
            Flags::default()
        };
        // The handler relies on the type being INTx while it is registered.
        st.irq_type = IrqType::Intx;
        if !pci_2_3 {
            irq::set_disable_unlazy(irq, true);
        }
        let reg = KBox::pin_init(
            Registration::new(irq, flags, name, IntxHandler(shared.clone())),
            GFP_KERNEL,
        );
        let reg = match reg {
            Ok(reg) => reg,
            Err(e) => {
                if !pci_2_3 {
                    irq::set_disable_unlazy(irq, false);
                }
                st.irq_type = IrqType::None;
                st.vectors.remove(&0);
                return Err(e);
            }
        };
        let ctx = st.vectors.get_mut(&0).ok_or(EINVAL)?;
        ctx.trigger = trigger;
        ctx.virq = irq;
        ctx.backing = Backing::Intx(IntxLine {
            shared,
            _reg: reg,
            unmask,
        });
        Ok(())
    }

    /// Replaces the INTx trigger; the handler stays registered.
    fn intx_set_signal(&self, st: &mut IntrState, trigger: Option<Arc<Trigger>>) -> Result {
        let ctx = st.vectors.get_mut(&0).ok_or(EINVAL)?;
        let Backing::Intx(line) = &ctx.backing else {
            return Err(EINVAL);
        };
        let old = core::mem::replace(&mut line.shared.lock.lock().trigger, trigger.clone());
        ctx.trigger = trigger;
        if old.is_some() {
            // In-flight handlers and unmask threads may still signal the
            // old eventfd: wait for them before letting it go.
            irq::synchronize(line.shared.irq);
            line.unmask.flush_thread();
        }
        drop(old);
        Ok(())
    }
}

/// The INTx line while INTx is enabled: the state shared with the handler,
/// the handler's registration and the unmask eventfd.
pub(crate) struct IntxLine {
    shared: Arc<IntxShared>,
    /// Frees the interrupt on drop.
    _reg: Pin<KBox<Registration<IntxHandler>>>,
    unmask: Virqfd<IntxShared>,
}

impl IntxLine {
    /// Whether the line is masked.
    pub(crate) fn masked(&self) -> bool {
        self.shared.lock.lock().masked
    }
}

/// INTx state shared by the handler, the unmask eventfd and `igate`
/// holders.
#[pin_data]
pub(crate) struct IntxShared {
    pdev: ARef<PciDev>,
    irq: u32,
    pci_2_3: bool,
    /// The user's DisINTx bit, as `igate` holders last set it.
    virq_disabled: AtomicBool,
    #[pin]
    lock: IrqSpinLock<IntxIrq>,
}

struct IntxIrq {
    masked: bool,
    trigger: Option<Arc<Trigger>>,
}

impl IntxShared {
    /// Signals the trigger unless the user disabled INTx (upstream's
    /// `vfio_send_intx_eventfd()`). Not with `lock` held.
    fn send(&self) {
        if self.virq_disabled.load(Ordering::Relaxed) {
            return;
        }
        let trigger = self.lock.lock().trigger.clone();
        if let Some(trigger) = trigger {
            trigger.signal();
        }
    }

    /// Masks the line once; returns whether it changed.
    fn mask(&self) -> bool {
        let mut irq = self.lock.lock();
        if irq.masked {
            return false;
        }
        // Always mask, not only when an interrupt is pending.
        if self.pci_2_3 {
            self.pdev.intx(false);
        } else {
            irq::disable_nosync(self.irq);
        }
        irq.masked = true;
        true
    }

    /// Unmasks the line unless the user disabled INTx; returns `true` when
    /// an interrupt is still pending, in which case the line stays masked
    /// and the trigger should be signalled again instead (upstream's
    /// `vfio_pci_intx_unmask_handler()`).
    fn unmask_check(&self) -> bool {
        let mut irq = self.lock.lock();
        let mut pending = false;
        if irq.masked && !self.virq_disabled.load(Ordering::Relaxed) {
            if self.pci_2_3 {
                pending = !self.pdev.check_and_unmask_intx();
            } else {
                irq::enable(self.irq);
            }
            irq.masked = pending;
        }
        pending
    }

    /// Unmasks, re-signalling a still pending interrupt.
    fn unmask(&self) {
        if self.unmask_check() {
            self.send();
        }
    }
}

/// The unmask eventfd. Upstream unmasks in the eventfd's wake-up, whoever
/// signalled it. When that is an interrupt handler (the eventfd is also
/// this line's trigger, say) and the line is exclusive, the line is enabled
/// again from inside its own handler while the device still asserts it,
/// and the interrupt comes back at once, endlessly: upstream locks the CPU
/// up. Here an exclusive line's unmask signalled from hard-interrupt
/// context is left to the thread, so that the same loop, if the user built
/// one, runs in a kworker that can be preempted and ends once the device is
/// quiet. Signals from user space or KVM's resampler unmask at once, as
/// upstream does.
impl VirqfdHandler for IntxShared {
    fn handler(&self) -> bool {
        if !self.pci_2_3 && irq::in_hardirq() {
            return true;
        }
        self.unmask_check()
    }

    fn thread(&self) {
        if self.pci_2_3 {
            // Asked for by `unmask_check()`: the interrupt is still pending.
            self.send();
        } else {
            // Deferred from the handler above (an exclusive line never
            // reports a pending interrupt).
            self.unmask();
        }
    }
}

/// The INTx hard interrupt handler.
struct IntxHandler(Arc<IntxShared>);

impl irq::Handler for IntxHandler {
    fn handle(&self) -> IrqReturn {
        let shared = &self.0;
        let ret = {
            let mut irq = shared.lock.lock();
            if !shared.pci_2_3 {
                irq::disable_nosync(shared.irq);
                irq.masked = true;
                IrqReturn::Handled
            } else if !irq.masked && shared.pdev.check_and_mask_intx() {
                // The line may be shared: only ours if the device asserts it.
                irq.masked = true;
                IrqReturn::Handled
            } else {
                IrqReturn::None
            }
        };
        if ret == IrqReturn::Handled {
            shared.send();
        }
        ret
    }
}

fn intx_line(st: &mut IntrState) -> Option<&mut IntxLine> {
    match &mut st.vectors.get_mut(&0)?.backing {
        Backing::Intx(line) => Some(line),
        _ => None,
    }
}

/// Checks the range of an INTx mask or unmask request.
fn intx_range(st: &mut IntrState, start: u32, count: u32) -> Result<&mut IntxLine> {
    if st.irq_type != IrqType::Intx || start != 0 || count != 1 {
        return Err(EINVAL);
    }
    intx_line(st).ok_or(EINVAL)
}

impl Backend for Passthrough {
    fn irq_info(&self, index: Index) -> Result<IrqInfo> {
        let pdev = self.pdev();
        let eventfd = uapi::VFIO_IRQ_INFO_EVENTFD;
        let noresize = uapi::VFIO_IRQ_INFO_NORESIZE;
        Ok(match index {
            Index::Intx => IrqInfo {
                flags: eventfd | uapi::VFIO_IRQ_INFO_MASKABLE | uapi::VFIO_IRQ_INFO_AUTOMASKED,
                // The virtual pin: vfio-pci-core clears it for devices that
                // must not use INTx.
                count: u32::from(self.dev().virtual_config_byte(pci::PCI_INTERRUPT_PIN) != 0),
            },
            Index::Msi => IrqInfo {
                flags: eventfd | noresize,
                count: pdev.msi_cap().map_or(0, |cap| {
                    let flags = pdev
                        .read_config_word(u32::from(cap) + pci::PCI_MSI_FLAGS)
                        .unwrap_or(0);
                    1 << ((u32::from(flags) & pci::PCI_MSI_FLAGS_QMASK) >> 1)
                }),
            },
            Index::Msix => IrqInfo {
                flags: if self.dev().has_dyn_msix() {
                    eventfd
                } else {
                    eventfd | noresize
                },
                count: pdev.msix_cap().map_or(0, |cap| {
                    let flags = pdev
                        .read_config_word(u32::from(cap) + pci::PCI_MSIX_FLAGS)
                        .unwrap_or(0);
                    (u32::from(flags) & pci::PCI_MSIX_FLAGS_QSIZE) + 1
                }),
            },
            Index::Err if !pdev.is_pcie() => return Err(EINVAL),
            Index::Err | Index::Req => IrqInfo {
                flags: eventfd | noresize,
                count: 1,
            },
        })
    }

    fn has_index(&self, index: Index) -> bool {
        match index {
            Index::Err => self.pdev().is_pcie(),
            _ => true,
        }
    }

    fn has_intx(&self) -> bool {
        true
    }

    fn set_intx_mask(&self, st: &mut IntrState, start: u32, count: u32, data: Data<'_>) -> Result {
        let line = intx_range(st, start, count)?;
        match data {
            Data::None => {
                line.shared.mask();
            }
            Data::Bool(b) => {
                if b[0] != 0 {
                    line.shared.mask();
                }
            }
            // Upstream: "XXX implement me".
            Data::Eventfd(_) => return Err(ENOTTY),
        }
        Ok(())
    }

    fn set_intx_unmask(
        &self,
        st: &mut IntrState,
        start: u32,
        count: u32,
        data: Data<'_>,
    ) -> Result {
        let line = intx_range(st, start, count)?;
        match data {
            Data::None => line.shared.unmask(),
            Data::Bool(b) => {
                if b[0] != 0 {
                    line.shared.unmask();
                }
            }
            Data::Eventfd(fds) => {
                if fds[0] >= 0 {
                    return line.unmask.enable(fds[0]);
                }
                line.unmask.disable();
            }
        }
        Ok(())
    }

    fn set_intx_trigger(
        &self,
        st: &mut IntrState,
        start: u32,
        count: u32,
        data: Data<'_>,
    ) -> Result {
        if st.irq_type == IrqType::Intx && count == 0 && matches!(data, Data::None) {
            self.intx_disable(st);
            return Ok(());
        }
        if !(st.irq_type == IrqType::Intx || st.irq_type == IrqType::None)
            || start != 0
            || count != 1
        {
            return Err(EINVAL);
        }
        match data {
            Data::Eventfd(fds) => {
                let trigger = if fds[0] >= 0 {
                    Some(Trigger::from_fd(fds[0])?)
                } else {
                    None
                };
                if st.irq_type == IrqType::Intx {
                    self.intx_set_signal(st, trigger)
                } else {
                    self.intx_enable(st, trigger)
                }
            }
            _ if st.irq_type != IrqType::Intx => Err(EINVAL),
            Data::None => {
                if let Some(line) = intx_line(st) {
                    line.shared.send();
                }
                Ok(())
            }
            Data::Bool(b) => {
                if b[0] != 0 {
                    if let Some(line) = intx_line(st) {
                        line.shared.send();
                    }
                }
                Ok(())
            }
        }
    }

    fn intx_disable(&self, st: &mut IntrState) {
        if let Some(ctx) = st.vectors.remove(&0) {
            if let Backing::Intx(mut line) = ctx.backing {
                line.unmask.disable();
                let pci_2_3 = line.shared.pci_2_3;
                let irq = line.shared.irq;
                // Frees the interrupt, then drops the trigger.
                drop(line);
                if !pci_2_3 {
                    irq::set_disable_unlazy(irq, false);
                }
            }
        }
        st.irq_type = IrqType::None;
    }

    fn intx_disable_bit(&self, st: &mut IntrState, disabled: bool) {
        if let Some(line) = intx_line(st) {
            line.shared.virq_disabled.store(disabled, Ordering::Relaxed);
            if disabled {
                line.shared.mask();
            } else {
                line.shared.unmask();
            }
        } else if self.dev().pci_2_3() {
            // Not using INTx: the physical bit follows the virtual one.
            self.pdev().intx(!disabled);
        }
    }

    fn msi_enable(&self, st: &mut IntrState, index: Index, nvec: u32) -> Result<u32> {
        if st.irq_type != IrqType::None {
            return Err(EINVAL);
        }
        {
            let _mem = self.dev().memory_lock_and_enable();
            let got = self.pdev().alloc_irq_vectors(nvec, Self::msi_kind(index))?;
            if got < nvec {
                self.pdev().free_irq_vectors();
                return Ok(got);
            }
        }
        st.irq_type = IrqType::of(index);
        self.dev().set_emulated_irq_type(st.irq_type.raw());
        if index == Index::Msi {
            // The virtual "multiple message enable": log2 of the vectors.
            let qmax = (u32::BITS - (nvec * 2 - 1).leading_zeros()) - 1;
            self.dev().set_msi_qmax(qmax as u8);
        }
        Ok(nvec)
    }

    fn msi_disable(&self, st: &mut IntrState, _index: Index) {
        {
            let _mem = self.dev().memory_lock_and_enable();
            self.pdev().free_irq_vectors();
        }
        // The MSI shutdown paths clear DisINTx: set it again for devices
        // that need INTx kept off.
        if self.dev().nointx() {
            self.pdev().intx(false);
        }
        st.irq_type = IrqType::None;
        self.dev().set_emulated_irq_type(st.irq_type.raw());
    }

    fn msi_prepare(&self, _ctx: &mut VectorCtx, index: Index, vector: u32) -> Result<u32> {
        match self.pdev().irq_vector(vector) {
            Ok(virq) => Ok(virq),
            Err(_) if index == Index::Msix && self.dev().has_dyn_msix() => {
                // Allocated vectors stay allocated, a cache for later
                // requests, until MSI-X is disabled.
                let _mem = self.dev().memory_lock_and_enable();
                self.pdev().msix_alloc_irq_at(vector)
            }
            Err(e) => Err(e),
        }
    }

    fn msi_request_interrupt(
        &self,
        ctx: &mut VectorCtx,
        index: Index,
        _vector: u32,
        virq: u32,
        name: CString,
        trigger: Arc<Trigger>,
    ) -> Result<u32> {
        let _mem = self.dev().memory_lock_and_enable();
        if index == Index::Msix {
            // The table entry may have been lost to a reset behind our
            // back: write the message again before enabling.
            pci::rewrite_cached_msi_msg(virq);
        }
        let reg = KBox::pin_init(
            Registration::new(virq, Flags::default(), name, MsiHandler { trigger }),
            GFP_KERNEL,
        )?;
        ctx.backing = Backing::Msi { _reg: reg };
        Ok(virq)
    }

    fn msi_free_interrupt(&self, ctx: &mut VectorCtx, _index: Index, _vector: u32) {
        let _mem = self.dev().memory_lock_and_enable();
        // The vector stays allocated until MSI or MSI-X is disabled.
        ctx.backing = Backing::None;
    }

    fn msi_device_name(&self, index: Index, vector: u32) -> Result<CString> {
        let x = if index == Index::Msix { "x" } else { "" };
        irq_name(fmt!(
            "vfio-msi{}[{}]({})",
            x,
            vector,
            DevName(self.pdev().name())
        ))
    }
}
