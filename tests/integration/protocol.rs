//! The wire protocol: pipelining, inline commands, RESP3, and Redis's
//! limits on bad input, each answered with Redis's error and a close.

use std::io::Write;
use std::time::Duration;

use ferrokv_resp::Frame;
use ferrokv_testkit::{bulk, err, simple, Conn, Server};

#[test]
fn pipelined_commands_reply_in_order() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    let mut wire = Vec::new();
    for i in 0..2000 {
        wire.extend(Conn::encode(&[b"SET", format!("k{i}").as_bytes(), format!("v{i}").as_bytes()]));
        wire.extend(Conn::encode(&[b"GET", format!("k{i}").as_bytes()]));
    }
    c.send_raw(&wire);
    for i in 0..2000 {
        assert_eq!(c.read(), simple("OK"));
        assert_eq!(c.read(), bulk(&format!("v{i}")));
    }
}

#[test]
fn a_command_split_into_single_bytes() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    for b in Conn::encode(&[b"ECHO", b"hello world"]) {
        c.send_raw(&[b]);
        c.stream().flush().unwrap();
    }
    assert_eq!(c.read(), bulk("hello world"));
}

#[test]
fn inline_commands() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    c.send_raw(b"PING\r\n\r\n   \nECHO \"a b\\x41\" 'it\\'s'\nECHO x\n");
    assert_eq!(c.read(), simple("PONG"));
    assert_eq!(c.read(), err("ERR wrong number of arguments for 'echo' command"));
    assert_eq!(c.read(), bulk("x"));
    c.send_raw(b"*0\r\n*-1\r\nPING\r\n");
    assert_eq!(c.read(), simple("PONG"));
}

fn expect_error_then_close(input: &[u8], msg: &str) {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    c.send_raw(input);
    assert_eq!(c.read(), err(msg));
    assert!(c.is_closed(), "connection should be closed after: {msg}");
    // The server is unharmed.
    assert_eq!(s.connect().cmd(&["PING"]), simple("PONG"));
}

#[test]
fn protocol_errors_close_the_connection() {
    expect_error_then_close(b"*abc\r\n", "ERR Protocol error: invalid multibulk length");
    expect_error_then_close(b"*2147483648\r\n", "ERR Protocol error: invalid multibulk length");
    expect_error_then_close(b"*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length");
    expect_error_then_close(b"*1\r\n+PING\r\n", "ERR Protocol error: expected '$', got '+'");
    expect_error_then_close(b"SET a \"b\r\n", "ERR Protocol error: unbalanced quotes in request");
    expect_error_then_close(&vec![b'a'; 70_000], "ERR Protocol error: too big inline request");
    let mut big = b"*".to_vec();
    big.extend(vec![b'1'; 70_000]);
    expect_error_then_close(&big, "ERR Protocol error: too big mbulk count string");
}

#[test]
fn replies_before_a_protocol_error_are_delivered() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    c.send_raw(b"PING\r\n*x\r\nPING\r\n");
    assert_eq!(c.read(), simple("PONG"));
    assert_eq!(c.read(), err("ERR Protocol error: invalid multibulk length"));
    assert!(c.is_closed());
}

#[test]
fn query_buffer_limit_closes_without_reply() {
    let s = Server::ferrokv(&["--client-query-buffer-limit", "1mb"]);
    let mut c = s.connect();
    let mut wire = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
    wire.extend(vec![b'x'; 2_000_000]);
    wire.extend(b"\r\n");
    // The server may close while we are still writing.
    let _ = c.stream().write_all(&wire);
    assert!(c.is_closed());
    let mut d = s.connect();
    assert_eq!(d.cmd(&["EXISTS", "k"]), Frame::Integer(0));
}

#[test]
fn big_values_round_trip() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    let v = vec![b'z'; 20 << 20];
    assert_eq!(c.cmd_bytes(&[b"SET", b"big", &v]), simple("OK"));
    assert_eq!(c.cmd_bytes(&[b"GET", b"big"]), Frame::Bulk(v.into()));
    assert_eq!(c.cmd(&["STRLEN", "big"]), Frame::Integer(20 << 20));
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let s = Server::ferrokv(&["--maxclients", "2"]);
    // The harness's readiness probe may hold a slot for a moment.
    let admitted = |s: &Server| {
        let mut c = s.connect();
        c.send_raw(&Conn::encode(&[b"PING"]));
        (c.try_read() == Some(simple("PONG"))).then_some(c)
    };
    let mut a = None;
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(5), || {
        a = admitted(&s);
        a.is_some()
    }));
    let mut b = None;
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(5), || {
        b = admitted(&s);
        b.is_some()
    }));
    let mut c = s.connect();
    assert_eq!(c.read(), err("ERR max number of clients reached"));
    assert!(c.is_closed());
    drop(a);
    // A freed slot is reusable once the server has noticed the close.
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(5), || {
        let mut d = s.connect();
        d.send_raw(&Conn::encode(&[b"PING"]));
        d.try_read() == Some(simple("PONG"))
    }));
}

#[test]
fn resp3_types_after_hello() {
    let s = Server::ferrokv(&["--enable-debug-command", "yes"]);
    let mut c = s.connect();
    let Frame::Map(hello) = c.cmd(&["HELLO", "3"]) else { panic!("HELLO 3 is a map") };
    assert_eq!(hello[2], (bulk("proto"), Frame::Integer(3)));
    assert_eq!(c.cmd(&["GET", "nokey"]), Frame::Null);
    #[allow(clippy::approx_constant)] // Redis's literal test value
    let double = Frame::Double(3.141);
    assert_eq!(c.cmd(&["DEBUG", "PROTOCOL", "double"]), double);
    assert_eq!(c.cmd(&["DEBUG", "PROTOCOL", "true"]), Frame::Boolean(true));
    assert!(matches!(c.cmd(&["DEBUG", "PROTOCOL", "set"]), Frame::Set(v) if v.len() == 3));
    assert!(matches!(c.cmd(&["DEBUG", "PROTOCOL", "push"]), Frame::Push(_)));
    assert_eq!(c.read(), bulk("Some real reply following the push reply"));
    assert!(matches!(c.cmd(&["CONFIG", "GET", "maxmemory"]), Frame::Map(_)));
    assert_eq!(c.cmd(&["HELLO", "4"]), err("NOPROTO unsupported protocol version"));
    let Frame::Array(_) = c.cmd(&["HELLO", "2"]) else { panic!("HELLO 2 is an array") };
    assert_eq!(c.cmd(&["GET", "nokey"]), Frame::NullBulk);
}

#[test]
fn random_bytes_never_crash_the_server() {
    let mut s = Server::ferrokv(&[]);
    let mut seed = 0x1234_5678_9abc_def0u64;
    for round in 0..200 {
        let mut c = s.connect();
        c.stream().set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let n = 1 + (round * 37) % 700;
        let junk: Vec<u8> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Bias towards protocol characters so parsing goes deep.
                b"*$\r\n0123456789-+:abc\"' "[(seed % 22) as usize] ^ if seed.is_multiple_of(97) { 0x80 } else { 0 }
            })
            .collect();
        let _ = c.stream().write_all(&junk);
    }
    assert!(s.is_running());
    assert_eq!(s.connect().cmd(&["PING"]), simple("PONG"));
}
