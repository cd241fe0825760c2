//! RDB snapshots: generated datasets (strings, keys with TTLs, every
//! collection type in both encodings, function libraries) are saved by
//! ferrokv with SAVE, checked with redis-check-rdb, and loaded by
//! redis-server, whose DEBUG DIGEST must equal ferrokv's.

use std::process::Command;

use ferrokv_resp::Frame;
use ferrokv_testkit::{simple, Conn, Server};
use proptest::prelude::*;

/// Every key the generators use.
const KEYS: &[&str] =
    &["k1", "k2", "k3", "{t}a", "{t}b", "l1", "l2", "s1", "s2", "h1", "h2", "z1", "z2", "zl1", "zl2", "{t}x"];

/// Saves `fk`'s dataset and loads it into a fresh redis-server started
/// with `config` (name, value pairs): the two digests, and
/// redis-check-rdb's verdict.
fn save_and_load(fk: &Server, config: &[&str]) -> (Frame, Frame, String) {
    let mut c = fk.connect();
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    let file = fk.dir.join("dump.rdb");
    let check = Command::new("redis-check-rdb").arg(&file).output().expect("redis-check-rdb runs");
    let verdict = String::from_utf8_lossy(&check.stdout).into_owned();
    let dir = fk.dir.to_string_lossy().into_owned();
    let mut args = vec!["--dir".to_string(), dir, "--enable-debug-command".into(), "yes".into()];
    for pair in config.chunks(2) {
        args.push(format!("--{}", pair[0]));
        args.push(pair[1].to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let redis = Server::redis(&refs);
    let loaded = redis.connect().cmd(&["DEBUG", "DIGEST"]);
    (digest, loaded, verdict)
}

/// Runs `cmds`, then touches every key: keys written already expired stay
/// until touched, and a loading Redis drops them, as it would from its
/// own file.
fn run(c: &mut Conn, cmds: &[Vec<String>]) {
    for cmd in cmds {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        c.cmd(&args);
    }
    c.cmd(&["DISCARD"]);
    for db in ["1", "0"] {
        c.cmd(&["SELECT", db]);
        let mut exists = vec!["EXISTS"];
        exists.extend(KEYS);
        c.cmd(&exists);
    }
}

/// DEBUG DIGEST of a Redis that ran `cmds` (as the property below runs
/// them) and then saved and reloaded its dataset.
fn redis_reloaded(cmds: &[Vec<String>]) -> Frame {
    let mut args = vec!["--enable-debug-command".to_string(), "yes".into()];
    for pair in crate::collections::SHARED_CONFIG.chunks(2) {
        args.push(format!("--{}", pair[0]));
        args.push(pair[1].to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = Server::redis(&refs);
    let mut c = r.connect();
    run(&mut c, cmds);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), simple("OK"));
    c.cmd(&["DEBUG", "DIGEST"])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: (crate::strings_keys::cases() / 8).max(10),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn redis_loads_our_snapshots(
        cmds in prop::collection::vec(prop_oneof![crate::strings_keys::cmd(), crate::collections::cmd()], 1..60),
        compress in any::<bool>(),
    ) {
        let fk = Server::ferrokv(&["--enable-debug-command", "yes"]);
        let mut c = fk.connect();
        let mut set = vec!["CONFIG", "SET", "rdbcompression", if compress { "yes" } else { "no" }];
        set.extend(crate::collections::SHARED_CONFIG);
        prop_assert_eq!(c.cmd(&set), simple("OK"));
        run(&mut c, &cmds);
        // The same thresholds when loading: converting a sorted set to a
        // listpack on load turns a -0 score into 0 in Redis, whoever wrote
        // the file.
        let (ours, theirs, verdict) = save_and_load(&fk, crate::collections::SHARED_CONFIG);
        prop_assert!(verdict.contains("RDB looks OK"), "redis-check-rdb: {}", verdict);
        if ours != theirs {
            // A load can change what a save held (a skiplist small enough
            // becomes a listpack, and its -0 scores 0), so the oracle is
            // then Redis saving and loading the same data itself.
            prop_assert_eq!(redis_reloaded(&cmds), theirs, "after {:?}", cmds);
        }
    }
}

#[test]
fn snapshots_carry_ttls_functions_and_big_values() {
    let fk = Server::ferrokv(&["--enable-debug-command", "yes"]);
    let mut c = fk.connect();
    c.cmd(&["SET", "long", &"x".repeat(5000)]);
    c.cmd(&["SET", "ttl", "v", "PX", "500000"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["DEBUG", "POPULATE", "2000", "k", "30"]);
    c.cmd(&["HSET", "big", "f", &"y".repeat(200)]);
    c.cmd(&["SELECT", "0"]);
    let lib = "#!lua name=snap\nredis.register_function('f', function() return 7 end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Frame::Bulk("snap".into()));
    let (ours, theirs, verdict) = save_and_load(&fk, &[]);
    assert!(verdict.contains("RDB looks OK"), "{verdict}");
    assert_eq!(ours, theirs);
    let dir = fk.dir.to_string_lossy().into_owned();
    let redis = Server::redis(&["--dir", &dir, "--dbfilename", "dump.rdb"]);
    let mut r = redis.connect();
    assert_eq!(r.cmd(&["FCALL", "f", "0"]), Frame::Integer(7));
    assert!(matches!(r.cmd(&["PTTL", "ttl"]), Frame::Integer(t) if t > 400_000));
}
