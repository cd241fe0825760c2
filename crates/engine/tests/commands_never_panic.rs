//! Nothing a client sends may panic the engine, and every reply it writes is
//! well-formed RESP. Random argument vectors for every command in the table
//! run straight through the dispatcher (no sockets).

use ferrokv_engine::client::{Client, ClientInfo};
use ferrokv_engine::config::Config;
use ferrokv_engine::table;
use ferrokv_engine::{execute, State};
use ferrokv_resp::{decode, Out, Protocol};
use proptest::prelude::*;

fn names() -> Vec<Vec<String>> {
    let mut v = Vec::new();
    for c in table().commands() {
        v.push(vec![c.spec.name.to_string()]);
        for s in &c.subs {
            v.push(vec![c.spec.name.to_string(), s.spec.name.to_string()]);
        }
    }
    v
}

/// Arguments biased towards what parsers branch on: keys, numbers at the
/// edges, option keywords, and odd bytes. Valid but huge sizes are left out
/// (a 512 MB SETRANGE is legal and only slow).
fn arg() -> impl Strategy<Value = Vec<u8>> {
    let words = prop::sample::select(vec![
        "k1",
        "k2",
        "{t}a",
        "",
        "0",
        "1",
        "-1",
        "2",
        "7",
        "64",
        "1000",
        "-9223372036854775808",
        "9223372036854775807",
        "18446744073709551616",
        "1.5",
        "inf",
        "-inf",
        "nan",
        "abc",
        "NX",
        "XX",
        "GT",
        "LT",
        "EX",
        "PX",
        "EXAT",
        "PXAT",
        "KEEPTTL",
        "GET",
        "PERSIST",
        "BIT",
        "BYTE",
        "MATCH",
        "COUNT",
        "TYPE",
        "REPLACE",
        "DB",
        "IDX",
        "LEN",
        "MINMATCHLEN",
        "WITHMATCHLEN",
        "OVERFLOW",
        "SAT",
        "FAIL",
        "WRAP",
        "SET",
        "INCRBY",
        "i8",
        "u63",
        "i64",
        "u64",
        "#3",
        "AND",
        "NOT",
        "ASYNC",
        "SYNC",
        "ID",
        "ADDR",
        "SKIPME",
        "no",
        "yes",
        "*",
        "maxmemory",
        "hz",
        "3",
    ]);
    prop_oneof![
        4 => words.prop_map(|w| w.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (prop::sample::select(names()), prop::collection::vec(arg(), 0..7)).prop_map(|(name, args)| {
        let mut v: Vec<Vec<u8>> = name.into_iter().map(String::into_bytes).collect();
        v.extend(args);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_commands(cmds in prop::collection::vec(command(), 1..25), resp3 in any::<bool>()) {
        let mut st = State::new(Config::new());
        let id = st.register_client(ClientInfo::default());
        let mut client = Client::new(id, "127.0.0.1:1".into());
        let mut out = Out::new(if resp3 { Protocol::Resp3 } else { Protocol::Resp2 });
        let mut now = 1_700_000_000_000i64;
        for argv in &cmds {
            let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            execute(&mut st, &mut client, &mut out, &args, now);
            now += 250;
            // Every byte written must be complete RESP values.
            let mut rest: &[u8] = &out.buf;
            while !rest.is_empty() {
                match decode(rest) {
                    Ok((_, n)) => rest = &rest[n..],
                    Err(e) => prop_assert!(false, "{:?} wrote malformed RESP ({:?}): {:?}", argv, e, String::from_utf8_lossy(&out.buf)),
                }
            }
            out.buf.clear();
        }
    }
}
