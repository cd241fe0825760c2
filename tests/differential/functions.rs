//! Redis 7 functions on both servers: FUNCTION LOAD's checks and error
//! texts, FCALL/FCALL_RO with flags, LIST/STATS/DELETE/FLUSH, DUMP payloads
//! restored across the two servers, and generated commands run through a
//! library's functions.

use ferrokv_resp::Frame;
use proptest::prelude::*;

use crate::strings_keys::{cases, pair, run_case};

/// A library that runs its arguments as a command (and a pcall twin).
const PROXY: &str = "#!lua name=proxy\n\
    redis.register_function('fwd', function(keys, args) return redis.call(unpack(args)) end)\n\
    redis.register_function('pfwd', function(keys, args) return redis.pcall(unpack(args)) end)\n\
    redis.register_function{function_name='rofwd', callback=function(keys, args) return redis.pcall(unpack(args)) end, flags={'no-writes'}}";

/// FUNCTION LOAD inputs: valid libraries and every kind of refusal.
const LIBRARIES: &[&str] = &[
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys[1], args[1]} end)\n\
     redis.register_function{function_name='f2', callback=function(k, a) return redis.call('set', k[1], a[1]) end, flags={'allow-oom'}, description='desc two'}",
    "#!lua name=lib2\nredis.register_function('F1', function() end)",
    "#!lua name=lib1\nredis.register_function('g', function() end)",
    "#!lua name=lib3\nredis.register_function('bad name', function() end)",
    "#!lua name=lib3\nredis.register_function()",
    "#!lua name=lib3\nredis.register_function('a', 'b')",
    "#!lua name=lib3\nredis.register_function(1)",
    "#!lua name=lib3\nlocal x = string.len('a')",
    "#!lua name=lib3\nredis.call('set','a','b')",
    "#!lua name=lib3\nerror('boom')",
    "#!lua name=lib3\nfoo = 1",
    "#!lua name=lib3\nreturn 1",
    // Top-level code past the 500 ms load timeout.
    "#!lua name=lib3\nlocal i = 0 while true do i = i + 1 end",
    "#!lua name=lib3\nlocal x = = 1",
    "#!lua name=lib3 foo=bar\nreturn 1",
    "#!js name=lib3\nreturn 1",
    "return 1",
    "#!lua name=lib3",
    "#!lua\nreturn 1",
    "#!lua name=lib-3\nreturn 1",
    "#!lua name=\"lib3\nreturn 1",
    "#!LUA name=lib3 name=x\nreturn 1",
    "#!lua name=lib3\nredis.register_function{function_name='fy', callback=function() return 1 end, flags={'bogus'}}",
    "#!lua name=lib3\nredis.register_function{function_name='fy', callback=function() return 1 end, flags='no-writes'}",
    "#!lua name=lib3\nredis.register_function{function_name='fy', callback=function() return 1 end, foo=1}",
    "#!lua name=lib3\nredis.register_function{callback=function() return 1 end}",
    "#!lua name=lib3\nredis.register_function{function_name='fy'}",
    "#!lua name=lib3\nredis.register_function{function_name='fy', callback=1}",
    "#!lua name=lib3\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)",
    "#!LUA NAME=lib4\nredis.log(redis.LOG_WARNING, 'loading lib4')\n\
     local function boom(k, a)\n  return redis.call('incr', k[1])\nend\n\
     redis.register_function('boom', boom)\n\
     redis.register_function{function_name='ro', callback=function(k, a) return redis.call('set','x','y') end, flags={'no-writes'}}\n\
     redis.register_function('usekeys', function() return KEYS end)\n\
     redis.register_function('err', function() error('bad') end)\n\
     redis.register_function('gw', function() x = 1 end)\n\
     redis.register_function('tab', function() return redis.error_reply('MY oops') end)\n\
     redis.register_function('ver', function() return {redis.REDIS_VERSION_NUM > 0, type(redis.setresp)} end)\n\
     redis.register_function('reg', function() return redis.register_function('z', function() end) end)",
    // redis.call kept from one FCALL to the next; what only EVAL has.
    "#!lua name=lib5\nlocal saved, resp, repl\n\
     redis.register_function('keep', function() saved = saved or redis.call return saved('incr', 'kept') end)\n\
     redis.register_function('keep3', function() resp = resp or redis.setresp repl = repl or redis.set_repl \
     resp(3) repl(redis.REPL_ALL) return saved('hgetall', 'nokey') end)\n\
     redis.register_function('has', function(k, a) return {type(redis.breakpoint), type(redis.debug), \
     type(redis.replicate_commands), type(redis.acl_check_cmd)} end)\n\
     redis.register_function('acl', function(k, a) return redis.acl_check_cmd(unpack(a)) end)",
    "#!lua name=lib6\nreturn redis.acl_check_cmd('get')",
];

/// Commands after the libraries: calls, listings, deletion, flags.
const STEPS: &[&[&str]] = &[
    &["FCALL", "f1", "1", "k", "a"],
    &["FCALL", "F1", "1", "k", "a"],
    &["FCALL", "f2", "1", "k", "v"],
    &["FCALL_RO", "f2", "1", "k", "v"],
    &["FCALL", "nope", "0"],
    &["FCALL", "f1", "x"],
    &["FCALL", "f1", "5", "a"],
    &["FCALL", "f1", "-1"],
    &["SET", "str", "abc"],
    &["FCALL", "boom", "1", "str"],
    &["FCALL", "boom", "1", "counter"],
    &["FCALL", "ro", "0"],
    &["FCALL_RO", "ro", "0"],
    &["FCALL", "usekeys", "0"],
    &["FCALL", "err", "0"],
    &["FCALL", "gw", "0"],
    &["FCALL", "tab", "0"],
    &["FCALL", "ver", "0"],
    &["FCALL", "reg", "0"],
    &["FCALL", "keep", "0"],
    &["FCALL", "keep", "0"],
    &["FCALL", "keep3", "0"],
    &["FCALL", "keep3", "0"],
    &["FCALL", "has", "0"],
    &["FCALL", "acl", "0", "set"],
    &["FCALL", "acl", "0", "client", "nosuch"],
    &["FUNCTION", "LIST", "LIBRARYNAME", "lib1", "WITHCODE"],
    &["FUNCTION", "LIST", "LIBRARYNAME", "LIB*"],
    &["FUNCTION", "LIST", "LIBRARYNAME"],
    &["FUNCTION", "LIST", "foo"],
    &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
    &["FUNCTION", "STATS"],
    &["FUNCTION", "KILL"],
    &["FUNCTION", "DELETE", "nope"],
    &["FUNCTION", "DELETE", "lib4"],
    &["FCALL", "boom", "1", "counter"],
    &["FUNCTION", "LOAD", "x", "y"],
    &["FUNCTION", "LOAD", "REPLACE"],
    &["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib1\nredis.register_function('f9', function() return 9 end)"],
    &["FCALL", "f9", "0"],
    &["FCALL", "f1", "0"],
    &["FUNCTION", "FLUSH", "x"],
    &["FUNCTION", "FLUSH", "a", "b"],
    &["FUNCTION", "RESTORE", "bad"],
    &["FUNCTION", "RESTORE", "x", "y"],
    &["FUNCTION", "RESTORE", "a", "b", "c"],
    &["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", "0"],
    &["EVAL", "#!lua\nreturn redis.call('set','a','b')", "0"],
    &["EVAL_RO", "#!lua\nreturn 1", "0"],
    &["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','a')", "0"],
    &["EVAL", "#!lua flags=bad\nreturn 1", "0"],
    &["EVAL", "#!lua flags=\nreturn 1", "0"],
    &["EVAL", "#!lua x=y\nreturn 1", "0"],
    &["EVAL", "#!py\nreturn 1", "0"],
    &["EVAL", "#!lua", "0"],
    &["EVAL", "#!lua flags=no-writes,allow-oom\nreturn 1", "0"],
    &["EVAL", "#!lua\nreturn KEYS[1]", "1", "kk"],
    &["EVAL", "#!lua\nerror('line two')", "0"],
    &["SCRIPT", "LOAD", "#!lua flags=x\nreturn 1"],
    &["FUNCTION", "FLUSH", "SYNC"],
    &["FUNCTION", "STATS"],
];

/// FUNCTION LIST with libraries and functions in name order (Redis lists
/// them in hash-table order).
fn sorted(f: &Frame) -> Frame {
    match f {
        Frame::Array(items) | Frame::Set(items) => {
            let mut items: Vec<Frame> = items.iter().map(sorted).collect();
            items.sort_by_key(|x| format!("{x:?}"));
            Frame::Array(items)
        }
        Frame::Map(pairs) => {
            let mut pairs: Vec<(Frame, Frame)> = pairs.iter().map(|(k, v)| (sorted(k), sorted(v))).collect();
            pairs.sort_by_key(|(k, _)| format!("{k:?}"));
            Frame::Map(pairs)
        }
        other => other.clone(),
    }
}

#[test]
fn function_cases_match_redis() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let mut diffs = Vec::new();
    for proto in ["2", "3"] {
        for c in [&mut p.fk, &mut p.redis] {
            c.cmd(&["DISCARD"]);
            c.cmd(&["FLUSHALL"]);
            c.cmd(&["FUNCTION", "FLUSH"]);
            c.cmd(&["SELECT", "0"]);
            c.cmd(&["HELLO", proto]);
        }
        let steps = LIBRARIES.iter().map(|l| vec!["FUNCTION", "LOAD", l]).chain(STEPS.iter().map(|s| s.to_vec()));
        for step in steps {
            let (mut a, mut b) = (p.fk.cmd(&step), p.redis.cmd(&step));
            if step[..2] == ["FUNCTION", "LIST"] {
                (a, b) = (sorted(&a), sorted(&b));
            }
            if a != b {
                diffs.push(format!("RESP{proto} {step:?}\n  ferrokv {a:?}\n  redis   {b:?}"));
            }
        }
    }
    assert!(diffs.is_empty(), "{} steps differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// A payload from either server restores on the other, with the
/// same libraries and working functions; RESTORE's policies agree.
#[test]
fn function_dumps_restore_across_servers() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let libs = [
        "#!lua name=alpha\nredis.register_function('a1', function(k, a) return 'alpha ' .. a[1] end)\n\
         redis.register_function{function_name='a2', callback=function() return 2 end, flags={'no-writes', 'allow-stale'}, description='two'}",
        // Long enough that Redis compresses it with LZF in the payload.
        "#!lua name=beta\n-- padding padding padding padding padding padding padding padding\n\
         redis.register_function('b1', function(k, a) return redis.call('incrby', k[1], a[1]) end)",
    ];
    let dump = |c: &mut ferrokv_testkit::Conn| c.cmd(&["FUNCTION", "DUMP"]).as_bytes().unwrap().to_vec();
    // One library's payload is byte-identical, LZF included, and raw under
    // rdbcompression no. (With several, Redis's order is its hash order.)
    for compression in ["yes", "no"] {
        for c in [&mut p.fk, &mut p.redis] {
            c.cmd(&["FUNCTION", "FLUSH"]);
            c.cmd(&["CONFIG", "SET", "rdbcompression", compression]);
            c.cmd(&["FUNCTION", "LOAD", libs[1]]);
        }
        let (a, b) = (dump(&mut p.fk), dump(&mut p.redis));
        assert_eq!(a, b, "rdbcompression {compression}");
        assert_eq!(a.len() < libs[1].len(), compression == "yes");
    }
    for c in [&mut p.fk, &mut p.redis] {
        c.cmd(&["CONFIG", "SET", "rdbcompression", "yes"]);
        c.cmd(&["HELLO", "2"]);
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["FUNCTION", "FLUSH"]);
        for l in libs {
            c.cmd(&["FUNCTION", "LOAD", l]);
        }
    }
    let (from_fk, from_redis) = (dump(&mut p.fk), dump(&mut p.redis));
    let list = |c: &mut ferrokv_testkit::Conn| sorted(&c.cmd(&["FUNCTION", "LIST", "WITHCODE"]));
    let expected = list(&mut p.redis);
    assert_eq!(list(&mut p.fk), expected);
    for (c, payload) in [(&mut p.fk, &from_redis), (&mut p.redis, &from_fk)] {
        // APPEND over the same libraries fails and changes nothing.
        let r = c.cmd_bytes(&[b"FUNCTION", b"RESTORE", payload]);
        assert!(
            matches!(&r, Frame::Error(e) if e.starts_with(b"ERR Library ") && e.ends_with(b" already exists")),
            "{r:?}"
        );
        assert_eq!(c.cmd_bytes(&[b"FUNCTION", b"RESTORE", payload, b"REPLACE"]), ferrokv_testkit::simple("OK"));
        c.cmd(&["FUNCTION", "FLUSH"]);
        assert_eq!(c.cmd_bytes(&[b"FUNCTION", b"RESTORE", payload]), ferrokv_testkit::simple("OK"));
        assert_eq!(list(c), expected);
        assert_eq!(c.cmd(&["FCALL", "a1", "0", "x"]), ferrokv_testkit::bulk("alpha x"));
        assert_eq!(c.cmd(&["FCALL", "b1", "1", "n", "5"]), Frame::Integer(5));
        // A flipped byte fails the checksum.
        let mut bad = payload.clone();
        bad[3] ^= 1;
        assert_eq!(
            c.cmd_bytes(&[b"FUNCTION", b"RESTORE", &bad, b"FLUSH"]),
            ferrokv_testkit::err("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(list(c), expected);
    }
}

/// A generated command, run through the proxy library.
fn fcalled() -> impl Strategy<Value = Vec<String>> {
    let cmd = crate::strings_keys::cmd().prop_filter("timing or order dependent", |c| {
        !matches!(c[0].as_str(), "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME" | "KEYS" | "SELECT")
    });
    let (fwd, ro) = (prop::sample::select(&["fwd", "pfwd", "rofwd"][..]), any::<bool>());
    (cmd, fwd, ro).prop_map(|(c, f, ro)| {
        let call = if ro { "FCALL_RO" } else { "FCALL" };
        [vec![call.to_string(), f.to_string(), "0".to_string()], c].concat()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4, max_shrink_iters: 1000, ..ProptestConfig::default() })]

    #[test]
    fn fcalled_commands_match_redis(cmds in prop::collection::vec(fcalled(), 1..25), resp3 in any::<bool>()) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        let load = vec!["FUNCTION".to_string(), "LOAD".to_string(), "REPLACE".to_string(), PROXY.to_string()];
        let cmds: Vec<Vec<String>> = std::iter::once(load).chain(cmds).collect();
        run_case(&mut p, resp3, &cmds)?;
    }
}
