//! Blocking commands: which clients wait on which keys, and serving them.
//!
//! A blocking command that finds nothing registers its client here and
//! replies nothing; the connection then runs no further command. Keys that
//! get a value (any command that creates or replaces a key: a push, RENAME,
//! SORT ... STORE, the push half of an LMOVE, ...) are signalled by the
//! database they live in. After every command the dispatcher serves the
//! signalled keys: each key's waiters in arrival order while the key still
//! holds data, each getting the reply its command would have given. A push
//! inside MULTI/EXEC or a script is served only after the whole transaction,
//! because serving runs once per top-level command.
//!
//! Replies go to the waiting connection's outbox, and its event loop is
//! woken; the loop also owns the timeouts (it polls with the nearest
//! deadline) and asks [`expire`] to end a wait that ran out.

use std::collections::{HashMap, VecDeque};

use crate::cmd::list::{self, list_at};
use crate::cmd::zset;
use crate::ctx::Ctx;
use crate::error::CmdError;
use crate::keyspace::Db;
use crate::state::State;
use crate::types::longdouble::timeout_ms;
use crate::types::Type;
use ferrokv_resp::num::i64_to_vec;
use ferrokv_resp::{Out, Protocol};

/// What a blocked client does once a key has data.
#[derive(Clone, Debug)]
pub enum BlockOp {
    /// BLPOP / BRPOP: pop one element from the head (or tail).
    ListPop {
        /// From the head.
        head: bool,
    },
    /// BLMOVE / BRPOPLPUSH: pop, push onto `dst`, reply with the element.
    ListMove {
        /// Destination key.
        dst: Vec<u8>,
        /// Pop from the head.
        from_head: bool,
        /// Push at the head.
        to_head: bool,
        /// Propagate as RPOPLPUSH rather than LMOVE.
        rpoplpush: bool,
    },
    /// BLMPOP: pop up to `count` elements.
    ListMPop {
        /// From the head.
        head: bool,
        /// Most elements to pop.
        count: usize,
    },
    /// BZPOPMIN / BZPOPMAX: pop the lowest (or highest) member.
    ZPop {
        /// Pop the highest.
        max: bool,
    },
    /// BZMPOP: pop up to `count` members.
    ZMPop {
        /// Pop the highest.
        max: bool,
        /// Most members to pop.
        count: usize,
    },
}

impl BlockOp {
    /// The type of value that can serve this operation.
    fn wants(&self) -> Type {
        match self {
            BlockOp::ListPop { .. } | BlockOp::ListMove { .. } | BlockOp::ListMPop { .. } => Type::List,
            BlockOp::ZPop { .. } | BlockOp::ZMPop { .. } => Type::Zset,
        }
    }
}

/// One blocked client.
#[derive(Debug)]
struct Waiter {
    db: usize,
    keys: Vec<Vec<u8>>,
    op: BlockOp,
    proto: Protocol,
    /// The blocking command (its id) and how long its call took, for
    /// its latency when the wait ends (Redis's `updateStatsOnUnblock`).
    cmd: usize,
    call_ns: u64,
}

/// The registry of blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    waiters: HashMap<u64, Waiter>,
    queues: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
}

impl Blocking {
    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// True when nobody waits.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Number of keys with waiters (INFO keyspace-level `blocking_keys`).
    pub fn keys(&self) -> usize {
        self.queues.len()
    }

    /// Notes how long client `id`'s blocking call took.
    pub fn set_call_time(&mut self, id: u64, ns: u64) {
        if let Some(w) = self.waiters.get_mut(&id) {
            w.call_ns = ns;
        }
    }

    fn add(&mut self, dbs: &mut [Db], id: u64, w: Waiter) {
        for k in &w.keys {
            let q = self.queues.entry((w.db, k.clone())).or_default();
            if !q.contains(&id) {
                q.push_back(id);
            }
            dbs[w.db].watched.insert(k.clone());
        }
        self.waiters.insert(id, w);
    }

    /// Forgets client `id` (served, timed out, unblocked or disconnected).
    pub fn remove(&mut self, dbs: &mut [Db], id: u64) -> bool {
        let Some(w) = self.waiters.remove(&id) else { return false };
        for k in w.keys {
            let qk = (w.db, k);
            if let Some(q) = self.queues.get_mut(&qk) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.queues.remove(&qk);
                    dbs[w.db].watched.remove(&qk.1);
                }
            }
        }
        true
    }

    /// Whether client `id` is waiting.
    pub fn is_blocked(&self, id: u64) -> bool {
        self.waiters.contains_key(&id)
    }
}

/// Parses a blocking command's timeout in seconds (decimals allowed, 0 =
/// forever) into an absolute deadline in ms, or 0.
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let ms = timeout_ms(arg).ok_or(CmdError::fixed("ERR timeout is not a float or out of range"))?;
    if ms < 0 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    Ok(if ms > 0 { ms.saturating_add(now_ms) } else { 0 })
}

/// Blocks the calling client on `keys` until one holds data or `deadline`
/// (0 = never) passes. Where blocking is not allowed (MULTI/EXEC, scripts)
/// it replies as a timeout would, except that BLMOVE and BRPOPLPUSH reply
/// a null bulk there (`null_array` false), as Redis does.
pub fn block(ctx: &mut Ctx<'_>, keys: &[&[u8]], deadline: i64, op: BlockOp, null_array: bool) {
    if ctx.client.has(crate::client::DENY_BLOCKING) {
        if null_array {
            ctx.out.null_array();
        } else {
            ctx.out.null();
        }
        return;
    }
    let w = Waiter {
        db: ctx.client.db,
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        op,
        proto: ctx.out.proto,
        cmd: ctx.cmd.id,
        call_ns: 0,
    };
    let st = &mut *ctx.st;
    st.blocking.add(&mut st.dbs, ctx.client.id, w);
    ctx.client.flags |= crate::client::BLOCKED;
    ctx.client.block_deadline = deadline;
    // Nothing to propagate: the command did not write.
    ctx.propagate_nothing();
}

/// Ends client `id`'s wait with `reply` and wakes its connection.
/// `served_ns` is how long serving it took, `None` for a timeout: as in
/// Redis, a served or CLIENT UNBLOCKed wait counts towards the command's
/// latency (its call's time plus the serving's), a timed-out one does not.
fn finish(st: &mut State, id: u64, reply: &[u8], served_ns: Option<u64>) {
    if let (Some(w), Some(served)) = (st.blocking.waiters.get(&id), served_ns) {
        if st.cfg.latency_tracking {
            st.latency[w.cmd].get_or_insert_with(Default::default).record_call(w.call_ns + served);
        }
    }
    let st_dbs = &mut st.dbs;
    st.blocking.remove(st_dbs, id);
    if let Some(info) = st.clients.get_mut(&id) {
        info.unblocked = true;
        info.deliver(reply);
    }
}

/// Ends client `id`'s wait if its deadline has passed, replying as Redis
/// does on a timeout (a null array). Returns whether it did.
pub fn expire(st: &mut State, id: u64, deadline: i64, now_ms: i64) -> bool {
    if deadline == 0 || now_ms < deadline {
        return false;
    }
    let Some(w) = st.blocking.waiters.get(&id) else { return false };
    let mut out = Out::new(w.proto);
    out.null_array();
    finish(st, id, &out.buf, None);
    true
}

/// CLIENT UNBLOCK: ends client `id`'s wait as a timeout, or with an
/// UNBLOCKED error. Returns whether the client was blocked.
pub fn unblock(st: &mut State, id: u64, error: bool) -> bool {
    let Some(w) = st.blocking.waiters.get(&id) else { return false };
    let mut out = Out::new(w.proto);
    if error {
        out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        out.null_array();
    }
    // Redis counts an unblocked call as failed, in either form.
    st.cmdstats[w.cmd].failed += 1;
    finish(st, id, &out.buf, Some(0));
    true
}

/// Serves the clients waiting on keys that got data, until no signalled
/// key is left (serving a BLMOVE can create its destination). Runs after
/// every top-level command.
pub fn serve_ready(st: &mut State, now_ms: i64) {
    if st.blocking.is_empty() {
        for db in &mut st.dbs {
            db.ready.clear();
        }
        return;
    }
    loop {
        let mut ready: Vec<(usize, Vec<u8>)> = Vec::new();
        for (i, db) in st.dbs.iter_mut().enumerate() {
            ready.extend(db.ready.drain(..).map(|k| (i, k)));
        }
        if ready.is_empty() {
            return;
        }
        let mut seen = std::collections::HashSet::new();
        ready.retain(|r| seen.insert(r.clone()));
        for (db, key) in ready {
            serve_key(st, db, &key, now_ms);
        }
    }
}

/// Serves `key`'s waiters in arrival order while it holds data of the type
/// they wait for.
fn serve_key(st: &mut State, db: usize, key: &[u8], now_ms: i64) {
    let ids: Vec<u64> = match st.blocking.queues.get(&(db, key.to_vec())) {
        Some(q) => q.iter().copied().collect(),
        None => return,
    };
    for (i, id) in ids.into_iter().enumerate() {
        // Redis looks a ready key up (an access) once for all its waiters.
        let found = if i == 0 { st.dbs[db].find(key, now_ms) } else { st.dbs[db].find_notouch(key, now_ms) };
        let Some(loc) = found else { return };
        let have = st.dbs[db].get(loc).vtype();
        let Some(w) = st.blocking.waiters.get(&id) else { continue };
        if w.op.wants() != have {
            continue;
        }
        let (op, proto) = (w.op.clone(), w.proto);
        let mut out = Out::new(proto);
        // The served client runs its command now: what it invalidates for
        // itself follows its reply; the running command's own pending
        // invalidations wait aside.
        let saved = crate::tracking::enter(st, id);
        let started = std::time::Instant::now();
        serve_one(st, db, key, &op, &mut out, now_ms);
        // Serving modified the key (and a move's destination): WATCHes on
        // them fail and caches are invalidated as for any other write.
        if st.watches.active_in(db) || st.tracking.enabled() {
            let present = st.dbs[db].peek(key).is_some();
            st.signal_modified(db, key, present);
            if let BlockOp::ListMove { dst, .. } = &op {
                st.signal_modified(db, dst, true);
            }
        }
        finish(st, id, &out.buf, Some(started.elapsed().as_nanos() as u64));
        crate::tracking::leave(st, id, saved);
    }
}

/// Runs one waiter's operation against `key` (which holds data of the right
/// type), writing its reply and recording the write for propagation.
fn serve_one(st: &mut State, db: usize, key: &[u8], op: &BlockOp, out: &mut Out, now_ms: i64) {
    let fill = st.cfg.limits.list_max_listpack_size;
    let loc = st.dbs[db].peek(key).expect("checked by the caller");
    let mut propagate: Vec<Vec<Vec<u8>>> = Vec::new();
    match op {
        BlockOp::ListPop { head } => {
            let v = list::pop(&mut st.dbs[db], loc, *head, 1, fill).pop().expect("a stored list is not empty");
            out.array(2);
            out.bulk(key);
            out.bulk(&v);
            st.dirty += 1;
            list::notify_popped(st, db, key, *head, None);
            propagate.push(vec![if *head { b"LPOP".to_vec() } else { b"RPOP".to_vec() }, key.to_vec()]);
        }
        BlockOp::ListMPop { head, count } => {
            let popped = list::pop(&mut st.dbs[db], loc, *head, *count, fill);
            out.array(2);
            out.bulk(key);
            out.array(popped.len());
            popped.iter().for_each(|v| out.bulk(v));
            st.dirty += popped.len() as u64;
            list::notify_popped(st, db, key, *head, None);
            propagate.push(vec![
                if *head { b"LPOP".to_vec() } else { b"RPOP".to_vec() },
                key.to_vec(),
                i64_to_vec(popped.len() as i64),
            ]);
        }
        BlockOp::ListMove { dst, from_head, to_head, rpoplpush } => {
            let d = &mut st.dbs[db];
            let dst_ok = match d.find(dst, now_ms) {
                Some(dl) => list_at(d, dl).is_ok(),
                None => true,
            };
            if !dst_ok {
                // Nothing is popped; the element stays for the next waiter.
                out.error(crate::error::WRONGTYPE.message());
                st.count_error("WRONGTYPE");
                return;
            }
            let lru = d.fresh_lru(now_ms);
            let loc = d.peek(key).expect("still there");
            let v = list::pop(d, loc, *from_head, 1, fill).pop().expect("a stored list is not empty");
            let found = d.peek(dst);
            list::push(d, found, dst, &[&v], *to_head, fill, lru);
            out.bulk(&v);
            st.dirty += 1;
            crate::notify::notify(st, crate::notify::class::LIST, list::push_event(*to_head), dst, db, None);
            list::notify_popped(st, db, key, *from_head, None);
            let side = |h: bool| if h { b"left".to_vec() } else { b"right".to_vec() };
            propagate.push(if *rpoplpush {
                vec![b"RPOPLPUSH".to_vec(), key.to_vec(), dst.clone()]
            } else {
                vec![b"LMOVE".to_vec(), key.to_vec(), dst.clone(), side(*from_head), side(*to_head)]
            });
        }
        // Each served BZPOP looks the key up again, as Redis's ZPOP does.
        BlockOp::ZPop { max } => {
            st.dbs[db].touch(loc, now_ms);
            propagate.push(zset::serve_pop(st, db, loc, key, *max, None, out))
        }
        BlockOp::ZMPop { max, count } => {
            st.dbs[db].touch(loc, now_ms);
            propagate.push(zset::serve_pop(st, db, loc, key, *max, Some(*count), out))
        }
    }
    if st.propagate {
        st.propagated.extend(propagate.into_iter().map(|argv| (db, argv)));
    }
}
