//! MULTI/EXEC/WATCH across connections: what one connection's transaction
//! sees of another's writes, expiry and flushes, atomicity under
//! concurrent clients, and optimistic check-and-set without lost updates.

use std::time::{Duration, Instant};

use ferrokv_resp::Frame;
use ferrokv_testkit::{bulk, err, simple, Server};

fn ok() -> Frame {
    simple("OK")
}

fn queued() -> Frame {
    simple("QUEUED")
}

#[test]
fn queueing_errors_and_runtime_errors() {
    let s = Server::ferrokv(&[]);
    let mut c = s.connect();
    assert_eq!(c.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(c.cmd(&["DISCARD"]), err("ERR DISCARD without MULTI"));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), err("ERR MULTI calls can not be nested"));
    assert_eq!(c.cmd(&["WATCH", "k"]), err("ERR WATCH inside MULTI is not allowed"));
    assert_eq!(c.cmd(&["SET", "k", "v"]), queued());
    assert_eq!(c.cmd(&["LPUSH", "k", "x"]), queued());
    assert_eq!(c.cmd(&["GET", "k"]), queued());
    // A runtime error takes its slot; the other commands still run.
    assert_eq!(
        c.cmd(&["EXEC"]),
        Frame::Array(vec![ok(), err("WRONGTYPE Operation against a key holding the wrong kind of value"), bulk("v")])
    );
    // A command refused while queueing dooms the whole transaction.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "w"]), queued());
    assert_eq!(c.cmd(&["SET", "k"]), err("ERR wrong number of arguments for 'set' command"));
    assert_eq!(c.cmd(&["NOSUCH"]), err("ERR unknown command 'NOSUCH', with args beginning with: "));
    assert_eq!(c.cmd(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    // DISCARD drops the queue.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "discarded"]), queued());
    assert_eq!(c.cmd(&["DISCARD"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    // Commands that may not run in a transaction are refused.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    let r = c.cmd(&["SHUTDOWN"]);
    assert_eq!(r, err("ERR Command not allowed inside a transaction"));
    assert_eq!(c.cmd(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    // CLIENT LIST shows the transaction.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    let mut other = s.connect();
    let Frame::Bulk(list) = other.cmd(&["CLIENT", "LIST"]) else { panic!() };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(list.lines().any(|l| l.contains("flags=x ") && l.contains(" multi=1 ")), "{list}");
    assert_eq!(c.cmd(&["EXEC"]), Frame::Array(vec![simple("PONG")]));
}

#[test]
fn watch_sees_other_clients_writes_flushes_swaps_and_expiry() {
    let s = Server::ferrokv(&["--enable-debug-command", "yes"]);
    let mut a = s.connect();
    let mut b = s.connect();
    let run = |a: &mut ferrokv_testkit::Conn| {
        assert_eq!(a.cmd(&["MULTI"]), ok());
        assert_eq!(a.cmd(&["INCR", "n"]), queued());
        a.cmd(&["EXEC"])
    };
    // Untouched: the transaction runs.
    assert_eq!(a.cmd(&["WATCH", "k"]), ok());
    assert_eq!(run(&mut a), Frame::Array(vec![Frame::Integer(1)]));
    // Written by another client: it fails with a null array.
    assert_eq!(a.cmd(&["WATCH", "k"]), ok());
    assert_eq!(b.cmd(&["SET", "k", "1"]), ok());
    let Frame::Bulk(list) = b.cmd(&["CLIENT", "LIST"]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).lines().any(|l| l.contains("flags=d ")));
    assert_eq!(run(&mut a), Frame::NullArray);
    // A write that changes nothing (SET NX on an existing key) is no touch.
    assert_eq!(a.cmd(&["WATCH", "k"]), ok());
    assert_eq!(b.cmd(&["SET", "k", "2", "NX"]), Frame::NullBulk);
    assert_eq!(run(&mut a), Frame::Array(vec![Frame::Integer(2)]));
    // Deleting a different key, or a missing watched one, is no touch.
    assert_eq!(a.cmd(&["WATCH", "k", "missing"]), ok());
    assert_eq!(b.cmd(&["DEL", "other", "missing"]), Frame::Integer(0));
    assert_eq!(run(&mut a), Frame::Array(vec![Frame::Integer(3)]));
    // RENAME touches both names.
    assert_eq!(a.cmd(&["WATCH", "dst"]), ok());
    assert_eq!(b.cmd(&["RENAME", "k", "dst"]), ok());
    assert_eq!(run(&mut a), Frame::NullArray);
    // FLUSHDB touches watched keys that existed, FLUSHALL too.
    assert_eq!(a.cmd(&["WATCH", "dst"]), ok());
    assert_eq!(b.cmd(&["FLUSHDB"]), ok());
    assert_eq!(run(&mut a), Frame::NullArray);
    assert_eq!(a.cmd(&["WATCH", "nothing-here"]), ok());
    assert_eq!(b.cmd(&["FLUSHALL"]), ok());
    assert_eq!(run(&mut a), Frame::Array(vec![Frame::Integer(1)]));
    // SWAPDB brings a different value under a watched name.
    assert_eq!(b.cmd(&["SELECT", "1"]), ok());
    assert_eq!(b.cmd(&["SET", "k", "in-db-1"]), ok());
    assert_eq!(a.cmd(&["WATCH", "k"]), ok());
    assert_eq!(b.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(run(&mut a), Frame::NullArray);
    // MOVE into the watched database.
    assert_eq!(b.cmd(&["SELECT", "0"]), ok());
    assert_eq!(b.cmd(&["SET", "m", "x"]), ok());
    assert_eq!(a.cmd(&["SELECT", "1"]), ok());
    assert_eq!(a.cmd(&["WATCH", "m"]), ok());
    assert_eq!(b.cmd(&["MOVE", "m", "1"]), Frame::Integer(1));
    assert_eq!(run(&mut a), Frame::NullArray);
    assert_eq!(a.cmd(&["SELECT", "0"]), ok());
    // A watched key that expires before EXEC fails it, even if nobody
    // reads it in between.
    assert_eq!(b.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(b.cmd(&["SET", "e", "v", "PX", "50"]), ok());
    assert_eq!(a.cmd(&["WATCH", "e"]), ok());
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.cmd(&["PTTL", "e"]) != Frame::Integer(-2) {
        assert!(Instant::now() < deadline, "key did not expire");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(run(&mut a), Frame::NullArray);
    // A key already expired when watched is no change when it is reclaimed.
    assert_eq!(b.cmd(&["SET", "e", "v", "PX", "1"]), ok());
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(a.cmd(&["WATCH", "e"]), ok());
    assert_eq!(b.cmd(&["GET", "e"]), Frame::NullBulk);
    // (SWAPDB took the old counter to database 1.)
    assert_eq!(run(&mut a), Frame::Array(vec![Frame::Integer(1)]));
    // ... but writing it after its deletion is a change.
    assert_eq!(b.cmd(&["SET", "e2", "v", "PX", "1"]), ok());
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(a.cmd(&["WATCH", "e2"]), ok());
    assert_eq!(b.cmd(&["SET", "e2", "new"]), ok());
    assert_eq!(run(&mut a), Frame::NullArray);
    // UNWATCH forgets.
    assert_eq!(a.cmd(&["WATCH", "n"]), ok());
    assert_eq!(b.cmd(&["SET", "n", "10"]), ok());
    assert_eq!(a.cmd(&["UNWATCH"]), ok());
    assert_eq!(run(&mut a), Frame::Array(vec![Frame::Integer(11)]));
    // A blocked BLMOVE served by another client's push modifies its
    // destination.
    let mut blocked = s.connect();
    blocked.send_raw(&ferrokv_testkit::Conn::encode(&[b"BLMOVE", b"src", b"dst", b"LEFT", b"LEFT", b"10"]));
    assert!(ferrokv_testkit::wait_for(Duration::from_secs(5), || {
        let Frame::Bulk(info) = b.cmd(&["INFO", "clients"]) else { return false };
        String::from_utf8_lossy(&info).contains("blocked_clients:1")
    }));
    assert_eq!(a.cmd(&["WATCH", "dst"]), ok());
    assert_eq!(b.cmd(&["RPUSH", "src", "x"]), Frame::Integer(1));
    assert_eq!(blocked.read(), bulk("x"));
    assert_eq!(run(&mut a), Frame::NullArray);
}

#[test]
fn exec_is_atomic_and_wakes_blocked_clients_only_after_it() {
    let s = Server::ferrokv(&[]);
    let mut blocked = s.connect();
    blocked.send_raw(&ferrokv_testkit::Conn::encode(&[b"BLPOP", b"q", b"10"]));
    let mut c = s.connect();
    ferrokv_testkit::wait_for(Duration::from_secs(5), || {
        let Frame::Bulk(info) = c.cmd(&["INFO", "clients"]) else { return false };
        String::from_utf8_lossy(&info).contains("blocked_clients:1")
    });
    // Inside the transaction the element is pushed and popped again: the
    // blocked client must not see it, as the transaction is one step.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "q", "a", "b"]), queued());
    assert_eq!(c.cmd(&["LPOP", "q"]), queued());
    // A blocking command inside MULTI behaves like its non-blocking form.
    assert_eq!(c.cmd(&["BLPOP", "empty", "0"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Frame::Array(vec![Frame::Integer(2), bulk("a"), Frame::NullArray]));
    assert_eq!(blocked.read(), Frame::Array(vec![bulk("q"), bulk("b")]));
}

#[test]
fn optimistic_increments_lose_no_update_under_contention() {
    let s = Server::ferrokv(&[]);
    let url = s.url();
    let threads = 6;
    let per_thread = 150;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let mut retries = 0u64;
                for _ in 0..per_thread {
                    loop {
                        let _: () = redis::cmd("WATCH").arg("counter").query(&mut c).unwrap();
                        let v: Option<i64> = redis::cmd("GET").arg("counter").query(&mut c).unwrap();
                        let r: Option<(String,)> =
                            redis::pipe().atomic().set("counter", v.unwrap_or(0) + 1).query(&mut c).unwrap();
                        if r.is_some() {
                            break;
                        }
                        retries += 1;
                    }
                }
                retries
            })
        })
        .collect();
    let retries: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let mut c = s.connect();
    assert_eq!(c.cmd(&["GET", "counter"]), bulk(&(threads * per_thread).to_string()));
    eprintln!("{retries} retries");
}
