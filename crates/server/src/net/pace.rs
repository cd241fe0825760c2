//! When a worker naps before polling again.
//!
//! Unpipelined traffic from many connections reaches a fast worker one or
//! two requests at a time: it drains what is there, finds nothing, sleeps in
//! `epoll_wait`, and the next client `send` pays for waking it (on a virtual
//! machine, an inter-processor interrupt and an exit to the host). Measured
//! with 50 unpipelined redis-benchmark connections, a pass ran 1.4–1.7
//! commands. Napping briefly on a timer after such a pass lets requests
//! gather without anyone paying for a wake-up: the worker wakes itself, the
//! clients' sends only queue data, and both sides handle bigger batches.
//!
//! The nap costs each request up to [`NAP`] of latency, so it is taken only
//! when it cannot starve the clients: when many distinct connections were
//! answered in the last millisecond (a lone client, or a few, would wait on
//! the nap instead of working). After a pass that ran many commands
//! (pipelining) it is taken only if no request is waiting: then the worker
//! may be the bottleneck, and a nap would only idle it.

use std::time::Duration;

/// How long a worker naps.
pub const NAP: Duration = Duration::from_micros(30);
/// Distinct connections answered in the previous millisecond for a nap.
pub const MIN_CONCURRENT: usize = 16;
/// A pass that ran this many commands or more naps only if nothing waits.
pub const MAX_PASS_COMMANDS: u64 = 16;

/// One worker's recent concurrency, counted per wall-clock millisecond.
#[derive(Debug, Default)]
pub struct Pacer {
    window_ms: i64,
    distinct: usize,
    /// Distinct connections answered in the millisecond before `window_ms`
    /// (0 if nothing was answered then).
    concurrent: usize,
}

impl Pacer {
    /// Starts a pass at `now_ms`.
    pub fn pass(&mut self, now_ms: i64) {
        if now_ms != self.window_ms {
            // A millisecond without passes means the load has stopped.
            self.concurrent = if now_ms == self.window_ms + 1 { self.distinct } else { 0 };
            self.distinct = 0;
            self.window_ms = now_ms;
        }
    }

    /// A connection was answered in this pass; `seen` is its own record of
    /// the last millisecond it was counted in.
    pub fn answered(&mut self, seen: &mut i64) {
        if *seen != self.window_ms {
            *seen = self.window_ms;
            self.distinct += 1;
        }
    }

    /// The nap to take after a pass that answered `answered` connections by
    /// running `commands` commands.
    pub fn nap(&self, answered: usize, commands: u64) -> Option<Nap> {
        if answered == 0 || self.concurrent < MIN_CONCURRENT {
            None
        } else if commands < MAX_PASS_COMMANDS {
            Some(Nap::Always)
        } else {
            Some(Nap::IfIdle)
        }
    }
}

/// When a worker takes its [`NAP`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nap {
    /// Before polling again.
    Always,
    /// Only if nothing is waiting: after a big pass, waiting requests mean
    /// the worker is the bottleneck (pipelined clients) and must not idle;
    /// nothing waiting means the clients are, and their next sends should
    /// not pay for waking it.
    IfIdle,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one pass at `ms` answering connections `conns` (indexes into
    /// `seen`) with one command each; returns the nap.
    fn pass(p: &mut Pacer, seen: &mut [i64], ms: i64, conns: std::ops::Range<usize>) -> Option<Nap> {
        p.pass(ms);
        let n = conns.len();
        for i in conns {
            p.answered(&mut seen[i]);
        }
        p.nap(n, n as u64)
    }

    #[test]
    fn a_lone_client_never_waits() {
        let mut p = Pacer::default();
        let mut seen = vec![0; 1];
        for ms in 1..100 {
            for _ in 0..50 {
                assert_eq!(pass(&mut p, &mut seen, ms, 0..1), None);
            }
        }
    }

    #[test]
    fn many_connections_in_small_passes_nap() {
        let mut p = Pacer::default();
        let mut seen = vec![0; 50];
        // Millisecond 10: 50 connections answered two at a time.
        for i in 0..25 {
            assert_eq!(pass(&mut p, &mut seen, 10, 2 * i..2 * i + 2), None, "no history yet");
        }
        // Millisecond 11 knows about them.
        assert_eq!(pass(&mut p, &mut seen, 11, 0..2), Some(Nap::Always));
        // Nothing answered: nothing to wait for.
        p.pass(11);
        assert_eq!(p.nap(0, 0), None);
    }

    #[test]
    fn big_passes_nap_only_when_idle_and_pauses_never() {
        let mut p = Pacer::default();
        let mut seen = vec![0; 50];
        pass(&mut p, &mut seen, 10, 0..50);
        p.pass(11);
        for s in seen.iter_mut().take(20) {
            p.answered(s);
        }
        assert_eq!(p.nap(20, 20 * 16), Some(Nap::IfIdle), "pipelined: the worker may be the limit");
        // After an idle millisecond the history is gone.
        assert_eq!(pass(&mut p, &mut seen, 13, 0..1), None);
    }

    #[test]
    fn thresholds_are_inclusive() {
        for (conns, want) in [(MIN_CONCURRENT - 1, None), (MIN_CONCURRENT, Some(Nap::Always))] {
            let mut p = Pacer::default();
            let mut seen = vec![0; conns];
            pass(&mut p, &mut seen, 1, 0..conns);
            assert_eq!(pass(&mut p, &mut seen, 2, 0..1), want, "{conns} connections");
            assert_eq!(p.nap(1, MAX_PASS_COMMANDS - 1), want);
            assert_eq!(p.nap(1, MAX_PASS_COMMANDS), want.map(|_| Nap::IfIdle));
        }
    }

    #[test]
    fn a_connection_counts_once_per_millisecond() {
        let mut p = Pacer::default();
        let mut seen = vec![0; 4];
        for _ in 0..100 {
            pass(&mut p, &mut seen, 5, 0..4);
        }
        assert_eq!(pass(&mut p, &mut seen, 6, 0..1), None, "4 connections, however busy, are not 16");
    }
}
