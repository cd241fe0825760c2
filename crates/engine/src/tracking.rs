//! Server-assisted client-side caching (CLIENT TRACKING; Redis's
//! `tracking.c`). A client that turned tracking on is told when a key it
//! may have cached changes:
//!
//! - default mode: the keys its read-only commands fetched are remembered
//!   (OPTIN: only after CLIENT CACHING YES; OPTOUT: unless CLIENT CACHING
//!   NO), and the first change to such a key sends one invalidation and
//!   forgets it;
//! - BCAST mode: every change to a key under one of its prefixes is sent,
//!   batched per prefix until the end of the worker's pass.
//!
//! Messages are RESP3 pushes (`invalidate`, [keys]) or, for a RESP2 client
//! that redirects them to a subscribed connection, pub/sub messages on
//! `__redis__:invalidate`. A flush invalidates everything with a null.
//! Keys are global across databases, as in Redis. Invalidations for the
//! client whose command is running wait until its reply is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferrokv_resp::Out;

use crate::client::Client;
use crate::command::{flag, Command};
use crate::state::State;

/// The channel RESP2 connections receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's tracking settings (CLIENT TRACKING ON ...).
#[derive(Clone, Debug, Default)]
pub struct ClientTracking {
    /// Client id that receives the messages (0: this client).
    pub redirect: u64,
    /// Broadcast mode.
    pub bcast: bool,
    /// Keys are remembered only after CLIENT CACHING YES.
    pub optin: bool,
    /// Keys are remembered unless CLIENT CACHING NO.
    pub optout: bool,
    /// No messages about the client's own changes.
    pub noloop: bool,
    /// CLIENT CACHING was given for the next command (or transaction).
    pub caching: bool,
    /// The redirect target has gone away.
    pub broken_redirect: bool,
    /// BCAST prefixes ("" for every key).
    pub prefixes: BTreeSet<Vec<u8>>,
}

/// Keys changed under one BCAST prefix since the last broadcast.
#[derive(Debug, Default)]
struct Prefix {
    clients: BTreeSet<u64>,
    /// Key → id of the client whose command last changed it (NOLOOP).
    keys: BTreeMap<Vec<u8>, Option<u64>>,
}

/// What an invalidation message carries.
enum Payload<'a> {
    /// One key.
    Key(&'a [u8]),
    /// Several keys (BCAST).
    Keys(&'a [&'a [u8]]),
    /// Everything (a flush).
    All,
}

/// The server-wide tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key → ids of the clients that may have cached it.
    table: HashMap<Vec<u8>, Vec<u64>>,
    items: usize,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Clients with tracking on.
    clients: usize,
    /// The client whose command is running, and what it is to be told once
    /// its reply is out (`None`: a flush).
    current: Option<u64>,
    pending: Vec<Option<Vec<u8>>>,
    /// The script command running (EVAL, FCALL, ...) and its arguments:
    /// reads inside a script remember the keys it declared.
    script: Option<(&'static Command, Vec<Vec<u8>>)>,
    /// Rounds in a row the table stayed over tracking-table-max-keys.
    over_limit_rounds: u32,
}

impl Tracking {
    /// True when some client has tracking on.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.clients > 0
    }

    /// Clients with tracking on (INFO tracking_clients).
    pub fn clients(&self) -> usize {
        self.clients
    }

    /// Keys in the table (INFO tracking_total_keys).
    pub fn keys(&self) -> usize {
        self.table.len()
    }

    /// (key, client) pairs in the table (INFO tracking_total_items).
    pub fn items(&self) -> usize {
        self.items
    }

    /// BCAST prefixes (INFO tracking_total_prefixes).
    pub fn prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

/// A prefix that would announce the same keys as one of `others`.
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// CLIENT TRACKING ON for client `id`: checks the options against each
/// other and the client's current mode, then enables. Errors are Redis's.
pub fn enable(st: &mut State, id: u64, mut opts: ClientTracking, prefixes: Vec<Vec<u8>>) -> Result<(), String> {
    let Some(info) = st.clients.get(&id) else { return Ok(()) };
    if !opts.bcast && !prefixes.is_empty() {
        return Err("PREFIX option requires BCAST mode to be enabled".into());
    }
    if let Some(cur) = &info.tracking {
        if cur.bcast != opts.bcast {
            return Err("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
    }
    if opts.bcast && (opts.optin || opts.optout) {
        return Err("OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if opts.optin && opts.optout {
        return Err("You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if let Some(cur) = &info.tracking {
        if (opts.optin && cur.optout) || (opts.optout && cur.optin) {
            return Err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
    }
    if opts.bcast {
        let existing = info.tracking.as_ref().map(|t| &t.prefixes);
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(c) = existing.and_then(|e| e.iter().find(|e| overlaps(e, p))) {
                return Err(format!(
                    "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(c)
                ));
            }
            if let Some(q) = prefixes[i + 1..].iter().find(|q| overlaps(p, q)) {
                return Err(format!(
                    "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                ));
            }
        }
    }
    let was_on = info.tracking.is_some();
    // Prefixes accumulate over repeated ON; the CACHING flag survives.
    if let Some(cur) = &info.tracking {
        opts.prefixes = cur.prefixes.clone();
        opts.caching = cur.caching;
    }
    if opts.bcast {
        let new: Vec<Vec<u8>> = if prefixes.is_empty() { vec![Vec::new()] } else { prefixes };
        for p in new {
            st.tracking.prefixes.entry(p.clone()).or_default().clients.insert(id);
            opts.prefixes.insert(p);
        }
    }
    if let Some(info) = st.clients.get_mut(&id) {
        info.tracking = Some(opts);
    }
    if !was_on {
        st.tracking.clients += 1;
        st.sync_expiry_logging();
    }
    Ok(())
}

/// CLIENT TRACKING OFF, RESET, or the client went away. Its ids left in
/// the table are dropped lazily, as in Redis.
pub fn disable(st: &mut State, id: u64) {
    let Some(t) = st.clients.get_mut(&id).and_then(|i| i.tracking.take()) else { return };
    for p in &t.prefixes {
        if let Some(prefix) = st.tracking.prefixes.get_mut(p) {
            prefix.clients.remove(&id);
            if prefix.clients.is_empty() {
                st.tracking.prefixes.remove(p);
            }
        }
    }
    st.tracking.clients -= 1;
    st.sync_expiry_logging();
}

/// Remembers the keys a read-only command of client `id` fetched
/// (Redis's trackingRememberKeys), unless OPTIN/OPTOUT and CLIENT CACHING
/// say otherwise.
pub fn remember(st: &mut State, id: u64, cmd: &Command, argv: &[&[u8]]) {
    let Some(t) = st.clients.get(&id).and_then(|i| i.tracking.as_ref()) else { return };
    if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) || cmd.has(flag::PUBSUB) {
        return;
    }
    let mut refs = Vec::new();
    if crate::command::keys::key_refs(cmd, argv, &mut refs).is_err() {
        return;
    }
    for (pos, _) in refs {
        let ids = st.tracking.table.entry(argv[pos].to_vec()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
            st.tracking.items += 1;
        }
    }
}

/// `key` changed (Redis's trackingInvalidateKey): tells the clients that
/// may have cached it, and queues it for the BCAST prefixes it is under.
pub fn invalidate(st: &mut State, key: &[u8]) {
    let by = st.tracking.current;
    invalidate_as(st, key, Some(by));
}

/// [`invalidate`] for a key the server itself removed (expiry, eviction):
/// no client changed it, so BCAST's NOLOOP leaves it in for everyone.
pub fn invalidate_removed(st: &mut State, key: &[u8]) {
    invalidate_as(st, key, Some(None));
}

/// `bcast`: whether to queue the key for BCAST prefixes, and as changed by
/// which client.
fn invalidate_as(st: &mut State, key: &[u8], bcast: Option<Option<u64>>) {
    let by = st.tracking.current;
    if let Some(modifier) = bcast.filter(|_| !st.tracking.prefixes.is_empty()) {
        for (p, prefix) in st.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                prefix.keys.insert(key.to_vec(), modifier);
            }
        }
    }
    let Some(ids) = st.tracking.table.remove(key) else { return };
    st.tracking.items -= ids.len();
    for id in ids {
        let Some(t) = st.clients.get(&id).and_then(|i| i.tracking.as_ref()) else { continue };
        // A client that switched to BCAST since is told by prefix only.
        if t.bcast || (t.noloop && by == Some(id)) {
            continue;
        }
        if by == Some(id) {
            st.tracking.pending.push(Some(key.to_vec()));
        } else {
            send(st, id, &Payload::Key(key), None);
        }
    }
}

/// A database was flushed: every tracking client is told that all keys are
/// invalid, and the table starts over (Redis's trackingInvalidateKeysOnFlush).
pub fn flush(st: &mut State) {
    if st.tracking.clients > 0 {
        let ids: Vec<u64> = st.clients.iter().filter(|(_, i)| i.tracking.is_some()).map(|(&id, _)| id).collect();
        for id in ids {
            if st.tracking.current == Some(id) {
                st.tracking.pending.push(None);
            } else {
                send(st, id, &Payload::All, None);
            }
        }
    }
    st.tracking.table = HashMap::new();
    st.tracking.items = 0;
}

/// Marks client `id`'s command as running: invalidations addressed to it
/// wait for [`end_command`].
pub fn begin_command(st: &mut State, id: u64) {
    st.tracking.current = Some(id);
}

/// The running command's tracking context, set aside while a blocked
/// client is served in its midst.
pub struct Saved {
    current: Option<u64>,
    pending: Vec<Option<Vec<u8>>>,
}

/// Serves blocked client `id` as the running client: what it invalidates
/// for itself follows its reply ([`leave`]).
pub fn enter(st: &mut State, id: u64) -> Saved {
    Saved { current: st.tracking.current.replace(id), pending: std::mem::take(&mut st.tracking.pending) }
}

/// Ends serving client `id` (its invalidations go through its outbox,
/// after the reply) and restores the running command's context.
pub fn leave(st: &mut State, id: u64, saved: Saved) {
    flush_pending(st, id, None);
    st.tracking.current = saved.current;
    st.tracking.pending = saved.pending;
}

/// Runs `f` as script command `cmd` with `argv`: reads inside count for
/// the keys the script declared, as in Redis (the caller's argv).
pub fn in_script<R>(st: &mut State, cmd: &'static Command, argv: &[&[u8]], f: impl FnOnce(&mut State) -> R) -> R {
    let outer = st.tracking.script.replace((cmd, argv.iter().map(|a| a.to_vec()).collect()));
    let r = f(st);
    st.tracking.script = outer;
    r
}

/// A read-only command ran inside a script for client `id`: the script's
/// declared keys may now be cached.
pub fn remember_script_keys(st: &mut State, id: u64) {
    let Some((cmd, argv)) = st.tracking.script.take() else { return };
    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    remember(st, id, cmd, &refs);
    st.tracking.script = Some((cmd, argv));
}

/// Sends what client `id`'s own command invalidated, after its reply in
/// `out`.
/// `out` is its reply buffer, or `None` to deliver through its outbox.
pub fn flush_pending(st: &mut State, id: u64, mut out: Option<&mut Out>) {
    for key in std::mem::take(&mut st.tracking.pending) {
        let payload = match &key {
            Some(k) => Payload::Key(k),
            None => Payload::All,
        };
        send(st, id, &payload, out.as_deref_mut());
    }
}

/// Writes what is pending for `client` into its reply buffer now, or,
/// when `quiet` (replies off or skipped), into [`Client::pushes`], which
/// the connection appends after dropping the reply.
pub fn write_pending(st: &mut State, client: &mut Client, out: &mut Out, quiet: bool) {
    if st.tracking.pending.is_empty() {
        return;
    }
    if quiet {
        let mut pushes = Out::new(out.proto);
        flush_pending(st, client.id, Some(&mut pushes));
        client.pushes.extend_from_slice(&pushes.buf);
    } else {
        flush_pending(st, client.id, Some(out));
    }
}

/// Ends `client`'s command: its pending invalidations go out after its
/// reply (in [`Client::pushes`] when replies are off: pushes are sent
/// regardless), and a CLIENT CACHING given before anything but CLIENT (or
/// inside MULTI) is spent, unless the command was only postponed.
pub fn end_command(st: &mut State, client: &mut Client, out: &mut Out, cmd: Option<&Command>, quiet: bool) {
    let id = client.id;
    write_pending(st, client, out, quiet);
    st.tracking.current = None;
    let was_client = cmd.is_some_and(|c| c.fullname.starts_with("client"));
    if !client.has(crate::client::MULTI) && !client.has(crate::client::POSTPONED) && !was_client {
        if let Some(t) = st.clients.get_mut(&id).and_then(|i| i.tracking.as_mut()) {
            t.caching = false;
        }
    }
}

/// Sends the keys changed under each BCAST prefix since the last call, one
/// message per prefix and client (Redis does it before sleeping).
pub fn broadcast(st: &mut State) {
    if st.tracking.prefixes.values().all(|p| p.keys.is_empty()) {
        return;
    }
    let mut messages: Vec<(u64, Vec<Vec<u8>>)> = Vec::new();
    for prefix in st.tracking.prefixes.values_mut() {
        if prefix.keys.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut prefix.keys);
        for &id in &prefix.clients {
            let noloop = st.clients.get(&id).and_then(|i| i.tracking.as_ref()).is_some_and(|t| t.noloop);
            let list: Vec<Vec<u8>> =
                keys.iter().filter(|(_, by)| !(noloop && **by == Some(id))).map(|(k, _)| k.clone()).collect();
            if !list.is_empty() {
                messages.push((id, list));
            }
        }
    }
    for (id, keys) in messages {
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        send(st, id, &Payload::Keys(&refs), None);
    }
}

/// Keeps the table within tracking-table-max-keys by invalidating keys
/// (Redis's trackingLimitUsedSlots: more effort each round it stays over).
pub fn limit(st: &mut State, max_keys: usize) {
    if max_keys == 0 || st.tracking.table.len() <= max_keys {
        st.tracking.over_limit_rounds = 0;
        return;
    }
    let effort = 100 * (st.tracking.over_limit_rounds as usize + 1);
    let victims: Vec<Vec<u8>> = st.tracking.table.keys().take(effort).cloned().collect();
    for k in victims {
        invalidate_as(st, &k, None);
        if st.tracking.table.len() <= max_keys {
            st.tracking.over_limit_rounds = 0;
            return;
        }
    }
    st.tracking.over_limit_rounds += 1;
}

/// Writes one invalidation for client `id` (Redis's sendTrackingMessage):
/// to its redirect target if it has one, as a push (RESP3) or a pub/sub
/// message (RESP2 target in subscriber mode), or nowhere (RESP2 without a
/// subscribed target). `out` is the client's own reply buffer when it is
/// the one running a command.
fn send(st: &mut State, id: u64, payload: &Payload<'_>, out: Option<&mut Out>) {
    let Some(info) = st.clients.get(&id) else { return };
    let Some(redirect) = info.tracking.as_ref().map(|t| t.redirect) else { return };
    // A flush's null is written in the tracking client's protocol.
    let own_resp3 = info.resp > 2;
    let mut target = id;
    if redirect != 0 {
        if !st.clients.contains_key(&redirect) {
            let info = st.clients.get_mut(&id).expect("looked up above");
            if let Some(t) = info.tracking.as_mut() {
                t.broken_redirect = true;
            }
            if own_resp3 {
                let mut msg = Out::new(info.protocol());
                msg.push(2);
                msg.bulk(b"tracking-redir-broken");
                msg.int(redirect as i64);
                match out {
                    Some(o) => o.buf.extend_from_slice(&msg.buf),
                    None => info.deliver(&msg.buf),
                }
            }
            return;
        }
        target = redirect;
    }
    let subscribed = st.pubsub.of(target).is_some_and(|s| s.channels.len() + s.patterns.len() + s.shard.len() > 0);
    let Some(tinfo) = st.clients.get_mut(&target) else { return };
    let mut msg = Out::new(tinfo.protocol());
    if tinfo.resp > 2 {
        msg.push(2);
        msg.bulk(b"invalidate");
    } else if target != id && subscribed {
        msg.array(3);
        msg.bulk(b"message");
        msg.bulk(CHANNEL);
    } else {
        // RESP2 has no room for pushes on the client's own connection.
        return;
    }
    match payload {
        Payload::Key(k) => {
            msg.array(1);
            msg.bulk(k);
        }
        Payload::Keys(ks) => {
            msg.array(ks.len());
            for k in ks.iter() {
                msg.bulk(k);
            }
        }
        Payload::All => msg.buf.extend_from_slice(if own_resp3 { b"_\r\n" } else { b"$-1\r\n" }),
    }
    match out {
        Some(o) if target == id => o.buf.extend_from_slice(&msg.buf),
        _ => tinfo.deliver(&msg.buf),
    }
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn prefixes_overlap_when_one_starts_the_other() {
        assert!(overlaps(b"user:", b"user:1"));
        assert!(overlaps(b"", b"x"));
        assert!(!overlaps(b"a", b"b"));
    }
}
