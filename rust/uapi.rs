// SPDX-License-Identifier: GPL-2.0

//! The VFIO interrupt uAPI: constants and the user-space copies of
//! `VFIO_DEVICE_GET_IRQ_INFO` and `VFIO_DEVICE_SET_IRQS`.
//!
//! C header: [`include/uapi/linux/vfio.h`](srctree/include/uapi/linux/vfio.h)

use super::bindings;
use kernel::error::{code::*, to_result, Result};
use kernel::ioctl::_IO;
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice};

pub(crate) use bindings::{
    VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE,
    VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER,
    VFIO_IRQ_SET_ACTION_TYPE_MASK, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_BOOL,
    VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_TYPE_MASK,
};

/// Number of interrupt indexes of a VFIO PCI device.
pub(crate) const VFIO_PCI_NUM_IRQS: u32 = bindings::VFIO_PCI_NUM_IRQS;
/// The configuration-space region.
pub(crate) const VFIO_PCI_CONFIG_REGION_INDEX: u32 = bindings::VFIO_PCI_CONFIG_REGION_INDEX;
/// Region offsets are `index << VFIO_PCI_OFFSET_SHIFT`.
pub(crate) const VFIO_PCI_OFFSET_SHIFT: u32 = bindings::VFIO_PCI_OFFSET_SHIFT;

/// `VFIO_DEVICE_GET_IRQ_INFO`.
pub(crate) const VFIO_DEVICE_GET_IRQ_INFO: u32 =
    _IO(bindings::VFIO_TYPE as u32, bindings::VFIO_BASE + 9);
/// `VFIO_DEVICE_SET_IRQS`.
pub(crate) const VFIO_DEVICE_SET_IRQS: u32 =
    _IO(bindings::VFIO_TYPE as u32, bindings::VFIO_BASE + 10);

/// `offsetofend(struct vfio_irq_info, count)`.
pub(crate) const IRQ_INFO_MINSZ: u32 = 16;
/// `offsetofend(struct vfio_irq_set, count)`.
const IRQ_SET_MINSZ: usize = 20;

/// `struct vfio_irq_info`.
pub(crate) use bindings::vfio_irq_info as IrqInfoArg;

/// The header of a SET_IRQS request (`struct vfio_irq_set` without data).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IrqSetHdr {
    /// `VFIO_IRQ_SET_*` flags.
    pub(crate) flags: u32,
    /// Interrupt index.
    pub(crate) index: u32,
    /// First vector.
    pub(crate) start: u32,
    /// Number of vectors.
    pub(crate) count: u32,
}

/// Copies the `struct vfio_irq_info` argument in (`EFAULT`).
pub(crate) fn read_irq_info(arg: UserPtr) -> Result<IrqInfoArg> {
    let mut raw = [0u8; IRQ_INFO_MINSZ as usize];
    UserSlice::new(arg, raw.len())
        .reader()
        .read_slice(&mut raw)?;
    let word = |i: usize| u32::from_ne_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    Ok(IrqInfoArg {
        argsz: word(0),
        flags: word(4),
        index: word(8),
        count: word(12),
    })
}

/// Copies a `struct vfio_irq_info` back out (`EFAULT`).
pub(crate) fn write_irq_info(arg: UserPtr, info: &IrqInfoArg) -> Result {
    let mut raw = [0u8; IRQ_INFO_MINSZ as usize];
    for (i, v) in [info.argsz, info.flags, info.index, info.count]
        .iter()
        .enumerate()
    {
        raw[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
    }
    UserSlice::new(arg, raw.len()).writer().write_slice(&raw)
}

/// Copies in and validates a SET_IRQS request exactly as vfio-pci does:
/// the header (`EFAULT`), `vfio_set_irqs_validate_and_prepare()` with the
/// vector count `num_irqs(index)` reports (`EINVAL`), then the data
/// (`EFAULT`, `ENOMEM`).
pub(crate) fn read_irq_set(
    arg: UserPtr,
    num_irqs: impl FnOnce(u32) -> u32,
) -> Result<(IrqSetHdr, KVec<u8>)> {
    let mut raw = [0u8; IRQ_SET_MINSZ];
    UserSlice::new(arg, raw.len())
        .reader()
        .read_slice(&mut raw)?;
    let word = |i: usize| u32::from_ne_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    let mut hdr = bindings::vfio_irq_set {
        argsz: word(0),
        flags: word(4),
        index: word(8),
        start: word(12),
        count: word(16),
        ..Default::default()
    };
    let max = num_irqs(hdr.index);
    let mut data_size = 0usize;
    // SAFETY: `hdr` and `data_size` are valid for the call; the function
    // only reads the header.
    to_result(unsafe {
        bindings::vfio_set_irqs_validate_and_prepare(
            &mut hdr,
            max as i32,
            VFIO_PCI_NUM_IRQS as i32,
            &mut data_size,
        )
    })?;
    let mut data = KVec::new();
    if data_size != 0 {
        UserSlice::new(arg + IRQ_SET_MINSZ, data_size).read_all(&mut data, GFP_KERNEL)?;
    }
    Ok((
        IrqSetHdr {
            flags: hdr.flags,
            index: hdr.index,
            start: hdr.start,
            count: hdr.count,
        },
        data,
    ))
}

/// Reinterprets `raw` as native-endian `i32`s.
pub(crate) fn as_i32s(raw: &[u8]) -> Result<&[i32]> {
    // SAFETY: Every bit pattern is a valid `i32`; `align_to` only yields
    // the middle part where alignment holds.
    let (head, fds, tail) = unsafe { raw.align_to::<i32>() };
    if !head.is_empty() || !tail.is_empty() {
        return Err(EINVAL);
    }
    Ok(fds)
}
