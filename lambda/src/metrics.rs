//! Run metrics as CloudWatch Embedded Metric Format: one JSON object on stdout per run, which the
//! Lambda's log group turns into metrics without any API call.

use jiff::Timestamp;
use serde_json::{Value, json};

/// CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "eventkeeper";

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
        let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
        json!({
            "_aws": {
                "Timestamp": at.as_millisecond(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Cluster"]],
                    "Metrics": [
                        metric("EventsListed", "Count"),
                        metric("EventsArchived", "Count"),
                        metric("ArchiveBytes", "Bytes"),
                        metric("PossibleGapSeconds", "Seconds"),
                        metric("DurationMs", "Milliseconds"),
                        metric("Errors", "Count"),
                        metric("EventsBackfilled", "Count"),
                        metric("BackfillBatches", "Count"),
                        metric("RejectedLogEvents", "Count"),
                        metric("BackfillTimestampsAdjusted", "Count"),
                        metric("BackfillPossibleDuplicates", "Count"),
                    ],
                }],
            },
            "Cluster": cluster,
            "EventsListed": self.events_listed,
            "EventsArchived": self.events_archived,
            "ArchiveBytes": self.archive_bytes,
            "PossibleGapSeconds": self.possible_gap_seconds,
            "DurationMs": self.duration_ms,
            "Errors": self.errors,
            "EventsBackfilled": self.events_backfilled,
            "BackfillBatches": self.backfill_batches,
            "RejectedLogEvents": self.rejected_log_events,
            "BackfillTimestampsAdjusted": self.backfill_timestamps_adjusted,
            "BackfillPossibleDuplicates": self.backfill_possible_duplicates,
        })
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
