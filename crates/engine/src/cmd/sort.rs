//! SORT and SORT_RO: sorting lists, sets and sorted sets by their elements
//! or by values found through patterns, with GET projections and STORE.

use crate::command::args::{int, is};
use crate::command::{BeginSearch, CommandSpec, FindKeys, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::keyspace::{Entry, Kind, Value};
use crate::types::list::QuickList;
use crate::types::listpack::Val;
use crate::types::zset::{self as zs, ZSet};

/// SORT's keys: the sorted key, and the last STORE destination (Redis's
/// `sortGetKeys`).
fn sort_keys(argv: &[&[u8]], out: &mut Vec<(usize, usize)>) {
    out.push((1, 0));
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "limit") {
            i += 2;
        } else if is(a, "get") || is(a, "by") {
            i += 1;
        } else if is(a, "store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(s) = store {
        out.push((s, 2));
    }
}

/// SORT and SORT_RO.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, sort)
        .flags("write denyoom")
        .acl("write set sortedset list slow dangerous")
        .keys(&[
            KeySpec::at("RO access", 1),
            KeySpec { flags: "RO access", begin: BeginSearch::Unknown, find: FindKeys::Unknown, notes: None }.notes(
                "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
            ),
            KeySpec { flags: "OW update", begin: BeginSearch::Unknown, find: FindKeys::Unknown, notes: None }.notes(
                "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
            ),
        ])
        .getkeys(sort_keys),
    CommandSpec::new("sort_ro", -2, sort_ro)
        .flags("readonly")
        .acl("read set sortedset list slow dangerous")
        .keys(&[
            KeySpec::at("RO access", 1),
            KeySpec { flags: "RO access", begin: BeginSearch::Unknown, find: FindKeys::Unknown, notes: None }.notes(
                "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
            ),
        ]),
];

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
fn sort_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the
/// first `*` takes the element, and `key->field` reads a hash field. A
/// pattern without `*` finds nothing.
fn lookup_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let arrow = pattern[star + 1..].windows(2).position(|w| w == b"->").map(|i| star + 1 + i);
    let (key_end, field) = match arrow {
        Some(a) if a + 2 < pattern.len() => (a, Some(&pattern[a + 2..])),
        _ => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(key_end + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let loc = ctx.lookup_read(&key)?;
    let db = ctx.db();
    match (db.get(loc).value(), field) {
        (Value::Hash(h), Some(f)) => h.get(f).map(|v| v.bytes().into_owned()),
        (Value::Str(s, _), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// One element being sorted, with what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

/// SORT's numeric weight of a value: all of it a number for strtod (leading
/// space allowed, an empty string is 0), no ERANGE, no NaN.
fn weight(v: &[u8]) -> Option<f64> {
    // A C string ends at its first NUL, so strtod sees only that prefix.
    let v = &v[..v.iter().position(|&c| c == 0).unwrap_or(v.len())];
    let (x, used, erange) = zs::strtod(v);
    (used == v.len() && !erange && !x.is_nan()).then_some(x)
}

fn sort_generic(ctx: &mut Ctx<'_>, argv: &[&[u8]], readonly: bool) -> CmdResult {
    let (mut desc, mut alpha) = (false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut store: Option<&[u8]> = None;
    let mut by: Option<&[u8]> = None;
    let mut dontsort = false;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j];
        if is(a, "asc") {
            desc = false;
        } else if is(a, "desc") {
            desc = true;
        } else if is(a, "alpha") {
            alpha = true;
        } else if is(a, "limit") && left >= 2 {
            limit_start = int(argv[j + 1])?;
            limit_count = int(argv[j + 2])?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            store = Some(argv[j + 1]);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            by = Some(argv[j + 1]);
            // A constant pattern means "do not sort".
            dontsort = !argv[j + 1].contains(&b'*');
            j += 1;
        } else if is(a, "get") && left >= 1 {
            gets.push(argv[j + 1]);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let key = argv[1];
    let found = ctx.lookup_read(key);
    let vtype = match found {
        Some(loc) => match ctx.db().get(loc).value() {
            Value::List(_) => Some(Kind::List),
            Value::Set(_) => Some(Kind::Set),
            Value::Zset(_) => Some(Kind::Zset),
            _ => return Err(WRONGTYPE),
        },
        None => None,
    };
    // Sets have no order of their own: sorting them is forced when the
    // result is stored, so replicas get the same list.
    if dontsort && vtype == Some(Kind::Set) && store.is_some() {
        dontsort = false;
        alpha = true;
        by = None;
    }
    // Redis converts a listpack sorted set for good before sorting it.
    if let Some(loc) = found {
        if ctx.db().get(loc).kind() == Kind::ZsetLp {
            ctx.db().update(loc, |e| {
                let mut z = ZSet::default();
                zs::ZsetRef::Lp(e.payload()).walk(0, false, |m, s| {
                    z.insert(&m.bytes(), s);
                    true
                });
                e.with_obj(Box::new(z))
            });
        }
    }
    let len = match found {
        None => 0,
        Some(loc) => match ctx.db().get(loc).value() {
            Value::List(l) => l.len(),
            Value::Set(s) => s.len(),
            Value::Zset(z) => z.len(),
            _ => unreachable!("checked above"),
        },
    } as i64;
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    // Load the elements: ranges directly for ordered types that need no
    // sorting, everything otherwise.
    let mut elems: Vec<Vec<u8>> = Vec::new();
    if let Some(loc) = found {
        let db = ctx.db();
        let direct = dontsort && vtype != Some(Kind::Set);
        let push = |v: Val<'_>, elems: &mut Vec<Vec<u8>>| elems.push(v.bytes().into_owned());
        match db.get(loc).value() {
            Value::List(l) if direct => {
                if end >= start {
                    let n = (end - start + 1) as usize;
                    let from = if desc { (len - start - 1) as usize } else { start as usize };
                    l.walk(from, desc, |v| {
                        push(v, &mut elems);
                        elems.len() < n
                    });
                }
                end -= start;
                start = 0;
            }
            Value::Zset(z) if direct => {
                if end >= start {
                    let n = (end - start + 1) as usize;
                    let from = if desc { (len - start - 1) as usize } else { start as usize };
                    z.walk(from, desc, |m, _| {
                        push(m, &mut elems);
                        elems.len() < n
                    });
                }
                end -= start;
                start = 0;
            }
            Value::List(l) => l.walk(0, false, |v| {
                push(v, &mut elems);
                true
            }),
            Value::Set(s) => s.for_each(|m| push(m, &mut elems)),
            Value::Zset(zs::ZsetRef::Tree(z)) => {
                // Table order, as Redis iterates the dict.
                z.for_each_member(|m| elems.push(m.to_vec()));
            }
            _ => unreachable!("checked above"),
        }
    }
    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect();
    let mut conversion_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let val = match by {
                Some(p) => match lookup_pattern(ctx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if alpha {
                if by.is_some() {
                    it.cmp = Some(val);
                }
            } else {
                match weight(&val) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let by_pattern = by.is_some();
        let cmp = |a: &Item, b: &Item| {
            let c = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        items.sort_by(cmp);
    }
    let range = if end >= start { start as usize..(end + 1) as usize } else { 0..0 };
    let outputlen = if gets.is_empty() { range.len() } else { gets.len() * range.len() };
    if conversion_error {
        return Err(CmdError::fixed("ERR One or more scores can't be converted into double"));
    }
    match store {
        None => {
            ctx.out.array(outputlen);
            for it in &items[range] {
                if gets.is_empty() {
                    ctx.out.bulk(&it.elem);
                }
                for g in &gets {
                    match lookup_pattern(ctx, g, &it.elem) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut values: Vec<Vec<u8>> = Vec::with_capacity(outputlen);
            for it in &items[range] {
                if gets.is_empty() {
                    values.push(it.elem.clone());
                }
                for g in &gets {
                    values.push(lookup_pattern(ctx, g, &it.elem).unwrap_or_default());
                }
            }
            // An empty result deletes `dst` as it is, even when expired
            // (Redis's plain `dbDelete`: a `del`, not an `expired`).
            let found = if values.is_empty() { ctx.st.dbs[ctx.client.db].peek(dst) } else { ctx.lookup_write(dst) };
            if values.is_empty() {
                match found {
                    Some(loc) => {
                        ctx.delete_at(loc);
                        ctx.changed(1);
                        ctx.notify(crate::notify::class::GENERIC, "del", dst);
                    }
                    None => ctx.propagate_nothing(),
                }
            } else {
                let fill = ctx.st.cfg.limits.list_max_listpack_size;
                let lru = ctx.fresh_lru();
                let mut q = QuickList::new();
                for v in &values {
                    q.push_back(v, fill);
                }
                let e = match q.as_inline(fill) {
                    Some(l) => Entry::new_inline(dst, Kind::ListLp, l, None, lru),
                    None => Entry::new_obj(dst, Box::new(q), None, lru),
                };
                ctx.set_key(found, e);
                ctx.changed(values.len() as u64);
                ctx.notify(crate::notify::class::LIST, "sortstore", dst);
            }
            ctx.out.int(outputlen as i64);
        }
    }
    Ok(())
}
