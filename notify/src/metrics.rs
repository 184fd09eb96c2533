//! The notifier's counters, one EMF document per invocation through core's writer.

use eventkeeper_core::emf::{self, Metric, Unit};
use jiff::Timestamp;
use serde_json::Value;

/// Counts of one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Log events read.
    pub records: u64,
    /// Log events or payloads skipped as bad input (not gzip, truncated, future schema, ...).
    pub skipped: u64,
    /// Records a rule matched.
    pub matched: u64,
    /// Messages delivered (one per destination; a digest counts once).
    pub notified: u64,
    /// Matched records that caused no message (threshold not reached, quiet period not over).
    pub suppressed: u64,
    /// Deliveries that failed every retry and went to the dead-letter queue.
    pub delivery_failures: u64,
    /// Matched records older than the late threshold.
    pub late: u64,
    /// Digest messages sent.
    pub digests: u64,
    /// Claims of crashed invocations sent again.
    pub resent: u64,
}

impl Counters {
    /// Adds another invocation's counts.
    pub fn add(&mut self, other: &Self) {
        self.records += other.records;
        self.skipped += other.skipped;
        self.matched += other.matched;
        self.notified += other.notified;
        self.suppressed += other.suppressed;
        self.delivery_failures += other.delivery_failures;
        self.late += other.late;
        self.digests += other.digests;
        self.resent += other.resent;
    }

    /// The EMF document (dimension `Cluster`... none: the notifier serves every cluster of
    /// its log group, so the dimension is the function).
    pub fn emf(&self, function: &str, at: Timestamp) -> Value {
        #[allow(clippy::cast_precision_loss)]
        let m = |name, value: u64| Metric::new(name, Unit::Count, value as f64);
        emf::document(
            &[("Function", function)],
            &[
                m("Records", self.records),
                m("Skipped", self.skipped),
                m("Matched", self.matched),
                m("Notified", self.notified),
                m("Suppressed", self.suppressed),
                m("DeliveryFailures", self.delivery_failures),
                m("Late", self.late),
                m("Digests", self.digests),
                m("Resent", self.resent),
            ],
            at,
        )
    }
}
