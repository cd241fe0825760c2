//! The command table agrees with redis-server 7.0's own description of each
//! command ferrokv implements: COMMAND INFO (arity, flags, key positions, ACL
//! categories, tips, key specs) and COMMAND DOCS' summary, version and group.

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
fn command_docs_summaries_match_redis() {
    let fk = Server::ferrokv(&[]);
    let redis = Server::redis(&[]);
    let (mut a, mut b) = (fk.connect(), redis.connect());
    a.cmd(&["HELLO", "3"]);
    b.cmd(&["HELLO", "3"]);
    let field = |f: &Frame, key: &str| -> Option<Frame> {
        let Frame::Map(outer) = f else { return None };
        let (_, doc) = outer.first()?;
        let Frame::Map(kv) = doc else { return None };
        kv.iter().find(|(k, _)| k.as_bytes() == Some(key.as_bytes())).map(|(_, v)| v.clone())
    };
    let mut diffs = Vec::new();
    for name in names(&a.cmd(&["COMMAND", "LIST"])).iter().filter(|n| !n.contains('|')) {
        let x = a.cmd(&["COMMAND", "DOCS", name]);
        let y = b.cmd(&["COMMAND", "DOCS", name]);
        // Complexity notes are ferrokv's own wording; the rest must agree.
        for key in ["summary", "since", "group"] {
            if field(&x, key) != field(&y, key) {
                diffs.push(format!("{name} {key}: {:?} vs {:?}", field(&x, key), field(&y, key)));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
