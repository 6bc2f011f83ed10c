//! Questions as the resolver sends them, kept for re-use: a look-up's name parsed into a
//! domain name and its query packet encoded (hickory-proto's work, several thousand
//! instructions each) are the same every time the same name is asked with the same type and
//! class; only the id differs, and the resolver writes that into its copy. Programs tend to
//! ask for the same few names over and over (a client resolving its server per connection),
//! and AnyEvent has no answer cache to spare them the asking.

use super::wire;
use hickory_proto::rr::Name;
use std::collections::HashMap;

/// Questions kept; when full, the memo starts over (a program asking for many different names
/// gains nothing from it anyway).
const MAX_ENTRIES: usize = 256;

/// What besides the name's text makes the question: type, class and the EDNS0 payload the
/// packet advertises.
type Kind = (u16, u16, Option<u16>);

/// A question ready to send: the name (for matching the answer) and the packet, id 0.
#[derive(Clone)]
pub(crate) struct Question {
    pub(crate) name: Name,
    pub(crate) packet: Vec<u8>,
}

/// Keyed by the name's text as asked (after the search list), then by [`Kind`] (a name is
/// mostly asked with one or two).
#[derive(Default)]
pub(crate) struct QuestionMemo {
    entries: HashMap<Vec<u8>, Vec<(Kind, Question)>>,
    count: usize,
}

impl QuestionMemo {
    /// The question for `text` (a name as the search list made it), from the memo or newly
    /// encoded; none for a name that is no domain name or cannot be encoded.
    pub(crate) fn get(
        &mut self,
        text: &[u8],
        qtype: u16,
        qclass: u16,
        edns: Option<u16>,
    ) -> Option<Question> {
        let kind = (qtype, qclass, edns);
        let kept = self.entries.get(text);
        if let Some((_, q)) = kept.and_then(|list| list.iter().find(|(k, _)| *k == kind)) {
            return Some(q.clone());
        }
        let name = wire::parse_name(text).ok()?;
        let packet = wire::query_packet(0, &name, qtype, qclass, edns).ok()?;
        let q = Question { name, packet };
        if self.count >= MAX_ENTRIES {
            self.entries.clear();
            self.count = 0;
        }
        self.count += 1;
        let list = self.entries.entry(text.to_vec()).or_default();
        list.push((kind, q.clone()));
        Some(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_question_is_the_one_encoded_afresh() {
        let mut memo = QuestionMemo::default();
        let first = memo.get(b"Host.Example", 1, 1, Some(1232)).unwrap();
        let again = memo.get(b"Host.Example", 1, 1, Some(1232)).unwrap();
        let name = wire::parse_name(b"Host.Example").unwrap();
        let fresh = wire::query_packet(0, &name, 1, 1, Some(1232)).unwrap();
        assert_eq!(first.packet, fresh);
        assert_eq!(again.packet, fresh);
        assert_eq!(again.name.to_ascii(), name.to_ascii());
    }

    #[test]
    fn type_class_and_edns_are_part_of_the_question() {
        let mut memo = QuestionMemo::default();
        let a = memo.get(b"h.test", 1, 1, None).unwrap().packet;
        let aaaa = memo.get(b"h.test", 28, 1, None).unwrap().packet;
        let chaos = memo.get(b"h.test", 1, 3, None).unwrap().packet;
        let edns = memo.get(b"h.test", 1, 1, Some(1232)).unwrap().packet;
        assert_ne!(a, aaaa);
        assert_ne!(a, chaos);
        assert_ne!(a, edns);
        assert_eq!(memo.get(b"h.test", 1, 1, None).unwrap().packet, a);
    }

    #[test]
    fn no_question_for_what_is_no_name_and_the_memo_stays_bounded() {
        let mut memo = QuestionMemo::default();
        assert!(memo.get(b"a..b", 1, 1, None).is_none());
        for i in 0..MAX_ENTRIES * 2 + 3 {
            memo.get(format!("h{i}.test").as_bytes(), 1, 1, None)
                .unwrap();
            assert!(memo.count <= MAX_ENTRIES);
            assert_eq!(
                memo.entries.values().map(Vec::len).sum::<usize>(),
                memo.count
            );
        }
    }
}
