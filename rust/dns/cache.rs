//! Positive and negative answer cache for the resolver's look-ups, keyed by question.
//!
//! An answer is kept for the smallest TTL of its records; a negative answer (NXDOMAIN, or no
//! records of the type) for the TTL RFC 2308 gives it: the SOA record's TTL, capped by the
//! SOA minimum field. Answers without a TTL to go by (TTL 0, no SOA), truncated answers and
//! server failures are not kept.

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, Record};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Longest time anything is kept, whatever its TTL.
const MAX_TTL: u32 = 86_400;
const MAX_ENTRIES: usize = 10_000;

pub(crate) type Key = (Vec<u8>, u16, u16);

struct Entry {
    answers: Vec<Record>,
    stored: Instant,
    expires: Instant,
}

#[derive(Default)]
pub(crate) struct Cache {
    entries: HashMap<Key, Entry>,
}

/// A cached answer: its records and the whole seconds they have spent in the cache.
pub(crate) struct Hit {
    pub(crate) answers: Vec<Record>,
    pub(crate) age: u32,
}

pub(crate) fn key(name: &[u8], qtype: u16, qclass: u16) -> Key {
    (name.to_ascii_lowercase(), qtype, qclass)
}

impl Cache {
    pub(crate) fn get(&mut self, key: &Key, now: Instant) -> Option<Hit> {
        let entry = self.entries.get(key)?;
        if entry.expires <= now {
            self.entries.remove(key);
            return None;
        }
        let age = now.duration_since(entry.stored).as_secs() as u32;
        Some(Hit {
            answers: entry.answers.clone(),
            age,
        })
    }

    /// Keeps `msg`'s answer under the key `key` makes (only asked for an answer to keep).
    pub(crate) fn put(&mut self, key: impl FnOnce() -> Key, msg: &Message, now: Instant) {
        let Some(ttl) = cache_ttl(msg) else { return };
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.clear();
            }
        }
        let expires = now + Duration::from_secs(ttl.min(MAX_TTL) as u64);
        self.entries.insert(
            key(),
            Entry {
                answers: msg.answers.clone(),
                stored: now,
                expires,
            },
        );
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How long an answer may be kept, if at all.
fn cache_ttl(msg: &Message) -> Option<u32> {
    let rcode = msg.metadata.response_code;
    if msg.metadata.truncation {
        return None;
    }
    let ttl = if rcode == ResponseCode::NoError && !msg.answers.is_empty() {
        msg.answers.iter().map(|r| r.ttl).min()
    } else if rcode == ResponseCode::NoError || rcode == ResponseCode::NXDomain {
        msg.authorities.iter().find_map(|r| match &r.data {
            RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
            _ => None,
        })
    } else {
        None
    };
    ttl.filter(|&t| t > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::rdata::{A, SOA};
    use hickory_proto::rr::Name;

    fn answer(rcode: ResponseCode) -> Message {
        let mut m = Message::new(1, MessageType::Response, OpCode::Query);
        m.metadata.response_code = rcode;
        m
    }

    #[test]
    fn positive_answers_live_for_their_smallest_ttl() {
        let name = Name::from_ascii("a.test.").unwrap();
        let mut m = answer(ResponseCode::NoError);
        m.add_answer(Record::from_rdata(
            name.clone(),
            30,
            RData::A(A::new(10, 0, 0, 1)),
        ));
        m.add_answer(Record::from_rdata(name, 20, RData::A(A::new(10, 0, 0, 2))));
        assert_eq!(cache_ttl(&m), Some(20));
        m.metadata.truncation = true;
        assert_eq!(cache_ttl(&m), None);
    }

    #[test]
    fn negative_answers_use_the_soa() {
        let zone = Name::from_ascii("test.").unwrap();
        let soa = SOA::new(zone.clone(), zone.clone(), 1, 3600, 600, 86400, 60);
        let mut m = answer(ResponseCode::NXDomain);
        assert_eq!(cache_ttl(&m), None, "no SOA: not kept");
        m.add_authority(Record::from_rdata(zone, 300, RData::SOA(soa)));
        assert_eq!(cache_ttl(&m), Some(60), "capped by the SOA minimum");
        assert_eq!(cache_ttl(&answer(ResponseCode::ServFail)), None);
    }

    #[test]
    fn entries_expire() {
        let mut c = Cache::default();
        let mut m = answer(ResponseCode::NoError);
        m.add_answer(Record::from_rdata(
            Name::from_ascii("a.test.").unwrap(),
            5,
            RData::A(A::new(10, 0, 0, 1)),
        ));
        let now = Instant::now();
        c.put(|| key(b"A.test", 1, 1), &m, now);
        let hit = c
            .get(&key(b"a.TEST", 1, 1), now + Duration::from_secs(2))
            .expect("cached");
        assert_eq!(hit.age, 2);
        assert!(c
            .get(&key(b"a.test", 1, 1), now + Duration::from_secs(5))
            .is_none());
        assert_eq!(c.len(), 0);
    }
}
