//! COMMAND: the command table as clients read it (redis-cli hints, cluster
//! clients' key extraction, redis-py).

use crate::cmd::keys::help_reply;
use crate::command::args::is;
use crate::command::keys::key_refs;
use crate::command::spec::{BeginSearch, FindKeys};
use crate::command::table::{flag, ACL_CATEGORIES};
use crate::command::{Command, CommandSpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::glob::glob_match_nocase;
use crate::table;
use ferrokv_resp::encode::Aggregate;
use ferrokv_resp::Out;

/// The introspection family.
pub static SPECS: &[CommandSpec] = &[CommandSpec::container("command", -1, COMMAND_SUBS)
    .handler(command)
    .flags("loading stale")
    .acl("slow connection")
    .tips(&["nondeterministic_output_order"])];

static COMMAND_SUBS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, command_count).flags("loading stale").acl("slow connection"),
    CommandSpec::new("info", -2, command_info)
        .flags("loading stale")
        .acl("slow connection")
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("docs", -2, command_docs)
        .flags("loading stale")
        .acl("slow connection")
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("getkeys", -4, command_getkeys).flags("loading stale").acl("slow connection"),
    CommandSpec::new("getkeysandflags", -4, command_getkeysandflags).flags("loading stale").acl("slow connection"),
    CommandSpec::new("list", -2, command_list)
        .flags("loading stale")
        .acl("slow connection")
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("help", 2, command_help).flags("loading stale").acl("slow connection"),
];

/// A set of simple strings (flags and categories are sets in RESP3).
fn simple_set(out: &mut Out, items: &[String]) {
    out.set(items.len());
    for i in items {
        out.simple(i.as_bytes());
    }
}

fn flag_names(c: &Command) -> Vec<String> {
    flag::NAMES.iter().filter(|(bit, _, shown)| *shown && c.flags & bit != 0).map(|(_, n, _)| n.to_string()).collect()
}

fn acl_names(c: &Command) -> Vec<String> {
    ACL_CATEGORIES.iter().enumerate().filter(|(i, _)| c.acl & (1 << i) != 0).map(|(_, n)| format!("@{n}")).collect()
}

fn key_spec(out: &mut Out, k: &crate::command::KeySpec) {
    out.map(3 + k.notes.is_some() as usize);
    if let Some(n) = k.notes {
        out.bulk(b"notes");
        out.bulk(n.as_bytes());
    }
    out.bulk(b"flags");
    let flags: Vec<String> = k.flags.split_whitespace().map(str::to_string).collect();
    simple_set(out, &flags);
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match k.begin {
        BeginSearch::Index(i) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i as i64);
        }
        BeginSearch::Keyword { word, start } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(word.as_bytes());
            out.bulk(b"startfrom");
            out.int(start as i64);
        }
        BeginSearch::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match k.find {
        FindKeys::Range { last, step, limit } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"lastkey");
            out.int(last as i64);
            out.bulk(b"keystep");
            out.int(step as i64);
            out.bulk(b"limit");
            out.int(limit as i64);
        }
        FindKeys::KeyNum { num_idx, first, step } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"keynumidx");
            out.int(num_idx as i64);
            out.bulk(b"firstkey");
            out.int(first as i64);
            out.bulk(b"keystep");
            out.int(step as i64);
        }
        FindKeys::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
}

/// One COMMAND INFO entry (Redis's `addReplyCommandInfo`).
fn command_entry(out: &mut Out, c: &Command) {
    out.array(10);
    out.bulk(c.fullname.as_bytes());
    out.int(c.spec.arity as i64);
    simple_set(out, &flag_names(c));
    out.int(c.legacy.0 as i64);
    out.int(c.legacy.1 as i64);
    out.int(c.legacy.2 as i64);
    simple_set(out, &acl_names(c));
    out.set(c.spec.tips.len());
    for t in c.spec.tips {
        out.bulk(t.as_bytes());
    }
    out.set(c.spec.keys.len());
    for k in c.spec.keys {
        key_spec(out, k);
    }
    if c.subs.is_empty() {
        out.set(0);
    } else {
        out.array(c.subs.len());
        for s in &c.subs {
            command_entry(out, s);
        }
    }
}

/// Looks up `name` or `container|sub`.
fn lookup_full(name: &[u8]) -> Option<&'static Command> {
    match name.iter().position(|&c| c == b'|') {
        Some(i) => table().get(&name[..i])?.sub(&name[i + 1..]),
        None => table().get(name),
    }
}

/// COMMAND (no subcommand): every command.
fn command(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    command_all(ctx)
}

fn command_all(ctx: &mut Ctx<'_>) -> CmdResult {
    let cmds = table().commands();
    ctx.out.array(cmds.len());
    for c in cmds {
        command_entry(ctx.out, c);
    }
    Ok(())
}

/// COMMAND COUNT
fn command_count(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(table().commands().len() as i64);
    Ok(())
}

/// COMMAND INFO [command-name ...]
fn command_info(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() == 2 {
        return command_all(ctx);
    }
    ctx.out.array(argv.len() - 2);
    for name in &argv[2..] {
        match lookup_full(name) {
            Some(c) => command_entry(ctx.out, c),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn doc_entry(out: &mut Out, c: &Command) {
    let d = crate::command::docs::find(&c.fullname).expect("every command is documented (a test checks)");
    crate::command::docs::write(out, d, !c.subs.is_empty() as usize);
    if !c.subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(c.subs.len());
        for s in &c.subs {
            out.bulk(s.fullname.as_bytes());
            doc_entry(out, s);
        }
    }
}

/// COMMAND DOCS [command-name ...]
fn command_docs(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let found: Vec<&Command> = if argv.len() == 2 {
        table().commands().iter().collect()
    } else {
        argv[2..].iter().filter_map(|n| lookup_full(n)).collect()
    };
    ctx.out.map(found.len());
    for c in found {
        ctx.out.bulk(c.fullname.as_bytes());
        doc_entry(ctx.out, c);
    }
    Ok(())
}

/// Shared part of GETKEYS and GETKEYSANDFLAGS.
fn getkeys(ctx: &mut Ctx<'_>, argv: &[&[u8]], with_flags: bool) -> CmdResult {
    let target = &argv[2..];
    let mut cmd = table().get(target[0]).ok_or(CmdError::fixed("ERR Invalid command specified"))?;
    if !cmd.subs.is_empty() && target.len() >= 2 {
        cmd = cmd.sub(target[1]).ok_or(CmdError::fixed("ERR Invalid command specified"))?;
    }
    if cmd.spec.keys.is_empty() {
        return Err(CmdError::fixed("ERR The command has no key arguments"));
    }
    if !cmd.arity_ok(target.len()) {
        return Err(CmdError::fixed("ERR Invalid number of arguments specified for command"));
    }
    let mut refs = Vec::new();
    if key_refs(cmd, target, &mut refs).is_err() || refs.is_empty() {
        if cmd.has(flag::NO_MANDATORY_KEYS) {
            ctx.out.array(0);
            return Ok(());
        }
        return Err(CmdError::fixed("ERR Invalid arguments specified for command"));
    }
    ctx.out.array(refs.len());
    for (pos, spec) in refs {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(target[pos]);
            let flags: Vec<String> = cmd.spec.keys[spec].flags.split_whitespace().map(str::to_string).collect();
            simple_set(ctx.out, &flags);
        } else {
            ctx.out.bulk(target[pos]);
        }
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getkeys(ctx, argv, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn command_getkeysandflags(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    getkeys(ctx, argv, true)
}

/// COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]
fn command_list(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    enum Filter<'a> {
        All,
        Module,
        Cat(Option<usize>),
        Pattern(&'a [u8]),
    }
    let filter = match argv.len() {
        2 => Filter::All,
        5 if is(argv[2], "filterby") => {
            if is(argv[3], "module") {
                Filter::Module
            } else if is(argv[3], "aclcat") {
                Filter::Cat(ACL_CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(argv[4])))
            } else if is(argv[3], "pattern") {
                Filter::Pattern(argv[4])
            } else {
                return Err(SYNTAX);
            }
        }
        _ => return Err(SYNTAX),
    };
    let names: Vec<&str> = table()
        .all()
        .filter(|c| match &filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::Cat(cat) => cat.is_some_and(|i| c.acl & (1 << i) != 0),
            Filter::Pattern(p) => glob_match_nocase(p, c.fullname.as_bytes()),
        })
        .map(|c| c.fullname.as_str())
        .collect();
    let d = ctx.out.defer();
    for n in &names {
        ctx.out.bulk(n.as_bytes());
    }
    ctx.out.fill(d, Aggregate::Array, names.len());
    Ok(())
}

/// COMMAND HELP
fn command_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}
