//! C ABI of the event loop and its watchers.

use super::{cb_out, guarded, key_in, key_out, lp};
use crate::event_loop::{wall_time, Loop};
use crate::Callback;
use std::ffi::c_void;

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

#[no_mangle]
pub extern "C" fn aers_io_start(
    l: *mut Loop,
    fd: i32,
    poll: u8,
    cb: Callback,
    out: *mut u64,
) -> i32 {
    guarded(|| key_out(unsafe { lp(l) }.io.start(fd, poll, cb), out))
}

#[no_mangle]
pub extern "C" fn aers_io_stop(l: *mut Loop, key: u64, out: *mut Callback) -> i32 {
    guarded(|| cb_out(unsafe { lp(l) }.stop_io(key_in(key)), out))
}

#[no_mangle]
pub extern "C" fn aers_timer_start(
    l: *mut Loop,
    after: f64,
    interval: f64,
    cb: Callback,
    out: *mut u64,
) -> i32 {
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
        let Some(r) = unsafe { lp(l) }.next_ready() else {
            return Ok(0);
        };
        let (is_child, pid, status) = match r.child {
            Some((pid, status)) => (1, pid, status),
            None => (0, 0, 0),
        };
        unsafe {
            *out = AersReady {
                cb: r.cb,
                owned: r.owned as i32,
                is_child,
                pid,
                status,
            }
        };
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

/// 1 when the loop has watchers, scheduled timers or queued callbacks, 0 when it is empty.
#[no_mangle]
pub extern "C" fn aers_is_active(l: *mut Loop) -> i32 {
    guarded(|| Ok(unsafe { lp(l) }.is_active() as i32))
}
