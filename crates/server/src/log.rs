//! The server log, in Redis's line format
//! (`pid:M 21 Nov 2026 12:44:00.123 * message`), to stdout or the logfile,
//! filtered by loglevel. Events the engine emits through `tracing` (DEBUG
//! LOG) arrive here too.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Log levels, as the loglevel config names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `debug` (`.`)
    Debug = 0,
    /// `verbose` (`-`)
    Verbose = 1,
    /// `notice` (`*`)
    Notice = 2,
    /// `warning` (`#`)
    Warning = 3,
}

struct Logger {
    level: AtomicUsize,
    sink: Mutex<Box<dyn Write + Send>>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Starts logging to `logfile` (stdout when empty) at `level` (0..=3).
pub fn init(logfile: &str, level: usize) -> std::io::Result<()> {
    let sink: Box<dyn Write + Send> = if logfile.is_empty() {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::fs::OpenOptions::new().create(true).append(true).open(logfile)?)
    };
    let _ = LOGGER.set(Logger { level: AtomicUsize::new(level), sink: Mutex::new(sink) });
    let _ = tracing::subscriber::set_global_default(Forward);
    Ok(())
}

/// Follows CONFIG SET loglevel.
pub fn set_level(level: usize) {
    if let Some(l) = LOGGER.get() {
        l.level.store(level, Ordering::Relaxed);
    }
}

/// After a fork (daemonize), stdout may be gone: reopen the sink.
pub fn reopen(logfile: &str) {
    if let (Some(l), false) = (LOGGER.get(), logfile.is_empty()) {
        if let Ok(f) = std::fs::OpenOptions::new().create(true).append(true).open(logfile) {
            *l.sink.lock().unwrap_or_else(|e| e.into_inner()) = Box::new(f);
        }
    }
}

fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // Safety: localtime_r writes into the tm we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

/// Writes one log line if `level` passes the filter.
pub fn log(level: Level, msg: &str) {
    let Some(l) = LOGGER.get() else { return };
    if (level as usize) < l.level.load(Ordering::Relaxed) {
        return;
    }
    let mark = ['.', '-', '*', '#'][level as usize];
    let line = format!("{}:M {} {} {}\n", std::process::id(), timestamp(), mark, msg);
    let mut sink = l.sink.lock().unwrap_or_else(|e| e.into_inner());
    let _ = sink.write_all(line.as_bytes());
    let _ = sink.flush();
}

/// Logs at notice level.
#[macro_export]
macro_rules! notice { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Notice, &format!($($a)*)) } }
/// Logs at warning level.
#[macro_export]
macro_rules! warning { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Warning, &format!($($a)*)) } }
/// Logs at verbose level.
#[macro_export]
macro_rules! verbose { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Verbose, &format!($($a)*)) } }

/// A `tracing` subscriber that writes events to the Redis-style log.
struct Forward;

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl tracing::Subscriber for Forward {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut m = Message(String::new());
        event.record(&mut m);
        let level = match *event.metadata().level() {
            tracing::Level::ERROR | tracing::Level::WARN => Level::Warning,
            tracing::Level::INFO => Level::Notice,
            tracing::Level::DEBUG => Level::Verbose,
            tracing::Level::TRACE => Level::Debug,
        };
        log(level, &m.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
