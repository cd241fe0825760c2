//! List commands: pushes and pops at both ends, indexed access, LINSERT,
//! LREM, LTRIM, LPOS, LMOVE, LMPOP, and the blocking forms.

use crate::blocking::{self, BlockOp};
use crate::command::args::{int, is, positive_count};
use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY, SYNTAX, WRONGTYPE};
use crate::keyspace::{Db, Entry, Kind, Loc, Value};
use crate::notify::{self, class};
use crate::state::State;
use crate::types::list::{self, ListRef, QuickList};
use crate::types::listpack as lp;
use ferrokv_resp::num::i64_to_vec;
use ferrokv_resp::Out;

/// `ERR index out of range`
const OUT_OF_RANGE: CmdError = CmdError::fixed("ERR index out of range");

/// The list family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, lpush)
        .flags("write denyoom fast")
        .acl("write list fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("rpush", -3, rpush)
        .flags("write denyoom fast")
        .acl("write list fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("lpushx", -3, lpushx)
        .flags("write denyoom fast")
        .acl("write list fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("rpushx", -3, rpushx)
        .flags("write denyoom fast")
        .acl("write list fast")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("lpop", -2, lpop)
        .flags("write fast")
        .acl("write list fast")
        .keys(&[KeySpec::at("RW access delete", 1)]),
    CommandSpec::new("rpop", -2, rpop)
        .flags("write fast")
        .acl("write list fast")
        .keys(&[KeySpec::at("RW access delete", 1)]),
    CommandSpec::new("llen", 2, llen).flags("readonly fast").acl("read list fast").keys(&[KeySpec::at("RO", 1)]),
    CommandSpec::new("lindex", 3, lindex).flags("readonly").acl("read list slow").keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("lset", 4, lset)
        .flags("write denyoom")
        .acl("write list slow")
        .keys(&[KeySpec::at("RW update", 1)]),
    CommandSpec::new("lrange", 4, lrange).flags("readonly").acl("read list slow").keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("ltrim", 4, ltrim).flags("write").acl("write list slow").keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("linsert", 5, linsert)
        .flags("write denyoom")
        .acl("write list slow")
        .keys(&[KeySpec::at("RW insert", 1)]),
    CommandSpec::new("lrem", 4, lrem).flags("write").acl("write list slow").keys(&[KeySpec::at("RW delete", 1)]),
    CommandSpec::new("lpos", -3, lpos).flags("readonly").acl("read list slow").keys(&[KeySpec::at("RO access", 1)]),
    CommandSpec::new("lmove", 5, lmove)
        .flags("write denyoom")
        .acl("write list slow")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("RW insert", 2)]),
    CommandSpec::new("rpoplpush", 3, rpoplpush)
        .flags("write denyoom")
        .acl("write list slow")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("RW insert", 2)]),
    CommandSpec::new("lmpop", -4, lmpop)
        .flags("write")
        .acl("write list slow")
        .keys(&[KeySpec::counted("RW access delete", 1)]),
    CommandSpec::new("blpop", -3, blpop)
        .flags("write noscript blocking")
        .acl("write list slow blocking")
        .keys(&[KeySpec::range("RW access delete", 1, -2, 1)]),
    CommandSpec::new("brpop", -3, brpop)
        .flags("write noscript blocking")
        .acl("write list slow blocking")
        .keys(&[KeySpec::range("RW access delete", 1, -2, 1)]),
    CommandSpec::new("brpoplpush", 4, brpoplpush)
        .flags("write denyoom noscript blocking")
        .acl("write list slow blocking")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("RW insert", 2)]),
    CommandSpec::new("blmove", 6, blmove)
        .flags("write denyoom noscript blocking")
        .acl("write list slow blocking")
        .keys(&[KeySpec::at("RW access delete", 1), KeySpec::at("RW insert", 2)]),
    CommandSpec::new("blmpop", -5, blmpop)
        .flags("write blocking")
        .acl("write list slow blocking")
        .keys(&[KeySpec::counted("RW access delete", 2)]),
];

/// The list at `loc`, or WRONGTYPE.
#[inline]
pub(crate) fn list_at(db: &Db, loc: Loc) -> Result<ListRef<'_>, CmdError> {
    match db.get(loc).value() {
        Value::List(l) => Ok(l),
        _ => Err(WRONGTYPE),
    }
}

/// Pushes `elems` one by one at the head (`head`) or the tail of the list at
/// `key`, creating it when `found` (the caller's lookup) is `None`. Returns
/// the new length.
pub(crate) fn push(
    db: &mut Db,
    found: Option<Loc>,
    key: &[u8],
    elems: &[&[u8]],
    head: bool,
    fill: i64,
    lru: u32,
) -> usize {
    let loc = found.unwrap_or_else(|| db.insert(Entry::new_inline(key, Kind::ListLp, &lp::new(), None, lru)));
    let mut len = 0;
    db.update(loc, |mut e| {
        for el in elems {
            if e.kind() == Kind::ListLp && !list::lp_push(&mut e, el, head, fill) {
                let q = QuickList::from_listpack(e.payload());
                e = e.with_obj(Box::new(q));
            }
            if e.kind() == Kind::List {
                let q = e.obj_mut::<QuickList>();
                if head {
                    q.push_front(el, fill);
                } else {
                    q.push_back(el, fill);
                }
            }
        }
        len = match e.value() {
            Value::List(l) => l.len(),
            _ => unreachable!("a list"),
        };
        e
    });
    len
}

/// Runs `f` on the list at `loc` as a quicklist (an inline listpack is
/// converted for the edit), then stores the result back in the cheaper
/// form it fits. Returns `f`'s result and the list's new length; the
/// caller deletes an emptied key.
fn with_quick<R>(db: &mut Db, loc: Loc, fill: i64, f: impl FnOnce(&mut QuickList) -> R) -> (R, usize) {
    let mut out = None;
    let mut len = 0;
    db.update(loc, |mut e| {
        if e.kind() == Kind::ListLp {
            let mut q = QuickList::from_listpack(e.payload());
            out = Some(f(&mut q));
            len = q.len();
            e = match q.as_inline(fill) {
                Some(l) => e.with_inline(Kind::ListLp, l),
                None if q.is_empty() => e.with_inline(Kind::ListLp, &lp::new()),
                None => e.with_obj(Box::new(q)),
            };
        } else {
            let q = e.obj_mut::<QuickList>();
            out = Some(f(q));
            len = q.len();
            if let Some(l) = q.as_inline(fill) {
                let l = l.to_vec();
                e = e.with_inline(Kind::ListLp, &l);
            }
        }
        e
    });
    (out.expect("the edit ran"), len)
}

/// Pops up to `count` elements from one end of the list at `loc`, in pop
/// order, deleting the key when it empties.
pub(crate) fn pop(db: &mut Db, loc: Loc, head: bool, count: usize, fill: i64) -> Vec<Vec<u8>> {
    let mut popped = Vec::with_capacity(count.min(1024));
    let mut empty = false;
    db.update(loc, |mut e| {
        if e.kind() == Kind::ListLp {
            while popped.len() < count {
                match list::lp_pop(&mut e, head) {
                    Some(v) => popped.push(v),
                    None => break,
                }
            }
            empty = lp::len(e.payload()) == 0;
        } else {
            let q = e.obj_mut::<QuickList>();
            while popped.len() < count {
                match if head { q.pop_front() } else { q.pop_back() } {
                    Some(v) => popped.push(v),
                    None => break,
                }
            }
            empty = q.is_empty();
            if let Some(l) = q.as_inline(fill) {
                let l = l.to_vec();
                e = e.with_inline(Kind::ListLp, &l);
            }
        }
        e
    });
    if empty {
        db.remove(loc);
    }
    popped
}

/// Announces a pop from `key` in database `db` and, when the list emptied
/// (the key is gone), its deletion, as Redis's `listElementsRemoved`.
pub(crate) fn notify_popped(st: &mut State, db: usize, key: &[u8], head: bool, mut current: Option<(u64, &mut Out)>) {
    if st.cfg.notify_flags == 0 {
        return;
    }
    let event = if head { "lpop" } else { "rpop" };
    notify::notify(st, class::LIST, event, key, db, current.as_mut().map(|(id, o)| (*id, &mut **o)));
    if st.dbs[db].peek(key).is_none() {
        notify::notify(st, class::GENERIC, "del", key, db, current);
    }
}

/// [`notify_popped`] for the calling client's database.
fn notify_popped_ctx(ctx: &mut Ctx<'_>, key: &[u8], head: bool) {
    let db = ctx.client.db;
    notify_popped(ctx.st, db, key, head, Some((ctx.client.id, &mut *ctx.out)));
}

/// The event of a push at the head (`lpush`) or the tail (`rpush`).
pub(crate) fn push_event(head: bool) -> &'static str {
    if head {
        "lpush"
    } else {
        "rpush"
    }
}

/// LPUSH / RPUSH / LPUSHX / RPUSHX.
fn push_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]], head: bool, only_existing: bool) -> CmdResult {
    let found = ctx.lookup_write(argv[1]);
    if let Some(loc) = found {
        list_at(ctx.db(), loc)?;
    } else if only_existing {
        ctx.out.int(0);
        return Ok(());
    }
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let lru = ctx.fresh_lru();
    let len = push(ctx.db(), found, argv[1], &argv[2..], head, fill, lru);
    ctx.changed(argv.len() as u64 - 2);
    ctx.out.int(len as i64);
    ctx.notify(class::LIST, push_event(head), argv[1]);
    Ok(())
}

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_cmd(ctx, argv, true, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_cmd(ctx, argv, false, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_cmd(ctx, argv, true, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_cmd(ctx, argv, false, true)
}

/// LPOP / RPOP key [count]
fn pop_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]], head: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(ctx.arity_error());
    }
    let count = argv.get(2).map(|c| positive_count(c)).transpose()?;
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    list_at(ctx.db(), loc)?;
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let popped = pop(ctx.db(), loc, head, count.unwrap_or(1), fill);
    match count {
        None => ctx.out.bulk(&popped[0]),
        Some(_) => {
            ctx.out.array(popped.len());
            popped.iter().for_each(|v| ctx.out.bulk(v));
        }
    }
    ctx.changed(popped.len() as u64);
    notify_popped_ctx(ctx, argv[1], head);
    Ok(())
}

/// LPOP key [count]
fn lpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    pop_cmd(ctx, argv, true)
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    pop_cmd(ctx, argv, false)
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = match ctx.lookup_read(argv[1]) {
        Some(loc) => list_at(ctx.db(), loc)?.len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// LINDEX key index
fn lindex(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.null();
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let l = list_at(db, loc)?;
    match l.get(int(argv[2])?) {
        Some(v) => v.write_bulk(out),
        None => out.null(),
    }
    Ok(())
}

/// LSET key index element
fn lset(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let Some(loc) = ctx.lookup_write(argv[1]) else { return Err(NO_SUCH_KEY) };
    list_at(ctx.db(), loc)?;
    let index = int(argv[2])?;
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let (done, _) = with_quick(ctx.db(), loc, fill, |q| match q.seek(index) {
        Some(at) => {
            q.replace(at, argv[3], fill);
            true
        }
        None => false,
    });
    if !done {
        return Err(OUT_OF_RANGE);
    }
    ctx.changed(1);
    ctx.notify(class::LIST, "lset", argv[1]);
    ctx.out.ok();
    Ok(())
}

/// Redis's range normalisation for LRANGE and LTRIM: the inclusive
/// `(start, end)` within a list of `len`, or `None` when empty.
fn range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    if start > end || start >= len {
        return None;
    }
    end = end.min(len - 1);
    Some((start as usize, end as usize))
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (start, end) = (int(argv[2])?, int(argv[3])?);
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        ctx.out.array(0);
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let l = list_at(db, loc)?;
    match range(start, end, l.len()) {
        None => out.array(0),
        Some((s, e)) => {
            let mut left = e - s + 1;
            out.array(left);
            l.walk(s, false, |v| {
                v.write_bulk(out);
                left -= 1;
                left > 0
            });
        }
    }
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (start, end) = (int(argv[2])?, int(argv[3])?);
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.ok();
        return Ok(());
    };
    let len = list_at(ctx.db(), loc)?.len();
    let (ltrim, rtrim) = match range(start, end, len) {
        None => (len, 0),
        Some((s, e)) => (s, len - e - 1),
    };
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let (_, left) = with_quick(ctx.db(), loc, fill, |q| {
        q.delete_range(0, ltrim);
        q.delete_range(-(rtrim as i64), rtrim);
    });
    if left == 0 {
        ctx.db().remove(loc);
    }
    ctx.changed((ltrim + rtrim) as u64);
    // Announced, and WATCHes touched, even when nothing was trimmed, as
    // Redis does.
    let db = ctx.client.db;
    ctx.signal(db, argv[1]);
    ctx.notify(class::LIST, "ltrim", argv[1]);
    if left == 0 {
        ctx.notify(class::GENERIC, "del", argv[1]);
    }
    ctx.out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let after = if is(argv[2], "after") {
        true
    } else if is(argv[2], "before") {
        false
    } else {
        return Err(SYNTAX);
    };
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    list_at(ctx.db(), loc)?;
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let (inserted, len) = with_quick(ctx.db(), loc, fill, |q| {
        let mut at = q.first();
        while let Some(p) = at {
            if q.get(p).eq_bytes(argv[3]) {
                q.insert(p, argv[4], after, fill);
                return true;
            }
            at = q.next(p);
        }
        false
    });
    if inserted {
        ctx.changed(1);
        ctx.notify(class::LIST, "linsert", argv[1]);
        ctx.out.int(len as i64);
    } else {
        ctx.out.int(-1);
    }
    Ok(())
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let count = int(argv[2])?;
    let Some(loc) = ctx.lookup_write(argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    list_at(ctx.db(), loc)?;
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let (removed, left) =
        with_quick(ctx.db(), loc, fill, |q| q.remove_matching(argv[3], count.unsigned_abs() as usize, count < 0));
    if left == 0 {
        ctx.db().remove(loc);
    }
    ctx.changed(removed as u64);
    if removed > 0 {
        ctx.notify(class::LIST, "lrem", argv[1]);
    }
    if left == 0 {
        ctx.notify(class::GENERIC, "del", argv[1]);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (mut rank, mut count, mut maxlen): (i64, Option<usize>, usize) = (1, None, 0);
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if is(argv[j], "rank") && more {
            rank = int(argv[j + 1])?;
            if rank == 0 {
                return Err(CmdError::fixed(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(argv[j], "count") && more {
            count = Some(positive_count(argv[j + 1]).map_err(|_| CmdError::fixed("ERR COUNT can't be negative"))?);
        } else if is(argv[j], "maxlen") && more {
            maxlen = positive_count(argv[j + 1]).map_err(|_| CmdError::fixed("ERR MAXLEN can't be negative"))?;
        } else {
            return Err(SYNTAX);
        }
        j += 2;
    }
    // Redis negates LONG_MIN into itself, which then scans from the tail
    // as RANK -1 would... the first match from the tail.
    let from_tail = rank < 0;
    let rank = if rank == i64::MIN { 1 } else { rank.unsigned_abs() as usize };
    let Some(loc) = ctx.lookup_read(argv[1]) else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let (db, out) = ctx.db_out();
    let l = list_at(db, loc)?;
    let len = l.len();
    let mut found: Vec<i64> = Vec::new();
    let (mut index, mut matches) = (0usize, 0usize);
    l.walk(if from_tail { len - 1 } else { 0 }, from_tail, |v| {
        if maxlen != 0 && index >= maxlen {
            return false;
        }
        let mut go_on = true;
        if v.eq_bytes(argv[2]) {
            matches += 1;
            if matches >= rank {
                found.push(if from_tail { (len - index - 1) as i64 } else { index as i64 });
                go_on = match count {
                    None => false,
                    Some(0) => true,
                    Some(c) => matches - rank + 1 < c,
                };
            }
        }
        index += 1;
        go_on
    });
    match count {
        Some(_) => {
            out.array(found.len());
            found.iter().for_each(|&i| out.int(i));
        }
        None => match found.first() {
            Some(&i) => out.int(i),
            None => out.null(),
        },
    }
    Ok(())
}

/// LEFT or RIGHT: true for LEFT (the head).
fn side(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "left") {
        Ok(true)
    } else if is(arg, "right") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// What an LMOVE did.
pub(crate) enum Moved {
    /// The source was missing.
    NoSource,
    /// The element moved.
    Done(Vec<u8>),
}

/// Pops from `src` and pushes to `dst` (Redis's `lmoveGenericCommand`);
/// checks types, so it may fail with WRONGTYPE before changing anything.
pub(crate) fn lmove_in(
    db: &mut Db,
    now_ms: i64,
    src: &[u8],
    dst: &[u8],
    from_head: bool,
    to_head: bool,
    fill: i64,
) -> Result<Moved, CmdError> {
    // As Redis, the destination is looked up (touched, expired) only once
    // the source proved to be a list.
    let Some(sloc) = db.find(src, now_ms) else { return Ok(Moved::NoSource) };
    list_at(db, sloc)?;
    if let Some(dloc) = db.find(dst, now_ms) {
        list_at(db, dloc)?;
    }
    let sloc = db.peek(src).expect("the source is still there");
    let lru = db.fresh_lru(now_ms);
    if src == dst && list_at(db, sloc)?.len() == 1 {
        // Rotating a one-element list moves nothing; popping would delete
        // the key (and its TTL) before the push recreated it.
        let v = list_at(db, sloc)?.get(0).expect("one element").bytes().into_owned();
        return Ok(Moved::Done(v));
    }
    let v = pop(db, sloc, from_head, 1, fill).pop().expect("a non-empty list");
    let found = db.peek(dst);
    push(db, found, dst, &[&v], to_head, fill, lru);
    Ok(Moved::Done(v))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (from, to) = (side(argv[3])?, side(argv[4])?);
    move_cmd(ctx, argv[1], argv[2], from, to)
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    move_cmd(ctx, argv[1], argv[2], false, true)
}

fn move_cmd(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: bool, to: bool) -> CmdResult {
    let fill = ctx.st.cfg.limits.list_max_listpack_size;
    let now = ctx.now_ms;
    match lmove_in(ctx.db(), now, src, dst, from, to, fill)? {
        Moved::NoSource => ctx.out.null(),
        Moved::Done(v) => {
            ctx.out.bulk(&v);
            ctx.changed(1);
            ctx.notify(class::LIST, push_event(to), dst);
            notify_popped_ctx(ctx, src, from);
        }
    }
    Ok(())
}

/// Parsed `numkeys key... LEFT|RIGHT [COUNT n]` of LMPOP/BLMPOP.
struct MPop<'a> {
    keys: &'a [&'a [u8]],
    head: bool,
    count: usize,
}

fn parse_mpop<'a>(argv: &'a [&'a [u8]], numkeys_at: usize) -> Result<MPop<'a>, CmdError> {
    let numkeys = super::set::numkeys(argv[numkeys_at])?;
    let where_at = numkeys_at.checked_add(numkeys).and_then(|x| x.checked_add(1)).filter(|&w| w < argv.len());
    let Some(where_at) = where_at else { return Err(SYNTAX) };
    let head = side(argv[where_at])?;
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
    Ok(MPop { keys: &argv[numkeys_at + 1..where_at], head, count: count.unwrap_or(1) })
}

/// Pops from the first non-empty list among `keys` and replies
/// `[key, [elements]]`; `None` when every key is missing.
pub(crate) fn mpop_in(ctx: &mut Ctx<'_>, keys: &[&[u8]], head: bool, count: usize) -> Result<bool, CmdError> {
    for k in keys {
        let Some(loc) = ctx.lookup_write(k) else { continue };
        list_at(ctx.db(), loc)?;
        let fill = ctx.st.cfg.limits.list_max_listpack_size;
        let popped = pop(ctx.db(), loc, head, count, fill);
        let out = &mut *ctx.out;
        out.array(2);
        out.bulk(k);
        out.array(popped.len());
        popped.iter().for_each(|v| out.bulk(v));
        ctx.changed(popped.len() as u64);
        notify_popped_ctx(ctx, k, head);
        ctx.propagate(vec![
            if head { b"LPOP".to_vec() } else { b"RPOP".to_vec() },
            k.to_vec(),
            i64_to_vec(popped.len() as i64),
        ]);
        return Ok(true);
    }
    Ok(false)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let m = parse_mpop(argv, 1)?;
    if !mpop_in(ctx, m.keys, m.head, m.count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// Pops one element for BLPOP/BRPOP from the first non-empty list among
/// `keys`, replying `[key, element]`; false when all are missing.
pub(crate) fn bpop_in(ctx: &mut Ctx<'_>, keys: &[&[u8]], head: bool) -> Result<bool, CmdError> {
    for k in keys {
        let Some(loc) = ctx.lookup_write(k) else { continue };
        list_at(ctx.db(), loc)?;
        let fill = ctx.st.cfg.limits.list_max_listpack_size;
        let v = pop(ctx.db(), loc, head, 1, fill).pop().expect("a stored list is not empty");
        ctx.out.array(2);
        ctx.out.bulk(k);
        ctx.out.bulk(&v);
        ctx.changed(1);
        notify_popped_ctx(ctx, k, head);
        ctx.propagate(vec![if head { b"LPOP".to_vec() } else { b"RPOP".to_vec() }, k.to_vec()]);
        return Ok(true);
    }
    Ok(false)
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bpop_cmd(ctx, argv, true)
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    bpop_cmd(ctx, argv, false)
}

fn bpop_cmd(ctx: &mut Ctx<'_>, argv: &[&[u8]], head: bool) -> CmdResult {
    let timeout = blocking::parse_timeout(argv[argv.len() - 1], ctx.now_ms)?;
    let keys = &argv[1..argv.len() - 1];
    if bpop_in(ctx, keys, head)? {
        return Ok(());
    }
    blocking::block(ctx, keys, timeout, BlockOp::ListPop { head }, true);
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let m = parse_mpop(argv, 2)?;
    let timeout = blocking::parse_timeout(argv[1], ctx.now_ms)?;
    if mpop_in(ctx, m.keys, m.head, m.count)? {
        return Ok(());
    }
    blocking::block(ctx, m.keys, timeout, BlockOp::ListMPop { head: m.head, count: m.count }, true);
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (from, to) = (side(argv[3])?, side(argv[4])?);
    let timeout = blocking::parse_timeout(argv[5], ctx.now_ms)?;
    let served_as = vec![b"LMOVE".to_vec(), argv[1].to_vec(), argv[2].to_vec(), argv[3].to_vec(), argv[4].to_vec()];
    bmove_cmd(ctx, argv[1], argv[2], (from, to), timeout, served_as)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let timeout = blocking::parse_timeout(argv[3], ctx.now_ms)?;
    let served_as = vec![b"RPOPLPUSH".to_vec(), argv[1].to_vec(), argv[2].to_vec()];
    bmove_cmd(ctx, argv[1], argv[2], (false, true), timeout, served_as)
}

/// The blocking move: LMOVE at once when the source has data (propagated
/// as `served_as`), otherwise a wait on the source.
fn bmove_cmd(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    (from, to): (bool, bool),
    timeout: i64,
    served_as: Vec<Vec<u8>>,
) -> CmdResult {
    match ctx.lookup_write(src) {
        Some(loc) => {
            list_at(ctx.db(), loc)?;
            move_cmd(ctx, src, dst, from, to)?;
            ctx.propagate(served_as);
            Ok(())
        }
        None => {
            let rpoplpush = served_as[0] == b"RPOPLPUSH";
            let op = BlockOp::ListMove { dst: dst.to_vec(), from_head: from, to_head: to, rpoplpush };
            blocking::block(ctx, &[src], timeout, op, false);
            Ok(())
        }
    }
}
