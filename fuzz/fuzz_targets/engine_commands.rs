//! Arbitrary bytes parsed as commands and executed against a fresh engine:
//! nothing a client sends may panic it, and every reply is well-formed RESP.
#![no_main]

use ferrokv_engine::client::{Client, ClientInfo};
use ferrokv_engine::config::Config;
use ferrokv_engine::{execute, State};
use ferrokv_resp::request::Parsed;
use ferrokv_resp::{Limits, Out, Protocol, RequestParser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut st = State::new(Config::new());
    let id = st.register_client(ClientInfo::default());
    let mut client = Client::new(id, "127.0.0.1:1".into());
    let mut out = Out::new(if data.first().is_some_and(|b| b & 1 == 1) { Protocol::Resp3 } else { Protocol::Resp2 });
    let mut p = RequestParser::new();
    // Keep allocations bounded: a legal SETRANGE at 512 MB is only slow.
    let limits = Limits { max_bulk_len: 1 << 16, auth_required: false };
    let mut buf = data.to_vec();
    let mut now = 1_700_000_000_000i64;
    for _ in 0..64 {
        match p.parse(&buf, &limits) {
            Ok(Parsed::Command { consumed }) => {
                let argv: Vec<Vec<u8>> = p.args(&buf).map(<[u8]>::to_vec).collect();
                let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                // Skip commands that legitimately sleep or allocate gigabytes.
                let name = args[0].to_ascii_lowercase();
                if !(name == b"debug" || name == b"setrange" || name == b"setbit" || name == b"bitfield") {
                    execute(&mut st, &mut client, &mut out, &args, now);
                }
                buf.drain(..consumed);
                now += 100;
            }
            Ok(Parsed::Empty { consumed }) => {
                buf.drain(..consumed);
            }
            _ => break,
        }
    }
    let mut rest: &[u8] = &out.buf;
    while !rest.is_empty() {
        let (_, n) = ferrokv_resp::decode(rest).expect("replies are well-formed RESP");
        rest = &rest[n..];
    }
});
