//! Real clients: redis-cli and redis-py sessions behave as against Redis.

use std::io::Write;
use std::process::{Command, Stdio};

use ferrokv_testkit::Server;

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli is needed (scripts/test.sh installs redis-tools)");
    assert!(out.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_session() {
    let s = Server::ferrokv(&[]);
    assert_eq!(redis_cli(s.port, &["SET", "a", "hello"]), "OK\n");
    assert_eq!(redis_cli(s.port, &["GET", "a"]), "hello\n");
    assert_eq!(redis_cli(s.port, &["APPEND", "a", " world"]), "11\n");
    assert_eq!(redis_cli(s.port, &["GETRANGE", "a", "0", "4"]), "hello\n");
    assert_eq!(redis_cli(s.port, &["--no-raw", "GET", "nope"]), "(nil)\n");
    assert_eq!(redis_cli(s.port, &["--no-raw", "INCR", "a"]), "(error) ERR value is not an integer or out of range\n");
    assert!(redis_cli(s.port, &["INFO", "server"]).contains("redis_version:7.0.15"));
    assert!(redis_cli(s.port, &["-3", "HELLO", "3"]).contains("proto"));
}

#[test]
fn redis_cli_pipe_and_scan() {
    let s = Server::ferrokv(&[]);
    let mut child = Command::new("redis-cli")
        .args(["-p", &s.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli");
    {
        let mut stdin = child.stdin.take().unwrap();
        let mut wire = Vec::new();
        for i in 0..10_000 {
            wire.extend(ferrokv_testkit::Conn::encode(&[b"SET", format!("k:{i}").as_bytes(), b"v"]));
        }
        stdin.write_all(&wire).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("errors: 0, replies: 10000"), "{text}");
    let scanned = redis_cli(s.port, &["--scan", "--pattern", "k:1*"]);
    assert_eq!(scanned.lines().count(), 1111);
    assert_eq!(redis_cli(s.port, &["DBSIZE"]), "10000\n");
}

#[test]
fn redis_py_session() {
    let s = Server::ferrokv(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/integration/py/session.py");
    let out = Command::new("python3").arg(script).arg(s.port.to_string()).output().expect("python3");
    assert!(
        out.status.success(),
        "redis-py session failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("redis-py session ok"));
}

#[test]
fn redis_py_coordination_patterns() {
    let s = Server::ferrokv(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/integration/py/coordination.py");
    let out = Command::new("python3").arg(script).arg(s.port.to_string()).output().expect("python3");
    assert!(
        out.status.success(),
        "redis-py coordination failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("redis-py coordination ok"));
}

#[test]
fn redis_crate_receives_invalidations() {
    // redis-py's own cache insists on Redis 7.4; the `redis` crate takes
    // the RESP3 pushes as they are.
    let s = Server::ferrokv(&[]);
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", s.port)).unwrap();
    let mut tracked = client.get_connection().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    tracked.set_push_sender(tx);
    let mut writer = redis::Client::open(s.url()).unwrap().get_connection().unwrap();
    let _: () = redis::cmd("CLIENT").arg("TRACKING").arg("ON").query(&mut tracked).unwrap();
    let _: () = redis::cmd("SET").arg("price").arg("10").query(&mut writer).unwrap();
    let v: String = redis::cmd("GET").arg("price").query(&mut tracked).unwrap();
    assert_eq!(v, "10");
    let _: () = redis::cmd("SET").arg("price").arg("12").query(&mut writer).unwrap();
    // Pushes are read along with the next reply.
    let _: String = redis::cmd("PING").query(&mut tracked).unwrap();
    let push = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("an invalidation");
    assert_eq!(push.kind, redis::PushKind::Invalidate);
    assert_eq!(push.data, vec![redis::Value::Array(vec![redis::Value::BulkString(b"price".to_vec())])]);
}
