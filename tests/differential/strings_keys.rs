//! Generated command sequences over strings, keys and expiry, sent to both
//! servers; every reply and the final dataset digest must agree.

use std::sync::{Mutex, OnceLock};

use ferrokv_resp::Frame;
use ferrokv_testkit::{Conn, Server};
use proptest::prelude::*;

pub(crate) struct Pair {
    _fk: Server,
    _redis: Server,
    pub(crate) fk: Conn,
    pub(crate) redis: Conn,
}

/// One pair of servers for the whole test binary (starting servers per case
/// would dominate the run time).
pub(crate) fn pair() -> &'static Mutex<Pair> {
    static PAIR: OnceLock<Mutex<Pair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let args = ["--enable-debug-command", "yes"];
        let fk_srv = Server::ferrokv(&args);
        let redis_srv = Server::redis(&args);
        let fk = fk_srv.connect();
        let redis = redis_srv.connect();
        Mutex::new(Pair { _fk: fk_srv, _redis: redis_srv, fk, redis })
    })
}

pub(crate) const KEYS: &[&str] = &["k1", "k2", "k3", "{t}a", "{t}b"];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-5",
    "12",
    "9223372036854775807",
    "-9223372036854775808",
    "007",
    "1.5",
    "0.1",
    "-0",
    "1e3",
    "inf",
    "abc",
    "hello",
    "foobar",
    "\u{0}\u{7f}\u{1}",
    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
];
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "-3",
    "7",
    "100",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "abc",
    "01",
    "+1",
    "1.5",
];
const FAR_SEC: &str = "4102444800";
const FAR_MS: &str = "4102444800000";

const GETEX_OPTS: &[&[&str]] =
    &[&[], &["EX", "100"], &["PERSIST"], &["PXAT", FAR_MS], &["EXAT", "1"], &["EX", "abc"], &["KEEPTTL"]];
const LCS_OPTS: &[&[&str]] =
    &[&[], &["LEN"], &["IDX"], &["IDX", "WITHMATCHLEN"], &["IDX", "MINMATCHLEN", "2"], &["LEN", "IDX"]];
const COPY_OPTS: &[&[&str]] = &[&[], &["REPLACE"], &["DB", "1"], &["DB", "99"], &["DB", "x"]];

pub(crate) fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(str::to_string)
}

fn val() -> impl Strategy<Value = String> {
    prop::sample::select(VALUES).prop_map(str::to_string)
}

fn int() -> impl Strategy<Value = String> {
    prop::sample::select(INTS).prop_map(str::to_string)
}

fn small() -> impl Strategy<Value = String> {
    (-20i64..40).prop_map(|i| i.to_string())
}

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Options for SET (some valid, some not).
fn set_opts() -> impl Strategy<Value = Vec<String>> {
    let one = prop_oneof![
        Just(words(&["NX"])),
        Just(words(&["XX"])),
        Just(words(&["GET"])),
        Just(words(&["KEEPTTL"])),
        Just(words(&["EX", "100"])),
        Just(words(&["PX", "100000"])),
        Just(words(&["EXAT", FAR_SEC])),
        Just(words(&["PXAT", FAR_MS])),
        Just(words(&["EXAT", "1"])),
        Just(words(&["EX", "0"])),
        Just(words(&["EX", "abc"])),
        Just(words(&["EX"])),
        Just(words(&["BOGUS"])),
    ];
    prop::collection::vec(one, 0..3).prop_map(|v| v.concat())
}

fn expire_opts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop::sample::select(&["NX", "XX", "GT", "LT", "nx", "FOO"][..]), 0..2)
        .prop_map(|v| v.into_iter().map(str::to_string).collect())
}

fn bitfield_ops() -> impl Strategy<Value = Vec<String>> {
    let ty = prop::sample::select(&["i8", "u8", "i5", "u1", "i64", "u63", "u64", "I8", "i0"][..]);
    let off = prop::sample::select(&["0", "3", "7", "#1", "100", "-1"][..]);
    let op = prop_oneof![
        (ty.clone(), off.clone()).prop_map(|(t, o)| words(&["GET", t, o])),
        (ty.clone(), off.clone(), int()).prop_map(|(t, o, v)| vec!["SET".into(), t.into(), o.into(), v]),
        (ty, off, int()).prop_map(|(t, o, v)| vec!["INCRBY".into(), t.into(), o.into(), v]),
        prop::sample::select(&["WRAP", "SAT", "FAIL", "bad"][..]).prop_map(|w| words(&["OVERFLOW", w])),
    ];
    prop::collection::vec(op, 0..4).prop_map(|v| v.concat())
}

pub(crate) fn cmd() -> impl Strategy<Value = Vec<String>> {
    let c = |name: &str, rest: Vec<String>| {
        let mut v = vec![name.to_string()];
        v.extend(rest);
        v
    };
    prop_oneof![
        key().prop_map(move |k| vec!["GET".into(), k]),
        key().prop_map(move |k| vec!["GET".into(), k]),
        (key(), val(), set_opts()).prop_map(move |(k, v, o)| c("SET", [vec![k, v], o].concat())),
        (key(), val()).prop_map(move |(k, v)| c("SETNX", vec![k, v])),
        (key(), int(), val()).prop_map(move |(k, t, v)| c("SETEX", vec![k, t, v])),
        (key(), val()).prop_map(move |(k, v)| c("PSETEX", vec![k, "100000".into(), v])),
        (key(), val()).prop_map(move |(k, v)| c("GETSET", vec![k, v])),
        key().prop_map(move |k| c("GETDEL", vec![k])),
        (key(), prop::sample::select(GETEX_OPTS)).prop_map(move |(k, o)| c("GETEX", [vec![k], words(o)].concat())),
        prop::collection::vec(key(), 1..4).prop_map(move |ks| c("MGET", ks)),
        prop::collection::vec((key(), val()), 1..3)
            .prop_map(move |kv| c("MSET", kv.into_iter().flat_map(|(k, v)| [k, v]).collect())),
        prop::collection::vec((key(), val()), 1..3)
            .prop_map(move |kv| c("MSETNX", kv.into_iter().flat_map(|(k, v)| [k, v]).collect())),
        (key(), val()).prop_map(move |(k, v)| c("APPEND", vec![k, v])),
        key().prop_map(move |k| c("STRLEN", vec![k])),
        (key(), small(), small()).prop_map(move |(k, a, b)| c("GETRANGE", vec![k, a, b])),
        (key(), prop::sample::select(&["0", "3", "10", "-1", "abc"][..]), val())
            .prop_map(move |(k, o, v)| c("SETRANGE", vec![k, o.into(), v])),
        key().prop_map(move |k| c("INCR", vec![k])),
        key().prop_map(move |k| c("DECR", vec![k])),
        (key(), int()).prop_map(move |(k, i)| c("INCRBY", vec![k, i])),
        (key(), int()).prop_map(move |(k, i)| c("DECRBY", vec![k, i])),
        (key(), prop::sample::select(&["0.1", "1.5", "-3", "1e3", "abc", "inf", "5.0e3", "0x10"][..]))
            .prop_map(move |(k, f)| c("INCRBYFLOAT", vec![k, f.into()])),
        (
            key(),
            prop::sample::select(&["0", "7", "9", "100", "-1", "x"][..]),
            prop::sample::select(&["0", "1", "2"][..])
        )
            .prop_map(move |(k, o, b)| c("SETBIT", vec![k, o.into(), b.into()])),
        (key(), prop::sample::select(&["0", "7", "100", "-1"][..]))
            .prop_map(move |(k, o)| c("GETBIT", vec![k, o.into()])),
        (
            key(),
            prop::option::of((small(), small(), prop::option::of(prop::sample::select(&["BIT", "BYTE", "x"][..]))))
        )
            .prop_map(move |(k, r)| {
                let mut v = vec![k];
                if let Some((a, b, m)) = r {
                    v.extend([a, b]);
                    v.extend(m.map(str::to_string));
                }
                c("BITCOUNT", v)
            }),
        (
            key(),
            prop::sample::select(&["0", "1", "2"][..]),
            prop::collection::vec(small(), 0..3),
            prop::option::of(prop::sample::select(&["BIT", "BYTE"][..]))
        )
            .prop_map(move |(k, b, r, m)| {
                let mut v = vec![k, b.into()];
                let full = r.len() == 2;
                v.extend(r);
                if full {
                    v.extend(m.map(str::to_string));
                }
                c("BITPOS", v)
            }),
        (prop::sample::select(&["AND", "OR", "XOR", "NOT", "bad"][..]), key(), prop::collection::vec(key(), 1..3))
            .prop_map(move |(op, d, s)| c("BITOP", [vec![op.to_string(), d], s].concat())),
        (key(), bitfield_ops()).prop_map(move |(k, o)| c("BITFIELD", [vec![k], o].concat())),
        (key(), key(), prop::sample::select(LCS_OPTS))
            .prop_map(move |(a, b, o)| c("LCS", [vec![a, b], words(o)].concat())),
        prop::collection::vec(key(), 1..3).prop_map(move |ks| c("DEL", ks)),
        prop::collection::vec(key(), 1..3).prop_map(move |ks| c("EXISTS", ks)),
        prop::collection::vec(key(), 1..3).prop_map(move |ks| c("UNLINK", ks)),
        prop::collection::vec(key(), 1..3).prop_map(move |ks| c("TOUCH", ks)),
        key().prop_map(move |k| c("TYPE", vec![k])),
        (key(), key()).prop_map(move |(a, b)| c("RENAME", vec![a, b])),
        (key(), key()).prop_map(move |(a, b)| c("RENAMENX", vec![a, b])),
        (key(), key(), prop::sample::select(COPY_OPTS))
            .prop_map(move |(a, b, o)| c("COPY", [vec![a, b], words(o)].concat())),
        (key(), prop::sample::select(&["0", "1", "16", "x"][..])).prop_map(move |(k, d)| c("MOVE", vec![k, d.into()])),
        prop::sample::select(&["0", "1"][..]).prop_map(move |d| c("SELECT", vec![d.into()])),
        (
            prop::sample::select(&["EXPIRE", "PEXPIRE"][..]),
            key(),
            prop::sample::select(&["100", "200000", "-1", "0", "abc", "9223372036854775807"][..]),
            expire_opts()
        )
            .prop_map(move |(cmd, k, t, o)| c(cmd, [vec![k, t.into()], o].concat())),
        (
            prop::sample::select(&["EXPIREAT", "PEXPIREAT"][..]),
            key(),
            prop::sample::select(&[FAR_SEC, FAR_MS, "1", "abc"][..]),
            expire_opts()
        )
            .prop_map(move |(cmd, k, t, o)| c(cmd, [vec![k, t.into()], o].concat())),
        key().prop_map(move |k| c("PERSIST", vec![k])),
        (prop::sample::select(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"][..]), key())
            .prop_map(move |(cmd, k)| c(cmd, vec![k])),
        key().prop_map(move |k| c("OBJECT", vec!["ENCODING".into(), k])),
        Just(words(&["DBSIZE"])),
        prop::sample::select(&["*", "k*", "{t}?", "[a-k]1", "*b"][..]).prop_map(move |p| c("KEYS", vec![p.into()])),
        // Errors the dispatcher must word like Redis.
        Just(words(&["GET"])),
        Just(words(&["SET", "k1"])),
        Just(words(&["NOSUCHCMD", "a", "b"])),
        Just(words(&["OBJECT", "NOPE", "k1"])),
        Just(words(&["ECHO", "hi"])),
        Just(words(&["PING"])),
    ]
}

/// Replies that legitimately differ by the time between the two servers
/// running the same command are compared within a tolerance.
fn same(cmd: &str, a: &Frame, b: &Frame) -> bool {
    match (cmd, a, b) {
        // EXEC's replies are the queued commands' replies, each compared
        // as its own command would be.
        (_, Frame::Array(x), Frame::Array(y)) if cmd.starts_with("EXEC ") => {
            let names: Vec<&str> = cmd.split(' ').skip(1).collect();
            x.len() == y.len() && x.iter().zip(y).enumerate().all(|(i, (p, q))| same(names.get(i).unwrap_or(&""), p, q))
        }
        ("TTL" | "EXPIRETIME", Frame::Integer(x), Frame::Integer(y)) => (x - y).abs() <= 1,
        ("PTTL" | "PEXPIRETIME", Frame::Integer(x), Frame::Integer(y)) => (x - y).abs() <= 1500,
        ("KEYS", Frame::Array(x), Frame::Array(y)) => {
            let key = |f: &Frame| f.as_bytes().map(<[u8]>::to_vec);
            let mut x: Vec<_> = x.iter().map(key).collect();
            let mut y: Vec<_> = y.iter().map(key).collect();
            x.sort();
            y.sort();
            x == y
        }
        _ => a == b,
    }
}

pub(crate) fn run_case(p: &mut Pair, resp3: bool, cmds: &[Vec<String>]) -> Result<(), TestCaseError> {
    for conn in [&mut p.fk, &mut p.redis] {
        // A failed case may have left a transaction open.
        conn.cmd(&["DISCARD"]);
        conn.cmd(&["FLUSHALL"]);
        conn.cmd(&["SELECT", "0"]);
        conn.cmd(&["HELLO", if resp3 { "3" } else { "2" }]);
    }
    // Names of the commands queued since MULTI, to compare EXEC's replies.
    let mut queued: Option<Vec<String>> = None;
    for (i, c) in cmds.iter().enumerate() {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        let a = p.fk.cmd(&args);
        let b = p.redis.cmd(&args);
        let mut name = c[0].to_ascii_uppercase();
        match name.as_str() {
            "MULTI" if queued.is_none() => queued = Some(Vec::new()),
            // Run at once (and refused) inside MULTI, never queued.
            "MULTI" | "WATCH" => {}
            "EXEC" => name = format!("EXEC {}", queued.take().unwrap_or_default().join(" ")),
            "DISCARD" => queued = None,
            _ => {
                if let Some(q) = &mut queued {
                    q.push(name.clone());
                }
            }
        }
        prop_assert!(same(&name, &a, &b), "command #{i} {:?}\n ferrokv: {:?}\n   redis: {:?}", c, a, b);
    }
    // Leave no transaction or WATCH behind for the next case.
    for conn in [&mut p.fk, &mut p.redis] {
        conn.cmd(&["DISCARD"]);
        conn.cmd(&["UNWATCH"]);
    }
    // A key written already expired (SET ... EXAT 1) stays in the dataset
    // until something reclaims it, and DEBUG DIGEST counts it: whether the
    // active cycle got there first is timing. Touching every key makes both
    // servers reclaim such keys before the digest, so it compares data only.
    for conn in [&mut p.fk, &mut p.redis] {
        for db in ["1", "0"] {
            conn.cmd(&["SELECT", db]);
            let mut exists = vec!["EXISTS"];
            exists.extend_from_slice(KEYS);
            conn.cmd(&exists);
        }
    }
    let da = p.fk.cmd(&["DEBUG", "DIGEST"]);
    let db = p.redis.cmd(&["DEBUG", "DIGEST"]);
    prop_assert_eq!(da, db, "datasets differ after {:?}", cmds);
    Ok(())
}

pub(crate) fn cases() -> u32 {
    std::env::var("FERROKV_DIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn strings_and_keys_resp2(cmds in prop::collection::vec(cmd(), 1..40)) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, false, &cmds)?;
    }

    #[test]
    fn strings_and_keys_resp3(cmds in prop::collection::vec(cmd(), 1..25)) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, true, &cmds)?;
    }
}
