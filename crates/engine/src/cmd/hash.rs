//! Hash commands: HSET and friends, counters, HRANDFIELD and HSCAN.

use super::keys::{parse_cursor, parse_scan_opts, scan_loop, scan_reply};
use crate::command::args::{int, int_range, is};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, NOT_FLOAT, OVERFLOW, SYNTAX, WRONGTYPE};
use crate::glob::glob_match;
use crate::keyspace::{Db, Entry, Kind, Loc, Value};
use crate::notify::class;
use crate::types::hash::{self, HashRef};
use crate::types::hashtable::HashTable;
use crate::types::listpack::{self as lp, Val};
use crate::types::longdouble::{add_long_double, long_double_finite, LdError};
use crate::types::Limits;
use ferrokv_resp::num::{i64_to_vec, parse_i64};

/// The hash family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, hset)
        .flags("write denyoom fast")
        .acl("write hash fast")
        .keys(&[KeySpec::at("RW update", 1)]),
    CommandSpec::new("hsetnx", 4, hsetnx)
        .flags("write denyoom fast")
        .acl("write hash fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("hmset", -4, hset)
        .flags("write denyoom fast")
        .acl("write hash fast")
        .keys(&[KeySpec::at("RW update", 1)]),
    CommandSpec::new("hget", 3, hget).flags("readonly fast").acl("read hash fast").keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("hmget", -3, hmget)
        .flags("readonly fast")
        .acl("read hash fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("hgetall", 2, hgetall)
        .flags("readonly")
        .acl("read hash slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("hdel", -3, hdel).flags("write fast").acl("write hash fast").keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("hexists", 3, hexists).flags("readonly fast").acl("read hash fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("hlen", 2, hlen).flags("readonly fast").acl("read hash fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("hstrlen", 3, hstrlen).flags("readonly fast").acl("read hash fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("hkeys", 2, hkeys)
        .flags("readonly")
        .acl("read hash slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("hvals", 2, hvals)
        .flags("readonly")
        .acl("read hash slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("hincrby", 4, hincrby)
        .flags("write denyoom fast")
        .acl("write hash fast")
        .keys(&[KeySpec::at("RW access update", 1)]),
    CommandSpec::new("hincrbyfloat", 4, hincrbyfloat)
        .flags("write denyoom fast")
        .acl("write hash fast")
        .keys(&[KeySpec::at("RW access update", 1)]),
    CommandSpec::new("hrandfield", -2, hrandfield)
        .flags("readonly")
        .acl("read hash slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("hscan", -3, hscan)
        .flags("readonly")
        .acl("read hash slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output"]),
];

/// The hash at `loc`, or WRONGTYPE.
#[inline]
pub(crate) fn hash_at(db: &Db, loc: Loc) -> Result<HashRef<'_>, CmdError> {
    match db.get(loc).value() {
        Value::Hash(h) => Ok(h),
        _ => Err(WRONGTYPE),
    }
}

/// Whether any of `args` is too long for a listpack hash.
fn too_long(args: &[&[u8]], limits: &Limits) -> bool {
    args.iter().any(|a| a.len() > limits.hash_max_listpack_value)
}

/// The hash at `key` for writing, created empty when missing (Redis's
/// `hashTypeLookupWriteOrCreate` followed by `hashTypeTryConversion` over
/// `args`, the strings about to be stored).
fn hash_for_write(ctx: &mut Ctx<'_>, key: &[u8], args: &[&[u8]]) -> Result<Loc, CmdError> {
    let found = ctx.lookup_write(key);
    hash_for_write_at(ctx, found, key, args)
}

/// [`hash_for_write`] after the caller's own lookup of `key`.
fn hash_for_write_at(ctx: &mut Ctx<'_>, found: Option<Loc>, key: &[u8], args: &[&[u8]]) -> Result<Loc, CmdError> {
    let limits = ctx.st.cfg.limits;
    let lru = ctx.fresh_lru();
    let db = ctx.db();
    match found {
        Some(loc) => {
            match db.get(loc).kind() {
                Kind::HashLp if too_long(args, &limits) => {
                    db.update(loc, |e| {
                        let t = hash::lp_to_table(e.payload());
                        e.with_obj(Box::new(t))
                    });
                }
                Kind::HashLp | Kind::Hash => {}
                _ => return Err(WRONGTYPE),
            }
            Ok(loc)
        }
        None if too_long(args, &limits) => Ok(db.insert(Entry::new_obj(key, Box::<HashTable>::default(), None, lru))),
        None => Ok(db.insert(Entry::new_inline(key, Kind::HashLp, &lp::new(), None, lru))),
    }
}

/// Sets one field of the hash at `loc`; true when the field is new. A
/// listpack becomes a table when the field or value is too long for it or
/// it outgrows `hash-max-listpack-entries` (Redis's `hashTypeSet`).
fn hash_set(db: &mut Db, loc: Loc, limits: &Limits, field: &[u8], value: &[u8]) -> bool {
    let mut created = false;
    db.update(loc, |mut e| {
        if e.kind() == Kind::HashLp && too_long(&[field, value], limits) {
            let t = hash::lp_to_table(e.payload());
            e = e.with_obj(Box::new(t));
        }
        if e.kind() == Kind::HashLp {
            created = hash::lp_set(&mut e, field, value);
            if created && lp::len(e.payload()) / 2 > limits.hash_max_listpack_entries {
                let t = hash::lp_to_table(e.payload());
                e = e.with_obj(Box::new(t));
            }
        } else {
            created = e.obj_mut::<HashTable>().insert(field, value);
        }
        e
    });
    created
}

/// Removes one field; true when it existed.
fn hash_delete(db: &mut Db, loc: Loc, field: &[u8]) -> bool {
    let mut removed = false;
    db.update(loc, |mut e| {
        removed = if e.kind() == Kind::HashLp {
            hash::lp_delete(&mut e, field)
        } else {
            e.obj_mut::<HashTable>().remove(field)
        };
        e
    });
    removed
}

/// HSET key field value [field value ...] (and HMSET)
fn hset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() % 2 == 1 {
        return Err(ctx.arity_error());
    }
    let loc = hash_for_write(ctx, argv[1], &argv[2..])?;
    let limits = ctx.st.cfg.limits;
    let db = ctx.db();
    let mut created = 0;
    for pair in argv[2..].chunks(2) {
        created += hash_set(db, loc, &limits, pair[0], pair[1]) as i64;
    }
    if ctx.cmd.spec.name == "hset" {
        ctx.out.int(created);
    } else {
        ctx.out.ok();
    }
    ctx.changed((argv.len() as u64 - 2) / 2);
    ctx.notify(class::HASH, "hset", argv[1]);
    Ok(())
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let existed = ctx.lookup_write(argv[1]);
    if let Some(loc) = existed {
        if hash_at(ctx.db(), loc)?.contains(argv[2]) {
            ctx.out.int(0);
            return Ok(());
        }
    }
    // One lookup, as in Redis (under LFU, one access).
    let loc = hash_for_write_at(ctx, existed, argv[1], &argv[2..4])?;
    let limits = ctx.st.cfg.limits;
    hash_set(ctx.db(), loc, &limits, argv[2], argv[3]);
    ctx.out.int(1);
    ctx.changed(1);
    ctx.notify(class::HASH, "hset", argv[1]);
    Ok(())
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.null();
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    match hash_at(db, loc)?.get(argv[2]) {
        Some(v) => v.write_bulk(out),
        None => out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let found = ctx.lookup_read(argv[1]);
    let (db, out) = ctx.db_out();
    let h = found.map(|loc| hash_at(db, loc)).transpose()?;
    out.array(argv.len() - 2);
    for f in &argv[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => v.write_bulk(out),
            None => out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    hash_at(ctx.db(), loc)?;
    let db = ctx.db();
    let mut deleted = 0;
    let mut emptied = false;
    for f in &argv[2..] {
        if hash_delete(db, loc, f) {
            deleted += 1;
            if hash_at(db, loc)?.is_empty() {
                db.remove(loc);
                emptied = true;
                break;
            }
        }
    }
    ctx.changed(deleted);
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", argv[1]);
        if emptied {
            ctx.notify(class::GENERIC, "del", argv[1]);
        }
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => hash_at(ctx.db(), loc)?.len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => hash_at(ctx.db(), loc)?.get(argv[2]).map_or(0, |v| v.bytes().len()),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => hash_at(ctx.db(), loc)?.contains(argv[2]),
        None => false,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// HGETALL / HKEYS / HVALS.
fn getall(ctx: &mut Ctx<'_>, key: &[u8], keys: bool, vals: bool) -> CmdResult {
    let found = ctx.lookup_read(key);
    let (db, out) = ctx.db_out();
    let Some(loc) = found else {
        if keys && vals {
            out.map(0);
        } else {
            out.array(0);
        }
        return Ok(());
    };
    let h = hash_at(db, loc)?;
    if keys && vals {
        out.map(h.len());
    } else {
        out.array(h.len());
    }
    h.for_each(|f, v| {
        if keys {
            f.write_bulk(out);
        }
        if vals {
            v.write_bulk(out);
        }
    });
    Ok(())
}

/// HGETALL key
fn hgetall(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getall(ctx, argv[1], true, true)
}

/// HKEYS key
fn hkeys(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getall(ctx, argv[1], true, false)
}

/// HVALS key
fn hvals(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getall(ctx, argv[1], false, true)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let incr = int(argv[3])?;
    let loc = hash_for_write(ctx, argv[1], &[])?;
    let db = ctx.db();
    let cur = match hash_at(db, loc)?.get(argv[2]) {
        Some(Val::Int(i)) => i,
        Some(Val::Str(s)) => parse_i64(s).ok_or(CmdError::fixed("ERR hash value is not an integer"))?,
        None => 0,
    };
    let new = cur.checked_add(incr).ok_or(OVERFLOW)?;
    let text = i64_to_vec(new);
    let limits = ctx.st.cfg.limits;
    hash_set(ctx.db(), loc, &limits, argv[2], &text);
    ctx.out.int(new);
    ctx.changed(1);
    ctx.notify(class::HASH, "hincrby", argv[1]);
    Ok(())
}

/// HINCRBYFLOAT key field increment
fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match long_double_finite(argv[3]) {
        None => return Err(NOT_FLOAT),
        Some(false) => return Err(CmdError::fixed("ERR value is NaN or Infinity")),
        Some(true) => {}
    }
    let loc = hash_for_write(ctx, argv[1], &[])?;
    let db = ctx.db();
    let cur = hash_at(db, loc)?.get(argv[2]).map(|v| v.bytes().into_owned());
    let text = add_long_double(cur.as_deref(), argv[3]).map_err(|e| match e {
        LdError::Current => CmdError::fixed("ERR hash value is not a float"),
        LdError::Incr => NOT_FLOAT,
        LdError::NanOrInf => CmdError::fixed("ERR increment would produce NaN or Infinity"),
    })?;
    let limits = ctx.st.cfg.limits;
    hash_set(ctx.db(), loc, &limits, argv[2], &text);
    ctx.out.bulk(&text);
    ctx.changed(1);
    ctx.notify(class::HASH, "hincrbyfloat", argv[1]);
    if ctx.propagating() {
        // Replicas store the result rather than redo float arithmetic.
        ctx.propagate(vec![b"HSET".to_vec(), argv[1].to_vec(), argv[2].to_vec(), text]);
    }
    Ok(())
}

/// Writes one field (and its value) of an HRANDFIELD reply.
fn rand_item(out: &mut ferrokv_resp::Out, f: Val<'_>, v: Val<'_>, withvalues: bool, resp3: bool) {
    if withvalues && resp3 {
        out.array(2);
    }
    f.write_bulk(out);
    if withvalues {
        v.write_bulk(out);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() == 2 {
        let Some(loc) = ctx.lookup_read(argv[1]) else {
            ctx.out.null();
            return Ok(());
        };
        let st = &mut *ctx.st;
        let h = hash_at(&st.dbs[ctx.client.db], loc)?;
        let (f, _) = h.random(&mut st.rng);
        f.write_bulk(ctx.out);
        return Ok(());
    }
    let l = int_range(argv[2], -i64::MAX, i64::MAX)?;
    if argv.len() > 4 || (argv.len() == 4 && !is(argv[3], "withvalues")) {
        return Err(SYNTAX);
    }
    let withvalues = argv.len() == 4;
    if withvalues && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::fixed("ERR value is out of range"));
    }
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.array(0);
        return Ok(());
    };
    let resp3 = ctx.out.resp3();
    let st = &mut *ctx.st;
    let h = hash_at(&st.dbs[ctx.client.db], loc)?;
    let out = &mut *ctx.out;
    let size = h.len();
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let flat = |n: usize| if withvalues && !resp3 { n * 2 } else { n };
    if l < 0 || count == 1 {
        // Sampling with repetition, in random order.
        out.array(flat(count));
        for _ in 0..count {
            let (f, v) = h.random(&mut st.rng);
            rand_item(out, f, v, withvalues, resp3);
        }
        return Ok(());
    }
    if count >= size {
        out.array(flat(size));
        h.for_each(|f, v| rand_item(out, f, v, withvalues, resp3));
        return Ok(());
    }
    out.array(flat(count));
    if count * 3 > size {
        // Most of the hash is wanted: drop random fields from a copy.
        let mut all = Vec::with_capacity(size);
        h.for_each(|f, v| all.push((f, v)));
        while all.len() > count {
            let i = st.rng.below(all.len() as u64) as usize;
            all.swap_remove(i);
        }
        for (f, v) in all {
            rand_item(out, f, v, withvalues, resp3);
        }
    } else {
        // A few of many: draw until `count` distinct fields.
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let (f, v) = h.random(&mut st.rng);
            if seen.insert(f.bytes()) {
                rand_item(out, f, v, withvalues, resp3);
            }
        }
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2])?;
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        scan_reply::<&[u8]>(ctx.out, 0, &[]);
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let h = hash_at(db, loc)?;
    let o = parse_scan_opts(argv, 3, false)?;
    let keep = |f: &[u8]| o.pattern.is_none_or(|p| glob_match(p, f));
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = match h {
        HashRef::Lp(_) => {
            h.for_each(|f, v| {
                let f = f.bytes();
                if keep(&f) {
                    items.push(f.into_owned());
                    items.push(v.bytes().into_owned());
                }
            });
            0
        }
        HashRef::Table(t) => scan_loop(cursor, o.count, |c| {
            let mut n = 0;
            let next = t.scan(c, |f, v| {
                n += 1;
                if keep(f) {
                    items.push(f.to_vec());
                    items.push(v.to_vec());
                }
            });
            (next, n)
        }),
    };
    scan_reply(out, next, &items);
    Ok(())
}
