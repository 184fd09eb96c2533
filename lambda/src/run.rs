//! One catch-up run: checkpoint → gap check → list → normalise → gzip → conditional upload →
//! checkpoint; then, when configured, the CloudWatch backfill. The archive protocol is described
//! in [`crate::archive`], the backfill in [`crate::backfill`].

use std::io::Write;
use std::time::Instant;

use eventkeeper_core::resource_version::ResourceVersion;
use eventkeeper_core::source::{ListError, Pager, Scope};
use eventkeeper_core::{Context, Origin, normalise::normalise_owned};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::archive::{
    ArchiveStore, Checkpoint, ObjectInfo, PendingUpload, PossibleGap, StoreError, Tag, object_key,
    possible_gap,
};
use crate::backfill::{Backfill, BackfillError, BackfillReport};
use crate::cluster::{ClusterConnector, ClusterError};
use crate::metrics::RunMetrics;

/// Rounds of read-checkpoint/act before giving up to contention (each round makes progress
/// unless another run does at the same moment).
const MAX_ROUNDS: u32 = 6;

/// Why a run failed. No failure advances the checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The Kubernetes API could not be reached.
    #[error("cluster access failed")]
    ClusterUnreachable(#[from] ClusterError),
    /// Listing events failed.
    #[error("listing events failed")]
    ListFailed(#[from] ListError),
    /// Reading or writing the archive failed.
    #[error("archive write failed")]
    ArchiveFailed(#[from] StoreError),
    /// Other runs kept changing the checkpoint.
    #[error("gave up after {0} rounds of checkpoint contention")]
    Contention(u32),
    /// The CloudWatch backfill failed (the archive part is not affected).
    #[error("CloudWatch backfill failed")]
    BackfillFailed(#[from] BackfillError),
}

impl RunError {
    /// Whether a retry of the same run can help (Lambda's retry and the DLQ use this).
    pub fn is_retryable(&self) -> bool {
        match self {
            RunError::ClusterUnreachable(e) => e.is_retryable(),
            RunError::ListFailed(e) => e.is_retryable(),
            RunError::ArchiveFailed(e) => e.is_retryable(),
            RunError::Contention(_) => true,
            RunError::BackfillFailed(e) => e.is_retryable(),
        }
    }

    /// Fixed label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            RunError::ClusterUnreachable(_) => "cluster_unreachable",
            RunError::ListFailed(_) => "list_failed",
            RunError::ArchiveFailed(_) => "archive_failed",
            RunError::Contention(_) => "contention",
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
    /// The CloudWatch backfill, when configured.
    pub backfill: Option<Backfill>,
}

/// The gzip JSON-lines body of one archive object.
struct Batch {
    body: Vec<u8>,
    info: ObjectInfo,
}

impl<S: ArchiveStore> Runner<S> {
    /// Archives every observation newer than the checkpoint, once.
    pub async fn run(&self, scheduled: Timestamp) -> Result<RunOutcome, RunError> {
        let started = Instant::now();
        let mut outcome = RunOutcome::default();
        let archived = self.rounds(scheduled, &mut outcome).await;
        // The backfill runs whatever the archive did: it has its own checkpoint (on the Lease).
        let backfilled = match &self.backfill {
            Some(backfill) => self.backfill(backfill, &mut outcome).await,
            None => Ok(()),
        };
        let result = archived.and(backfilled);
        outcome.metrics.duration_ms = started.elapsed().as_millis() as u64;
        outcome.metrics.errors = u64::from(result.is_err());
        result.map(|()| outcome)
    }

    async fn rounds(&self, scheduled: Timestamp, outcome: &mut RunOutcome) -> Result<(), RunError> {
        for round in 1..=MAX_ROUNDS {
            let (checkpoint, tag) = match self.store.read_checkpoint().await? {
                Some((checkpoint, tag)) => (checkpoint, Some(tag)),
                None => (Checkpoint::default(), None),
            };
            if round == 1 {
                self.report_gap(&checkpoint, outcome);
            }
            let done = match checkpoint.pending.clone() {
                Some(pending) => {
                    self.finish_pending(&checkpoint, tag, &pending, outcome)
                        .await?
                }
                None => {
                    self.archive_new(&checkpoint, tag, scheduled, outcome)
                        .await?
                }
            };
            if done {
                return Ok(());
            }
        }
        Err(RunError::Contention(MAX_ROUNDS))
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

    fn report_gap(&self, checkpoint: &Checkpoint, outcome: &mut RunOutcome) {
        let Some(gap) = possible_gap(checkpoint.last_good_run, Timestamp::now(), self.ttl) else {
            return;
        };
        tracing::error!(
            cluster = %self.cluster,
            from = %gap.from,
            until = %gap.until,
            seconds = gap.seconds(),
            "Possible gap: no good run for longer than the event TTL; events last updated in this window may be lost"
        );
        outcome.metrics.possible_gap_seconds = gap.seconds();
        outcome.gap = Some(gap);
    }

    /// A previous run claimed a key: make sure the object exists, then move the checkpoint to
    /// it. Returns `false` so the caller goes on to archive what is newer.
    async fn finish_pending(
        &self,
        checkpoint: &Checkpoint,
        tag: Option<Tag>,
        pending: &PendingUpload,
        outcome: &mut RunOutcome,
    ) -> Result<bool, RunError> {
        let info = match self.store.object_info(&pending.key).await? {
            Some(info) => info,
            None => {
                tracing::warn!(key = %pending.key, "Adopting an upload claimed by a run that did not finish");
                let batch = self
                    .list_batch(pending.after_resource_version, outcome)
                    .await?;
                match self
                    .store
                    .create_object(&pending.key, batch.body, &batch.info)
                    .await
                {
                    Ok(()) => {
                        self.count_written(&pending.key, &batch.info, outcome);
                        batch.info
                    }
                    Err(StoreError::PreconditionFailed(_)) => {
                        match self.store.object_info(&pending.key).await? {
                            Some(info) => info,
                            None => return Ok(false),
                        }
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        };
        let next = Checkpoint {
            resource_version: info.max_resource_version.max(checkpoint.resource_version),
            last_good_run: Some(info.listed_at),
            pending: None,
        };
        match self.store.write_checkpoint(&next, tag.as_ref()).await {
            Ok(_) | Err(StoreError::PreconditionFailed(_)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Lists, and archives what is newer than the checkpoint under a claimed key.
    async fn archive_new(
        &self,
        checkpoint: &Checkpoint,
        tag: Option<Tag>,
        scheduled: Timestamp,
        outcome: &mut RunOutcome,
    ) -> Result<bool, RunError> {
        let after = checkpoint.resource_version;
        let batch = self.list_batch(after, outcome).await?;
        if batch.info.events == 0 {
            let next = Checkpoint {
                last_good_run: Some(batch.info.listed_at),
                ..checkpoint.clone()
            };
            return match self.store.write_checkpoint(&next, tag.as_ref()).await {
                Ok(_) => Ok(true),
                Err(StoreError::PreconditionFailed(_)) => Ok(false),
                Err(error) => Err(error.into()),
            };
        }
        let key = object_key(&self.prefix, &self.cluster, scheduled, after);
        let claim = Checkpoint {
            pending: Some(PendingUpload {
                key: key.clone(),
                after_resource_version: after,
            }),
            ..checkpoint.clone()
        };
        let claimed = match self.store.write_checkpoint(&claim, tag.as_ref()).await {
            Ok(claimed) => claimed,
            Err(StoreError::PreconditionFailed(_)) => return Ok(false),
            Err(error) => return Err(error.into()),
        };
        let info = match self
            .store
            .create_object(&key, batch.body, &batch.info)
            .await
        {
            Ok(()) => {
                self.count_written(&key, &batch.info, outcome);
                batch.info
            }
            // A duplicate delivery adopted our claim and uploaded first: its object counts.
            Err(StoreError::PreconditionFailed(_)) => match self.store.object_info(&key).await? {
                Some(info) => info,
                None => return Ok(false),
            },
            Err(error) => return Err(error.into()),
        };
        let next = Checkpoint {
            resource_version: info.max_resource_version.max(after),
            last_good_run: Some(info.listed_at),
            pending: None,
        };
        match self.store.write_checkpoint(&next, Some(&claimed)).await {
            Ok(_) => Ok(true),
            Err(StoreError::PreconditionFailed(_)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    fn count_written(&self, key: &str, info: &ObjectInfo, outcome: &mut RunOutcome) {
        tracing::info!(
            key,
            events = info.events,
            max_resource_version = info.max_resource_version,
            "Archived"
        );
        outcome.metrics.events_archived += info.events;
        outcome.written.push(key.to_owned());
    }

    /// Lists every event and gzips the observations newer than `after`.
    async fn list_batch(&self, after: u64, outcome: &mut RunOutcome) -> Result<Batch, RunError> {
        let client = self.connector.client().await?;
        let listed_at = Timestamp::now();
        let ctx = Context::new(self.cluster.clone(), Origin::CatchUp);
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        let mut info = ObjectInfo {
            max_resource_version: after,
            listed_at,
            events: 0,
        };
        let mut pager = Pager::new(client, Scope::AllNamespaces, self.page_size);
        let mut listed = 0u64;
        while let Some(page) = pager.next_page().await? {
            listed += page.items.len() as u64;
            for item in page.items {
                add_event(item, after, &ctx, &mut encoder, &mut info)
                    .map_err(|e| StoreError::Failed(format!("compressing the archive: {e}")))?;
            }
        }
        // The list is one consistent snapshot even after expired continue tokens: nothing
        // archived is above it, so the checkpoint cannot pass an update the list did not see.
        debug_assert!(
            pager
                .snapshot()
                .is_none_or(|s| info.max_resource_version <= s.get())
        );
        outcome.metrics.events_listed += listed;
        let body = encoder
            .finish()
            .map_err(|e| StoreError::Failed(format!("compressing the archive: {e}")))?;
        outcome.metrics.archive_bytes += if info.events > 0 {
            body.len() as u64
        } else {
            0
        };
        Ok(Batch { body, info })
    }
}

/// Adds one listed event to the batch when it is newer than the checkpoint.
fn add_event(
    item: Value,
    after: u64,
    ctx: &Context,
    encoder: &mut GzEncoder<Vec<u8>>,
    info: &mut ObjectInfo,
) -> std::io::Result<()> {
    let record = match normalise_owned(item, ctx) {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(%error, "Listed item is not an Event; skipped");
            return Ok(());
        }
    };
    // resourceVersions are etcd revisions: integers that grow with every write.
    let Some(rv) = ResourceVersion::parse(record.resource_version()).map(ResourceVersion::get)
    else {
        tracing::warn!(
            uid = record.uid(),
            rv = record.resource_version(),
            "Non-integer resourceVersion: archived every run"
        );
        info.events += 1;
        return encoder.write_all(record.to_line().as_bytes());
    };
    if rv <= after {
        return Ok(());
    }
    info.max_resource_version = info.max_resource_version.max(rv);
    info.events += 1;
    encoder.write_all(record.to_line().as_bytes())
}
