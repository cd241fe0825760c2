//! The shape of a command's description.
//!
//! A [`CommandSpec`] is plain data written next to its handler. Flags and
//! ACL categories are spelled exactly as `COMMAND INFO` prints them, so the
//! table reads like Redis's and can be compared with a live redis-server; the
//! [`super::table`] parses them once into bit sets at start-up.

use crate::ctx::Ctx;
use crate::error::CmdResult;

/// A command implementation: arguments include the command name (and the
/// subcommand name for subcommands). It writes its reply to `ctx.out` or
/// returns an error for the dispatcher to write.
pub type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> CmdResult;

/// Where the key search starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After the last (or first, when `start` is positive) occurrence of a
    /// keyword, searching from `start`.
    Keyword {
        /// The keyword, upper case.
        word: &'static str,
        /// Where to start looking; negative counts from the end.
        start: i32,
    },
    /// Not expressible (SORT's BY/GET/STORE keys): the command's own key
    /// extraction, if any, finds them.
    Unknown,
}

/// How keys are found once the search has begun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from the start up to `last` (relative; negative counts from the
    /// end), every `step`; `limit` > 1 restricts to a fraction of the rest.
    Range {
        /// Last key, relative to the first; -1 = the last argument.
        last: i32,
        /// Distance between keys.
        step: i32,
        /// 0 or 1 for no limit; else keys up to 1/limit of the remainder.
        limit: i32,
    },
    /// A count at `num_idx` (relative), then keys from `first` every `step`.
    KeyNum {
        /// Index of the key count, relative to the start.
        num_idx: i32,
        /// Index of the first key, relative to the start.
        first: i32,
        /// Distance between keys.
        step: i32,
    },
    /// Not expressible (see [`BeginSearch::Unknown`]).
    Unknown,
}

/// A command's own key extraction, for key positions no key spec can
/// describe (Redis's `getkeys_proc`): pushes `(argument index, key spec
/// index)` pairs.
pub type GetKeys = fn(&[&[u8]], &mut Vec<(usize, usize)>);

/// One key specification (Redis 7 "key spec").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Key flags as COMMAND INFO prints them, space separated (`RW access update`).
    pub flags: &'static str,
    /// Where the search begins.
    pub begin: BeginSearch,
    /// How keys are found.
    pub find: FindKeys,
    /// Free-text notes shown by COMMAND INFO.
    pub notes: Option<&'static str>,
}

impl KeySpec {
    /// Keys from index `first` to relative `last`, every `step`.
    pub const fn range(flags: &'static str, first: i32, last: i32, step: i32) -> KeySpec {
        KeySpec { flags, begin: BeginSearch::Index(first), find: FindKeys::Range { last, step, limit: 0 }, notes: None }
    }

    /// The single key at `index`.
    pub const fn at(flags: &'static str, index: i32) -> KeySpec {
        Self::range(flags, index, 0, 1)
    }

    /// Keys preceded by their count, which stands at `index` (`numkeys`).
    pub const fn counted(flags: &'static str, index: i32) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::KeyNum { num_idx: 0, first: 1, step: 1 },
            notes: None,
        }
    }

    /// Adds COMMAND INFO notes.
    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = Some(notes);
        self
    }
}

/// A command (or subcommand) description.
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    /// Lower-case name (`get`, or `encoding` for OBJECT ENCODING).
    pub name: &'static str,
    /// n > 0: exactly n arguments with the name; n < 0: at least -n.
    pub arity: i32,
    /// Command flags as COMMAND INFO prints them (`write denyoom fast`).
    pub flags: &'static str,
    /// ACL categories without the `@` (`write string fast`).
    pub acl: &'static str,
    /// Key specifications.
    pub keys: &'static [KeySpec],
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`).
    pub tips: &'static [&'static str],
    /// The implementation; `None` for a container of subcommands.
    pub handler: Option<Handler>,
    /// Subcommands of a container (CONFIG GET, CLIENT LIST, ...).
    pub subcommands: &'static [CommandSpec],
    /// Custom key extraction, when the key specs cannot find every key.
    pub getkeys: Option<GetKeys>,
}

impl CommandSpec {
    /// A command with its handler; the rest defaults to empty.
    pub const fn new(name: &'static str, arity: i32, handler: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags: "",
            acl: "",
            keys: &[],
            tips: &[],
            handler: Some(handler),
            subcommands: &[],
            getkeys: None,
        }
    }

    /// A container whose behaviour is all in its subcommands.
    pub const fn container(name: &'static str, arity: i32, subcommands: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec { name, arity, flags: "", acl: "", keys: &[], tips: &[], handler: None, subcommands, getkeys: None }
    }

    /// Gives a container a handler of its own, for when it is called with no
    /// subcommand (COMMAND).
    pub const fn handler(mut self, handler: Handler) -> Self {
        self.handler = Some(handler);
        self
    }

    /// Sets a custom key extraction.
    pub const fn getkeys(mut self, f: GetKeys) -> Self {
        self.getkeys = Some(f);
        self
    }

    /// Sets the command flags.
    pub const fn flags(mut self, flags: &'static str) -> Self {
        self.flags = flags;
        self
    }

    /// Sets the ACL categories.
    pub const fn acl(mut self, acl: &'static str) -> Self {
        self.acl = acl;
        self
    }

    /// Sets the key specs.
    pub const fn keys(mut self, keys: &'static [KeySpec]) -> Self {
        self.keys = keys;
        self
    }

    /// Sets the command tips.
    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }
}
