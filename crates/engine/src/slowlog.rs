//! The slow log: commands that took longer than slowlog-log-slower-than.

use std::collections::VecDeque;

/// Arguments kept per entry, as in Redis (SLOWLOG_ENTRY_MAX_ARGC).
const MAX_ARGC: usize = 32;
/// Bytes kept per argument (SLOWLOG_ENTRY_MAX_STRING).
const MAX_STRING: usize = 128;

/// One slow command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Increasing id.
    pub id: u64,
    /// Unix time (seconds) when it ran.
    pub time: i64,
    /// Duration in microseconds.
    pub duration_us: i64,
    /// Arguments, shortened the way Redis shortens them.
    pub argv: Vec<Vec<u8>>,
    /// Client `ip:port`.
    pub addr: String,
    /// Client name, or empty.
    pub name: Vec<u8>,
}

/// The log, newest first.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    /// Whether a command that took `duration_us` is recorded under
    /// slowlog-log-slower-than = `threshold_us` (negative disables the log,
    /// 0 records everything).
    pub fn is_slow(threshold_us: i64, duration_us: i64) -> bool {
        threshold_us >= 0 && duration_us >= threshold_us
    }

    /// Records a slow command, keeping at most `max_len` entries.
    pub fn record(&mut self, max_len: usize, duration_us: i64, argv: &[&[u8]], time: i64, addr: &str, name: &[u8]) {
        let n = argv.len().min(MAX_ARGC);
        let mut args = Vec::with_capacity(n);
        for (j, a) in argv.iter().take(n).enumerate() {
            if n != argv.len() && j == n - 1 {
                args.push(format!("... ({} more arguments)", argv.len() - n + 1).into_bytes());
            } else if a.len() > MAX_STRING {
                let mut v = a[..MAX_STRING].to_vec();
                v.extend(format!("... ({} more bytes)", a.len() - MAX_STRING).bytes());
                args.push(v);
            } else {
                args.push(a.to_vec());
            }
        }
        self.entries.push_front(Entry {
            id: self.next_id,
            time,
            duration_us,
            argv: args,
            addr: addr.to_string(),
            name: name.to_vec(),
        });
        self.next_id += 1;
        self.trim(max_len);
    }

    /// Drops entries beyond `max_len`.
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }

    /// Entries, newest first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every entry (ids keep increasing).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_rules() {
        let mut log = SlowLog::default();
        let big = vec![b'x'; 200];
        let many: Vec<&[u8]> = (0..40).map(|_| &b"a"[..]).collect();
        log.record(10, 5, &[b"set", b"k", &big], 1, "1.2.3.4:5", b"");
        log.record(10, 5, &many, 1, "1.2.3.4:5", b"");
        assert!(SlowLog::is_slow(0, 0) && !SlowLog::is_slow(100, 5) && !SlowLog::is_slow(-1, 1_000_000));
        assert_eq!(log.len(), 2);
        let e: Vec<&Entry> = log.entries().collect();
        assert_eq!(e[0].argv.len(), 32);
        assert_eq!(e[0].argv[31], b"... (9 more arguments)");
        assert!(e[1].argv[2].ends_with(b"... (72 more bytes)"));
        assert_eq!(e[1].id, 0);
        log.trim(1);
        assert_eq!(log.len(), 1);
    }
}
