//! WATCH bookkeeping for optimistic transactions (Redis's `multi.c`).
//!
//! A watched key lives here as `(database, key)` with the clients watching
//! it; a client's transaction is dirty ("CAS failed") once any of its keys
//! was modified after WATCH. The registry is engine state rather than
//! connection state because a write by one client must mark every other
//! client that watches the key, and the engine only reaches other clients
//! through its own tables.
//!
//! The queue of a transaction (MULTI ... EXEC) is the connection's own and
//! lives in [`crate::client::Client`].

use std::collections::HashMap;

/// One key a client watches.
#[derive(Debug, Clone)]
struct Watched {
    db: usize,
    key: Vec<u8>,
    /// The key was already logically expired when WATCH ran: its lazy
    /// deletion later is no change (Redis's `watchedKey.expired`).
    expired: bool,
}

/// A client's watch state.
#[derive(Debug, Default)]
struct ClientWatch {
    keys: Vec<Watched>,
    /// A watched key was modified: EXEC must fail.
    dirty: bool,
}

/// Every WATCH of every client.
#[derive(Debug, Default)]
pub struct Watches {
    by_key: HashMap<(usize, Vec<u8>), Vec<u64>>,
    clients: HashMap<u64, ClientWatch>,
    /// Watched keys per database, so writes to unwatched databases skip the
    /// bookkeeping with one comparison.
    per_db: Vec<usize>,
}

impl Watches {
    /// Whether any client watches a key in database `db`.
    #[inline]
    pub fn active_in(&self, db: usize) -> bool {
        self.per_db.get(db).is_some_and(|&n| n > 0)
    }

    /// Whether any key is watched at all.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Client `id` watches `key` in `db`; `expired` says whether the key is
    /// present but already logically expired.
    pub fn watch(&mut self, id: u64, db: usize, key: &[u8], expired: bool) {
        let cw = self.clients.entry(id).or_default();
        if cw.keys.iter().any(|w| w.db == db && w.key == key) {
            return;
        }
        cw.keys.push(Watched { db, key: key.to_vec(), expired });
        self.by_key.entry((db, key.to_vec())).or_default().push(id);
        if self.per_db.len() <= db {
            self.per_db.resize(db + 1, 0);
        }
        self.per_db[db] += 1;
    }

    /// Forgets every key client `id` watches and its dirty mark.
    pub fn unwatch_all(&mut self, id: u64) {
        let Some(cw) = self.clients.remove(&id) else { return };
        for w in cw.keys {
            let k = (w.db, w.key);
            if let Some(ids) = self.by_key.get_mut(&k) {
                ids.retain(|&c| c != id);
                if ids.is_empty() {
                    self.by_key.remove(&k);
                }
            }
            self.per_db[k.0] -= 1;
        }
    }

    /// Whether client `id`'s transaction must fail because a watched key
    /// changed.
    pub fn is_dirty(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.dirty)
    }

    /// Whether client `id` has WATCHed keys (or a dirty mark).
    pub fn has_client(&self, id: u64) -> bool {
        self.clients.contains_key(&id)
    }

    /// Marks client `id` dirty (a watched key expired before EXEC).
    pub fn mark_dirty(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.dirty = true;
        }
    }

    /// The keys client `id` watches that were live at WATCH time, for the
    /// EXEC-time expiry check.
    pub fn live_keys_of(&self, id: u64) -> Vec<(usize, Vec<u8>)> {
        self.clients
            .get(&id)
            .map(|c| c.keys.iter().filter(|w| !w.expired).map(|w| (w.db, w.key.clone())).collect())
            .unwrap_or_default()
    }

    /// `key` in `db` was modified (Redis's `touchWatchedKey`). `present`
    /// says whether the key is in the database now: a key that was expired
    /// at WATCH time and has since been deleted is no logical change.
    pub fn touch(&mut self, db: usize, key: &[u8], present: bool) {
        if !self.active_in(db) {
            return;
        }
        let Some(ids) = self.by_key.get(&(db, key.to_vec())) else { return };
        for id in ids.clone() {
            let Some(cw) = self.clients.get_mut(&id) else { continue };
            if let Some(w) = cw.keys.iter_mut().find(|w| w.db == db && w.key == key) {
                if w.expired {
                    if !present {
                        w.expired = false;
                    }
                    continue;
                }
            }
            cw.dirty = true;
        }
    }

    /// Database `db` was emptied or swapped (FLUSHDB, FLUSHALL, SWAPDB;
    /// Redis's `touchAllWatchedKeysInDb`). `state(key)` tells, for a
    /// watched key, `(present before, present after, expired after)`.
    pub fn touch_all_in(&mut self, db: usize, mut state: impl FnMut(&[u8]) -> (bool, bool, bool)) {
        if !self.active_in(db) {
            return;
        }
        let keys: Vec<Vec<u8>> = self.by_key.keys().filter(|(d, _)| *d == db).map(|(_, k)| k.clone()).collect();
        for key in keys {
            let (before, after, after_expired) = state(&key);
            if !before && !after {
                continue;
            }
            for id in self.by_key[&(db, key.clone())].clone() {
                let Some(cw) = self.clients.get_mut(&id) else { continue };
                let Some(w) = cw.keys.iter_mut().find(|w| w.db == db && w.key == key) else { continue };
                if w.expired {
                    if !after {
                        // The expired key is gone: no logical change.
                        w.expired = false;
                        continue;
                    }
                    if after_expired {
                        continue;
                    }
                } else if !before && after_expired {
                    // Nothing replaced by an already expired key.
                    w.expired = true;
                    continue;
                }
                cw.dirty = true;
            }
        }
    }

    /// Number of clients with watches (for tests and INFO).
    pub fn clients(&self) -> usize {
        self.clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_marks_every_watcher_and_unwatch_forgets() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", false);
        w.watch(2, 0, b"k", false);
        w.watch(2, 0, b"k", false);
        w.watch(3, 1, b"k", false);
        assert!(w.active_in(0) && w.active_in(1) && !w.active_in(2));
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1) && w.is_dirty(2) && !w.is_dirty(3));
        w.unwatch_all(1);
        w.unwatch_all(2);
        assert!(!w.active_in(0) && !w.is_dirty(1));
        w.unwatch_all(3);
        assert!(w.is_empty());
    }

    #[test]
    fn deleting_a_key_expired_at_watch_time_is_no_change() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", true);
        w.touch(0, b"k", false);
        assert!(!w.is_dirty(1));
        // Once deleted it counts as an ordinary missing key: creating it
        // is a change.
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1));
    }

    #[test]
    fn flush_touches_only_keys_that_existed() {
        let mut w = Watches::default();
        w.watch(1, 0, b"gone", false);
        w.watch(2, 0, b"there", false);
        w.touch_all_in(0, |k| (k == b"there", false, false));
        assert!(!w.is_dirty(1) && w.is_dirty(2));
    }
}
