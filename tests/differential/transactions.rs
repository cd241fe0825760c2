//! MULTI/EXEC/DISCARD/WATCH/UNWATCH interleaved with the string and key
//! commands, on one connection: queueing, EXECABORT after a refused
//! command, runtime errors inside EXEC, and WATCHes broken by the
//! connection's own writes, FLUSHDB and SWAPDB (expiry and other clients'
//! writes are in the integration tests: they need time or a second
//! connection).

use proptest::prelude::*;

use crate::strings_keys::{cases, cmd, key, pair, run_case};

fn tx_cmd() -> impl Strategy<Value = Vec<String>> {
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
