//! The C ABI the XS glue calls (declared in `aers.h`; `t/abi.t` checks the two agree).
//!
//! Every export follows the contract in [`contract`]: it is an `unsafe extern "C" fn` whose
//! body runs through [`contract::call`], returns a [`Status`] and hands its answers out through
//! out-parameters. Watcher keys cross the boundary as u64 (slotmap's FFI form); callbacks as
//! opaque pointers ([`crate::Callback`]).
//!
//! One submodule per area: `watchers` (the loop and its watchers), `socket`, `idn`, `dns`,
//! `stream` (AnyEvent::Handle's netstring parser), `tls`. Structured values (DNS
//! records, decoded packets, a DNS callback's arguments) are handed out as flattened trees
//! ([`hand_out`]).

pub mod contract;
pub use contract::{Status, AERS_OK, AERS_PANICKED};

pub mod dns;
pub mod fileio;
pub mod idn;
pub mod socket;
pub mod stream;
pub mod tls;
pub mod watchers;

use crate::dns::value::{flatten, FlatNode, Value};
use crate::Callback;
use slotmap::{Key, KeyData};
use std::cell::RefCell;

/// The bytes at `p`: a C buffer of `len` bytes (`p` may be null when `len` is 0).
///
/// # Safety
/// Unless `len` is 0, `p` points at `len` readable bytes that stay unchanged for `'a`.
#[inline]
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: the caller's guarantee above.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

/// The bytes at `p` for writing: a C buffer of `len` bytes (`p` may be null when `len` is 0).
///
/// # Safety
/// Unless `len` is 0, `p` points at `len` writable bytes that nothing else uses for `'a`.
#[inline]
pub(crate) unsafe fn bytes_mut<'a>(p: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        &mut []
    } else {
        // SAFETY: the caller's guarantee above.
        unsafe { std::slice::from_raw_parts_mut(p, len) }
    }
}

/// A C array of `n` values (`p` may be null when `n` is 0).
///
/// # Safety
/// Unless `n` is 0, `p` points at `n` initialised values that stay unchanged for `'a`.
#[inline]
pub(crate) unsafe fn array<'a, T>(p: *const T, n: usize) -> &'a [T] {
    if n == 0 {
        &[]
    } else {
        // SAFETY: the caller's guarantee above.
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

/// The slotmap key a u64 from the glue stands for.
#[inline]
pub(crate) fn key_in<K: Key>(key: u64) -> K {
    KeyData::from_ffi(key).into()
}

/// The u64 the glue keeps for a slotmap key.
#[inline]
pub(crate) fn key_out<K: Key>(key: K) -> u64 {
    key.data().as_ffi()
}

/// A callback handed back to the glue, or null for none.
#[inline]
pub(crate) fn cb_or_null(cb: Option<Callback>) -> Callback {
    cb.unwrap_or(std::ptr::null_mut())
}

thread_local! {
    /// The last value handed out, kept alive while the glue copies it.
    static OUT: RefCell<(Value, Vec<FlatNode>)> = const { RefCell::new((Value::Undef, Vec::new())) };
}

/// Stores `v` and points `nodes`/`count` at its flattened form, valid until the next value is
/// handed out (the glue copies it into Perl data at once).
///
/// # Safety
/// `nodes` and `count` are writable.
pub(crate) unsafe fn hand_out(v: Value, nodes: *mut *const FlatNode, count: *mut usize) {
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        out.0 = v;
        let mut flat = std::mem::take(&mut out.1);
        flat.clear();
        flatten(&out.0, &mut flat);
        out.1 = flat;
        // SAFETY: the caller's guarantee.
        unsafe {
            nodes.write(out.1.as_ptr());
            count.write(out.1.len());
        }
    });
}
