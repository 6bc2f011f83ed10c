//! The C ABI the XS glue calls. Every function catches panics: a panic becomes the status
//! `PANICKED` and its message is kept for `aers_panic_message`, so the glue can croak instead of
//! letting an unwind cross into Perl. Statuses: 0 success, a positive errno, or `PANICKED`.
//! Watcher keys cross the boundary as u64 (slotmap's FFI form).
//!
//! One submodule per area: `watchers` (the loop and its watchers); other areas add theirs.

mod watchers;
pub use watchers::*;
mod socket;
pub use socket::*;
mod idn;
pub use idn::*;
mod dns;
pub use dns::*;
mod stream;
pub use stream::*;
mod tls;
pub use tls::*;
mod fileio;
pub use fileio::*;

use crate::event_loop::Loop;
use crate::Callback;
use slotmap::{Key, KeyData};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub const PANICKED: i32 = -1;

thread_local! {
    static PANIC_MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keeps the caller's errno across a call into Rust: our own system calls (EAGAIN from a
/// drained socket, EBADF from epoll on a closed fd...) must not show up in Perl's `$!`. Errors
/// the caller should see travel as status codes, and the glue sets `$!` from those.
struct ErrnoGuard(i32);

impl ErrnoGuard {
    fn save() -> Self {
        // SAFETY: __errno_location returns this thread's errno slot, always valid to read.
        ErrnoGuard(unsafe { *libc::__errno_location() })
    }
}

impl Drop for ErrnoGuard {
    fn drop(&mut self) {
        // SAFETY: as in save(); writing an int to this thread's errno slot is always allowed.
        unsafe { *libc::__errno_location() = self.0 };
    }
}

/// Runs `f`, turning a panic into `PANICKED` (message kept) and an io error into its errno.
/// errno itself is left as the caller had it.
pub(crate) fn guarded(f: impl FnOnce() -> std::io::Result<i32>) -> i32 {
    let _errno = ErrnoGuard::save();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => e.raw_os_error().unwrap_or(libc::EIO),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            PANIC_MESSAGE.with(|m| *m.borrow_mut() = msg);
            PANICKED
        }
    }
}

/// Quiets the default panic printout: the glue reports the message in its croak.
pub(crate) fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

pub(crate) unsafe fn lp<'a>(p: *mut Loop) -> &'a mut Loop {
    // The glue passes the pointer from aers_loop_new; calls never nest (Rust never calls Perl),
    // so this is the only live reference.
    &mut *p
}

pub(crate) fn key_out<K: Key>(key: K, out: *mut u64) -> std::io::Result<i32> {
    unsafe { *out = key.data().as_ffi() };
    Ok(0)
}

pub(crate) fn key_in<K: Key>(key: u64) -> K {
    KeyData::from_ffi(key).into()
}

pub(crate) fn cb_out(cb: Option<Callback>, out: *mut Callback) -> std::io::Result<i32> {
    unsafe { *out = cb.unwrap_or(std::ptr::null_mut()) };
    Ok(0)
}

/// Creates the loop.
#[no_mangle]
pub extern "C" fn aers_loop_new(out: *mut *mut Loop) -> i32 {
    install_quiet_panic_hook();
    guarded(|| {
        let lp = Box::new(Loop::new()?);
        unsafe { *out = Box::into_raw(lp) };
        Ok(0)
    })
}

/// Copies the last panic message (NUL-terminated, truncated to `len`).
#[no_mangle]
pub extern "C" fn aers_panic_message(buf: *mut u8, len: usize) {
    if len == 0 {
        return;
    }
    PANIC_MESSAGE.with(|m| copy_c_string(&m.borrow(), buf, len))
}

/// The bytes at `p` (a C buffer of `len` bytes; `p` may be null when `len` is 0).
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p, len)
    }
}

/// Copies `text` into the caller's buffer of `len` bytes (> 0), truncated, NUL-terminated.
pub(crate) fn copy_c_string(text: &str, buf: *mut u8, len: usize) {
    let n = text.len().min(len - 1);
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
        *buf.add(n) = 0;
    }
}
