//! I/O watchers on file descriptors owned by Perl code.
//!
//! AnyEvent io watchers are level-triggered: a callback keeps being called while its fd stays
//! ready. mio registers its own sources edge-triggered only, so these fds are added to mio's
//! epoll instance directly, level-triggered, with tokens that carry the fd and a registration
//! generation. Interest is aggregated per fd and synced with epoll once per loop iteration, as
//! libev does, so creating many watchers on one fd costs no system call each.

use crate::event_loop::Pending;
use crate::Callback;
use slotmap::{new_key_type, SlotMap};
use std::collections::VecDeque;
use std::os::fd::RawFd;

new_key_type! {
    /// Identifies one io watcher.
    pub(crate) struct IoKey;
}

pub(crate) const READ: u8 = 1;
pub(crate) const WRITE: u8 = 2;

/// Tokens of level-triggered fds have this bit clear; mio-registered sources set it.
pub(crate) const TOKEN_SOURCE_BIT: u64 = 1 << 63;

struct IoWatcher {
    /// The watched fd, or -1 once the watcher was detached because its fd was invalid.
    fd: RawFd,
    poll: u8,
    cb: Callback,
    /// Index in the fd's watcher list.
    pos: u32,
}

#[derive(Default)]
struct FdState {
    watchers: Vec<IoKey>,
    /// Interest epoll holds for this fd (0: not registered).
    registered: u8,
    /// Bumped on every EPOLL_CTL_ADD; events carrying an older generation are stale.
    generation: u32,
    /// epoll refused the fd (regular file, /dev/null): it is reported ready every iteration.
    always_ready: bool,
    /// Queued in `changes`.
    changed: bool,
    /// A watcher was added since the last sync: the fd may be a new file under a reused number,
    /// so the registration is renewed even if the interest mask did not change.
    fresh: bool,
}

/// All io watchers of a loop.
#[derive(Default)]
pub(crate) struct IoSet {
    watchers: SlotMap<IoKey, IoWatcher>,
    fds: Vec<FdState>,
    changes: Vec<RawFd>,
    always_ready: Vec<RawFd>,
    /// Watchers on fds epoll called invalid (EBADF): reported once, then detached.
    invalid: Vec<IoKey>,
}

impl IoSet {
    /// Number of io watchers.
    pub(crate) fn len(&self) -> usize {
        self.watchers.len()
    }

    /// Watches `fd` for `poll` (READ or WRITE).
    pub(crate) fn start(&mut self, fd: RawFd, poll: u8, cb: Callback) -> IoKey {
        let idx = fd as usize;
        if idx >= self.fds.len() {
            self.fds
                .resize_with((idx + 1).max(self.fds.len() * 2).max(64), FdState::default);
        }
        let state = &mut self.fds[idx];
        let pos = state.watchers.len() as u32;
        let key = self.watchers.insert(IoWatcher { fd, poll, cb, pos });
        state.watchers.push(key);
        state.fresh = true;
        self.mark_changed(fd);
        key
    }

    /// Forgets a watcher and returns its callback. When it was the last watcher of its fd the
    /// registration is dropped at once: the fd is usually closed right after.
    pub(crate) fn stop(&mut self, key: IoKey, epfd: RawFd) -> Option<Callback> {
        let w = self.watchers.remove(key)?;
        if w.fd >= 0 {
            self.detach(w.fd, w.pos);
            let state = &mut self.fds[w.fd as usize];
            if state.watchers.is_empty() {
                if state.registered != 0 {
                    epoll_del(epfd, w.fd);
                    state.registered = 0;
                }
            } else {
                self.mark_changed(w.fd);
            }
        }
        Some(w.cb)
    }

    /// The callback of a watcher that is still attached to its fd.
    pub(crate) fn callback(&self, key: IoKey) -> Option<Callback> {
        self.watchers.get(key).map(|w| w.cb)
    }

    /// Whether some fd must be reported without waiting (epoll refused it, or it is invalid).
    pub(crate) fn has_immediate(&self) -> bool {
        !self.always_ready.is_empty() || !self.invalid.is_empty()
    }

    /// Whether watchers changed since the last sync (epoll does not know about them yet).
    pub(crate) fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Brings epoll's registrations in line with the watchers (once per loop iteration).
    pub(crate) fn sync(&mut self, epfd: RawFd) {
        let changes = std::mem::take(&mut self.changes);
        for &fd in &changes {
            self.sync_fd(epfd, fd);
        }
        self.changes = changes;
        self.changes.clear();
    }

    fn sync_fd(&mut self, epfd: RawFd, fd: RawFd) {
        let state = &mut self.fds[fd as usize];
        state.changed = false;
        let want = state
            .watchers
            .iter()
            .fold(0, |m, k| m | self.watchers[*k].poll);
        let fresh = std::mem::take(&mut state.fresh);
        if want == 0 || fresh {
            if state.always_ready {
                state.always_ready = false;
                self.always_ready.retain(|&f| f != fd);
            }
            if want == 0 {
                if state.registered != 0 {
                    epoll_del(epfd, fd);
                    state.registered = 0;
                }
                return;
            }
        }
        if state.always_ready || (state.registered == want && !fresh) {
            return;
        }
        match register(epfd, fd, want, state) {
            Ok(()) => state.registered = want,
            Err(libc::EPERM) => {
                state.registered = 0;
                state.always_ready = true;
                self.always_ready.push(fd);
            }
            Err(_) => {
                // EBADF and friends: report each watcher once so its callback sees the error
                // on its own read or write, then detach it (libev does the same).
                state.registered = 0;
                let keys = std::mem::take(&mut state.watchers);
                for key in keys {
                    self.watchers[key].fd = -1;
                    self.invalid.push(key);
                }
            }
        }
    }

    /// Queues the watchers an epoll event concerns. Returns false for a stale event.
    pub(crate) fn collect_event(
        &self,
        token: u64,
        readable: bool,
        writable: bool,
        out: &mut VecDeque<Pending>,
    ) -> bool {
        let fd = (token & 0xffff_ffff) as usize;
        let generation = ((token >> 32) & 0x7fff_ffff) as u32;
        let Some(state) = self.fds.get(fd) else {
            return false;
        };
        if state.registered == 0 || state.generation & 0x7fff_ffff != generation {
            return false;
        }
        let got = (if readable { READ } else { 0 }) | (if writable { WRITE } else { 0 });
        self.queue_fd(state, got, out);
        true
    }

    /// Queues the watchers of fds that are always ready or were found invalid.
    pub(crate) fn collect_immediate(&mut self, out: &mut VecDeque<Pending>) {
        for &fd in &self.always_ready {
            self.queue_fd(&self.fds[fd as usize], READ | WRITE, out);
        }
        out.extend(self.invalid.drain(..).map(Pending::Io));
    }

    fn queue_fd(&self, state: &FdState, got: u8, out: &mut VecDeque<Pending>) {
        for &key in &state.watchers {
            if self.watchers[key].poll & got != 0 {
                out.push_back(Pending::Io(key));
            }
        }
    }

    /// Forgets every registration (the epoll instance was replaced): all fds are re-added at the
    /// next sync.
    pub(crate) fn reset_registrations(&mut self) {
        for fd in 0..self.fds.len() {
            let state = &mut self.fds[fd];
            state.registered = 0;
            if !state.watchers.is_empty() {
                state.fresh = true;
                if !state.changed {
                    state.changed = true;
                    self.changes.push(fd as RawFd);
                }
            }
        }
    }

    fn mark_changed(&mut self, fd: RawFd) {
        let state = &mut self.fds[fd as usize];
        if !state.changed {
            state.changed = true;
            self.changes.push(fd);
        }
    }

    fn detach(&mut self, fd: RawFd, pos: u32) {
        let list = &mut self.fds[fd as usize].watchers;
        list.swap_remove(pos as usize);
        if let Some(&moved) = list.get(pos as usize) {
            self.watchers[moved].pos = pos;
        }
    }
}

/// Adds or modifies the level-triggered registration of `fd`, renewing the generation on add.
fn register(epfd: RawFd, fd: RawFd, want: u8, state: &mut FdState) -> Result<(), i32> {
    let mut op = if state.registered != 0 {
        libc::EPOLL_CTL_MOD
    } else {
        libc::EPOLL_CTL_ADD
    };
    loop {
        if op == libc::EPOLL_CTL_ADD {
            state.generation = state.generation.wrapping_add(1);
        }
        let mut ev = libc::epoll_event {
            events: epoll_mask(want),
            u64: fd as u64 | ((state.generation as u64 & 0x7fff_ffff) << 32),
        };
        // SAFETY: ev is a valid epoll_event for the call; bad fds only make it fail.
        if unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) } == 0 {
            return Ok(());
        }
        match (errno(), op) {
            (libc::ENOENT, libc::EPOLL_CTL_MOD) => op = libc::EPOLL_CTL_ADD,
            (libc::EEXIST, libc::EPOLL_CTL_ADD) => op = libc::EPOLL_CTL_MOD,
            (e, _) => return Err(e),
        }
        // MOD on a reused fd number (a new file) gives ENOENT, so it is added afresh; an ADD
        // that finds a registration of ours still there becomes a MOD with the new token.
    }
}

fn epoll_mask(want: u8) -> u32 {
    let mut events = 0;
    if want & READ != 0 {
        events |= libc::EPOLLIN as u32;
    }
    if want & WRITE != 0 {
        events |= libc::EPOLLOUT as u32;
    }
    events
}

fn epoll_del(epfd: RawFd, fd: RawFd) {
    // Fails harmlessly when the fd was closed already: the kernel dropped it then.
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: as in sync_fd; a bad fd only makes the call fail.
    unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, &mut ev) };
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    fn cb(n: usize) -> Callback {
        n as Callback
    }

    fn epoll() -> OwnedFd {
        // SAFETY: epoll_create1 returns a new fd (checked) that nothing else owns.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: fd is valid and owned by nobody else.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both fds were just created and are owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn put(fd: &OwnedFd, bytes: &[u8]) {
        // SAFETY: bytes is a valid buffer of bytes.len() bytes for the duration of the call.
        let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        assert_eq!(n, bytes.len() as isize);
    }

    /// (token, events) of what epoll reports now, without waiting.
    fn ready(epfd: &OwnedFd) -> Vec<(u64, u32)> {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 16];
        // SAFETY: evs has room for the 16 events asked for.
        let n = unsafe { libc::epoll_wait(epfd.as_raw_fd(), evs.as_mut_ptr(), 16, 0) };
        assert!(n >= 0);
        evs[..n as usize]
            .iter()
            .map(|e| (e.u64, e.events))
            .collect()
    }

    fn queued(set: &IoSet, out: VecDeque<Pending>) -> Vec<Callback> {
        out.into_iter()
            .map(|p| match p {
                Pending::Io(k) => set.callback(k).unwrap(),
                other => panic!("not an io entry: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn interest_is_aggregated_per_fd_and_synced_once() {
        let ep = epoll();
        let (r, w) = pipe();
        let mut set = IoSet::default();
        set.start(w.as_raw_fd(), WRITE, cb(1));
        set.start(w.as_raw_fd(), READ, cb(2));
        set.start(w.as_raw_fd(), WRITE, cb(3));
        assert_eq!(
            set.changes,
            vec![w.as_raw_fd()],
            "one change entry for three watchers"
        );
        set.sync(ep.as_raw_fd());
        assert!(!set.has_changes());
        assert_eq!(set.fds[w.as_raw_fd() as usize].registered, READ | WRITE);
        // The write end is writable: one epoll event, the two WRITE watchers queued in order.
        let evs = ready(&ep);
        assert_eq!(evs.len(), 1);
        let mut out = VecDeque::new();
        assert!(set.collect_event(evs[0].0, false, true, &mut out));
        assert_eq!(queued(&set, out), vec![cb(1), cb(3)]);
        drop(r);
    }

    #[test]
    fn stopping_one_watcher_narrows_the_interest() {
        let ep = epoll();
        let (r, w) = pipe();
        let mut set = IoSet::default();
        let a = set.start(r.as_raw_fd(), READ, cb(1));
        set.start(r.as_raw_fd(), WRITE, cb(2));
        set.sync(ep.as_raw_fd());
        assert_eq!(set.fds[r.as_raw_fd() as usize].registered, READ | WRITE);
        assert_eq!(set.stop(a, ep.as_raw_fd()), Some(cb(1)));
        set.sync(ep.as_raw_fd());
        assert_eq!(set.fds[r.as_raw_fd() as usize].registered, WRITE);
        // Data in the pipe no longer wakes anybody: only readability is there.
        put(&w, b"x");
        assert!(ready(&ep).is_empty());
    }

    #[test]
    fn a_reused_fd_number_gets_a_new_generation_and_old_events_are_stale() {
        let ep = epoll();
        let (r, w) = pipe();
        let fd = r.as_raw_fd();
        let mut set = IoSet::default();
        set.start(fd, READ, cb(1));
        set.sync(ep.as_raw_fd());
        put(&w, b"x");
        let old_token = ready(&ep)[0].0;
        let old_generation = set.fds[fd as usize].generation;

        // The program replaces the file behind the watcher's back (as close + open reusing the
        // number would); a new watcher on it renews the registration.
        let (r2, w2) = pipe();
        // SAFETY: both fds are open; dup2 closes the old file of `fd`, which `r` still owns.
        assert_eq!(unsafe { libc::dup2(r2.as_raw_fd(), fd) }, fd);
        set.start(fd, READ, cb(2));
        set.sync(ep.as_raw_fd());
        assert_ne!(set.fds[fd as usize].generation, old_generation);

        let mut out = VecDeque::new();
        assert!(
            !set.collect_event(old_token, true, false, &mut out),
            "old token is stale"
        );
        assert!(out.is_empty());
        put(&w2, b"y");
        let evs = ready(&ep);
        assert_eq!(evs.len(), 1);
        assert!(set.collect_event(evs[0].0, true, false, &mut out));
        assert_eq!(queued(&set, out), vec![cb(1), cb(2)]);
        drop(w);
    }

    #[test]
    fn fds_epoll_refuses_are_always_ready() {
        let ep = epoll();
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let mut set = IoSet::default();
        set.start(file.as_raw_fd(), READ, cb(7));
        set.sync(ep.as_raw_fd());
        assert!(set.has_immediate());
        for _ in 0..2 {
            // reported at every iteration, not once
            let mut out = VecDeque::new();
            set.collect_immediate(&mut out);
            assert_eq!(queued(&set, out), vec![cb(7)]);
        }
    }

    #[test]
    fn invalid_fds_are_reported_once_then_detached() {
        let ep = epoll();
        // a number far above what the tests running alongside open (fds are numbered lowest first)
        let fd = 4000;
        assert_eq!(
            // SAFETY: F_GETFD only asks whether the number is open.
            unsafe { libc::fcntl(fd, libc::F_GETFD) },
            -1,
            "fd {fd} is not open"
        );
        let mut set = IoSet::default();
        let k = set.start(fd, READ, cb(9));
        set.sync(ep.as_raw_fd());
        let mut out = VecDeque::new();
        set.collect_immediate(&mut out);
        assert_eq!(queued(&set, out), vec![cb(9)]);
        let mut again = VecDeque::new();
        set.collect_immediate(&mut again);
        assert!(again.is_empty(), "reported once");
        assert!(!set.has_immediate());
        // Stopping the detached watcher still hands its callback back.
        assert_eq!(set.stop(k, ep.as_raw_fd()), Some(cb(9)));
    }

    #[test]
    fn reset_registrations_re_adds_every_watched_fd() {
        let ep = epoll();
        let (r, w) = pipe();
        let mut set = IoSet::default();
        set.start(r.as_raw_fd(), READ, cb(1));
        set.sync(ep.as_raw_fd());
        // a new epoll instance (after fork): nothing registered there yet
        let ep2 = epoll();
        set.reset_registrations();
        assert!(set.has_changes());
        set.sync(ep2.as_raw_fd());
        put(&w, b"x");
        let evs = ready(&ep2);
        assert_eq!(evs.len(), 1);
        let mut out = VecDeque::new();
        assert!(set.collect_event(evs[0].0, true, false, &mut out));
        assert_eq!(queued(&set, out), vec![cb(1)]);
    }
}
