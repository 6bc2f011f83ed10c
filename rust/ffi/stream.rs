//! C ABI of the stream helpers (rust/stream.rs) for AnyEvent::Handle's glue. Buffers are
//! borrowed from Perl strings for the duration of one call.

use super::bytes;
use super::guarded;
use crate::stream::{self, Netstring};
use std::slice;

/// Reads up to `len` bytes into `buf`; `*got` is the count (0: end of file).
#[no_mangle]
pub extern "C" fn aers_stream_read(fd: i32, buf: *mut u8, len: usize, got: *mut usize) -> i32 {
    guarded(|| {
        let n = stream::read_into(fd, unsafe { slice::from_raw_parts_mut(buf, len) })?;
        unsafe { *got = n };
        Ok(0)
    })
}

/// Writes up to `len` bytes from `buf`; `*put` is the count written.
#[no_mangle]
pub extern "C" fn aers_stream_write(fd: i32, buf: *const u8, len: usize, put: *mut usize) -> i32 {
    guarded(|| {
        let n = stream::write_from(fd, unsafe { bytes(buf, len) })?;
        unsafe { *put = n };
        Ok(0)
    })
}

/// 1 and the marker range when a line end (\012 or \015\012) is at or after `from`, else 0.
#[no_mangle]
pub extern "C" fn aers_find_line_end(
    buf: *const u8,
    len: usize,
    from: usize,
    start: *mut usize,
    end: *mut usize,
) -> i32 {
    match stream::find_line_end(unsafe { bytes(buf, len) }, from) {
        Some((s, e)) => {
            unsafe { (*start, *end) = (s, e) };
            1
        }
        None => 0,
    }
}

/// 1 and the offset when `needle` occurs at or after `from`, else 0.
#[no_mangle]
pub extern "C" fn aers_find_marker(
    buf: *const u8,
    len: usize,
    needle: *const u8,
    nlen: usize,
    from: usize,
    at: *mut usize,
) -> i32 {
    match stream::find_marker(
        unsafe { bytes(buf, len) },
        unsafe { bytes(needle, nlen) },
        from,
    ) {
        Some(p) => {
            unsafe { *at = p };
            1
        }
        None => 0,
    }
}

/// 1 (complete: data at `*start`, `*dlen` bytes), 0 (incomplete) or -1 (malformed).
#[no_mangle]
pub extern "C" fn aers_parse_netstring(
    buf: *const u8,
    len: usize,
    max: usize,
    start: *mut usize,
    dlen: *mut usize,
) -> i32 {
    match stream::parse_netstring(unsafe { bytes(buf, len) }, max) {
        Netstring::Complete { start: s, len: l } => {
            unsafe { (*start, *dlen) = (s, l) };
            1
        }
        Netstring::Incomplete => 0,
        Netstring::Malformed => -1,
    }
}
