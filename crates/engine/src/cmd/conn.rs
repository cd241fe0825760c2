//! Connection commands: PING ECHO SELECT QUIT RESET HELLO AUTH CLIENT.

use crate::client::{self, Client, ClientKind};
use crate::cmd::keys::{db_index, help_reply};
use crate::command::args::{int, is, text};
use crate::command::CommandSpec;
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::state::State;
use crate::REDIS_VERSION;
use ferrokv_resp::{Out, Protocol};

/// The connection family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, ping)
        .flags("fast")
        .acl("fast connection")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("echo", 2, echo).flags("loading stale fast").acl("fast connection"),
    CommandSpec::new("select", 2, select).flags("loading stale fast").acl("fast connection"),
    CommandSpec::new("quit", -1, quit).flags("noscript loading stale fast no_auth allow_busy").acl("fast connection"),
    CommandSpec::new("reset", 1, reset).flags("noscript loading stale fast no_auth allow_busy").acl("fast connection"),
    CommandSpec::new("hello", -1, hello).flags("noscript loading stale fast no_auth allow_busy").acl("fast connection"),
    CommandSpec::new("auth", -2, auth).flags("noscript loading stale fast no_auth allow_busy").acl("fast connection"),
    CommandSpec::container("client", -2, CLIENT_SUBS).acl("slow"),
];

static CLIENT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("id", 2, client_id).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("setname", 3, client_setname).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("getname", 2, client_getname).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("list", -2, client_list)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous connection")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("info", 2, client_info)
        .flags("noscript loading stale")
        .acl("slow connection")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("kill", -3, client_kill)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous connection"),
    CommandSpec::new("reply", 3, client_reply).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("no-evict", 3, client_no_evict)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous connection"),
    CommandSpec::new("pause", -3, client_pause)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous connection"),
    CommandSpec::new("unpause", 2, client_unpause)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous connection"),
    CommandSpec::new("tracking", -3, client_tracking).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("caching", 3, client_caching).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("getredir", 2, client_getredir).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("trackinginfo", 2, client_trackinginfo).flags("noscript loading stale").acl("slow connection"),
    CommandSpec::new("unblock", -3, client_unblock)
        .flags("admin noscript loading stale")
        .acl("admin slow dangerous connection"),
    CommandSpec::new("help", 2, client_help).flags("loading stale").acl("slow connection"),
];

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 2 {
        return Err(CmdError::err("wrong number of arguments for 'ping' command"));
    }
    // A RESP2 subscriber can only read pushes: PING answers as one.
    if ctx.client.has(client::PUBSUB) && !ctx.out.resp3() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(argv.get(1).copied().unwrap_or(b""));
        return Ok(());
    }
    match argv.get(1) {
        Some(m) => ctx.out.bulk(m),
        None => ctx.out.simple(b"PONG"),
    }
    Ok(())
}

/// ECHO message
fn echo(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ctx.out.bulk(argv[1]);
    Ok(())
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ctx.client.db = db_index(ctx, argv[1])?;
    ctx.out.ok();
    Ok(())
}

/// QUIT
fn quit(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.ok();
    ctx.client.flags |= client::CLOSE_AFTER_REPLY;
    Ok(())
}

/// RESET
fn reset(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    reset_connection(ctx.client, ctx.out, &ctx.st.cfg.requirepass);
    reset_engine(ctx.st, ctx.client.id);
    if let Some(info) = ctx.st.clients.get_mut(&ctx.client.id) {
        info.flags = ctx.client.flags;
    }
    Ok(())
}

/// RESET's part in the connection's own state, and its reply (also what
/// answers RESET while a busy script holds the engine).
pub fn reset_connection(client: &mut Client, out: &mut Out, requirepass: &str) {
    client.queued = Vec::new();
    client.db = 0;
    out.proto = Protocol::Resp2;
    client.flags &= !(client::MULTI
        | client::DIRTY_EXEC
        | client::PUBSUB
        | client::MONITOR
        | client::REPLY_OFF
        | client::REPLY_SKIP_NEXT);
    // CLIENT NO-EVICT survives RESET in Redis 7.0.
    client.authenticated = requirepass.is_empty();
    out.simple(b"RESET");
}

/// RESET's part in the engine for client `id`: watches, subscriptions,
/// MONITOR, tracking.
pub fn reset_engine(st: &mut State, id: u64) {
    crate::cmd::multi::unwatch_all(st, id);
    st.pubsub.remove_client(id);
    st.monitors.retain(|&m| m != id);
    crate::tracking::disable(st, id);
    if let Some(info) = st.clients.get_mut(&id) {
        info.name = None;
        info.db = 0;
        info.monitor = false;
        info.resp = 2;
        if info.kind == ClientKind::Pubsub {
            info.kind = ClientKind::Normal;
        }
    }
}

/// Checks a password for `user` against requirepass.
pub(crate) fn check_password(requirepass: &str, user: &[u8], pass: &[u8]) -> bool {
    user == b"default" && (requirepass.is_empty() || requirepass.as_bytes() == pass)
}

const WRONGPASS: CmdError = CmdError::fixed("WRONGPASS invalid username-password pair or user is disabled.");

/// AUTH [username] password
fn auth(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    auth_with(&ctx.st.cfg.requirepass, ctx.client, ctx.out, argv)
}

/// AUTH against `requirepass`; also what answers AUTH while a busy script
/// holds the engine (the password cannot change meanwhile).
pub fn auth_with(requirepass: &str, client: &mut Client, out: &mut Out, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(SYNTAX);
    }
    let (user, pass): (&[u8], &[u8]) = if argv.len() == 2 { (b"default", argv[1]) } else { (argv[1], argv[2]) };
    if argv.len() == 2 && requirepass.is_empty() {
        return Err(CmdError::fixed("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    if !check_password(requirepass, user, pass) {
        return Err(WRONGPASS);
    }
    client.authenticated = true;
    out.ok();
    Ok(())
}

fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn set_name(ctx: &mut Ctx<'_>, name: &[u8]) -> CmdResult {
    check_name(name)?;
    let id = ctx.client.id;
    if let Some(info) = ctx.st.clients.get_mut(&id) {
        info.name = (!name.is_empty()).then(|| name.to_vec());
    }
    Ok(())
}

fn check_name(name: &[u8]) -> CmdResult {
    if !valid_name(name) {
        return Err(CmdError::fixed("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

/// HELLO's arguments in Redis's order: the protocol version, then each
/// option as it comes (AUTH authenticates, SETNAME names through `name`),
/// then the authentication check. Returns the version asked for.
fn hello_options(
    requirepass: &str,
    client: &mut Client,
    argv: &[&[u8]],
    mut name: impl FnMut(&[u8]) -> CmdResult,
) -> Result<Option<i64>, CmdError> {
    let ver = hello_walk(
        requirepass,
        argv,
        |_, ok| {
            if ok {
                client.authenticated = true;
            }
        },
        |j| name(argv[j + 1]),
    )?;
    if !client.authenticated {
        return Err(HELLO_NOAUTH);
    }
    Ok(ver)
}

/// The walk over HELLO's arguments: the version, then the options in order
/// until the first error. `auth(j, ok)` sees each AUTH reached at `j` and
/// whether its password was right; `named(j)` each valid SETNAME.
fn hello_walk(
    requirepass: &str,
    argv: &[&[u8]],
    mut auth: impl FnMut(usize, bool),
    mut named: impl FnMut(usize) -> CmdResult,
) -> Result<Option<i64>, CmdError> {
    let ver = hello_version(argv)?;
    let mut j = 2;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        if is(argv[j], "auth") && more >= 2 {
            let ok = check_password(requirepass, argv[j + 1], argv[j + 2]);
            auth(j, ok);
            if !ok {
                return Err(WRONGPASS);
            }
            j += 3;
        } else if is(argv[j], "setname") && more >= 1 {
            check_name(argv[j + 1])?;
            named(j)?;
            j += 2;
        } else {
            return Err(CmdError::err(format_args!("Syntax error in HELLO option '{}'", text(argv[j]))));
        }
    }
    Ok(ver)
}

/// The HELLO arguments Redis shows as `(redacted)`: the user and password
/// of every AUTH its parser reaches, a failing one included.
pub(crate) fn hello_secrets(requirepass: &str, argv: &[&[u8]]) -> Vec<usize> {
    let mut secret = Vec::new();
    let _ = hello_walk(requirepass, argv, |j, _| secret.extend([j + 1, j + 2]), |_| Ok(()));
    secret
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (st, client) = (&mut *ctx.st, &mut *ctx.client);
    let id = client.id;
    let ver = hello_options(&st.cfg.requirepass.clone(), client, argv, |n| {
        if let Some(info) = st.clients.get_mut(&id) {
            info.name = (!n.is_empty()).then(|| n.to_vec());
        }
        Ok(())
    })?;
    if let Some(v) = ver {
        ctx.out.proto = if v == 3 { Protocol::Resp3 } else { Protocol::Resp2 };
        // Messages other connections publish from now on are encoded in
        // the new protocol.
        if let Some(info) = ctx.st.clients.get_mut(&ctx.client.id) {
            info.resp = v;
        }
    }
    hello_reply(ctx.out, ctx.client.id);
    Ok(())
}

const HELLO_NOAUTH: CmdError = CmdError::fixed("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");

/// HELLO's protocol version argument, if given.
fn hello_version(argv: &[&[u8]]) -> Result<Option<i64>, CmdError> {
    let Some(a) = argv.get(1) else { return Ok(None) };
    let v = int(a).map_err(|_| CmdError::fixed("ERR Protocol version is not an integer or out of range"))?;
    if !(2..=3).contains(&v) {
        return Err(CmdError::fixed("NOPROTO unsupported protocol version"));
    }
    Ok(Some(v))
}

/// HELLO while a busy script holds the engine (it is allowed then, and
/// RESP3 clients send it on connecting), against the `requirepass` of
/// when the script started (it cannot change meanwhile). The connection's
/// record is updated when the engine is free: a SETNAME is returned (an
/// empty name clears it), the protocol is read off the connection.
pub fn hello_without_engine(
    requirepass: &str,
    client: &mut Client,
    out: &mut Out,
    argv: &[&[u8]],
) -> (CmdResult, Option<Vec<u8>>) {
    let mut named = None;
    let ver = match hello_options(requirepass, client, argv, |n| {
        named = Some(n.to_vec());
        Ok(())
    }) {
        Ok(v) => v,
        Err(e) => return (Err(e), named),
    };
    if let Some(v) = ver {
        out.proto = if v == 3 { Protocol::Resp3 } else { Protocol::Resp2 };
    }
    hello_reply(out, client.id);
    (Ok(()), named)
}

fn hello_reply(out: &mut Out, id: u64) {
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(out.proto.number());
    out.bulk(b"id");
    out.int(id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

/// CLIENT ID
fn client_id(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

/// CLIENT SETNAME connection-name
fn client_setname(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    set_name(ctx, argv[2])?;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETNAME
fn client_getname(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    match ctx.st.clients.get(&ctx.client.id).and_then(|c| c.name.clone()) {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Copies the calling client's state into its registry entry, so that the
/// listing shows it as of this command.
fn sync_self(ctx: &mut Ctx<'_>) {
    let cmd: &'static str = &ctx.cmd.fullname;
    let (db, flags, resp) = (ctx.client.db, ctx.client.flags, ctx.out.proto.number());
    if let Some(info) = ctx.st.clients.get_mut(&ctx.client.id) {
        info.db = db;
        info.flags = flags;
        info.resp = resp;
        info.last_cmd = cmd;
        info.last_interaction_ms = ctx.now_ms;
    }
}

fn flags_string(c: &crate::client::ClientInfo, dirty_cas: bool) -> String {
    let mut s = String::new();
    if c.monitor {
        s.push('O');
    }
    if c.kind == ClientKind::Replica {
        s.push('S');
    }
    if c.kind == ClientKind::Master {
        s.push('M');
    }
    if c.kind == ClientKind::Pubsub {
        s.push('P');
    }
    if c.flags & client::MULTI != 0 {
        s.push('x');
    }
    if c.flags & client::BLOCKED != 0 {
        s.push('b');
    }
    if let Some(t) = &c.tracking {
        s.push('t');
        if t.broken_redirect {
            s.push('R');
        }
        if t.bcast {
            s.push('B');
        }
    }
    if dirty_cas {
        s.push('d');
    }
    if c.flags & client::CLOSE_AFTER_REPLY != 0 {
        s.push('c');
    }
    if c.flags & client::NO_EVICT != 0 {
        s.push('e');
    }
    if s.is_empty() {
        s.push('N');
    }
    s
}

/// One CLIENT LIST line (Redis 7.0's `catClientInfoString`).
/// `dirty_cas`: a key the client WATCHes has changed (flag `d`).
pub fn client_line(c: &crate::client::ClientInfo, dirty_cas: bool, now_ms: i64) -> String {
    let name = c.name.as_deref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
    let age = (now_ms - c.created_ms).max(0) / 1000;
    let idle = (now_ms - c.last_interaction_ms).max(0) / 1000;
    let events = if c.obl > 0 { "rw" } else { "r" };
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events={} cmd={} user=default redir={} resp={}\n",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name,
        age,
        idle,
        flags_string(c, dirty_cas),
        c.db,
        c.subs.0,
        c.subs.1,
        c.subs.2,
        c.multi,
        c.qbuf,
        c.qbuf_free,
        c.argv_mem,
        c.omem,
        c.omem,
        c.obl,
        c.omem,
        c.qbuf + c.qbuf_free + c.omem + c.argv_mem,
        events,
        c.last_cmd,
        c.tracking.as_ref().map_or(-1, |t| t.redirect as i64),
        c.resp
    )
}

fn kind_by_name(name: &[u8]) -> Result<ClientKind, CmdError> {
    Ok(match name.to_ascii_lowercase().as_slice() {
        b"normal" => ClientKind::Normal,
        b"slave" | b"replica" => ClientKind::Replica,
        b"pubsub" => ClientKind::Pubsub,
        b"master" => ClientKind::Master,
        _ => return Err(CmdError::err(format_args!("Unknown client type '{}'", text(name)))),
    })
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id ...]
fn client_list(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    sync_self(ctx);
    let mut kind = None;
    let mut ids: Option<Vec<u64>> = None;
    if argv.len() == 4 && is(argv[2], "type") {
        kind = Some(kind_by_name(argv[3])?);
    } else if argv.len() > 3 && is(argv[2], "id") {
        let mut v = Vec::new();
        for a in &argv[3..] {
            match int(a) {
                Ok(id) if id > 0 => v.push(id as u64),
                _ => return Err(CmdError::fixed("ERR Invalid client ID")),
            }
        }
        ids = Some(v);
    } else if argv.len() != 2 {
        return Err(SYNTAX);
    }
    let now = ctx.now_ms;
    let mut s = String::new();
    match ids {
        Some(ids) => {
            for id in ids {
                if let Some(c) = ctx.st.clients.get(&id) {
                    s.push_str(&client_line(c, ctx.st.watches.is_dirty(c.id), now));
                }
            }
        }
        None => {
            for c in ctx.st.clients.values().filter(|c| kind.is_none_or(|k| c.kind == k)) {
                s.push_str(&client_line(c, ctx.st.watches.is_dirty(c.id), now));
            }
        }
    }
    ctx.out.verbatim(s.as_bytes(), b"txt");
    Ok(())
}

/// CLIENT INFO
fn client_info(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    sync_self(ctx);
    let line = ctx
        .st
        .clients
        .get(&ctx.client.id)
        .map(|c| client_line(c, ctx.st.watches.is_dirty(c.id), ctx.now_ms))
        .unwrap_or_default();
    ctx.out.verbatim(line.as_bytes(), b"txt");
    Ok(())
}

/// CLIENT KILL ip:port | [ID id] [TYPE type] [USER user] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP]
fn client_tracking(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    use crate::tracking::ClientTracking;
    let mut opts = ClientTracking::default();
    let mut prefixes = Vec::new();
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if is(argv[j], "redirect") && more {
            j += 1;
            if opts.redirect != 0 {
                return Err(CmdError::fixed("ERR A client can only redirect to a single other client"));
            }
            let id = int(argv[j])?;
            if id <= 0 || !ctx.st.clients.contains_key(&(id as u64)) {
                return Err(CmdError::fixed("ERR The client ID you want redirect to does not exist"));
            }
            opts.redirect = id as u64;
        } else if is(argv[j], "bcast") {
            opts.bcast = true;
        } else if is(argv[j], "optin") {
            opts.optin = true;
        } else if is(argv[j], "optout") {
            opts.optout = true;
        } else if is(argv[j], "noloop") {
            opts.noloop = true;
        } else if is(argv[j], "prefix") && more {
            j += 1;
            prefixes.push(argv[j].to_vec());
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let id = ctx.client.id;
    if is(argv[2], "on") {
        crate::tracking::enable(ctx.st, id, opts, prefixes).map_err(|e| CmdError::err(format_args!("{e}")))?;
    } else if is(argv[2], "off") {
        crate::tracking::disable(ctx.st, id);
    } else {
        return Err(SYNTAX);
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO
fn client_caching(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let id = ctx.client.id;
    let Some(t) = ctx.st.clients.get_mut(&id).and_then(|i| i.tracking.as_mut()) else {
        return Err(CmdError::fixed(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    };
    if is(argv[2], "yes") {
        if !t.optin {
            return Err(CmdError::fixed(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(argv[2], "no") {
        if !t.optout {
            return Err(CmdError::fixed(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(SYNTAX);
    }
    t.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: -1 when not tracking, 0 when not redirecting.
fn client_getredir(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let t = ctx.st.clients.get(&ctx.client.id).and_then(|i| i.tracking.as_ref());
    ctx.out.int(t.map_or(-1, |t| t.redirect as i64));
    Ok(())
}

/// CLIENT TRACKINGINFO
fn client_trackinginfo(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let t = ctx.st.clients.get(&ctx.client.id).and_then(|i| i.tracking.as_ref());
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    let mut flags: Vec<&str> = vec![if t.is_some() { "on" } else { "off" }];
    if let Some(t) = t {
        let caching = t.caching;
        for (on, name) in [
            (t.bcast, "bcast"),
            (t.optin, "optin"),
            (t.optin && caching, "caching-yes"),
            (t.optout, "optout"),
            (t.optout && caching, "caching-no"),
            (t.noloop, "noloop"),
            (t.broken_redirect, "broken_redirect"),
        ] {
            if on {
                flags.push(name);
            }
        }
    }
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(t.map_or(-1, |t| t.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes: Vec<&Vec<u8>> = t.map(|t| t.prefixes.iter().collect()).unwrap_or_default();
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(p);
    }
    Ok(())
}

fn client_unblock(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 4 {
        return Err(super::subcommand_syntax(argv));
    }
    let error = match argv.get(3) {
        None => false,
        Some(a) if is(a, "timeout") => false,
        Some(a) if is(a, "error") => true,
        Some(_) => return Err(CmdError::fixed("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let id = int(argv[2])?;
    let done = id > 0 && crate::blocking::unblock(ctx.st, id as u64, error);
    ctx.out.int(done as i64);
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]
fn client_pause(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 4 {
        return Err(super::subcommand_syntax(argv));
    }
    let write_only = match argv.get(3) {
        None => false,
        Some(a) if is(a, "write") => true,
        Some(a) if is(a, "all") => false,
        Some(_) => return Err(CmdError::fixed("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    // Milliseconds, absolute from now; 0 ends at once.
    let ms = crate::command::args::int(argv[2])
        .map_err(|_| CmdError::fixed("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    let end = if ms > 0 { ms.saturating_add(ctx.now_ms) } else { 0 };
    crate::pause::pause(ctx.st, end, write_only);
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE
fn client_unpause(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    crate::pause::unpause(ctx.st);
    ctx.out.ok();
    Ok(())
}

fn client_kill(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let me = ctx.client.id;
    if argv.len() == 3 {
        let addr = argv[2];
        let target = ctx.st.clients.values().find(|c| c.addr.as_bytes() == addr).map(|c| c.id);
        let Some(id) = target else {
            return Err(CmdError::fixed("ERR No such client"));
        };
        kill(ctx, id, me);
        ctx.out.ok();
        return Ok(());
    }
    let (mut id, mut kind, mut addr, mut laddr, mut user, mut skipme) = (None, None, None, None, None, true);
    let mut i = 2;
    while i < argv.len() {
        if i + 1 >= argv.len() {
            return Err(SYNTAX);
        }
        let v = argv[i + 1];
        match argv[i].to_ascii_lowercase().as_slice() {
            b"id" => match int(v) {
                Ok(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::fixed("ERR client-id should be greater than 0")),
            },
            b"type" => kind = Some(kind_by_name(v)?),
            b"addr" => addr = Some(v),
            b"laddr" => laddr = Some(v),
            b"user" => {
                if v != b"default" {
                    return Err(CmdError::err(format_args!("No such user '{}'", text(v))));
                }
                user = Some(v);
            }
            b"skipme" => {
                skipme = if is(v, "yes") {
                    true
                } else if is(v, "no") {
                    false
                } else {
                    return Err(SYNTAX);
                }
            }
            _ => return Err(SYNTAX),
        }
        i += 2;
    }
    let _ = user;
    let victims: Vec<u64> = ctx
        .st
        .clients
        .values()
        .filter(|c| id.is_none_or(|i| c.id == i))
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .filter(|c| addr.is_none_or(|a| c.addr.as_bytes() == a))
        .filter(|c| laddr.is_none_or(|a| c.laddr.as_bytes() == a))
        .filter(|c| !(skipme && c.id == me))
        .map(|c| c.id)
        .collect();
    for v in &victims {
        kill(ctx, *v, me);
    }
    ctx.out.int(victims.len() as i64);
    Ok(())
}

fn kill(ctx: &mut Ctx<'_>, id: u64, me: u64) {
    if id == me {
        ctx.client.flags |= client::CLOSE_AFTER_REPLY;
    } else if let Some(c) = ctx.st.clients.get_mut(&id) {
        c.kill();
    }
}

/// CLIENT REPLY ON|OFF|SKIP
fn client_reply(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if is(argv[2], "on") {
        ctx.client.flags &= !(client::REPLY_OFF | client::REPLY_SKIP_NEXT);
        ctx.out.ok();
    } else if is(argv[2], "off") {
        ctx.client.flags |= client::REPLY_OFF;
    } else if is(argv[2], "skip") {
        if !ctx.client.has(client::REPLY_OFF) {
            ctx.client.flags |= client::REPLY_SKIP_NEXT;
        }
    } else {
        return Err(SYNTAX);
    }
    Ok(())
}

/// CLIENT NO-EVICT ON|OFF
fn client_no_evict(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if is(argv[2], "on") {
        ctx.client.flags |= client::NO_EVICT;
    } else if is(argv[2], "off") {
        ctx.client.flags &= !client::NO_EVICT;
    } else {
        return Err(SYNTAX);
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT HELP
fn client_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    help_reply(
        ctx,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
        ],
    )
}
