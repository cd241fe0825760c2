//! The configuration table agrees with redis-server 7.0's: the same
//! parameters with the same defaults in CONFIG GET *, and Debian's stock
//! redis.conf starts both servers with the same settings.

use std::collections::BTreeMap;

use ferrokv_resp::Frame;
use ferrokv_testkit::Server;

/// CONFIG GET * as a map.
fn all_config(s: &Server) -> BTreeMap<String, String> {
    let Frame::Array(items) = s.connect().cmd(&["CONFIG", "GET", "*"]) else { panic!("CONFIG GET *") };
    let text = |f: &Frame| String::from_utf8_lossy(f.as_bytes().expect("bulk")).into_owned();
    items.chunks(2).map(|kv| (text(&kv[0]), text(&kv[1]))).collect()
}

/// Parameters whose values differ by design: where each server runs (port,
/// dir), ferrokv's own threading default, the 7.2 set encoding knobs that
/// 7.0 lacks, and latency tracking (off: ferrokv has no latencystats yet).
const OWN: &[&str] =
    &["port", "dir", "io-threads", "set-max-listpack-entries", "set-max-listpack-value", "latency-tracking"];

fn compare(ours: &BTreeMap<String, String>, theirs: &BTreeMap<String, String>) -> Vec<String> {
    let mut diffs = Vec::new();
    for (k, v) in theirs {
        match ours.get(k) {
            None => diffs.push(format!("{k}: missing (redis: {v:?})")),
            Some(o) if o != v && !OWN.contains(&k.as_str()) => diffs.push(format!("{k}: {o:?} (redis: {v:?})")),
            _ => {}
        }
    }
    for k in ours.keys() {
        if !theirs.contains_key(k) && !OWN.contains(&k.as_str()) {
            diffs.push(format!("{k}: not a Redis 7.0 parameter"));
        }
    }
    diffs
}

#[test]
fn config_defaults_match_redis() {
    let (ours, theirs) = (all_config(&Server::ferrokv(&[])), all_config(&Server::redis(&[])));
    let diffs = compare(&ours, &theirs);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(theirs.len() > 180, "redis listed {} parameters", theirs.len());
}

#[test]
fn debians_stock_redis_conf_starts_both_servers_alike() {
    let conf = "/etc/redis/redis.conf";
    assert!(std::path::Path::new(conf).exists(), "{conf}: Debian's redis-server package is not installed");
    // Run in the foreground, logging to stderr, with no pid file.
    let args = [conf, "--daemonize", "no", "--logfile", "", "--pidfile", ""];
    let (ours, theirs) = (all_config(&Server::ferrokv(&args)), all_config(&Server::redis(&args)));
    let diffs = compare(&ours, &theirs);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert_eq!(ours.get("oom-score-adj-values").map(String::as_str), Some("0 200 800"));
}

/// Parameters ferrokv refuses to change to a value whose behaviour it lacks
/// (its own message, where Redis would say OK) or that are fixed after
/// start-up in ferrokv only (port, bind: Redis rebinds its listeners).
const REFUSED_VALUE: &[&str] = &["latency-tracking", "port", "bind"];

/// CONFIG SET of every parameter, to its current value and to a value no
/// parameter accepts, answers as Redis does (the same error text, naming
/// the same argument).
#[test]
fn config_set_answers_match_redis() {
    let (f, r) = (Server::ferrokv(&[]), Server::redis(&[]));
    let (mut fc, mut rc) = (f.connect(), r.connect());
    let theirs = all_config(&r);
    let mut diffs = Vec::new();
    for (k, v) in &theirs {
        // Where each server keeps its files, and passwords.
        if ["dir", "logfile", "pidfile", "dbfilename", "appenddirname", "requirepass", "masterauth"]
            .contains(&k.as_str())
            || REFUSED_VALUE.contains(&k.as_str())
        {
            continue;
        }
        for value in [v.as_str(), "zz-bad", "-1", "NaN 101"] {
            let (a, b) = (fc.cmd(&["CONFIG", "SET", k, value]), rc.cmd(&["CONFIG", "SET", k, value]));
            if a != b {
                diffs.push(format!("CONFIG SET {k} {value:?}: {a:?} (redis: {b:?})"));
            }
            // Back to the same value on both.
            fc.cmd(&["CONFIG", "SET", k, v]);
            rc.cmd(&["CONFIG", "SET", k, v]);
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
