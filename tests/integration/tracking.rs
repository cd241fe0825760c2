//! CLIENT TRACKING (client-side caching): the same scenario runs against
//! ferrokv and redis-server and every reply and invalidation message is
//! compared, client ids replaced by names.

use std::time::Duration;

use ferrokv_resp::Frame;
use ferrokv_testkit::{wait_for, Conn, Kind, Server};

/// Replaces the connection ids in `f` by their names, so that both servers'
/// transcripts compare.
fn named(f: Frame, ids: &[(i64, &str)]) -> String {
    let text = format!("{f:?}");
    // Only replies that carry ids: integers elsewhere are data.
    let has_ids = text.contains("redirect") || text.contains("redir=") || text.contains("tracking-redir-broken");
    if !has_ids {
        return text;
    }
    ids.iter().fold(text, |t, (id, name)| {
        t.replace(&format!("Integer({id})"), &format!("<{name}>"))
            .replace(&format!("id={id} "), &format!("id=<{name}> "))
            .replace(&format!("redir={id} "), &format!("redir=<{name}> "))
    })
}

fn id_of(c: &mut Conn) -> i64 {
    match c.cmd(&["CLIENT", "ID"]) {
        Frame::Integer(i) => i,
        other => panic!("CLIENT ID replied {other:?}"),
    }
}

/// One INFO field.
fn info_field(c: &mut Conn, section: &str, name: &str) -> String {
    let (Frame::Bulk(b) | Frame::Verbatim(_, b)) = c.cmd(&["INFO", section]) else { panic!("INFO") };
    let text = String::from_utf8_lossy(&b).into_owned();
    let prefix = format!("{name}:");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("{name}")).to_string()
}

fn transcript(kind: Kind) -> Vec<String> {
    let s = match kind {
        Kind::Ferrokv => Server::ferrokv(&[]),
        Kind::Redis => Server::redis(&[]),
    };
    let (mut c, mut w, mut sub, mut c2, mut gone) = (s.connect(), s.connect(), s.connect(), s.connect(), s.connect());
    for conn in [&mut c, &mut w, &mut sub, &mut c2, &mut gone] {
        conn.stream().set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    let ids = [(id_of(&mut c), "c"), (id_of(&mut sub), "sub"), (id_of(&mut gone), "gone"), (id_of(&mut c2), "c2")];
    let mut log: Vec<String> = Vec::new();
    macro_rules! step {
        ($conn:expr, $($arg:expr),+) => {{
            let r = $conn.cmd(&[$($arg),+]);
            let mut args = format!("{:?}", [$($arg),+]);
            if args.contains("REDIRECT") {
                args = ids.iter().fold(args, |a, (id, name)| a.replace(&format!("\"{id}\""), &format!("<{name}>")));
            }
            log.push(format!("{args} -> {}", named(r, &ids)));
        }};
    }
    macro_rules! heard {
        ($conn:expr, $what:expr) => {{
            let r = $conn.read();
            log.push(format!("{} heard {}", $what, named(r, &ids)));
        }};
    }
    c.cmd(&["HELLO", "3"]);
    step!(c, "CLIENT", "GETREDIR");
    step!(c, "CLIENT", "TRACKING", "ON");
    step!(c, "CLIENT", "TRACKINGINFO");
    step!(c, "CLIENT", "GETREDIR");
    log.push(format!("tracking_clients {}", info_field(&mut w, "clients", "tracking_clients")));

    // Default mode: a read remembers the key; the first change invalidates
    // it once.
    step!(c, "SET", "k", "v");
    step!(c, "GET", "k");
    step!(c, "MGET", "k", "k2");
    log.push(format!(
        "keys {} items {}",
        info_field(&mut w, "stats", "tracking_total_keys"),
        info_field(&mut w, "stats", "tracking_total_items")
    ));
    step!(w, "SET", "k", "v2");
    heard!(c, "c");
    step!(w, "SET", "k", "v3");
    step!(w, "DEL", "k2");
    step!(c, "PING");
    // The client's own change: the reply first, then the invalidation.
    step!(c, "GET", "k");
    step!(c, "SET", "k", "mine");
    heard!(c, "c");
    // ...also after a whole transaction.
    step!(c, "GET", "k");
    step!(c, "MULTI");
    step!(c, "SET", "k", "1");
    step!(c, "INCR", "k");
    step!(c, "EXEC");
    heard!(c, "c");
    // NOLOOP: nothing about its own changes.
    step!(c, "CLIENT", "TRACKING", "ON", "NOLOOP");
    step!(c, "GET", "k");
    step!(c, "SET", "k", "quiet");
    step!(c, "PING");
    // Reads inside a script remember the keys the script declared.
    step!(c, "CLIENT", "TRACKING", "ON");
    step!(c, "EVAL", "return redis.call('GET', KEYS[1])", "1", "s1");
    step!(c, "EVAL", "return redis.call('GET', 's2')", "0");
    step!(w, "SET", "s2", "1");
    step!(w, "SET", "s1", "1");
    heard!(c, "c");
    // Replies off: the invalidation of its own write still comes.
    step!(c, "GET", "k");
    // CLIENT REPLY SKIP has no reply itself, nor has the SET.
    c.send_raw(&[Conn::encode(&[b"CLIENT", b"REPLY", b"SKIP"]), Conn::encode(&[b"SET", b"k", b"skipped"])].concat());
    heard!(c, "c");
    step!(c, "PING");
    // A push that serves a blocked client: one invalidation, after the
    // pusher's reply.
    let mut b = s.connect();
    step!(c, "LRANGE", "q", "0", "-1");
    b.send_raw(&Conn::encode(&[b"BLPOP", b"q", b"0"]));
    assert!(wait_for(Duration::from_secs(10), || info_field(&mut w, "clients", "blocked_clients") == "1"));
    step!(c, "RPUSH", "q", "a", "b");
    heard!(c, "c");
    log.push(format!("b heard {:?}", b.read()));
    step!(c, "PING");
    step!(c, "CLIENT", "TRACKING", "ON", "NOLOOP");
    // tracking-table-max-keys: before each command the table is cut back
    // to the limit, each key dropped being invalidated ahead of the reply
    // (which keys is random, how many is not).
    // (Without NOLOOP: the client running the command is the one told.)
    step!(c, "CLIENT", "TRACKING", "ON");
    log.push(format!("table before the limit {}", info_field(&mut w, "stats", "tracking_total_keys")));
    step!(w, "CONFIG", "SET", "tracking-table-max-keys", "2");
    let mut pushes = Vec::new();
    for args in [&["GET", "a1"][..], &["GET", "a2"], &["GET", "a3"], &["GET", "a4"], &["GET", "a5"], &["PING"]] {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        c.send_raw(&Conn::encode(&bytes));
        let mut n = 0;
        while let Frame::Push(_) = c.read() {
            n += 1;
        }
        pushes.push(n);
    }
    log.push(format!("invalidations before each reply {pushes:?}"));
    log.push(format!("table after the limit {}", info_field(&mut w, "stats", "tracking_total_keys")));
    step!(w, "CONFIG", "SET", "tracking-table-max-keys", "0");
    step!(c, "CLIENT", "TRACKING", "ON", "NOLOOP");
    // Expiry and a flush are changes too.
    step!(c, "SET", "e", "1", "PX", "50");
    step!(c, "GET", "e");
    assert!(wait_for(Duration::from_secs(10), || w.cmd(&["EXISTS", "e"]) == Frame::Integer(0)));
    heard!(c, "c");
    step!(w, "FLUSHALL");
    heard!(c, "c");

    // Option errors.
    step!(c, "CLIENT", "TRACKING", "ON", "BCAST");
    step!(c, "CLIENT", "TRACKING", "ON", "PREFIX", "a");
    step!(c, "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT");
    step!(c, "CLIENT", "TRACKING", "ON", "OPTIN");
    step!(c, "CLIENT", "TRACKING", "ON", "REDIRECT", "0");
    step!(c, "CLIENT", "TRACKING", "ON", "REDIRECT", "x");
    step!(c, "CLIENT", "TRACKING", "MAYBE");
    step!(c, "CLIENT", "TRACKING", "ON", "NOSUCH");
    step!(c, "CLIENT", "CACHING", "YES");
    step!(c, "CLIENT", "TRACKING", "OFF");
    step!(c, "CLIENT", "CACHING", "YES");

    // OPTIN: only reads after CLIENT CACHING YES are remembered.
    step!(c, "CLIENT", "TRACKING", "ON", "OPTIN");
    step!(c, "GET", "a");
    step!(w, "SET", "a", "1");
    step!(c, "CLIENT", "CACHING", "YES");
    step!(c, "CLIENT", "TRACKINGINFO");
    step!(c, "GET", "a");
    step!(c, "CLIENT", "TRACKINGINFO");
    step!(w, "SET", "a", "2");
    heard!(c, "c");
    step!(c, "CLIENT", "CACHING", "NO");
    step!(c, "CLIENT", "TRACKING", "OFF");

    // OPTOUT: every read but those after CLIENT CACHING NO.
    step!(c, "CLIENT", "TRACKING", "ON", "OPTOUT");
    step!(c, "CLIENT", "CACHING", "NO");
    step!(c, "GET", "b");
    step!(w, "SET", "b", "1");
    step!(c, "GET", "b");
    step!(w, "SET", "b", "2");
    heard!(c, "c");
    step!(c, "CLIENT", "TRACKING", "OFF");

    // BCAST: changes under the prefixes, batched per pass, sorted.
    step!(c, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "cart:");
    step!(c, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:1");
    step!(c, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "PREFIX", "xy");
    step!(c, "CLIENT", "TRACKINGINFO");
    log.push(format!("prefixes {}", info_field(&mut w, "stats", "tracking_total_prefixes")));
    w.send_raw(
        &[
            Conn::encode(&[b"SET", b"user:2", b"a"]),
            Conn::encode(&[b"SET", b"user:1", b"b"]),
            Conn::encode(&[b"SET", b"other", b"c"]),
        ]
        .concat(),
    );
    for _ in 0..3 {
        w.read();
    }
    heard!(c, "c");
    step!(w, "SET", "cart:9", "x");
    heard!(c, "c");
    let list = match c.cmd(&["CLIENT", "INFO"]) {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    log.push(
        list.split(' ').filter(|f| f.starts_with("flags=") || f.starts_with("redir=")).collect::<Vec<_>>().join(" "),
    );
    step!(c, "CLIENT", "TRACKING", "OFF");

    // RESP2: messages go to a subscribed connection named by REDIRECT.
    step!(sub, "SUBSCRIBE", "__redis__:invalidate");
    let sub_id = ids[1].0.to_string();
    step!(c2, "CLIENT", "TRACKING", "ON", "REDIRECT", &sub_id);
    step!(c2, "GET", "r");
    step!(w, "SET", "r", "1");
    heard!(sub, "sub");
    step!(w, "FLUSHDB");
    heard!(sub, "sub");
    let list = match c2.cmd(&["CLIENT", "LIST", "ID", &ids[3].0.to_string()]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    let fields = list.split(' ').filter(|f| f.starts_with("flags=") || f.starts_with("redir=")).collect::<Vec<_>>();
    log.push(named(Frame::Simple(format!("{} ", fields.join(" ")).into()), &ids));

    // A redirect target that went away: RESP3 clients are told.
    let gone_id = ids[2].0.to_string();
    step!(c, "CLIENT", "TRACKING", "ON", "REDIRECT", &gone_id);
    step!(c, "GET", "g");
    let before: u32 = info_field(&mut w, "clients", "connected_clients").parse().unwrap();
    drop(gone);
    let after = (before - 1).to_string();
    assert!(wait_for(Duration::from_secs(10), || info_field(&mut w, "clients", "connected_clients") == after));
    step!(w, "SET", "g", "1");
    heard!(c, "c");
    step!(c, "CLIENT", "TRACKINGINFO");
    step!(c, "RESET");
    log.push(format!("tracking_clients {}", info_field(&mut w, "clients", "tracking_clients")));
    // A tracking client that goes away stops counting.
    drop(c2);
    assert!(wait_for(Duration::from_secs(10), || info_field(&mut w, "clients", "tracking_clients") == "0"));
    log
}

#[test]
fn tracking_invalidates_like_redis() {
    let (ours, theirs) = (transcript(Kind::Ferrokv), transcript(Kind::Redis));
    for (i, (x, y)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(x, y, "step {i} differs\nferrokv: {ours:#?}\nredis: {theirs:#?}");
    }
    assert_eq!(ours.len(), theirs.len());
}
