//! The fixed set of reasons a catch-up run fails: the `<label>` of the Lambda error type
//! (`Retryable.<label>`), the `label` field of the failure log line. An enum, so a label that is
//! not in the set cannot be produced (it does not compile), as core's `ErrorClass` does for the
//! emitter's API errors.

/// Why a run failed, as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureLabel {
    /// The invocation payload had no usable scheduled time.
    BadPayload,
    /// The API server could not be reached (token, DescribeCluster, connection).
    ClusterUnreachable,
    /// Listing events for the archive failed.
    ListFailed,
    /// Reading or writing the archive store failed.
    ArchiveFailed,
    /// Another run holds the checkpoint (a concurrent or duplicate invocation).
    Contention,
    /// The backfill lost the emitter's Lease while it held it.
    BackfillLeaseLost,
    /// Reading, taking or renewing the Lease failed.
    BackfillLeaseFailed,
    /// Listing events for the backfill failed.
    BackfillListFailed,
    /// CloudWatch Logs refused or kept failing.
    BackfillWriteFailed,
    /// The backfill's list restarted after expired continue tokens.
    BackfillListInconsistent,
}

impl FailureLabel {
    /// Every label, in declaration order.
    pub const ALL: [Self; 10] = [
        Self::BadPayload,
        Self::ClusterUnreachable,
        Self::ListFailed,
        Self::ArchiveFailed,
        Self::Contention,
        Self::BackfillLeaseLost,
        Self::BackfillLeaseFailed,
        Self::BackfillListFailed,
        Self::BackfillWriteFailed,
        Self::BackfillListInconsistent,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadPayload => "bad_payload",
            Self::ClusterUnreachable => "cluster_unreachable",
            Self::ListFailed => "list_failed",
            Self::ArchiveFailed => "archive_failed",
            Self::Contention => "contention",
            Self::BackfillLeaseLost => "backfill_lease_lost",
            Self::BackfillLeaseFailed => "backfill_lease_failed",
            Self::BackfillListFailed => "backfill_list_failed",
            Self::BackfillWriteFailed => "backfill_write_failed",
            Self::BackfillListInconsistent => "backfill_list_inconsistent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_snake_case_words() {
        let labels: std::collections::HashSet<_> =
            FailureLabel::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(labels.len(), FailureLabel::ALL.len());
        for label in labels {
            assert!(
                label.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{label} is not a snake_case word (it becomes part of a Lambda error type)"
            );
        }
    }
}
