//! Probes of the process and machine for INFO, supplied to the engine.

use ferrokv_engine::state::{AllocStats, Platform, Rusage};

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

fn rusage() -> Rusage {
    // Safety: getrusage fills the structs we own.
    let (mut me, mut kids): (libc::rusage, libc::rusage) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut me);
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut kids);
    }
    Rusage {
        user: tv(me.ru_utime),
        sys: tv(me.ru_stime),
        user_children: tv(kids.ru_utime),
        sys_children: tv(kids.ru_stime),
    }
}

/// Resident set size from /proc/self/statm.
pub fn rss() -> u64 {
    let pages: u64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse().ok()))
        .unwrap_or(0);
    // Safety: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn alloc() -> AllocStats {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    AllocStats {
        allocated: stats::allocated::read().unwrap_or(0) as u64,
        active: stats::active::read().unwrap_or(0) as u64,
        resident: stats::resident::read().unwrap_or(0) as u64,
    }
}

fn total_memory() -> u64 {
    // Safety: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) as u64 * libc::sysconf(libc::_SC_PAGESIZE) as u64 }
}

/// The probes of this process.
pub fn platform() -> Platform {
    Platform {
        rusage,
        rss,
        alloc,
        allocator_name: "jemalloc-5.3.0",
        total_memory,
        write_file,
        read_file: |p| std::fs::read(p),
        supervisor: crate::supervise::notify_systemd,
        listen: crate::net::rebind,
        chdir,
        oom_score_adj,
        anon_huge_pages,
    }
}

/// The AnonHugePages of every mapping, in bytes: smaps_rollup sums them
/// in the kernel (cheap under the engine lock); smaps where it is missing.
fn anon_huge_pages() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps_rollup")
        .or_else(|_| std::fs::read_to_string("/proc/self/smaps"))
        .unwrap_or_default();
    smaps
        .lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// The process's oom_score_adj before ferrokv first changed it, while
/// ferrokv has it changed (Redis's `oom_score_adj_base`).
static OOM_BASE: std::sync::Mutex<Option<i64>> = std::sync::Mutex::new(None);

/// `setOOMScoreAdj`: `value` (added to the base score when `relative`),
/// clamped to -1000..=1000, or the base score back when `None`.
pub fn oom_score_adj(want: Option<(i64, bool)>) -> Result<(), String> {
    const PATH: &str = "/proc/self/oom_score_adj";
    let mut base = OOM_BASE.lock().unwrap_or_else(|e| e.into_inner());
    let value = match (want, *base) {
        (Some((value, relative)), known) => {
            let b = match known {
                Some(b) => b,
                None => {
                    let text = std::fs::read_to_string(PATH).map_err(|e| {
                        crate::warning!("Unable to read oom_score_adj: {}", strerror(&e));
                        strerror(&e)
                    })?;
                    let b = text.trim().parse().unwrap_or(0);
                    *base = Some(b);
                    b
                }
            };
            (if relative { value + b } else { value }).clamp(-1000, 1000)
        }
        (None, Some(b)) => {
            *base = None;
            b
        }
        (None, None) => return Ok(()),
    };
    std::fs::write(PATH, format!("{value}\n")).map_err(|e| {
        crate::warning!("Unable to write oom_score_adj: {}", strerror(&e));
        strerror(&e)
    })
}

/// strerror's text of an I/O error.
fn strerror(e: &std::io::Error) -> String {
    e.to_string().split(" (os error").next().unwrap_or_default().to_string()
}

/// CONFIG SET dir: the new working directory, or strerror's text.
fn chdir(path: &str) -> Result<String, String> {
    std::env::set_current_dir(path).map_err(|e| strerror(&e))?;
    std::env::current_dir().map(|d| d.display().to_string()).map_err(|e| strerror(&e))
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or
/// the new one (RDB snapshots, CONFIG REWRITE): a temporary file named
/// after it in the same directory, fsync, rename,
/// then fsync of the directory (Redis's rdbSave does the same dance).
fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!("temp-{}-{name}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `uname -srm`.
pub fn os() -> String {
    // Safety: uname fills the struct we own; the fields are NUL-terminated.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "unknown".into();
    }
    let f = |b: &[libc::c_char]| unsafe { std::ffi::CStr::from_ptr(b.as_ptr()) }.to_string_lossy().into_owned();
    format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
}

/// 40 random hex characters (run id, replication id).
pub fn random_hex40() -> String {
    let mut bytes = [0u8; 20];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
