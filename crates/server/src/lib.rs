//! The ferrokv server: networking, configuration loading, process
//! management, and the wiring of the engine to sockets.
//!
//! Design decision: everything that touches the operating system lives
//! here; the engine it drives is synchronous and I/O-free.
#![warn(missing_docs)]

pub mod config;
pub mod log;
pub mod net;
pub mod platform;
pub mod supervise;

use std::io::Read;
use std::path::{Path, PathBuf};

use config::args::{parse, Invocation};
use ferrokv_engine::exec::unix_ms;
use ferrokv_engine::State;

const USAGE: &str = "Usage: ./ferrokv-server [/path/to/redis.conf] [options] [-]
       ./ferrokv-server - (read config from stdin)
       ./ferrokv-server -v or --version
       ./ferrokv-server -h or --help

Examples:
       ./ferrokv-server (run the server with default conf)
       echo 'maxmemory 128mb' | ./ferrokv-server -
       ./ferrokv-server /etc/redis/6379.conf
       ./ferrokv-server --port 7777
       ./ferrokv-server /etc/myredis.conf --loglevel verbose -
       ./ferrokv-server /etc/myredis.conf --loglevel verbose
";

/// Runs the server with redis-server's arguments (without the program
/// name); returns the process exit status.
pub fn main_with(args: &[String]) -> i32 {
    match parse(args) {
        Invocation::Version => {
            println!(
                "ferrokv server v={} sha=00000000:0 malloc=jemalloc bits=64 build=ferrokv-{}",
                ferrokv_engine::REDIS_VERSION,
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Invocation::Help => {
            eprint!("{USAGE}");
            1
        }
        Invocation::Unsupported(opt) => {
            eprintln!("ferrokv-server does not implement {opt}");
            1
        }
        Invocation::Run { file, stdin, options } => {
            let stdin_text = stdin.then(|| {
                let mut s = String::new();
                let _ = std::io::stdin().read_to_string(&mut s);
                s
            });
            match config::load(file.as_deref(), stdin_text, &options) {
                // Absolute before start-up changes into `dir`: CONFIG
                // REWRITE and INFO's config_file name this file.
                Ok(cfg) => start(cfg, file.as_deref().map(absolute)),
                Err(fatal) => {
                    eprint!("{}", fatal.report());
                    1
                }
            }
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Detaches from the terminal like Redis's `daemonize()`.
fn daemonize() {
    // Safety: called before any thread is started, so fork is safe.
    unsafe {
        match libc::fork() {
            -1 => return,
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::dup2(devnull, 1);
            libc::dup2(devnull, 2);
            if devnull > 2 {
                libc::close(devnull);
            }
        }
    }
}

fn start(mut cfg: ferrokv_engine::config::Config, file: Option<PathBuf>) -> i32 {
    let dir = cfg.str("dir").to_string();
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&dir) {
            eprintln!("Can't chdir to '{dir}': {e}");
            return 1;
        }
    }
    // CONFIG GET dir shows the working directory, as in Redis.
    if let Some(i) = ferrokv_engine::config::find("dir") {
        let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
        cfg.set(i, ferrokv_engine::config::Value::Str(cwd));
    }
    let logfile = cfg.str("logfile").to_string();
    if let Err(e) = log::init(&logfile, cfg.loglevel) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    let supervised = ferrokv_engine::config::find("supervised").map(|i| cfg.format(i)).unwrap_or_default();
    let supervisor =
        match supervise::resolve(&supervised, std::env::var_os("UPSTART_JOB"), std::env::var_os("NOTIFY_SOCKET")) {
            Ok(s) => s,
            Err(why) => {
                warning!("{why}");
                None
            }
        };
    let supervisor = match supervisor {
        Some(supervise::Supervisor::Upstart) => {
            notice!("supervised by upstart, will stop to signal readiness.");
            // Safety: raise has no preconditions; upstart resumes us.
            unsafe { libc::raise(libc::SIGSTOP) };
            std::env::remove_var("UPSTART_JOB");
            Some(supervise::Supervisor::Upstart)
        }
        Some(supervise::Supervisor::Systemd(socket)) => {
            match supervise::notify(&socket, "STATUS=ferrokv is loading...\n") {
                Ok(()) => {
                    notice!("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
                    supervise::set_systemd(socket.clone());
                    Some(supervise::Supervisor::Systemd(socket))
                }
                Err(e) => {
                    warning!("systemd supervision error: sd_notify: {e}");
                    None
                }
            }
        }
        None => None,
    };
    // A supervised server stays in the foreground, as Redis's.
    let daemon = cfg.get("daemonize") == &ferrokv_engine::config::Value::Bool(true) && supervisor.is_none();
    if daemon {
        daemonize();
    }
    std::panic::set_hook(Box::new(|info| {
        warning!("=== FERROKV BUG REPORT START ===\n{info}\n{}", std::backtrace::Backtrace::force_capture());
        std::process::abort();
    }));
    notice!("oO0OoO0OoO0Oo ferrokv is starting oO0OoO0OoO0Oo");
    notice!(
        "ferrokv version={} (Redis {} compatible), bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        ferrokv_engine::REDIS_VERSION,
        std::process::id()
    );
    match &file {
        Some(_) => notice!("Configuration loaded"),
        None => notice!("Warning: no config file specified, using the default config. In order to specify a config file use ferrokv-server /path/to/redis.conf"),
    }
    #[cfg(target_os = "linux")]
    if cfg.get("disable-thp") == &ferrokv_engine::config::Value::Bool(true) {
        // As Redis: transparent huge pages make copy-on-write and latency
        // worse for a store of many small allocations.
        // SAFETY: prctl with integer arguments only affects this process.
        if unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0 {
            warning!("Failed to disable transparent huge pages: {}", std::io::Error::last_os_error());
        }
    }
    let mut pidfile = cfg.str("pidfile").to_string();
    if pidfile.is_empty() && daemon {
        pidfile = "/var/run/ferrokv.pid".to_string();
    }
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            warning!("Failed to write PID file: {e}");
        }
    }
    let port = match cfg.get("port") {
        ferrokv_engine::config::Value::Int(p) => *p as u16,
        _ => 6379,
    };
    let backlog = match cfg.get("tcp-backlog") {
        ferrokv_engine::config::Value::Int(b) => *b as i32,
        _ => 511,
    };
    let signals = match net::Signals::install() {
        Ok(s) => s,
        Err(e) => {
            warning!("Can't install signal handlers: {e}");
            remove_pidfile(&pidfile);
            return 1;
        }
    };
    let listeners = if port == 0 { Ok(Vec::new()) } else { net::listen(cfg.str("bind"), port, backlog) };
    let listeners = match listeners {
        Ok(l) => l,
        Err(e) => {
            warning!("{e}");
            if !e.starts_with("Failed") {
                warning!("Failed listening on port {port} (tcp), aborting.");
            }
            remove_pidfile(&pidfile);
            return 1;
        }
    };
    let threads = match cfg.get("io-threads") {
        ferrokv_engine::config::Value::Int(n) if *n > 0 => *n as usize,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut state = State::new(cfg);
    let now = unix_ms();
    state.platform = platform::platform();
    // As Redis at start-up; a failure is logged and not fatal.
    let _ = platform::oom_score_adj(state.cfg.oom_score_adj());
    state.server.pid = std::process::id();
    state.server.run_id = platform::random_hex40();
    state.server.replid = platform::random_hex40();
    state.server.tcp_port = port;
    state.server.executable = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    state.server.config_file = file.as_deref().map(|f| f.display().to_string()).unwrap_or_default();
    state.server.os = platform::os();
    state.server.start_ms = now;
    state.server.threads = threads;
    state.server.supervised = supervisor.as_ref().map_or("no", |s| s.name());
    state.lastsave = now / 1000;
    state.seed(now as u64 ^ (std::process::id() as u64) << 32);
    state.lazyfree = Some(spawn_lazyfree(&state));
    state.used_memory_startup = (state.platform.alloc)().allocated;
    notice!("Server initialized");
    notice!("Ready to accept connections tcp");
    supervise::notify_systemd("STATUS=Ready to accept connections\n");
    supervise::notify_systemd("READY=1\n");
    // The shutdown was logged, and told to systemd, where it was decided.
    net::run(state, listeners, threads, signals);
    remove_pidfile(&pidfile);
    warning!("ferrokv is now ready to exit, bye bye...");
    0
}

fn remove_pidfile(path: &str) {
    if !path.is_empty() {
        let _ = std::fs::remove_file(path);
    }
}

/// The background thread that frees what UNLINK and FLUSHALL ASYNC detach.
fn spawn_lazyfree(state: &State) -> std::sync::mpsc::Sender<(ferrokv_engine::state::Garbage, u64)> {
    let (tx, rx) = std::sync::mpsc::channel::<(ferrokv_engine::state::Garbage, u64)>();
    let pending = state.lazyfree_pending.clone();
    let freed = state.lazyfreed.clone();
    std::thread::Builder::new()
        .name("ferrokv-lazyfree".into())
        .spawn(move || {
            for (g, objects) in rx {
                drop(g);
                pending.fetch_sub(objects, std::sync::atomic::Ordering::Relaxed);
                freed.fetch_add(objects, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .expect("spawn lazyfree thread");
    tx
}
