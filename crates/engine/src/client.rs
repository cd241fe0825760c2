//! Per-connection state, in two halves.
//!
//! [`Client`] is owned by the connection and passed to every command: the
//! selected database, authentication, flags. [`ClientInfo`] lives in the
//! engine's registry, visible to other connections (CLIENT LIST, CLIENT KILL,
//! MONITOR) and to the engine when it must deliver something to a
//! connection that is not the one running a command.

use std::sync::Arc;

use ferrokv_resp::Protocol;

/// Flag: close the connection once pending replies are written.
pub const CLOSE_AFTER_REPLY: u32 = 1 << 0;
/// Flag: the connection is a MONITOR.
pub const MONITOR: u32 = 1 << 1;
/// Flag: the peer is on a loopback address (enable-debug-command local).
pub const LOCAL: u32 = 1 << 2;
/// Flag: replies are suppressed (CLIENT REPLY OFF).
pub const REPLY_OFF: u32 = 1 << 3;
/// Flag: suppress the reply of the next command only (CLIENT REPLY SKIP).
pub const REPLY_SKIP_NEXT: u32 = 1 << 4;
/// Flag: suppress the reply of the current command.
pub const REPLY_SKIP: u32 = 1 << 5;
/// Flag: CLIENT NO-EVICT on.
pub const NO_EVICT: u32 = 1 << 6;
/// Flag: waiting in a blocking command; the connection runs nothing else
/// until the engine unblocks it.
pub const BLOCKED: u32 = 1 << 7;
/// Flag: blocking commands must not block (inside MULTI/EXEC or a script):
/// they behave like their non-blocking forms.
pub const DENY_BLOCKING: u32 = 1 << 8;
/// Flag: inside MULTI; commands are queued until EXEC.
pub const MULTI: u32 = 1 << 9;
/// Flag: a command was refused while queueing; EXEC fails with EXECABORT.
pub const DIRTY_EXEC: u32 = 1 << 10;
/// Flag: subscribed to at least one channel, pattern or shard channel.
pub const PUBSUB: u32 = 1 << 11;
/// Flag (with BLOCKED): CLIENT PAUSE postponed the command at the head of
/// the input; it runs from scratch when the pause ends.
pub const POSTPONED: u32 = 1 << 12;
/// Flag: the connection a script's redis.call runs on (its id is the
/// caller's).
pub const SCRIPT: u32 = 1 << 13;

/// A command queued by MULTI, resolved when it was queued.
#[derive(Debug)]
pub struct Queued {
    /// The resolved command.
    pub cmd: &'static crate::command::Command,
    /// Its arguments.
    pub argv: Vec<Vec<u8>>,
}

/// The connection's own state, handed to each command.
#[derive(Debug)]
pub struct Client {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// Selected database.
    pub db: usize,
    /// Whether AUTH succeeded (or no password is required).
    pub authenticated: bool,
    /// Flag bits ([`CLOSE_AFTER_REPLY`], ...).
    pub flags: u32,
    /// `ip:port` of the peer, for MONITOR and SLOWLOG lines.
    pub addr: String,
    /// Full name of the last command run (CLIENT LIST `cmd=`).
    pub last_cmd: &'static str,
    /// While [`BLOCKED`]: when the wait times out, ms since the epoch (0 =
    /// never). The connection's event loop keeps this deadline.
    pub block_deadline: i64,
    /// Commands queued since MULTI.
    pub queued: Vec<Queued>,
    /// Push messages that follow the command's reply even when replies are
    /// off or skipped (tracking invalidations of its own writes): the
    /// connection appends them after it has dropped the reply.
    pub pushes: Vec<u8>,
}

impl Client {
    /// A fresh client.
    pub fn new(id: u64, addr: String) -> Self {
        Client {
            id,
            db: 0,
            authenticated: true,
            flags: 0,
            addr,
            last_cmd: "NULL",
            block_deadline: 0,
            queued: Vec::new(),
            pushes: Vec::new(),
        }
    }

    /// True when flag `f` is set.
    #[inline]
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
}

/// What kind of client, for CLIENT LIST TYPE and output buffer limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientKind {
    /// An ordinary client.
    #[default]
    Normal,
    /// A replica connected to us (later).
    Replica,
    /// A client in subscribe mode (later).
    Pubsub,
    /// Our master (later).
    Master,
}

/// A wake-up callback: makes the connection look at its outbox or kill flag.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The shared half of a connection, kept in the engine's registry.
#[derive(Default)]
pub struct ClientInfo {
    /// Client id.
    pub id: u64,
    /// Peer `ip:port`.
    pub addr: String,
    /// Local `ip:port`.
    pub laddr: String,
    /// Socket file descriptor.
    pub fd: i64,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// Connection time (ms since the epoch).
    pub created_ms: i64,
    /// Last command or I/O (ms since the epoch), for `idle=` and `timeout`.
    pub last_interaction_ms: i64,
    /// Selected database, as of the last command batch.
    pub db: usize,
    /// Protocol, as of the last command batch.
    pub resp: i64,
    /// Last command's full name.
    pub last_cmd: &'static str,
    /// Kind of client.
    pub kind: ClientKind,
    /// A MONITOR.
    pub monitor: bool,
    /// Flags mirrored from [`Client::flags`].
    pub flags: u32,
    /// Query buffer length and spare capacity.
    pub qbuf: usize,
    /// Spare query buffer capacity.
    pub qbuf_free: usize,
    /// Bytes of the arguments of a command being received.
    pub argv_mem: usize,
    /// Output buffer bytes pending.
    pub obl: usize,
    /// Output buffer capacity held.
    pub omem: usize,
    /// Set by CLIENT KILL: the connection closes at its next look.
    pub kill: bool,
    /// Data other connections queued for this one (MONITOR lines, later
    /// pub/sub messages and unblocked replies).
    pub outbox: Vec<u8>,
    /// Wakes the connection.
    pub waker: Option<Waker>,
    /// Commands queued in MULTI, or -1 outside a transaction (CLIENT LIST `multi=`).
    pub multi: i64,
    /// Subscribed channels, patterns and shard channels (CLIENT LIST
    /// `sub=`, `psub=`, `ssub=`).
    pub subs: (usize, usize, usize),
    /// Set when the engine ended the connection's blocking wait (served,
    /// timed out, CLIENT UNBLOCK); the reply is in `outbox`.
    pub unblocked: bool,
    /// CLIENT TRACKING settings, while tracking is on.
    pub tracking: Option<crate::tracking::ClientTracking>,
}

impl std::fmt::Debug for ClientInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInfo").field("id", &self.id).field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl ClientInfo {
    /// Queues bytes for the connection and wakes it. Only the first
    /// delivery after the connection emptied its outbox wakes it: a
    /// publisher sending many messages costs one wake-up per pass, not one
    /// per message.
    pub fn deliver(&mut self, bytes: &[u8]) {
        let was_empty = self.outbox.is_empty();
        self.outbox.extend_from_slice(bytes);
        if was_empty {
            if let Some(w) = &self.waker {
                w();
            }
        }
    }

    /// Asks the connection to close.
    pub fn kill(&mut self) {
        self.kill = true;
        if let Some(w) = &self.waker {
            w();
        }
    }

    /// The protocol the connection speaks.
    pub fn protocol(&self) -> Protocol {
        if self.resp == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }
}
