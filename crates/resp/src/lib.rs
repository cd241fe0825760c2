//! The RESP codec of ferrokv.
//!
//! Design decision: this crate never touches a socket. Decoding takes a byte
//! slice and answers with a value, an "incomplete" marker, or a protocol error;
//! encoding appends to a `Vec<u8>`. Everything here is therefore testable with
//! plain byte strings, fuzzable, and reusable by the server, the tests, a
//! replica reading its master's stream and the scripting engine reading a
//! command's reply.
//!
//! * [`request`] parses what clients send (multibulk and inline commands) with
//!   Redis's limits, resuming across partial reads without rescanning.
//! * [`frame`] and [`decode`] model and parse any RESP2/RESP3 value (replies).
//! * [`encode`] writes replies for a connection's protocol version; the RESP3 to
//!   RESP2 down-conversion (maps to flat arrays, doubles to bulk strings, ...)
//!   happens there and nowhere else.
//!
//! It depends on nothing but `bytes`.
#![warn(missing_docs)]

pub mod decode;
pub mod encode;
pub mod float;
pub mod frame;
mod inline;
pub mod num;
pub mod request;

pub use decode::{decode, DecodeError};
pub use encode::{Out, Protocol};
pub use frame::Frame;
pub use request::{Limits, ParseError, RequestParser};

/// Splits a line into arguments with Redis's `sdssplitargs` rules (config
/// files, inline commands); `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (mut scratch, mut ranges) = (Vec::new(), Vec::new());
    inline::split_args(line, &mut scratch, &mut ranges)
        .then(|| ranges.iter().map(|&(a, b)| scratch[a..b].to_vec()).collect())
}
