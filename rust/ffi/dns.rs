//! C ABI of the DNS resolver (rust/dns), for `AnyEvent::DNS`'s glue (xs/dns.xsh). The glue
//! owns the Perl side: it passes callbacks in as opaque pointers, gets them back with their
//! arguments as flattened [`Value`]s, and watches the descriptors and deadline the resolver
//! reports through its flags. Configuration and request errors are EINVAL with their message in
//! the last-error channel.
//!
//! Safety, for every function here: `p` is a handle from [`aers_dns_new`], not yet freed, used
//! by one call at a time; a pointer/length pair (also inside the `#[repr(C)]` argument structs)
//! points at that many readable values; every out-pointer points at a writable value of its
//! type. Nodes handed out stay valid until the next call.

use super::contract::{call, Fail, Status};
use super::{array, bytes};
use crate::dns::config::parse_resolv_conf;
use crate::dns::lookup::LookupRequest;
use crate::dns::resolver::{Resolver, Settings};
use crate::dns::value::{flatten, FlatNode, Value};
use crate::dns::wire::{self, PackRequest};
use crate::Callback;
use hickory_proto::op::Message;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A resolver and what it hands out to the glue.
pub struct DnsHandle {
    resolver: Resolver,
    watch: Vec<i32>,
    /// Callbacks being handed back for release when the resolver goes away.
    releasing: Vec<Callback>,
}

thread_local! {
    /// The last value handed out, kept alive while the glue copies it.
    static OUT: RefCell<(Value, Vec<FlatNode>)> = const { RefCell::new((Value::Undef, Vec::new())) };
}

/// Stores `v` and points `nodes`/`count` at its flattened form (valid until the next call).
///
/// # Safety
/// `nodes` and `count` are writable.
unsafe fn hand_out(v: Value, nodes: *mut *const FlatNode, count: *mut usize) {
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        out.0 = v;
        let mut flat = std::mem::take(&mut out.1);
        flat.clear();
        flatten(&out.0, &mut flat);
        out.1 = flat;
        // SAFETY: the caller's guarantee.
        unsafe {
            nodes.write(out.1.as_ptr());
            count.write(out.1.len());
        }
    });
}

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

/// The handle behind the glue's pointer.
///
/// # Safety
/// As in the module documentation.
unsafe fn h<'a>(p: *mut DnsHandle) -> &'a mut DnsHandle {
    // SAFETY: the module's contract.
    unsafe { &mut *p }
}

/// A new resolver with the default settings in `*out`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_new(out: *mut *mut DnsHandle) -> Status {
    call(|| {
        let handle = Box::new(DnsHandle {
            resolver: Resolver::new(Settings::default()),
            watch: Vec::new(),
            releasing: Vec::new(),
        });
        // SAFETY: the module's contract.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// Takes one callback the resolver still holds into `*cb` (null when none is left), for the
/// glue to release before `aers_dns_free`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_take_callback(p: *mut DnsHandle, cb: *mut Callback) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let handle = unsafe { h(p) };
        if handle.releasing.is_empty() {
            handle.releasing = handle.resolver.take_callbacks();
        }
        let next = handle.releasing.pop().unwrap_or(std::ptr::null_mut());
        // SAFETY: the module's contract.
        unsafe { cb.write(next) };
        Ok(())
    })
}

/// Frees the resolver (closing its sockets). Take its callbacks first.
///
/// # Safety
/// As in the module documentation; `p` is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_free(p: *mut DnsHandle) -> Status {
    call(|| {
        // SAFETY: p came from Box::into_raw in aers_dns_new and is freed once.
        drop(unsafe { Box::from_raw(p) });
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

/// Configures the resolver; `*flags` tells the glue what to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_configure(
    p: *mut DnsHandle,
    s: *const AersDnsSettings,
    flags: *mut u32,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let (handle, s) = unsafe { (h(p), &*s) };
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
        unsafe { flags.write(handle.resolver.configure(settings)) };
        Ok(())
    })
}

/// A look-up, for [`aers_dns_resolve`].
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

/// Starts a look-up whose result goes to `cb` (its reference now held by the resolver);
/// `*flags` tells the glue what to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_resolve(
    p: *mut DnsHandle,
    cb: Callback,
    l: *const AersDnsLookup,
    flags: *mut u32,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let (handle, l) = unsafe { (h(p), &*l) };
        // SAFETY: the module's contract (the buffers of the look-up).
        let hosts = unsafe { bytes(l.hosts, l.hosts_len) };
        let req = LookupRequest {
            // SAFETY: a non-null name points at name_len bytes of the caller's Perl string.
            name: (!l.name.is_null()).then(|| unsafe { bytes(l.name, l.name_len) }.to_vec()),
            qtype: l.qtype,
            qclass: l.qclass,
            search: (l.has_search != 0)
                // SAFETY: the module's contract (the arrays of the look-up).
                .then(|| unsafe { byte_list(l.search, l.search_lens, l.nsearch) }),
            accept: (l.naccept >= 0).then(|| {
                // SAFETY: the module's contract (the arrays of the look-up).
                unsafe { array(l.accept, l.naccept as usize) }.to_vec()
            }),
            hosts_file: (!hosts.is_empty()).then(|| {
                PathBuf::from(std::ffi::OsStr::new(
                    std::str::from_utf8(hosts).unwrap_or("/etc/hosts"),
                ))
            }),
        };
        // SAFETY: the module's contract.
        unsafe { flags.write(handle.resolver.resolve(cb, req)) };
        Ok(())
    })
}

/// Sends the query packet `pkt` whose answer goes to `cb` (its reference now held by the
/// resolver); `*flags` tells the glue what to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_request(
    p: *mut DnsHandle,
    cb: Callback,
    pkt: *const u8,
    len: usize,
    flags: *mut u32,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let (handle, pkt) = unsafe { (h(p), bytes(pkt, len)) };
        let f = handle
            .resolver
            .request(cb, pkt.to_vec())
            .map_err(|msg| Fail::msg(libc::EINVAL, msg))?;
        // SAFETY: the module's contract.
        unsafe { flags.write(f) };
        Ok(())
    })
}

/// The resolver's socket `fd` is readable; `*flags` tells the glue what to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_on_readable(
    p: *mut DnsHandle,
    fd: i32,
    flags: *mut u32,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { flags.write(h(p).resolver.on_readable(fd)) };
        Ok(())
    })
}

/// The resolver's socket `fd` is writable; `*flags` tells the glue what to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_on_writable(
    p: *mut DnsHandle,
    fd: i32,
    flags: *mut u32,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { flags.write(h(p).resolver.on_writable(fd)) };
        Ok(())
    })
}

/// The resolver's deadline passed; `*flags` tells the glue what to watch.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_on_timeout(p: *mut DnsHandle, flags: *mut u32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { flags.write(h(p).resolver.on_timeout()) };
        Ok(())
    })
}

/// Seconds until the next deadline in `*secs`, or a negative value when there is none.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_next_timeout(p: *mut DnsHandle, secs: *mut f64) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { secs.write(h(p).resolver.next_timeout().unwrap_or(-1.)) };
        Ok(())
    })
}

/// The descriptors to watch, as `*count` triples (fd, 1 for write / 0 for read, serial) at
/// `*out`, valid until the next call.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_watch_list(
    p: *mut DnsHandle,
    out: *mut *const i32,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let handle = unsafe { h(p) };
        handle.watch = handle
            .resolver
            .watch_list()
            .into_iter()
            .flat_map(|(fd, w, serial)| [fd, w as i32, serial as i32])
            .collect();
        // SAFETY: the module's contract.
        unsafe {
            out.write(handle.watch.as_ptr());
            count.write(handle.watch.len() / 3);
        }
        Ok(())
    })
}

/// Takes the next finished request: its callback in `*cb` (whose reference passes to the
/// glue) and its arguments (a list) at `*nodes`; `*cb` is null when none is finished.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_next_completion(
    p: *mut DnsHandle,
    cb: *mut Callback,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        match unsafe { h(p) }.resolver.next_completion() {
            // SAFETY: the module's contract.
            Some(c) => unsafe {
                cb.write(c.cb);
                hand_out(Value::List(c.args), nodes, count);
            },
            // SAFETY: the module's contract.
            None => unsafe { cb.write(std::ptr::null_mut()) },
        }
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

/// The resolver's statistics in `*out`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_stats(p: *mut DnsHandle, out: *mut AersDnsStats) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let r = &unsafe { h(p) }.resolver;
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

/// Empties the answer cache.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_dns_clear_cache(p: *mut DnsHandle) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { h(p) }.resolver.clear_cache();
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
    /// The header flags.
    pub flags: u16,
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
            flags: r.flags,
            edns_payload: (r.edns_payload > 0).then_some(r.edns_payload as u16),
            questions,
        };
        let pkt = wire::pack(&req).map_err(|e| Fail::msg(libc::EINVAL, e))?;
        // SAFETY: the module's contract.
        unsafe { hand_out(Value::Bytes(pkt), nodes, count) };
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
