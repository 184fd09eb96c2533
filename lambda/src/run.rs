//! One catch-up run, orchestrated: the archive (checkpoint → gap check → list → normalise → gzip
//! → conditional upload → checkpoint, in [`crate::archive`]), then, when configured, the
//! CloudWatch backfill ([`crate::backfill`]).

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

use crate::archive::{ArchiveError, ArchiveReport, ArchiveStore, Archiver, PossibleGap};
use crate::backfill::{Backfill, BackfillError, BackfillReport};
use crate::cluster::{ClusterConnector, ClusterError};
use crate::failure::FailureLabel;
use crate::metrics::RunMetrics;

/// Why a run failed. No failure advances the checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Archiving failed.
    #[error(transparent)]
    ArchiveFailed(#[from] ArchiveError),
    /// The Kubernetes API could not be reached for the backfill.
    #[error("cluster access failed")]
    ClusterUnreachable(#[from] ClusterError),
    /// The CloudWatch backfill failed (the archive part is not affected).
    #[error("CloudWatch backfill failed")]
    BackfillFailed(#[from] BackfillError),
}

impl RunError {
    /// Whether a retry of the same run can help (Lambda's retry and the DLQ use this).
    pub fn is_retryable(&self) -> bool {
        match self {
            RunError::ArchiveFailed(e) => e.is_retryable(),
            RunError::ClusterUnreachable(e) => e.is_retryable(),
            RunError::BackfillFailed(e) => e.is_retryable(),
        }
    }

    /// Fixed label for metrics and logs.
    pub fn metric_label(&self) -> FailureLabel {
        match self {
            RunError::ArchiveFailed(e) => e.metric_label(),
            RunError::ClusterUnreachable(_) => FailureLabel::ClusterUnreachable,
            RunError::BackfillFailed(e) => e.metric_label(),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunOutcome {
    /// Counters for the EMF document.
    pub metrics: RunMetrics,
    /// Keys of the objects this run wrote.
    pub written: Vec<String>,
    /// The window that may have been lost before this run, if any.
    pub gap: Option<PossibleGap>,
    /// What the CloudWatch backfill did, when it is configured.
    pub backfill: Option<BackfillReport>,
}

/// Everything a run needs; built once per process (a warm Lambda container keeps it).
pub struct Runner<S> {
    /// Where the archive lives.
    pub store: S,
    /// How to reach the API server.
    pub connector: ClusterConnector,
    /// Cluster name for records and keys.
    pub cluster: String,
    /// Key prefix of the archive.
    pub prefix: String,
    /// The API server's event TTL.
    pub ttl: SignedDuration,
    /// Events per list page.
    pub page_size: u32,
    /// Where the archive object is compressed before its upload (the Lambda's `/tmp`).
    pub spool_dir: std::path::PathBuf,
    /// The CloudWatch backfill, when configured.
    pub backfill: Option<Backfill>,
}

impl<S: ArchiveStore> Runner<S> {
    /// Archives every observation newer than the checkpoint, once; then backfills.
    pub async fn run(&self, scheduled: Timestamp) -> Result<RunOutcome, RunError> {
        let started = Instant::now();
        let mut outcome = RunOutcome::default();
        crate::archive::spool::remove_stale(&self.spool_dir);
        let archived = self.archive(scheduled, &mut outcome).await;
        // The backfill runs whatever the archive did: it has its own checkpoint (on the Lease).
        let backfilled = match &self.backfill {
            Some(backfill) => Box::pin(self.backfill(backfill, &mut outcome)).await,
            None => Ok(()),
        };
        let result = archived.and(backfilled);
        outcome.metrics.duration_ms = started.elapsed().as_millis() as u64;
        outcome.metrics.errors = u64::from(result.is_err());
        result.map(|()| outcome)
    }

    async fn archive(
        &self,
        scheduled: Timestamp,
        outcome: &mut RunOutcome,
    ) -> Result<(), RunError> {
        let archiver = Archiver {
            store: &self.store,
            connector: &self.connector,
            cluster: &self.cluster,
            prefix: &self.prefix,
            ttl: self.ttl,
            page_size: self.page_size,
            spool_dir: &self.spool_dir,
        };
        let mut report = ArchiveReport::default();
        // Boxed: the archive's future nests deep (list pages, retries, uploads), and the
        // binary's `main` future must stay within the compiler's layout depth.
        let result = Box::pin(archiver.run(scheduled, &mut report)).await;
        let metrics = &mut outcome.metrics;
        metrics.events_listed += report.events_listed;
        metrics.events_archived += report.events_archived;
        metrics.archive_bytes += report.archive_bytes;
        metrics.possible_gap_seconds = report.possible_gap_seconds;
        outcome.written = report.written;
        outcome.gap = report.gap;
        result.map_err(RunError::from)
    }

    async fn backfill(
        &self,
        backfill: &Backfill,
        outcome: &mut RunOutcome,
    ) -> Result<(), RunError> {
        let client = self.connector.client().await?;
        let report = backfill.run(&client).await?;
        let metrics = &mut outcome.metrics;
        metrics.events_backfilled += report.events_backfilled;
        metrics.backfill_batches += report.batches;
        metrics.rejected_log_events += report.rejected;
        metrics.backfill_timestamps_adjusted += report.timestamps_adjusted;
        metrics.backfill_possible_duplicates += report.possible_duplicates;
        outcome.backfill = Some(report);
        Ok(())
    }
}
