//! What a command handler sees: the engine state, its client, its reply
//! buffer and the logical time of the command.

use crate::client::Client;
use crate::command::Command;
use crate::keyspace::{Db, Entry, Loc};
use crate::state::State;
use ferrokv_resp::Out;

/// The context of one command execution.
pub struct Ctx<'a> {
    /// Engine state (databases, config, stats, ...).
    pub st: &'a mut State,
    /// The calling connection.
    pub client: &'a mut Client,
    /// Where the reply goes.
    pub out: &'a mut Out,
    /// The time the command started, in ms since the epoch. Every key the
    /// command touches is judged expired or not against this one instant
    /// (Redis's `commandTimeSnapshot`).
    pub now_ms: i64,
    /// The command being run.
    pub cmd: &'static Command,
    /// Changes made (rdb_changes_since_last_save; non-zero means "propagate").
    pub dirty: u64,
    /// Deterministic forms to propagate instead of the command as received.
    pub(crate) rewrite: Option<Vec<Vec<Vec<u8>>>>,
    /// Keys the handler reports as modified, by database, in place of the
    /// dispatcher's inference from the key specs (for WATCH).
    pub(crate) signals: Option<Vec<(usize, Vec<u8>)>>,
    /// The handler wrote an error reply itself (a script's), so the call
    /// counts as failed though it returned Ok.
    pub(crate) failed: bool,
}

impl<'a> Ctx<'a> {
    /// The access field (LRU clock or LFU counter) of a key created now in
    /// the current database.
    #[inline]
    pub fn fresh_lru(&self) -> u32 {
        self.st.dbs[self.client.db].fresh_lru(self.now_ms)
    }

    /// The selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.st.dbs[self.client.db]
    }

    /// The selected database and the reply buffer, borrowed together.
    #[inline]
    pub fn db_out(&mut self) -> (&mut Db, &mut Out) {
        (&mut self.st.dbs[self.client.db], self.out)
    }

    /// Looks `key` up for reading: counts a keyspace hit or miss.
    #[inline]
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<Loc> {
        let now = self.now_ms;
        let found = self.st.dbs[self.client.db].find(key, now);
        if found.is_some() {
            self.st.stats.keyspace_hits += 1;
        } else {
            self.st.stats.keyspace_misses += 1;
            self.notify(crate::notify::class::KEY_MISS, "keymiss", key);
        }
        found
    }

    /// Publishes keyspace notification `event` about `key` in the selected
    /// database (nothing unless its class is enabled).
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.notify_db(class, event, key, db);
    }

    /// [`Ctx::notify`] for a key in database `db`.
    #[inline]
    pub fn notify_db(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        if self.st.cfg.notify_flags & class != 0 {
            crate::notify::notify(self.st, class, event, key, db, Some((self.client.id, &mut *self.out)));
        }
    }

    /// Looks several keys up for reading (hits and misses counted per key),
    /// in order, stopping with WRONGTYPE at the first whose type `ok`
    /// refuses, as Redis's multi-key reads do. Expired ones are reclaimed
    /// first, so the returned locations are valid together until the
    /// database is next modified.
    pub fn lookup_read_all(
        &mut self,
        keys: &[&[u8]],
        ok: impl Fn(crate::types::Type) -> bool,
    ) -> Result<Vec<Option<Loc>>, crate::error::CmdError> {
        for k in keys {
            if let Some(loc) = self.lookup_read(k) {
                if !ok(self.st.dbs[self.client.db].get(loc).vtype()) {
                    return Err(crate::error::WRONGTYPE);
                }
            }
        }
        let db = &self.st.dbs[self.client.db];
        Ok(keys.iter().map(|k| db.peek(k)).collect())
    }

    /// Stores `e` under its key, replacing whatever value was there
    /// (`found`, the caller's lookup) and dropping its TTL, as Redis's
    /// `setKey` does. The old value is freed as lazyfree-lazy-server-del says.
    pub fn set_key(&mut self, found: Option<Loc>, e: Entry) {
        let lazy = self.st.cfg.lazy_server_del;
        let db = &mut self.st.dbs[self.client.db];
        match found {
            Some(loc) => {
                let old = db.replace(loc, e);
                self.st.drop_value(old, lazy);
            }
            None => {
                db.insert(e);
            }
        }
    }

    /// Deletes the key at `loc` (freed as lazyfree-lazy-server-del says).
    pub fn delete_at(&mut self, loc: Loc) {
        let lazy = self.st.cfg.lazy_server_del;
        let old = self.st.dbs[self.client.db].remove(loc);
        self.st.drop_value(old, lazy);
    }

    /// Looks `key` up for writing (no hit/miss accounting).
    #[inline]
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<Loc> {
        let now = self.now_ms;
        self.st.dbs[self.client.db].find(key, now)
    }

    /// Redis's `addReplyErrorArity`, for arity rules the table cannot
    /// express (HSET's pairs, MSET's pairs).
    pub fn arity_error(&self) -> crate::error::CmdError {
        crate::error::CmdError::err(format_args!("wrong number of arguments for '{}' command", self.cmd.fullname))
    }

    /// Reports `key` in database `db` as modified. Commands whose writes
    /// the key specs cannot place (other databases: MOVE, COPY ... DB)
    /// report them all; the dispatcher then infers nothing.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        self.signals.get_or_insert_with(Vec::new).push((db, key.to_vec()));
    }

    /// Reports that the command modified no key on its own (the caller
    /// touched the WATCHes itself, as FLUSHDB and SWAPDB do).
    pub fn signal_none(&mut self) {
        self.signals.get_or_insert_with(Vec::new);
    }

    /// Records `n` changes to the dataset.
    #[inline]
    pub fn changed(&mut self, n: u64) {
        self.dirty += n;
    }

    /// Whether writes are being collected for propagation. Handlers that
    /// rewrite their command into a deterministic form skip building it when
    /// nobody listens.
    #[inline]
    pub fn propagating(&self) -> bool {
        self.st.propagate
    }

    /// Propagates `argv` (in the selected database) in place of the command
    /// as received. May be called several times (GETEX → GET's read plus a
    /// PEXPIREAT, an expired key's DEL, ...).
    pub fn propagate(&mut self, argv: Vec<Vec<u8>>) {
        self.rewrite.get_or_insert_with(Vec::new).push(argv);
    }

    /// Records that the command changed nothing worth propagating even though
    /// it wrote (for example, a SET NX that did not set).
    pub fn propagate_nothing(&mut self) {
        self.rewrite.get_or_insert_with(Vec::new);
    }
}
