//! maxmemory eviction (Redis's `evict.c`): before a command runs over the
//! limit, keys chosen by maxmemory-policy are deleted until used memory is
//! back under it. As in Redis the choice is approximate: each round
//! samples maxmemory-samples keys per database and keeps the best
//! candidates in a small pool across rounds, so it converges on the least
//! recently used (least frequently used, soonest expiring) keys without
//! ordering the keyspace.
//!
//! Every eviction is a deletion like any other: a DEL in the propagation
//! stream, WATCHes touched, an `evicted` keyspace event, `evicted_keys` in
//! INFO. The access field the LRU and LFU policies read is kept by the
//! keyspace ([`crate::keyspace::access`]).

use crate::state::State;

/// The policies, as `maxmemory-policy` names them (same order as
/// [`crate::config::MAXMEMORY_POLICIES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Least recently used among keys with a TTL.
    VolatileLru,
    /// Least frequently used among keys with a TTL.
    VolatileLfu,
    /// Any key with a TTL.
    VolatileRandom,
    /// The key with the nearest expiry.
    VolatileTtl,
    /// Least recently used of all keys.
    AllkeysLru,
    /// Least frequently used of all keys.
    AllkeysLfu,
    /// Any key.
    AllkeysRandom,
    /// Refuse writes instead.
    NoEviction,
}

impl Policy {
    /// The policy named `name` (a `maxmemory-policy` value).
    pub fn named(name: &str) -> Policy {
        match name {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => Policy::NoEviction,
        }
    }

    /// The LRU policies: keys record their last access time.
    pub fn is_lru(self) -> bool {
        matches!(self, Policy::AllkeysLru | Policy::VolatileLru)
    }

    /// The LFU policies: keys record an access counter.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    fn volatile_only(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }

    fn random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// Candidates kept between rounds (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// Keys one call may evict before letting the command run: Redis bounds a
/// call's work by time and finishes later; here a command that finds
/// memory still over the limit evicts more.
const MAX_PER_CALL: usize = 256;

/// Eviction candidates, best last: `(score, db, key)` where a higher score
/// (idle time, rarity of access, or nearness of expiry) is evicted first.
#[derive(Debug, Default)]
pub struct Pool {
    entries: Vec<(u64, usize, Vec<u8>)>,
    /// The database the random policies look at next.
    next_db: usize,
}

impl Pool {
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if self.entries.iter().any(|(_, d, k)| *d == db && k == key) {
            return;
        }
        if self.entries.len() == POOL_SIZE {
            if score <= self.entries[0].0 {
                return;
            }
            self.entries.remove(0);
        }
        let at = self.entries.partition_point(|(s, _, _)| *s < score);
        self.entries.insert(at, (score, db, key.to_vec()));
    }
}

/// Used memory as maxmemory counts it.
fn used(st: &State) -> u64 {
    (st.platform.alloc)().allocated
}

/// Brings used memory under maxmemory if the policy allows: `false` when
/// it is over the limit and nothing could be evicted (Redis's EVICT_FAIL,
/// after which deny-oom commands are refused).
pub fn make_room(st: &mut State, now_ms: i64) -> bool {
    let max = st.cfg.maxmemory;
    if max <= 0 || used(st) <= max as u64 {
        return true;
    }
    // A paused server keeps its dataset still (Redis: EVICT_OK).
    if crate::pause::active(st, now_ms).is_some() {
        return true;
    }
    let policy = st.cfg.maxmemory_policy;
    if policy == Policy::NoEviction {
        return false;
    }
    let mut evicted = 0;
    while evicted < MAX_PER_CALL {
        let Some((db, key)) = choose(st, policy, now_ms) else {
            return evicted > 0;
        };
        evict(st, db, &key, now_ms);
        evicted += 1;
        if used(st) <= max as u64 {
            break;
        }
    }
    true
}

/// The next key to evict, if any qualifies.
fn choose(st: &mut State, policy: Policy, now_ms: i64) -> Option<(usize, Vec<u8>)> {
    let ndb = st.dbs.len();
    if policy.random() {
        for _ in 0..ndb {
            let db = st.evict_pool.next_db % ndb;
            st.evict_pool.next_db = st.evict_pool.next_db.wrapping_add(1);
            let (r1, r2) = (st.rng.next(), st.rng.next());
            let d = &st.dbs[db];
            let loc = if policy.volatile_only() { d.random_volatile(r1, r2) } else { d.random(r1, r2) };
            if let Some(loc) = loc {
                return Some((db, d.get(loc).key().to_vec()));
            }
        }
        return None;
    }
    let samples = st.cfg.maxmemory_samples.max(1);
    for db in 0..ndb {
        let has = if policy.volatile_only() { st.dbs[db].volatile_len() > 0 } else { !st.dbs[db].is_empty() };
        if !has {
            continue;
        }
        // Never more samples than keys (Redis's dictGetSomeKeys), however
        // large maxmemory-samples is.
        let len = if policy.volatile_only() { st.dbs[db].volatile_len() } else { st.dbs[db].len() };
        for _ in 0..samples.min(len) {
            let (r1, r2) = (st.rng.next(), st.rng.next());
            let d = &st.dbs[db];
            let loc = if policy.volatile_only() { d.random_volatile(r1, r2) } else { d.random(r1, r2) };
            let Some(loc) = loc else { continue };
            let e = d.get(loc);
            let score = match policy {
                // Sooner expiry, higher score.
                Policy::VolatileTtl => u64::MAX - e.expire().unwrap_or(i64::MAX).max(0) as u64,
                // Fewer accesses, higher score.
                Policy::VolatileLfu | Policy::AllkeysLfu => 255 - d.clock.frequency(e.lru(), now_ms).min(255) as u64,
                _ => crate::cmd::keys::idle_seconds(e.lru(), now_ms).max(0) as u64,
            };
            let key = e.key().to_vec();
            st.evict_pool.offer(score, db, &key);
        }
    }
    // The best candidate that still exists (it may have been deleted or
    // touched since it was pooled).
    while let Some((_, db, key)) = st.evict_pool.entries.pop() {
        let d = &mut st.dbs[db];
        let Some(loc) = d.find_notouch(&key, now_ms) else { continue };
        if policy.volatile_only() && d.get(loc).expire().is_none() {
            continue;
        }
        return Some((db, key));
    }
    None
}

/// Deletes `key` from `db` as an eviction.
fn evict(st: &mut State, db: usize, key: &[u8], now_ms: i64) {
    let Some(loc) = st.dbs[db].find_notouch(key, now_ms) else { return };
    let lazy = st.cfg.lazy_eviction;
    let old = st.dbs[db].remove(loc);
    st.drop_value(old, lazy);
    st.stats.evicted_keys += 1;
    st.signal_removed(db, key);
    crate::notify::notify_now(st, crate::notify::class::EVICTED, "evicted", key, db, None);
    if st.propagate {
        let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        st.propagated.push((db, vec![cmd.to_vec(), key.to_vec()]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_keeps_the_best_candidates_best_last() {
        let mut p = Pool::default();
        for (i, score) in [5u64, 1, 9, 3].iter().enumerate() {
            p.offer(*score, 0, format!("k{i}").as_bytes());
        }
        p.offer(9, 0, b"k2");
        let scores: Vec<u64> = p.entries.iter().map(|e| e.0).collect();
        assert_eq!(scores, [1, 3, 5, 9]);
        for i in 0..20 {
            p.offer(100 + i, 1, format!("x{i}").as_bytes());
        }
        assert_eq!(p.entries.len(), POOL_SIZE);
        assert_eq!(p.entries.last().map(|e| e.0), Some(119));
        assert_eq!(p.entries[0].0, 104);
    }
}
