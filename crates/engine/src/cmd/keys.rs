//! Generic keyspace commands: DEL EXISTS TYPE RENAME KEYS SCAN COPY MOVE
//! OBJECT, the EXPIRE family and TTL family.

use crate::command::args::{int, int32, is, text};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{invalid_expire, CmdError, CmdResult, DB_RANGE, NO_SUCH_KEY, SAME_OBJECT, SYNTAX};
use crate::glob::glob_match;
use crate::keyspace::access::lru_clock;
use crate::keyspace::entry::LRU_MAX;
use crate::notify::class;
use ferrokv_resp::num::i64_to_vec;

const RO1: &[KeySpec] = &[KeySpec::at("RO", 1)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::at("RO access", 1)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::at("RW update", 1)];

/// The generic (keyspace) family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, del)
        .flags("write")
        .acl("keyspace write slow")
        .keys(&[KeySpec::range("RM delete", 1, -1, 1)])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("unlink", -2, unlink)
        .flags("write fast")
        .acl("keyspace write fast")
        .keys(&[KeySpec::range("RM delete", 1, -1, 1)])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("exists", -2, exists)
        .flags("readonly fast")
        .acl("keyspace read fast")
        .keys(&[KeySpec::range("RO", 1, -1, 1)])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("touch", -2, touch)
        .flags("readonly fast")
        .acl("keyspace read fast")
        .keys(&[KeySpec::range("RO", 1, -1, 1)])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"]),
    CommandSpec::new("type", 2, type_cmd).flags("readonly fast").acl("keyspace read fast").keys(RO1),
    CommandSpec::new("rename", 3, rename)
        .flags("write")
        .acl("keyspace write slow")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("OW update", 2)]),
    CommandSpec::new("renamenx", 3, renamenx)
        .flags("write fast")
        .acl("keyspace write fast")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("OW insert", 2)]),
    CommandSpec::new("keys", 2, keys)
        .flags("readonly")
        .acl("keyspace read slow dangerous")
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    CommandSpec::new("scan", -2, scan)
        .flags("readonly")
        .acl("keyspace read slow")
        .tips(&["nondeterministic_output", "request_policy:special"]),
    CommandSpec::new("randomkey", 1, randomkey)
        .flags("readonly")
        .acl("keyspace read slow")
        .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    CommandSpec::new("copy", -3, copy)
        .flags("write denyoom")
        .acl("keyspace write slow")
        .keys(&[KeySpec::at("RO access", 1), KeySpec::at("OW update", 2)]),
    CommandSpec::new("move", 3, move_cmd)
        .flags("write fast")
        .acl("keyspace write fast")
        .keys(&[KeySpec::at("RW access update", 1)]),
    CommandSpec::container("object", -2, OBJECT_SUBS).acl("slow"),
    CommandSpec::new("expire", -3, expire).flags("write fast").acl("keyspace write fast").keys(RW_UPDATE),
    CommandSpec::new("pexpire", -3, pexpire).flags("write fast").acl("keyspace write fast").keys(RW_UPDATE),
    CommandSpec::new("expireat", -3, expireat).flags("write fast").acl("keyspace write fast").keys(RW_UPDATE),
    CommandSpec::new("pexpireat", -3, pexpireat).flags("write fast").acl("keyspace write fast").keys(RW_UPDATE),
    CommandSpec::new("ttl", 2, ttl)
        .flags("readonly fast")
        .acl("keyspace read fast")
        .keys(RO_ACCESS)
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("pttl", 2, pttl)
        .flags("readonly fast")
        .acl("keyspace read fast")
        .keys(RO_ACCESS)
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("expiretime", 2, expiretime).flags("readonly fast").acl("keyspace read fast").keys(RO_ACCESS),
    CommandSpec::new("pexpiretime", 2, pexpiretime).flags("readonly fast").acl("keyspace read fast").keys(RO_ACCESS),
    CommandSpec::new("persist", 2, persist).flags("write fast").acl("keyspace write fast").keys(RW_UPDATE),
];

const OBJECT_RO: &[KeySpec] = &[KeySpec::at("RO", 2)];
static OBJECT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, object_encoding)
        .flags("readonly")
        .acl("keyspace read slow")
        .keys(OBJECT_RO)
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("refcount", 3, object_refcount)
        .flags("readonly")
        .acl("keyspace read slow")
        .keys(OBJECT_RO)
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("idletime", 3, object_idletime)
        .flags("readonly")
        .acl("keyspace read slow")
        .keys(OBJECT_RO)
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("freq", 3, object_freq)
        .flags("readonly")
        .acl("keyspace read slow")
        .keys(OBJECT_RO)
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("help", 2, object_help).flags("loading stale").acl("keyspace slow"),
];

/// DEL / UNLINK body.
fn delete_keys(ctx: &mut Ctx<'_>, argv: &[&[u8]], lazy: bool) -> CmdResult {
    let mut n = 0;
    let now = ctx.now_ms;
    for k in &argv[1..] {
        if let Some(e) = ctx.db().delete(k, now) {
            ctx.st.drop_value(e, lazy);
            ctx.notify(class::GENERIC, "del", k);
            n += 1;
        }
    }
    ctx.changed(n);
    ctx.out.int(n as i64);
    Ok(())
}

/// DEL key [key ...]
fn del(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lazy = ctx.st.cfg.lazy_user_del;
    delete_keys(ctx, argv, lazy)
}

/// UNLINK key [key ...]
fn unlink(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    delete_keys(ctx, argv, true)
}

/// A read lookup that does not touch the LRU but counts hits and misses
/// (and announces a miss).
fn lookup_notouch(ctx: &mut Ctx<'_>, key: &[u8]) -> Option<crate::keyspace::Loc> {
    let now = ctx.now_ms;
    let found = ctx.db().find_notouch(key, now);
    if found.is_some() {
        ctx.st.stats.keyspace_hits += 1;
    } else {
        ctx.st.stats.keyspace_misses += 1;
        ctx.notify(class::KEY_MISS, "keymiss", key);
    }
    found
}

/// EXISTS key [key ...]
fn exists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = argv[1..].iter().filter(|k| lookup_notouch(ctx, k).is_some()).count();
    ctx.out.int(n as i64);
    Ok(())
}

/// TOUCH key [key ...]
fn touch(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = argv[1..].iter().filter(|k| ctx.lookup_read(k).is_some()).count();
    ctx.out.int(n as i64);
    Ok(())
}

/// TYPE key
fn type_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let name = match lookup_notouch(ctx, argv[1]) {
        Some(loc) => ctx.db().get(loc).type_name(),
        None => "none",
    };
    ctx.out.simple(name.as_bytes());
    Ok(())
}

/// RENAME / RENAMENX body.
fn rename_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], nx: bool) -> CmdResult {
    let (src, dst) = (argv[1], argv[2]);
    if ctx.lookup_write(src).is_none() {
        return Err(NO_SUCH_KEY);
    };
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if let Some(dloc) = ctx.lookup_write(dst) {
        if nx {
            ctx.out.int(0);
            return Ok(());
        }
        let old = ctx.db().remove(dloc);
        let lazy = ctx.st.cfg.lazy_server_del;
        ctx.st.drop_value(old, lazy);
    }
    let db = ctx.db();
    let loc = db.peek(src).expect("source still present");
    let e = db.remove(loc);
    let expire = e.expire();
    db.insert(e.rename(dst, expire));
    ctx.changed(1);
    ctx.notify(class::GENERIC, "rename_from", src);
    ctx.notify(class::GENERIC, "rename_to", dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// RENAME key newkey
fn rename(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

/// KEYS pattern
fn keys(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let pat = argv[1];
    let all = pat == b"*";
    let now = ctx.now_ms;
    let (db, out) = ctx.db_out();
    let d = out.defer();
    let mut n = 0;
    db.for_each(|e| {
        if (all || glob_match(pat, e.key())) && e.expire().is_none_or(|t| t > now) {
            out.bulk(e.key());
            n += 1;
        }
    });
    out.fill(d, ferrokv_resp::encode::Aggregate::Array, n);
    Ok(())
}

/// Parses a SCAN cursor like Redis (`strtoull`: optional sign, digits, no
/// leading space, no trailing junk, no overflow).
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let err = || CmdError::fixed("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if arg.is_empty() {
        return Ok(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(err());
    }
    let v: u64 = std::str::from_utf8(digits).ok().and_then(|s| s.parse().ok()).ok_or_else(err)?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Options shared by the SCAN family.
pub struct ScanOpts<'a> {
    /// COUNT (default 10).
    pub count: usize,
    /// MATCH pattern, when it is not `*`.
    pub pattern: Option<&'a [u8]>,
    /// TYPE filter (SCAN only).
    pub type_name: Option<&'a [u8]>,
}

/// Parses `[MATCH pattern] [COUNT count] [TYPE type]` from `argv[from..]`.
pub fn parse_scan_opts<'a>(argv: &[&'a [u8]], from: usize, allow_type: bool) -> Result<ScanOpts<'a>, CmdError> {
    let mut o = ScanOpts { count: 10, pattern: None, type_name: None };
    let mut i = from;
    while i < argv.len() {
        let left = argv.len() - i;
        if is(argv[i], "count") && left >= 2 {
            let c = int(argv[i + 1])?;
            if c < 1 {
                return Err(SYNTAX);
            }
            o.count = c as usize;
        } else if is(argv[i], "match") && left >= 2 {
            o.pattern = (argv[i + 1] != b"*").then_some(argv[i + 1]);
        } else if is(argv[i], "type") && allow_type && left >= 2 {
            o.type_name = Some(argv[i + 1]);
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(o)
}

/// The SCAN loop over a hash-table-like collection, as Redis bounds it:
/// `step(cursor)` visits one home bucket and returns the next cursor and how
/// many items it produced; stepping stops at the end, at `count` items, or
/// after `10 * count` steps over a sparse table.
pub fn scan_loop(mut cursor: u64, count: usize, mut step: impl FnMut(u64) -> (u64, usize)) -> u64 {
    let mut budget = count.saturating_mul(10);
    let mut got = 0;
    loop {
        let (next, n) = step(cursor);
        cursor = next;
        got += n;
        if cursor == 0 || budget == 0 || got >= count {
            return cursor;
        }
        budget -= 1;
    }
}

/// Writes a SCAN reply: the cursor and the items.
pub fn scan_reply<T: AsRef<[u8]>>(out: &mut ferrokv_resp::Out, cursor: u64, items: &[T]) {
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(items.len());
    for i in items {
        out.bulk(i.as_ref());
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_cursor(argv[1])?;
    let o = parse_scan_opts(argv, 2, true)?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    {
        let db = ctx.db();
        cursor = scan_loop(cursor, o.count, |c| {
            let before = found.len();
            let next = db.scan_step(c, |e| found.push(e.key().to_vec()));
            (next, found.len() - before)
        });
    }
    let now = ctx.now_ms;
    found.retain(|k| o.pattern.is_none_or(|p| glob_match(p, k)));
    if let Some(t) = o.type_name {
        found.retain(|k| {
            let db = &mut ctx.st.dbs[ctx.client.db];
            db.find_notouch(k, now).is_some_and(|l| t.eq_ignore_ascii_case(db.get(l).type_name().as_bytes()))
        });
    }
    let db = &mut ctx.st.dbs[ctx.client.db];
    found.retain(|k| db.find_notouch(k, now).is_some());
    scan_reply(ctx.out, cursor, &found);
    Ok(())
}

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    loop {
        let (r1, r2) = (ctx.st.random(), ctx.st.random());
        let db = &mut ctx.st.dbs[ctx.client.db];
        let Some(loc) = db.random(r1, r2) else {
            ctx.out.null();
            return Ok(());
        };
        let key = db.get(loc).key().to_vec();
        if db.find_notouch(&key, now).is_some() {
            ctx.out.bulk(&key);
            return Ok(());
        }
    }
}

/// A database index argument (`getIntFromObjectOrReply` + `selectDb`).
pub fn db_index(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let id = int32(arg)?;
    if id < 0 || id as usize >= ctx.st.dbs.len() {
        return Err(DB_RANGE);
    }
    Ok(id as usize)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (src, dst) = (argv[1], argv[2]);
    let mut dbid = ctx.client.db;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if is(argv[j], "replace") {
            replace = true;
        } else if is(argv[j], "db") && argv.len() - j > 1 {
            dbid = db_index(ctx, argv[j + 1])?;
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    if dbid == ctx.client.db && src == dst {
        return Err(SAME_OBJECT);
    }
    let Some(loc) = ctx.lookup_read(src) else {
        ctx.out.int(0);
        return Ok(());
    };
    let now = ctx.now_ms;
    let mut copy = {
        let e = ctx.db().get(loc);
        e.clone_as(dst, e.expire())
    };
    // A copy is a new object: under LFU it starts counting afresh.
    copy.set_lru(ctx.st.dbs[dbid].fresh_lru(now));
    let target = &mut ctx.st.dbs[dbid];
    if let Some(dloc) = target.find(dst, now) {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        let old = target.remove(dloc);
        let lazy = ctx.st.cfg.lazy_server_del;
        ctx.st.drop_value(old, lazy);
    }
    ctx.st.dbs[dbid].insert(copy);
    ctx.signal(dbid, dst);
    ctx.changed(1);
    ctx.notify_db(class::GENERIC, "copy_to", dst, dbid);
    ctx.out.int(1);
    Ok(())
}

/// MOVE key db
fn move_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let dbid = db_index(ctx, argv[2])?;
    if dbid == ctx.client.db {
        return Err(SAME_OBJECT);
    }
    let key = argv[1];
    let Some(loc) = ctx.lookup_write(key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let now = ctx.now_ms;
    if ctx.st.dbs[dbid].find(key, now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let e = ctx.db().remove(loc);
    ctx.st.dbs[dbid].insert(e);
    let src = ctx.client.db;
    ctx.signal(src, key);
    ctx.signal(dbid, key);
    ctx.changed(1);
    if ctx.st.cfg.notify_flags != 0 {
        // The key's `new` in the target database comes first, as in Redis.
        crate::notify::flush_pending(ctx.st, dbid, Some((ctx.client.id, &mut *ctx.out)));
    }
    ctx.notify(class::GENERIC, "move_from", key);
    ctx.notify_db(class::GENERIC, "move_to", key, dbid);
    ctx.out.int(1);
    Ok(())
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_out();
    match db.find_notouch(argv[2], now) {
        Some(loc) => out.bulk(db.get(loc).encoding_name().as_bytes()),
        None => out.null(),
    }
    Ok(())
}

/// Whether Redis would share this value's object (integers 0..9999 when
/// no LRU/LFU eviction needs per-key access times).
fn is_shared_integer(ctx: &Ctx<'_>, e: &crate::keyspace::Entry) -> bool {
    let (s, enc) = e.str();
    let policy = ctx.st.cfg.maxmemory_policy;
    let lru_policy = ctx.st.cfg.maxmemory > 0 && (policy.is_lru() || policy.is_lfu());
    enc == crate::keyspace::StrEnc::Int
        && !lru_policy
        && ferrokv_resp::num::parse_i64(s).is_some_and(|v| (0..10000).contains(&v))
}

/// OBJECT REFCOUNT key
fn object_refcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let Some(loc) = ctx.db().find_notouch(argv[2], now) else {
        ctx.out.null();
        return Ok(());
    };
    let shared = {
        let e = ctx.st.dbs[ctx.client.db].get(loc);
        is_shared_integer(ctx, &e)
    };
    ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
    Ok(())
}

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.st.cfg.access_clock.is_lfu()
}

/// Seconds since the entry's last access, from its 24-bit LRU clock.
pub fn idle_seconds(lru: u32, now_ms: i64) -> i64 {
    let clock = lru_clock(now_ms);
    if clock >= lru {
        (clock - lru) as i64
    } else {
        (clock as i64) + (LRU_MAX - lru) as i64
    }
}

/// OBJECT IDLETIME key
fn object_idletime(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let Some(loc) = ctx.db().find_notouch(argv[2], now) else {
        ctx.out.null();
        return Ok(());
    };
    if lfu_policy(ctx) {
        return Err(CmdError::fixed("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let lru = ctx.db().get(loc).lru();
    ctx.out.int(idle_seconds(lru, now));
    Ok(())
}

/// OBJECT FREQ key
fn object_freq(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let Some(loc) = ctx.db().find_notouch(argv[2], now) else {
        ctx.out.null();
        return Ok(());
    };
    if !lfu_policy(ctx) {
        return Err(CmdError::fixed("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let db = ctx.db();
    let freq = db.clock.frequency(db.get(loc).lru(), now);
    ctx.out.int(freq as i64);
    Ok(())
}

/// Writes a HELP reply: the header line, the body, then the HELP lines.
pub fn help_reply(ctx: &mut Ctx<'_>, cmd: &str, lines: &[&str]) -> CmdResult {
    let out = &mut *ctx.out;
    out.array(lines.len() + 3);
    out.simple(format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes());
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Prints this help.");
    Ok(())
}

/// OBJECT HELP
fn object_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

#[derive(Clone, Copy)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// The EXPIRE family (Redis's `expireGenericCommand`): `ms` when the time
/// is in milliseconds, `relative` when it is added to now.
fn expire_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], ms: bool, relative: bool) -> CmdResult {
    let mut f = ExpireFlags { nx: false, xx: false, gt: false, lt: false };
    for a in &argv[3..] {
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            return Err(CmdError::err(format_args!("Unsupported option {}", text(a))));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::fixed("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if f.gt && f.lt {
        return Err(CmdError::fixed("ERR GT and LT options at the same time are not compatible"));
    }
    let name = ctx.cmd.spec.name;
    let mut when = int(argv[2])?;
    if !ms {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid_expire(name));
        }
        when *= 1000;
    }
    let base = if relative { ctx.now_ms } else { 0 };
    if when > i64::MAX - base {
        return Err(invalid_expire(name));
    }
    when += base;
    let key = argv[1];
    let Some(loc) = ctx.lookup_write(key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let current = ctx.db().get(loc).expire();
    let refused = (f.nx && current.is_some())
        || (f.xx && current.is_none())
        || (f.gt && current.is_none_or(|c| when <= c))
        || (f.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= ctx.now_ms {
        let e = ctx.db().remove(loc);
        let lazy = ctx.st.cfg.lazy_expire;
        ctx.st.drop_value(e, lazy);
        ctx.changed(1);
        ctx.notify(class::GENERIC, "del", key);
        if ctx.propagating() {
            ctx.propagate(vec![if lazy { b"UNLINK".to_vec() } else { b"DEL".to_vec() }, key.to_vec()]);
        }
        ctx.out.int(1);
        return Ok(());
    }
    ctx.db().set_expire(loc, Some(when));
    ctx.changed(1);
    ctx.notify(class::GENERIC, "expire", key);
    if ctx.propagating() {
        ctx.propagate(vec![b"PEXPIREAT".to_vec(), key.to_vec(), i64_to_vec(when)]);
    }
    ctx.out.int(1);
    Ok(())
}

/// EXPIRE key seconds [NX|XX|GT|LT]
fn expire(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, false, true)
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
fn pexpire(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, true, true)
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
fn expireat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, false, false)
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
fn pexpireat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, true, false)
}

/// TTL-family body: `ms` for milliseconds, `abs` for the absolute time.
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], ms: bool, abs: bool) -> CmdResult {
    let Some(loc) = lookup_notouch(ctx, key) else {
        ctx.out.int(-2);
        return Ok(());
    };
    let Some(t) = ctx.db().get(loc).expire() else {
        ctx.out.int(-1);
        return Ok(());
    };
    let v = if abs { t } else { (t - ctx.now_ms).max(0) };
    ctx.out.int(if ms { v } else { (v + 500) / 1000 });
    Ok(())
}

/// TTL key
fn ttl(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], false, false)
}

/// PTTL key
fn pttl(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], true, false)
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], false, true)
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], true, true)
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    if ctx.db().get(loc).expire().is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.db().set_expire(loc, None);
    ctx.changed(1);
    ctx.notify(class::GENERIC, "persist", argv[1]);
    ctx.out.int(1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_rules() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"+1"), Ok(1));
        assert_eq!(parse_cursor(b"01"), Ok(1));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert!(parse_cursor(b" 1").is_err());
        assert!(parse_cursor(b"abc").is_err());
        assert!(parse_cursor(b"18446744073709551616").is_err());
    }
}
