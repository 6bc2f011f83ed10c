//! C ABI of the file I/O pool (rust/fileio.rs), for AnyEvent::IO::Rust's glue (xs/fileio.*).
//!
//! The glue turns each `aio_*` call into an [`AersFioReq`] (Perl strings as pointer and length,
//! handles as their descriptors) and, when the wake-up descriptor is readable, takes the
//! results one by one as [`AersFioDone`]s, whose data stays valid until the next call.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use super::{bytes, guarded};
use crate::fileio::{path, take_string, Delivery, Op, Output, Pool, Target};
use crate::Callback;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

/// Request kinds (the `AERS_FIO_*` numbers of xs/fileio.h).
pub(crate) mod kind {
    pub const LOAD: u32 = 0;
    pub const OPEN: u32 = 1;
    pub const CLOSE: u32 = 2;
    pub const READ: u32 = 3;
    pub const WRITE: u32 = 4;
    pub const SEEK: u32 = 5;
    pub const TRUNCATE: u32 = 6;
    pub const UTIME: u32 = 7;
    pub const CHOWN: u32 = 8;
    pub const CHMOD: u32 = 9;
    pub const STAT: u32 = 10;
    pub const LSTAT: u32 = 11;
    pub const LINK: u32 = 12;
    pub const SYMLINK: u32 = 13;
    pub const READLINK: u32 = 14;
    pub const RENAME: u32 = 15;
    pub const UNLINK: u32 = 16;
    pub const MKDIR: u32 = 17;
    pub const RMDIR: u32 = 18;
    pub const READDIR: u32 = 19;
}

/// One request. Which fields count depends on `op`:
/// - `use_fd` 1: the target is the Perl handle's descriptor `fd` (-1 when the handle is not
///   open), duplicated for the request; 0: the target is `path`. For CLOSE, `fd` is a
///   descriptor from `aers_fio_dup` that the pool takes over, and `a` an errno value the glue
///   met closing the Perl handle (0: none).
/// - `path`, `path2`: paths (old and new for link, symlink, rename); `data`: bytes to write.
/// - `a`, `b`: open flags and mode; read length; seek offset and whence; truncate length;
///   chown uid and gid (-1: unchanged); chmod and mkdir mode.
/// - `now` 1: utime to the current time, else to `t1` (access) and `t2` (modification).
#[repr(C)]
pub struct AersFioReq {
    pub op: u32,
    pub use_fd: i32,
    pub fd: i32,
    pub path: *const u8,
    pub path_len: usize,
    pub path2: *const u8,
    pub path2_len: usize,
    pub data: *const u8,
    pub data_len: usize,
    pub a: i64,
    pub b: i64,
    pub t1: f64,
    pub t2: f64,
    pub now: i32,
}

/// One result: `err` 0 and the output (by kind: `value` for write, seek and open, whose
/// descriptor now belongs to the glue, with its open flags in `aux`; `data`/`len` for load,
/// read and readlink; `count` NUL-terminated names in `data` for readdir; `stat` for stat and
/// lstat), or the errno value in `err`.
#[repr(C)]
pub struct AersFioDone {
    pub cb: Callback,
    pub op: u32,
    pub err: i32,
    pub value: i64,
    pub aux: i64,
    pub data: *const u8,
    pub len: usize,
    pub count: usize,
    pub stat: *const libc::stat,
}

pub struct FioHandle {
    pool: Pool,
    /// The output handed out last, alive while the glue copies it.
    current: Option<Output>,
}

#[no_mangle]
pub extern "C" fn aers_fio_new(max_threads: u32, out: *mut *mut FioHandle) -> i32 {
    guarded(|| {
        let handle = Box::new(FioHandle {
            pool: Pool::new(max_threads as usize)?,
            current: None,
        });
        // SAFETY: `out` is the glue's pointer to fill.
        unsafe { *out = Box::into_raw(handle) };
        Ok(0)
    })
}

unsafe fn h<'a>(p: *mut FioHandle) -> &'a mut FioHandle {
    // The glue passes the pointer from aers_fio_new, from the loop's thread only.
    &mut *p
}

/// Duplicates a handle's descriptor (for CLOSE: the glue closes the Perl handle, the pool the
/// duplicate, whose close is the one that may block).
#[no_mangle]
pub extern "C" fn aers_fio_dup(fd: i32, out: *mut i32) -> i32 {
    guarded(|| match Pool::dup(fd) {
        Ok(new) => {
            // SAFETY: `out` is the glue's int to fill.
            unsafe { *out = new.into_raw_fd() };
            Ok(0)
        }
        Err(e) => Ok(e),
    })
}

fn target(r: &AersFioReq) -> Result<Target, i32> {
    if r.use_fd != 0 {
        Pool::dup(r.fd).map(Target::Fd)
    } else {
        // SAFETY: the glue passes a Perl string's buffer and length.
        path(unsafe { bytes(r.path, r.path_len) }).map(Target::Path)
    }
}

fn fd(r: &AersFioReq) -> Result<OwnedFd, i32> {
    Pool::dup(r.fd)
}

/// The operation a request describes, or the errno it fails with before it starts.
fn op_of(r: &AersFioReq) -> Result<Op, i32> {
    // SAFETY: the glue passes Perl strings' buffers and lengths.
    let p1 = || path(unsafe { bytes(r.path, r.path_len) });
    let p2 = || path(unsafe { bytes(r.path2, r.path2_len) });
    let id = |v: i64| if v < 0 { u32::MAX } else { v as u32 };
    Ok(match r.op {
        kind::LOAD => Op::Load(p1()?),
        kind::OPEN => Op::Open(p1()?, r.a as i32, r.b as u32),
        kind::CLOSE => {
            // SAFETY: for CLOSE the glue hands over a descriptor from aers_fio_dup.
            if r.fd < 0 {
                return Err(if r.a != 0 { r.a as i32 } else { libc::EBADF });
            }
            let fd = unsafe { OwnedFd::from_raw_fd(r.fd) };
            Op::Close(fd, r.a as i32)
        }
        kind::READ => {
            if r.a < 0 {
                return Err(libc::EINVAL);
            }
            Op::Read(fd(r)?, r.a as usize)
        }
        // SAFETY: the glue passes the Perl string's buffer and length.
        kind::WRITE => Op::Write(fd(r)?, unsafe { bytes(r.data, r.data_len) }.to_vec()),
        kind::SEEK => Op::Seek(fd(r)?, r.a, r.b as i32),
        kind::TRUNCATE => Op::Truncate(target(r)?, r.a),
        kind::UTIME => Op::Utime(
            target(r)?,
            if r.now != 0 { None } else { Some((r.t1, r.t2)) },
        ),
        kind::CHOWN => Op::Chown(target(r)?, id(r.a), id(r.b)),
        kind::CHMOD => Op::Chmod(target(r)?, r.a as u32),
        kind::STAT => Op::Stat(target(r)?),
        kind::LSTAT => Op::Lstat(target(r)?),
        kind::LINK => Op::Link(p1()?, p2()?),
        kind::SYMLINK => Op::Symlink(p1()?, p2()?),
        kind::READLINK => Op::Readlink(p1()?),
        kind::RENAME => Op::Rename(p1()?, p2()?),
        kind::UNLINK => Op::Unlink(p1()?),
        kind::MKDIR => Op::Mkdir(p1()?, r.a as u32),
        kind::RMDIR => Op::Rmdir(p1()?),
        kind::READDIR => Op::Readdir(p1()?),
        _ => return Err(libc::EINVAL),
    })
}

/// Queues a request whose result goes to `cb`. A request that cannot start (bad path or
/// handle) fails through the callback like any other. `watch_fd` is set to the wake-up
/// descriptor when the glue has to start watching it (first request, first after a fork),
/// else to -1.
#[no_mangle]
pub extern "C" fn aers_fio_submit(
    p: *mut FioHandle,
    r: *const AersFioReq,
    cb: Callback,
    watch_fd: *mut i32,
) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle and request.
        let (handle, r) = unsafe { (h(p), &*r) };
        let aux = if r.op == kind::OPEN { r.a } else { 0 };
        handle.pool.submit(op_of(r), r.op, aux, cb)?;
        // SAFETY: the glue's int to fill.
        unsafe { *watch_fd = handle.pool.watch_request().unwrap_or(-1) };
        Ok(0)
    })
}

/// The glue watches the wake-up descriptor `aers_fio_submit` or `aers_fio_collect` asked it
/// to watch.
#[no_mangle]
pub extern "C" fn aers_fio_watched(p: *mut FioHandle) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle.
        unsafe { h(p) }.pool.watched();
        Ok(0)
    })
}

/// Takes the results finished so far (called once when the wake-up descriptor is readable;
/// results finished later wait for the next wake-up, so the loop gets its turn). `watch_fd`:
/// as for `aers_fio_submit` (in a child after fork, the old descriptor may be what woke us).
#[no_mangle]
pub extern "C" fn aers_fio_collect(p: *mut FioHandle, watch_fd: *mut i32) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle and int to fill.
        let handle = unsafe { h(p) };
        handle.pool.collect()?;
        unsafe { *watch_fd = handle.pool.watch_request().unwrap_or(-1) };
        Ok(0)
    })
}

/// The next collected result (1), or none left (0).
#[no_mangle]
pub extern "C" fn aers_fio_next(p: *mut FioHandle, out: *mut AersFioDone) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle and result to fill.
        let (handle, out) = unsafe { (h(p), &mut *out) };
        handle.current = None;
        let Some(Delivery {
            cb,
            op,
            aux,
            outcome,
        }) = handle.pool.next()
        else {
            return Ok(0);
        };
        *out = AersFioDone {
            cb,
            op,
            err: 0,
            value: 0,
            aux,
            data: std::ptr::null(),
            len: 0,
            count: 0,
            stat: std::ptr::null(),
        };
        match outcome {
            Err(e) => out.err = e,
            Ok(output) => {
                match &output {
                    Output::Done => {}
                    Output::Number(n) => out.value = *n,
                    Output::Bytes(b) => (out.data, out.len) = (b.as_ptr(), b.len()),
                    Output::Names(b, n) => {
                        (out.data, out.len, out.count) = (b.as_ptr(), b.len(), *n)
                    }
                    Output::Stat(st) => out.stat = &**st,
                    Output::Opened(_) => {}
                }
                if let Output::Opened(fd) = output {
                    out.value = fd.into_raw_fd() as i64;
                } else {
                    handle.current = Some(output);
                }
            }
        }
        Ok(1)
    })
}

/// Hands the bytes of the result `aers_fio_next` gave last (load, read) over to the glue: `ptr`
/// is a NUL-terminated `malloc` block of `len` bytes (plus the NUL; `cap` bytes in all) that is
/// now the glue's, or null when the glue must copy `data` instead.
#[no_mangle]
pub extern "C" fn aers_fio_take_bytes(
    p: *mut FioHandle,
    ptr: *mut *mut u8,
    len: *mut usize,
    cap: *mut usize,
) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle and values to fill.
        let (handle, ptr, len, cap) = unsafe { (h(p), &mut *ptr, &mut *len, &mut *cap) };
        *ptr = std::ptr::null_mut();
        if let Some(Output::Bytes(buf)) = handle.current.take() {
            match take_string(buf) {
                Ok((p, n, c)) => (*ptr, *len, *cap) = (p, n, c),
                Err(buf) => handle.current = Some(Output::Bytes(buf)),
            }
        }
        Ok(0)
    })
}

/// Gives back a block `aers_fio_take_bytes` handed over (its `ptr` and `cap`), which its Perl
/// string no longer uses: the next load or read reuses it.
#[no_mangle]
pub extern "C" fn aers_fio_recycle(p: *mut FioHandle, ptr: *mut u8, cap: usize) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle; the glue gives back only blocks it took, once, unused.
        unsafe { h(p).pool.recycle(ptr, cap) };
        Ok(0)
    })
}

/// Ends a delivery that `aers_fio_collect` began (also when a callback died): wakes the
/// workers for the requests made meanwhile, and the loop again if collected results are still
/// undelivered.
#[no_mangle]
pub extern "C" fn aers_fio_delivered(p: *mut FioHandle) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle.
        unsafe { h(p) }.pool.delivered();
        Ok(0)
    })
}

/// The number of requests whose callbacks have not been called yet.
#[no_mangle]
pub extern "C" fn aers_fio_outstanding(p: *mut FioHandle, out: *mut u64) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle and number to fill.
        let n = unsafe { h(p) }.pool.outstanding()?;
        unsafe { *out = n as u64 };
        Ok(0)
    })
}

/// Waits up to `timeout` seconds (negative: without limit) for results; `ready` is set to 1
/// when there are some, 0 when the time ran out (or a signal came).
#[no_mangle]
pub extern "C" fn aers_fio_wait(p: *mut FioHandle, timeout: f64, ready: *mut i32) -> i32 {
    guarded(|| {
        // SAFETY: the glue's handle and int to fill.
        let r = unsafe { h(p) }.pool.wait(timeout)?;
        unsafe { *ready = r as i32 };
        Ok(0)
    })
}
