//! DNS messages in AnyEvent's layout, on top of hickory-proto's encoder and decoder.
//!
//! A resource record becomes `[name, type, class, ttl, data...]` with the data fields AnyEvent
//! documents (dotted quads, names without the final dot, `(preference, exchange)` for MX ...);
//! a message becomes the hash `dns_unpack` returns.

use super::value::Value;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use std::net::{Ipv4Addr, Ipv6Addr};

pub(crate) const TYPE_A: u16 = 1;
pub(crate) const TYPE_CNAME: u16 = 5;
pub(crate) const TYPE_AAAA: u16 = 28;
pub(crate) const TYPE_ANY: u16 = 255;
pub(crate) const CLASS_IN: u16 = 1;

/// AnyEvent's names of record types (its `%type_id`), by number: the one table of them
/// (AnyEvent::DNS gets it through `aers_dns_tables`).
pub(crate) const TYPES: &[(u16, &str)] = &[
    (1, "a"),
    (2, "ns"),
    (3, "md"),
    (4, "mf"),
    (5, "cname"),
    (6, "soa"),
    (7, "mb"),
    (8, "mg"),
    (9, "mr"),
    (10, "null"),
    (11, "wks"),
    (12, "ptr"),
    (13, "hinfo"),
    (14, "minfo"),
    (15, "mx"),
    (16, "txt"),
    (24, "sig"),
    (25, "key"),
    (27, "gpos"),
    (28, "aaaa"),
    (29, "loc"),
    (33, "srv"),
    (35, "naptr"),
    (39, "dname"),
    (41, "opt"),
    (43, "ds"),
    (44, "sshfp"),
    (46, "rrsig"),
    (47, "nsec"),
    (48, "dnskey"),
    (53, "smimea"),
    (59, "cds"),
    (60, "cdnskey"),
    (61, "openpgpkey"),
    (62, "csync"),
    (99, "spf"),
    (249, "tkey"),
    (250, "tsig"),
    (251, "ixfr"),
    (252, "axfr"),
    (253, "mailb"),
    (255, "*"),
    (256, "uri"),
    (257, "caa"),
];

/// AnyEvent's names of classes (`%class_id`).
pub(crate) const CLASSES: &[(u16, &str)] =
    &[(1, "in"), (3, "ch"), (4, "hs"), (254, "none"), (255, "*")];

/// AnyEvent's names of response codes (`%rcode_id`; 11 to 15 have none).
pub(crate) const RCODES: &[(u16, &str)] = &[
    (0, "noerror"),
    (1, "formerr"),
    (2, "servfail"),
    (3, "nxdomain"),
    (4, "notimp"),
    (5, "refused"),
    (6, "yxdomain"),
    (7, "yxrrset"),
    (8, "nxrrset"),
    (9, "notauth"),
    (10, "notzone"),
];

/// AnyEvent's names of opcodes (`%opcode_id`; 3 and 6 to 15 have none).
pub(crate) const OPCODES: &[(u16, &str)] = &[
    (0, "query"),
    (1, "iquery"),
    (2, "status"),
    (4, "notify"),
    (5, "update"),
];

/// The header fields rcode and opcode hold 4 bits: numbers up to this one.
pub(crate) const MAX_CODE: u16 = 15;

/// The name of `code` in one of the tables above (sorted by number).
fn name_in(table: &[(u16, &'static str)], code: u16) -> Option<&'static str> {
    table
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .map(|i| table[i].1)
}

/// The number of a name in one of the tables above.
fn code_in(table: &[(u16, &str)], name: &[u8]) -> Option<u16> {
    table
        .iter()
        .find(|(_, n)| n.as_bytes() == name)
        .map(|&(c, _)| c)
}

/// AnyEvent's name for a record type (its `%type_str`).
pub(crate) fn type_name(code: u16) -> Option<&'static str> {
    name_in(TYPES, code)
}

/// The type number of a type field as AnyEvent reads one in a record: a name of the table
/// (any case) or a decimal number; none for anything else.
pub(crate) fn type_code(field: &[u8]) -> Option<u16> {
    let lower = field.to_ascii_lowercase();
    code_in(TYPES, &lower).or_else(|| {
        (!lower.is_empty() && lower.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(&lower).ok()?.parse().ok())
            .flatten()
    })
}

pub(crate) fn class_name(code: u16) -> Option<&'static str> {
    name_in(CLASSES, code)
}

fn rcode_name(code: u16) -> Option<&'static str> {
    name_in(RCODES, code)
}

fn opcode_name(code: u8) -> Option<&'static str> {
    name_in(OPCODES, code as u16)
}

/// A name or, when AnyEvent has none, the number.
fn named(name: Option<&'static str>, code: i64) -> Value {
    name.map(Value::fixed).unwrap_or(Value::Int(code))
}

/// Parses a domain name as AnyEvent takes it: labels separated by dots, any bytes in a label,
/// an optional final dot. Empty labels, labels over 63 bytes and names over 255 bytes on the
/// wire are errors.
pub(crate) fn parse_name(text: &[u8]) -> Result<Name, String> {
    let text = text.strip_suffix(b".").unwrap_or(text);
    if text.is_empty() {
        return Ok(Name::root());
    }
    let labels: Vec<&[u8]> = text.split(|&b| b == b'.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err("empty label (two dots in a row, or a leading dot)".into());
    }
    if let Some(l) = labels.iter().find(|l| l.len() > 63) {
        return Err(format!("label of {} bytes (at most 63 allowed)", l.len()));
    }
    let wire_len: usize = labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1;
    if wire_len > 255 {
        return Err(format!(
            "name of {wire_len} bytes on the wire (at most 255 allowed)"
        ));
    }
    let mut name = Name::from_labels(labels).map_err(|e| e.to_string())?;
    name.set_fqdn(true);
    Ok(name)
}

/// The name as AnyEvent prints it: the labels joined by dots, no final dot, case kept.
pub(crate) fn name_bytes(name: &Name) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(label);
    }
    out
}

/// Whether two names are the same, ignoring ASCII case.
pub(crate) fn same_name(a: &Name, b: &Name) -> bool {
    a.num_labels() == b.num_labels()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// A message `dns_pack` builds (and the resolver sends): header fields and questions.
#[derive(Default)]
pub(crate) struct PackRequest {
    pub(crate) id: u16,
    /// The opcode (4 bits) and response code (4 bits; higher bits are EDNS's, not sent).
    pub(crate) opcode: u8,
    pub(crate) rcode: u16,
    pub(crate) qr: bool,
    pub(crate) aa: bool,
    pub(crate) tc: bool,
    pub(crate) rd: bool,
    pub(crate) ra: bool,
    pub(crate) ad: bool,
    pub(crate) cd: bool,
    pub(crate) edns_payload: Option<u16>,
    pub(crate) questions: Vec<(Name, u16, u16)>,
}

/// Encodes a message with questions only (what `dns_pack` and the resolver send).
pub(crate) fn pack(req: &PackRequest) -> Result<Vec<u8>, String> {
    let kind = if req.qr {
        MessageType::Response
    } else {
        MessageType::Query
    };
    let mut msg = Message::new(req.id, kind, OpCode::from_u8(req.opcode & 0xf));
    msg.metadata.authoritative = req.aa;
    msg.metadata.truncation = req.tc;
    msg.metadata.recursion_desired = req.rd;
    msg.metadata.recursion_available = req.ra;
    msg.metadata.authentic_data = req.ad;
    msg.metadata.checking_disabled = req.cd;
    msg.metadata.response_code = (req.rcode & 0xf).into();
    for (name, qtype, qclass) in &req.questions {
        let mut q = Query::query(name.clone(), RecordType::from(*qtype));
        q.set_query_class(DNSClass::from(*qclass));
        msg.add_query(q);
    }
    if let Some(payload) = req.edns_payload {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        msg.set_edns(edns);
    }
    msg.to_vec().map_err(|e| e.to_string())
}

/// A recursive query for one question, as the resolver sends it.
pub(crate) fn query_packet(
    id: u16,
    name: &Name,
    qtype: u16,
    qclass: u16,
    edns: Option<u16>,
) -> Result<Vec<u8>, String> {
    pack(&PackRequest {
        id,
        rd: true,
        edns_payload: edns,
        questions: vec![(name.clone(), qtype, qclass)],
        ..PackRequest::default()
    })
}

/// IPv6 text as AnyEvent::Socket::format_ipv6 writes it (v4-mapped and v4-compatible
/// addresses keep their dotted quad).
pub(crate) fn format_ipv6(ip: &Ipv6Addr) -> String {
    let o = ip.octets();
    let quad = || Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if o[..8].iter().all(|&b| b == 0) {
        let tail = &o[8..12];
        if ip.is_unspecified() {
            return "::".into();
        } else if *ip == Ipv6Addr::LOCALHOST {
            return "::1".into();
        } else if tail == [0, 0, 0, 0] {
            return format!("::{}", quad());
        } else if tail == [0, 0, 0xff, 0xff] {
            return format!("::ffff:{}", quad());
        } else if tail == [0xff, 0xff, 0, 0] {
            return format!("::ffff:0:{}", quad());
        }
    }
    ip.to_string()
}

/// Dotted-quad text of an IPv4 address (as its `Display`, which costs ten times as much
/// through the formatting machinery: this is done for every address record).
fn ipv4_text(ip: &Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::with_capacity(15);
    for (i, &octet) in ip.octets().iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        if octet >= 100 {
            out.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            out.push(b'0' + octet / 10 % 10);
        }
        out.push(b'0' + octet % 10);
    }
    out
}

/// `<character-string>`s (length-prefixed) as AnyEvent unpacks them with `(C/a*)*`.
fn char_strings(mut raw: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = raw.split_first() {
        let len = (len as usize).min(rest.len());
        out.push(Value::str(&rest[..len]));
        raw = &rest[len..];
    }
    out
}

fn raw_rdata(data: &RData) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = BinEncoder::new(&mut buf);
    // Records we could decode re-encode; an encoding failure leaves what was written.
    let _ = data.emit(&mut enc);
    buf
}

/// The data fields of a record, in AnyEvent's layout, appended to `out`.
fn rdata_fields(code: u16, data: &RData, out: &mut Vec<Value>) {
    let name = |n: &Name| Value::owned(name_bytes(n));
    let bytes = |b: &[u8]| Value::str(b);
    match data {
        RData::A(a) => out.push(Value::owned(ipv4_text(&a.0))),
        RData::AAAA(a) => out.push(Value::owned(format_ipv6(&a.0).into_bytes())),
        RData::NS(n) => out.push(name(&n.0)),
        RData::CNAME(n) => out.push(name(&n.0)),
        RData::PTR(n) => out.push(name(&n.0)),
        RData::SOA(s) => out.extend([
            name(&s.mname),
            name(&s.rname),
            Value::Int(s.serial as i64),
            Value::Int(s.refresh as u32 as i64),
            Value::Int(s.retry as u32 as i64),
            Value::Int(s.expire as u32 as i64),
            Value::Int(s.minimum as i64),
        ]),
        RData::HINFO(h) => out.extend([bytes(&h.cpu), bytes(&h.os)]),
        RData::MX(m) => out.extend([Value::Int(m.preference as i64), name(&m.exchange)]),
        RData::TXT(t) => out.extend(t.txt_data.iter().map(|s| bytes(s))),
        RData::SRV(s) => out.extend([
            Value::Int(s.priority as i64),
            Value::Int(s.weight as i64),
            Value::Int(s.port as i64),
            name(&s.target),
        ]),
        RData::NAPTR(n) => out.extend([
            Value::Int(n.order as i64),
            Value::Int(n.preference as i64),
            bytes(&n.flags),
            bytes(&n.services),
            bytes(&n.regexp),
            name(&n.replacement),
        ]),
        RData::CAA(_) => {
            // AnyEvent: (flags, tag, value) straight from the wire.
            let raw = raw_rdata(data);
            let tag_len = raw.get(1).copied().unwrap_or(0) as usize;
            let tag_end = (2 + tag_len).min(raw.len());
            out.extend([
                Value::Int(raw.first().copied().unwrap_or(0) as i64),
                bytes(&raw[2.min(raw.len())..tag_end]),
                bytes(&raw[tag_end..]),
            ]);
        }
        RData::Unknown { rdata, .. } => match code {
            // Types hickory leaves undecoded that AnyEvent decodes.
            99 => out.extend(char_strings(&rdata.anything)),
            39 => out.push(bytes(&rdata.anything)),
            11 if rdata.anything.len() >= 5 => {
                let r = &rdata.anything;
                out.extend([
                    Value::str(Ipv4Addr::new(r[0], r[1], r[2], r[3]).to_string()),
                    Value::Int(r[4] as i64),
                    bytes(&r[5..]),
                ]);
            }
            _ => out.push(bytes(&rdata.anything)),
        },
        RData::Update0(_) => out.push(Value::str(b"")),
        other => out.push(Value::owned(raw_rdata(other))),
    }
}

/// `[name, type, class, ttl, data...]`, with `ttl` given separately (the cache lowers it).
pub(crate) fn record_value_ttl(rec: &Record, ttl: u32) -> Value {
    let code: u16 = rec.record_type().into();
    let class: u16 = rec.dns_class.into();
    // (room for the fields of the most common records: an address, MX, SRV)
    let mut fields = Vec::with_capacity(8);
    fields.extend([
        Value::owned(name_bytes(&rec.name)),
        named(type_name(code), code as i64),
        named(class_name(class), class as i64),
        Value::Int(ttl as i64),
    ]);
    rdata_fields(code, &rec.data, &mut fields);
    Value::List(fields)
}

fn record_value(rec: &Record) -> Value {
    record_value_ttl(rec, rec.ttl)
}

/// The hash `dns_unpack` returns.
pub(crate) fn message_value(msg: &Message, raw: &[u8]) -> Value {
    let m = &msg.metadata;
    let rcode: u16 = m.response_code.into();
    let opcode: u8 = m.op_code.into();
    let records = |rs: &[Record]| Value::List(rs.iter().map(record_value).collect());
    let questions = msg
        .queries
        .iter()
        .map(|q| {
            let t: u16 = q.query_type().into();
            let c: u16 = q.query_class().into();
            Value::List(vec![
                Value::owned(name_bytes(q.name())),
                named(type_name(t), t as i64),
                named(class_name(c), c as i64),
            ])
        })
        .collect();
    Value::Map(vec![
        ("__", Value::str(raw)),
        ("id", Value::Int(m.id as i64)),
        ("qr", Value::Bool(m.message_type == MessageType::Response)),
        ("aa", Value::Bool(m.authoritative)),
        ("tc", Value::Bool(m.truncation)),
        ("rd", Value::Bool(m.recursion_desired)),
        ("ra", Value::Bool(m.recursion_available)),
        ("ad", Value::Bool(m.authentic_data)),
        ("cd", Value::Bool(m.checking_disabled)),
        ("op", named(opcode_name(opcode), opcode as i64)),
        ("rc", named(rcode_name(rcode), rcode as i64)),
        ("qd", Value::List(questions)),
        ("an", records(&msg.answers)),
        ("ns", records(&msg.authorities)),
        ("ar", records(&msg.additionals)),
    ])
}

/// The PTR name of an IPv4 or IPv6 address (v4-mapped and v4-compatible IPv6 addresses
/// are treated as IPv4, as AnyEvent does - except `::` and `::1`, which are not embedded IPv4
/// addresses), or none when `text` is not an address.
pub(crate) fn ptr_name(text: &str) -> Option<String> {
    let ip: std::net::IpAddr = text.parse().ok()?;
    let v4 = match ip {
        std::net::IpAddr::V4(v4) => Some(v4),
        std::net::IpAddr::V6(v6) => {
            let o = v6.octets();
            let embedded = o[..10] == [0; 10]
                && (o[10..12] == [0xff, 0xff] || o[10..12] == [0, 0])
                && !v6.is_loopback()
                && !v6.is_unspecified();
            embedded.then(|| std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]))
        }
    };
    Some(match (v4, ip) {
        (Some(v4), _) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        (None, std::net::IpAddr::V6(v6)) => {
            let mut s = String::new();
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s + "ip6.arpa."
        }
        _ => unreachable!(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_text_is_display() {
        for octet in 0..=255u8 {
            let ip = Ipv4Addr::new(octet, 0, 255 - octet, octet / 3);
            assert_eq!(ipv4_text(&ip), ip.to_string().into_bytes());
        }
    }

    #[test]
    fn names_round_trip_and_errors() {
        let n = parse_name(b"WWW.Example.org.").unwrap();
        assert_eq!(name_bytes(&n), b"WWW.Example.org");
        assert!(same_name(&n, &parse_name(b"www.example.ORG").unwrap()));
        assert!(parse_name(b"a..b").is_err());
        assert!(parse_name(&[b'x'; 64]).is_err());
        assert_eq!(name_bytes(&parse_name(b".").unwrap()), b"");
    }

    #[test]
    fn ptr_names() {
        assert_eq!(ptr_name("10.1.2.3").unwrap(), "3.2.1.10.in-addr.arpa.");
        assert_eq!(
            ptr_name("::ffff:10.1.2.3").unwrap(),
            "3.2.1.10.in-addr.arpa."
        );
        assert!(ptr_name("2001:db8::1")
            .unwrap()
            .starts_with("1.0.0.0.0.0.0.0"));
        assert!(ptr_name("2001:db8::1")
            .unwrap()
            .ends_with("8.b.d.0.1.0.0.2.ip6.arpa."));
        assert!(ptr_name("::1")
            .unwrap()
            .starts_with("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6"));
        assert!(ptr_name("nope").is_none());
    }

    #[test]
    fn ipv6_text_like_anyevent() {
        assert_eq!(
            format_ipv6(&"::ffff:1.2.3.4".parse().unwrap()),
            "::ffff:1.2.3.4"
        );
        assert_eq!(format_ipv6(&"2001:db8::1".parse().unwrap()), "2001:db8::1");
        assert_eq!(format_ipv6(&"::".parse().unwrap()), "::");
    }

    #[test]
    fn query_packs_and_decodes() {
        let name = parse_name(b"host.test").unwrap();
        let pkt = query_packet(4242, &name, TYPE_A, CLASS_IN, Some(1232)).unwrap();
        let msg = Message::from_vec(&pkt).unwrap();
        assert_eq!(msg.metadata.id, 4242);
        assert!(msg.metadata.recursion_desired);
        assert_eq!(msg.edns.as_ref().unwrap().max_payload(), 1232);
        match message_value(&msg, &pkt) {
            Value::Map(pairs) => {
                let qd = &pairs.iter().find(|(k, _)| *k == "qd").unwrap().1;
                assert_eq!(
                    qd,
                    &Value::List(vec![Value::List(vec![
                        Value::str("host.test"),
                        Value::str("a"),
                        Value::str("in")
                    ])])
                );
            }
            _ => panic!("not a map"),
        }
    }
}
