//! The hashtable encodings of sets and hashes: the keyspace's table of thin
//! blocks, keyed by member or field.

use std::ptr::NonNull;

use super::blob::{Blob, Pair};
use crate::table::{hash_bytes, Table, Thin};

/// A set of byte strings (the `hashtable` encoding of sets).
#[derive(Default)]
pub struct SetTable {
    t: Table<Blob>,
}

impl SetTable {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        self.t.find(hash_bytes(m), m).is_some()
    }

    /// Adds `m`; false when already present.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        let h = hash_bytes(m);
        if self.t.find(h, m).is_some() {
            return false;
        }
        self.t.insert_new(h, Blob::new(m), hash_bytes);
        true
    }

    /// Removes `m`; false when absent.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.t.find(hash_bytes(m), m) {
            Some(pos) => {
                self.t.remove(pos, hash_bytes);
                true
            }
            None => false,
        }
    }

    /// Visits every member.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        // Safety: table blocks are live Blobs while `self` is borrowed.
        self.t.for_each_raw(|p| f(unsafe { Blob::key_of(p) }));
    }

    /// A uniformly random member.
    pub fn random(&self, rnd: impl FnMut() -> u64) -> Option<&[u8]> {
        // Safety: as above.
        self.t.random_fair(rnd).map(|p| unsafe { Blob::key_of(p) })
    }

    /// One SCAN step (see [`Table::scan`]).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        // Safety: as above.
        self.t.scan(cursor, hash_bytes, |p| f(unsafe { Blob::key_of(p) }))
    }

    /// A deep copy.
    pub fn duplicate(&self) -> SetTable {
        let mut s = SetTable::default();
        self.for_each(|m| {
            s.insert(m);
        });
        s
    }
}

/// A map of fields to values (the `hashtable` encoding of hashes).
#[derive(Default)]
pub struct HashTable {
    t: Table<Pair>,
}

impl HashTable {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The value of `f`.
    pub fn get(&self, f: &[u8]) -> Option<&[u8]> {
        let pos = self.t.find(hash_bytes(f), f)?;
        // Safety: the bucket holds a live Pair.
        Some(unsafe { Pair::value_of(self.t.raw(pos)) })
    }

    /// Sets `f` to `v`; true when the field is new.
    pub fn insert(&mut self, f: &[u8], v: &[u8]) -> bool {
        let h = hash_bytes(f);
        match self.t.find(h, f) {
            Some(pos) => {
                drop(self.t.replace(pos, Pair::new(f, v)));
                false
            }
            None => {
                self.t.insert_new(h, Pair::new(f, v), hash_bytes);
                true
            }
        }
    }

    /// Removes `f`; false when absent.
    pub fn remove(&mut self, f: &[u8]) -> bool {
        match self.t.find(hash_bytes(f), f) {
            Some(pos) => {
                self.t.remove(pos, hash_bytes);
                true
            }
            None => false,
        }
    }

    fn pair(p: NonNull<u8>) -> (&'static [u8], &'static [u8]) {
        // Safety: called only on live Pair blocks of a borrowed table; the
        // 'static is narrowed by the callers to the table's borrow.
        unsafe { (Pair::key_of(p), Pair::value_of(p)) }
    }

    /// Visits every field and value.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.t.for_each_raw(|p| {
            let (k, v) = Self::pair(p);
            f(k, v)
        });
    }

    /// A uniformly random field and its value.
    pub fn random(&self, rnd: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        self.t.random_fair(rnd).map(Self::pair)
    }

    /// One SCAN step (see [`Table::scan`]).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        self.t.scan(cursor, hash_bytes, |p| {
            let (k, v) = Self::pair(p);
            f(k, v)
        })
    }

    /// A deep copy.
    pub fn duplicate(&self) -> HashTable {
        let mut h = HashTable::default();
        self.for_each(|k, v| {
            h.insert(k, v);
        });
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn set_and_hash_match_models() {
        let (mut s, mut ms) = (SetTable::default(), BTreeSet::new());
        let (mut h, mut mh) = (HashTable::default(), BTreeMap::new());
        for i in 0..3000u32 {
            let k = format!("m{}", (i * 7919) % 500).into_bytes();
            if i % 3 == 0 {
                assert_eq!(s.remove(&k), ms.remove(&k));
                assert_eq!(h.remove(&k), mh.remove(&k).is_some());
            } else {
                assert_eq!(s.insert(&k), ms.insert(k.clone()));
                let v = i.to_string().into_bytes();
                assert_eq!(h.insert(&k, &v), mh.insert(k.clone(), v).is_none());
            }
        }
        let mut got = BTreeSet::new();
        s.for_each(|m| {
            got.insert(m.to_vec());
        });
        assert_eq!(got, ms);
        let mut goth = BTreeMap::new();
        h.for_each(|k, v| {
            goth.insert(k.to_vec(), v.to_vec());
        });
        assert_eq!(goth, mh);
        assert_eq!(s.duplicate().len(), s.len());
        assert_eq!(h.duplicate().get(b"m1"), h.get(b"m1"));
    }
}
