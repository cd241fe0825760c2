//! Listening sockets, worker threads and the periodic jobs.
//!
//! Threading model: `io-threads` worker threads (default: the CPUs this
//! process may run on), each running its own event loop (worker.rs) over the
//! same listening sockets. Commands run under one lock over the engine
//! state, taken once per pass of a worker's loop; reading, parsing and
//! writing happen outside it. A separate thread runs the periodic jobs and
//! signal handling on tokio. See docs/ARCHITECTURE.md.

pub mod conn;
mod pace;
mod worker;

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use parking_lot::MutexGuard;
use std::time::Duration;

use ferrokv_engine::exec::unix_ms;
use ferrokv_engine::expire::{self, Cycle, Params};
use ferrokv_engine::state::ShutdownMode;
use ferrokv_engine::State;

/// Why the server stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SHUTDOWN.
    Command(ShutdownMode),
    /// SIGTERM or SIGINT.
    Signal(&'static str),
}

/// What all threads share.
pub struct Shared {
    state: parking_lot::Mutex<State>,
    stop: Mutex<mpsc::Sender<Stop>>,
    /// The running script, readable while it holds the engine.
    running: Arc<ferrokv_engine::script::busy::Running>,
    /// A signal's shutdown is under way (a second SIGINT exits at once).
    signalled: std::sync::atomic::AtomicBool,
    /// The listening sockets the workers accept on.
    listeners: Listeners,
}

/// The current listening sockets. Each worker polls duplicates of them and
/// takes the new set when the generation moves (CONFIG SET port/bind).
#[derive(Default)]
struct Listeners {
    generation: std::sync::atomic::AtomicU64,
    set: Mutex<Vec<std::net::TcpListener>>,
    /// Every worker's waker, to make it look.
    wakers: Mutex<Vec<Arc<mio::Waker>>>,
}

/// The workers' shared state, for [`rebind`] (reached from the engine
/// through a plain function pointer).
static SHARED: std::sync::OnceLock<Arc<Shared>> = std::sync::OnceLock::new();

/// Listens on `bind` and `port` in place of the current sockets. As in
/// Redis the old ones stop listening first (a new bind list may name the
/// same address); if the new ones cannot be opened the old ones listen
/// again. The old sockets close once every worker has taken the new set.
pub fn rebind(bind: &str, port: u16, backlog: i32) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let shared = SHARED.get().ok_or("the server is not listening yet")?;
    let mut set = shared.listeners.set.lock().unwrap_or_else(|e| e.into_inner());
    // Safety: shutdown(2) and listen(2) on descriptors this set owns; a
    // shut-down listening socket stays bound and may listen again.
    for l in set.iter() {
        unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
    }
    let new = if port == 0 { Ok(Vec::new()) } else { listen(bind, port, backlog) };
    let new = match new {
        Ok(new) => new,
        Err(e) => {
            for l in set.iter() {
                if unsafe { libc::listen(l.as_raw_fd(), backlog) } != 0 {
                    let why = std::io::Error::last_os_error();
                    crate::warning!("Failed applying restored bind/port configuration: {why}");
                }
            }
            return Err(e);
        }
    };
    *set = new;
    shared.listeners.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    for w in shared.listeners.wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = w.wake();
    }
    Ok(())
}

impl Shared {
    /// The engine state.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// The engine state if nobody holds it right now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, State>> {
        self.state.try_lock()
    }

    /// The engine state, or `None` while a busy script holds it.
    pub fn lock_unless_busy(&self) -> Option<MutexGuard<'_, State>> {
        loop {
            if let Some(g) = self.state.try_lock_for(Duration::from_millis(10)) {
                return Some(g);
            }
            if self.running.is_busy() {
                return None;
            }
        }
    }

    pub(crate) fn request_shutdown(&self, mode: ShutdownMode) {
        let _ = self.stop.lock().unwrap_or_else(|e| e.into_inner()).send(Stop::Command(mode));
    }

    fn signal(&self, name: &'static str) {
        let _ = self.stop.lock().unwrap_or_else(|e| e.into_inner()).send(Stop::Signal(name));
    }
}

/// One address of the `bind` list.
struct BindAddr {
    ip: IpAddr,
    optional: bool,
    text: String,
}

fn parse_bind(list: &str) -> Vec<BindAddr> {
    list.split_whitespace()
        .filter_map(|a| {
            let (optional, a) = match a.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, a),
            };
            let ip = match a {
                "*" => IpAddr::from([0, 0, 0, 0]),
                "::*" => IpAddr::from([0u16; 8]),
                other => other.parse().ok()?,
            };
            Some(BindAddr { ip, optional, text: a.to_string() })
        })
        .collect()
}

/// Opens the listening sockets for `bind` and `port`.
pub fn listen(bind: &str, port: u16, backlog: i32) -> Result<Vec<std::net::TcpListener>, String> {
    use socket2::{Domain, Socket, Type};
    let mut out = Vec::new();
    for b in parse_bind(bind) {
        let addr = SocketAddr::new(b.ip, port);
        let attempt = (|| -> std::io::Result<std::net::TcpListener> {
            let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
            s.set_reuse_address(true)?;
            if addr.is_ipv6() {
                s.set_only_v6(true)?;
            }
            s.bind(&addr.into())?;
            s.listen(backlog)?;
            s.set_nonblocking(true)?;
            Ok(s.into())
        })();
        match attempt {
            Ok(l) => out.push(l),
            Err(e)
                if b.optional && matches!(e.raw_os_error(), Some(libc::EADDRNOTAVAIL) | Some(libc::EAFNOSUPPORT)) =>
            {
                crate::verbose!("Skipping optional bind address {}: {e}", b.text);
            }
            Err(e) => {
                return Err(format!(
                    "Warning: Could not create server TCP listening socket {}:{port}: bind: {e}",
                    b.text
                ));
            }
        }
    }
    if out.is_empty() && !bind.trim().is_empty() {
        return Err(format!("Failed listening on port {port} (tcp), aborting."));
    }
    Ok(out)
}

pub(crate) const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

pub(crate) fn set_keepalive(sock: &mio::net::TcpStream, secs: i64) {
    if secs <= 0 {
        return;
    }
    let s = socket2::SockRef::from(sock);
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(secs as u64))
        .with_interval(Duration::from_secs((secs as u64 / 3).max(1)))
        .with_retries(3);
    let _ = s.set_tcp_keepalive(&ka);
}

/// Periodic work: active expiry, instantaneous metrics, idle timeouts.
async fn cron(shared: Arc<Shared>) {
    let mut fast = false;
    loop {
        let (period, acceptable) = {
            let st = shared.lock();
            (
                Duration::from_millis((1000 / st.cfg.hz.max(1)) as u64),
                Params::new(st.cfg.active_expire_effort).acceptable_stale,
            )
        };
        tokio::time::sleep(if fast { Duration::from_millis(10) } else { period }).await;
        let now = unix_ms();
        let mut st = shared.lock();
        // A CLIENT PAUSE whose time is up ends here at the latest (as in
        // Redis's serverCron), releasing the postponed clients.
        ferrokv_engine::pause::active(&mut st, now);
        let started = std::time::Instant::now();
        let report = expire::run(&mut st, now, if fast { Cycle::Fast } else { Cycle::Slow });
        let threshold = st.cfg.latency_monitor_threshold;
        let ms = started.elapsed().as_millis() as u64;
        st.latency_events.add_if_needed(threshold, "expire-cycle", ms, now / 1000);
        fast = report.wants_more(acceptable);
        if st.tracking.enabled() {
            let max = st.cfg.tracking_max_keys;
            ferrokv_engine::tracking::limit(&mut st, max);
            // Keys the cycle expired, for BCAST clients.
            ferrokv_engine::tracking::broadcast(&mut st);
        }
        if fast {
            continue;
        }
        let (cmds, input, output) = (st.stats.commands_processed, st.stats.net_input_bytes, st.stats.net_output_bytes);
        st.ops_metric.sample(cmds, now);
        st.input_metric.sample(input, now);
        st.output_metric.sample(output, now);
        let timeout = st.cfg.timeout;
        let (mut max_in, mut max_out) = (0, 0);
        for c in st.clients.values_mut() {
            max_in = max_in.max(c.qbuf);
            max_out = max_out.max(c.obl);
            // Blocked clients and subscribers wait by design (as in Redis).
            let waiting = c.flags & (ferrokv_engine::client::BLOCKED | ferrokv_engine::client::PUBSUB) != 0;
            if timeout > 0 && !c.monitor && !waiting && now - c.last_interaction_ms > timeout * 1000 {
                crate::verbose!("Closing idle client id={}", c.id);
                c.kill();
            }
        }
        let slot = ((now / 1000) % 8) as usize;
        if st.recent_max_buffers_second != now / 1000 {
            st.recent_max_buffers_second = now / 1000;
            st.recent_max_buffers[slot] = (0, 0);
        }
        let cur = &mut st.recent_max_buffers[slot];
        *cur = (cur.0.max(max_in), cur.1.max(max_out));
        crate::log::set_level(st.cfg.loglevel);
    }
}

/// SIGTERM and SIGINT, caught from before the server listens (so a signal
/// right after start-up still shuts it down as configured), with the
/// runtime that delivers them.
pub struct Signals {
    rt: tokio::runtime::Runtime,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers.
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let _entered = rt.enter();
        let (term, int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
        Ok(Signals { rt, term, int })
    }
}

async fn signals(shared: Arc<Shared>, mut term: tokio::signal::unix::Signal, mut int: tokio::signal::unix::Signal) {
    use std::sync::atomic::Ordering;
    // Every signal counts: one whose final snapshot failed leaves the
    // server running.
    loop {
        let name = tokio::select! {
            Some(_) = term.recv() => "SIGTERM",
            Some(_) = int.recv() => "SIGINT",
            else => return,
        };
        // Ctrl+C twice: the user wants out now, as in Redis.
        if name == "SIGINT" && shared.signalled.swap(true, Ordering::SeqCst) {
            crate::warning!("You insist... exiting now.");
            std::process::exit(1);
        }
        shared.signalled.store(true, Ordering::SeqCst);
        shared.signal(name);
    }
}

/// Starts the workers and blocks until a shutdown is requested.
pub fn run(state: State, listeners: Vec<std::net::TcpListener>, threads: usize, sig: Signals) -> Stop {
    /// Redis's main thread gets the usual 8 MiB; the deepest legal Lua
    /// library call needs a few, so workers get room to spare.
    const WORKER_STACK: usize = 32 << 20;
    let (tx, rx) = mpsc::channel();
    ferrokv_engine::script::busy::set_handler(worker::serve_while_busy);
    let running = state.running.clone();
    let shared = Arc::new(Shared {
        state: parking_lot::Mutex::new(state),
        stop: Mutex::new(tx),
        running,
        signalled: std::sync::atomic::AtomicBool::new(false),
        listeners: Listeners::default(),
    });
    *shared.listeners.set.lock().unwrap_or_else(|e| e.into_inner()) = listeners;
    let _ = SHARED.set(shared.clone());
    for w in 0..threads.max(1) {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(format!("ferrokv-w{w}"))
            // Scripts' library calls recurse per nesting level of the data
            // they encode or decode (thousands of levels are legal in
            // Redis); only the pages a deep call touches are committed.
            .stack_size(WORKER_STACK)
            .spawn(move || worker::run(shared))
            .expect("spawn worker thread");
    }
    let bg = shared.clone();
    let sig_shared = shared.clone();
    // Signals get a thread of their own: cron blocks on the engine lock
    // while a script runs, and a second SIGINT must still get through.
    std::thread::Builder::new()
        .name("ferrokv-signals".into())
        .spawn(move || {
            let Signals { rt, term, int } = sig;
            rt.block_on(signals(sig_shared, term, int));
        })
        .expect("spawn signal thread");
    std::thread::Builder::new()
        .name("ferrokv-cron".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
            rt.block_on(cron(bg));
        })
        .expect("spawn cron thread");
    loop {
        match rx.recv() {
            Ok(Stop::Signal(name)) if !on_signal(&shared, name) => {
                shared.signalled.store(false, std::sync::atomic::Ordering::SeqCst);
            }
            Ok(stop) => return stop,
            Err(_) => return Stop::Signal("channel closed"),
        }
    }
}

/// What shutdown-on-sigterm / shutdown-on-sigint ask for when `name`
/// arrives: a final snapshot with `save`. Returns false when that snapshot
/// failed without `force`, so the server keeps running (as Redis does).
fn on_signal(shared: &Shared, name: &'static str) -> bool {
    use ferrokv_engine::config::{shutdown_flag, Value};
    let param = if name == "SIGINT" { "shutdown-on-sigint" } else { "shutdown-on-sigterm" };
    crate::warning!("Received {name} scheduling shutdown...");
    // Waits for a running script or command, as Redis's cron does.
    let mut st = shared.lock();
    let flags = match st.cfg.get(param) {
        Value::Int(bits) => *bits,
        _ => 0,
    };
    let force = flags & shutdown_flag::FORCE != 0;
    st.prepare_shutdown(flags & shutdown_flag::SAVE != 0, force, unix_ms())
}
