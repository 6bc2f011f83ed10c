//! The resolvers as one source of the event loop, in the shape of calloop's `EventSource`:
//! the loop owns them (keyed by what AnyEvent::DNS holds), their sockets are registered with
//! the loop's mio poller under tokens of their own, their deadlines are consulted by
//! [`crate::event_loop::Loop::next_timeout`], and finished requests are queued with the
//! loop's other ready callbacks ([`Pending::Dns`]). After `fork` the loop's rebuild (its one
//! fork detector) makes the child's resolvers start over ([`DnsSource::after_fork`]).
//!
//! Tokens: [`TOKEN_SOURCE_BIT`] and [`DNS_TOKEN_BIT`] set, the resolver's number in bits
//! 32-61 (numbers are never reused), the socket's token within the resolver in the low half.

use super::resolver::{Completion, Resolver, Settings};
use crate::event_loop::Pending;
use crate::io::TOKEN_SOURCE_BIT;
use crate::Callback;
use mio::Registry;
use slotmap::{new_key_type, SlotMap};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

new_key_type! {
    /// Identifies one resolver (AnyEvent::DNS object).
    pub(crate) struct ResolverKey;
}

/// Set in the mio tokens of resolver sockets (with [`TOKEN_SOURCE_BIT`]).
pub(crate) const DNS_TOKEN_BIT: u64 = 1 << 62;
const NUMBER_MASK: u64 = (1 << 30) - 1;

/// Whether a mio token is a resolver socket's.
pub(crate) fn is_dns_token(token: u64) -> bool {
    token & (TOKEN_SOURCE_BIT | DNS_TOKEN_BIT) == TOKEN_SOURCE_BIT | DNS_TOKEN_BIT
}

/// Every resolver of the loop.
#[derive(Default)]
pub(crate) struct DnsSource {
    resolvers: SlotMap<ResolverKey, Resolver>,
    by_number: HashMap<u64, ResolverKey>,
    last_number: u64,
    /// Callbacks of a resolver that went away, for the glue to release.
    released: Vec<Callback>,
}

impl DnsSource {
    /// A new resolver with the given settings.
    pub(crate) fn insert(&mut self, settings: Settings) -> ResolverKey {
        self.last_number = (self.last_number + 1) & NUMBER_MASK;
        let number = self.last_number;
        let mut r = Resolver::new(settings);
        r.token_base = TOKEN_SOURCE_BIT | DNS_TOKEN_BIT | (number << 32);
        let key = self.resolvers.insert(r);
        self.by_number.insert(number, key);
        key
    }

    /// Removes a resolver: its sockets leave `registry` and close; its callbacks wait in
    /// [`DnsSource::take_released`].
    pub(crate) fn remove(&mut self, key: ResolverKey, registry: &Registry) -> bool {
        let Some(mut r) = self.resolvers.remove(key) else {
            return false;
        };
        self.by_number.remove(&((r.token_base >> 32) & NUMBER_MASK));
        r.deregister_all(registry);
        self.released.extend(r.take_callbacks());
        true
    }

    /// One callback of a removed resolver, to release.
    pub(crate) fn take_released(&mut self) -> Option<Callback> {
        self.released.pop()
    }

    pub(crate) fn get(&self, key: ResolverKey) -> Option<&Resolver> {
        self.resolvers.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: ResolverKey) -> Option<&mut Resolver> {
        self.resolvers.get_mut(key)
    }

    /// After a call on resolver `key` from the glue: syncs its sockets with `registry` and
    /// queues its finished requests into `out` (the loop's postponed callbacks: never run
    /// inside the call that made the request).
    pub(crate) fn settle(&mut self, key: ResolverKey, registry: &Registry, out: &mut Vec<Pending>) {
        if let Some(r) = self.resolvers.get_mut(key) {
            r.sync(registry);
            announce(key, r, |p| out.push(p));
        }
    }

    /// A readiness event for `token` (one of [`is_dns_token`]).
    pub(crate) fn on_event(&mut self, token: u64, readable: bool, writable: bool) {
        let number = (token >> 32) & NUMBER_MASK;
        if let Some(r) = self
            .by_number
            .get(&number)
            .and_then(|&k| self.resolvers.get_mut(k))
        {
            r.on_token(token, readable, writable);
        }
    }

    /// After the loop's poll, before its events: reads the sockets the last iteration left
    /// with datagrams (a wake-up reads a share only; mio will not report them again).
    pub(crate) fn read_busy(&mut self) {
        for r in self.resolvers.values_mut() {
            if r.has_busy() {
                r.read_busy();
            }
        }
    }

    /// After the loop's poll, once the events went to [`DnsSource::on_event`]: expires the
    /// deadlines passed at `now`, syncs the sockets with `registry`, and queues the finished
    /// requests (and wait_for_slot calls) into `out`.
    pub(crate) fn dispatch(
        &mut self,
        registry: &Registry,
        now: Instant,
        out: &mut VecDeque<Pending>,
    ) {
        for (key, r) in self.resolvers.iter_mut() {
            if r.next_deadline().is_some_and(|at| at <= now) {
                r.on_timeout(now);
            }
            r.sync(registry);
            announce(key, r, |p| out.push_back(p));
        }
    }

    /// The earliest deadline of all resolvers.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.resolvers
            .values()
            .filter_map(Resolver::next_deadline)
            .min()
    }

    /// Whether a socket has datagrams left to read (the loop must not wait).
    pub(crate) fn has_immediate(&self) -> bool {
        self.resolvers.values().any(Resolver::has_busy)
    }

    /// Whether requests are in flight (they keep an embedding loop running).
    pub(crate) fn is_active(&self) -> bool {
        self.resolvers.values().any(Resolver::is_active)
    }

    /// The next finished request of resolver `key` (none when it went away meanwhile).
    pub(crate) fn next_completion(&mut self, key: ResolverKey) -> Option<Completion> {
        self.resolvers.get_mut(key)?.next_completion()
    }

    /// The wait_for_slot callback of resolver `key`.
    pub(crate) fn slot_callback(&self, key: ResolverKey) -> Option<Callback> {
        self.resolvers.get(key)?.slot_callback()
    }

    /// The loop is about to replace its poller (not after a fork): takes every socket out of
    /// the old one.
    pub(crate) fn deregister_all(&mut self, registry: &Registry) {
        for r in self.resolvers.values_mut() {
            r.deregister_all(registry);
        }
    }

    /// The loop replaced its poller: registers every socket with the new one.
    pub(crate) fn reregister(&mut self, registry: &Registry) {
        for r in self.resolvers.values_mut() {
            r.reregister(registry);
        }
    }

    /// In a forked child, at the loop's rebuild: every resolver starts over with new sockets
    /// and without the parent's requests; their callbacks are queued into `out` for release.
    pub(crate) fn after_fork(&mut self, out: &mut Vec<Pending>) {
        for r in self.resolvers.values_mut() {
            out.extend(r.after_fork().into_iter().map(Pending::Release));
        }
    }
}

/// Queues one delivery per request `r` finished since the last time, then a wait_for_slot call
/// when a request ended.
fn announce(key: ResolverKey, r: &mut Resolver, mut push: impl FnMut(Pending)) {
    for _ in 0..r.announce() {
        push(Pending::Dns(key));
    }
    if r.take_slot_wake() {
        push(Pending::DnsSlot(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::lookup::LookupRequest;
    use crate::dns::value::Value;
    use crate::dns::wire;
    use crate::event_loop::{Loop, Ready};
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record, RecordType};
    use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
    use std::sync::MutexGuard;
    use std::time::Duration;

    fn serial() -> MutexGuard<'static, ()> {
        crate::PROCESS_STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cb(n: usize) -> Callback {
        n as Callback
    }

    fn server() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    fn settings(server: &UdpSocket, timeout: Duration) -> Settings {
        Settings {
            servers: vec![server.local_addr().unwrap()],
            timeouts: vec![timeout],
            cache: false,
            ..Settings::default()
        }
    }

    fn lookup(name: &str) -> LookupRequest {
        LookupRequest {
            name: Some(name.as_bytes().to_vec()),
            qtype: wire::TYPE_A,
            qclass: wire::CLASS_IN,
            search: None,
            accept: None,
            hosts_file: None,
        }
    }

    /// Answers the next query on `server` with one A record.
    fn answer(server: &UdpSocket) -> SocketAddr {
        let mut buf = [0u8; 2048];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        let q = Message::from_vec(&buf[..n]).unwrap();
        let qname = q.queries[0].name().clone();
        let mut msg = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
        msg.add_query(Query::query(qname.clone(), RecordType::A));
        msg.add_answer(Record::from_rdata(
            qname,
            60,
            RData::A(A(Ipv4Addr::new(10, 1, 1, 1))),
        ));
        server.send_to(&msg.to_vec().unwrap(), from).unwrap();
        from
    }

    /// Iterates the loop (at most 5 s) until it hands out a ready callback.
    fn next(lp: &mut Loop) -> Ready {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(r) = lp.next_ready() {
                return r;
            }
            assert!(Instant::now() < end, "nothing became ready");
            lp.poll_once(true).unwrap();
        }
    }

    #[test]
    fn a_request_finished_at_once_is_delivered_by_the_next_iteration() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let s = server();
        let key = lp.dns.insert(settings(&s, Duration::from_secs(5)));
        // an invalid name finishes inside the call, but is not handed out before the loop runs
        lp.with_resolver(key, |r| r.resolve(cb(1), lookup("a..b")))
            .unwrap();
        assert!(lp.next_ready().is_none(), "never inside the call");
        assert_eq!(lp.next_timeout(), Some(0.0));
        lp.poll_once(true).unwrap();
        let r = lp.next_ready().unwrap();
        assert_eq!((r.cb, r.owned, r.release), (cb(1), true, false));
        assert_eq!(r.args, Some(vec![]));
        assert!(lp.next_ready().is_none());
        assert!(!lp.is_active());
    }

    #[test]
    fn answers_come_through_the_loops_poller_and_deadlines_count_in_its_timeout() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let s = server();
        let key = lp.dns.insert(settings(&s, Duration::from_secs(3)));
        lp.with_resolver(key, |r| r.resolve(cb(2), lookup("www.test.")))
            .unwrap();
        assert!(lp.is_active(), "a request in flight keeps the loop active");
        let t = lp.next_timeout().unwrap();
        assert!(t > 2.0 && t <= 3.0, "the try's deadline: {t}");
        answer(&s);
        let r = next(&mut lp);
        assert_eq!(r.cb, cb(2));
        let args = r.args.unwrap();
        assert_eq!(args.len(), 1);
        assert!(matches!(&args[0], Value::List(f) if f[4] == Value::str("10.1.1.1")));
        assert_eq!(lp.next_timeout(), None, "no deadline left");
        assert!(!lp.is_active());
    }

    #[test]
    fn a_timeout_is_served_by_the_loops_wait() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let s = server();
        let key = lp.dns.insert(settings(&s, Duration::from_millis(50)));
        lp.set_slot_callback_for_test(key, cb(9));
        let t0 = Instant::now();
        lp.with_resolver(key, |r| r.resolve(cb(3), lookup("slow.test.")))
            .unwrap();
        let r = next(&mut lp);
        assert!(t0.elapsed() >= Duration::from_millis(50));
        assert_eq!((r.cb, r.args), (cb(3), Some(vec![])));
        // then the wait_for_slot callback, borrowed (the resolver keeps it)
        let slot = lp.next_ready().expect("the slot callback");
        assert_eq!((slot.cb, slot.owned), (cb(9), false));
    }

    #[test]
    fn a_removed_resolver_delivers_nothing_more_and_hands_back_its_callbacks() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let s = server();
        let key = lp.dns.insert(settings(&s, Duration::from_secs(5)));
        lp.with_resolver(key, |r| {
            r.resolve(cb(4), lookup("a..b"));
            r.resolve(cb(5), lookup("x.test."));
        })
        .unwrap();
        assert!(lp.remove_resolver(key).unwrap());
        let mut released = vec![lp.dns.take_released(), lp.dns.take_released()];
        released.sort();
        assert_eq!(released, vec![Some(cb(4)), Some(cb(5))]);
        assert_eq!(lp.dns.take_released(), None);
        lp.poll_once(false).unwrap();
        assert!(lp.next_ready().is_none(), "the queued delivery is skipped");
        let err = lp.with_resolver(key, |_| ()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }

    /// After fork, the child's first call on a resolver rebuilds the loop: the resolver starts
    /// over with sockets of its own, the parent's request is given up (its callback handed
    /// back for release), and the parent's resolver is untouched.
    #[test]
    fn after_fork_the_child_resolves_with_sockets_of_its_own() {
        let _g = serial();
        let mut lp = Loop::new().unwrap();
        let s = server();
        let key = lp.dns.insert(settings(&s, Duration::from_secs(5)));
        lp.with_resolver(key, |r| r.resolve(cb(6), lookup("p.test.")))
            .unwrap();
        let parent_fds = lp.dns.get(key).unwrap().socket_fds();
        let inode = |fd: i32| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok();
        let parent_sockets: Vec<_> = parent_fds.iter().map(|&fd| inode(fd)).collect();
        // SAFETY: the child runs only this closure's checks and then _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                lp.with_resolver(key, |r| r.resolve(cb(7), lookup("c.test.")))
                    .unwrap();
                let fds = lp.dns.get(key).unwrap().socket_fds();
                let fresh = fds.iter().all(|&fd| !parent_sockets.contains(&inode(fd)));
                lp.poll_once(false).unwrap();
                let r = lp.next_ready().unwrap();
                fresh && fds.len() == 1 && r.release && r.cb == cb(6)
            }))
            .unwrap_or(false);
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        assert!(pid > 0);
        let mut status = 0;
        // SAFETY: waits for the child just forked; status is a valid out-parameter.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        // the parent's request is still the parent's: its query (and the child's) arrived,
        // and the parent's answer reaches it
        let mut buf = [0u8; 512];
        let mut sources = Vec::new();
        for _ in 0..2 {
            let (n, from) = s.peek_from(&mut buf).unwrap();
            let q = Message::from_vec(&buf[..n]).unwrap();
            let is_parent = wire::name_bytes(q.queries[0].name()) == b"p.test";
            if is_parent {
                answer(&s);
            } else {
                s.recv_from(&mut buf).unwrap();
            }
            sources.push((is_parent, from));
        }
        assert_eq!(lp.dns.get(key).unwrap().socket_fds(), parent_fds);
        let r = next(&mut lp);
        assert_eq!(r.cb, cb(6));
        assert_eq!(r.args.map(|a| a.len()), Some(1));
    }
}
