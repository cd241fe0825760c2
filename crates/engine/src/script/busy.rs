//! A script that runs past busy-reply-threshold (Redis's "timed out"
//! script). It holds the engine lock all along, so the rest of the server
//! cannot ask the engine about it: this record, shared outside the lock,
//! tells workers that a script is busy, lets SCRIPT KILL / FUNCTION KILL
//! stop it, and answers FUNCTION STATS while it runs.
//!
//! The script's instruction-count hook marks it busy once the threshold
//! has passed, then calls the server's handler so the connections of the
//! script's own worker are answered too (Redis's
//! `processEventsWhileBlocked`), and aborts the script on a kill request.
//! Commands answered meanwhile whose effect is in the engine (WATCH,
//! UNWATCH, RESET) leave it in a queue here ([`Late`]) that the script
//! applies between two of its own commands.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use ferrokv_resp::Out;

use crate::command::{flag, Command};
use crate::error::CmdError;

/// Redis's `slowevalerr`.
pub const BUSY_EVAL: CmdError =
    CmdError::fixed("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
/// Redis's `slowscripterr`.
pub const BUSY_FUNCTION: CmdError =
    CmdError::fixed("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");

/// The script running now, if any.
#[derive(Debug, Default)]
pub struct Running {
    info: Mutex<Option<Info>>,
    busy: AtomicBool,
    kill: AtomicBool,
    wrote: AtomicBool,
    eval: AtomicBool,
    late: Mutex<LateQueue>,
    /// `late` holds operations (read without its lock on every `redis.call`).
    late_waiting: AtomicBool,
}

/// The part of a command answered while the script is busy that needs the
/// engine. Redis runs such commands between two of the script's own (from
/// its yield hook), so the script applies them before its next
/// `redis.call` and before it ends: a key it writes after WATCH was
/// answered dirties the watch, as in Redis. Each names the client it is
/// for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Late {
    /// WATCH `keys` in database `db`.
    Watch {
        /// The client.
        id: u64,
        /// Its database when it sent WATCH.
        db: usize,
        /// The keys to watch.
        keys: Vec<Vec<u8>>,
    },
    /// UNWATCH, or the end of a transaction (EXEC aborted, DISCARD).
    Unwatch(u64),
    /// RESET's engine side (the connection resets its own state).
    Reset(u64),
}

#[derive(Debug, Default)]
struct LateQueue {
    /// A script runs and will apply what is queued; once it has closed the
    /// queue, commands wait for the engine instead.
    open: bool,
    ops: Vec<Late>,
}

#[derive(Debug)]
struct Info {
    name: String,
    argv: Vec<Vec<u8>>,
    started: Instant,
    /// Loaded libraries and functions, for FUNCTION STATS.
    counts: (usize, usize),
    /// requirepass when the script started, for AUTH and HELLO meanwhile.
    requirepass: String,
}

/// What the server runs from the hook of a busy script, on the script's
/// thread: answer the other connections of that thread.
static SERVE: OnceLock<fn(&Running)> = OnceLock::new();

/// Installs the server's handler for busy scripts (once, at start-up).
pub fn set_handler(f: fn(&Running)) {
    let _ = SERVE.set(f);
}

impl Running {
    /// Records the start of a script called `name`, run by `argv`.
    pub(crate) fn start(&self, name: &str, argv: &[&[u8]], eval: bool, counts: (usize, usize), requirepass: &str) {
        let argv = argv.iter().map(|a| a.to_vec()).collect();
        let info = Info {
            name: name.to_string(),
            argv,
            started: Instant::now(),
            counts,
            requirepass: requirepass.to_string(),
        };
        *self.info.lock().unwrap_or_else(|e| e.into_inner()) = Some(info);
        self.eval.store(eval, Ordering::SeqCst);
        self.kill.store(false, Ordering::SeqCst);
        self.wrote.store(false, Ordering::SeqCst);
        let mut late = self.late.lock().unwrap_or_else(|e| e.into_inner());
        late.open = true;
        late.ops.clear();
    }

    /// Queues `op` for the script to apply, or gives it back when the
    /// script has already taken its last batch (the caller waits for the
    /// engine instead).
    pub fn defer(&self, op: Late) -> Result<(), Late> {
        let mut late = self.late.lock().unwrap_or_else(|e| e.into_inner());
        if !late.open {
            return Err(op);
        }
        late.ops.push(op);
        self.late_waiting.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// The operations queued since the last call; `last` closes the queue
    /// (the script is ending and the engine lock is still held).
    pub(crate) fn take_late(&self, last: bool) -> Vec<Late> {
        if !last && !self.late_waiting.load(Ordering::SeqCst) {
            return Vec::new();
        }
        let mut late = self.late.lock().unwrap_or_else(|e| e.into_inner());
        self.late_waiting.store(false, Ordering::SeqCst);
        if last {
            late.open = false;
        }
        std::mem::take(&mut late.ops)
    }

    /// Records the end of the script.
    pub(crate) fn finish(&self) {
        self.busy.store(false, Ordering::SeqCst);
        self.kill.store(false, Ordering::SeqCst);
        *self.info.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The script called a write command: it can no longer be killed.
    pub(crate) fn wrote(&self) {
        self.wrote.store(true, Ordering::SeqCst);
    }

    /// Called from the script's hook: marks it busy past `threshold_ms`,
    /// lets the server answer clients, and says whether to abort it.
    pub(crate) fn check(&self, threshold_ms: u64) -> bool {
        let elapsed = match &*self.info.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(i) => i.started.elapsed(),
            None => return false,
        };
        if (elapsed.as_millis() as u64) < threshold_ms {
            return false;
        }
        if !self.busy.swap(true, Ordering::SeqCst) {
            let name = self.name();
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                elapsed.as_millis(),
                if self.eval.load(Ordering::SeqCst) { "SCRIPT KILL" } else { "FUNCTION KILL" },
                name
            );
        }
        if let Some(serve) = SERVE.get() {
            serve(self);
        }
        self.kill.load(Ordering::SeqCst)
    }

    fn name(&self) -> String {
        self.info.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|i| i.name.clone()).unwrap_or_default()
    }

    /// The requirepass in force while the script runs.
    pub fn requirepass(&self) -> String {
        self.info.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|i| i.requirepass.clone()).unwrap_or_default()
    }

    /// Whether a script has run past busy-reply-threshold and still runs.
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst)
    }

    /// The BUSY error for other clients' commands.
    pub fn busy_error(&self) -> CmdError {
        if self.eval.load(Ordering::SeqCst) {
            BUSY_EVAL
        } else {
            BUSY_FUNCTION
        }
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL (`scriptKill`).
    pub fn kill(&self, eval: bool) -> Result<(), CmdError> {
        if !self.is_busy() {
            return Err(CmdError::fixed("NOTBUSY No scripts in execution right now."));
        }
        if self.wrote.load(Ordering::SeqCst) {
            return Err(CmdError::fixed(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        let running_eval = self.eval.load(Ordering::SeqCst);
        if eval && !running_eval {
            return Err(BUSY_FUNCTION);
        }
        if !eval && running_eval {
            return Err(BUSY_EVAL);
        }
        self.kill.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// FUNCTION STATS while a script runs.
    pub fn stats(&self, out: &mut Out) -> Result<(), CmdError> {
        if self.eval.load(Ordering::SeqCst) {
            return Err(BUSY_EVAL);
        }
        let info = self.info.lock().unwrap_or_else(|e| e.into_inner());
        let (libraries, functions) = info.as_ref().map_or((0, 0), |i| i.counts);
        out.map(2);
        out.bulk(b"running_script");
        match &*info {
            Some(i) => {
                out.map(3);
                out.bulk(b"name");
                out.bulk(i.name.as_bytes());
                out.bulk(b"command");
                out.array(i.argv.len());
                for a in &i.argv {
                    out.bulk(a);
                }
                out.bulk(b"duration_ms");
                out.int(i.started.elapsed().as_millis() as i64);
            }
            None => out.null(),
        }
        out.bulk(b"engines");
        out.map(1);
        out.bulk(b"LUA");
        out.map(2);
        out.bulk(b"libraries_count");
        out.int(libraries as i64);
        out.bulk(b"functions_count");
        out.int(functions as i64);
        Ok(())
    }
}

/// Applies what commands answered during the script left for the engine.
pub(crate) fn apply_late(st: &mut crate::State, ops: Vec<Late>, now_ms: i64) {
    for op in ops {
        match op {
            Late::Watch { id, db, keys } => {
                let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                crate::cmd::multi::watch_keys(st, id, db, &keys, now_ms);
            }
            Late::Unwatch(id) => crate::cmd::multi::unwatch_all(st, id),
            Late::Reset(id) => crate::cmd::conn::reset_engine(st, id),
        }
    }
}

/// What a command that arrives while a script is busy does (the part of
/// Redis's `processCommand` after the command was resolved and allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhileBusy {
    /// Refused with this error (a transaction in progress is doomed).
    Reject(CmdError),
    /// Runs, and replies this error (counted as a failed call).
    Fail(CmdError),
    /// SCRIPT KILL (`true`) or FUNCTION KILL.
    Kill(bool),
    /// FUNCTION STATS.
    Stats,
    /// SHUTDOWN NOSAVE: stop the process now.
    ShutdownNoSave,
    /// MULTI.
    Multi,
    /// QUIT.
    Quit,
    /// HELLO: answered without the engine.
    Hello,
    /// AUTH: answered without the engine.
    Auth,
    /// Allowed, but it needs the engine: it waits for the script to end,
    /// and so does everything the connection sent after it.
    Wait,
}

/// Decides what `cmd` (resolved, past the auth and context gates) does
/// while the script in `running` is busy.
pub fn while_busy(running: &Running, cmd: &Command, argv: &[&[u8]]) -> WhileBusy {
    if !cmd.has(flag::ALLOW_BUSY) {
        return WhileBusy::Reject(running.busy_error());
    }
    match cmd.fullname.as_str() {
        "script|kill" => WhileBusy::Kill(true),
        "function|kill" => WhileBusy::Kill(false),
        "function|stats" => WhileBusy::Stats,
        "multi" => WhileBusy::Multi,
        "quit" => WhileBusy::Quit,
        "hello" => WhileBusy::Hello,
        "auth" => WhileBusy::Auth,
        "shutdown" => {
            // Only NOSAVE gets a script out (`shutdownCommand`).
            if argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
                WhileBusy::ShutdownNoSave
            } else {
                WhileBusy::Fail(running.busy_error())
            }
        }
        _ => WhileBusy::Wait,
    }
}

/// What the commands answered while a busy script held the engine did to
/// the statistics (errorstats, a command's calls, failed and rejected
/// calls): kept by the connection, applied once the engine is free.
#[derive(Debug, Default)]
pub struct Deferred {
    events: Vec<Counted>,
}

#[derive(Debug)]
struct Counted {
    /// The command's table index, if it resolved to one.
    cmd: Option<usize>,
    /// Refused before running, rather than run.
    rejected: bool,
    /// The code of the error replied, if any.
    error: Option<String>,
}

impl Deferred {
    /// `cmd` was refused with `e` (unknown, arity, BUSY, ...).
    pub fn rejected(&mut self, cmd: Option<&Command>, e: &CmdError) {
        self.events.push(Counted { cmd: cmd.map(|c| c.id), rejected: true, error: Some(e.code().to_string()) });
    }

    /// `cmd` ran; `error` is the code of the error it replied, if any.
    pub fn called(&mut self, cmd: &Command, error: Option<&str>) {
        self.events.push(Counted { cmd: Some(cmd.id), rejected: false, error: error.map(str::to_string) });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Takes over what `other` recorded (its connection closed before the
    /// engine was free).
    pub fn absorb(&mut self, other: &mut Deferred) {
        self.events.append(&mut other.events);
    }

    /// Adds what was recorded to the engine's counters.
    pub fn apply(&mut self, st: &mut crate::State) {
        for e in self.events.drain(..) {
            if let Some(id) = e.cmd {
                let stat = &mut st.cmdstats[id];
                if e.rejected {
                    stat.rejected += 1;
                } else {
                    stat.calls += 1;
                    stat.failed += u64::from(e.error.is_some());
                }
            }
            if let Some(code) = &e.error {
                st.count_error(code);
            }
        }
    }
}
