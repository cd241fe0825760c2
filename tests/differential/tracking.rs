//! Client-side caching: a RESP3 connection tracks keys (default mode after
//! generated reads, or BCAST) while another runs generated string, key and
//! collection commands, scripts and transactions; after every step the
//! invalidations the tracking connection received are compared with
//! redis-server's. This checks that every command reports the keys it
//! modifies as Redis's signalModifiedKey calls do.

use std::sync::{Mutex, OnceLock};

use ferrokv_resp::Frame;
use ferrokv_testkit::{Conn, Server};
use proptest::prelude::*;

struct Side {
    _server: Server,
    tracker: Conn,
    writer: Conn,
}

struct Pair {
    fk: Side,
    redis: Side,
}

fn side(s: Server) -> Side {
    let (mut tracker, mut writer) = (s.connect(), s.connect());
    let mut set = vec!["CONFIG", "SET"];
    set.extend(crate::collections::SHARED_CONFIG);
    assert_eq!(writer.cmd(&set), Frame::Simple("OK".into()));
    assert!(matches!(tracker.cmd(&["HELLO", "3"]), Frame::Map(_)));
    Side { _server: s, tracker, writer }
}

fn pair() -> &'static Mutex<Pair> {
    static PAIR: OnceLock<Mutex<Pair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let args = ["--enable-debug-command", "yes"];
        Mutex::new(Pair { fk: side(Server::ferrokv(&args)), redis: side(Server::redis(&args)) })
    })
}

/// A read by the tracking connection: what it fetches it may cache.
fn read() -> impl Strategy<Value = Vec<String>> {
    const KEYS: &[&str] = &["k1", "k2", "k3", "{t}a", "l1", "l2", "s1", "s2", "h1", "h2", "z1", "z2", "{t}x"];
    let key = prop::sample::select(KEYS).prop_map(str::to_string);
    let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    prop_oneof![
        key.clone().prop_map(move |k| c(&["GET", &k])),
        (key.clone(), key.clone()).prop_map(move |(a, b)| c(&["MGET", &a, &b])),
        key.clone().prop_map(move |k| c(&["EXISTS", &k])),
        key.clone().prop_map(move |k| c(&["TYPE", &k])),
        key.clone().prop_map(move |k| c(&["STRLEN", &k])),
        key.clone().prop_map(move |k| c(&["LRANGE", &k, "0", "-1"])),
        key.clone().prop_map(move |k| c(&["SCARD", &k])),
        key.clone().prop_map(move |k| c(&["HLEN", &k])),
        key.prop_map(move |k| c(&["ZCARD", &k])),
    ]
}

#[derive(Clone, Debug)]
enum Step {
    Read(Vec<String>),
    Write(Vec<String>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => read().prop_map(Step::Read),
        3 => crate::any_cmd().prop_map(Step::Write),
    ]
}

/// The invalidated keys the tracker has received, sorted (the order of
/// keys within one command is not part of the contract), until the reply
/// to a PING.
fn drain(tracker: &mut Conn) -> Vec<String> {
    tracker.send_raw(&Conn::encode(&[b"PING"]));
    let mut got = Vec::new();
    loop {
        match tracker.read() {
            Frame::Simple(s) if s.as_ref() == b"PONG" => break,
            Frame::Push(p) => got.push(format!("{:?}", p.get(1))),
            other => got.push(format!("unexpected {other:?}")),
        }
    }
    got.sort();
    got
}

fn run_case(p: &mut Pair, bcast: bool, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut logs: Vec<Vec<String>> = Vec::new();
    for s in [&mut p.fk, &mut p.redis] {
        s.tracker.cmd(&["CLIENT", "TRACKING", "OFF"]);
        s.writer.cmd(&["DISCARD"]);
        s.writer.cmd(&["SELECT", "0"]);
        s.writer.cmd(&["FLUSHALL"]);
        let on: &[&str] = if bcast { &["CLIENT", "TRACKING", "ON", "BCAST"] } else { &["CLIENT", "TRACKING", "ON"] };
        prop_assert_eq!(s.tracker.cmd(on), Frame::Simple("OK".into()));
        let mut log = Vec::new();
        for (i, st) in steps.iter().enumerate() {
            let (conn, args) = match st {
                Step::Read(a) => (&mut s.tracker, a),
                Step::Write(a) => (&mut s.writer, a),
            };
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            conn.cmd(&refs);
            log.push(format!("#{i} {args:?}: {:?}", drain(&mut s.tracker)));
        }
        s.writer.cmd(&["DISCARD"]);
        logs.push(log);
    }
    for (x, y) in logs[0].iter().zip(&logs[1]) {
        prop_assert_eq!(x, y, "invalidations differ (ferrokv first); steps {:?}", steps);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::strings_keys::cases() / 2,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn invalidations_match_redis(steps in prop::collection::vec(step(), 1..40), bcast in prop::bool::weighted(0.25)) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, bcast, &steps)?;
    }
}
