//! Look-ups as `resolve` makes them: the search list and `ndots`, CNAME chains, the answer
//! cache and the hosts-file fallback, on top of the resolver's wire queries.

use super::cache;
use super::resolver::{Completion, Flags, LookupKey, Owner, Resolver};
use super::value::Value;
use super::wire::{self, CLASS_IN, TYPE_A, TYPE_AAAA, TYPE_ANY};
use crate::Callback;
use hickory_proto::rr::{Name, Record};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

/// CNAME links followed per question before giving up (AnyEvent's limit).
const MAX_CNAME_DEPTH: u32 = 10;

/// What a look-up accepts as an answer.
pub(crate) enum Accept {
    Any,
    Types(Vec<u16>),
}

impl Accept {
    fn takes(&self, rtype: u16) -> bool {
        match self {
            Accept::Any => true,
            Accept::Types(t) => t.contains(&rtype),
        }
    }
}

/// A look-up as `resolve` asks for it.
pub(crate) struct LookupRequest {
    /// The name asked for; none when the caller passed something that is no name at all
    /// (undef, wide characters): such a look-up finds nothing, like an invalid name.
    pub(crate) name: Option<Vec<u8>>,
    pub(crate) qtype: u16,
    pub(crate) qclass: u16,
    /// The search list to use instead of the configured one (with `ndots`).
    pub(crate) search: Option<Vec<Vec<u8>>>,
    pub(crate) accept: Option<Vec<u16>>,
    /// Hosts file to fall back to when DNS has no A/AAAA answer.
    pub(crate) hosts_file: Option<PathBuf>,
}

pub(super) struct Lookup {
    pub(super) cb: Callback,
    /// The name asked for, lower case, without a final dot (for the hosts fallback).
    pub(super) base: Vec<u8>,
    pub(super) suffixes: VecDeque<Vec<u8>>,
    pub(super) current: Name,
    pub(super) qtype: u16,
    pub(super) qclass: u16,
    pub(super) accept: Accept,
    pub(super) depth: u32,
    pub(super) hosts_file: Option<PathBuf>,
}

impl Resolver {
    /// Starts a look-up; its callback gets the matching records (none on failure). A name that
    /// is not a valid domain name (empty label, label over 63 octets, name over 255) cannot be
    /// asked: the look-up finds nothing (the hosts file may still have it), as AnyEvent 7.17
    /// ends up calling back with nothing. The callback is delivered from the loop all the same.
    pub(crate) fn resolve(&mut self, cb: Callback, req: LookupRequest) -> Flags {
        let is_name = req.name.is_some();
        let name = req.name.unwrap_or_default();
        let dotted = name.ends_with(b".");
        let base = name
            .strip_suffix(b".")
            .unwrap_or(&name)
            .to_ascii_lowercase();
        let first = match (is_name, wire::parse_name(&base)) {
            (true, Ok(first)) => first,
            _ => {
                let lookup = Lookup {
                    cb,
                    base,
                    suffixes: VecDeque::new(),
                    current: Name::root(),
                    qtype: req.qtype,
                    qclass: req.qclass,
                    accept: Accept::Any,
                    depth: 0,
                    hosts_file: req.hosts_file,
                };
                let key = self.lookups.insert(lookup);
                self.finish_lookup(key, Vec::new());
                return self.flags();
            }
        };
        let suffixes: VecDeque<Vec<u8>> = if dotted {
            VecDeque::from([Vec::new()])
        } else if let Some(search) = req.search {
            search.into()
        } else {
            let dots = base.iter().filter(|&&b| b == b'.').count();
            let configured = self.settings.search.iter().cloned();
            if dots >= self.settings.ndots {
                std::iter::once(Vec::new()).chain(configured).collect()
            } else {
                configured.chain(std::iter::once(Vec::new())).collect()
            }
        };
        let accept = match req.accept {
            Some(types) if types.contains(&TYPE_ANY) => Accept::Any,
            Some(types) => Accept::Types(types),
            None if req.qtype == TYPE_ANY => Accept::Any,
            None => Accept::Types(vec![req.qtype]),
        };
        let lookup = Lookup {
            cb,
            base,
            suffixes,
            current: first,
            qtype: req.qtype,
            qclass: req.qclass,
            accept,
            depth: MAX_CNAME_DEPTH,
            hosts_file: req.hosts_file,
        };
        let key = self.lookups.insert(lookup);
        self.next_suffix(key);
        self.flags()
    }

    /// Moves a look-up to its next search suffix, or ends it when none is left.
    pub(super) fn next_suffix(&mut self, key: LookupKey) {
        loop {
            let l = &mut self.lookups[key];
            let Some(suffix) = l.suffixes.pop_front() else {
                return self.finish_lookup(key, Vec::new());
            };
            let mut name = l.base.clone();
            if !suffix.is_empty() {
                name.push(b'.');
                name.extend_from_slice(suffix.strip_suffix(b".").unwrap_or(&suffix));
            }
            // A suffix making the name too long just cannot match.
            if let Ok(name) = wire::parse_name(&name) {
                l.current = name;
                l.depth = MAX_CNAME_DEPTH;
                return self.ask(key);
            }
        }
    }

    /// Asks the look-up's current question, from the cache when it has the answer.
    pub(super) fn ask(&mut self, key: LookupKey) {
        let l = &self.lookups[key];
        if self.settings.cache {
            let ckey = cache::key(&wire::name_bytes(&l.current), l.qtype, l.qclass);
            if let Some(hit) = self.cache.get(&ckey, Instant::now()) {
                return self.on_answer(key, &hit.answers, hit.age);
            }
        }
        let packet = match wire::query_packet(
            0,
            &l.current,
            l.qtype,
            l.qclass,
            self.settings.edns_payload,
        ) {
            Ok(p) => p,
            Err(_) => return self.next_suffix(key),
        };
        let (name, qtype, qclass) = (l.current.clone(), l.qtype, l.qclass);
        let edns = self.settings.edns_payload.is_some();
        let wkey = self.new_wire(Owner::Lookup(key), packet, name, qtype, qclass, edns);
        self.waiting.push_back(wkey);
        self.schedule();
    }

    /// Looks for the answer in `answers`, following CNAMEs as AnyEvent does: records of an
    /// accepted type for the current name end the look-up; else a CNAME for it moves the
    /// question to its target (within the same answer while it has records for it, else by
    /// asking again); else the next search suffix is tried.
    pub(super) fn on_answer(&mut self, key: LookupKey, answers: &[Record], age: u32) {
        let mut followed = false;
        loop {
            let l = &mut self.lookups[key];
            let found: Vec<Value> = answers
                .iter()
                .filter(|r| {
                    wire::same_name(&r.name, &l.current) && l.accept.takes(r.record_type().into())
                })
                .map(|r| wire::record_value_ttl(r, r.ttl.saturating_sub(age)))
                .collect();
            if !found.is_empty() {
                return self.finish_lookup(key, found);
            }
            let cname = answers.iter().find_map(|r| match &r.data {
                hickory_proto::rr::RData::CNAME(target) if wire::same_name(&r.name, &l.current) => {
                    Some(target.0.clone())
                }
                _ => None,
            });
            match cname {
                Some(target) => {
                    if l.depth == 0 {
                        return self.next_suffix(key);
                    }
                    l.depth -= 1;
                    l.current = target;
                    followed = true;
                }
                None if followed => return self.ask(key),
                None => return self.next_suffix(key),
            }
        }
    }

    pub(super) fn finish_lookup(&mut self, key: LookupKey, mut found: Vec<Value>) {
        let Some(l) = self.lookups.remove(key) else {
            return;
        };
        if found.is_empty() && l.qclass == CLASS_IN && (l.qtype == TYPE_A || l.qtype == TYPE_AAAA) {
            if let Some(path) = &l.hosts_file {
                let v6 = l.qtype == TYPE_AAAA;
                for addr in self.hosts.lookup(path, &l.base, v6) {
                    let rtype = if v6 { "aaaa" } else { "a" };
                    found.push(Value::List(vec![
                        Value::str(&l.base),
                        Value::str(rtype),
                        Value::str("in"),
                        Value::Int(0),
                        Value::str(addr),
                    ]));
                }
            }
        }
        self.done.push_back(Completion {
            cb: l.cb,
            args: found,
        });
    }
}
