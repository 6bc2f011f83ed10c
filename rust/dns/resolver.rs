//! The query state machine: wire queries (ids, retries over servers and timeouts, TCP
//! fallback, answer matching) and the resolver's public face. Look-ups built on them (search
//! list, CNAME chains, cache, hosts fallback) are in [`super::lookup`].
//!
//! The glue drives it: it watches the descriptors [`Resolver::watch_list`] names, arms one timer
//! for [`Resolver::next_timeout`], calls [`Resolver::on_readable`], [`Resolver::on_writable`] and
//! [`Resolver::on_timeout`], and takes finished callbacks from [`Resolver::next_completion`].
//! Every entry point returns [`Flags`] telling the glue what to refresh.

use super::cache::{self, Cache};
use super::hosts::Hosts;
use super::lookup::Lookup;
use super::transport::{TcpExchange, UdpSock, POOL_SIZE, QUERIES_PER_SOCKET};
use super::value::Value;
use super::wire;
use crate::Callback;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::Name;
use slotmap::{new_key_type, SlotMap};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

new_key_type! {
    pub(crate) struct WireKey;
    pub(crate) struct LookupKey;
    pub(crate) struct SockKey;
}

/// The set of descriptors to watch changed: ask [`Resolver::watch_list`] again.
pub(crate) const FLAG_FDS: u32 = 1;
/// The next deadline is earlier than the one last reported: ask [`Resolver::next_timeout`].
pub(crate) const FLAG_TIMER: u32 = 2;
/// Callbacks are ready: take them with [`Resolver::next_completion`].
pub(crate) const FLAG_DONE: u32 = 4;
pub(crate) type Flags = u32;

/// Datagrams read per readiness report, so one busy socket cannot starve the loop.
const MAX_DATAGRAMS_PER_WAKEUP: usize = 512;

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
            servers: vec![SocketAddr::from(([127, 0, 0, 1], 53))],
            timeouts: [2, 5, 5].iter().map(|&s| Duration::from_secs(s)).collect(),
            search: Vec::new(),
            ndots: 1,
            max_outstanding: 10,
            reuse: Duration::from_secs(300),
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

enum FdOwner {
    Udp(SockKey),
    Tcp(WireKey),
}

pub(crate) struct Resolver {
    pub(super) settings: Settings,
    /// (server, timeout) per try: every server with the first timeout, then the second ...
    tries: Vec<(SocketAddr, Duration)>,
    socks: SlotMap<SockKey, UdpSock>,
    fds: HashMap<RawFd, FdOwner>,
    wires: SlotMap<WireKey, Wire>,
    by_id: HashMap<u16, WireKey>,
    blocked_ids: HashSet<u16>,
    reuse_queue: VecDeque<(Instant, u16)>,
    pub(super) waiting: VecDeque<WireKey>,
    outstanding: usize,
    deadlines: BinaryHeap<Reverse<(Instant, WireKey)>>,
    pub(super) lookups: SlotMap<LookupKey, Lookup>,
    pub(super) done: VecDeque<Completion>,
    pub(super) cache: Cache,
    pub(super) hosts: Hosts,
    dropped: u64,
    tcp_exchanges: u64,
    fds_changed: bool,
    armed: Option<Instant>,
    buf: Vec<u8>,
    serials: u64,
}

impl Resolver {
    pub(crate) fn new(settings: Settings) -> Resolver {
        let mut r = Resolver {
            settings: Settings::default(),
            tries: Vec::new(),
            socks: SlotMap::with_key(),
            fds: HashMap::new(),
            wires: SlotMap::with_key(),
            by_id: HashMap::new(),
            blocked_ids: HashSet::new(),
            reuse_queue: VecDeque::new(),
            waiting: VecDeque::new(),
            outstanding: 0,
            deadlines: BinaryHeap::new(),
            lookups: SlotMap::with_key(),
            done: VecDeque::new(),
            cache: Cache::default(),
            hosts: Hosts::default(),
            dropped: 0,
            tcp_exchanges: 0,
            fds_changed: false,
            armed: None,
            buf: vec![0; 65536],
            serials: 0,
        };
        r.configure(settings);
        r
    }

    /// Replaces the configuration; requests in flight finish with the tries they have.
    pub(crate) fn configure(&mut self, mut settings: Settings) -> Flags {
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
        self.flags()
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

    // ---- requests ------------------------------------------------------------------------

    /// Sends a ready-made query packet (its id is replaced); the callback gets the answer packet,
    /// or nothing when no server answered.
    pub(crate) fn request(&mut self, cb: Callback, packet: Vec<u8>) -> Result<Flags, String> {
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
        Ok(self.flags())
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

    /// Sends the query for its current try and sets the try's deadline.
    fn transmit(&mut self, key: WireKey) {
        let (server, timeout) = self.tries[self.wires[key].attempt % self.tries.len()];
        let sock = self.socket_for(key, server.is_ipv6()).ok();
        let w = &mut self.wires[key];
        if let Some(sk) = sock {
            // A failed send is a lost datagram: the try times out like one.
            let _ = self.socks[sk].socket.send_to(&w.packet, server);
        }
        if !w.sent_to.contains(&server) {
            w.sent_to.push(server);
        }
        w.deadline = Instant::now() + timeout;
        self.deadlines.push(Reverse((w.deadline, key)));
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
        let live: Vec<SockKey> = self
            .socks
            .iter()
            .filter(|(_, s)| s.v6 == v6 && !s.retired)
            .map(|(k, _)| k)
            .collect();
        let sk = if live.len() < POOL_SIZE {
            let mut sock = UdpSock::bind_random(v6)?;
            sock.serial = self.next_serial();
            let fd = sock.fd();
            let sk = self.socks.insert(sock);
            self.fds.insert(fd, FdOwner::Udp(sk));
            self.fds_changed = true;
            sk
        } else {
            live[rand::random_range(0..live.len())]
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
            let fd = s.fd();
            self.fds.remove(&fd);
            self.socks.remove(sk);
            self.fds_changed = true;
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
            self.fds.remove(&tcp.fd());
            self.fds_changed = true;
        }
    }

    /// Ends a wire query with its answer (or none) and hands the answer to its owner.
    fn finish_wire(&mut self, key: WireKey, answer: Option<(Message, Vec<u8>)>) {
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
        }
        if let Some(sk) = w.sock {
            self.release_socket(sk);
        }
        match w.owner {
            Owner::Raw(cb) => {
                let args = answer
                    .map(|(_, raw)| vec![Value::Bytes(raw)])
                    .unwrap_or_default();
                self.done.push_back(Completion { cb, args });
            }
            Owner::Lookup(lk) => match answer {
                Some((msg, _)) => {
                    if self.settings.cache {
                        let ckey = cache::key(&wire::name_bytes(&w.name), w.qtype, w.qclass);
                        self.cache.put(ckey, &msg, Instant::now());
                    }
                    self.on_answer(lk, &msg.answers, 0);
                }
                None => self.next_suffix(lk),
            },
        }
        self.schedule();
    }

    fn question_matches(w: &Wire, msg: &Message) -> bool {
        msg.metadata.message_type == MessageType::Response
            && msg.queries.len() == 1
            && wire::same_name(msg.queries[0].name(), &w.name)
            && u16::from(msg.queries[0].query_type()) == w.qtype
            && u16::from(msg.queries[0].query_class()) == w.qclass
    }

    // ---- readiness -----------------------------------------------------------------------

    pub(crate) fn on_readable(&mut self, fd: RawFd) -> Flags {
        match self.fds.get(&fd) {
            Some(&FdOwner::Udp(sk)) => self.read_udp(sk),
            Some(&FdOwner::Tcp(key)) => self.read_tcp(key),
            None => {}
        }
        self.flags()
    }

    pub(crate) fn on_writable(&mut self, fd: RawFd) -> Flags {
        if let Some(&FdOwner::Tcp(key)) = self.fds.get(&fd) {
            let tcp = self.wires[key]
                .tcp
                .as_mut()
                .expect("tcp fd has an exchange");
            match tcp.on_writable() {
                Ok(()) if !tcp.wants_write() => self.fds_changed = true,
                Ok(()) => {}
                Err(_) => self.next_try(key),
            }
        }
        self.flags()
    }

    fn read_udp(&mut self, sk: SockKey) {
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..MAX_DATAGRAMS_PER_WAKEUP {
            let Some(sock) = self.socks.get(sk) else {
                break;
            };
            match sock.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.on_datagram(sk, from, &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock, or an ICMP error report: nothing more to read now.
                Err(_) => break,
            }
        }
        self.buf = buf;
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
            self.finish_wire(key, Some((msg, data.to_vec())));
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
                tcp.serial = self.next_serial();
                self.fds.insert(tcp.fd(), FdOwner::Tcp(key));
                self.fds_changed = true;
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
        let tcp = w.tcp.as_mut().expect("tcp fd has an exchange");
        match tcp.on_readable() {
            Ok(None) => {}
            Ok(Some(data)) => match Message::from_vec(&data) {
                Ok(msg) if Some(msg.metadata.id) == w.id && Self::question_matches(w, &msg) => {
                    self.finish_wire(key, Some((msg, data)));
                }
                _ => {
                    self.dropped += 1;
                    self.next_try(key);
                }
            },
            Err(_) => self.next_try(key),
        }
    }

    /// Handles the deadlines that have passed: each expired try moves to the next one.
    pub(crate) fn on_timeout(&mut self) -> Flags {
        self.armed = None;
        let now = Instant::now();
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
        self.flags()
    }

    fn is_current_deadline(&self, deadline: Instant, key: WireKey) -> bool {
        self.wires
            .get(key)
            .is_some_and(|w| w.id.is_some() && w.deadline == deadline)
    }

    /// Seconds until the next deadline (the glue arms its timer for this), or none.
    pub(crate) fn next_timeout(&mut self) -> Option<f64> {
        self.drop_stale_deadlines();
        let &Reverse((deadline, _)) = self.deadlines.peek()?;
        self.armed = Some(deadline);
        Some(
            deadline
                .saturating_duration_since(Instant::now())
                .as_secs_f64(),
        )
    }

    fn drop_stale_deadlines(&mut self) {
        while let Some(&Reverse((deadline, key))) = self.deadlines.peek() {
            if self.is_current_deadline(deadline, key) {
                break;
            }
            self.deadlines.pop();
        }
    }

    pub(super) fn flags(&mut self) -> Flags {
        let mut flags = 0;
        if std::mem::take(&mut self.fds_changed) {
            flags |= FLAG_FDS;
        }
        self.drop_stale_deadlines();
        if let Some(&Reverse((deadline, _))) = self.deadlines.peek() {
            if self.armed.is_none_or(|armed| deadline < armed) {
                flags |= FLAG_TIMER;
            }
        }
        if !self.done.is_empty() {
            flags |= FLAG_DONE;
        }
        flags
    }

    fn next_serial(&mut self) -> u64 {
        self.serials += 1;
        self.serials
    }

    /// The descriptors to watch: (fd, true to write / false to read, serial). The serial tells
    /// a new socket from a closed one that had the same fd number.
    pub(crate) fn watch_list(&self) -> Vec<(RawFd, bool, u64)> {
        self.fds
            .values()
            .filter_map(|owner| match *owner {
                FdOwner::Udp(sk) => self.socks.get(sk).map(|s| (s.fd(), false, s.serial)),
                FdOwner::Tcp(key) => self
                    .wires
                    .get(key)?
                    .tcp
                    .as_ref()
                    .map(|t| (t.fd(), t.wants_write(), t.serial)),
            })
            .collect()
    }

    pub(crate) fn next_completion(&mut self) -> Option<Completion> {
        self.done.pop_front()
    }

    /// Every callback still held (the resolver is going away; none of them will be called).
    pub(crate) fn take_callbacks(&mut self) -> Vec<Callback> {
        let mut cbs: Vec<Callback> = self.done.drain(..).map(|c| c.cb).collect();
        cbs.extend(self.lookups.drain().map(|(_, l)| l.cb));
        cbs.extend(self.wires.drain().filter_map(|(_, w)| match w.owner {
            Owner::Raw(cb) => Some(cb),
            Owner::Lookup(_) => None,
        }));
        cbs
    }
}
