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
