//! Rust core of the AnyEvent drop-in.
//!
//! One event loop per process ([`event_loop::Loop`]), built on mio's epoll instance, with the
//! watcher kinds AnyEvent offers: io ([`io`]), timers ([`timer`]), signals ([`signal`]), child
//! processes ([`child`]) and idle/postponed callbacks (in [`event_loop`]). The Perl glue reaches
//! it only through the C ABI in [`ffi`].
//!
//! Callbacks are opaque pointers (Perl code references) that Rust stores and hands back; Rust
//! never calls into Perl. The glue asks for ready callbacks one at a time and calls them itself,
//! so a Perl exception can unwind through C frames only, never through Rust ones.

pub mod child;
pub mod dns;
pub mod event_loop;
pub mod ffi;
pub(crate) mod fileio;
pub mod idn;
pub mod io;
pub mod signal;
pub mod socket;
pub mod stream;
pub mod timer;
pub mod tls;

#[cfg(test)]
mod proptests;

/// An opaque callback owned by the glue (a Perl code reference with a reference count held).
pub type Callback = *mut std::ffi::c_void;

/// Serializes the unit tests that use process-wide state: the loop's signal wake-up pipe,
/// signal dispositions, fork and child reaping.
#[cfg(test)]
pub(crate) static PROCESS_STATE: std::sync::Mutex<()> = std::sync::Mutex::new(());
