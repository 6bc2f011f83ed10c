//! The C ABI the XS glue calls. Every function catches panics: a panic becomes the status
//! `PANICKED` and its message is kept for `aers_panic_message`, so the glue can croak instead of
//! letting an unwind cross into Perl. Statuses: 0 success, a positive errno, or `PANICKED`.
//! Watcher keys cross the boundary as u64 (slotmap's FFI form).

use crate::event_loop::{wall_time, Loop};
use crate::Callback;
use slotmap::{Key, KeyData};
use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub const PANICKED: i32 = -1;

thread_local! {
    static PANIC_MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f`, turning a panic into `PANICKED` (message kept) and an io error into its errno.
fn guarded(f: impl FnOnce() -> std::io::Result<i32>) -> i32 {
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
fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

unsafe fn lp<'a>(p: *mut Loop) -> &'a mut Loop {
    // The glue passes the pointer from aers_loop_new; calls never nest (Rust never calls Perl),
    // so this is the only live reference.
    &mut *p
}

fn key_out<K: Key>(key: K, out: *mut u64) -> std::io::Result<i32> {
    unsafe { *out = key.data().as_ffi() };
    Ok(0)
}

fn key_in<K: Key>(key: u64) -> K {
    KeyData::from_ffi(key).into()
}

fn cb_out(cb: Option<Callback>, out: *mut Callback) -> std::io::Result<i32> {
    unsafe { *out = cb.unwrap_or(std::ptr::null_mut()) };
    Ok(0)
}

/// A ready callback, as `aers_next_ready` reports it.
#[repr(C)]
pub struct AersReady {
    pub cb: *mut c_void,
    /// 1 when the reference now belongs to the caller (it must release it after the call).
    pub owned: i32,
    /// 1 for child watchers: `pid` and `status` are the callback's arguments.
    pub is_child: i32,
    pub pid: i32,
    pub status: i32,
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
    PANIC_MESSAGE.with(|m| {
        let m = m.borrow();
        let n = m.len().min(len - 1);
        unsafe {
            std::ptr::copy_nonoverlapping(m.as_ptr(), buf, n);
            *buf.add(n) = 0;
        }
    })
}

#[no_mangle]
pub extern "C" fn aers_io_start(l: *mut Loop, fd: i32, poll: u8, cb: Callback, out: *mut u64) -> i32 {
    guarded(|| key_out(unsafe { lp(l) }.io.start(fd, poll, cb), out))
}

#[no_mangle]
pub extern "C" fn aers_io_stop(l: *mut Loop, key: u64, out: *mut Callback) -> i32 {
    guarded(|| cb_out(unsafe { lp(l) }.stop_io(key_in(key)), out))
}

#[no_mangle]
pub extern "C" fn aers_timer_start(l: *mut Loop, after: f64, interval: f64, cb: Callback, out: *mut u64) -> i32 {
    guarded(|| {
        let lp = unsafe { lp(l) };
        let at = lp.deadline(after);
        key_out(lp.timers.start(at, interval, cb), out)
    })
}

#[no_mangle]
pub extern "C" fn aers_timer_stop(l: *mut Loop, key: u64, out: *mut Callback) -> i32 {
    guarded(|| cb_out(unsafe { lp(l) }.timers.stop(key_in(key)), out))
}

#[no_mangle]
pub extern "C" fn aers_idle_start(l: *mut Loop, cb: Callback, out: *mut u64) -> i32 {
    guarded(|| key_out(unsafe { lp(l) }.start_idle(cb), out))
}

#[no_mangle]
pub extern "C" fn aers_idle_stop(l: *mut Loop, key: u64, out: *mut Callback) -> i32 {
    guarded(|| cb_out(unsafe { lp(l) }.stop_idle(key_in(key)), out))
}

#[no_mangle]
pub extern "C" fn aers_signal_start(l: *mut Loop, signum: i32, cb: Callback, out: *mut u64) -> i32 {
    guarded(|| key_out(unsafe { lp(l) }.signals.start(signum, cb)?, out))
}

#[no_mangle]
pub extern "C" fn aers_signal_stop(l: *mut Loop, key: u64, out: *mut Callback) -> i32 {
    guarded(|| cb_out(unsafe { lp(l) }.signals.stop(key_in(key)), out))
}

#[no_mangle]
pub extern "C" fn aers_child_start(l: *mut Loop, pid: i32, cb: Callback, out: *mut u64) -> i32 {
    guarded(|| key_out(unsafe { lp(l) }.start_child(pid, cb)?, out))
}

#[no_mangle]
pub extern "C" fn aers_child_stop(l: *mut Loop, key: u64, out: *mut Callback) -> i32 {
    guarded(|| cb_out(unsafe { lp(l) }.stop_child(key_in(key)), out))
}

/// Queues `cb` (whose reference the loop takes over) to run at the next iteration.
#[no_mangle]
pub extern "C" fn aers_postpone(l: *mut Loop, cb: Callback) -> i32 {
    guarded(|| {
        unsafe { lp(l) }.postpone(cb);
        Ok(0)
    })
}

/// One loop iteration (blocking unless `block` is 0); ready callbacks are then fetched with
/// `aers_next_ready`.
#[no_mangle]
pub extern "C" fn aers_poll(l: *mut Loop, block: i32) -> i32 {
    guarded(|| unsafe { lp(l) }.poll_once(block != 0).map(|_| 0))
}

/// Fills `out` with the next ready callback: returns 1, or 0 when none is left.
#[no_mangle]
pub extern "C" fn aers_next_ready(l: *mut Loop, out: *mut AersReady) -> i32 {
    guarded(|| {
        let Some(r) = unsafe { lp(l) }.next_ready() else { return Ok(0) };
        let (is_child, pid, status) = match r.child {
            Some((pid, status)) => (1, pid, status),
            None => (0, 0, 0),
        };
        unsafe { *out = AersReady { cb: r.cb, owned: r.owned as i32, is_child, pid, status } };
        Ok(1)
    })
}

/// Whether callbacks are queued (the glue runs them before polling again).
#[no_mangle]
pub extern "C" fn aers_has_pending(l: *mut Loop) -> i32 {
    guarded(|| Ok(unsafe { lp(l) }.has_pending() as i32))
}

#[no_mangle]
pub extern "C" fn aers_now(l: *mut Loop) -> f64 {
    unsafe { lp(l) }.now()
}

#[no_mangle]
pub extern "C" fn aers_now_update(l: *mut Loop) {
    unsafe { lp(l) }.update_now()
}

#[no_mangle]
pub extern "C" fn aers_time() -> f64 {
    wall_time()
}

#[no_mangle]
pub extern "C" fn aers_backend_fd(l: *mut Loop) -> i32 {
    unsafe { lp(l) }.backend_fd()
}

/// Seconds until the loop has work (0: now), or -1 when only an event can wake it.
#[no_mangle]
pub extern "C" fn aers_next_timeout(l: *mut Loop) -> f64 {
    unsafe { lp(l) }.next_timeout().unwrap_or(-1.0)
}
