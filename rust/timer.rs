//! Timers: a binary min-heap of deadlines (monotonic seconds) with each timer's heap position
//! tracked, so that stopping a timer is O(log n) and nothing dead is left in the heap.

use crate::event_loop::Pending;
use crate::Callback;
use slotmap::{new_key_type, SlotMap};

new_key_type! {
    /// Identifies one timer watcher.
    pub(crate) struct TimerKey;
}

/// Heap position of a timer that is not scheduled (one-shot timer that has fired).
const NOT_SCHEDULED: u32 = u32::MAX;

struct Timer {
    interval: f64,
    cb: Callback,
    heap_pos: u32,
    /// Creation order; breaks ties between equal deadlines so that they fire first-come first-served.
    seq: u32,
}

#[derive(Clone, Copy)]
struct HeapEntry {
    at: f64,
    key: TimerKey,
}

/// All timers of a loop.
#[derive(Default)]
pub(crate) struct Timers {
    timers: SlotMap<TimerKey, Timer>,
    heap: Vec<HeapEntry>,
    next_seq: u32,
    expired: Vec<(f64, u32, TimerKey)>,
}

impl Timers {
    /// Schedules `cb` at monotonic time `at`, then every `interval` seconds if `interval > 0`.
    pub(crate) fn start(&mut self, at: f64, interval: f64, cb: Callback) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let key = self.timers.insert(Timer {
            interval,
            cb,
            heap_pos: NOT_SCHEDULED,
            seq,
        });
        self.push(at, key);
        key
    }

    /// Forgets a timer; returns its callback so the owner can release it.
    pub(crate) fn stop(&mut self, key: TimerKey) -> Option<Callback> {
        let timer = self.timers.remove(key)?;
        if timer.heap_pos != NOT_SCHEDULED {
            self.remove_at(timer.heap_pos as usize);
        }
        Some(timer.cb)
    }

    /// The callback of a live timer.
    pub(crate) fn callback(&self, key: TimerKey) -> Option<Callback> {
        self.timers.get(key).map(|t| t.cb)
    }

    /// The earliest deadline, if any timer is scheduled.
    pub(crate) fn next_deadline(&self) -> Option<f64> {
        self.heap.first().map(|e| e.at)
    }

    /// Whether no timer is scheduled.
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Moves every timer due at `now` into `out`, in deadline order (creation order on ties);
    /// repeating timers are rescheduled one interval after their deadline, or one interval from
    /// `now` when they are that late (so each fires at most once per call).
    pub(crate) fn expire(&mut self, now: f64, out: &mut std::collections::VecDeque<Pending>) {
        while let Some(&top) = self.heap.first() {
            if top.at > now {
                break;
            }
            let timer = &self.timers[top.key];
            self.expired.push((top.at, timer.seq, top.key));
            if timer.interval > 0.0 {
                // Late by more than an interval: continue from now rather than firing a burst.
                let next = if top.at + timer.interval > now {
                    top.at + timer.interval
                } else {
                    now + timer.interval
                };
                self.heap[0].at = next;
                self.sift_down(0);
            } else {
                self.remove_at(0);
            }
        }
        if self.expired.len() > 1 {
            self.expired
                .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        out.extend(
            self.expired
                .drain(..)
                .map(|(_, _, key)| Pending::Timer(key)),
        );
    }

    fn push(&mut self, at: f64, key: TimerKey) {
        self.heap.push(HeapEntry { at, key });
        let pos = self.heap.len() - 1;
        self.sift_up(pos);
    }

    fn remove_at(&mut self, pos: usize) {
        let removed = self.heap.swap_remove(pos);
        if let Some(t) = self.timers.get_mut(removed.key) {
            t.heap_pos = NOT_SCHEDULED;
        }
        if pos < self.heap.len() {
            self.place(pos);
            let pos = self.sift_up(pos);
            self.sift_down(pos);
        }
    }

    fn place(&mut self, pos: usize) {
        let key = self.heap[pos].key;
        self.timers[key].heap_pos = pos as u32;
    }

    fn sift_up(&mut self, mut pos: usize) -> usize {
        let entry = self.heap[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if self.heap[parent].at <= entry.at {
                break;
            }
            self.heap[pos] = self.heap[parent];
            self.place(pos);
            pos = parent;
        }
        self.heap[pos] = entry;
        self.place(pos);
        pos
    }

    fn sift_down(&mut self, mut pos: usize) {
        let entry = self.heap[pos];
        let len = self.heap.len();
        loop {
            let left = 2 * pos + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right].at < self.heap[left].at {
                right
            } else {
                left
            };
            if self.heap[child].at >= entry.at {
                break;
            }
            self.heap[pos] = self.heap[child];
            self.place(pos);
            pos = child;
        }
        self.heap[pos] = entry;
        self.place(pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn cb(n: usize) -> Callback {
        n as Callback
    }

    fn fired(t: &mut Timers, now: f64) -> Vec<Callback> {
        let mut out = VecDeque::new();
        t.expire(now, &mut out);
        out.into_iter()
            .map(|p| match p {
                Pending::Timer(k) => t.callback(k).unwrap(),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn fires_in_deadline_then_creation_order() {
        let mut t = Timers::default();
        t.start(2.0, 0.0, cb(1));
        t.start(1.0, 0.0, cb(2));
        t.start(1.0, 0.0, cb(3));
        t.start(5.0, 0.0, cb(4));
        assert_eq!(fired(&mut t, 0.5), vec![]);
        assert_eq!(fired(&mut t, 3.0), vec![cb(2), cb(3), cb(1)]);
        assert_eq!(t.next_deadline(), Some(5.0));
    }

    #[test]
    fn stop_removes_from_heap() {
        let mut t = Timers::default();
        let keys: Vec<_> = (0..100)
            .map(|i| t.start(i as f64, 0.0, cb(i + 1)))
            .collect();
        for k in keys.iter().step_by(2) {
            assert!(t.stop(*k).is_some());
        }
        let all = fired(&mut t, 1000.0);
        assert_eq!(
            all,
            (0..100)
                .filter(|i| i % 2 == 1)
                .map(|i| cb(i + 1))
                .collect::<Vec<_>>()
        );
        assert!(t.is_empty());
    }

    #[test]
    fn interval_reschedules_without_drift() {
        let mut t = Timers::default();
        t.start(1.0, 0.5, cb(1));
        assert_eq!(fired(&mut t, 1.1).len(), 1);
        assert_eq!(t.next_deadline(), Some(1.5));
        assert_eq!(fired(&mut t, 10.0).len(), 1);
        assert_eq!(t.next_deadline(), Some(10.5));
    }
}
