//! Server commands: DBSIZE FLUSHDB FLUSHALL SWAPDB TIME LASTSAVE SHUTDOWN
//! CONFIG SLOWLOG MONITOR INFO.

use crate::client;
use crate::cmd::keys::help_reply;
use crate::command::args::{int, is, text};
use crate::command::CommandSpec;
use crate::config::{self, pflag, Value, PARAMS};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::keyspace::Db;
use crate::state::ShutdownMode;

/// The server family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("dbsize", 1, dbsize)
        .flags("readonly fast")
        .acl("keyspace read fast")
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    CommandSpec::new("flushdb", -1, flushdb)
        .flags("write")
        .acl("keyspace write slow dangerous")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("flushall", -1, flushall)
        .flags("write")
        .acl("keyspace write slow dangerous")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("swapdb", 3, swapdb).flags("write fast").acl("keyspace write fast dangerous"),
    CommandSpec::new("time", 1, time).flags("loading stale fast").acl("fast").tips(&["nondeterministic_output"]),
    CommandSpec::new("save", 1, save).flags("admin noscript no_async_loading no_multi").acl("admin slow dangerous"),
    CommandSpec::new("lastsave", 1, lastsave)
        .flags("loading stale fast")
        .acl("admin fast dangerous")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("shutdown", -1, shutdown)
        .flags("admin noscript loading stale no_multi allow_busy")
        .acl("admin slow dangerous"),
    CommandSpec::new("monitor", 1, monitor).flags("admin noscript loading stale").acl("admin slow dangerous"),
    CommandSpec::new("info", -1, info).flags("loading stale").acl("slow dangerous").tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    CommandSpec::container("config", -2, CONFIG_SUBS).acl("slow"),
    CommandSpec::container("slowlog", -2, SLOWLOG_SUBS).acl("slow"),
];

static CONFIG_SUBS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, config_get).flags("admin noscript loading stale").acl("admin slow dangerous"),
    CommandSpec::new("set", -4, config_set)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("resetstat", 2, config_resetstat)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous"),
    CommandSpec::new("rewrite", 2, config_rewrite).flags("admin noscript loading stale").acl("admin slow dangerous"),
    CommandSpec::new("help", 2, config_help).flags("loading stale").acl("slow"),
];

static SLOWLOG_SUBS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, slowlog_get)
        .flags("admin loading stale")
        .acl("admin slow dangerous")
        .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    CommandSpec::new("len", 2, slowlog_len).flags("admin loading stale").acl("admin slow dangerous").tips(&[
        "request_policy:all_nodes",
        "response_policy:agg_sum",
        "nondeterministic_output",
    ]),
    CommandSpec::new("reset", 2, slowlog_reset)
        .flags("admin loading stale")
        .acl("admin slow dangerous")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("help", 2, slowlog_help).flags("loading stale").acl("slow"),
];

/// DBSIZE
fn dbsize(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// `[ASYNC|SYNC]` of the FLUSH commands; true means asynchronous.
fn flush_mode(ctx: &Ctx<'_>, argv: &[&[u8]]) -> Result<bool, CmdError> {
    match argv.len() {
        1 => Ok(ctx.st.cfg.lazy_user_flush),
        2 if is(argv[1], "sync") => Ok(false),
        2 if is(argv[1], "async") => Ok(true),
        _ => Err(SYNTAX),
    }
}

/// Empties database `i`, freeing the old contents in the background when
/// `lazy`.
fn empty_db(ctx: &mut Ctx<'_>, i: usize, lazy: bool) -> usize {
    // WATCHes of keys the flush removes fail their EXEC.
    let st = &mut *ctx.st;
    let dbs = &st.dbs;
    st.watches.touch_all_in(i, |k| (dbs[i].peek(k).is_some(), false, false));
    ctx.signal_none();
    let n = ctx.st.dbs[i].len();
    if lazy && n > 0 {
        let old: Db = ctx.st.dbs[i].take();
        ctx.st.free_later(Box::new(old), n as u64);
    } else {
        ctx.st.dbs[i].clear();
    }
    n
}

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(ctx, argv)?;
    let db = ctx.client.db;
    let n = empty_db(ctx, db, lazy);
    // Cached keys are not per database: every tracking client drops all.
    crate::tracking::flush(ctx.st);
    ctx.changed(n as u64);
    // Propagated even when the database was already empty.
    ctx.propagate(argv.iter().map(|a| a.to_vec()).collect());
    ctx.out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]
fn flushall(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(ctx, argv)?;
    let mut n = 0;
    for i in 0..ctx.st.dbs.len() {
        n += empty_db(ctx, i, lazy);
    }
    crate::tracking::flush(ctx.st);
    ctx.changed(n as u64 + 1);
    ctx.out.ok();
    Ok(())
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let parse = |a: &[u8], msg: &'static str| -> Result<i64, CmdError> {
        match ferrokv_resp::num::parse_i64(a) {
            Some(v) if v >= i32::MIN as i64 && v <= i32::MAX as i64 => Ok(v),
            _ => Err(CmdError::fixed(msg)),
        }
    };
    let a = parse(argv[1], "ERR invalid first DB index")?;
    let b = parse(argv[2], "ERR invalid second DB index")?;
    let n = ctx.st.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(crate::error::DB_RANGE);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        // A watched key present on either side changes.
        let now = ctx.now_ms;
        let st = &mut *ctx.st;
        let dbs = &st.dbs;
        for (x, y) in [(a, b), (b, a)] {
            st.watches.touch_all_in(x, |k| {
                let after = dbs[y].peek(k);
                let expired = after.is_some_and(|l| dbs[y].get(l).expire().is_some_and(|t| t <= now));
                (dbs[x].peek(k).is_some(), after.is_some(), expired)
            });
        }
    }
    ctx.signal_none();
    ctx.st.dbs.swap(a, b);
    // Blocked clients wait on a database number, not on a dataset: the
    // watch lists stay, and keys the swap brought in may serve them.
    if a != b {
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = ctx.st.dbs.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        std::mem::swap(&mut x.watched, &mut y.watched);
        std::mem::swap(&mut x.ready, &mut y.ready);
        x.signal_all_watched();
        y.signal_all_watched();
    }
    ctx.changed(1);
    ctx.out.ok();
    Ok(())
}

/// TIME
fn time(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(now.as_secs().to_string().as_bytes());
    ctx.out.bulk(now.subsec_micros().to_string().as_bytes());
    Ok(())
}

/// LASTSAVE
fn lastsave(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(ctx.st.lastsave);
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
fn shutdown(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for a in &argv[1..] {
        if is(a, "nosave") {
            nosave = true;
        } else if is(a, "save") {
            save = true;
        } else if is(a, "now") {
            now = true;
        } else if is(a, "force") {
            force = true;
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Err(SYNTAX);
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Err(SYNTAX);
    }
    if abort {
        // Shutdowns complete at once (no replicas to wait for), so none is
        // ever pending.
        return Err(CmdError::fixed("ERR No shutdown in progress."));
    }
    // Without save points configured only SHUTDOWN SAVE writes a snapshot;
    // when that fails Redis refuses to stop, unless FORCE.
    if !ctx.st.prepare_shutdown(save, force, ctx.now_ms) {
        return Err(CmdError::fixed("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    ctx.st.shutdown = Some(ShutdownMode::NoSave);
    Ok(())
}

/// SAVE
fn save(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    ctx.st.save(now).map_err(|_| CmdError::fixed("ERR"))?;
    ctx.out.ok();
    Ok(())
}

/// MONITOR
fn monitor(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let id = ctx.client.id;
    if !ctx.client.has(client::MONITOR) {
        ctx.client.flags |= client::MONITOR;
        ctx.st.monitors.push(id);
        if let Some(c) = ctx.st.clients.get_mut(&id) {
            c.monitor = true;
        }
    }
    ctx.out.ok();
    Ok(())
}

/// INFO [section [section ...]]
fn info(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let sections: Vec<&[u8]> = argv[1..].to_vec();
    let text = crate::info::render(ctx, &sections);
    ctx.out.verbatim(text.as_bytes(), b"txt");
    Ok(())
}

/// CONFIG GET parameter [parameter ...]
fn config_get(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let pairs = ctx.st.cfg.get_matching(&argv[2..]);
    let out = &mut *ctx.out;
    out.map(pairs.len());
    for (n, v) in pairs {
        out.bulk(n.as_bytes());
        out.bulk(v.as_bytes());
    }
    Ok(())
}

fn set_failed(name: &[u8], reason: &str) -> CmdError {
    CmdError::err(format_args!("CONFIG SET failed (possibly related to argument '{}') - {reason}", text(name)))
}

/// CONFIG SET parameter value [parameter value ...]
fn config_set(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if !argv.len().is_multiple_of(2) {
        return Err(SYNTAX);
    }
    let pairs: Vec<(&[u8], &[u8])> = argv[2..].chunks(2).map(|c| (c[0], c[1])).collect();
    let mut idxs = Vec::with_capacity(pairs.len());
    for (name, _) in &pairs {
        match config::find(&text(name)) {
            Some(i) => idxs.push(i),
            None => {
                return Err(CmdError::err(format_args!(
                    "Unknown option or number of arguments for CONFIG SET - '{}'",
                    text(name)
                )))
            }
        }
    }
    for (k, ((name, _), &i)) in pairs.iter().zip(&idxs).enumerate() {
        let p = &PARAMS[i];
        if p.flags & pflag::IMMUTABLE != 0 {
            return Err(set_failed(name, "can't set immutable config"));
        }
        if p.flags & pflag::PROTECTED != 0 && !protected_allowed(ctx) {
            return Err(set_failed(name, "can't set protected config"));
        }
        if pairs[..k].iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(set_failed(name, "duplicate parameter"));
        }
    }
    // Parse everything first: CONFIG SET is all or nothing.
    let mut parsed = Vec::with_capacity(pairs.len());
    for ((name, value), &i) in pairs.iter().zip(&idxs) {
        let v = text(value);
        // Redis splits a several-word value on single spaces, so an empty
        // value is no words and doubled spaces make empty ones.
        let words: Vec<&str> = match PARAMS[i].flags & pflag::MULTI_ARG != 0 {
            true if v.is_empty() => Vec::new(),
            true => v.split(' ').collect(),
            false => vec![v.as_str()],
        };
        match ctx.st.cfg.parse(i, &words) {
            Ok(val) => parsed.push((i, val)),
            Err(reason) => return Err(set_failed(name, &reason)),
        }
    }
    apply_config(ctx, parsed)?;
    let max = ctx.st.cfg.slowlog_max_len;
    ctx.st.slowlog.trim(max);
    ctx.st.sync_expiry_logging();
    ctx.st.sync_access_clock();
    ctx.out.ok();
    Ok(())
}

/// Sets the parsed values of CONFIG SET, with what Redis does beyond
/// storing them: `dir` changes the working directory (a failure changes
/// nothing); a new oom-score-adj(-values) sets the process's score and a
/// new `port` or `bind` moves the listening sockets (a failure restores
/// every value, and the directory). The error names the argument whose
/// effect failed, as Redis's apply functions do.
fn apply_config(ctx: &mut Ctx<'_>, mut parsed: Vec<(usize, Value)>) -> CmdResult {
    let platform = ctx.st.platform;
    let old_dir = ctx.st.cfg.str("dir").to_string();
    for (i, v) in parsed.iter_mut() {
        if let (true, Value::Str(path)) = (PARAMS[*i].name == "dir", &*v) {
            let cwd = (platform.chdir)(path).map_err(|e| set_failed(b"dir", &e))?;
            *v = Value::Str(cwd);
        }
    }
    let old: Vec<(usize, Value)> = parsed.iter().map(|(i, _)| (*i, ctx.st.cfg.value(*i).clone())).collect();
    for (i, val) in parsed {
        ctx.st.cfg.set_at_runtime(i, val);
    }
    // A bind list given is applied even when unchanged, as in Redis.
    let moved = old
        .iter()
        .find(|(i, v)| match PARAMS[*i].name {
            "bind" => true,
            "port" => ctx.st.cfg.value(*i) != v,
            _ => false,
        })
        .map(|(i, _)| PARAMS[*i].name);
    // A new oom-score-adj or its values applies to the process now.
    let oom = first_changed(&old, ctx, &["oom-score-adj", "oom-score-adj-values"]);
    if let Some(name) = oom {
        if let Err(why) = (platform.oom_score_adj)(ctx.st.cfg.oom_score_adj()) {
            tracing::warn!("Failed applying new configuration. Possibly related to new {name} setting. Restoring previous settings. ({why})");
            restore(ctx, old, &old_dir);
            let _ = (platform.oom_score_adj)(ctx.st.cfg.oom_score_adj());
            return Err(set_failed(name.as_bytes(), "Failed to set current oom_score_adj. Check server logs."));
        }
    }
    let Some(name) = moved else { return Ok(()) };
    let port = match ctx.st.cfg.get("port") {
        Value::Int(p) => *p as u16,
        _ => 0,
    };
    let backlog = match ctx.st.cfg.get("tcp-backlog") {
        Value::Int(b) => *b as i32,
        _ => 511,
    };
    match (platform.listen)(ctx.st.cfg.str("bind"), port, backlog) {
        Ok(()) => {
            ctx.st.server.tcp_port = port;
            Ok(())
        }
        Err(why) => {
            tracing::warn!("Failed applying new configuration. Possibly related to new {name} setting. Restoring previous settings. ({why})");
            let oom_before = ctx.st.cfg.oom_score_adj();
            restore(ctx, old, &old_dir);
            if ctx.st.cfg.oom_score_adj() != oom_before {
                let _ = (platform.oom_score_adj)(ctx.st.cfg.oom_score_adj());
            }
            Err(set_failed(
                name.as_bytes(),
                if name == "port" {
                    "Unable to listen on this port. Check server logs."
                } else {
                    "Failed to bind to specified addresses."
                },
            ))
        }
    }
}

/// The first of `names` whose value CONFIG SET changed (`old` holds the
/// values before, in the arguments' order).
fn first_changed(old: &[(usize, Value)], ctx: &Ctx<'_>, names: &[&str]) -> Option<&'static str> {
    old.iter()
        .find(|(i, v)| names.contains(&PARAMS[*i].name) && ctx.st.cfg.value(*i) != v)
        .map(|(i, _)| PARAMS[*i].name)
}

/// Puts back the values CONFIG SET replaced, and the directory.
fn restore(ctx: &mut Ctx<'_>, old: Vec<(usize, Value)>, old_dir: &str) {
    let moved_dir = ctx.st.cfg.str("dir") != old_dir;
    for (i, v) in old {
        ctx.st.cfg.set(i, v);
    }
    if moved_dir {
        let _ = (ctx.st.platform.chdir)(old_dir);
    }
}

fn protected_allowed(ctx: &Ctx<'_>) -> bool {
    match ctx.st.cfg.enable_protected {
        1 => true,
        2 => ctx.client.has(client::LOCAL),
        _ => false,
    }
}

/// CONFIG REWRITE: the running configuration into the file the server
/// started from (`config::rewrite`), replaced atomically.
fn config_rewrite(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if ctx.st.server.config_file.is_empty() {
        return Err(CmdError::fixed("ERR The server is running without a config file"));
    }
    let path = std::path::PathBuf::from(&ctx.st.server.config_file);
    let failed = |e: std::io::Error| {
        // strerror's text, as Redis prints it.
        let text = e.to_string();
        let why = text.split(" (os error").next().unwrap_or_default().to_string();
        tracing::warn!("CONFIG REWRITE failed: {why}");
        CmdError::err(format_args!("Rewriting config file: {why}"))
    };
    // A missing file is written from nothing, as in Redis.
    let old = match (ctx.st.platform.read_file)(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(failed(e)),
    };
    let new = crate::config::rewrite::rewrite(&ctx.st.cfg, &old);
    (ctx.st.platform.write_file)(&path, &new).map_err(failed)?;
    tracing::warn!("CONFIG REWRITE executed with success.");
    ctx.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT
fn config_resetstat(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.st.reset_stats();
    ctx.out.ok();
    Ok(())
}

/// CONFIG HELP
fn config_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    )
}

/// SLOWLOG GET [count]
fn slowlog_get(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(super::subcommand_syntax(argv));
    }
    let count = match argv.get(2) {
        None => 10,
        Some(a) => match int(a) {
            Ok(n) if n >= -1 => n,
            _ => return Err(CmdError::fixed("ERR count should be greater than or equal to -1")),
        },
    };
    let n = if count == -1 { ctx.st.slowlog.len() } else { (count as usize).min(ctx.st.slowlog.len()) };
    let out = &mut *ctx.out;
    out.array(n);
    for e in ctx.st.slowlog.entries().take(n) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.duration_us);
        out.array(e.argv.len());
        for a in &e.argv {
            out.bulk(a);
        }
        out.bulk(e.addr.as_bytes());
        out.bulk(&e.name);
    }
    Ok(())
}

/// SLOWLOG LEN
fn slowlog_len(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(ctx.st.slowlog.len() as i64);
    Ok(())
}

/// SLOWLOG RESET
fn slowlog_reset(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.st.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

/// SLOWLOG HELP
fn slowlog_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}
