//! Latency diagnostics: per-command histograms (Redis 7's latency
//! tracking, for `INFO latencystats` and `LATENCY HISTOGRAM`) and the
//! latency monitor's event series (`latency-monitor-threshold`, for
//! `LATENCY LATEST|HISTORY|RESET`).
//!
//! The histograms have HdrHistogram's layout, as Redis configures it:
//! values from 1 ns to 1 s kept to 2 significant digits, so percentiles
//! and bucket bounds are the ones Redis computes from the same samples.

use std::collections::BTreeMap;

/// Smallest and largest recorded values, in ns (`LATENCY_HISTOGRAM_*`).
const MIN_NS: u64 = 1;
const MAX_NS: u64 = 1_000_000_000;

/// 2 significant digits: 256 sub-buckets, the upper half of each bucket
/// (half count magnitude 7) being new.
const SUB_BUCKET_COUNT: u64 = 256;
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 7;
const SUB_BUCKET_HALF_COUNT: u64 = 128;
const SUB_BUCKET_MASK: u64 = SUB_BUCKET_COUNT - 1;
/// Buckets that reach `MAX_NS` (the first covers 0..256).
const BUCKETS: u64 = 23;
const COUNTS: usize = ((BUCKETS + 1) * SUB_BUCKET_HALF_COUNT) as usize;

/// One command's latencies.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64; COUNTS]>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: Box::new([0; COUNTS]), total: 0 }
    }
}

/// `(bucket, sub_bucket)` of `v` (`get_bucket_index`, `get_sub_bucket_index`).
fn position(v: u64) -> (u32, u64) {
    let pow2ceiling = 64 - (v | SUB_BUCKET_MASK).leading_zeros();
    let bucket = pow2ceiling - (SUB_BUCKET_HALF_MAGNITUDE + 1);
    (bucket, v >> bucket)
}

fn counts_index(v: u64) -> usize {
    let (bucket, sub) = position(v);
    (((bucket as u64 + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub - SUB_BUCKET_HALF_COUNT) as usize
}

/// The lowest value that falls where counts index `i` counts.
fn value_at_index(i: usize) -> u64 {
    let i = i as u64;
    let mut bucket = (i >> SUB_BUCKET_HALF_MAGNITUDE) as i64 - 1;
    let mut sub = (i & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if bucket < 0 {
        sub -= SUB_BUCKET_HALF_COUNT;
        bucket = 0;
    }
    sub << bucket
}

/// The lowest value counted with `v`.
fn lowest_equivalent(v: u64) -> u64 {
    let (bucket, sub) = position(v);
    sub << bucket
}

/// The highest value counted with `v`.
fn highest_equivalent(v: u64) -> u64 {
    let (bucket, sub) = position(v);
    let adjusted = if sub >= SUB_BUCKET_COUNT { bucket + 1 } else { bucket };
    lowest_equivalent(v) + (1u64 << adjusted) - 1
}

impl Histogram {
    /// Records one call of `ns` nanoseconds (clamped to 1 ns ..= 1 s).
    pub fn record(&mut self, ns: u64) {
        self.counts[counts_index(ns.clamp(MIN_NS, MAX_NS))] += 1;
        self.total += 1;
    }

    /// Records a call of `ns` nanoseconds as Redis does: in whole
    /// microseconds (a call under 1 µs is the 1 ns minimum).
    pub fn record_call(&mut self, ns: u64) {
        self.record(ns / 1000 * 1000);
    }

    /// Calls recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `hdr_value_at_percentile`, in ns.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let wanted = ((p / 100.0 * self.total as f64 + 0.5) as u64).max(1);
        let mut seen = 0;
        let mut at = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                at = value_at_index(i);
                break;
            }
        }
        if percentile == 0.0 {
            lowest_equivalent(at)
        } else {
            highest_equivalent(at)
        }
    }

    /// LATENCY HISTOGRAM's cumulative distribution: `(µs, calls)` at
    /// power-of-two bounds from 1024 ns (`hdr_iter_log_init(h, 1024, 2)`)
    /// where the count grew; a bound counts the calls up to its own
    /// bucket, as the iterator reports it.
    pub fn cumulative(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        if self.total == 0 {
            return out;
        }
        let mut level = 1024u64;
        let mut idx = 0;
        let mut cumulative = 0;
        let mut previous = 0;
        let last = value_at_index(COUNTS - 1);
        while cumulative < self.total {
            // Past the table the iterator stops at its last bucket.
            let beyond = counts_index(level) >= COUNTS;
            let bound = if beyond { last } else { lowest_equivalent(level) };
            while idx < COUNTS && value_at_index(idx) <= bound {
                cumulative += self.counts[idx];
                idx += 1;
            }
            if cumulative > previous {
                out.push((highest_equivalent(if beyond { last } else { level }) / 1000, cumulative));
            }
            previous = cumulative;
            level *= 2;
        }
        out
    }
}

/// Samples an event series keeps (`LATENCY_TS_LEN`).
const SERIES_LEN: usize = 160;

/// One event's latency series (`latencyTimeSeries`): a sample per second
/// at most, the worst of that second.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// `(unix seconds, ms)`, oldest first.
    samples: std::collections::VecDeque<(i64, u64)>,
    /// The worst latency ever recorded.
    max: u64,
}

impl Series {
    /// The samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = &(i64, u64)> {
        self.samples.iter()
    }

    /// The latest sample and the all-time maximum.
    pub fn latest(&self) -> ((i64, u64), u64) {
        (self.samples.back().copied().unwrap_or_default(), self.max)
    }

    /// `analyzeLatencyForEvent`: the figures LATENCY DOCTOR prints, with
    /// Redis's integer arithmetic.
    pub fn analysis(&self, now_sec: i64) -> Analysis {
        let n = self.samples.len() as u64;
        let mut a = Analysis { samples: n, all_time_high: self.max, ..Analysis::default() };
        if n == 0 {
            return a;
        }
        a.min = self.samples.iter().map(|s| s.1).min().unwrap_or(0);
        a.max = self.samples.iter().map(|s| s.1).max().unwrap_or(0);
        a.avg = self.samples.iter().map(|s| s.1).sum::<u64>() / n;
        let oldest = self.samples.iter().map(|s| s.0).min().unwrap_or(now_sec);
        // Redis turns only a zero period into 1 (a clock stepped back
        // leaves it negative).
        a.period = match now_sec - oldest {
            0 => 1,
            p => p,
        };
        a.mad = self.samples.iter().map(|s| a.avg.abs_diff(s.1)).sum::<u64>() / n;
        a
    }

    /// `latencyCommandGenSparkeline`: LATENCY GRAPH's picture, each sample
    /// labelled with how long ago it was taken.
    pub fn graph(&self, event: &str, now_sec: i64) -> String {
        let ago = |t: i64| {
            let e = now_sec - t;
            match e {
                _ if e < 60 => format!("{e}s"),
                _ if e < 3600 => format!("{}m", e / 60),
                _ if e < 86_400 => format!("{}h", e / 3600),
                _ => format!("{}d", e / 86_400),
            }
        };
        let low = self.samples.iter().map(|s| s.1).min().unwrap_or(0);
        let high = self.samples.iter().map(|s| s.1).max().unwrap_or(0);
        let mut out = format!("{event} - high {high} ms, low {low} ms (all time high {} ms)\n", self.max);
        out.push_str(&"-".repeat(GRAPH_COLUMNS));
        out.push('\n');
        let samples: Vec<(f64, String)> = self.samples.iter().map(|&(t, ms)| (ms as f64, ago(t))).collect();
        sparkline(&mut out, &samples, GRAPH_COLUMNS, GRAPH_ROWS);
        out
    }
}

/// What LATENCY DOCTOR reports of one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Samples kept.
    pub samples: u64,
    /// Their mean, in whole milliseconds.
    pub avg: u64,
    /// Mean absolute deviation from `avg`.
    pub mad: u64,
    /// The lowest sample.
    pub min: u64,
    /// The highest sample.
    pub max: u64,
    /// Seconds since the oldest sample, at least 1.
    pub period: i64,
    /// The worst latency ever recorded, kept samples or not.
    pub all_time_high: u64,
}

const GRAPH_COLUMNS: usize = 80;
const GRAPH_ROWS: usize = 4;

/// Appends Redis's filled ASCII sparkline of `samples` (value, label) to
/// `out`: `rows` rows of `_o#|` per `columns` samples, then the labels
/// written downwards under a blank line.
fn sparkline(out: &mut String, samples: &[(f64, String)], columns: usize, rows: usize) {
    const FILL: [char; 3] = ['_', 'o', '#'];
    let Some(first) = samples.first() else { return };
    // The sequence's bounds are updated as Redis's are: a new minimum is
    // never also taken as a new maximum.
    let (mut min, mut max) = (first.0, first.0);
    for s in &samples[1..] {
        if s.0 < min {
            min = s.0;
        } else if s.0 > max {
            max = s.0;
        }
    }
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * rows) as i64;
    for (chunk_no, chunk) in samples.chunks(columns).enumerate() {
        if chunk_no != 0 {
            out.push('\n');
        }
        for row in 0.. {
            let mut line = vec![' '; chunk.len()];
            let mut more = false;
            for (j, (value, label)) in chunk.iter().enumerate() {
                // C truncates the product before dividing.
                let step = (((value - min) * steps as f64) as i64 as f64 / relmax) as i64;
                let step = step.clamp(0, steps - 1);
                if row < rows {
                    more = true;
                    let idx = step - ((rows - row - 1) * FILL.len()) as i64;
                    if (0..FILL.len() as i64).contains(&idx) {
                        line[j] = FILL[idx as usize];
                    } else if idx >= FILL.len() as i64 {
                        line[j] = '|';
                    }
                } else if row == rows {
                    // The blank line between the graph and the labels.
                    more = true;
                    break;
                } else if let Some(c) = label.as_bytes().get(row - rows - 1) {
                    more = true;
                    line[j] = *c as char;
                }
            }
            if !more {
                break;
            }
            out.extend(line);
            out.push('\n');
        }
    }
}

/// The latency monitor's events, by name.
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    events: BTreeMap<String, Series>,
}

impl Monitor {
    /// `latencyAddSampleIfNeeded`: records `ms` for `event` when a
    /// threshold is set and reached.
    pub fn add_if_needed(&mut self, threshold_ms: i64, event: &str, ms: u64, now_sec: i64) {
        if threshold_ms > 0 && ms >= threshold_ms as u64 {
            self.add(event, ms, now_sec);
        }
    }

    /// `latencyAddSample`.
    pub fn add(&mut self, event: &str, ms: u64, now_sec: i64) {
        let s = self.events.entry(event.to_string()).or_default();
        s.max = s.max.max(ms);
        match s.samples.back_mut() {
            Some(last) if last.0 == now_sec => last.1 = last.1.max(ms),
            _ => {
                if s.samples.len() == SERIES_LEN {
                    s.samples.pop_front();
                }
                s.samples.push_back((now_sec, ms));
            }
        }
    }

    /// The events and their series.
    pub fn events(&self) -> impl Iterator<Item = (&String, &Series)> {
        self.events.iter()
    }

    /// One event's series.
    pub fn get(&self, event: &[u8]) -> Option<&Series> {
        std::str::from_utf8(event).ok().and_then(|e| self.events.get(e))
    }

    /// Forgets `event`, or every event; returns how many were forgotten.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        match event {
            None => std::mem::take(&mut self.events).len(),
            Some(e) => std::str::from_utf8(e).ok().and_then(|e| self.events.remove(e)).is_some() as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_are_redis_sparklines() {
        let mut out = String::new();
        sparkline(&mut out, &[(0.0, "1s".into()), (10.0, "0s".into())], 80, 4);
        assert_eq!(out, " #\n |\n |\n_|\n  \n10\nss\n");
        // Equal values sit on the bottom row; a long series wraps at the
        // column count.
        let mut out = String::new();
        sparkline(&mut out, &[(5.0, "a".into()), (5.0, "b".into()), (5.0, "c".into())], 2, 1);
        assert_eq!(out, "__\n  \nab\n\n_\n \nc\n");

        let mut m = Monitor::default();
        m.add("command", 40, 1000);
        m.add("command", 20, 1030);
        let g = m.get(b"command").unwrap().graph("command", 1090);
        assert!(
            g.starts_with(&format!("command - high 40 ms, low 20 ms (all time high 40 ms)\n{}\n", "-".repeat(80))),
            "{g}"
        );
        assert!(g.ends_with("  \n11\nmm\n"), "{g}");
    }

    #[test]
    fn doctor_figures_use_integer_arithmetic() {
        let mut m = Monitor::default();
        for (t, ms) in [(100, 10), (101, 20), (102, 31)] {
            m.add("command", ms, t);
        }
        let a = m.get(b"command").unwrap().analysis(110);
        assert_eq!(a, Analysis { samples: 3, avg: 20, mad: 7, min: 10, max: 31, period: 10, all_time_high: 31 });
        // A sample this second still spans a period of one second.
        let mut m = Monitor::default();
        m.add("x", 5, 100);
        assert_eq!(m.get(b"x").unwrap().analysis(100).period, 1);
    }

    #[test]
    fn values_keep_two_significant_digits() {
        for v in [1u64, 2, 255, 256, 257, 1000, 1023, 1024, 12_345, 999_999, 1_000_000_000] {
            let (lo, hi) = (lowest_equivalent(v), highest_equivalent(v));
            assert!(lo <= v && v <= hi, "{v}: {lo}..{hi}");
            // Within 1% (2 significant digits).
            assert!((hi - lo) as f64 <= v as f64 / 100.0 + 1.0, "{v}: {lo}..{hi}");
            assert_eq!(value_at_index(counts_index(v)), lo, "{v}");
        }
        assert!(counts_index(MAX_NS) < COUNTS);
    }

    #[test]
    fn percentiles_are_hdr_histograms() {
        let mut h = Histogram::default();
        for v in 1..=100u64 {
            h.record(v * 1000);
        }
        assert_eq!(h.total(), 100);
        // 50th of 100 values: the 50th, 50 µs, to its bucket's top.
        assert_eq!(h.value_at_percentile(50.0), highest_equivalent(50_000));
        assert_eq!(h.value_at_percentile(100.0), highest_equivalent(100_000));
        assert_eq!(h.value_at_percentile(0.0), lowest_equivalent(1000));
        // Out of range values are clamped.
        h.record(0);
        h.record(u64::MAX);
        assert_eq!(h.value_at_percentile(100.0), highest_equivalent(MAX_NS));
    }

    #[test]
    fn values_are_hdr_histograms_with_two_significant_figures() {
        let mut h = Histogram::default();
        h.record(1000);
        assert_eq!(h.value_at_percentile(50.0), 1003);
        let mut h = Histogram::default();
        h.record(1_000_000);
        assert_eq!(h.value_at_percentile(50.0), 1_003_519);
        // Calls are kept in whole microseconds, as Redis records them.
        let mut h = Histogram::default();
        h.record_call(751);
        assert_eq!(h.value_at_percentile(50.0), 1);
        // Past 2^29 ns the distribution ends at the table's last bucket.
        let mut h = Histogram::default();
        h.record(900_000_000);
        assert_eq!(h.cumulative().last(), Some(&(1_073_741, 1)));
    }

    #[test]
    fn cumulative_counts_grow_at_power_of_two_bounds() {
        let mut h = Histogram::default();
        for ns in [500, 1500, 1600, 3000, 70_000] {
            h.record(ns);
        }
        let cdf = h.cumulative();
        assert_eq!(cdf.first(), Some(&(1, 1)));
        assert_eq!(cdf.last().map(|c| c.1), Some(5));
        assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{cdf:?}");
        assert!(Histogram::default().cumulative().is_empty());
    }

    #[test]
    fn monitor_keeps_the_worst_of_each_second_and_160_seconds() {
        let mut m = Monitor::default();
        m.add_if_needed(0, "command", 500, 1);
        assert_eq!(m.events().count(), 0, "no threshold, no samples");
        m.add_if_needed(100, "command", 99, 1);
        m.add_if_needed(100, "command", 150, 1);
        m.add_if_needed(100, "command", 120, 1);
        m.add_if_needed(100, "command", 110, 2);
        let s = m.get(b"command").expect("series");
        assert_eq!(s.samples().copied().collect::<Vec<_>>(), vec![(1, 150), (2, 110)]);
        assert_eq!(s.latest(), ((2, 110), 150));
        for t in 3..200 {
            m.add("command", 1, t);
        }
        assert_eq!(m.get(b"command").map(|s| s.samples().count()), Some(SERIES_LEN));
        m.add("fast-command", 1, 1);
        assert_eq!(m.reset(Some(b"nosuch")), 0);
        assert_eq!(m.reset(Some(b"command")), 1);
        assert_eq!(m.reset(None), 1);
    }
}
