//! C ABI of the file I/O pool (rust/fileio.rs), for AnyEvent::IO::Rust's glue (xs/fileio.*).
//!
//! The glue turns each `aio_*` call into an [`AersFioReq`] (Perl strings as pointer and length,
//! handles as their descriptors) and, when the wake-up descriptor is readable, takes the
//! results one by one as [`AersFioDone`]s, whose data stays valid until the next call.
//!
//! Safety, for every function here: `p` is the handle from [`aers_fio_new`], used from the
//! loop's thread, one call at a time; a request's pointer/length pairs point at that many
//! readable bytes; every out-pointer points at a writable value of its type.

use super::bytes;
use super::contract::{call, Fail, Status};
use crate::fileio::{path, take_string, Delivery, Op, Output, Pool, Target};
use crate::Callback;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

// Request kinds (`AersFioReq::op`).
/// Request kind: aio_load.
pub const AERS_FIO_LOAD: u32 = 0;
/// Request kind: aio_open.
pub const AERS_FIO_OPEN: u32 = 1;
/// Request kind: aio_close.
pub const AERS_FIO_CLOSE: u32 = 2;
/// Request kind: aio_read.
pub const AERS_FIO_READ: u32 = 3;
/// Request kind: aio_write.
pub const AERS_FIO_WRITE: u32 = 4;
/// Request kind: aio_seek.
pub const AERS_FIO_SEEK: u32 = 5;
/// Request kind: aio_truncate.
pub const AERS_FIO_TRUNCATE: u32 = 6;
/// Request kind: aio_utime.
pub const AERS_FIO_UTIME: u32 = 7;
/// Request kind: aio_chown.
pub const AERS_FIO_CHOWN: u32 = 8;
/// Request kind: aio_chmod.
pub const AERS_FIO_CHMOD: u32 = 9;
/// Request kind: aio_stat.
pub const AERS_FIO_STAT: u32 = 10;
/// Request kind: aio_lstat.
pub const AERS_FIO_LSTAT: u32 = 11;
/// Request kind: aio_link.
pub const AERS_FIO_LINK: u32 = 12;
/// Request kind: aio_symlink.
pub const AERS_FIO_SYMLINK: u32 = 13;
/// Request kind: aio_readlink.
pub const AERS_FIO_READLINK: u32 = 14;
/// Request kind: aio_rename.
pub const AERS_FIO_RENAME: u32 = 15;
/// Request kind: aio_unlink.
pub const AERS_FIO_UNLINK: u32 = 16;
/// Request kind: aio_mkdir.
pub const AERS_FIO_MKDIR: u32 = 17;
/// Request kind: aio_rmdir.
pub const AERS_FIO_RMDIR: u32 = 18;
/// Request kind: aio_readdir.
pub const AERS_FIO_READDIR: u32 = 19;

/// One request, for [`aers_fio_submit`]. Which fields count depends on `op`:
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
    /// The request kind (`AERS_FIO_*`).
    pub op: u32,
    /// 1: the target is `fd`; 0: it is `path`.
    pub use_fd: i32,
    /// The Perl handle's descriptor (-1: not open); for CLOSE, a descriptor to take over.
    pub fd: i32,
    /// The path.
    pub path: *const u8,
    /// Its length.
    pub path_len: usize,
    /// The second path (link, symlink, rename).
    pub path2: *const u8,
    /// Its length.
    pub path2_len: usize,
    /// Bytes to write.
    pub data: *const u8,
    /// Their length.
    pub data_len: usize,
    /// First number (see above).
    pub a: i64,
    /// Second number (see above).
    pub b: i64,
    /// utime: the access time.
    pub t1: f64,
    /// utime: the modification time.
    pub t2: f64,
    /// utime: 1 for the current time.
    pub now: i32,
}

/// One result: `err` 0 and the output (by kind: `value` for write, seek and open, whose
/// descriptor now belongs to the glue, with its open flags in `aux`; `data`/`len` for load,
/// read and readlink; `count` NUL-terminated names in `data` for readdir; `stat` for stat and
/// lstat), or the errno value in `err`.
#[repr(C)]
pub struct AersFioDone {
    /// The request's callback (its reference passes to the glue).
    pub cb: Callback,
    /// The request kind.
    pub op: u32,
    /// 0, or the errno value the request failed with.
    pub err: i32,
    /// The number (write, seek) or descriptor (open).
    pub value: i64,
    /// open: the open flags.
    pub aux: i64,
    /// The bytes (load, read, readlink; names for readdir).
    pub data: *const u8,
    /// Their length.
    pub len: usize,
    /// readdir: how many names.
    pub count: usize,
    /// stat, lstat: the stat buffer.
    pub stat: *const libc::stat,
}

/// The worker pool and the result being handed out.
pub struct FioHandle {
    pool: Pool,
    /// The output handed out last, alive while the glue copies it.
    current: Option<Output>,
}

/// A new pool of at most `max_threads` workers in `*out`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_new(max_threads: u32, out: *mut *mut FioHandle) -> Status {
    call(|| {
        let handle = Box::new(FioHandle {
            pool: Pool::new(max_threads as usize)?,
            current: None,
        });
        // SAFETY: the module's contract.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// The handle behind the glue's pointer.
///
/// # Safety
/// As in the module documentation.
unsafe fn h<'a>(p: *mut FioHandle) -> &'a mut FioHandle {
    // SAFETY: the glue passes the pointer from aers_fio_new, from the loop's thread only.
    unsafe { &mut *p }
}

/// Duplicates a handle's descriptor into `*out` (for CLOSE: the glue closes the Perl handle,
/// the pool the duplicate, whose close is the one that may block).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_dup(fd: i32, out: *mut i32) -> Status {
    call(|| {
        let new = Pool::dup(fd).map_err(Fail::errno)?;
        // SAFETY: the module's contract.
        unsafe { out.write(new.into_raw_fd()) };
        Ok(())
    })
}

/// The target of a request that takes a handle or a path.
///
/// # Safety
/// `r.path` points at `r.path_len` readable bytes.
unsafe fn target(r: &AersFioReq) -> Result<Target, i32> {
    if r.use_fd != 0 {
        Pool::dup(r.fd).map(Target::Fd)
    } else {
        // SAFETY: the caller's guarantee.
        path(unsafe { bytes(r.path, r.path_len) }).map(Target::Path)
    }
}

fn fd(r: &AersFioReq) -> Result<OwnedFd, i32> {
    Pool::dup(r.fd)
}

/// The operation a request describes, or the errno it fails with before it starts.
///
/// # Safety
/// The request's pointer/length pairs point at that many readable bytes; for CLOSE, `r.fd` is
/// a descriptor from `aers_fio_dup` that nothing else owns.
unsafe fn op_of(r: &AersFioReq) -> Result<Op, i32> {
    // SAFETY: the caller's guarantee (the request's paths).
    let p1 = || path(unsafe { bytes(r.path, r.path_len) });
    // SAFETY: as above.
    let p2 = || path(unsafe { bytes(r.path2, r.path2_len) });
    // SAFETY: as above.
    let target = || unsafe { target(r) };
    let id = |v: i64| if v < 0 { u32::MAX } else { v as u32 };
    Ok(match r.op {
        AERS_FIO_LOAD => Op::Load(p1()?),
        AERS_FIO_OPEN => Op::Open(p1()?, r.a as i32, r.b as u32),
        AERS_FIO_CLOSE => {
            if r.fd < 0 {
                return Err(if r.a != 0 { r.a as i32 } else { libc::EBADF });
            }
            // SAFETY: for CLOSE the glue hands over a descriptor from aers_fio_dup (the
            // caller's guarantee).
            let fd = unsafe { OwnedFd::from_raw_fd(r.fd) };
            Op::Close(fd, r.a as i32)
        }
        AERS_FIO_READ => {
            if r.a < 0 {
                return Err(libc::EINVAL);
            }
            Op::Read(fd(r)?, r.a as usize)
        }
        AERS_FIO_WRITE => {
            // SAFETY: the caller's guarantee (the request's data).
            let data = unsafe { bytes(r.data, r.data_len) };
            Op::Write(fd(r)?, data.to_vec())
        }
        AERS_FIO_SEEK => Op::Seek(fd(r)?, r.a, r.b as i32),
        AERS_FIO_TRUNCATE => Op::Truncate(target()?, r.a),
        AERS_FIO_UTIME => Op::Utime(
            target()?,
            if r.now != 0 { None } else { Some((r.t1, r.t2)) },
        ),
        AERS_FIO_CHOWN => Op::Chown(target()?, id(r.a), id(r.b)),
        AERS_FIO_CHMOD => Op::Chmod(target()?, r.a as u32),
        AERS_FIO_STAT => Op::Stat(target()?),
        AERS_FIO_LSTAT => Op::Lstat(target()?),
        AERS_FIO_LINK => Op::Link(p1()?, p2()?),
        AERS_FIO_SYMLINK => Op::Symlink(p1()?, p2()?),
        AERS_FIO_READLINK => Op::Readlink(p1()?),
        AERS_FIO_RENAME => Op::Rename(p1()?, p2()?),
        AERS_FIO_UNLINK => Op::Unlink(p1()?),
        AERS_FIO_MKDIR => Op::Mkdir(p1()?, r.a as u32),
        AERS_FIO_RMDIR => Op::Rmdir(p1()?),
        AERS_FIO_READDIR => Op::Readdir(p1()?),
        _ => return Err(libc::EINVAL),
    })
}

/// Queues a request whose result goes to `cb`. A request that cannot start (bad path or
/// handle) fails through the callback like any other. `*watch_fd` is set to the wake-up
/// descriptor when the glue has to start watching it (first request, first after a fork),
/// else to -1.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_submit(
    p: *mut FioHandle,
    r: *const AersFioReq,
    cb: Callback,
    watch_fd: *mut i32,
) -> Status {
    call(|| {
        // SAFETY: the module's contract (the handle and the request).
        let (handle, r) = unsafe { (h(p), &*r) };
        let aux = if r.op == AERS_FIO_OPEN { r.a } else { 0 };
        // SAFETY: the module's contract (the request's buffers).
        let op = unsafe { op_of(r) };
        handle.pool.submit(op, r.op, aux, cb)?;
        // SAFETY: the module's contract.
        unsafe { watch_fd.write(handle.pool.watch_request().unwrap_or(-1)) };
        Ok(())
    })
}

/// The glue watches the wake-up descriptor `aers_fio_submit` or `aers_fio_collect` asked it
/// to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_watched(p: *mut FioHandle) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { h(p) }.pool.watched();
        Ok(())
    })
}

/// Takes the results finished so far (called once when the wake-up descriptor is readable;
/// results finished later wait for the next wake-up, so the loop gets its turn). `*watch_fd`:
/// as for `aers_fio_submit` (in a child after fork, the old descriptor may be what woke us).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_collect(p: *mut FioHandle, watch_fd: *mut i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let handle = unsafe { h(p) };
        handle.pool.collect()?;
        // SAFETY: the module's contract.
        unsafe { watch_fd.write(handle.pool.watch_request().unwrap_or(-1)) };
        Ok(())
    })
}

/// The next collected result: `*found` is true and `*out` filled, or `*found` is false when
/// none is left. The result's data stays valid until the next call.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_next(
    p: *mut FioHandle,
    out: *mut AersFioDone,
    found: *mut bool,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let handle = unsafe { h(p) };
        handle.current = None;
        let Some(Delivery {
            cb,
            op,
            aux,
            outcome,
        }) = handle.pool.next()
        else {
            // SAFETY: the module's contract.
            unsafe { found.write(false) };
            return Ok(());
        };
        let mut done = AersFioDone {
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
            Err(e) => done.err = e,
            Ok(output) => {
                match &output {
                    Output::Done => {}
                    Output::Number(n) => done.value = *n,
                    Output::Bytes(b) => (done.data, done.len) = (b.as_ptr(), b.len()),
                    Output::Names(b, n) => {
                        (done.data, done.len, done.count) = (b.as_ptr(), b.len(), *n)
                    }
                    Output::Stat(st) => done.stat = &**st,
                    Output::Opened(_) => {}
                }
                if let Output::Opened(fd) = output {
                    done.value = fd.into_raw_fd() as i64;
                } else {
                    handle.current = Some(output);
                }
            }
        }
        // SAFETY: the module's contract.
        unsafe {
            out.write(done);
            found.write(true);
        }
        Ok(())
    })
}

/// Hands the bytes of the result `aers_fio_next` gave last (load, read) over to the glue:
/// `*ptr` is a NUL-terminated `malloc` block of `*len` bytes (plus the NUL; `*cap` bytes in
/// all) that is now the glue's, or null when the glue must copy `data` instead.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_take_bytes(
    p: *mut FioHandle,
    ptr: *mut *mut u8,
    len: *mut usize,
    cap: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let handle = unsafe { h(p) };
        let mut taken = (std::ptr::null_mut(), 0, 0);
        if let Some(Output::Bytes(buf)) = handle.current.take() {
            match take_string(buf) {
                Ok(t) => taken = t,
                Err(buf) => handle.current = Some(Output::Bytes(buf)),
            }
        }
        // SAFETY: the module's contract.
        unsafe {
            ptr.write(taken.0);
            len.write(taken.1);
            cap.write(taken.2);
        }
        Ok(())
    })
}

/// Gives back a block `aers_fio_take_bytes` handed over (its `ptr` and `cap`), which its Perl
/// string no longer uses: the next load or read reuses it.
///
/// # Safety
/// As in the module documentation; `ptr` and `cap` come from `aers_fio_take_bytes`, given back
/// once, and nothing uses the block any more.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_recycle(p: *mut FioHandle, ptr: *mut u8, cap: usize) -> Status {
    call(|| {
        // SAFETY: the module's contract, and the block's (above).
        unsafe { h(p).pool.recycle(ptr, cap) };
        Ok(())
    })
}

/// Ends a delivery that `aers_fio_collect` began (also when a callback died): wakes the
/// workers for the requests made meanwhile, and the loop again if collected results are still
/// undelivered.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_delivered(p: *mut FioHandle) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { h(p) }.pool.delivered();
        Ok(())
    })
}

/// The number of requests whose callbacks have not been called yet, in `*out`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_outstanding(p: *mut FioHandle, out: *mut u64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let n = unsafe { h(p) }.pool.outstanding()?;
        // SAFETY: the module's contract.
        unsafe { out.write(n as u64) };
        Ok(())
    })
}

/// Waits up to `timeout` seconds (negative: without limit) for results; `*ready` is true when
/// there are some, false when the time ran out (or a signal came).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_fio_wait(
    p: *mut FioHandle,
    timeout: f64,
    ready: *mut bool,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let r = unsafe { h(p) }.pool.wait(timeout)?;
        // SAFETY: the module's contract.
        unsafe { ready.write(r) };
        Ok(())
    })
}
