//! Sorted set commands: ZADD and friends, ranks and ranges (by rank, score
//! and member), pops, random members, the algebra (ZUNION, ZINTER, ZDIFF and
//! their STORE forms), ZSCAN and the blocking pops.

use super::keys::{parse_cursor, parse_scan_opts, scan_loop, scan_reply};
use super::set::numkeys;
use crate::blocking::{self, BlockOp};
use crate::command::args::{int, int_range, is, positive_count};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, NOT_FLOAT, SYNTAX, WRONGTYPE};
use crate::glob::glob_match;
use crate::keyspace::{Db, Entry, Kind, Loc, Value};
use crate::notify::{self, class};
use crate::state::State;
use crate::types::listpack::{self as lp, Val};
use crate::types::set::SetRef;
use crate::types::zset::{self as zs, LexRange, ScoreRange, ZSet, ZsetRef};
use crate::types::Limits;
use ferrokv_resp::num::i64_to_vec;
use ferrokv_resp::Out;

/// The sorted set family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, zadd)
        .flags("write denyoom fast")
        .acl("write sortedset fast")
        .keys(&[KeySpec::at("RW update", 1)]),
    CommandSpec::new("zrem", -3, zrem)
        .flags("write fast")
        .acl("write sortedset fast")
        .keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("zcard", 2, zcard).flags("readonly fast").acl("read sortedset fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("zscore", 3, zscore)
        .flags("readonly fast")
        .acl("read sortedset fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zmscore", -3, zmscore)
        .flags("readonly fast")
        .acl("read sortedset fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zincrby", 4, zincrby)
        .flags("write denyoom fast")
        .acl("write sortedset fast")
        .keys(&[KeySpec::at("RW access update", 1)]),
    CommandSpec::new("zcount", 4, zcount)
        .flags("readonly fast")
        .acl("read sortedset fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zlexcount", 4, zlexcount)
        .flags("readonly fast")
        .acl("read sortedset fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrank", 3, zrank)
        .flags("readonly fast")
        .acl("read sortedset fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrevrank", 3, zrevrank)
        .flags("readonly fast")
        .acl("read sortedset fast")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrange", -4, zrange)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrangestore", -5, zrangestore)
        .flags("write denyoom")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("OW update", 1), KeySpec::at("RO access", 2)]),
    CommandSpec::new("zrevrange", -4, zrevrange)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrangebyscore", -4, zrangebyscore)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrevrangebyscore", -4, zrevrangebyscore)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrangebylex", -4, zrangebylex)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zrevrangebylex", -4, zrevrangebylex)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("zremrangebyrank", 4, zremrangebyrank)
        .flags("write")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("zremrangebyscore", 4, zremrangebyscore)
        .flags("write")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("zremrangebylex", 4, zremrangebylex)
        .flags("write")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("zpopmin", -2, zpopmin)
        .flags("write fast")
        .acl("write sortedset fast")
        .keys(&[KeySpec::at("RW access delete", 1)]),
    CommandSpec::new("zpopmax", -2, zpopmax)
        .flags("write fast")
        .acl("write sortedset fast")
        .keys(&[KeySpec::at("RW access delete", 1)]),
    CommandSpec::new("zmpop", -4, zmpop)
        .flags("write")
        .acl("write sortedset slow")
        .keys(&[KeySpec::counted("RW access delete", 1)]),
    CommandSpec::new("zrandmember", -2, zrandmember)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("zinter", -3, zinter)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::counted("RO access", 1)]),
    CommandSpec::new("zunion", -3, zunion)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::counted("RO access", 1)]),
    CommandSpec::new("zdiff", -3, zdiff)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::counted("RO access", 1)]),
    CommandSpec::new("zinterstore", -4, zinterstore)
        .flags("write denyoom")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("OW update", 1), KeySpec::counted("RO access", 2)]),
    CommandSpec::new("zunionstore", -4, zunionstore)
        .flags("write denyoom")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("OW update", 1), KeySpec::counted("RO access", 2)]),
    CommandSpec::new("zdiffstore", -4, zdiffstore)
        .flags("write denyoom")
        .acl("write sortedset slow")
        .keys(&[KeySpec::at("OW update", 1), KeySpec::counted("RO access", 2)]),
    CommandSpec::new("zintercard", -3, zintercard)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::counted("RO access", 1)]),
    CommandSpec::new("zscan", -3, zscan)
        .flags("readonly")
        .acl("read sortedset slow")
        .keys(&[KeySpec::at("RO access", 1)])
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("bzpopmin", -3, bzpopmin)
        .flags("write noscript blocking fast")
        .acl("write sortedset fast blocking")
        .keys(&[KeySpec::range("RW access delete", 1, -2, 1)]),
    CommandSpec::new("bzpopmax", -3, bzpopmax)
        .flags("write noscript blocking fast")
        .acl("write sortedset fast blocking")
        .keys(&[KeySpec::range("RW access delete", 1, -2, 1)]),
    CommandSpec::new("bzmpop", -5, bzmpop)
        .flags("write blocking")
        .acl("write sortedset slow blocking")
        .keys(&[KeySpec::counted("RW access delete", 2)]),
];

const NAN_SCORE: CmdError = CmdError::fixed("ERR resulting score is not a number (NaN)");
const BAD_RANGE: CmdError = CmdError::fixed("ERR min or max is not a float");
const BAD_LEX: CmdError = CmdError::fixed("ERR min or max not valid string range item");

/// The sorted set at `loc`, or WRONGTYPE.
#[inline]
pub(crate) fn zset_at(db: &Db, loc: Loc) -> Result<ZsetRef<'_>, CmdError> {
    match db.get(loc).value() {
        Value::Zset(z) => Ok(z),
        _ => Err(WRONGTYPE),
    }
}

/// A score argument (ZADD, ZINCRBY).
fn score_arg(a: &[u8]) -> Result<f64, CmdError> {
    zs::parse_score(a).ok_or(NOT_FLOAT)
}

/// The table and tree holding the members of a listpack sorted set.
fn lp_to_tree(l: &[u8]) -> ZSet {
    let mut z = ZSet::default();
    ZsetRef::Lp(l).walk(0, false, |m, s| {
        z.insert(&m.bytes(), s);
        true
    });
    z
}

/// ZADD's per-member options.
#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// What adding one member did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Added {
    /// A new member.
    New,
    /// An existing member got another score.
    Updated,
    /// The score was unchanged.
    Same,
    /// Skipped because of NX, XX, GT or LT.
    Nop,
}

/// Redis's `zsetAdd` on the stored sorted set at `loc`: the outcome and
/// the member's resulting score, or an error for a NaN result.
fn zset_add(
    db: &mut Db,
    loc: Loc,
    limits: &Limits,
    m: &[u8],
    score: f64,
    f: AddFlags,
) -> Result<(Added, f64), CmdError> {
    let mut result = Ok((Added::Nop, score));
    db.update(loc, |mut e| {
        let apply = |cur: f64| -> Result<Option<f64>, CmdError> {
            if f.nx {
                return Ok(None);
            }
            let s = if f.incr { score + cur } else { score };
            if s.is_nan() {
                return Err(NAN_SCORE);
            }
            if (f.lt && s >= cur) || (f.gt && s <= cur) {
                return Ok(None);
            }
            Ok(Some(s))
        };
        if e.kind() == Kind::ZsetLp {
            match zs::lp_find(e.payload(), m) {
                Some((ep, cur)) => {
                    result = apply(cur).map(|r| match r {
                        None => (Added::Nop, cur),
                        Some(s) if s == cur => (Added::Same, s),
                        Some(s) => {
                            zs::lp_delete(&mut e, ep);
                            zs::lp_insert(&mut e, m, s);
                            (Added::Updated, s)
                        }
                    });
                    return e;
                }
                None if f.xx => return e,
                None => {
                    let l = e.payload();
                    if zs::lp_len(l) < limits.zset_max_listpack_entries && m.len() <= limits.zset_max_listpack_value {
                        zs::lp_insert(&mut e, m, score);
                        result = Ok((Added::New, score));
                        return e;
                    }
                    let z = lp_to_tree(l);
                    e = e.with_obj(Box::new(z));
                }
            }
        }
        let z = e.obj_mut::<ZSet>();
        match z.score(m) {
            Some(cur) => {
                result = apply(cur).map(|r| match r {
                    None => (Added::Nop, cur),
                    Some(s) if s == cur => (Added::Same, s),
                    Some(s) => {
                        z.update(m, s);
                        (Added::Updated, s)
                    }
                })
            }
            None if f.xx => {}
            None => {
                z.insert(m, score);
                result = Ok((Added::New, score));
            }
        }
        e
    });
    result
}

/// Removes `m`; true when it was there. The caller deletes an emptied key.
fn zset_del(db: &mut Db, loc: Loc, m: &[u8]) -> bool {
    let mut removed = false;
    db.update(loc, |mut e| {
        if e.kind() == Kind::ZsetLp {
            if let Some((ep, _)) = zs::lp_find(e.payload(), m) {
                zs::lp_delete(&mut e, ep);
                removed = true;
            }
        } else {
            removed = e.obj_mut::<ZSet>().remove(m).is_some();
        }
        e
    });
    removed
}

/// Removes the members of ascending ranks `[lo, hi)`, deleting the key when
/// it empties; returns how many went.
fn remove_ranks(db: &mut Db, loc: Loc, lo: usize, hi: usize) -> usize {
    if hi <= lo {
        return 0;
    }
    let mut left = 0;
    db.update(loc, |mut e| {
        if e.kind() == Kind::ZsetLp {
            let ep = lp::seek(e.payload(), 2 * lo as i64).expect("rank below length");
            lp::delete(&mut e, ep, 2 * (hi - lo));
            left = zs::lp_len(e.payload());
        } else {
            let z = e.obj_mut::<ZSet>();
            z.remove_ranks(lo, hi);
            left = z.len();
        }
        e
    });
    if left == 0 {
        db.remove(loc);
    }
    hi - lo
}

/// Pops up to `count` members from the low (or, `max`, the high) end,
/// deleting the key when it empties.
pub(crate) fn pop_members(db: &mut Db, loc: Loc, max: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
    let z = zset_at(db, loc).expect("checked by the caller");
    let len = z.len();
    let n = count.min(len);
    let mut out = Vec::with_capacity(n);
    z.walk(if max { len - 1 } else { 0 }, max, |m, s| {
        out.push((m.bytes().into_owned(), s));
        out.len() < n
    });
    let (lo, hi) = if max { (len - n, len) } else { (0, n) };
    remove_ranks(db, loc, lo, hi);
    out
}

/// Sorted-set results being stored (ZRANGESTORE and the *STORE algebra),
/// with the encoding rules of a stored sorted set.
enum ZBuild {
    Lp(Vec<u8>),
    Tree(ZSet),
}

impl ZBuild {
    /// Redis's `zrangeResultBeginStore`: a tree when more members than a
    /// listpack holds are expected (`hint` < 0 when unknown).
    fn new(hint: i64, limits: &Limits) -> ZBuild {
        if hint > limits.zset_max_listpack_entries as i64 {
            ZBuild::Tree(ZSet::default())
        } else {
            ZBuild::Lp(lp::new())
        }
    }

    /// Adds a member not yet present.
    fn add_new(&mut self, m: &[u8], s: f64, limits: &Limits) {
        if let ZBuild::Lp(l) = self {
            if zs::lp_len(l) < limits.zset_max_listpack_entries && m.len() <= limits.zset_max_listpack_value {
                zs::lp_insert(l, m, s);
                return;
            }
            *self = ZBuild::Tree(lp_to_tree(l));
        }
        if let ZBuild::Tree(z) = self {
            z.insert(m, s);
        }
    }

    /// From members already in order, as Redis's `zsetConvertToListpackIfNeeded`
    /// leaves them: a listpack when they fit one.
    fn from_sorted(items: &[(Vec<u8>, f64)], limits: &Limits) -> ZBuild {
        let maxlen = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if items.len() <= limits.zset_max_listpack_entries && maxlen <= limits.zset_max_listpack_value {
            let mut l = lp::new();
            for (m, s) in items {
                lp::push_back(&mut l, m);
                lp::push_back(&mut l, &zs::score_text(*s));
            }
            ZBuild::Lp(l)
        } else {
            let mut z = ZSet::default();
            for (m, s) in items {
                z.insert(m, *s);
            }
            ZBuild::Tree(z)
        }
    }

    fn len(&self) -> usize {
        match self {
            ZBuild::Lp(l) => zs::lp_len(l),
            ZBuild::Tree(z) => z.len(),
        }
    }

    fn into_entry(self, key: &[u8], lru: u32) -> Entry {
        match self {
            ZBuild::Lp(l) => Entry::new_inline(key, Kind::ZsetLp, &l, None, lru),
            ZBuild::Tree(z) => Entry::new_obj(key, Box::new(z), None, lru),
        }
    }
}

/// Stores a result at `dst` (replacing any value) or, when empty, deletes
/// `dst`; replies with the number of members.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: ZBuild) -> CmdResult {
    let n = result.len();
    // An empty result deletes `dst` as it is, even when expired (Redis's
    // plain `dbDelete`: a `del`, not an `expired`).
    let found = if n == 0 { ctx.db().peek(dst) } else { ctx.lookup_write(dst) };
    if n == 0 {
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
    let lru = ctx.fresh_lru();
    ctx.set_key(found, result.into_entry(dst, lru));
    ctx.out.int(n as i64);
    ctx.changed(1);
    // The event is the command's name: zunionstore, zinterstore,
    // zdiffstore, zrangestore.
    let event = ctx.cmd.spec.name;
    ctx.notify(class::ZSET, event, dst);
    Ok(())
}

/// Writes a member and, when asked, its score: RESP3 pairs them in an
/// array of two.
fn emit(out: &mut Out, m: Val<'_>, s: f64, withscores: bool) {
    if withscores && out.resp3() {
        out.array(2);
    }
    m.write_bulk(out);
    if withscores {
        out.double(s);
    }
}

/// The array header for `n` members, with or without scores.
fn emit_len(out: &mut Out, n: usize, withscores: bool) {
    out.array(if withscores && !out.resp3() { 2 * n } else { n });
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, simple reads.

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, argv, false)
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, argv, true)
}

/// Redis's `zaddGenericCommand`.
fn zadd_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], zincrby: bool) -> CmdResult {
    let mut f = AddFlags { incr: zincrby, ..Default::default() };
    let mut ch = false;
    let mut at = 2;
    while at < argv.len() {
        let o = argv[at];
        if is(o, "nx") {
            f.nx = true;
        } else if is(o, "xx") {
            f.xx = true;
        } else if is(o, "ch") {
            ch = true;
        } else if is(o, "incr") {
            f.incr = true;
        } else if is(o, "gt") {
            f.gt = true;
        } else if is(o, "lt") {
            f.lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let pairs = argv.len() - at;
    if pairs % 2 == 1 || pairs == 0 {
        return Err(SYNTAX);
    }
    if f.nx && f.xx {
        return Err(CmdError::fixed("ERR XX and NX options at the same time are not compatible"));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(CmdError::fixed("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && pairs > 2 {
        return Err(CmdError::fixed("ERR INCR option supports a single increment-element pair"));
    }
    let scores = argv[at..].chunks(2).map(|p| score_arg(p[0])).collect::<Result<Vec<f64>, _>>()?;
    let limits = ctx.st.cfg.limits;
    let key = argv[1];
    let found = ctx.lookup_write(key);
    let loc = match found {
        Some(loc) => {
            zset_at(ctx.db(), loc)?;
            Some(loc)
        }
        None if f.xx => None,
        None => {
            let lru = ctx.fresh_lru();
            let first = argv[at + 1];
            let e = if limits.zset_max_listpack_entries == 0 || limits.zset_max_listpack_value < first.len() {
                Entry::new_obj(key, Box::<ZSet>::default(), None, lru)
            } else {
                Entry::new_inline(key, Kind::ZsetLp, &lp::new(), None, lru)
            };
            Some(ctx.db().insert(e))
        }
    };
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last = 0.0;
    if let Some(loc) = loc {
        for (pair, &score) in argv[at..].chunks(2).zip(&scores) {
            let (what, s) = match zset_add(ctx.db(), loc, &limits, pair[1], score, f) {
                Ok(r) => r,
                Err(e) => {
                    // Earlier members stay added, as in Redis.
                    ctx.changed(added + updated);
                    if added + updated > 0 {
                        ctx.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
                    }
                    return Err(e);
                }
            };
            match what {
                Added::New => added += 1,
                Added::Updated => updated += 1,
                _ => {}
            }
            if what != Added::Nop {
                processed += 1;
            }
            last = s;
        }
    }
    ctx.changed(added + updated);
    if added + updated > 0 {
        ctx.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if f.incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int((if ch { added + updated } else { added }) as i64);
    }
    Ok(())
}

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    zset_at(ctx.db(), loc)?;
    let db = ctx.db();
    let mut deleted = 0;
    let mut emptied = false;
    for m in &argv[2..] {
        if zset_del(db, loc, m) {
            deleted += 1;
        }
        if zset_at(db, loc)?.is_empty() {
            db.remove(loc);
            emptied = true;
            break;
        }
    }
    ctx.changed(deleted);
    if deleted > 0 {
        ctx.notify(class::ZSET, "zrem", argv[1]);
        if emptied {
            ctx.notify(class::GENERIC, "del", argv[1]);
        }
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => zset_at(ctx.db(), loc)?.len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let s = match ctx.lookup_read(argv[1]) {
        Some(loc) => zset_at(ctx.db(), loc)?.score(argv[2]),
        None => None,
    };
    match s {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let found = ctx.lookup_read(argv[1]);
    let (db, out) = ctx.db_out();
    let z = found.map(|l| zset_at(db, l)).transpose()?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

/// ZRANK / ZREVRANK key member
fn rank_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]], rev: bool) -> CmdResult {
    let r = match ctx.lookup_read(argv[1]) {
        Some(loc) => {
            let z = zset_at(ctx.db(), loc)?;
            z.rank(argv[2]).map(|r| if rev { z.len() - 1 - r } else { r })
        }
        None => None,
    };
    match r {
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

/// ZRANK key member
fn zrank(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rank_cmd(ctx, argv, false)
}

/// ZREVRANK key member
fn zrevrank(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    rank_cmd(ctx, argv, true)
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let r = ScoreRange::parse(argv[2], argv[3]).ok_or(BAD_RANGE)?;
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) if !r.is_empty() => {
            let (lo, hi) = zset_at(ctx.db(), loc)?.score_span(&r);
            hi - lo
        }
        Some(loc) => {
            zset_at(ctx.db(), loc)?;
            0
        }
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let r = LexRange::parse(argv[2], argv[3]).ok_or(BAD_LEX)?;
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) if !r.is_empty() => {
            let (lo, hi) = zset_at(ctx.db(), loc)?.lex_span(&r);
            hi - lo
        }
        Some(loc) => {
            zset_at(ctx.db(), loc)?;
            0
        }
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// The ZRANGE family.

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// Redis's rank normalisation: ascending ranks `[start, end]`, or `None`.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let end = if end < 0 { len + end } else { end };
    start = start.max(0);
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// The members a ZRANGE-like request selects: starting ascending rank,
/// direction and count.
fn select(
    z: ZsetRef<'_>,
    by: By,
    rev: bool,
    args: (&[u8], &[u8]),
    offset: i64,
    limit: i64,
) -> Result<(usize, usize), ()> {
    let len = z.len();
    let (lo, hi) = match by {
        By::Rank => unreachable!("rank ranges are resolved by the caller"),
        By::Score => {
            let r = ScoreRange::parse(args.0, args.1).ok_or(())?;
            if r.is_empty() {
                (0, 0)
            } else {
                z.score_span(&r)
            }
        }
        By::Lex => {
            let r = LexRange::parse(args.0, args.1).ok_or(())?;
            if r.is_empty() {
                (0, 0)
            } else {
                z.lex_span(&r)
            }
        }
    };
    if offset < 0 || (offset > 0 && offset as usize >= len) || hi <= lo {
        return Ok((0, 0));
    }
    let avail = (hi - lo).saturating_sub(offset as usize);
    let n = if limit < 0 { avail } else { avail.min(limit as usize) };
    let first = if rev { hi - 1 - offset as usize } else { lo + offset as usize };
    Ok((first, n))
}

/// Redis's `zrangeGenericCommand`: ZRANGE, ZRANGESTORE and the older
/// ZREVRANGE / Z[REV]RANGEBY{SCORE,LEX} forms. `key_at` is the source key's
/// index; `store` the destination for ZRANGESTORE; `by` and `rev` are fixed
/// by the older forms.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    argv: &[&[u8]],
    key_at: usize,
    store: Option<&[u8]>,
    by: Option<By>,
    rev: Option<bool>,
) -> CmdResult {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = key_at + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j];
        if store.is_none() && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = int(argv[j + 1])?;
            limit = int(argv[j + 2])?;
            j += 2;
        } else if rev.is_none() && rev_opt.is_none() && is(a, "rev") {
            rev_opt = Some(true);
        } else if by.is_none() && by_opt.is_none() && is(a, "bylex") {
            by_opt = Some(By::Lex);
        } else if by.is_none() && by_opt.is_none() && is(a, "byscore") {
            by_opt = Some(By::Score);
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let by = by_opt.unwrap_or(By::Rank);
    let rev = rev_opt.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        return Err(CmdError::fixed(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::fixed("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut a, mut b) = (argv[key_at + 1], argv[key_at + 2]);
    if rev && by != By::Rank {
        std::mem::swap(&mut a, &mut b);
    }
    // Every parse error comes before the key is looked at.
    let ranks = match by {
        By::Rank => Some((int(a)?, int(b)?)),
        By::Score => {
            ScoreRange::parse(a, b).ok_or(BAD_RANGE)?;
            None
        }
        By::Lex => {
            LexRange::parse(a, b).ok_or(BAD_LEX)?;
            None
        }
    };
    let limits = ctx.st.cfg.limits;
    let Some(loc) = ctx.lookup_read(argv[key_at]) else {
        return match store {
            Some(d) => store_result(ctx, d, ZBuild::new(-1, &limits)),
            None => {
                ctx.out.array(0);
                Ok(())
            }
        };
    };
    let db = &ctx.st.dbs[ctx.client.db];
    let z = zset_at(db, loc)?;
    let (first, n, hint) = match ranks {
        Some((s, e)) => match rank_range(s, e, z.len()) {
            None => (0, 0, 0),
            Some((s, e)) => {
                let first = if rev { z.len() - 1 - s } else { s };
                (first, e - s + 1, (e - s + 1) as i64)
            }
        },
        None => {
            let (first, n) = select(z, by, rev, (a, b), offset, limit).expect("parsed above");
            (first, n, -1)
        }
    };
    match store {
        None => {
            let out = &mut *ctx.out;
            emit_len(out, n, withscores);
            if n > 0 {
                let mut left = n;
                z.walk(first, rev, |m, s| {
                    emit(out, m, s, withscores);
                    left -= 1;
                    left > 0
                });
            }
            Ok(())
        }
        Some(d) => {
            let mut result = ZBuild::new(hint, &limits);
            if n > 0 {
                let mut left = n;
                z.walk(first, rev, |m, s| {
                    result.add_new(&m.bytes(), s, &limits);
                    left -= 1;
                    left > 0
                });
            }
            store_result(ctx, d, result)
        }
    }
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, None, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 2, Some(argv[1]), None, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(By::Rank), Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(By::Score), Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(By::Score), Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(By::Lex), Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(By::Lex), Some(true))
}

/// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX key min max
fn zremrange(ctx: &mut Ctx<'_>, argv: &[&[u8]], by: By) -> CmdResult {
    enum R {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let r = match by {
        By::Rank => R::Rank(int(argv[2])?, int(argv[3])?),
        By::Score => R::Score(ScoreRange::parse(argv[2], argv[3]).ok_or(BAD_RANGE)?),
        By::Lex => R::Lex(LexRange::parse(argv[2], argv[3]).ok_or(BAD_LEX)?),
    };
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    let db = ctx.db();
    let z = zset_at(db, loc)?;
    let (lo, hi) = match r {
        R::Rank(s, e) => match rank_range(s, e, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
        R::Score(r) if !r.is_empty() => z.score_span(&r),
        R::Lex(r) if !r.is_empty() => z.lex_span(&r),
        _ => (0, 0),
    };
    let n = remove_ranks(db, loc, lo, hi);
    ctx.changed(n as u64);
    if n > 0 {
        // zremrangebyrank, zremrangebyscore, zremrangebylex.
        let event = ctx.cmd.spec.name;
        ctx.notify(class::ZSET, event, argv[1]);
        if ctx.db().peek(argv[1]).is_none() {
            ctx.notify(class::GENERIC, "del", argv[1]);
        }
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zremrange(ctx, argv, By::Rank)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zremrange(ctx, argv, By::Score)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zremrange(ctx, argv, By::Lex)
}

// ---------------------------------------------------------------------------
// Pops.

/// Writes popped members: flat (member, score, ...) or RESP3 pairs.
fn emit_popped(out: &mut Out, popped: &[(Vec<u8>, f64)], nested: bool) {
    for (m, s) in popped {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(*s);
    }
}

/// ZPOPMIN / ZPOPMAX key [count]
fn zpop_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(SYNTAX);
    }
    let count = argv.get(2).map(|c| positive_count(c)).transpose()?;
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.array(0);
        return Ok(());
    };
    zset_at(ctx.db(), loc)?;
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let nested = ctx.out.resp3() && count.is_some();
    let popped = pop_members(ctx.db(), loc, max, count.unwrap_or(1));
    ctx.out.array(if nested { popped.len() } else { popped.len() * 2 });
    emit_popped(ctx.out, &popped, nested);
    ctx.changed(popped.len() as u64);
    notify_popped_ctx(ctx, argv[1], max, popped.len());
    Ok(())
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zpop_cmd(ctx, argv, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    zpop_cmd(ctx, argv, true)
}

/// Announces `n` members popped from `key` in database `db` and, when the
/// set emptied (the key is gone), its deletion.
fn notify_popped(st: &mut State, db: usize, key: &[u8], max: bool, n: usize, mut current: Option<(u64, &mut Out)>) {
    if n == 0 || st.cfg.notify_flags == 0 {
        return;
    }
    let event = if max { "zpopmax" } else { "zpopmin" };
    notify::notify(st, class::ZSET, event, key, db, current.as_mut().map(|(id, o)| (*id, &mut **o)));
    if st.dbs[db].peek(key).is_none() {
        notify::notify(st, class::GENERIC, "del", key, db, current);
    }
}

fn notify_popped_ctx(ctx: &mut Ctx<'_>, key: &[u8], max: bool, n: usize) {
    let db = ctx.client.db;
    notify_popped(ctx.st, db, key, max, n, Some((ctx.client.id, &mut *ctx.out)));
}

/// The propagated form of a pop: `ZPOPMIN|ZPOPMAX key [n]`.
fn pop_form(max: bool, key: &[u8], n: Option<usize>) -> Vec<Vec<u8>> {
    let mut v = vec![if max { b"ZPOPMAX".to_vec() } else { b"ZPOPMIN".to_vec() }, key.to_vec()];
    if let Some(n) = n {
        v.push(i64_to_vec(n as i64));
    }
    v
}

/// Pops from the first existing sorted set among `keys`: BZPOPMIN's
/// `[key, member, score]` (`count` None) or ZMPOP's `[key, [[m, s]...]]`.
/// False when every key is missing.
fn mpop_in(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    max: bool,
    count: Option<usize>,
    blocking: bool,
) -> Result<bool, CmdError> {
    for k in keys {
        let Some(loc) = ctx.lookup_write(k) else { continue };
        let len = zset_at(ctx.db(), loc)?.len();
        if len == 0 {
            continue;
        }
        if blocking {
            // The blocking forms look the key up, then pop as ZPOP does,
            // which looks it up again: two accesses under LFU.
            let now = ctx.now_ms;
            ctx.db().touch(loc, now);
        }
        let popped = pop_members(ctx.db(), loc, max, count.unwrap_or(1));
        write_mpop(ctx.out, k, &popped, count.is_some());
        ctx.changed(popped.len() as u64);
        notify_popped_ctx(ctx, k, max, popped.len());
        if blocking || count.is_some() {
            ctx.propagate(pop_form(max, k, count.map(|c| c.min(len))));
        }
        return Ok(true);
    }
    Ok(false)
}

/// The reply of BZPOPMIN/BZPOPMAX (`multi` false) or ZMPOP/BZMPOP.
fn write_mpop(out: &mut Out, key: &[u8], popped: &[(Vec<u8>, f64)], multi: bool) {
    if multi {
        out.array(2);
        out.bulk(key);
        out.array(popped.len());
        emit_popped(out, popped, true);
    } else {
        out.array(3);
        out.bulk(key);
        emit_popped(out, popped, false);
    }
}

/// Parsed `numkeys key... MIN|MAX [COUNT n]` of ZMPOP/BZMPOP.
fn parse_zmpop<'a>(argv: &'a [&'a [u8]], numkeys_at: usize) -> Result<(&'a [&'a [u8]], bool, usize), CmdError> {
    let n = numkeys(argv[numkeys_at])?;
    let where_at = numkeys_at.checked_add(n).and_then(|x| x.checked_add(1)).filter(|&w| w < argv.len());
    let Some(where_at) = where_at else { return Err(SYNTAX) };
    let max = if is(argv[where_at], "min") {
        false
    } else if is(argv[where_at], "max") {
        true
    } else {
        return Err(SYNTAX);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < argv.len() {
        if count.is_none() && is(argv[j], "count") && j + 1 < argv.len() {
            count = Some(match ferrokv_resp::num::parse_i64(argv[j + 1]) {
                Some(v) if v >= 1 => v as usize,
                _ => return Err(CmdError::fixed("ERR count should be greater than 0")),
            });
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((&argv[numkeys_at + 1..where_at], max, count.unwrap_or(1)))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_zmpop(argv, 1)?;
    if !mpop_in(ctx, keys, max, Some(count), false)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// BZPOPMIN / BZPOPMAX key [key ...] timeout
fn bzpop_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]], max: bool) -> CmdResult {
    let timeout = blocking::parse_timeout(argv[argv.len() - 1], ctx.now_ms)?;
    let keys = &argv[1..argv.len() - 1];
    if !mpop_in(ctx, keys, max, None, true)? {
        blocking::block(ctx, keys, timeout, BlockOp::ZPop { max }, true);
    }
    Ok(())
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bzpop_cmd(ctx, argv, false)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bzpop_cmd(ctx, argv, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_zmpop(argv, 2)?;
    let timeout = blocking::parse_timeout(argv[1], ctx.now_ms)?;
    if !mpop_in(ctx, keys, max, Some(count), true)? {
        blocking::block(ctx, keys, timeout, BlockOp::ZMPop { max, count }, true);
    }
    Ok(())
}

/// Serves a client blocked in BZPOPMIN/BZPOPMAX (`count` None) or BZMPOP
/// from the sorted set at `loc`.
pub(crate) fn serve_pop(
    st: &mut State,
    db: usize,
    loc: Loc,
    key: &[u8],
    max: bool,
    count: Option<usize>,
    out: &mut Out,
) -> Vec<Vec<u8>> {
    let len = zset_at(&st.dbs[db], loc).expect("checked by the caller").len();
    let popped = pop_members(&mut st.dbs[db], loc, max, count.unwrap_or(1));
    write_mpop(out, key, &popped, count.is_some());
    st.dirty += popped.len() as u64;
    notify_popped(st, db, key, max, popped.len(), None);
    pop_form(max, key, count.map(|c| c.min(len)))
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER and ZSCAN.

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() == 2 {
        let Some(loc) = ctx.lookup_read(argv[1]) else {
            ctx.out.null();
            return Ok(());
        };
        let st = &mut *ctx.st;
        let z = zset_at(&st.dbs[ctx.client.db], loc)?;
        z.random(&mut st.rng).0.write_bulk(ctx.out);
        return Ok(());
    }
    let l = int_range(argv[2], -i64::MAX, i64::MAX)?;
    if argv.len() > 4 || (argv.len() == 4 && !is(argv[3], "withscores")) {
        return Err(SYNTAX);
    }
    let withscores = argv.len() == 4;
    if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::fixed("ERR value is out of range"));
    }
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.array(0);
        return Ok(());
    };
    let st = &mut *ctx.st;
    let z = zset_at(&st.dbs[ctx.client.db], loc)?;
    let out = &mut *ctx.out;
    let count = l.unsigned_abs() as usize;
    let size = z.len();
    if count == 0 {
        out.array(0);
    } else if l < 0 || count == 1 {
        emit_len(out, count, withscores);
        for _ in 0..count {
            let (m, s) = z.random(&mut st.rng);
            emit(out, m, s, withscores);
        }
    } else if count >= size {
        // Redis walks the whole set from the highest score down here.
        emit_len(out, size, withscores);
        z.walk(size - 1, true, |m, s| {
            emit(out, m, s, withscores);
            true
        });
    } else if count * 3 > size {
        let mut all = Vec::with_capacity(size);
        z.walk(0, false, |m, s| {
            all.push((m, s));
            true
        });
        while all.len() > count {
            let i = st.rng.below(all.len() as u64) as usize;
            all.swap_remove(i);
        }
        emit_len(out, count, withscores);
        all.into_iter().for_each(|(m, s)| emit(out, m, s, withscores));
    } else {
        emit_len(out, count, withscores);
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let (m, s) = z.random(&mut st.rng);
            if seen.insert(m.bytes()) {
                emit(out, m, s, withscores);
            }
        }
    }
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2])?;
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        scan_reply::<&[u8]>(ctx.out, 0, &[]);
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let z = zset_at(db, loc)?;
    let o = parse_scan_opts(argv, 3, false)?;
    let keep = |m: &[u8]| o.pattern.is_none_or(|p| glob_match(p, m));
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = match z {
        ZsetRef::Lp(l) => {
            // The listpack's own texts: scores as stored.
            let mut e = lp::first(l);
            while let Some(ep) = e {
                let sp = lp::next(l, ep).expect("a member has a score");
                let m = lp::get(l, ep).bytes();
                if keep(&m) {
                    items.push(m.into_owned());
                    items.push(lp::get(l, sp).bytes().into_owned());
                }
                e = lp::next(l, sp);
            }
            0
        }
        ZsetRef::Tree(t) => scan_loop(cursor, o.count, |c| {
            let mut n = 0;
            let next = t.scan(c, |m, s| {
                n += 1;
                if keep(m) {
                    items.push(m.to_vec());
                    items.push(ferrokv_resp::float::fmt_g17(s).into_bytes());
                }
            });
            (next, n)
        }),
    };
    scan_reply(out, next, &items);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD.

/// An input of the algebra: a sorted set, or a set whose members score 1.
#[derive(Clone, Copy)]
enum Src<'a> {
    Zset(ZsetRef<'a>),
    Set(SetRef<'a>),
    Missing,
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::Zset(z) => z.len(),
            Src::Set(s) => s.len(),
            Src::Missing => 0,
        }
    }

    fn for_each(&self, mut f: impl FnMut(Val<'a>, f64)) {
        match self {
            Src::Zset(z) => {
                if !z.is_empty() {
                    z.walk(0, false, |m, s| {
                        f(m, s);
                        true
                    })
                }
            }
            Src::Set(s) => s.for_each(|m| f(m, 1.0)),
            Src::Missing => {}
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Zset(z) => z.score(m),
            Src::Set(s) => s.contains(m).then_some(1.0),
            Src::Missing => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

impl Agg {
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Agg::Sum => {
                *target += v;
                // inf + -inf: Redis's convention is 0.
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Agg::Min => {
                if v < *target {
                    *target = v;
                }
            }
            Agg::Max => {
                if v > *target {
                    *target = v;
                }
            }
        }
    }
}

/// Sorts results in sorted-set order.
fn sort_results(items: &mut [(Vec<u8>, f64)]) {
    items.sort_by(|a, b| a.1.partial_cmp(&b.1).expect("scores are not NaN").then_with(|| a.0.cmp(&b.0)));
}

/// Redis's `zunionInterDiffGenericCommand`.
fn algebra(ctx: &mut Ctx<'_>, argv: &[&[u8]], numkeys_at: usize, dst: Option<&[u8]>, op: Op, card: bool) -> CmdResult {
    let setnum = int(argv[numkeys_at])?;
    if setnum < 1 {
        return Err(CmdError::err(format_args!("at least 1 input key is needed for '{}' command", ctx.cmd.fullname)));
    }
    if setnum as u64 > (argv.len() - numkeys_at - 1) as u64 {
        return Err(SYNTAX);
    }
    let setnum = setnum as usize;
    let keys = &argv[numkeys_at + 1..numkeys_at + 1 + setnum];
    let locs = ctx.lookup_read_all(keys, |t| matches!(t, crate::types::Type::Zset | crate::types::Type::Set))?;
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Agg::Sum;
    let (mut withscores, mut limit) = (false, 0usize);
    let mut j = numkeys_at + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        if op != Op::Diff && !card && remaining > setnum && is(argv[j], "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = zs::parse_score(argv[j]).ok_or(CmdError::fixed("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != Op::Diff && !card && remaining >= 2 && is(argv[j], "aggregate") {
            agg = match argv[j + 1] {
                a if is(a, "sum") => Agg::Sum,
                a if is(a, "min") => Agg::Min,
                a if is(a, "max") => Agg::Max,
                _ => return Err(SYNTAX),
            };
            j += 2;
        } else if dst.is_none() && !card && is(argv[j], "withscores") {
            withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(argv[j], "limit") {
            limit = positive_count(argv[j + 1]).map_err(|_| CmdError::fixed("ERR LIMIT can't be negative"))?;
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let limits = ctx.st.cfg.limits;
    let db = &ctx.st.dbs[ctx.client.db];
    let mut srcs: Vec<(Src<'_>, f64, Option<Loc>)> = locs
        .iter()
        .zip(&weights)
        .map(|(l, &w)| {
            let src = match l.map(|l| db.get(l).value()) {
                Some(Value::Zset(z)) => Src::Zset(z),
                Some(Value::Set(s)) => Src::Set(s),
                _ => Src::Missing,
            };
            (src, w, *l)
        })
        .collect();
    if op != Op::Diff {
        srcs.sort_by_key(|s| s.0.len());
    }
    let weigh = |w: f64, s: f64| {
        let v = w * s;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality = 0usize;
    match op {
        Op::Inter => {
            let (first, w0, l0) = srcs[0];
            let rest = &srcs[1..];
            let mut stop = false;
            first.for_each(|m, s| {
                if stop {
                    return;
                }
                let mb = m.bytes();
                let mut score = weigh(w0, s);
                for (src, w, l) in rest {
                    let v = if *l == l0 { Some(s) } else { src.score(&mb) };
                    match v {
                        Some(v) => agg.apply(&mut score, v * w),
                        None => return,
                    }
                }
                if card {
                    cardinality += 1;
                    stop = limit != 0 && cardinality >= limit;
                } else {
                    result.push((mb.into_owned(), score));
                }
            });
        }
        Op::Union => {
            let mut acc: std::collections::HashMap<Vec<u8>, f64> = std::collections::HashMap::new();
            let mut order: Vec<Vec<u8>> = Vec::new();
            for (src, w, _) in &srcs {
                src.for_each(|m, s| {
                    let v = weigh(*w, s);
                    let mb = m.bytes();
                    match acc.get_mut(mb.as_ref()) {
                        Some(t) => agg.apply(t, v),
                        None => {
                            order.push(mb.to_vec());
                            acc.insert(mb.into_owned(), v);
                        }
                    }
                });
            }
            result = order
                .into_iter()
                .map(|m| {
                    let s = acc[&m];
                    (m, s)
                })
                .collect();
        }
        Op::Diff => {
            let (first, _, l0) = srcs[0];
            let same = srcs[1..].iter().any(|(_, _, l)| l.is_some() && *l == l0);
            if !same {
                first.for_each(|m, s| {
                    let mb = m.bytes();
                    if !srcs[1..].iter().any(|(src, _, _)| src.score(&mb).is_some()) {
                        result.push((mb.into_owned(), s));
                    }
                });
            }
        }
    }
    if card {
        ctx.out.int(cardinality as i64);
        return Ok(());
    }
    sort_results(&mut result);
    match dst {
        Some(d) => store_result(ctx, d, ZBuild::from_sorted(&result, &limits)),
        None => {
            let out = &mut *ctx.out;
            emit_len(out, result.len(), withscores);
            for (m, s) in &result {
                emit(out, Val::Str(m), *s, withscores);
            }
            Ok(())
        }
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 1, None, Op::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 1, None, Op::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 1, None, Op::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
fn zunionstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 2, Some(argv[1]), Op::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
fn zinterstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 2, Some(argv[1]), Op::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 2, Some(argv[1]), Op::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    algebra(ctx, argv, 1, None, Op::Inter, true)
}
