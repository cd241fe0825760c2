//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! Queueing happens in the dispatcher ([`crate::exec::execute`]): once a
//! client is in MULTI every command but these (and QUIT, RESET) is checked
//! and queued instead of run. EXEC runs the queue under the same engine
//! lock as any command, so no other client's command runs in between.

use crate::client::{self, Client};
use crate::command::CommandSpec;
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::state::State;

/// The transactions family.
pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, multi).flags("noscript loading stale fast allow_busy").acl("fast transaction"),
    CommandSpec::new("exec", 1, exec).flags("noscript loading stale skip_slowlog").acl("slow transaction"),
    CommandSpec::new("discard", 1, discard).flags("noscript loading stale fast allow_busy").acl("fast transaction"),
    CommandSpec::new("watch", -2, watch)
        .flags("noscript loading stale fast allow_busy")
        .acl("fast transaction")
        .keys(&[crate::command::KeySpec::range("RO", 1, -1, 1)]),
    CommandSpec::new("unwatch", 1, unwatch).flags("noscript loading stale fast allow_busy").acl("fast transaction"),
];

/// `EXECABORT`, for a transaction that had a command refused while queueing.
pub const EXECABORT: CmdError = CmdError::fixed("EXECABORT Transaction discarded because of previous errors.");

/// Ends client's transaction state: queue, flags and watches (Redis's
/// `discardTransaction`).
pub fn discard_transaction(st: &mut State, client: &mut Client) {
    client.queued = Vec::new();
    client.flags &= !(client::MULTI | client::DIRTY_EXEC);
    unwatch_all(st, client.id);
}

/// Forgets every key client `id` watches.
pub fn unwatch_all(st: &mut State, id: u64) {
    if st.watches.has_client(id) {
        st.watches.unwatch_all(id);
        st.sync_expiry_logging();
    }
}

/// MULTI
fn multi(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if ctx.client.has(client::MULTI) {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.flags |= client::MULTI;
    ctx.out.ok();
    Ok(())
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if !ctx.client.has(client::MULTI) {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_transaction(ctx.st, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// Whether a key client `id` watched while it was live has since expired
/// (Redis's `isWatchedKeyExpired`): EXEC then fails like for a write.
fn watched_key_expired(st: &State, id: u64, now_ms: i64) -> bool {
    st.watches.live_keys_of(id).into_iter().any(|(db, key)| {
        let d = &st.dbs[db];
        d.peek(&key).is_some_and(|loc| d.get(loc).expire().is_some_and(|t| t <= now_ms))
    })
}

/// EXEC
fn exec(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if !ctx.client.has(client::MULTI) {
        return Err(CmdError::err("EXEC without MULTI"));
    }
    let id = ctx.client.id;
    if ctx.st.watches.has_client(id) && watched_key_expired(ctx.st, id, ctx.now_ms) {
        ctx.st.watches.mark_dirty(id);
    }
    if ctx.client.has(client::DIRTY_EXEC) {
        discard_transaction(ctx.st, ctx.client);
        return Err(EXECABORT);
    }
    if ctx.st.watches.is_dirty(id) {
        discard_transaction(ctx.st, ctx.client);
        ctx.out.null_array();
        return Ok(());
    }
    // Blocking commands run as their non-blocking forms inside EXEC.
    let deny_before = ctx.client.has(client::DENY_BLOCKING);
    ctx.client.flags |= client::DENY_BLOCKING;
    ctx.st.watches.unwatch_all(id);
    ctx.st.sync_expiry_logging();
    let queued = std::mem::take(&mut ctx.client.queued);
    let mark = ctx.st.propagated.len();
    ctx.out.array(queued.len());
    for q in &queued {
        let argv: Vec<&[u8]> = q.argv.iter().map(Vec::as_slice).collect();
        crate::exec::call(ctx.st, ctx.client, ctx.out, q.cmd, &argv, ctx.now_ms);
    }
    if !deny_before {
        ctx.client.flags &= !client::DENY_BLOCKING;
    }
    ctx.st.wrap_propagated_since(mark);
    discard_transaction(ctx.st, ctx.client);
    ctx.propagate_nothing();
    Ok(())
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    if ctx.client.has(client::MULTI) {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    watch_keys(ctx.st, ctx.client.id, ctx.client.db, &argv[1..], ctx.now_ms);
    ctx.out.ok();
    Ok(())
}

/// Client `id` watches `keys` in database `db` (also applied by a busy
/// script for a WATCH answered meanwhile).
pub fn watch_keys(st: &mut State, id: u64, db: usize, keys: &[&[u8]], now_ms: i64) {
    // Watching more is pointless once the transaction is bound to fail.
    if st.watches.is_dirty(id) {
        return;
    }
    for key in keys {
        let d = &st.dbs[db];
        let expired = d.peek(key).is_some_and(|loc| d.get(loc).expire().is_some_and(|t| t <= now_ms));
        st.watches.watch(id, db, key, expired);
    }
    st.sync_expiry_logging();
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.st.watches.unwatch_all(ctx.client.id);
    ctx.st.sync_expiry_logging();
    ctx.out.ok();
    Ok(())
}
