// SPDX-License-Identifier: GPL-2.0

//! The frontend: `VFIO_DEVICE_GET_IRQ_INFO` and `VFIO_DEVICE_SET_IRQS`.
//!
//! [`IntrCtx`] is an interrupt context (the RFC's `vfio_pci_intr_ctx`): the
//! state of one VFIO device's interrupts and the [`Backend`] that backs
//! them. The frontend copies and validates requests exactly as upstream
//! vfio-pci does (with `vfio_set_irqs_validate_and_prepare()`), then
//! dispatches every (index, action, data) combination; the MSI and MSI-X
//! logic shared by all backends lives here.
//!
//! # Locking
//!
//! - `igate` (a mutex around [`IntrState`]) serialises everything that
//!   changes interrupt state: SET_IRQS, config-space INTx-disable writes,
//!   close, and the ERR and REQ notifications. Its holder may sleep. It is
//!   taken before vfio-pci-core's `memory_lock` (as upstream does).
//! - The INTx line's state has its own interrupt-safe spinlock, see
//!   [`crate::passthrough`]: the hard interrupt handler and the unmask
//!   eventfd's wake-up take it, never `igate`.
//! - An MSI or MSI-X handler touches only its own [`Trigger`], which is
//!   immutable but for an atomic counter.

use crate::backend::Backend;
use crate::kernel_ext::eventfd::EventFd;
use crate::kernel_ext::irqbypass::BypassProducer;
use crate::kernel_ext::uapi;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::str::CString;
use kernel::sync::{Arc, Mutex};
use kernel::uaccess::UserPtr;

/// An interrupt index of a VFIO PCI device (`VFIO_PCI_*_IRQ_INDEX`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Index {
    /// Legacy INTx.
    Intx,
    /// MSI.
    Msi,
    /// MSI-X (or a virtual device's IMS-backed MSI-X).
    Msix,
    /// AER error notification.
    Err,
    /// Device release request.
    Req,
}

impl Index {
    /// The indexes in uAPI order.
    pub(crate) const ALL: [Index; 5] =
        [Index::Intx, Index::Msi, Index::Msix, Index::Err, Index::Req];

    fn from_raw(raw: u32) -> Option<Index> {
        Self::ALL.get(raw as usize).copied()
    }

    /// The uAPI value.
    pub(crate) fn raw(self) -> u32 {
        self as u32
    }
}

/// Which interrupt type is enabled (upstream's `irq_type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IrqType {
    /// Nothing is enabled.
    None,
    /// INTx.
    Intx,
    /// MSI.
    Msi,
    /// MSI-X.
    Msix,
}

impl IrqType {
    /// Whether this is the type that `index` enables.
    pub(crate) fn is(self, index: Index) -> bool {
        matches!(
            (self, index),
            (IrqType::Intx, Index::Intx)
                | (IrqType::Msi, Index::Msi)
                | (IrqType::Msix, Index::Msix)
        )
    }

    /// The type `index` enables, for INTx, MSI and MSI-X.
    pub(crate) fn of(index: Index) -> IrqType {
        match index {
            Index::Intx => IrqType::Intx,
            Index::Msi => IrqType::Msi,
            Index::Msix => IrqType::Msix,
            Index::Err | Index::Req => IrqType::None,
        }
    }

    /// The value vfio-pci-core uses (`VFIO_PCI_NUM_IRQS` for none).
    pub(crate) fn raw(self) -> u32 {
        match self {
            IrqType::None => uapi::VFIO_PCI_NUM_IRQS,
            IrqType::Intx => Index::Intx.raw(),
            IrqType::Msi => Index::Msi.raw(),
            IrqType::Msix => Index::Msix.raw(),
        }
    }
}

/// The action of a SET_IRQS request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Action {
    /// `VFIO_IRQ_SET_ACTION_MASK`.
    Mask,
    /// `VFIO_IRQ_SET_ACTION_UNMASK`.
    Unmask,
    /// `VFIO_IRQ_SET_ACTION_TRIGGER`.
    Trigger,
}

/// The data of a SET_IRQS request, one element per vector of the range.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Data<'a> {
    /// `VFIO_IRQ_SET_DATA_NONE`.
    None,
    /// `VFIO_IRQ_SET_DATA_BOOL`: one byte per vector.
    Bool(&'a [u8]),
    /// `VFIO_IRQ_SET_DATA_EVENTFD`: one file descriptor per vector.
    Eventfd(&'a [i32]),
}

/// What GET_IRQ_INFO reports for one index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IrqInfo {
    /// `VFIO_IRQ_INFO_*` flags.
    pub(crate) flags: u32,
    /// Number of vectors.
    pub(crate) count: u32,
}

/// An eventfd that user space gave as a trigger, with a count of the
/// signals sent to it (for the debugfs view).
pub(crate) struct Trigger {
    efd: EventFd,
    signalled: AtomicU64,
}

impl Trigger {
    /// Takes the eventfd behind `fd` (`EBADF`, `EINVAL` when not an
    /// eventfd).
    pub(crate) fn from_fd(fd: i32) -> Result<Arc<Trigger>> {
        let efd = EventFd::from_fd(fd)?;
        Ok(Arc::new(
            Trigger {
                efd,
                signalled: AtomicU64::new(0),
            },
            GFP_KERNEL_ACCOUNT,
        )?)
    }

    /// Signals the eventfd. Any context.
    pub(crate) fn signal(&self) {
        self.signalled.fetch_add(1, Ordering::Relaxed);
        self.efd.signal();
    }

    /// How many times [`Trigger::signal`] was called.
    pub(crate) fn signalled(&self) -> u64 {
        self.signalled.load(Ordering::Relaxed)
    }

    /// The eventfd.
    pub(crate) fn eventfd(&self) -> &EventFd {
        &self.efd
    }
}

/// What backs a vector with a host interrupt, owned by its context while
/// the vector is active.
pub(crate) enum Backing {
    /// Nothing: the vector is inactive or emulated.
    None,
    /// A message-signalled interrupt handler (MSI, MSI-X, IMS).
    Msi {
        /// The registration, which frees the interrupt on drop.
        _reg: Pin<KBox<crate::kernel_ext::irq::Registration<MsiHandler>>>,
    },
    /// The INTx line (vector 0 of INTx).
    Intx(crate::passthrough::IntxLine),
    /// A host IMS interrupt and its handler.
    Ims {
        /// The registration, freed before the interrupt.
        _reg: Pin<KBox<crate::kernel_ext::irq::Registration<MsiHandler>>>,
        /// The IMS interrupt.
        irq: crate::kernel_ext::ims::ImsIrq,
    },
}

/// The hard interrupt handler of a message-signalled vector: signal the
/// trigger.
pub(crate) struct MsiHandler {
    pub(crate) trigger: Arc<Trigger>,
}

impl crate::kernel_ext::irq::Handler for MsiHandler {
    fn handle(&self) -> crate::kernel_ext::irq::IrqReturn {
        self.trigger.signal();
        crate::kernel_ext::irq::IrqReturn::Handled
    }
}

/// A per-vector context (the RFC's `vfio_pci_irq_ctx`). Created on a
/// vector's first use and kept until the interrupt context is released;
/// "inactive" means it has no trigger.
pub(crate) struct VectorCtx {
    /// Signalled by a variant driver from software, never backed by a host
    /// interrupt.
    pub(crate) emulated: bool,
    /// The eventfd signalled, `None` when inactive.
    pub(crate) trigger: Option<Arc<Trigger>>,
    /// The host interrupt's handler, if any.
    pub(crate) backing: Backing,
    /// The Linux interrupt number, 0 when none.
    pub(crate) virq: u32,
    /// The irq-bypass producer (for KVM posted interrupts).
    pub(crate) producer: Option<BypassProducer>,
    /// The cookie used at this vector's next IMS allocation.
    pub(crate) cookie: u64,
}

impl VectorCtx {
    /// The context of INTx (vector 0).
    pub(crate) fn new_intx() -> VectorCtx {
        VectorCtx::new(0)
    }

    fn new(cookie: u64) -> VectorCtx {
        VectorCtx {
            emulated: false,
            trigger: None,
            backing: Backing::None,
            virq: 0,
            producer: None,
            cookie,
        }
    }
}

impl IntrState {
    /// The ERR and REQ triggers.
    pub(crate) fn single_triggers(&self) -> [(Index, Option<&Arc<Trigger>>); 2] {
        [
            (Index::Err, self.err_trigger.as_ref()),
            (Index::Req, self.req_trigger.as_ref()),
        ]
    }
}

/// The interrupt state of a device, guarded by `igate`.
pub(crate) struct IntrState {
    /// Which type is enabled.
    pub(crate) irq_type: IrqType,
    /// Per-vector contexts of the enabled type, by vector. INTx uses
    /// vector 0.
    pub(crate) vectors: RBTree<u32, VectorCtx>,
    /// The ERR trigger.
    err_trigger: Option<Arc<Trigger>>,
    /// The REQ trigger.
    req_trigger: Option<Arc<Trigger>>,
}

/// An interrupt context: a device's interrupt state and its backend.
#[pin_data]
pub(crate) struct IntrCtx {
    #[pin]
    igate: Mutex<IntrState>,
    backend: Arc<dyn Backend>,
}

impl IntrCtx {
    /// Creates an interrupt context served by `backend`.
    pub(crate) fn new(backend: Arc<dyn Backend>) -> impl PinInit<Self, Error> {
        let irq_type = backend.initial_irq_type();
        try_pin_init!(IntrCtx {
            igate <- kernel::new_mutex!(
                IntrState {
                    irq_type,
                    vectors: RBTree::new(),
                    err_trigger: None,
                    req_trigger: None,
                },
                "vfio_pci_intrs::igate"
            ),
            backend,
        })
    }

    /// Runs `f` with `igate` held.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut IntrState, &dyn Backend) -> R) -> R {
        let mut state = self.igate.lock();
        f(&mut state, &*self.backend)
    }

    /// Handles `VFIO_DEVICE_GET_IRQ_INFO` and `VFIO_DEVICE_SET_IRQS`
    /// whole, from their user-space argument; `None` for other commands.
    pub(crate) fn ioctl(&self, cmd: u32, arg: UserPtr) -> Option<Result<i32>> {
        match cmd {
            uapi::VFIO_DEVICE_GET_IRQ_INFO => Some(self.get_irq_info_ioctl(arg).map(|()| 0)),
            uapi::VFIO_DEVICE_SET_IRQS => Some(self.set_irqs_ioctl(arg)),
            _ => None,
        }
    }

    fn get_irq_info_ioctl(&self, arg: UserPtr) -> Result {
        let mut info = uapi::read_irq_info(arg)?;
        if info.argsz < uapi::IRQ_INFO_MINSZ {
            return Err(EINVAL);
        }
        let index = Index::from_raw(info.index).ok_or(EINVAL)?;
        let IrqInfo { flags, count } = self.backend.irq_info(index)?;
        info.flags = flags;
        info.count = count;
        uapi::write_irq_info(arg, &info)
    }

    fn set_irqs_ioctl(&self, arg: UserPtr) -> Result<i32> {
        let (hdr, data) = uapi::read_irq_set(arg, |raw_index| {
            Index::from_raw(raw_index)
                .and_then(|index| self.backend.irq_info(index).ok())
                .map_or(0, |info| info.count)
        })?;
        self.set_irqs(hdr.flags, hdr.index, hdr.start, hdr.count, &data)
    }

    /// Dispatches a validated SET_IRQS request (the RFC's
    /// `vfio_pci_set_irqs_ioctl()`): `raw_data` holds `count` elements of
    /// the data type in `flags`. Takes `igate`.
    pub(crate) fn set_irqs(
        &self,
        flags: u32,
        raw_index: u32,
        start: u32,
        count: u32,
        raw_data: &[u8],
    ) -> Result<i32> {
        let index = Index::from_raw(raw_index).ok_or(ENOTTY)?;
        let action = match flags & uapi::VFIO_IRQ_SET_ACTION_TYPE_MASK {
            uapi::VFIO_IRQ_SET_ACTION_MASK => Action::Mask,
            uapi::VFIO_IRQ_SET_ACTION_UNMASK => Action::Unmask,
            uapi::VFIO_IRQ_SET_ACTION_TRIGGER => Action::Trigger,
            _ => return Err(ENOTTY),
        };
        let data = typed_data(flags, count, raw_data)?;
        let mut state = self.igate.lock();
        let st = &mut *state;
        let backend = &*self.backend;
        match (index, action) {
            (Index::Intx, _) if !backend.has_intx() => Err(ENOTTY),
            (Index::Intx, Action::Mask) => {
                backend.set_intx_mask(st, start, count, data).map(|()| 0)
            }
            (Index::Intx, Action::Unmask) => {
                backend.set_intx_unmask(st, start, count, data).map(|()| 0)
            }
            (Index::Intx, Action::Trigger) => {
                backend.set_intx_trigger(st, start, count, data).map(|()| 0)
            }
            // Upstream: "XXX Need masking support exported".
            (Index::Msi | Index::Msix, Action::Mask | Action::Unmask) => Err(ENOTTY),
            (Index::Msi | Index::Msix, Action::Trigger) if !backend.has_index(index) => Err(ENOTTY),
            (Index::Msi | Index::Msix, Action::Trigger) => {
                set_msi_trigger(st, backend, index, start, count, data)
            }
            (Index::Err | Index::Req, Action::Mask | Action::Unmask) => Err(ENOTTY),
            (Index::Err | Index::Req, Action::Trigger) if !backend.has_index(index) => Err(ENOTTY),
            (Index::Err, Action::Trigger) => {
                set_single_trigger(&mut st.err_trigger, start, count, data).map(|()| 0)
            }
            (Index::Req, Action::Trigger) => {
                set_single_trigger(&mut st.req_trigger, start, count, data).map(|()| 0)
            }
        }
    }

    /// Tears everything down, as closing the device does: the enabled
    /// type is disabled (contexts stay), ERR and REQ triggers are released.
    pub(crate) fn close(&self) {
        let mut state = self.igate.lock();
        let st = &mut *state;
        match st.irq_type {
            IrqType::Intx => self.backend.intx_disable(st),
            IrqType::Msi => msi_disable(st, &*self.backend, Index::Msi),
            IrqType::Msix => msi_disable(st, &*self.backend, Index::Msix),
            IrqType::None => {}
        }
        st.err_trigger = None;
        st.req_trigger = None;
    }

    /// The number of MSI/MSI-X vectors the device has (the larger of the
    /// two counts GET_IRQ_INFO reports): the bound of the vector numbers
    /// the C API accepts.
    fn vector_limit(&self) -> u32 {
        [Index::Msi, Index::Msix]
            .iter()
            .filter(|&&index| self.backend.has_index(index))
            .filter_map(|&index| self.backend.irq_info(index).ok())
            .map(|info| info.count)
            .max()
            .unwrap_or(0)
    }

    /// Marks vectors `start..start + count` emulated: signalled from
    /// software with [`IntrCtx::send_signal`], never backed by a host
    /// interrupt. All or nothing: `EBUSY` when a vector of the range
    /// already has a context, `EINVAL` past the device's vectors, `ENOMEM`.
    /// Call before the vectors are used.
    pub(crate) fn set_emulated(&self, start: u32, count: u32) -> Result {
        let end = start.checked_add(count).ok_or(EINVAL)?;
        if end > self.vector_limit() {
            return Err(EINVAL);
        }
        let cookie = self.backend.default_cookie();
        let mut state = self.igate.lock();
        if (start..end).any(|v| state.vectors.get(&v).is_some()) {
            return Err(EBUSY);
        }
        // Allocate every node first, so that nothing is inserted on failure.
        let mut nodes = KVec::with_capacity(count as usize, GFP_KERNEL)?;
        for vector in start..end {
            let mut ctx = VectorCtx::new(cookie);
            ctx.emulated = true;
            nodes.push(
                RBTreeNode::new(vector, ctx, GFP_KERNEL_ACCOUNT)?,
                GFP_KERNEL,
            )?;
        }
        for node in nodes {
            state.vectors.insert(node);
        }
        Ok(())
    }

    /// Signals emulated vector `vector`'s trigger, if it has one. `EINVAL`
    /// when the vector is not emulated. Process context (takes `igate`).
    pub(crate) fn send_signal(&self, vector: u32) -> Result {
        let state = self.igate.lock();
        let ctx = state.vectors.get(&vector).ok_or(EINVAL)?;
        if !ctx.emulated {
            return Err(EINVAL);
        }
        if let Some(trigger) = &ctx.trigger {
            trigger.signal();
        }
        Ok(())
    }

    /// Sets the cookie `vector`'s next IMS interrupt is allocated with (a
    /// live interrupt keeps its cookie). `EINVAL` unless IMS-backed, or
    /// when the vector is emulated; `ENOMEM`.
    pub(crate) fn set_cookie(&self, vector: u32, cookie: u64) -> Result {
        if !self.backend.is_ims() || vector >= self.vector_limit() {
            return Err(EINVAL);
        }
        let mut state = self.igate.lock();
        match state.vectors.get_mut(&vector) {
            Some(ctx) if ctx.emulated => Err(EINVAL),
            Some(ctx) => {
                ctx.cookie = cookie;
                Ok(())
            }
            None => {
                state.vectors.try_create_and_insert(
                    vector,
                    VectorCtx::new(cookie),
                    GFP_KERNEL_ACCOUNT,
                )?;
                Ok(())
            }
        }
    }

    /// The IMS index of `vector`'s live interrupt. `EINVAL` unless
    /// IMS-backed, or when the vector has no context, is emulated or has no
    /// live interrupt.
    pub(crate) fn ims_index(&self, vector: u32) -> Result<u32> {
        if !self.backend.is_ims() {
            return Err(EINVAL);
        }
        let state = self.igate.lock();
        match state.vectors.get(&vector).map(|ctx| &ctx.backing) {
            Some(Backing::Ims { irq, .. }) => Ok(irq.index()),
            _ => Err(EINVAL),
        }
    }

    /// Signals the REQ trigger (the device is asked to be released);
    /// returns whether one was set.
    pub(crate) fn signal_req(&self) -> bool {
        let state = self.igate.lock();
        state.req_trigger.as_ref().map(|t| t.signal()).is_some()
    }

    /// Signals the ERR trigger (an AER error was detected).
    pub(crate) fn signal_err(&self) {
        let state = self.igate.lock();
        if let Some(t) = &state.err_trigger {
            t.signal();
        }
    }
}

/// Splits validated SET_IRQS data into its `count` elements.
fn typed_data(flags: u32, count: u32, raw: &[u8]) -> Result<Data<'_>> {
    let n = count as usize;
    match flags & uapi::VFIO_IRQ_SET_DATA_TYPE_MASK {
        uapi::VFIO_IRQ_SET_DATA_NONE => Ok(Data::None),
        uapi::VFIO_IRQ_SET_DATA_BOOL => Ok(Data::Bool(raw.get(..n).ok_or(EINVAL)?)),
        uapi::VFIO_IRQ_SET_DATA_EVENTFD => Ok(Data::Eventfd(uapi::as_i32s(
            raw.get(..n * 4).ok_or(EINVAL)?,
        )?)),
        _ => Err(EINVAL),
    }
}

/// ERR and REQ: a single eventfd (upstream's
/// `vfio_pci_set_ctx_trigger_single()`).
fn set_single_trigger(
    slot: &mut Option<Arc<Trigger>>,
    start: u32,
    count: u32,
    data: Data<'_>,
) -> Result {
    if start != 0 || count > 1 {
        return Err(EINVAL);
    }
    match data {
        // DATA_NONE and DATA_BOOL are loopback tests.
        Data::None => {
            let trigger = slot.as_ref().ok_or(EINVAL)?;
            if count == 1 {
                trigger.signal();
            } else {
                *slot = None;
            }
            Ok(())
        }
        Data::Bool(bools) => {
            let b = bools.first().ok_or(EINVAL)?;
            if *b != 0 {
                if let Some(trigger) = slot.as_ref() {
                    trigger.signal();
                }
            }
            Ok(())
        }
        Data::Eventfd(fds) => match fds.first().copied() {
            None => Err(EINVAL),
            Some(-1) => {
                *slot = None;
                Ok(())
            }
            Some(fd) if fd >= 0 => {
                *slot = Some(Trigger::from_fd(fd)?);
                Ok(())
            }
            Some(_) => Err(EINVAL),
        },
    }
}

/// MSI and MSI-X triggers, shared by every backend (upstream's
/// `vfio_pci_set_msi_trigger()`).
fn set_msi_trigger(
    st: &mut IntrState,
    backend: &dyn Backend,
    index: Index,
    start: u32,
    count: u32,
    data: Data<'_>,
) -> Result<i32> {
    if st.irq_type.is(index) && count == 0 && matches!(data, Data::None) {
        msi_disable(st, backend, index);
        return Ok(0);
    }
    if !(st.irq_type.is(index) || st.irq_type == IrqType::None) {
        return Err(EINVAL);
    }
    if let Data::Eventfd(fds) = data {
        if st.irq_type.is(index) {
            return set_block(st, backend, index, start, fds).map(|()| 0);
        }
        let nvec = start + count;
        let got = backend.msi_enable(st, index, nvec)?;
        if got < nvec {
            // Fewer vectors than asked for: tell the user how many.
            return Ok(got as i32);
        }
        if let Err(e) = set_block(st, backend, index, start, fds) {
            msi_disable(st, backend, index);
            return Err(e);
        }
        return Ok(0);
    }
    if !st.irq_type.is(index) {
        return Err(EINVAL);
    }
    for (i, vector) in (start..start + count).enumerate() {
        let fire = match data {
            Data::Bool(bools) => bools[i] != 0,
            _ => true,
        };
        if let Some(trigger) = st.vectors.get(&vector).and_then(|ctx| ctx.trigger.as_ref()) {
            if fire {
                trigger.signal();
            }
        }
    }
    Ok(0)
}

/// Programs vectors `start..start + fds.len()` in order; on the first
/// error, clears every vector this call touched (upstream's
/// `vfio_msi_set_block()`).
fn set_block(
    st: &mut IntrState,
    backend: &dyn Backend,
    index: Index,
    start: u32,
    fds: &[i32],
) -> Result {
    for (i, &fd) in fds.iter().enumerate() {
        if let Err(e) = set_vector_signal(st, backend, index, start + i as u32, fd) {
            for vector in start..start + i as u32 {
                let _ = set_vector_signal(st, backend, index, vector, -1);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Disables MSI or MSI-X: every vector is cleared (contexts stay), then
/// the backend releases its vectors.
pub(crate) fn msi_disable(st: &mut IntrState, backend: &dyn Backend, index: Index) {
    for (&vector, ctx) in st.vectors.iter_mut() {
        release_vector(ctx, backend, index, vector);
    }
    backend.msi_disable(st, index);
}

/// Releases what backs an active vector and its trigger; the context
/// stays.
fn release_vector(ctx: &mut VectorCtx, backend: &dyn Backend, index: Index, vector: u32) {
    if ctx.trigger.is_none() {
        return;
    }
    if !ctx.emulated {
        ctx.producer = None;
        backend.msi_free_interrupt(ctx, index, vector);
    }
    ctx.trigger = None;
}

/// Sets one vector's trigger to eventfd `fd`, or clears it when `fd < 0`
/// (upstream's `vfio_msi_set_vector_signal()`, with the RFC's persistent
/// contexts and emulated vectors).
pub(crate) fn set_vector_signal(
    st: &mut IntrState,
    backend: &dyn Backend,
    index: Index,
    vector: u32,
    fd: i32,
) -> Result {
    if let Some(ctx) = st.vectors.get_mut(&vector) {
        release_vector(ctx, backend, index, vector);
    }
    if fd < 0 {
        return Ok(());
    }
    if st.vectors.get(&vector).is_none() {
        let ctx = VectorCtx::new(backend.default_cookie());
        st.vectors
            .try_create_and_insert(vector, ctx, GFP_KERNEL_ACCOUNT)?;
    }
    let ctx = st.vectors.get_mut(&vector).ok_or(ENOMEM)?;
    if ctx.emulated {
        ctx.trigger = Some(Trigger::from_fd(fd)?);
        return Ok(());
    }
    // As upstream: find (or allocate) the host interrupt first, then take
    // the eventfd, then request the interrupt.
    let virq = backend.msi_prepare(ctx, index, vector)?;
    let name = backend.msi_device_name(index, vector)?;
    let trigger = Trigger::from_fd(fd)?;
    let virq = backend.msi_request_interrupt(ctx, index, vector, virq, name, trigger.clone())?;
    ctx.virq = virq;
    ctx.producer = match BypassProducer::register(trigger.eventfd(), virq) {
        Ok(p) => Some(p),
        Err(e) => {
            pr_info!(
                "irq bypass producer ({:?} vector {}) registration fails: {}\n",
                index,
                vector,
                e.to_errno()
            );
            None
        }
    };
    ctx.trigger = Some(trigger);
    Ok(())
}

/// Formats a Linux interrupt's name.
pub(crate) fn irq_name(args: core::fmt::Arguments<'_>) -> Result<CString> {
    CString::try_from_fmt(args)
}

/// A device name to format into an interrupt name: written whole when it
/// is UTF-8 (device names are ASCII), where `CStr`'s own `Display` writes
/// it a byte at a time through the formatter (about 10 us per name under
/// TCG, on every vector request: `Documentation/benchmarks.rst`).
pub(crate) struct DevName<'a>(pub(crate) &'a CStr);

impl core::fmt::Display for DevName<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0.to_str() {
            Ok(name) => f.write_str(name),
            Err(_) => core::fmt::Display::fmt(self.0, f),
        }
    }
}
