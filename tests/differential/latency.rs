//! Latency diagnostics on both servers, fresh ones each: INFO latencystats
//! and LATENCY HISTOGRAM list the same commands with the same call counts
//! and percentile labels, the latency monitor records the same events, and
//! LATENCY DOCTOR and GRAPH say the same of them. Timings differ between the
//! servers, so they are masked.

use std::collections::BTreeMap;

use ferrokv_resp::Frame;
use ferrokv_testkit::{Conn, Server};

/// INFO latencystats as command -> percentile labels.
fn latencystats(c: &mut Conn) -> BTreeMap<String, Vec<String>> {
    let info = c.cmd(&["INFO", "latencystats"]);
    let text = String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).into_owned();
    assert!(text.starts_with("# Latencystats\r\n"), "{text:?}");
    text.lines()
        .filter_map(|l| l.strip_prefix("latency_percentiles_usec_"))
        .map(|l| {
            let (cmd, values) = l.split_once(':').unwrap_or_default();
            let labels = values.split(',').map(|v| v.split_once('=').unwrap_or_default().0.to_string()).collect();
            (cmd.to_string(), labels)
        })
        .collect()
}

fn pairs(f: &Frame) -> Vec<(Frame, Frame)> {
    match f {
        Frame::Map(kv) => kv.clone(),
        Frame::Array(items) => items.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

/// LATENCY HISTOGRAM as command -> calls, checking each distribution
/// grows and ends at the calls.
fn histogram(c: &mut Conn, args: &[&str]) -> BTreeMap<String, i64> {
    let reply = c.cmd(&[&["LATENCY", "HISTOGRAM"], args].concat());
    let mut out = BTreeMap::new();
    for (name, body) in pairs(&reply) {
        let name = String::from_utf8_lossy(name.as_bytes().unwrap_or_default()).into_owned();
        let fields = pairs(&body);
        assert_eq!(fields.len(), 2, "{name}: {body:?}");
        assert_eq!(fields[0].0.as_bytes(), Some(&b"calls"[..]));
        assert_eq!(fields[1].0.as_bytes(), Some(&b"histogram_usec"[..]));
        let Frame::Integer(calls) = fields[0].1 else { panic!("{name}: calls {body:?}") };
        let points: Vec<(i64, i64)> = pairs(&fields[1].1)
            .iter()
            .map(|(k, v)| match (k, v) {
                (Frame::Integer(k), Frame::Integer(v)) => (*k, *v),
                other => panic!("{name}: {other:?}"),
            })
            .collect();
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{name}: {points:?}");
        assert_eq!(points.last().map(|p| p.1), Some(calls), "{name}: {points:?}");
        out.insert(name, calls);
    }
    out
}

/// A reply with every digit masked.
fn masked(f: &Frame) -> String {
    format!("{f:?}").chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect()
}

/// What a server reports after the same commands, timings masked.
fn session(s: &Server, proto: &str) -> Vec<String> {
    let mut c = s.connect();
    let mut log = Vec::new();
    c.cmd(&["HELLO", proto]);
    // Blocked commands count when their wait ends, served or CLIENT
    // UNBLOCKed, not timed out.
    let mut other = s.connect();
    let id = c.cmd(&["CLIENT", "ID"]);
    let id = format!("{}", if let Frame::Integer(i) = id { i } else { 0 });
    c.cmd(&["BLPOP", "nolist", "0.01"]);
    let blocked = |other: &mut Conn, cmd: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !matches!(other.cmd(&["CLIENT", "LIST"]), Frame::Bulk(ref b)
            if String::from_utf8_lossy(b).contains(&format!("cmd={cmd}")))
        {
            assert!(std::time::Instant::now() < deadline, "{cmd} never blocked");
        }
    };
    c.send_raw(&Conn::encode(&[b"BZPOPMIN", b"zset", b"5"]));
    blocked(&mut other, "bzpopmin");
    other.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]);
    c.read();
    c.send_raw(&Conn::encode(&[b"BRPOP", b"list", b"5"]));
    blocked(&mut other, "brpop");
    other.cmd(&["LPUSH", "list", "x"]);
    c.read();
    for _ in 0..3 {
        c.cmd(&["SET", "a", "b"]);
    }
    c.cmd(&["GET", "a"]);
    c.cmd(&["CONFIG", "GET", "maxmemory"]);
    // Waiting polls CLIENT LIST a number of times that varies.
    let mut calls = histogram(&mut c, &[]);
    calls.retain(|k, _| k != "client|list");
    log.push(format!("{:?}", latencystats(&mut c)));
    log.push(format!("{calls:?}"));
    let stats = c.cmd(&["INFO", "commandstats"]);
    let stats = String::from_utf8_lossy(stats.as_bytes().unwrap_or_default()).into_owned();
    // Redis lists commands in hash order.
    let mut blocking: Vec<String> = stats
        .lines()
        .filter(|l| ["cmdstat_blpop", "cmdstat_brpop", "cmdstat_bzpopmin"].iter().any(|p| l.starts_with(p)))
        .map(|l| l.split(',').filter(|f| !f.contains("usec")).collect::<Vec<_>>().join(","))
        .collect();
    blocking.sort();
    log.extend(blocking);
    log.push(format!("{:?}", histogram(&mut c, &["set", "CONFIG", "nosuch", "config|get", "a|b|c"])));
    c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "0 12.5 100"]);
    log.push(format!("{:?}", latencystats(&mut c)));
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.cmd(&["SET", "a", "b"]);
    log.push(format!("{:?}", latencystats(&mut c)));
    log.push(format!("{:?}", histogram(&mut c, &["set"])));
    c.cmd(&["CONFIG", "SET", "latency-tracking", "yes"]);
    c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"]);
    // The monitor: a script well past the threshold is a "command" event.
    log.push(masked(&c.cmd(&["LATENCY", "DOCTOR"])));
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "5"]);
    log.push(masked(&c.cmd(&["LATENCY", "DOCTOR"])));
    let slow = "local t = redis.call('time') repeat local n = redis.call('time') \
                until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 30000 return 1";
    c.cmd(&["EVAL", slow, "0"]);
    let latest = c.cmd(&["LATENCY", "LATEST"]);
    let Frame::Array(events) = &latest else { panic!("{latest:?}") };
    let command = events
        .iter()
        .find_map(|e| match e {
            Frame::Array(f) if f[0].as_bytes() == Some(&b"command"[..]) => Some(f.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no command event: {latest:?}"));
    match command.as_slice() {
        [_, Frame::Integer(_), Frame::Integer(ms), Frame::Integer(max)] => {
            assert!(*ms >= 30 && max >= ms, "{command:?}");
            log.push("command event".into());
        }
        other => panic!("{other:?}"),
    }
    // Timings differ; the report's words and the graph's shape do not.
    log.push(masked(&c.cmd(&["LATENCY", "DOCTOR"])));
    log.push(masked(&c.cmd(&["LATENCY", "GRAPH", "command"])));
    log.push(format!("{:?}", c.cmd(&["LATENCY", "GRAPH", "nosuch"])));
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    log.push(masked(&c.cmd(&["LATENCY", "DOCTOR"])));
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "10000"]);
    let history = c.cmd(&["LATENCY", "HISTORY", "command"]);
    log.push(format!("history samples {}", if let Frame::Array(s) = &history { s.len() } else { 0 }));
    log.push(format!("{:?}", c.cmd(&["LATENCY", "HISTORY", "nosuch"])));
    log.push(format!("{:?}", c.cmd(&["LATENCY", "RESET", "command", "nosuch"])));
    log.push(format!("{:?}", c.cmd(&["LATENCY", "HISTORY", "command"])));
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "0"]);
    log.push(masked(&c.cmd(&["LATENCY", "DOCTOR"])));
    for step in [&["LATENCY", "HELP"][..], &["LATENCY", "HISTORY"], &["LATENCY", "NOSUCH"], &["LATENCY"]] {
        log.push(format!("{step:?} -> {:?}", c.cmd(step)));
    }
    log
}

#[test]
fn latency_reports_match_redis() {
    for proto in ["2", "3"] {
        let (ours, theirs) = (session(&Server::ferrokv(&[]), proto), session(&Server::redis(&[]), proto));
        let diffs: Vec<String> = ours
            .iter()
            .zip(&theirs)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("RESP{proto}\n  ferrokv {a}\n  redis   {b}"))
            .collect();
        assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    }
}
