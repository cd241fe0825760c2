//! The active expiry cycle: reclaims expired keys nobody reads, in bounded
//! slices, with Redis's adaptive rule (keep sampling a database while more
//! than a few percent of what is sampled turns out expired, until the time
//! budget is spent).

use std::time::{Duration, Instant};

use crate::state::State;

/// Which budget a cycle runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycle {
    /// The periodic cycle: up to ~25% of a cron period.
    Slow,
    /// A short extra cycle (about 1 ms) while many keys are known stale.
    Fast,
}

/// What a cycle did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Keys looked at.
    pub sampled: u64,
    /// Keys removed.
    pub expired: u64,
    /// Whether it stopped because its time ran out (more work may remain).
    pub hit_time_limit: bool,
}

impl Report {
    /// Whether enough stale keys remain that another cycle soon is worth it.
    pub fn wants_more(&self, acceptable_stale_pct: u64) -> bool {
        self.hit_time_limit || (self.sampled > 0 && self.expired * 100 / self.sampled > acceptable_stale_pct)
    }
}

/// Parameters derived from active-expire-effort, as in Redis.
pub struct Params {
    /// Keys sampled per inner loop.
    pub keys_per_loop: usize,
    /// Time budget of a fast cycle.
    pub fast_duration: Duration,
    /// Share of a cron period a slow cycle may use, in percent.
    pub slow_time_perc: u64,
    /// Stop sampling a database once at most this percent of samples expired.
    pub acceptable_stale: u64,
}

impl Params {
    /// For `active-expire-effort` (1..=10) and `hz`.
    pub fn new(effort: i64) -> Self {
        let e = (effort.clamp(1, 10) - 1) as u64;
        Params {
            keys_per_loop: (20 + 20 / 4 * e) as usize,
            fast_duration: Duration::from_micros(1000 + 1000 / 4 * e),
            slow_time_perc: 25 + 2 * e,
            acceptable_stale: 10 - e,
        }
    }
}

/// Runs one cycle over the databases at `now_ms`.
pub fn run(st: &mut State, now_ms: i64, kind: Cycle) -> Report {
    let mut report = Report::default();
    // A paused server keeps its dataset still.
    if !st.active_expire_enabled || crate::pause::active(st, now_ms).is_some() {
        return report;
    }
    let p = Params::new(st.cfg.active_expire_effort);
    let limit = match kind {
        Cycle::Fast => p.fast_duration,
        Cycle::Slow => Duration::from_micros(p.slow_time_perc * 1_000_000 / st.cfg.hz.max(1) as u64 / 100),
    };
    let started = Instant::now();
    'dbs: for db in st.dbs.iter_mut() {
        let mut loops = 0u32;
        loop {
            let s = db.expire_sample(now_ms, p.keys_per_loop);
            if s.sampled == 0 {
                break;
            }
            report.sampled += s.sampled as u64;
            report.expired += s.expired as u64;
            if s.ttl_samples > 0 {
                let avg = s.ttl_sum / s.ttl_samples as i64;
                db.avg_ttl = if db.avg_ttl == 0 { avg } else { (db.avg_ttl / 50) * 49 + avg / 50 };
            }
            loops += 1;
            if loops.is_multiple_of(16) && started.elapsed() > limit {
                report.hit_time_limit = true;
                break 'dbs;
            }
            if (s.expired as u64) * 100 / (s.sampled as u64) <= p.acceptable_stale {
                break;
            }
        }
        if started.elapsed() > limit {
            report.hit_time_limit = true;
            break;
        }
    }
    for i in 0..st.dbs.len() {
        st.after_expiry(i, None);
    }
    st.collect_expired();
    let elapsed = started.elapsed().as_micros() as u64;
    st.stats.expire_cycle_usec += elapsed;
    if report.hit_time_limit {
        st.stats.expire_time_cap_reached += 1;
    }
    let current = if report.sampled > 0 { report.expired as f64 / report.sampled as f64 } else { 0.0 };
    st.stats.expired_stale_perc = current * 0.05 + st.stats.expired_stale_perc * 0.95;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::keyspace::{Entry, StrEnc};

    #[test]
    fn reclaims_a_mass_expiry_in_bounded_cycles() {
        let mut st = State::new(Config::new());
        let n = if cfg!(miri) { 200 } else { 200_000 };
        for i in 0..n {
            let k = format!("k{i}");
            st.dbs[0].insert(Entry::new_str(k.as_bytes(), b"v", StrEnc::Embstr, Some(1_000), 0));
        }
        let mut cycles = 0;
        while !st.dbs[0].is_empty() {
            let started = Instant::now();
            let r = run(&mut st, 2_000, Cycle::Slow);
            // A cycle stays near its 25 ms budget (generous bound for
            // debug builds on a loaded machine).
            assert!(started.elapsed() < Duration::from_millis(250), "cycle took {:?}", started.elapsed());
            assert!(r.expired > 0);
            cycles += 1;
            assert!(cycles < 10_000);
        }
        assert_eq!(st.expired_keys(), n as u64);
    }

    #[test]
    fn disabled_by_debug_set_active_expire() {
        let mut st = State::new(Config::new());
        st.dbs[0].insert(Entry::new_str(b"k", b"v", StrEnc::Embstr, Some(1), 0));
        st.active_expire_enabled = false;
        assert_eq!(run(&mut st, 10, Cycle::Slow), Report::default());
        assert_eq!(st.dbs[0].len(), 1);
    }
}
