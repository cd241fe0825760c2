//! One client connection's buffers and parser, and the batch step that runs
//! every complete command in its input against the engine.
//!
//! A connection never has more than one batch of replies pending: while its
//! output cannot be written it is not read, so a client that does not read
//! stops being served instead of growing server memory.

use std::io::{ErrorKind, Write};

use bytes::{Buf, BytesMut};
use ferrokv_engine::client::{self, Client};
use ferrokv_engine::command::Command;
use ferrokv_engine::error::CmdError;
use ferrokv_engine::exec::execute;
use ferrokv_engine::script::busy::{Late, Running};
use ferrokv_engine::State;
use ferrokv_resp::request::Parsed;
use ferrokv_resp::{Limits, Out, Protocol, RequestParser};

/// Read size when the buffer needs room (Redis's PROTO_IOBUF_LEN).
pub const IOBUF: usize = 16 * 1024;
/// Most bytes read from one connection per pass of the worker loop, so one
/// client streaming a huge pipeline does not starve the others.
const READ_PER_PASS: usize = 64 * 1024;

/// Reuses a vector's allocation for a different lifetime of its borrows.
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    // An empty Vec collects in place: same layout, no allocation.
    v.into_iter().map(|_| -> &[u8] { unreachable!() }).collect()
}

/// Reads up to `max` bytes from the socket into the spare capacity of
/// `buf` with recv(2), without first zeroing it (a `&mut [u8]` over
/// uninitialised memory is not allowed; a raw pointer the kernel fills is).
fn recv_into(stream: &mio::net::TcpStream, buf: &mut BytesMut, max: usize) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let len = buf.len();
    debug_assert!(buf.capacity() - len >= max);
    // Safety: the region [len, len + max) is allocated capacity of `buf`;
    // recv writes at most `max` bytes there, and only the bytes it reports
    // are made part of the buffer.
    let n = unsafe { libc::recv(stream.as_raw_fd(), buf.as_mut_ptr().add(len).cast(), max, 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // Safety: `n` bytes were written by recv.
    unsafe { buf.set_len(len + n as usize) };
    Ok(n as usize)
}

/// Why a connection is closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    /// Still open.
    No,
    /// Close once pending replies are written (QUIT, protocol errors).
    AfterWrite,
    /// Close now, dropping pending output (EOF, kill, limits).
    Now,
}

/// What answering a connection while a script is busy led to.
#[derive(Debug, Default, Clone, Copy)]
pub struct BusyOutcome {
    /// A command waits for the script to end.
    pub waiting: bool,
    /// SHUTDOWN NOSAVE was received.
    pub shutdown: bool,
}

/// The outcome of reading a socket.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Nothing more to read until the next readiness event.
    Drained,
    /// The per-pass budget ran out with data possibly left: read again next pass.
    More,
    /// The peer closed or the socket failed.
    Closed,
}

/// A connection owned by a worker.
pub struct Conn {
    /// The socket.
    pub stream: mio::net::TcpStream,
    /// Engine-side client state.
    pub client: Client,
    /// Unparsed input.
    pub rbuf: BytesMut,
    /// Replies not yet written; `wpos` bytes of it are already out.
    pub out: Out,
    /// Bytes of `out.buf` already written.
    pub wpos: usize,
    parser: RequestParser,
    argv_store: Vec<&'static [u8]>,
    /// Bytes a partially received command still needs.
    need: usize,
    /// The socket may hold unread data (edge-triggered readiness).
    pub readable: bool,
    /// A write hit EAGAIN: wait for writability before writing or reading.
    pub write_blocked: bool,
    /// Closing state.
    pub closing: Closing,
    /// Input bytes not yet added to the server's statistics.
    pub pending_in: u64,
    /// When the output buffer went over the soft limit (ms since the epoch;
    /// 0 = under it).
    pub soft_limit_since: i64,
    /// The connection dropped its WATCHes while a script was busy that had
    /// already stopped taking them ([`Late`]): drop them when the engine is
    /// free.
    pub unwatch_pending: bool,
    /// Statistics of what it was answered while a script was busy.
    pub deferred: ferrokv_engine::script::busy::Deferred,
    /// A name HELLO SETNAME gave it while a script was busy (empty clears).
    pub pending_name: Option<Vec<u8>>,
    /// The last millisecond its worker's [`super::pace::Pacer`] counted it in.
    pub answered_ms: i64,
}

impl Conn {
    /// Whether what it was answered while a script was busy left work for
    /// the engine (statistics, a name, dropped watches).
    pub fn has_engine_work(&self) -> bool {
        !self.deferred.is_empty() || self.pending_name.is_some() || self.unwatch_pending
    }

    /// A connection for an accepted socket.
    pub fn new(stream: mio::net::TcpStream, client: Client) -> Self {
        Conn {
            stream,
            client,
            rbuf: BytesMut::with_capacity(IOBUF),
            out: Out::new(Protocol::Resp2),
            wpos: 0,
            parser: RequestParser::new(),
            argv_store: Vec::with_capacity(8),
            need: 0,
            readable: false,
            write_blocked: false,
            closing: Closing::No,
            pending_in: 0,
            soft_limit_since: 0,
            unwatch_pending: false,
            deferred: Default::default(),
            pending_name: None,
            answered_ms: 0,
        }
    }

    /// Whether replies are waiting to be written.
    pub fn has_output(&self) -> bool {
        self.wpos < self.out.buf.len()
    }

    /// Reads what the socket holds, up to the per-pass budget. A short read
    /// means the socket was drained (any later data raises a new
    /// edge-triggered event), which saves the EAGAIN read per request.
    pub fn read(&mut self) -> ReadOutcome {
        let mut got = 0;
        loop {
            let spare = self.rbuf.capacity() - self.rbuf.len();
            if self.need > spare {
                self.rbuf.reserve(self.need.min(1 << 30));
            } else if spare < IOBUF / 4 {
                self.rbuf.reserve(IOBUF);
            }
            let spare = self.rbuf.capacity() - self.rbuf.len();
            let len = self.rbuf.len();
            match recv_into(&self.stream, &mut self.rbuf, spare) {
                Ok(0) => return ReadOutcome::Closed,
                Ok(n) => {
                    debug_assert_eq!(self.rbuf.len(), len + n);
                    self.pending_in += n as u64;
                    got += n;
                    if n < spare {
                        return ReadOutcome::Drained;
                    }
                    if got >= READ_PER_PASS {
                        return ReadOutcome::More;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return ReadOutcome::Drained,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return ReadOutcome::Closed,
            }
        }
    }

    /// Writes pending replies; returns the bytes written, or `None` when
    /// the socket failed.
    pub fn flush(&mut self) -> Option<usize> {
        let mut written = 0;
        while self.has_output() {
            match self.stream.write(&self.out.buf[self.wpos..]) {
                Ok(n) => {
                    self.wpos += n;
                    written += n;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.write_blocked = true;
                    return Some(written);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        self.out.buf.clear();
        self.wpos = 0;
        if self.out.buf.capacity() > 1 << 20 {
            self.out.buf = Vec::with_capacity(IOBUF);
        }
        Some(written)
    }

    /// Runs every complete command in the input. Returns the number run.
    pub fn run_batch(&mut self, st: &mut State, now_ms: i64) -> usize {
        let limits = Limits { max_bulk_len: st.cfg.proto_max_bulk_len, auth_required: !self.client.authenticated };
        let mut pos = 0usize;
        let mut ran = 0;
        // A blocked client runs nothing until the engine unblocks it; its
        // pipelined commands wait in the buffer.
        while !self.client.has(client::BLOCKED) {
            let input = &self.rbuf[pos..];
            match self.parser.parse(input, &limits) {
                Ok(Parsed::Incomplete { need }) => {
                    self.need = need;
                    break;
                }
                Ok(Parsed::Empty { consumed }) => pos += consumed,
                Ok(Parsed::Command { consumed }) => {
                    let mut argv: Vec<&[u8]> = recycle(std::mem::take(&mut self.argv_store));
                    argv.extend(self.parser.args(input));
                    let mark = self.out.buf.len();
                    execute(st, &mut self.client, &mut self.out, &argv, now_ms);
                    self.argv_store = recycle(argv);
                    if self.client.has(client::POSTPONED) {
                        // CLIENT PAUSE: the command stays at the head of
                        // the input and runs once the pause ends.
                        break;
                    }
                    ran += 1;
                    let c = &mut self.client;
                    if c.flags & (client::REPLY_OFF | client::REPLY_SKIP) != 0 {
                        self.out.buf.truncate(mark);
                    }
                    if !c.pushes.is_empty() {
                        self.out.buf.append(&mut c.pushes);
                    }
                    c.flags &= !client::REPLY_SKIP;
                    if c.has(client::REPLY_SKIP_NEXT) {
                        c.flags = (c.flags & !client::REPLY_SKIP_NEXT) | client::REPLY_SKIP;
                    }
                    pos += consumed;
                    if c.has(client::CLOSE_AFTER_REPLY) || st.shutdown.is_some() {
                        self.closing = Closing::AfterWrite;
                        break;
                    }
                }
                Err(e) => {
                    self.out.error(format!("ERR {}", e.0));
                    st.count_error("ERR");
                    crate::verbose!(
                        "Protocol error ({}) from client: id={} addr={}",
                        e.0,
                        self.client.id,
                        self.client.addr
                    );
                    self.closing = Closing::AfterWrite;
                    break;
                }
            }
        }
        self.rbuf.advance(pos);
        if self.rbuf.is_empty() && self.rbuf.capacity() > 1 << 20 {
            self.rbuf = BytesMut::with_capacity(IOBUF);
        }
        ran
    }

    /// Answers this connection's commands while a busy script holds the
    /// engine, in Redis's order of checks: unknown commands and arity,
    /// authentication, MULTI-refused commands and the subscriber context,
    /// then BUSY for all but the few commands allowed while busy. WATCH,
    /// UNWATCH and RESET are answered at once and leave their engine part
    /// to the script ([`Late`]); a command that is allowed but needs the
    /// engine otherwise (REPLCONF) stays in the buffer with everything
    /// after it until the script ends.
    pub fn busy_batch(&mut self, running: &Running) -> BusyOutcome {
        use ferrokv_engine::command::flag;
        use ferrokv_engine::exec::{self, Resolved};
        use ferrokv_engine::script::busy::{while_busy, WhileBusy};
        let limits = Limits { max_bulk_len: 512 << 20, auth_required: !self.client.authenticated };
        let mut pos = 0usize;
        let mut outcome = BusyOutcome::default();
        while !self.client.has(client::BLOCKED) {
            let input = &self.rbuf[pos..];
            match self.parser.parse(input, &limits) {
                Ok(Parsed::Incomplete { need }) => {
                    self.need = need;
                    break;
                }
                Ok(Parsed::Empty { consumed }) => pos += consumed,
                Ok(Parsed::Command { consumed }) => {
                    let argv: Vec<&[u8]> = self.parser.args(input).collect();
                    let cmd = match exec::resolve(&argv) {
                        Resolved::Command(c) => c,
                        Resolved::Rejected(e, c) => {
                            self.reject(c, &e);
                            pos += consumed;
                            continue;
                        }
                    };
                    let checked = exec::client_gates(&self.client, cmd)
                        .and_then(|()| exec::context_gate(&self.client, self.out.resp3(), cmd));
                    if let Err(e) = checked {
                        self.reject(Some(cmd), &e);
                        pos += consumed;
                        continue;
                    }
                    pos += consumed;
                    let name = cmd.fullname.as_str();
                    let in_multi = self.client.has(client::MULTI);
                    // A transaction ends here as it would under the engine;
                    // its WATCHes are dropped by the script (or once the
                    // engine is free).
                    if name == "exec" {
                        let why = running.busy_error();
                        let abort =
                            CmdError::full(format!("EXECABORT Transaction discarded because of: {}", why.message()));
                        self.out.error(abort.message());
                        self.deferred.rejected(Some(cmd), &abort);
                        self.end_transaction(running);
                        continue;
                    }
                    if name == "discard" {
                        if in_multi {
                            self.end_transaction(running);
                            self.out.ok();
                            self.deferred.called(cmd, None);
                        } else {
                            self.out.error("ERR DISCARD without MULTI");
                            self.deferred.called(cmd, Some("ERR"));
                        }
                        continue;
                    }
                    if name == "unwatch" && !in_multi {
                        self.unwatch_later(running);
                        self.out.ok();
                        self.deferred.called(cmd, None);
                        continue;
                    }
                    // WATCH and RESET are answered now and take effect in
                    // the engine before the script's next command (an
                    // UNWATCH still waiting for the engine must go first).
                    // Not for connections that other clients write to
                    // (MONITOR, subscribers, RESP3 pushes): what the script
                    // sent them must come before this reply, and it reaches
                    // them only under the lock.
                    let fed = self.client.has(client::MONITOR | client::PUBSUB) || self.out.resp3();
                    if (name == "watch" && !in_multi || name == "reset") && !self.unwatch_pending && !fed {
                        let id = self.client.id;
                        let op = if name == "watch" {
                            Late::Watch { id, db: self.client.db, keys: argv[1..].iter().map(|k| k.to_vec()).collect() }
                        } else {
                            Late::Reset(id)
                        };
                        if running.defer(op).is_ok() {
                            if name == "watch" {
                                self.out.ok();
                            } else {
                                ferrokv_engine::cmd::conn::reset_connection(
                                    &mut self.client,
                                    &mut self.out,
                                    &running.requirepass(),
                                );
                                self.pending_name = Some(Vec::new());
                            }
                            self.deferred.called(cmd, None);
                            continue;
                        }
                    }
                    if name == "watch" && in_multi {
                        self.out.error("ERR WATCH inside MULTI is not allowed");
                        self.deferred.called(cmd, Some("ERR"));
                        continue;
                    }
                    if in_multi && cmd.has(flag::ALLOW_BUSY) && !matches!(name, "multi" | "quit" | "reset") {
                        let argv = argv.iter().map(|a| a.to_vec()).collect();
                        self.client.queued.push(client::Queued { cmd, argv });
                        self.out.simple(b"QUEUED");
                        continue;
                    }
                    match while_busy(running, cmd, &argv) {
                        WhileBusy::Wait => {
                            // Not consumed: it runs once the engine is free.
                            pos -= consumed;
                            outcome.waiting = true;
                            break;
                        }
                        WhileBusy::Reject(e) => self.reject(Some(cmd), &e),
                        WhileBusy::Fail(e) => self.called(cmd, Err(e)),
                        WhileBusy::Kill(eval) => {
                            let r = running.kill(eval);
                            if r.is_ok() {
                                self.out.ok();
                            }
                            self.called(cmd, r);
                        }
                        WhileBusy::Stats => {
                            let r = running.stats(&mut self.out);
                            self.called(cmd, r);
                        }
                        WhileBusy::Multi => {
                            let r = if self.client.has(client::MULTI) {
                                Err(CmdError::fixed("ERR MULTI calls can not be nested"))
                            } else {
                                self.client.flags |= client::MULTI;
                                self.out.ok();
                                Ok(())
                            };
                            self.called(cmd, r);
                        }
                        WhileBusy::Hello => {
                            let pass = running.requirepass();
                            let (r, name) = ferrokv_engine::cmd::conn::hello_without_engine(
                                &pass,
                                &mut self.client,
                                &mut self.out,
                                &argv,
                            );
                            if name.is_some() {
                                self.pending_name = name;
                            }
                            self.called(cmd, r);
                        }
                        WhileBusy::Auth => {
                            let pass = running.requirepass();
                            let r = ferrokv_engine::cmd::conn::auth_with(&pass, &mut self.client, &mut self.out, &argv);
                            self.called(cmd, r);
                        }
                        WhileBusy::Quit => {
                            self.out.ok();
                            self.deferred.called(cmd, None);
                            self.closing = Closing::AfterWrite;
                        }
                        WhileBusy::ShutdownNoSave => {
                            outcome.shutdown = true;
                            self.closing = Closing::AfterWrite;
                        }
                    }
                    if self.closing != Closing::No {
                        break;
                    }
                }
                Err(e) => {
                    self.out.error(format!("ERR {}", e.0));
                    self.closing = Closing::AfterWrite;
                    break;
                }
            }
        }
        self.rbuf.advance(pos);
        outcome
    }

    /// Ends a transaction without the engine.
    fn end_transaction(&mut self, running: &Running) {
        self.client.queued = Vec::new();
        self.client.flags &= !(client::MULTI | client::DIRTY_EXEC);
        self.unwatch_later(running);
    }

    /// Drops this connection's WATCHes without the engine: the busy script
    /// does it before its next command, or, once it has finished, the
    /// connection's next pass under the lock.
    fn unwatch_later(&mut self, running: &Running) {
        if self.unwatch_pending || running.defer(Late::Unwatch(self.client.id)).is_err() {
            self.unwatch_pending = true;
        }
    }

    /// A refusal; inside MULTI it dooms the transaction.
    fn reject(&mut self, cmd: Option<&Command>, e: &CmdError) {
        if self.client.has(client::MULTI) {
            self.client.flags |= client::DIRTY_EXEC;
        }
        self.out.error(e.message());
        self.deferred.rejected(cmd, e);
    }

    /// A command run without the engine: its error, if any, is the reply.
    fn called(&mut self, cmd: &Command, r: Result<(), CmdError>) {
        match r {
            Ok(()) => self.deferred.called(cmd, None),
            Err(e) => {
                self.out.error(e.message());
                self.deferred.called(cmd, Some(e.code()));
            }
        }
    }

    /// Bytes held by a partially received command (CLIENT LIST argv-mem).
    pub fn pending_args(&self) -> usize {
        self.parser.pending_args()
    }
}
