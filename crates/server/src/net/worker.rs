//! A worker thread's event loop, shaped like Redis's: poll once, read every
//! ready socket, run all their commands under one acquisition of the engine
//! lock, write every reply, poll again.
//!
//! Writing all replies at the end of a pass means clients answer while the
//! worker is still writing, so the next poll usually finds work instead of
//! sleeping; on loopback a sleeping server makes the client's next send pay
//! for waking it. It also takes the engine lock once per pass rather than
//! once per connection.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use ferrokv_engine::client::{Client, ClientInfo, BLOCKED, LOCAL, MULTI, POSTPONED, PUBSUB};
use ferrokv_engine::exec::unix_ms;
use ferrokv_engine::script::busy::Running;
use ferrokv_engine::state::ShutdownMode;
use ferrokv_engine::State;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

use super::conn::{Closing, Conn, ReadOutcome};
use super::pace::{Nap, Pacer};
use super::{set_keepalive, Shared, DENIED};

const WAKER: Token = Token(usize::MAX);

fn listener_token(i: usize) -> Token {
    Token(usize::MAX - 1 - i)
}

/// Connections by slot (the slot is the poll token).
#[derive(Default)]
struct Slots {
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
}

impl Slots {
    fn insert(&mut self, c: Conn) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.conns[i] = Some(c);
                i
            }
            None => {
                self.conns.push(Some(c));
                self.conns.len() - 1
            }
        }
    }

    fn get(&mut self, i: usize) -> Option<&mut Conn> {
        self.conns.get_mut(i).and_then(Option::as_mut)
    }

    /// Lends a connection out without freeing its slot (see `put`).
    fn take(&mut self, i: usize) -> Option<Conn> {
        self.conns.get_mut(i)?.take()
    }

    fn put(&mut self, i: usize, c: Conn) {
        self.conns[i] = Some(c);
    }

    fn remove(&mut self, i: usize) -> Option<Conn> {
        let c = self.conns.get_mut(i)?.take();
        if c.is_some() {
            self.free.push(i);
        }
        c
    }
}

/// What a worker needs to hand out wake-ups for its connections.
#[derive(Clone)]
struct Wakeups {
    inbox: Arc<Mutex<Vec<usize>>>,
    waker: Arc<Waker>,
}

impl Wakeups {
    fn for_slot(&self, slot: usize) -> ferrokv_engine::client::Waker {
        let w = self.clone();
        Arc::new(move || {
            w.inbox.lock().unwrap_or_else(|e| e.into_inner()).push(slot);
            let _ = w.waker.wake();
        })
    }
}

/// A worker's connections, reachable from a busy script's hook on the same
/// thread. A connection whose commands are running is lent out of `slots`,
/// so the hook only ever sees the others.
struct Host {
    slots: RefCell<Slots>,
    shared: Arc<Shared>,
    /// Connections the hook read from: the loop looks at them again.
    revisit: RefCell<Vec<usize>>,
    listeners: RefCell<Vec<TcpListener>>,
    registry: mio::Registry,
    wakeups: Wakeups,
    /// Connections accepted while a busy script held the engine: served
    /// BUSY replies meanwhile, registered as clients once it is free.
    unregistered: RefCell<Vec<usize>>,
    /// Clients that disconnected while the engine was held.
    closed: RefCell<Vec<u64>>,
    /// Connections answered while a busy script held the engine that left
    /// work for it: visited again until it is free.
    after_busy: RefCell<Vec<usize>>,
    /// What those were answered while a busy script held the engine, for
    /// the statistics.
    orphaned: RefCell<ferrokv_engine::script::busy::Deferred>,
    /// Whether new clients must AUTH (as of the last time the engine was
    /// free), for the connections accepted while it is not.
    auth_required: std::cell::Cell<bool>,
    /// The engine's client id counter, usable without the engine.
    ids: Arc<std::sync::atomic::AtomicU64>,
}

impl Host {
    /// Accepts every pending connection on listener `i`. With the engine
    /// (`st`) they are admitted at once; without it (a busy script holds
    /// it) they are served provisionally and admitted later, so a client
    /// that connects during a long script gets BUSY, as from Redis, rather
    /// than silence.
    fn accept(&self, i: usize, st: Option<&mut State>, active: &mut Vec<usize>) {
        let mut pending: Vec<(mio::net::TcpStream, SocketAddr)> = Vec::new();
        let ls = self.listeners.borrow();
        loop {
            match ls[i].accept() {
                Ok(s) => pending.push(s),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Not listening: CONFIG SET port/bind is moving it; the new
                // set comes with the next wake-up.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
                Err(e) => {
                    crate::warning!("Accepting client connection: {e}");
                    // EMFILE and friends: give connections a moment to close.
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    break;
                }
            }
        }
        drop(ls);
        if pending.is_empty() {
            return;
        }
        let mut slots = self.slots.borrow_mut();
        match st {
            Some(st) => {
                for (sock, peer) in pending {
                    if let Some(slot) = self.admit(st, &mut slots, sock, peer) {
                        active.push(slot);
                    }
                }
            }
            None => {
                for (sock, peer) in pending {
                    let _ = sock.set_nodelay(true);
                    let id = self.ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let mut client = Client::new(id, peer.to_string());
                    client.authenticated = !self.auth_required.get();
                    if peer.ip().is_loopback() {
                        client.flags |= LOCAL;
                    }
                    let Some(slot) = self.watch(&mut slots, Conn::new(sock, client)) else { continue };
                    self.unregistered.borrow_mut().push(slot);
                    active.push(slot);
                }
            }
        }
    }

    /// Polls the current listening sockets in place of the ones it had
    /// (they move with CONFIG SET port/bind); returns how many there are.
    fn take_listeners(&self) -> usize {
        let new: Vec<TcpListener> = {
            let set = self.shared.listeners.set.lock().unwrap_or_else(|e| e.into_inner());
            set.iter().filter_map(|l| l.try_clone().ok()).map(TcpListener::from_std).collect()
        };
        let mut ls = self.listeners.borrow_mut();
        for l in ls.iter_mut() {
            let _ = self.registry.deregister(l);
        }
        *ls = new;
        for (i, l) in ls.iter_mut().enumerate() {
            if let Err(e) = self.registry.register(l, listener_token(i), Interest::READABLE) {
                crate::warning!("Polling a listening socket: {e}");
            }
        }
        ls.len()
    }

    /// Puts `c` in a slot and under the poll; `None` if polling failed.
    fn watch(&self, slots: &mut Slots, c: Conn) -> Option<usize> {
        let slot = slots.insert(c);
        let c = slots.get(slot).expect("just inserted");
        if self.registry.register(&mut c.stream, Token(slot), Interest::READABLE | Interest::WRITABLE).is_err() {
            slots.remove(slot);
            return None;
        }
        Some(slot)
    }

    /// Admits a new connection as a client (limits, protected mode), and
    /// returns its slot.
    fn admit(
        &self,
        st: &mut State,
        slots: &mut Slots,
        mut sock: mio::net::TcpStream,
        peer: SocketAddr,
    ) -> Option<usize> {
        let _ = sock.set_nodelay(true);
        let local = peer.ip().is_loopback();
        let id = st.next_id();
        let client = register(st, &mut sock, peer, id)?;
        let mut client = Client::new(id, client);
        client.authenticated = st.cfg.requirepass.is_empty();
        if local {
            client.flags |= LOCAL;
        }
        let Some(slot) = self.watch(slots, Conn::new(sock, client)) else {
            st.unregister_client(id);
            return None;
        };
        if let Some(info) = st.clients.get_mut(&id) {
            info.waker = Some(self.wakeups.for_slot(slot));
        }
        Some(slot)
    }

    /// With the engine free again: forgets the clients that left and
    /// registers the connections accepted while it was held.
    fn settle(&self, st: &mut State) {
        for id in self.closed.borrow_mut().drain(..) {
            st.unregister_client(id);
        }
        self.orphaned.borrow_mut().apply(st);
        self.auth_required.set(!st.cfg.requirepass.is_empty());
        let mut slots = self.slots.borrow_mut();
        for slot in self.unregistered.borrow_mut().drain(..) {
            let Some(c) = slots.get(slot) else { continue };
            let peer = c.stream.peer_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
            let id = c.client.id;
            match register(st, &mut c.stream, peer, id) {
                Some(_) => {
                    if let Some(info) = st.clients.get_mut(&id) {
                        info.resp = c.out.proto.number();
                        info.waker = Some(self.wakeups.for_slot(slot));
                    }
                }
                // Refused (maxclients, protected mode): the reason was
                // written; close without reading more.
                None => c.closing = Closing::Now,
            }
        }
    }
}

/// Registers a connection from `peer` as client `id`, or writes why it is
/// refused (maxclients, protected mode) and returns `None`.
fn register(st: &mut State, sock: &mut mio::net::TcpStream, peer: SocketAddr, id: u64) -> Option<String> {
    let now = unix_ms();
    set_keepalive(sock, st.cfg.tcp_keepalive);
    let local = peer.ip().is_loopback();
    if st.clients.len() as i64 >= st.cfg.maxclients {
        st.stats.rejected_connections += 1;
        let _ = std::io::Write::write(sock, b"-ERR max number of clients reached\r\n");
        return None;
    }
    if st.cfg.protected_mode && st.cfg.requirepass.is_empty() && !local {
        st.stats.rejected_connections += 1;
        let _ = std::io::Write::write(sock, DENIED.as_bytes());
        return None;
    }
    st.stats.connections_received += 1;
    let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let fd = {
        use std::os::fd::AsRawFd;
        sock.as_raw_fd() as i64
    };
    st.register_client_as(
        id,
        ClientInfo {
            addr: peer.to_string(),
            laddr,
            fd,
            created_ms: now,
            last_interaction_ms: now,
            resp: 2,
            multi: -1,
            last_cmd: "NULL",
            ..Default::default()
        },
    );
    Some(peer.to_string())
}

thread_local! {
    static HOST: RefCell<Option<Rc<Host>>> = const { RefCell::new(None) };
}

/// Called from a busy script's hook on its worker's thread: answers the
/// worker's other connections as Redis's `processEventsWhileBlocked` does
/// (BUSY, SCRIPT KILL, FUNCTION STATS, SHUTDOWN NOSAVE, ...).
pub fn serve_while_busy(running: &Running) {
    let Some(host) = HOST.with(|h| h.borrow().clone()) else { return };
    let listeners = host.listeners.try_borrow().map_or(0, |l| l.len());
    let mut accepted = Vec::new();
    for i in 0..listeners {
        host.accept(i, None, &mut accepted);
    }
    let Ok(mut slots) = host.slots.try_borrow_mut() else { return };
    let mut revisit = host.revisit.borrow_mut();
    for (slot, c) in slots.conns.iter_mut().enumerate() {
        let Some(c) = c else { continue };
        if c.closing != Closing::No || c.write_blocked {
            continue;
        }
        match c.read() {
            ReadOutcome::Drained => {}
            ReadOutcome::More => c.readable = true,
            ReadOutcome::Closed => c.closing = Closing::Now,
        }
        if c.closing == Closing::No && !c.rbuf.is_empty() {
            let o = c.busy_batch(running);
            if o.shutdown {
                host.shared.request_shutdown(ShutdownMode::NoSave);
            }
        }
        if c.closing != Closing::Now && c.has_output() && c.flush().is_none() {
            c.closing = Closing::Now;
        }
        revisit.push(slot);
    }
}

/// Runs a worker until the process exits.
pub fn run(shared: Arc<Shared>) {
    let mut poll = Poll::new().expect("epoll instance");
    let wakeups = Wakeups {
        inbox: Arc::new(Mutex::new(Vec::new())),
        waker: Arc::new(Waker::new(poll.registry(), WAKER).expect("waker")),
    };
    shared.listeners.wakers.lock().unwrap_or_else(|e| e.into_inner()).push(wakeups.waker.clone());
    // Read before building the host: two guards in one expression would
    // lock twice.
    let (auth_required, ids) = {
        let st = shared.lock();
        (!st.cfg.requirepass.is_empty(), st.client_ids.clone())
    };
    let host = Rc::new(Host {
        slots: RefCell::new(Slots::default()),
        shared: shared.clone(),
        revisit: RefCell::default(),
        listeners: RefCell::default(),
        registry: poll.registry().try_clone().expect("epoll registry"),
        wakeups: wakeups.clone(),
        unregistered: RefCell::default(),
        closed: RefCell::default(),
        after_busy: RefCell::default(),
        orphaned: RefCell::default(),
        auth_required: std::cell::Cell::new(auth_required),
        ids,
    });
    let generation = || shared.listeners.generation.load(std::sync::atomic::Ordering::SeqCst);
    let mut listening_generation = generation();
    let mut n_listeners = host.take_listeners();
    HOST.with(|h| *h.borrow_mut() = Some(host.clone()));
    let mut events = Events::with_capacity(1024);
    let mut active: Vec<usize> = Vec::new();
    let mut carry: Vec<usize> = Vec::new();
    let mut listening: Vec<usize> = Vec::new();
    let (mut out_bytes, mut writes) = (0u64, 0u64);
    // Deadlines of blocked connections: (ms since the epoch, slot). Entries
    // whose connection is no longer blocked with that deadline are stale
    // and skipped.
    let mut timers: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    let mut pacer = Pacer::default();
    // Without this the kernel may stretch a 30 µs nap by its default 50 µs
    // timer slack. SAFETY: prctl with integer arguments only affects this
    // thread.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(
            libc::PR_SET_TIMERSLACK,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    let mut nap = None;
    loop {
        // Whether `events` already holds this pass's readiness.
        let mut polled = false;
        if let Some(kind) = nap.take() {
            if carry.is_empty() {
                if kind == Nap::IfIdle {
                    let _ = poll.poll(&mut events, Some(std::time::Duration::ZERO));
                    polled = !events.is_empty();
                }
                if !polled {
                    std::thread::sleep(super::pace::NAP);
                }
            }
        }
        let timeout = if !carry.is_empty() {
            Some(std::time::Duration::ZERO)
        } else if !host.closed.borrow().is_empty()
            || !host.unregistered.borrow().is_empty()
            || !host.after_busy.borrow().is_empty()
        {
            // Clients to settle once the busy script lets go of the engine.
            Some(std::time::Duration::from_millis(10))
        } else {
            timers.peek().map(|Reverse((t, _))| std::time::Duration::from_millis((t - unix_ms()).max(0) as u64))
        };
        if !polled {
            if let Err(e) = poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    crate::warning!("epoll_wait: {e}");
                }
                continue;
            }
        }
        // New listening sockets: the old ones' events are moot (they no
        // longer accept).
        let moved = generation() != listening_generation;
        // This batch's listener tokens are the old set's.
        let n_polled = n_listeners;
        if moved {
            listening_generation = generation();
            n_listeners = host.take_listeners();
        }
        active.clear();
        active.append(&mut carry);
        active.append(&mut host.revisit.borrow_mut());
        active.append(&mut host.after_busy.borrow_mut());
        listening.clear();
        for ev in events.iter() {
            match ev.token() {
                WAKER => active.append(&mut wakeups.inbox.lock().unwrap_or_else(|e| e.into_inner())),
                Token(t) if t > usize::MAX - 1 - n_polled.max(n_listeners) => {
                    if !moved {
                        listening.push(usize::MAX - 1 - t)
                    }
                }
                Token(slot) => {
                    if let Some(c) = host.slots.borrow_mut().get(slot) {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            c.readable = true;
                        }
                        if ev.is_writable() {
                            c.write_blocked = false;
                        }
                        active.push(slot);
                    }
                }
            }
        }
        if !listening.is_empty() {
            let mut st = shared.lock_unless_busy();
            for &i in &listening {
                host.accept(i, st.as_deref_mut(), &mut active);
            }
        }
        let now = unix_ms();
        pacer.pass(now);
        while let Some(&Reverse((t, slot))) = timers.peek() {
            if t > now {
                break;
            }
            timers.pop();
            active.push(slot);
        }
        active.sort_unstable();
        active.dedup();

        // Read every ready socket.
        for &slot in &active {
            let mut slots = host.slots.borrow_mut();
            let Some(c) = slots.get(slot) else { continue };
            if c.readable && !c.write_blocked && c.closing == Closing::No {
                match c.read() {
                    ReadOutcome::Drained => c.readable = false,
                    ReadOutcome::More => carry.push(slot),
                    ReadOutcome::Closed => c.closing = Closing::Now,
                }
            }
        }

        // Run their commands under one acquisition of the lock; while a
        // busy script holds it, answer what can be answered without it.
        let mut commands = 0;
        match shared.lock_unless_busy() {
            Some(mut st) => {
                host.settle(&mut st);
                let processed_before = st.stats.commands_processed;
                // What connections were answered during a busy script
                // counts before any command of this pass reads counters.
                {
                    let mut slots = host.slots.borrow_mut();
                    for &slot in &active {
                        if let Some(c) = slots.get(slot) {
                            c.deferred.apply(&mut st);
                        }
                    }
                }
                st.stats.net_output_bytes += out_bytes;
                st.stats.writes_processed += writes;
                (out_bytes, writes) = (0, 0);
                for &slot in &active {
                    // Lent out while its commands run, so that a busy
                    // script's hook can serve the other connections.
                    let Some(mut c) = host.slots.borrow_mut().take(slot) else { continue };
                    run_locked(&mut st, &mut c, slot, now, &mut timers);
                    host.slots.borrow_mut().put(slot, c);
                }
                // BCAST invalidations of this pass, one message per prefix
                // (Redis sends them before sleeping).
                ferrokv_engine::tracking::broadcast(&mut st);
                // CONFIG RESETSTAT may have zeroed the counter meanwhile.
                commands = st.stats.commands_processed.saturating_sub(processed_before);
                if let Some(mode) = st.shutdown.take() {
                    shared.request_shutdown(mode);
                }
            }
            None => {
                let mut slots = host.slots.borrow_mut();
                for &slot in &active {
                    let Some(c) = slots.get(slot) else { continue };
                    if c.closing != Closing::No {
                        continue;
                    }
                    let o = c.busy_batch(&shared.running);
                    if o.shutdown {
                        shared.request_shutdown(ShutdownMode::NoSave);
                    }
                    if o.waiting {
                        carry.push(slot);
                    } else if c.has_engine_work() {
                        host.after_busy.borrow_mut().push(slot);
                    }
                }
            }
        }

        // Write every reply, then close what must close.
        let mut closed: Vec<u64> = Vec::new();
        let mut answered = 0;
        let mut slots = host.slots.borrow_mut();
        for &slot in &active {
            let Some(c) = slots.get(slot) else { continue };
            if c.closing != Closing::Now && c.has_output() && !c.write_blocked {
                match c.flush() {
                    Some(n) => {
                        out_bytes += n as u64;
                        writes += 1;
                        answered += 1;
                        pacer.answered(&mut c.answered_ms);
                    }
                    None => c.closing = Closing::Now,
                }
            }
            let done = match c.closing {
                Closing::Now => true,
                Closing::AfterWrite => !c.has_output(),
                Closing::No => false,
            };
            if done {
                if let Some(mut c) = slots.remove(slot) {
                    let _ = poll.registry().deregister(&mut c.stream);
                    let mut unregistered = host.unregistered.borrow_mut();
                    if let Some(i) = unregistered.iter().position(|&s| s == slot) {
                        unregistered.swap_remove(i);
                    }
                    // Even a connection never registered as a client may
                    // have left watches (WATCH during a busy script).
                    closed.push(c.client.id);
                    host.orphaned.borrow_mut().absorb(&mut c.deferred);
                }
            }
        }
        drop(slots);
        nap = pacer.nap(answered, commands);
        // Forgotten now, or once a busy script lets go of the engine.
        host.closed.borrow_mut().extend(closed);
        if !host.closed.borrow().is_empty() {
            if let Some(mut st) = shared.try_lock() {
                host.settle(&mut st);
            }
        }
    }
}

/// One connection's turn under the engine lock: deliveries from other
/// connections, its commands, output limits, timers, and what CLIENT LIST
/// shows of it.
fn run_locked(st: &mut State, c: &mut Conn, slot: usize, now: i64, timers: &mut BinaryHeap<Reverse<(i64, usize)>>) {
    let id = c.client.id;
    let got_input = c.pending_in > 0;
    st.stats.net_input_bytes += c.pending_in;
    c.pending_in = 0;
    if c.unwatch_pending {
        c.unwatch_pending = false;
        ferrokv_engine::cmd::multi::unwatch_all(st, id);
    }
    let Some(info) = st.clients.get_mut(&id) else {
        c.closing = Closing::Now;
        return;
    };
    if info.kill {
        c.closing = Closing::Now;
        return;
    }
    let was_blocked = c.client.has(BLOCKED);
    if was_blocked && !info.unblocked {
        ferrokv_engine::blocking::expire(st, id, c.client.block_deadline, now);
    }
    let Some(info) = st.clients.get_mut(&id) else { return };
    if !info.outbox.is_empty() {
        c.out.buf.extend_from_slice(&info.outbox);
        info.outbox.clear();
    }
    let resumed = was_blocked && info.unblocked;
    if resumed {
        info.unblocked = false;
        c.client.flags &= !(BLOCKED | POSTPONED);
        c.client.block_deadline = 0;
    }
    if resumed && !got_input && !c.rbuf.is_empty() && c.closing == Closing::No {
        // Commands pipelined behind the blocking one run now.
        c.run_batch(st, now);
    }
    if got_input {
        st.stats.reads_processed += 1;
        if c.rbuf.len() as i64 > st.cfg.query_buffer_limit {
            crate::warning!(
                "Closing client that reached max query buffer length: id={} addr={} qbuf={}",
                id,
                c.client.addr,
                c.rbuf.len()
            );
            c.closing = Closing::Now;
            return;
        }
        if c.closing == Closing::No {
            c.run_batch(st, now);
        }
    }
    // client-output-buffer-limit of the client's class: the
    // hard limit closes at once, the soft one after it has been
    // exceeded for its seconds without a break.
    let class = if c.client.has(PUBSUB) { 2 } else { 0 };
    let limit = st.cfg.obuf_limits[class];
    let pending = (c.out.buf.len() - c.wpos) as u64;
    let soft_over = limit.soft > 0 && pending >= limit.soft;
    let soft_started = soft_over && c.soft_limit_since == 0;
    if !soft_over {
        c.soft_limit_since = 0;
    } else if soft_started {
        c.soft_limit_since = now;
    }
    // Never on first sight, and only once the seconds have
    // passed in full (Redis's checkClientOutputBufferLimits).
    let over_soft_too_long = soft_over && !soft_started && now - c.soft_limit_since > limit.soft_secs * 1000;
    if (limit.hard > 0 && pending >= limit.hard) || over_soft_too_long {
        crate::warning!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            id,
            c.client.addr
        );
        c.closing = Closing::Now;
        if let Some(info) = st.clients.get_mut(&id) {
            info.outbox = Vec::new();
        }
    } else if soft_started {
        // Look again when the soft limit's time is up even if
        // nothing else wakes the connection.
        timers.push(Reverse((c.soft_limit_since + limit.soft_secs * 1000 + 1, slot)));
    }
    if c.client.has(BLOCKED) && c.client.block_deadline > 0 && (!was_blocked || resumed) {
        timers.push(Reverse((c.client.block_deadline, slot)));
    }
    let subs = if c.client.has(PUBSUB) {
        st.pubsub.of(id).map_or((0, 0, 0), |s| (s.channels.len(), s.patterns.len(), s.shard.len()))
    } else {
        (0, 0, 0)
    };
    if let Some(info) = st.clients.get_mut(&id) {
        info.db = c.client.db;
        info.resp = c.out.proto.number();
        info.flags = c.client.flags;
        info.multi = if c.client.has(MULTI) { c.client.queued.len() as i64 } else { -1 };
        info.subs = subs;
        info.last_cmd = c.client.last_cmd;
        // HELLO may have switched protocols or named the connection while
        // a busy script held the engine.
        info.resp = c.out.proto.number();
        if let Some(n) = c.pending_name.take() {
            info.name = (!n.is_empty()).then_some(n);
        }
        if got_input {
            info.last_interaction_ms = now;
        }
        info.qbuf = c.rbuf.len();
        info.qbuf_free = c.rbuf.capacity() - c.rbuf.len();
        info.argv_mem = c.pending_args();
        info.obl = c.out.buf.len() - c.wpos;
        info.omem = c.out.buf.capacity();
    }
}
