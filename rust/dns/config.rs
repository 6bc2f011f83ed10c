//! resolv.conf, read as AnyEvent reads it: `nameserver`, `domain`, `search`, and the
//! `timeout`, `attempts` and `ndots` options; `#` and `;` start comments; anything else is
//! ignored.

use super::resolver::{Settings, DNS_PORT};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Default, PartialEq)]
pub(crate) struct ResolvConf {
    /// Addresses, with a port when the line gave one (`ip:port`, `[ipv6]:port`: an extension
    /// of ours so that tests can point at a server on a high port).
    pub(crate) servers: Vec<SocketAddr>,
    /// Nameserver lines whose address did not parse (the caller logs them).
    pub(crate) invalid_servers: Vec<String>,
    pub(crate) search: Vec<String>,
    pub(crate) ndots: Option<u32>,
    /// The per-try timeouts, when an option set them (`timeout:N` repeated `attempts:N` times).
    pub(crate) timeouts: Option<Vec<u32>>,
}

pub(crate) fn parse_resolv_conf(text: &str) -> ResolvConf {
    let mut conf = ResolvConf::default();
    let (mut timeout, mut attempts) = (None, None);
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        let rest: Vec<&str> = words.collect();
        match keyword.to_ascii_lowercase().as_str() {
            "nameserver" if rest.len() == 1 => match rest[0].parse::<IpAddr>() {
                Ok(ip) => conf.servers.push(SocketAddr::new(ip, DNS_PORT)),
                Err(_) => match rest[0].parse::<SocketAddr>() {
                    Ok(addr) => conf.servers.push(addr),
                    Err(_) => conf.invalid_servers.push(rest[0].to_string()),
                },
            },
            "domain" if rest.len() <= 1 => {
                conf.search = rest.iter().map(|s| s.to_string()).collect()
            }
            "search" => conf.search = rest.iter().map(|s| s.to_string()).collect(),
            "options" => {
                for opt in rest {
                    let number =
                        |prefix: &str| opt.strip_prefix(prefix).and_then(|n| n.parse::<u32>().ok());
                    if let Some(n) = number("timeout:") {
                        timeout = Some(n);
                    } else if let Some(n) = number("attempts:") {
                        attempts = Some(n);
                    } else if let Some(n) = number("ndots:") {
                        conf.ndots = Some(n);
                    }
                }
            }
            _ => {}
        }
    }
    conf.timeouts = match (timeout, attempts) {
        (Some(t), Some(a)) if a > 0 => Some(vec![t; a as usize]),
        (Some(t), _) => Some(vec![t]),
        // AnyEvent: attempts alone repeats the first default timeout.
        (None, Some(a)) if a > 0 => {
            let first = Settings::default().timeouts[0].as_secs() as u32;
            Some(vec![first; a as usize])
        }
        _ => None,
    };
    conf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_directives_anyevent_knows() {
        let c = parse_resolv_conf(
            "# comment\nnameserver 127.0.0.1 ; trailing\nnameserver ::1\nnameserver bogus\nnameserver 127.0.0.2:5353\n\
             search a.test b.test\noptions ndots:3 timeout:4 attempts:2 rotate\nsortlist 1.2.3.4\n",
        );
        let want: Vec<SocketAddr> = ["127.0.0.1:53", "[::1]:53", "127.0.0.2:5353"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(c.servers, want);
        assert_eq!(c.invalid_servers, vec!["bogus"]);
        assert_eq!(c.search, vec!["a.test", "b.test"]);
        assert_eq!(c.ndots, Some(3));
        assert_eq!(c.timeouts, Some(vec![4, 4]));
        assert_eq!(parse_resolv_conf("domain x.test\n").search, vec!["x.test"]);
    }
}
