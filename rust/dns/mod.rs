//! The DNS stub resolver behind AnyEvent::DNS.
//!
//! Rust owns the sockets and all resolver state; the Perl glue only watches the file
//! descriptors the resolver names, arms one timer for its next deadline, and calls back into it.
//! Wire encoding and decoding is hickory-proto's; this module adds AnyEvent's data layout
//! ([`wire`], [`value`]), configuration ([`config`], [`hosts`]), the answer cache ([`cache`]),
//! the sockets ([`transport`]), the query state machine ([`resolver`]) and the look-ups made
//! on it ([`lookup`]).

pub mod cache;
pub mod config;
pub mod hosts;
pub mod lookup;
pub mod resolver;
pub mod transport;
pub mod value;
pub mod wire;
