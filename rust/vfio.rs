// SPDX-License-Identifier: GPL-2.0

//! VFIO PCI drivers built on vfio-pci-core.
//!
//! A [`Driver`] is a PCI driver whose devices are VFIO devices: regions,
//! configuration space, reset and the IOMMU are vfio-pci-core's, and the
//! driver adds per-device data ([`Driver::Data`]) and may take over
//! callbacks (`ioctl`, `write`, `request`, AER `error_detected`). Bind a
//! device to it with `driver_override`, as one binds `vfio-pci`.
//!
//! C headers: [`include/linux/vfio_pci_core.h`](srctree/include/linux/vfio_pci_core.h),
//! [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use super::bindings;
use super::pci::PciDev;
use core::marker::{PhantomData, PhantomPinned};
use core::pin::Pin;
use kernel::error::{code::EINVAL, from_err_ptr, to_result, Error, Result};
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_void};
use kernel::init::PinInit;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;
use kernel::types::{ForeignOwnable, Opaque};
use kernel::uaccess::UserPtr;

/// A device of a driver built on vfio-pci-core (`struct
/// vfio_pci_core_device`).
///
/// # Invariants
///
/// The device is valid and initialised by `vfio_pci_core_init_dev()` for
/// the lifetime of the reference. References are only created by the
/// callbacks of [`Registration`], which vfio and the PCI core call while
/// the device exists.
#[repr(transparent)]
pub(crate) struct CoreDevice(Opaque<bindings::vfio_pci_core_device>);

impl CoreDevice {
    /// # Safety
    ///
    /// `ptr` satisfies the type invariant for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::vfio_pci_core_device) -> &'a CoreDevice {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast::<CoreDevice>() }
    }

    fn raw(&self) -> *mut bindings::vfio_pci_core_device {
        self.0.get()
    }

    /// The PCI device.
    pub(crate) fn pdev(&self) -> &PciDev {
        // SAFETY: By the type invariant `pdev` was set by init and the PCI
        // device stays bound while the VFIO device exists.
        unsafe { PciDev::from_raw((*self.raw()).pdev) }
    }

    /// Whether INTx can be masked at the device (PCI 2.3 `DisINTx`).
    pub(crate) fn pci_2_3(&self) -> bool {
        // SAFETY: By the type invariant the device is valid; the flag is
        // set when the device is enabled and stable while it is open.
        unsafe { (*self.raw()).pci_2_3() }
    }

    /// Whether the device needs INTx disabled while unused (nointx quirk).
    pub(crate) fn nointx(&self) -> bool {
        // SAFETY: As in `pci_2_3`.
        unsafe { (*self.raw()).nointx() }
    }

    /// Whether the device supports MSI-X vectors allocated one at a time.
    pub(crate) fn has_dyn_msix(&self) -> bool {
        // SAFETY: As in `pci_2_3`.
        unsafe { (*self.raw()).has_dyn_msix() }
    }

    /// The virtual INTx-disable state: the user's `DisINTx` bit.
    pub(crate) fn virq_disabled(&self) -> bool {
        // SAFETY: By the type invariant the device is valid. vfio-pci-core
        // writes this flag from config-space writes; see
        // `set_virq_disabled` for who may.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.raw()).virq_disabled)) }
    }

    /// Sets the virtual INTx-disable state. vfio-pci-core compares it with
    /// the virtual command register after each config write and masks or
    /// unmasks INTx on a change; the owner of interrupts sets it first, so
    /// that the change reaches it and not vfio-pci-core.
    pub(crate) fn set_virq_disabled(&self, disabled: bool) {
        // SAFETY: By the type invariant the device is valid.
        unsafe {
            core::ptr::write_volatile(
                core::ptr::addr_of_mut!((*self.raw()).virq_disabled),
                disabled,
            )
        }
    }

    /// The virtual PCI command register, as the user last wrote it.
    pub(crate) fn virtual_command(&self) -> u16 {
        // SAFETY: By the type invariant the device is valid; `vconfig`
        // is allocated while the device is open, and this is only called
        // from callbacks of an open device.
        unsafe {
            let cfg = (*self.raw()).vconfig;
            let cmd = bindings::PCI_COMMAND as usize;
            u16::from_le_bytes([*cfg.add(cmd), *cfg.add(cmd + 1)])
        }
    }

    /// A byte of the virtual configuration space.
    pub(crate) fn virtual_config_byte(&self, offset: u32) -> u8 {
        // SAFETY: As in `virtual_command`; the offset is within the
        // standard header.
        unsafe { *(*self.raw()).vconfig.add(offset as usize) }
    }

    /// Tells vfio-pci-core's config-space emulation which interrupt type
    /// is enabled (its `irq_type`, `VFIO_PCI_NUM_IRQS` for none): it keeps
    /// the MSI enable bit off in hardware unless MSI is enabled. Only MSI
    /// and MSI-X are told; for INTx, vfio-pci-core would look for INTx
    /// state of its own, so it is told "none", which it treats the same
    /// way in config-space emulation.
    pub(crate) fn set_emulated_irq_type(&self, irq_type: u32) {
        // SAFETY: By the type invariant the device is valid. The field is
        // plain data that vfio-pci-core reads without a lock, as it does
        // when its own interrupt code writes it.
        unsafe {
            core::ptr::write_volatile(
                core::ptr::addr_of_mut!((*self.raw()).irq_type),
                irq_type as c_int,
            )
        };
    }

    /// Tells vfio-pci-core's config-space emulation the MSI queue size
    /// granted (log2 of the vectors enabled, `msi_qmax`).
    pub(crate) fn set_msi_qmax(&self, qmax: u8) {
        // SAFETY: As in `set_emulated_irq_type`.
        unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*self.raw()).msi_qmax), qmax) };
    }

    /// Takes `memory_lock` for writing and enables memory decoding, as
    /// MSI-X table accesses need (`vfio_pci_memory_lock_and_enable()`).
    /// Sleeps.
    pub(crate) fn memory_lock_and_enable(&self) -> MemoryEnabled<'_> {
        // SAFETY: By the type invariant the device and its rwsem are valid.
        unsafe { bindings::down_write(core::ptr::addr_of_mut!((*self.raw()).memory_lock)) };
        let pdev = self.pdev();
        let cmd = pdev.read_config_word(bindings::PCI_COMMAND).unwrap_or(0);
        let mem = bindings::PCI_COMMAND_MEMORY as u16;
        if cmd & mem == 0 {
            // A failed write leaves decoding off; the access that needed it
            // then fails on its own, as upstream's does.
            let _ = pdev.write_config_word(bindings::PCI_COMMAND, cmd | mem);
        }
        MemoryEnabled { dev: self, cmd }
    }

    /// vfio-pci-core's `write` (regions and config-space emulation).
    pub(crate) fn core_write(&self, buf: UserPtr, count: usize, pos: &mut i64) -> isize {
        // SAFETY: By the type invariant the device is valid; `buf` is a
        // user address, checked by the callee's user copies.
        unsafe {
            bindings::vfio_pci_core_write(
                core::ptr::addr_of_mut!((*self.raw()).vdev),
                buf as *const c_char,
                count,
                pos,
            )
        }
    }

    fn core_vdev(&self) -> *mut bindings::vfio_device {
        // SAFETY: Only computes the address of a field.
        unsafe { core::ptr::addr_of_mut!((*self.raw()).vdev) }
    }
}

/// A [`CoreDevice`] that a driver's per-device data keeps.
///
/// # Invariants
///
/// Points at a core device that stays valid while the handle exists:
/// [`Driver::init`] is given the only handle of a device, and the data it
/// returns, which may keep it, is dropped before the device is freed.
pub(crate) struct CoreDeviceHandle(core::ptr::NonNull<bindings::vfio_pci_core_device>);

// SAFETY: `CoreDevice`'s methods may be called from any thread.
unsafe impl Send for CoreDeviceHandle {}
// SAFETY: As above.
unsafe impl Sync for CoreDeviceHandle {}

impl CoreDeviceHandle {
    /// A handle on a core device that C code owns.
    ///
    /// # Safety
    ///
    /// `ptr` was initialised by `vfio_pci_core_init_dev()` and stays valid
    /// for as long as the handle lives.
    pub(crate) unsafe fn from_raw(ptr: core::ptr::NonNull<bindings::vfio_pci_core_device>) -> Self {
        // INVARIANT: The caller guarantees validity for the handle's life.
        CoreDeviceHandle(ptr)
    }
}

impl core::ops::Deref for CoreDeviceHandle {
    type Target = CoreDevice;

    fn deref(&self) -> &CoreDevice {
        // SAFETY: By the type invariant the device is valid while `self` is.
        unsafe { CoreDevice::from_raw(self.0.as_ptr()) }
    }
}

/// Memory decoding enabled under `memory_lock`; restores the command
/// register and releases the lock on drop
/// (`vfio_pci_memory_unlock_and_restore()`).
pub(crate) struct MemoryEnabled<'a> {
    dev: &'a CoreDevice,
    cmd: u16,
}

impl Drop for MemoryEnabled<'_> {
    fn drop(&mut self) {
        let _ = self
            .dev
            .pdev()
            .write_config_word(bindings::PCI_COMMAND, self.cmd);
        // SAFETY: `memory_lock_and_enable` took the lock for writing.
        unsafe { bindings::up_write(core::ptr::addr_of_mut!((*self.dev.raw()).memory_lock)) };
    }
}

/// A driver built on vfio-pci-core; [`Registration`] registers it as a PCI
/// driver.
///
/// Callbacks of one device never run concurrently with its `init` or
/// `release`; vfio serialises `open` and `close`; the others may run
/// concurrently with each other and must lock what they share.
pub(crate) trait Driver: Sized + 'static {
    /// Per-device data, created by [`Driver::init`] and dropped when the
    /// VFIO device is released.
    type Data: Send + Sync;

    /// The driver's name (`/sys/bus/pci/drivers/<NAME>`).
    const NAME: &'static CStr;

    /// Creates the device's data, when the VFIO device is created (probe).
    /// The data may keep `dev`, and must not give it away.
    fn init(dev: CoreDeviceHandle) -> Result<Arc<Self::Data>>;

    /// The device is being opened: vfio-pci-core has enabled it, and
    /// finishes enabling it after this returns.
    fn open(_dev: &CoreDevice, _data: &Self::Data) -> Result {
        Ok(())
    }

    /// The device is being closed, before vfio-pci-core disables it.
    fn close(_dev: &CoreDevice, _data: &Self::Data) {}

    /// An ioctl of the device: `Some` when the driver handled it, `None`
    /// to hand it to vfio-pci-core.
    fn ioctl(_dev: &CoreDevice, _data: &Self::Data, _cmd: u32, _arg: usize) -> Option<isize> {
        None
    }

    /// A `write()` to the device; returns bytes written or `-errno`.
    fn write(
        dev: &CoreDevice,
        _data: &Self::Data,
        buf: UserPtr,
        count: usize,
        pos: &mut i64,
    ) -> isize {
        dev.core_write(buf, count, pos)
    }

    /// The device is asked to be released (unbind while open); `count`
    /// counts the requests so far.
    fn request(_dev: &CoreDevice, _data: &Self::Data, _count: u32) {}

    /// The AER core detected an error on the device.
    fn error_detected(_dev: &CoreDevice, _data: &Self::Data) {}
}

/// The allocation behind each VFIO device of a [`Driver`]: vfio-pci-core's
/// device first, as `vfio_alloc_device()` requires, then the driver's data.
#[repr(C)]
struct Storage {
    core: bindings::vfio_pci_core_device,
    /// `Arc<T::Data>` in foreign form; null until `init` succeeded.
    data: *const c_void,
}

/// Finds the core device and the driver data of a VFIO device.
///
/// # Safety
///
/// `vdev` belongs to a device of driver `T` that `init` initialised and
/// that is not released during `'a`.
unsafe fn device<'a, T: Driver>(vdev: *mut bindings::vfio_device) -> (&'a CoreDevice, &'a T::Data) {
    let storage = vdev.cast::<Storage>();
    // SAFETY: `vdev` is the first field of the core device, which is the
    // first field of `Storage` (both `#[repr(C)]`); `init` stored the data.
    unsafe {
        let dev = CoreDevice::from_raw(core::ptr::addr_of_mut!((*storage).core));
        let data = <Arc<T::Data> as ForeignOwnable>::borrow((*storage).data);
        (dev, &*core::ptr::from_ref::<T::Data>(&data))
    }
}

/// `PCI_ERS_RESULT_CAN_RECOVER`, a macro bindgen cannot see (checked
/// against the C value in `helpers.c`).
const PCI_ERS_RESULT_CAN_RECOVER: bindings::pci_ers_result_t = 2;

struct Tables<T: Driver>(PhantomData<T>);

impl<T: Driver> Tables<T> {
    const OPS: bindings::vfio_device_ops = bindings::vfio_device_ops {
        name: T::NAME.as_char_ptr().cast_mut(),
        init: Some(init_callback::<T>),
        release: Some(release_callback::<T>),
        open_device: Some(open_callback::<T>),
        close_device: Some(close_callback::<T>),
        ioctl: Some(ioctl_callback::<T>),
        device_feature: Some(bindings::vfio_pci_core_ioctl_feature),
        read: Some(bindings::vfio_pci_core_read),
        write: Some(write_callback::<T>),
        mmap: Some(bindings::vfio_pci_core_mmap),
        request: Some(request_callback::<T>),
        match_: Some(bindings::vfio_pci_core_match),
        bind_iommufd: Some(bindings::vfio_iommufd_physical_bind),
        unbind_iommufd: Some(bindings::vfio_iommufd_physical_unbind),
        attach_ioas: Some(bindings::vfio_iommufd_physical_attach_ioas),
        detach_ioas: Some(bindings::vfio_iommufd_physical_detach_ioas),
        // SAFETY: All-zero is a valid `vfio_device_ops`: null callbacks.
        ..unsafe { core::mem::zeroed() }
    };

    const ERR_HANDLERS: bindings::pci_error_handlers = bindings::pci_error_handlers {
        error_detected: Some(error_detected_callback::<T>),
        // SAFETY: All-zero is a valid `pci_error_handlers`.
        ..unsafe { core::mem::zeroed() }
    };
}

/// Match only devices whose `driver_override` names the driver, like
/// vfio-pci (`PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)`).
static OVERRIDE_ONLY_IDS: [bindings::pci_device_id; 2] = [
    bindings::pci_device_id {
        vendor: !0,
        device: !0,
        subvendor: !0,
        subdevice: !0,
        class: 0,
        class_mask: 0,
        driver_data: 0,
        override_only: bindings::PCI_ID_F_VFIO_DRIVER_OVERRIDE,
    },
    bindings::pci_device_id {
        vendor: 0,
        device: 0,
        subvendor: 0,
        subdevice: 0,
        class: 0,
        class_mask: 0,
        driver_data: 0,
        override_only: 0,
    },
];

/// A registered [`Driver`]; unregistered on drop.
///
/// # Invariants
///
/// `drv` is registered with the PCI core for the registration's lifetime.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: Driver> {
    #[pin]
    drv: Opaque<bindings::pci_driver>,
    #[pin]
    _pin: PhantomPinned,
    _driver: PhantomData<T>,
}

// SAFETY: The PCI core synchronises access to a registered driver; the
// registration itself only unregisters it.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: No method uses `&Registration`.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers driver `T`; devices then bind to it through
    /// `driver_override`.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        let init = |slot: *mut Self| -> Result {
            // SAFETY: `slot` is valid for writes and pinned (pin-init).
            let drv = unsafe { Opaque::raw_get(core::ptr::addr_of!((*slot).drv)) };
            // SAFETY: `drv` is valid for writes; all-zero is a valid
            // `pci_driver`, which we then fill in.
            unsafe {
                drv.write(core::mem::zeroed());
                (*drv).name = T::NAME.as_char_ptr();
                (*drv).id_table = OVERRIDE_ONLY_IDS.as_ptr();
                (*drv).probe = Some(probe_callback::<T>);
                (*drv).remove = Some(remove_callback::<T>);
                (*drv).err_handler = &Tables::<T>::ERR_HANDLERS;
                (*drv).driver_managed_dma = true;
            }
            // INVARIANT: Registered on success; nothing to undo on failure.
            // SAFETY: `drv` is initialised and pinned for as long as it is
            // registered (until `drop`).
            to_result(unsafe { bindings::vpi_helper_pci_register_driver(drv) })
        };
        // SAFETY: On success the driver is initialised; `_pin` and
        // `_driver` are zero-sized.
        unsafe { kernel::init::pin_init_from_closure(init) }
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the driver is registered. This
        // unbinds every device (calling `remove`) before returning.
        unsafe { bindings::pci_unregister_driver(self.drv.get()) };
    }
}

/// # Safety
///
/// Called by the PCI core with a valid device.
unsafe extern "C" fn probe_callback<T: Driver>(
    pdev: *mut bindings::pci_dev,
    _id: *const bindings::pci_device_id,
) -> c_int {
    // SAFETY: `pdev` is valid; `Storage` starts with the core device, which
    // starts with the `vfio_device`; the ops table is static.
    let vdev = unsafe {
        bindings::_vfio_alloc_device(
            core::mem::size_of::<Storage>(),
            core::ptr::addr_of_mut!((*pdev).dev),
            &Tables::<T>::OPS,
        )
    };
    let vdev = match from_err_ptr(vdev) {
        Ok(vdev) => vdev,
        Err(e) => return e.to_errno(),
    };
    let core = vdev.cast::<bindings::vfio_pci_core_device>();
    // SAFETY: `pdev` is valid and being probed by this driver; `core` is
    // the device just allocated, released on failure.
    unsafe {
        bindings::vpi_helper_pci_set_drvdata(pdev, core.cast());
        let ret = bindings::vfio_pci_core_register_device(core);
        if ret != 0 {
            bindings::vpi_helper_vfio_put_device(vdev);
        }
        ret
    }
}

/// # Safety
///
/// Called by the PCI core for a device `probe_callback` bound.
unsafe extern "C" fn remove_callback<T: Driver>(pdev: *mut bindings::pci_dev) {
    // SAFETY: `probe_callback` stored the core device as driver data; the
    // reference `probe` took is dropped last.
    unsafe {
        let core =
            bindings::vpi_helper_pci_get_drvdata(pdev).cast::<bindings::vfio_pci_core_device>();
        bindings::vfio_pci_core_unregister_device(core);
        bindings::vpi_helper_vfio_put_device(core::ptr::addr_of_mut!((*core).vdev));
    }
}

/// # Safety
///
/// Called by vfio once, for a device allocated by `probe_callback`.
unsafe extern "C" fn init_callback<T: Driver>(vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: vfio passes the device being initialised.
    let ret = unsafe { bindings::vfio_pci_core_init_dev(vdev) };
    if ret != 0 {
        return ret;
    }
    let storage = vdev.cast::<Storage>();
    // SAFETY: Only computes the address of a field.
    let core = unsafe { core::ptr::addr_of_mut!((*storage).core) };
    // INVARIANT: The core device was just initialised, and is freed after
    // `release_callback` drops the data, the only place the handle may be.
    let Some(core) = core::ptr::NonNull::new(core) else {
        return EINVAL.to_errno();
    };
    match T::init(CoreDeviceHandle(core)) {
        Ok(data) => {
            // SAFETY: `storage` is valid for writes; nothing reads `data`
            // before `init` returns.
            unsafe { (*storage).data = data.into_foreign() };
            0
        }
        Err(e) => {
            // vfio does not call `release` when `init` fails.
            // SAFETY: Undoes `vfio_pci_core_init_dev` above.
            unsafe { bindings::vfio_pci_core_release_dev(vdev) };
            e.to_errno()
        }
    }
}

/// # Safety
///
/// Called by vfio once, when the last reference to the device is dropped.
unsafe extern "C" fn release_callback<T: Driver>(vdev: *mut bindings::vfio_device) {
    let storage = vdev.cast::<Storage>();
    // SAFETY: `init` stored the data; no callback runs any more.
    unsafe {
        drop(<Arc<T::Data> as ForeignOwnable>::from_foreign(
            (*storage).data,
        ));
        bindings::vfio_pci_core_release_dev(vdev);
    }
}

/// # Safety
///
/// Called by vfio for an initialised device.
unsafe extern "C" fn open_callback<T: Driver>(vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: The device is initialised and not released while open.
    let (dev, data) = unsafe { device::<T>(vdev) };
    // SAFETY: `dev` is a valid core device.
    let ret = unsafe { bindings::vfio_pci_core_enable(dev.raw()) };
    if ret != 0 {
        return ret;
    }
    if let Err(e) = T::open(dev, data) {
        // SAFETY: Undoes `vfio_pci_core_enable` above.
        unsafe { bindings::vfio_pci_core_disable(dev.raw()) };
        return e.to_errno();
    }
    // SAFETY: The device was enabled above.
    unsafe { bindings::vfio_pci_core_finish_enable(dev.raw()) };
    0
}

/// # Safety
///
/// Called by vfio for an open device.
unsafe extern "C" fn close_callback<T: Driver>(vdev: *mut bindings::vfio_device) {
    // SAFETY: The device is open.
    let (dev, data) = unsafe { device::<T>(vdev) };
    T::close(dev, data);
    // SAFETY: The device is open.
    unsafe { bindings::vfio_pci_core_close_device(vdev) };
}

/// # Safety
///
/// Called by vfio for an open device.
unsafe extern "C" fn ioctl_callback<T: Driver>(
    vdev: *mut bindings::vfio_device,
    cmd: c_uint,
    arg: kernel::ffi::c_ulong,
) -> c_long {
    // SAFETY: The device is open.
    let (dev, data) = unsafe { device::<T>(vdev) };
    match T::ioctl(dev, data, cmd, arg) {
        Some(ret) => ret as c_long,
        // SAFETY: The device is open; vfio-pci-core checks `arg`.
        None => unsafe { bindings::vfio_pci_core_ioctl(dev.core_vdev(), cmd, arg) },
    }
}

/// # Safety
///
/// Called by vfio for an open device, with a valid `ppos`.
unsafe extern "C" fn write_callback<T: Driver>(
    vdev: *mut bindings::vfio_device,
    buf: *const c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: The device is open; `ppos` is valid for the call.
    let (dev, data, pos) = unsafe {
        let (dev, data) = device::<T>(vdev);
        (dev, data, &mut *ppos)
    };
    T::write(dev, data, buf as UserPtr, count, pos)
}

/// # Safety
///
/// Called by vfio for a registered device.
unsafe extern "C" fn request_callback<T: Driver>(vdev: *mut bindings::vfio_device, count: c_uint) {
    // SAFETY: The device is registered, hence initialised.
    let (dev, data) = unsafe { device::<T>(vdev) };
    T::request(dev, data, count);
}

/// # Safety
///
/// Called by the AER core for a device bound to this driver.
unsafe extern "C" fn error_detected_callback<T: Driver>(
    pdev: *mut bindings::pci_dev,
    _state: bindings::pci_channel_state_t,
) -> bindings::pci_ers_result_t {
    // SAFETY: `probe_callback` stored the core device as driver data.
    let (dev, data) = unsafe {
        let core =
            bindings::vpi_helper_pci_get_drvdata(pdev).cast::<bindings::vfio_pci_core_device>();
        device::<T>(core::ptr::addr_of_mut!((*core).vdev))
    };
    T::error_detected(dev, data);
    PCI_ERS_RESULT_CAN_RECOVER
}
