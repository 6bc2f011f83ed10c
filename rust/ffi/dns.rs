//! C ABI of the DNS resolver (rust/dns), for `AnyEvent::DNS`'s glue (xs/dns.xsh). The loop
//! owns the resolvers (rust/dns/source.rs); the glue holds a resolver's key, passes callbacks
//! in as opaque pointers, and gets them back, with their arguments, among the loop's ready
//! callbacks (`aers_next_ready`). Configuration and request errors are EINVAL with their
//! message in the last-error channel; a key whose resolver is gone is EBADF.
//!
//! Safety, for every function here: `l` is the loop from `aers_loop_new` (as in
//! rust/ffi/watchers.rs); a pointer/length pair (also inside the `#[repr(C)]` argument structs)
//! points at that many readable values; every out-pointer points at a writable value of its
//! type. Nodes handed out stay valid until the next call.

use super::contract::{call, Fail, Status};
use super::{array, bytes, cb_or_null, hand_out, key_in, key_out};
use crate::dns::config::parse_resolv_conf;
use crate::dns::hosts::parse_hosts;
use crate::dns::lookup::MAX_CNAME_DEPTH;
use crate::dns::lookup::{examine, search_names, Accept, AnswerRecord, LookupRequest, Verdict};
use crate::dns::resolver::{Resolver, Settings, DNS_PORT};
use crate::dns::value::{FlatNode, Value};
use crate::dns::wire::{self, PackRequest};
use crate::event_loop::Loop;
use crate::Callback;
use hickory_proto::op::Message;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// [`aers_dns_examine`]: the answer has the records (their indices follow).
pub const AERS_DNS_FOUND: u32 = 1;
/// [`aers_dns_examine`]: ask for the name that follows (the end of a CNAME chain).
pub const AERS_DNS_ASK: u32 = 2;
/// [`aers_dns_examine`]: go on with the next name of the search list.
pub const AERS_DNS_NEXT_NAME: u32 = 3;

/// Copies `n` byte strings given as pointer and length arrays.
///
/// # Safety
/// Unless `n` is 0, `ptrs` and `lens` point at `n` values each, and each pointer at its length
/// in readable bytes.
unsafe fn byte_list(ptrs: *const *const u8, lens: *const usize, n: usize) -> Vec<Vec<u8>> {
    // SAFETY: the caller's guarantee.
    let (ptrs, lens) = unsafe { (array(ptrs, n), array(lens, n)) };
    ptrs.iter()
        .zip(lens)
        // SAFETY: the caller's guarantee.
        .map(|(&p, &len)| unsafe { bytes(p, len) }.to_vec())
        .collect()
}

/// The loop behind the glue's pointer.
///
/// # Safety
/// As in the module documentation.
unsafe fn lp<'a>(l: *mut Loop) -> &'a mut Loop {
    // SAFETY: the module's contract: the loop, and no other reference to it is live.
    unsafe { &mut *l }
}

/// A new resolver with the default settings; its key in `*key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_new(l: *mut Loop, key: *mut u64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let k = unsafe { lp(l) }.dns.insert(Settings::default());
        // SAFETY: the module's contract.
        unsafe { key.write(key_out(k)) };
        Ok(())
    })
}

/// Frees resolver `key` (closing its sockets); its callbacks, never to be called, are then
/// taken with [`aers_dns_take_callback`] for release.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_free(l: *mut Loop, key: u64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.remove_resolver(key_in(key))?;
        Ok(())
    })
}

/// One callback of a freed resolver in `*cb` (its reference passes to the glue), null when
/// none is left.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_take_callback(l: *mut Loop, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let next = unsafe { lp(l) }.dns.take_released();
        // SAFETY: the module's contract.
        unsafe { cb.write(cb_or_null(next)) };
        Ok(())
    })
}

/// Resolver settings, for [`aers_dns_configure`].
#[repr(C)]
pub struct AersDnsSettings {
    /// Server addresses as texts (`address` or `[v6]:port`), `nservers` of them.
    pub servers: *const *const u8,
    /// Their lengths.
    pub server_lens: *const usize,
    /// How many servers.
    pub nservers: usize,
    /// Timeouts of the successive tries, in seconds.
    pub timeouts: *const f64,
    /// How many timeouts.
    pub ntimeouts: usize,
    /// Search domains, `nsearch` of them.
    pub search: *const *const u8,
    /// Their lengths.
    pub search_lens: *const usize,
    /// How many search domains.
    pub nsearch: usize,
    /// Names with fewer dots are tried with the search domains first.
    pub ndots: u32,
    /// Requests in flight at most.
    pub max_outstanding: u32,
    /// Seconds before a request id may be used again.
    pub reuse: f64,
    /// EDNS0 payload size; 0: no EDNS0.
    pub edns_payload: u32,
    /// Non-zero: answers are cached.
    pub cache: i32,
}

/// Configures resolver `key`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_configure(
    l: *mut Loop,
    key: u64,
    s: *const AersDnsSettings,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let s = unsafe { &*s };
        let mut servers = Vec::new();
        // SAFETY: the module's contract (the arrays of the settings).
        for text in unsafe { byte_list(s.servers, s.server_lens, s.nservers) } {
            let text = String::from_utf8_lossy(&text).into_owned();
            match text.parse::<SocketAddr>() {
                Ok(a) => servers.push(a),
                Err(_) => {
                    return Err(Fail::msg(
                        libc::EINVAL,
                        format!("invalid server address '{text}'"),
                    ))
                }
            }
        }
        let mut timeouts = Vec::new();
        // SAFETY: the module's contract (the arrays of the settings).
        for &t in unsafe { array(s.timeouts, s.ntimeouts) } {
            if !(t.is_finite() && t > 0.) {
                return Err(Fail::msg(
                    libc::EINVAL,
                    format!("invalid timeout {t} (seconds, a positive number)"),
                ));
            }
            timeouts.push(Duration::from_secs_f64(t));
        }
        let settings = Settings {
            servers,
            timeouts,
            // SAFETY: the module's contract (the arrays of the settings).
            search: unsafe { byte_list(s.search, s.search_lens, s.nsearch) },
            ndots: s.ndots as usize,
            max_outstanding: s.max_outstanding as usize,
            reuse: Duration::from_secs_f64(s.reuse.max(0.)),
            edns_payload: (s.edns_payload > 0).then_some(s.edns_payload.min(65535) as u16),
            cache: s.cache != 0,
        };
        // SAFETY: the module's contract.
        unsafe { lp(l) }.with_resolver(key_in(key), |r| r.configure(settings))?;
        Ok(())
    })
}

/// A look-up, for [`aers_dns_resolve`] (and the name and search list for
/// [`aers_dns_search_names`]).
#[repr(C)]
pub struct AersDnsLookup {
    /// The name; null when the caller's name is no name at all (undef, wide characters).
    pub name: *const u8,
    /// Its length.
    pub name_len: usize,
    /// The query type.
    pub qtype: u16,
    /// The query class.
    pub qclass: u16,
    /// Non-zero: `search` replaces the configured search domains.
    pub has_search: i32,
    /// Search domains, `nsearch` of them.
    pub search: *const *const u8,
    /// Their lengths.
    pub search_lens: *const usize,
    /// How many search domains.
    pub nsearch: usize,
    /// Record types accepted in the answer, `naccept` of them.
    pub accept: *const u16,
    /// How many accepted types; -1: accept the query type only.
    pub naccept: isize,
    /// Hosts file for the A/AAAA fallback; length 0 for none.
    pub hosts: *const u8,
    /// Its length.
    pub hosts_len: usize,
}

impl AersDnsLookup {
    /// The name, none for no name at all.
    ///
    /// # Safety
    /// As in the module documentation.
    unsafe fn name(&self) -> Option<Vec<u8>> {
        // SAFETY: a non-null name points at name_len bytes of the caller's Perl string.
        (!self.name.is_null()).then(|| unsafe { bytes(self.name, self.name_len) }.to_vec())
    }

    /// The caller's search list, if it gave one.
    ///
    /// # Safety
    /// As in the module documentation.
    unsafe fn search(&self) -> Option<Vec<Vec<u8>>> {
        (self.has_search != 0)
            // SAFETY: the module's contract (the arrays of the look-up).
            .then(|| unsafe { byte_list(self.search, self.search_lens, self.nsearch) })
    }

    /// The accepted types, if given.
    ///
    /// # Safety
    /// As in the module documentation.
    unsafe fn accept(&self) -> Option<Vec<u16>> {
        (self.naccept >= 0).then(|| {
            // SAFETY: the module's contract (the arrays of the look-up).
            unsafe { array(self.accept, self.naccept as usize) }.to_vec()
        })
    }
}

/// Starts a look-up on resolver `key` whose result goes to `cb` (its reference now held by the
/// resolver; delivered through `aers_next_ready`, never before the next loop iteration).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_resolve(
    l: *mut Loop,
    key: u64,
    cb: Callback,
    look: *const AersDnsLookup,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let look = unsafe { &*look };
        // SAFETY: the module's contract (the buffers of the look-up).
        let hosts = unsafe { bytes(look.hosts, look.hosts_len) };
        let req = LookupRequest {
            // SAFETY: the module's contract (the buffers of the look-up).
            name: unsafe { look.name() },
            qtype: look.qtype,
            qclass: look.qclass,
            // SAFETY: the module's contract (the buffers of the look-up).
            search: unsafe { look.search() },
            // SAFETY: the module's contract (the buffers of the look-up).
            accept: unsafe { look.accept() },
            hosts_file: (!hosts.is_empty()).then(|| {
                PathBuf::from(std::ffi::OsStr::new(
                    std::str::from_utf8(hosts).unwrap_or("/etc/hosts"),
                ))
            }),
        };
        // SAFETY: the module's contract.
        unsafe { lp(l) }.with_resolver(key_in(key), |r| r.resolve(cb, req))?;
        Ok(())
    })
}

/// Sends the query packet `pkt` on resolver `key`; its answer (decoded, as `dns_unpack` returns
/// it; nothing when no server answered) goes to `cb` (its reference now held by the resolver).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_request(
    l: *mut Loop,
    key: u64,
    cb: Callback,
    pkt: *const u8,
    len: usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let pkt = unsafe { bytes(pkt, len) }.to_vec();
        // SAFETY: the module's contract.
        unsafe { lp(l) }
            .with_resolver(key_in(key), |r| r.request(cb, pkt))?
            .map_err(|msg| Fail::msg(libc::EINVAL, msg))
    })
}

/// Sets the callback resolver `key` has called (among the loop's ready callbacks) after a
/// request ended, when a slot may have come free (`wait_for_slot`); null removes it. The one
/// it replaces goes to `*old` for release (null when none).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_set_slot_callback(
    l: *mut Loop,
    key: u64,
    cb: Callback,
    old: *mut Callback,
) -> Status {
    call(|| {
        let cb = (!cb.is_null()).then_some(cb);
        // SAFETY: the module's contract.
        let prev = unsafe { lp(l) }.with_resolver(key_in(key), |r| r.set_slot_callback(cb))?;
        // SAFETY: the module's contract.
        unsafe { old.write(cb_or_null(prev)) };
        Ok(())
    })
}

/// Resolver statistics, for [`aers_dns_stats`].
#[repr(C)]
pub struct AersDnsStats {
    /// Replies dropped (no matching request, malformed).
    pub dropped: u64,
    /// Requests in flight.
    pub outstanding: u64,
    /// Requests waiting for a slot.
    pub queued: u64,
    /// Answers in the cache.
    pub cached: u64,
    /// Exchanges over TCP.
    pub tcp: u64,
    /// 1 when another request could be sent now.
    pub has_slot: i32,
}

/// The resolver.
///
/// # Safety
/// As in the module documentation.
unsafe fn resolver<'a>(l: *mut Loop, key: u64) -> Result<&'a Resolver, Fail> {
    // SAFETY: the module's contract.
    unsafe { lp(l) }
        .dns
        .get(key_in(key))
        .ok_or(Fail::errno(libc::EBADF))
}

/// Resolver `key`'s statistics in `*out`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_stats(l: *mut Loop, key: u64, out: *mut AersDnsStats) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let r = unsafe { resolver(l, key) }?;
        // SAFETY: the module's contract.
        unsafe {
            out.write(AersDnsStats {
                dropped: r.dropped(),
                outstanding: r.outstanding() as u64,
                queued: r.queued() as u64,
                cached: r.cache_len() as u64,
                tcp: r.tcp_exchanges(),
                has_slot: r.has_slot() as i32,
            })
        };
        Ok(())
    })
}

/// Empties resolver `key`'s answer cache.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_clear_cache(l: *mut Loop, key: u64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { lp(l) }.with_resolver(key_in(key), Resolver::clear_cache)?;
        Ok(())
    })
}

/// The descriptors of resolver `key`'s open sockets, as a list of numbers at `*nodes` (for
/// the tests of fork handling).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_sockets(
    l: *mut Loop,
    key: u64,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let fds = unsafe { lp(l) }.with_resolver(key_in(key), |r| r.socket_fds())?;
        let v = Value::List(fds.into_iter().map(|fd| Value::Int(fd.into())).collect());
        // SAFETY: the module's contract.
        unsafe { hand_out(v, nodes, count) };
        Ok(())
    })
}

/// The names a look-up of `look`'s name asks for, in order (its search list, or else resolver
/// `key`'s, and `ndots`), as a list of byte strings at `*nodes`: for `resolve` on a subclass
/// that overrides `request`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_search_names(
    l: *mut Loop,
    key: u64,
    look: *const AersDnsLookup,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let look = unsafe { &*look };
        // SAFETY: the module's contract (the buffers of the look-up).
        let (name, search) = unsafe { (look.name(), look.search()) };
        // SAFETY: the module's contract.
        let settings = unsafe { resolver(l, key) }?.settings();
        let names = match name {
            Some(name) => search_names(&name, search.as_deref(), &settings.search, settings.ndots),
            None => Vec::new(),
        };
        // SAFETY: the module's contract.
        unsafe {
            hand_out(
                Value::List(names.into_iter().map(Value::owned).collect()),
                nodes,
                count,
            )
        };
        Ok(())
    })
}

/// A record of an answer as Perl code holds it (`[name, type, class, ttl, data...]`), for
/// [`aers_dns_examine`].
#[repr(C)]
pub struct AersDnsAnswer {
    /// The owner name.
    pub owner: *const u8,
    /// Its length.
    pub owner_len: usize,
    /// The type field (a name of the type table or a number, as text).
    pub rtype: *const u8,
    /// Its length.
    pub rtype_len: usize,
    /// The first data field (a CNAME's target).
    pub target: *const u8,
    /// Its length.
    pub target_len: usize,
    /// Non-zero when the record has a (defined) first data field.
    pub has_target: i32,
}

/// The arguments of [`aers_dns_examine`].
#[repr(C)]
pub struct AersDnsExamine {
    /// The answer's records.
    pub answers: *const AersDnsAnswer,
    /// How many.
    pub nanswers: usize,
    /// The name the question was about (lower case).
    pub name: *const u8,
    /// Its length.
    pub name_len: usize,
    /// CNAME links still allowed; negative: a new name (all of them).
    pub depth: i32,
    /// The look-up's query type.
    pub qtype: u16,
    /// Record types accepted, `naccept` of them.
    pub accept: *const u16,
    /// How many accepted types; -1: the query type only.
    pub naccept: isize,
}

/// A Perl record, borrowed.
struct PerlAnswer<'a> {
    owner: &'a [u8],
    rtype: Option<u16>,
    target: Option<&'a [u8]>,
}

impl AnswerRecord for PerlAnswer<'_> {
    type Name = Vec<u8>;
    fn owner_is(&self, name: &Vec<u8>) -> bool {
        self.owner.eq_ignore_ascii_case(name)
    }
    fn rtype(&self) -> Option<u16> {
        self.rtype
    }
    fn cname_target(&self) -> Option<Vec<u8>> {
        self.target.map(<[u8]>::to_ascii_lowercase)
    }
}

/// What an answer (records in Perl's form) means for a look-up, by the rules of the Rust
/// look-ups (rust/dns/lookup.rs: `examine`): `*verdict` is one of `AERS_DNS_FOUND`,
/// `AERS_DNS_ASK`, `AERS_DNS_NEXT_NAME`, and `*nodes` a list of the name now asked about, the
/// CNAME links still allowed, and (found) the indices of the records of the result.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_examine(
    ex: *const AersDnsExamine,
    verdict: *mut u32,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let ex = unsafe { &*ex };
        // SAFETY: the module's contract (the arrays of the arguments).
        let raw = unsafe { array(ex.answers, ex.nanswers) };
        let answers: Vec<PerlAnswer> = raw
            .iter()
            .map(|a| PerlAnswer {
                // SAFETY: the module's contract (the buffers of each record).
                owner: unsafe { bytes(a.owner, a.owner_len) },
                // SAFETY: as above.
                rtype: wire::type_code(unsafe { bytes(a.rtype, a.rtype_len) }),
                // SAFETY: as above.
                target: (a.has_target != 0).then(|| unsafe { bytes(a.target, a.target_len) }),
            })
            .collect();
        // SAFETY: the module's contract (the buffers of the arguments).
        let mut name = unsafe { bytes(ex.name, ex.name_len) }.to_vec();
        let mut depth = u32::try_from(ex.depth).unwrap_or(MAX_CNAME_DEPTH);
        let accept = Accept::new(
            // SAFETY: the module's contract (the arrays of the arguments).
            (ex.naccept >= 0).then(|| unsafe { array(ex.accept, ex.naccept as usize) }.to_vec()),
            ex.qtype,
        );
        let (v, found) = match examine(&answers, &mut name, &accept, &mut depth) {
            Verdict::Found(found) => (AERS_DNS_FOUND, found),
            Verdict::Ask => (AERS_DNS_ASK, Vec::new()),
            Verdict::NextName => (AERS_DNS_NEXT_NAME, Vec::new()),
        };
        let mut out = vec![Value::owned(name), Value::Int(depth.into())];
        out.extend(found.into_iter().map(|i| Value::Int(i as i64)));
        // SAFETY: the module's contract.
        unsafe {
            verdict.write(v);
            hand_out(Value::List(out), nodes, count);
        }
        Ok(())
    })
}

/// The tables of AnyEvent::DNS, from the one place they are kept (rust/dns/wire.rs and the
/// resolver's defaults), as a hash at `*nodes`: `type`, `class`, `opcode`, `rcode` (lists of
/// name, number pairs; opcodes and rcodes without a name map their number to itself) and
/// `defaults` (the resolver's settings: `timeout` list, `ndots`, `max_outstanding`, `reuse`,
/// `edns0`, `cache`; and `port`, the DNS port).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_tables(nodes: *mut *const FlatNode, count: *mut usize) -> Status {
    call(|| {
        let pairs = |t: &[(u16, &str)]| {
            Value::List(
                t.iter()
                    .flat_map(|&(code, name)| [Value::str(name), Value::Int(code.into())])
                    .collect(),
            )
        };
        let coded = |t: &[(u16, &str)]| {
            Value::List(
                (0..=wire::MAX_CODE)
                    .flat_map(|code| {
                        let name = t
                            .iter()
                            .find(|&&(c, _)| c == code)
                            .map(|&(_, n)| n.to_string())
                            .unwrap_or_else(|| code.to_string());
                        [Value::str(name), Value::Int(code.into())]
                    })
                    .collect(),
            )
        };
        let d = Settings::default();
        let defaults = Value::Map(vec![
            (
                "timeout",
                Value::List(
                    d.timeouts
                        .iter()
                        .map(|t| Value::Int(t.as_secs() as i64))
                        .collect(),
                ),
            ),
            ("ndots", Value::Int(d.ndots as i64)),
            ("max_outstanding", Value::Int(d.max_outstanding as i64)),
            ("reuse", Value::Int(d.reuse.as_secs() as i64)),
            ("edns0", Value::Int(d.edns_payload.unwrap_or(0).into())),
            ("cache", Value::Int(d.cache.into())),
            ("port", Value::Int(DNS_PORT.into())),
        ]);
        let v = Value::Map(vec![
            ("type", pairs(wire::TYPES)),
            ("class", pairs(wire::CLASSES)),
            ("opcode", coded(wire::OPCODES)),
            ("rcode", coded(wire::RCODES)),
            ("defaults", defaults),
        ]);
        // SAFETY: the module's contract.
        unsafe { hand_out(v, nodes, count) };
        Ok(())
    })
}

/// The text of a hosts file parsed (rust/dns/hosts.rs), for AnyEvent::Socket's
/// `_parse_hosts`: a list of `[name, [IPv4 addresses], [IPv6 addresses]]` (addresses packed,
/// 4 and 16 bytes), names in the order they first appear.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_parse_hosts(
    text: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let text = unsafe { bytes(text, len) };
        let v = Value::List(
            parse_hosts(text)
                .into_iter()
                .map(|e| {
                    Value::List(vec![
                        Value::owned(e.name),
                        Value::List(e.v4.iter().map(|a| Value::str(a.octets())).collect()),
                        Value::List(e.v6.iter().map(|a| Value::str(a.octets())).collect()),
                    ])
                })
                .collect(),
        );
        // SAFETY: the module's contract.
        unsafe { hand_out(v, nodes, count) };
        Ok(())
    })
}

/// Decodes a packet into `dns_unpack`'s hash at `*nodes`; EBADMSG (with the decoder's message)
/// when it is not a DNS message.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_unpack(
    pkt: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let raw = unsafe { bytes(pkt, len) };
        let msg = Message::from_vec(raw).map_err(|e| Fail::msg(libc::EBADMSG, e.to_string()))?;
        // SAFETY: the module's contract.
        unsafe { hand_out(wire::message_value(&msg, raw), nodes, count) };
        Ok(())
    })
}

/// A query to encode, for [`aers_dns_pack`].
#[repr(C)]
pub struct AersDnsPack {
    /// The message id.
    pub id: u16,
    /// The opcode.
    pub opcode: u16,
    /// The response code.
    pub rcode: u16,
    /// The header flags (each non-zero for set): response (qr), authoritative answer (aa),
    /// truncated (tc), recursion desired (rd) and available (ra), authentic data (ad),
    /// checking disabled (cd).
    pub qr: u8,
    /// (aa)
    pub aa: u8,
    /// (tc)
    pub tc: u8,
    /// (rd)
    pub rd: u8,
    /// (ra)
    pub ra: u8,
    /// (ad)
    pub ad: u8,
    /// (cd)
    pub cd: u8,
    /// EDNS0 payload size; 0: no OPT record.
    pub edns_payload: u32,
    /// The questions' names, `nquestions` of them.
    pub names: *const *const u8,
    /// Their lengths.
    pub name_lens: *const usize,
    /// The questions' types.
    pub types: *const u16,
    /// The questions' classes.
    pub classes: *const u16,
    /// How many questions.
    pub nquestions: usize,
}

/// Encodes a query packet; its bytes are handed out as a single bytes node. EINVAL (with the
/// message in the last-error channel) for a bad name.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_pack(
    r: *const AersDnsPack,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let r = unsafe { &*r };
        // SAFETY: the module's contract (the arrays of the request).
        let (names, types, classes) = unsafe {
            (
                byte_list(r.names, r.name_lens, r.nquestions),
                array(r.types, r.nquestions),
                array(r.classes, r.nquestions),
            )
        };
        let mut questions = Vec::new();
        for ((name, &t), &c) in names.iter().zip(types).zip(classes) {
            match wire::parse_name(name) {
                Ok(n) => questions.push((n, t, c)),
                Err(e) => {
                    return Err(Fail::msg(
                        libc::EINVAL,
                        format!(
                            "invalid domain name '{}': {e}",
                            String::from_utf8_lossy(name)
                        ),
                    ))
                }
            }
        }
        let req = PackRequest {
            id: r.id,
            opcode: r.opcode as u8,
            rcode: r.rcode,
            qr: r.qr != 0,
            aa: r.aa != 0,
            tc: r.tc != 0,
            rd: r.rd != 0,
            ra: r.ra != 0,
            ad: r.ad != 0,
            cd: r.cd != 0,
            edns_payload: (r.edns_payload > 0).then_some(r.edns_payload as u16),
            questions,
        };
        let pkt = wire::pack(&req).map_err(|e| Fail::msg(libc::EINVAL, e))?;
        // SAFETY: the module's contract.
        unsafe { hand_out(Value::owned(pkt), nodes, count) };
        Ok(())
    })
}

/// resolv.conf text as a hash: server (list of address texts), invalid (nameserver texts that
/// did not parse), search (list), ndots (number or undef), timeout (list or undef).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_parse_resolv_conf(
    text: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let text = String::from_utf8_lossy(unsafe { bytes(text, len) }).into_owned();
        let c = parse_resolv_conf(&text);
        let strs = |v: Vec<String>| Value::List(v.into_iter().map(Value::str).collect());
        let v = Value::Map(vec![
            (
                "server",
                strs(c.servers.iter().map(|s| s.to_string()).collect()),
            ),
            ("invalid", strs(c.invalid_servers)),
            ("search", strs(c.search)),
            (
                "ndots",
                c.ndots
                    .map(|n| Value::Int(n as i64))
                    .unwrap_or(Value::Undef),
            ),
            (
                "timeout",
                c.timeouts
                    .map(|t| Value::List(t.into_iter().map(|n| Value::Int(n as i64)).collect()))
                    .unwrap_or(Value::Undef),
            ),
        ]);
        // SAFETY: the module's contract.
        unsafe { hand_out(v, nodes, count) };
        Ok(())
    })
}

/// The reverse-lookup name of an address text, as a bytes node, or undef when not an address.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_ptr_name(
    text: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let text = String::from_utf8_lossy(unsafe { bytes(text, len) }).into_owned();
        let v = wire::ptr_name(&text)
            .map(Value::str)
            .unwrap_or(Value::Undef);
        // SAFETY: the module's contract.
        unsafe { hand_out(v, nodes, count) };
        Ok(())
    })
}
