//! C ABI of the stream helpers (rust/stream.rs) for AnyEvent::Handle's glue (xs/handle.c,
//! xs/handle.xsh). Buffers are borrowed from Perl strings for the duration of one call.
//!
//! Safety, for every function here: a `buf`/`len` (or `needle`/`nlen`) pair points at `len`
//! bytes of one buffer (readable; writable for `aers_stream_read`), nothing else uses it during
//! the call, and every out-pointer points at a writable value of its type.

use super::contract::{call, Status};
use super::{bytes, bytes_mut};
use crate::stream::{self, Netstring};

/// `aers_parse_netstring`: more bytes are needed.
pub const AERS_NETSTRING_INCOMPLETE: i32 = 0;
/// `aers_parse_netstring`: a complete netstring.
pub const AERS_NETSTRING_COMPLETE: i32 = 1;
/// `aers_parse_netstring`: not a netstring.
pub const AERS_NETSTRING_MALFORMED: i32 = 2;

/// Reads up to `len` bytes from `fd` into `buf`; `*got` is the count (0: end of file).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_stream_read(
    fd: i32,
    buf: *mut u8,
    len: usize,
    got: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let n = stream::read_into(fd, unsafe { bytes_mut(buf, len) })?;
        // SAFETY: the module's contract.
        unsafe { got.write(n) };
        Ok(())
    })
}

/// Writes up to `len` bytes from `buf` to `fd`; `*put` is the count written.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_stream_write(
    fd: i32,
    buf: *const u8,
    len: usize,
    put: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let n = stream::write_from(fd, unsafe { bytes(buf, len) })?;
        // SAFETY: the module's contract.
        unsafe { put.write(n) };
        Ok(())
    })
}

/// Finds a line end (\012 or \015\012) at or after `from`: `*found`, and the marker's range
/// in `*start`..`*end` when found.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_find_line_end(
    buf: *const u8,
    len: usize,
    from: usize,
    start: *mut usize,
    end: *mut usize,
    found: *mut bool,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let hit = stream::find_line_end(unsafe { bytes(buf, len) }, from);
        // SAFETY: the module's contract.
        unsafe {
            found.write(hit.is_some());
            if let Some((s, e)) = hit {
                start.write(s);
                end.write(e);
            }
        }
        Ok(())
    })
}

/// Finds `needle` at or after `from`: `*found`, and its offset in `*at` when found.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_find_marker(
    buf: *const u8,
    len: usize,
    needle: *const u8,
    nlen: usize,
    from: usize,
    at: *mut usize,
    found: *mut bool,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let (hay, needle) = unsafe { (bytes(buf, len), bytes(needle, nlen)) };
        let hit = stream::find_marker(hay, needle, from);
        // SAFETY: the module's contract.
        unsafe {
            found.write(hit.is_some());
            if let Some(p) = hit {
                at.write(p);
            }
        }
        Ok(())
    })
}

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

    /// Answers come through out-parameters; the status stays AERS_OK whether or not something
    /// was found (a "found" is never a status code that could be mistaken for an errno).
    #[test]
    fn answers_are_out_parameters() {
        let buf = b"abc\r\ndef";
        let (mut start, mut end, mut found) = (0, 0, true);
        // SAFETY: buf is readable for its length; the out-parameters are locals.
        unsafe {
            let st =
                aers_find_line_end(buf.as_ptr(), buf.len(), 0, &mut start, &mut end, &mut found);
            assert_eq!((st, found, start, end), (AERS_OK, true, 3, 5));
            let st =
                aers_find_line_end(buf.as_ptr(), buf.len(), 5, &mut start, &mut end, &mut found);
            assert_eq!((st, found), (AERS_OK, false));
            let mut at = 0;
            let st = aers_find_marker(
                buf.as_ptr(),
                buf.len(),
                b"de".as_ptr(),
                2,
                0,
                &mut at,
                &mut found,
            );
            assert_eq!((st, found, at), (AERS_OK, true, 5));
            let st = aers_find_marker(
                buf.as_ptr(),
                buf.len(),
                b"x".as_ptr(),
                1,
                0,
                &mut at,
                &mut found,
            );
            assert_eq!((st, found), (AERS_OK, false));
            // an empty buffer may come as a null pointer
            let st = aers_find_line_end(std::ptr::null(), 0, 0, &mut start, &mut end, &mut found);
            assert_eq!((st, found), (AERS_OK, false));
        }
    }

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
