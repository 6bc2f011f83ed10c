//! C ABI of the IDN area (rust/idn.rs). Strings cross as UTF-8 bytes (pointer + length); a
//! result is a Rust-allocated buffer that the caller returns with `aers_idn_free`.

use super::guarded;
use crate::idn;
use std::io;

pub const IDN_TO_ASCII: i32 = 0;
pub const IDN_TO_UNICODE: i32 = 1;
pub const IDN_PUNYCODE_ENCODE: i32 = 2;
pub const IDN_PUNYCODE_DECODE: i32 = 3;

/// Applies `op` (one of the IDN_* constants) to `input`; EINVAL when the input is not UTF-8 or
/// cannot be converted.
#[no_mangle]
pub extern "C" fn aers_idn_convert(
    op: i32,
    input: *const u8,
    len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    guarded(|| {
        let invalid = || io::Error::from_raw_os_error(libc::EINVAL);
        let bytes = if len == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(input, len) }
        };
        let text = std::str::from_utf8(bytes).map_err(|_| invalid())?;
        let result = match op {
            IDN_TO_ASCII => idn::to_ascii(text),
            IDN_TO_UNICODE => idn::to_unicode(text),
            IDN_PUNYCODE_ENCODE => idn::punycode_encode(text),
            IDN_PUNYCODE_DECODE => idn::punycode_decode(text),
            _ => None,
        }
        .ok_or_else(invalid)?;
        let boxed = result.into_bytes().into_boxed_slice();
        unsafe {
            *out_len = boxed.len();
            *out = Box::into_raw(boxed).cast::<u8>();
        }
        Ok(0)
    })
}

/// Frees a buffer `aers_idn_convert` returned.
#[no_mangle]
pub extern "C" fn aers_idn_free(buf: *mut u8, len: usize) {
    if !buf.is_null() {
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buf, len)) });
    }
}
