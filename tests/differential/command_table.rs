//! The command table agrees with redis-server 7.0's own description of each
//! command ferrokv implements: COMMAND INFO (arity, flags, key positions, ACL
//! categories, tips, key specs) and COMMAND DOCS (summary, history, argument trees...).

use ferrokv_resp::Frame;
use ferrokv_testkit::Server;

fn names(f: &Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => {
            items.iter().filter_map(|i| i.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned())).collect()
        }
        other => panic!("COMMAND LIST returned {other:?}"),
    }
}

#[test]
fn command_info_matches_redis() {
    let fk = Server::ferrokv(&[]);
    let redis = Server::redis(&[]);
    let (mut a, mut b) = (fk.connect(), redis.connect());
    let ours = names(&a.cmd(&["COMMAND", "LIST"]));
    assert!(ours.len() > 60, "ferrokv lists {} commands", ours.len());
    let mut mismatches = Vec::new();
    for name in &ours {
        // Subcommands are compared inside their containers' entries, except
        // that ferrokv implements a subset of some containers' subcommands.
        if name.contains('|') {
            let x = a.cmd(&["COMMAND", "INFO", name]);
            let y = b.cmd(&["COMMAND", "INFO", name]);
            if x != y {
                mismatches.push(format!("{name}:\n  ferrokv {x:?}\n  redis   {y:?}"));
            }
            continue;
        }
        let x = a.cmd(&["COMMAND", "INFO", name]);
        let y = b.cmd(&["COMMAND", "INFO", name]);
        let strip = |f: Frame| match f {
            // Element 10 lists subcommands; containers are compared one
            // subcommand at a time above.
            Frame::Array(mut outer) => {
                if let Some(Frame::Array(entry)) = outer.first_mut() {
                    entry.truncate(9);
                }
                Frame::Array(outer)
            }
            other => other,
        };
        let (x, y) = (strip(x), strip(y));
        if x != y {
            mismatches.push(format!("{name}:\n  ferrokv {x:?}\n  redis   {y:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{} commands differ:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn command_docs_match_redis() {
    let fk = Server::ferrokv(&[]);
    let redis = Server::redis(&[]);
    let (mut a, mut b) = (fk.connect(), redis.connect());
    a.cmd(&["HELLO", "3"]);
    b.cmd(&["HELLO", "3"]);
    // A container's subcommands come in Redis's hash order and ferrokv
    // implements a subset of some: they are compared one by one instead.
    let without_subcommands = |f: Frame| match f {
        Frame::Map(mut outer) => {
            for (_, doc) in outer.iter_mut() {
                if let Frame::Map(kv) = doc {
                    kv.retain(|(k, _)| k.as_bytes() != Some(b"subcommands"));
                }
            }
            Frame::Map(outer)
        }
        other => other,
    };
    let mut diffs = Vec::new();
    let all = names(&a.cmd(&["COMMAND", "LIST"]));
    assert!(all.iter().any(|n| n == "client|kill"), "subcommands are listed");
    for name in &all {
        let x = without_subcommands(a.cmd(&["COMMAND", "DOCS", name]));
        let y = without_subcommands(b.cmd(&["COMMAND", "DOCS", name]));
        if x != y {
            diffs.push(format!("{name}:\n  ferrokv {x:?}\n  redis   {y:?}"));
        }
    }
    assert!(diffs.is_empty(), "{} commands differ:\n{}", diffs.len(), diffs.join("\n"));
    // redis-cli's `help` is built from these arguments.
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &fk.port.to_string(), "help", "set"])
        .output()
        .expect("redis-cli runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"), "{text}");
}
