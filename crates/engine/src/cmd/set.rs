//! Set commands: membership, random picks and pops, the algebra (SINTER,
//! SUNION, SDIFF and their STORE forms) and SSCAN.

use super::keys::{parse_cursor, parse_scan_opts, scan_loop, scan_reply};
use crate::command::args::{int_range, is, positive_count};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::glob::glob_match;
use crate::keyspace::{Db, Entry, Kind, Loc, Value};
use crate::notify::class;
use crate::state::Rng;
use crate::types::hashtable::SetTable;
use crate::types::listpack::Val;
use crate::types::set::{self, Added, Compact, SetBuild, SetRef};
use crate::types::Limits;
use ferrokv_resp::Out;

/// The set family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, sadd)
        .flags("write denyoom fast")
        .acl("write set fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("srem", -3, srem).flags("write fast").acl("write set fast").keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("sismember", 3, sismember)
        .flags("readonly fast")
        .acl("read set fast")
        .keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("smismember", -3, smismember)
        .flags("readonly fast")
        .acl("read set fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("scard", 2, scard).flags("readonly fast").acl("read set fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("smembers", 2, smembers)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("srandmember", -2, srandmember)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("spop", -2, spop)
        .flags("write fast")
        .acl("write set fast")
        .keys(&[KeySpec::at("RW access delete", 1)])
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("smove", 4, smove)
        .flags("write fast")
        .acl("write set fast")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("RW insert", 2)]),
    CommandSpec::new("sdiff", -2, sdiff)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::range("RO access", 1, -1, 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("sdiffstore", -3, sdiffstore)
        .flags("write denyoom")
        .acl("write set slow")
        .keys(&[KeySpec::at("OW update", 1), KeySpec::range("RO access", 2, -1, 1)]),
    CommandSpec::new("sinter", -2, sinter)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::range("RO access", 1, -1, 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("sinterstore", -3, sinterstore)
        .flags("write denyoom")
        .acl("write set slow")
        .keys(&[KeySpec::at("RW update", 1), KeySpec::range("RO access", 2, -1, 1)]),
    CommandSpec::new("sintercard", -3, sintercard)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::counted("RO access", 1)]),
    CommandSpec::new("sunion", -2, sunion)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::range("RO access", 1, -1, 1)])
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("sunionstore", -3, sunionstore)
        .flags("write denyoom")
        .acl("write set slow")
        .keys(&[KeySpec::at("OW update", 1), KeySpec::range("RO access", 2, -1, 1)]),
    CommandSpec::new("sscan", -3, sscan)
        .flags("readonly")
        .acl("read set slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output"]),
];

/// The set at `loc`, or WRONGTYPE.
#[inline]
pub(crate) fn set_at(db: &Db, loc: Loc) -> Result<SetRef<'_>, CmdError> {
    match db.get(loc).value() {
        Value::Set(s) => Ok(s),
        _ => Err(WRONGTYPE),
    }
}

/// The sets at `locs` (missing keys as `None`), or WRONGTYPE if any key
/// holds another type.
fn sets_at<'a>(db: &'a Db, locs: &[Option<Loc>]) -> Result<Vec<Option<SetRef<'a>>>, CmdError> {
    locs.iter().map(|l| l.map(|l| set_at(db, l)).transpose()).collect()
}

/// A keyspace entry holding a built set.
pub(crate) fn entry_of(key: &[u8], s: SetBuild, lru: u32) -> Entry {
    match s {
        SetBuild::Compact(Compact::Intset, b) => Entry::new_inline(key, Kind::Intset, &b, None, lru),
        SetBuild::Compact(Compact::Lp, b) => Entry::new_inline(key, Kind::SetLp, &b, None, lru),
        SetBuild::Table(t) => Entry::new_obj(key, Box::new(t), None, lru),
    }
}

fn compact_of(k: Kind) -> Option<Compact> {
    match k {
        Kind::Intset => Some(Compact::Intset),
        Kind::SetLp => Some(Compact::Lp),
        _ => None,
    }
}

/// Adds `m` to the stored set at `loc`; true when it was new.
pub(crate) fn set_add(db: &mut Db, loc: Loc, m: &[u8], limits: &Limits) -> bool {
    let mut added = false;
    db.update(loc, |mut e| {
        let Some(mut enc) = compact_of(e.kind()) else {
            added = e.obj_mut::<SetTable>().insert(m);
            return e;
        };
        let before = enc;
        match set::add_compact(&mut e, &mut enc, m, limits) {
            Added::No => {}
            Added::Yes => {
                added = true;
                if enc != before {
                    e.set_inline_kind(Kind::SetLp);
                }
            }
            Added::Table(t) => {
                added = true;
                e = e.with_obj(Box::new(t));
            }
        }
        e
    });
    added
}

/// Removes `m` from the stored set at `loc`; true when it was there.
fn set_remove(db: &mut Db, loc: Loc, m: &[u8]) -> bool {
    let mut removed = false;
    db.update(loc, |mut e| {
        removed = match compact_of(e.kind()) {
            Some(enc) => set::remove_compact(&mut e, enc, m),
            None => e.obj_mut::<SetTable>().remove(m),
        };
        e
    });
    removed
}

/// Writes one element as a bulk string.
fn bulk(out: &mut Out, m: Val<'_>) {
    m.write_bulk(out);
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let limits = ctx.st.cfg.limits;
    let lru = ctx.fresh_lru();
    let found = ctx.lookup_write(argv[1]);
    let db = ctx.db();
    let loc = match found {
        Some(loc) => {
            set_at(db, loc)?;
            loc
        }
        None => {
            let s = match set::initial(argv[2]) {
                Compact::Intset => SetBuild::intset(),
                Compact::Lp => SetBuild::listpack(),
            };
            db.insert(entry_of(argv[1], s, lru))
        }
    };
    let mut added = 0;
    for m in &argv[2..] {
        added += set_add(db, loc, m, &limits) as u64;
    }
    ctx.changed(added);
    if added > 0 {
        ctx.notify(class::SET, "sadd", argv[1]);
    }
    ctx.out.int(added as i64);
    Ok(())
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    set_at(ctx.db(), loc)?;
    let db = ctx.db();
    let mut removed = 0;
    let mut emptied = false;
    for m in &argv[2..] {
        if set_remove(db, loc, m) {
            removed += 1;
            if set_at(db, loc)?.is_empty() {
                db.remove(loc);
                emptied = true;
                break;
            }
        }
    }
    ctx.changed(removed);
    if removed > 0 {
        ctx.notify(class::SET, "srem", argv[1]);
        if emptied {
            ctx.notify(class::GENERIC, "del", argv[1]);
        }
    }
    ctx.out.int(removed as i64);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let yes = match ctx.lookup_read(argv[1]) {
        Some(loc) => set_at(ctx.db(), loc)?.contains(argv[2]),
        None => false,
    };
    ctx.out.int(yes as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let found = ctx.lookup_read(argv[1]);
    let (db, out) = ctx.db_out();
    let s = found.map(|l| set_at(db, l)).transpose()?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => set_at(ctx.db(), loc)?.len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// SMEMBERS key (Redis runs SINTER with one key)
fn smembers(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    inter(ctx, &argv[1..2], None, None)
}

/// Picks `k` of `n` positions uniformly, in ascending order (Knuth's
/// selection sampling).
fn sample_positions(n: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut picked = Vec::with_capacity(k);
    let mut need = k;
    for i in 0..n {
        if need == 0 {
            break;
        }
        if (rng.below((n - i) as u64) as usize) < need {
            picked.push(i);
            need -= 1;
        }
    }
    picked
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(SYNTAX);
    }
    if argv.len() == 2 {
        let Some(loc) = ctx.lookup_read(argv[1]) else {
            ctx.out.null();
            return Ok(());
        };
        let st = &mut *ctx.st;
        let s = set_at(&st.dbs[ctx.client.db], loc)?;
        bulk(ctx.out, s.random(&mut st.rng));
        return Ok(());
    }
    let l = int_range(argv[2], -i64::MAX, i64::MAX)?;
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.array(0);
        return Ok(());
    };
    let st = &mut *ctx.st;
    let s = set_at(&st.dbs[ctx.client.db], loc)?;
    let out = &mut *ctx.out;
    let count = l.unsigned_abs() as usize;
    let size = s.len();
    if count == 0 {
        out.array(0);
    } else if l < 0 || count == 1 {
        // With repetition, in random order.
        out.array(count);
        for _ in 0..count {
            bulk(out, s.random(&mut st.rng));
        }
    } else if count >= size {
        out.array(size);
        s.for_each(|m| bulk(out, m));
    } else if let SetRef::Lp(_) = s {
        // Distinct, in listpack order.
        let picks = sample_positions(size, count, &mut st.rng);
        out.array(count);
        let mut i = 0;
        let mut next = picks.iter().peekable();
        s.for_each(|m| {
            if next.peek() == Some(&&i) {
                next.next();
                bulk(out, m);
            }
            i += 1;
        });
    } else if count * 3 > size {
        // Most of the set: drop random members from a copy.
        let mut all = Vec::with_capacity(size);
        s.for_each(|m| all.push(m));
        while all.len() > count {
            let i = st.rng.below(all.len() as u64) as usize;
            all.swap_remove(i);
        }
        out.array(count);
        all.into_iter().for_each(|m| bulk(out, m));
    } else {
        // A few of many: draw until `count` distinct members.
        let mut seen = std::collections::HashSet::with_capacity(count);
        out.array(count);
        while seen.len() < count {
            let m = s.random(&mut st.rng);
            if seen.insert(m.bytes()) {
                bulk(out, m);
            }
        }
    }
    Ok(())
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(SYNTAX);
    }
    let key = argv[1];
    if argv.len() == 2 {
        let Some(loc) = ctx.lookup_write(key) else {
            ctx.out.null();
            return Ok(());
        };
        let st = &mut *ctx.st;
        let db = &mut st.dbs[ctx.client.db];
        let m = set_at(db, loc)?.random(&mut st.rng).bytes().into_owned();
        set_remove(db, loc, &m);
        let emptied = set_at(db, loc)?.is_empty();
        if emptied {
            db.remove(loc);
        }
        ctx.out.bulk(&m);
        ctx.changed(1);
        ctx.notify(class::SET, "spop", key);
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
        ctx.propagate(vec![b"SREM".to_vec(), key.to_vec(), m]);
        return Ok(());
    }
    let count = positive_count(argv[2])?;
    let Some(loc) = ctx.lookup_write(key) else {
        ctx.out.set(0);
        return Ok(());
    };
    let size = set_at(ctx.db(), loc)?.len();
    if count == 0 {
        ctx.out.set(0);
        ctx.propagate_nothing();
        return Ok(());
    }
    if count >= size {
        // Everything: reply with the whole set and delete the key.
        let s = set_at(&ctx.st.dbs[ctx.client.db], loc)?;
        let out = &mut *ctx.out;
        out.set(size);
        s.for_each(|m| bulk(out, m));
        ctx.delete_at(loc);
        ctx.changed(size as u64);
        ctx.notify(class::SET, "spop", key);
        ctx.notify(class::GENERIC, "del", key);
        ctx.propagate(vec![b"DEL".to_vec(), key.to_vec()]);
        return Ok(());
    }
    let limits = ctx.st.cfg.limits;
    let st = &mut *ctx.st;
    let db = &mut st.dbs[ctx.client.db];
    let remaining = size - count;
    let mut popped: Vec<Vec<u8>> = Vec::with_capacity(count);
    if remaining * 5 > count {
        // A small share: pop random members one by one.
        for _ in 0..count {
            let m = set_at(db, loc)?.random(&mut st.rng).bytes().into_owned();
            set_remove(db, loc, &m);
            popped.push(m);
        }
    } else {
        // Most of the set: pick the members that stay, build a new set of
        // them, and reply with the rest.
        let s = set_at(db, loc)?;
        let keep_pos = sample_positions(size, remaining, &mut st.rng);
        let mut kept = match s {
            SetRef::Intset(_) => SetBuild::intset(),
            _ => SetBuild::listpack(),
        };
        let mut i = 0;
        let mut next = keep_pos.iter().peekable();
        s.for_each(|m| {
            if next.peek() == Some(&&i) {
                next.next();
                kept.add_val(m, &limits);
            } else {
                popped.push(m.bytes().into_owned());
            }
            i += 1;
        });
        let lru = db.get(loc).lru();
        let e = entry_of(key, kept, lru);
        let old = db.replace(loc, e);
        let lazy = st.cfg.lazy_server_del;
        st.drop_value(old, lazy);
    }
    let out = &mut *ctx.out;
    out.set(popped.len());
    for m in &popped {
        out.bulk(m);
    }
    ctx.changed(count as u64);
    ctx.notify(class::SET, "spop", key);
    if ctx.propagating() {
        for batch in popped.chunks(1024) {
            let mut v = Vec::with_capacity(batch.len() + 2);
            v.push(b"SREM".to_vec());
            v.push(key.to_vec());
            v.extend(batch.iter().cloned());
            ctx.propagate(v);
        }
    }
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (src, dst, m) = (argv[1], argv[2], argv[3]);
    let limits = ctx.st.cfg.limits;
    let lru = ctx.fresh_lru();
    let locs = {
        ctx.lookup_write(src);
        ctx.lookup_write(dst);
        let db = ctx.db();
        (db.peek(src), db.peek(dst))
    };
    let Some(sloc) = locs.0 else {
        ctx.out.int(0);
        return Ok(());
    };
    let db = ctx.db();
    set_at(db, sloc)?;
    if let Some(d) = locs.1 {
        set_at(db, d)?;
    }
    if src == dst {
        let yes = set_at(db, sloc)?.contains(m);
        ctx.out.int(yes as i64);
        return Ok(());
    }
    if !set_remove(db, sloc, m) {
        ctx.out.int(0);
        return Ok(());
    }
    let emptied = set_at(db, sloc)?.is_empty();
    if emptied {
        db.remove(sloc);
    }
    ctx.notify(class::SET, "srem", src);
    if emptied {
        ctx.notify(class::GENERIC, "del", src);
    }
    let db = ctx.db();
    let dloc = match db.peek(dst) {
        Some(l) => l,
        None => {
            let s = match set::initial(m) {
                Compact::Intset => SetBuild::intset(),
                Compact::Lp => SetBuild::listpack(),
            };
            db.insert(entry_of(dst, s, lru))
        }
    };
    let added = set_add(db, dloc, m, &limits);
    ctx.changed(1 + added as u64);
    if added {
        ctx.notify(class::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

/// SINTER / SMEMBERS / SINTERSTORE / SINTERCARD (Redis's
/// `sinterGenericCommand`). `card` is the SINTERCARD limit (0 = none).
fn inter(ctx: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>, card: Option<usize>) -> CmdResult {
    let locs = ctx.lookup_read_all(keys, |t| t == crate::types::Type::Set)?;
    let limits = ctx.st.cfg.limits;
    let lru = ctx.fresh_lru();
    let db = &ctx.st.dbs[ctx.client.db];
    let sets = sets_at(db, &locs)?;
    let Some(mut sets) = sets.into_iter().collect::<Option<Vec<SetRef<'_>>>>() else {
        // An empty input: an empty result.
        return match (dst, card) {
            (Some(d), _) => store_result(ctx, d, SetBuild::intset(), lru),
            (None, Some(_)) => {
                ctx.out.int(0);
                Ok(())
            }
            (None, None) => {
                ctx.out.set(0);
                Ok(())
            }
        };
    };
    sets.sort_by_key(|s| s.len());
    let first = sets[0];
    let rest = &sets[1..];
    let each = |f: &mut dyn FnMut(Val<'_>) -> bool| {
        let mut stop = false;
        first.for_each(|m| {
            if !stop && rest.iter().all(|s| s.contains_val(m)) {
                stop = !f(m);
            }
        });
    };
    match (dst, card) {
        (None, Some(limit)) => {
            let mut n = 0usize;
            each(&mut |_| {
                n += 1;
                limit == 0 || n < limit
            });
            ctx.out.int(n as i64);
        }
        (None, None) => {
            let out = &mut *ctx.out;
            let d = out.defer();
            let mut n = 0;
            each(&mut |m| {
                bulk(out, m);
                n += 1;
                true
            });
            out.fill(d, ferrokv_resp::encode::Aggregate::Set, n);
        }
        (Some(d), _) => {
            let mut result = SetBuild::intset();
            each(&mut |m| {
                result.add_val(m, &limits);
                true
            });
            return store_result(ctx, d, result, lru);
        }
    }
    Ok(())
}

/// Stores a SINTERSTORE/SUNIONSTORE/SDIFFSTORE result at `dst` (any old
/// value of any type goes), or deletes `dst` when the result is empty.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: SetBuild, lru: u32) -> CmdResult {
    // An empty result deletes `dst` as it is, even when expired (Redis's
    // plain `dbDelete`: a `del`, not an `expired`).
    let found = if result.is_empty() { ctx.db().peek(dst) } else { ctx.lookup_write(dst) };
    if result.is_empty() {
        ctx.out.int(0);
        match found {
            Some(loc) => {
                ctx.delete_at(loc);
                ctx.changed(1);
                ctx.notify(class::GENERIC, "del", dst);
            }
            None => ctx.propagate_nothing(),
        }
        return Ok(());
    }
    let n = result.len();
    ctx.set_key(found, entry_of(dst, result, lru));
    ctx.out.int(n as i64);
    ctx.changed(1);
    // The event is the command's name: sinterstore, sunionstore, sdiffstore.
    let event = ctx.cmd.spec.name;
    ctx.notify(class::SET, event, dst);
    Ok(())
}

/// SUNION / SDIFF and their STORE forms (Redis's `sunionDiffGenericCommand`).
fn union_diff(ctx: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>, diff: bool) -> CmdResult {
    let locs = ctx.lookup_read_all(keys, |t| t == crate::types::Type::Set)?;
    let limits = ctx.st.cfg.limits;
    let lru = ctx.fresh_lru();
    let db = &ctx.st.dbs[ctx.client.db];
    let sets = sets_at(db, &locs)?;
    let mut result = SetBuild::intset();
    if !diff {
        for s in sets.iter().flatten() {
            s.for_each(|m| {
                result.add_val(m, &limits);
            });
        }
    } else if let Some(first) = sets[0] {
        // Any later key that is the first key again empties the result.
        let same = keys[1..].contains(&keys[0]);
        if !same {
            let rest: Vec<SetRef<'_>> = sets[1..].iter().flatten().copied().collect();
            first.for_each(|m| {
                if !rest.iter().any(|s| s.contains_val(m)) {
                    result.add_val(m, &limits);
                }
            });
        }
    }
    match dst {
        Some(d) => store_result(ctx, d, result, lru),
        None => {
            let out = &mut *ctx.out;
            out.set(result.len());
            result.view().for_each(|m| bulk(out, m));
            Ok(())
        }
    }
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    inter(ctx, &argv[1..], None, None)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    inter(ctx, &argv[2..], Some(argv[1]), None)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let numkeys = numkeys(argv[1])?;
    if numkeys > argv.len() - 2 {
        return Err(CmdError::fixed("ERR Number of keys can't be greater than number of args"));
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if is(argv[j], "limit") && j + 1 < argv.len() {
            j += 1;
            limit = match ferrokv_resp::num::parse_i64(argv[j]) {
                Some(v) if v >= 0 => v as usize,
                _ => return Err(CmdError::fixed("ERR LIMIT can't be negative")),
            };
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    inter(ctx, &argv[2..2 + numkeys], None, Some(limit))
}

/// A `numkeys` argument: 1 or more, with Redis's one error for anything else.
pub(crate) fn numkeys(arg: &[u8]) -> Result<usize, CmdError> {
    match ferrokv_resp::num::parse_i64(arg) {
        Some(v) if v >= 1 => Ok(v as usize),
        _ => Err(CmdError::fixed("ERR numkeys should be greater than 0")),
    }
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &argv[1..], None, false)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &argv[2..], Some(argv[1]), false)
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &argv[1..], None, true)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_diff(ctx, &argv[2..], Some(argv[1]), true)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2])?;
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        scan_reply::<&[u8]>(ctx.out, 0, &[]);
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let s = set_at(db, loc)?;
    let o = parse_scan_opts(argv, 3, false)?;
    let keep = |m: &[u8]| o.pattern.is_none_or(|p| glob_match(p, m));
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = match s {
        SetRef::Table(t) => scan_loop(cursor, o.count, |c| {
            let mut n = 0;
            let next = t.scan(c, |m| {
                n += 1;
                if keep(m) {
                    items.push(m.to_vec());
                }
            });
            (next, n)
        }),
        _ => {
            s.for_each(|m| {
                let m = m.bytes();
                if keep(&m) {
                    items.push(m.into_owned());
                }
            });
            0
        }
    };
    scan_reply(out, next, &items);
    Ok(())
}
