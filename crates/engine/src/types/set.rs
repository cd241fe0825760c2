//! Sets: an intset while every member is an integer, a listpack while the
//! set is small, a hash table beyond (Redis 7.2's three encodings and its
//! rules for moving between them, `set-max-intset-entries`,
//! `set-max-listpack-entries` and `set-max-listpack-value`).
//!
//! The compact encodings are edited in any [`Buf`]: a stored set's bytes
//! live inline in its keyspace entry, a result being built lives in a `Vec`.

use super::buf::Buf;
use super::hashtable::SetTable;
use super::intset;
use super::listpack::{self as lp, Val};
use super::Limits;
use crate::state::Rng;
use ferrokv_resp::num::parse_i64;

/// A read-only view of a set in any encoding.
#[derive(Clone, Copy)]
pub enum SetRef<'a> {
    /// Sorted integers.
    Intset(&'a [u8]),
    /// Members in insertion order.
    Lp(&'a [u8]),
    /// Hash table.
    Table(&'a SetTable),
}

/// Extends a borrow of table contents to the table's own borrow.
///
/// # Safety
/// `s` must live in a table borrowed for `'a`.
unsafe fn widen<'a>(s: &[u8]) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(s.as_ptr(), s.len()) }
}

impl<'a> SetRef<'a> {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SetRef::Intset(b) => intset::len(b),
            SetRef::Lp(b) => lp::len(b),
            SetRef::Table(t) => t.len(),
        }
    }

    /// True when empty (never, for a stored set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match *self {
            SetRef::Intset(b) => parse_i64(m).is_some_and(|v| intset::contains(b, v)),
            SetRef::Lp(b) => lp::find(b, lp::first(b), m, 0).is_some(),
            SetRef::Table(t) => t.contains(m),
        }
    }

    /// Whether `m`, given as an element of another set, is a member.
    pub fn contains_val(&self, m: Val<'_>) -> bool {
        match (*self, m) {
            (SetRef::Intset(b), Val::Int(i)) => intset::contains(b, i),
            _ => self.contains(&m.bytes()),
        }
    }

    /// Visits every member (intsets ascending, listpacks in insertion order).
    pub fn for_each(&self, mut f: impl FnMut(Val<'a>)) {
        match *self {
            SetRef::Intset(b) => intset::iter(b).for_each(|i| f(Val::Int(i))),
            SetRef::Lp(b) => lp::iter(b).for_each(f),
            SetRef::Table(t) => t.for_each(|m| {
                // Safety: the table is borrowed for 'a.
                f(Val::Str(unsafe { widen(m) }))
            }),
        }
    }

    /// A uniformly random member of a non-empty set.
    pub fn random(&self, rng: &mut Rng) -> Val<'a> {
        match *self {
            SetRef::Intset(b) => Val::Int(intset::get(b, rng.below(intset::len(b) as u64) as usize)),
            SetRef::Lp(b) => {
                let i = rng.below(lp::len(b) as u64) as i64;
                lp::get(b, lp::seek(b, i).expect("index below length"))
            }
            SetRef::Table(t) => {
                let m = t.random(|| rng.next()).expect("stored sets are not empty");
                // Safety: as in `for_each`.
                Val::Str(unsafe { widen(m) })
            }
        }
    }

    /// A hash table holding the same members.
    pub fn to_table(&self) -> SetTable {
        let mut t = SetTable::default();
        self.for_each(|m| {
            t.insert(&m.bytes());
        });
        t
    }
}

/// A compact encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compact {
    /// Intset.
    Intset,
    /// Listpack.
    Lp,
}

/// What adding to a compact set did.
pub enum Added {
    /// The member was already there.
    No,
    /// Added in place (the encoding may have moved from intset to listpack).
    Yes,
    /// The set outgrew its compact encoding: this table holds every member,
    /// the new one included, and replaces the compact bytes.
    Table(SetTable),
}

/// `set-max-intset-entries`, capped as Redis caps it.
fn intset_max(limits: &Limits) -> usize {
    limits.set_max_intset_entries.min(1 << 30)
}

/// Digits of `v`, sign included (Redis's `sdigits10`).
fn digits(v: i64) -> usize {
    let mut n = if v < 0 { 2 } else { 1 };
    let mut u = v.unsigned_abs();
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

/// Whether an intset plus `added` members of at most `len` bytes still fits
/// the listpack limits (Redis 7.2's check before leaving the intset).
fn intset_fits_listpack(is: &[u8], added: usize, len: usize, limits: &Limits) -> bool {
    let n = intset::len(is);
    let widest = if n == 0 { 0 } else { digits(intset::get(is, 0)).max(digits(intset::get(is, n - 1))) };
    n + added <= limits.set_max_listpack_entries
        && len <= limits.set_max_listpack_value
        && widest <= limits.set_max_listpack_value
}

/// Replaces the contents of `b` with `bytes`.
fn overwrite<B: Buf + ?Sized>(b: &mut B, bytes: &[u8]) {
    b.resize_to(bytes.len());
    b.bytes_mut().copy_from_slice(bytes);
}

fn view<B: Buf + ?Sized>(b: &B, enc: Compact) -> SetRef<'_> {
    match enc {
        Compact::Intset => SetRef::Intset(b.bytes()),
        Compact::Lp => SetRef::Lp(b.bytes()),
    }
}

/// Adds `m` to the compact set in `b` (Redis 7.2's `setTypeAddAux`).
pub fn add_compact<B: Buf + ?Sized>(b: &mut B, enc: &mut Compact, m: &[u8], limits: &Limits) -> Added {
    match *enc {
        Compact::Intset => match parse_i64(m) {
            Some(v) => {
                if !intset::add(b, v) {
                    return Added::No;
                }
                if intset::len(b.bytes()) > intset_max(limits) {
                    return Added::Table(view(b, *enc).to_table());
                }
                Added::Yes
            }
            None if intset_fits_listpack(b.bytes(), 1, m.len(), limits) => {
                let mut l = lp::new();
                intset::iter(b.bytes()).for_each(|i| lp::push_back(&mut l, i.to_string().as_bytes()));
                lp::push_back(&mut l, m);
                overwrite(b, &l);
                *enc = Compact::Lp;
                Added::Yes
            }
            None => {
                let mut t = view(b, *enc).to_table();
                t.insert(m);
                Added::Table(t)
            }
        },
        Compact::Lp => {
            let l = b.bytes();
            if lp::find(l, lp::first(l), m, 0).is_some() {
                return Added::No;
            }
            if lp::len(l) < limits.set_max_listpack_entries && m.len() <= limits.set_max_listpack_value {
                lp::push_back(b, m);
                return Added::Yes;
            }
            let mut t = view(b, *enc).to_table();
            t.insert(m);
            Added::Table(t)
        }
    }
}

/// Removes `m` from the compact set in `b`; false when absent.
pub fn remove_compact<B: Buf + ?Sized>(b: &mut B, enc: Compact, m: &[u8]) -> bool {
    match enc {
        Compact::Intset => parse_i64(m).is_some_and(|v| intset::remove(b, v)),
        Compact::Lp => {
            let l = b.bytes();
            match lp::find(l, lp::first(l), m, 0) {
                Some(p) => {
                    lp::delete(b, p, 1);
                    true
                }
                None => false,
            }
        }
    }
}

/// The encoding a new set starts in: an intset when its first member is an
/// integer, else a listpack. (Redis 7.2 also jumps straight to a table when
/// a single SADD brings many members; that is only an allocation shortcut,
/// and leaving it out keeps integer sets encoded exactly as Redis 7.0
/// encodes them.)
pub fn initial(first: &[u8]) -> Compact {
    if parse_i64(first).is_some() {
        Compact::Intset
    } else {
        Compact::Lp
    }
}

/// A set being built (the result of SINTERSTORE, SUNIONSTORE, SPOP's
/// remainder, ...), with the same encoding rules as a stored one.
pub enum SetBuild {
    /// Compact bytes.
    Compact(Compact, Vec<u8>),
    /// A table.
    Table(SetTable),
}

impl SetBuild {
    /// An empty intset.
    pub fn intset() -> SetBuild {
        SetBuild::Compact(Compact::Intset, intset::new())
    }

    /// An empty listpack.
    pub fn listpack() -> SetBuild {
        SetBuild::Compact(Compact::Lp, lp::new())
    }

    /// Adds `m`; false when present.
    pub fn add(&mut self, m: &[u8], limits: &Limits) -> bool {
        match self {
            SetBuild::Table(t) => t.insert(m),
            SetBuild::Compact(enc, b) => match add_compact(b, enc, m, limits) {
                Added::No => false,
                Added::Yes => true,
                Added::Table(t) => {
                    *self = SetBuild::Table(t);
                    true
                }
            },
        }
    }

    /// Adds an element taken from another set.
    pub fn add_val(&mut self, m: Val<'_>, limits: &Limits) -> bool {
        let SetBuild::Compact(Compact::Intset, b) = self else { return self.add(&m.bytes(), limits) };
        let Val::Int(i) = m else { return self.add(&m.bytes(), limits) };
        if !intset::add(b, i) {
            return false;
        }
        if intset::len(b) > intset_max(limits) {
            *self = SetBuild::Table(self.view().to_table());
        }
        true
    }

    /// Removes `m`; false when absent.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            SetBuild::Table(t) => t.remove(m),
            SetBuild::Compact(enc, b) => remove_compact(b, *enc, m),
        }
    }

    /// A view of the members.
    pub fn view(&self) -> SetRef<'_> {
        match self {
            SetBuild::Table(t) => SetRef::Table(t),
            SetBuild::Compact(enc, b) => view(b, *enc),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Becomes an intset when every member is an integer and there are few
    /// enough of them (Redis's `maybeConvertToIntset`, for results known to
    /// hold only integers).
    pub fn into_intset_if_fits(self, limits: &Limits) -> SetBuild {
        if matches!(self, SetBuild::Compact(Compact::Intset, _)) || self.len() > intset_max(limits) {
            return self;
        }
        let mut is = intset::new();
        let mut all_ints = true;
        self.view().for_each(|m| match m {
            Val::Int(i) => {
                intset::add(&mut is, i);
            }
            Val::Str(s) => match parse_i64(s) {
                Some(i) => {
                    intset::add(&mut is, i);
                }
                None => all_ints = false,
            },
        });
        if all_ints {
            SetBuild::Compact(Compact::Intset, is)
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &SetBuild) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        s.view().for_each(|m| v.push(m.bytes().into_owned()));
        v.sort();
        v
    }

    #[test]
    fn encodings_move_as_redis_moves_them() {
        let limits = Limits { set_max_intset_entries: 4, set_max_listpack_entries: 3, ..Limits::default() };
        let mut s = SetBuild::intset();
        for i in [3, 1, 2] {
            assert!(s.add(i.to_string().as_bytes(), &limits));
        }
        assert!(!s.add(b"2", &limits));
        assert!(matches!(s, SetBuild::Compact(Compact::Intset, _)));
        // A string member and room in a listpack: intset -> listpack.
        let mut t = SetBuild::intset();
        t.add(b"1", &limits);
        assert!(t.add(b"x", &limits));
        assert!(matches!(t, SetBuild::Compact(Compact::Lp, _)));
        assert_eq!(members(&t), vec![b"1".to_vec(), b"x".to_vec()]);
        // No room: intset -> table.
        assert!(s.add(b"y", &limits));
        assert!(matches!(s, SetBuild::Table(_)));
        assert_eq!(members(&s).len(), 4);
        // Too many integers: intset -> table.
        let mut u = SetBuild::intset();
        for i in 0..5 {
            u.add(i.to_string().as_bytes(), &limits);
        }
        assert!(matches!(u, SetBuild::Table(_)));
        // A long member: listpack -> table.
        let mut l = SetBuild::listpack();
        l.add(b"a", &limits);
        l.add(&[b'z'; 65], &limits);
        assert!(matches!(l, SetBuild::Table(_)));
        assert!(l.remove(b"a") && !l.remove(b"a"));
        let back = SetBuild::Table(
            SetRef::Intset(&{
                let mut is = intset::new();
                intset::add(&mut is, 7);
                is
            })
            .to_table(),
        )
        .into_intset_if_fits(&limits);
        assert!(matches!(back, SetBuild::Compact(Compact::Intset, _)));
    }

    #[test]
    fn initial_encoding() {
        assert_eq!(initial(b"12"), Compact::Intset);
        assert_eq!(initial(b"012"), Compact::Lp);
        assert_eq!(initial(b"a"), Compact::Lp);
    }
}
