//! An open-addressing hash table of thin entries, built for the keyspace.
//!
//! Why not a general-purpose map: the keyspace needs (1) 8 bytes per bucket,
//! (2) a SCAN that returns every entry present for the whole iteration even
//! when the table grows or shrinks between calls, and (3) cheap rehashing.
//!
//! * Buckets hold a *tagged pointer*: the top 16 bits are the top 16 bits of
//!   the entry's hash, the low 48 the address of the entry's heap block. Empty
//!   is 0. A probe compares tags before touching an entry, so a lookup usually
//!   costs one bucket cache line and one entry cache line.
//! * An entry's home bucket is the top `k` bits of its hash (capacity `2^k`),
//!   and collisions probe linearly. With `k <= 16` the home is known from the
//!   tag alone, so growing a table never dereferences entries.
//! * Deletion shifts the following run backwards (no tombstones), so all the
//!   entries whose home is `b` are found walking from `b` to the next empty
//!   bucket. A scan cursor is a position in hash space: every call visits one
//!   home bucket, and "all entries whose hash prefix is below the cursor were
//!   returned" holds whatever the capacity was at each call. That is Redis's
//!   reverse-binary SCAN guarantee, expressed in the top bits.

use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::OnceLock;

static HASHER: OnceLock<foldhash::fast::FixedState> = OnceLock::new();

/// The hash of keys, fields and members, seeded randomly per process so
/// that crafted inputs cannot be aimed at one bucket run.
#[inline]
pub fn hash_bytes(key: &[u8]) -> u64 {
    HASHER
        .get_or_init(|| {
            let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
            foldhash::fast::FixedState::with_seed(seed)
        })
        .hash_one(key)
}

/// Something a table can hold: a heap block that knows its key.
///
/// # Safety
/// `into_raw` must return a pointer that stays valid until `from_raw` takes
/// it back, below 2^48 (true for user-space addresses on x86-64 and
/// aarch64 Linux), and `key` must read the key from such a pointer.
pub unsafe trait Thin: Sized {
    /// Gives up ownership of the block.
    fn into_raw(self) -> NonNull<u8>;
    /// Takes ownership back.
    ///
    /// # Safety
    /// `p` came from `into_raw` and is not owned elsewhere.
    unsafe fn from_raw(p: NonNull<u8>) -> Self;
    /// The key stored in the block at `p`.
    ///
    /// # Safety
    /// `p` is a live block of this type; the slice lives as long as it.
    unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8];
}

const TAG_SHIFT: u32 = 48;
const ADDR_MASK: u64 = (1 << TAG_SHIFT) - 1;
const MIN_CAP_BITS: u32 = 2;

/// Hash function shared by a table's users (the table itself only needs it to
/// rehash keys it cannot place from their tag).
pub type HashFn = fn(&[u8]) -> u64;

/// The table. See the module docs for the layout.
pub struct Table<E: Thin> {
    buckets: Box<[u64]>,
    len: usize,
    _owns: PhantomData<E>,
}

// Safety: the table owns its entries exclusively; it is as thread-safe as E.
unsafe impl<E: Thin + Send> Send for Table<E> {}

impl<E: Thin> Default for Table<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// The index of a bucket holding a found entry. Valid until the table is
/// next modified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos(pub usize);

#[inline]
fn tag_of(hash: u64) -> u64 {
    hash >> TAG_SHIFT
}

#[inline]
fn addr(v: u64) -> NonNull<u8> {
    // Safety: only non-empty buckets (non-null addresses) are decoded.
    unsafe { NonNull::new_unchecked((v & ADDR_MASK) as usize as *mut u8) }
}

impl<E: Thin> Table<E> {
    /// An empty table; allocates on first insert.
    pub fn new() -> Self {
        Table { buckets: Box::new([]), len: 0, _owns: PhantomData }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets.
    pub fn capacity(&self) -> usize {
        self.buckets.len()
    }

    /// Bytes used by the bucket array.
    pub fn bucket_bytes(&self) -> usize {
        self.buckets.len() * 8
    }

    #[inline]
    fn bits(&self) -> u32 {
        self.buckets.len().trailing_zeros()
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    #[inline]
    fn home_of_hash(&self, hash: u64) -> usize {
        // `bits() >= MIN_CAP_BITS` whenever there are buckets to index.
        (hash >> (64 - self.bits())) as usize
    }

    /// Home bucket of the entry stored as `v`.
    #[inline]
    fn home_of(&self, v: u64, hash_fn: HashFn) -> usize {
        let bits = self.bits();
        if bits <= 16 {
            (tag_of_value(v) >> (16 - bits)) as usize
        } else {
            // Safety: `v` is a live entry of this table.
            let key = unsafe { E::key_of(addr(v)) };
            self.home_of_hash(hash_fn(key))
        }
    }

    /// Finds the entry whose key equals `key` (whose hash is `hash`).
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<Pos> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let tag = tag_of(hash);
        let mut i = self.home_of_hash(hash);
        loop {
            let v = self.buckets[i];
            if v == 0 {
                return None;
            }
            // Safety: non-empty buckets hold live entries.
            if tag_of_value(v) == tag && unsafe { E::key_of(addr(v)) } == key {
                return Some(Pos(i));
            }
            i = (i + 1) & mask;
        }
    }

    /// Finds the bucket holding exactly the block `p` (whose key hashes to
    /// `hash`), for aliases that must follow an entry that moved.
    pub fn find_ptr(&self, hash: u64, p: NonNull<u8>) -> Option<Pos> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = self.home_of_hash(hash);
        loop {
            let v = self.buckets[i];
            if v == 0 {
                return None;
            }
            if addr(v) == p {
                return Some(Pos(i));
            }
            i = (i + 1) & mask;
        }
    }

    /// The block at `pos`.
    #[inline]
    pub fn raw(&self, pos: Pos) -> NonNull<u8> {
        addr(self.buckets[pos.0])
    }

    /// Replaces the block at `pos` with `e` (same key), returning the old
    /// one.
    pub fn replace(&mut self, pos: Pos, e: E) -> E {
        let old = self.buckets[pos.0];
        let p = e.into_raw();
        self.buckets[pos.0] = (old & !ADDR_MASK) | check_addr(p);
        // Safety: the bucket owned `old`; ownership passes to the caller.
        unsafe { E::from_raw(addr(old)) }
    }

    /// Points the bucket at `pos` to `p` without dropping what it held: for
    /// tables of aliases, and for owners whose block was reallocated.
    pub fn set_raw(&mut self, pos: Pos, p: NonNull<u8>) {
        let old = self.buckets[pos.0];
        self.buckets[pos.0] = (old & !ADDR_MASK) | check_addr(p);
    }

    /// Inserts `e`, whose key hashes to `hash` and is not in the table.
    pub fn insert_new(&mut self, hash: u64, e: E, hash_fn: HashFn) -> Pos {
        if (self.len + 1) * 4 > self.buckets.len() * 3 {
            let bits = if self.buckets.is_empty() { MIN_CAP_BITS } else { self.bits() + 1 };
            self.resize(bits, hash_fn);
        }
        let p = e.into_raw();
        let v = (tag_of(hash) << TAG_SHIFT) | check_addr(p);
        let mask = self.mask();
        let mut i = self.home_of_hash(hash);
        while self.buckets[i] != 0 {
            i = (i + 1) & mask;
        }
        self.buckets[i] = v;
        self.len += 1;
        Pos(i)
    }

    /// Removes and returns the entry at `pos`, shifting the rest of its run
    /// back so no tombstone is left. May shrink the table.
    pub fn remove(&mut self, pos: Pos, hash_fn: HashFn) -> E {
        let old = self.buckets[pos.0];
        self.remove_at(pos.0, hash_fn);
        self.len -= 1;
        if self.len == 0 {
            self.buckets = Box::new([]);
        } else if self.buckets.len() > 1 << MIN_CAP_BITS && self.len * 8 < self.buckets.len() {
            let bits = self.bits() - 1;
            self.resize(bits, hash_fn);
        }
        // Safety: the bucket owned `old`; ownership passes to the caller.
        unsafe { E::from_raw(addr(old)) }
    }

    fn remove_at(&mut self, mut hole: usize, hash_fn: HashFn) {
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let v = self.buckets[j];
            if v == 0 {
                break;
            }
            let home = self.home_of(v, hash_fn);
            // Move `j` into the hole unless its home lies cyclically in
            // (hole, j]: then it is already as close to home as it can be.
            let home_in_range = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !home_in_range {
                self.buckets[hole] = v;
                hole = j;
            }
        }
        self.buckets[hole] = 0;
    }

    fn resize(&mut self, bits: u32, hash_fn: HashFn) {
        let old = std::mem::replace(&mut self.buckets, vec![0u64; 1 << bits].into_boxed_slice());
        let mask = self.mask();
        for &v in old.iter().filter(|&&v| v != 0) {
            let mut i = if bits <= 16 {
                (tag_of_value(v) >> (16 - bits)) as usize
            } else {
                // Safety: `v` is a live entry being moved.
                self.home_of_hash(hash_fn(unsafe { E::key_of(addr(v)) }))
            };
            while self.buckets[i] != 0 {
                i = (i + 1) & mask;
            }
            self.buckets[i] = v;
        }
    }

    /// Visits the entries whose home bucket contains hash-space position
    /// `cursor`, then returns the cursor of the next home bucket (0 after the
    /// last one).
    pub fn scan(&self, cursor: u64, hash_fn: HashFn, mut f: impl FnMut(NonNull<u8>)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let bits = self.bits();
        let home = (cursor >> (64 - bits)) as usize;
        let mask = self.mask();
        let mut i = home;
        loop {
            let v = self.buckets[i];
            if v == 0 {
                break;
            }
            if self.home_of(v, hash_fn) == home {
                f(addr(v));
            }
            i = (i + 1) & mask;
            if i == home {
                break;
            }
        }
        let next = home as u64 + 1;
        if next == 1 << bits {
            0
        } else {
            next << (64 - bits)
        }
    }

    /// A pseudo-random entry, given a random number.
    pub fn random(&self, r: u64) -> Option<NonNull<u8>> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = (r as usize) & mask;
        loop {
            let v = self.buckets[i];
            if v != 0 {
                return Some(addr(v));
            }
            i = (i + 1) & mask;
        }
    }

    /// A uniformly random entry: buckets are drawn until one is occupied
    /// (the load factor is kept at 1/8 or more, so this takes a few draws),
    /// with a bounded fallback to the next occupied bucket.
    pub fn random_fair(&self, mut rnd: impl FnMut() -> u64) -> Option<NonNull<u8>> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        for _ in 0..64 {
            let v = self.buckets[(rnd() as usize) & mask];
            if v != 0 {
                return Some(addr(v));
            }
        }
        self.random(rnd())
    }

    /// Visits every block (in bucket order).
    pub fn for_each_raw(&self, mut f: impl FnMut(NonNull<u8>)) {
        self.buckets.iter().filter(|&&v| v != 0).for_each(|&v| f(addr(v)));
    }

    /// The block in bucket `i`, if any: a cheap resumable walk for the
    /// active expiry cycle, which does not need SCAN's guarantee.
    #[inline]
    pub fn bucket(&self, i: usize) -> Option<NonNull<u8>> {
        let v = *self.buckets.get(i)?;
        (v != 0).then(|| addr(v))
    }

    /// Removes every entry, returning them.
    pub fn drain(&mut self) -> Vec<E> {
        let old = std::mem::take(&mut self.buckets);
        self.len = 0;
        // Safety: each non-empty bucket owned its entry.
        old.iter().filter(|&&v| v != 0).map(|&v| unsafe { E::from_raw(addr(v)) }).collect()
    }
}

#[inline]
fn tag_of_value(v: u64) -> u64 {
    v >> TAG_SHIFT
}

#[inline]
fn check_addr(p: NonNull<u8>) -> u64 {
    let a = p.as_ptr() as usize as u64;
    assert!(a & !ADDR_MASK == 0, "heap address above 2^48 cannot be tagged");
    a
}

impl<E: Thin> Drop for Table<E> {
    fn drop(&mut self) {
        for &v in self.buckets.iter().filter(|&&v| v != 0) {
            // Safety: each non-empty bucket owns its entry exactly once.
            drop(unsafe { E::from_raw(addr(v)) });
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    /// A boxed key, the simplest `Thin`: the Box makes the pointer thin.
    #[allow(clippy::box_collection)]
    pub struct K(Box<Vec<u8>>);
    unsafe impl Thin for K {
        fn into_raw(self) -> NonNull<u8> {
            NonNull::from(Box::leak(self.0)).cast()
        }
        unsafe fn from_raw(p: NonNull<u8>) -> Self {
            K(unsafe { Box::from_raw(p.cast::<Vec<u8>>().as_ptr()) })
        }
        unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8] {
            unsafe { &*p.cast::<Vec<u8>>().as_ptr() }
        }
    }

    /// Test sizes, shrunk under Miri (which runs the unsafe code ~1000x slower).
    pub(crate) fn scaled(n: usize) -> usize {
        if cfg!(miri) {
            (n / 100).max(2)
        } else {
            n
        }
    }

    fn h(k: &[u8]) -> u64 {
        hash_bytes(k)
    }

    /// A deliberately terrible hash to force long runs and collisions.
    fn bad(k: &[u8]) -> u64 {
        (k.first().copied().unwrap_or(0) as u64 % 3) << 62
    }

    fn key_at(t: &Table<K>, p: Pos) -> Vec<u8> {
        unsafe { K::key_of(t.raw(p)) }.to_vec()
    }

    fn check(hf: HashFn) {
        let mut t: Table<K> = Table::new();
        let mut model = HashSet::new();
        let mut seed = 7u64;
        for step in 0..scaled(20000) as u64 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let k = format!("k{}", (seed >> 33) % 700).into_bytes();
            let hash = hf(&k);
            match (t.find(hash, &k), model.contains(&k)) {
                (Some(p), true) => {
                    assert_eq!(key_at(&t, p), k);
                    if step % 3 == 0 {
                        let e = t.remove(p, hf);
                        assert_eq!(*e.0, k);
                        model.remove(&k);
                    }
                }
                (None, false) => {
                    t.insert_new(hash, K(Box::new(k.clone())), hf);
                    model.insert(k);
                }
                (found, expected) => panic!("find={found:?} model={expected} at step {step}"),
            }
            assert_eq!(t.len(), model.len());
        }
        let mut all = HashSet::new();
        t.for_each_raw(|p| {
            all.insert(unsafe { K::key_of(p) }.to_vec());
        });
        assert_eq!(all, model);
    }

    #[test]
    fn behaves_like_a_set() {
        check(h);
    }

    #[test]
    fn behaves_like_a_set_with_colliding_hashes() {
        check(bad);
    }

    #[test]
    fn scan_returns_survivors_across_resizes() {
        let mut t: Table<K> = Table::new();
        let stable: BTreeSet<Vec<u8>> = (0..scaled(300)).map(|i| format!("stable{i}").into_bytes()).collect();
        for k in &stable {
            t.insert_new(h(k), K(Box::new(k.clone())), h);
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0u64;
        let mut round = 0;
        loop {
            cursor = t.scan(cursor, h, |p| {
                seen.insert(unsafe { K::key_of(p) }.to_vec());
            });
            // Churn between calls: grow a lot, then shrink back.
            round += 1;
            if round % 2 == 0 {
                for i in 0..scaled(200) {
                    let k = format!("tmp{round}-{i}").into_bytes();
                    t.insert_new(h(&k), K(Box::new(k)), h);
                }
            } else {
                let doomed: Vec<Vec<u8>> = {
                    let mut v = Vec::new();
                    t.for_each_raw(|p| {
                        let k = unsafe { K::key_of(p) }.to_vec();
                        if k.starts_with(b"tmp") {
                            v.push(k);
                        }
                    });
                    v
                };
                for k in doomed {
                    let p = t.find(h(&k), &k).unwrap();
                    t.remove(p, h);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        let missing: Vec<_> = stable.difference(&seen).collect();
        assert!(missing.is_empty(), "scan missed {} keys", missing.len());
    }

    #[test]
    fn big_tables_rehash_through_keys() {
        // Past 2^16 buckets the home is no longer in the tag.
        let mut t: Table<K> = Table::new();
        for i in 0..scaled(70000) as u32 {
            let k = i.to_be_bytes().to_vec();
            t.insert_new(h(&k), K(Box::new(k)), h);
        }
        assert!(cfg!(miri) || t.capacity() > 1 << 16);
        for i in (0..scaled(70000) as u32).step_by(2) {
            let k = i.to_be_bytes().to_vec();
            let p = t.find(h(&k), &k).unwrap();
            t.remove(p, h);
        }
        for i in 0..scaled(70000) as u32 {
            let k = i.to_be_bytes().to_vec();
            assert_eq!(t.find(h(&k), &k).is_some(), i % 2 == 1);
        }
    }
}
