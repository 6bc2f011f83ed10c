//! C ABI of the event loop and its watchers (rust/event_loop.rs and the watcher sets), for the
//! glue in AnyEvent.xs.
//!
//! Safety, for every function here: `l` is the loop from [`aers_loop_new`], used from the
//! thread that made it, and calls never nest (Rust never calls Perl), so the `&mut Loop` made
//! from it is the only live reference; every out-pointer points at a writable value of its
//! type.

use super::contract::{call, install_quiet_panic_hook, Status};
use super::{cb_or_null, hand_out, key_in, key_out};
use crate::dns::value::{FlatNode, Value};
use crate::event_loop::{wall_time, Loop};
use crate::Callback;

/// The loop behind the glue's pointer.
///
/// # Safety
/// As in the module documentation.
#[inline]
unsafe fn lp<'a>(p: *mut Loop) -> &'a mut Loop {
    // SAFETY: the pointer comes from aers_loop_new and no other reference is live.
    unsafe { &mut *p }
}

/// A ready callback, as [`aers_next_ready`] reports it.
#[repr(C)]
pub struct AersReady {
    /// The callback to call.
    pub cb: Callback,
    /// 1 when the reference now belongs to the caller (it must release it after the call).
    pub owned: i32,
    /// 1 for child watchers: `pid` and `status` are the callback's arguments.
    pub is_child: i32,
    /// The child's pid (child watchers).
    pub pid: i32,
    /// The child's wait status (child watchers).
    pub status: i32,
    /// Non-null for a finished DNS request: its arguments, a list node (valid until the next
    /// call).
    pub args: *const FlatNode,
    /// 1: not to be called; the caller only releases the reference (which it owns).
    pub release: i32,
}

/// Creates the loop in `*out`.
///
/// # Safety
/// `out` points at a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn aers_loop_new(out: *mut *mut Loop) -> Status {
    install_quiet_panic_hook();
    call(|| {
        let lp = Box::new(Loop::new()?);
        // SAFETY: out is writable (the caller's guarantee).
        unsafe { *out = Box::into_raw(lp) };
        Ok(())
    })
}

/// Watches `fd` for reading (`poll` 1) or writing (2); the watcher's key goes to `*key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_io_start(
    l: *mut Loop,
    fd: i32,
    poll: u8,
    cb: Callback,
    key: *mut u64,
) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, key writable).
        unsafe { key.write(key_out(lp(l).io.start(fd, poll, cb))) };
        Ok(())
    })
}

/// Stops an io watcher; its callback (to release) goes to `*cb`, null when it was gone.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_io_stop(l: *mut Loop, key: u64, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, cb writable).
        unsafe { cb.write(cb_or_null(lp(l).stop_io(key_in(key)))) };
        Ok(())
    })
}

/// Starts a timer `after` seconds from the loop time, repeating every `interval` seconds
/// unless it is 0; the key goes to `*key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_timer_start(
    l: *mut Loop,
    after: f64,
    interval: f64,
    cb: Callback,
    key: *mut u64,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let lp = unsafe { lp(l) };
        let at = lp.deadline(after);
        // SAFETY: key is writable (the module's contract).
        unsafe { key.write(key_out(lp.timers.start(at, interval, cb))) };
        Ok(())
    })
}

/// Stops a timer; its callback goes to `*cb` (null when it was gone).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_timer_stop(l: *mut Loop, key: u64, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, cb writable).
        unsafe { cb.write(cb_or_null(lp(l).timers.stop(key_in(key)))) };
        Ok(())
    })
}

/// Starts an idle watcher; the key goes to `*key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_idle_start(l: *mut Loop, cb: Callback, key: *mut u64) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, key writable).
        unsafe { key.write(key_out(lp(l).start_idle(cb))) };
        Ok(())
    })
}

/// Stops an idle watcher; its callback goes to `*cb` (null when it was gone).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_idle_stop(l: *mut Loop, key: u64, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, cb writable).
        unsafe { cb.write(cb_or_null(lp(l).stop_idle(key_in(key)))) };
        Ok(())
    })
}

/// Watches signal `signum` (EINVAL: it cannot be caught); the key goes to `*key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_signal_start(
    l: *mut Loop,
    signum: i32,
    cb: Callback,
    key: *mut u64,
) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, key writable).
        unsafe { key.write(key_out(lp(l).signals.start(signum, cb)?)) };
        Ok(())
    })
}

/// Stops a signal watcher; its callback goes to `*cb` (null when it was gone).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_signal_stop(l: *mut Loop, key: u64, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, cb writable).
        unsafe { cb.write(cb_or_null(lp(l).signals.stop(key_in(key)))) };
        Ok(())
    })
}

/// Watches child `pid` (0: any child); the key goes to `*key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_child_start(
    l: *mut Loop,
    pid: i32,
    cb: Callback,
    key: *mut u64,
) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, key writable).
        unsafe { key.write(key_out(lp(l).start_child(pid, cb)?)) };
        Ok(())
    })
}

/// Stops a child watcher; its callback goes to `*cb` (null when it was gone).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_child_stop(l: *mut Loop, key: u64, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract (l is the loop, cb writable).
        unsafe { cb.write(cb_or_null(lp(l).stop_child(key_in(key)))) };
        Ok(())
    })
}

/// A foreign loop reaps `pid` itself (`on` 1) or no longer (0): watchers for any child leave
/// it alone. `pid` 0 names no pid. Either way SIGCHLD is shared with that loop from now on, and
/// the loop reaps at its next iteration.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_child_foreign(l: *mut Loop, pid: i32, on: bool) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.child_foreign(pid, on)?;
        Ok(())
    })
}

/// Queues `cb` (whose reference the loop takes over) to run at the next iteration.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_postpone(l: *mut Loop, cb: Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.postpone(cb);
        Ok(())
    })
}

/// One loop iteration (blocking unless `block` is 0); ready callbacks are then fetched with
/// [`aers_next_ready`].
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_poll(l: *mut Loop, block: i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.poll_once(block != 0)?;
        Ok(())
    })
}

/// Takes the next ready callback: `*found` is true and `*out` filled, or `*found` is false
/// when none is left.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_next_ready(
    l: *mut Loop,
    out: *mut AersReady,
    found: *mut bool,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let Some(r) = unsafe { lp(l) }.next_ready() else {
            // SAFETY: found is writable (the module's contract).
            unsafe { found.write(false) };
            return Ok(());
        };
        let (is_child, pid, status) = match r.child {
            Some((pid, status)) => (1, pid, status),
            None => (0, 0, 0),
        };
        let mut args: *const FlatNode = std::ptr::null();
        if let Some(values) = r.args {
            let mut count = 0;
            // SAFETY: two locals, writable.
            unsafe { hand_out(Value::List(values), &mut args, &mut count) };
        }
        // SAFETY: out and found are writable (the module's contract).
        unsafe {
            out.write(AersReady {
                cb: r.cb,
                owned: r.owned as i32,
                is_child,
                pid,
                status,
                args,
                release: r.release as i32,
            });
            found.write(true);
        }
        Ok(())
    })
}

/// The loop time (`AnyEvent->now`) in `*now`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_now(l: *mut Loop, now: *mut f64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { now.write(lp(l).now()) };
        Ok(())
    })
}

/// Tells the loop whether another event loop runs it as one of its sources (`on`): the loop
/// time then follows the current time outside our own callbacks.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_set_embedded(l: *mut Loop, on: bool) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.set_embedded(on);
        Ok(())
    })
}

/// Sets the loop time to the current time (`AnyEvent->now_update`).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_now_update(l: *mut Loop) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.update_now();
        Ok(())
    })
}

/// The wall-clock time (`AnyEvent->time`) in `*now`.
///
/// # Safety
/// `now` points at a writable double.
#[no_mangle]
pub unsafe extern "C" fn aers_time(now: *mut f64) -> Status {
    call(|| {
        // SAFETY: the caller's guarantee.
        unsafe { *now = wall_time() };
        Ok(())
    })
}

/// The loop's epoll descriptor in `*fd`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_backend_fd(l: *mut Loop, fd: *mut i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { fd.write(lp(l).backend_fd()) };
        Ok(())
    })
}

/// Seconds until the loop has work in `*secs` (0: now), or a negative value when only an
/// event can wake it.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_next_timeout(l: *mut Loop, secs: *mut f64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { secs.write(lp(l).next_timeout().unwrap_or(-1.0)) };
        Ok(())
    })
}

/// Whether the loop has watchers, scheduled timers or queued callbacks, in `*active`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_is_active(l: *mut Loop, active: *mut bool) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { active.write(lp(l).is_active()) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::contract::{aers_last_error, aers_test_panic};
    use crate::ffi::{AERS_OK, AERS_PANICKED};

    fn last_error() -> String {
        let mut buf = [0u8; 512];
        assert_eq!(
            // SAFETY: buf holds 512 writable bytes.
            unsafe { aers_last_error(buf.as_mut_ptr(), buf.len()) },
            AERS_OK
        );
        let n = buf.iter().position(|&b| b == 0).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    /// The loop through the C ABI, as the glue uses it: a timer fires; after a panic (on this
    /// thread: each test has its own) the loop refuses every call and leaves the out-values
    /// alone.
    #[test]
    fn loop_refuses_work_after_a_panic() {
        let _guard = crate::PROCESS_STATE
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut l: *mut Loop = std::ptr::null_mut();
        // SAFETY: every pointer below is a local of the right type; l is the loop made here.
        unsafe {
            assert_eq!(aers_loop_new(&mut l), AERS_OK);
            let cb = 0x1234usize as Callback;
            let mut key = 0u64;
            assert_eq!(aers_timer_start(l, 0.0, 0.0, cb, &mut key), AERS_OK);
            assert_eq!(aers_poll(l, 0), AERS_OK);
            let mut ready = std::mem::zeroed::<AersReady>();
            let mut found = false;
            assert_eq!(aers_next_ready(l, &mut ready, &mut found), AERS_OK);
            assert!(found);
            assert_eq!(ready.cb, cb);
            assert_eq!(aers_next_ready(l, &mut ready, &mut found), AERS_OK);
            assert!(!found);

            let msg = b"broken invariant";
            assert_eq!(aers_test_panic(msg.as_ptr(), msg.len()), AERS_PANICKED);
            assert_eq!(
                last_error(),
                "internal error in the Rust core: broken invariant"
            );

            let mut key2 = 77u64;
            assert_eq!(aers_timer_start(l, 0.0, 0.0, cb, &mut key2), AERS_PANICKED);
            assert_eq!(key2, 77, "a refused call wrote its out-parameter");
            assert_eq!(aers_poll(l, 0), AERS_PANICKED);
            let mut now = -5.0;
            assert_eq!(aers_now(l, &mut now), AERS_PANICKED);
            assert_eq!(now, -5.0);
            found = true;
            assert_eq!(aers_next_ready(l, &mut ready, &mut found), AERS_PANICKED);
            assert!(found, "a refused call wrote its out-parameter");
            let refused = last_error();
            assert!(
                refused.starts_with("the Rust core refuses further work")
                    && refused.ends_with("(internal error in the Rust core: broken invariant)"),
                "{refused}"
            );
            // The loop is not freed (the glue never frees it either): it may be broken.
        }
    }
}
