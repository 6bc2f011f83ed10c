//! The hosts file (/etc/hosts or $PERL_ANYEVENT_HOSTS): the one parser of it, read as
//! AnyEvent 7.17 reads it, for the resolver's A/AAAA fallback (re-read when its modification
//! time changes) and for AnyEvent::Socket's `_parse_hosts` (`aers_dns_parse_hosts`).

use super::wire::format_ipv6;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The addresses of one name in a hosts file, in file order.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct HostEntry {
    /// The name, lower case, without a final dot.
    pub(crate) name: Vec<u8>,
    pub(crate) v4: Vec<Ipv4Addr>,
    pub(crate) v6: Vec<Ipv6Addr>,
}

#[derive(Default)]
pub(crate) struct Hosts {
    path: PathBuf,
    mtime: Option<SystemTime>,
    names: HashMap<Vec<u8>, HostEntry>,
}

impl Hosts {
    /// The addresses `name` has in the file at `path` (IPv6 ones when `v6`), as text.
    pub(crate) fn lookup(&mut self, path: &Path, name: &[u8], v6: bool) -> Vec<String> {
        self.refresh(path);
        let name = name.strip_suffix(b".").unwrap_or(name).to_ascii_lowercase();
        match self.names.get(&name) {
            Some(e) if v6 => e.v6.iter().map(format_ipv6).collect(),
            Some(e) => e.v4.iter().map(Ipv4Addr::to_string).collect(),
            None => Vec::new(),
        }
    }

    fn refresh(&mut self, path: &Path) {
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if path == self.path && mtime == self.mtime && mtime.is_some() {
            return;
        }
        self.path = path.to_path_buf();
        self.mtime = mtime;
        self.names = std::fs::read(path)
            .map(|text| parse_hosts(&text))
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
    }
}

/// The names of a hosts file with their addresses, in the order the names first appear. As
/// AnyEvent::Socket 7.17 reads it: `#` starts a comment; fields are separated by spaces, tabs
/// and carriage returns; the first is an address as `parse_ipv4` or else `parse_ipv6` takes
/// it (lines with anything else, or without a name, are skipped); names are lower-cased and
/// lose one final dot ("name." is the same name: look-ups drop it too).
pub(crate) fn parse_hosts(text: &[u8]) -> Vec<HostEntry> {
    let mut entries: Vec<HostEntry> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or(&[]);
        let start = line
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(line.len());
        let line = line[start..].to_ascii_lowercase();
        // (Perl's split: a leading separator left, a carriage return, gives an empty address)
        let mut fields: Vec<&[u8]> = line.split(|&b| matches!(b, b' ' | b'\t' | b'\r')).collect();
        while fields.last().is_some_and(|f| f.is_empty()) {
            fields.pop();
        }
        let mut fields = fields.into_iter();
        let address = fields.next().unwrap_or(b"");
        let names: Vec<&[u8]> = fields.filter(|f| !f.is_empty()).collect();
        if names.is_empty() {
            continue;
        }
        let (v4, v6) = match parse_ipv4(address) {
            Some(v4) => (Some(v4), None),
            None => match parse_ipv6(address) {
                Some(v6) => (None, Some(v6)),
                None => continue,
            },
        };
        for name in names {
            let name = name.strip_suffix(b".").unwrap_or(name);
            let i = *index.entry(name.to_vec()).or_insert_with(|| {
                entries.push(HostEntry {
                    name: name.to_vec(),
                    ..HostEntry::default()
                });
                entries.len() - 1
            });
            entries[i].v4.extend(v4);
            entries[i].v6.extend(v6);
        }
    }
    entries
}

/// One part of an IPv4 address in inet_aton's forms: decimal, octal (leading 0), hex (0x).
fn ipv4_part(part: &[u8]) -> Option<u64> {
    let (digits, radix) = match part {
        [b'0', b'x' | b'X', hex @ ..] if !hex.is_empty() => (hex, 16),
        [b'0', oct @ ..] => (oct, 8),
        [b'1'..=b'9', ..] => (part, 10),
        _ => return None,
    };
    if digits.is_empty() {
        return Some(0);
    }
    let text = std::str::from_utf8(digits).ok()?;
    // (digits only: from_str_radix would take a sign)
    if !digits.iter().all(|&b| (b as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(text, radix).ok()
}

/// An IPv4 address as AnyEvent::Socket's `parse_ipv4` reads it: a dotted quad of decimal
/// numbers, or inet_aton's other forms (1 to 4 parts, octal and hex, the last part filling
/// the remaining bytes).
pub(crate) fn parse_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let parts: Vec<&[u8]> = text.split(|&b| b == b'.').collect();
    let plain = |p: &[u8]| {
        !p.is_empty()
            && p.len() <= 3
            && p.iter().all(u8::is_ascii_digit)
            && (p == b"0" || p[0] != b'0')
    };
    if parts.len() == 4 && parts.iter().all(|p| plain(p)) {
        let mut octets = [0u8; 4];
        for (o, p) in octets.iter_mut().zip(&parts) {
            *o = std::str::from_utf8(p)
                .ok()?
                .parse::<u16>()
                .ok()?
                .try_into()
                .ok()?;
        }
        return Some(Ipv4Addr::from(octets));
    }
    if parts.len() > 4 {
        return None;
    }
    let values: Vec<u64> = parts.iter().map(|p| ipv4_part(p)).collect::<Option<_>>()?;
    let (&last, leading) = values.split_last()?;
    if leading.iter().any(|&v| v > 255) || last >= 1u64 << (8 * (4 - leading.len())) {
        return None;
    }
    let value = leading
        .iter()
        .enumerate()
        .fold(last, |acc, (i, &v)| acc + (v << (24 - 8 * i)));
    Some(Ipv4Addr::from(value as u32))
}

/// An IPv6 address as AnyEvent::Socket's `parse_ipv6` reads it: up to eight groups of 1 to 4
/// hex digits, `::` for zero groups, and a final IPv4 address in `parse_ipv4`'s forms.
pub(crate) fn parse_ipv6(text: &[u8]) -> Option<Ipv6Addr> {
    let colons = text.iter().filter(|&&b| b == b':').count();
    if !(2..=8).contains(&colons) {
        return None;
    }
    let double = text.windows(2).position(|w| w == b"::");
    let (head, tail) = match double {
        Some(at) => (&text[..at], &text[at + 2..]),
        None => (&b""[..], text),
    };
    let groups = |part: &[u8]| -> Vec<Vec<u8>> {
        if part.is_empty() {
            Vec::new()
        } else {
            part.split(|&b| b == b':').map(<[u8]>::to_vec).collect()
        }
    };
    let head = groups(head);
    let mut tail = groups(tail);
    if tail.last().is_some_and(|g| g.contains(&b'.')) {
        if colons > 6 {
            return None;
        }
        let v4 = parse_ipv4(&tail.pop()?)?.octets();
        tail.push(format!("{:x}", u16::from_be_bytes([v4[0], v4[1]])).into_bytes());
        tail.push(format!("{:x}", u16::from_be_bytes([v4[2], v4[3]])).into_bytes());
    }
    let n = head.len() + tail.len();
    if (n != 8 && double.is_none()) || n > 8 {
        return None;
    }
    let hex = |g: &Vec<u8>| (1..=4).contains(&g.len()) && g.iter().all(u8::is_ascii_hexdigit);
    if !head.iter().chain(&tail).all(hex) {
        return None;
    }
    let value =
        |g: &Vec<u8>| u16::from_str_radix(std::str::from_utf8(g).unwrap_or("0"), 16).unwrap_or(0);
    let mut words = [0u16; 8];
    for (i, g) in head.iter().enumerate() {
        words[i] = value(g);
    }
    for (i, g) in tail.iter().enumerate() {
        words[8 - tail.len() + i] = value(g);
    }
    Some(Ipv6Addr::from(words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, v4: &[&str], v6: &[&str]) -> HostEntry {
        HostEntry {
            name: name.as_bytes().to_vec(),
            v4: v4.iter().map(|a| a.parse().unwrap()).collect(),
            v6: v6.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn parses_aliases_of_both_families_in_file_order() {
        let h = parse_hosts(
            b"127.0.0.1 localhost Loopy # c\n::1 localhost\n# x\nbad entry\n10.1.1.1\n\t10.0.0.2\ttabbed\r\n",
        );
        assert_eq!(
            h,
            vec![
                entry("localhost", &["127.0.0.1"], &["::1"]),
                entry("loopy", &["127.0.0.1"], &[]),
                entry("tabbed", &["10.0.0.2"], &[]),
            ]
        );
    }

    #[test]
    fn a_final_dot_in_the_file_is_dropped() {
        let h = parse_hosts(b"127.9.9.9 test.invalid. Other\n");
        assert_eq!(h[0], entry("test.invalid", &["127.9.9.9"], &[]));
        let mut hosts = Hosts::default();
        let path = std::env::temp_dir().join(format!("aers-hosts-{}", std::process::id()));
        std::fs::write(&path, b"127.9.9.9 test.invalid.\n").unwrap();
        assert_eq!(
            hosts.lookup(&path, b"test.invalid.", false),
            vec!["127.9.9.9"]
        );
        assert_eq!(
            hosts.lookup(&path, b"TEST.invalid", false),
            vec!["127.9.9.9"]
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_line_starting_with_a_carriage_return_has_no_address() {
        assert!(parse_hosts(b"\r10.0.0.1 name\n").is_empty());
    }

    #[test]
    fn ipv4_forms_of_inet_aton() {
        let v4 = |t: &str| parse_ipv4(t.as_bytes()).map(|a| a.to_string());
        assert_eq!(v4("10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(v4("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(v4("2130706433").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("1.2.65535").as_deref(), Some("1.2.255.255"));
        for bad in [
            "1.2.3.256",
            "1.2.3.4.5",
            "256.1",
            "1.2.65536",
            "09.1.1.1",
            "1..2",
            "",
            "a.b",
            "+1.2.3.4",
            "0x",
            "4294967296",
        ] {
            assert_eq!(v4(bad), None, "{bad}");
        }
    }

    #[test]
    fn ipv6_forms() {
        let v6 = |t: &str| parse_ipv6(t.as_bytes()).map(|a| a.to_string());
        assert_eq!(v6("fd00::1").as_deref(), Some("fd00::1"));
        assert_eq!(v6("::").as_deref(), Some("::"));
        assert_eq!(v6("::ffff:1.2.3.4").as_deref(), Some("::ffff:1.2.3.4"));
        assert_eq!(v6("::ffff:127.1").as_deref(), Some("::ffff:127.0.0.1"));
        assert_eq!(v6("1:2:3:4:5:6:7:8").as_deref(), Some("1:2:3:4:5:6:7:8"));
        // AnyEvent lets "::" stand for no group at all
        assert_eq!(v6("1:2:3:4::5:6:7:8").as_deref(), Some("1:2:3:4:5:6:7:8"));
        for bad in [
            "1:2",
            "1::2::3",
            "12345::",
            "1:2:3:4:5:6:7",
            "::g",
            "1:2:3:4:5:6:7:1.2.3.4",
            "10.0.0.1",
        ] {
            assert_eq!(v6(bad), None, "{bad}");
        }
    }
}
