//! Prometheus metrics: every name is defined here, every label comes from a fixed set, and the
//! text exposition format is written by hand (a dozen series do not need a registry crate).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventkeeper_core::Origin;

/// Lines written to stdout, by event type and origin.
pub const LINES_EMITTED: &str = "eventkeeper_lines_emitted_total";
/// Lines cut to fit the line budget.
pub const LINES_TRUNCATED: &str = "eventkeeper_lines_truncated_total";
/// Observations dropped by the include/exclude filters.
pub const EVENTS_FILTERED: &str = "eventkeeper_events_filtered_total";
/// Watch or list items that were not Events and could not be written.
pub const EVENTS_UNREADABLE: &str = "eventkeeper_events_unreadable_total";
/// Full lists (at start without a checkpoint, and after a 410).
pub const RELISTS: &str = "eventkeeper_relists_total";
/// `410 Gone` answers (watch too old, continue token expired).
pub const GONE: &str = "eventkeeper_gone_total";
/// Watches opened again after the previous one ended or failed.
pub const WATCH_RESTARTS: &str = "eventkeeper_watch_restarts_total";
/// Failed API requests, by class.
pub const API_ERRORS: &str = "eventkeeper_api_errors_total";
/// Seconds from an event's effective time to its line being written.
pub const EMIT_LAG: &str = "eventkeeper_emit_lag_seconds";
/// Seconds since the checkpoint was last written to the Lease.
pub const CHECKPOINT_AGE: &str = "eventkeeper_checkpoint_age_seconds";
/// resourceVersion of the last checkpoint written.
pub const CHECKPOINT_RESOURCE_VERSION: &str = "eventkeeper_checkpoint_resource_version";
/// 1 while this replica is the leader.
pub const LEADER: &str = "eventkeeper_leader";
/// Times this replica became leader.
pub const LEADER_TRANSITIONS: &str = "eventkeeper_leader_transitions_total";

/// API error classes used as the `class` label (see `SourceError::metric_label`).
pub const ERROR_CLASSES: [&str; 10] = [
    "gone",
    "throttled",
    "server",
    "forbidden",
    "client",
    "network",
    "decode",
    "idle",
    "request",
    "conflict",
];

const TYPES: [&str; 3] = ["Normal", "Warning", "other"];
const ORIGINS: [Origin; 2] = [Origin::Watch, Origin::Relist];
const LAG_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Every metric of the process.
#[derive(Debug, Default)]
pub struct Metrics {
    emitted: [[AtomicU64; 2]; 3],
    truncated: AtomicU64,
    filtered: AtomicU64,
    unreadable: AtomicU64,
    relists: AtomicU64,
    gone: AtomicU64,
    watch_restarts: AtomicU64,
    api_errors: [AtomicU64; ERROR_CLASSES.len()],
    lag_buckets: [AtomicU64; LAG_BUCKETS.len()],
    lag_count: AtomicU64,
    lag_sum_micros: AtomicU64,
    checkpoint_unix_millis: AtomicI64,
    checkpoint_rv: AtomicU64,
    leader: AtomicU64,
    leader_transitions: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// A line was written.
    pub fn line_emitted(&self, event_type: &str, origin: Origin, truncated: bool) {
        let t = TYPES.iter().position(|t| *t == event_type).unwrap_or(2);
        let o = usize::from(origin != Origin::Watch);
        add(&self.emitted[t][o], 1);
        if truncated {
            add(&self.truncated, 1);
        }
    }

    /// How long after its effective time an event was written.
    pub fn observe_lag(&self, lag: Duration) {
        let seconds = lag.as_secs_f64();
        for (bucket, le) in self.lag_buckets.iter().zip(LAG_BUCKETS) {
            if seconds <= le {
                add(bucket, 1);
            }
        }
        add(&self.lag_count, 1);
        add(
            &self.lag_sum_micros,
            u64::try_from(lag.as_micros()).unwrap_or(u64::MAX),
        );
    }

    /// An observation was dropped by the filters.
    pub fn filtered(&self) {
        add(&self.filtered, 1);
    }

    /// An item could not be normalised.
    pub fn unreadable(&self) {
        add(&self.unreadable, 1);
    }

    /// A full list started.
    pub fn relist(&self) {
        add(&self.relists, 1);
    }

    /// A 410 was answered.
    pub fn gone(&self) {
        add(&self.gone, 1);
    }

    /// A watch was opened again.
    pub fn watch_restart(&self) {
        add(&self.watch_restarts, 1);
    }

    /// An API request failed; `class` is one of [`ERROR_CLASSES`].
    pub fn api_error(&self, class: &str) {
        let i = ERROR_CLASSES.iter().position(|c| *c == class).unwrap_or(4);
        add(&self.api_errors[i], 1);
    }

    /// The checkpoint was written to the Lease.
    pub fn checkpoint_written(&self, resource_version: u64) {
        self.checkpoint_rv
            .store(resource_version, Ordering::Relaxed);
        self.checkpoint_unix_millis
            .store(unix_millis(), Ordering::Relaxed);
    }

    /// Leadership changed.
    pub fn set_leader(&self, leader: bool) {
        let before = self.leader.swap(u64::from(leader), Ordering::Relaxed);
        if leader && before == 0 {
            add(&self.leader_transitions, 1);
        }
    }

    /// Total lines written so far (all types and origins).
    #[cfg(test)]
    fn lines_total(&self) -> u64 {
        self.emitted
            .iter()
            .flatten()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        header(
            &mut out,
            LINES_EMITTED,
            "counter",
            "Lines written to stdout, by event type and origin.",
        );
        for (t, name) in TYPES.iter().enumerate() {
            for (o, origin) in ORIGINS.iter().enumerate() {
                let origin = if *origin == Origin::Watch {
                    "watch"
                } else {
                    "relist"
                };
                let _ = writeln!(
                    out,
                    "{LINES_EMITTED}{{type=\"{name}\",origin=\"{origin}\"}} {}",
                    get(&self.emitted[t][o])
                );
            }
        }
        for (name, help, counter) in [
            (
                LINES_TRUNCATED,
                "Lines cut to fit the line budget.",
                &self.truncated,
            ),
            (
                EVENTS_FILTERED,
                "Observations dropped by the filters.",
                &self.filtered,
            ),
            (
                EVENTS_UNREADABLE,
                "Items that were not Events.",
                &self.unreadable,
            ),
            (RELISTS, "Full lists of Events.", &self.relists),
            (GONE, "410 Gone answers.", &self.gone),
            (
                WATCH_RESTARTS,
                "Watches opened again.",
                &self.watch_restarts,
            ),
            (
                LEADER_TRANSITIONS,
                "Times this replica became leader.",
                &self.leader_transitions,
            ),
        ] {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", get(counter));
        }
        header(
            &mut out,
            API_ERRORS,
            "counter",
            "Failed API requests, by class.",
        );
        for (class, counter) in ERROR_CLASSES.iter().zip(&self.api_errors) {
            let _ = writeln!(out, "{API_ERRORS}{{class=\"{class}\"}} {}", get(counter));
        }
        header(
            &mut out,
            EMIT_LAG,
            "histogram",
            "Seconds from an event's effective time to its line.",
        );
        for (le, bucket) in LAG_BUCKETS.iter().zip(&self.lag_buckets) {
            let _ = writeln!(out, "{EMIT_LAG}_bucket{{le=\"{le}\"}} {}", get(bucket));
        }
        let count = get(&self.lag_count);
        let _ = writeln!(out, "{EMIT_LAG}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{EMIT_LAG}_sum {}",
            get(&self.lag_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "{EMIT_LAG}_count {count}");
        header(
            &mut out,
            CHECKPOINT_AGE,
            "gauge",
            "Seconds since the checkpoint was last written (-1: never).",
        );
        let written = self.checkpoint_unix_millis.load(Ordering::Relaxed);
        let age = if written == 0 {
            -1.0
        } else {
            (unix_millis() - written) as f64 / 1000.0
        };
        let _ = writeln!(out, "{CHECKPOINT_AGE} {age}");
        header(
            &mut out,
            CHECKPOINT_RESOURCE_VERSION,
            "gauge",
            "resourceVersion of the last checkpoint.",
        );
        let _ = writeln!(
            out,
            "{CHECKPOINT_RESOURCE_VERSION} {}",
            get(&self.checkpoint_rv)
        );
        header(
            &mut out,
            LEADER,
            "gauge",
            "1 while this replica is the leader.",
        );
        let _ = writeln!(out, "{LEADER} {}", get(&self.leader));
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_series_with_fixed_labels() {
        let m = Metrics::default();
        m.line_emitted("Warning", Origin::Relist, true);
        m.line_emitted("Custom", Origin::Watch, false);
        m.api_error("throttled");
        m.api_error("not-a-class");
        m.observe_lag(Duration::from_millis(300));
        m.set_leader(true);
        let text = m.render();
        for line in [
            "eventkeeper_lines_emitted_total{type=\"Warning\",origin=\"relist\"} 1",
            "eventkeeper_lines_emitted_total{type=\"other\",origin=\"watch\"} 1",
            "eventkeeper_lines_truncated_total 1",
            "eventkeeper_api_errors_total{class=\"throttled\"} 1",
            "eventkeeper_api_errors_total{class=\"client\"} 1",
            "eventkeeper_emit_lag_seconds_bucket{le=\"0.25\"} 0",
            "eventkeeper_emit_lag_seconds_bucket{le=\"0.5\"} 1",
            "eventkeeper_emit_lag_seconds_count 1",
            "eventkeeper_checkpoint_age_seconds -1",
            "eventkeeper_leader 1",
            "eventkeeper_leader_transitions_total 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert_eq!(m.lines_total(), 2);
    }
}
