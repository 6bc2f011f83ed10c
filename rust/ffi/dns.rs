//! C ABI of the DNS resolver (rust/dns). The glue owns the Perl side: it passes callbacks in as
//! opaque pointers, gets them back with their arguments as flattened [`Value`]s, and watches
//! the descriptors and deadline the resolver reports through its flags.
//!
//! The pointers these functions take come from the glue only (handles from `aers_dns_new`,
//! buffers of Perl strings with their lengths), hence no `unsafe` on the functions themselves.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use super::bytes;
use super::guarded;
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

pub struct DnsHandle {
    resolver: Resolver,
    error: String,
    watch: Vec<i32>,
    /// Callbacks being handed back for release when the resolver goes away.
    releasing: Vec<Callback>,
}

thread_local! {
    /// The last value handed out, kept alive while the glue copies it.
    static OUT: RefCell<(Value, Vec<FlatNode>)> = const { RefCell::new((Value::Undef, Vec::new())) };
}

/// Stores `v` and points `nodes`/`count` at its flattened form (valid until the next call).
fn hand_out(v: Value, nodes: *mut *const FlatNode, count: *mut usize) {
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        out.0 = v;
        let mut flat = std::mem::take(&mut out.1);
        flat.clear();
        flatten(&out.0, &mut flat);
        out.1 = flat;
        unsafe {
            *nodes = out.1.as_ptr();
            *count = out.1.len();
        }
    });
}

unsafe fn byte_list(ptrs: *const *const u8, lens: *const usize, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| bytes(*ptrs.add(i), *lens.add(i)).to_vec())
        .collect()
}

unsafe fn h<'a>(p: *mut DnsHandle) -> &'a mut DnsHandle {
    &mut *p
}

fn einval(handle: &mut DnsHandle, msg: String) -> std::io::Result<i32> {
    handle.error = msg;
    Ok(libc::EINVAL)
}

#[no_mangle]
pub extern "C" fn aers_dns_new(out: *mut *mut DnsHandle) -> i32 {
    guarded(|| {
        let handle = Box::new(DnsHandle {
            resolver: Resolver::new(Settings::default()),
            error: String::new(),
            watch: Vec::new(),
            releasing: Vec::new(),
        });
        unsafe { *out = Box::into_raw(handle) };
        Ok(0)
    })
}

/// Takes one callback the resolver still holds (1), or reports there are none left (0).
#[no_mangle]
pub extern "C" fn aers_dns_take_callback(p: *mut DnsHandle, cb: *mut Callback) -> i32 {
    guarded(|| {
        let handle = unsafe { h(p) };
        if handle.releasing.is_empty() {
            handle.releasing = handle.resolver.take_callbacks();
        }
        match handle.releasing.pop() {
            Some(c) => {
                unsafe { *cb = c };
                Ok(1)
            }
            None => Ok(0),
        }
    })
}

/// Frees the resolver (closing its sockets). Take its callbacks first.
#[no_mangle]
pub extern "C" fn aers_dns_free(p: *mut DnsHandle) -> i32 {
    guarded(|| {
        drop(unsafe { Box::from_raw(p) });
        Ok(0)
    })
}

/// The message of the last EINVAL.
#[no_mangle]
pub extern "C" fn aers_dns_error(p: *mut DnsHandle, buf: *mut u8, len: usize) {
    if len == 0 {
        return;
    }
    let msg = unsafe { &h(p).error };
    let n = msg.len().min(len - 1);
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf, n);
        *buf.add(n) = 0;
    }
}

#[repr(C)]
pub struct AersDnsSettings {
    pub servers: *const *const u8,
    pub server_lens: *const usize,
    pub nservers: usize,
    pub timeouts: *const f64,
    pub ntimeouts: usize,
    pub search: *const *const u8,
    pub search_lens: *const usize,
    pub nsearch: usize,
    pub ndots: u32,
    pub max_outstanding: u32,
    pub reuse: f64,
    /// 0: no EDNS0.
    pub edns_payload: u32,
    pub cache: i32,
}

#[no_mangle]
pub extern "C" fn aers_dns_configure(
    p: *mut DnsHandle,
    s: *const AersDnsSettings,
    flags: *mut u32,
) -> i32 {
    guarded(|| {
        let handle = unsafe { h(p) };
        let s = unsafe { &*s };
        let mut servers = Vec::new();
        for text in unsafe { byte_list(s.servers, s.server_lens, s.nservers) } {
            let text = String::from_utf8_lossy(&text).into_owned();
            match text.parse::<SocketAddr>() {
                Ok(a) => servers.push(a),
                Err(_) => return einval(handle, format!("invalid server address '{text}'")),
            }
        }
        let mut timeouts = Vec::new();
        for &t in unsafe { std::slice::from_raw_parts(s.timeouts, s.ntimeouts) } {
            if !(t.is_finite() && t > 0.) {
                return einval(
                    handle,
                    format!("invalid timeout {t} (seconds, a positive number)"),
                );
            }
            timeouts.push(Duration::from_secs_f64(t));
        }
        let settings = Settings {
            servers,
            timeouts,
            search: unsafe { byte_list(s.search, s.search_lens, s.nsearch) },
            ndots: s.ndots as usize,
            max_outstanding: s.max_outstanding as usize,
            reuse: Duration::from_secs_f64(s.reuse.max(0.)),
            edns_payload: (s.edns_payload > 0).then_some(s.edns_payload.min(65535) as u16),
            cache: s.cache != 0,
        };
        unsafe { *flags = handle.resolver.configure(settings) };
        Ok(0)
    })
}

#[repr(C)]
pub struct AersDnsLookup {
    /// Null when the caller's name is no name at all (undef, wide characters).
    pub name: *const u8,
    pub name_len: usize,
    pub qtype: u16,
    pub qclass: u16,
    pub has_search: i32,
    pub search: *const *const u8,
    pub search_lens: *const usize,
    pub nsearch: usize,
    pub accept: *const u16,
    /// -1: accept the query type only.
    pub naccept: isize,
    /// Hosts file for the A/AAAA fallback; length 0 for none.
    pub hosts: *const u8,
    pub hosts_len: usize,
}

#[no_mangle]
pub extern "C" fn aers_dns_resolve(
    p: *mut DnsHandle,
    cb: Callback,
    l: *const AersDnsLookup,
    flags: *mut u32,
) -> i32 {
    guarded(|| {
        let handle = unsafe { h(p) };
        let l = unsafe { &*l };
        let hosts = unsafe { bytes(l.hosts, l.hosts_len) };
        let req = LookupRequest {
            // SAFETY: a non-null name points at name_len bytes of the caller's Perl string.
            name: (!l.name.is_null()).then(|| unsafe { bytes(l.name, l.name_len) }.to_vec()),
            qtype: l.qtype,
            qclass: l.qclass,
            search: (l.has_search != 0)
                .then(|| unsafe { byte_list(l.search, l.search_lens, l.nsearch) }),
            accept: (l.naccept >= 0).then(|| {
                unsafe { std::slice::from_raw_parts(l.accept, l.naccept as usize) }.to_vec()
            }),
            hosts_file: (!hosts.is_empty()).then(|| {
                PathBuf::from(std::ffi::OsStr::new(
                    std::str::from_utf8(hosts).unwrap_or("/etc/hosts"),
                ))
            }),
        };
        unsafe { *flags = handle.resolver.resolve(cb, req) };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn aers_dns_request(
    p: *mut DnsHandle,
    cb: Callback,
    pkt: *const u8,
    len: usize,
    flags: *mut u32,
) -> i32 {
    guarded(|| {
        let handle = unsafe { h(p) };
        match handle
            .resolver
            .request(cb, unsafe { bytes(pkt, len) }.to_vec())
        {
            Ok(f) => {
                unsafe { *flags = f };
                Ok(0)
            }
            Err(msg) => einval(handle, msg),
        }
    })
}

#[no_mangle]
pub extern "C" fn aers_dns_on_readable(p: *mut DnsHandle, fd: i32, flags: *mut u32) -> i32 {
    guarded(|| {
        unsafe { *flags = h(p).resolver.on_readable(fd) };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn aers_dns_on_writable(p: *mut DnsHandle, fd: i32, flags: *mut u32) -> i32 {
    guarded(|| {
        unsafe { *flags = h(p).resolver.on_writable(fd) };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn aers_dns_on_timeout(p: *mut DnsHandle, flags: *mut u32) -> i32 {
    guarded(|| {
        unsafe { *flags = h(p).resolver.on_timeout() };
        Ok(0)
    })
}

/// Seconds until the next deadline, or -1 when there is none.
#[no_mangle]
pub extern "C" fn aers_dns_next_timeout(p: *mut DnsHandle) -> f64 {
    let mut t = -1.;
    guarded(|| {
        t = unsafe { h(p) }.resolver.next_timeout().unwrap_or(-1.);
        Ok(0)
    });
    t
}

/// The descriptors to watch, as triples (fd, 1 for write / 0 for read, serial), valid until the
/// next call.
#[no_mangle]
pub extern "C" fn aers_dns_watch_list(
    p: *mut DnsHandle,
    out: *mut *const i32,
    count: *mut usize,
) -> i32 {
    guarded(|| {
        let handle = unsafe { h(p) };
        handle.watch = handle
            .resolver
            .watch_list()
            .into_iter()
            .flat_map(|(fd, w, serial)| [fd, w as i32, serial as i32])
            .collect();
        unsafe {
            *out = handle.watch.as_ptr();
            *count = handle.watch.len() / 3;
        }
        Ok(0)
    })
}

/// Takes the next finished request: 1 with its callback and arguments (a list), 0 if none.
#[no_mangle]
pub extern "C" fn aers_dns_next_completion(
    p: *mut DnsHandle,
    cb: *mut Callback,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> i32 {
    guarded(|| match unsafe { h(p) }.resolver.next_completion() {
        Some(c) => {
            unsafe { *cb = c.cb };
            hand_out(Value::List(c.args), nodes, count);
            Ok(1)
        }
        None => Ok(0),
    })
}

#[repr(C)]
pub struct AersDnsStats {
    pub dropped: u64,
    pub outstanding: u64,
    pub queued: u64,
    pub cached: u64,
    pub tcp: u64,
    pub has_slot: i32,
}

#[no_mangle]
pub extern "C" fn aers_dns_stats(p: *mut DnsHandle, out: *mut AersDnsStats) -> i32 {
    guarded(|| {
        let r = &unsafe { h(p) }.resolver;
        unsafe {
            *out = AersDnsStats {
                dropped: r.dropped(),
                outstanding: r.outstanding() as u64,
                queued: r.queued() as u64,
                cached: r.cache_len() as u64,
                tcp: r.tcp_exchanges(),
                has_slot: r.has_slot() as i32,
            }
        };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn aers_dns_clear_cache(p: *mut DnsHandle) -> i32 {
    guarded(|| {
        unsafe { h(p) }.resolver.clear_cache();
        Ok(0)
    })
}

/// Decodes a packet into `dns_unpack`'s hash: 1, or 0 when it is not a DNS message.
#[no_mangle]
pub extern "C" fn aers_dns_unpack(
    pkt: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> i32 {
    guarded(|| {
        let raw = unsafe { bytes(pkt, len) };
        match Message::from_vec(raw) {
            Ok(msg) => {
                hand_out(wire::message_value(&msg, raw), nodes, count);
                Ok(1)
            }
            Err(_) => Ok(0),
        }
    })
}

#[repr(C)]
pub struct AersDnsPack {
    pub id: u16,
    pub flags: u16,
    pub edns_payload: u32,
    pub names: *const *const u8,
    pub name_lens: *const usize,
    pub types: *const u16,
    pub classes: *const u16,
    pub nquestions: usize,
}

/// Encodes a query packet; its bytes are handed out as a single bytes node. EINVAL (with the
/// message in `err`) for a bad name.
#[no_mangle]
pub extern "C" fn aers_dns_pack(
    r: *const AersDnsPack,
    nodes: *mut *const FlatNode,
    count: *mut usize,
    err: *mut u8,
    errlen: usize,
) -> i32 {
    guarded(|| {
        let r = unsafe { &*r };
        let names = unsafe { byte_list(r.names, r.name_lens, r.nquestions) };
        let mut questions = Vec::new();
        let fail = |msg: String| {
            if errlen > 0 {
                let n = msg.len().min(errlen - 1);
                unsafe {
                    std::ptr::copy_nonoverlapping(msg.as_ptr(), err, n);
                    *err.add(n) = 0;
                }
            }
            Ok(libc::EINVAL)
        };
        for (i, name) in names.iter().enumerate() {
            match wire::parse_name(name) {
                Ok(n) => questions.push(unsafe { (n, *r.types.add(i), *r.classes.add(i)) }),
                Err(e) => {
                    return fail(format!(
                        "invalid domain name '{}': {e}",
                        String::from_utf8_lossy(name)
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
        match wire::pack(&req) {
            Ok(pkt) => {
                hand_out(Value::Bytes(pkt), nodes, count);
                Ok(0)
            }
            Err(e) => fail(e),
        }
    })
}

/// resolv.conf text as a hash: server (list of address texts), invalid (nameserver texts that
/// did not parse), search (list), ndots (number or undef), timeout (list or undef).
#[no_mangle]
pub extern "C" fn aers_dns_parse_resolv_conf(
    text: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> i32 {
    guarded(|| {
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
        hand_out(v, nodes, count);
        Ok(0)
    })
}

/// The reverse-lookup name of an address text, as a bytes node, or undef when not an address.
#[no_mangle]
pub extern "C" fn aers_dns_ptr_name(
    text: *const u8,
    len: usize,
    nodes: *mut *const FlatNode,
    count: *mut usize,
) -> i32 {
    guarded(|| {
        let text = String::from_utf8_lossy(unsafe { bytes(text, len) }).into_owned();
        hand_out(
            wire::ptr_name(&text)
                .map(Value::str)
                .unwrap_or(Value::Undef),
            nodes,
            count,
        );
        Ok(0)
    })
}
