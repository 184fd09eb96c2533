//! The archive: gzip JSON-lines objects under Hive partitions, and a checkpoint object that
//! makes each observation land exactly once.
//!
//! Protocol (all writes conditional, so retries, duplicate deliveries and concurrent runs are
//! safe):
//! 1. read the checkpoint `{resourceVersion, lastGoodRun, pending}`;
//! 2. if a `pending` upload is recorded, finish it first: adopt its key if the object is missing,
//!    then advance the checkpoint to the object's own highest resourceVersion;
//! 3. otherwise claim a key (`pending`, written with `If-Match`), upload the observations newer
//!    than the checkpoint with `If-None-Match: *`, then advance the checkpoint (`If-Match`).
//!
//! Every object starts right after the checkpoint it was claimed from, and the checkpoint only
//! moves to the highest resourceVersion of an object that exists: no loss, no overlap.
//!
//! The body is compressed into a spool file as it is listed ([`spool`]) and uploaded from there,
//! so memory does not grow with the number of Events.

pub(crate) mod dir_store;
mod gap;
mod protocol;
pub(crate) mod s3_store;
pub(crate) mod spool;

pub use dir_store::DirStore;
pub use gap::{PossibleGap, possible_gap};
pub use protocol::{ArchiveError, ArchiveReport, Archiver};
pub use s3_store::{S3_ACTIONS, S3_BUCKET_ACTIONS, S3Store};
pub use spool::SpooledObject;

use eventkeeper_core::archive_layout::{key_lead, partition_prefix};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Archive checkpoint, stored as JSON next to (not inside) the Athena table's prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Highest resourceVersion archived so far (0: nothing yet).
    pub resource_version: u64,
    /// When the list behind the last completed archive was taken.
    pub last_good_run: Option<Timestamp>,
    /// An upload claimed but not yet confirmed.
    pub pending: Option<PendingUpload>,
}

/// A claimed object key and the checkpoint it starts after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingUpload {
    /// Object key relative to the store's root.
    pub key: String,
    /// The object holds observations with a resourceVersion above this.
    pub after_resource_version: u64,
}

/// What an archive object says about itself (S3 user metadata / a sidecar file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInfo {
    /// Highest resourceVersion in the object.
    pub max_resource_version: u64,
    /// When the list that produced it was taken.
    pub listed_at: Timestamp,
    /// Number of records in it.
    pub events: u64,
}

/// Opaque version of the checkpoint, for compare-and-swap (an S3 ETag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag(pub String);

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the object exists, or the checkpoint changed meanwhile.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// Throttling, a 5xx, a timeout: the same call may succeed later.
    #[error("store temporarily unavailable: {0}")]
    Unavailable(String),
    /// Access denied, a missing bucket, a corrupt checkpoint: a retry will not help.
    #[error("store failed: {0}")]
    Failed(String),
}

impl StoreError {
    /// Whether retrying the run can help.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, StoreError::Failed(_))
    }
}

/// Where archive objects and the checkpoint live: S3, or a local directory.
pub trait ArchiveStore {
    /// The checkpoint and its tag; `None` before the first run.
    fn read_checkpoint(
        &self,
    ) -> impl Future<Output = Result<Option<(Checkpoint, Tag)>, StoreError>> + Send;

    /// Replaces the checkpoint if its tag is still `expected` (`None`: it must not exist yet).
    fn write_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        expected: Option<&Tag>,
    ) -> impl Future<Output = Result<Tag, StoreError>> + Send;

    /// Creates the object from a spooled body unless it exists (then `PreconditionFailed`).
    fn create_object(
        &self,
        key: &str,
        object: &SpooledObject,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// What an existing object says about itself; `None` when it does not exist.
    fn object_info(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, StoreError>> + Send;
}

/// The key of an archive object: Hive partitions from the scheduled time, and a name that says
/// which schedule made it and which checkpoint it starts after.
pub fn object_key(prefix: &str, cluster: &str, scheduled: Timestamp, after: u64) -> String {
    let utc = scheduled.to_zoned(jiff::tz::TimeZone::UTC);
    format!(
        "{}{}-after-{after}.json.gz",
        partition_prefix(prefix, cluster, scheduled),
        utc.strftime("%Y%m%dT%H%M%SZ"),
    )
}

/// The checkpoint's key: outside the table's `cluster=` partitions so Athena never reads it.
pub fn checkpoint_key(prefix: &str, cluster: &str) -> String {
    let lead = key_lead(prefix);
    format!("{lead}_eventkeeper/cluster={cluster}/catchup-checkpoint.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_use_hive_partitions_of_the_scheduled_time() {
        let at: Timestamp = "2026-11-23T09:30:00Z".parse().expect("time");
        assert_eq!(
            object_key("events/", "prod", at, 1200),
            "events/cluster=prod/dt=2026-11-23/hour=09/20261123T093000Z-after-1200.json.gz"
        );
        assert_eq!(
            checkpoint_key("", "prod"),
            "_eventkeeper/cluster=prod/catchup-checkpoint.json"
        );
    }
}
