// SPDX-License-Identifier: GPL-2.0

//! The debugfs view of a device's interrupt contexts.
//!
//! `/sys/kernel/debug/vfio-pci-intrs/<device>/vectors` lists every
//! per-vector context, active or not: its vector, whether it has a trigger,
//! its Linux interrupt, whether it is emulated, its cookie, whether it is
//! masked (INTx) and how many interrupts its current trigger was
//! signalled. It shows no kernel pointers.

use crate::frontend::{Backing, Index, IntrCtx, IrqType};
use crate::kernel_ext::debugfs::{Dir, File, SeqFile, Show};
use core::fmt::Write;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

/// The top-level debugfs directory of the module.
pub(crate) const TOP: &CStr = c_str!("vfio-pci-intrs");

/// One device's view; removed on drop.
pub(crate) struct DeviceView {
    // Dropped in this order: the file, then its directory.
    _vectors: File<IntrCtx>,
    _dir: Dir,
}

impl DeviceView {
    /// Creates `<TOP>/<name>/vectors` showing `intr`.
    pub(crate) fn new(name: &CStr, intr: Arc<IntrCtx>) -> Result<DeviceView> {
        let dir = Dir::new_in(TOP, name)?;
        let vectors = dir.create_file(c_str!("vectors"), intr)?;
        Ok(DeviceView {
            _vectors: vectors,
            _dir: dir,
        })
    }
}

fn type_name(t: IrqType) -> &'static str {
    match t {
        IrqType::None => "none",
        IrqType::Intx => "intx",
        IrqType::Msi => "msi",
        IrqType::Msix => "msix",
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl Show for IntrCtx {
    fn show(&self, out: &mut SeqFile<'_>) -> core::fmt::Result {
        self.with_state(|st, _backend| {
            writeln!(out, "enabled: {}", type_name(st.irq_type))?;
            writeln!(
                out,
                "{:<6} {:>6} {:>6} {:>6} {:>8} {:>18} {:>6} {:>10}",
                "index", "vector", "active", "irq", "emulated", "cookie", "masked", "signalled"
            )?;
            for (&vector, ctx) in st.vectors.iter() {
                let masked = match &ctx.backing {
                    Backing::Intx(line) => yes_no(line.masked()),
                    _ => "-",
                };
                writeln!(
                    out,
                    "{:<6} {:>6} {:>6} {:>6} {:>8} {:>#18x} {:>6} {:>10}",
                    type_name(st.irq_type),
                    vector,
                    yes_no(ctx.trigger.is_some()),
                    ctx.virq,
                    yes_no(ctx.emulated),
                    ctx.cookie,
                    masked,
                    ctx.trigger.as_ref().map_or(0, |t| t.signalled()),
                )?;
            }
            for (index, trigger) in st.single_triggers() {
                if let Some(t) = trigger {
                    let name = if index == Index::Err { "err" } else { "req" };
                    writeln!(
                        out,
                        "{name:<6} {:>6} {:>6} {:>6} {:>8} {:>18} {:>6} {:>10}",
                        0,
                        "yes",
                        "-",
                        "no",
                        "-",
                        "-",
                        t.signalled()
                    )?;
                }
            }
            Ok(())
        })
    }
}
