//! CLIENT PAUSE (Redis's `pauseClients`): for a while, clients' commands —
//! all of them, or only those that write or may replicate — are postponed,
//! and the dataset stays still: keys past their TTL read as missing but are
//! not deleted, and neither the active expiry cycle nor eviction runs. A
//! failover uses this to let replicas catch up with a master that takes no
//! more writes.
//!
//! A postponed command is not run at all: the connection keeps it at the
//! head of its input, flagged BLOCKED, and parses it again once the pause
//! ends, so it goes through every check afresh (as in Redis, whose
//! postponed clients start their command over).

use crate::client::{self, Client};
use crate::command::{flag, Command};
use crate::state::State;

/// A pause in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    /// WRITE mode: only writes (and commands that may replicate) wait.
    pub write_only: bool,
    /// When it ends (ms since the epoch).
    pub end_ms: i64,
}

/// Starts a pause, or extends the one in force: the later end and the
/// stricter mode win, as when Redis merges pauses of one purpose.
pub fn pause(st: &mut State, end_ms: i64, write_only: bool) {
    st.pause = Some(match st.pause {
        Some(p) => Pause { write_only: p.write_only && write_only, end_ms: p.end_ms.max(end_ms) },
        None => Pause { write_only, end_ms },
    });
    sync(st);
}

/// Ends the pause (CLIENT UNPAUSE, or its time ran out): every postponed
/// client goes back to its command.
pub fn unpause(st: &mut State) {
    if st.pause.take().is_some() {
        sync(st);
        release(st);
    }
}

/// The pause in force at `now_ms`, ending it first if its time is up
/// (Redis's checkClientPauseTimeoutAndReturnIfPaused).
pub fn active(st: &mut State, now_ms: i64) -> Option<Pause> {
    match st.pause {
        Some(p) if p.end_ms < now_ms => {
            unpause(st);
            None
        }
        p => p,
    }
}

/// Whether `cmd` from `client` must wait for the pause to end: under ALL
/// every command does, under WRITE those that write or may replicate
/// (EVAL, PUBLISH, ...), and an EXEC whose queue holds one.
pub fn must_wait(st: &mut State, client: &Client, cmd: &Command, now_ms: i64) -> bool {
    let Some(p) = active(st, now_ms) else { return false };
    if !p.write_only {
        return true;
    }
    let writes = |c: &Command| c.has(flag::WRITE) || c.has(flag::MAY_REPLICATE);
    writes(cmd) || (cmd.fullname == "exec" && client.queued.iter().any(|q| writes(q.cmd)))
}

/// Parks `client` until the pause ends.
pub fn postpone(st: &mut State, client: &mut Client) {
    client.flags |= client::BLOCKED | client::POSTPONED;
    st.postponed.push(client.id);
}

/// Wakes every postponed client; each starts its command over.
fn release(st: &mut State) {
    for id in std::mem::take(&mut st.postponed) {
        if let Some(info) = st.clients.get_mut(&id) {
            info.unblocked = true;
            // Nothing to say; the delivery wakes the connection's worker.
            info.deliver(&[]);
        }
    }
}

/// Freezes lazy expiry in every database while a pause is in force.
fn sync(st: &mut State) {
    let frozen = st.pause.is_some();
    for db in &mut st.dbs {
        db.frozen = frozen;
    }
}
