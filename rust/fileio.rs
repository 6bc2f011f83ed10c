//! File I/O off the loop: AnyEvent::IO's default backend.
//!
//! Requests run on a small pool of worker threads (started on demand, at most `max_threads`);
//! their results come back through one wake-up descriptor (an eventfd) that the Perl side
//! watches with an ordinary io watcher, so a slow or stuck file system (a FIFO nobody opens, a
//! huge file, a dead NFS server) never holds up the loop. The workers see only plain data
//! (paths, descriptors, numbers): callbacks stay in the [`Pool`], which only the loop's thread
//! touches, and are handed back with their results by [`Pool::next`].
//!
//! Every operation is the system call Perl's own built-in makes, so results and errno values
//! are the kernel's, exactly as with AnyEvent::IO::Perl. Descriptors of Perl handles are
//! duplicated when a request is made: the worker uses (and closes) its own copy, so a handle
//! closed or reopened by the program meanwhile cannot redirect the request to another file.
//!
//! After `fork`, the child has none of the worker threads: the first call in the child notices
//! (a `pthread_atfork` counter), forgets the parent's requests and starts afresh with a new
//! wake-up descriptor, which the glue is told to watch.

use crate::Callback;
use slotmap::{new_key_type, Key, KeyData, SlotMap};
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

new_key_type! { pub(crate) struct JobKey; }

/// What a path-or-handle request works on.
pub(crate) enum Target {
    Path(CString),
    Fd(OwnedFd),
}

/// One request, as the worker runs it. Numbers are the system call's arguments.
pub(crate) enum Op {
    Load(CString),
    Open(CString, i32, u32),
    /// The descriptor to close, and an error the glue already met closing the handle (0: none).
    Close(OwnedFd, i32),
    Read(OwnedFd, usize),
    Write(OwnedFd, Vec<u8>),
    Seek(OwnedFd, i64, i32),
    Truncate(Target, i64),
    /// `None`: the current time.
    Utime(Target, Option<(f64, f64)>),
    /// `u32::MAX` (-1): leave unchanged.
    Chown(Target, u32, u32),
    Chmod(Target, u32),
    Stat(Target),
    Lstat(Target),
    Link(CString, CString),
    Symlink(CString, CString),
    Readlink(CString),
    Rename(CString, CString),
    Unlink(CString),
    Mkdir(CString, u32),
    Rmdir(CString),
    Readdir(CString),
}

/// A successful result.
pub(crate) enum Output {
    Done,
    Number(i64),
    Bytes(Vec<u8>),
    Opened(OwnedFd),
    Stat(Box<libc::stat>),
    /// Directory entries, each followed by a NUL byte, and their count.
    Names(Vec<u8>, usize),
}

/// A finished request: its output or an errno value.
pub(crate) type Outcome = Result<Output, i32>;

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Runs a system call until it is not interrupted; a negative result becomes the errno.
fn sys<T: Copy + PartialOrd + Default>(mut f: impl FnMut() -> T) -> Result<T, i32> {
    loop {
        let r = f();
        if r >= T::default() {
            return Ok(r);
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

fn unit(r: Result<libc::c_int, i32>) -> Outcome {
    r.map(|_| Output::Done)
}

/// The `timespec` of a time in seconds, to the microsecond as Perl's `utime` has it.
fn timespec(t: f64) -> libc::timespec {
    let sec = t.trunc();
    let usec = ((t - sec) * 1e6).trunc();
    libc::timespec {
        tv_sec: sec as libc::time_t,
        tv_nsec: (usec as libc::c_long) * 1000,
    }
}

fn stat_of(target: &Target, follow: bool) -> Outcome {
    // SAFETY: an all-zero `struct stat` is a valid value (plain integers).
    let mut st: Box<libc::stat> = Box::new(unsafe { std::mem::zeroed() });
    let p: *mut libc::stat = &mut *st;
    // SAFETY: `p` points to a live, writable `struct stat`; paths are NUL-terminated.
    let r = match target {
        // SAFETY: as above.
        Target::Fd(fd) => sys(|| unsafe { libc::fstat(fd.as_raw_fd(), p) }),
        // SAFETY: as above.
        Target::Path(path) if follow => sys(|| unsafe { libc::stat(path.as_ptr(), p) }),
        // SAFETY: as above.
        Target::Path(path) => sys(|| unsafe { libc::lstat(path.as_ptr(), p) }),
    };
    r.map(|_| Output::Stat(st))
}

/// Byte buffers for loads and reads. The glue hands a result's buffer to Perl as the string
/// itself (see `take_string`), and gives it back (`put`) when the callback kept no hold on the
/// string: the next request reads into it, without allocating and faulting in fresh pages.
#[derive(Default)]
pub(crate) struct Spares(Mutex<SpareList>);

#[derive(Default)]
struct SpareList {
    buffers: Vec<Vec<u8>>,
    /// Their capacities, added up.
    bytes: usize,
}

/// Spare buffers take at most SPARE_BYTES in all, each at most SPARE_MAX bytes.
const SPARE_BYTES: usize = 8 << 20;
const SPARE_MAX: usize = 4 << 20;

impl Spares {
    /// An empty buffer with room for at least `cap` bytes (a spare one if one fits without
    /// wasting much).
    fn get(&self, cap: usize) -> Result<Vec<u8>, i32> {
        if cap <= SPARE_MAX {
            let mut spares = lock(&self.0);
            if let Some(i) = spares
                .buffers
                .iter()
                .position(|b| b.capacity() >= cap && b.capacity() <= cap * 2 + 4096)
            {
                let buf = spares.buffers.swap_remove(i);
                spares.bytes -= buf.capacity();
                return Ok(buf);
            }
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(cap).map_err(|_| libc::ENOMEM)?;
        Ok(buf)
    }

    pub(crate) fn put(&self, mut buf: Vec<u8>) {
        if buf.capacity() <= SPARE_MAX {
            buf.clear();
            let mut spares = lock(&self.0);
            if spares.bytes + buf.capacity() <= SPARE_BYTES {
                spares.bytes += buf.capacity();
                spares.buffers.push(buf);
            }
        }
    }
}

/// Reads up to `len` bytes (one `read`, as `sysread` does). The buffer has a byte to spare, so
/// that the glue can hand it to Perl as a string without copying (see `take_string`).
fn read_some(fd: RawFd, len: usize, spares: &Spares) -> Outcome {
    let mut buf = spares.get(len.checked_add(1).ok_or(libc::ENOMEM)?)?;
    // SAFETY: the buffer has room for `len` bytes; read writes at most that many.
    let n = sys(|| unsafe { libc::read(fd, buf.as_mut_ptr().cast(), len) })?;
    // SAFETY: read initialised the first `n` bytes.
    unsafe { buf.set_len(n as usize) };
    Ok(Output::Bytes(buf))
}

/// The worker's work: one system call (or a few for load and readdir).
pub(crate) fn run(op: Op, spares: &Spares) -> Outcome {
    match op {
        Op::Load(path) => load_file(&path, spares),
        Op::Open(path, flags, mode) => {
            // SAFETY: path is NUL-terminated; the descriptor returned is ours.
            let fd = sys(|| unsafe {
                libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint)
            })?;
            // SAFETY: just opened, owned by nobody else.
            Ok(Output::Opened(unsafe { OwnedFd::from_raw_fd(fd) }))
        }
        Op::Close(fd, earlier) => {
            // SAFETY: the descriptor is ours (into_raw_fd gives up the OwnedFd); close it once.
            let r = unsafe { libc::close(fd.into_raw_fd()) };
            if r < 0 {
                Err(errno())
            } else if earlier != 0 {
                Err(earlier)
            } else {
                Ok(Output::Done)
            }
        }
        Op::Read(fd, len) => read_some(fd.as_raw_fd(), len, spares),
        Op::Write(fd, data) => {
            // SAFETY: data is a live buffer of data.len() bytes.
            sys(|| unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) })
                .map(|n| Output::Number(n as i64))
        }
        Op::Seek(fd, offset, whence) => {
            // SAFETY: plain system call on our descriptor.
            sys(|| unsafe { libc::lseek(fd.as_raw_fd(), offset, whence) }).map(Output::Number)
        }
        Op::Truncate(target, len) => unit(match target {
            // SAFETY: plain system calls; paths are NUL-terminated.
            Target::Fd(fd) => sys(|| unsafe { libc::ftruncate(fd.as_raw_fd(), len) }),
            // SAFETY: as above.
            Target::Path(path) => sys(|| unsafe { libc::truncate(path.as_ptr(), len) }),
        }),
        Op::Utime(target, times) => {
            let ts = times.map(|(a, m)| [timespec(a), timespec(m)]);
            let tp = ts.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
            unit(match target {
                // SAFETY: `tp` is null or points to two timespecs alive for the call.
                Target::Fd(fd) => sys(|| unsafe { libc::futimens(fd.as_raw_fd(), tp) }),
                Target::Path(path) => {
                    // SAFETY: as above.
                    sys(|| unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), tp, 0) })
                }
            })
        }
        Op::Chown(target, uid, gid) => unit(match target {
            // SAFETY: plain system calls; paths are NUL-terminated.
            Target::Fd(fd) => sys(|| unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) }),
            // SAFETY: as above.
            Target::Path(path) => sys(|| unsafe { libc::chown(path.as_ptr(), uid, gid) }),
        }),
        Op::Chmod(target, mode) => unit(match target {
            // SAFETY: plain system calls; paths are NUL-terminated.
            Target::Fd(fd) => sys(|| unsafe { libc::fchmod(fd.as_raw_fd(), mode) }),
            // SAFETY: as above.
            Target::Path(path) => sys(|| unsafe { libc::chmod(path.as_ptr(), mode) }),
        }),
        Op::Stat(target) => stat_of(&target, true),
        Op::Lstat(target) => stat_of(&target, false),
        // SAFETY (the path operations below): both paths are NUL-terminated C strings.
        // SAFETY: as above.
        Op::Link(old, new) => unit(sys(|| unsafe { libc::link(old.as_ptr(), new.as_ptr()) })),
        // SAFETY: as above.
        Op::Symlink(old, new) => unit(sys(|| unsafe { libc::symlink(old.as_ptr(), new.as_ptr()) })),
        // SAFETY: as above.
        Op::Rename(old, new) => unit(sys(|| unsafe { libc::rename(old.as_ptr(), new.as_ptr()) })),
        // SAFETY: as above.
        Op::Unlink(path) => unit(sys(|| unsafe { libc::unlink(path.as_ptr()) })),
        // SAFETY: as above.
        Op::Mkdir(path, mode) => unit(sys(|| unsafe { libc::mkdir(path.as_ptr(), mode) })),
        // SAFETY: as above.
        Op::Rmdir(path) => unit(sys(|| unsafe { libc::rmdir(path.as_ptr()) })),
        Op::Readlink(path) => readlink(&path),
        Op::Readdir(path) => readdir(&path),
    }
}

/// Opens `path` and reads as many bytes as its size when opened (fewer when it ends early).
fn load_file(path: &CString, spares: &Spares) -> Outcome {
    // SAFETY: path is NUL-terminated; the descriptor returned is ours.
    let raw = sys(|| unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) })?;
    // SAFETY: just opened, owned by nobody else.
    let target = Target::Fd(unsafe { OwnedFd::from_raw_fd(raw) });
    let size = match stat_of(&target, true)? {
        Output::Stat(st) => st.st_size.max(0) as usize,
        _ => 0,
    };
    // a byte to spare, as in read_some
    let mut buf = spares.get(size.checked_add(1).ok_or(libc::ENOMEM)?)?;
    while buf.len() < size {
        let have = buf.len();
        // SAFETY: the buffer has room for `size - have` more bytes past `have`.
        let n = sys(|| unsafe { libc::read(raw, buf.as_mut_ptr().add(have).cast(), size - have) })?;
        if n == 0 {
            break;
        }
        // SAFETY: read initialised `n` more bytes.
        unsafe { buf.set_len(have + n as usize) };
    }
    if size == 0 {
        // An empty (or size-less) file still has to be readable: a directory fails here with
        // EISDIR, as it does for Perl's sysread.
        let mut byte = 0u8;
        // SAFETY: reads at most zero bytes into a live byte.
        sys(|| unsafe { libc::read(raw, (&mut byte as *mut u8).cast(), 0) })?;
    }
    drop(target);
    Ok(Output::Bytes(buf))
}

fn readlink(path: &CString) -> Outcome {
    let mut size = 256usize;
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: the buffer has `size` writable bytes; path is NUL-terminated.
        let n = sys(|| unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), size) })?
            as usize;
        if n < size {
            buf.truncate(n);
            return Ok(Output::Bytes(buf));
        }
        size *= 4;
    }
}

fn readdir(path: &CString) -> Outcome {
    // SAFETY: path is NUL-terminated; a non-null DIR is closed below, once.
    let dir = unsafe { libc::opendir(path.as_ptr()) };
    if dir.is_null() {
        return Err(errno());
    }
    let mut names = Vec::new();
    let mut count = 0;
    let result = loop {
        // SAFETY: errno is this thread's; readdir's entry is valid until the next readdir.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: as above.
        let ent = unsafe { libc::readdir64(dir) };
        if ent.is_null() {
            let e = errno();
            break if e == 0 { Ok(()) } else { Err(e) };
        }
        // SAFETY: d_name is a NUL-terminated name inside the entry.
        let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.extend_from_slice(name);
            names.push(0);
            count += 1;
        }
    };
    // SAFETY: `dir` came from opendir and is closed exactly once.
    let closed = unsafe { libc::closedir(dir) };
    result?;
    if closed < 0 {
        return Err(errno());
    }
    Ok(Output::Names(names, count))
}

/// Counts forks, so that a pool notices it is in a child without its threads.
static FORKS: AtomicU32 = AtomicU32::new(0);

extern "C" fn after_fork_in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker never panics while holding a lock (its work runs outside them, under
    // catch_unwind), so a poisoned lock still holds consistent data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a request may run before its worker counts as stuck (a FIFO nobody opens, a slow
/// disk): then another worker may start a request, beyond the target.
const STALL: Duration = Duration::from_millis(2);

/// A request faster than this (a page-cache hit) may have its result held back while more
/// requests are queued, up to HOLD_MAX results: the loop then wakes once for several results
/// instead of once for each (a wake-up costs more than such a request). A held result waits at
/// most for the worker's next quick requests; it is released before a request that may take
/// long (the last queued one), and by the standing-by worker.
const QUICK: Duration = Duration::from_micros(50);
const HOLD_MAX: usize = 32;

/// The queue and the workers' state. At most `target` workers run requests at once (one CPU
/// is left to the loop's thread: file data copied from the page cache is CPU work, and more
/// workers than CPUs only delay the loop); a worker busy for longer than [`STALL`] does not
/// count, so that requests behind a stuck one still run (up to the thread limit). While requests
/// wait and no more may start, one worker stands by, looking every [`STALL`] whether the running
/// ones are stuck.
#[derive(Default)]
struct Jobs {
    queue: VecDeque<(u64, Op)>,
    /// Per worker: when it started its current request (None: not running one).
    busy: Vec<Option<Instant>>,
    target: usize,
    /// Threads waiting for work.
    sleeping: usize,
    /// Wake-ups sent (and threads started) that no thread has taken up yet.
    signalled: usize,
    /// A worker stands by.
    standby: bool,
    /// Results of quick requests may be held back while more are queued (not with a single
    /// thread: nobody would stand by to release them when a request gets stuck).
    coalesce: bool,
    /// The thread limit (`busy` has one entry per thread started).
    max_threads: usize,
}

impl Jobs {
    /// Workers running a request that have not been at it for longer than STALL.
    fn active(&self, now: Instant) -> usize {
        self.busy
            .iter()
            .filter(|b| matches!(b, Some(t) if now.duration_since(*t) < STALL))
            .count()
    }

    /// Requests that may start now: room under the target, counting wake-ups on their way.
    fn room(&self, now: Instant) -> usize {
        self.target
            .saturating_sub(self.active(now) + self.signalled)
    }

    /// Wake-ups (or new threads) wanted for the queued requests: as many as there is room for,
    /// and one to stand by when some will still be waiting (counting wake-ups on their way).
    fn wanted(&self, now: Instant) -> usize {
        let n = self.queue.len().min(self.room(now));
        let waiting = self.queue.len().saturating_sub(n + self.signalled);
        n + usize::from(waiting > 0 && !self.standby)
    }
}

#[derive(Default)]
struct Finished {
    items: Vec<(u64, Outcome)>,
    /// The wake-up descriptor has been written since the loop last collected.
    notified: bool,
}

/// What the loop's thread and the workers share.
struct Shared {
    jobs: Mutex<Jobs>,
    /// Where sleeping workers wait.
    work: Condvar,
    /// Where the standing-by worker waits.
    standby: Condvar,
    spares: Spares,
    finished: Mutex<Finished>,
    wake: OwnedFd,
}

impl Shared {
    fn new(max_threads: usize) -> std::io::Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let jobs = Jobs {
            target: cpus.saturating_sub(1).clamp(1, max_threads),
            coalesce: max_threads > 1,
            max_threads,
            ..Jobs::default()
        };
        // SAFETY: plain system call; the descriptor returned is ours.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Shared {
            jobs: Mutex::new(jobs),
            work: Condvar::new(),
            standby: Condvar::new(),
            spares: Spares::default(),
            finished: Mutex::default(),
            // SAFETY: just created, owned by nobody else.
            wake: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Queues a result for the loop, waking it unless it was already woken, or unless `hold`
    /// (a quick request while more are queued: the next results join it, up to HOLD_MAX, and
    /// the loop wakes once for them).
    fn finish(&self, id: u64, outcome: Outcome, hold: bool) {
        let mut f = lock(&self.finished);
        f.items.push((id, outcome));
        if !(f.notified || hold && f.items.len() < HOLD_MAX) {
            f.notified = true;
            drop(f);
            self.signal();
        }
    }

    /// Wakes the loop for results held back.
    fn release(&self) {
        let mut f = lock(&self.finished);
        if !f.notified && !f.items.is_empty() {
            f.notified = true;
            drop(f);
            self.signal();
        }
    }

    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd. It cannot fail short of a
        // counter overflow, which one write per collection never reaches.
        unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Wakes or starts workers for `want` more requests (or to stand by): sleeping ones
    /// first (all at once, one system call, when all are needed), then new threads up to the
    /// limit. Called with the queue's lock held.
    fn provide(self: &Arc<Self>, jobs: &mut Jobs, want: usize) -> std::io::Result<()> {
        let free = jobs.sleeping.saturating_sub(jobs.signalled);
        let woken = want.min(free);
        jobs.signalled += woken;
        if woken > 1 && woken == free {
            self.work.notify_all();
        } else {
            for _ in 0..woken {
                self.work.notify_one();
            }
        }
        for _ in woken..want {
            if jobs.busy.len() >= jobs.max_threads {
                break;
            }
            self.start_worker(jobs)?;
        }
        Ok(())
    }

    /// Starts a worker with every signal blocked: signals are for the loop's thread (Perl's
    /// handlers and ours run there). Called with the queue's lock held.
    fn start_worker(self: &Arc<Self>, jobs: &mut Jobs) -> std::io::Result<()> {
        // SAFETY: sigset_t values are initialised by sigfillset/pthread_sigmask before use.
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: both sets are live; the new thread inherits the blocked mask, ours is put back.
        unsafe {
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        }
        jobs.busy.push(None);
        jobs.signalled += 1; // taken up when the thread starts
        let me = jobs.busy.len() - 1;
        let shared = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("ae-fileio".into())
            .stack_size(256 * 1024)
            .spawn(move || shared.worker(me));
        // SAFETY: restores the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        if let Err(e) = spawned {
            jobs.busy.pop();
            jobs.signalled -= 1;
            return Err(e);
        }
        Ok(())
    }

    /// Worker number `me`: takes a request when there is room (see [`Jobs`]), stands by or
    /// sleeps otherwise.
    fn worker(self: Arc<Self>, me: usize) {
        let mut jobs = lock(&self.jobs);
        jobs.signalled = jobs.signalled.saturating_sub(1); // its start counted as a wake-up
        loop {
            let now = Instant::now();
            if !jobs.queue.is_empty() && jobs.active(now) < jobs.target {
                let Some((id, op)) = jobs.queue.pop_front() else {
                    continue;
                };
                jobs.busy[me] = Some(now);
                if jobs.queue.is_empty() {
                    // this request may take long: results held back must not wait for it
                    self.release();
                }
                // more to do: another worker joins, or stands by (a thread that cannot be started
                // now leaves it to the next request)
                if jobs.wanted(now) > 0 {
                    let _ = self.provide(&mut jobs, 1);
                }
                drop(jobs);
                let outcome = catch_unwind(AssertUnwindSafe(|| run(op, &self.spares)))
                    .unwrap_or(Err(libc::EIO));
                jobs = lock(&self.jobs);
                jobs.busy[me] = None;
                let quick = now.elapsed() < QUICK;
                let hold = jobs.coalesce
                    && quick
                    && !jobs.queue.is_empty()
                    && jobs.active(Instant::now()) < jobs.target;
                self.finish(id, outcome, hold);
                continue;
            }
            // no request to run now: nothing this worker held back may wait for it
            self.release();
            if !jobs.queue.is_empty() && !jobs.standby {
                jobs.standby = true;
                jobs = self
                    .standby
                    .wait_timeout(jobs, STALL)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                jobs.standby = false;
                self.release(); // in case a request got stuck after quick ones were held back
                continue;
            }
            jobs.sleeping += 1;
            jobs = self.work.wait(jobs).unwrap_or_else(|e| e.into_inner());
            jobs.sleeping -= 1;
            jobs.signalled = jobs.signalled.saturating_sub(1);
        }
    }
}

/// A request waiting for its result, as the loop's thread keeps it.
struct Pending {
    cb: Callback,
    op: u32,
    aux: i64,
}

/// A result being delivered: the callback, the request's kind and extra number (the open
/// flags for open), and its outcome.
pub(crate) struct Delivery {
    pub cb: Callback,
    pub op: u32,
    pub aux: i64,
    pub outcome: Outcome,
}

/// The loop thread's side of the pool.
pub struct Pool {
    shared: Arc<Shared>,
    pending: SlotMap<JobKey, Pending>,
    /// Results collected from the workers, not yet delivered.
    batch: VecDeque<(u64, Outcome)>,
    max_threads: usize,
    forks: u32,
    /// The glue has not been told to watch the current wake-up descriptor yet.
    unwatched: bool,
    /// Results are being delivered (between `collect` and `delivered`): the callbacks' new
    /// requests wake the workers once, at the end, instead of one by one.
    delivering: bool,
    /// Requests queued while delivering, whose wake-up is still due.
    deferred: usize,
    /// The wake-up descriptor inherited from the parent, closed once the glue watches the new
    /// one (closing it earlier could leave the loop watching a closed descriptor).
    stale_wake: Option<OwnedFd>,
}

impl Pool {
    pub(crate) fn new(max_threads: usize) -> std::io::Result<Self> {
        static ATFORK: Once = Once::new();
        ATFORK.call_once(|| {
            // SAFETY: registers a handler that only bumps an atomic counter (async-signal-safe).
            unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        });
        let max_threads = max_threads.max(1);
        Ok(Pool {
            shared: Arc::new(Shared::new(max_threads)?),
            pending: SlotMap::with_key(),
            batch: VecDeque::new(),
            max_threads,
            forks: FORKS.load(Ordering::Relaxed),
            unwatched: true,
            delivering: false,
            deferred: 0,
            stale_wake: None,
        })
    }

    /// In a child after fork: the workers are gone, and so are the parent's requests (their
    /// callbacks are not delivered). Starts afresh with a new wake-up descriptor.
    fn after_fork(&mut self) -> std::io::Result<()> {
        let forks = FORKS.load(Ordering::Relaxed);
        if forks == self.forks {
            return Ok(());
        }
        let fresh = Arc::new(Shared::new(self.max_threads)?);
        let old = std::mem::replace(&mut self.shared, fresh);
        // The old state's locks may have been held by threads that do not exist here: never
        // touch them again, only close the wake-up descriptor, which is ours alone now.
        let old = std::mem::ManuallyDrop::new(old);
        // SAFETY: the descriptor belonged to the old state, which is never used or dropped
        // again: it is ours alone now, closed once.
        self.stale_wake = Some(unsafe { OwnedFd::from_raw_fd(old.wake.as_raw_fd()) });
        self.pending.clear();
        self.batch.clear();
        self.delivering = false;
        self.deferred = 0;
        self.forks = forks;
        self.unwatched = true;
        Ok(())
    }

    /// The wake-up descriptor, once, when the glue has to start watching it (first use, and
    /// after a fork).
    pub(crate) fn watch_request(&mut self) -> Option<RawFd> {
        if self.unwatched {
            self.unwatched = false;
            Some(self.shared.wake.as_raw_fd())
        } else {
            None
        }
    }

    /// The glue watches the current wake-up descriptor: the inherited one can go.
    pub(crate) fn watched(&mut self) {
        self.stale_wake = None;
    }

    #[cfg(test)]
    pub(crate) fn wake_fd(&self) -> RawFd {
        self.shared.wake.as_raw_fd()
    }

    /// Queues a request; its result is delivered with `cb`. A request that cannot start
    /// (`op` is an error: a bad path or handle) is finished at once and delivered like any.
    pub(crate) fn submit(
        &mut self,
        op: Result<Op, i32>,
        kind: u32,
        aux: i64,
        cb: Callback,
    ) -> std::io::Result<()> {
        self.after_fork()?;
        let id = self
            .pending
            .insert(Pending { cb, op: kind, aux })
            .data()
            .as_ffi();
        let op = match op {
            Ok(op) => op,
            Err(e) => {
                self.shared.finish(id, Err(e), false);
                return Ok(());
            }
        };
        let mut jobs = lock(&self.shared.jobs);
        jobs.queue.push_back((id, op));
        drop(jobs);
        if self.delivering {
            self.deferred += 1;
        } else {
            self.wake_workers(1);
        }
        Ok(())
    }

    /// Wakes (or starts) workers for `n` newly queued requests. When no thread can be started
    /// and none exists, the queued requests fail (EAGAIN or what thread creation reported).
    fn wake_workers(&mut self, n: usize) {
        let mut jobs = lock(&self.shared.jobs);
        let want = jobs.wanted(Instant::now()).min(n.max(1));
        if let Err(e) = self.shared.provide(&mut jobs, want) {
            if jobs.busy.is_empty() {
                let failed: Vec<u64> = jobs.queue.drain(..).map(|(id, _)| id).collect();
                drop(jobs);
                let errno = e.raw_os_error().unwrap_or(libc::EAGAIN);
                for id in failed {
                    self.shared.finish(id, Err(errno), false);
                }
            }
        }
    }

    /// Takes the results the workers have finished so far (they are delivered by `next`).
    pub(crate) fn collect(&mut self) -> std::io::Result<()> {
        self.after_fork()?;
        let mut counter = 0u64;
        // Reset the wake-up first: a result finished after this read wakes the loop again.
        // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd (EAGAIN when 0).
        unsafe {
            libc::read(
                self.shared.wake.as_raw_fd(),
                (&mut counter as *mut u64).cast(),
                8,
            )
        };
        let mut f = lock(&self.shared.finished);
        self.batch.extend(f.items.drain(..));
        f.notified = false;
        self.delivering = true;
        Ok(())
    }

    /// The next collected result with its callback, if any.
    pub(crate) fn next(&mut self) -> Option<Delivery> {
        loop {
            let (id, outcome) = self.batch.pop_front()?;
            if let Some(p) = self.pending.remove(KeyData::from_ffi(id).into()) {
                return Some(Delivery {
                    cb: p.cb,
                    op: p.op,
                    aux: p.aux,
                    outcome,
                });
            }
        }
    }

    /// The end of a delivery (also when a callback died in the middle of it): wakes the
    /// workers for the requests the callbacks made, and makes the loop come back for results
    /// collected but not delivered yet.
    pub(crate) fn delivered(&mut self) {
        self.delivering = false;
        if self.deferred > 0 {
            let n = std::mem::take(&mut self.deferred);
            self.wake_workers(n);
        }
        if !self.batch.is_empty() {
            self.shared.signal();
        }
    }

    /// Requests not delivered yet.
    pub(crate) fn outstanding(&mut self) -> std::io::Result<usize> {
        self.after_fork()?;
        Ok(self.pending.len())
    }

    /// Waits up to `timeout` seconds (negative: no limit) until results are ready; true when
    /// they are.
    pub(crate) fn wait(&mut self, timeout: f64) -> std::io::Result<bool> {
        self.after_fork()?;
        if !self.batch.is_empty() {
            return Ok(true);
        }
        let ms = if timeout < 0. {
            -1
        } else {
            (timeout * 1000.).ceil().min(i32::MAX as f64) as i32
        };
        let mut pfd = libc::pollfd {
            fd: self.shared.wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            n if n > 0 => Ok(true),
            0 => Ok(false),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Takes back a buffer `take_string` gave up (pointer and capacity as it returned them),
    /// whose Perl string let go of it: it becomes a spare.
    ///
    /// # Safety
    /// `ptr` and `cap` must come from `take_string`, and nothing may use the buffer any more.
    pub(crate) unsafe fn recycle(&self, ptr: *mut u8, cap: usize) {
        // SAFETY: per the contract, a Vec<u8>'s allocation of `cap` bytes, now unused.
        let buf = unsafe { Vec::from_raw_parts(ptr, 0, cap) };
        self.shared.spares.put(buf);
    }

    /// Duplicates a Perl handle's descriptor for a request (the worker closes its copy).
    pub(crate) fn dup(fd: RawFd) -> Result<OwnedFd, i32> {
        if fd < 0 {
            return Err(libc::EBADF);
        }
        // SAFETY: fcntl on any integer is safe; a descriptor returned is ours.
        let new = sys(|| unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) })?;
        // SAFETY: just created, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(new) })
    }
}

/// Gives up a byte buffer as a NUL-terminated C string allocated with `malloc`, for a Perl
/// string to adopt (Perl frees it with `free`): the pointer, length and capacity, or the buffer
/// back when it has no byte to spare for the NUL.
pub(crate) fn take_string(mut buf: Vec<u8>) -> Result<(*mut u8, usize, usize), Vec<u8>> {
    // Rust's default allocator (no #[global_allocator] in this crate) serves byte buffers with
    // malloc/realloc, so the memory can be freed by Perl's allocator when that is malloc too
    // (the glue checks this at compile time).
    if buf.capacity() <= buf.len() {
        return Err(buf);
    }
    let len = buf.len();
    // SAFETY: capacity > len, so the byte at `len` is inside the allocation.
    unsafe { buf.as_mut_ptr().add(len).write(0) };
    let mut buf = std::mem::ManuallyDrop::new(buf);
    Ok((buf.as_mut_ptr(), len, buf.capacity()))
}

/// A path from the glue: bytes without NUL (a NUL byte names no file: ENOENT, as for Perl).
pub(crate) fn path(bytes: &[u8]) -> Result<CString, i32> {
    CString::new(bytes).map_err(|_| libc::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn c(p: &std::path::Path) -> CString {
        CString::new(p.as_os_str().as_encoded_bytes()).unwrap()
    }

    fn tmpdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "aers-fileio-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn load_and_errors() {
        let d = tmpdir();
        let f = d.join("f");
        std::fs::File::create(&f)
            .unwrap()
            .write_all(&[7u8; 70000])
            .unwrap();
        match run(Op::Load(c(&f)), &Spares::default()) {
            Ok(Output::Bytes(b)) => assert_eq!(b, vec![7u8; 70000]),
            _ => panic!("load failed"),
        }
        assert!(matches!(
            run(Op::Load(c(&d.join("none"))), &Spares::default()),
            Err(libc::ENOENT)
        ));
        assert!(matches!(
            run(Op::Load(c(&d)), &Spares::default()),
            Err(libc::EISDIR)
        ));
        match run(Op::Readdir(c(&d)), &Spares::default()) {
            Ok(Output::Names(n, 1)) => assert_eq!(n, b"f\0"),
            _ => panic!("readdir"),
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn pool_round_trip() {
        let mut pool = Pool::new(2).unwrap();
        let fd = pool.watch_request().unwrap();
        assert!(pool.watch_request().is_none());
        assert_eq!(fd, pool.wake_fd());
        for i in 0..50usize {
            let op = if i % 2 == 0 {
                Ok(Op::Stat(Target::Path(c(std::path::Path::new("/")))))
            } else {
                Err(libc::ENOENT)
            };
            pool.submit(op, 10, i as i64, i as Callback).unwrap();
        }
        let mut seen = 0;
        while seen < 50 {
            assert!(pool.wait(5.0).unwrap());
            pool.collect().unwrap();
            while let Some(d) = pool.next() {
                let i = d.cb as usize;
                assert_eq!(d.aux, i as i64);
                assert_eq!(d.outcome.is_ok(), i.is_multiple_of(2));
                seen += 1;
            }
        }
        assert_eq!(pool.outstanding().unwrap(), 0);
    }
}
