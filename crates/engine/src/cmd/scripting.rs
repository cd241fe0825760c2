//! Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT, and the
//! Redis 7 functions: FCALL FCALL_RO FUNCTION.

use crate::command::{CommandSpec, KeySpec};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::script::{self, functions};

const RW_KEYS: &[KeySpec] = &[KeySpec::counted("RW access update", 2)
    .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const RO_KEYS: &[KeySpec] = &[KeySpec::counted("RO access", 2)
    .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const SHA_RW_KEYS: &[KeySpec] = &[KeySpec::counted("RW access update", 2)];
const SHA_RO_KEYS: &[KeySpec] = &[KeySpec::counted("RO access", 2)];

/// The scripting family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, eval)
        .flags("noscript stale skip_monitor may_replicate no_mandatory_keys script_flags")
        .acl("slow scripting")
        .keys(RW_KEYS),
    CommandSpec::new("evalsha", -3, evalsha)
        .flags("noscript stale skip_monitor may_replicate no_mandatory_keys script_flags")
        .acl("slow scripting")
        .keys(SHA_RW_KEYS),
    CommandSpec::new("eval_ro", -3, eval_ro)
        .flags("readonly noscript stale skip_monitor no_mandatory_keys script_flags")
        .acl("slow scripting")
        .keys(RO_KEYS),
    CommandSpec::new("evalsha_ro", -3, evalsha_ro)
        .flags("readonly noscript stale skip_monitor no_mandatory_keys script_flags")
        .acl("slow scripting")
        .keys(SHA_RO_KEYS),
    CommandSpec::new("fcall", -3, fcall)
        .flags("noscript stale skip_monitor may_replicate no_mandatory_keys script_flags")
        .acl("slow scripting")
        .keys(RW_KEYS),
    CommandSpec::new("fcall_ro", -3, fcall_ro)
        .flags("readonly noscript stale skip_monitor no_mandatory_keys script_flags")
        .acl("slow scripting")
        .keys(RO_KEYS),
    CommandSpec::container("function", -2, FUNCTION_SUBS).acl("slow"),
    CommandSpec::container("script", -2, SCRIPT_SUBS).acl("slow"),
];

static SCRIPT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("exists", -3, script_exists)
        .flags("noscript")
        .acl("slow scripting")
        .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]),
    CommandSpec::new("help", 2, script_help).flags("loading stale").acl("slow scripting"),
    CommandSpec::new("flush", -2, script_flush)
        .flags("noscript")
        .acl("slow scripting")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("load", 3, script_load)
        .flags("noscript stale")
        .acl("slow scripting")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("kill", 2, script_kill)
        .flags("noscript allow_busy")
        .acl("slow scripting")
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
];

const ALL_SHARDS: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

static FUNCTION_SUBS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, function_delete).flags("noscript write").acl("write slow scripting").tips(ALL_SHARDS),
    CommandSpec::new("dump", 2, function_dump).flags("noscript").acl("slow scripting"),
    CommandSpec::new("flush", -2, function_flush).flags("noscript write").acl("write slow scripting").tips(ALL_SHARDS),
    CommandSpec::new("help", 2, function_help).flags("loading stale").acl("slow scripting"),
    CommandSpec::new("kill", 2, script_kill)
        .flags("noscript allow_busy")
        .acl("slow scripting")
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new("list", -2, function_list)
        .flags("noscript")
        .acl("slow scripting")
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("load", -3, function_load)
        .flags("noscript write denyoom")
        .acl("write slow scripting")
        .tips(ALL_SHARDS),
    CommandSpec::new("restore", -3, function_restore)
        .flags("noscript write denyoom")
        .acl("write slow scripting")
        .tips(ALL_SHARDS),
    CommandSpec::new("stats", 2, function_stats).flags("noscript allow_busy").acl("slow scripting").tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
];

/// FCALL function numkeys [key ...] [arg ...]
fn fcall(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::fcall(ctx, argv, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...]
fn fcall_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::fcall(ctx, argv, true)
}

/// FUNCTION DELETE library-name
fn function_delete(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if !functions::delete(ctx.st, argv[2]) {
        return Err(CmdError::err("Library not found"));
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION DUMP
fn function_dump(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let payload = functions::dump(ctx.st);
    ctx.out.bulk(&payload);
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn function_flush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(super::subcommand_syntax(argv));
    }
    if let Some(m) = argv.get(2) {
        if !m.eq_ignore_ascii_case(b"sync") && !m.eq_ignore_ascii_case(b"async") {
            return Err(CmdError::err("FUNCTION FLUSH only supports SYNC|ASYNC option"));
        }
    }
    ctx.st.functions.flush();
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn function_list(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (mut with_code, mut pattern): (bool, Option<&[u8]>) = (false, None);
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i + 1 >= argv.len() {
                return Err(CmdError::err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(argv[i]);
        } else {
            return Err(CmdError::err(format_args!("Unknown argument {}", String::from_utf8_lossy(a))));
        }
        i += 1;
    }
    let libs: Vec<_> = ctx
        .st
        .functions
        .libraries()
        .filter(|l| pattern.is_none_or(|p| crate::glob::glob_match_nocase(p, l.name.as_bytes())))
        .collect();
    let out = &mut *ctx.out;
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.funcs.len());
        for (name, f) in &lib.funcs {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"description");
            match &f.desc {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = functions::flag_names(f.flags).collect();
            out.set(names.len());
            for n in names {
                out.simple(n.as_bytes());
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION LOAD [REPLACE] function-code
fn function_load(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut replace = false;
    for a in &argv[2..argv.len() - 1] {
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(CmdError::err(format_args!("Unknown option given: {}", String::from_utf8_lossy(a))));
        }
    }
    let name = functions::load(ctx.st, argv[argv.len() - 1], replace).map_err(CmdError::err)?;
    ctx.dirty += 1;
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
fn function_restore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 4 {
        return Err(super::subcommand_syntax(argv));
    }
    let policy = match argv.get(3) {
        None => functions::Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"append") => functions::Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => functions::Policy::Replace,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => functions::Policy::Flush,
        Some(_) => {
            return Err(CmdError::err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."))
        }
    };
    functions::restore(ctx.st, argv[2], policy).map_err(CmdError::err)?;
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION STATS. Nothing is ever running when it reaches the engine.
fn function_stats(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let (libs, funcs) = ctx.st.functions.counts();
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    out.null();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs as i64);
    out.bulk(b"functions_count");
    out.int(funcs as i64);
    Ok(())
}

/// FUNCTION HELP
fn function_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    super::keys::help_reply(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    )
}

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
