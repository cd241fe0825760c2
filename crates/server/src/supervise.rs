//! `supervised upstart|systemd|auto`: telling a service manager when the
//! server is ready and when it stops, as redis-server does (Debian's
//! systemd unit starts it with `--supervised systemd` and `Type=notify`).

use std::ffi::OsString;
use std::os::unix::net::UnixDatagram;

/// The supervisor the server reports to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Supervisor {
    /// systemd's notification socket (`NOTIFY_SOCKET`).
    Systemd(OsString),
    /// upstart's `expect stop`: the job waits for the process to stop itself.
    Upstart,
}

impl Supervisor {
    /// What INFO's `process_supervised` shows.
    pub fn name(&self) -> &'static str {
        match self {
            Supervisor::Systemd(_) => "systemd",
            Supervisor::Upstart => "upstart",
        }
    }
}

/// Resolves the `supervised` setting against the environment, as Redis's
/// `redisIsSupervised`: `auto` picks upstart when `UPSTART_JOB` is set,
/// else systemd when `NOTIFY_SOCKET` is. `Err` carries the warning to log
/// when the asked-for supervisor is absent (the server then runs
/// unsupervised, and may daemonize).
pub fn resolve(
    mode: &str,
    upstart_job: Option<OsString>,
    notify_socket: Option<OsString>,
) -> Result<Option<Supervisor>, &'static str> {
    let mode = match mode {
        "auto" if upstart_job.is_some() => "upstart",
        "auto" if notify_socket.is_some() => "systemd",
        m => m,
    };
    match mode {
        "upstart" if upstart_job.is_some() => Ok(Some(Supervisor::Upstart)),
        "upstart" => Err("upstart supervision requested, but UPSTART_JOB not found!"),
        "systemd" => match notify_socket {
            Some(s) if !s.is_empty() => Ok(Some(Supervisor::Systemd(s))),
            _ => Err("systemd supervision error: NOTIFY_SOCKET not found!"),
        },
        _ => Ok(None),
    }
}

/// The systemd socket of this process, once supervision is set up.
static SYSTEMD: std::sync::OnceLock<OsString> = std::sync::OnceLock::new();

/// Makes [`notify_systemd`] report to `socket`.
pub fn set_systemd(socket: OsString) {
    let _ = SYSTEMD.set(socket);
}

/// Sends `message` to systemd when the server is supervised by it (the
/// engine's shutdown reports through this too).
pub fn notify_systemd(message: &str) {
    if let Some(socket) = SYSTEMD.get() {
        if let Err(e) = notify(socket, message) {
            crate::warning!("systemd supervision error: sd_notify: {e}");
        }
    }
}

/// Sends one sd_notify message ("READY=1\n", "STATUS=...\n") to the
/// socket systemd named. A leading `@` names an abstract socket.
pub fn notify(socket: &OsString, message: &str) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    let bytes = socket.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            return sock.send_to_addr(message.as_bytes(), &addr).map(|_| ());
        }
        #[cfg(not(target_os = "linux"))]
        return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "abstract socket"));
    }
    sock.send_to(message.as_bytes(), socket).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<OsString> {
        Some(v.into())
    }

    #[test]
    fn auto_prefers_upstart_then_systemd() {
        assert_eq!(resolve("auto", s("job"), s("/run/n")), Ok(Some(Supervisor::Upstart)));
        assert_eq!(resolve("auto", None, s("/run/n")), Ok(Some(Supervisor::Systemd("/run/n".into()))));
        assert_eq!(resolve("auto", None, None), Ok(None));
        assert_eq!(resolve("no", s("job"), s("/run/n")), Ok(None));
    }

    #[test]
    fn an_absent_supervisor_is_a_warning() {
        assert!(resolve("systemd", None, None).unwrap_err().contains("NOTIFY_SOCKET not found"));
        assert!(resolve("systemd", None, s("")).is_err());
        assert!(resolve("upstart", None, s("/run/n")).unwrap_err().contains("UPSTART_JOB not found"));
    }

    #[test]
    fn notify_reaches_a_path_and_an_abstract_socket() {
        let dir = std::env::temp_dir().join(format!("ferrokv-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        notify(&path.clone().into_os_string(), "READY=1\n").unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
        std::fs::remove_dir_all(&dir).unwrap();

        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("ferrokv-notify-{}", std::process::id());
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let rx = UnixDatagram::bind_addr(&addr).unwrap();
            rx.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
            notify(&format!("@{name}").into(), "STOPPING=1\n").unwrap();
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"STOPPING=1\n");
        }
    }
}
