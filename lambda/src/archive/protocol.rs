//! The archive protocol of the module above, run against a store: read the checkpoint, finish
//! a pending upload or claim a key, list, upload the observations newer than the checkpoint,
//! advance the checkpoint. Every write is conditional, so a lost race only means another round.

use std::path::Path;

use eventkeeper_core::source::{ListError, Pager, Scope};
use eventkeeper_core::{Context, Origin};
use jiff::{SignedDuration, Timestamp};

use super::spool::{SpoolError, Spooled, list_into_spool};
use super::{
    ArchiveStore, Checkpoint, ObjectInfo, PendingUpload, PossibleGap, StoreError, Tag, object_key,
    possible_gap,
};
use crate::cluster::{ClusterConnector, ClusterError};
use crate::failure::FailureLabel;

/// Rounds of read-checkpoint/act before giving up to contention (each round makes progress
/// unless another run does at the same moment).
const MAX_ROUNDS: u32 = 6;

/// Why archiving failed. No failure advances the checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The Kubernetes API could not be reached.
    #[error("cluster access failed")]
    ClusterUnreachable(#[from] ClusterError),
    /// Listing events failed.
    #[error("listing events failed")]
    ListFailed(#[from] ListError),
    /// Reading or writing the archive failed.
    #[error("archive write failed")]
    StoreFailed(#[from] StoreError),
    /// Other runs kept changing the checkpoint.
    #[error("gave up after {0} rounds of checkpoint contention")]
    Contention(u32),
}

impl ArchiveError {
    /// Whether a retry of the same run can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::ClusterUnreachable(e) => e.is_retryable(),
            Self::ListFailed(e) => e.is_retryable(),
            Self::StoreFailed(e) => e.is_retryable(),
            Self::Contention(_) => true,
        }
    }

    /// Fixed label for metrics and logs.
    pub fn metric_label(&self) -> FailureLabel {
        match self {
            Self::ClusterUnreachable(_) => FailureLabel::ClusterUnreachable,
            Self::ListFailed(_) => FailureLabel::ListFailed,
            Self::StoreFailed(_) => FailureLabel::ArchiveFailed,
            Self::Contention(_) => FailureLabel::Contention,
        }
    }
}

/// What archiving did.
#[derive(Debug, Default)]
pub struct ArchiveReport {
    /// Events listed (all of them, old or new).
    pub events_listed: u64,
    /// Events written to archive objects.
    pub events_archived: u64,
    /// Compressed bytes written.
    pub archive_bytes: u64,
    /// Seconds of the window that may have been lost before this run.
    pub possible_gap_seconds: i64,
    /// Keys of the objects written.
    pub written: Vec<String>,
    /// The window that may have been lost before this run, if any.
    pub gap: Option<PossibleGap>,
}

/// One archive: where it lives and how to list.
pub struct Archiver<'a, S> {
    /// Where the archive lives.
    pub store: &'a S,
    /// How to reach the API server.
    pub connector: &'a ClusterConnector,
    /// Cluster name for records and keys.
    pub cluster: &'a str,
    /// Key prefix of the archive.
    pub prefix: &'a str,
    /// The API server's event TTL.
    pub ttl: SignedDuration,
    /// Events per list page.
    pub page_size: u32,
    /// Where the object is compressed before its upload.
    pub spool_dir: &'a Path,
}

impl<S: ArchiveStore> Archiver<'_, S> {
    /// Archives every observation newer than the checkpoint, once; what it did goes into
    /// `report`, also when it fails.
    pub async fn run(
        &self,
        scheduled: Timestamp,
        report: &mut ArchiveReport,
    ) -> Result<(), ArchiveError> {
        for round in 1..=MAX_ROUNDS {
            let (checkpoint, tag) = match self.store.read_checkpoint().await? {
                Some((checkpoint, tag)) => (checkpoint, Some(tag)),
                None => (Checkpoint::default(), None),
            };
            if round == 1 {
                self.report_gap(&checkpoint, report);
            }
            let done = match checkpoint.pending.clone() {
                Some(pending) => {
                    self.finish_pending(&checkpoint, tag, &pending, report)
                        .await?
                }
                None => {
                    self.archive_new(&checkpoint, tag, scheduled, report)
                        .await?
                }
            };
            if done {
                return Ok(());
            }
        }
        Err(ArchiveError::Contention(MAX_ROUNDS))
    }

    fn report_gap(&self, checkpoint: &Checkpoint, report: &mut ArchiveReport) {
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
        report.possible_gap_seconds = gap.seconds();
        report.gap = Some(gap);
    }

    /// A previous run claimed a key: make sure the object exists, then move the checkpoint to
    /// it. Returns `false` so the caller goes on to archive what is newer.
    async fn finish_pending(
        &self,
        checkpoint: &Checkpoint,
        tag: Option<Tag>,
        pending: &PendingUpload,
        report: &mut ArchiveReport,
    ) -> Result<bool, ArchiveError> {
        let info = match self.store.object_info(&pending.key).await? {
            Some(info) => info,
            None => {
                tracing::warn!(key = %pending.key, "Adopting an upload claimed by a run that did not finish");
                let batch = self
                    .list_batch(pending.after_resource_version, report)
                    .await?;
                match self.store.create_object(&pending.key, &batch.object).await {
                    Ok(()) => {
                        self.count_written(&pending.key, &batch.object.info, report);
                        batch.object.info
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
        report: &mut ArchiveReport,
    ) -> Result<bool, ArchiveError> {
        let after = checkpoint.resource_version;
        let batch = self.list_batch(after, report).await?;
        if batch.object.info.events == 0 {
            let next = Checkpoint {
                last_good_run: Some(batch.object.info.listed_at),
                ..checkpoint.clone()
            };
            return match self.store.write_checkpoint(&next, tag.as_ref()).await {
                Ok(_) => Ok(true),
                Err(StoreError::PreconditionFailed(_)) => Ok(false),
                Err(error) => Err(error.into()),
            };
        }
        let key = object_key(self.prefix, self.cluster, scheduled, after);
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
        let info = match self.store.create_object(&key, &batch.object).await {
            Ok(()) => {
                self.count_written(&key, &batch.object.info, report);
                batch.object.info
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

    fn count_written(&self, key: &str, info: &ObjectInfo, report: &mut ArchiveReport) {
        tracing::info!(
            key,
            events = info.events,
            max_resource_version = info.max_resource_version,
            "Archived"
        );
        report.events_archived += info.events;
        report.written.push(key.to_owned());
    }

    /// Lists every event and gzips the observations newer than `after` into a spool file.
    async fn list_batch(
        &self,
        after: u64,
        report: &mut ArchiveReport,
    ) -> Result<Spooled, ArchiveError> {
        let client = self.connector.client().await?;
        let ctx = Context::new(self.cluster.to_owned(), Origin::CatchUp);
        let pager = Pager::new(client, Scope::AllNamespaces, self.page_size).forgetting_delivered();
        let batch = list_into_spool(pager, after, ctx, self.spool_dir)
            .await
            .map_err(|error| match error {
                SpoolError::List(e) => ArchiveError::ListFailed(e),
                io => ArchiveError::StoreFailed(StoreError::Unavailable(io.to_string())),
            })?;
        report.events_listed += batch.listed;
        report.archive_bytes += if batch.object.info.events > 0 {
            batch.object.body.len()
        } else {
            0
        };
        Ok(batch)
    }
}
