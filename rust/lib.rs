//! Rust core of the AnyEvent drop-in.
//!
//! One event loop per process ([`event_loop::Loop`]), built on mio's epoll instance, with the
//! watcher kinds AnyEvent offers: io ([`io`]), timers ([`timer`]), signals ([`signal`]), child
//! processes ([`child`]) and idle/postponed callbacks (in [`event_loop`]); besides the loop, the
//! socket calls of AnyEvent::Socket ([`socket`]), the DNS resolver of AnyEvent::DNS ([`dns`]),
//! IDN conversions ([`idn`]), and for AnyEvent::Handle TLS ([`tls`]) with its stream I/O and the
//! netstring parser ([`stream`]). The Perl glue reaches all of it only through the C ABI in
//! [`ffi`], whose contract (statuses, panics, the last-error channel) is in [`ffi::contract`].
//!
//! Callbacks are opaque pointers (Perl code references) that Rust stores and hands back; Rust
//! never calls into Perl. The glue asks for ready callbacks one at a time and calls them itself,
//! so a Perl exception can unwind through C frames only, never through Rust ones.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(clippy::missing_safety_doc)]
// The crate is read with `cargo doc --document-private-items`: its docs link internal items.
#![allow(rustdoc::private_intra_doc_links)]

pub(crate) mod child;
pub(crate) mod dns;
pub(crate) mod event_loop;
pub mod ffi;
pub(crate) mod fileio;
pub(crate) mod idn;
pub(crate) mod io;
pub(crate) mod signal;
pub(crate) mod socket;
pub(crate) mod stream;
pub(crate) mod timer;
pub(crate) mod tls;

#[cfg(test)]
mod proptests;

/// An opaque callback owned by the glue (a Perl code reference with a reference count held).
pub type Callback = *mut std::ffi::c_void;

/// Serializes the unit tests that use process-wide state: the loop's signal wake-up pipe,
/// signal dispositions, fork and child reaping.
#[cfg(test)]
pub(crate) static PROCESS_STATE: std::sync::Mutex<()> = std::sync::Mutex::new(());
