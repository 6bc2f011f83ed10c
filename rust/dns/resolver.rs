//! The query state machine: wire queries (ids, retries over servers and timeouts, TCP
//! fallback, answer matching) and the resolver's public face. Look-ups built on them (search
//! list, CNAME chains, cache, hosts fallback) are in [`super::lookup`]; the resolvers as a
//! source of the event loop in [`super::source`].
//!
//! The resolver owns its sockets ([`super::transport`]) and is driven by its owner, the loop:
//! it is told of readiness ([`Resolver::on_token`]) and of passed deadlines
//! ([`Resolver::on_timeout`], for [`Resolver::next_deadline`]); after each call the owner runs
//! [`Resolver::sync`], which registers new sockets with the loop's poller and deregisters and
//! closes the ones done with (as the loop's io watchers sync their interest once per
//! iteration). Finished requests wait in a queue ([`Resolver::next_completion`]) until the loop
//! hands their callbacks to the glue.

use super::cache::{self, Cache};
use super::hosts::Hosts;
use super::lookup::Lookup;
use super::question::QuestionMemo;
use super::transport::{
    RecvBatch, TcpExchange, UdpSock, POOL_SIZE, QUERIES_PER_SOCKET, RECV_BATCH,
};
use super::value::Value;
use super::wire;
use crate::Callback;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::Name;
use mio::{Registry, Token};
use slotmap::{new_key_type, SlotMap};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

new_key_type! {
    pub(crate) struct WireKey;
    pub(crate) struct LookupKey;
    pub(crate) struct SockKey;
}

/// Datagrams read per readiness report, so one busy socket cannot starve the loop; a socket
/// that had more is read again at the next iteration (mio reports readiness once per edge).
const MAX_DATAGRAMS_PER_WAKEUP: usize = 512;

/// The DNS port, where a server address without one is asked.
pub(crate) const DNS_PORT: u16 = 53;

/// The resolver's configuration. Its [`Default`] is the one set of defaults: AnyEvent::DNS
/// reads them from here (`aers_dns_tables`).
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) servers: Vec<SocketAddr>,
    pub(crate) timeouts: Vec<Duration>,
    pub(crate) search: Vec<Vec<u8>>,
    pub(crate) ndots: usize,
    pub(crate) max_outstanding: usize,
    pub(crate) reuse: Duration,
    /// EDNS0 payload size advertised in queries, or none to send plain queries.
    pub(crate) edns_payload: Option<u16>,
    pub(crate) cache: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            servers: vec![SocketAddr::from(([127, 0, 0, 1], DNS_PORT))],
            timeouts: [2, 5, 5].iter().map(|&s| Duration::from_secs(s)).collect(),
            search: Vec::new(),
            ndots: 1,
            max_outstanding: 10,
            reuse: Duration::from_secs(300),
            // Fits one unfragmented packet on any usual path (DNS flag day 2020).
            edns_payload: Some(1232),
            cache: true,
        }
    }
}

/// A finished request: the callback and its arguments.
pub(crate) struct Completion {
    pub(crate) cb: Callback,
    pub(crate) args: Vec<Value>,
}

pub(super) enum Owner {
    Lookup(LookupKey),
    Raw(Callback),
}

struct Wire {
    owner: Owner,
    packet: Vec<u8>,
    name: Name,
    qtype: u16,
    qclass: u16,
    id: Option<u16>,
    attempt: usize,
    sock: Option<SockKey>,
    sent_to: Vec<SocketAddr>,
    deadline: Instant,
    timed_out: bool,
    tcp: Option<TcpExchange>,
    /// The query advertises EDNS0 (and may be asked again without it).
    edns: bool,
}

/// What a socket token stands for.
#[derive(Clone, Copy)]
enum FdOwner {
    Udp(SockKey),
    Tcp(WireKey),
}

/// A socket done with: deregistered, then closed, at the next [`Resolver::sync`].
enum Closing {
    Udp(UdpSock),
    Tcp(TcpExchange),
}

pub(crate) struct Resolver {
    pub(super) settings: Settings,
    /// (server, timeout) per try: every server with the first timeout, then the second ...
    tries: Vec<(SocketAddr, Duration)>,
    socks: SlotMap<SockKey, UdpSock>,
    /// The low half of each socket's mio token -> the socket.
    tokens: HashMap<u32, FdOwner>,
    last_token: u32,
    /// The high half of this resolver's mio tokens (set by its owner).
    pub(super) token_base: u64,
    /// Sockets not registered with the poller yet (tokens).
    fresh: Vec<u32>,
    closing: Vec<Closing>,
    /// UDP sockets left with datagrams to read after a wake-up's share.
    busy: Vec<SockKey>,
    /// A wake-up's share ([`MAX_DATAGRAMS_PER_WAKEUP`]; less in tests).
    datagrams_per_wakeup: usize,
    wires: SlotMap<WireKey, Wire>,
    by_id: HashMap<u16, WireKey>,
    blocked_ids: HashSet<u16>,
    reuse_queue: VecDeque<(Instant, u16)>,
    pub(super) waiting: VecDeque<WireKey>,
    outstanding: usize,
    deadlines: BinaryHeap<Reverse<(Instant, WireKey)>>,
    pub(super) lookups: SlotMap<LookupKey, Lookup>,
    done: VecDeque<Completion>,
    /// How many of `done` the owner was told about ([`Resolver::announce`]).
    announced: usize,
    /// Called (not consumed) when a request ends and a slot may have come free
    /// (AnyEvent::DNS's wait_for_slot).
    slot_cb: Option<Callback>,
    slot_wake: bool,
    pub(super) cache: Cache,
    /// Questions asked before, parsed and encoded.
    pub(super) questions: QuestionMemo,
    pub(super) hosts: Hosts,
    dropped: u64,
    tcp_exchanges: u64,
    /// Queries to send (socket, query, server): [`Resolver::transmit`] queues them,
    /// [`Resolver::sync`] sends them, a batch per socket.
    outbox: Vec<(SockKey, WireKey, SocketAddr)>,
    /// Where datagrams are read to.
    batch: RecvBatch,
}

impl Resolver {
    pub(crate) fn new(settings: Settings) -> Resolver {
        let mut r = Resolver {
            settings: Settings::default(),
            tries: Vec::new(),
            socks: SlotMap::with_key(),
            tokens: HashMap::new(),
            last_token: 0,
            token_base: 0,
            fresh: Vec::new(),
            closing: Vec::new(),
            busy: Vec::new(),
            datagrams_per_wakeup: MAX_DATAGRAMS_PER_WAKEUP,
            wires: SlotMap::with_key(),
            by_id: HashMap::new(),
            blocked_ids: HashSet::new(),
            reuse_queue: VecDeque::new(),
            waiting: VecDeque::new(),
            outstanding: 0,
            deadlines: BinaryHeap::new(),
            lookups: SlotMap::with_key(),
            done: VecDeque::new(),
            announced: 0,
            slot_cb: None,
            slot_wake: false,
            cache: Cache::default(),
            questions: QuestionMemo::default(),
            hosts: Hosts::default(),
            dropped: 0,
            tcp_exchanges: 0,
            outbox: Vec::new(),
            batch: RecvBatch::new(RECV_BATCH),
        };
        r.configure(settings);
        r
    }

    /// Replaces the configuration; requests in flight finish with the tries they have.
    pub(crate) fn configure(&mut self, mut settings: Settings) {
        if settings.servers.is_empty() {
            settings.servers = Settings::default().servers;
        }
        if settings.timeouts.is_empty() {
            settings.timeouts = Settings::default().timeouts;
        }
        settings.max_outstanding = settings.max_outstanding.max(1);
        self.tries = settings
            .timeouts
            .iter()
            .flat_map(|&t| settings.servers.iter().map(move |&s| (s, t)))
            .collect();
        if !settings.cache {
            self.cache.clear();
        }
        self.settings = settings;
        self.schedule();
    }

    /// The search list and `ndots` in effect.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Answers dropped because they did not match a query (id, question, source) or did not
    /// parse.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Truncated answers retried over TCP so far.
    pub(crate) fn tcp_exchanges(&self) -> u64 {
        self.tcp_exchanges
    }

    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding
    }

    pub(crate) fn queued(&self) -> usize {
        self.waiting.len()
    }

    /// Whether a request submitted now would go out at once.
    pub(crate) fn has_slot(&self) -> bool {
        self.outstanding < self.settings.max_outstanding && self.waiting.is_empty()
    }

    pub(crate) fn cache_len(&self) -> usize {
        self.cache.len()
    }

    pub(crate) fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// Whether requests are in flight or finished ones wait for their callbacks to run.
    pub(crate) fn is_active(&self) -> bool {
        !self.wires.is_empty() || !self.lookups.is_empty() || !self.done.is_empty()
    }

    /// The descriptors of the resolver's open sockets (for tests of fork handling).
    pub(crate) fn socket_fds(&self) -> Vec<i32> {
        let udp = self.socks.values().map(|s| s.fd());
        let tcp = self
            .wires
            .values()
            .filter_map(|w| w.tcp.as_ref().map(|t| t.fd()));
        udp.chain(tcp).collect()
    }

    // ---- requests ------------------------------------------------------------------------

    /// Sends a ready-made query packet (its id is replaced); the callback gets the decoded
    /// answer (as `dns_unpack` returns it), or nothing when no server answered.
    pub(crate) fn request(&mut self, cb: Callback, packet: Vec<u8>) -> Result<(), String> {
        let msg = Message::from_vec(&packet).map_err(|e| format!("not a DNS packet: {e}"))?;
        let q = msg.queries.first().ok_or("the request has no question")?;
        let key = self.new_wire(
            Owner::Raw(cb),
            packet,
            q.name().clone(),
            q.query_type().into(),
            q.query_class().into(),
            false,
        );
        self.waiting.push_back(key);
        self.schedule();
        Ok(())
    }

    // ---- wire queries --------------------------------------------------------------------

    /// A query waiting to be sent; `edns` tells whether its packet carries an OPT record.
    pub(super) fn new_wire(
        &mut self,
        owner: Owner,
        packet: Vec<u8>,
        name: Name,
        qtype: u16,
        qclass: u16,
        edns: bool,
    ) -> WireKey {
        self.wires.insert(Wire {
            owner,
            packet,
            name,
            qtype,
            qclass,
            id: None,
            attempt: 0,
            sock: None,
            sent_to: Vec::new(),
            deadline: Instant::now(),
            timed_out: false,
            tcp: None,
            edns,
        })
    }

    /// Sends waiting queries while fewer than `max_outstanding` are in flight.
    pub(super) fn schedule(&mut self) {
        while self.outstanding < self.settings.max_outstanding {
            let Some(&key) = self.waiting.front() else {
                break;
            };
            let Some(id) = self.alloc_id() else { break };
            self.waiting.pop_front();
            let w = &mut self.wires[key];
            w.id = Some(id);
            w.packet[..2].copy_from_slice(&id.to_be_bytes());
            self.by_id.insert(id, key);
            self.outstanding += 1;
            self.transmit(key);
        }
    }

    /// A random id neither in flight nor held back after a timeout.
    fn alloc_id(&mut self) -> Option<u16> {
        let now = Instant::now();
        while let Some(&(until, id)) = self.reuse_queue.front() {
            if until > now {
                break;
            }
            self.reuse_queue.pop_front();
            self.blocked_ids.remove(&id);
        }
        let free = |id: &u16| !self.by_id.contains_key(id) && !self.blocked_ids.contains(id);
        (0..64)
            .map(|_| rand::random::<u16>())
            .find(free)
            .or_else(|| {
                let start = rand::random::<u16>();
                (0..=u16::MAX).map(|i| start.wrapping_add(i)).find(free)
            })
    }

    /// Queues the query for its current try (sent at the next [`Resolver::sync`], which ends
    /// every call of the owner) and sets the try's deadline.
    fn transmit(&mut self, key: WireKey) {
        let (server, timeout) = self.tries[self.wires[key].attempt % self.tries.len()];
        // (no socket: the query is not sent and its try times out, as a lost datagram)
        if let Ok(sk) = self.socket_for(key, server.is_ipv6()) {
            self.outbox.push((sk, key, server));
        }
        let w = &mut self.wires[key];
        if !w.sent_to.contains(&server) {
            w.sent_to.push(server);
        }
        w.deadline = Instant::now() + timeout;
        self.deadlines.push(Reverse((w.deadline, key)));
    }

    fn new_token(&mut self, owner: FdOwner) -> u32 {
        self.last_token = self.last_token.wrapping_add(1).max(1);
        self.tokens.insert(self.last_token, owner);
        self.fresh.push(self.last_token);
        self.last_token
    }

    /// The UDP socket the query goes out on: the one it used before when the family matches
    /// (answers to earlier tries stay acceptable), else a random one of the pool.
    fn socket_for(&mut self, key: WireKey, v6: bool) -> io::Result<SockKey> {
        if let Some(sk) = self.wires[key].sock {
            if self.socks[sk].v6 == v6 {
                return Ok(sk);
            }
            self.release_socket(sk);
            self.wires[key].sock = None;
        }
        let live = |(_, s): &(SockKey, &UdpSock)| s.v6 == v6 && !s.retired;
        let n = self.socks.iter().filter(live).count();
        let sk = if n < POOL_SIZE {
            let sock = UdpSock::bind_random(v6)?;
            let sk = self.socks.insert(sock);
            self.socks[sk].token = self.new_token(FdOwner::Udp(sk));
            sk
        } else {
            let pick = rand::random_range(0..n);
            let (sk, _) = self.socks.iter().filter(live).nth(pick).expect("n live");
            sk
        };
        let s = &mut self.socks[sk];
        s.sent += 1;
        s.pending += 1;
        s.retired = s.sent >= QUERIES_PER_SOCKET;
        self.wires[key].sock = Some(sk);
        Ok(sk)
    }

    fn release_socket(&mut self, sk: SockKey) {
        let s = &mut self.socks[sk];
        s.pending -= 1;
        if s.retired && s.pending == 0 {
            let s = self.socks.remove(sk).expect("a live socket");
            self.tokens.remove(&s.token);
            self.closing.push(Closing::Udp(s));
        }
    }

    /// Moves to the next try, or fails the query when none is left.
    fn next_try(&mut self, key: WireKey) {
        self.drop_tcp(key);
        let w = &mut self.wires[key];
        w.attempt += 1;
        if w.attempt >= self.tries.len() {
            self.finish_wire(key, None);
        } else {
            self.transmit(key);
        }
    }

    fn drop_tcp(&mut self, key: WireKey) {
        if let Some(tcp) = self.wires[key].tcp.take() {
            self.tokens.remove(&tcp.token);
            self.closing.push(Closing::Tcp(tcp));
        }
    }

    /// Ends a wire query with its answer (or none) and hands the answer to its owner.
    fn finish_wire(&mut self, key: WireKey, answer: Option<(Message, &[u8])>) {
        self.drop_tcp(key);
        let w = self.wires.remove(key).expect("finishing a live query");
        if let Some(id) = w.id {
            self.by_id.remove(&id);
            self.outstanding -= 1;
            // An id that timed out may still see a late answer: keep it out of use a while.
            if w.timed_out {
                self.blocked_ids.insert(id);
                self.reuse_queue
                    .push_back((Instant::now() + self.settings.reuse, id));
            }
            self.slot_wake |= self.slot_cb.is_some();
        }
        if let Some(sk) = w.sock {
            self.release_socket(sk);
        }
        match w.owner {
            Owner::Raw(cb) => {
                let args = answer
                    .map(|(msg, raw)| vec![wire::message_value(&msg, raw)])
                    .unwrap_or_default();
                self.complete(cb, args);
            }
            Owner::Lookup(lk) => match answer {
                Some((msg, _)) => {
                    if self.settings.cache {
                        let ckey = || cache::key(&wire::name_bytes(&w.name), w.qtype, w.qclass);
                        self.cache.put(ckey, &msg, Instant::now());
                    }
                    self.on_answer(lk, &msg.answers, 0);
                }
                None => self.next_suffix(lk),
            },
        }
        self.schedule();
    }

    /// Queues a finished request's callback.
    pub(super) fn complete(&mut self, cb: Callback, args: Vec<Value>) {
        self.done.push_back(Completion { cb, args });
    }

    fn question_matches(w: &Wire, msg: &Message) -> bool {
        msg.metadata.message_type == MessageType::Response
            && msg.queries.len() == 1
            && wire::same_name(msg.queries[0].name(), &w.name)
            && u16::from(msg.queries[0].query_type()) == w.qtype
            && u16::from(msg.queries[0].query_class()) == w.qclass
    }

    // ---- readiness -----------------------------------------------------------------------

    /// One of the resolver's sockets (mio `token`) is ready.
    pub(crate) fn on_token(&mut self, token: u64, readable: bool, writable: bool) {
        let serial = token as u32;
        match self.tokens.get(&serial).copied() {
            Some(FdOwner::Udp(sk)) if readable => self.read_udp(sk),
            Some(FdOwner::Tcp(key)) => {
                if writable && !self.write_tcp(key) {
                    return;
                }
                // the exchange may have ended on the write side
                if readable
                    && matches!(self.tokens.get(&serial), Some(FdOwner::Tcp(k)) if *k == key)
                {
                    self.read_tcp(key);
                }
            }
            _ => {}
        }
    }

    /// Reads UDP sockets that had more datagrams than their last wake-up's share (called once
    /// per loop iteration, before the iteration's events).
    pub(crate) fn read_busy(&mut self) {
        for sk in std::mem::take(&mut self.busy) {
            self.read_udp(sk);
        }
    }

    /// Whether some socket is known to have datagrams waiting (read them without polling).
    pub(crate) fn has_busy(&self) -> bool {
        !self.busy.is_empty()
    }

    /// Writes what a TCP exchange has to write; false when that ended it (next try).
    fn write_tcp(&mut self, key: WireKey) -> bool {
        let tcp = self.wires[key]
            .tcp
            .as_mut()
            .expect("tcp token has an exchange");
        if tcp.wants_write() && tcp.on_writable().is_err() {
            self.next_try(key);
            return false;
        }
        true
    }

    fn read_udp(&mut self, sk: SockKey) {
        let mut batch = std::mem::replace(&mut self.batch, RecvBatch::new(0));
        let mut left = self.datagrams_per_wakeup;
        let mut drained = false;
        while left > 0 {
            let Some(sock) = self.socks.get(sk) else {
                drained = true;
                break;
            };
            match sock.recv_batch(&mut batch, left) {
                Ok(n) => {
                    left = left.saturating_sub(n);
                    for i in 0..n {
                        if let (data, Some(from)) = batch.datagram(i) {
                            self.on_datagram(sk, from, data);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    drained = true;
                    break;
                }
                // EINTR, or an error report queued on the socket (consumed by this call): the
                // datagrams behind it are still to be read.
                Err(_) => left -= 1,
            }
        }
        if !drained && !self.busy.contains(&sk) {
            self.busy.push(sk);
        }
        self.batch = batch;
    }

    /// Accepts a datagram only as the answer to a query in flight with the same id, sent on
    /// this socket to the server it came from, for the same question.
    fn on_datagram(&mut self, sk: SockKey, from: SocketAddr, data: &[u8]) {
        let key = match data
            .get(..2)
            .and_then(|id| self.by_id.get(&u16::from_be_bytes([id[0], id[1]])))
        {
            Some(&key) => key,
            None => return self.dropped += 1,
        };
        let w = &self.wires[key];
        if w.sock != Some(sk) || w.tcp.is_some() || !w.sent_to.contains(&from) {
            return self.dropped += 1;
        }
        let msg = match Message::from_vec(data) {
            Ok(m) if Self::question_matches(w, &m) => m,
            _ => return self.dropped += 1,
        };
        if msg.metadata.truncation {
            self.start_tcp(key, from);
        } else if w.edns
            && msg.metadata.response_code == ResponseCode::FormErr
            && msg.edns.is_none()
        {
            self.retry_without_edns(key);
        } else {
            self.finish_wire(key, Some((msg, data)));
        }
    }

    /// A server that does not know EDNS0 answers FORMERR (RFC 6891 6.2.2): ask it again,
    /// same id, without the OPT record.
    fn retry_without_edns(&mut self, key: WireKey) {
        let w = &mut self.wires[key];
        let id = w.id.unwrap_or(0);
        match wire::query_packet(id, &w.name, w.qtype, w.qclass, None) {
            Ok(packet) => {
                w.packet = packet;
                w.edns = false;
                self.transmit(key);
            }
            Err(_) => self.next_try(key),
        }
    }

    /// Retries a truncated answer's question over TCP to the same server, within the try's
    /// timeout restarted.
    fn start_tcp(&mut self, key: WireKey, server: SocketAddr) {
        let timeout = self.tries[self.wires[key].attempt % self.tries.len()].1;
        match TcpExchange::start(server, &self.wires[key].packet) {
            Ok(mut tcp) => {
                self.tcp_exchanges += 1;
                tcp.token = self.new_token(FdOwner::Tcp(key));
                let w = &mut self.wires[key];
                w.tcp = Some(tcp);
                w.deadline = Instant::now() + timeout;
                self.deadlines.push(Reverse((w.deadline, key)));
            }
            Err(_) => self.next_try(key),
        }
    }

    fn read_tcp(&mut self, key: WireKey) {
        let w = &mut self.wires[key];
        let tcp = w.tcp.as_mut().expect("tcp token has an exchange");
        match tcp.on_readable() {
            Ok(None) => {}
            Ok(Some(data)) => match Message::from_vec(&data) {
                Ok(msg) if Some(msg.metadata.id) == w.id && Self::question_matches(w, &msg) => {
                    self.finish_wire(key, Some((msg, &data)));
                }
                _ => {
                    self.dropped += 1;
                    self.next_try(key);
                }
            },
            Err(_) => self.next_try(key),
        }
    }

    /// Handles the deadlines passed at `now`: each expired try moves to the next one.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        while let Some(&Reverse((deadline, key))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if self.is_current_deadline(deadline, key) {
                self.wires[key].timed_out = true;
                self.next_try(key);
            }
        }
    }

    fn is_current_deadline(&self, deadline: Instant, key: WireKey) -> bool {
        self.wires
            .get(key)
            .is_some_and(|w| w.id.is_some() && w.deadline == deadline)
    }

    /// The next deadline of a try in flight (exact after [`Resolver::sync`], which drops the
    /// deadlines of tries that ended).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|&Reverse((at, _))| at)
    }

    fn drop_stale_deadlines(&mut self) {
        while let Some(&Reverse((deadline, key))) = self.deadlines.peek() {
            if self.is_current_deadline(deadline, key) {
                break;
            }
            self.deadlines.pop();
        }
    }

    // ---- the poller ----------------------------------------------------------------------

    /// After each call: registers the sockets opened since the last sync with `registry`,
    /// deregisters and closes the ones done with, and drops deadlines that no longer count.
    pub(crate) fn sync(&mut self, registry: &Registry) {
        // (a refused TCP registration moves to the next try, which may queue a query)
        while !self.fresh.is_empty() {
            self.register_fresh(registry);
        }
        self.send_queued();
        for closing in self.closing.drain(..) {
            match closing {
                Closing::Udp(mut s) => s.deregister(registry),
                Closing::Tcp(mut t) => t.deregister(registry),
            }
        }
        self.drop_stale_deadlines();
    }

    /// Sends the queued queries, a batch per socket (the queue's order kept within each).
    /// A query that ended meanwhile is not sent.
    fn send_queued(&mut self) {
        let mut outbox = std::mem::take(&mut self.outbox);
        let mut socks: Vec<SockKey> = Vec::new();
        for &(sk, _, _) in &outbox {
            if !socks.contains(&sk) {
                socks.push(sk);
            }
        }
        for sk in socks {
            let Some(sock) = self.socks.get(sk) else {
                continue;
            };
            let datagrams: Vec<(&[u8], SocketAddr)> = outbox
                .iter()
                .filter(|&&(s, _, _)| s == sk)
                .filter_map(|&(_, key, server)| Some((&self.wires.get(key)?.packet[..], server)))
                .collect();
            sock.send_all(&datagrams);
        }
        outbox.clear();
        self.outbox = outbox;
    }

    fn register_fresh(&mut self, registry: &Registry) {
        for serial in std::mem::take(&mut self.fresh) {
            let token = Token((self.token_base | serial as u64) as usize);
            match self.tokens.get(&serial).copied() {
                Some(FdOwner::Udp(sk)) => {
                    let s = &mut self.socks[sk];
                    // A socket the poller refuses would only time out: no more queries on it.
                    if s.register(registry, token).is_err() {
                        s.retired = true;
                    }
                }
                Some(FdOwner::Tcp(key)) => {
                    let tcp = self.wires[key].tcp.as_mut().expect("tcp token");
                    if tcp.register(registry, token).is_err() {
                        self.next_try(key);
                    }
                }
                None => {}
            }
        }
    }

    /// Registers every socket again (the loop replaced its poller, after taking them out of
    /// the old one with [`Resolver::deregister_all`]).
    pub(crate) fn reregister(&mut self, registry: &Registry) {
        self.fresh = self.tokens.keys().copied().collect();
        self.sync(registry);
    }

    /// Takes every socket out of `registry` (the resolver goes away, or the poller does).
    pub(crate) fn deregister_all(&mut self, registry: &Registry) {
        for s in self.socks.values_mut() {
            s.deregister(registry);
        }
        for w in self.wires.values_mut() {
            if let Some(t) = w.tcp.as_mut() {
                t.deregister(registry);
            }
        }
        for closing in self.closing.drain(..) {
            match closing {
                Closing::Udp(mut s) => s.deregister(registry),
                Closing::Tcp(mut t) => t.deregister(registry),
            }
        }
    }

    /// In a forked child: starts over with the same configuration (and wait_for_slot hook)
    /// but new sockets, forgetting the requests the parent has in flight (they are answered
    /// there). The parent's sockets are closed without touching the poller, which the child
    /// replaces. Returns the callbacks of the forgotten requests, to release.
    pub(crate) fn after_fork(&mut self) -> Vec<Callback> {
        let token_base = self.token_base;
        let slot_cb = self.slot_cb.take();
        let mut old = std::mem::replace(self, Resolver::new(self.settings.clone()));
        self.token_base = token_base;
        self.slot_cb = slot_cb;
        old.take_callbacks()
    }

    // ---- completions ---------------------------------------------------------------------

    /// The next finished request.
    pub(crate) fn next_completion(&mut self) -> Option<Completion> {
        let c = self.done.pop_front()?;
        self.announced = self.announced.saturating_sub(1);
        Some(c)
    }

    /// How many requests finished since the last call (the owner queues that many deliveries).
    pub(crate) fn announce(&mut self) -> usize {
        let n = self.done.len().saturating_sub(self.announced);
        self.announced = self.done.len();
        n
    }

    /// Sets the callback run when a slot may have come free; returns the one it replaces.
    pub(crate) fn set_slot_callback(&mut self, cb: Option<Callback>) -> Option<Callback> {
        std::mem::replace(&mut self.slot_cb, cb)
    }

    /// The wait_for_slot callback, for a slot that may have come free.
    pub(crate) fn slot_callback(&self) -> Option<Callback> {
        self.slot_cb
    }

    /// Whether a request ended since the last call while a wait_for_slot callback is set.
    pub(crate) fn take_slot_wake(&mut self) -> bool {
        std::mem::take(&mut self.slot_wake)
    }

    /// Every callback still held (the resolver is going away; none of them will be called).
    pub(crate) fn take_callbacks(&mut self) -> Vec<Callback> {
        let mut cbs: Vec<Callback> = self.done.drain(..).map(|c| c.cb).collect();
        self.announced = 0;
        cbs.extend(self.lookups.drain().map(|(_, l)| l.cb));
        cbs.extend(self.wires.drain().filter_map(|(_, w)| match w.owner {
            Owner::Raw(cb) => Some(cb),
            Owner::Lookup(_) => None,
        }));
        cbs.extend(self.slot_cb.take());
        cbs
    }
}

/// A resolver driven as the loop drives it (its own mio poller, readiness handed over,
/// deadlines expired, sockets synced), for the tests here and in rust/proptests.rs.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Completion, Resolver, Settings};
    use mio::{Events, Poll};
    use std::time::{Duration, Instant};

    pub(crate) struct Driver {
        pub(crate) poll: Poll,
        events: Events,
        pub(crate) r: Resolver,
    }

    impl Driver {
        pub(crate) fn new(settings: Settings) -> Driver {
            Driver {
                poll: Poll::new().unwrap(),
                events: Events::with_capacity(64),
                r: Resolver::new(settings),
            }
        }

        /// Registers the sockets the last calls opened (what the loop does after each call).
        pub(crate) fn sync(&mut self) {
            self.r.sync(self.poll.registry());
        }

        /// One wake-up: waits at most `wait` (and not past the next deadline) for readiness,
        /// reads busy sockets, hands the events over, expires due deadlines, syncs.
        pub(crate) fn turn(&mut self, wait: Duration) {
            self.sync();
            let wait = match self.r.next_deadline() {
                Some(at) => wait.min(at.saturating_duration_since(Instant::now())),
                None => wait,
            };
            let wait = if self.r.has_busy() {
                Duration::ZERO
            } else {
                wait
            };
            self.poll.poll(&mut self.events, Some(wait)).unwrap();
            self.r.read_busy();
            for e in self.events.iter() {
                let readable = e.is_readable() || e.is_read_closed() || e.is_error();
                let writable = e.is_writable() || e.is_write_closed() || e.is_error();
                self.r.on_token(e.token().0 as u64, readable, writable);
            }
            self.r.on_timeout(Instant::now());
            self.sync();
        }

        /// Turns until a request finished (at most `limit`).
        pub(crate) fn completion(&mut self, limit: Duration) -> Option<Completion> {
            let end = Instant::now() + limit;
            loop {
                if let Some(c) = self.r.next_completion() {
                    return Some(c);
                }
                let now = Instant::now();
                if now >= end {
                    return None;
                }
                self.turn(end - now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Driver;
    use super::*;
    use crate::dns::lookup::LookupRequest;
    use hickory_proto::op::{Edns, OpCode, Query};
    use hickory_proto::rr::rdata::{A, CNAME};
    use hickory_proto::rr::{RData, Record, RecordType};
    use std::net::{Ipv4Addr, TcpListener, UdpSocket};

    const LIMIT: Duration = Duration::from_secs(5);

    fn cb(n: usize) -> Callback {
        n as Callback
    }

    /// A DNS server played by the test: a UDP socket on loopback.
    struct Server {
        sock: UdpSocket,
    }

    impl Server {
        fn new() -> Server {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_read_timeout(Some(LIMIT)).unwrap();
            Server { sock }
        }

        fn addr(&self) -> SocketAddr {
            self.sock.local_addr().unwrap()
        }

        /// The next query (blocking, at most LIMIT), with the raw packet and its source.
        fn query(&self) -> (Message, Vec<u8>, SocketAddr) {
            let mut buf = [0u8; 4096];
            let (n, from) = self.sock.recv_from(&mut buf).expect("a query");
            (
                Message::from_vec(&buf[..n]).unwrap(),
                buf[..n].to_vec(),
                from,
            )
        }

        /// Whether a query is waiting (without blocking).
        fn has_query(&self) -> bool {
            self.sock.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 4096];
            let got = self.sock.peek_from(&mut buf).is_ok();
            self.sock.set_nonblocking(false).unwrap();
            got
        }

        fn send(&self, pkt: &[u8], to: SocketAddr) {
            self.sock.send_to(pkt, to).unwrap();
        }
    }

    fn name(text: &str) -> Name {
        wire::parse_name(text.as_bytes()).unwrap()
    }

    /// A response to `query` (id, question, flags as given) with these answer records.
    fn response(id: u16, qname: &Name, qtype: RecordType, answers: Vec<Record>) -> Message {
        let mut msg = Message::new(id, MessageType::Response, OpCode::Query);
        msg.metadata.recursion_desired = true;
        msg.metadata.recursion_available = true;
        msg.add_query(Query::query(qname.clone(), qtype));
        for a in answers {
            msg.add_answer(a);
        }
        msg
    }

    fn a_record(owner: &str, ip: [u8; 4]) -> Record {
        Record::from_rdata(name(owner), 60, RData::A(A(Ipv4Addr::from(ip))))
    }

    fn cname_record(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 60, RData::CNAME(CNAME(name(target))))
    }

    /// The answer to a query: the same id and question, these records.
    fn answer_to(query: &Message, answers: Vec<Record>) -> Vec<u8> {
        let q = &query.queries[0];
        response(query.metadata.id, q.name(), q.query_type(), answers)
            .to_vec()
            .unwrap()
    }

    fn settings(servers: Vec<SocketAddr>, timeouts_ms: &[u64]) -> Settings {
        Settings {
            servers,
            timeouts: timeouts_ms
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
            cache: false,
            ..Settings::default()
        }
    }

    fn lookup(name: &str, qtype: u16) -> LookupRequest {
        LookupRequest {
            name: Some(name.as_bytes().to_vec()),
            qtype,
            qclass: wire::CLASS_IN,
            search: None,
            accept: None,
            hosts_file: None,
        }
    }

    /// The addresses in a look-up's completion.
    fn addresses(c: &Completion) -> Vec<Vec<u8>> {
        c.args
            .iter()
            .map(|rr| match rr {
                Value::List(fields) => match &fields[4] {
                    Value::Bytes(b) => b.to_vec(),
                    other => panic!("not an address: {other:?}"),
                },
                other => panic!("not a record: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn ids_in_flight_are_distinct_and_answers_go_to_their_query() {
        let server = Server::new();
        // (150: what a default socket buffer of the server holds)
        let mut d = Driver::new(Settings {
            max_outstanding: 150,
            ..settings(vec![server.addr()], &[5000])
        });
        for i in 0..150 {
            d.r.resolve(cb(i + 1), lookup(&format!("h{i}.test."), wire::TYPE_A));
        }
        d.sync();
        assert_eq!(d.r.outstanding(), 150);
        let queries: Vec<_> = (0..150).map(|_| server.query()).collect();
        let ids: HashSet<u16> = queries.iter().map(|(q, _, _)| q.metadata.id).collect();
        assert_eq!(ids.len(), 150, "every query in flight has an id of its own");
        // answered in reverse order: each answer finishes its own look-up
        for (q, _, from) in queries.iter().rev() {
            let n: usize = wire::name_bytes(q.queries[0].name())[1..]
                .split(|&b| b == b'.')
                .next()
                .map(|d| std::str::from_utf8(d).unwrap().parse().unwrap())
                .unwrap();
            let owner = format!("h{n}.test");
            server.send(
                &answer_to(q, vec![a_record(&owner, [10, 0, (n / 256) as u8, n as u8])]),
                *from,
            );
        }
        let mut seen = 0;
        while let Some(c) = d.completion(LIMIT) {
            let n = c.cb as usize - 1;
            assert_eq!(
                addresses(&c),
                vec![format!("10.0.{}.{}", n / 256, n % 256).into_bytes()]
            );
            seen += 1;
            if seen == 150 {
                break;
            }
        }
        assert_eq!(seen, 150);
        assert_eq!(d.r.dropped(), 0);
        assert!(!d.r.is_active());
    }

    #[test]
    fn a_timed_out_id_is_not_reused_until_the_reuse_time_passed() {
        let server = Server::new();
        let mut d = Driver::new(Settings {
            reuse: Duration::from_secs(300),
            ..settings(vec![server.addr()], &[1000])
        });
        d.r.request(
            cb(1),
            wire::query_packet(0, &name("x.test"), 1, 1, None).unwrap(),
        )
        .unwrap();
        d.sync();
        let (q, _, from) = server.query();
        let id = q.metadata.id;
        d.r.on_timeout(d.r.next_deadline().unwrap());
        let c = d.r.next_completion().expect("timed out");
        assert!(c.args.is_empty(), "no answer: no arguments");
        assert!(d.r.blocked_ids.contains(&id));
        // a late answer to it is dropped
        server.send(&answer_to(&q, vec![a_record("x.test", [1, 2, 3, 4])]), from);
        d.turn(Duration::from_millis(200));
        assert_eq!(d.r.dropped(), 1);
        assert!(d.r.next_completion().is_none());
        // every other id taken but one: that one is chosen, never the blocked one
        let other = id.wrapping_add(1);
        d.r.blocked_ids
            .extend((0..=u16::MAX).filter(|&i| i != id && i != other));
        for _ in 0..20 {
            assert_eq!(d.r.alloc_id(), Some(other));
        }
        d.r.blocked_ids.insert(other);
        assert_eq!(d.r.alloc_id(), None, "no id left: the query waits");
        // once its reuse time passed, the id is free again
        d.r.reuse_queue[0].0 = Instant::now() - Duration::from_secs(1);
        assert_eq!(d.r.alloc_id(), Some(id));
    }

    #[test]
    fn tries_go_round_the_servers_once_per_timeout() {
        let (a, b) = (Server::new(), Server::new());
        let mut d = Driver::new(settings(vec![a.addr(), b.addr()], &[1000, 3000]));
        d.r.resolve(cb(7), lookup("t.test.", wire::TYPE_A));
        d.sync();
        let mut order = Vec::new();
        let mut ids = HashSet::new();
        let mut sources = HashSet::new();
        for step in 0..4 {
            let from_a = a.has_query();
            let (q, _, from) = if from_a { a.query() } else { b.query() };
            order.push(if from_a { 'a' } else { 'b' });
            ids.insert(q.metadata.id);
            sources.insert(from);
            let deadline = d.r.next_deadline().unwrap();
            // the try's timeout: the first round 1 s, the second 3 s
            let left = deadline.saturating_duration_since(Instant::now());
            let want = if step < 2 { 1000 } else { 3000 };
            assert!(
                left <= Duration::from_millis(want) && left > Duration::from_millis(want - 500)
            );
            assert!(d.r.next_completion().is_none());
            d.r.on_timeout(deadline);
            d.sync();
        }
        assert_eq!(order, ['a', 'b', 'a', 'b']);
        assert_eq!(ids.len(), 1, "the tries of a query keep its id");
        assert_eq!(sources.len(), 1, "... and its socket");
        let c = d.r.next_completion().expect("no try left");
        assert_eq!(c.cb, cb(7));
        assert!(c.args.is_empty());
        assert!(!a.has_query() && !b.has_query());
        assert_eq!(d.r.next_deadline(), None);
        assert_eq!(d.r.outstanding(), 0);
    }

    #[test]
    fn answers_must_match_id_source_and_question() {
        let server = Server::new();
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut d = Driver::new(settings(vec![server.addr()], &[5000]));
        d.r.resolve(cb(1), lookup("victim.test.", wire::TYPE_A));
        d.sync();
        let (q, _, from) = server.query();
        let id = q.metadata.id;
        let qname = q.queries[0].name().clone();
        let spoofs = [
            // wrong id
            response(
                id ^ 1,
                &qname,
                RecordType::A,
                vec![a_record("victim.test", [6, 6, 6, 1])],
            ),
            // wrong question: name, type
            response(
                id,
                &name("other.test"),
                RecordType::A,
                vec![a_record("other.test", [6, 6, 6, 2])],
            ),
            response(
                id,
                &qname,
                RecordType::AAAA,
                vec![a_record("victim.test", [6, 6, 6, 3])],
            ),
        ];
        for s in &spoofs {
            server.send(&s.to_vec().unwrap(), from);
        }
        server.send(&answer_to(&q, vec![])[..7], from); // a runt
                                                        // the right answer from the wrong source port
        stranger
            .send_to(
                &answer_to(&q, vec![a_record("victim.test", [6, 6, 6, 4])]),
                from,
            )
            .unwrap();
        // a query, not a response
        server.send(&wire::query_packet(id, &qname, 1, 1, None).unwrap(), from);
        server.send(
            &answer_to(&q, vec![a_record("VICTIM.test", [10, 9, 9, 9])]),
            from,
        );
        let c = d.completion(LIMIT).expect("the real answer");
        assert_eq!(addresses(&c), vec![b"10.9.9.9".to_vec()]);
        assert_eq!(d.r.dropped(), 6);
    }

    #[test]
    fn a_truncated_answer_is_fetched_again_over_tcp() {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        let server = Server {
            sock: UdpSocket::bind(addr).unwrap(),
        };
        server.sock.set_read_timeout(Some(LIMIT)).unwrap();
        let mut d = Driver::new(settings(vec![addr], &[5000]));
        d.r.resolve(cb(3), lookup("big.test.", wire::TYPE_A));
        d.sync();
        let (q, _, from) = server.query();
        let mut truncated = response(q.metadata.id, q.queries[0].name(), RecordType::A, vec![]);
        truncated.metadata.truncation = true;
        server.send(&truncated.to_vec().unwrap(), from);
        // the TCP side, served by a thread (blocking): one length-prefixed query, one answer
        let peer = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = tcp.accept().unwrap();
            conn.set_read_timeout(Some(LIMIT)).unwrap();
            let mut len = [0u8; 2];
            conn.read_exact(&mut len).unwrap();
            let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
            conn.read_exact(&mut query).unwrap();
            let q = Message::from_vec(&query).unwrap();
            let records = (1..=100)
                .map(|i| a_record("big.test", [10, 0, 0, i]))
                .collect();
            let ans = answer_to(&q, records);
            // in pieces (the reader collects them until the length is complete)
            conn.write_all(&(ans.len() as u16).to_be_bytes()).unwrap();
            conn.write_all(&ans[..ans.len() / 2]).unwrap();
            conn.write_all(&ans[ans.len() / 2..]).unwrap();
            q.metadata.id
        });
        let c = d.completion(LIMIT).expect("the answer over TCP");
        assert_eq!(peer.join().unwrap(), q.metadata.id, "the same id over TCP");
        assert_eq!(addresses(&c).len(), 100);
        assert_eq!(d.r.tcp_exchanges(), 1);
        assert!(
            d.r.socket_fds().len() == 1,
            "the TCP socket is closed (only the UDP one is left)"
        );
    }

    #[test]
    fn a_formerr_to_edns_is_asked_again_without_it() {
        let server = Server::new();
        let mut d = Driver::new(settings(vec![server.addr()], &[5000]));
        d.r.resolve(cb(4), lookup("old.test.", wire::TYPE_A));
        d.sync();
        let (q, _, from) = server.query();
        assert_eq!(q.edns.as_ref().map(Edns::max_payload), Some(1232));
        let mut formerr = response(q.metadata.id, q.queries[0].name(), RecordType::A, vec![]);
        formerr.metadata.response_code = ResponseCode::FormErr;
        server.send(&formerr.to_vec().unwrap(), from);
        d.turn(Duration::from_millis(500));
        let (again, _, from2) = server.query();
        assert!(again.edns.is_none(), "asked again without the OPT record");
        assert_eq!(again.metadata.id, q.metadata.id);
        assert_eq!(from2, from);
        // a FORMERR to a plain query is the answer
        server.send(&formerr.to_vec().unwrap(), from);
        let c = d.completion(LIMIT).expect("finished");
        assert!(c.args.is_empty());
        assert_eq!(d.r.dropped(), 0);
    }

    #[test]
    fn a_cname_chain_is_followed_by_asking_for_its_end() {
        let server = Server::new();
        let mut d = Driver::new(settings(vec![server.addr()], &[5000]));
        d.r.resolve(cb(5), lookup("alias.test.", wire::TYPE_A));
        d.sync();
        let (q, _, from) = server.query();
        server.send(
            &answer_to(
                &q,
                vec![
                    cname_record("alias.test", "mid.test"),
                    cname_record("mid.test", "end.test"),
                ],
            ),
            from,
        );
        d.turn(Duration::from_millis(500));
        let (q2, _, from) = server.query();
        assert_eq!(wire::name_bytes(q2.queries[0].name()), b"end.test");
        server.send(
            &answer_to(&q2, vec![a_record("end.test", [10, 7, 7, 7])]),
            from,
        );
        let c = d.completion(LIMIT).expect("the end's address");
        assert_eq!(addresses(&c), vec![b"10.7.7.7".to_vec()]);
    }

    #[test]
    fn the_search_list_is_asked_in_order_until_a_name_has_records() {
        let server = Server::new();
        let mut d = Driver::new(Settings {
            search: vec![b"one.test".to_vec(), b"two.test".to_vec()],
            ..settings(vec![server.addr()], &[5000])
        });
        d.r.resolve(cb(6), lookup("host", wire::TYPE_A));
        d.sync();
        let mut asked = Vec::new();
        for _ in 0..2 {
            let (q, _, from) = server.query();
            asked.push(wire::name_bytes(q.queries[0].name()));
            let records = if asked.len() == 2 {
                vec![a_record("host.two.test", [10, 2, 2, 2])]
            } else {
                vec![]
            };
            server.send(&answer_to(&q, records), from);
            d.turn(Duration::from_millis(500));
        }
        assert_eq!(
            asked,
            [b"host.one.test".to_vec(), b"host.two.test".to_vec()]
        );
        let c = d.completion(LIMIT).expect("found");
        assert_eq!(addresses(&c), vec![b"10.2.2.2".to_vec()]);
        assert!(!server.has_query(), "the name itself was not asked");
    }

    #[test]
    fn datagrams_beyond_a_wake_ups_share_are_read_at_the_next_turn() {
        // mio reports a socket's readiness once (edge-triggered): what one wake-up leaves
        // unread must be read without waiting for another report
        let server = Server::new();
        let mut d = Driver::new(settings(vec![server.addr()], &[5000]));
        d.r.datagrams_per_wakeup = 5;
        d.r.request(
            cb(1),
            wire::query_packet(0, &name("many.test"), 1, 1, None).unwrap(),
        )
        .unwrap();
        d.sync();
        let (q, _, from) = server.query();
        let junk = response(
            q.metadata.id ^ 1,
            q.queries[0].name(),
            RecordType::A,
            vec![],
        );
        for _ in 0..12 {
            server.send(&junk.to_vec().unwrap(), from);
        }
        server.send(&answer_to(&q, vec![]), from);
        d.turn(LIMIT);
        assert_eq!(d.r.dropped(), 5);
        assert!(d.r.has_busy(), "the socket is left to read");
        // the next turns do not wait: nothing more will be reported for the socket
        let t0 = Instant::now();
        d.turn(LIMIT);
        assert_eq!(d.r.dropped(), 10);
        d.turn(LIMIT);
        assert!(t0.elapsed() < Duration::from_secs(1));
        assert_eq!(d.r.dropped(), 12);
        assert!(!d.r.has_busy());
        let c = d.r.next_completion().expect("the answer behind the junk");
        assert_eq!(c.cb, cb(1));
        assert_eq!(c.args.len(), 1, "the decoded answer");
    }

    #[test]
    fn after_fork_the_state_starts_over_with_the_callbacks_handed_back() {
        let server = Server::new();
        let mut d = Driver::new(settings(vec![server.addr()], &[5000]));
        d.r.token_base = 7 << 32;
        d.r.resolve(cb(8), lookup("p.test.", wire::TYPE_A));
        d.r.set_slot_callback(Some(cb(9)));
        d.sync();
        let _ = server.query();
        let released = d.r.after_fork();
        assert_eq!(released, vec![cb(8)]);
        assert!(d.r.socket_fds().is_empty() && !d.r.is_active());
        assert_eq!(d.r.token_base, 7 << 32);
        assert_eq!(
            d.r.slot_callback(),
            Some(cb(9)),
            "the wait_for_slot hook stays"
        );
        assert_eq!(
            d.r.settings().servers,
            vec![server.addr()],
            "... and the configuration"
        );
    }
}
