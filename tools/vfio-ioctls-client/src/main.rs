// SPDX-License-Identifier: GPL-2.0

//! A second real VFIO client: rust-vmm's `vfio-ioctls` crate (the VFIO layer
//! of Cloud Hypervisor and other rust-vmm VMMs) drives a device through its
//! own device API (`VfioContainer`, `VfioDevice`, `get_irq_info`,
//! `enable_msi`/`enable_msix`/`enable_irq`, `trigger_irq`, `unmask_irq`,
//! `set_irq_resample_fd`, `disable_*`, region reads and writes) and makes the
//! device raise real interrupts.
//!
//! Usage: `vfio_ioctls_client BDF`. The device must be bound to a VFIO PCI
//! driver. It is recognised by its IDs: QEMU's edu (INTx, one MSI vector;
//! see edu.h of the selftests) or igb (ten MSI-X vectors, one MSI vector,
//! INTx; see igb.h).
//!
//! Prints a transcript with one line per step: each call's result (`ok`, an
//! errno name, or `refused by vfio-ioctls` when the crate turned the call
//! down without an ioctl), the IRQ info the crate reports, and the count of
//! every eventfd after the device raised an interrupt or a loopback
//! trigger. Nothing in it depends on the device's address or on timing, so
//! the transcripts of twin devices bound to vfio-pci and to vfio-pci-intrs
//! must be identical. Every result is also checked against what upstream
//! vfio-pci does (a line that differs ends in `MISMATCH, expected ...`).
//!
//! Exits 0 when every result was the expected one, 1 when one was not, 2
//! when the device could not be opened or is not an edu or igb.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use vfio_ioctls::{VfioContainer, VfioDevice, VfioError};
use vmm_sys_util::eventfd::EventFd;

/// VFIO PCI interrupt indexes (`linux/vfio.h`).
const INTX: u32 = 0;
const MSI: u32 = 1;
const MSIX: u32 = 2;
const ERR: u32 = 3;
const REQ: u32 = 4;
/// One past the last index vfio-pci has.
const NUM_IRQS: u32 = 5;
const IRQ_NAMES: [&str; 5] = ["INTx", "MSI", "MSI-X", "ERR", "REQ"];

/// VFIO PCI region indexes.
const BAR0: u32 = 0;
const CONFIG: u32 = 7;

const PCI_COMMAND: u64 = 0x04;
const PCI_COMMAND_MEMORY: u16 = 0x2;
const PCI_COMMAND_MASTER: u16 = 0x4;

/// QEMU's edu device (edu.h).
const EDU_ID: u32 = 0x11e8_1234;
const EDU_IDENT: u64 = 0x00;
const EDU_IDENT_VALUE: u32 = 0x0100_00ed;
const EDU_LIVENESS: u64 = 0x04;
const EDU_IRQ_STATUS: u64 = 0x24;
const EDU_IRQ_RAISE: u64 = 0x60;
const EDU_IRQ_ACK: u64 = 0x64;
const EDU_RAISE_VALUE: u32 = 0x5a;

/// QEMU's igb device (igb.h).
const IGB_ID: u32 = 0x10c9_8086;
const IGB_ICR: u64 = 0x00c0;
const IGB_ICS: u64 = 0x00c8;
const IGB_IMS: u64 = 0x00d0;
const IGB_IMC: u64 = 0x00d8;
const IGB_GPIE: u64 = 0x1514;
const IGB_EICS: u64 = 0x1520;
const IGB_EIMS: u64 = 0x1524;
const IGB_EIMC: u64 = 0x1528;
const IGB_EIAC: u64 = 0x152c;
const IGB_EICR: u64 = 0x1580;
const IGB_EITR0: u64 = 0x1680;
const IGB_GPIE_MULTIPLE_MSIX: u32 = 0x10;
const IGB_ICR_MDAC: u32 = 0x200;
const IGB_VECTORS: usize = 10;
const IGB_ALL: u32 = (1 << IGB_VECTORS) - 1;

/// An expected interrupt must reach its eventfd within this time (TCG
/// guests are slow)...
const IRQ_WAIT: Duration = Duration::from_secs(5);
/// ...and nothing more may arrive within this time afterwards.
const QUIET: Duration = Duration::from_millis(150);

/// The result of a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// The ioctl fails with this errno.
    Errno(i32),
    /// vfio-ioctls itself turns the call down, without an ioctl.
    Refused,
}

/// Prints vfio-ioctls' own log messages (warnings and errors) into the
/// transcript: region accesses report their failures only there.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            println!("  vfio-ioctls {}: {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOTTY => "ENOTTY",
        libc::ERANGE => "ERANGE",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        524 => "ENOTSUPP",
        _ => return format!("errno {e}"),
    };
    name.to_string()
}

fn errno_clear() {
    // SAFETY: __errno_location() returns this thread's errno.
    unsafe { *libc::__errno_location() = 0 };
}

fn errno_get() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn outcome_text(outcome: Outcome) -> String {
    match outcome {
        Outcome::Ok => "ok".to_string(),
        Outcome::Errno(e) => errno_name(e),
        Outcome::Refused => "refused by vfio-ioctls".to_string(),
    }
}

/// Reads and resets an eventfd's count without waiting (0: not signalled).
fn efd_take(efd: &EventFd) -> u64 {
    efd.read().unwrap_or(0)
}

fn new_efd() -> EventFd {
    EventFd::new(libc::EFD_NONBLOCK | libc::EFD_CLOEXEC).expect("eventfd")
}

struct Client {
    path: PathBuf,
    dev: Option<VfioDevice>,
    /// Results that were not the expected ones.
    mismatches: u32,
}

impl Client {
    fn dev(&self) -> &VfioDevice {
        self.dev.as_ref().expect("device is open")
    }

    /// Prints a step's line, marking it when the result is not the expected one.
    fn report(&mut self, what: &str, got: &str, want: &str) {
        if got == want {
            println!("{what}: {got}");
        } else {
            println!("{what}: {got}  MISMATCH, expected {want}");
            self.mismatches += 1;
        }
        let _ = std::io::stdout().flush();
    }

    /// Makes a vfio-ioctls call and reports its result: `ok`, or the errno
    /// of the failed ioctl, or that the crate refused the call itself (errno
    /// untouched), each failure with the crate's error.
    fn call(
        &mut self,
        what: &str,
        want: Outcome,
        f: impl FnOnce(&VfioDevice) -> Result<(), VfioError>,
    ) {
        errno_clear();
        let res = f(self.dev());
        let errno = errno_get();
        let (got, text) = match res {
            Ok(()) => (Outcome::Ok, outcome_text(Outcome::Ok)),
            Err(e) => {
                let got = match errno {
                    0 => Outcome::Refused,
                    n => Outcome::Errno(n),
                };
                (got, format!("{} ({e:?})", outcome_text(got)))
            }
        };
        if got == want {
            self.report(what, &text, &text);
        } else {
            self.report(what, &text, &outcome_text(want));
        }
    }

    /// Waits until each eventfd has counted at least its expected number of
    /// signals (or IRQ_WAIT has passed), then QUIET more for late extras,
    /// and reports every count.
    fn counts(&mut self, what: &str, efds: &[&EventFd], want: &[u64]) {
        let mut got = vec![0u64; efds.len()];
        let deadline = Instant::now() + IRQ_WAIT;
        loop {
            for (g, e) in got.iter_mut().zip(efds) {
                *g += efd_take(e);
            }
            if got.iter().zip(want).all(|(g, w)| g >= w) || Instant::now() >= deadline {
                break;
            }
            sleep(Duration::from_millis(5));
        }
        sleep(QUIET);
        for (g, e) in got.iter_mut().zip(efds) {
            *g += efd_take(e);
        }
        let text = |v: &[u64]| {
            let s: Vec<String> = v.iter().map(u64::to_string).collect();
            format!("eventfds {}", s.join(" "))
        };
        self.report(what, &text(&got), &text(want));
    }

    fn read(&self, region: u32, off: u64, buf: &mut [u8]) {
        buf.fill(0xff);
        self.dev().region_read(region, buf, off);
    }

    fn read32(&self, region: u32, off: u64) -> u32 {
        let mut b = [0u8; 4];
        self.read(region, off, &mut b);
        u32::from_le_bytes(b)
    }

    fn write32(&self, region: u32, off: u64, val: u32) {
        self.dev().region_write(region, &val.to_le_bytes(), off);
    }

    fn read16(&self, region: u32, off: u64) -> u16 {
        let mut b = [0u8; 2];
        self.read(region, off, &mut b);
        u16::from_le_bytes(b)
    }

    fn write16(&self, region: u32, off: u64, val: u16) {
        self.dev().region_write(region, &val.to_le_bytes(), off);
    }

    /// Opens the device through a new type1v2 container.
    fn open(&mut self) -> Result<(), String> {
        let container = VfioContainer::new(None).map_err(|e| format!("container: {e}"))?;
        let dev = VfioDevice::new(&self.path, Arc::new(container), false)
            .map_err(|e| format!("device: {e}"))?;
        self.dev = Some(dev);
        println!("open: ok");
        Ok(())
    }

    fn close(&mut self) {
        self.dev = None;
        println!("close: ok");
    }

    /// Prints what vfio-ioctls reports of every interrupt index, of the
    /// regions used, and enables memory decoding and bus mastering.
    fn describe(&mut self) {
        for index in 0..=NUM_IRQS {
            let name = IRQ_NAMES.get(index as usize).unwrap_or(&"beyond");
            match self.dev().get_irq_info(index) {
                Some(irq) => println!(
                    "get_irq_info({index} {name}): index {} count {} flags {:#x}",
                    irq.index, irq.count, irq.flags
                ),
                None => println!("get_irq_info({index} {name}): none"),
            }
        }
        println!("max_interrupts: {}", self.dev().max_interrupts());
        for (index, name) in [(BAR0, "BAR0"), (CONFIG, "config")] {
            println!(
                "region {name}: size {:#x} flags {:#x}",
                self.dev().get_region_size(index),
                self.dev().get_region_flags(index)
            );
        }
        let cmd = self.read16(CONFIG, PCI_COMMAND);
        self.write16(
            CONFIG,
            PCI_COMMAND,
            cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
        );
        let now = self.read16(CONFIG, PCI_COMMAND) & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        let want = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        self.report(
            "config: set memory and bus master",
            &format!("{now:#x}"),
            &format!("{want:#x}"),
        );
    }
}

/* edu */

impl Client {
    fn edu_raise(&self, bits: u32) {
        self.write32(BAR0, EDU_IRQ_RAISE, bits);
    }

    fn edu_status(&self) -> u32 {
        self.read32(BAR0, EDU_IRQ_STATUS)
    }

    /// Acknowledges every pending status bit (edu then lowers INTx) and
    /// reports the status before and after.
    fn edu_ack(&mut self, what: &str, want: u32) {
        let status = self.edu_status();
        if status != 0 {
            self.write32(BAR0, EDU_IRQ_ACK, status);
        }
        let after = self.edu_status();
        self.report(
            what,
            &format!("status {status:#x}, after ack {after:#x}"),
            &format!("status {want:#x}, after ack 0x0"),
        );
    }

    fn edu(&mut self) {
        let (a, b, r) = (new_efd(), new_efd(), new_efd());
        let ab = [&a, &b];

        let ident = self.read32(BAR0, EDU_IDENT);
        self.report(
            "edu: BAR0 ident",
            &format!("{ident:#x}"),
            &format!("{EDU_IDENT_VALUE:#x}"),
        );
        self.write32(BAR0, EDU_LIVENESS, 0x1234_5678);
        let live = self.read32(BAR0, EDU_LIVENESS);
        self.report(
            "edu: BAR0 liveness",
            &format!("{live:#x}"),
            &format!("{:#x}", !0x1234_5678u32),
        );

        // MSI, raised by the device.
        self.call("enable_msi([a])", Outcome::Ok, |d| d.enable_msi(vec![&a]));
        for round in 1..=3 {
            self.edu_raise(EDU_RAISE_VALUE);
            self.counts(&format!("msi round {round}: raise"), &ab, &[1, 0]);
            self.edu_ack(&format!("msi round {round}: ack"), EDU_RAISE_VALUE);
        }
        self.call("trigger_irq(MSI, 0)", Outcome::Ok, |d| {
            d.trigger_irq(MSI, 0)
        });
        self.counts("msi: after trigger_irq", &ab, &[1, 0]);
        self.call("trigger_irq(MSI, 1)", Outcome::Refused, |d| {
            d.trigger_irq(MSI, 1)
        });
        // The same index again while enabled: the vector moves to b.
        self.call("enable_msi([b]) while enabled", Outcome::Ok, |d| {
            d.enable_msi(vec![&b])
        });
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("msi: raise after the move to b", &ab, &[0, 1]);
        self.edu_ack("msi: ack", EDU_RAISE_VALUE);
        self.call("enable_msi([a, b]) (2 > count)", Outcome::Refused, |d| {
            d.enable_msi(vec![&a, &b])
        });
        self.call(
            "enable_irq(INTx, [a]) while MSI",
            Outcome::Errno(libc::EINVAL),
            |d| d.enable_irq(INTX, vec![&a]),
        );
        self.call(
            "disable_irq(INTx) while MSI",
            Outcome::Errno(libc::EINVAL),
            |d| d.disable_irq(INTX),
        );
        self.call(
            "unmask_irq(INTx) while MSI",
            Outcome::Errno(libc::EINVAL),
            |d| d.unmask_irq(INTX),
        );
        self.call("unmask_irq(MSI)", Outcome::Refused, |d| d.unmask_irq(MSI));
        self.call("enable_msix([a]) (no MSI-X)", Outcome::Refused, |d| {
            d.enable_msix(vec![&a])
        });
        self.call("disable_msix (no MSI-X)", Outcome::Refused, |d| {
            d.disable_msix()
        });
        self.counts("msi: nothing else signalled", &ab, &[0, 0]);
        self.call("disable_msi", Outcome::Ok, |d| d.disable_msi());
        // Now on INTx, which has no eventfd: nothing is signalled.
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("msi off: raise", &ab, &[0, 0]);
        self.edu_ack("msi off: ack", EDU_RAISE_VALUE);
        self.call("disable_msi again", Outcome::Errno(libc::EINVAL), |d| {
            d.disable_msi()
        });
        self.call(
            "trigger_irq(MSI, 0) while disabled",
            Outcome::Errno(libc::EINVAL),
            |d| d.trigger_irq(MSI, 0),
        );

        // INTx, raised by the device: automasked until unmasked.
        self.call("enable_irq(INTx, [a])", Outcome::Ok, |d| {
            d.enable_irq(INTX, vec![&a])
        });
        for round in 1..=3 {
            self.edu_raise(EDU_RAISE_VALUE);
            self.counts(&format!("intx round {round}: raise"), &ab, &[1, 0]);
            self.edu_raise(0x01);
            self.counts(
                &format!("intx round {round}: raise while masked"),
                &ab,
                &[0, 0],
            );
            self.edu_ack(&format!("intx round {round}: ack"), EDU_RAISE_VALUE | 0x01);
            self.call(
                &format!("intx round {round}: unmask_irq(INTx)"),
                Outcome::Ok,
                |d| d.unmask_irq(INTX),
            );
            self.counts(&format!("intx round {round}: after unmask"), &ab, &[0, 0]);
        }
        // Unmasked while the device still asserts: signalled again.
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("intx: raise", &ab, &[1, 0]);
        self.call("intx: unmask_irq(INTx) while asserted", Outcome::Ok, |d| {
            d.unmask_irq(INTX)
        });
        self.counts("intx: after unmask while asserted", &ab, &[1, 0]);
        self.edu_ack("intx: ack", EDU_RAISE_VALUE);
        self.call("intx: unmask_irq(INTx)", Outcome::Ok, |d| {
            d.unmask_irq(INTX)
        });
        self.counts("intx: after unmask", &ab, &[0, 0]);
        self.call("trigger_irq(INTx, 0)", Outcome::Ok, |d| {
            d.trigger_irq(INTX, 0)
        });
        self.counts("intx: after trigger_irq", &ab, &[1, 0]);
        self.call("trigger_irq(INTx, 1)", Outcome::Refused, |d| {
            d.trigger_irq(INTX, 1)
        });

        // An unmask eventfd (KVM's resamplefd): signalling it unmasks.
        self.call("set_irq_resample_fd(INTx, [r])", Outcome::Ok, |d| {
            d.set_irq_resample_fd(INTX, vec![&r])
        });
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("resample: raise", &ab, &[1, 0]);
        self.edu_ack("resample: ack", EDU_RAISE_VALUE);
        r.write(1).expect("eventfd write");
        self.counts("resample: signal r (deasserted)", &ab, &[0, 0]);
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("resample: raise", &ab, &[1, 0]);
        r.write(1).expect("eventfd write");
        self.counts("resample: signal r (asserted)", &ab, &[1, 0]);
        self.edu_ack("resample: ack", EDU_RAISE_VALUE);
        r.write(1).expect("eventfd write");
        self.counts("resample: signal r (deasserted)", &ab, &[0, 0]);

        self.call(
            "enable_msi([b]) while INTx",
            Outcome::Errno(libc::EINVAL),
            |d| d.enable_msi(vec![&b]),
        );
        self.call("disable_irq(INTx)", Outcome::Ok, |d| d.disable_irq(INTX));
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("intx off: raise", &ab, &[0, 0]);
        r.write(1).expect("eventfd write");
        self.counts("intx off: signal r", &ab, &[0, 0]);
        self.edu_ack("intx off: ack", EDU_RAISE_VALUE);
        self.call(
            "disable_irq(INTx) again",
            Outcome::Errno(libc::EINVAL),
            |d| d.disable_irq(INTX),
        );
        self.call(
            "unmask_irq(INTx) while disabled",
            Outcome::Errno(libc::EINVAL),
            |d| d.unmask_irq(INTX),
        );
        self.call(
            "trigger_irq(INTx, 0) while disabled",
            Outcome::Errno(libc::EINVAL),
            |d| d.trigger_irq(INTX, 0),
        );

        // edu is conventional PCI: no ERR index.
        self.call("enable_irq(ERR, [a])", Outcome::Refused, |d| {
            d.enable_irq(ERR, vec![&a])
        });
        self.call("trigger_irq(ERR, 0)", Outcome::Refused, |d| {
            d.trigger_irq(ERR, 0)
        });
        self.call("disable_irq(ERR)", Outcome::Refused, |d| d.disable_irq(ERR));
        self.req(&a, &b);

        // Close with MSI enabled; a new open starts from scratch.
        self.call("enable_msi([a]) before close", Outcome::Ok, |d| {
            d.enable_msi(vec![&a])
        });
        self.close();
        if let Err(e) = self.open() {
            self.report("reopen", &e, "ok");
            return;
        }
        self.describe();
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("reopen: raise (nothing enabled)", &ab, &[0, 0]);
        self.edu_ack("reopen: ack", EDU_RAISE_VALUE);
        self.call("reopen: enable_irq(INTx, [b])", Outcome::Ok, |d| {
            d.enable_irq(INTX, vec![&b])
        });
        self.edu_raise(EDU_RAISE_VALUE);
        self.counts("reopen: raise", &ab, &[0, 1]);
        self.edu_ack("reopen: ack", EDU_RAISE_VALUE);
        self.call("reopen: unmask_irq(INTx)", Outcome::Ok, |d| {
            d.unmask_irq(INTX)
        });
        self.call("reopen: disable_irq(INTx)", Outcome::Ok, |d| {
            d.disable_irq(INTX)
        });
        self.counts("reopen: nothing else signalled", &ab, &[0, 0]);
    }

    /// The device request index: loopback, eventfd replaced, released.
    fn req(&mut self, a: &EventFd, b: &EventFd) {
        let ab = [a, b];
        self.call("enable_irq(REQ, [a])", Outcome::Ok, |d| {
            d.enable_irq(REQ, vec![a])
        });
        self.call("trigger_irq(REQ, 0)", Outcome::Ok, |d| {
            d.trigger_irq(REQ, 0)
        });
        self.counts("req: after trigger_irq", &ab, &[1, 0]);
        self.call("enable_irq(REQ, [b]) (replace)", Outcome::Ok, |d| {
            d.enable_irq(REQ, vec![b])
        });
        self.call("trigger_irq(REQ, 0)", Outcome::Ok, |d| {
            d.trigger_irq(REQ, 0)
        });
        self.counts("req: after trigger_irq", &ab, &[0, 1]);
        self.call("disable_irq(REQ)", Outcome::Ok, |d| d.disable_irq(REQ));
        self.call(
            "disable_irq(REQ) again",
            Outcome::Errno(libc::EINVAL),
            |d| d.disable_irq(REQ),
        );
        self.call(
            "trigger_irq(REQ, 0) while disabled",
            Outcome::Errno(libc::EINVAL),
            |d| d.trigger_irq(REQ, 0),
        );
        self.counts("req: nothing else signalled", &ab, &[0, 0]);
    }
}

/* igb */

/// Expected counts: 1 for the vectors in mask, 0 for the others.
fn bits(mask: u32, n: usize) -> Vec<u64> {
    (0..n).map(|v| u64::from((mask >> v) & 1)).collect()
}

impl Client {
    /// Multiple-MSI-X mode, no throttling, every cause enabled and
    /// auto-cleared: EICS bit n sends vector n, every time.
    fn igb_msix_causes(&self) {
        self.write32(BAR0, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
        for v in 0..IGB_VECTORS as u64 {
            self.write32(BAR0, IGB_EITR0 + 4 * v, 0);
        }
        self.write32(BAR0, IGB_EIAC, IGB_ALL);
        self.write32(BAR0, IGB_EIMS, IGB_ALL);
    }

    /// An ICS write of MDAC sends MSI (or asserts INTx).
    fn igb_msi_cause(&self) {
        self.write32(BAR0, IGB_GPIE, 0);
        self.write32(BAR0, IGB_ICR, !0);
        self.write32(BAR0, IGB_IMS, IGB_ICR_MDAC);
    }

    fn igb_quiesce(&self) {
        self.write32(BAR0, IGB_EIMC, !0);
        self.write32(BAR0, IGB_IMC, !0);
        self.write32(BAR0, IGB_EICR, !0);
        self.write32(BAR0, IGB_ICR, !0);
        self.write32(BAR0, IGB_GPIE, 0);
    }

    fn igb(&mut self) {
        let a: Vec<EventFd> = (0..IGB_VECTORS).map(|_| new_efd()).collect();
        let b: Vec<EventFd> = (0..3).map(|_| new_efd()).collect();
        let ar: Vec<&EventFd> = a.iter().collect();
        let all: Vec<&EventFd> = a.iter().chain(b.iter()).collect();
        let n = all.len();
        // Expected counts of a[] (bits 0-9) and b[] (bits 10-12).
        let want = |a_mask: u32, b_mask: u32| bits(a_mask | (b_mask << IGB_VECTORS), n);

        // MSI-X, sent by the device vector by vector, then all at once.
        self.call("enable_msix(a[0..10])", Outcome::Ok, |d| {
            d.enable_msix(ar.clone())
        });
        self.igb_msix_causes();
        for v in 0..IGB_VECTORS {
            self.write32(BAR0, IGB_EICS, 1 << v);
            self.counts(&format!("msix: EICS vector {v}"), &all, &want(1 << v, 0));
        }
        for round in 1..=2 {
            self.write32(BAR0, IGB_EICS, IGB_ALL);
            self.counts(
                &format!("msix round {round}: EICS every vector"),
                &all,
                &want(IGB_ALL, 0),
            );
        }
        for v in 0..IGB_VECTORS as u32 {
            self.call(&format!("trigger_irq(MSI-X, {v})"), Outcome::Ok, |d| {
                d.trigger_irq(MSIX, v)
            });
        }
        self.counts("msix: after trigger_irq of each", &all, &want(IGB_ALL, 0));
        self.call("trigger_irq(MSI-X, 10)", Outcome::Refused, |d| {
            d.trigger_irq(MSIX, 10)
        });
        self.call(
            "enable_msix(11 eventfds) (> count)",
            Outcome::Refused,
            |d| d.enable_msix(all[..IGB_VECTORS + 1].to_vec()),
        );
        // The same index again while enabled: vectors 0-2 move to b[].
        self.call("enable_msix(b[0..3]) while enabled", Outcome::Ok, |d| {
            d.enable_msix(b.iter().collect())
        });
        self.write32(BAR0, IGB_EICS, IGB_ALL);
        self.counts("msix: EICS every vector", &all, &want(IGB_ALL & !7, 7));
        self.call(
            "enable_msi([a0]) while MSI-X",
            Outcome::Errno(libc::EINVAL),
            |d| d.enable_msi(vec![&a[0]]),
        );
        self.call(
            "enable_irq(INTx, [a0]) while MSI-X",
            Outcome::Errno(libc::EINVAL),
            |d| d.enable_irq(INTX, vec![&a[0]]),
        );
        self.call(
            "disable_msi while MSI-X",
            Outcome::Errno(libc::EINVAL),
            |d| d.disable_msi(),
        );
        self.call(
            "disable_irq(INTx) while MSI-X",
            Outcome::Errno(libc::EINVAL),
            |d| d.disable_irq(INTX),
        );
        self.call("unmask_irq(MSI-X)", Outcome::Refused, |d| {
            d.unmask_irq(MSIX)
        });
        self.call("disable_msix", Outcome::Ok, |d| d.disable_msix());
        self.write32(BAR0, IGB_EICS, IGB_ALL);
        self.counts("msix off: EICS every vector", &all, &want(0, 0));
        self.call("disable_msix again", Outcome::Errno(libc::EINVAL), |d| {
            d.disable_msix()
        });
        self.call(
            "trigger_irq(MSI-X, 0) while disabled",
            Outcome::Errno(libc::EINVAL),
            |d| d.trigger_irq(MSIX, 0),
        );
        // QEMU's igb keeps the vectors it raised while MSI-X was off
        // pending (the MSI-X PBA) and sends them once it is on again.
        self.call("enable_msix(a[0..10]) again", Outcome::Ok, |d| {
            d.enable_msix(ar.clone())
        });
        self.counts(
            "msix: pending vectors sent on enable",
            &all,
            &want(IGB_ALL, 0),
        );
        self.call("disable_msix", Outcome::Ok, |d| d.disable_msix());
        self.igb_quiesce();

        // MSI, sent by the device for a cause.
        self.igb_msi_cause();
        self.call("enable_msi([a0])", Outcome::Ok, |d| {
            d.enable_msi(vec![&a[0]])
        });
        for round in 1..=3 {
            self.write32(BAR0, IGB_ICS, IGB_ICR_MDAC);
            self.counts(&format!("msi round {round}: ICS"), &all, &want(1, 0));
            self.write32(BAR0, IGB_ICR, IGB_ICR_MDAC);
        }
        self.call("trigger_irq(MSI, 0)", Outcome::Ok, |d| {
            d.trigger_irq(MSI, 0)
        });
        self.counts("msi: after trigger_irq", &all, &want(1, 0));
        self.call(
            "enable_msix(a[0..10]) while MSI",
            Outcome::Errno(libc::EINVAL),
            |d| d.enable_msix(ar.clone()),
        );
        self.write32(BAR0, IGB_IMC, !0);
        self.call("disable_msi", Outcome::Ok, |d| d.disable_msi());

        // INTx, asserted by the device for a cause: automasked.
        self.call("enable_irq(INTx, [a1])", Outcome::Ok, |d| {
            d.enable_irq(INTX, vec![&a[1]])
        });
        self.igb_msi_cause();
        for round in 1..=2 {
            self.write32(BAR0, IGB_ICS, IGB_ICR_MDAC);
            self.counts(&format!("intx round {round}: ICS"), &all, &want(2, 0));
            self.write32(BAR0, IGB_ICR, IGB_ICR_MDAC);
            self.call(
                &format!("intx round {round}: unmask_irq(INTx)"),
                Outcome::Ok,
                |d| d.unmask_irq(INTX),
            );
            self.counts(
                &format!("intx round {round}: after unmask"),
                &all,
                &want(0, 0),
            );
        }
        self.write32(BAR0, IGB_IMC, !0);
        self.call("trigger_irq(INTx, 0)", Outcome::Ok, |d| {
            d.trigger_irq(INTX, 0)
        });
        self.counts("intx: after trigger_irq", &all, &want(2, 0));
        self.call("disable_irq(INTx)", Outcome::Ok, |d| d.disable_irq(INTX));
        self.igb_quiesce();

        // PCIe: the ERR index exists (loopback only).
        self.call("enable_irq(ERR, [a0])", Outcome::Ok, |d| {
            d.enable_irq(ERR, vec![&a[0]])
        });
        self.call("trigger_irq(ERR, 0)", Outcome::Ok, |d| {
            d.trigger_irq(ERR, 0)
        });
        self.counts("err: after trigger_irq", &all, &want(1, 0));
        self.call("disable_irq(ERR)", Outcome::Ok, |d| d.disable_irq(ERR));
        self.call(
            "disable_irq(ERR) again",
            Outcome::Errno(libc::EINVAL),
            |d| d.disable_irq(ERR),
        );
        self.req(&b[0], &b[1]);

        // Close with MSI-X enabled; a new open starts from scratch.
        self.call("enable_msix(a[0..10]) before close", Outcome::Ok, |d| {
            d.enable_msix(ar.clone())
        });
        self.counts("msix: nothing pending", &all, &want(0, 0));
        self.close();
        if let Err(e) = self.open() {
            self.report("reopen", &e, "ok");
            return;
        }
        self.describe();
        self.call("reopen: enable_msix(b[0..3])", Outcome::Ok, |d| {
            d.enable_msix(b.iter().collect())
        });
        self.igb_msix_causes();
        self.write32(BAR0, IGB_EICS, 7);
        self.counts("reopen: EICS vectors 0-2", &all, &want(0, 7));
        self.igb_quiesce();
        self.call("reopen: disable_msix", Outcome::Ok, |d| d.disable_msix());
        self.counts("reopen: nothing else signalled", &all, &want(0, 0));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 || args[1].starts_with('-') {
        eprintln!("usage: {} BDF", args[0]);
        std::process::exit(2);
    }
    let _ = log::set_logger(&LOGGER).map(|()| log::set_max_level(log::LevelFilter::Warn));

    let mut client = Client {
        path: Path::new("/sys/bus/pci/devices").join(&args[1]),
        dev: None,
        mismatches: 0,
    };
    println!("# vfio-ioctls client transcript");
    if let Err(e) = client.open() {
        println!("open: {e}");
        std::process::exit(2);
    }
    let id = client.read32(CONFIG, 0);
    let kind = match id {
        EDU_ID => "edu",
        IGB_ID => "igb",
        _ => "unknown",
    };
    println!("device: {:04x}:{:04x} ({kind})", id & 0xffff, id >> 16);
    client.describe();
    match kind {
        "edu" => client.edu(),
        "igb" => client.igb(),
        _ => {
            println!("not an edu or igb device");
            std::process::exit(2);
        }
    }
    client.close();
    println!("mismatches: {}", client.mismatches);
    std::process::exit(if client.mismatches == 0 { 0 } else { 1 });
}
