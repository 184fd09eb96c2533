//! Prometheus metrics: every name is defined here, every label value comes from an enum, and the
//! exposition (OpenMetrics text) is written by the `prometheus-client` crate.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventkeeper_core::{ErrorClass, Origin};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// Names as registered: the crate appends `_total` to counters.
/// Lines written to stdout, by event type and origin.
pub const LINES_EMITTED: &str = "eventkeeper_lines_emitted";
/// Lines cut to fit the line budget.
pub const LINES_TRUNCATED: &str = "eventkeeper_lines_truncated";
/// Observations dropped by the include/exclude filters.
pub const EVENTS_FILTERED: &str = "eventkeeper_events_filtered";
/// Watch or list items that were not Events and could not be written.
pub const EVENTS_UNREADABLE: &str = "eventkeeper_events_unreadable";
/// Full lists (at start without a checkpoint, and after a 410).
pub const RELISTS: &str = "eventkeeper_relists";
/// `410 Gone` answers (watch too old, continue token expired).
pub const GONE: &str = "eventkeeper_gone";
/// Watches opened again after the previous one ended or failed.
pub const WATCH_RESTARTS: &str = "eventkeeper_watch_restarts";
/// Failed API requests, by class.
pub const API_ERRORS: &str = "eventkeeper_api_errors";
/// Seconds from an event's effective time to its line being written.
pub const EMIT_LAG: &str = "eventkeeper_emit_lag_seconds";
/// Seconds since the checkpoint was last written to the Lease.
pub const CHECKPOINT_AGE: &str = "eventkeeper_checkpoint_age_seconds";
/// resourceVersion of the last checkpoint written.
pub const CHECKPOINT_RESOURCE_VERSION: &str = "eventkeeper_checkpoint_resource_version";
/// 1 while this replica is the leader.
pub const LEADER: &str = "eventkeeper_leader";
/// Times this replica became leader.
pub const LEADER_TRANSITIONS: &str = "eventkeeper_leader_transitions";
/// Watch heartbeat Events written (see `heartbeat`).
pub const WATCH_HEARTBEATS: &str = "eventkeeper_watch_heartbeats";
/// Watch heartbeat writes that failed, by class.
pub const WATCH_HEARTBEAT_FAILURES: &str = "eventkeeper_watch_heartbeat_failures";

const LAG_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// The `type` label: an Event's type, with anything but the two standard ones as `other` (the
/// type is free text; a label must not be).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
    /// Anything else.
    Other,
}

impl EventType {
    const ALL: [Self; 3] = [Self::Normal, Self::Warning, Self::Other];

    /// The label of an Event's `type` field.
    pub fn of(event_type: &str) -> Self {
        match event_type {
            "Normal" => Self::Normal,
            "Warning" => Self::Warning,
            _ => Self::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
            Self::Other => "other",
        }
    }
}

/// The `origin` label: how the emitter read the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadBy {
    Watch,
    Relist,
}

impl ReadBy {
    const ALL: [Self; 2] = [Self::Watch, Self::Relist];

    fn of(origin: Origin) -> Self {
        if origin == Origin::Watch {
            Self::Watch
        } else {
            Self::Relist
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Watch => "watch",
            Self::Relist => "relist",
        }
    }
}

type Labels<const N: usize> = [(&'static str, &'static str); N];

/// Every metric of the process, and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    emitted: Family<Labels<2>, Counter>,
    truncated: Counter,
    filtered: Counter,
    unreadable: Counter,
    relists: Counter,
    gone: Counter,
    watch_restarts: Counter,
    api_errors: Family<Labels<1>, Counter>,
    lag: Histogram,
    checkpoint_age: Gauge<f64, AtomicU64>,
    checkpoint_rv: Gauge,
    leader: Gauge,
    leader_transitions: Counter,
    heartbeats: Counter,
    heartbeat_failures: Family<Labels<1>, Counter>,
    /// When the checkpoint was last written (0: never); the age is computed when scraped.
    checkpoint_unix_millis: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Self {
            registry: Registry::default(),
            emitted: Family::default(),
            truncated: Counter::default(),
            filtered: Counter::default(),
            unreadable: Counter::default(),
            relists: Counter::default(),
            gone: Counter::default(),
            watch_restarts: Counter::default(),
            api_errors: Family::default(),
            lag: Histogram::new(LAG_BUCKETS),
            checkpoint_age: Gauge::default(),
            checkpoint_rv: Gauge::default(),
            leader: Gauge::default(),
            leader_transitions: Counter::default(),
            heartbeats: Counter::default(),
            heartbeat_failures: Family::default(),
            checkpoint_unix_millis: AtomicI64::new(0),
        };
        metrics.register()
    }
}

fn line_labels(event_type: EventType, read_by: ReadBy) -> Labels<2> {
    [("type", event_type.as_str()), ("origin", read_by.as_str())]
}

fn class_labels(class: ErrorClass) -> Labels<1> {
    [("class", class.as_str())]
}

impl Metrics {
    fn register(mut self) -> Self {
        // Every label combination exists from the start, at 0, so rates and alerts see a series
        // before its first increment.
        for event_type in EventType::ALL {
            for read_by in ReadBy::ALL {
                drop(
                    self.emitted
                        .get_or_create(&line_labels(event_type, read_by)),
                );
            }
        }
        for class in ErrorClass::ALL {
            drop(self.api_errors.get_or_create(&class_labels(class)));
            drop(self.heartbeat_failures.get_or_create(&class_labels(class)));
        }
        self.checkpoint_age.set(-1.0);
        let r = &mut self.registry;
        r.register(
            LINES_EMITTED,
            "Lines written to stdout, by event type and origin",
            self.emitted.clone(),
        );
        r.register(
            LINES_TRUNCATED,
            "Lines cut to fit the line budget",
            self.truncated.clone(),
        );
        r.register(
            EVENTS_FILTERED,
            "Observations dropped by the filters",
            self.filtered.clone(),
        );
        r.register(
            EVENTS_UNREADABLE,
            "Items that were not Events",
            self.unreadable.clone(),
        );
        r.register(RELISTS, "Full lists of Events", self.relists.clone());
        r.register(GONE, "410 Gone answers", self.gone.clone());
        r.register(
            WATCH_RESTARTS,
            "Watches opened again",
            self.watch_restarts.clone(),
        );
        r.register(
            API_ERRORS,
            "Failed API requests, by class",
            self.api_errors.clone(),
        );
        r.register(
            EMIT_LAG,
            "Seconds from an event's effective time to its line",
            self.lag.clone(),
        );
        r.register(
            CHECKPOINT_AGE,
            "Seconds since the checkpoint was last written (-1: never)",
            self.checkpoint_age.clone(),
        );
        r.register(
            CHECKPOINT_RESOURCE_VERSION,
            "resourceVersion of the last checkpoint",
            self.checkpoint_rv.clone(),
        );
        r.register(
            LEADER,
            "1 while this replica is the leader",
            self.leader.clone(),
        );
        r.register(
            LEADER_TRANSITIONS,
            "Times this replica became leader",
            self.leader_transitions.clone(),
        );
        r.register(
            WATCH_HEARTBEATS,
            "Watch heartbeat Events written",
            self.heartbeats.clone(),
        );
        r.register(
            WATCH_HEARTBEAT_FAILURES,
            "Watch heartbeat writes that failed, by class",
            self.heartbeat_failures.clone(),
        );
        self
    }

    /// A watch heartbeat Event was written.
    pub fn heartbeat_written(&self) {
        self.heartbeats.inc();
    }

    /// A watch heartbeat write failed.
    pub fn heartbeat_failed(&self, class: ErrorClass) {
        self.heartbeat_failures
            .get_or_create(&class_labels(class))
            .inc();
    }

    /// A line was written.
    pub fn line_emitted(&self, event_type: &str, origin: Origin, truncated: bool) {
        self.emitted
            .get_or_create(&line_labels(EventType::of(event_type), ReadBy::of(origin)))
            .inc();
        if truncated {
            self.truncated.inc();
        }
    }

    /// How long after its effective time an event was written.
    pub fn observe_lag(&self, lag: Duration) {
        self.lag.observe(lag.as_secs_f64());
    }

    /// An observation was dropped by the filters.
    pub fn filtered(&self) {
        self.filtered.inc();
    }

    /// An item could not be normalised.
    pub fn unreadable(&self) {
        self.unreadable.inc();
    }

    /// A full list started.
    pub fn relist(&self) {
        self.relists.inc();
    }

    /// A 410 was answered.
    pub fn gone(&self) {
        self.gone.inc();
    }

    /// A watch was opened again.
    pub fn watch_restart(&self) {
        self.watch_restarts.inc();
    }

    /// An API request failed.
    pub fn api_error(&self, class: ErrorClass) {
        self.api_errors.get_or_create(&class_labels(class)).inc();
    }

    /// The checkpoint was written to the Lease.
    pub fn checkpoint_written(&self, resource_version: u64) {
        self.checkpoint_rv
            .set(i64::try_from(resource_version).unwrap_or(i64::MAX));
        self.checkpoint_unix_millis
            .store(unix_millis(), Ordering::Relaxed);
    }

    /// Leadership changed.
    pub fn set_leader(&self, leader: bool) {
        let before = self.leader.set(i64::from(leader));
        if leader && before == 0 {
            self.leader_transitions.inc();
        }
    }

    /// The exposition of every metric, in [`CONTENT_TYPE`].
    pub fn render(&self) -> String {
        let written = self.checkpoint_unix_millis.load(Ordering::Relaxed);
        if written != 0 {
            #[allow(clippy::cast_precision_loss)] // milliseconds since the last write
            self.checkpoint_age
                .set((unix_millis() - written) as f64 / 1000.0);
        }
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
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
        m.api_error(ErrorClass::Throttled);
        m.observe_lag(Duration::from_millis(300));
        m.set_leader(true);
        m.set_leader(true);
        let text = m.render();
        for line in [
            "eventkeeper_lines_emitted_total{type=\"Warning\",origin=\"relist\"} 1",
            "eventkeeper_lines_emitted_total{type=\"other\",origin=\"watch\"} 1",
            "eventkeeper_lines_emitted_total{type=\"Normal\",origin=\"watch\"} 0",
            "eventkeeper_lines_truncated_total 1",
            "eventkeeper_api_errors_total{class=\"throttled\"} 1",
            "eventkeeper_api_errors_total{class=\"conflict\"} 0",
            "eventkeeper_emit_lag_seconds_bucket{le=\"0.25\"} 0",
            "eventkeeper_emit_lag_seconds_bucket{le=\"0.5\"} 1",
            "eventkeeper_emit_lag_seconds_bucket{le=\"+Inf\"} 1",
            "eventkeeper_emit_lag_seconds_count 1",
            "eventkeeper_checkpoint_age_seconds -1.0",
            "eventkeeper_leader 1",
            "eventkeeper_leader_transitions_total 1",
            "eventkeeper_watch_heartbeats_total 0",
            "eventkeeper_watch_heartbeat_failures_total{class=\"forbidden\"} 0",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        let emitted: u64 = text
            .lines()
            .filter(|l| l.starts_with("eventkeeper_lines_emitted_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(emitted, 2);
    }

    #[test]
    fn every_error_class_has_a_series() {
        let text = Metrics::default().render();
        for class in ErrorClass::ALL {
            let series = format!("eventkeeper_api_errors_total{{class=\"{class}\"}} 0");
            assert!(text.lines().any(|l| l == series), "{series} in\n{text}");
        }
    }

    #[test]
    fn the_checkpoint_age_counts_from_the_last_write() {
        let m = Metrics::default();
        m.checkpoint_written(42);
        let text = m.render();
        assert!(text.contains("eventkeeper_checkpoint_resource_version 42\n"));
        let age: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("eventkeeper_checkpoint_age_seconds "))
            .and_then(|v| v.parse().ok())
            .expect("age");
        assert!((0.0..5.0).contains(&age), "{age}");
    }
}
