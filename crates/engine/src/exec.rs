//! The dispatcher: from an argument vector to a reply, with every gate Redis
//! applies before a command runs and every record it keeps afterwards.

use std::time::Instant;

use crate::client::{self, Client};
use crate::command::{flag, Command};
use crate::ctx::Ctx;
use crate::error::CmdError;
use crate::slowlog::SlowLog;
use crate::state::State;
use crate::table;
use ferrokv_resp::Out;

/// `ERR unknown command '...', with args beginning with: ...` as 7.0 builds it.
fn unknown_command(argv: &[&[u8]]) -> CmdError {
    // `%s` stops at a NUL byte, as in C.
    let cstr = |b: &[u8]| -> String {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let name: String = cstr(argv[0]).chars().take(128).collect();
    let mut args = String::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let a = cstr(a);
        let mut cut = a.len().min(room);
        while !a.is_char_boundary(cut) {
            cut -= 1;
        }
        args.push('\'');
        args.push_str(&a[..cut]);
        args.push_str("' ");
    }
    CmdError::err(format_args!("unknown command '{name}', with args beginning with: {args}"))
}

fn arity_error(cmd: &Command) -> CmdError {
    CmdError::err(format_args!("wrong number of arguments for '{}' command", cmd.fullname))
}

/// What the dispatcher resolved `argv` to.
pub enum Resolved {
    /// A runnable command.
    Command(&'static Command),
    /// An error to reply, and the command to charge a rejected call to.
    Rejected(CmdError, Option<&'static Command>),
}

/// Looks up the command (and subcommand) and checks its arity.
pub fn resolve(argv: &[&[u8]]) -> Resolved {
    let Some(mut cmd) = table().get(argv[0]) else {
        return Resolved::Rejected(unknown_command(argv), None);
    };
    if !cmd.subs.is_empty() && argv.len() >= 2 {
        match cmd.sub(argv[1]) {
            Some(sub) => cmd = sub,
            None => return Resolved::Rejected(crate::error::unknown_subcommand(argv[1], cmd.spec.name), None),
        }
    }
    if !cmd.arity_ok(argv.len()) {
        return Resolved::Rejected(arity_error(cmd), Some(cmd));
    }
    Resolved::Command(cmd)
}

/// The command (or subcommand) `argv` names, whatever its arity (Redis's
/// `lookupCommand`): a container named alone is itself.
pub fn lookup(argv: &[&[u8]]) -> Option<&'static Command> {
    let cmd = table().get(argv[0])?;
    match argv.get(1) {
        Some(sub) if !cmd.subs.is_empty() => cmd.sub(sub),
        _ => Some(cmd),
    }
}

/// Writes `e` as the reply and counts it.
pub fn reply_error(st: &mut State, out: &mut Out, e: &CmdError) {
    out.error(e.message());
    st.count_error(e.code());
}

/// The time in ms since the epoch.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The MONITOR line for a command, as Redis formats it.
fn monitor_line(client: &Client, db: usize, argv: &[&[u8]], now_us: i64) -> Vec<u8> {
    let mut line = format!("+{}.{:06} [{} {}]", now_us / 1_000_000, now_us % 1_000_000, db, client.addr).into_bytes();
    for a in argv {
        line.push(b' ');
        crate::util::push_repr(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// Sends `argv` as run by `client` to every MONITOR. Scripts call it
/// themselves before they run (their commands follow their own line).
pub fn feed_monitors(st: &mut State, client: &Client, argv: &[&[u8]]) {
    if st.monitors.is_empty() {
        return;
    }
    let now_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
    let line = monitor_line(client, client.db, argv, now_us);
    for id in st.monitors.clone() {
        if let Some(m) = st.clients.get_mut(&id) {
            m.deliver(&line);
        }
    }
}

/// `argv` with its passwords replaced by `(redacted)`, as SLOWLOG and
/// MONITOR show it in Redis (AUTH, HELLO ... AUTH, CONFIG SET of
/// requirepass, masterauth, masteruser); `None` when nothing is secret.
/// Arguments are redacted only where Redis's parser reaches them.
pub fn redacted<'a>(cmd: &Command, argv: &[&'a [u8]], requirepass: &str) -> Option<Vec<&'a [u8]>> {
    const SECRET: &[u8] = b"(redacted)";
    let mut secret: Vec<usize> = Vec::new();
    match cmd.fullname.as_str() {
        "auth" if argv.len() <= 3 => secret.extend(1..argv.len()),
        "hello" => secret = crate::cmd::conn::hello_secrets(requirepass, argv),
        "config|set" if argv.len().is_multiple_of(2) => {
            for j in (2..argv.len()).step_by(2) {
                let param = std::str::from_utf8(argv[j]).ok().and_then(crate::config::find);
                if param.is_some_and(|i| crate::config::PARAMS[i].flags & crate::config::pflag::SENSITIVE != 0) {
                    secret.push(j + 1);
                }
            }
        }
        _ => {}
    }
    if secret.is_empty() {
        return None;
    }
    Some(argv.iter().enumerate().map(|(j, a)| if secret.contains(&j) { SECRET } else { *a }).collect())
}

/// Whether `cmd` runs at once inside MULTI instead of being queued.
fn runs_in_multi(cmd: &Command) -> bool {
    matches!(cmd.fullname.as_str(), "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// Runs one command for `client`, writing its reply to `out`.
pub fn execute(st: &mut State, client: &mut Client, out: &mut Out, argv: &[&[u8]], now_ms: i64) {
    debug_assert!(!argv.is_empty());
    if !st.tracking.enabled() {
        execute_command(st, client, out, argv, now_ms);
        return;
    }
    crate::tracking::begin_command(st, client.id);
    let quiet_before = client.flags & (client::REPLY_OFF | client::REPLY_SKIP) != 0;
    // Redis keeps the table within its limit before every command; what
    // that tells this client comes ahead of the reply.
    let max = st.cfg.tracking_max_keys;
    crate::tracking::limit(st, max);
    crate::tracking::write_pending(st, client, out, quiet_before);
    let cmd = execute_command(st, client, out, argv, now_ms);
    let quiet = quiet_before || client.flags & (client::REPLY_OFF | client::REPLY_SKIP) != 0;
    crate::tracking::end_command(st, client, out, cmd, quiet);
}

/// [`execute`] without the tracking bookkeeping around it; returns the
/// command, when it was resolved.
fn execute_command(
    st: &mut State,
    client: &mut Client,
    out: &mut Out,
    argv: &[&[u8]],
    now_ms: i64,
) -> Option<&'static Command> {
    let cmd = match resolve(argv) {
        Resolved::Command(c) => c,
        Resolved::Rejected(e, c) => {
            if let Some(c) = c {
                st.cmdstats[c.id].rejected += 1;
            }
            reject(st, client, out, &e, c);
            return c;
        }
    };
    let gated = gates(st, client, out, cmd, argv, now_ms);
    // Keys the gates evicted are reported ahead of the reply, as Redis
    // flushes them right after its evictions.
    if st.tracking.enabled() {
        let quiet = client.flags & (client::REPLY_OFF | client::REPLY_SKIP) != 0;
        crate::tracking::write_pending(st, client, out, quiet);
    }
    if let Err(e) = gated {
        st.cmdstats[cmd.id].rejected += 1;
        reject(st, client, out, &e, Some(cmd));
        return Some(cmd);
    }
    // Last of Redis's checks: under CLIENT PAUSE the command waits (even
    // to be queued) and starts over once the pause ends.
    if st.pause.is_some() && crate::pause::must_wait(st, client, cmd, now_ms) {
        crate::pause::postpone(st, client);
        return Some(cmd);
    }
    if client.has(client::MULTI) && !runs_in_multi(cmd) {
        // A transaction already bound to fail keeps no more commands.
        if !client.has(client::DIRTY_EXEC) && !st.watches.is_dirty(client.id) {
            client.queued.push(client::Queued { cmd, argv: argv.iter().map(|a| a.to_vec()).collect() });
        }
        out.simple(b"QUEUED");
        return Some(cmd);
    }
    call(st, client, out, cmd, argv, now_ms);
    if !st.dbs[client.db].garbage.is_empty() {
        st.collect_expired();
    }
    if !st.blocking.is_empty() {
        crate::blocking::serve_ready(st, now_ms);
    }
    Some(cmd)
}

/// Replies a refusal; inside MULTI it also dooms the transaction (Redis's
/// `rejectCommand` → `flagTransaction`).
/// A refused EXEC ends the transaction and says why, in or out of MULTI.
fn reject(st: &mut State, client: &mut Client, out: &mut Out, e: &CmdError, cmd: Option<&Command>) {
    if cmd.is_some_and(|c| c.fullname == "exec") {
        crate::cmd::multi::discard_transaction(st, client);
        let why = e.message().strip_prefix("ERR ").unwrap_or(e.message());
        let abort = CmdError::full(format!("EXECABORT Transaction discarded because of: {why}"));
        reply_error(st, out, &abort);
        return;
    }
    if client.has(client::MULTI) {
        client.flags |= client::DIRTY_EXEC;
    }
    reply_error(st, out, e);
}

/// The checks between a resolved command and its execution, in Redis's
/// order.
fn gates(
    st: &mut State,
    client: &Client,
    out: &Out,
    cmd: &Command,
    argv: &[&[u8]],
    now_ms: i64,
) -> Result<(), CmdError> {
    client_gates(client, cmd)?;
    let in_multi = client.has(client::MULTI);
    // Queueing may use unbounded memory, so inside MULTI every command but
    // the ones that end the transaction counts as "deny OOM".
    // EXEC counts as "deny OOM" when any queued command does.
    // A script's declared flags replace its command's (`#!lua flags=`,
    // a function's flags).
    let script_denyoom = cmd.has(flag::SCRIPT_FLAGS)
        && crate::script::command_flags(st, &cmd.fullname, argv).is_some_and(|f| f.deny_oom());
    let denyoom = cmd.has(flag::DENYOOM)
        || script_denyoom
        || (in_multi && !matches!(cmd.fullname.as_str(), "exec" | "discard" | "quit" | "reset"))
        || (cmd.fullname == "exec" && client.queued.iter().any(|q| q.cmd.has(flag::DENYOOM)));
    // Over maxmemory, evict first (any command); only when nothing could
    // be evicted are deny-oom commands refused (Redis's EVICT_FAIL).
    if st.cfg.maxmemory > 0 && !crate::evict::make_room(st, now_ms) && denyoom {
        return Err(CmdError::fixed("OOM command not allowed when used memory > 'maxmemory'."));
    }
    context_gate(client, out.resp3(), cmd)
}

/// The gates that depend only on the connection, before the OOM check:
/// authentication and commands refused inside MULTI.
pub fn client_gates(client: &Client, cmd: &Command) -> Result<(), CmdError> {
    if !client.authenticated && !cmd.has(flag::NO_AUTH) {
        return Err(CmdError::fixed("NOAUTH Authentication required."));
    }
    if client.has(client::MULTI) && cmd.has(flag::NO_MULTI) {
        return Err(CmdError::err("Command not allowed inside a transaction"));
    }
    Ok(())
}

/// The RESP2 subscriber context: only the subscribe family, PING, QUIT and
/// RESET.
pub fn context_gate(client: &Client, resp3: bool, cmd: &Command) -> Result<(), CmdError> {
    if client.has(client::PUBSUB)
        && !resp3
        && !matches!(
            cmd.fullname.as_str(),
            "ping"
                | "subscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "psubscribe"
                | "punsubscribe"
                | "quit"
                | "reset"
        )
    {
        return Err(CmdError::err(format_args!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.fullname
        )));
    }
    Ok(())
}

/// The keys `cmd` may write, with whether each is live now: a key that
/// neither existed before nor exists after the command was not modified.
fn write_keys(st: &State, db: usize, cmd: &Command, argv: &[&[u8]], now_ms: i64) -> Vec<(Vec<u8>, bool)> {
    let mut refs = Vec::new();
    if crate::command::keys::key_refs(cmd, argv, &mut refs).is_err() {
        return Vec::new();
    }
    let d = &st.dbs[db];
    refs.into_iter()
        .filter(|&(_, spec)| cmd.spec.keys.get(spec).is_none_or(|k| !k.flags.split_whitespace().any(|f| f == "RO")))
        .map(|(pos, _)| (argv[pos].to_vec(), d.is_live(argv[pos], now_ms)))
        .collect()
}

/// Runs a resolved command and keeps the records: statistics, slow log,
/// MONITOR, propagation.
pub fn call(st: &mut State, client: &mut Client, out: &mut Out, cmd: &'static Command, argv: &[&[u8]], now_ms: i64) {
    let Some(handler) = cmd.spec.handler else {
        // A container called bare fails its arity check, except COMMAND,
        // which has a handler of its own.
        unreachable!("{} resolved without a handler", cmd.fullname)
    };
    // WATCH and tracking: remember which keys this write may touch and
    // whether they existed (only when someone watches this database or
    // tracks keys).
    let watch_db = client.db;
    let watched = if cmd.has(flag::WRITE) && (st.watches.active_in(watch_db) || st.tracking.enabled()) {
        write_keys(st, watch_db, cmd, argv, now_ms)
    } else {
        Vec::new()
    };
    let started = Instant::now();
    let run = |st: &mut State, client: &mut Client, out: &mut Out| {
        let mut ctx = Ctx { st, client, out, now_ms, cmd, dirty: 0, rewrite: None, signals: None, failed: false };
        let result = handler(&mut ctx, argv);
        let Ctx { dirty, rewrite, signals, failed, .. } = ctx;
        (result, dirty, rewrite, signals, failed)
    };
    let (result, dirty, rewrite, signals, failed) =
        if st.tracking.enabled() && cmd.has(flag::SCRIPT_FLAGS) && !client.has(client::SCRIPT) {
            crate::tracking::in_script(st, cmd, argv, |st| run(st, client, out))
        } else {
            run(st, client, out)
        };
    // Keys the command found expired were deleted before it wrote: their
    // touches come first, as in Redis (a write after an expired key's
    // deletion is then a change to a missing key).
    // Keys added without an event after them are announced now too.
    let dbi = client.db;
    crate::notify::flush_pending(st, watch_db, Some((client.id, &mut *out)));
    if watch_db != dbi {
        crate::notify::flush_pending(st, dbi, Some((client.id, &mut *out)));
    }
    match signals {
        // The handler said exactly which keys it modified (cross-database
        // commands, flushes).
        Some(keys) => {
            for (db, key) in keys {
                let present = st.dbs.get(db).is_some_and(|d| d.peek(&key).is_some());
                st.signal_modified(db, &key, present);
            }
        }
        None if dirty > 0 => {
            for (key, existed) in watched {
                let present = st.dbs[watch_db].peek(&key).is_some();
                if existed || present {
                    st.signal_modified(watch_db, &key, present);
                }
            }
        }
        None => {}
    }
    // Keys fetched by a read-only command may now be cached by the caller.
    // Inside a script that means the keys the script declared (Redis
    // remembers the caller's command); the *_RO script commands are
    // read-only themselves but remember through their calls.
    if st.tracking.enabled() && cmd.has(flag::READONLY) {
        if client.has(client::SCRIPT) {
            crate::tracking::remember_script_keys(st, client.id);
        } else if !cmd.has(flag::SCRIPT_FLAGS) {
            crate::tracking::remember(st, client.id, cmd, argv);
        }
    }
    let ns = started.elapsed().as_nanos() as u64;
    let usec = (ns / 1000) as i64;
    // A blocked command's latency counts when its wait ends.
    if client.has(client::BLOCKED) {
        st.blocking.set_call_time(client.id, ns);
    } else if st.cfg.latency_tracking {
        st.latency[cmd.id].get_or_insert_with(Default::default).record_call(ns);
    }
    let (threshold, ms) = (st.cfg.latency_monitor_threshold, ns / 1_000_000);
    if threshold > 0 && ms >= threshold as u64 {
        let event = if cmd.has(flag::FAST) { "fast-command" } else { "command" };
        st.latency_events.add(event, ms, unix_ms() / 1000);
    }
    let stat = &mut st.cmdstats[cmd.id];
    stat.calls += 1;
    stat.usec += usec as u64;
    if let Err(e) = &result {
        stat.failed += 1;
        reply_error(st, out, e);
    } else if failed {
        stat.failed += 1;
    }
    st.stats.commands_processed += 1;
    st.dirty += dirty;
    client.last_cmd = &cmd.fullname;

    let slow = !cmd.has(flag::SKIP_SLOWLOG) && SlowLog::is_slow(st.cfg.slowlog_slower_than, usec);
    let monitored = !st.monitors.is_empty() && !cmd.has(flag::ADMIN) && !cmd.has(flag::SKIP_MONITOR);
    if slow || monitored {
        let shown = redacted(cmd, argv, &st.cfg.requirepass);
        let shown = shown.as_deref().unwrap_or(argv);
        if slow {
            let name = st.clients.get(&client.id).and_then(|c| c.name.clone()).unwrap_or_default();
            let max = st.cfg.slowlog_max_len;
            st.slowlog.record(max, usec, shown, now_ms / 1000, &client.addr, &name);
        }
        if monitored {
            feed_monitors(st, client, shown);
        }
    }
    if st.propagate {
        match rewrite {
            Some(forms) => st.propagated.extend(forms.into_iter().map(|f| (dbi, f))),
            None if dirty > 0 => st.propagated.push((dbi, argv.iter().map(|a| a.to_vec()).collect())),
            None => {}
        }
    }
}
