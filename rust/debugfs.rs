// SPDX-License-Identifier: GPL-2.0

//! Read-only debugfs files whose contents a Rust object writes.
//!
//! C headers: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h),
//! [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use super::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::{code::*, from_err_ptr, Result};
use kernel::ffi::{c_int, c_void};
use kernel::str::CStr;
use kernel::sync::Arc;
use kernel::types::ForeignOwnable;

/// Something a debugfs file shows.
pub(crate) trait Show: Send + Sync + 'static {
    /// Writes the file's contents. Process context; may sleep.
    fn show(&self, out: &mut SeqFile<'_>) -> core::fmt::Result;
}

/// The output of a debugfs read (`struct seq_file`), written with
/// `write!`.
pub(crate) struct SeqFile<'a>(NonNull<bindings::seq_file>, PhantomData<&'a ()>);

impl core::fmt::Write for SeqFile<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: The seq_file is valid during the `show` call that lent
        // it; `s` is valid for reads of its length.
        let ret = unsafe { bindings::seq_write(self.0.as_ptr(), s.as_ptr().cast(), s.len()) };
        // seq_file retries with a larger buffer on overflow.
        if ret == 0 {
            Ok(())
        } else {
            Err(core::fmt::Error)
        }
    }
}

/// A debugfs directory, removed with its contents on drop.
///
/// # Invariants
///
/// The dentry is a directory this value created and owns.
pub(crate) struct Dir(NonNull<bindings::dentry>);

// SAFETY: debugfs locks internally; the dentry is only removed by `drop`.
unsafe impl Send for Dir {}
// SAFETY: No method mutates through `&Dir` but debugfs itself.
unsafe impl Sync for Dir {}

impl Dir {
    /// Creates directory `name` at the top of debugfs.
    pub(crate) fn new(name: &CStr) -> Result<Dir> {
        // SAFETY: `name` is a valid string; a null parent is the top.
        let dentry =
            unsafe { bindings::debugfs_create_dir(name.as_char_ptr(), core::ptr::null_mut()) };
        Self::from_created(dentry)
    }

    /// Creates directory `name` inside the top-level directory `top`
    /// (which another owner created); `ENOENT` when there is none.
    pub(crate) fn new_in(top: &CStr, name: &CStr) -> Result<Dir> {
        // SAFETY: `top` is a valid string; the lookup takes a reference.
        let parent = unsafe { bindings::debugfs_lookup(top.as_char_ptr(), core::ptr::null_mut()) };
        if parent.is_null() {
            return Err(ENOENT);
        }
        // SAFETY: `parent` is a live dentry (we hold a reference); `name`
        // is a valid string. The reference is dropped after creation.
        let dentry = unsafe {
            let dentry = bindings::debugfs_create_dir(name.as_char_ptr(), parent);
            bindings::dput(parent);
            dentry
        };
        Self::from_created(dentry)
    }

    fn from_created(dentry: *mut bindings::dentry) -> Result<Dir> {
        let dentry = from_err_ptr(dentry)?;
        // INVARIANT: debugfs created the directory for us.
        NonNull::new(dentry).map(Dir).ok_or(ENOMEM)
    }

    /// Creates the read-only file `name` in this directory, showing `data`.
    pub(crate) fn create_file<T: Show>(&self, name: &CStr, data: Arc<T>) -> Result<File<T>> {
        let ptr = data.into_foreign();
        // SAFETY: `name` is a valid string and the directory is live; the
        // file operations are static; `ptr` stays valid until `File::drop`
        // has removed the file, after which debugfs no longer calls them.
        let dentry = unsafe {
            bindings::debugfs_create_file(
                name.as_char_ptr(),
                0o444,
                self.0.as_ptr(),
                ptr.cast_mut(),
                &FileOps::<T>::FOPS,
            )
        };
        match from_err_ptr(dentry).ok().and_then(NonNull::new) {
            // INVARIANT: The file shows the data whose reference we keep.
            Some(dentry) => Ok(File {
                dentry,
                data: ptr,
                _t: PhantomData,
            }),
            None => {
                // SAFETY: `ptr` came from `into_foreign` above and no file
                // uses it.
                drop(unsafe { <Arc<T> as ForeignOwnable>::from_foreign(ptr) });
                Err(ENOMEM)
            }
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the directory.
        unsafe { bindings::debugfs_remove(self.0.as_ptr()) };
    }
}

/// A debugfs file showing a `T`; removed on drop.
///
/// # Invariants
///
/// `data` is an `Arc<T>` in foreign form that the file's `i_private`
/// points at, kept until the file is removed. Files are dropped before
/// their directory.
pub(crate) struct File<T: Show> {
    dentry: NonNull<bindings::dentry>,
    data: *const c_void,
    _t: PhantomData<Arc<T>>,
}

// SAFETY: The file holds an `Arc<T>` with `T: Send + Sync`.
unsafe impl<T: Show> Send for File<T> {}
// SAFETY: As above.
unsafe impl<T: Show> Sync for File<T> {}

impl<T: Show> Drop for File<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the file exists. Removal waits
        // for readers inside our callbacks; later reads fail without
        // calling them. Then the data can go.
        unsafe {
            bindings::debugfs_remove(self.dentry.as_ptr());
            drop(<Arc<T> as ForeignOwnable>::from_foreign(self.data));
        }
    }
}

struct FileOps<T: Show>(PhantomData<T>);

impl<T: Show> FileOps<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        open: Some(open_callback::<T>),
        read: Some(bindings::seq_read),
        llseek: Some(bindings::seq_lseek),
        release: Some(bindings::single_release),
        // SAFETY: All-zero is a valid `file_operations` (no callbacks).
        ..unsafe { core::mem::zeroed() }
    };
}

/// # Safety
///
/// Called by debugfs for a file created by [`Dir::create_file`].
unsafe extern "C" fn open_callback<T: Show>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: The inode's private data is the file's `T` (see `File`).
    unsafe { bindings::single_open(file, Some(show_callback::<T>), (*inode).i_private) }
}

/// # Safety
///
/// Called by seq_file with the private data `open_callback` passed.
unsafe extern "C" fn show_callback<T: Show>(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: `m` is valid; its private data is the `Arc<T>` of a file
    // that is not removed while this runs.
    let data = unsafe { <Arc<T> as ForeignOwnable>::borrow((*m).private) };
    let Some(m) = NonNull::new(m) else {
        return EINVAL.to_errno();
    };
    let mut out = SeqFile(m, PhantomData);
    // A formatting error means the buffer overflowed; seq_file retries.
    let _ = data.show(&mut out);
    0
}
