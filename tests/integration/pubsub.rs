//! Pub/sub between real connections: channels, patterns, shard channels,
//! RESP2's subscribed mode and RESP3 pushes, delivery order, and the
//! output buffer limit that protects the server from a subscriber that
//! never reads.

use std::io::Write;
use std::time::{Duration, Instant};

use ferrokv_resp::Frame;
use ferrokv_testkit::{bulk, err, wait_for, Conn, Server};

fn arr(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

fn int(i: i64) -> Frame {
    Frame::Integer(i)
}

#[test]
fn channels_patterns_and_subscribed_mode() {
    let s = Server::ferrokv(&[]);
    let mut sub = s.connect();
    let mut publ = s.connect();
    sub.send_raw(&Conn::encode(&[b"SUBSCRIBE", b"news", b"sport"]));
    assert_eq!(sub.read(), arr(&[bulk("subscribe"), bulk("news"), int(1)]));
    assert_eq!(sub.read(), arr(&[bulk("subscribe"), bulk("sport"), int(2)]));
    sub.send_raw(&Conn::encode(&[b"PSUBSCRIBE", b"n?ws", b"w[a-c]*", b"x\\*"]));
    assert_eq!(sub.read(), arr(&[bulk("psubscribe"), bulk("n?ws"), int(3)]));
    assert_eq!(sub.read(), arr(&[bulk("psubscribe"), bulk("w[a-c]*"), int(4)]));
    assert_eq!(sub.read(), arr(&[bulk("psubscribe"), bulk("x\\*"), int(5)]));

    // The channel subscriber and the matching pattern both receive.
    assert_eq!(publ.cmd(&["PUBLISH", "news", "hello"]), int(2));
    assert_eq!(sub.read(), arr(&[bulk("message"), bulk("news"), bulk("hello")]));
    assert_eq!(sub.read(), arr(&[bulk("pmessage"), bulk("n?ws"), bulk("news"), bulk("hello")]));
    assert_eq!(publ.cmd(&["PUBLISH", "weather", "rain"]), int(0));
    assert_eq!(publ.cmd(&["PUBLISH", "wbc", "x"]), int(1));
    assert_eq!(sub.read(), arr(&[bulk("pmessage"), bulk("w[a-c]*"), bulk("wbc"), bulk("x")]));
    assert_eq!(publ.cmd(&["PUBLISH", "x*", "lit"]), int(1));
    assert_eq!(publ.cmd(&["PUBLISH", "xy", "no"]), int(0));
    assert_eq!(sub.read(), arr(&[bulk("pmessage"), bulk("x\\*"), bulk("x*"), bulk("lit")]));

    assert_eq!(publ.cmd(&["PUBSUB", "NUMPAT"]), int(3));
    assert_eq!(publ.cmd(&["PUBSUB", "NUMSUB", "news", "none"]), arr(&[bulk("news"), int(1), bulk("none"), int(0)]));
    let Frame::Array(mut chans) = publ.cmd(&["PUBSUB", "CHANNELS"]) else { panic!() };
    chans.sort_by_key(|f| f.as_bytes().map(<[u8]>::to_vec));
    assert_eq!(chans, vec![bulk("news"), bulk("sport")]);
    assert_eq!(publ.cmd(&["PUBSUB", "CHANNELS", "s*"]), arr(&[bulk("sport")]));
    let Frame::Bulk(info) = publ.cmd(&["INFO", "stats"]) else { panic!() };
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(info.contains("pubsub_channels:2\r\n") && info.contains("pubsub_patterns:3\r\n"), "{info}");
    let Frame::Bulk(list) = publ.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains("flags=P db=0 sub=2 psub=3 ssub=0"));

    // In RESP2 a subscriber may only (un)subscribe, PING, QUIT and RESET.
    assert_eq!(
        sub.cmd(&["GET", "k"]),
        err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(sub.cmd(&["PING"]), arr(&[bulk("pong"), bulk("")]));
    assert_eq!(sub.cmd(&["PING", "hi"]), arr(&[bulk("pong"), bulk("hi")]));

    sub.send_raw(&Conn::encode(&[b"UNSUBSCRIBE"]));
    // Both channels are left (in an order Redis does not define), with the
    // three patterns still counted.
    let mut left = [sub.read(), sub.read()];
    left.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(
        left,
        [arr(&[bulk("unsubscribe"), bulk("news"), int(4)]), arr(&[bulk("unsubscribe"), bulk("sport"), int(3)])]
    );
    sub.send_raw(&Conn::encode(&[b"PUNSUBSCRIBE", b"n?ws"]));
    assert_eq!(sub.read(), arr(&[bulk("punsubscribe"), bulk("n?ws"), int(2)]));
    sub.send_raw(&Conn::encode(&[b"PUNSUBSCRIBE"]));
    sub.read();
    assert_eq!(sub.read(), arr(&[bulk("punsubscribe"), bulk("x\\*"), int(0)]));
    // Unsubscribing from nothing still replies.
    assert_eq!(sub.cmd(&["UNSUBSCRIBE"]), arr(&[bulk("unsubscribe"), Frame::NullBulk, int(0)]));
    // Out of subscribed mode, any command runs again.
    assert_eq!(sub.cmd(&["GET", "k"]), Frame::NullBulk);
    assert_eq!(publ.cmd(&["PUBLISH", "news", "late"]), int(0));
}

#[test]
fn resp3_subscribers_get_pushes_and_run_any_command() {
    let s = Server::ferrokv(&[]);
    let mut sub = s.connect();
    let mut publ = s.connect();
    assert!(matches!(sub.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(sub.cmd(&["SUBSCRIBE", "ch"]), Frame::Push(vec![bulk("subscribe"), bulk("ch"), int(1)]));
    assert_eq!(sub.cmd(&["SET", "k", "v"]), Frame::Simple("OK".into()));
    assert_eq!(publ.cmd(&["PUBLISH", "ch", "m1"]), int(1));
    assert_eq!(sub.read(), Frame::Push(vec![bulk("message"), bulk("ch"), bulk("m1")]));
    // A connection publishing to itself sees the message before the reply.
    sub.send_raw(&Conn::encode(&[b"PUBLISH", b"ch", b"self"]));
    assert_eq!(sub.read(), Frame::Push(vec![bulk("message"), bulk("ch"), bulk("self")]));
    assert_eq!(sub.read(), int(1));
    // RESET leaves subscribed mode and the protocol.
    assert_eq!(sub.cmd(&["RESET"]), Frame::Simple("RESET".into()));
    assert_eq!(publ.cmd(&["PUBLISH", "ch", "gone"]), int(0));
}

#[test]
fn shard_channels_are_their_own_namespace() {
    let s = Server::ferrokv(&[]);
    let mut sub = s.connect();
    let mut publ = s.connect();
    sub.send_raw(&Conn::encode(&[b"SSUBSCRIBE", b"{user1}:inbox"]));
    assert_eq!(sub.read(), arr(&[bulk("ssubscribe"), bulk("{user1}:inbox"), int(1)]));
    sub.send_raw(&Conn::encode(&[b"PSUBSCRIBE", b"*"]));
    assert_eq!(sub.read(), arr(&[bulk("psubscribe"), bulk("*"), int(1)]));
    // SPUBLISH reaches shard subscribers only; patterns never see it.
    assert_eq!(publ.cmd(&["SPUBLISH", "{user1}:inbox", "hi"]), int(1));
    assert_eq!(sub.read(), arr(&[bulk("smessage"), bulk("{user1}:inbox"), bulk("hi")]));
    assert_eq!(publ.cmd(&["PUBSUB", "SHARDCHANNELS"]), arr(&[bulk("{user1}:inbox")]));
    assert_eq!(publ.cmd(&["PUBSUB", "SHARDNUMSUB", "{user1}:inbox"]), arr(&[bulk("{user1}:inbox"), int(1)]));
    assert_eq!(publ.cmd(&["PUBSUB", "CHANNELS"]), arr(&[]));
    // PUBLISH on the same name reaches the pattern, not the shard subscriber.
    assert_eq!(publ.cmd(&["PUBLISH", "{user1}:inbox", "x"]), int(1));
    assert_eq!(sub.read(), arr(&[bulk("pmessage"), bulk("*"), bulk("{user1}:inbox"), bulk("x")]));
    sub.send_raw(&Conn::encode(&[b"SUNSUBSCRIBE"]));
    assert_eq!(sub.read(), arr(&[bulk("sunsubscribe"), bulk("{user1}:inbox"), int(0)]));
    // SSUBSCRIBE is refused inside MULTI/EXEC, SUBSCRIBE is not.
    let mut c = s.connect();
    c.cmd(&["MULTI"]);
    c.cmd(&["SSUBSCRIBE", "a"]);
    c.cmd(&["SUBSCRIBE", "b"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        arr(&[
            err("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"),
            arr(&[bulk("subscribe"), bulk("b"), int(1)])
        ])
    );
}

#[test]
fn messages_arrive_in_publish_order() {
    let s = Server::ferrokv(&[]);
    let mut sub = s.connect();
    sub.send_raw(&Conn::encode(&[b"SUBSCRIBE", b"seq"]));
    sub.read();
    let url = s.url();
    let publisher = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        for i in 0..5000 {
            let n: i64 = redis::cmd("PUBLISH").arg("seq").arg(i).query(&mut c).unwrap();
            assert_eq!(n, 1);
        }
    });
    for i in 0..5000 {
        assert_eq!(sub.read(), arr(&[bulk("message"), bulk("seq"), bulk(&i.to_string())]));
    }
    publisher.join().unwrap();
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_not_buffered() {
    let s = Server::ferrokv(&[]);
    let mut sub = s.connect();
    sub.send_raw(&Conn::encode(&[b"SUBSCRIBE", b"firehose"]));
    sub.read();
    // From here on the subscriber reads nothing. The publisher sends 1 GiB
    // of messages in pipelined batches.
    let mut publ = s.connect();
    let msg = vec![b'x'; 64 * 1024];
    let batch = 64;
    let mut req = Vec::new();
    for _ in 0..batch {
        req.extend_from_slice(&Conn::encode(&[b"PUBLISH", b"firehose", &msg]));
    }
    let mut delivered = 0u64;
    let started = Instant::now();
    for _ in 0..(1 << 30) / (msg.len() * batch) {
        publ.stream().write_all(&req).unwrap();
        for _ in 0..batch {
            let Frame::Integer(n) = publ.read() else { panic!("PUBLISH reply") };
            delivered += n as u64;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "publishing took too long");
    }
    // The subscriber was cut off once its buffer passed the pubsub class's
    // 32 MB hard limit: far fewer than the 16384 messages reached it.
    assert!(delivered < 2048, "{delivered} messages were buffered for a reader that never reads");
    assert_eq!(publ.cmd(&["PUBSUB", "NUMSUB", "firehose"]), arr(&[bulk("firehose"), int(0)]));
    let used = || {
        let Frame::Bulk(info) = s.connect().cmd(&["INFO", "memory"]) else { panic!() };
        let info = String::from_utf8_lossy(&info).into_owned();
        info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().trim().parse::<u64>().unwrap()
    };
    assert!(wait_for(Duration::from_secs(10), || used() < 64 << 20), "server memory stayed at {}", used());
    // What the kernel had buffered is readable, then the connection ends.
    let mut frames = 0;
    while sub.try_read().is_some() {
        frames += 1;
        assert!(frames < 4096, "the subscriber's connection was not closed");
    }
}
