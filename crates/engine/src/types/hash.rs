//! Hashes: a listpack of alternating fields and values while small, a hash
//! table of field/value blocks past `hash-max-listpack-entries` fields or
//! `hash-max-listpack-value` bytes (Redis's rules, Redis's conversions).

use super::buf::Buf;
use super::hashtable::HashTable;
use super::listpack::{self as lp, Val};
use crate::state::Rng;

/// A read-only view of a hash in either encoding.
#[derive(Clone, Copy)]
pub enum HashRef<'a> {
    /// Listpack: field, value, field, value, ...
    Lp(&'a [u8]),
    /// Hash table.
    Table(&'a HashTable),
}

/// Offset of `field` in a listpack hash.
#[inline]
pub fn lp_find(l: &[u8], field: &[u8]) -> Option<usize> {
    lp::find(l, lp::first(l), field, 1)
}

impl<'a> HashRef<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            HashRef::Lp(l) => lp::len(l) / 2,
            HashRef::Table(t) => t.len(),
        }
    }

    /// True when there are no fields (never, for a stored hash).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<Val<'a>> {
        match *self {
            HashRef::Lp(l) => {
                let p = lp_find(l, field)?;
                Some(lp::get(l, lp::next(l, p).expect("a field has a value")))
            }
            HashRef::Table(t) => t.get(field).map(Val::Str),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        match *self {
            HashRef::Lp(l) => lp_find(l, field).is_some(),
            HashRef::Table(t) => t.get(field).is_some(),
        }
    }

    /// Visits every field and value (listpack order, or table order).
    pub fn for_each(&self, mut f: impl FnMut(Val<'a>, Val<'a>)) {
        match *self {
            HashRef::Lp(l) => {
                let mut p = lp::first(l);
                while let Some(fp) = p {
                    let vp = lp::next(l, fp).expect("a field has a value");
                    f(lp::get(l, fp), lp::get(l, vp));
                    p = lp::next(l, vp);
                }
            }
            HashRef::Table(t) => t.for_each(|k, v| {
                // Safety of the widened lifetime: the table is borrowed for 'a.
                let (k, v) = unsafe { (widen(k), widen(v)) };
                f(Val::Str(k), Val::Str(v))
            }),
        }
    }

    /// A uniformly random field and its value.
    pub fn random(&self, rng: &mut Rng) -> (Val<'a>, Val<'a>) {
        match *self {
            HashRef::Lp(l) => {
                let i = rng.below(self.len() as u64) as i64;
                let fp = lp::seek(l, 2 * i).expect("index below length");
                (lp::get(l, fp), lp::get(l, lp::next(l, fp).expect("a field has a value")))
            }
            HashRef::Table(t) => {
                let (k, v) = t.random(|| rng.next()).expect("stored hashes are not empty");
                // Safety: as in `for_each`.
                let (k, v) = unsafe { (widen(k), widen(v)) };
                (Val::Str(k), Val::Str(v))
            }
        }
    }
}

/// Extends a borrow of table contents to the table's own borrow.
///
/// # Safety
/// `s` must live in a table borrowed for `'a`.
unsafe fn widen<'a>(s: &[u8]) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(s.as_ptr(), s.len()) }
}

/// Sets `field` to `value` in a listpack hash; true when the field is new.
pub fn lp_set<B: Buf + ?Sized>(b: &mut B, field: &[u8], value: &[u8]) -> bool {
    match lp_find(b.bytes(), field) {
        Some(fp) => {
            let vp = lp::next(b.bytes(), fp).expect("a field has a value");
            lp::replace(b, vp, value);
            false
        }
        None => {
            lp::push_back(b, field);
            lp::push_back(b, value);
            true
        }
    }
}

/// Removes `field` from a listpack hash; false when absent.
pub fn lp_delete<B: Buf + ?Sized>(b: &mut B, field: &[u8]) -> bool {
    match lp_find(b.bytes(), field) {
        Some(fp) => {
            lp::delete(b, fp, 2);
            true
        }
        None => false,
    }
}

/// The hash table holding the same fields as a listpack hash.
pub fn lp_to_table(l: &[u8]) -> HashTable {
    let mut t = HashTable::default();
    HashRef::Lp(l).for_each(|k, v| {
        t.insert(&k.bytes(), &v.bytes());
    });
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_hash_edits() {
        let mut l = lp::new();
        assert!(lp_set(&mut l, b"a", b"1"));
        assert!(lp_set(&mut l, b"b", b"two"));
        assert!(!lp_set(&mut l, b"a", b"uno"));
        let h = HashRef::Lp(&l);
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(b"a").map(|v| v.bytes().into_owned()), Some(b"uno".to_vec()));
        // A value equal to a field name is not mistaken for the field.
        assert!(lp_set(&mut l, b"two", b"x"));
        assert_eq!(HashRef::Lp(&l).get(b"two").map(|v| v.bytes().into_owned()), Some(b"x".to_vec()));
        assert!(lp_delete(&mut l, b"b"));
        assert!(!lp_delete(&mut l, b"b"));
        let t = lp_to_table(&l);
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(b"a"), Some(&b"uno"[..]));
    }
}
