//! Expiry: lazy on access, and the active cycle reclaiming a mass expiry in
//! bounded slices while the server keeps answering.

use std::time::{Duration, Instant};

use ferrokv_resp::Frame;
use ferrokv_testkit::{wait_for, Conn, Server};

fn int(f: Frame) -> i64 {
    match f {
        Frame::Integer(i) => i,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// Runs with the release binary in CI (scripts/test.sh), where a million
/// keys take seconds; a debug binary gets a smaller load.
fn mass_keys() -> usize {
    if std::env::var_os("FERROKV_SERVER_BIN").is_some() {
        1_000_000
    } else {
        100_000
    }
}

#[test]
fn a_mass_expiry_neither_stalls_nor_stays() {
    let s = Server::ferrokv(&["--enable-debug-command", "yes"]);
    let mut c = s.connect();
    // Load with the active cycle paused, so that how long loading takes on
    // a busy machine does not matter; then let it reclaim everything.
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let baseline = {
        let info = String::from_utf8(c.cmd(&["INFO", "memory"]).as_bytes().unwrap().to_vec()).unwrap();
        info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().parse::<i64>().unwrap()
    };
    let n = mass_keys();
    let value = vec![b'v'; 100];
    let chunk = 10_000;
    for start in (0..n).step_by(chunk) {
        let mut wire = Vec::new();
        for i in start..(start + chunk).min(n) {
            wire.extend(Conn::encode(&[b"SET", format!("key:{i:012}").as_bytes(), &value, b"PX", b"500"]));
        }
        c.send_raw(&wire);
        for _ in start..(start + chunk).min(n) {
            c.read();
        }
    }
    assert_eq!(int(c.cmd(&["DBSIZE"])), n as i64);
    // Every key is past its time once its PTTL says so (nothing reads them).
    assert!(wait_for(Duration::from_secs(30), || int(c.cmd(&["PTTL", &format!("key:{:012}", n - 1)])) == -2));
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    // While the keys expire, a client keeps getting answers quickly.
    let mut probe = s.connect();
    let mut worst = Duration::ZERO;
    let started = Instant::now();
    let emptied = wait_for(Duration::from_secs(120), || {
        let t = Instant::now();
        let left = int(probe.cmd(&["DBSIZE"]));
        worst = worst.max(t.elapsed());
        left == 0
    });
    assert!(emptied, "keys still present after {:?}", started.elapsed());
    assert!(worst < Duration::from_millis(500), "a command waited {worst:?} behind expiry");
    let info = String::from_utf8(c.cmd(&["INFO"]).as_bytes().unwrap().to_vec()).unwrap();
    let get = |name: &str| {
        info.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':'))).unwrap().to_string()
    };
    assert_eq!(get("expired_keys"), n.to_string());
    // The memory came back (within 16 MB of where it started).
    let used: i64 = get("used_memory").parse().unwrap();
    assert!(used - baseline < 16 << 20, "used_memory {used} vs baseline {baseline}");
}

#[test]
fn lazy_expiry_on_access() {
    let s = Server::ferrokv(&["--enable-debug-command", "yes"]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ferrokv_testkit::simple("OK"));
    c.cmd(&["SET", "k", "v", "PX", "50"]);
    assert!(wait_for(Duration::from_secs(5), || int(c.cmd(&["PTTL", "k"])) == -2));
    // Without the active cycle, nothing was reclaimed until the access above.
    assert_eq!(int(c.cmd(&["DBSIZE"])), 0);
    c.cmd(&["SET", "k2", "v", "PX", "50"]);
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(int(c.cmd(&["DBSIZE"])), 1, "an expired key stays until touched when active expiry is off");
    assert_eq!(c.cmd(&["GET", "k2"]), Frame::NullBulk);
    assert_eq!(int(c.cmd(&["DBSIZE"])), 0);
}
