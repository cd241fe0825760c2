//! What every entry's 24-bit access field records, as maxmemory-policy
//! chooses (Redis's `lru` field of an object):
//!
//! - LRU: the LRU clock (seconds, 24 bits) of the last access.
//! - LFU: the minute of the last decrement (16 bits) and a logarithmic
//!   access counter (8 bits). A new key starts at [`LFU_INIT`] so it
//!   survives a while; each access increments the counter with a
//!   probability that falls as it grows (`lfu-log-factor`), and each
//!   `lfu-decay-time` minutes without access take one off.
//!
//! Switching policy at run time reinterprets the field, as in Redis: the
//! data adjusts as keys are accessed again.

/// LRU clock value for `now_ms` (seconds, 24 bits, as Redis's LRU_CLOCK).
#[inline]
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u32) & super::entry::LRU_MAX
}

/// The counter a new key starts with (Redis's LFU_INIT_VAL).
pub const LFU_INIT: u32 = 5;

/// How accesses are recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Clock {
    /// Last access time.
    #[default]
    Lru,
    /// Access frequency.
    Lfu {
        /// `lfu-log-factor`: how fast increments become unlikely.
        log_factor: u32,
        /// `lfu-decay-time`: minutes per decrement (0: never decays).
        decay_minutes: u32,
    },
}

/// Minutes of the Unix time, 16 bits (Redis's LFUGetTimeInMinutes).
#[inline]
fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) as u32) & 0xffff
}

impl Clock {
    /// True for the LFU policies.
    #[inline]
    pub fn is_lfu(self) -> bool {
        matches!(self, Clock::Lfu { .. })
    }

    /// The field of a key created now.
    #[inline]
    pub fn fresh(self, now_ms: i64) -> u32 {
        match self {
            Clock::Lru => lru_clock(now_ms),
            Clock::Lfu { .. } => minutes(now_ms) << 8 | LFU_INIT,
        }
    }

    /// The field after an access to a key whose field was `old`. `random`
    /// is a uniformly distributed number (LFU increments are a coin toss).
    #[inline]
    pub fn touched(self, old: u32, now_ms: i64, random: u64) -> u32 {
        match self {
            Clock::Lru => lru_clock(now_ms),
            Clock::Lfu { log_factor, .. } => {
                let counter = log_incr(self.frequency(old, now_ms), log_factor, random);
                minutes(now_ms) << 8 | counter
            }
        }
    }

    /// The access counter of a field after decay (Redis's
    /// LFUDecrAndReturn); the field itself is only rewritten on access.
    #[inline]
    pub fn frequency(self, field: u32, now_ms: i64) -> u32 {
        let counter = field & 0xff;
        let Clock::Lfu { decay_minutes, .. } = self else { return counter };
        if decay_minutes == 0 {
            return counter;
        }
        let (now, then) = (minutes(now_ms), field >> 8);
        // The 16-bit minute clock wraps about every 45 days; assume once.
        let elapsed = if now >= then { now - then } else { 65535 - then + now };
        counter.saturating_sub(elapsed / decay_minutes)
    }
}

/// Redis's LFULogIncr: increments `counter` with probability
/// 1 / ((counter - LFU_INIT) * log_factor + 1), saturating at 255.
#[inline]
fn log_incr(counter: u32, log_factor: u32, random: u64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    // 53 random bits as a number in [0, 1).
    let r = (random >> 11) as f64 / (1u64 << 53) as f64;
    let base = counter.saturating_sub(LFU_INIT) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn lfu(log_factor: u32, decay_minutes: u32) -> Clock {
        Clock::Lfu { log_factor, decay_minutes }
    }

    #[test]
    fn lru_records_the_clock() {
        assert_eq!(Clock::Lru.fresh(5_500), 5);
        assert_eq!(Clock::Lru.touched(1, 9_000, 0), 9);
        assert!(!Clock::Lru.is_lfu());
    }

    #[test]
    fn lfu_starts_at_five_and_counts_every_access_without_a_log_factor() {
        let c = lfu(0, 0);
        let mut f = c.fresh(10 * MIN);
        assert_eq!(c.frequency(f, 10 * MIN), 5);
        for i in 0..300 {
            f = c.touched(f, 10 * MIN, u64::MAX - i);
        }
        assert_eq!(c.frequency(f, 10 * MIN), 255, "saturates");
    }

    #[test]
    fn the_log_factor_makes_high_counts_unlikely() {
        let c = lfu(10, 0);
        let mut f = c.fresh(0);
        // xorshift, as the keyspace uses.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f = c.touched(f, 0, x);
        }
        // Redis's table for factor 10: 1K hits give about 18.
        let n = c.frequency(f, 0);
        assert!((12..=26).contains(&n), "{n}");
        // The first access past the initial value always counts.
        assert_eq!(c.touched(c.fresh(0), 0, u64::MAX) & 0xff, 6);
    }

    #[test]
    fn decay_takes_one_per_period_and_wraps_the_minute_clock() {
        let c = lfu(10, 2);
        let f = 100 << 8 | 20;
        assert_eq!(c.frequency(f, 101 * MIN), 20);
        assert_eq!(c.frequency(f, 107 * MIN), 17);
        assert_eq!(c.frequency(f, 200 * MIN), 0);
        assert_eq!(lfu(10, 0).frequency(f, 100_000 * MIN), 20, "no decay");
        // Stamped at minute 65534; now is minute 3 after the wrap.
        let late = 65534 << 8 | 10;
        assert_eq!(c.frequency(late, (65536 + 3) * MIN), 8);
        // An access writes the decayed count back with the new minute.
        let t = lfu(0, 2).touched(f, 107 * MIN, 0);
        assert_eq!((t >> 8, t & 0xff), (107, 18));
    }
}
