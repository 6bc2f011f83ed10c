//! C ABI of the IDN area (rust/idn.rs), for `AnyEvent::Util`'s glue (xs/socket.xsh). Strings
//! cross as UTF-8 bytes (pointer + length); a result is a Rust-allocated buffer that the caller
//! returns with [`aers_idn_free`].

use super::bytes;
use super::contract::{call, Fail, Status};
use crate::idn;

/// `aers_idn_convert`: to ASCII (IDNA).
pub const AERS_IDN_TO_ASCII: i32 = 0;
/// `aers_idn_convert`: to Unicode (IDNA).
pub const AERS_IDN_TO_UNICODE: i32 = 1;
/// `aers_idn_convert`: punycode encoding.
pub const AERS_IDN_PUNYCODE_ENCODE: i32 = 2;
/// `aers_idn_convert`: punycode decoding.
pub const AERS_IDN_PUNYCODE_DECODE: i32 = 3;

/// Applies `op` (one of the `AERS_IDN_*` constants) to `input`: the result in `*out`
/// (`*out_len` bytes, to free with `aers_idn_free`); EINVAL when the input is not UTF-8 or
/// cannot be converted.
///
/// # Safety
/// `input` points at `len` readable bytes; `out` and `out_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn aers_idn_convert(
    op: i32,
    input: *const u8,
    len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> Status {
    call(|| {
        let invalid = || Fail::errno(libc::EINVAL);
        // SAFETY: the caller's guarantee.
        let text = std::str::from_utf8(unsafe { bytes(input, len) }).map_err(|_| invalid())?;
        let result = match op {
            AERS_IDN_TO_ASCII => idn::to_ascii(text),
            AERS_IDN_TO_UNICODE => idn::to_unicode(text),
            AERS_IDN_PUNYCODE_ENCODE => idn::punycode_encode(text),
            AERS_IDN_PUNYCODE_DECODE => idn::punycode_decode(text),
            _ => None,
        }
        .ok_or_else(invalid)?;
        let boxed = result.into_bytes().into_boxed_slice();
        // SAFETY: the caller's guarantee.
        unsafe {
            out_len.write(boxed.len());
            out.write(Box::into_raw(boxed).cast::<u8>());
        }
        Ok(())
    })
}

/// Frees a buffer `aers_idn_convert` returned (null: nothing to do).
///
/// # Safety
/// `buf` and `len` are what `aers_idn_convert` returned, freed once.
#[no_mangle]
pub unsafe extern "C" fn aers_idn_free(buf: *mut u8, len: usize) -> Status {
    call(|| {
        if !buf.is_null() {
            // SAFETY: buf is the boxed slice of len bytes aers_idn_convert leaked.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buf, len)) });
        }
        Ok(())
    })
}
