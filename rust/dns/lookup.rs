//! Look-ups as `resolve` makes them: the search list and `ndots`, CNAME chains, the answer
//! cache and the hosts-file fallback, on top of the resolver's wire queries.
//!
//! The rules themselves are pure functions, used both by the look-up state machine here and,
//! through the C ABI, by AnyEvent::DNS's `resolve` for a subclass that overrides `request`
//! (which makes the same look-up with its own `request` calls): [`search_names`] (which names
//! are asked, in which order), [`Accept`] (which record types answer) and [`examine`] (what an
//! answer means: the records, a CNAME target to ask for, or the next name).

use super::cache;
use super::resolver::{LookupKey, Owner, Resolver};
use super::value::Value;
use super::wire::{self, CLASS_IN, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_CNAME};
use crate::Callback;
use hickory_proto::rr::{Name, RData, Record};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

/// CNAME links followed per question before giving up (AnyEvent's limit).
pub(crate) const MAX_CNAME_DEPTH: u32 = 10;

/// The names a look-up asks for, in order, lower case and without a final dot: a name ending
/// in a dot is asked as it is; else, with `search` (the caller's list, or else the configured
/// one), a name with at least `ndots` dots is asked as it is first, then with each suffix,
/// while a shorter one is asked with each suffix first, then as it is. The empty suffix is
/// the name itself. Names are not checked here (one too long just finds nothing).
pub(crate) fn search_names(
    name: &[u8],
    search: Option<&[Vec<u8>]>,
    configured: &[Vec<u8>],
    ndots: usize,
) -> Vec<Vec<u8>> {
    let base = name.strip_suffix(b".");
    let suffixes: Vec<&[u8]> = match (base, search) {
        (Some(_), _) => vec![b""],
        (None, Some(search)) => search.iter().map(Vec::as_slice).collect(),
        (None, None) => {
            let as_is = std::iter::once(&b""[..]);
            let configured = configured.iter().map(Vec::as_slice);
            if name.iter().filter(|&&b| b == b'.').count() >= ndots {
                as_is.chain(configured).collect()
            } else {
                configured.chain(as_is).collect()
            }
        }
    };
    let base = base.unwrap_or(name);
    suffixes
        .into_iter()
        .map(|suffix| {
            let mut full = base.to_ascii_lowercase();
            if !suffix.is_empty() {
                full.push(b'.');
                full.extend(
                    suffix
                        .strip_suffix(b".")
                        .unwrap_or(suffix)
                        .to_ascii_lowercase(),
                );
            }
            full
        })
        .collect()
}

/// What a look-up accepts as an answer.
#[derive(Debug, PartialEq)]
pub(crate) enum Accept {
    Any,
    Types(Vec<u16>),
}

impl Accept {
    /// The record types the caller accepts (`accept` option), else the query type; ANY (`*`)
    /// in either accepts everything.
    pub(crate) fn new(accept: Option<Vec<u16>>, qtype: u16) -> Accept {
        match accept {
            Some(types) if types.contains(&TYPE_ANY) => Accept::Any,
            Some(types) => Accept::Types(types),
            None if qtype == TYPE_ANY => Accept::Any,
            None => Accept::Types(vec![qtype]),
        }
    }

    /// Whether a record of type `rtype` (none: a type without a number) is an answer.
    fn takes(&self, rtype: Option<u16>) -> bool {
        match self {
            Accept::Any => true,
            Accept::Types(t) => rtype.is_some_and(|r| t.contains(&r)),
        }
    }
}

/// A record of an answer as [`examine`] looks at it.
pub(crate) trait AnswerRecord {
    /// How the look-up holds names.
    type Name;
    /// Whether the record is about `name` (without regard to case).
    fn owner_is(&self, name: &Self::Name) -> bool;
    /// Its type number (none: a type name that has no number).
    fn rtype(&self) -> Option<u16>;
    /// The target of a CNAME record.
    fn cname_target(&self) -> Option<Self::Name>;
}

impl AnswerRecord for Record {
    type Name = Name;
    fn owner_is(&self, name: &Name) -> bool {
        wire::same_name(&self.name, name)
    }
    fn rtype(&self) -> Option<u16> {
        Some(self.record_type().into())
    }
    fn cname_target(&self) -> Option<Name> {
        match &self.data {
            RData::CNAME(target) => Some(target.0.clone()),
            _ => None,
        }
    }
}

/// What an answer means for a look-up.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// These records (indices into the answer) are the result.
    Found(Vec<usize>),
    /// The answer's CNAME chain ends at a name it has no records for: ask for that name.
    Ask,
    /// Nothing for this name (or its CNAME chain is too long): go on with the next name.
    NextName,
}

/// Looks for the answer to the question about `current` in `answers`, as AnyEvent does:
/// records of an accepted type for the name end the look-up; else a CNAME for it moves the
/// question to its target (`current` changes, `depth` counts down the links left), within the
/// same answer while it has records for the target, else by asking again; else the look-up
/// goes on with its next name.
pub(crate) fn examine<R: AnswerRecord>(
    answers: &[R],
    current: &mut R::Name,
    accept: &Accept,
    depth: &mut u32,
) -> Verdict {
    let mut followed = false;
    loop {
        let found: Vec<usize> = (0..answers.len())
            .filter(|&i| answers[i].owner_is(current) && accept.takes(answers[i].rtype()))
            .collect();
        if !found.is_empty() {
            return Verdict::Found(found);
        }
        let cname = answers
            .iter()
            .filter(|r| r.owner_is(current) && r.rtype() == Some(TYPE_CNAME))
            .find_map(|r| r.cname_target());
        match cname {
            Some(target) => {
                if *depth == 0 {
                    return Verdict::NextName;
                }
                *depth -= 1;
                *current = target;
                followed = true;
            }
            None if followed => return Verdict::Ask,
            None => return Verdict::NextName,
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
    /// The names still to ask ([`search_names`]).
    pub(super) names: VecDeque<Vec<u8>>,
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
    pub(crate) fn resolve(&mut self, cb: Callback, req: LookupRequest) {
        let names = match &req.name {
            Some(name) => search_names(
                name,
                req.search.as_deref(),
                &self.settings.search,
                self.settings.ndots,
            ),
            None => Vec::new(),
        };
        let name = req.name.unwrap_or_default();
        let base = name
            .strip_suffix(b".")
            .unwrap_or(&name)
            .to_ascii_lowercase();
        let lookup = Lookup {
            cb,
            base,
            names: names.into(),
            current: Name::root(),
            qtype: req.qtype,
            qclass: req.qclass,
            accept: Accept::new(req.accept, req.qtype),
            depth: MAX_CNAME_DEPTH,
            hosts_file: req.hosts_file,
        };
        let key = self.lookups.insert(lookup);
        self.next_suffix(key);
    }

    /// Moves a look-up to its next name, or ends it when none is left.
    pub(super) fn next_suffix(&mut self, key: LookupKey) {
        loop {
            let l = &mut self.lookups[key];
            let Some(text) = l.names.pop_front() else {
                return self.finish_lookup(key, Vec::new());
            };
            let (qtype, qclass) = (l.qtype, l.qclass);
            // A name that is no domain name (a suffix making it too long, say) cannot match.
            let edns = self.settings.edns_payload;
            if let Some(q) = self.questions.get(&text, qtype, qclass, edns) {
                let l = &mut self.lookups[key];
                l.current = q.name;
                l.depth = MAX_CNAME_DEPTH;
                return self.ask_with(key, Some(q.packet));
            }
        }
    }

    /// Asks the look-up's current question, from the cache when it has the answer.
    pub(super) fn ask(&mut self, key: LookupKey) {
        self.ask_with(key, None)
    }

    /// [`Resolver::ask`], with the question's packet when it is at hand already.
    fn ask_with(&mut self, key: LookupKey, packet: Option<Vec<u8>>) {
        let l = &self.lookups[key];
        if self.settings.cache && !self.cache.is_empty() {
            let ckey = cache::key(&wire::name_bytes(&l.current), l.qtype, l.qclass);
            if let Some(hit) = self.cache.get(&ckey, Instant::now()) {
                return self.on_answer(key, &hit.answers, hit.age);
            }
        }
        let edns = self.settings.edns_payload;
        let packet = match packet {
            Some(p) => p,
            None => match wire::query_packet(0, &l.current, l.qtype, l.qclass, edns) {
                Ok(p) => p,
                Err(_) => return self.next_suffix(key),
            },
        };
        let (name, qtype, qclass) = (l.current.clone(), l.qtype, l.qclass);
        let wkey = self.new_wire(
            Owner::Lookup(key),
            packet,
            name,
            qtype,
            qclass,
            edns.is_some(),
        );
        self.waiting.push_back(wkey);
        self.schedule();
    }

    /// Goes on with a look-up after an answer (records aged `age` seconds in the cache).
    pub(super) fn on_answer(&mut self, key: LookupKey, answers: &[Record], age: u32) {
        let l = &mut self.lookups[key];
        match examine(answers, &mut l.current, &l.accept, &mut l.depth) {
            Verdict::Found(found) => {
                let found = found
                    .into_iter()
                    .map(|i| {
                        let r = &answers[i];
                        wire::record_value_ttl(r, r.ttl.saturating_sub(age))
                    })
                    .collect();
                self.finish_lookup(key, found);
            }
            Verdict::Ask => self.ask(key),
            Verdict::NextName => self.next_suffix(key),
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
        self.complete(l.cb, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn names(list: &[Vec<u8>]) -> Vec<String> {
        list.iter()
            .map(|n| String::from_utf8(n.clone()).unwrap())
            .collect()
    }

    fn list(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn search_list_order_by_ndots_and_final_dot() {
        let search = list(&["corp.test", "Other.Test."]);
        let s = |name: &str, custom: Option<&[Vec<u8>]>, ndots| {
            names(&search_names(name.as_bytes(), custom, &search, ndots))
        };
        // fewer dots than ndots: the suffixes first, then the name as it is
        assert_eq!(
            s("WWW", None, 1),
            ["www.corp.test", "www.other.test", "www"]
        );
        // at least ndots dots: the name first
        assert_eq!(
            s("db.test", None, 1),
            ["db.test", "db.test.corp.test", "db.test.other.test"]
        );
        assert_eq!(
            s("db.test", None, 2),
            ["db.test.corp.test", "db.test.other.test", "db.test"]
        );
        // a final dot: the name only
        assert_eq!(s("www.", None, 1), ["www"]);
        assert_eq!(s("www.", Some(&list(&["x.test"])), 5), ["www"]);
        // the caller's list replaces the configured one, ndots or not; empty: nothing
        assert_eq!(
            s("www", Some(&list(&["x.test", ""])), 1),
            ["www.x.test", "www"]
        );
        assert!(s("www", Some(&[]), 1).is_empty());
        // names are put together as AnyEvent does, checked later
        assert_eq!(s("", Some(&list(&["a.test", "."])), 1), [".a.test", "."]);
        assert_eq!(
            s("a..b", None, 1),
            ["a..b", "a..b.corp.test", "a..b.other.test"]
        );
    }

    #[test]
    fn accept_defaults_to_the_query_type_and_any_takes_all() {
        assert_eq!(Accept::new(None, TYPE_A), Accept::Types(vec![TYPE_A]));
        assert_eq!(Accept::new(None, TYPE_ANY), Accept::Any);
        assert_eq!(Accept::new(Some(vec![TYPE_A, TYPE_ANY]), 15), Accept::Any);
        assert_eq!(
            Accept::new(Some(vec![TYPE_CNAME]), TYPE_A),
            Accept::Types(vec![TYPE_CNAME])
        );
        assert!(Accept::Any.takes(None));
        assert!(!Accept::Types(vec![1]).takes(None));
    }

    fn n(text: &str) -> Name {
        wire::parse_name(text.as_bytes()).unwrap()
    }

    fn a(owner: &str, last: u8) -> Record {
        Record::from_rdata(n(owner), 60, RData::A(A(Ipv4Addr::new(10, 0, 0, last))))
    }

    fn aaaa(owner: &str) -> Record {
        Record::from_rdata(n(owner), 60, RData::AAAA(AAAA(Ipv6Addr::LOCALHOST)))
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(n(owner), 60, RData::CNAME(CNAME(n(target))))
    }

    fn run(answers: &[Record], name: &str, accept: Accept) -> (Verdict, String, u32) {
        let mut current = n(name);
        let mut depth = MAX_CNAME_DEPTH;
        let v = examine(answers, &mut current, &accept, &mut depth);
        (
            v,
            String::from_utf8(wire::name_bytes(&current)).unwrap(),
            depth,
        )
    }

    #[test]
    fn records_of_accepted_types_for_the_name_are_the_result() {
        let answers = [
            aaaa("h.test"),
            a("other.test", 1),
            a("H.Test", 2),
            a("h.test", 3),
        ];
        let (v, name, depth) = run(&answers, "h.test", Accept::new(None, TYPE_A));
        assert_eq!(v, Verdict::Found(vec![2, 3]));
        assert_eq!((name.as_str(), depth), ("h.test", MAX_CNAME_DEPTH));
        let (v, ..) = run(&answers, "h.test", Accept::Any);
        assert_eq!(v, Verdict::Found(vec![0, 2, 3]));
        let (v, ..) = run(&answers, "none.test", Accept::Any);
        assert_eq!(v, Verdict::NextName);
    }

    #[test]
    fn cname_chains_are_followed_within_the_answer_then_by_asking() {
        let chain = [
            cname("a.test", "b.test"),
            cname("b.test", "c.test"),
            a("c.test", 9),
        ];
        let (v, name, depth) = run(&chain, "a.test", Accept::new(None, TYPE_A));
        assert_eq!(v, Verdict::Found(vec![2]));
        assert_eq!((name.as_str(), depth), ("c.test", MAX_CNAME_DEPTH - 2));
        // the chain ends without records: ask for its end
        let (v, name, depth) = run(&chain[..2], "a.test", Accept::new(None, TYPE_A));
        assert_eq!(v, Verdict::Ask);
        assert_eq!((name.as_str(), depth), ("c.test", MAX_CNAME_DEPTH - 2));
        // cname accepted: the CNAME record is the answer
        let (v, ..) = run(
            &chain,
            "a.test",
            Accept::new(Some(vec![TYPE_CNAME]), TYPE_A),
        );
        assert_eq!(v, Verdict::Found(vec![0]));
    }

    #[test]
    fn a_chain_longer_than_ten_links_gives_up() {
        let links: Vec<Record> = (0..12)
            .map(|i| cname(&format!("l{i}.test"), &format!("l{}.test", i + 1)))
            .collect();
        let mut with_end = links.clone();
        with_end.push(a("l10.test", 1));
        // ten links reach l10.test, which has the record
        assert_eq!(
            run(&with_end, "l0.test", Accept::new(None, TYPE_A)).0,
            Verdict::Found(vec![12])
        );
        // an eleventh link is one too many
        let (v, name, depth) = run(&links, "l0.test", Accept::new(None, TYPE_A));
        assert_eq!(v, Verdict::NextName);
        assert_eq!((name.as_str(), depth), ("l10.test", 0));
        // a loop ends the same way
        let cycle = [cname("x.test", "y.test"), cname("y.test", "x.test")];
        assert_eq!(
            run(&cycle, "x.test", Accept::new(None, TYPE_A)).0,
            Verdict::NextName
        );
    }
}
