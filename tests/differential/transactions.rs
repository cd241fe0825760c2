//! MULTI/EXEC/DISCARD/WATCH/UNWATCH interleaved with the string and key
//! commands, on one connection: queueing, EXECABORT after a refused
//! command, runtime errors inside EXEC, and WATCHes broken by the
//! connection's own writes, FLUSHDB and SWAPDB (expiry and other clients'
//! writes are in the integration tests: they need time or a second
//! connection).

use proptest::prelude::*;

use crate::strings_keys::{cases, cmd, key, pair, run_case};

pub(crate) fn tx_cmd() -> impl Strategy<Value = Vec<String>> {
    let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    prop_oneof![
        3 => Just(w(&["MULTI"])),
        3 => Just(w(&["EXEC"])),
        1 => Just(w(&["DISCARD"])),
        2 => prop::collection::vec(key(), 1..3).prop_map(|ks| [vec!["WATCH".to_string()], ks].concat()),
        1 => Just(w(&["UNWATCH"])),
        1 => Just(w(&["WATCH"])),
        1 => Just(w(&["EXEC", "extra"])),
        1 => Just(w(&["FLUSHDB"])),
        1 => Just(w(&["SWAPDB", "0", "1"])),
    ]
}

fn step() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![3 => cmd(), 2 => tx_cmd()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn transactions_resp2(cmds in prop::collection::vec(step(), 1..30)) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, false, &cmds)?;
    }

    #[test]
    fn transactions_resp3(cmds in prop::collection::vec(step(), 1..30)) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, true, &cmds)?;
    }
}

/// Commands that modify nothing yet still count as touching a WATCHed key
/// in Redis (a no-op LTRIM), and keys created by DEBUG POPULATE.
#[test]
fn watch_is_broken_by_noop_ltrim_and_debug_populate() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let scenarios: &[&[&[&str]]] = &[
        &[&["RPUSH", "l", "a", "b"], &["WATCH", "l"], &["LTRIM", "l", "0", "-1"]],
        &[&["WATCH", "nolist"], &["LTRIM", "nolist", "0", "-1"]],
        &[&["RPUSH", "l", "a"], &["WATCH", "l"], &["LRANGE", "l", "0", "-1"]],
        &[&["WATCH", "key:1"], &["DEBUG", "POPULATE", "3"]],
        &[&["WATCH", "other:1"], &["DEBUG", "POPULATE", "3"]],
        &[&["SET", "key:1", "x"], &["WATCH", "key:1"], &["DEBUG", "POPULATE", "3"]],
    ];
    let mut diffs = Vec::new();
    for steps in scenarios {
        for c in [&mut p.fk, &mut p.redis] {
            c.cmd(&["DISCARD"]);
            c.cmd(&["UNWATCH"]);
            c.cmd(&["HELLO", "2"]);
            c.cmd(&["FLUSHALL"]);
        }
        let tail: [&[&str]; 3] = [&["MULTI"], &["PING"], &["EXEC"]];
        for step in steps.iter().chain(tail.iter()) {
            let (a, b) = (p.fk.cmd(step), p.redis.cmd(step));
            if a != b {
                diffs.push(format!("{steps:?} at {step:?}\n  ferrokv {a:?}\n  redis   {b:?}"));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
