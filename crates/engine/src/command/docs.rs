//! Command documentation as COMMAND DOCS serves it: what redis-cli builds
//! its `help` and typing hints from. The data ([`DOCS`]) is generated from
//! Redis's own command descriptions, so the replies match field for field.

use ferrokv_resp::Out;

pub use super::docs_data::DOCS;

/// Argument flags (Redis's CMD_ARG_*).
pub mod arg {
    /// May be left out.
    pub const OPTIONAL: u8 = 1;
    /// May be repeated.
    pub const MULTIPLE: u8 = 2;
    /// Repeated together with its token.
    pub const MULTIPLE_TOKEN: u8 = 4;
}

/// One argument, and for `oneof` and `block` the arguments inside it.
#[derive(Debug)]
pub struct ArgDoc {
    /// Name, lower case.
    pub name: &'static str,
    /// Type: string, integer, double, key, pattern, unix-time, pure-token,
    /// oneof or block.
    pub kind: &'static str,
    /// Index into the command's key specs, or -1.
    pub key_spec_index: i32,
    /// The literal word that introduces it.
    pub token: Option<&'static str>,
    /// One-line description.
    pub summary: Option<&'static str>,
    /// Version that added it.
    pub since: Option<&'static str>,
    /// Version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// [`arg`] flags.
    pub flags: u8,
    /// Nested arguments.
    pub args: &'static [ArgDoc],
}

impl ArgDoc {
    /// An argument with only a name and a type.
    pub const fn new(name: &'static str, kind: &'static str) -> ArgDoc {
        ArgDoc {
            name,
            kind,
            key_spec_index: -1,
            token: None,
            summary: None,
            since: None,
            deprecated_since: None,
            flags: 0,
            args: &[],
        }
    }

    /// Sets the key spec index.
    pub const fn key_spec(mut self, i: i32) -> Self {
        self.key_spec_index = i;
        self
    }

    /// Sets the token.
    pub const fn token(mut self, t: &'static str) -> Self {
        self.token = Some(t);
        self
    }

    /// Sets the summary.
    pub const fn summary(mut self, s: &'static str) -> Self {
        self.summary = Some(s);
        self
    }

    /// Sets the version that added it.
    pub const fn since(mut self, v: &'static str) -> Self {
        self.since = Some(v);
        self
    }

    /// Sets the version that deprecated it.
    pub const fn deprecated_since(mut self, v: &'static str) -> Self {
        self.deprecated_since = Some(v);
        self
    }

    /// Sets the flags.
    pub const fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }

    /// Sets the nested arguments.
    pub const fn args(mut self, a: &'static [ArgDoc]) -> Self {
        self.args = a;
        self
    }
}

/// One command's (or subcommand's) documentation.
#[derive(Debug)]
pub struct CommandDoc {
    /// `name`, or `container|name` for a subcommand.
    pub fullname: &'static str,
    /// One-line description.
    pub summary: &'static str,
    /// Version that added it.
    pub since: &'static str,
    /// Group (string, list, server, ...).
    pub group: &'static str,
    /// Time complexity.
    pub complexity: Option<&'static str>,
    /// `deprecated`, `syscmd`.
    pub doc_flags: &'static [&'static str],
    /// Version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// What to use instead.
    pub replaced_by: Option<&'static str>,
    /// (version, change) pairs.
    pub history: &'static [(&'static str, &'static str)],
    /// The arguments.
    pub args: &'static [ArgDoc],
}

impl CommandDoc {
    /// A command with the fields every command has.
    pub const fn new(
        fullname: &'static str,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
    ) -> CommandDoc {
        CommandDoc {
            fullname,
            summary,
            since,
            group,
            complexity: None,
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            args: &[],
        }
    }

    /// Sets the complexity.
    pub const fn complexity(mut self, c: &'static str) -> Self {
        self.complexity = Some(c);
        self
    }

    /// Sets the doc flags.
    pub const fn doc_flags(mut self, f: &'static [&'static str]) -> Self {
        self.doc_flags = f;
        self
    }

    /// Sets the version that deprecated it.
    pub const fn deprecated_since(mut self, v: &'static str) -> Self {
        self.deprecated_since = Some(v);
        self
    }

    /// Sets its replacement.
    pub const fn replaced_by(mut self, r: &'static str) -> Self {
        self.replaced_by = Some(r);
        self
    }

    /// Sets the history.
    pub const fn history(mut self, h: &'static [(&'static str, &'static str)]) -> Self {
        self.history = h;
        self
    }

    /// Sets the arguments.
    pub const fn args(mut self, a: &'static [ArgDoc]) -> Self {
        self.args = a;
        self
    }
}

/// The documentation of `fullname` (`get`, `client|kill`).
pub fn find(fullname: &str) -> Option<&'static CommandDoc> {
    DOCS.binary_search_by(|d| d.fullname.cmp(fullname)).ok().map(|i| &DOCS[i])
}

/// Writes `d`'s fields as Redis's addReplyCommandDocs does, in its order,
/// leaving room for `extra` more map entries (the subcommands) after them.
pub fn write(out: &mut Out, d: &CommandDoc, extra: usize) {
    let n = 3
        + d.complexity.is_some() as usize
        + !d.doc_flags.is_empty() as usize
        + d.deprecated_since.is_some() as usize
        + d.replaced_by.is_some() as usize
        + !d.history.is_empty() as usize
        + !d.args.is_empty() as usize
        + extra;
    out.map(n);
    out.bulk(b"summary");
    out.bulk(d.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(d.since.as_bytes());
    out.bulk(b"group");
    out.bulk(d.group.as_bytes());
    if let Some(c) = d.complexity {
        out.bulk(b"complexity");
        out.bulk(c.as_bytes());
    }
    if !d.doc_flags.is_empty() {
        out.bulk(b"doc_flags");
        out.set(d.doc_flags.len());
        for f in d.doc_flags {
            out.simple(f.as_bytes());
        }
    }
    if let Some(v) = d.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(v.as_bytes());
    }
    if let Some(r) = d.replaced_by {
        out.bulk(b"replaced_by");
        out.bulk(r.as_bytes());
    }
    if !d.history.is_empty() {
        out.bulk(b"history");
        out.set(d.history.len());
        for (version, change) in d.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if !d.args.is_empty() {
        out.bulk(b"arguments");
        write_args(out, d.args);
    }
}

fn write_args(out: &mut Out, args: &[ArgDoc]) {
    out.array(args.len());
    for a in args {
        let nested = matches!(a.kind, "oneof" | "block");
        let n = 2
            + (a.key_spec_index != -1) as usize
            + a.token.is_some() as usize
            + a.summary.is_some() as usize
            + a.since.is_some() as usize
            + a.deprecated_since.is_some() as usize
            + (a.flags != 0) as usize
            + nested as usize;
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.as_bytes());
        if a.key_spec_index != -1 {
            out.bulk(b"key_spec_index");
            out.int(a.key_spec_index as i64);
        }
        let optional =
            [("token", a.token), ("summary", a.summary), ("since", a.since), ("deprecated_since", a.deprecated_since)];
        for (field, value) in optional {
            if let Some(v) = value {
                out.bulk(field.as_bytes());
                out.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            out.bulk(b"flags");
            let names =
                [(arg::OPTIONAL, "optional"), (arg::MULTIPLE, "multiple"), (arg::MULTIPLE_TOKEN, "multiple_token")];
            out.set(names.iter().filter(|(f, _)| a.flags & f != 0).count());
            for (f, name) in names {
                if a.flags & f != 0 {
                    out.simple(name.as_bytes());
                }
            }
        }
        if nested {
            out.bulk(b"arguments");
            write_args(out, a.args);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_found() {
        assert!(DOCS.windows(2).all(|w| w[0].fullname < w[1].fullname));
        let set = find("set").expect("SET is documented");
        assert_eq!(set.group, "string");
        assert_eq!(set.args[2].name, "condition");
        assert_eq!(set.args[2].args[0].token, Some("NX"));
        assert!(find("client|kill").is_some());
        assert!(find("nosuch").is_none());
    }
}
