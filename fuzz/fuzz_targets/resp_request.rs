//! The request parser on arbitrary bytes delivered in two reads: it never
//! panics, never claims more bytes than it has, and parses the same commands
//! whatever the split point.
#![no_main]

use ferrokv_resp::request::Parsed;
use ferrokv_resp::{Limits, RequestParser};
use libfuzzer_sys::fuzz_target;

fn parse_all(chunks: &[&[u8]]) -> (Vec<Vec<Vec<u8>>>, bool) {
    let mut p = RequestParser::new();
    let mut buf = Vec::new();
    let mut cmds = Vec::new();
    let limits = Limits { max_bulk_len: 1 << 20, auth_required: false };
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match p.parse(&buf, &limits) {
                Ok(Parsed::Incomplete { .. }) => break,
                Ok(Parsed::Empty { consumed }) => {
                    assert!(consumed <= buf.len());
                    buf.drain(..consumed);
                }
                Ok(Parsed::Command { consumed }) => {
                    assert!(consumed <= buf.len());
                    cmds.push(p.args(&buf).map(<[u8]>::to_vec).collect());
                    buf.drain(..consumed);
                }
                Err(_) => return (cmds, true),
            }
        }
    }
    (cmds, false)
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let cut = data[0] as usize % data.len();
    let rest = &data[1..];
    let cut = cut.min(rest.len());
    let whole = parse_all(&[rest]);
    let split = parse_all(&[&rest[..cut], &rest[cut..]]);
    // A 64 KB limit on unterminated lines can fire at different points, so
    // only error-free runs must agree exactly.
    if !whole.1 && !split.1 {
        assert_eq!(whole.0, split.0);
    }
});
