//! LFU access counting: with lfu-log-factor 0 every access increments a
//! key's counter and with lfu-decay-time 0 nothing decays, so OBJECT FREQ
//! counts exactly how many times each command looked a key up, created it
//! or replaced it. Generated sequences of string, key and collection
//! commands and transactions run on both servers and every key's
//! frequency is compared after each command.

use std::sync::{Mutex, OnceLock};

use ferrokv_resp::Frame;
use ferrokv_testkit::{Conn, Server};
use proptest::prelude::*;

struct Pair {
    _fk: Server,
    _redis: Server,
    fk: Conn,
    redis: Conn,
}

/// maxmemory is set (far above use) so that Redis does not share small
/// integer objects, whose counter would be shared by every key holding one.
const LFU: &[&str] = &[
    "--enable-debug-command",
    "yes",
    "--maxmemory",
    "1gb",
    "--maxmemory-policy",
    "allkeys-lfu",
    "--lfu-log-factor",
    "0",
    "--lfu-decay-time",
    "0",
];

fn pair() -> &'static Mutex<Pair> {
    static PAIR: OnceLock<Mutex<Pair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let fk_srv = Server::ferrokv(LFU);
        let redis_srv = Server::redis(LFU);
        let mut fk = fk_srv.connect();
        let mut redis = redis_srv.connect();
        for c in [&mut fk, &mut redis] {
            let mut set = vec!["CONFIG", "SET"];
            set.extend(crate::collections::SHARED_CONFIG);
            assert_eq!(c.cmd(&set), Frame::Simple("OK".into()));
        }
        Mutex::new(Pair { _fk: fk_srv, _redis: redis_srv, fk, redis })
    })
}

/// Every key the two generators use.
const KEYS: &[&str] =
    &["k1", "k2", "k3", "{t}a", "{t}b", "l1", "l2", "s1", "s2", "h1", "h2", "z1", "z2", "zl1", "zl2", "{t}x"];

/// OBJECT FREQ of every key, in database 1 and 0, pipelined; the
/// connection's database is left as it was.
fn frequencies(c: &mut Conn) -> Vec<Frame> {
    let info = match c.cmd(&["CLIENT", "INFO"]) {
        Frame::Bulk(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("CLIENT INFO replied {other:?}"),
    };
    let db = info.split(' ').find_map(|f| f.strip_prefix("db=")).expect("db= in CLIENT INFO").to_string();
    let mut batch = Conn::encode(&[b"SELECT", b"1"]);
    for k in KEYS {
        batch.extend(Conn::encode(&[b"OBJECT", b"FREQ", k.as_bytes()]));
    }
    batch.extend(Conn::encode(&[b"SELECT", b"0"]));
    for k in KEYS {
        batch.extend(Conn::encode(&[b"OBJECT", b"FREQ", k.as_bytes()]));
    }
    batch.extend(Conn::encode(&[b"SELECT", db.as_bytes()]));
    c.send_raw(&batch);
    let mut got: Vec<Frame> = (0..2 * KEYS.len() + 3).map(|_| c.read()).collect();
    got.pop();
    got
}

fn run_case(p: &mut Pair, cmds: &[Vec<String>]) -> Result<(), TestCaseError> {
    for conn in [&mut p.fk, &mut p.redis] {
        conn.cmd(&["DISCARD"]);
        conn.cmd(&["FLUSHALL"]);
        conn.cmd(&["SELECT", "0"]);
    }
    let mut in_multi = false;
    for (i, c) in cmds.iter().enumerate() {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        p.fk.cmd(&args);
        p.redis.cmd(&args);
        match c[0].to_ascii_uppercase().as_str() {
            "MULTI" => in_multi = true,
            "EXEC" | "DISCARD" => in_multi = false,
            _ => {}
        }
        // Inside a transaction the checks would only be queued.
        if in_multi {
            continue;
        }
        let (a, b) = (frequencies(&mut p.fk), frequencies(&mut p.redis));
        for (j, (x, y)) in a.iter().zip(&b).enumerate() {
            // Replies: SELECT 1, the keys of db 1, SELECT 0, the keys of db 0.
            let (db, k) = match j {
                0 => (1, None),
                j if j <= KEYS.len() => (1, Some(j - 1)),
                j if j == KEYS.len() + 1 => (0, None),
                j => (0, Some(j - KEYS.len() - 2)),
            };
            let name = k.map_or("(SELECT)", |k| KEYS[k]);
            prop_assert_eq!(
                x,
                y,
                "after command #{} {:?}: OBJECT FREQ of {} in db {} (ferrokv first); sequence {:?}",
                i,
                c,
                name,
                db,
                cmds
            );
        }
    }
    for conn in [&mut p.fk, &mut p.redis] {
        conn.cmd(&["DISCARD"]);
        conn.cmd(&["UNWATCH"]);
    }
    Ok(())
}

/// Commands and transactions. Not scripts: Redis reuses the objects of a
/// script's arguments from call to call, and a key created from one
/// inherits whatever access counter that object last carried.
fn cmd() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        4 => crate::strings_keys::cmd(),
        4 => crate::collections::cmd(),
        1 => crate::transactions::tx_cmd(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::strings_keys::cases() / 2,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn lfu_counts_accesses_like_redis(cmds in prop::collection::vec(cmd(), 1..40)) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, &cmds)?;
    }
}
