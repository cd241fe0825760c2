//! Scripts that run past busy-reply-threshold, on ferrokv and on the
//! oracle redis-server: the same transcript of BUSY replies, SCRIPT KILL /
//! FUNCTION KILL, FUNCTION STATS, transactions and SHUTDOWN NOSAVE.
//!
//! ferrokv runs with one worker thread, the hardest case: the connections
//! that get BUSY are served from the script's own thread.

use std::time::Duration;

use ferrokv_resp::Frame;
use ferrokv_testkit::{wait_for, Conn, Kind, Server};

const LOOP: &str = "local i = 0 while true do i = i + 1 end";
const LIBRARY: &str =
    "#!lua name=spin\nredis.register_function('spin', function(keys, args)\n  while true do end\nend)";

/// A reply with what never matches between servers blanked: FUNCTION
/// STATS's running time, HELLO's client id.
fn without_duration(f: Frame) -> Frame {
    match f {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| match &k {
                    Frame::Bulk(b) if &b[..] == b"duration_ms" || &b[..] == b"id" => (k, Frame::Integer(0)),
                    _ => (k, without_duration(v)),
                })
                .collect(),
        ),
        // A RESP2 map: the value after an "id" key.
        Frame::Array(items) => {
            let mut after_id = false;
            Frame::Array(
                items
                    .into_iter()
                    .map(|f| {
                        let blank = std::mem::replace(&mut after_id, matches!(&f, Frame::Bulk(b) if &b[..] == b"id"));
                        if blank {
                            Frame::Integer(0)
                        } else {
                            without_duration(f)
                        }
                    })
                    .collect(),
            )
        }
        other => other,
    }
}

/// Runs the scenario on one server and returns what every step replied.
fn transcript(kind: Kind) -> Vec<String> {
    let mut s = match kind {
        Kind::Ferrokv => Server::ferrokv(&["--busy-reply-threshold", "100", "--io-threads", "1"]),
        Kind::Redis => Server::redis(&["--busy-reply-threshold", "100"]),
    };
    let (mut a, mut b, mut runner) = (s.connect(), s.connect(), s.connect());
    for c in [&mut a, &mut b, &mut runner] {
        c.stream().set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c.cmd(&["HELLO", "3"]);
    }
    let mut log = Vec::new();
    // Until the script has started and passed the threshold, PING may be
    // answered before it or after it (that order is the kernel's).
    let busy = |c: &mut Conn| {
        assert!(
            wait_for(Duration::from_secs(10), || matches!(c.cmd(&["PING"]), Frame::Error(e) if e.starts_with(b"BUSY"))),
            "the script never became busy"
        )
    };
    let step = |c: &mut Conn, args: &[&str], log: &mut Vec<String>| {
        let r = without_duration(c.cmd(args));
        log.push(format!("{args:?} -> {r:?}"));
    };

    // A script that never writes: everyone else gets BUSY until it is killed.
    runner.send_raw(&Conn::encode(&[b"EVAL", LOOP.as_bytes(), b"0"]));
    busy(&mut a);
    // A client that connects meanwhile is answered too, HELLO included
    // (RESP3 clients such as redis-py send it on connecting).
    let mut late = s.connect();
    late.stream().set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    step(&mut late, &["HELLO", "3"], &mut log);
    step(&mut late, &["PING"], &mut log);
    step(&mut late, &["GET", "x"], &mut log);
    step(&mut late, &["HELLO", "2", "SETNAME", "late"], &mut log);
    step(&mut late, &["HELLO", "2", "AUTH", "default", "nopass", "SETNAME", "bad name"], &mut log);
    step(&mut late, &["AUTH", "x"], &mut log);
    step(&mut late, &["AUTH", "default", "x"], &mut log);
    for args in [
        &["PING"][..],
        &["GET", "x"],
        &["FUNCTION", "STATS"],
        &["FUNCTION", "KILL"],
        &["SHUTDOWN"],
        &["SHUTDOWN", "SAVE"],
        &["MULTI"],
        &["SET", "x", "1"],
        &["SCRIPT", "KILL"],
        &["EXEC"],
        &["EXEC"],
        &["UNWATCH", "x"],
        &["UNWATCH"],
        &["DISCARD"],
        &["NOSUCH"],
        &["GET"],
    ] {
        step(&mut a, args, &mut log);
    }
    step(&mut b, &["SCRIPT", "KILL"], &mut log);
    log.push(format!("EVAL -> {:?}", runner.read()));
    log.extend(counters(&mut b));
    step(&mut a, &["PING"], &mut log);
    step(&mut late, &["PING"], &mut log);
    step(&mut late, &["CLIENT", "GETNAME"], &mut log);
    step(&mut late, &["CLIENT", "SETNAME", "late2"], &mut log);
    step(&mut a, &["CLIENT", "KILL", "USER", "nosuch"], &mut log);
    step(&mut b, &["SCRIPT", "KILL"], &mut log);

    // A function: FUNCTION STATS names it, SCRIPT KILL is the wrong tool.
    step(&mut a, &["FUNCTION", "LOAD", LIBRARY], &mut log);
    runner.send_raw(&Conn::encode(&[b"FCALL", b"spin", b"1", b"k", b"arg"]));
    busy(&mut a);
    for args in [&["PING"][..], &["FUNCTION", "STATS"], &["SCRIPT", "KILL"], &["FUNCTION", "KILL"]] {
        step(&mut a, args, &mut log);
    }
    log.push(format!("FCALL -> {:?}", runner.read()));

    // A script that wrote cannot be killed; SHUTDOWN NOSAVE ends it all.
    runner.send_raw(&Conn::encode(&[b"EVAL", b"redis.call('set', 'w', '1') while true do end", b"0"]));
    busy(&mut a);
    step(&mut a, &["PING"], &mut log);
    step(&mut a, &["SCRIPT", "KILL"], &mut log);
    b.send_raw(&Conn::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    log.push(format!("SHUTDOWN NOSAVE closes: {}", b.is_closed()));
    log.push(format!("exited: {}", s.wait_exit(Duration::from_secs(10)).is_some()));
    log
}

/// The error and command counters the busy period moved, less what its
/// polling made uncertain (how many PINGs got BUSY) and timings.
fn counters(c: &mut Conn) -> Vec<String> {
    let mut lines = Vec::new();
    for section in ["errorstats", "commandstats"] {
        let text = match c.cmd(&["INFO", section]) {
            Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("INFO replied {other:?}"),
        };
        for l in text.lines() {
            if l.starts_with("errorstat_") && !l.starts_with("errorstat_BUSY") {
                lines.push(l.to_string());
            }
            let Some(rest) = l.strip_prefix("cmdstat_") else { continue };
            let (name, fields) = rest.split_once(':').expect("cmdstat line");
            if matches!(name, "ping" | "info" | "hello" | "eval" | "fcall" | "time") {
                continue;
            }
            let kept: Vec<&str> = fields.split(',').filter(|f| f.contains("calls=")).collect();
            lines.push(format!("{name}: {}", kept.join(",")));
        }
    }
    lines.sort();
    lines
}

#[test]
fn busy_scripts_are_answered_and_killed_like_redis() {
    let (ours, theirs) = (transcript(Kind::Ferrokv), transcript(Kind::Redis));
    let diffs: Vec<String> =
        ours.iter().zip(&theirs).filter(|(a, b)| a != b).map(|(a, b)| format!("ferrokv {a}\n  redis {b}")).collect();
    assert!(diffs.is_empty() && ours.len() == theirs.len(), "{}\n{ours:#?}", diffs.join("\n"));
    assert!(ours.iter().any(|l| l.contains("BUSY Redis is busy running a script")), "{ours:#?}");
}

/// One INFO memory field as a number.
fn info_field(c: &mut Conn, name: &str) -> u64 {
    let info = match c.cmd(&["INFO", "memory"]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO replied {other:?}"),
    };
    let line = info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).unwrap_or_else(|| panic!("{name}"));
    line.parse().unwrap_or_else(|_| panic!("{name}:{line}"))
}

#[test]
fn info_counts_cached_scripts_functions_and_their_memory() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    assert_eq!(info_field(&mut c, "number_of_cached_scripts"), 0);
    let before = info_field(&mut c, "used_memory_scripts_eval");
    c.cmd(&["SCRIPT", "LOAD", "return 'a fairly long script body, to be counted'"]);
    c.cmd(&["EVAL", "return 2", "0"]);
    assert_eq!(info_field(&mut c, "number_of_cached_scripts"), 2);
    assert!(info_field(&mut c, "used_memory_scripts_eval") > before + 50);
    assert!(info_field(&mut c, "used_memory_vm_eval") > 0);
    assert_eq!(info_field(&mut c, "used_memory_lua"), info_field(&mut c, "used_memory_vm_eval"));

    let lib = "#!lua name=lib\nredis.register_function('f1', function() return 1 end)\n\
               redis.register_function{function_name='f2', callback=function() return 2 end, description='two'}";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Frame::Bulk("lib".into()));
    assert_eq!(info_field(&mut c, "number_of_functions"), 2);
    assert_eq!(info_field(&mut c, "number_of_libraries"), 1);
    assert!(info_field(&mut c, "used_memory_functions") >= lib.len() as u64);
    let total = info_field(&mut c, "used_memory_vm_total");
    assert_eq!(total, info_field(&mut c, "used_memory_vm_eval") + info_field(&mut c, "used_memory_vm_functions"));
    assert_eq!(
        info_field(&mut c, "used_memory_scripts"),
        info_field(&mut c, "used_memory_scripts_eval") + info_field(&mut c, "used_memory_functions")
    );

    c.cmd(&["SCRIPT", "FLUSH"]);
    c.cmd(&["FUNCTION", "FLUSH"]);
    assert_eq!(info_field(&mut c, "number_of_cached_scripts"), 0);
    assert_eq!(info_field(&mut c, "used_memory_scripts_eval"), 0);
    assert_eq!(info_field(&mut c, "number_of_functions"), 0);
    assert_eq!(info_field(&mut c, "used_memory_functions"), 0);
}

/// A script that spins for three to four seconds by the clock, then writes
/// `KEYS[1]`: long enough for the other clients' steps while it is busy.
const SPIN_THEN_WRITE: &str = "local deadline = tonumber(redis.call('TIME')[1]) + 4 \
     while tonumber(redis.call('TIME')[1]) < deadline do end \
     redis.call('SET', KEYS[1], 'by-script') return 'done'";

/// WATCH, UNWATCH and RESET while a script is busy: answered at once, and
/// in effect from the script's next command on (a key it writes later
/// fails the transaction), as Redis runs them between two of the
/// script's commands.
fn watch_transcript(kind: Kind, io_threads: &str) -> Vec<String> {
    let s = match kind {
        Kind::Ferrokv => Server::ferrokv(&["--busy-reply-threshold", "100", "--io-threads", io_threads]),
        Kind::Redis => Server::redis(&["--busy-reply-threshold", "100"]),
    };
    let mut conns: Vec<Conn> = (0..6).map(|_| s.connect()).collect();
    for c in &mut conns {
        c.stream().set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    }
    let [a, b, c, d, sub, runner] = &mut conns[..] else { unreachable!() };
    let mut log = Vec::new();
    let step = |c: &mut Conn, args: &[&str], log: &mut Vec<String>| {
        let r = c.cmd(args);
        log.push(format!("{args:?} -> {r:?}"));
    };
    let client_list = |of: &mut Conn, by: &mut Conn, log: &mut Vec<String>| {
        let id = match of.cmd(&["CLIENT", "ID"]) {
            Frame::Integer(i) => i.to_string(),
            other => panic!("CLIENT ID replied {other:?}"),
        };
        step(by, &["CLIENT", "LIST", "ID", &id], log);
    };
    step(a, &["MSET", "w1", "0", "w2", "0"], &mut log);
    step(c, &["CLIENT", "SETNAME", "c"], &mut log);
    step(c, &["SELECT", "1"], &mut log);
    sub.cmd(&["HELLO", "3"]);
    step(sub, &["SUBSCRIBE", "ch"], &mut log);
    step(sub, &["CLIENT", "SETNAME", "sub"], &mut log);

    let mut leaving0 = s.connect();
    step(&mut leaving0, &["CLIENT", "SETNAME", "leaving0"], &mut log);
    runner.send_raw(&Conn::encode(&[b"EVAL", SPIN_THEN_WRITE.as_bytes(), b"1", b"w1"]));
    assert!(
        wait_for(Duration::from_secs(10), || matches!(a.cmd(&["PING"]), Frame::Error(e) if e.starts_with(b"BUSY"))),
        "the script never became busy"
    );
    step(a, &["WATCH", "w1"], &mut log);
    step(b, &["WATCH", "w2"], &mut log);
    step(c, &["WATCH", "w1"], &mut log);
    step(c, &["RESET"], &mut log);
    step(c, &["GET", "w1"], &mut log);
    // A subscriber's RESET is answered after the script (ferrokv) or
    // during it (Redis): the reply is read once the script is over.
    sub.send_raw(&Conn::encode(&[b"RESET"]));
    // UNWATCH then WATCH: the order holds.
    step(d, &["WATCH", "w2"], &mut log);
    step(d, &["UNWATCH"], &mut log);
    step(d, &["WATCH", "w1"], &mut log);
    // Connections that leave while the script runs, one of them accepted
    // meanwhile: what they were answered still counts.
    let mut leaving = vec![leaving0, s.connect()];
    for (i, e) in leaving.iter_mut().enumerate() {
        e.stream().set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        if i == 1 {
            let r = e.cmd(&["HELLO", "2", "SETNAME", "leaving1"]);
            assert!(matches!(r, Frame::Array(_)), "{r:?}");
        }
        step(e, &["WATCH", "w2"], &mut log);
        step(e, &["UNWATCH"], &mut log);
        step(e, &["SET", "x"], &mut log);
        step(e, &["NOSUCH"], &mut log);
    }
    drop(leaving);
    // Still busy: every step above ran while the script did.
    step(a, &["PING"], &mut log);
    log.push(format!("EVAL -> {:?}", runner.read()));
    log.push(format!("sub RESET -> {:?}", sub.read()));
    // INFO, unlike CLIENT LIST, is left out of the counters compared.
    let gone = wait_for(
        Duration::from_secs(10),
        || matches!(a.cmd(&["INFO", "clients"]), Frame::Bulk(l) if String::from_utf8_lossy(&l).contains("connected_clients:6\r\n")),
    );
    log.push(format!("left: {gone}"));
    log.extend(counters(a));

    for (who, conn) in [("a", &mut *a), ("b", &mut *b), ("c", &mut *c), ("d", &mut *d)] {
        conn.cmd(&["MULTI"]);
        conn.cmd(&["SET", "after", who]);
        log.push(format!("{who} EXEC -> {:?}", conn.cmd(&["EXEC"])));
    }
    step(a, &["PUBLISH", "ch", "m"], &mut log);
    client_list(c, a, &mut log);
    client_list(sub, a, &mut log);

    // A script with no commands at all: the WATCH takes effect as it ends,
    // so a later write by another client fails the transaction.
    runner.send_raw(&Conn::encode(&[b"EVAL", LOOP.as_bytes(), b"0"]));
    assert!(
        wait_for(Duration::from_secs(10), || matches!(a.cmd(&["PING"]), Frame::Error(e) if e.starts_with(b"BUSY"))),
        "the script never became busy"
    );
    step(b, &["WATCH", "w2"], &mut log);
    step(a, &["SCRIPT", "KILL"], &mut log);
    log.push(format!("EVAL -> {:?}", runner.read()));
    step(d, &["SET", "w2", "after-kill"], &mut log);
    b.cmd(&["MULTI"]);
    b.cmd(&["SET", "after", "b"]);
    log.push(format!("b EXEC after the kill -> {:?}", b.cmd(&["EXEC"])));
    log
}

#[test]
fn watch_and_reset_during_a_busy_script_take_effect_between_its_commands() {
    let theirs = watch_transcript(Kind::Redis, "");
    for threads in ["1", "2"] {
        let ours = watch_transcript(Kind::Ferrokv, threads);
        // CLIENT LIST: compare the fields RESET sets, not addresses or ages.
        let fields = |l: &String| {
            l.split(' ')
                .filter(|f| ["name=", "db=", "sub=", "flags=", "multi=", "resp="].iter().any(|p| f.starts_with(p)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (o, t): (Vec<String>, Vec<String>) =
            (ours.iter().map(fields).collect(), theirs.iter().map(fields).collect());
        let diffs: Vec<String> = ours
            .iter()
            .zip(&theirs)
            .enumerate()
            .filter(|(i, (a, b))| a != b && (!a.contains("\"CLIENT\", \"LIST\"") || o[*i] != t[*i]))
            .map(|(_, (a, b))| format!("ferrokv {a}\n  redis {b}"))
            .collect();
        assert!(
            diffs.is_empty() && ours.len() == theirs.len(),
            "io-threads {threads}:\n{}\n{ours:#?}",
            diffs.join("\n")
        );
    }
    // The script's write after WATCH was answered fails the transaction.
    assert!(theirs.iter().any(|l| l == "a EXEC -> NullArray"), "{theirs:#?}");
}
