//! Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT.

use crate::command::{BeginSearch, CommandSpec, FindKeys, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::script;

const RW_KEYS: &[KeySpec] = &[KeySpec {
    flags: "RW access update",
    begin: BeginSearch::Index(2),
    find: FindKeys::KeyNum { num_idx: 0, first: 1, step: 1 },
    notes: Some("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
}];
const RO_KEYS: &[KeySpec] = &[KeySpec {
    flags: "RO access",
    begin: BeginSearch::Index(2),
    find: FindKeys::KeyNum { num_idx: 0, first: 1, step: 1 },
    notes: Some("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
}];
const SHA_RW_KEYS: &[KeySpec] = &[KeySpec {
    flags: "RW access update",
    begin: BeginSearch::Index(2),
    find: FindKeys::KeyNum { num_idx: 0, first: 1, step: 1 },
    notes: None,
}];
const SHA_RO_KEYS: &[KeySpec] = &[KeySpec {
    flags: "RO access",
    begin: BeginSearch::Index(2),
    find: FindKeys::KeyNum { num_idx: 0, first: 1, step: 1 },
    notes: None,
}];
const COMPLEXITY: &str = "Depends on the script that is executed.";

/// The scripting family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, eval)
        .flags("noscript stale skip_monitor no_mandatory_keys")
        .acl("slow scripting")
        .keys(RW_KEYS)
        .doc("scripting", "2.6.0", "Execute a Lua script server side", COMPLEXITY),
    CommandSpec::new("evalsha", -3, evalsha)
        .flags("noscript stale skip_monitor no_mandatory_keys")
        .acl("slow scripting")
        .keys(SHA_RW_KEYS)
        .doc("scripting", "2.6.0", "Execute a Lua script server side", COMPLEXITY),
    CommandSpec::new("eval_ro", -3, eval_ro)
        .flags("readonly noscript stale skip_monitor no_mandatory_keys")
        .acl("slow scripting")
        .keys(RO_KEYS)
        .doc("scripting", "7.0.0", "Execute a read-only Lua script server side", COMPLEXITY),
    CommandSpec::new("evalsha_ro", -3, evalsha_ro)
        .flags("readonly noscript stale skip_monitor no_mandatory_keys")
        .acl("slow scripting")
        .keys(SHA_RO_KEYS)
        .doc("scripting", "7.0.0", "Execute a read-only Lua script server side", COMPLEXITY),
    CommandSpec::container("script", -2, SCRIPT_SUBS).acl("slow").doc(
        "scripting",
        "2.6.0",
        "A container for Lua scripts management commands",
        "Depends on subcommand.",
    ),
];

static SCRIPT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("exists", -3, script_exists)
        .flags("noscript")
        .acl("slow scripting")
        .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"])
        .doc(
            "scripting",
            "2.6.0",
            "Check existence of scripts in the script cache.",
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        ),
    CommandSpec::new("help", 2, script_help).flags("loading stale").acl("slow scripting").doc(
        "scripting",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
    CommandSpec::new("flush", -2, script_flush)
        .flags("noscript")
        .acl("slow scripting")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "scripting",
            "2.6.0",
            "Remove all the scripts from the script cache.",
            "O(N) with N being the number of scripts in cache",
        ),
    CommandSpec::new("load", 3, script_load)
        .flags("noscript stale")
        .acl("slow scripting")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "scripting",
            "2.6.0",
            "Load the specified Lua script into the script cache.",
            "O(N) with N being the length in bytes of the script body.",
        ),
    CommandSpec::new("kill", 2, script_kill)
        .flags("noscript allow_busy")
        .acl("slow scripting")
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .doc("scripting", "2.6.0", "Kill the script currently in execution.", "O(1)"),
];

/// EVAL script numkeys [key ...] [arg ...]
fn eval(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::eval(ctx, argv, false, false)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
fn evalsha(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::eval(ctx, argv, true, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
fn eval_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::eval(ctx, argv, false, true)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
fn evalsha_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::eval(ctx, argv, true, true)
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn script_exists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ctx.out.array(argv.len() - 2);
    for sha in &argv[2..] {
        let yes = script::exists(ctx.st, sha);
        ctx.out.int(yes as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn script_flush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match argv.get(2) {
        None => {}
        Some(m) if argv.len() == 3 && (m.eq_ignore_ascii_case(b"sync") || m.eq_ignore_ascii_case(b"async")) => {}
        _ => return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
    script::flush(ctx.st);
    ctx.out.ok();
    Ok(())
}

/// SCRIPT LOAD script
fn script_load(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let sha = script::load(ctx.st, argv[2])?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT KILL. A script runs while holding the engine, so a SCRIPT KILL
/// that reaches the dispatcher finds none running.
fn script_kill(_ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    Err(CmdError::fixed("NOTBUSY No scripts in execution right now."))
}

/// SCRIPT HELP
fn script_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    super::keys::help_reply(
        ctx,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    )
}
