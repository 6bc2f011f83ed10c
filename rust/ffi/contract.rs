//! The FFI contract, in one place: every function exported to C runs its body through [`call`].
//!
//! - **Status.** Every export returns a [`Status`]: [`AERS_OK`] (0), a positive errno value, or
//!   [`AERS_PANICKED`]. Answers (found or not, a count, a time, a verdict) travel through
//!   out-parameters, never through the status.
//! - **Panics.** [`call`] catches a panic of the body (no unwind crosses into C or Perl) and
//!   returns `AERS_PANICKED`. After a panic the state the body was changing may be broken, so
//!   from then on every export refuses to run and returns `AERS_PANICKED` at once (the core is
//!   *poisoned*; per thread, and the glue calls from one thread).
//! - **Messages.** One last-error channel per thread: a failure that has more to say than its
//!   errno (a panic, a TLS or DNS configuration error) keeps its message, which
//!   `aers_last_error` copies out. Plain errno failures (EAGAIN...) keep none.
//! - **errno.** The caller's errno is left as it was: the core's own system calls do not show
//!   through in Perl's `$!`; errors travel as statuses.
//! - **Pointers.** Exports are `unsafe fn`: their `# Safety` sections say what the caller
//!   guarantees (the glue in `AnyEvent.xs` and `xs/*.xsh` passes handles it got from the
//!   matching `*_new` export, and buffers of Perl strings with their lengths).

use std::cell::{Cell, RefCell};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What every export returns: [`AERS_OK`], a positive errno value, or [`AERS_PANICKED`].
pub type Status = i32;

/// The call succeeded.
pub const AERS_OK: Status = 0;

/// The call panicked, or an earlier call did and the core refuses further work; the message is
/// in the last-error channel.
pub const AERS_PANICKED: Status = -1;

/// A failed call: the status it returns, and a message for the last-error channel when the
/// errno alone would not say enough.
#[derive(Debug)]
pub(crate) struct Fail {
    status: Status,
    message: Option<String>,
}

impl Fail {
    /// Fails with `errno` and no message.
    #[inline]
    pub(crate) fn errno(errno: i32) -> Fail {
        Fail {
            status: errno,
            message: None,
        }
    }

    /// Fails with `errno` and keeps `message` for `aers_last_error`.
    #[cold]
    pub(crate) fn msg(errno: i32, message: impl Into<String>) -> Fail {
        Fail {
            status: errno,
            message: Some(message.into()),
        }
    }
}

impl From<io::Error> for Fail {
    #[inline]
    fn from(e: io::Error) -> Fail {
        Fail::errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

/// What an export's body returns.
pub(crate) type Outcome = Result<(), Fail>;

thread_local! {
    /// The message of the last failure that had one.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
    /// Set by the first caught panic: every export refuses work from then on.
    static POISONED: Cell<bool> = const { Cell::new(false) };
}

/// Keeps `message` in the last-error channel (for an answer that comes with a message).
pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|m| *m.borrow_mut() = message);
}

/// Keeps the caller's errno across a call into Rust: our own system calls (EAGAIN from a
/// drained socket, EBADF from epoll on a closed fd...) must not show up in Perl's `$!`.
struct ErrnoGuard(i32);

impl ErrnoGuard {
    #[inline]
    fn save() -> Self {
        // SAFETY: __errno_location returns this thread's errno slot, always valid to read.
        ErrnoGuard(unsafe { *libc::__errno_location() })
    }
}

impl Drop for ErrnoGuard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: as in save(); writing an int to this thread's errno slot is always allowed.
        unsafe { *libc::__errno_location() = self.0 };
    }
}

/// Runs an export's body: the one wrapper every `extern "C"` function of this crate goes
/// through. Returns `AERS_OK`, the failure's errno (keeping its message, if any), or
/// `AERS_PANICKED` for a panic (message kept, core poisoned) and for any call after one.
/// errno is left as the caller had it. Costs a thread-local load on the normal path.
#[inline]
pub(crate) fn call(body: impl FnOnce() -> Outcome) -> Status {
    if POISONED.get() {
        return refuse();
    }
    let _errno = ErrnoGuard::save();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => AERS_OK,
        Ok(Err(fail)) => failed(fail),
        Err(payload) => panicked(payload),
    }
}

#[inline]
fn failed(fail: Fail) -> Status {
    if let Some(message) = fail.message {
        set_last_error(message);
    }
    fail.status
}

#[cold]
#[inline(never)]
fn panicked(payload: Box<dyn std::any::Any + Send>) -> Status {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    POISONED.set(true);
    set_last_error(format!("internal error in the Rust core: {what}"));
    AERS_PANICKED
}

#[cold]
#[inline(never)]
fn refuse() -> Status {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        const NOTE: &str = "the Rust core refuses further work after an internal error";
        if !m.starts_with(NOTE) {
            *m = format!("{NOTE} ({m})");
        }
    });
    AERS_PANICKED
}

/// Whether a panic was caught on this thread (the core refuses work).
#[cfg(test)]
pub(crate) fn poisoned() -> bool {
    POISONED.get()
}

/// Quiets the default panic printout: the glue reports the message in its croak.
pub(crate) fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

/// Copies the last-error message into `buf` (`len` bytes), truncated and NUL-terminated.
///
/// # Safety
/// `buf` points at `len` writable bytes (or `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn aers_last_error(buf: *mut u8, len: usize) -> Status {
    // Not through `call`: the message must stay readable after a panic.
    if len == 0 {
        return AERS_OK;
    }
    LAST_ERROR.with(|m| {
        let m = m.borrow();
        let n = m.len().min(len - 1);
        // SAFETY: the caller's buffer holds len > n bytes; m holds n readable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(m.as_ptr(), buf, n);
            *buf.add(n) = 0;
        }
    });
    AERS_OK
}

/// Panics inside [`call`] with `what`, for the glue's test of the panic path
/// (`AnyEvent::Impl::Rust::_test_panic`); the core refuses work afterwards.
///
/// # Safety
/// `what` points at `len` readable bytes (or `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn aers_test_panic(what: *const u8, len: usize) -> Status {
    call(|| {
        // SAFETY: the caller's bytes, as documented.
        let what = unsafe { super::bytes(what, len) };
        panic!("{}", String::from_utf8_lossy(what))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut buf = [0u8; 256];
        assert_eq!(
            // SAFETY: buf holds 256 writable bytes.
            unsafe { aers_last_error(buf.as_mut_ptr(), buf.len()) },
            AERS_OK
        );
        let n = buf.iter().position(|&b| b == 0).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    // Each test runs on its own thread, so one test's poisoning does not leak into another.

    #[test]
    fn success_and_errno_statuses() {
        assert_eq!(call(|| Ok(())), AERS_OK);
        assert_eq!(call(|| Err(Fail::errno(libc::EAGAIN))), libc::EAGAIN);
        let io_err = || -> Outcome { Err(io::Error::from_raw_os_error(libc::EBADF).into()) };
        assert_eq!(call(io_err), libc::EBADF);
        assert!(!poisoned());
    }

    #[test]
    fn failure_message_goes_to_last_error() {
        assert_eq!(
            call(|| Err(Fail::msg(libc::EINVAL, "bad thing"))),
            libc::EINVAL
        );
        assert_eq!(last_error(), "bad thing");
        // a plain errno failure leaves the message alone
        assert_eq!(call(|| Err(Fail::errno(libc::EAGAIN))), libc::EAGAIN);
        assert_eq!(last_error(), "bad thing");
        assert!(!poisoned());
    }

    #[test]
    fn errno_is_preserved() {
        // SAFETY: this thread's errno slot.
        unsafe { *libc::__errno_location() = libc::ENOENT };
        let st = call(|| {
            // SAFETY: as above.
            unsafe { *libc::__errno_location() = libc::EAGAIN };
            Err(Fail::errno(libc::EAGAIN))
        });
        assert_eq!(st, libc::EAGAIN);
        // SAFETY: as above.
        assert_eq!(unsafe { *libc::__errno_location() }, libc::ENOENT);
    }

    #[test]
    fn panic_becomes_status_and_message_then_work_is_refused() {
        install_quiet_panic_hook();
        let msg = b"boom at the test";
        // SAFETY: msg holds its length in bytes.
        let st = unsafe { aers_test_panic(msg.as_ptr(), msg.len()) };
        assert_eq!(st, AERS_PANICKED);
        assert!(poisoned());
        assert_eq!(
            last_error(),
            "internal error in the Rust core: boom at the test"
        );
        // later work does not run
        let mut ran = false;
        assert_eq!(
            call(|| {
                ran = true;
                Ok(())
            }),
            AERS_PANICKED
        );
        assert!(!ran, "a poisoned core ran a body");
        let refused = last_error();
        assert!(
            refused.starts_with("the Rust core refuses further work after an internal error"),
            "{refused}"
        );
        assert!(refused.contains("boom at the test"), "{refused}");
        // the note is not stacked on every call
        assert_eq!(call(|| Ok(())), AERS_PANICKED);
        assert_eq!(last_error(), refused);
    }

    #[test]
    fn panic_with_string_payload_and_truncated_copy() {
        install_quiet_panic_hook();
        let n = 7;
        assert_eq!(call(|| panic!("formatted {n}")), AERS_PANICKED);
        let mut buf = [0xffu8; 10];
        // SAFETY: buf holds 10 writable bytes.
        assert_eq!(unsafe { aers_last_error(buf.as_mut_ptr(), 10) }, AERS_OK);
        assert_eq!(&buf, b"internal \0");
    }
}
