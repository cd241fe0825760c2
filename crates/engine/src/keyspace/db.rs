//! One logical database: 16384 slot tables of entries, and per slot an index
//! of the keys that have an expire time.
//!
//! Indexing by slot from the start means a slot's keys can be counted and
//! enumerated (for cluster resharding) without touching the rest, and no
//! single table ever holds the whole keyspace, so rehashing stays small.
//! Everything here is synchronous and takes the current time from the caller.

use std::collections::HashSet;

use ferrokv_router::{key_slot, SLOTS};

use super::access::Clock;
use super::entry::{Alias, Entry, EntryMut, EntryRef};
use super::hash_key;
use crate::table::{Pos, Table, Thin};

const WORDS: usize = SLOTS / 64;

#[derive(Default)]
struct Slot {
    keys: Table<Entry>,
    volatile: Table<Alias>,
}

/// Where a live entry is. Valid until the database is next modified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    slot: u16,
    pos: Pos,
}

impl Loc {
    /// The hash slot of the entry's key.
    pub fn slot(&self) -> u16 {
        self.slot
    }
}

/// What one active-expiry sample did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpireSample {
    /// Volatile keys looked at.
    pub sampled: usize,
    /// Keys found expired and deleted.
    pub expired: usize,
    /// Sum of the remaining TTLs of the sampled keys still alive (for avg_ttl).
    pub ttl_sum: i64,
    /// How many keys contributed to `ttl_sum`.
    pub ttl_samples: usize,
}

/// A logical database.
pub struct Db {
    slots: Vec<Slot>,
    keys: usize,
    volatile: usize,
    nonempty: Vec<u64>,
    volatile_slots: Vec<u64>,
    expire_cursor: (usize, usize),
    /// Estimated average TTL of volatile keys in ms (INFO keyspace avg_ttl),
    /// maintained by the active expiry cycle as Redis does.
    pub avg_ttl: i64,
    /// Keys removed because they expired, since the caller last took them;
    /// only collected while `log_expired` is set (propagation, notifications).
    pub expired_log: Vec<Vec<u8>>,
    /// Whether to collect `expired_log`.
    pub log_expired: bool,
    /// Keys added since the owner last drained the list; only collected
    /// while `log_new` is set (the `new` keyspace notification).
    pub new_log: Vec<Vec<u8>>,
    /// Whether to collect `new_log`.
    pub log_new: bool,
    /// Keys removed by expiry, lazily or actively, since the last reset.
    pub expired_count: u64,
    /// Keys that blocked clients wait on (kept by the blocking registry).
    pub watched: HashSet<Vec<u8>>,
    /// Watched keys that were created or replaced since the registry last
    /// looked, in order (Redis's `signalKeyAsReady`).
    pub ready: Vec<Vec<u8>>,
    /// Large expired values waiting to be freed by the caller.
    pub garbage: Vec<Entry>,
    /// What entries' access fields record (set from maxmemory-policy).
    pub clock: Clock,
    /// State of the coin tossed for LFU increments.
    toss: u64,
    /// While clients are paused the dataset stands still: expired keys
    /// read as missing but are not deleted.
    pub frozen: bool,
}

/// Allocations above which freeing a value may go to the background
/// (Redis's LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn bit_set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

#[inline]
fn bit_clear(bits: &mut [u64], i: usize) {
    bits[i / 64] &= !(1 << (i % 64));
}

/// The first set bit at or after `from`, without wrapping.
fn next_set(bits: &[u64], from: usize) -> Option<usize> {
    if from >= SLOTS || bits.is_empty() {
        return None;
    }
    let mut w = from / 64;
    let mut word = bits[w] & (!0u64 << (from % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        if w == WORDS {
            return None;
        }
        word = bits[w];
    }
}

impl Db {
    /// An empty database (allocates its slot array on first insert).
    pub fn new() -> Self {
        Db {
            slots: Vec::new(),
            keys: 0,
            volatile: 0,
            nonempty: Vec::new(),
            volatile_slots: Vec::new(),
            expire_cursor: (0, 0),
            avg_ttl: 0,
            expired_log: Vec::new(),
            log_expired: false,
            new_log: Vec::new(),
            log_new: false,
            expired_count: 0,
            watched: HashSet::new(),
            ready: Vec::new(),
            garbage: Vec::new(),
            clock: Clock::Lru,
            toss: 0x2545_f491_4f6c_dd1d,
            frozen: false,
        }
    }

    /// The access field of an entry created now.
    #[inline]
    pub fn fresh_lru(&self, now_ms: i64) -> u32 {
        self.clock.fresh(now_ms)
    }

    /// Records an access to the entry at `loc` (Redis's lookupKey without
    /// LOOKUP_NOTOUCH).
    #[inline]
    pub fn touch(&mut self, loc: Loc, now_ms: i64) {
        let random = if self.clock.is_lfu() {
            // xorshift64: the toss needs speed, not quality.
            let mut x = self.toss;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.toss = x;
            x
        } else {
            0
        };
        let clock = self.clock;
        let mut e = self.get_mut(loc);
        let old = e.lru();
        e.set_lru(clock.touched(old, now_ms, random));
    }

    fn ensure_slots(&mut self) {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
            self.nonempty = vec![0; WORDS];
            self.volatile_slots = vec![0; WORDS];
        }
    }

    /// Number of keys (including expired ones not yet reclaimed).
    #[inline]
    pub fn len(&self) -> usize {
        self.keys
    }

    /// True when the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    /// Number of keys with an expire time.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// Number of keys in `slot`.
    pub fn slot_len(&self, slot: u16) -> usize {
        self.slots.get(slot as usize).map_or(0, |s| s.keys.len())
    }

    /// Visits the keys of one slot, touching no other slot.
    pub fn slot_keys(&self, slot: u16, mut f: impl FnMut(&[u8])) {
        if let Some(s) = self.slots.get(slot as usize) {
            // Safety: table blocks are live entries while `self` is borrowed.
            s.keys.for_each_raw(|p| f(unsafe { EntryRef::new(p) }.key()));
        }
    }

    /// Finds `key` without expiring it or touching its LRU.
    #[inline]
    pub fn peek(&self, key: &[u8]) -> Option<Loc> {
        let slot = key_slot(key);
        let s = self.slots.get(slot as usize)?;
        let pos = s.keys.find(hash_key(key), key)?;
        Some(Loc { slot, pos })
    }

    /// Finds the live entry for `key`: an expired one is deleted on the way
    /// (lazy expiry) and reported as absent. Records the access in its LRU.
    #[inline]
    pub fn find(&mut self, key: &[u8], now_ms: i64) -> Option<Loc> {
        self.find_opt(key, now_ms, true)
    }

    /// Like [`Db::find`] without recording an access (TYPE, EXISTS, TTL,
    /// OBJECT: Redis's LOOKUP_NOTOUCH).
    #[inline]
    pub fn find_notouch(&mut self, key: &[u8], now_ms: i64) -> Option<Loc> {
        self.find_opt(key, now_ms, false)
    }

    #[inline]
    fn find_opt(&mut self, key: &[u8], now_ms: i64, touch: bool) -> Option<Loc> {
        let loc = self.peek(key)?;
        if self.get(loc).expire().is_some_and(|t| t <= now_ms) {
            if !self.frozen {
                self.expire_now(loc);
            }
            return None;
        }
        if touch {
            self.touch(loc, now_ms);
        }
        Some(loc)
    }

    /// True when `key` exists and is not expired (no side effects).
    pub fn is_live(&self, key: &[u8], now_ms: i64) -> bool {
        self.peek(key).is_some_and(|l| self.get(l).expire().is_none_or(|t| t > now_ms))
    }

    /// Deletes an expired entry, counting and logging it.
    fn expire_now(&mut self, loc: Loc) {
        let e = self.remove(loc);
        self.expired_count += 1;
        if self.log_expired {
            self.expired_log.push(e.key().to_vec());
        }
        if e.free_effort() > LAZYFREE_THRESHOLD {
            // Whoever drives expiry decides, by lazyfree-lazy-expire, where
            // a large value is freed.
            self.garbage.push(e);
        }
    }

    /// Reads the entry at `loc`.
    #[inline]
    pub fn get(&self, loc: Loc) -> EntryRef<'_> {
        let p = self.slots[loc.slot as usize].keys.raw(loc.pos);
        // Safety: the table owns the live block and `self` is borrowed.
        unsafe { EntryRef::new(p) }
    }

    /// Writes the entry at `loc` in place.
    #[inline]
    pub fn get_mut(&mut self, loc: Loc) -> EntryMut<'_> {
        let p = self.slots[loc.slot as usize].keys.raw(loc.pos);
        // Safety: as above, with `self` borrowed mutably.
        unsafe { EntryMut::new(p) }
    }

    /// Rebuilds the entry at `loc` with `f`, which may reallocate it (a new
    /// value, a longer string). Key and expire must stay the same; use
    /// [`Db::set_expire`] for the expire.
    pub fn update(&mut self, loc: Loc, f: impl FnOnce(Entry) -> Entry) {
        let slot = &mut self.slots[loc.slot as usize];
        let old = slot.keys.raw(loc.pos);
        // Safety: ownership is taken from the bucket for the duration of `f`
        // and handed back right after; `f` must not panic (panics abort the
        // server).
        let e = unsafe { Entry::from_raw(old) };
        let volatile = e.expire().is_some();
        let new = f(e).into_raw();
        if new != old {
            slot.keys.set_raw(loc.pos, new);
            if volatile {
                // Safety: `new` is live and its key is the old key.
                let key = unsafe { Entry::key_of(new) };
                let h = hash_key(key);
                let apos = slot.volatile.find_ptr(h, old).expect("volatile alias exists");
                slot.volatile.set_raw(apos, new);
            }
        }
    }

    /// Sets or clears the expire time of the entry at `loc`.
    pub fn set_expire(&mut self, loc: Loc, expire: Option<i64>) {
        let slot = &mut self.slots[loc.slot as usize];
        let old = slot.keys.raw(loc.pos);
        // Safety: as in `update`.
        let e = unsafe { Entry::from_raw(old) };
        let was = e.expire().is_some();
        let key_hash = hash_key(e.key());
        let new = e.with_expire(expire).into_raw();
        slot.keys.set_raw(loc.pos, new);
        match (was, expire.is_some()) {
            (true, true) => {
                if new != old {
                    let apos = slot.volatile.find_ptr(key_hash, old).expect("volatile alias exists");
                    slot.volatile.set_raw(apos, new);
                }
            }
            (true, false) => {
                let apos = slot.volatile.find_ptr(key_hash, old).expect("volatile alias exists");
                slot.volatile.remove(apos, hash_key);
                self.volatile -= 1;
                if slot.volatile.is_empty() {
                    bit_clear(&mut self.volatile_slots, loc.slot as usize);
                }
            }
            (false, true) => {
                slot.volatile.insert_new(key_hash, Alias::new(new), hash_key);
                self.volatile += 1;
                bit_set(&mut self.volatile_slots, loc.slot as usize);
            }
            (false, false) => {}
        }
    }

    /// Notes that `key` got a value, if a blocked client waits on it.
    #[inline]
    fn signal(&mut self, key: &[u8]) {
        if !self.watched.is_empty() && self.watched.contains(key) {
            self.ready.push(key.to_vec());
        }
    }

    /// Signals every watched key that exists (after SWAPDB brought in a
    /// different dataset; Redis's `scanDatabaseForReadyKeys`).
    pub fn signal_all_watched(&mut self) {
        let present: Vec<Vec<u8>> = self.watched.iter().filter(|k| self.peek(k).is_some()).cloned().collect();
        self.ready.extend(present);
    }

    /// Inserts `e`, whose key must not be present (or be present only as an
    /// expired entry kept by a pause).
    pub fn insert(&mut self, e: Entry) -> Loc {
        if self.frozen {
            // A write during a pause (a transaction queued before it) may
            // create a key that still sits there expired: it goes now.
            if let Some(loc) = self.peek(e.key()) {
                drop(self.remove(loc));
            }
        }
        if self.log_new {
            self.new_log.push(e.key().to_vec());
        }
        self.insert_entry(e)
    }

    /// [`Db::insert`] without announcing a new key (a replacement).
    fn insert_entry(&mut self, e: Entry) -> Loc {
        self.ensure_slots();
        self.signal(e.key());
        let key = e.key();
        let slot_no = key_slot(key);
        let h = hash_key(key);
        let volatile = e.expire().is_some();
        let slot = &mut self.slots[slot_no as usize];
        let pos = slot.keys.insert_new(h, e, hash_key);
        if volatile {
            let p = slot.keys.raw(pos);
            slot.volatile.insert_new(h, Alias::new(p), hash_key);
            self.volatile += 1;
            bit_set(&mut self.volatile_slots, slot_no as usize);
        }
        self.keys += 1;
        bit_set(&mut self.nonempty, slot_no as usize);
        Loc { slot: slot_no, pos }
    }

    /// Replaces the entry at `loc` with `e` (same key), returning the old one.
    /// Under LFU the key keeps its access counter (Redis's dbOverwrite): a
    /// new value is not a new key.
    pub fn replace(&mut self, loc: Loc, mut e: Entry) -> Entry {
        self.signal(e.key());
        if self.clock.is_lfu() {
            e.set_lru(self.get(loc).lru());
        }
        let slot = &mut self.slots[loc.slot as usize];
        // Safety: the bucket holds a live entry.
        let old_volatile = unsafe { EntryRef::new(slot.keys.raw(loc.pos)) }.expire().is_some();
        if !old_volatile && e.expire().is_none() {
            return slot.keys.replace(loc.pos, e);
        }
        let old = self.remove(loc);
        self.insert_entry(e);
        old
    }

    /// Removes the entry at `loc`.
    pub fn remove(&mut self, loc: Loc) -> Entry {
        let slot = &mut self.slots[loc.slot as usize];
        let p = slot.keys.raw(loc.pos);
        // Safety: `p` is live until removed below.
        let key = unsafe { Entry::key_of(p) };
        let h = hash_key(key);
        if !slot.volatile.is_empty() {
            if let Some(apos) = slot.volatile.find_ptr(h, p) {
                slot.volatile.remove(apos, hash_key);
                self.volatile -= 1;
                if slot.volatile.is_empty() {
                    bit_clear(&mut self.volatile_slots, loc.slot as usize);
                }
            }
        }
        let e = slot.keys.remove(loc.pos, hash_key);
        if slot.keys.is_empty() {
            bit_clear(&mut self.nonempty, loc.slot as usize);
        }
        self.keys -= 1;
        e
    }

    /// Deletes `key` if it is live; an expired key is reclaimed as expired
    /// and not counted as deleted (as Redis's DEL does).
    pub fn delete(&mut self, key: &[u8], now_ms: i64) -> Option<Entry> {
        let loc = self.find(key, now_ms)?;
        Some(self.remove(loc))
    }

    /// Removes every key, returning how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.keys;
        self.slots = Vec::new();
        self.nonempty = Vec::new();
        self.volatile_slots = Vec::new();
        self.keys = 0;
        self.volatile = 0;
        self.avg_ttl = 0;
        self.expire_cursor = (0, 0);
        n
    }

    /// Moves every key out into a detached database (for FLUSHALL ASYNC:
    /// the caller frees it elsewhere).
    pub fn take(&mut self) -> Db {
        let mut fresh = Db::new();
        fresh.log_expired = self.log_expired;
        fresh.log_new = self.log_new;
        fresh.expired_count = self.expired_count;
        fresh.watched = std::mem::take(&mut self.watched);
        (fresh.clock, fresh.frozen, fresh.toss) = (self.clock, self.frozen, self.toss);
        std::mem::replace(self, fresh)
    }

    /// One step of SCAN: visits the keys of one home bucket of one slot and
    /// returns the next cursor (0 when the iteration is complete).
    ///
    /// The cursor's low 14 bits are the slot; the rest is the position in
    /// that slot's hash space, which stays meaningful across resizes.
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&Entry)) -> u64 {
        let mut slot = (cursor & (SLOTS as u64 - 1)) as usize;
        let mut tc = cursor & !(SLOTS as u64 - 1);
        let Some(s) = next_set(&self.nonempty, slot) else {
            return 0;
        };
        if s != slot {
            slot = s;
            tc = 0;
        }
        let table = &self.slots[slot].keys;
        // Safety: blocks visited are live while `self` is borrowed.
        let next = table.scan(tc, hash_key, |p| f(&*unsafe { EntryRef::new(p) }));
        if next != 0 {
            return next | slot as u64;
        }
        // This slot is done: the next call starts at the next slot.
        next_set(&self.nonempty, slot + 1).map_or(0, |n| n as u64)
    }

    /// Visits every entry.
    pub fn for_each(&self, mut f: impl FnMut(&Entry)) {
        let mut slot = 0;
        while let Some(s) = next_set(&self.nonempty, slot) {
            // Safety: live blocks while `self` is borrowed.
            self.slots[s].keys.for_each_raw(|p| f(&*unsafe { EntryRef::new(p) }));
            slot = s + 1;
        }
    }

    /// A pseudo-random entry (not reclaiming expired ones), from two random
    /// numbers.
    pub fn random(&self, r1: u64, r2: u64) -> Option<Loc> {
        if self.keys == 0 {
            return None;
        }
        let start = (r1 % SLOTS as u64) as usize;
        let slot = next_set(&self.nonempty, start).or_else(|| next_set(&self.nonempty, 0))?;
        let table = &self.slots[slot].keys;
        let p = table.random(r2)?;
        // Safety: `p` is live; we only read its key to locate it.
        let key = unsafe { Entry::key_of(p) };
        table.find(hash_key(key), key).map(|pos| Loc { slot: slot as u16, pos })
    }

    /// A pseudo-random key that has a time to live, from two random numbers
    /// (volatile-* eviction).
    pub fn random_volatile(&self, r1: u64, r2: u64) -> Option<Loc> {
        if self.volatile == 0 {
            return None;
        }
        let start = (r1 % SLOTS as u64) as usize;
        let slot = next_set(&self.volatile_slots, start).or_else(|| next_set(&self.volatile_slots, 0))?;
        let p = self.slots[slot].volatile.random(r2)?;
        // Safety: aliases point at live entries of this slot.
        let key = unsafe { Entry::key_of(p) };
        self.slots[slot].keys.find(hash_key(key), key).map(|pos| Loc { slot: slot as u16, pos })
    }

    /// Looks at up to `max` volatile keys from where the last call stopped,
    /// deleting those expired at `now_ms`.
    pub fn expire_sample(&mut self, now_ms: i64, max: usize) -> ExpireSample {
        let mut out = ExpireSample::default();
        if self.volatile == 0 {
            return out;
        }
        // Keys are copied out: the walk may come round to a bucket twice, and
        // deleting must not meet a block it already freed.
        let mut due: Vec<Vec<u8>> = Vec::new();
        let (mut slot, mut bucket) = self.expire_cursor;
        let mut visited_buckets = 0usize;
        let mut wrapped = false;
        while out.sampled < max && visited_buckets < max * 20 {
            let s = match next_set(&self.volatile_slots, slot) {
                Some(s) => s,
                None if !wrapped => {
                    wrapped = true;
                    slot = 0;
                    bucket = 0;
                    continue;
                }
                None => break,
            };
            if s != slot {
                slot = s;
                bucket = 0;
            }
            let table = &self.slots[slot].volatile;
            if bucket >= table.capacity() {
                slot += 1;
                bucket = 0;
                continue;
            }
            visited_buckets += 1;
            if let Some(p) = table.bucket(bucket) {
                out.sampled += 1;
                // Safety: aliases point at live entries.
                let t = unsafe { EntryRef::new(p) }.expire().expect("volatile entry has an expire");
                if t <= now_ms {
                    // Safety: as above.
                    due.push(unsafe { Entry::key_of(p) }.to_vec());
                } else {
                    out.ttl_sum += t - now_ms;
                    out.ttl_samples += 1;
                }
            }
            bucket += 1;
        }
        self.expire_cursor = (slot, bucket);
        for key in due {
            if let Some(loc) = self.peek(&key) {
                self.expire_now(loc);
                out.expired += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::entry::StrEnc;
    use crate::table::tests::scaled;
    use std::collections::{BTreeMap, BTreeSet};

    fn put(db: &mut Db, k: &str, v: &str, exp: Option<i64>) {
        if let Some(l) = db.peek(k.as_bytes()) {
            db.remove(l);
        }
        db.insert(Entry::new_str(k.as_bytes(), v.as_bytes(), StrEnc::Embstr, exp, 0));
    }

    fn val(db: &mut Db, k: &str, now: i64) -> Option<String> {
        let l = db.find(k.as_bytes(), now)?;
        Some(String::from_utf8(db.get(l).str().0.to_vec()).unwrap())
    }

    #[test]
    fn set_get_expire() {
        let mut db = Db::new();
        put(&mut db, "a", "1", None);
        put(&mut db, "b", "2", Some(100));
        assert_eq!(db.len(), 2);
        assert_eq!(db.volatile_len(), 1);
        assert_eq!(val(&mut db, "b", 99).as_deref(), Some("2"));
        assert_eq!(val(&mut db, "b", 100), None);
        assert_eq!(db.len(), 1);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(db.expired_count, 1);
        let l = db.find(b"a", 0).unwrap();
        db.set_expire(l, Some(50));
        assert_eq!(db.volatile_len(), 1);
        let l = db.find(b"a", 0).unwrap();
        db.update(l, |e| e.with_str(&[b'z'; 300], StrEnc::Raw));
        let l = db.find(b"a", 0).unwrap();
        assert_eq!(db.get(l).expire(), Some(50));
        db.set_expire(l, None);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(val(&mut db, "a", 1000).unwrap().len(), 300);
    }

    #[test]
    fn slot_enumeration_and_counts() {
        let mut db = Db::new();
        for i in 0..50 {
            put(&mut db, &format!("{{user}}:{i}"), "x", None);
            put(&mut db, &format!("other:{i}"), "x", None);
        }
        let slot = key_slot(b"user");
        assert_eq!(db.slot_len(slot), 50);
        let mut keys = Vec::new();
        db.slot_keys(slot, |k| keys.push(k.to_vec()));
        assert_eq!(keys.len(), 50);
        assert!(keys.iter().all(|k| k.starts_with(b"{user}")));
    }

    #[test]
    fn scan_sees_every_stable_key_while_keys_churn() {
        let mut db = Db::new();
        let stable: BTreeSet<String> = (0..scaled(2000)).map(|i| format!("s{i}")).collect();
        for k in &stable {
            put(&mut db, k, "v", None);
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = db.scan_step(cursor, |e| {
                seen.insert(String::from_utf8(e.key().to_vec()).unwrap());
            });
            round += 1;
            for i in 0..30 {
                let k = format!("t{round}-{i}");
                if round % 3 == 0 {
                    put(&mut db, &k, "v", None);
                } else if let Some(l) = db.peek(format!("t{}-{i}", round - 1).as_bytes()) {
                    db.remove(l);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        assert!(stable.is_subset(&seen));
    }

    #[test]
    fn active_expiry_reclaims_in_bounded_steps() {
        let mut db = Db::new();
        for i in 0..scaled(10000) {
            put(&mut db, &format!("k{i}"), "v", Some(if i % 2 == 0 { 10 } else { 1_000_000 }));
        }
        let mut rounds = 0;
        while db.len() > scaled(5000) {
            let s = db.expire_sample(100, 200);
            assert!(s.sampled <= 200);
            rounds += 1;
            assert!(rounds < 1000, "expiry makes no progress");
        }
        assert_eq!(db.len(), scaled(5000));
        assert_eq!(db.expired_count, scaled(5000) as u64);
        assert!(db.expire_sample(100, 200).ttl_samples > 0);
    }

    #[test]
    fn model_check() {
        // A random sequence of operations against a BTreeMap model.
        let mut db = Db::new();
        let mut model: BTreeMap<String, (String, Option<i64>)> = BTreeMap::new();
        let mut x = 1u64;
        for step in 0..scaled(30000) as i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = format!("k{}", x % 500);
            let now = step / 10;
            match x % 7 {
                0..=2 => {
                    let exp = x.is_multiple_of(5).then_some(now + (x % 50) as i64);
                    put(&mut db, &k, &step.to_string(), exp);
                    model.insert(k, (step.to_string(), exp));
                }
                3 => {
                    let got = db.delete(k.as_bytes(), now).map(|e| String::from_utf8(e.str().0.to_vec()).unwrap());
                    let want = match model.remove(&k) {
                        Some((v, e)) if e.is_none_or(|t| t > now) => Some(v),
                        _ => None,
                    };
                    assert_eq!(got, want);
                }
                4 => {
                    if let Some(l) = db.find(k.as_bytes(), now) {
                        let exp = (!x.is_multiple_of(3)).then_some(now + 5);
                        db.set_expire(l, exp);
                        model.get_mut(&k).unwrap().1 = exp;
                    } else {
                        model.remove(&k);
                    }
                }
                5 => {
                    db.expire_sample(now, 20);
                }
                _ => {
                    let got = val(&mut db, &k, now);
                    let want = match model.get(&k) {
                        Some((v, e)) if e.is_none_or(|t| t > now) => Some(v.clone()),
                        _ => {
                            model.remove(&k);
                            None
                        }
                    };
                    assert_eq!(got, want, "step {step}");
                }
            }
            // Expired-but-present keys may linger in either; compare live sets.
            if step % 1000 == 0 {
                let mut live = BTreeSet::new();
                db.for_each(|e| {
                    if e.expire().is_none_or(|t| t > now) {
                        live.insert(String::from_utf8(e.key().to_vec()).unwrap());
                    }
                });
                let want: BTreeSet<String> =
                    model.iter().filter(|(_, (_, e))| e.is_none_or(|t| t > now)).map(|(k, _)| k.clone()).collect();
                assert_eq!(live, want);
                let vol = {
                    let mut n = 0;
                    db.for_each(|e| n += e.expire().is_some() as usize);
                    n
                };
                assert_eq!(vol, db.volatile_len());
            }
        }
    }
}
