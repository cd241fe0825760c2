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

/// Runs one command for `client`, writing its reply to `out`.
pub fn execute(st: &mut State, client: &mut Client, out: &mut Out, argv: &[&[u8]], now_ms: i64) {
    debug_assert!(!argv.is_empty());
    let cmd = match resolve(argv) {
        Resolved::Command(c) => c,
        Resolved::Rejected(e, c) => {
            if let Some(c) = c {
                st.cmdstats[c.id].rejected += 1;
            }
            reply_error(st, out, &e);
            return;
        }
    };
    if let Err(e) = gates(st, client, cmd) {
        st.cmdstats[cmd.id].rejected += 1;
        reply_error(st, out, &e);
        return;
    }
    call(st, client, out, cmd, argv, now_ms);
    if !st.dbs[client.db].garbage.is_empty() {
        st.collect_expired();
    }
    if !st.blocking.is_empty() {
        crate::blocking::serve_ready(st, now_ms);
    }
}

/// The checks between a resolved command and its execution.
fn gates(st: &mut State, client: &Client, cmd: &Command) -> Result<(), CmdError> {
    if !client.authenticated && !cmd.has(flag::NO_AUTH) {
        return Err(CmdError::fixed("NOAUTH Authentication required."));
    }
    if st.cfg.maxmemory > 0 && cmd.has(flag::DENYOOM) {
        let used = (st.platform.alloc)().allocated;
        if used > st.cfg.maxmemory as u64 {
            return Err(CmdError::fixed("OOM command not allowed when used memory > 'maxmemory'."));
        }
    }
    Ok(())
}

/// Runs a resolved command and keeps the records: statistics, slow log,
/// MONITOR, propagation.
pub fn call(st: &mut State, client: &mut Client, out: &mut Out, cmd: &'static Command, argv: &[&[u8]], now_ms: i64) {
    let Some(handler) = cmd.spec.handler else {
        // A container called bare fails its arity check, except COMMAND,
        // which has a handler of its own.
        unreachable!("{} resolved without a handler", cmd.fullname)
    };
    let started = Instant::now();
    let mut ctx = Ctx { st, client, out, now_ms, cmd, dirty: 0, rewrite: None };
    let result = handler(&mut ctx, argv);
    let Ctx { dirty, rewrite, .. } = ctx;
    let usec = started.elapsed().as_micros() as i64;
    let stat = &mut st.cmdstats[cmd.id];
    stat.calls += 1;
    stat.usec += usec as u64;
    if let Err(e) = &result {
        stat.failed += 1;
        reply_error(st, out, e);
    }
    st.stats.commands_processed += 1;
    st.dirty += dirty;
    client.last_cmd = &cmd.fullname;

    if !cmd.has(flag::SKIP_SLOWLOG) && SlowLog::is_slow(st.cfg.slowlog_slower_than, usec) {
        let name = st.clients.get(&client.id).and_then(|c| c.name.clone()).unwrap_or_default();
        let max = st.cfg.slowlog_max_len;
        st.slowlog.record(max, usec, argv, now_ms / 1000, &client.addr, &name);
    }
    if !st.monitors.is_empty() && !cmd.has(flag::ADMIN) && !cmd.has(flag::SKIP_MONITOR) {
        let now_us =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
        let line = monitor_line(client, client.db, argv, now_us);
        for id in st.monitors.clone() {
            if let Some(m) = st.clients.get_mut(&id) {
                m.deliver(&line);
            }
        }
    }
    if st.propagate {
        let dbi = client.db;
        let db = &mut st.dbs[dbi];
        for key in db.expired_log.drain(..) {
            st.propagated.push((dbi, vec![b"DEL".to_vec(), key]));
        }
        match rewrite {
            Some(forms) => st.propagated.extend(forms.into_iter().map(|f| (dbi, f))),
            None if dirty > 0 => st.propagated.push((dbi, argv.iter().map(|a| a.to_vec()).collect())),
            None => {}
        }
    }
    if client.has(client::REPLY_SKIP) {
        client.flags &= !client::REPLY_SKIP;
    }
}
