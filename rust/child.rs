//! Child process watchers: children are reaped with waitpid(WNOHANG) whenever SIGCHLD was
//! caught, and once right after a watcher is created (the child may have exited before).
//! Only the pids that are watched are reaped (`waitpid(pid)`), so children that other code waits
//! for (a foreign event loop's child watchers, the program's own `waitpid`) are left alone;
//! a watcher for any child (pid 0) reaps every child (`waitpid(-1)`).

use crate::event_loop::Pending;
use crate::Callback;
use slotmap::{new_key_type, SlotMap};
use std::collections::VecDeque;

new_key_type! {
    /// Identifies one child watcher.
    pub(crate) struct ChildKey;
}

struct ChildWatcher {
    /// The pid watched, or 0 for any child.
    pid: i32,
    cb: Callback,
}

#[derive(Default)]
pub(crate) struct Children {
    watchers: SlotMap<ChildKey, ChildWatcher>,
    /// A reap pass is due even without SIGCHLD (a watcher was just created).
    pub(crate) reap_due: bool,
}

impl Children {
    pub(crate) fn start(&mut self, pid: i32, cb: Callback) -> ChildKey {
        self.reap_due = true;
        self.watchers.insert(ChildWatcher { pid, cb })
    }

    pub(crate) fn stop(&mut self, key: ChildKey) -> Option<Callback> {
        self.watchers.remove(key).map(|w| w.cb)
    }

    pub(crate) fn callback(&self, key: ChildKey) -> Option<Callback> {
        self.watchers.get(key).map(|w| w.cb)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }

    /// Reaps the exited children that are watched (every child when a watcher for any child
    /// exists) and queues the watchers for its pid and the catch-all ones.
    pub(crate) fn reap(&mut self, out: &mut VecDeque<Pending>) {
        self.reap_due = false;
        if self.watchers.values().any(|w| w.pid == 0) {
            loop {
                let mut status = 0;
                // SAFETY: status is a valid out pointer for the duration of the call.
                let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
                if pid <= 0 {
                    break;
                }
                self.queue(pid, status, out);
            }
            return;
        }
        let mut pids: Vec<i32> = self.watchers.values().map(|w| w.pid).collect();
        pids.sort_unstable();
        pids.dedup();
        for pid in pids {
            let mut status = 0;
            // SAFETY: as above.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                self.queue(pid, status, out);
            }
        }
    }

    fn queue(&self, pid: i32, status: i32, out: &mut VecDeque<Pending>) {
        for (key, w) in &self.watchers {
            if w.pid == pid || w.pid == 0 {
                out.push_back(Pending::Child(key, pid, status));
            }
        }
    }
}
