//! The DNS stub resolver behind AnyEvent::DNS.
//!
//! Rust owns the sockets and all resolver state; the Perl glue only watches the file
//! descriptors the resolver names, arms one timer for its next deadline, and calls back into it.
//! Wire encoding and decoding is hickory-proto's; this module adds AnyEvent's data layout
//! ([`wire`], [`value`]), configuration ([`config`], [`hosts`]), the answer cache ([`cache`]),
//! the sockets ([`transport`]), the query state machine ([`resolver`]) and the look-ups made
//! on it ([`lookup`]).

pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod hosts;
pub(crate) mod lookup;
pub(crate) mod resolver;
pub(crate) mod transport;
pub(crate) mod value;
pub(crate) mod wire;
