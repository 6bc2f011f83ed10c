//! Signal watchers.
//!
//! The C-level handler only records the signal and writes one byte to a non-blocking pipe that
//! the loop watches; callbacks run later from the loop, never in signal context. A signal that
//! arrives while the loop blocks in epoll_wait therefore wakes it at once. The disposition that
//! was in place before the first watcher is restored when the last one goes.
//!
//! A signal can be *shared* with a foreign event loop that installs a handler of its own for it
//! (GLib's for SIGCHLD): our handler then calls the one it replaced, [`Signals::share`] puts
//! ours back on top when the other loop installed its handler (or the default) over it, and the
//! last user restores the replaced disposition only while ours is still in place.

use crate::event_loop::Pending;
use crate::Callback;
use slotmap::{new_key_type, SlotMap};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

new_key_type! {
    /// Identifies one signal watcher.
    pub(crate) struct SignalKey;
}

/// Signal numbers are below this (Linux: 64 real-time signals included).
pub(crate) const NSIG: usize = 65;

/// Write end of the wake-up pipe, read by the handler.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
#[allow(clippy::declare_interior_mutable_const)]
const NOT_CAUGHT: AtomicBool = AtomicBool::new(false);
static CAUGHT: [AtomicBool; NSIG] = [NOT_CAUGHT; NSIG];

#[allow(clippy::declare_interior_mutable_const)]
const NO_HANDLER: AtomicUsize = AtomicUsize::new(0);
/// Per shared signal: the handler ours replaced, called after ours (0: none), and whether it
/// takes siginfo (SA_SIGINFO).
static CHAIN: [AtomicUsize; NSIG] = [NO_HANDLER; NSIG];
static CHAIN_SIGINFO: [AtomicBool; NSIG] = [NOT_CAUGHT; NSIG];
/// Signals shared with a foreign loop (see the module documentation).
static SHARED: [AtomicBool; NSIG] = [NOT_CAUGHT; NSIG];

extern "C" fn on_signal(signum: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // Only async-signal-safe work here: atomics and write(2), errno preserved; then the
    // replaced handler of a shared signal, which is as safe as its owner made it.
    // SAFETY: this thread's errno slot, always valid to read.
    let saved = unsafe { *libc::__errno_location() };
    if (signum as usize) < NSIG {
        CAUGHT[signum as usize].store(true, Ordering::Release);
    }
    let fd = WAKE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = signum as u8;
        // SAFETY: one byte from a local; write(2) is async-signal-safe, a bad fd only fails.
        unsafe { libc::write(fd, &byte as *const u8 as *const libc::c_void, 1) };
    }
    // SAFETY: this thread's errno slot, always valid to write.
    unsafe { *libc::__errno_location() = saved };
    if (signum as usize) < NSIG {
        let next = CHAIN[signum as usize].load(Ordering::Acquire);
        if next != 0 {
            if CHAIN_SIGINFO[signum as usize].load(Ordering::Acquire) {
                // SAFETY: next is the sa_sigaction of a disposition installed with SA_SIGINFO,
                // given the arguments the kernel gave us.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(next) };
                f(signum, info, ctx);
            } else {
                // SAFETY: next is the sa_handler of a disposition installed without SA_SIGINFO.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(next) };
                f(signum);
            }
        }
    }
}

/// The address of our handler, as sigaction reports it.
fn our_handler() -> usize {
    on_signal as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) as *const ()
        as usize
}

/// The current disposition of `signum`.
fn current(signum: i32) -> libc::sigaction {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action only queries.
    unsafe {
        let mut now: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signum, std::ptr::null(), &mut now);
        now
    }
}

/// Remembers `old` as the handler to call after ours, for a shared signal (none otherwise, or
/// when it is no function of someone else's).
fn set_chain(s: usize, old: &libc::sigaction) {
    let h = old.sa_sigaction;
    let chain = SHARED[s].load(Ordering::Relaxed)
        && h != libc::SIG_DFL
        && h != libc::SIG_IGN
        && h != libc::SIG_ERR
        && h != our_handler();
    CHAIN[s].store(0, Ordering::Release);
    CHAIN_SIGINFO[s].store(old.sa_flags & libc::SA_SIGINFO != 0, Ordering::Release);
    if chain {
        CHAIN[s].store(h, Ordering::Release);
    }
}

/// The pipe that wakes the loop from the signal handler.
pub(crate) struct WakePipe {
    pub(crate) receiver: mio::unix::pipe::Receiver,
    sender: mio::unix::pipe::Sender,
}

impl WakePipe {
    pub(crate) fn new() -> io::Result<WakePipe> {
        let (sender, receiver) = mio::unix::pipe::new()?;
        WAKE_FD.store(sender.as_raw_fd(), Ordering::Relaxed);
        Ok(WakePipe { receiver, sender })
    }

    /// Empties the pipe (it is registered edge-triggered with mio).
    pub(crate) fn drain(&mut self) {
        let mut buf = [0u8; 256];
        while let Ok(n) = self.receiver.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }

    /// Makes the next poll return at once (used to reap children that exited earlier).
    pub(crate) fn wake(&self) {
        let byte = 0u8;
        // SAFETY: one byte from a local to our own pipe; a full pipe only makes it fail.
        unsafe {
            libc::write(
                self.sender.as_raw_fd(),
                &byte as *const u8 as *const libc::c_void,
                1,
            )
        };
    }
}

/// Takes the caught flag of `signum`.
pub(crate) fn take_caught(signum: usize) -> bool {
    CAUGHT[signum].swap(false, Ordering::Acquire)
}

struct SignalWatcher {
    signum: usize,
    cb: Callback,
}

/// Signal watchers, plus the loop's own interest in SIGCHLD (for child watchers).
pub(crate) struct Signals {
    watchers: SlotMap<SignalKey, SignalWatcher>,
    by_signal: Vec<Vec<SignalKey>>,
    /// The disposition in place before we installed our handler, per signal.
    saved: Vec<Option<libc::sigaction>>,
    internal_users: Vec<u32>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            watchers: SlotMap::with_key(),
            by_signal: vec![Vec::new(); NSIG],
            saved: vec![None; NSIG],
            internal_users: vec![0; NSIG],
        }
    }
}

/// Whether `signum` is a signal a handler can be installed for.
pub(crate) fn is_catchable(signum: i32) -> bool {
    signum > 0 && (signum as usize) < NSIG && signum != libc::SIGKILL && signum != libc::SIGSTOP
}

impl Signals {
    /// Watches `signum`; installs our handler if this is its first user.
    pub(crate) fn start(&mut self, signum: i32, cb: Callback) -> io::Result<SignalKey> {
        if !is_catchable(signum) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let s = signum as usize;
        self.acquire(s)?;
        let key = self.watchers.insert(SignalWatcher { signum: s, cb });
        self.by_signal[s].push(key);
        Ok(key)
    }

    /// Forgets a watcher; the previous disposition returns when its signal has no users left.
    pub(crate) fn stop(&mut self, key: SignalKey) -> Option<Callback> {
        let w = self.watchers.remove(key)?;
        self.by_signal[w.signum].retain(|k| *k != key);
        self.release(w.signum);
        Some(w.cb)
    }

    pub(crate) fn callback(&self, key: SignalKey) -> Option<Callback> {
        self.watchers.get(key).map(|w| w.cb)
    }

    /// Number of signal watchers.
    pub(crate) fn len(&self) -> usize {
        self.watchers.len()
    }

    /// The loop itself needs `signum` handled (SIGCHLD while child watchers exist).
    pub(crate) fn acquire_internal(&mut self, signum: i32) -> io::Result<()> {
        self.acquire(signum as usize)?;
        self.internal_users[signum as usize] += 1;
        Ok(())
    }

    pub(crate) fn release_internal(&mut self, signum: i32) {
        self.internal_users[signum as usize] -= 1;
        self.release(signum as usize);
    }

    /// Queues the watchers of every signal caught since the last call; tells whether SIGCHLD
    /// was among them.
    pub(crate) fn collect(&mut self, out: &mut VecDeque<Pending>) -> bool {
        let mut child_exited = false;
        for s in 1..NSIG {
            if self.saved[s].is_some() && take_caught(s) {
                child_exited |= s == libc::SIGCHLD as usize;
                out.extend(self.by_signal[s].iter().map(|k| Pending::Signal(*k)));
            }
        }
        child_exited
    }

    fn users(&self, s: usize) -> usize {
        self.by_signal[s].len() + self.internal_users[s] as usize
    }

    fn acquire(&mut self, s: usize) -> io::Result<()> {
        if self.saved[s].is_none() {
            CAUGHT[s].store(false, Ordering::Relaxed);
            let old = install(s as i32)?;
            set_chain(s, &old);
            self.saved[s] = Some(old);
        }
        Ok(())
    }

    fn release(&mut self, s: usize) {
        if self.users(s) == 0 {
            if let Some(old) = self.saved[s].take() {
                // A shared signal whose handler another loop replaced stays theirs.
                let ours = current(s as i32).sa_sigaction == our_handler();
                CHAIN[s].store(0, Ordering::Release);
                if ours || !SHARED[s].load(Ordering::Relaxed) {
                    // SAFETY: old is the disposition sigaction gave us for this signal.
                    unsafe { libc::sigaction(s as i32, &old, std::ptr::null_mut()) };
                }
            }
        }
    }

    /// Shares `signum` with a foreign loop from now on (see the module documentation); while
    /// we use it and another handler (or the default) replaced ours, ours goes back on top and
    /// calls that one. Tells whether ours had to be put back.
    pub(crate) fn share(&mut self, signum: i32) -> io::Result<bool> {
        if !is_catchable(signum) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let s = signum as usize;
        SHARED[s].store(true, Ordering::Relaxed);
        if self.saved[s].is_none() || current(signum).sa_sigaction == our_handler() {
            return Ok(false);
        }
        let old = install(signum)?;
        set_chain(s, &old);
        self.saved[s] = Some(old);
        Ok(true)
    }
}

/// Installs `on_signal` for `signum`, returning the disposition it replaces.
fn install(signum: i32) -> io::Result<libc::sigaction> {
    // SAFETY: a zeroed sigaction is valid; on_signal is async-signal-safe (above); old is a
    // valid out pointer.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = our_handler();
        new.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
        libc::sigfillset(&mut new.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signum, &new, &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cb(n: usize) -> Callback {
        n as Callback
    }

    fn disposition(signum: i32) -> usize {
        // SAFETY: a zeroed sigaction is a valid out-parameter.
        let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
        assert_eq!(
            // SAFETY: only reads the current disposition of signum.
            unsafe { libc::sigaction(signum, std::ptr::null(), &mut now) },
            0
        );
        now.sa_sigaction
    }

    fn set_disposition(signum: i32, handler: usize) {
        // SAFETY: a zeroed sigaction with SIG_IGN/SIG_DFL is a valid disposition.
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = handler;
        assert_eq!(
            // SAFETY: installs SIG_IGN or SIG_DFL, no handler code.
            unsafe { libc::sigaction(signum, &new, std::ptr::null_mut()) },
            0
        );
    }

    fn ours() -> usize {
        our_handler()
    }

    #[test]
    fn uncatchable_and_out_of_range_signals_are_refused() {
        let mut s = Signals::default();
        for bad in [0, -1, libc::SIGKILL, libc::SIGSTOP, NSIG as i32, 1000] {
            let err = s.start(bad, cb(1)).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "signal {bad}");
        }
    }

    #[test]
    fn the_previous_disposition_returns_when_the_last_user_goes() {
        let _g = crate::PROCESS_STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sig = libc::SIGURG;
        set_disposition(sig, libc::SIG_IGN);
        let mut s = Signals::default();
        let a = s.start(sig, cb(1)).unwrap();
        let b = s.start(sig, cb(2)).unwrap();
        s.acquire_internal(sig).unwrap();
        assert_eq!(disposition(sig), ours());
        s.stop(a);
        s.stop(b);
        assert_eq!(disposition(sig), ours(), "the loop itself still needs it");
        s.release_internal(sig);
        assert_eq!(
            disposition(sig),
            libc::SIG_IGN,
            "what the program had before"
        );
        set_disposition(sig, libc::SIG_DFL);
    }

    #[test]
    fn caught_signals_queue_every_watcher_of_that_signal_once() {
        let _g = crate::PROCESS_STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // the handler writes to the wake-up pipe: one of this test's own
        let mut wake = WakePipe::new().unwrap();
        let mut s = Signals::default();
        s.start(libc::SIGUSR1, cb(1)).unwrap();
        s.start(libc::SIGUSR1, cb(2)).unwrap();
        s.start(libc::SIGWINCH, cb(3)).unwrap();
        // SAFETY: our handler is installed for SIGUSR1; raise runs it in this thread.
        unsafe { libc::raise(libc::SIGUSR1) };
        // SAFETY: as above; twice before collecting counts once (signals are not queued).
        unsafe { libc::raise(libc::SIGUSR1) };
        let mut out = VecDeque::new();
        assert!(!s.collect(&mut out), "no SIGCHLD among them");
        let got: Vec<_> = out
            .into_iter()
            .map(|p| match p {
                Pending::Signal(k) => s.callback(k).unwrap(),
                other => panic!("not a signal entry: {other:?}"),
            })
            .collect();
        assert_eq!(got, vec![cb(1), cb(2)]);
        let mut again = VecDeque::new();
        s.collect(&mut again);
        assert!(again.is_empty());
        let mut byte = [0u8; 4];
        assert_eq!(
            wake.receiver.read(&mut byte).unwrap(),
            2,
            "one wake-up byte per signal"
        );
        wake.drain();
    }

    static FOREIGN_CALLS: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn foreign(_: libc::c_int) {
        FOREIGN_CALLS.fetch_add(1, Ordering::SeqCst);
    }

    fn set_foreign(signum: i32) {
        // SAFETY: a zeroed sigaction with a plain handler that only counts is valid.
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = foreign as extern "C" fn(libc::c_int) as *const () as usize;
        assert_eq!(
            // SAFETY: installs that handler.
            unsafe { libc::sigaction(signum, &new, std::ptr::null_mut()) },
            0
        );
    }

    /// What a foreign loop does to a signal it shares with us (GLib and SIGCHLD): installs its
    /// handler over ours, later the default over that.
    #[test]
    fn a_shared_signal_calls_the_replaced_handler_and_goes_back_on_top() {
        let _g = crate::PROCESS_STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sig = libc::SIGPWR;
        let raise = || {
            // SAFETY: a handler (ours or the counting one) is installed for sig.
            unsafe { libc::raise(sig) };
        };
        let calls = || FOREIGN_CALLS.load(Ordering::SeqCst);
        set_foreign(sig);
        let mut s = Signals::default();
        assert!(!s.share(sig).unwrap(), "not ours yet: nothing to put back");
        s.acquire_internal(sig).unwrap();
        assert_eq!(disposition(sig), ours());
        let before = calls();
        raise();
        assert!(take_caught(sig as usize), "ours caught it");
        assert_eq!(calls(), before + 1, "and called the handler it replaced");

        set_foreign(sig);
        assert!(s.share(sig).unwrap(), "replaced: ours goes back on top");
        assert_eq!(disposition(sig), ours());
        raise();
        assert!(take_caught(sig as usize));
        assert_eq!(calls(), before + 2, "the other one still called");

        set_disposition(sig, libc::SIG_DFL);
        assert!(s.share(sig).unwrap(), "the default over ours: ours back");
        assert!(!s.share(sig).unwrap(), "in place: nothing to do");
        raise();
        assert!(take_caught(sig as usize));
        assert_eq!(calls(), before + 2, "nothing to call after ours");

        set_foreign(sig);
        s.release_internal(sig);
        assert_eq!(
            disposition(sig),
            foreign as extern "C" fn(libc::c_int) as *const () as usize,
            "the last user leaves a handler that replaced ours in place"
        );
        set_disposition(sig, libc::SIG_DFL);
        SHARED[sig as usize].store(false, Ordering::Relaxed);
    }
}
