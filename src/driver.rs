// SPDX-License-Identifier: GPL-2.0

//! The `vfio-pci-intrs` driver: vfio-pci with this module's interrupts.
//!
//! Regions, configuration space, reset and the IOMMU are vfio-pci-core's;
//! every interrupt path is the frontend's, so the device has exactly one
//! owner of interrupt state: GET_IRQ_INFO and SET_IRQS, the user's
//! INTx-disable bit in the command register, close, the AER error and the
//! release request. Bind a device with `driver_override`, as for vfio-pci.

use crate::debugfs::DeviceView;
use crate::frontend::IntrCtx;
use crate::kernel_ext::pci::{PCI_COMMAND, PCI_COMMAND_INTX_DISABLE};
use crate::kernel_ext::uapi::{VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_OFFSET_SHIFT};
use crate::kernel_ext::vfio::{CoreDevice, CoreDeviceHandle, Driver};
use crate::passthrough::Passthrough;
use kernel::c_str;
use kernel::fmt;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;
use kernel::uaccess::{UserPtr, UserSlice};

/// The driver.
pub(crate) struct IntrsDriver;

/// Per-device data: the interrupt context and its debugfs view.
pub(crate) struct DeviceData {
    // Dropped in this order: the view shows the context.
    _view: Option<DeviceView>,
    intr: Arc<IntrCtx>,
}

/// The byte of the command register that holds INTx-disable (bit 10).
const COMMAND_HI: u64 = PCI_COMMAND as u64 + 1;
const INTX_DISABLE_IN_HI: u8 = (PCI_COMMAND_INTX_DISABLE >> 8) as u8;

impl Driver for IntrsDriver {
    type Data = DeviceData;
    const NAME: &'static CStr = c_str!("vfio-pci-intrs");

    fn init(dev: CoreDeviceHandle) -> Result<Arc<DeviceData>> {
        let name = CString::try_from_fmt(fmt!("{}", dev.pdev().name()))?;
        let backend: Arc<dyn crate::backend::Backend> =
            Arc::new(Passthrough::new(dev), GFP_KERNEL)?;
        let intr = Arc::pin_init(IntrCtx::new(backend), GFP_KERNEL)?;
        // The view is a convenience: the device works without it.
        let view = DeviceView::new(&name, intr.clone()).ok();
        Ok(Arc::new(DeviceData { _view: view, intr }, GFP_KERNEL)?)
    }

    fn close(_dev: &CoreDevice, data: &DeviceData) {
        data.intr.close();
    }

    fn ioctl(_dev: &CoreDevice, data: &DeviceData, cmd: u32, arg: usize) -> Option<isize> {
        let ret = data.intr.ioctl(cmd, arg)?;
        Some(match ret {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        })
    }

    /// Config-space writes that reach the INTx-disable bit are applied
    /// under `igate` and their effect on INTx goes to the frontend.
    /// vfio-pci-core compares its `virq_disabled` with the written bit
    /// after each write and masks or unmasks INTx itself on a change; it
    /// is told the new value before the write, so it sees none.
    fn write(
        dev: &CoreDevice,
        data: &DeviceData,
        buf: UserPtr,
        count: usize,
        pos: &mut i64,
    ) -> isize {
        let off = *pos as u64;
        let region = (off >> VFIO_PCI_OFFSET_SHIFT) as u32;
        let off = off & ((1u64 << VFIO_PCI_OFFSET_SHIFT) - 1);
        if region != VFIO_PCI_CONFIG_REGION_INDEX
            || off > COMMAND_HI
            || off + count as u64 <= COMMAND_HI
        {
            return dev.core_write(buf, count, pos);
        }
        data.intr.with_state(|st, backend| {
            let old = dev.virq_disabled();
            let mut byte = [0u8];
            let at = buf + (COMMAND_HI - off) as usize;
            // If this faults, so does vfio-pci-core's copy, and nothing
            // changes.
            if UserSlice::new(at, 1).reader().read_slice(&mut byte).is_ok() {
                dev.set_virq_disabled(byte[0] & INTX_DISABLE_IN_HI != 0);
            }
            let ret = dev.core_write(buf, count, pos);
            // What the user could write is what counts, whatever it was.
            let now = dev.virtual_command() & PCI_COMMAND_INTX_DISABLE as u16 != 0;
            dev.set_virq_disabled(now);
            if now != old {
                backend.intx_disable_bit(st, now);
            }
            ret
        })
    }

    fn request(dev: &CoreDevice, data: &DeviceData, count: u32) {
        if data.intr.signal_req() {
            if count % 10 == 0 {
                pr_notice!(
                    "{}: relaying device request to user (#{})\n",
                    dev.pdev().name(),
                    count
                );
            }
        } else if count == 0 {
            pr_warn!(
                "{}: no device request channel registered, blocked until released by user\n",
                dev.pdev().name()
            );
        }
    }

    fn error_detected(_dev: &CoreDevice, data: &DeviceData) {
        data.intr.signal_err();
    }
}
