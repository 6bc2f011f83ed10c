//! Property tests of the code that takes what the network or a careless caller hands it: the
//! DNS decoder, name parsing and the resolver's answer path; the netstring parser; the TLS
//! record path. Random and mutated input must never panic, and every outcome
//! is one of the documented statuses. Case counts are bounded so that `make test` stays fast.

use crate::dns::lookup::LookupRequest;
use crate::dns::resolver::testing::Driver;
use crate::dns::resolver::{Resolver, Settings};
use crate::dns::wire;
use crate::ffi::{dns::aers_dns_unpack, tls::aers_tls_receive, AERS_OK, AERS_PANICKED};
use crate::stream::{self, Netstring};
use crate::tls::{Context, Session};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{A, CNAME, MX, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// An edit of a byte string: overwrite, insert or remove a byte, or cut the rest off.
#[derive(Clone, Debug)]
enum Edit {
    Set(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => any::<Index>().prop_map(Edit::Remove),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ];
    vec(edit, 1..6)
}

fn mutate(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        if data.is_empty() {
            break;
        }
        match *e {
            Edit::Set(ref i, b) => {
                let at = i.index(data.len());
                data[at] = b;
            }
            Edit::Insert(ref i, b) => {
                let at = i.index(data.len() + 1);
                data.insert(at, b);
            }
            Edit::Remove(ref i) => {
                let at = i.index(data.len());
                data.remove(at);
            }
            Edit::Truncate(ref i) => {
                let at = i.index(data.len());
                data.truncate(at);
            }
        }
    }
    data
}

// ---- DNS ----------------------------------------------------------------------------------

fn name(text: &str) -> Name {
    wire::parse_name(text.as_bytes()).unwrap()
}

/// A response to (`qname`, `qtype`) with records of many types, as a server would send it.
fn answer(id: u16, qname: &Name, qtype: RecordType) -> Vec<u8> {
    let mut msg = Message::new(id, MessageType::Response, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.metadata.recursion_available = true;
    msg.add_query(Query::query(qname.clone(), qtype));
    let target = name("mx.example.test");
    for rdata in [
        RData::MX(MX::new(10, target.clone())),
        RData::A(A(Ipv4Addr::new(10, 1, 2, 3))),
        RData::CNAME(CNAME(target.clone())),
        RData::TXT(TXT::new(vec!["text".into(), "more".into()])),
        RData::SRV(SRV::new(1, 2, 25, target.clone())),
        RData::SOA(SOA::new(
            target.clone(),
            name("hostmaster.example.test"),
            1,
            2,
            3,
            4,
            5,
        )),
    ] {
        msg.add_answer(Record::from_rdata(qname.clone(), 60, rdata));
    }
    msg.to_vec().unwrap()
}

/// dns_unpack of a packet: AERS_OK (decoded) or EBADMSG (not a DNS message), never an
/// internal error.
fn unpack_status(pkt: &[u8]) -> i32 {
    let (mut nodes, mut count) = (std::ptr::null(), 0);
    // SAFETY: pkt is readable for its length; nodes and count are writable.
    unsafe { aers_dns_unpack(pkt.as_ptr(), pkt.len(), &mut nodes, &mut count) }
}

fn label() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..70),
        vec(prop::sample::select(b"ab.-_".to_vec()), 0..70)
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn dns_unpack_takes_random_bytes(pkt in vec(any::<u8>(), 0..600)) {
        let st = unpack_status(&pkt);
        prop_assert!(st == AERS_OK || st == libc::EBADMSG, "status {}", st);
    }

    #[test]
    fn dns_unpack_takes_mutated_answers(id in any::<u16>(), edits in edits()) {
        let pkt = mutate(answer(id, &name("www.example.test"), RecordType::MX), &edits);
        let st = unpack_status(&pkt);
        prop_assert!(st == AERS_OK || st == libc::EBADMSG, "status {}", st);
    }

    /// A name parses exactly when it is a domain name (no empty label, labels of at most 63
    /// octets, at most 255 on the wire), and then prints back as it was.
    #[test]
    fn names_parse_when_valid(labels in vec(label(), 0..140), final_dot in any::<bool>()) {
        let mut text = labels.join(&b'.');
        if final_dot {
            text.push(b'.');
        }
        let body = text.strip_suffix(b".").unwrap_or(&text);
        let parts: Vec<&[u8]> = if body.is_empty() { Vec::new() } else { body.split(|&b| b == b'.').collect() };
        let valid = parts.iter().all(|l| !l.is_empty() && l.len() <= 63)
            && parts.iter().map(|l| l.len() + 1).sum::<usize>() < 255;
        match wire::parse_name(&text) {
            Ok(n) => {
                prop_assert!(valid);
                prop_assert_eq!(wire::name_bytes(&n), body.to_vec());
            }
            Err(_) => prop_assert!(!valid),
        }
    }

    /// Any name, or none, can be resolved: an invalid one completes at once with nothing; a
    /// valid one goes on the wire (here: to a port nobody answers on).
    #[test]
    fn resolve_takes_any_name(name in prop::option::of(vec(any::<u8>(), 0..300)), qtype in any::<u16>()) {
        let mut r = Resolver::new(Settings { servers: vec![SocketAddr::from(([127, 0, 0, 1], 9))], ..Settings::default() });
        let valid = name.as_ref().is_some_and(|n| wire::parse_name(n.strip_suffix(b".").unwrap_or(n)).is_ok());
        let cb = 1 as crate::Callback;
        let req = LookupRequest { name, qtype, qclass: 1, search: None, accept: None, hosts_file: None };
        r.resolve(cb, req);
        match r.next_completion() {
            Some(c) => {
                prop_assert!(!valid);
                prop_assert_eq!(c.cb, cb);
                prop_assert!(c.args.is_empty());
            }
            None => prop_assert!(valid && r.outstanding() == 1),
        }
    }
}

/// The resolver's whole answer path: a query goes out to a server played by the test, a mutated
/// answer comes back and is read through `on_readable`, then the real one. The look-up then
/// has completed, or goes on with a query on the wire (the mutated answer was taken as a
/// truncation, a FORMERR to retry, or a CNAME to follow, and the real answer no longer fits).
fn answer_path(edits: &[Edit]) -> Result<(), TestCaseError> {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut d = Driver::new(Settings {
        servers: vec![server.local_addr().unwrap()],
        cache: false,
        ..Settings::default()
    });
    let req = LookupRequest {
        name: Some(b"www.example.test.".to_vec()),
        qtype: 15,
        qclass: 1,
        search: None,
        accept: None,
        hosts_file: None,
    };
    d.r.resolve(1 as crate::Callback, req);
    d.sync();
    let mut buf = [0u8; 2048];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    let query = Message::from_vec(&buf[..n]).unwrap();
    let good = answer(query.metadata.id, query.queries[0].name(), RecordType::MX);
    let mut done = None;
    for pkt in [mutate(good.clone(), edits), good] {
        server.send_to(&pkt, from).unwrap();
        // (returns once the datagram was read: it is there already)
        d.turn(Duration::from_secs(5));
        if let Some(c) = d.r.next_completion() {
            done = Some(c);
            break;
        }
    }
    match done {
        Some(c) => prop_assert!(c
            .args
            .iter()
            .all(|v| matches!(v, crate::dns::value::Value::List(_)))),
        None => prop_assert_eq!(
            d.r.outstanding(),
            1,
            "an unfinished look-up has its query on the wire"
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn resolver_survives_mutated_answers(edits in edits()) {
        answer_path(&edits)?;
    }
}

// ---- scanners -----------------------------------------------------------------------------

/// Netstrings as the specification reads: `<decimal length>:<data>,`, no leading zero.
fn netstring_model(buf: &[u8], max: usize) -> Netstring {
    let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == buf.len() {
        return if digits > 20 {
            Netstring::Malformed
        } else {
            Netstring::Incomplete
        };
    }
    if digits == 0 || buf[digits] != b':' || (digits > 1 && buf[0] == b'0') {
        return Netstring::Malformed;
    }
    let len: u128 = std::str::from_utf8(&buf[..digits])
        .unwrap()
        .parse()
        .unwrap_or(u128::MAX);
    if len > max as u128 {
        return Netstring::Malformed;
    }
    let (start, len) = (digits + 1, len as usize);
    if buf.len() <= start + len {
        Netstring::Incomplete
    } else if buf[start + len] == b',' {
        Netstring::Complete { start, len }
    } else {
        Netstring::Malformed
    }
}

fn scan_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..200),
        vec(prop::sample::select(b"\r\n:,0123456789ab".to_vec()), 0..200)
    ]
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn netstrings_follow_the_specification(buf in scan_bytes(), max in prop_oneof![Just(usize::MAX), Just(1usize << 40), 0usize..300]) {
        prop_assert_eq!(stream::parse_netstring(&buf, max), netstring_model(&buf, max));
    }
}

// ---- TLS ----------------------------------------------------------------------------------

/// A throw-away self-signed P-256 certificate for localhost and its key (test use only).
const CERT: &[u8] = b"-----BEGIN CERTIFICATE-----
MIIBlTCCATugAwIBAgIUR1Hh1lvxMpst2kc21y5h8dZj4iowCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTAxMTAwNVoYDzIxMjYxMTA3
MDExMDA1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARQTn+fiXHno9qYh+V4mLbk4VCHJScqE+mHzuwxrEUJrx2Ic9ukQ5g6
0f5V5S1f6vwWb1TENsNF1cKnC9ciWqlGo2kwZzAdBgNVHQ4EFgQUmCQycEdka8Ca
Y8x7aUttF0ARSi4wHwYDVR0jBBgwFoAUmCQycEdka8CaY8x7aUttF0ARSi4wDwYD
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
SAAwRQIgNk1kNWdvJcHTPqxAiGGDtg1d+k3m3/XeaZLX0ZsfXcUCIQCR1CJZgwO0
Bjv1ZUhRXLYLk93b1rzuWYNukJHiM4WeEA==
-----END CERTIFICATE-----
";
const KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqvV7fcq/fo8Rmy0c
5ghRcL/gNmI4pQ0dsj3H6hyaJ8yhRANCAARQTn+fiXHno9qYh+V4mLbk4VCHJScq
E+mHzuwxrEUJrx2Ic9ukQ5g60f5V5S1f6vwWb1TENsNF1cKnC9ciWqlG
-----END PRIVATE KEY-----
";

fn contexts() -> (Context, Context) {
    let settings = || crate::tls::Settings {
        tls12: true,
        tls13: true,
        server_tickets: true,
        ..Default::default()
    };
    let client = Context::new(settings());
    let mut server = Context::new(settings());
    server.set_chain_pem(CERT).unwrap();
    server.set_key_pem(KEY).unwrap();
    (client, server)
}

/// What a session sends next (its queued records), written into a byte vector.
fn flight(s: &mut Session) -> Vec<u8> {
    let mut out = Vec::new();
    while s.conn.wants_write() {
        s.conn.write_tls(&mut out).unwrap();
    }
    out
}

/// The TLS status of records that arrive on a socket, through the C ABI as the glue sees it:
/// 0 (what: records, nothing, end of file), EPROTO (a TLS error), or an errno.
fn receive_status(session: &mut Session, data: &[u8]) -> (i32, i32) {
    let mut fds = [0; 2];
    assert_eq!(
        // SAFETY: fds has room for the two descriptors socketpair writes.
        unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
                0,
                fds.as_mut_ptr(),
            )
        },
        0
    );
    stream::write_from(fds[1], data).unwrap();
    // SAFETY: fds[1] is ours; closing it makes the reader see end of file after the data.
    unsafe { libc::close(fds[1]) };
    let mut what = -1;
    // SAFETY: session is a live session used by this call only; what is writable.
    let st = unsafe { aers_tls_receive(session as *mut Session, fds[0], &mut what) };
    // SAFETY: fds[0] is ours and no longer used.
    unsafe { libc::close(fds[0]) };
    (st, what)
}

proptest! {
    #![proptest_config(config(256))]

    /// A server gets a mutated ClientHello; a client gets mutated server flights. Every outcome
    /// is a status: no panic.
    #[test]
    fn tls_sessions_take_mutated_records(edits in edits(), tamper_server in any::<bool>()) {
        let (mut cctx, mut sctx) = contexts();
        let mut client = Session::client(&mut cctx, Some("localhost")).unwrap();
        let mut server = Session::server(&mut sctx).unwrap();
        let hello = flight(&mut client);
        if !tamper_server {
            let _ = server.feed(&mutate(hello, &edits));
            prop_assert!(flight(&mut server).len() < 1 << 16);
        } else {
            server.feed(&hello).unwrap();
            let answer = flight(&mut server);
            let _ = client.feed(&mutate(answer, &edits));
            let (st, _) = receive_status(&mut client, &[]);
            prop_assert!(st != AERS_PANICKED);
        }
    }

    #[test]
    fn tls_receive_maps_random_bytes_to_statuses(data in vec(any::<u8>(), 0..2000), server_side in any::<bool>()) {
        let (mut cctx, mut sctx) = contexts();
        let mut session = if server_side { Session::server(&mut sctx).unwrap() } else { Session::client(&mut cctx, Some("localhost")).unwrap() };
        let (st, what) = receive_status(&mut session, &data);
        prop_assert!(st >= 0, "status {}", st);
        if st == 0 {
            prop_assert!((0..=2).contains(&what), "what {}", what);
        }
    }

    /// Peer names from anywhere: a client session is made, or refused only when the name
    /// has to be verified.
    #[test]
    fn tls_client_takes_any_peer_name(name in "\\PC{0,80}", check in any::<bool>()) {
        let mut ctx = Context::new(crate::tls::Settings { tls12: true, tls13: true, check_peername: check, ..Default::default() });
        let made = Session::client(&mut ctx, Some(&name));
        prop_assert!(made.is_ok() || check);
    }
}
