//! C ABI of the netstring parser (rust/stream.rs) for AnyEvent::Handle's glue (xs/handle.xsh).
//! The rest of the Handle's byte work (read(2), send(2), the line and marker scans with memchr
//! and memmem) is plain libc in the engine, xs/handle.c: one call each, no hop through Rust.
//!
//! Safety, for every function here: a `buf`/`len` pair points at `len` readable bytes of one
//! buffer that nothing else uses during the call (borrowed from a Perl string), and every
//! out-pointer points at a writable value of its type.

use super::bytes;
use super::contract::{call, Status};
use crate::stream::{self, Netstring};

/// `aers_parse_netstring`: more bytes are needed.
pub const AERS_NETSTRING_INCOMPLETE: i32 = 0;
/// `aers_parse_netstring`: a complete netstring.
pub const AERS_NETSTRING_COMPLETE: i32 = 1;
/// `aers_parse_netstring`: not a netstring.
pub const AERS_NETSTRING_MALFORMED: i32 = 2;

/// Parses a netstring at the start of `buf` whose length is at most `max`: `*state` is one of
/// `AERS_NETSTRING_*`; when complete, its data is `*dlen` bytes at `*start`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_parse_netstring(
    buf: *const u8,
    len: usize,
    max: usize,
    state: *mut i32,
    start: *mut usize,
    dlen: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let parsed = stream::parse_netstring(unsafe { bytes(buf, len) }, max);
        // SAFETY: the module's contract.
        unsafe {
            state.write(match parsed {
                Netstring::Complete { start: s, len: l } => {
                    start.write(s);
                    dlen.write(l);
                    AERS_NETSTRING_COMPLETE
                }
                Netstring::Incomplete => AERS_NETSTRING_INCOMPLETE,
                Netstring::Malformed => AERS_NETSTRING_MALFORMED,
            })
        };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::AERS_OK;

    #[test]
    fn netstring_states() {
        let parse = |data: &[u8]| {
            let (mut state, mut start, mut len) = (-1, 0, 0);
            // SAFETY: data is readable for its length; the out-parameters are locals.
            let st = unsafe {
                aers_parse_netstring(
                    data.as_ptr(),
                    data.len(),
                    100,
                    &mut state,
                    &mut start,
                    &mut len,
                )
            };
            assert_eq!(st, AERS_OK);
            (state, start, len)
        };
        assert_eq!(parse(b"3:abc,"), (AERS_NETSTRING_COMPLETE, 2, 3));
        assert_eq!(parse(b"3:ab").0, AERS_NETSTRING_INCOMPLETE);
        assert_eq!(parse(b"x:abc,").0, AERS_NETSTRING_MALFORMED);
    }
}
