//! Per-entry counters of `morph up`, rendered at `GET /metrics` in Prometheus' text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// What one entry has answered.
#[derive(Default)]
pub(crate) struct EntryMetrics {
    /// By status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Cumulative counts per bucket, then +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    micros: AtomicU64,
    /// Requests the morph trapped on (500) or ran past its timeout on (504).
    traps: AtomicU64,
    timeouts: AtomicU64,
}

impl EntryMetrics {
    pub(crate) fn record(&self, status: u16, took: Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        let bucket = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        match status {
            500 => self.traps.fetch_add(1, Ordering::Relaxed),
            504 => self.timeouts.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}

/// One entry's metrics and its pool's occupancy (in use, size, made ahead and waiting).
pub(crate) struct Sample<'a> {
    pub entry: &'a str,
    pub metrics: &'a EntryMetrics,
    pub in_use: usize,
    pub size: usize,
    pub ready: usize,
}

/// The Prometheus exposition of every entry.
pub(crate) fn render(samples: &[Sample<'_>]) -> String {
    let mut out = String::new();
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    family(&mut out, "morph_requests_total", "counter", "Requests answered, by entry and status class.");
    for s in samples {
        for (i, n) in s.metrics.by_class.iter().enumerate() {
            let _ = writeln!(out, "morph_requests_total{{entry=\"{}\",status=\"{}xx\"}} {}", s.entry, i + 1, get(n));
        }
    }
    family(&mut out, "morph_request_duration_seconds", "histogram", "Time to the response head, by entry.");
    for s in samples {
        let mut cumulative = 0;
        for (i, n) in s.metrics.buckets.iter().enumerate() {
            cumulative += get(n);
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), f64::to_string);
            let _ = writeln!(
                out,
                "morph_request_duration_seconds_bucket{{entry=\"{}\",le=\"{le}\"}} {cumulative}",
                s.entry
            );
        }
        let sum = get(&s.metrics.micros) as f64 / 1e6;
        let _ = writeln!(out, "morph_request_duration_seconds_sum{{entry=\"{}\"}} {sum}", s.entry);
        let _ = writeln!(out, "morph_request_duration_seconds_count{{entry=\"{}\"}} {cumulative}", s.entry);
    }
    family(&mut out, "morph_traps_total", "counter", "Requests whose morph trapped or failed (500).");
    for s in samples {
        let _ = writeln!(out, "morph_traps_total{{entry=\"{}\"}} {}", s.entry, get(&s.metrics.traps));
    }
    family(&mut out, "morph_timeouts_total", "counter", "Requests stopped at the entry's timeout (504).");
    for s in samples {
        let _ = writeln!(out, "morph_timeouts_total{{entry=\"{}\"}} {}", s.entry, get(&s.metrics.timeouts));
    }
    family(&mut out, "morph_pool_in_use", "gauge", "Instances of the entry running now.");
    for s in samples {
        let _ = writeln!(out, "morph_pool_in_use{{entry=\"{}\"}} {}", s.entry, s.in_use);
    }
    family(&mut out, "morph_pool_idle", "gauge", "Slots of the entry's pool free now.");
    for s in samples {
        let _ = writeln!(out, "morph_pool_idle{{entry=\"{}\"}} {}", s.entry, s.size.saturating_sub(s.in_use));
    }
    family(&mut out, "morph_pool_ready", "gauge", "Instances made ahead (pool.min) and waiting for a request.");
    for s in samples {
        let _ = writeln!(out, "morph_pool_ready{{entry=\"{}\"}} {}", s.entry, s.ready);
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_counts_in_its_class_bucket_and_kind() {
        let m = EntryMetrics::default();
        m.record(200, Duration::from_millis(3));
        m.record(504, Duration::from_secs(2));
        let text = render(&[Sample { entry: "greet", metrics: &m, in_use: 1, size: 4, ready: 2 }]);
        assert!(text.contains("morph_requests_total{entry=\"greet\",status=\"2xx\"} 1"), "{text}");
        assert!(text.contains("morph_requests_total{entry=\"greet\",status=\"5xx\"} 1"), "{text}");
        assert!(text.contains("morph_request_duration_seconds_bucket{entry=\"greet\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("morph_request_duration_seconds_bucket{entry=\"greet\",le=\"1\"} 1"), "{text}");
        assert!(text.contains("morph_request_duration_seconds_bucket{entry=\"greet\",le=\"+Inf\"} 2"), "{text}");
        assert!(text.contains("morph_timeouts_total{entry=\"greet\"} 1"), "{text}");
        assert!(text.contains("morph_traps_total{entry=\"greet\"} 0"), "{text}");
        assert!(text.contains("morph_pool_idle{entry=\"greet\"} 3"), "{text}");
        assert!(text.contains("morph_pool_ready{entry=\"greet\"} 2"), "{text}");
    }
}
