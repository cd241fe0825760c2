//! Commands through the `redis` crate, as an application would use them.

use std::collections::HashSet;

use ferrokv_testkit::Server;
use redis::Commands;

fn client(s: &Server) -> redis::Connection {
    redis::Client::open(s.url()).expect("client").get_connection().expect("connection")
}

#[test]
fn strings_counters_and_expiry() {
    let s = Server::ferrokv(&[]);
    let mut c = client(&s);
    let _: () = c.set("greeting", "hello").unwrap();
    let v: String = c.get("greeting").unwrap();
    assert_eq!(v, "hello");
    let n: i64 = c.incr("n", 5).unwrap();
    assert_eq!(n, 5);
    let f: f64 = redis::cmd("INCRBYFLOAT").arg("n").arg("0.5").query(&mut c).unwrap();
    assert_eq!(f, 5.5);
    let _: () = c.set_ex("tmp", "x", 100).unwrap();
    let ttl: i64 = c.ttl("tmp").unwrap();
    assert!((99..=100).contains(&ttl));
    let _: () = c.mset(&[("a", "1"), ("b", "2")]).unwrap();
    let got: Vec<Option<String>> = c.mget(&["a", "b", "none"]).unwrap();
    assert_eq!(got, vec![Some("1".into()), Some("2".into()), None]);
    let e: redis::RedisResult<i64> = c.incr("greeting", 1);
    assert_eq!(e.unwrap_err().detail(), Some("value is not an integer or out of range"));
}

#[test]
fn pipelines_and_transactions_of_plain_commands() {
    let s = Server::ferrokv(&[]);
    let mut c = client(&s);
    let mut p = redis::pipe();
    for i in 0..100 {
        p.cmd("SET").arg(format!("p{i}")).arg(i).ignore();
    }
    p.cmd("DBSIZE");
    let (n,): (i64,) = p.query(&mut c).unwrap();
    assert_eq!(n, 100);
}

#[test]
fn scan_returns_every_key_present_throughout_despite_churn() {
    let s = Server::ferrokv(&[]);
    let mut c = client(&s);
    let mut w = client(&s);
    let stable: HashSet<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    let mut p = redis::pipe();
    for k in &stable {
        p.cmd("SET").arg(k).arg("v").ignore();
    }
    p.query::<()>(&mut c).unwrap();
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut round = 0;
    loop {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(50).query(&mut c).unwrap();
        seen.extend(keys);
        // Another client grows and shrinks the keyspace between calls.
        let mut p = redis::pipe();
        for i in 0..200 {
            if round % 2 == 0 {
                p.cmd("SET").arg(format!("churn:{round}:{i}")).arg("x").ignore();
            } else {
                p.cmd("DEL").arg(format!("churn:{}:{i}", round - 1)).ignore();
            }
        }
        p.query::<()>(&mut w).unwrap();
        round += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    let missing: Vec<_> = stable.difference(&seen).collect();
    assert!(missing.is_empty(), "SCAN missed {} keys", missing.len());
}

#[test]
fn scan_match_count_type() {
    let s = Server::ferrokv(&[]);
    let mut c = client(&s);
    for i in 0..50 {
        let _: () = c.set(format!("user:{i}"), i).unwrap();
        let _: () = c.set(format!("item:{i}"), i).unwrap();
    }
    let keys: HashSet<String> = c.scan_match("user:*").unwrap().collect();
    assert_eq!(keys.len(), 50);
    let (_, none): (u64, Vec<String>) =
        redis::cmd("SCAN").arg(0).arg("TYPE").arg("list").arg("COUNT").arg(1000).query(&mut c).unwrap();
    assert!(none.is_empty());
    let e = redis::cmd("SCAN").arg("x").query::<()>(&mut c).unwrap_err();
    assert_eq!(e.detail(), Some("invalid cursor"));
}

#[test]
fn databases_select_swap_move_copy() {
    let s = Server::ferrokv(&[]);
    let mut c = client(&s);
    let _: () = c.set("k", "db0").unwrap();
    let moved: i64 = redis::cmd("MOVE").arg("k").arg(3).query(&mut c).unwrap();
    assert_eq!(moved, 1);
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let v: String = c.get("k").unwrap();
    assert_eq!(v, "db0");
    let _: () = redis::cmd("SWAPDB").arg(3).arg(0).query(&mut c).unwrap();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 0);
    let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
    let copied: i64 = redis::cmd("COPY").arg("k").arg("k").arg("DB").arg(5).query(&mut c).unwrap();
    assert_eq!(copied, 1);
    let e = redis::cmd("SELECT").arg(16).query::<()>(&mut c).unwrap_err();
    assert_eq!(e.detail(), Some("DB index is out of range"));
}
