//! Internationalised domain names for AnyEvent::Util: UTS #46 processing (the `idna` crate)
//! and RFC 3492 punycode.

/// The ASCII ("xn--") form of a domain name; names that are pure ASCII already are returned as
/// they are, and `None` means the name is not a valid IDN.
pub(crate) fn to_ascii(name: &str) -> Option<String> {
    if name.is_ascii() {
        return Some(name.to_owned());
    }
    idna::domain_to_ascii(name).ok()
}

/// The Unicode (display) form of a domain name, lower-cased and normalised; `None` when some
/// label is not valid.
pub(crate) fn to_unicode(name: &str) -> Option<String> {
    let (unicode, result) = idna::domain_to_unicode(name);
    result.ok().map(|_| unicode)
}

/// The punycode of one label (no "xn--" prefix, no case folding).
pub(crate) fn punycode_encode(label: &str) -> Option<String> {
    idna::punycode::encode_str(label)
}

/// The Unicode label a punycode string stands for.
pub(crate) fn punycode_decode(encoded: &str) -> Option<String> {
    idna::punycode::decode_to_string(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3492_sample() {
        // RFC 3492, 7.1 (L): "3年B組金八先生"
        assert_eq!(
            punycode_encode("3年B組金八先生").unwrap(),
            "3B-ww4c5e180e575a65lsy2b"
        );
        assert_eq!(
            punycode_decode("3B-ww4c5e180e575a65lsy2b").unwrap(),
            "3年B組金八先生"
        );
    }

    #[test]
    fn domain_round_trip() {
        assert_eq!(to_ascii("bücher.de").unwrap(), "xn--bcher-kva.de");
        assert_eq!(to_unicode("xn--bcher-kva.de").unwrap(), "bücher.de");
        assert_eq!(to_ascii("Example.COM").unwrap(), "Example.COM");
        assert!(punycode_decode("a-b-\u{7f}").is_none());
    }
}
