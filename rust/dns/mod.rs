//! The DNS stub resolver behind AnyEvent::DNS.
//!
//! Rust owns the sockets and all resolver state; the resolvers are a source of the event loop
//! ([`source`]: their sockets in its poller, their deadlines in its timeout, their finished
//! requests in its ready queue), and the Perl side keeps only the API. Wire encoding and
//! decoding is hickory-proto's; this module adds AnyEvent's data layout and its tables of
//! names ([`wire`], [`value`]), configuration ([`config`], [`hosts`]), the answer cache
//! ([`cache`]), the questions asked before, kept encoded ([`question`]), the sockets
//! ([`transport`]), the query state machine ([`resolver`]) and the look-ups made on it
//! ([`lookup`]).

pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod hosts;
pub(crate) mod lookup;
pub(crate) mod question;
pub(crate) mod resolver;
pub(crate) mod source;
pub(crate) mod transport;
pub(crate) mod value;
pub(crate) mod wire;
