//! Test harness: ferrokv and redis-server processes on ephemeral loopback
//! ports (always stopped on drop), waits with deadlines, and a raw RESP
//! client that returns decoded frames so tests can compare replies exactly.
#![warn(missing_docs)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferrokv_resp::{decode, DecodeError, Frame};

/// Polls `cond` until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port").local_addr().expect("local addr").port()
}

/// The ferrokv-server binary: `FERROKV_SERVER_BIN`, or the one built next to
/// the running test executable (target/<profile>/ferrokv-server).
pub fn ferrokv_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FERROKV_SERVER_BIN") {
        let bin = PathBuf::from(p);
        assert_fresh(&bin);
        return bin;
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/ferrokv-server
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("ferrokv-server");
    assert!(
        bin.exists(),
        "{} not found: build it first (cargo build -p ferrokv-server), as scripts/test.sh does",
        bin.display()
    );
    assert_fresh(&bin);
    bin
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let mut best = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let t = if e.file_type().ok()?.is_dir() { newest(&e.path()) } else { e.metadata().ok()?.modified().ok() };
        best = best.max(t);
    }
    best
}

/// Refuses a server binary older than the sources it is built from:
/// `cargo test` does not rebuild another package's binary, and testing a
/// stale one silently tests old code.
fn assert_fresh(bin: &std::path::Path) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).expect("binary mtime");
    for krate in ["resp", "router", "engine", "server"] {
        let dir = root.join("crates").join(krate);
        if let Some(t) = newest(&dir.join("src")).max(newest(&dir.join("csrc"))) {
            assert!(
                t <= built,
                "{} is older than the sources in {}: run `cargo build -p ferrokv-server` (scripts/test.sh builds the release binary)",
                bin.display(),
                dir.display()
            );
        }
    }
}

/// Which server a [`Server`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// ferrokv-server.
    Ferrokv,
    /// Debian's redis-server, the oracle.
    Redis,
}

/// A server process on 127.0.0.1, stopped when dropped.
pub struct Server {
    child: Child,
    /// Its port.
    pub port: u16,
    /// Which server it is.
    pub kind: Kind,
    /// Its working directory (`--dir`), removed when it stops.
    pub dir: PathBuf,
}

impl Server {
    /// Starts ferrokv with extra redis-server style arguments.
    pub fn ferrokv(args: &[&str]) -> Server {
        Self::start(Kind::Ferrokv, args)
    }

    /// Starts the oracle redis-server with extra arguments.
    pub fn redis(args: &[&str]) -> Server {
        Self::start(Kind::Redis, args)
    }

    /// Starts a server of `kind`, retrying on a port race.
    pub fn start(kind: Kind, args: &[&str]) -> Server {
        Self::start_env(kind, args, &[])
    }

    /// Starts a server of `kind` with extra environment variables.
    pub fn start_env(kind: Kind, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Server {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(kind, args, env) {
                Ok(s) => return s,
                Err(e) => last = e,
            }
        }
        panic!("could not start {kind:?}: {last}");
    }

    fn try_start(kind: Kind, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<Server, String> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ferrokv-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let bin = match kind {
            Kind::Ferrokv => ferrokv_bin(),
            Kind::Redis => {
                let p = PathBuf::from("redis-server");
                if Command::new(&p).arg("--version").stdout(Stdio::null()).status().is_err() {
                    panic!(
                        "redis-server is not installed: the differential tests need it (scripts/test.sh installs it)"
                    );
                }
                p
            }
        };
        let port_s = port.to_string();
        let mut cmd = Command::new(bin);
        // A config file must come first, as for redis-server.
        let (file, rest) = match args.first() {
            Some(f) if !f.starts_with('-') => (Some(*f), &args[1..]),
            _ => (None, args),
        };
        cmd.args(file);
        cmd.args(["--port", &port_s, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        cmd.arg("--dir").arg(&dir);
        cmd.args(rest).envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        track(child.id());
        let up = wait_for(Duration::from_secs(10), || {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!("exited with {status}: {err}"));
        }
        if !up {
            let _ = child.kill();
            let _ = child.wait();
            return Err("did not accept connections within 10s".into());
        }
        Ok(Server { child, port, kind, dir })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A raw RESP connection.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.port)
    }

    /// `redis://127.0.0.1:port/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends a signal (`TERM`, `INT`, ...) to the process, with the
    /// shell's builtin kill.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("sh").args(["-c", &format!("kill -{sig} {}", self.child.id())]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{sig}");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit; returns its status code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let mut code = None;
        wait_for(timeout, || match self.child.try_wait() {
            Ok(Some(s)) => {
                code = s.code();
                true
            }
            _ => false,
        });
        code
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        untrack(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A blocking RESP connection with read deadlines.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn { stream, buf: Vec::new() }
    }

    /// Encodes a command as a RESP multibulk.
    pub fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut w = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            w.extend(format!("${}\r\n", a.len()).bytes());
            w.extend_from_slice(a);
            w.extend_from_slice(b"\r\n");
        }
        w
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one reply (panics after the read timeout).
    pub fn read(&mut self) -> Frame {
        self.try_read().expect("connection closed before a reply")
    }

    /// Reads one reply, or `None` if the server closed the connection.
    pub fn try_read(&mut self) -> Option<Frame> {
        loop {
            match decode(&self.buf) {
                Ok((f, n)) => {
                    self.buf.drain(..n);
                    return Some(f);
                }
                Err(DecodeError::Incomplete) => {}
                Err(e) => panic!("bad reply bytes {e:?}: {:?}", String::from_utf8_lossy(&self.buf)),
            }
            let mut chunk = [0u8; 16384];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => return None,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Frame {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd_bytes(&a)
    }

    /// Like [`Conn::cmd`] with binary arguments.
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Frame {
        self.send_raw(&Self::encode(args));
        self.read()
    }

    /// Sends a command and returns its reply's bytes undecoded (for
    /// replies nested deeper than the decoder takes): a PING follows the
    /// command, and the reply is what comes before its PONG.
    pub fn cmd_raw(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut w = Self::encode(args);
        w.extend_from_slice(&Self::encode(&[b"PING"]));
        self.send_raw(&w);
        const PONG: &[u8] = b"+PONG\r\n";
        while !self.buf.ends_with(PONG) {
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("connection closed before a reply"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("read: {e}"),
            }
        }
        let mut reply = std::mem::take(&mut self.buf);
        reply.truncate(reply.len() - PONG.len());
        reply
    }

    /// True once the server has closed the connection (reads EOF within the
    /// read timeout).
    pub fn is_closed(&mut self) -> bool {
        self.try_read().is_none()
    }

    /// The underlying stream (for timeouts and raw I/O).
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// Pids of servers not yet stopped by their `Drop`.
static LIVE: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Kills every server still running when the test process exits: servers
/// kept in statics for a whole test binary are never dropped.
extern "C" fn kill_live_servers() {
    if let Ok(pids) = LIVE.lock() {
        for &pid in pids.iter() {
            // Safety: kill(2) with a pid this process spawned.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn track(pid: u32) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    // Safety: registering a plain extern "C" function with atexit(3).
    HOOK.call_once(|| unsafe {
        libc::atexit(kill_live_servers);
    });
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

fn untrack(pid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
}

/// Shorthand for a bulk frame.
pub fn bulk(s: &str) -> Frame {
    Frame::bulk(s)
}

/// Shorthand for a simple-string frame.
pub fn simple(s: &str) -> Frame {
    Frame::Simple(s.as_bytes().to_vec().into())
}

/// Shorthand for an error frame.
pub fn err(s: &str) -> Frame {
    Frame::Error(s.as_bytes().to_vec().into())
}
