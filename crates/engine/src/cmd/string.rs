//! String commands: GET/SET and friends, counters, ranges, MGET/MSET, LCS.

use crate::command::args::{int, is};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{invalid_expire, CmdError, CmdResult, SYNTAX, TOO_BIG, WRONGTYPE};
use crate::keyspace::{Db, Entry, Loc, StrEnc};
use crate::notify::class;
use crate::types::longdouble::incr_by_float;
use crate::types::string::{encoding_for, getrange_bounds, incr as incr_value, lcs};
use ferrokv_resp::encode::Aggregate;
use ferrokv_resp::num::i64_to_vec;

const RO: &[KeySpec] = &[KeySpec::at("RO access", 1)];
const RW: &[KeySpec] = &[KeySpec::at("RW access update", 1)];

/// The string family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, get).flags("readonly fast").acl("read string fast").keys(RO),
    CommandSpec::new("set", -3, set).flags("write denyoom").acl("write string slow").keys(&[KeySpec::at(
        "RW access update variable_flags",
        1,
    )
    .notes("RW and ACCESS due to the optional `GET` argument")]),
    CommandSpec::new("setnx", 3, setnx)
        .flags("write denyoom fast")
        .acl("write string fast")
        .keys(&[KeySpec::at("OW insert", 1)]),
    CommandSpec::new("setex", 4, setex)
        .flags("write denyoom")
        .acl("write string slow")
        .keys(&[KeySpec::at("OW update", 1)]),
    CommandSpec::new("psetex", 4, psetex)
        .flags("write denyoom")
        .acl("write string slow")
        .keys(&[KeySpec::at("OW update", 1)]),
    CommandSpec::new("getset", 3, getset).flags("write denyoom fast").acl("write string fast").keys(RW),
    CommandSpec::new("getdel", 2, getdel)
        .flags("write fast")
        .acl("write string fast")
        .keys(&[KeySpec::at("RW access delete", 1)]),
    CommandSpec::new("getex", -2, getex).flags("write fast").acl("write string fast").keys(&[KeySpec::at(
        "RW access update",
        1,
    )
    .notes("RW and UPDATE because it changes the TTL")]),
    CommandSpec::new("mget", -2, mget)
        .flags("readonly fast")
        .acl("read string fast")
        .keys(&[KeySpec::range("RO access", 1, -1, 1)])
        .tips(&["request_policy:multi_shard"]),
    CommandSpec::new("mset", -3, mset)
        .flags("write denyoom")
        .acl("write string slow")
        .keys(&[KeySpec::range("OW update", 1, -1, 2)])
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]),
    CommandSpec::new("msetnx", -3, msetnx)
        .flags("write denyoom")
        .acl("write string slow")
        .keys(&[KeySpec::range("OW insert", 1, -1, 2)])
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"]),
    CommandSpec::new("append", 3, append)
        .flags("write denyoom fast")
        .acl("write string fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("strlen", 2, strlen).flags("readonly fast").acl("read string fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("getrange", 4, getrange).flags("readonly").acl("read string slow").keys(RO),
    CommandSpec::new("substr", 4, getrange).flags("readonly").acl("read string slow").keys(RO),
    CommandSpec::new("setrange", 4, setrange)
        .flags("write denyoom")
        .acl("write string slow")
        .keys(&[KeySpec::at("RW update", 1)]),
    CommandSpec::new("incr", 2, incr).flags("write denyoom fast").acl("write string fast").keys(RW),
    CommandSpec::new("decr", 2, decr).flags("write denyoom fast").acl("write string fast").keys(RW),
    CommandSpec::new("incrby", 3, incrby).flags("write denyoom fast").acl("write string fast").keys(RW),
    CommandSpec::new("decrby", 3, decrby).flags("write denyoom fast").acl("write string fast").keys(RW),
    CommandSpec::new("incrbyfloat", 3, incrbyfloat).flags("write denyoom fast").acl("write string fast").keys(RW),
    CommandSpec::new("lcs", -3, lcs_cmd).flags("readonly").acl("read string slow").keys(&[KeySpec::range(
        "RO access",
        1,
        1,
        1,
    )]),
];

/// The string value at `loc`, or WRONGTYPE.
#[inline]
pub(crate) fn string_at(db: &Db, loc: Loc) -> Result<&[u8], CmdError> {
    let e = db.get(loc);
    if !e.is_string() {
        return Err(WRONGTYPE);
    }
    Ok(e.str().0)
}

/// What happens to the TTL when a value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// Remove it (plain SET).
    Clear,
    /// Keep it (KEEPTTL, counters, in-place edits).
    Keep,
    /// Set it to this absolute time in ms.
    At(i64),
}

/// Stores `val` at `key` (Redis's `setKey`): replaces a value of any type.
/// `found` is the caller's lookup of `key`.
pub fn store(db: &mut Db, found: Option<Loc>, key: &[u8], val: &[u8], enc: StrEnc, ttl: Ttl, now_ms: i64) {
    // Under LFU an overwritten key keeps its counter (Redis's dbOverwrite).
    let lru = match found {
        Some(loc) if db.clock.is_lfu() => db.get(loc).lru(),
        _ => db.fresh_lru(now_ms),
    };
    match found {
        Some(loc) => {
            let old_exp = db.get(loc).expire();
            let exp = match ttl {
                Ttl::Clear => None,
                Ttl::Keep => old_exp,
                Ttl::At(t) => Some(t),
            };
            if db.get(loc).is_string() && exp == old_exp {
                // Same key, same expire: rewrite the block in place (no
                // reallocation when the size class is unchanged).
                db.update(loc, |e| {
                    let mut e = e.with_str(val, enc);
                    e.set_lru(lru);
                    e
                });
            } else {
                let old = db.replace(loc, Entry::new_str(key, val, enc, exp, lru));
                drop(old);
            }
        }
        None => {
            let exp = match ttl {
                Ttl::At(t) => Some(t),
                _ => None,
            };
            db.insert(Entry::new_str(key, val, enc, exp, lru));
        }
    }
}

/// GET key
fn get(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match ctx.lookup_read(argv[1]) {
        None => ctx.out.null(),
        Some(loc) => {
            let (db, out) = ctx.db_out();
            out.bulk(string_at(db, loc)?);
        }
    }
    Ok(())
}

/// Flags of SET/GETEX option parsing.
#[derive(Default, Clone, Copy)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// (unit is ms, absolute, value)
    expire: Option<(bool, bool, &'a [u8])>,
}

/// Parses SET/GETEX options (Redis's `parseExtendedStringArgumentsOrReply`).
fn parse_set_opts<'a>(argv: &[&'a [u8]], from: usize, is_set: bool) -> Result<SetOpts<'a>, CmdError> {
    let mut o = SetOpts::default();
    let mut kind: Option<&str> = None;
    let mut j = from;
    while j < argv.len() {
        let a = argv[j];
        let next = argv.get(j + 1).copied();
        let exp_ok = |name: &str| !o.keepttl && !o.persist && kind.is_none_or(|k| k == name);
        if is_set && is(a, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && is(a, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && is(a, "get") {
            o.get = true;
        } else if is_set && is(a, "keepttl") && !o.persist && kind.is_none() {
            o.keepttl = true;
        } else if !is_set && is(a, "persist") && kind.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some((name, ms, abs)) =
            [("ex", false, false), ("px", true, false), ("exat", false, true), ("pxat", true, true)]
                .into_iter()
                .find(|(n, ..)| is(a, n))
        {
            match next {
                Some(v) if exp_ok(name) => {
                    kind = Some(name);
                    o.expire = Some((ms, abs, v));
                    j += 1;
                }
                _ => return Err(SYNTAX),
            }
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute expire time in ms.
fn expire_ms(spec: (bool, bool, &[u8]), now_ms: i64, cmd: &str) -> Result<i64, CmdError> {
    let (ms, abs, v) = spec;
    let mut t = int(v)?;
    if t <= 0 || (!ms && t > i64::MAX / 1000) {
        return Err(invalid_expire(cmd));
    }
    if !ms {
        t *= 1000;
    }
    if !abs {
        t = t.wrapping_add(now_ms);
    }
    if t <= 0 {
        return Err(invalid_expire(cmd));
    }
    Ok(t)
}

/// The generic SET (Redis's `setGenericCommand`); returns whether it set.
#[allow(clippy::too_many_arguments)]
fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    val: &[u8],
    o: SetOpts<'_>,
    cmd: &str,
    reply_ok: bool,
) -> Result<bool, CmdError> {
    let when = match o.expire {
        Some(spec) => Some(expire_ms(spec, ctx.now_ms, cmd)?),
        None => None,
    };
    let found = if o.get {
        match ctx.lookup_read(key) {
            None => ctx.out.null(),
            Some(loc) => {
                let (db, out) = ctx.db_out();
                out.bulk(string_at(db, loc)?);
            }
        }
        // Redis looks the key up again for the write: under LFU that is a
        // second access.
        ctx.lookup_write(key)
    } else {
        ctx.lookup_write(key)
    };
    if (o.nx && found.is_some()) || (o.xx && found.is_none()) {
        if !o.get && reply_ok {
            ctx.out.null();
        }
        ctx.propagate_nothing();
        return Ok(false);
    }
    let ttl = match (when, o.keepttl) {
        (Some(t), _) => Ttl::At(t),
        (None, true) => Ttl::Keep,
        (None, false) => Ttl::Clear,
    };
    let now = ctx.now_ms;
    store(ctx.db(), found, key, val, encoding_for(val), ttl, now);
    ctx.changed(1);
    ctx.notify(class::STRING, "set", key);
    if when.is_some() {
        ctx.notify(class::GENERIC, "expire", key);
    }
    if let (Some(t), true) = (when, ctx.propagating()) {
        if !matches!(o.expire, Some((true, true, _))) {
            ctx.propagate(vec![b"SET".to_vec(), key.to_vec(), val.to_vec(), b"PXAT".to_vec(), i64_to_vec(t)]);
        }
    } else if o.get && ctx.propagating() {
        // Replicas need the write, not the read.
        let mut v = vec![b"SET".to_vec(), key.to_vec(), val.to_vec()];
        if o.keepttl {
            v.push(b"KEEPTTL".to_vec());
        }
        if o.xx {
            v.push(b"XX".to_vec());
        }
        if o.nx {
            v.push(b"NX".to_vec());
        }
        ctx.propagate(v);
    }
    if !o.get && reply_ok {
        ctx.out.ok();
    }
    Ok(true)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL]
fn set(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let o = parse_set_opts(argv, 3, true)?;
    set_generic(ctx, argv[1], argv[2], o, "set", true).map(|_| ())
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let o = SetOpts { nx: true, ..Default::default() };
    let done = set_generic(ctx, argv[1], argv[2], o, "setnx", false)?;
    ctx.out.int(done as i64);
    Ok(())
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let o = SetOpts { expire: Some((false, false, argv[2])), ..Default::default() };
    set_generic(ctx, argv[1], argv[3], o, "setex", true).map(|_| ())
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let o = SetOpts { expire: Some((true, false, argv[2])), ..Default::default() };
    set_generic(ctx, argv[1], argv[3], o, "psetex", true).map(|_| ())
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let found = ctx.lookup_read(argv[1]);
    match found {
        None => ctx.out.null(),
        Some(loc) => {
            let (db, out) = ctx.db_out();
            out.bulk(string_at(db, loc)?);
        }
    }
    // The write looks the key up again (a second access under LFU).
    let found = ctx.lookup_write(argv[1]);
    let now = ctx.now_ms;
    store(ctx.db(), found, argv[1], argv[2], encoding_for(argv[2]), Ttl::Clear, now);
    ctx.changed(1);
    ctx.notify(class::STRING, "set", argv[1]);
    if ctx.propagating() {
        ctx.propagate(vec![b"SET".to_vec(), argv[1].to_vec(), argv[2].to_vec()]);
    }
    Ok(())
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.null();
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    out.bulk(string_at(db, loc)?);
    let old = db.remove(loc);
    drop(old);
    ctx.changed(1);
    ctx.notify(class::GENERIC, "del", argv[1]);
    if ctx.propagating() {
        let del: &[u8] = if ctx.st.cfg.lazy_user_del { b"UNLINK" } else { b"DEL" };
        ctx.propagate(vec![del.to_vec(), argv[1].to_vec()]);
    }
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ts|PERSIST]
fn getex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let o = parse_set_opts(argv, 2, false)?;
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.null();
        return Ok(());
    };
    string_at(ctx.db(), loc)?;
    let when = match o.expire {
        Some(spec) => Some(expire_ms(spec, ctx.now_ms, "getex")?),
        None => None,
    };
    {
        let (db, out) = ctx.db_out();
        out.bulk(string_at(db, loc)?);
    }
    let key = argv[1];
    if let (Some(t), Some((_, true, _))) = (when, o.expire) {
        if t <= ctx.now_ms {
            drop(ctx.db().remove(loc));
            ctx.changed(1);
            ctx.notify(class::GENERIC, "del", key);
            if ctx.propagating() {
                let del: &[u8] = if ctx.st.cfg.lazy_expire { b"UNLINK" } else { b"DEL" };
                ctx.propagate(vec![del.to_vec(), key.to_vec()]);
            }
            return Ok(());
        }
    }
    if let Some(t) = when {
        ctx.db().set_expire(loc, Some(t));
        ctx.changed(1);
        ctx.notify(class::GENERIC, "expire", key);
        if ctx.propagating() && !matches!(o.expire, Some((true, true, _))) {
            ctx.propagate(vec![b"PEXPIREAT".to_vec(), key.to_vec(), i64_to_vec(t)]);
        }
    } else if o.persist && ctx.db().get(loc).expire().is_some() {
        ctx.db().set_expire(loc, None);
        ctx.changed(1);
        ctx.notify(class::GENERIC, "persist", key);
        if ctx.propagating() {
            ctx.propagate(vec![b"PERSIST".to_vec(), key.to_vec()]);
        }
    }
    Ok(())
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ctx.out.array(argv.len() - 1);
    for k in &argv[1..] {
        match ctx.lookup_read(k) {
            Some(loc) => {
                let (db, out) = ctx.db_out();
                match string_at(db, loc) {
                    Ok(s) => out.bulk(s),
                    Err(_) => out.null(),
                }
            }
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(ctx.arity_error());
    }
    let now = ctx.now_ms;
    for kv in argv[1..].chunks(2) {
        let found = ctx.lookup_write(kv[0]);
        store(ctx.db(), found, kv[0], kv[1], encoding_for(kv[1]), Ttl::Clear, now);
        ctx.notify(class::STRING, "set", kv[0]);
    }
    ctx.changed((argv.len() / 2) as u64);
    ctx.out.ok();
    Ok(())
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(ctx.arity_error());
    }
    for kv in argv[1..].chunks(2) {
        if ctx.lookup_write(kv[0]).is_some() {
            ctx.out.int(0);
            return Ok(());
        }
    }
    let now = ctx.now_ms;
    for kv in argv[1..].chunks(2) {
        // A key repeated in the arguments exists by its second occurrence.
        let found = ctx.lookup_write(kv[0]);
        store(ctx.db(), found, kv[0], kv[1], encoding_for(kv[1]), Ttl::Clear, now);
        ctx.notify(class::STRING, "set", kv[0]);
    }
    ctx.changed((argv.len() / 2) as u64);
    ctx.out.int(1);
    Ok(())
}

/// Checks a resulting string length against proto-max-bulk-len.
fn check_len(ctx: &Ctx<'_>, len: u128) -> CmdResult {
    if len > ctx.st.cfg.proto_max_bulk_len as u128 {
        return Err(TOO_BIG);
    }
    Ok(())
}

/// APPEND key value
fn append(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, val) = (argv[1], argv[2]);
    let now = ctx.now_ms;
    let total = match ctx.lookup_write(key) {
        None => {
            store(ctx.db(), None, key, val, encoding_for(val), Ttl::Clear, now);
            val.len()
        }
        Some(loc) => {
            let old_len = string_at(ctx.db(), loc)?.len();
            check_len(ctx, old_len as u128 + val.len() as u128)?;
            ctx.db().update(loc, |e| {
                let mut e = e.resize_str(old_len + val.len());
                e.str_mut()[old_len..].copy_from_slice(val);
                e.set_enc(StrEnc::Raw);
                e
            });
            old_len + val.len()
        }
    };
    ctx.changed(1);
    ctx.notify(class::STRING, "append", key);
    ctx.out.int(total as i64);
    Ok(())
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => string_at(ctx.db(), loc)?.len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// GETRANGE key start end (and SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (start, end) = (int(argv[2])?, int(argv[3])?);
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let s = string_at(db, loc)?;
    match getrange_bounds(s.len(), start, end) {
        Some((a, b)) => out.bulk(&s[a..b]),
        None => out.bulk(b""),
    }
    Ok(())
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, val) = (argv[1], argv[3]);
    let offset = int(argv[2])?;
    if offset < 0 {
        return Err(CmdError::fixed("ERR offset is out of range"));
    }
    let offset = offset as u64;
    let now = ctx.now_ms;
    let newlen = match ctx.lookup_write(key) {
        None => {
            if val.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            check_len(ctx, offset as u128 + val.len() as u128)?;
            let mut buf = vec![0u8; offset as usize + val.len()];
            buf[offset as usize..].copy_from_slice(val);
            store(ctx.db(), None, key, &buf, StrEnc::Raw, Ttl::Clear, now);
            buf.len()
        }
        Some(loc) => {
            let old_len = string_at(ctx.db(), loc)?.len();
            if val.is_empty() {
                ctx.out.int(old_len as i64);
                return Ok(());
            }
            check_len(ctx, offset as u128 + val.len() as u128)?;
            let off = offset as usize;
            let newlen = old_len.max(off + val.len());
            ctx.db().update(loc, |e| {
                let mut e = e.resize_str(newlen);
                e.str_mut()[off..off + val.len()].copy_from_slice(val);
                e.set_enc(StrEnc::Raw);
                e
            });
            newlen
        }
    };
    ctx.changed(1);
    ctx.notify(class::STRING, "setrange", key);
    ctx.out.int(newlen as i64);
    Ok(())
}

/// INCR/DECR/INCRBY/DECRBY (Redis's `incrDecrCommand`).
fn incr_generic(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let found = ctx.lookup_write(key);
    let old = match found {
        Some(loc) => Some(string_at(ctx.db(), loc)?),
        None => None,
    };
    let v = incr_value(old, by)?;
    let text = i64_to_vec(v);
    let now = ctx.now_ms;
    store(ctx.db(), found, key, &text, StrEnc::Int, Ttl::Keep, now);
    ctx.changed(1);
    ctx.notify(class::STRING, "incrby", key);
    ctx.out.int(v);
    Ok(())
}

/// INCR key
fn incr(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, argv[1], 1)
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, argv[1], -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let by = int(argv[2])?;
    incr_generic(ctx, argv[1], by)
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let by = int(argv[2])?;
    if by == i64::MIN {
        return Err(CmdError::fixed("ERR decrement would overflow"));
    }
    incr_generic(ctx, argv[1], -by)
}

/// INCRBYFLOAT key increment
fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let found = ctx.lookup_write(key);
    let old = match found {
        Some(loc) => Some(string_at(ctx.db(), loc)?),
        None => None,
    };
    let text = incr_by_float(old, argv[2])?;
    let now = ctx.now_ms;
    let enc = if text.len() <= 44 { StrEnc::Embstr } else { StrEnc::Raw };
    store(ctx.db(), found, key, &text, enc, Ttl::Keep, now);
    ctx.changed(1);
    ctx.notify(class::STRING, "incrbyfloat", key);
    ctx.out.bulk(&text);
    if ctx.propagating() {
        // Replicas must not redo float arithmetic: send the result.
        ctx.propagate(vec![b"SET".to_vec(), key.to_vec(), text, b"KEEPTTL".to_vec()]);
    }
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let la = ctx.lookup_read(argv[1]);
    let lb = ctx.lookup_read(argv[2]);
    let db = ctx.db();
    let a = la.map(|l| db.get(l).is_string().then(|| db.get(l).str().0.to_vec()));
    let b = lb.map(|l| db.get(l).is_string().then(|| db.get(l).str().0.to_vec()));
    let (Some(a), Some(b)) = (a.unwrap_or(Some(Vec::new())), b.unwrap_or(Some(Vec::new()))) else {
        return Err(CmdError::fixed("ERR The specified keys must contain string values"));
    };
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if is(argv[j], "idx") {
            getidx = true;
        } else if is(argv[j], "len") {
            getlen = true;
        } else if is(argv[j], "withmatchlen") {
            withmatchlen = true;
        } else if is(argv[j], "minmatchlen") && more > 0 {
            minmatchlen = int(argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::fixed("ERR If you want both the length and indexes, please just use IDX."));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::fixed("ERR String too long for LCS"));
    }
    let table_bytes = (a.len() as u128 + 1) * (b.len() as u128 + 1) * 4;
    if table_bytes > ctx.st.cfg.proto_max_bulk_len as u128 {
        return Err(CmdError::fixed("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let (text, matches) = lcs(&a, &b);
    let out = &mut *ctx.out;
    if getidx {
        out.map(2);
        out.bulk(b"matches");
        let d = out.defer();
        let mut n = 0;
        for m in matches.iter().filter(|m| minmatchlen == 0 || m.len as i64 >= minmatchlen) {
            out.array(2 + withmatchlen as usize);
            out.array(2);
            out.int(m.a.0 as i64);
            out.int(m.a.1 as i64);
            out.array(2);
            out.int(m.b.0 as i64);
            out.int(m.b.1 as i64);
            if withmatchlen {
                out.int(m.len as i64);
            }
            n += 1;
        }
        out.fill(d, Aggregate::Array, n);
        out.bulk(b"len");
        out.int(text.len() as i64);
    } else if getlen {
        out.int(text.len() as i64);
    } else {
        out.bulk(&text);
    }
    Ok(())
}
