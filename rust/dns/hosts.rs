//! The hosts file (/etc/hosts or $PERL_ANYEVENT_HOSTS), re-read when its modification time
//! changes, as AnyEvent does.

use super::wire::format_ipv6;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Default)]
pub(crate) struct Hosts {
    path: PathBuf,
    mtime: Option<SystemTime>,
    /// name (lower case) -> (IPv4 addresses, IPv6 addresses), as text.
    names: HashMap<Vec<u8>, (Vec<String>, Vec<String>)>,
}

impl Hosts {
    /// The addresses `name` has in the file at `path` (IPv6 ones when `v6`).
    pub(crate) fn lookup(&mut self, path: &Path, name: &[u8], v6: bool) -> Vec<String> {
        self.refresh(path);
        let name = name.strip_suffix(b".").unwrap_or(name).to_ascii_lowercase();
        self.names
            .get(&name)
            .map(|(v4, v6s)| if v6 { v6s.clone() } else { v4.clone() })
            .unwrap_or_default()
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
            .unwrap_or_default();
    }
}

pub(crate) fn parse_hosts(text: &[u8]) -> HashMap<Vec<u8>, (Vec<String>, Vec<String>)> {
    let mut names: HashMap<Vec<u8>, (Vec<String>, Vec<String>)> = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or(&[]);
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let Some(addr) = fields.next() else { continue };
        let Some(ip) = std::str::from_utf8(addr)
            .ok()
            .and_then(|a| a.parse::<IpAddr>().ok())
        else {
            continue;
        };
        for alias in fields {
            // "name." is the same name: look-ups drop a final dot too.
            let alias = alias.strip_suffix(b".").unwrap_or(alias);
            let entry = names.entry(alias.to_ascii_lowercase()).or_default();
            match ip {
                IpAddr::V4(v4) => entry.0.push(v4.to_string()),
                IpAddr::V6(v6) => entry.1.push(format_ipv6(&v6)),
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aliases_of_both_families() {
        let h = parse_hosts(
            b"127.0.0.1 localhost Loopy # c\n::1 localhost\n# x\nbad entry\n10.1.1.1\n",
        );
        assert_eq!(h[&b"loopy".to_vec()].0, vec!["127.0.0.1"]);
        assert_eq!(
            h[&b"localhost".to_vec()],
            (vec!["127.0.0.1".to_string()], vec!["::1".to_string()])
        );
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn a_final_dot_in_the_file_is_dropped() {
        let h = parse_hosts(b"127.9.9.9 test.invalid. Other\n");
        assert_eq!(h[&b"test.invalid".to_vec()].0, vec!["127.9.9.9"]);
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
}
