//! The configuration table: every parameter ferrokv understands, with its
//! type, default and mutability, in one declarative list that drives the
//! config file, the command line, CONFIG GET and CONFIG SET.
//!
//! Every parameter of Redis 7.0 is listed, so that a redis.conf works
//! unchanged. A value that would switch on or change behaviour ferrokv
//! lacks is refused by [`unsupported`] with the reason, rather than accepted
//! and ignored; later features lift those refusals with the behaviour.
//! What is accepted without effect is only tuning of subsystems that cannot
//! be switched on yet (replication, the AOF, cluster, TLS) and settings
//! about the process rather than the data (logo, process title, allocator
//! threads, crash log, dynamic-hz, eviction tenacity).

pub mod rewrite;

use crate::glob::glob_match_nocase;
pub use crate::types::Limits;
use ferrokv_resp::num::parse_i64;

/// How a parameter's value is parsed and printed.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer in a range (string2ll rules).
    Int(i64, i64),
    /// A memory amount with optional unit (`1gb`, `100mb`, `4k`), in a range.
    Mem(i64, i64),
    /// A memory amount from 0 to 2^64-1 (Redis's unsigned long long ones),
    /// stored as the same 64 bits.
    UMem,
    /// One of fixed names.
    Enum(&'static [&'static str]),
    /// Free text.
    Str,
    /// `save`: pairs of seconds and changes.
    Save,
    /// `client-output-buffer-limit`: class, hard, soft, seconds (repeated).
    ClientOutputBufferLimit,
    /// `bind`: a list of addresses.
    Bind,
    /// `notify-keyspace-events`: class characters, kept as flag bits.
    Notify,
    /// Free text of several words, kept joined by single spaces.
    Words,
    /// An octal number (`unixsocketperm`).
    Octal(i64),
    /// Several names of a fixed set, kept as bits (bit i for name i + 1);
    /// the first name stands for none (`shutdown-on-sigterm`).
    Flags(&'static [&'static str]),
}

/// The names of `shutdown-on-sigint` / `shutdown-on-sigterm`, in Redis's order.
const SHUTDOWN_FLAGS: &[&str] = &["default", "save", "nosave", "now", "force"];

/// Bits of `shutdown-on-sigint` / `shutdown-on-sigterm`.
pub mod shutdown_flag {
    /// Save a snapshot even without save points.
    pub const SAVE: i64 = 1;
    /// Do not save, even with save points.
    pub const NOSAVE: i64 = 2;
    /// Do not wait for lagging replicas.
    pub const NOW: i64 = 4;
    /// Exit even when saving fails.
    pub const FORCE: i64 = 8;
}

/// Parameter flags.
pub mod pflag {
    /// Cannot be changed with CONFIG SET.
    pub const IMMUTABLE: u8 = 1;
    /// Can be changed only when enable-protected-configs allows it.
    pub const PROTECTED: u8 = 2;
    /// The value takes several words on a config line (save, bind, ...).
    pub const MULTI_ARG: u8 = 4;
    /// Not shown by CONFIG GET with a glob, only by exact name.
    pub const HIDDEN: u8 = 8;
    /// A secret: SLOWLOG and MONITOR show CONFIG SET's value redacted.
    pub const SENSITIVE: u8 = 16;
    /// Empty means unset (NULL in Redis): CONFIG REWRITE then removes the
    /// parameter's lines instead of writing `name ""`.
    pub const EMPTY_IS_UNSET: u8 = 32;
}

/// One parameter of the table.
#[derive(Debug)]
pub struct Param {
    /// Canonical name.
    pub name: &'static str,
    /// Other accepted names (older spellings).
    pub aliases: &'static [&'static str],
    /// Type.
    pub kind: Kind,
    /// Default, in config-file syntax.
    pub default: &'static str,
    /// [`pflag`] bits.
    pub flags: u8,
}

const fn p(name: &'static str, kind: Kind, default: &'static str, flags: u8) -> Param {
    Param { name, aliases: &[], kind, default, flags }
}

const fn pa(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    default: &'static str,
    flags: u8,
) -> Param {
    Param { name, aliases, kind, default, flags }
}

use pflag::*;
const MAXI: i64 = i64::MAX;

/// `maxmemory-policy` names, in the order of [`crate::evict::Policy`].
pub const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// The table. Order is irrelevant; names are unique (checked by a test).
pub static PARAMS: &[Param] = &[
    p("bind", Kind::Bind, "127.0.0.1 -::1", MULTI_ARG),
    p("port", Kind::Int(0, 65535), "6379", 0),
    p("dir", Kind::Str, "", PROTECTED),
    p("dbfilename", Kind::Str, "dump.rdb", PROTECTED),
    p("rdbcompression", Kind::Bool, "yes", 0),
    p("save", Kind::Save, "", MULTI_ARG),
    p("appendonly", Kind::Bool, "no", 0),
    p("appendfsync", Kind::Enum(&["everysec", "always", "no"]), "everysec", 0),
    p("loglevel", Kind::Enum(&["debug", "verbose", "notice", "warning"]), "notice", 0),
    p("logfile", Kind::Str, "", IMMUTABLE),
    p("daemonize", Kind::Bool, "no", IMMUTABLE),
    p("pidfile", Kind::Str, "", IMMUTABLE | EMPTY_IS_UNSET),
    p("databases", Kind::Int(1, i32::MAX as i64), "16", IMMUTABLE),
    p("maxclients", Kind::Int(1, u32::MAX as i64), "10000", 0),
    p("timeout", Kind::Int(0, i32::MAX as i64), "0", 0),
    p("tcp-keepalive", Kind::Int(0, i32::MAX as i64), "300", 0),
    p("tcp-backlog", Kind::Int(0, i32::MAX as i64), "511", IMMUTABLE),
    p("protected-mode", Kind::Bool, "yes", 0),
    p("requirepass", Kind::Str, "", EMPTY_IS_UNSET | SENSITIVE),
    p("hz", Kind::Int(0, i32::MAX as i64), "10", 0),
    p("maxmemory", Kind::UMem, "0", 0),
    p("maxmemory-policy", Kind::Enum(MAXMEMORY_POLICIES), "noeviction", 0),
    p("maxmemory-samples", Kind::Int(1, i32::MAX as i64), "5", 0),
    p("lfu-log-factor", Kind::Int(0, i32::MAX as i64), "10", 0),
    p("lfu-decay-time", Kind::Int(0, i32::MAX as i64), "1", 0),
    p("tracking-table-max-keys", Kind::Int(0, MAXI), "1000000", 0),
    p("lazyfree-lazy-eviction", Kind::Bool, "no", 0),
    p("proto-max-bulk-len", Kind::Mem(1024 * 1024, MAXI), "536870912", 0),
    p("client-query-buffer-limit", Kind::Mem(1024 * 1024, MAXI), "1073741824", 0),
    p(
        "client-output-buffer-limit",
        Kind::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        MULTI_ARG,
    ),
    p("slowlog-log-slower-than", Kind::Int(-1, MAXI), "10000", 0),
    p("slowlog-max-len", Kind::Int(0, MAXI), "128", 0),
    p("enable-debug-command", Kind::Enum(&["no", "yes", "local"]), "no", IMMUTABLE),
    p("enable-protected-configs", Kind::Enum(&["no", "yes", "local"]), "no", IMMUTABLE),
    p("active-expire-effort", Kind::Int(1, 10), "1", 0),
    p("lazyfree-lazy-expire", Kind::Bool, "no", 0),
    p("lazyfree-lazy-server-del", Kind::Bool, "no", 0),
    p("lazyfree-lazy-user-del", Kind::Bool, "no", 0),
    p("lazyfree-lazy-user-flush", Kind::Bool, "no", 0),
    p("io-threads", Kind::Int(0, 128), "0", IMMUTABLE),
    p("notify-keyspace-events", Kind::Notify, "", 0),
    p("cluster-enabled", Kind::Bool, "no", IMMUTABLE),
    pa("busy-reply-threshold", &["lua-time-limit"], Kind::Int(0, MAXI), "5000", 0),
    pa("list-max-listpack-size", &["list-max-ziplist-size"], Kind::Int(i32::MIN as i64, i32::MAX as i64), "-2", 0),
    pa("hash-max-listpack-entries", &["hash-max-ziplist-entries"], Kind::Int(0, MAXI), "512", 0),
    pa("hash-max-listpack-value", &["hash-max-ziplist-value"], Kind::Mem(0, MAXI), "64", 0),
    p("set-max-intset-entries", Kind::Int(0, MAXI), "512", 0),
    p("set-max-listpack-entries", Kind::Int(0, MAXI), "128", 0),
    p("set-max-listpack-value", Kind::Mem(0, MAXI), "64", 0),
    pa("zset-max-listpack-entries", &["zset-max-ziplist-entries"], Kind::Int(0, MAXI), "128", 0),
    pa("zset-max-listpack-value", &["zset-max-ziplist-value"], Kind::Mem(0, MAXI), "64", 0),
    // Settings of Redis 7.0 that ferrokv accepts so that a redis.conf and a
    // redis-server command line work unchanged. Each one is either honoured
    // (the value describes what ferrokv does), tunes a subsystem that is
    // refused while it does not exist (replication, the AOF, cluster, TLS:
    // kept for when it arrives), or is cosmetic to the process (logo, title,
    // allocator, crash log). A value that would need behaviour ferrokv
    // lacks is refused in `unsupported`, never silently ignored.
    p("acl-pubsub-default", Kind::Enum(&["allchannels", "resetchannels"]), "resetchannels", 0),
    p("aclfile", Kind::Str, "", IMMUTABLE),
    p("acllog-max-len", Kind::Int(0, MAXI), "128", 0),
    p("active-defrag-cycle-max", Kind::Int(1, 99), "25", 0),
    p("active-defrag-cycle-min", Kind::Int(1, 99), "1", 0),
    p("active-defrag-ignore-bytes", Kind::Mem(1, MAXI), "104857600", 0),
    p("active-defrag-max-scan-fields", Kind::Int(1, MAXI), "1000", 0),
    p("active-defrag-threshold-lower", Kind::Int(0, 1000), "10", 0),
    p("active-defrag-threshold-upper", Kind::Int(0, 1000), "100", 0),
    p("activedefrag", Kind::Bool, "no", 0),
    p("activerehashing", Kind::Bool, "yes", 0),
    p("always-show-logo", Kind::Bool, "no", IMMUTABLE),
    p("aof-disable-auto-gc", Kind::Bool, "no", 0),
    p("aof-load-truncated", Kind::Bool, "yes", 0),
    p("aof-rewrite-incremental-fsync", Kind::Bool, "yes", 0),
    p("aof-timestamp-enabled", Kind::Bool, "no", 0),
    p("aof-use-rdb-preamble", Kind::Bool, "yes", 0),
    p("aof_rewrite_cpulist", Kind::Str, "", IMMUTABLE | EMPTY_IS_UNSET),
    p("appenddirname", Kind::Str, "appendonlydir", IMMUTABLE),
    p("appendfilename", Kind::Str, "appendonly.aof", IMMUTABLE),
    p("auto-aof-rewrite-min-size", Kind::Mem(0, MAXI), "67108864", 0),
    p("auto-aof-rewrite-percentage", Kind::Int(0, i32::MAX as i64), "100", 0),
    p("bgsave_cpulist", Kind::Str, "", IMMUTABLE | EMPTY_IS_UNSET),
    p("bind-source-addr", Kind::Str, "", EMPTY_IS_UNSET),
    p("bio_cpulist", Kind::Str, "", IMMUTABLE | EMPTY_IS_UNSET),
    p("cluster-allow-pubsubshard-when-down", Kind::Bool, "yes", 0),
    p("cluster-allow-reads-when-down", Kind::Bool, "no", 0),
    p("cluster-allow-replica-migration", Kind::Bool, "yes", 0),
    p("cluster-announce-bus-port", Kind::Int(0, 65535), "0", 0),
    p("cluster-announce-hostname", Kind::Str, "", EMPTY_IS_UNSET),
    p("cluster-announce-ip", Kind::Str, "", EMPTY_IS_UNSET),
    p("cluster-announce-port", Kind::Int(0, 65535), "0", 0),
    p("cluster-announce-tls-port", Kind::Int(0, 65535), "0", 0),
    p("cluster-config-file", Kind::Str, "nodes.conf", IMMUTABLE),
    p("cluster-link-sendbuf-limit", Kind::UMem, "0", 0),
    p("cluster-migration-barrier", Kind::Int(0, i32::MAX as i64), "1", 0),
    p("cluster-node-timeout", Kind::Int(0, MAXI), "15000", 0),
    p("cluster-port", Kind::Int(0, 65535), "0", IMMUTABLE),
    p("cluster-preferred-endpoint-type", Kind::Enum(&["ip", "hostname", "unknown-endpoint"]), "ip", 0),
    pa("cluster-replica-no-failover", &["cluster-slave-no-failover"], Kind::Bool, "no", 0),
    pa("cluster-replica-validity-factor", &["cluster-slave-validity-factor"], Kind::Int(0, i32::MAX as i64), "10", 0),
    p("cluster-require-full-coverage", Kind::Bool, "yes", 0),
    p("crash-log-enabled", Kind::Bool, "yes", 0),
    p("crash-memcheck-enabled", Kind::Bool, "yes", 0),
    p("disable-thp", Kind::Bool, "yes", IMMUTABLE),
    p("dynamic-hz", Kind::Bool, "yes", 0),
    p("enable-module-command", Kind::Enum(&["no", "yes", "local"]), "no", IMMUTABLE),
    p("hll-sparse-max-bytes", Kind::Mem(0, MAXI), "3000", 0),
    p("ignore-warnings", Kind::Str, "", 0),
    // Tunes Redis's I/O threads; ferrokv's workers always read their own
    // connections.
    p("io-threads-do-reads", Kind::Bool, "no", IMMUTABLE),
    p("jemalloc-bg-thread", Kind::Bool, "yes", 0),
    p("latency-monitor-threshold", Kind::Int(0, MAXI), "0", 0),
    p("latency-tracking", Kind::Bool, "yes", 0),
    p("latency-tracking-info-percentiles", Kind::Words, "50 99 99.9", MULTI_ARG),
    p("list-compress-depth", Kind::Int(0, i32::MAX as i64), "0", 0),
    p("masterauth", Kind::Str, "", EMPTY_IS_UNSET | SENSITIVE),
    p("masteruser", Kind::Str, "", EMPTY_IS_UNSET | SENSITIVE),
    // A memory amount or a percentage of maxmemory.
    p("maxmemory-clients", Kind::Words, "0", 0),
    p("maxmemory-eviction-tenacity", Kind::Int(0, 100), "10", 0),
    pa("min-replicas-max-lag", &["min-slaves-max-lag"], Kind::Int(0, i32::MAX as i64), "10", 0),
    pa("min-replicas-to-write", &["min-slaves-to-write"], Kind::Int(0, i32::MAX as i64), "0", 0),
    p("no-appendfsync-on-rewrite", Kind::Bool, "no", 0),
    p("oom-score-adj", Kind::Enum(&["no", "yes", "relative", "absolute"]), "no", 0),
    p("oom-score-adj-values", Kind::Words, "0 200 800", MULTI_ARG),
    p("proc-title-template", Kind::Str, "{title} {listen-addr} {server-mode}", 0),
    p("propagation-error-behavior", Kind::Enum(&["ignore", "panic", "panic-on-replicas"]), "ignore", 0),
    p("rdb-del-sync-files", Kind::Bool, "no", 0),
    p("rdb-save-incremental-fsync", Kind::Bool, "yes", 0),
    p("rdbchecksum", Kind::Bool, "yes", IMMUTABLE),
    p("repl-backlog-size", Kind::Mem(1, MAXI), "1048576", 0),
    p("repl-backlog-ttl", Kind::Int(0, MAXI), "3600", 0),
    p("repl-disable-tcp-nodelay", Kind::Bool, "no", 0),
    p("repl-diskless-load", Kind::Enum(&["disabled", "on-empty-db", "swapdb"]), "disabled", 0),
    p("repl-diskless-sync", Kind::Bool, "yes", 0),
    p("repl-diskless-sync-delay", Kind::Int(0, i32::MAX as i64), "5", 0),
    p("repl-diskless-sync-max-replicas", Kind::Int(0, i32::MAX as i64), "0", 0),
    pa("repl-ping-replica-period", &["repl-ping-slave-period"], Kind::Int(1, i32::MAX as i64), "10", 0),
    p("repl-timeout", Kind::Int(1, i32::MAX as i64), "60", 0),
    pa("replica-announce-ip", &["slave-announce-ip"], Kind::Str, "", EMPTY_IS_UNSET),
    pa("replica-announce-port", &["slave-announce-port"], Kind::Int(0, 65535), "0", 0),
    p("replica-announced", Kind::Bool, "yes", 0),
    p("replica-ignore-disk-write-errors", Kind::Bool, "no", 0),
    pa("replica-ignore-maxmemory", &["slave-ignore-maxmemory"], Kind::Bool, "yes", 0),
    pa("replica-lazy-flush", &["slave-lazy-flush"], Kind::Bool, "no", 0),
    pa("replica-priority", &["slave-priority"], Kind::Int(0, i32::MAX as i64), "100", 0),
    pa("replica-read-only", &["slave-read-only"], Kind::Bool, "yes", 0),
    pa("replica-serve-stale-data", &["slave-serve-stale-data"], Kind::Bool, "yes", 0),
    pa("replicaof", &["slaveof"], Kind::Words, "", IMMUTABLE | MULTI_ARG),
    p("sanitize-dump-payload", Kind::Enum(&["no", "yes", "clients"]), "no", 0),
    p("server_cpulist", Kind::Str, "", IMMUTABLE | EMPTY_IS_UNSET),
    p("set-proc-title", Kind::Bool, "yes", IMMUTABLE),
    p("shutdown-on-sigint", Kind::Flags(SHUTDOWN_FLAGS), "default", MULTI_ARG),
    p("shutdown-on-sigterm", Kind::Flags(SHUTDOWN_FLAGS), "default", MULTI_ARG),
    p("shutdown-timeout", Kind::Int(0, i32::MAX as i64), "10", 0),
    p("socket-mark-id", Kind::Int(0, u32::MAX as i64), "0", IMMUTABLE),
    p("stop-writes-on-bgsave-error", Kind::Bool, "yes", 0),
    p("stream-node-max-bytes", Kind::Mem(0, MAXI), "4096", 0),
    p("stream-node-max-entries", Kind::Int(0, MAXI), "100", 0),
    p("supervised", Kind::Enum(&["upstart", "systemd", "auto", "no"]), "no", IMMUTABLE),
    p("syslog-enabled", Kind::Bool, "no", IMMUTABLE),
    p("syslog-facility", Kind::Enum(SYSLOG_FACILITIES), "local0", IMMUTABLE),
    p("syslog-ident", Kind::Str, "redis", IMMUTABLE),
    p("tls-auth-clients", Kind::Enum(&["no", "yes", "optional"]), "yes", 0),
    p("tls-ca-cert-dir", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-ca-cert-file", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-cert-file", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-ciphers", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-ciphersuites", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-client-cert-file", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-client-key-file", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-client-key-file-pass", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-cluster", Kind::Bool, "no", 0),
    p("tls-dh-params-file", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-key-file", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-key-file-pass", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-port", Kind::Int(0, 65535), "0", 0),
    p("tls-prefer-server-ciphers", Kind::Bool, "no", 0),
    p("tls-protocols", Kind::Str, "", EMPTY_IS_UNSET),
    p("tls-replication", Kind::Bool, "no", 0),
    p("tls-session-cache-size", Kind::Int(0, i32::MAX as i64), "20480", 0),
    p("tls-session-cache-timeout", Kind::Int(0, i32::MAX as i64), "300", 0),
    p("tls-session-caching", Kind::Bool, "yes", 0),
    p("unixsocket", Kind::Str, "", IMMUTABLE | EMPTY_IS_UNSET),
    p("unixsocketperm", Kind::Octal(0o777), "0", IMMUTABLE),
    // Redis's test hooks, shown by exact name only.
    p("use-exit-on-panic", Kind::Bool, "no", HIDDEN),
    p("rdb-key-save-delay", Kind::Int(i32::MIN as i64, i32::MAX as i64), "0", HIDDEN),
    p("key-load-delay", Kind::Int(i32::MIN as i64, i32::MAX as i64), "0", HIDDEN),
    p("watchdog-period", Kind::Int(0, i32::MAX as i64), "0", HIDDEN),
    p("loading-process-events-interval-bytes", Kind::Int(1024, i32::MAX as i64), "2097152", HIDDEN),
];

/// `syslog-facility` names.
const SYSLOG_FACILITIES: &[&str] =
    &["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];

/// A parameter's current value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Bool.
    Bool(bool),
    /// Int or Mem.
    Int(i64),
    /// Index into the enum's names.
    Enum(usize),
    /// Str or Bind (space-separated list).
    Str(String),
    /// save: (seconds, changes) pairs.
    Save(Vec<(i64, i64)>),
    /// client-output-buffer-limit per class: normal, replica, pubsub.
    Cobl([ObufLimit; 3]),
}

/// One client class's output buffer limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObufLimit {
    /// Disconnect as soon as the buffer exceeds this (0 = no limit).
    pub hard: u64,
    /// Disconnect when the buffer stays above this for `soft_secs`.
    pub soft: u64,
    /// Seconds above `soft` that are tolerated.
    pub soft_secs: i64,
}

/// Why a value was refused; the text after `- ` in Redis's CONFIG SET error.
pub type Reason = String;

/// Parses a memory amount as Redis's `memtoull` does: digits (none reads
/// as 0, so `""` and `"kb"` are 0) and an optional unit; `strtoull`
/// saturates on overflow and the unit's multiplication wraps, so the
/// caller's range check sees what Redis's does.
pub fn parse_memory(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let ndigits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mul: u64 = match s[ndigits..].to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1 << 10,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return None,
    };
    // Redis copies the digits into a 128-byte buffer first.
    if ndigits >= 128 {
        return None;
    }
    let n = b[..ndigits].iter().fold(0u64, |n, c| n.saturating_mul(10).saturating_add(u64::from(c - b'0')));
    Some(n.wrapping_mul(mul))
}

/// libc's `strtoll` where Redis requires it to read the whole text: leading
/// blanks and a sign are allowed, an empty text reads as 0 (no conversion
/// leaves the end pointer on the terminator), overflow saturates.
fn strtoll_whole(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let blanks = b.iter().take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let mut rest = &b[blanks..];
    let neg = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'+' | b'-')) {
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return b.is_empty().then_some(0);
    }
    if !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mag = rest.iter().fold(0i128, |n, c| (n * 10 + i128::from(c - b'0')).min(1 << 64));
    let v = if neg { -mag } else { mag };
    Some(v.clamp(i64::MIN.into(), i64::MAX.into()) as i64)
}

/// How Redis prints a percentile: `%f` with trailing zeros trimmed.
pub(crate) fn format_percentile(f: f64) -> String {
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `maxmemory-clients`: bytes, or a percentage of maxmemory (negative, as
/// Redis stores it).
fn maxmemory_clients(s: &str) -> Result<i64, Reason> {
    let v = match parse_memory(s) {
        Some(m) => m as i64,
        None => match s.strip_suffix('%').filter(|p| !p.is_empty()).and_then(|p| parse_i64(p.as_bytes())) {
            Some(p) if p >= 0 => -p,
            _ => return Err("argument must be a memory or percent value".into()),
        },
    };
    if v < -100 {
        return Err("percentage argument must be less or equal to 100".into());
    }
    Ok(v)
}

fn parse_value(param: &Param, words: &[&str]) -> Result<Value, Reason> {
    let one = || -> Result<&str, Reason> {
        match words {
            [w] => Ok(*w),
            _ => Err("wrong number of arguments".into()),
        }
    };
    match param.kind {
        Kind::Bool => match one()?.to_ascii_lowercase().as_str() {
            "yes" => Ok(Value::Bool(true)),
            "no" => Ok(Value::Bool(false)),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int(min, max) => {
            let v = parse_i64(one()?.as_bytes())
                .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
            if v < min || v > max {
                return Err(format!("argument must be between {min} and {max} inclusive"));
            }
            Ok(Value::Int(v))
        }
        Kind::Mem(min, max) => {
            // Read into a signed long long, as Redis does.
            let v = parse_memory(one()?).ok_or_else(|| "argument must be a memory value".to_string())? as i64;
            if v < min || v > max {
                return Err(format!("argument must be between {min} and {max} inclusive"));
            }
            Ok(Value::Int(v))
        }
        // Unsigned up to 2^64-1 in Redis: kept as the same 64 bits.
        Kind::UMem => {
            let v = parse_memory(one()?).ok_or_else(|| "argument must be a memory value".to_string())?;
            Ok(Value::Int(v as i64))
        }
        Kind::Enum(names) => {
            let w = one()?;
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(w))
                // "relative" is another name of "yes", which Redis prints.
                .map(|i| if param.name == "oom-score-adj" && i == 2 { 1 } else { i })
                .map(Value::Enum)
                .ok_or_else(|| format!("argument(s) must be one of the following: {}", names.join(", ")))
        }
        Kind::Str => Ok(Value::Str(one()?.to_string())),
        Kind::Notify => match crate::notify::parse_flags(one()?) {
            Some(f) => Ok(Value::Int(f as i64)),
            None => Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        },
        // `replicaof no one` is the standalone default.
        Kind::Words if param.name == "replicaof" && words.join(" ").eq_ignore_ascii_case("no one") => {
            Ok(Value::Str(String::new()))
        }
        Kind::Words if param.name == "latency-tracking-info-percentiles" => {
            // A single empty word is no percentiles at all.
            let words = if words == [""] { &[][..] } else { words };
            let mut out = Vec::with_capacity(words.len());
            for w in words {
                let p = crate::types::zset::parse_score(w.as_bytes())
                    .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                out.push(format_percentile(p));
            }
            Ok(Value::Str(out.join(" ")))
        }
        Kind::Words if param.name == "oom-score-adj-values" => {
            if words.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut out = Vec::with_capacity(3);
            for w in words {
                match strtoll_whole(w) {
                    Some(v) if (-2000..=2000).contains(&v) => out.push(v.to_string()),
                    _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
                }
            }
            Ok(Value::Str(out.join(" ")))
        }
        // Kept as Redis prints it: bytes, or a percentage.
        Kind::Words if param.name == "maxmemory-clients" => {
            let v = maxmemory_clients(one()?)?;
            Ok(Value::Str(if v < 0 { format!("{}%", -v) } else { v.to_string() }))
        }
        Kind::Bind | Kind::Words => Ok(Value::Str(words.join(" "))),
        Kind::Flags(names) => {
            let mut bits = 0i64;
            if words.is_empty() {
                return Err(format!("argument(s) must be one of the following: {}", names.join(", ")));
            }
            for w in words {
                match names.iter().position(|n| n.eq_ignore_ascii_case(w)) {
                    Some(0) => {}
                    Some(i) => bits |= 1 << (i - 1),
                    None => return Err(format!("argument(s) must be one of the following: {}", names.join(", "))),
                }
            }
            Ok(Value::Int(bits))
        }
        Kind::Octal(max) => match i64::from_str_radix(one()?, 8) {
            Ok(v) if (0..=max).contains(&v) => Ok(Value::Int(v)),
            Ok(_) => Err(format!("argument must be between 0 and {max:o} inclusive")),
            Err(_) => Err("argument couldn't be parsed into an integer".into()),
        },
        Kind::Save => {
            // A single empty word (`save ""`) is no save points.
            let words = if words == [""] { &[][..] } else { words };
            if !words.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            let mut pairs = Vec::new();
            for c in words.chunks(2) {
                match (strtoll_whole(c[0]), strtoll_whole(c[1])) {
                    // The changes are kept in a C int.
                    (Some(s), Some(n)) if s >= 1 && n >= 0 => pairs.push((s, i64::from(n as i32))),
                    _ => return Err("Invalid save parameters".into()),
                }
            }
            Ok(Value::Save(pairs))
        }
        Kind::ClientOutputBufferLimit => {
            unreachable!("merged by the caller with the current value")
        }
    }
}

/// Parses `client-output-buffer-limit` words on top of the current limits.
/// No words at all change nothing, as in Redis.
fn parse_cobl(current: &[ObufLimit; 3], words: &[&str]) -> Result<Value, Reason> {
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = *current;
    for c in words.chunks(4) {
        let class = match c[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "replica" | "slave" => 1,
            "pubsub" => 2,
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        // The seconds are read into a C int.
        let secs = strtoll_whole(c[3]).map(|s| i64::from(s as i32));
        let (Some(hard), Some(soft), Some(secs)) = (parse_memory(c[1]), parse_memory(c[2]), secs) else {
            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
        };
        if secs < 0 {
            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
        }
        out[class] = ObufLimit { hard, soft, soft_secs: secs };
    }
    Ok(Value::Cobl(out))
}

/// A value this server cannot honour yet, refused rather than accepted and
/// silently ignored: by CONFIG SET, and at
/// start-up when it is still the value once the whole configuration is
/// read (so `--save ""` after a file's `save` lines works, as in Redis).
fn unsupported(param: &Param, v: &Value) -> Result<(), Reason> {
    match (param.name, v) {
        ("appendonly", Value::Bool(true)) => Err("the append only file is not supported yet".into()),
        ("cluster-enabled", Value::Bool(true)) => Err("cluster mode is not supported yet".into()),
        ("save", Value::Save(p)) if !p.is_empty() => Err("RDB snapshots are not supported yet".into()),
        ("replicaof", Value::Str(s)) if !s.is_empty() => Err("replication is not supported yet".into()),
        ("tls-port", Value::Int(n)) if *n != 0 => Err("TLS is not supported yet".into()),
        ("unixsocket", Value::Str(s)) if !s.is_empty() => Err("unix sockets are not supported yet".into()),
        ("aclfile", Value::Str(s)) if !s.is_empty() => Err("ACL users are not supported yet".into()),
        ("activedefrag", Value::Bool(true)) => Err("active defragmentation is not supported".into()),
        ("syslog-enabled", Value::Bool(true)) => Err("logging to syslog is not supported yet".into()),
        ("rdbchecksum", Value::Bool(false)) => Err("RDB files are always written with a checksum".into()),
        ("list-compress-depth", Value::Int(n)) if *n != 0 => Err("list compression is not supported yet".into()),
        ("maxmemory-clients", Value::Str(s)) if s != "0" => Err("client eviction is not supported yet".into()),
        ("use-exit-on-panic", Value::Bool(true)) => Err("ferrokv always aborts on a crash".into()),
        ("rdb-key-save-delay" | "key-load-delay", Value::Int(n)) if *n != 0 => {
            Err("loading and saving delays are not supported".into())
        }
        ("watchdog-period", Value::Int(n)) if *n != 0 => Err("the software watchdog is not supported".into()),
        // A master with too few replicas refuses writes in Redis.
        ("min-replicas-to-write", Value::Int(n)) if *n != 0 => Err("replication is not supported yet".into()),
        ("socket-mark-id", Value::Int(n)) if *n != 0 => Err("socket marks are not supported yet".into()),
        _ => Ok(()),
    }
}

/// Redis's own checks of a value beyond its type.
fn validate(param: &Param, v: &Value) -> Result<(), Reason> {
    match (param.name, v) {
        ("shutdown-on-sigint" | "shutdown-on-sigterm", Value::Int(bits)) => {
            if bits & shutdown_flag::SAVE != 0 && bits & shutdown_flag::NOSAVE != 0 {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            Ok(())
        }
        ("proc-title-template", Value::Str(t)) if !valid_title_template(t) => {
            Err("template format is invalid or contains unknown variables".into())
        }
        ("dbfilename", Value::Str(s)) if s.contains('/') => Err("dbfilename can't be a path, just a filename".into()),
        ("cluster-announce-hostname", Value::Str(s))
            if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into())
        }
        _ => Ok(()),
    }
}

/// Redis's `validateProcTitleTemplate`: every `{variable}` is known (`{{`
/// is a brace) and the expansion, with an empty title, is not blank.
fn valid_title_template(t: &str) -> bool {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open + 1..];
        if let Some(r) = rest.strip_prefix('{') {
            out.push('{');
            rest = r;
            continue;
        }
        let Some(close) = rest.find('}') else { return false };
        // Values that are never empty stand for themselves.
        match &rest[..close] {
            "title" | "server-mode" | "unixsocket" => {}
            "listen-addr" | "config-file" | "port" | "tls-port" => out.push('x'),
            _ => return false,
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    !out.trim_matches(' ').is_empty()
}

fn format_value(param: &Param, v: &Value) -> String {
    match (param.kind, v) {
        (_, Value::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
        (Kind::Notify, Value::Int(f)) => crate::notify::flags_to_string(*f as u32),
        (Kind::Octal(_), Value::Int(i)) => format!("{i:o}"),
        (Kind::Flags(names), Value::Int(0)) => names[0].to_string(),
        (Kind::Flags(names), Value::Int(bits)) => {
            let set = names[1..].iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0);
            set.map(|(_, n)| *n).collect::<Vec<_>>().join(" ")
        }
        (Kind::UMem, Value::Int(i)) => (*i as u64).to_string(),
        (_, Value::Int(i)) => i.to_string(),
        (Kind::Enum(names), Value::Enum(i)) => names[*i].to_string(),
        (_, Value::Str(s)) => s.clone(),
        (_, Value::Save(pairs)) => pairs.iter().map(|(s, c)| format!("{s} {c}")).collect::<Vec<_>>().join(" "),
        (_, Value::Cobl(l)) => ["normal", "slave", "pubsub"]
            .iter()
            .zip(l)
            .map(|(n, l)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_secs))
            .collect::<Vec<_>>()
            .join(" "),
        (_, Value::Enum(_)) => unreachable!("enum value for a non-enum parameter"),
    }
}

/// Looks a parameter up by name or alias, ignoring case.
pub fn find(name: &str) -> Option<usize> {
    PARAMS
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(name) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// The configuration: current values plus typed copies of the ones read on
/// hot paths.
#[derive(Clone, Debug)]
pub struct Config {
    values: Vec<Value>,
    /// `proto-max-bulk-len`
    pub proto_max_bulk_len: i64,
    /// `client-query-buffer-limit`
    pub query_buffer_limit: i64,
    /// `slowlog-log-slower-than` (µs)
    pub slowlog_slower_than: i64,
    /// `slowlog-max-len`
    pub slowlog_max_len: usize,
    /// `hz`, clamped to 1..=500 as Redis applies it.
    pub hz: i64,
    /// `maxclients`
    pub maxclients: i64,
    /// `timeout` (seconds, 0 = never)
    pub timeout: i64,
    /// `maxmemory` (bytes, 0 = no limit)
    pub maxmemory: i64,
    /// `databases`
    pub databases: usize,
    /// `active-expire-effort`
    pub active_expire_effort: i64,
    /// `enable-debug-command`: 0 no, 1 yes, 2 local
    pub enable_debug: usize,
    /// `enable-protected-configs`: 0 no, 1 yes, 2 local
    pub enable_protected: usize,
    /// `busy-reply-threshold` (ms; 0 = never busy)
    pub busy_reply_threshold: i64,
    /// `rdbcompression`: LZF for RDB strings over 20 bytes.
    pub rdb_compression: bool,
    /// `maxmemory-policy`
    pub maxmemory_policy: crate::evict::Policy,
    /// `maxmemory-samples`
    pub maxmemory_samples: usize,
    /// `tracking-table-max-keys` (0: no limit)
    pub tracking_max_keys: usize,
    /// What keys' access fields record: maxmemory-policy with
    /// lfu-log-factor and lfu-decay-time.
    pub access_clock: crate::keyspace::access::Clock,
    /// `lazyfree-lazy-eviction`
    pub lazy_eviction: bool,
    /// `lazyfree-lazy-user-del`
    pub lazy_user_del: bool,
    /// `lazyfree-lazy-user-flush`
    pub lazy_user_flush: bool,
    /// `lazyfree-lazy-expire`
    pub lazy_expire: bool,
    /// `lazyfree-lazy-server-del`
    pub lazy_server_del: bool,
    /// `requirepass` (empty = none)
    pub requirepass: String,
    /// `protected-mode`
    pub protected_mode: bool,
    /// `tcp-keepalive` (seconds)
    pub tcp_keepalive: i64,
    /// `client-output-buffer-limit` by class: normal, replica, pubsub.
    pub obuf_limits: [ObufLimit; 3],
    /// `loglevel` index: 0 debug .. 3 warning
    pub loglevel: usize,
    /// The encoding thresholds of collections.
    pub limits: Limits,
    /// `latency-tracking`
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`
    pub latency_percentiles: Vec<f64>,
    /// `latency-monitor-threshold` (ms; 0 = off)
    pub latency_monitor_threshold: i64,
    /// `notify-keyspace-events` as [`crate::notify::class`] bits.
    pub notify_flags: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The defaults.
    pub fn new() -> Self {
        let values = PARAMS
            .iter()
            .map(|p| {
                let words: Vec<&str> = p.default.split_whitespace().collect();
                match p.kind {
                    Kind::ClientOutputBufferLimit => parse_cobl(&[ObufLimit::default(); 3], &words),
                    Kind::Str | Kind::Bind | Kind::Words => Ok(Value::Str(p.default.to_string())),
                    Kind::Save if words.is_empty() => Ok(Value::Save(Vec::new())),
                    Kind::Notify if words.is_empty() => Ok(Value::Int(0)),
                    _ => parse_value(p, &words),
                }
                .unwrap_or_else(|e| panic!("default of {}: {e}", p.name))
            })
            .collect();
        let mut c = Config {
            values,
            proto_max_bulk_len: 0,
            query_buffer_limit: 0,
            slowlog_slower_than: 0,
            slowlog_max_len: 0,
            hz: 0,
            maxclients: 0,
            timeout: 0,
            maxmemory: 0,
            databases: 0,
            active_expire_effort: 0,
            enable_debug: 0,
            enable_protected: 0,
            rdb_compression: true,
            maxmemory_policy: crate::evict::Policy::NoEviction,
            maxmemory_samples: 5,
            tracking_max_keys: 1_000_000,
            access_clock: crate::keyspace::access::Clock::Lru,
            lazy_eviction: false,
            lazy_user_del: false,
            busy_reply_threshold: 5000,
            lazy_user_flush: false,
            lazy_expire: false,
            lazy_server_del: false,
            requirepass: String::new(),
            protected_mode: true,
            tcp_keepalive: 0,
            obuf_limits: [ObufLimit::default(); 3],
            loglevel: 0,
            limits: Limits::default(),
            latency_tracking: false,
            latency_percentiles: Vec::new(),
            latency_monitor_threshold: 0,
            notify_flags: 0,
        };
        c.refresh();
        c
    }

    /// The value of parameter `idx`.
    pub fn value(&self, idx: usize) -> &Value {
        &self.values[idx]
    }

    /// What oom-score-adj and oom-score-adj-values ask of the process's
    /// oom_score_adj (for [`crate::state::Platform::oom_score_adj`]).
    pub fn oom_score_adj(&self) -> Option<(i64, bool)> {
        let master = self.str("oom-score-adj-values").split(' ').next().and_then(|v| v.parse().ok()).unwrap_or(0);
        match self.enum_idx("oom-score-adj") {
            0 => None,
            3 => Some((master, false)),
            _ => Some((master, true)),
        }
    }

    /// The value of the parameter named `name` (canonical name).
    pub fn get(&self, name: &str) -> &Value {
        &self.values[find(name).unwrap_or_else(|| panic!("unknown parameter {name}"))]
    }

    fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Value::Int(i) => *i,
            v => panic!("{name} is not an integer: {v:?}"),
        }
    }

    fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Value::Bool(true))
    }

    fn enum_idx(&self, name: &str) -> usize {
        match self.get(name) {
            Value::Enum(i) => *i,
            v => panic!("{name} is not an enum: {v:?}"),
        }
    }

    /// The text of a string parameter.
    pub fn str(&self, name: &str) -> &str {
        match self.get(name) {
            Value::Str(s) => s,
            v => panic!("{name} is not a string: {v:?}"),
        }
    }

    /// The printed value of a parameter, as CONFIG GET shows it.
    pub fn format(&self, idx: usize) -> String {
        format_value(&PARAMS[idx], &self.values[idx])
    }

    fn refresh(&mut self) {
        self.proto_max_bulk_len = self.int("proto-max-bulk-len");
        self.query_buffer_limit = self.int("client-query-buffer-limit");
        self.slowlog_slower_than = self.int("slowlog-log-slower-than");
        self.slowlog_max_len = self.int("slowlog-max-len") as usize;
        self.hz = self.int("hz").clamp(1, 500);
        self.maxclients = self.int("maxclients");
        self.timeout = self.int("timeout");
        // Beyond i64::MAX is as good as no limit.
        self.maxmemory = (self.int("maxmemory") as u64).min(i64::MAX as u64) as i64;
        self.databases = self.int("databases") as usize;
        self.active_expire_effort = self.int("active-expire-effort");
        self.enable_debug = self.enum_idx("enable-debug-command");
        self.enable_protected = self.enum_idx("enable-protected-configs");
        self.busy_reply_threshold = self.int("busy-reply-threshold");
        self.rdb_compression = self.bool("rdbcompression");
        self.maxmemory_policy = crate::evict::Policy::named(MAXMEMORY_POLICIES[self.enum_idx("maxmemory-policy")]);
        self.maxmemory_samples = self.int("maxmemory-samples") as usize;
        self.tracking_max_keys = usize::try_from(self.int("tracking-table-max-keys")).unwrap_or(usize::MAX);
        self.access_clock = if self.maxmemory_policy.is_lfu() {
            crate::keyspace::access::Clock::Lfu {
                log_factor: self.int("lfu-log-factor") as u32,
                decay_minutes: self.int("lfu-decay-time") as u32,
            }
        } else {
            crate::keyspace::access::Clock::Lru
        };
        self.lazy_eviction = self.bool("lazyfree-lazy-eviction");
        self.lazy_user_del = self.bool("lazyfree-lazy-user-del");
        self.lazy_user_flush = self.bool("lazyfree-lazy-user-flush");
        self.lazy_expire = self.bool("lazyfree-lazy-expire");
        self.lazy_server_del = self.bool("lazyfree-lazy-server-del");
        self.requirepass = self.str("requirepass").to_string();
        self.protected_mode = self.bool("protected-mode");
        self.tcp_keepalive = self.int("tcp-keepalive");
        self.loglevel = self.enum_idx("loglevel");
        self.notify_flags = self.int("notify-keyspace-events") as u32;
        self.latency_tracking = self.bool("latency-tracking");
        self.latency_percentiles =
            self.str("latency-tracking-info-percentiles").split(' ').filter_map(|p| p.parse().ok()).collect();
        self.latency_monitor_threshold = self.int("latency-monitor-threshold");
        let size = |n: &str| usize::try_from(self.int(n)).unwrap_or(usize::MAX);
        self.limits = Limits {
            list_max_listpack_size: self.int("list-max-listpack-size"),
            hash_max_listpack_entries: size("hash-max-listpack-entries"),
            hash_max_listpack_value: size("hash-max-listpack-value"),
            set_max_intset_entries: size("set-max-intset-entries"),
            set_max_listpack_entries: size("set-max-listpack-entries"),
            set_max_listpack_value: size("set-max-listpack-value"),
            zset_max_listpack_entries: size("zset-max-listpack-entries"),
            zset_max_listpack_value: size("zset-max-listpack-value"),
        };
        if let Value::Cobl(l) = self.get("client-output-buffer-limit") {
            self.obuf_limits = *l;
        }
    }

    /// Parses `words` for parameter `idx` without applying it.
    pub fn parse(&self, idx: usize, words: &[&str]) -> Result<Value, Reason> {
        let v = self.parse_supported_or_not(idx, words)?;
        unsupported(&PARAMS[idx], &v)?;
        Ok(v)
    }

    /// Parses and checks `words` as Redis would, whether or not this server
    /// supports the value.
    fn parse_supported_or_not(&self, idx: usize, words: &[&str]) -> Result<Value, Reason> {
        let param = &PARAMS[idx];
        let v = match (param.kind, &self.values[idx]) {
            (Kind::ClientOutputBufferLimit, Value::Cobl(cur)) => parse_cobl(cur, words)?,
            _ => parse_value(param, words)?,
        };
        validate(param, &v)?;
        Ok(v)
    }

    /// The first setting this server cannot honour yet, as
    /// `(name, value, reason)`.
    pub fn first_unsupported(&self) -> Option<(&'static str, String, Reason)> {
        PARAMS
            .iter()
            .enumerate()
            .find_map(|(i, p)| unsupported(p, &self.values[i]).err().map(|e| (p.name, self.format(i), e)))
    }

    /// Applies a parsed value.
    pub fn set(&mut self, idx: usize, v: Value) {
        self.values[idx] = v;
        self.refresh();
    }

    /// Applies a value given by CONFIG SET, with what Redis's apply step
    /// does to it there (and not when a file is read).
    pub fn set_at_runtime(&mut self, idx: usize, mut v: Value) {
        // resizeReplicationBacklog's floor.
        if let ("repl-backlog-size", Value::Int(n)) = (PARAMS[idx].name, &mut v) {
            *n = (*n).max(16 * 1024);
        }
        self.set(idx, v);
    }

    /// Applies one config-file line: `save` lines accumulate while the file
    /// is read (`accumulate_save`), everything else replaces.
    /// What this server does not support yet is checked once the whole
    /// configuration is read ([`Config::first_unsupported`]).
    pub fn apply_line(&mut self, idx: usize, words: &[&str], accumulate_save: bool) -> Result<(), Reason> {
        let mut v = self.parse_supported_or_not(idx, words)?;
        if let (true, Value::Save(new), Value::Save(old)) = (accumulate_save, &mut v, &self.values[idx]) {
            if !new.is_empty() {
                let mut all = old.clone();
                all.append(new);
                *new = all;
            }
        }
        self.set(idx, v);
        Ok(())
    }

    /// CONFIG GET: every (name, value) whose name matches one of `patterns`,
    /// deduplicated. An exact name is echoed as given; globs list canonical
    /// names and aliases.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |name: String, value: String| {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, value));
            }
        };
        for pat in patterns {
            let is_glob = pat.iter().any(|c| matches!(c, b'*' | b'?' | b'['));
            if !is_glob {
                let name = String::from_utf8_lossy(pat).into_owned();
                if let Some(i) = find(&name) {
                    push(name, self.format(i));
                }
                continue;
            }
            for (i, p) in PARAMS.iter().enumerate() {
                if p.flags & HIDDEN != 0 {
                    continue;
                }
                for n in std::iter::once(&p.name).chain(p.aliases) {
                    if glob_match_nocase(pat, n.as_bytes()) {
                        push(n.to_string(), self.format(i));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defaults_parse() {
        let c = Config::new();
        let mut names: Vec<&str> =
            PARAMS.iter().flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied())).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(c.proto_max_bulk_len, 512 * 1024 * 1024);
        assert_eq!(
            c.format(find("client-output-buffer-limit").unwrap()),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100k"), Some(100_000));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("10MB"), Some(10 << 20));
        assert_eq!(parse_memory("2b"), Some(2));
        assert_eq!(parse_memory("1.5gb"), None);
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("+5"), None);
        assert_eq!(parse_memory("1tb"), None);
        // As memtoull: no digits read as 0, overflow saturates, units wrap.
        assert_eq!(parse_memory(""), Some(0));
        assert_eq!(parse_memory("kb"), Some(0));
        assert_eq!(parse_memory("18446744073709551616"), Some(u64::MAX));
        assert_eq!(parse_memory("18446744073709551615kb"), Some(u64::MAX.wrapping_mul(1024)));
        assert_eq!(parse_memory(&"1".repeat(128)), None);
    }

    #[test]
    fn strtoll_reads_the_whole_text_as_libc() {
        assert_eq!(strtoll_whole(""), Some(0));
        assert_eq!(strtoll_whole(" +5"), Some(5));
        assert_eq!(strtoll_whole("-7"), Some(-7));
        assert_eq!(strtoll_whole(" "), None);
        assert_eq!(strtoll_whole("+"), None);
        assert_eq!(strtoll_whole("5 "), None);
        assert_eq!(strtoll_whole("99999999999999999999"), Some(i64::MAX));
        assert_eq!(strtoll_whole("-99999999999999999999"), Some(i64::MIN));
    }

    #[test]
    fn title_templates() {
        assert!(valid_title_template("{title} {listen-addr} {server-mode}"));
        assert!(valid_title_template("x{{"));
        assert!(!valid_title_template(""));
        assert!(!valid_title_template("{title} {server-mode}"));
        assert!(!valid_title_template("{nope}"));
        assert!(!valid_title_template("{port"));
    }

    #[test]
    fn set_and_errors() {
        let mut c = Config::new();
        let i = find("HZ").unwrap();
        c.set(i, c.parse(i, &["1000"]).unwrap());
        assert_eq!(c.hz, 500);
        assert_eq!(c.format(i), "1000");
        let i = find("maxmemory").unwrap();
        assert_eq!(c.parse(i, &["abc"]).unwrap_err(), "argument must be a memory value");
        let i = find("timeout").unwrap();
        assert_eq!(c.parse(i, &["1k"]).unwrap_err(), "argument couldn't be parsed into an integer");
        assert_eq!(c.parse(find("protected-mode").unwrap(), &["1"]).unwrap_err(), "argument must be 'yes' or 'no'");
        assert_eq!(
            c.parse(find("port").unwrap(), &["70000"]).unwrap_err(),
            "argument must be between 0 and 65535 inclusive"
        );
        assert!(c
            .parse(find("loglevel").unwrap(), &["nope"])
            .unwrap_err()
            .starts_with("argument(s) must be one of the following: debug"));
        let i = find("client-output-buffer-limit").unwrap();
        c.set(i, c.parse(i, &["pubsub", "1mb", "0", "0"]).unwrap());
        assert_eq!(c.obuf_limits[2].hard, 1 << 20);
        assert_eq!(c.obuf_limits[1].hard, 268435456);
        assert_eq!(
            c.parse(i, &["master", "1", "1", "1"]).unwrap_err(),
            "Invalid client class specified in buffer limit configuration."
        );
    }

    #[test]
    fn get_patterns() {
        let c = Config::new();
        let got = c.get_matching(&[b"MAXMEMORY", b"maxmemory*"]);
        assert_eq!(got[0], ("MAXMEMORY".to_string(), "0".to_string()));
        assert!(got.iter().any(|(n, _)| n == "maxmemory-policy"));
        let got = c.get_matching(&[b"lua-*"]);
        assert_eq!(got, vec![("lua-time-limit".to_string(), "5000".to_string())]);
    }
}
