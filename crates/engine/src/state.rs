//! Everything the engine keeps between commands: databases, configuration,
//! statistics, the slow log and the client registry. One `State` is shared
//! by all connections behind one lock; holding it is what makes a command
//! (and later a transaction or script) atomic and what orders writes.

use std::collections::BTreeMap;

use crate::client::ClientInfo;
use crate::config::Config;
use crate::keyspace::Db;
use crate::slowlog::SlowLog;
use crate::table;

/// A pseudo-random generator (xorshift64*): randomness for sampling, not
/// for anything secret. A field of its own so that it can be used while a
/// database is borrowed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// The next number.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for sampling, no division.
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

/// Calls, time and errors of one command (INFO commandstats).
#[derive(Clone, Copy, Debug, Default)]
pub struct CmdStat {
    /// Times run.
    pub calls: u64,
    /// Microseconds spent.
    pub usec: u64,
    /// Refused before running (arity, auth, OOM, ...).
    pub rejected: u64,
    /// Ran and replied with an error.
    pub failed: u64,
}

/// Server-wide counters (INFO stats). CONFIG RESETSTAT zeroes them.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections_received: u64,
    /// Commands executed.
    pub commands_processed: u64,
    /// Connections refused at maxclients.
    pub rejected_connections: u64,
    /// Keys removed because they expired (lazily or actively).
    pub expired_keys: u64,
    /// Keys removed by maxmemory eviction.
    pub evicted_keys: u64,
    /// Read lookups that found their key.
    pub keyspace_hits: u64,
    /// Read lookups that did not.
    pub keyspace_misses: u64,
    /// Bytes read from clients.
    pub net_input_bytes: u64,
    /// Bytes written to clients.
    pub net_output_bytes: u64,
    /// Error replies sent.
    pub error_replies: u64,
    /// Error replies by code.
    pub errors: BTreeMap<String, u64>,
    /// Read events on client sockets.
    pub reads_processed: u64,
    /// Write events on client sockets.
    pub writes_processed: u64,
    /// Active expiry cycles that stopped at their time limit.
    pub expire_time_cap_reached: u64,
    /// Microseconds spent in active expiry.
    pub expire_cycle_usec: u64,
    /// Estimated share of expired keys among volatile ones, 0..1.
    pub expired_stale_perc: f64,
}

/// Samples for the `instantaneous_*` INFO fields: 16 samples taken every
/// 100 ms, as Redis keeps them.
#[derive(Clone, Debug, Default)]
pub struct Metric {
    samples: [f64; 16],
    idx: usize,
    last_value: u64,
    last_ms: i64,
}

impl Metric {
    /// Records the counter's value at `now_ms`.
    pub fn sample(&mut self, value: u64, now_ms: i64) {
        if self.last_ms > 0 && now_ms > self.last_ms {
            let rate = (value.saturating_sub(self.last_value)) as f64 * 1000.0 / (now_ms - self.last_ms) as f64;
            self.samples[self.idx] = rate;
            self.idx = (self.idx + 1) % self.samples.len();
        }
        self.last_value = value;
        self.last_ms = now_ms;
    }

    /// The mean rate per second over the kept samples.
    pub fn rate(&self) -> f64 {
        self.samples.iter().sum::<f64>() / self.samples.len() as f64
    }
}

/// Facts about the process, set once by the server at start-up.
#[derive(Clone, Debug, Default)]
pub struct ServerInfo {
    /// Process id.
    pub pid: u32,
    /// 40 hex characters, random per start.
    pub run_id: String,
    /// Listening TCP port.
    pub tcp_port: u16,
    /// Absolute path of the executable.
    pub executable: String,
    /// Absolute path of the config file, or empty.
    pub config_file: String,
    /// `uname -srm`.
    pub os: String,
    /// Start time, ms since the epoch.
    pub start_ms: i64,
    /// Random replication id (reported as master_replid).
    pub replid: String,
    /// Number of worker threads serving connections.
    pub threads: usize,
    /// The service manager told of readiness: "no", "systemd", "upstart".
    pub supervised: &'static str,
}

/// CPU times in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rusage {
    /// User time of the process.
    pub user: f64,
    /// System time of the process.
    pub sys: f64,
    /// User time of waited-for children.
    pub user_children: f64,
    /// System time of waited-for children.
    pub sys_children: f64,
}

/// Allocator statistics in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllocStats {
    /// Bytes allocated by the program (used_memory).
    pub allocated: u64,
    /// Bytes in active pages.
    pub active: u64,
    /// Bytes resident in the allocator's mappings.
    pub resident: u64,
}

/// An oom_score_adj to set: `(value, relative to the starting score)`,
/// or `None` for the starting score.
pub type OomScore = Option<(i64, bool)>;

/// Probes of the platform the engine cannot make itself (it does no system
/// calls); the server supplies real ones, tests supply fixed ones.
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// CPU times.
    pub rusage: fn() -> Rusage,
    /// Resident set size of the process.
    pub rss: fn() -> u64,
    /// Allocator statistics.
    pub alloc: fn() -> AllocStats,
    /// Allocator name and version, as INFO's mem_allocator.
    pub allocator_name: &'static str,
    /// Total physical memory.
    pub total_memory: fn() -> u64,
    /// Writes a file durably and atomically (a temporary file in the same
    /// directory, fsync, rename): RDB snapshots.
    pub write_file: fn(&std::path::Path, &[u8]) -> std::io::Result<()>,
    /// Reads a whole file (CONFIG REWRITE's old config file).
    pub read_file: fn(&std::path::Path) -> std::io::Result<Vec<u8>>,
    /// Tells the service manager (systemd's sd_notify) a state change.
    pub supervisor: fn(&str),
    /// Listens on `bind` and `port` (no socket for port 0) with the given
    /// backlog in place of the current listening sockets, which stop
    /// accepting; on failure they stay (CONFIG SET port/bind).
    pub listen: fn(&str, u16, i32) -> Result<(), String>,
    /// Changes the working directory; returns the new one, absolute, or
    /// the system's error text (CONFIG SET dir).
    pub chdir: fn(&str) -> Result<String, String>,
    /// Sets the process's oom_score_adj: `Some((value, relative))` to
    /// `value`, added to the score the process had before when
    /// `relative`; `None` restores that score if it was changed.
    pub oom_score_adj: fn(OomScore) -> Result<(), String>,
    /// Bytes of the process's memory in transparent huge pages
    /// (LATENCY DOCTOR's advice).
    pub anon_huge_pages: fn() -> u64,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            rusage: Rusage::default,
            rss: || 0,
            alloc: AllocStats::default,
            allocator_name: "libc",
            total_memory: || 0,
            write_file: |_, _| Err(std::io::Error::other("no file system in this build")),
            read_file: |_| Err(std::io::Error::other("no file system in this build")),
            supervisor: |_| {},
            listen: |_, _, _| Err("no network in this build".into()),
            chdir: |_| Err("no file system in this build".into()),
            oom_score_adj: |_| Ok(()),
            anon_huge_pages: || 0,
        }
    }
}

/// How a SHUTDOWN asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Stop without saving.
    NoSave,
}

/// Something to free off the command path (FLUSHALL ASYNC, UNLINK).
pub type Garbage = Box<dyn Send>;

/// The engine's state.
pub struct State {
    /// The logical databases.
    pub dbs: Vec<Db>,
    /// Configuration.
    pub cfg: Config,
    /// Counters.
    pub stats: Stats,
    /// Per-command statistics, by command id.
    pub cmdstats: Vec<CmdStat>,
    /// Per-command latency histograms, by command id (latency-tracking;
    /// made at a command's first call).
    pub latency: Vec<Option<Box<crate::latency::Histogram>>>,
    /// The latency monitor's events (latency-monitor-threshold).
    pub latency_events: crate::latency::Monitor,
    /// The slow log.
    pub slowlog: SlowLog,
    /// Connected clients by id (creation order).
    pub clients: BTreeMap<u64, ClientInfo>,
    /// Ids of MONITOR clients.
    pub monitors: Vec<u64>,
    /// Process facts.
    pub server: ServerInfo,
    /// Platform probes.
    pub platform: Platform,
    /// Changes since the last save (rdb_changes_since_last_save).
    pub dirty: u64,
    /// Unix time of the last successful save (LASTSAVE).
    pub lastsave: i64,
    /// Snapshots written since start-up (INFO rdb_saves).
    pub rdb_saves: u64,
    /// Set by SHUTDOWN; the server stops when it sees it.
    pub shutdown: Option<ShutdownMode>,
    /// DEBUG SET-ACTIVE-EXPIRE.
    pub active_expire_enabled: bool,
    /// Where background frees go (with the number of objects they hold);
    /// freed inline when absent.
    pub lazyfree: Option<std::sync::mpsc::Sender<(Garbage, u64)>>,
    /// Objects handed to the lazy-free thread and not yet freed.
    pub lazyfree_pending: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Objects the lazy-free thread has freed.
    pub lazyfreed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Samples of commands/s, input and output bytes/s.
    pub ops_metric: Metric,
    /// Input bytes/s samples.
    pub input_metric: Metric,
    /// Output bytes/s samples.
    pub output_metric: Metric,
    /// Largest query and output buffers seen in each of the last 8
    /// seconds (INFO client_recent_max_*), as Redis keeps them.
    pub recent_max_buffers: [(usize, usize); 8],
    /// The second the current slot of `recent_max_buffers` belongs to.
    pub recent_max_buffers_second: i64,
    /// Peak of used memory.
    pub used_memory_peak: u64,
    /// Allocated bytes right after start-up.
    pub used_memory_startup: u64,
    /// Randomness for sampling (RANDOMKEY, SRANDMEMBER, SPOP, ...).
    pub rng: Rng,
    /// Scratch for the propagation stream: deterministic forms of the writes
    /// of the current command, collected only when `propagate` is on.
    pub propagate: bool,
    /// Collected writes (database and argv), drained by the owner of the
    /// stream.
    pub propagated: Vec<(usize, Vec<Vec<u8>>)>,
    /// Clients waiting in blocking commands.
    pub blocking: crate::blocking::Blocking,
    /// WATCHed keys of every client.
    pub watches: crate::multi::Watches,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// The Lua interpreter and the script cache.
    pub scripts: crate::script::Scripts,
    /// FUNCTION libraries.
    pub functions: crate::script::functions::Functions,
    /// The script running now, readable without the engine lock.
    pub running: std::sync::Arc<crate::script::busy::Running>,
    /// Client ids, shared so that the network layer can number a
    /// connection it accepts while a busy script holds the engine.
    pub client_ids: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Eviction candidates kept between rounds.
    pub evict_pool: crate::evict::Pool,
    /// CLIENT PAUSE in force.
    pub pause: Option<crate::pause::Pause>,
    /// Clients whose command waits for the pause to end, in arrival order.
    pub postponed: Vec<u64>,
    /// Client-side caching: who may have cached which keys.
    pub tracking: crate::tracking::Tracking,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("dbs", &self.dbs.len()).finish_non_exhaustive()
    }
}

impl State {
    /// A state with configuration `cfg`.
    pub fn new(cfg: Config) -> Self {
        let dbs = (0..cfg.databases).map(|_| Db::new()).collect();
        let slowlog = SlowLog::default();
        State {
            dbs,
            cfg,
            stats: Stats::default(),
            cmdstats: vec![CmdStat::default(); table().ids()],
            latency: vec![None; table().ids()],
            latency_events: Default::default(),
            slowlog,
            clients: BTreeMap::new(),
            monitors: Vec::new(),
            server: ServerInfo::default(),
            platform: Platform::default(),
            dirty: 0,
            lastsave: 0,
            rdb_saves: 0,
            shutdown: None,
            active_expire_enabled: true,
            lazyfree: None,
            lazyfree_pending: Default::default(),
            lazyfreed: Default::default(),
            ops_metric: Metric::default(),
            input_metric: Metric::default(),
            output_metric: Metric::default(),
            recent_max_buffers: [(0, 0); 8],
            recent_max_buffers_second: 0,
            used_memory_peak: 0,
            used_memory_startup: 0,
            rng: Rng(0x9E37_79B9_7F4A_7C15),
            propagate: false,
            propagated: Vec::new(),
            blocking: Default::default(),
            watches: Default::default(),
            pubsub: Default::default(),
            scripts: Default::default(),
            functions: Default::default(),
            running: Default::default(),
            client_ids: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1)),
            evict_pool: Default::default(),
            pause: None,
            postponed: Vec::new(),
            tracking: Default::default(),
        }
        .with_logging()
    }

    fn with_logging(mut self) -> Self {
        self.sync_expiry_logging();
        self.sync_access_clock();
        self
    }

    /// Tells every database what its entries' access fields record, after
    /// maxmemory-policy or the LFU parameters changed.
    pub fn sync_access_clock(&mut self) {
        let clock = self.cfg.access_clock;
        for db in &mut self.dbs {
            db.clock = clock;
        }
    }

    /// Seeds the random generator (RANDOMKEY, and tests that need repeatability).
    pub fn seed(&mut self, seed: u64) {
        self.rng = Rng(seed | 1);
    }

    /// A pseudo-random number.
    pub fn random(&mut self) -> u64 {
        self.rng.next()
    }

    /// Registers a new connection and returns its id.
    pub fn register_client(&mut self, info: ClientInfo) -> u64 {
        let id = self.next_id();
        self.register_client_as(id, info);
        id
    }

    /// Registers a connection under an id taken earlier from `client_ids`.
    pub fn register_client_as(&mut self, id: u64, mut info: ClientInfo) {
        info.id = id;
        self.clients.insert(id, info);
    }

    /// Forgets a connection.
    pub fn unregister_client(&mut self, id: u64) {
        self.blocking.remove(&mut self.dbs, id);
        // Before the registry entry goes: it holds the tracking settings.
        crate::tracking::disable(self, id);
        self.clients.remove(&id);
        self.monitors.retain(|&m| m != id);
        self.postponed.retain(|&p| p != id);
        self.pubsub.remove_client(id);
        if self.watches.has_client(id) {
            self.watches.unwatch_all(id);
            self.sync_expiry_logging();
        }
    }

    /// `key` in database `db` changed (Redis's signalModifiedKey): WATCHes
    /// on it fail and clients that may have cached it are told.
    pub fn signal_modified(&mut self, db: usize, key: &[u8], present: bool) {
        self.watches.touch(db, key, present);
        if self.tracking.enabled() {
            crate::tracking::invalidate(self, key);
        }
    }

    /// [`State::signal_modified`] for a key the server removed by itself
    /// (expiry, eviction), not by a client's command.
    pub fn signal_removed(&mut self, db: usize, key: &[u8]) {
        self.watches.touch(db, key, false);
        if self.tracking.enabled() {
            crate::tracking::invalidate_removed(self, key);
        }
    }

    /// Keeps each database's record of expired keys on exactly while
    /// someone needs it: propagation, or WATCHes in that database.
    /// Notifications need it too (`expired` events), and keep a log of
    /// added keys for `new` events.
    pub fn sync_expiry_logging(&mut self) {
        let notify_expired = crate::notify::enabled(self, crate::notify::class::EXPIRED);
        let notify_new = crate::notify::enabled(self, crate::notify::class::NEW);
        for (i, db) in self.dbs.iter_mut().enumerate() {
            db.log_expired = self.propagate || notify_expired || self.watches.active_in(i) || self.tracking.enabled();
            db.log_new = notify_new;
            if !notify_new {
                db.new_log = Vec::new();
            }
        }
    }

    /// Redis's `prepareForShutdown`, for a SHUTDOWN or a signal: a final
    /// snapshot when `save`. Returns false when that failed without
    /// `force`: the server must keep running.
    pub fn prepare_shutdown(&mut self, save: bool, force: bool, now_ms: i64) -> bool {
        tracing::warn!("User requested shutdown...");
        (self.platform.supervisor)("STOPPING=1\n");
        if !save {
            return true;
        }
        tracing::info!("Saving the final RDB snapshot before exiting.");
        (self.platform.supervisor)("STATUS=Saving the final RDB snapshot\n");
        if self.save(now_ms).is_ok() {
            return true;
        }
        if force {
            tracing::warn!("Error trying to save the DB. Exit anyway.");
            return true;
        }
        tracing::warn!("Error trying to save the DB, can't exit.");
        (self.platform.supervisor)("STATUS=Error trying to save the DB, can't exit.\n");
        false
    }

    /// Writes the dataset to `dir`/`dbfilename` (Redis's rdbSave): on
    /// success the change counter restarts and LASTSAVE moves.
    pub fn save(&mut self, now_ms: i64) -> Result<(), String> {
        let path = std::path::Path::new(self.cfg.str("dir")).join(self.cfg.str("dbfilename"));
        let bytes = crate::dump::snapshot(self, now_ms);
        match (self.platform.write_file)(&path, &bytes) {
            Ok(()) => {
                tracing::info!("DB saved on disk");
                self.dirty = 0;
                self.lastsave = now_ms / 1000;
                self.rdb_saves += 1;
                Ok(())
            }
            Err(e) => {
                tracing::warn!("Failed saving the DB to {}: {e}", path.display());
                Err(e.to_string())
            }
        }
    }

    /// Consumes the keys expiry removed from database `dbi` since the last
    /// call: each becomes a DEL in the propagation stream and touches the
    /// WATCHes on it and is announced as `expired` (Redis's
    /// `deleteExpiredKeyAndPropagate`). `current` is the connection whose
    /// command found the keys expired, if any.
    pub fn after_expiry(&mut self, dbi: usize, mut current: Option<(u64, &mut ferrokv_resp::Out)>) {
        if self.dbs[dbi].expired_log.is_empty() {
            return;
        }
        for key in std::mem::take(&mut self.dbs[dbi].expired_log) {
            crate::notify::notify_now(
                self,
                crate::notify::class::EXPIRED,
                "expired",
                &key,
                dbi,
                current.as_mut().map(|(id, out)| (*id, &mut **out)),
            );
            self.signal_removed(dbi, &key);
            if self.propagate {
                self.propagated.push((dbi, vec![b"DEL".to_vec(), key]));
            }
        }
    }

    /// Wraps the writes propagated since `mark` in MULTI/EXEC when there
    /// is more than one, so that replicas and the AOF apply a transaction's
    /// or a script's writes as one block.
    pub fn wrap_propagated_since(&mut self, mark: usize) {
        if self.propagate && self.propagated.len() - mark > 1 {
            let db = self.propagated[mark].0;
            self.propagated.insert(mark, (db, vec![b"MULTI".to_vec()]));
            let last_db = self.propagated.last().map_or(db, |p| p.0);
            self.propagated.push((last_db, vec![b"EXEC".to_vec()]));
        }
    }

    /// Counts an error reply by its code.
    pub fn count_error(&mut self, code: &str) {
        self.stats.error_replies += 1;
        match self.stats.errors.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.stats.errors.insert(code.to_string(), 1);
            }
        }
    }

    /// Hands `g`, holding `objects` objects, to the background freeing
    /// thread (or frees it now when there is none).
    pub fn free_later(&mut self, g: Garbage, objects: u64) {
        match &self.lazyfree {
            Some(tx) => {
                self.lazyfree_pending.fetch_add(objects, std::sync::atomic::Ordering::Relaxed);
                if let Err(e) = tx.send((g, objects)) {
                    self.lazyfree_pending.fetch_sub(objects, std::sync::atomic::Ordering::Relaxed);
                    drop(e.0);
                }
            }
            None => drop(g),
        }
    }

    /// Disposes of a removed value: in the background when `lazy` and
    /// freeing it takes more than LAZYFREE_THRESHOLD (64) allocations, as
    /// Redis decides; otherwise now, which is cheaper than a hand-off.
    pub fn drop_value(&mut self, e: crate::keyspace::Entry, lazy: bool) {
        if lazy && e.free_effort() > crate::keyspace::db::LAZYFREE_THRESHOLD {
            self.free_later(Box::new(e), 1);
        }
    }

    /// Frees the large values expiry removed, in the background when
    /// lazyfree-lazy-expire is on.
    pub fn collect_expired(&mut self) {
        let lazy = self.cfg.lazy_expire;
        for i in 0..self.dbs.len() {
            if self.dbs[i].garbage.is_empty() {
                continue;
            }
            for e in std::mem::take(&mut self.dbs[i].garbage) {
                self.drop_value(e, lazy);
            }
        }
    }

    /// Zeroes statistics (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        self.cmdstats.iter_mut().for_each(|s| *s = CmdStat::default());
        self.latency.iter_mut().for_each(|h| *h = None);
        for db in &mut self.dbs {
            db.expired_count = 0;
        }
        self.ops_metric = Metric::default();
        self.input_metric = Metric::default();
        self.output_metric = Metric::default();
    }

    /// Total keys expired (all databases).
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_count).sum()
    }

    /// Allocates a client id without registering (for engine-internal callers).
    pub fn next_id(&mut self) -> u64 {
        self.client_ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_writes_since_a_mark_become_one_block() {
        let mut st = State::new(Config::new());
        st.propagate = true;
        st.propagated.push((0, vec![b"SET".to_vec(), b"before".to_vec()]));
        let mark = st.propagated.len();
        st.wrap_propagated_since(mark);
        assert_eq!(st.propagated.len(), 1, "nothing written: nothing wrapped");
        st.propagated.push((2, vec![b"DEL".to_vec(), b"a".to_vec()]));
        st.wrap_propagated_since(mark);
        assert_eq!(st.propagated.len(), 2, "one write stays bare");
        st.propagated.push((3, vec![b"DEL".to_vec(), b"b".to_vec()]));
        st.wrap_propagated_since(mark);
        let names: Vec<(usize, &[u8])> = st.propagated.iter().map(|(db, a)| (*db, a[0].as_slice())).collect();
        assert_eq!(
            names,
            vec![(0, &b"SET"[..]), (2, b"MULTI"), (2, b"DEL"), (3, b"DEL"), (3, b"EXEC")],
            "MULTI in the first write's database, EXEC in the last's"
        );
    }
}
