//! Run metrics: one EMF document on stdout per run, written by core's EMF writer (the one every
//! Lambda of the project uses), which the Lambda's log group turns into metrics without any API
//! call.

use eventkeeper_core::emf::{self, Metric, Unit};
use jiff::Timestamp;
use serde_json::Value;

/// What one run measured.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunMetrics {
    /// Events returned by the list.
    pub events_listed: u64,
    /// Observations written to the archive by this run.
    pub events_archived: u64,
    /// Compressed bytes written to the archive.
    pub archive_bytes: u64,
    /// Length of the window that may have been lost (0 when none).
    pub possible_gap_seconds: i64,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// 1 when the run failed.
    pub errors: u64,
    /// Observations the backfill wrote to CloudWatch Logs (accepted by PutLogEvents).
    pub events_backfilled: u64,
    /// PutLogEvents calls the backfill made.
    pub backfill_batches: u64,
    /// Backfilled events CloudWatch rejected (`rejectedLogEventsInfo`); they are only in S3.
    pub rejected_log_events: u64,
    /// Backfilled events placed at the list time (effective time missing or out of range).
    pub backfill_timestamps_adjusted: u64,
    /// Events of an interrupted backfill batch an emitter wrote again (the known window).
    pub backfill_possible_duplicates: u64,
}

impl RunMetrics {
    /// The EMF document for this run.
    pub fn to_emf(&self, cluster: &str, at: Timestamp) -> Value {
        // u64 → f64 is exact below 2^53, far above any count a run makes.
        #[allow(clippy::cast_precision_loss)]
        let count = |name, value: u64| Metric::new(name, Unit::Count, value as f64);
        #[allow(clippy::cast_precision_loss)]
        let metrics = [
            count("EventsListed", self.events_listed),
            count("EventsArchived", self.events_archived),
            Metric::new("ArchiveBytes", Unit::Bytes, self.archive_bytes as f64),
            Metric::new(
                "PossibleGapSeconds",
                Unit::Seconds,
                self.possible_gap_seconds as f64,
            ),
            Metric::new("DurationMs", Unit::Milliseconds, self.duration_ms as f64),
            count("Errors", self.errors),
            count("EventsBackfilled", self.events_backfilled),
            count("BackfillBatches", self.backfill_batches),
            count("RejectedLogEvents", self.rejected_log_events),
            count(
                "BackfillTimestampsAdjusted",
                self.backfill_timestamps_adjusted,
            ),
            count(
                "BackfillPossibleDuplicates",
                self.backfill_possible_duplicates,
            ),
        ];
        emf::document(&[("Cluster", cluster)], &metrics, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value() {
        let emf = RunMetrics {
            events_listed: 3,
            ..Default::default()
        }
        .to_emf("prod", Timestamp::UNIX_EPOCH);
        let declared = emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics");
        assert_eq!(declared.len(), 11);
        for metric in declared {
            let name = metric["Name"].as_str().expect("name");
            assert!(emf[name].is_number(), "{name} has a value");
        }
        assert_eq!(emf["EventsListed"], 3);
        assert_eq!(emf["Cluster"], "prod");
    }
}
