//! Lua scripts on both servers: fixed cases covering the Lua <-> RESP
//! conversions, the sandbox, the libraries and Redis's error messages, and
//! generated commands run through `redis.call`/`redis.pcall` (in RESP2 and
//! after `redis.setresp(3)`), replies and datasets compared.

use proptest::prelude::*;

use crate::strings_keys::{cases, pair, run_case};

/// Scripts whose replies (or errors) must be byte-identical.
const SCRIPTS: &[&str] = &[
    "a=10",
    "return a",
    "return _G.x",
    "return os",
    "return debug",
    "string.x = 1 return 1",
    "return redis.call('incr','x')",
    "return redis.pcall('incr','x')",
    "return redis.call('nosuch')",
    "return redis.pcall('nosuch')",
    "return redis.call('get')",
    "return redis.call('multi')",
    "return redis.call('blpop','l','0')",
    "return redis.call('set', 'x', {})",
    "error('boom')",
    "error({err='X boom'})",
    "return redis.error_reply('My Error')",
    "return redis.error_reply('-CODE msg')",
    "return redis.status_reply('FINE')",
    "return {1,2,3,'ciao',{1,2},nil,4}",
    "return 3.99",
    "return -3.99",
    "return true",
    "return false",
    "return nil",
    "return {err='bad'}",
    "return {1, {err='inner'}, 3}",
    "return redis.call('get','nokey')",
    "return redis.sha1hex('')",
    "return redis.sha1hex()",
    "return cjson.encode({1,2,{a=1}})",
    "return cjson.decode('[1,2,{\"a\":1.5}]')[3].a",
    "return cjson.encode({a='x/y', c=cjson.null})",
    "return cjson.encode(cjson.decode('{\"a\":[1,2,3],\"b\":\"\\\\u00e9\"}'))",
    "return {bit.band(7,3), bit.bor(1,2), bit.bxor(3,1), bit.bnot(0), bit.lshift(1,4)}",
    "return {bit.tohex(255), bit.tohex(-1, -4), bit.arshift(-256, 4), bit.rol(1,33), bit.bswap(0x12345678)}",
    "return tostring(1/3)",
    "return redis.call('set','k',1/3)",
    "return redis.call('get','k')",
    "return 'x' .. 1.5",
    "return KEYS[1] .. ARGV[1]",
    "redis.setresp(3) return redis.call('hgetall','nokey')",
    "redis.setresp(3) return redis.call('zscore','nokey','a')",
    "redis.call('zadd','z','1.5','a') redis.setresp(3) return redis.call('zscore','z','a')",
    "return {double=1.5}",
    // Map and set replies whose keys are -0 and numbers near zero.
    "return {map={[1e-20]='a', [-0]=2^-60, b=1e-300}}",
    "return {set={[2^-60]=true, x=true}}",
    "local ok, e = pcall(function() return redis.call('lpush','k','a') end) return {tostring(ok), e}",
    "local t = redis.call('ping') return t.ok",
    "return redis.setresp(4)",
    "return redis.status_reply(1)",
    "return redis.call('select', '1')",
    "return type(unpack)",
    "return select('#', 1, 2)",
    // Numbers past i64 convert as C's cast does.
    "return 2^63",
    "return {-2^63, 2^64, -2^64, 0/0}",
    // The debugging and ACL helpers, with no debugging session and the
    // default user.
    "return {redis.breakpoint(), redis.debug('x', 1)}",
    "return {redis.acl_check_cmd('get'), redis.acl_check_cmd('GET', 'k'), redis.acl_check_cmd('config')}",
    "return redis.acl_check_cmd('config', 'get')",
    "return redis.acl_check_cmd('config', 'nosuch')",
    "return redis.acl_check_cmd('nosuch')",
    "return redis.acl_check_cmd()",
    "return redis.acl_check_cmd('get', {})",
    "return redis.acl_check_cmd('set', 1.5)",
    "return redis.replicate_commands()",
    // Levels and versions given as numeric strings are read as numbers.
    "redis.setresp('3') return redis.call('hgetall', 'nokey')",
    "redis.setresp(2.9) return redis.call('hgetall', 'nokey')",
    "return redis.setresp('x')",
    "return redis.setresp()",
    "redis.set_repl('abc') return redis.call('incr', 'x')",
    "return redis.set_repl('5')",
    "return redis.set_repl()",
    "return {redis.log('3', 'hi'), redis.log(' 0x2 ', 'hi')}",
    "return redis.log({}, 'hi')",
    "return redis.log('9', 'hi')",
    "return redis.log(1)",
    // redis.call kept in a variable (functions.rs keeps one across calls).
    "local c = redis.call return c('incr', 'x')",
    // Exact numbers are a call's own, never a previous call's.
    "return {cjson.encode(-0), cjson.encode(0), struct.pack('>dd', 1, -0), struct.pack('>dd', 0, 1)}",
    "return {redis.call('echo', 1e-300), redis.call('echo', 0), bit.bor(0, 5e-324), cjson.encode(1e-300)}",
];

#[test]
fn script_cases_match_redis() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let mut diffs = Vec::new();
    for proto in ["2", "3"] {
        for c in [&mut p.fk, &mut p.redis] {
            c.cmd(&["DISCARD"]);
            c.cmd(&["FLUSHALL"]);
            c.cmd(&["SELECT", "0"]);
            c.cmd(&["HELLO", proto]);
        }
        for s in SCRIPTS {
            let args = ["EVAL", s, "1", "k1", "v1"];
            let (a, b) = (p.fk.cmd(&args), p.redis.cmd(&args));
            if a != b {
                diffs.push(format!("RESP{proto} {s:?}\n  ferrokv {a:?}\n  redis   {b:?}"));
            }
        }
    }
    // The cache: SCRIPT LOAD, EXISTS (any case), EVALSHA, FLUSH, NOSCRIPT.
    let steps: &[&[&str]] = &[
        &["SCRIPT", "LOAD", "return 'loaded'"],
        &["SCRIPT", "EXISTS", "a20d8a6a8b3cb4b2bf0dc1a4ea2dff8edb4a4b51", "x"],
        &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        &["SCRIPT", "LOAD", "x x"],
        &["SCRIPT", "FLUSH", "X"],
        &["SCRIPT", "FLUSH"],
        // The first native call of a fresh interpreter (mlua then shifts
        // the call's stack) still reads -0 and tiny numbers exactly.
        &["EVAL", "return {cjson.encode(-0), redis.call('echo', 1e-300), cjson.encode(5e-324)}", "0"],
        &["EVAL", "return 1", "x"],
        &["EVAL", "return 1", "2", "a"],
        &["EVAL", "return 1", "-1"],
        &["EVAL_RO", "return redis.call('set','a','b')", "0"],
        &["EVAL_RO", "return redis.call('get','a')", "0"],
        &["SCRIPT", "KILL"],
    ];
    let loaded = p.fk.cmd(&["SCRIPT", "LOAD", "return 'loaded'"]);
    let sha = String::from_utf8_lossy(loaded.as_bytes().unwrap_or_default()).into_owned();
    for step in steps.iter().map(|s| s.to_vec()).chain([
        vec!["SCRIPT", "EXISTS", &sha, "x"],
        vec!["EVALSHA", &sha, "0"],
        vec!["EVALSHA_RO", &sha.to_ascii_uppercase(), "0"],
    ]) {
        let (a, b) = (p.fk.cmd(&step), p.redis.cmd(&step));
        if a != b {
            diffs.push(format!("{step:?}\n  ferrokv {a:?}\n  redis   {b:?}"));
        }
    }
    assert!(diffs.is_empty(), "{} scripts differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// Replies compared byte for byte: nested past what the test client
/// decodes (Redis stops at Lua's stack limit, ~8,000 levels of arrays and
/// fewer of maps and sets), large, and with text Redis rewrites.
const RAW_REPLIES: &[&str] = &[
    "return {err='-x'}",
    "return {err='a\nb\n\r'}",
    "return {1, {err='-y z\n'}}",
    "return {err=''}",
    "return {ok='a\r\nb'}",
    "return {big_number='1\n2'}",
    "return {verbatim_string={format='txt', string='hi'}}",
    "return {verbatim_string={format='tx', string='hi'}}",
    "return {verbatim_string={format='txtt', string='hi'}}",
    "return {verbatim_string={format='txt'}}",
    "return {double=0/0}",
    "return {map={[-0]=1e-20, [2^63]=true, [1e-20]=-0}}",
    "local t = {} local c = t for i = 1, 7993 do c[1] = {} c = c[1] end return t",
    "local t = {} local c = t for i = 1, 7994 do c[1] = {} c = c[1] end return t",
    "local t = {} local c = t for i = 1, 7995 do c[1] = {} c = c[1] end return t",
    "local t = {} local c = t for i = 1, 9000 do c[1] = {1, {err='e'}} c[3] = 'x' c = c[1] end return t",
    "local t = {} local c = t for i = 1, 3000 do c.map = {x={}} c = c.map.x end return t",
    "local t = {} local c = t for i = 1, 3000 do local n = {} c.map = {[n]=1} c = n end return t",
    "local t = {} local c = t for i = 1, 3000 do local n = {} c.set = {[n]=true} c = n end return t",
    "local t = {} for i = 1, 100000 do t[i] = {i, tostring(i)} end return t",
    "local t = {} for i = 1, 20000 do t['k'..i] = i end return {map=t}",
    // C strings end at a NUL; error bytes are sent as they are.
    "return {ok='a\\0b'}",
    "return {err='a\\0b c'}",
    "return {1, {err='\\255 x'}}",
];

/// Scripts whose errors INFO counts as Redis does: not an error redis.call
/// or redis.pcall already counted when its command failed (unless the
/// script clears the mark), but errors a script makes up, nested ones
/// included, by the code before a space in the first 32 bytes.
const COUNTED_ERRORS: &[&str] = &[
    "return {err='oops'}",
    "return {err='X y'}",
    "return redis.pcall('incr', 'strkey')",
    "return redis.call('incr', 'strkey')",
    "return {{err='Y z'}, 1}",
    "return {err='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b'}",
    "error('boom')",
    "error({err='RAISED here'})",
    "return redis.pcall('nosuch')",
    "return redis.call('nosuch')",
    "return redis.pcall()",
    "return {redis.pcall('get')}",
    "local t = redis.pcall('incr', 'strkey') t.ignore_error_stats_update = false return t",
    "return redis.error_reply('MINE here')",
];

#[test]
fn script_error_stats_match_redis() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let mut seen = Vec::new();
    for c in [&mut p.fk, &mut p.redis] {
        c.cmd(&["DISCARD"]);
        c.cmd(&["HELLO", "2"]);
        c.cmd(&["SET", "strkey", "text"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        for s in COUNTED_ERRORS {
            c.cmd(&["EVAL", s, "0"]);
        }
        let info = |c: &mut ferrokv_testkit::Conn, section: &str| {
            String::from_utf8_lossy(c.cmd(&["INFO", section]).as_bytes().unwrap_or_default()).into_owned()
        };
        let mut lines: Vec<String> =
            info(c, "errorstats").lines().filter(|l| l.starts_with("errorstat_")).map(String::from).collect();
        lines.sort();
        lines.extend(info(c, "stats").lines().filter(|l| l.starts_with("total_error_replies")).map(String::from));
        // Calls and failures, not timings.
        for l in
            info(c, "commandstats").lines().filter(|l| l.starts_with("cmdstat_eval") || l.starts_with("cmdstat_incr"))
        {
            let (name, fields) = l.split_once(':').unwrap_or_default();
            let kept: Vec<&str> = fields.split(',').filter(|f| !f.starts_with("usec")).collect();
            lines.push(format!("{name}:{}", kept.join(",")));
        }
        lines.sort();
        seen.push(lines);
    }
    assert_eq!(seen[0], seen[1], "ferrokv (left) and redis (right) count script errors differently");
}

#[test]
fn raw_replies_match_redis() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let mut diffs = Vec::new();
    for proto in ["2", "3"] {
        for c in [&mut p.fk, &mut p.redis] {
            c.cmd(&["DISCARD"]);
            c.cmd(&["HELLO", proto]);
        }
        for s in RAW_REPLIES {
            let args: [&[u8]; 3] = [b"EVAL", s.as_bytes(), b"0"];
            let (a, b) = (p.fk.cmd_raw(&args), p.redis.cmd_raw(&args));
            if a != b {
                let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
                let near =
                    |r: &[u8]| String::from_utf8_lossy(&r[at.saturating_sub(40)..(at + 40).min(r.len())]).into_owned();
                diffs.push(format!(
                    "RESP{proto} {s:?} at byte {at}\n  ferrokv {:?}\n  redis   {:?}",
                    near(&a),
                    near(&b)
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{} replies differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// A generated command, run from a script.
pub(crate) fn scripted() -> impl Strategy<Value = Vec<String>> {
    // Replies whose timing or hash order differ between the servers are
    // compared with tolerance or sorting outside scripts only.
    let cmd = crate::strings_keys::cmd().prop_filter("timing or order dependent", |c| {
        !matches!(c[0].as_str(), "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME" | "KEYS" | "SELECT")
    });
    let body = prop::sample::select(
        &[
            "return redis.call(unpack(ARGV))",
            "return redis.pcall(unpack(ARGV))",
            "redis.setresp(3) return redis.pcall(unpack(ARGV))",
            "local r = redis.pcall(unpack(ARGV)) if type(r) == 'table' and r.err then return r.err end return r",
        ][..],
    );
    (cmd, body).prop_map(|(c, b)| [vec!["EVAL".to_string(), b.to_string(), "0".to_string()], c].concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, max_shrink_iters: 1000, ..ProptestConfig::default() })]

    #[test]
    fn scripted_commands_match_redis(cmds in prop::collection::vec(scripted(), 1..25), resp3 in any::<bool>()) {
        let mut p = pair().lock().unwrap_or_else(|e| e.into_inner());
        run_case(&mut p, resp3, &cmds)?;
    }
}

/// Over maxmemory, scripts start or stop as in Redis: shebang scripts
/// without allow-oom are refused up front; old-style scripts and functions
/// run, but their first deny-oom command fails unless a write came first.
#[test]
fn scripts_over_maxmemory_match_redis() {
    let mut guard = pair().lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    let lib = "#!lua name=oomlib\n\
               redis.register_function('w', function(k, a) return redis.call('set', k[1], 'v') end)\n\
               redis.register_function{function_name='wo', callback=function(k, a) return redis.call('set', k[1], 'v') end, flags={'allow-oom'}}\n\
               redis.register_function{function_name='r', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}}";
    let steps: &[&[&str]] = &[
        &["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k1"],
        &["EVAL", "return redis.pcall('set', KEYS[1], 'v')", "1", "k1"],
        &["EVAL", "redis.call('get', KEYS[1]) return redis.call('set', KEYS[1], 'v')", "1", "k1"],
        &["EVAL", "redis.call('del', KEYS[1]) return redis.call('set', KEYS[1], 'v')", "1", "k1"],
        &["EVAL", "return redis.call('get', KEYS[1])", "1", "k1"],
        &["EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "k1"],
        &["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "k1"],
        &["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'v')", "1", "k1"],
        &["FCALL", "w", "1", "k1"],
        &["FCALL", "wo", "1", "k1"],
        &["FCALL", "r", "1", "k1"],
        &["FCALL_RO", "r", "1", "k1"],
    ];
    let mut diffs = Vec::new();
    for c in [&mut p.fk, &mut p.redis] {
        c.cmd(&["HELLO", "2"]);
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["FUNCTION", "LOAD", "REPLACE", lib]);
        c.cmd(&["SET", "k1", "old"]);
        c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    }
    for step in steps {
        let (a, b) = (p.fk.cmd(step), p.redis.cmd(step));
        if a != b {
            diffs.push(format!("{step:?}\n  ferrokv {a:?}\n  redis   {b:?}"));
        }
    }
    for c in [&mut p.fk, &mut p.redis] {
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        c.cmd(&["FUNCTION", "DELETE", "oomlib"]);
    }
    assert!(diffs.is_empty(), "{} steps differ:\n{}", diffs.len(), diffs.join("\n"));
}
