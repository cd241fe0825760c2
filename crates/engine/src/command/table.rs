//! The command registry, built once from every family's `SPECS`.
//!
//! The same table gives the dispatcher its arity check and flags, COMMAND
//! its replies, and the router and WATCH their key positions.

use std::collections::HashMap;

use super::spec::{BeginSearch, CommandSpec, FindKeys};

/// Command flags, in the order COMMAND INFO prints them.
pub mod flag {
    /// `write`
    pub const WRITE: u64 = 1 << 0;
    /// `readonly`
    pub const READONLY: u64 = 1 << 1;
    /// `denyoom`
    pub const DENYOOM: u64 = 1 << 2;
    /// `module`
    pub const MODULE: u64 = 1 << 3;
    /// `admin`
    pub const ADMIN: u64 = 1 << 4;
    /// `pubsub`
    pub const PUBSUB: u64 = 1 << 5;
    /// `noscript`
    pub const NOSCRIPT: u64 = 1 << 6;
    /// `blocking`
    pub const BLOCKING: u64 = 1 << 7;
    /// `loading`
    pub const LOADING: u64 = 1 << 8;
    /// `stale`
    pub const STALE: u64 = 1 << 9;
    /// `skip_monitor`
    pub const SKIP_MONITOR: u64 = 1 << 10;
    /// `skip_slowlog`
    pub const SKIP_SLOWLOG: u64 = 1 << 11;
    /// `asking`
    pub const ASKING: u64 = 1 << 12;
    /// `fast`
    pub const FAST: u64 = 1 << 13;
    /// `no_auth`
    pub const NO_AUTH: u64 = 1 << 14;
    /// `no_mandatory_keys`
    pub const NO_MANDATORY_KEYS: u64 = 1 << 15;
    /// `no_async_loading`
    pub const NO_ASYNC_LOADING: u64 = 1 << 16;
    /// `no_multi`
    pub const NO_MULTI: u64 = 1 << 17;
    /// `movablekeys` (derived from the key specs, never written by hand)
    pub const MOVABLE_KEYS: u64 = 1 << 18;
    /// `allow_busy`
    pub const ALLOW_BUSY: u64 = 1 << 19;
    /// `may_replicate` (not shown by COMMAND, as in Redis)
    pub const MAY_REPLICATE: u64 = 1 << 20;
    /// `protected` (not shown by COMMAND, as in Redis)
    pub const PROTECTED: u64 = 1 << 21;
    /// A script runner whose script's flags replace its own in the gates
    /// (Redis's `getCommandFlags` for EVAL and FCALL; not shown)
    pub const SCRIPT_FLAGS: u64 = 1 << 22;

    /// Names by bit, in COMMAND's order; `true` when COMMAND shows the flag.
    pub const NAMES: &[(u64, &str, bool)] = &[
        (WRITE, "write", true),
        (READONLY, "readonly", true),
        (DENYOOM, "denyoom", true),
        (MODULE, "module", true),
        (ADMIN, "admin", true),
        (PUBSUB, "pubsub", true),
        (NOSCRIPT, "noscript", true),
        (BLOCKING, "blocking", true),
        (LOADING, "loading", true),
        (STALE, "stale", true),
        (SKIP_MONITOR, "skip_monitor", true),
        (SKIP_SLOWLOG, "skip_slowlog", true),
        (ASKING, "asking", true),
        (FAST, "fast", true),
        (NO_AUTH, "no_auth", true),
        (NO_MANDATORY_KEYS, "no_mandatory_keys", true),
        (NO_ASYNC_LOADING, "no_async_loading", true),
        (NO_MULTI, "no_multi", true),
        (MOVABLE_KEYS, "movablekeys", true),
        (ALLOW_BUSY, "allow_busy", true),
        (MAY_REPLICATE, "may_replicate", false),
        (PROTECTED, "protected", false),
        (SCRIPT_FLAGS, "script_flags", false),
    ];
}

/// ACL categories, in the order Redis lists them.
pub const ACL_CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Key spec flags, in the order COMMAND INFO prints them.
pub const KEY_FLAGS: &[&str] =
    &["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags"];

/// A command as the dispatcher sees it: its spec plus what is derived from it.
#[derive(Debug)]
pub struct Command {
    /// The static description.
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub fullname: String,
    /// Index into per-command statistics.
    pub id: usize,
    /// Parsed [`flag`] bits.
    pub flags: u64,
    /// Parsed ACL category bits (index in [`ACL_CATEGORIES`]).
    pub acl: u64,
    /// Legacy (first key, last key, step) as COMMAND INFO prints them.
    pub legacy: (i32, i32, i32),
    /// Subcommands by lower-case name.
    pub subs: Vec<Command>,
    /// The container, for subcommands.
    pub parent: Option<&'static str>,
}

impl Command {
    /// True when the command has flag `f`.
    #[inline]
    pub fn has(&self, f: u64) -> bool {
        self.flags & f != 0
    }

    /// Finds a subcommand by name, ignoring case.
    pub fn sub(&self, name: &[u8]) -> Option<&Command> {
        self.subs.iter().find(|c| c.spec.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// The arity check of `commandCheckArity`.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.spec.arity;
        (a > 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }
}

/// Every command, by name.
pub struct CommandTable {
    commands: Vec<Command>,
    by_name: HashMap<&'static [u8], usize>,
    count: usize,
}

impl std::fmt::Debug for CommandTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommandTable({} commands)", self.commands.len())
    }
}

fn parse_flags(s: &str, name: &str) -> u64 {
    s.split_whitespace().fold(0, |acc, w| {
        let bit = flag::NAMES.iter().find(|(_, n, _)| *n == w).unwrap_or_else(|| panic!("{name}: unknown flag {w}")).0;
        assert!(bit != flag::MOVABLE_KEYS, "{name}: movablekeys is derived from the key specs");
        acc | bit
    })
}

fn parse_acl(s: &str, name: &str) -> u64 {
    s.split_whitespace().fold(0, |acc, w| {
        let i =
            ACL_CATEGORIES.iter().position(|c| *c == w).unwrap_or_else(|| panic!("{name}: unknown ACL category {w}"));
        acc | 1 << i
    })
}

/// Redis's `populateCommandLegacyRangeSpec`: the (first, last, step) that
/// pre-7 clients read, and whether the keys are "movable".
fn legacy_range(spec: &CommandSpec) -> ((i32, i32, i32), bool) {
    let ks = spec.keys;
    if ks.is_empty() {
        return ((0, 0, 0), false);
    }
    let incomplete = |k: &super::spec::KeySpec| k.flags.split_whitespace().any(|f| f == "incomplete");
    if let [k] = ks {
        if let (BeginSearch::Index(i), FindKeys::Range { last, step, .. }) = (k.begin, k.find) {
            let abs_last = if last >= 0 { i + last } else { last };
            return ((i, abs_last, step), incomplete(k));
        }
    }
    let (mut first, mut last, mut prev_last, mut movable) = (i32::MAX, 0i32, 0i32, false);
    for k in ks {
        let (BeginSearch::Index(pos), FindKeys::Range { last: l, step, .. }) = (k.begin, k.find) else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
            movable = true;
            continue;
        }
        movable |= incomplete(k);
        first = first.min(pos);
        let abs = if l >= 0 { l + pos } else { l };
        // Redis compares as unsigned so that -1 ("to the end") wins.
        if (abs as u32) > (last as u32) {
            last = abs;
        }
        prev_last = last;
    }
    if first == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first, last, 1), movable)
}

impl CommandTable {
    /// Builds the table from families of specs, checking them (unique
    /// lower-case names, handlers where needed, known flags).
    pub fn build(specs: &[&'static [CommandSpec]]) -> CommandTable {
        let mut commands = Vec::new();
        let mut by_name = HashMap::new();
        let mut next_id = 0;
        let make = |spec: &'static CommandSpec, parent: Option<&'static str>, next_id: &mut usize| -> Command {
            let fullname = match parent {
                Some(p) => format!("{p}|{}", spec.name),
                None => spec.name.to_string(),
            };
            assert!(spec.name.bytes().all(|c| !c.is_ascii_uppercase()), "{fullname}: names are lower case");
            let (legacy, movable) = legacy_range(spec);
            for k in spec.keys {
                for f in k.flags.split_whitespace() {
                    assert!(KEY_FLAGS.contains(&f), "{fullname}: unknown key flag {f}");
                }
            }
            let id = *next_id;
            *next_id += 1;
            Command {
                spec,
                flags: parse_flags(spec.flags, &fullname) | if movable { flag::MOVABLE_KEYS } else { 0 },
                acl: parse_acl(spec.acl, &fullname),
                legacy,
                fullname,
                id,
                subs: Vec::new(),
                parent,
            }
        };
        for family in specs {
            for spec in family.iter() {
                let mut c = make(spec, None, &mut next_id);
                assert!(spec.handler.is_some() || !spec.subcommands.is_empty(), "{}: no handler", spec.name);
                assert!(
                    spec.handler.is_none() || spec.subcommands.is_empty() || spec.arity == -1,
                    "{}: a container with a handler must accept a bare call",
                    spec.name
                );
                for sub in spec.subcommands {
                    let s = make(sub, Some(spec.name), &mut next_id);
                    assert!(s.spec.handler.is_some(), "{}: subcommand without handler", s.fullname);
                    c.subs.push(s);
                }
                let prev = by_name.insert(spec.name.as_bytes(), commands.len());
                assert!(prev.is_none(), "duplicate command {}", spec.name);
                commands.push(c);
            }
        }
        CommandTable { commands, by_name, count: next_id }
    }

    /// Looks a command up by name, ignoring case.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        let mut buf = [0u8; 32];
        let lower = buf.get_mut(..name.len())?;
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.by_name.get(&*lower).map(|&i| &self.commands[i])
    }

    /// Top-level commands.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// Number of commands and subcommands (the size of statistics arrays).
    pub fn ids(&self) -> usize {
        self.count
    }

    /// Every command and subcommand, for statistics by id.
    pub fn all(&self) -> impl Iterator<Item = &Command> {
        self.commands.iter().flat_map(|c| std::iter::once(c).chain(c.subs.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    #[test]
    fn table_builds_and_names_are_unique() {
        let t = table();
        assert!(t.get(b"GET").is_some());
        assert!(t.get(b"gEt").is_some());
        assert!(t.get(b"nosuchcommand").is_none());
        assert!(t.get(&[b'a'; 40]).is_none());
        let mut ids: Vec<usize> = t.all().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), t.ids());
    }

    #[test]
    fn every_command_is_documented() {
        for c in table().all() {
            let d = crate::command::docs::find(&c.fullname);
            assert!(d.is_some(), "{} has no COMMAND DOCS entry", c.fullname);
        }
    }

    #[test]
    fn legacy_ranges() {
        let t = table();
        assert_eq!(t.get(b"get").unwrap().legacy, (1, 1, 1));
        assert_eq!(t.get(b"mset").unwrap().legacy, (1, -1, 2));
        assert_eq!(t.get(b"bitop").unwrap().legacy, (2, -1, 1));
        assert_eq!(t.get(b"rename").unwrap().legacy, (1, 2, 1));
        assert_eq!(t.get(b"lcs").unwrap().legacy, (1, 2, 1));
        assert_eq!(t.get(b"ping").unwrap().legacy, (0, 0, 0));
        assert!(!t.get(b"mset").unwrap().has(flag::MOVABLE_KEYS));
    }
}
