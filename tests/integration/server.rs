//! Server-side commands and process behaviour: INFO, CONFIG, SLOWLOG,
//! MONITOR, CLIENT, DEBUG gating, OOM, SHUTDOWN, start-up arguments.

use std::process::{Command, Stdio};
use std::time::Duration;

use ferrokv_resp::Frame;
use ferrokv_testkit::{bulk, err, ferrokv_bin, free_port, simple, Server};

fn text(f: Frame) -> String {
    String::from_utf8(f.as_bytes().expect("string reply").to_vec()).unwrap()
}

fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
}

#[test]
fn info_sections_and_fields() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2", "EX", "100"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["GET", "missing"]);
    c.cmd(&["INCR", "b", "extra"]);
    let info = text(c.cmd(&["INFO"]));
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Errorstats",
        "# Keyspace",
    ] {
        assert!(info.contains(section), "missing {section}");
    }
    assert_eq!(field(&info, "tcp_port"), Some(s.port.to_string().as_str()));
    assert_eq!(field(&info, "db0"), Some("keys=2,expires=1,avg_ttl=0"));
    assert_eq!(field(&info, "keyspace_hits"), Some("1"));
    assert_eq!(field(&info, "keyspace_misses"), Some("1"));
    assert_eq!(field(&info, "errorstat_ERR"), Some("count=1"));
    // The harness's readiness probe may not have been reaped yet.
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(5), || {
        field(&text(c.cmd(&["INFO", "clients"])), "connected_clients") == Some("1")
    }));
    assert!(field(&info, "used_memory").unwrap().parse::<u64>().unwrap() > 0);
    assert!(field(&info, "used_memory_rss").unwrap().parse::<u64>().unwrap() > 0);
    let stats = text(c.cmd(&["INFO", "commandstats"]));
    assert!(stats.starts_with("# Commandstats\r\ncmdstat_"), "{stats}");
    assert!(stats.contains("cmdstat_get:calls=2,"));
    assert!(stats.contains("cmdstat_incr:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"));
    assert_eq!(text(c.cmd(&["INFO", "nosuchsection"])), "");
}

#[test]
fn config_get_and_set() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "10mb"]), simple("OK"));
    assert_eq!(c.cmd(&["CONFIG", "GET", "maxmemory"]), Frame::Array(vec![bulk("maxmemory"), bulk("10485760")]));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "abc"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "nosuch", "1"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "daemonize", "yes"]),
        err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config")
    );
    // All or nothing.
    assert!(matches!(c.cmd(&["CONFIG", "SET", "maxmemory", "20mb", "timeout", "x"]), Frame::Error(_)));
    assert_eq!(c.cmd(&["CONFIG", "GET", "maxmemory"]), Frame::Array(vec![bulk("maxmemory"), bulk("10485760")]));
    let Frame::Array(all) = c.cmd(&["CONFIG", "GET", "*"]) else { panic!() };
    assert!(all.len() > 60 && all.len() % 2 == 0);
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), simple("OK"));
}

#[test]
fn slowlog_records_and_truncates() {
    let s = Server::ferrokv(&["--slowlog-log-slower-than", "0"]);
    let mut c = s.connect();
    c.cmd(&["SET", "k", &"v".repeat(200)]);
    let Frame::Array(entries) = c.cmd(&["SLOWLOG", "GET", "1"]) else { panic!() };
    let Frame::Array(e) = &entries[0] else { panic!() };
    assert_eq!(e.len(), 6);
    let Frame::Array(args) = &e[3] else { panic!() };
    assert_eq!(args[0], bulk("SET"));
    assert!(args[2].as_bytes().unwrap().ends_with(b"... (72 more bytes)"));
    assert!(matches!(c.cmd(&["SLOWLOG", "LEN"]), Frame::Integer(n) if n >= 1));
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), simple("OK"));
    assert_eq!(c.cmd(&["SLOWLOG", "GET", "x"]), err("ERR count should be greater than or equal to -1"));
}

#[test]
fn monitor_streams_other_clients_commands() {
    let s = Server::ferrokv(&[]);
    let mut m = s.connect();
    assert_eq!(m.cmd(&["MONITOR"]), simple("OK"));
    let mut c = s.connect();
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["SET", "x", "a\"b"]);
    let first = text(m.read());
    assert!(first.ends_with(r#""SELECT" "2""#), "{first}");
    assert!(first.contains(" [2 127.0.0.1:"), "{first}");
    let second = text(m.read());
    assert!(second.ends_with(r#"] "SET" "x" "a\"b""#), "{second}");
    // Admin commands are not shown.
    c.cmd(&["CONFIG", "GET", "port"]);
    c.cmd(&["PING"]);
    assert!(text(m.read()).ends_with("\"PING\""));
}

#[test]
fn client_name_list_kill() {
    let s = Server::ferrokv(&[]);
    let mut a = s.connect();
    let mut b = s.connect();
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), simple("OK"));
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), bulk("alpha"));
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    let Frame::Integer(id_a) = a.cmd(&["CLIENT", "ID"]) else { panic!() };
    let list = text(b.cmd(&["CLIENT", "LIST"]));
    assert_eq!(list.lines().count(), 2);
    assert!(list.contains(&format!("id={id_a} ")) && list.contains(" name=alpha "), "{list}");
    assert_eq!(b.cmd(&["CLIENT", "KILL", "ID", &id_a.to_string()]), Frame::Integer(1));
    assert!(a.is_closed());
    assert_eq!(b.cmd(&["CLIENT", "KILL", "1.2.3.4:5"]), err("ERR No such client"));
    assert_eq!(b.cmd(&["CLIENT", "NOPE"]), err("ERR unknown subcommand 'NOPE'. Try CLIENT HELP."));
}

#[test]
fn debug_is_gated_like_redis() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    assert_eq!(
        c.cmd(&["DEBUG", "DIGEST"]),
        err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    let s = Server::ferrokv(&["--enable-debug-command", "local"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), simple("0000000000000000000000000000000000000000"));
    c.cmd(&["SET", "s", "hello"]);
    assert_eq!(
        c.cmd(&["DEBUG", "DIGEST-VALUE", "s"]),
        Frame::Array(vec![simple("36b23a1456b2dce2c3ed252c456761301dba8060")])
    );
    assert!(text(c.cmd(&["DEBUG", "OBJECT", "s"])).contains("encoding:embstr"));
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.01"]), simple("OK"));
}

#[test]
fn maxmemory_refuses_writes_with_oom() {
    // One byte: any server is over it.
    let s = Server::ferrokv(&["--maxmemory", "1"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["SET", "k", "v"]), err("OOM command not allowed when used memory > 'maxmemory'."));
    assert_eq!(c.cmd(&["GET", "k"]), Frame::NullBulk);
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
}

/// One INFO field as a number.
fn info_u64(c: &mut ferrokv_testkit::Conn, section: &str, name: &str) -> u64 {
    let text = match c.cmd(&["INFO", section]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO replied {other:?}"),
    };
    let prefix = format!("{name}:");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn maxmemory_policies_evict_instead_of_refusing() {
    let s = Server::ferrokv(&["--notify-keyspace-events", "Ee"]);
    let mut c = s.connect();
    let mut sub = s.connect();
    assert!(matches!(sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]), Frame::Array(a) if a.len() == 3));
    let base = info_u64(&mut c, "memory", "used_memory");
    let limit = base + 4_000_000;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]), simple("OK"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]), simple("OK"));
    // 60,000 keys of ~100 bytes is well past 4 MB: writes keep succeeding
    // and the oldest keys make room.
    let value = "x".repeat(100);
    let total = 60_000;
    // The subscriber's bytes, read along so its buffer does not count.
    sub.stream().set_nonblocking(true).unwrap();
    let mut heard = Vec::new();
    let drain = |sub: &mut ferrokv_testkit::Conn, heard: &mut Vec<u8>| {
        let mut chunk = [0u8; 65536];
        while let Ok(n) = std::io::Read::read(sub.stream(), &mut chunk) {
            if n == 0 {
                break;
            }
            heard.extend_from_slice(&chunk[..n]);
        }
    };
    for chunk in 0..(total / 1000) {
        let mut batch = Vec::new();
        for i in chunk * 1000..(chunk + 1) * 1000 {
            batch.extend(ferrokv_testkit::Conn::encode(&[b"SET", format!("key:{i}").as_bytes(), value.as_bytes()]));
        }
        c.send_raw(&batch);
        for _ in 0..1000 {
            assert_eq!(c.read(), simple("OK"));
        }
        drain(&mut sub, &mut heard);
    }
    // Every command evicts while memory is over the limit: stop that
    // before counting.
    assert!(info_u64(&mut c, "memory", "used_memory") <= limit + 200_000);
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    let evicted = info_u64(&mut c, "stats", "evicted_keys");
    let keys = match c.cmd(&["DBSIZE"]) {
        Frame::Integer(n) => n as u64,
        other => panic!("{other:?}"),
    };
    assert!(evicted > 0 && keys + evicted == total as u64, "keys {keys}, evicted {evicted}");
    let present = |c: &mut ferrokv_testkit::Conn, range: std::ops::Range<usize>| {
        range.filter(|i| c.cmd(&["EXISTS", &format!("key:{i}")]) == Frame::Integer(1)).count()
    };
    // Approximate LRU (sampled, one-second clock): nearly all of the
    // oldest keys went first, nearly none of the newest.
    assert!(present(&mut c, 0..500) < 25, "the oldest keys went first");
    assert!(present(&mut c, total - 500..total) > 450, "the newest stayed");
    // Each eviction was announced.
    drain(&mut sub, &mut heard);
    let announced = String::from_utf8_lossy(&heard).matches("__keyevent@0__:evicted").count();
    assert_eq!(announced as u64, evicted);

    // Volatile policies only take keys with a TTL: with none, writes fail.
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1"]), simple("OK"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]), simple("OK"));
    c.cmd(&["FLUSHALL"]);
    assert_eq!(c.cmd(&["SET", "plain", "v"]), err("OOM command not allowed when used memory > 'maxmemory'."));
    // With one volatile key, that is what goes.
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    c.cmd(&["SET", "t", "v", "EX", "100"]);
    c.cmd(&["SET", "p", "v"]);
    for policy in ["volatile-ttl", "volatile-random"] {
        c.cmd(&["SET", "t", "v", "EX", "100"]);
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]), simple("OK"));
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1"]), simple("OK"));
        assert_eq!(c.cmd(&["GET", "p"]), Frame::Bulk("v".into()), "{policy}");
        assert_eq!(c.cmd(&["EXISTS", "t"]), Frame::Integer(0), "{policy}");
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    }
}

#[test]
fn lfu_eviction_keeps_the_frequently_used_keys() {
    // No decay: a minute boundary during the test would take one off.
    let s = Server::ferrokv(&["--lfu-log-factor", "0", "--lfu-decay-time", "0"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]), simple("OK"));
    let value = "x".repeat(100);
    // 100 hot keys read 20 times each, then a flood of keys written once.
    for i in 0..100 {
        assert_eq!(c.cmd(&["SET", &format!("hot:{i}"), &value]), simple("OK"));
        for _ in 0..20 {
            c.cmd(&["GET", &format!("hot:{i}")]);
        }
    }
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "hot:7"]), Frame::Integer(25));
    let base = info_u64(&mut c, "memory", "used_memory");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &(base + 2_000_000).to_string()]), simple("OK"));
    for chunk in 0..40 {
        let mut batch = Vec::new();
        for i in chunk * 1000..(chunk + 1) * 1000 {
            batch.extend(ferrokv_testkit::Conn::encode(&[b"SET", format!("cold:{i}").as_bytes(), value.as_bytes()]));
        }
        c.send_raw(&batch);
        for _ in 0..1000 {
            assert_eq!(c.read(), simple("OK"));
        }
    }
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), simple("OK"));
    assert!(info_u64(&mut c, "stats", "evicted_keys") > 10_000);
    // Sampling compares counters: a new key (5) always loses to a hot one.
    let hot = (0..100).filter(|i| c.cmd(&["EXISTS", &format!("hot:{i}")]) == Frame::Integer(1)).count();
    assert_eq!(hot, 100, "every hot key survived");
    // OBJECT FREQ does not count as an access; IDLETIME is not tracked.
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "hot:7"]), Frame::Integer(25));
    assert!(
        matches!(c.cmd(&["OBJECT", "IDLETIME", "hot:7"]), Frame::Error(e) if e.starts_with(b"ERR An LFU maxmemory policy is selected"))
    );
}

#[test]
fn shutdown_nosave_stops_the_process() {
    let mut s = Server::ferrokv(&[]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["SHUTDOWN", "ABORT"]), err("ERR No shutdown in progress."));
    c.send_raw(&ferrokv_testkit::Conn::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(c.is_closed());
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
}

fn run_bin(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(ferrokv_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ok = ferrokv_testkit::wait_for(Duration::from_secs(10), || matches!(child.try_wait(), Ok(Some(_))));
    if !ok {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_options_are_fatal_at_startup() {
    let port = free_port().to_string();
    let (code, _, stderr) = run_bin(&["--port", &port, "--no-such-option", "1"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("*** FATAL CONFIG FILE ERROR"), "{stderr}");
    assert!(stderr.contains(">>> 'no-such-option \"1\"'"), "{stderr}");
    assert!(stderr.contains("Bad directive or wrong number of arguments"), "{stderr}");
    let (code, _, stderr) = run_bin(&["--port", &port, "--maxmemory", "lots"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("argument must be a memory value"), "{stderr}");
    // Redis settings whose behaviour ferrokv lacks are refused with the
    // reason, not accepted and ignored; their defaults are accepted.
    for (opt, value, reason) in [
        ("--replicaof", "127.0.0.1 6399", "replication is not supported yet"),
        ("--list-compress-depth", "1", "list compression is not supported yet"),
        ("--activedefrag", "yes", "active defragmentation is not supported"),
        ("--unixsocket", "/tmp/ferrokv.sock", "unix sockets are not supported yet"),
    ] {
        let (code, _, stderr) = run_bin(&["--port", &port, opt, value]);
        assert_eq!(code, Some(1), "{opt} {value}");
        assert!(stderr.contains(reason), "{opt} {value}: {stderr}");
    }
    let s = Server::ferrokv(&[
        "--list-compress-depth",
        "0",
        "--repl-backlog-size",
        "10mb",
        "--tls-port",
        "0",
        "--replicaof",
        "no one",
    ]);
    let mut c = s.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "repl-backlog-size"]),
        Frame::Array(vec![bulk("repl-backlog-size"), bulk("10485760")])
    );
    assert!(matches!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
        Frame::Error(e) if String::from_utf8_lossy(&e).ends_with("- client eviction is not supported yet")));
    let (code, stdout, _) = run_bin(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("v=7.0.15"), "{stdout}");
}

#[test]
fn config_file_and_command_line_combine() {
    let dir = std::env::temp_dir().join(format!("ferrokv-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("ferrokv.conf");
    std::fs::write(&conf, "# test config\nmaxmemory 5mb\ntimeout 7\nslowlog-max-len 3\n").unwrap();
    let s = Server::ferrokv(&[conf.to_str().unwrap(), "--timeout", "9"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["CONFIG", "GET", "maxmemory"]), Frame::Array(vec![bulk("maxmemory"), bulk("5242880")]));
    assert_eq!(c.cmd(&["CONFIG", "GET", "timeout"]), Frame::Array(vec![bulk("timeout"), bulk("9")]));
    let info = text(c.cmd(&["INFO", "server"]));
    assert_eq!(field(&info, "config_file"), Some(conf.to_str().unwrap()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idle_clients_time_out() {
    let s = Server::ferrokv(&["--timeout", "1"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    c.stream().set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(c.is_closed());
}

#[test]
fn lazy_freeing_counts_like_redis() {
    let s = Server::ferrokv(&["--enable-debug-command", "yes"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["DEBUG", "POPULATE", "10000"]), simple("OK"));
    // Strings are cheap to free: UNLINK frees them at once, as Redis does.
    assert_eq!(c.cmd(&["UNLINK", "key:1", "key:2"]), Frame::Integer(2));
    let lazyfreed = |c: &mut ferrokv_testkit::Conn| {
        field(&text(c.cmd(&["INFO", "memory"])), "lazyfreed_objects").unwrap().to_string()
    };
    assert_eq!(lazyfreed(&mut c), "0");
    // A whole database goes to the background thread, counted by keys.
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), simple("OK"));
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(0));
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(10), || lazyfreed(&mut c) == "9998"));
}

/// CLIENT PAUSE, run on one server; every observation is logged.
fn pause_transcript(kind: ferrokv_testkit::Kind) -> Vec<String> {
    use ferrokv_testkit::{wait_for, Conn, Kind};
    let s = match kind {
        Kind::Ferrokv => Server::ferrokv(&[]),
        Kind::Redis => Server::redis(&[]),
    };
    let (mut a, mut admin) = (s.connect(), s.connect());
    let mut log = Vec::new();
    let step = |c: &mut Conn, args: &[&str], log: &mut Vec<String>| {
        let r = c.cmd(args);
        log.push(format!("{args:?} -> {r:?}"));
    };
    let blocked = |admin: &mut Conn| info_u64(admin, "clients", "blocked_clients");
    let wait_blocked = |admin: &mut Conn, n: u64| {
        assert!(wait_for(Duration::from_secs(10), || blocked(admin) == n), "blocked_clients never reached {n}");
    };
    let a_id = match a.cmd(&["CLIENT", "ID"]) {
        Frame::Integer(i) => i,
        other => panic!("{other:?}"),
    };
    step(&mut a, &["SET", "k", "v"], &mut log);
    step(&mut a, &["SET", "e", "v", "PX", "100"], &mut log);
    for args in [&["CLIENT", "PAUSE", "x"][..], &["CLIENT", "PAUSE", "-1"], &["CLIENT", "PAUSE", "10", "SOME"]] {
        step(&mut admin, args, &mut log);
    }
    step(&mut admin, &["CLIENT", "PAUSE", "10", "WRITE", "x"], &mut log);

    // WRITE: reads run, writes wait; the dataset stands still.
    step(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"], &mut log);
    step(&mut a, &["GET", "k"], &mut log);
    step(&mut a, &["EVAL_RO", "return redis.call('get', 'k')", "0"], &mut log);
    a.send_raw(&Conn::encode(&[b"SET", b"k", b"v2"]));
    wait_blocked(&mut admin, 1);
    let list = text(admin.cmd(&["CLIENT", "LIST", "ID", &a_id.to_string()]));
    let flags = list.split(' ').find(|f| f.starts_with("flags=")).unwrap_or_default().to_string();
    log.push(format!("postponed client {flags}"));
    // An expired key reads as missing but is not deleted.
    assert!(wait_for(Duration::from_secs(10), || admin.cmd(&["EXISTS", "e"]) == Frame::Integer(0)));
    step(&mut admin, &["GET", "e"], &mut log);
    step(&mut admin, &["DBSIZE"], &mut log);
    step(&mut admin, &["CLIENT", "UNPAUSE"], &mut log);
    log.push(format!("postponed SET -> {:?}", a.read()));
    step(&mut a, &["GET", "k"], &mut log);
    step(&mut a, &["GET", "e"], &mut log);
    step(&mut a, &["DBSIZE"], &mut log);
    log.push(format!("blocked after: {}", blocked(&mut admin)));

    // Writes wait even to be queued; may-replicate commands wait too.
    step(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"], &mut log);
    step(&mut a, &["MULTI"], &mut log);
    a.send_raw(&Conn::encode(&[b"INCR", b"n"]));
    wait_blocked(&mut admin, 1);
    step(&mut admin, &["CLIENT", "UNPAUSE"], &mut log);
    log.push(format!("postponed INCR -> {:?}", a.read()));
    step(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"], &mut log);
    a.send_raw(&Conn::encode(&[b"EXEC"]));
    wait_blocked(&mut admin, 1);
    a.send_raw(&Conn::encode(&[b"PUBLISH", b"ch", b"m"]));
    // A second pause only extends the first; ALL is stricter than WRITE.
    step(&mut admin, &["CLIENT", "PAUSE", "10", "WRITE"], &mut log);
    step(&mut admin, &["CLIENT", "UNPAUSE"], &mut log);
    log.push(format!("postponed EXEC -> {:?}", a.read()));
    log.push(format!("PUBLISH behind it -> {:?}", a.read()));

    // ALL: every command waits, until the pause times out.
    step(&mut admin, &["CLIENT", "PAUSE", "300", "ALL"], &mut log);
    let started = std::time::Instant::now();
    step(&mut a, &["PING"], &mut log);
    log.push(format!("waited for the pause: {}", started.elapsed() >= Duration::from_millis(250)));
    step(&mut admin, &["CLIENT", "PAUSE", "0"], &mut log);
    step(&mut a, &["PING"], &mut log);
    log
}

#[test]
fn client_pause_postpones_like_redis() {
    use ferrokv_testkit::Kind;
    let (ours, theirs) = (pause_transcript(Kind::Ferrokv), pause_transcript(Kind::Redis));
    for (i, (x, y)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(x, y, "step {i} differs\nferrokv: {ours:#?}\nredis: {theirs:#?}");
    }
    assert_eq!(ours.len(), theirs.len());
}

#[test]
fn shutdown_save_writes_a_snapshot_redis_loads() {
    let mut s = Server::ferrokv(&[]);
    let mut c = s.connect();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    // One change per element pushed, as Redis counts.
    assert_eq!(info_u64(&mut c, "persistence", "rdb_changes_since_last_save"), 3);
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    assert_eq!(info_u64(&mut c, "persistence", "rdb_changes_since_last_save"), 0);
    assert_eq!(info_u64(&mut c, "persistence", "rdb_saves"), 1);
    assert!(matches!(c.cmd(&["LASTSAVE"]), Frame::Integer(t) if t > 1_700_000_000));
    assert_eq!(c.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(c.cmd(&["SAVE"]), err("ERR Command not allowed inside a transaction"));
    c.cmd(&["DISCARD"]);
    c.cmd(&["SET", "k", "v2"]);
    c.send_raw(&ferrokv_testkit::Conn::encode(&[b"SHUTDOWN", b"SAVE"]));
    assert!(c.is_closed());
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    let dir = s.dir.to_string_lossy().into_owned();
    let redis = Server::redis(&["--dir", &dir, "--dbfilename", "dump.rdb"]);
    let mut r = redis.connect();
    assert_eq!(r.cmd(&["GET", "k"]), bulk("v2"));
    assert_eq!(r.cmd(&["LRANGE", "l", "0", "-1"]), Frame::Array(vec![bulk("a"), bulk("b")]));
}

#[test]
fn a_failed_save_refuses_shutdown_unless_forced() {
    let mut s = Server::ferrokv(&[]);
    let mut c = s.connect();
    c.cmd(&["SET", "k", "v"]);
    // The working directory is gone: the snapshot cannot be written.
    std::fs::remove_dir_all(&s.dir).unwrap();
    assert_eq!(c.cmd(&["SAVE"]), err("ERR"));
    assert_eq!(info_u64(&mut c, "persistence", "rdb_changes_since_last_save"), 1);
    assert_eq!(c.cmd(&["SHUTDOWN", "SAVE"]), err("ERR Errors trying to SHUTDOWN. Check logs."));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    c.send_raw(&ferrokv_testkit::Conn::encode(&[b"SHUTDOWN", b"SAVE", b"FORCE"]));
    assert!(c.is_closed());
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn client_unblock_leaves_a_postponed_client_waiting() {
    // redis-server 7.0.15 crashes on this; ferrokv answers 0 and the
    // command runs once the pause ends.
    let s = Server::ferrokv(&[]);
    let (mut admin, mut b) = (s.connect(), s.connect());
    let id = match b.cmd(&["CLIENT", "ID"]) {
        Frame::Integer(i) => i.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), simple("OK"));
    b.send_raw(&ferrokv_testkit::Conn::encode(&[b"SET", b"k", b"v"]));
    assert!(
        ferrokv_testkit::wait_for(Duration::from_secs(10), || info_u64(&mut admin, "clients", "blocked_clients") == 1)
    );
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Frame::Integer(0));
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), Frame::Integer(0));
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), simple("OK"));
    assert_eq!(b.read(), simple("OK"));
    assert_eq!(admin.cmd(&["GET", "k"]), bulk("v"));
}

/// Debian's unit runs redis-server with `--supervised systemd` and
/// `Type=notify`: systemd waits for READY=1 on NOTIFY_SOCKET.
#[test]
fn systemd_is_told_of_readiness_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = std::env::temp_dir().join(format!("ferrokv-sd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notify");
    let _ = std::fs::remove_file(&path);
    let rx = UnixDatagram::bind(&path).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut s = Server::start_env(
        ferrokv_testkit::Kind::Ferrokv,
        // Supervision keeps the server in the foreground.
        &["--supervised", "systemd", "--daemonize", "yes"],
        &[("NOTIFY_SOCKET", path.as_os_str())],
    );
    let mut messages = Vec::new();
    let mut buf = [0u8; 256];
    while !messages.iter().any(|m| m == "READY=1\n") {
        let n = rx.recv(&mut buf).expect("a notification within 10s");
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(
        messages,
        ["STATUS=ferrokv is loading...\n", "STATUS=Ready to accept connections\n", "READY=1\n"],
        "in Redis's order"
    );
    let mut c = s.connect();
    let Frame::Bulk(info) = c.cmd(&["INFO", "server"]) else { panic!() };
    assert!(String::from_utf8_lossy(&info).contains("process_supervised:systemd\r\n"));
    c.send_raw(&ferrokv_testkit::Conn::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    let n = rx.recv(&mut buf).expect("STOPPING=1 within 10s");
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    std::fs::remove_dir_all(&dir).unwrap();

    // Without NOTIFY_SOCKET, `auto` is unsupervised.
    let s = Server::ferrokv(&["--supervised", "auto"]);
    let Frame::Bulk(info) = s.connect().cmd(&["INFO", "server"]) else { panic!() };
    assert!(String::from_utf8_lossy(&info).contains("process_supervised:no\r\n"));
}

/// Passwords never reach SLOWLOG or MONITOR: the arguments Redis redacts
/// read `(redacted)` in both, compared with redis-server.
#[test]
fn passwords_are_redacted_in_slowlog_and_monitor() {
    let commands: &[&[&str]] = &[
        &["AUTH", "secret"],
        &["AUTH", "someone", "secret"],
        &["AUTH", "a", "b", "c"],
        &["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "x"],
        &["HELLO", "2", "SETNAME", "y", "AUTH", "default", "pw2"],
        &["HELLO", "2", "AUTH", "default"],
        &["HELLO", "4", "AUTH", "default", "pw"],
        &["HELLO", "2", "AUTH", "nobody", "pw", "AUTH", "default", "pw"],
        &["HELLO", "+2", "AUTH", "default", "pw"],
        &["HELLO", "2", "SETNAME", "a b", "AUTH", "default", "pw"],
        &["CONFIG", "SET", "masterauth", "s1", "maxmemory-policy", "noeviction", "MasterUser", "u"],
        &["CONFIG", "SET", "requirepass", ""],
        &["CONFIG", "SET", "requirepass", "x", "masterauth"],
        &["SET", "requirepass", "visible"],
    ];
    let transcript = |s: &Server| -> (Vec<Vec<String>>, Vec<String>) {
        let mut m = s.connect();
        assert_eq!(m.cmd(&["MONITOR"]), simple("OK"));
        let mut c = s.connect();
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        c.cmd(&["SLOWLOG", "RESET"]);
        for cmd in commands {
            c.cmd(cmd);
        }
        c.cmd(&["PING"]);
        let Frame::Array(entries) = c.cmd(&["SLOWLOG", "GET", "-1"]) else { panic!() };
        let mut logged: Vec<Vec<String>> = entries
            .into_iter()
            .map(|e| {
                let Frame::Array(e) = e else { panic!() };
                let Frame::Array(args) = &e[3] else { panic!() };
                args.iter().map(|a| String::from_utf8_lossy(a.as_bytes().unwrap()).into_owned()).collect()
            })
            .collect();
        logged.reverse();
        let mut monitored = Vec::new();
        loop {
            let line = text(m.read());
            let args = line.split_once("] ").unwrap().1.to_string();
            if args == "\"PING\"" {
                break;
            }
            monitored.push(args);
        }
        (logged, monitored)
    };
    let ours = transcript(&Server::ferrokv(&[]));
    let theirs = transcript(&Server::redis(&[]));
    assert_eq!(ours, theirs);
    assert!(ours.0.iter().flatten().any(|a| a == "(redacted)"));
    assert!(!ours.0.iter().flatten().any(|a| a == "secret" || a == "pw2" || a == "s1"));
}

/// CLIENT NO-EVICT survives RESET in Redis 7.0.
#[test]
fn reset_keeps_no_evict() {
    for s in [Server::ferrokv(&[]), Server::redis(&[])] {
        let mut c = s.connect();
        assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), simple("OK"));
        assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
        let info = text(c.cmd(&["CLIENT", "INFO"]));
        assert!(info.contains(" flags=e "), "{:?}: {info}", s.kind);
    }
}

/// shutdown-on-sigterm save writes a final snapshot; when it cannot, the
/// server keeps running unless `force` is among the flags (as Redis).
#[test]
fn sigterm_follows_shutdown_on_sigterm() {
    let mut s = Server::ferrokv(&["--shutdown-on-sigterm", "SAVE"]);
    let mut c = s.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "shutdown-on-sigterm"]),
        Frame::Array(vec![bulk("shutdown-on-sigterm"), bulk("save")])
    );
    c.cmd(&["SET", "k", "v"]);
    let rdb = s.dir.join("dump.rdb");
    s.signal("TERM");
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    let bytes = std::fs::read(&rdb).expect("the final snapshot");
    assert!(bytes.starts_with(b"REDIS0010"));

    let log = std::env::temp_dir().join(format!("ferrokv-sigterm-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let mut s = Server::ferrokv(&["--logfile", log.to_str().unwrap()]);
    let mut c = s.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "shutdown-on-sigterm", "save nosave"]),
        err("ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - shutdown options SAVE and NOSAVE can't be used simultaneously")
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "shutdown-on-sigterm", "force Save"]), simple("OK"));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "shutdown-on-sigterm"]),
        Frame::Array(vec![bulk("shutdown-on-sigterm"), bulk("save force")])
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "shutdown-on-sigterm", "save"]), simple("OK"));
    // The working directory is gone, so the snapshot cannot be written.
    std::fs::remove_dir_all(&s.dir).unwrap();
    s.signal("TERM");
    let refused = "Error trying to save the DB, can't exit.";
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains(refused))
    }));
    // Still serving, on the same connection.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert!(s.is_running());
    assert_eq!(c.cmd(&["CONFIG", "SET", "shutdown-on-sigterm", "save force"]), simple("OK"));
    s.signal("TERM");
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Error trying to save the DB. Exit anyway."), "{text}");
    std::fs::remove_file(&log).unwrap();
}

/// Ctrl+C twice: a SIGINT while a signal's shutdown waits for the engine
/// (here held by a busy script) exits at once with status 1, as Redis does.
#[test]
fn a_second_sigint_exits_at_once() {
    let log = std::env::temp_dir().join(format!("ferrokv-sigint-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let mut s = Server::ferrokv(&["--logfile", log.to_str().unwrap(), "--lua-time-limit", "10"]);
    let mut script = s.connect();
    script.send_raw(&ferrokv_testkit::Conn::encode(&[b"EVAL", b"while true do end", b"0"]));
    // Once other clients are answered BUSY, the script holds the engine.
    let mut other = s.connect();
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(10), || {
        matches!(other.cmd(&["PING"]), Frame::Error(e) if e.starts_with(b"BUSY"))
    }));
    let logged = |what: &str| {
        ferrokv_testkit::wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(&log).is_ok_and(|l| l.contains(what))
        })
    };
    s.signal("INT");
    assert!(logged("Received SIGINT scheduling shutdown..."));
    assert!(s.is_running());
    s.signal("INT");
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(1));
    assert!(logged("You insist... exiting now."));
    std::fs::remove_file(&log).unwrap();
}
