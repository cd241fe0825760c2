//! Keyspace notifications: the same generated commands (strings, keys,
//! expiry and every collection type) run on both servers with every event
//! class enabled, while a subscriber on each listens to all keyspace and
//! keyevent channels. After each command both subscribers must have heard
//! the same events in the same order.

use std::sync::{Mutex, OnceLock};

use ferrokv_resp::Frame;
use ferrokv_testkit::{Conn, Server};
use proptest::prelude::*;

use crate::strings_keys::cases;

struct Side {
    _srv: Server,
    cmd: Conn,
    sub: Conn,
}

/// Every class, including key misses (`m`) and new keys (`n`).
const FLAGS: &str = "AKEmn";
const SENTINEL: &str = "__keyspace@0__:~end~";

fn side(srv: Server) -> Side {
    let mut cmd = srv.connect();
    let mut sub = srv.connect();
    assert_eq!(cmd.cmd(&["CONFIG", "SET", "notify-keyspace-events", FLAGS]), Frame::Simple("OK".into()));
    // Expiry only on access, so that `expired` events happen at the same
    // command on both servers.
    assert_eq!(cmd.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Frame::Simple("OK".into()));
    sub.send_raw(&Conn::encode(&[b"PSUBSCRIBE", b"__key*__:*"]));
    assert!(matches!(sub.read(), Frame::Array(_) | Frame::Push(_)));
    Side { _srv: srv, cmd, sub }
}

fn pair() -> &'static Mutex<(Side, Side)> {
    static PAIR: OnceLock<Mutex<(Side, Side)>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let args = ["--enable-debug-command", "yes"];
        Mutex::new((side(Server::ferrokv(&args)), side(Server::redis(&args))))
    })
}

/// The (channel, message) pairs heard since the last sentinel, up to the
/// next one, which `s` publishes now.
fn events(s: &mut Side) -> Vec<(String, String)> {
    s.cmd.cmd(&["PUBLISH", SENTINEL, "x"]);
    let mut got = Vec::new();
    loop {
        let parts = match s.sub.read() {
            Frame::Array(v) | Frame::Push(v) => v,
            other => panic!("not a message: {other:?}"),
        };
        let text = |f: &Frame| String::from_utf8_lossy(f.as_bytes().unwrap_or_default()).into_owned();
        let (chan, msg) = (text(&parts[2]), text(&parts[3]));
        if chan == SENTINEL {
            return got;
        }
        got.push((chan, msg));
    }
}

/// Commands that reclaim expired keys while walking the keyspace do so in
/// hash-table order: only the set of their events is compared.
fn unordered(c: &[String]) -> bool {
    matches!(c[0].to_ascii_uppercase().as_str(), "KEYS" | "SCAN" | "RANDOMKEY")
}

fn step() -> impl Strategy<Value = Vec<String>> {
    // A relative TTL of 100 ms could pass between the two servers' runs of
    // the same sequence; every other TTL is far off or already past.
    let strings = crate::strings_keys::cmd().prop_filter("short ttl", |c| !(c[0] == "PEXPIRE" && c[2] == "100"));
    prop_oneof![1 => strings, 1 => crate::collections::cmd()]
}

fn run_case(cmds: &[Vec<String>]) -> Result<(), TestCaseError> {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let (fk, redis) = &mut *guard;
    for s in [&mut *fk, &mut *redis] {
        s.cmd.cmd(&["SELECT", "0"]);
        s.cmd.cmd(&["FLUSHALL"]);
        events(s);
    }
    for (i, c) in cmds.iter().enumerate() {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        fk.cmd.cmd(&args);
        redis.cmd.cmd(&args);
        let (mut a, mut b) = (events(fk), events(redis));
        if unordered(c) {
            a.sort();
            b.sort();
        }
        prop_assert_eq!(a, b, "events of command #{} {:?} in {:?}", i, c, cmds);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, max_shrink_iters: 1000, ..ProptestConfig::default() })]

    #[test]
    fn keyspace_events_match_redis(cmds in prop::collection::vec(step(), 1..40)) {
        run_case(&cmds)?;
    }
}
