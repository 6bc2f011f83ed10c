//! The event loop: one mio epoll instance, the watcher sets, the clocks, and the queue of
//! callbacks that are ready to run.
//!
//! An iteration ([`Loop::poll_once`]) syncs io interest with epoll, waits (until the next timer,
//! or not at all when something is already due), then queues every ready watcher. The glue then
//! takes the queue one entry at a time ([`Loop::next_ready`]) and calls the Perl callbacks; an
//! entry whose watcher was stopped meanwhile is skipped, so a watcher destroyed by an earlier
//! callback of the same batch is never called. The queue lives here, not on the glue's stack:
//! when a callback dies, the rest of the batch is still delivered by the next iteration.
//!
//! Besides the watchers, the loop owns the DNS resolvers as one event source
//! ([`crate::dns::source`]): their sockets share the mio poller, their deadlines count in
//! [`Loop::next_timeout`], and their finished requests are queued like any ready callback.

use crate::child::{ChildKey, Children};
use crate::dns::resolver::Resolver;
use crate::dns::source::{is_dns_token, DnsSource, ResolverKey};
use crate::dns::value::Value;
use crate::io::{IoKey, IoSet, TOKEN_SOURCE_BIT};
use crate::signal::{SignalKey, Signals, WakePipe};
use crate::timer::{TimerKey, Timers};
use crate::Callback;
use mio::{Events, Interest, Poll, Token};
use slotmap::{new_key_type, SlotMap};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

new_key_type! {
    /// Identifies one idle watcher.
    pub(crate) struct IdleKey;
}

/// mio token of the signal wake-up pipe.
const WAKE_TOKEN: Token = Token((TOKEN_SOURCE_BIT | 1) as usize);

/// One ready callback waiting to be called.
#[derive(Debug)]
pub(crate) enum Pending {
    Io(IoKey),
    Timer(TimerKey),
    Signal(SignalKey),
    Idle(IdleKey),
    /// A child exited: (watcher, pid, wait status).
    Child(ChildKey, i32, i32),
    /// A postponed callback; its reference is handed over to the glue.
    Postponed(Callback),
    /// A request of the resolver finished: its next completion (callback and arguments; the
    /// reference is handed over to the glue). Skipped when the resolver went away.
    Dns(ResolverKey),
    /// A request of the resolver ended: its wait_for_slot callback.
    DnsSlot(ResolverKey),
    /// A callback the core gives up without calling (the glue releases the reference).
    Release(Callback),
}

/// A callback the glue must call now.
pub(crate) struct Ready {
    pub(crate) cb: Callback,
    /// The glue owns the reference (postponed callbacks) instead of borrowing the watcher's.
    pub(crate) owned: bool,
    /// For child watchers: the pid and wait status, passed as arguments.
    pub(crate) child: Option<(i32, i32)>,
    /// The arguments of a finished DNS request.
    pub(crate) args: Option<Vec<Value>>,
    /// Not to be called: the glue only releases its (owned) reference.
    pub(crate) release: bool,
}

impl Ready {
    fn call(cb: Callback, owned: bool) -> Ready {
        Ready {
            cb,
            owned,
            child: None,
            args: None,
            release: false,
        }
    }
}

static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn after_fork_in_child() {
    FORKED.store(true, Ordering::Relaxed);
}

/// Seconds on a clock.
fn clock(id: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to fill; a bad clock id only makes the call fail.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The current wall-clock time (AnyEvent->time).
pub(crate) fn wall_time() -> f64 {
    clock(libc::CLOCK_REALTIME)
}

/// The event loop (one per process; the glue holds it as an opaque pointer).
pub struct Loop {
    poll: Poll,
    events: Events,
    wake: WakePipe,
    pub(crate) io: IoSet,
    pub(crate) timers: Timers,
    pub(crate) signals: Signals,
    pub(crate) children: Children,
    idle: SlotMap<IdleKey, Callback>,
    /// Delivered by the next iteration: postponed callbacks, DNS requests finished at once.
    postponed: Vec<Pending>,
    pending: VecDeque<Pending>,
    /// The DNS resolvers.
    pub(crate) dns: DnsSource,
    /// Loop time, cached per iteration: monotonic (for timers) and wall clock (AnyEvent->now).
    now_mono: f64,
    now_wall: f64,
    /// Set when a stale event showed that the epoll set holds a registration we cannot remove.
    rebuild_due: bool,
    /// Another event loop runs this one as one of its sources (AnyEvent::Impl::Embed).
    embedded: bool,
    /// The glue is calling the callbacks of an iteration (from `poll_once` until `next_ready`
    /// finds none left).
    dispatching: bool,
    /// The loop time is older than the foreign loop's callbacks: our last batch ended since it
    /// was taken.
    time_stale: bool,
}

impl Loop {
    pub(crate) fn new() -> io::Result<Loop> {
        static ATFORK: std::sync::Once = std::sync::Once::new();
        // SAFETY: the handler only stores to an atomic, which is allowed in a forked child.
        ATFORK.call_once(|| unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        });
        let poll = Poll::new()?;
        let mut wake = WakePipe::new()?;
        poll.registry()
            .register(&mut wake.receiver, WAKE_TOKEN, Interest::READABLE)?;
        let mut lp = Loop {
            poll,
            events: Events::with_capacity(1024),
            wake,
            io: IoSet::default(),
            timers: Timers::default(),
            signals: Signals::default(),
            children: Children::default(),
            idle: SlotMap::with_key(),
            postponed: Vec::new(),
            pending: VecDeque::new(),
            dns: DnsSource::default(),
            now_mono: 0.0,
            now_wall: 0.0,
            rebuild_due: false,
            embedded: false,
            dispatching: false,
            time_stale: true,
        };
        lp.update_now();
        Ok(lp)
    }

    /// The epoll fd, for embedding into another event loop.
    pub(crate) fn backend_fd(&self) -> RawFd {
        self.poll.as_raw_fd()
    }

    /// The loop time (`AnyEvent->now`).
    pub(crate) fn now(&mut self) -> f64 {
        if self.embedded && !self.dispatching {
            self.update_now();
        }
        self.now_wall
    }

    /// Marks the loop as run by another event loop (or not).
    pub(crate) fn set_embedded(&mut self, on: bool) {
        self.embedded = on;
        self.time_stale = true;
    }

    /// Embedded, our iterations are as rare as our own events, while the foreign loop's
    /// callbacks create timers and read `now` in between: there `now` is the current time (as
    /// 7.17's under those loops), and the first timer made after our last batch ended counts
    /// from the current time, not from that batch, else it would count from a time long past
    /// and fire early. Later timers count from the same time until our loop has run again
    /// (creating a watcher makes it run soon), so timers made together keep their order.
    fn refresh_outside_dispatch(&mut self) {
        if self.embedded && !self.dispatching && self.time_stale {
            self.update_now();
            self.time_stale = false;
        }
    }

    pub(crate) fn update_now(&mut self) {
        self.now_mono = clock(libc::CLOCK_MONOTONIC);
        self.now_wall = wall_time();
    }

    /// Monotonic deadline `after` seconds from the loop time.
    pub(crate) fn deadline(&mut self, after: f64) -> f64 {
        self.refresh_outside_dispatch();
        self.now_mono + after.max(0.0)
    }

    pub(crate) fn start_idle(&mut self, cb: Callback) -> IdleKey {
        self.idle.insert(cb)
    }

    pub(crate) fn stop_idle(&mut self, key: IdleKey) -> Option<Callback> {
        self.idle.remove(key)
    }

    pub(crate) fn postpone(&mut self, cb: Callback) {
        self.postponed.push(Pending::Postponed(cb));
    }

    /// Runs `f` on resolver `key` for a call from the glue, then registers the sockets it
    /// opened and queues the requests it finished for the next iteration (a callback never
    /// runs inside the call that made its request). EBADF when the resolver is gone. A forked
    /// child rebuilds first, so that the call never touches the parent's poller.
    pub(crate) fn with_resolver<T>(
        &mut self,
        key: ResolverKey,
        f: impl FnOnce(&mut Resolver) -> T,
    ) -> io::Result<T> {
        if FORKED.swap(false, Ordering::Relaxed) {
            self.rebuild(true)?;
        }
        let r = self
            .dns
            .get_mut(key)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))?;
        let out = f(r);
        self.dns
            .settle(key, self.poll.registry(), &mut self.postponed);
        Ok(out)
    }

    /// Sets resolver `key`'s wait_for_slot callback (for the tests of the source).
    #[cfg(test)]
    pub(crate) fn set_slot_callback_for_test(&mut self, key: ResolverKey, cb: Callback) {
        self.with_resolver(key, |r| r.set_slot_callback(Some(cb)))
            .unwrap();
    }

    /// Removes resolver `key` (its callbacks wait in [`DnsSource::take_released`]).
    pub(crate) fn remove_resolver(&mut self, key: ResolverKey) -> io::Result<bool> {
        if FORKED.swap(false, Ordering::Relaxed) {
            self.rebuild(true)?;
        }
        Ok(self.dns.remove(key, self.poll.registry()))
    }

    pub(crate) fn stop_io(&mut self, key: IoKey) -> Option<Callback> {
        // After fork the epoll instance is shared with the parent until the next poll replaces
        // it: removing the fd from it would silence the parent's watcher.
        let epfd = if FORKED.load(Ordering::Relaxed) {
            -1
        } else {
            self.poll.as_raw_fd()
        };
        self.io.stop(key, epfd)
    }

    /// Starts a child watcher; SIGCHLD is handled while any exist.
    pub(crate) fn start_child(&mut self, pid: i32, cb: Callback) -> io::Result<ChildKey> {
        self.signals.acquire_internal(libc::SIGCHLD)?;
        let key = self.children.start(pid, cb);
        self.wake.wake();
        Ok(key)
    }

    /// A foreign loop reaps `pid` itself (`on`), or no longer; `pid` 0 names no pid. Either way
    /// SIGCHLD is shared with that loop from now on (our handler goes back on top of one it
    /// installed, and calls it), and a reap pass is due.
    pub(crate) fn child_foreign(&mut self, pid: i32, on: bool) -> io::Result<()> {
        self.signals.share(libc::SIGCHLD)?;
        if pid > 0 {
            self.children.set_foreign(pid, on);
        } else {
            self.children.reap_due = true;
        }
        self.wake.wake();
        Ok(())
    }

    pub(crate) fn stop_child(&mut self, key: ChildKey) -> Option<Callback> {
        let cb = self.children.stop(key)?;
        self.signals.release_internal(libc::SIGCHLD);
        Some(cb)
    }

    /// Whether anything would keep a loop of its own running: a watcher (io, signal, child,
    /// idle), a scheduled timer, a postponed or queued callback. An embedding loop that ends
    /// when it has nothing to watch (EV::run, POE::Kernel->run) asks this.
    pub(crate) fn is_active(&self) -> bool {
        self.io.len() > 0
            || !self.timers.is_empty()
            || self.signals.len() > 0
            || !self.children.is_empty()
            || !self.idle.is_empty()
            || !self.postponed.is_empty()
            || !self.pending.is_empty()
            || self.dns.is_active()
    }

    /// Seconds until the loop has something to do: 0 when something is due now (including io
    /// watchers that epoll does not know yet: an embedding loop must run us to register them),
    /// None when only an io event or a signal could wake it.
    pub(crate) fn next_timeout(&self) -> Option<f64> {
        if !self.pending.is_empty()
            || self.io.has_changes()
            || !self.postponed.is_empty()
            || !self.idle.is_empty()
            || self.io.has_immediate()
            || self.children.reap_due
            || self.dns.has_immediate()
        {
            return Some(0.0);
        }
        let timer = self
            .timers
            .next_deadline()
            .map(|at| (at - clock(libc::CLOCK_MONOTONIC)).max(0.0));
        let dns = self
            .dns
            .next_deadline()
            .map(|at| at.saturating_duration_since(Instant::now()).as_secs_f64());
        match (timer, dns) {
            (Some(t), Some(d)) => Some(t.min(d)),
            (t, d) => t.or(d),
        }
    }

    /// One iteration: waits for events (at most until the next timer; not at all unless
    /// `block`), then queues every ready watcher. Nothing is polled while callbacks from the
    /// previous iteration are still queued.
    pub(crate) fn poll_once(&mut self, block: bool) -> io::Result<()> {
        // the glue calls next_ready until it finds nothing (see refresh_outside_dispatch)
        self.dispatching = true;
        if !self.pending.is_empty() {
            return Ok(());
        }
        let forked = FORKED.swap(false, Ordering::Relaxed);
        if forked || self.rebuild_due {
            self.rebuild(forked)?;
        }
        self.io.sync(self.poll.as_raw_fd());
        // A timer too far away for a Duration (after => 9**9**9 means "never") waits for events only.
        let timeout = if block {
            self.next_timeout()
                .and_then(|t| Duration::try_from_secs_f64(t).ok())
        } else {
            Some(Duration::ZERO)
        };
        if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            // A signal interrupted the wait. If it is one of ours, its handler has written to the
            // wake pipe: look again without waiting, so that this iteration delivers it. (Other
            // signals: we return, and Perl runs its own %SIG handlers.)
            if let Err(e) = self.poll.poll(&mut self.events, Some(Duration::ZERO)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
        self.update_now();
        self.collect()
    }

    fn collect(&mut self) -> io::Result<()> {
        let mut signalled = false;
        // Expired timers first: both of AnyEvent's own loops (EV, and the pure-Perl loop, which
        // does not even poll in an iteration that has timers due) call them before the io
        // callbacks of the same iteration.
        self.timers.expire(self.now_mono, &mut self.pending);
        self.dns.read_busy();
        for event in self.events.iter() {
            if event.token() == WAKE_TOKEN {
                signalled = true;
                continue;
            }
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed() || event.is_error();
            let token = event.token().0 as u64;
            if is_dns_token(token) {
                self.dns.on_event(token, readable, writable);
                continue;
            }
            if !self.io.collect_event(
                event.token().0 as u64,
                readable,
                writable,
                &mut self.pending,
            ) {
                self.rebuild_due = true;
            }
        }
        self.io.collect_immediate(&mut self.pending);
        self.dns
            .dispatch(self.poll.registry(), Instant::now(), &mut self.pending);
        let mut child_exited = false;
        if signalled {
            self.wake.drain();
            child_exited = self.signals.collect(&mut self.pending);
        }
        if self.children.is_empty() {
            // Nobody to report to: a SIGCHLD signal watcher alone leaves the exit statuses to the
            // program's own waitpid.
            self.children.reap_due = false;
        } else if child_exited || self.children.reap_due {
            self.children.reap(&mut self.pending);
        }
        self.pending.extend(self.postponed.drain(..));
        if self.pending.is_empty() {
            self.pending.extend(self.idle.keys().map(Pending::Idle));
        }
        Ok(())
    }

    /// The next queued callback whose watcher (or resolver) is still alive.
    pub(crate) fn next_ready(&mut self) -> Option<Ready> {
        while let Some(p) = self.pending.pop_front() {
            let ready = match p {
                Pending::Io(k) => self.io.callback(k).map(|cb| Ready::call(cb, false)),
                Pending::Timer(k) => self.timers.callback(k).map(|cb| Ready::call(cb, false)),
                Pending::Signal(k) => self.signals.callback(k).map(|cb| Ready::call(cb, false)),
                Pending::Idle(k) => self.idle.get(k).map(|&cb| Ready::call(cb, false)),
                Pending::Child(k, pid, status) => self.children.callback(k).map(|cb| Ready {
                    child: Some((pid, status)),
                    ..Ready::call(cb, false)
                }),
                Pending::Postponed(cb) => Some(Ready::call(cb, true)),
                Pending::Dns(k) => self.dns.next_completion(k).map(|c| Ready {
                    args: Some(c.args),
                    ..Ready::call(c.cb, true)
                }),
                Pending::DnsSlot(k) => self.dns.slot_callback(k).map(|cb| Ready::call(cb, false)),
                Pending::Release(cb) => Some(Ready {
                    release: true,
                    ..Ready::call(cb, true)
                }),
            };
            if ready.is_some() {
                return ready;
            }
        }
        self.dispatching = false;
        self.time_stale = true;
        None
    }

    /// Replaces the epoll instance and the wake-up pipe (after fork, or to shed a registration
    /// we cannot remove) and registers everything again. After a fork the resolvers start
    /// over instead: the parent's sockets and requests in flight stay the parent's.
    fn rebuild(&mut self, forked: bool) -> io::Result<()> {
        self.rebuild_due = false;
        let poll = Poll::new()?;
        let mut wake = WakePipe::new()?;
        poll.registry()
            .register(&mut wake.receiver, WAKE_TOKEN, Interest::READABLE)?;
        if forked {
            self.dns.after_fork(&mut self.postponed);
        } else {
            self.dns.deregister_all(self.poll.registry());
            self.dns.reregister(poll.registry());
        }
        self.poll = poll;
        self.wake = wake;
        self.io.reset_registrations();
        // Signals that arrived in between are still flagged; make sure they are looked at.
        self.wake.wake();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::MutexGuard;

    fn cb(n: usize) -> Callback {
        n as Callback
    }

    fn serial() -> MutexGuard<'static, ()> {
        crate::PROCESS_STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both fds were just created and are owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn put(fd: &OwnedFd) {
        assert_eq!(
            // SAFETY: a one-byte buffer, valid for the call.
            unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) },
            1
        );
    }

    /// The callbacks of the current batch, in order.
    fn batch(lp: &mut Loop) -> Vec<Callback> {
        std::iter::from_fn(|| lp.next_ready().map(|r| r.cb)).collect()
    }

    #[test]
    fn a_batch_skips_watchers_stopped_by_earlier_callbacks() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let at = lp.deadline(0.0);
        lp.timers.start(at, 0.0, cb(1));
        let second = lp.timers.start(at, 0.0, cb(2));
        lp.timers.start(at, 0.0, cb(3));
        lp.poll_once(false).unwrap();
        assert_eq!(lp.next_ready().unwrap().cb, cb(1));
        // the first callback stops the second watcher
        assert_eq!(lp.timers.stop(second), Some(cb(2)));
        assert_eq!(batch(&mut lp), vec![cb(3)]);
    }

    #[test]
    fn nothing_is_polled_while_a_batch_is_still_queued() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let at = lp.deadline(0.0);
        lp.timers.start(at, 0.0, cb(1));
        lp.timers.start(at, 0.0, cb(2));
        lp.poll_once(false).unwrap();
        // a callback died after the first entry: the rest stays queued for the next iteration
        assert_eq!(lp.next_ready().unwrap().cb, cb(1));
        lp.timers.start(at, 0.0, cb(3));
        lp.poll_once(false).unwrap();
        assert_eq!(batch(&mut lp), vec![cb(2)]);
        lp.poll_once(false).unwrap();
        assert_eq!(batch(&mut lp), vec![cb(3)]);
    }

    #[test]
    fn idle_watchers_run_only_when_nothing_else_is_ready() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let (r, w) = pipe();
        lp.start_idle(cb(9));
        let io = lp.io.start(r.as_raw_fd(), crate::io::READ, cb(1));
        put(&w);
        lp.poll_once(true).unwrap();
        assert_eq!(batch(&mut lp), vec![cb(1)]);
        lp.stop_io(io);
        lp.poll_once(true).unwrap();
        assert_eq!(batch(&mut lp), vec![cb(9)]);
    }

    #[test]
    fn embedded_the_loop_time_outside_our_callbacks_is_the_current_time() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let started = lp.deadline(0.0);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            lp.deadline(0.0),
            started,
            "our own loop: the time of the last iteration"
        );
        lp.set_embedded(true);
        assert!(
            lp.deadline(0.0) >= started + 0.03,
            "embedded, outside callbacks: now"
        );
        // inside an iteration's callbacks the iteration's time holds
        let at = lp.deadline(0.0);
        lp.timers.start(at, 0.0, cb(1));
        lp.poll_once(false).unwrap();
        let iteration = lp.deadline(0.0);
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(lp.next_ready().unwrap().cb, cb(1));
        assert_eq!(lp.deadline(0.0), iteration);
        assert!(lp.next_ready().is_none());
        assert!(lp.deadline(0.0) >= iteration + 0.01, "the batch is over");
    }

    #[test]
    fn postponed_callbacks_are_handed_over_once() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        lp.postpone(cb(5));
        assert_eq!(lp.next_timeout(), Some(0.0));
        lp.poll_once(true).unwrap();
        let ready = lp.next_ready().unwrap();
        assert_eq!((ready.cb, ready.owned), (cb(5), true));
        assert!(lp.next_ready().is_none());
        lp.poll_once(false).unwrap();
        assert!(lp.next_ready().is_none());
    }

    #[test]
    fn a_signal_is_delivered_by_the_next_iteration_and_the_disposition_restored() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let k = lp.signals.start(libc::SIGUSR2, cb(4)).unwrap();
        // SAFETY: our handler for SIGUSR2 is installed; raise runs it in this thread.
        assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
        lp.poll_once(true).unwrap();
        assert_eq!(batch(&mut lp), vec![cb(4)]);
        lp.signals.stop(k);
        // SAFETY: a zeroed sigaction is a valid out-parameter; no handler is changed.
        let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
        assert_eq!(
            // SAFETY: only reads the current disposition into `now`.
            unsafe { libc::sigaction(libc::SIGUSR2, std::ptr::null(), &mut now) },
            0
        );
        assert_eq!(
            now.sa_sigaction,
            libc::SIG_DFL,
            "the default disposition is back"
        );
    }

    #[test]
    fn a_child_watcher_gets_the_pid_and_status() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: _exit is async-signal-safe and ends the child at once.
            unsafe { libc::_exit(3) };
        }
        assert!(pid > 0);
        let k = lp.start_child(pid, cb(6)).unwrap();
        let at = lp.deadline(5.0);
        lp.timers.start(at, 0.0, cb(99));
        let ready = loop {
            lp.poll_once(true).unwrap();
            if let Some(r) = lp.next_ready() {
                break r;
            }
        };
        assert_eq!(ready.cb, cb(6));
        let (got_pid, status) = ready.child.unwrap();
        assert_eq!(got_pid, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 3);
        lp.stop_child(k);
    }

    /// A watcher for any child leaves the pids a foreign loop reaps to that loop, and finds the
    /// other children behind them.
    #[test]
    fn a_watcher_for_any_child_leaves_foreign_pids_alone() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let spawn = |code| {
            // SAFETY: the child only calls _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: _exit is async-signal-safe and ends the child at once.
                unsafe { libc::_exit(code) };
            }
            assert!(pid > 0);
            pid
        };
        let theirs = spawn(4);
        let ours = [spawn(5), spawn(6)];
        lp.child_foreign(theirs, true).unwrap();
        let k = lp.start_child(0, cb(7)).unwrap();
        let at = lp.deadline(5.0);
        let t = lp.timers.start(at, 0.0, cb(99));
        let mut got = Vec::new();
        while got.len() < 2 {
            lp.poll_once(true).unwrap();
            while let Some(r) = lp.next_ready() {
                assert_eq!(r.cb, cb(7), "only the watcher for any child, within 5 s");
                got.push(r.child.unwrap());
            }
        }
        got.sort_unstable();
        let codes: Vec<_> = got
            .iter()
            .map(|&(p, s)| (p, libc::WEXITSTATUS(s)))
            .collect();
        assert_eq!(codes, vec![(ours[0], 5), (ours[1], 6)]);
        let mut status = 0;
        // SAFETY: status is a valid out pointer.
        let reaped = unsafe { libc::waitpid(theirs, &mut status, 0) };
        assert_eq!(
            (reaped, libc::WEXITSTATUS(status)),
            (theirs, 4),
            "the foreign pid is left to its loop"
        );
        lp.child_foreign(theirs, false).unwrap();
        lp.timers.stop(t);
        lp.stop_child(k);
    }

    /// After fork, the child's loop gets an epoll instance of its own at its next iteration;
    /// until then, stopping a watcher must not remove the fd from the instance it still shares
    /// with the parent.
    #[test]
    fn after_fork_the_child_rebuilds_and_leaves_the_parents_registrations_alone() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let (r, w) = pipe();
        let (r2, w2) = pipe();
        let parent_io = lp.io.start(r.as_raw_fd(), crate::io::READ, cb(1));
        lp.poll_once(false).unwrap();
        assert!(batch(&mut lp).is_empty());
        let parent_epfd = lp.backend_fd();
        // a test that fails must not hang: a timer ends every wait within 5 s
        let at = lp.deadline(5.0);
        lp.timers.start(at, 5.0, cb(99));

        // SAFETY: the child runs only this closure's checks and then _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                lp.stop_io(parent_io);
                let io = lp.io.start(r2.as_raw_fd(), crate::io::READ, cb(2));
                put(&w2);
                lp.poll_once(true).unwrap();
                let rebuilt = lp.backend_fd() != parent_epfd;
                let got = batch(&mut lp);
                lp.stop_io(io);
                rebuilt && got == vec![cb(2)]
            }))
            .unwrap_or(false);
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        assert!(pid > 0);
        let mut status = 0;
        // SAFETY: waits for the child just forked; status is a valid out-parameter.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child's loop rebuilt and delivered its event"
        );
        // The parent's watcher still works on the parent's epoll instance.
        put(&w);
        lp.poll_once(true).unwrap();
        assert_eq!(lp.backend_fd(), parent_epfd);
        assert_eq!(batch(&mut lp), vec![cb(1)]);
    }
}
