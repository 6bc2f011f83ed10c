//! Child process watchers: children are reaped with waitpid(WNOHANG) whenever SIGCHLD was
//! caught, and once right after a watcher is created (the child may have exited before).
//! Only the pids that are watched are reaped (`waitpid(pid)`), so children that other code waits
//! for (a foreign event loop's child watchers, the program's own `waitpid`) are left alone;
//! a watcher for any child (pid 0) reaps every child (`waitpid(-1)`), except the pids a foreign
//! event loop reaps itself ([`Children::set_foreign`]: a model reports those children to the
//! watchers for any child on its own).

use crate::event_loop::Pending;
use crate::Callback;
use slotmap::{new_key_type, SlotMap};
use std::collections::{HashSet, VecDeque};

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
    /// Pids a foreign loop waits for: the watchers for any child leave them alone.
    foreign: HashSet<i32>,
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

    /// Marks `pid` as reaped by a foreign loop (or no longer); a reap pass is due either way.
    pub(crate) fn set_foreign(&mut self, pid: i32, foreign: bool) {
        if foreign {
            self.foreign.insert(pid);
        } else {
            self.foreign.remove(&pid);
        }
        self.reap_due = true;
    }

    /// Reaps the exited children that are watched (every child when a watcher for any child
    /// exists, but those a foreign loop waits for) and queues the watchers for its pid and the
    /// catch-all ones.
    pub(crate) fn reap(&mut self, out: &mut VecDeque<Pending>) {
        self.reap_due = false;
        if self.watchers.values().any(|w| w.pid == 0) {
            if self.foreign.is_empty() {
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
            while let Some(pid) = peek_exited() {
                if self.foreign.contains(&pid) {
                    // waitid reports this one until its loop reaps it: look for the others
                    self.reap_listed(out);
                    break;
                }
                let mut status = 0;
                // SAFETY: status is a valid out pointer for the duration of the call.
                if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } != pid {
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

    /// Reaps every exited child of ours but the foreign ones, found through
    /// /proc/self/task/*/children (nothing when that cannot be read: the next pass, due when a
    /// foreign pid is given up, finds them).
    fn reap_listed(&mut self, out: &mut VecDeque<Pending>) {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return;
        };
        let mut pids: Vec<i32> = tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|list| {
                list.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect::<Vec<i32>>()
            })
            .filter(|pid| !self.foreign.contains(pid))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        for pid in pids {
            let mut status = 0;
            // SAFETY: status is a valid out pointer for the duration of the call.
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

/// An exited child, left unreaped (`waitid` with `WNOWAIT`).
fn peek_exited() -> Option<i32> {
    // SAFETY: a zeroed siginfo_t is a valid out-parameter; si_pid stays 0 when no child has
    // exited.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid out pointer for the duration of the call.
    let r = unsafe {
        libc::waitid(
            libc::P_ALL,
            0,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled a SIGCHLD siginfo, or left it zeroed.
    let pid = unsafe { info.si_pid() };
    (r == 0 && pid > 0).then_some(pid)
}
