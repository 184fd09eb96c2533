//! The eventkeeper Lease (`coordination.k8s.io/v1`), once for the emitter and the catch-up: who
//! writes, and through which resourceVersion everything is written.
//!
//! The contract both binaries keep:
//! - the Lease is only ever changed with a compare-and-swap: a `PUT` carrying the
//!   `metadata.resourceVersion` it was read at ([`LeaseStore::replace`]). Of two writers racing
//!   for it exactly one wins; the other gets `409 Conflict` ([`Swap::Conflict`]). A replace
//!   without a resourceVersion is refused here, before it is sent;
//! - a holder is gone when it released the Lease (no `holderIdentity`) or when the Lease did not
//!   change for `leaseDurationSeconds` *measured on the reader's own clock*
//!   ([`ExpiryWatch`]): no clock skew between nodes, or between a node and a Lambda, matters;
//! - the Lease carries the checkpoint ([`CHECKPOINT_ANNOTATION`]: every observation up to this
//!   resourceVersion is written) and, while the catch-up backfills, the batch it is sending
//!   ([`PENDING_ANNOTATION`], a [`PendingBatch`]);
//! - times are `MicroTime`s: RFC 3339 in UTC with exactly six fraction digits, as kube-apiserver
//!   parses them (k8s-openapi's `MicroTime` writes that form).

use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::core::Request;
use serde::{Deserialize, Serialize};

use crate::error_class::ErrorClass;
use crate::resource_version::ResourceVersion;
use crate::source::SourceError;

/// Annotation with the resourceVersion through which every observation is written.
pub const CHECKPOINT_ANNOTATION: &str = "eventkeeper.io/checkpoint";
/// Annotation with when the checkpoint was written (RFC 3339, seconds).
pub const CHECKPOINT_TIME_ANNOTATION: &str = "eventkeeper.io/checkpoint-time";
/// Annotation with the batch the catch-up is sending to CloudWatch (JSON [`PendingBatch`]).
pub const PENDING_ANNOTATION: &str = "eventkeeper.io/backfill-pending";

/// Why a Lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Reading the Lease failed.
    #[error("reading Lease {lease} failed")]
    ReadFailed {
        /// `namespace/name`.
        lease: String,
        /// The API's account of it.
        #[source]
        source: kube::Error,
    },
    /// Creating or updating the Lease failed (other than a lost race).
    #[error("writing Lease {lease} failed")]
    WriteFailed {
        /// `namespace/name`.
        lease: String,
        /// The API's account of it.
        #[source]
        source: kube::Error,
    },
    /// Someone else holds the Lease now, or changed it while we held it.
    #[error("lost Lease {lease} (holder now {holder:?})")]
    Lost {
        /// `namespace/name`.
        lease: String,
        /// The holder now, when known.
        holder: String,
    },
    /// An update without `metadata.resourceVersion` would overwrite whatever is there.
    #[error("refusing an unconditional update of Lease {0}")]
    Unconditional(String),
    /// The request could not be built (a bad name).
    #[error("cannot build the Lease request")]
    BuildRequest(#[source] kube::core::request::Error),
}

impl LeaseError {
    /// Whether a later attempt can succeed without a change of configuration (401/403 cannot).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::ReadFailed { source, .. } | Self::WriteFailed { source, .. } => {
                !matches!(source, kube::Error::Api(s) if matches!(s.code, 401 | 403))
            }
            Self::Lost { .. } => true,
            Self::Unconditional(_) | Self::BuildRequest(_) => false,
        }
    }

    /// A label from a small fixed set: `conflict`, `request`, or [`SourceError::label_of`]'s.
    pub fn metric_label(&self) -> ErrorClass {
        match self {
            Self::Lost { .. } => ErrorClass::Conflict,
            Self::ReadFailed { source, .. } | Self::WriteFailed { source, .. } => {
                SourceError::label_of(source)
            }
            Self::Unconditional(_) | Self::BuildRequest(_) => ErrorClass::Request,
        }
    }
}

/// The batch a catch-up is about to send to CloudWatch, recorded on the Lease first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingBatch {
    /// The checkpoint the batch starts after.
    pub after: u64,
    /// Its highest resourceVersion: the checkpoint once it is sent.
    pub through: u64,
    /// Its time range (ms), to read it back.
    pub first_ms: i64,
    /// Its time range (ms), to read it back.
    pub last_ms: i64,
    /// Log group and stream it goes to.
    pub stream: String,
    /// Events in it.
    pub events: u64,
    /// `spec.leaseTransitions` while this catch-up held the Lease: the same number later means
    /// nobody took the Lease since.
    #[serde(default)]
    pub transitions: i64,
}

/// A Lease as read or written, with what eventkeeper reads from it and the changes it makes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeaseView(Box<Lease>);

impl LeaseView {
    /// Wraps a Lease.
    pub fn new(lease: Lease) -> Self {
        Self(Box::new(lease))
    }

    /// A Lease to create: held by `identity` for `duration` from `now`, no transitions yet.
    pub fn create(
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
        now: Timestamp,
    ) -> Self {
        Self::new(Lease {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(identity.to_owned()),
                lease_duration_seconds: Some(seconds(duration)),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        })
    }

    /// The Lease object.
    pub fn lease(&self) -> &Lease {
        &self.0
    }

    /// The object's resourceVersion (empty when it has none).
    pub fn resource_version(&self) -> &str {
        self.0.metadata.resource_version.as_deref().unwrap_or("")
    }

    /// The holder; empty when released.
    pub fn holder(&self) -> &str {
        self.spec()
            .and_then(|s| s.holder_identity.as_deref())
            .unwrap_or("")
    }

    /// `spec.leaseDurationSeconds`, when set.
    pub fn duration(&self) -> Option<Duration> {
        let secs = self.spec()?.lease_duration_seconds?;
        Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
    }

    /// `spec.leaseTransitions`: every change of holder adds one (a release does not).
    pub fn transitions(&self) -> i64 {
        self.spec()
            .and_then(|s| s.lease_transitions)
            .map_or(0, i64::from)
    }

    /// Whether nobody but `identity` held the Lease between `earlier` (a copy `identity` held, as
    /// this process last saw it) and this copy: the same version, or every change since kept the
    /// holder (`leaseTransitions` unchanged: every change of holder adds one, whoever makes it)
    /// and it is still held by `identity` or released. Then nobody else wrote Events' lines
    /// meanwhile, and what `identity` flushed itself is a safe place to resume from.
    pub fn no_other_holder_since(&self, earlier: &LeaseView, identity: &str) -> bool {
        if earlier.holder() != identity || earlier.resource_version().is_empty() {
            return false;
        }
        if self.resource_version() == earlier.resource_version() {
            return true;
        }
        self.transitions() == earlier.transitions()
            && (self.holder() == identity || self.holder().is_empty())
    }

    /// The checkpoint: `Ok(None)` when there is none, `Err` with the text when it is not an
    /// integer.
    pub fn checkpoint(&self) -> Result<Option<ResourceVersion>, String> {
        match self.annotation(CHECKPOINT_ANNOTATION) {
            None => Ok(None),
            Some(text) => ResourceVersion::parse(text)
                .map(Some)
                .ok_or_else(|| text.to_owned()),
        }
    }

    /// The batch an earlier catch-up recorded, if any (ignored when unreadable).
    pub fn pending(&self) -> Option<PendingBatch> {
        serde_json::from_str(self.annotation(PENDING_ANNOTATION)?).ok()
    }

    /// Takes the Lease for `identity` (a new holder: `acquireTime` and one more transition).
    pub fn take(&mut self, identity: &str, duration: Duration, now: Timestamp) {
        let changes_holder = self.holder() != identity;
        let transitions = self.transitions();
        let spec = self.spec_mut();
        spec.holder_identity = Some(identity.to_owned());
        spec.lease_duration_seconds = Some(seconds(duration));
        spec.renew_time = Some(MicroTime(now));
        if changes_holder {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(i32::try_from(transitions + 1).unwrap_or(i32::MAX));
        }
    }

    /// Renews the hold at `now`.
    pub fn renew(&mut self, now: Timestamp) {
        self.spec_mut().renew_time = Some(MicroTime(now));
    }

    /// Gives the Lease up at `now`: no holder, and a one-second duration so that a standby
    /// reading an old copy does not wait long.
    pub fn release(&mut self, now: Timestamp) {
        let spec = self.spec_mut();
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(now));
    }

    /// Sets `leaseDurationSeconds`.
    pub fn set_duration(&mut self, duration: Duration) {
        self.spec_mut().lease_duration_seconds = Some(seconds(duration));
    }

    /// Writes the checkpoint and when it was written.
    pub fn set_checkpoint(&mut self, checkpoint: ResourceVersion, now: Timestamp) {
        let annotations = self.0.metadata.annotations.get_or_insert_default();
        annotations.insert(CHECKPOINT_ANNOTATION.into(), checkpoint.to_string());
        annotations.insert(
            CHECKPOINT_TIME_ANNOTATION.into(),
            now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
    }

    /// Records the batch being sent, or clears it (`None`).
    pub fn set_pending(&mut self, pending: Option<&PendingBatch>) {
        let annotations = self.0.metadata.annotations.get_or_insert_default();
        match pending {
            Some(batch) => {
                let json = serde_json::to_string(batch).expect("a PendingBatch serializes");
                annotations.insert(PENDING_ANNOTATION.into(), json);
            }
            None => {
                annotations.remove(PENDING_ANNOTATION);
            }
        }
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.0
            .metadata
            .annotations
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }

    fn spec(&self) -> Option<&LeaseSpec> {
        self.0.spec.as_ref()
    }

    fn spec_mut(&mut self) -> &mut LeaseSpec {
        self.0.spec.get_or_insert_default()
    }
}

fn seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// The outcome of a compare-and-swap update.
#[derive(Debug)]
pub enum Swap {
    /// Written; the Lease as the server stored it.
    Done(LeaseView),
    /// The Lease changed since it was read (409): someone else's write won.
    Conflict,
}

/// Judges on the reader's own clock whether a holder let the Lease lapse.
#[derive(Debug)]
pub struct ExpiryWatch {
    fallback: Duration,
    longest: Option<Duration>,
    seen: Option<(String, Instant)>,
}

impl ExpiryWatch {
    /// A watch assuming `fallback` when the Lease has no duration, and waiting at most
    /// `longest` whatever the Lease says (`None`: as long as it says).
    pub fn new(fallback: Duration, longest: Option<Duration>) -> Self {
        Self {
            fallback,
            longest,
            seen: None,
        }
    }

    /// Records the Lease as read at `now`; true when its holder is gone: released (no holder),
    /// or this same version of the Lease was first seen at least its duration ago.
    pub fn expired(&mut self, lease: &LeaseView, now: Instant) -> bool {
        if lease.holder().is_empty() {
            return true;
        }
        let mut duration = lease.duration().unwrap_or(self.fallback);
        if let Some(longest) = self.longest {
            duration = duration.min(longest);
        }
        match &self.seen {
            Some((version, since)) if version == lease.resource_version() => {
                now.saturating_duration_since(*since) >= duration
            }
            _ => {
                self.seen = Some((lease.resource_version().to_owned(), now));
                duration.is_zero()
            }
        }
    }

    /// Forgets what was seen (after taking the Lease).
    pub fn reset(&mut self) {
        self.seen = None;
    }
}

/// One Lease on the API server: read, create, and update by compare-and-swap.
#[derive(Clone)]
pub struct LeaseStore {
    client: kube::Client,
    namespace: String,
    name: String,
}

impl std::fmt::Debug for LeaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseStore")
            .field("lease", &self.lease_name())
            .finish_non_exhaustive()
    }
}

impl LeaseStore {
    /// The Lease `namespace/name`.
    pub fn new(client: kube::Client, namespace: &str, name: &str) -> Self {
        Self {
            client,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// `namespace/name`, for logs and errors.
    pub fn lease_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The Lease, or `None` when it does not exist.
    pub async fn get(&self) -> Result<Option<LeaseView>, LeaseError> {
        let request = get_request(&self.namespace, &self.name)?;
        match self.client.request::<Lease>(request).await {
            Ok(lease) => Ok(Some(LeaseView::new(lease))),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(source) => Err(LeaseError::ReadFailed {
                lease: self.lease_name(),
                source,
            }),
        }
    }

    /// Creates the Lease; [`Swap::Conflict`] when someone created it first.
    pub async fn create(&self, lease: &LeaseView) -> Result<Swap, LeaseError> {
        let request = create_request(&self.namespace, lease)?;
        self.answer(self.client.request::<Lease>(request).await)
    }

    /// Replaces the Lease if it is still at the resourceVersion `lease` was read at.
    pub async fn replace(&self, lease: &LeaseView) -> Result<Swap, LeaseError> {
        if lease.resource_version().is_empty() {
            return Err(LeaseError::Unconditional(self.lease_name()));
        }
        let request = replace_request(&self.namespace, &self.name, lease)?;
        self.answer(self.client.request::<Lease>(request).await)
    }

    fn answer(&self, result: Result<Lease, kube::Error>) -> Result<Swap, LeaseError> {
        match result {
            Ok(lease) => Ok(Swap::Done(LeaseView::new(lease))),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Swap::Conflict),
            Err(source) => Err(LeaseError::WriteFailed {
                lease: self.lease_name(),
                source,
            }),
        }
    }
}

fn leases(namespace: &str) -> Request {
    Request::new(format!(
        "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    ))
}

/// The request that reads a Lease (RBAC verb `get` on `leases`).
pub fn get_request(namespace: &str, name: &str) -> Result<http::Request<Vec<u8>>, LeaseError> {
    leases(namespace)
        .get(name, &Default::default())
        .map_err(LeaseError::BuildRequest)
}

/// The request that creates a Lease (RBAC verb `create` on `leases`).
pub fn create_request(
    namespace: &str,
    lease: &LeaseView,
) -> Result<http::Request<Vec<u8>>, LeaseError> {
    let body = serde_json::to_vec(&lease.0).expect("a Lease serializes");
    leases(namespace)
        .create(&Default::default(), body)
        .map_err(LeaseError::BuildRequest)
}

/// The request that replaces a Lease, refused with 409 if it changed since it was read (RBAC
/// verb `update` on `leases`).
pub fn replace_request(
    namespace: &str,
    name: &str,
    lease: &LeaseView,
) -> Result<http::Request<Vec<u8>>, LeaseError> {
    let body = serde_json::to_vec(&lease.0).expect("a Lease serializes");
    leases(namespace)
        .replace(name, &Default::default(), body)
        .map_err(LeaseError::BuildRequest)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn view(value: Value) -> LeaseView {
        LeaseView::new(serde_json::from_value(value).expect("a Lease"))
    }

    #[test]
    fn the_view_reads_what_the_emitter_writes() {
        let lease = view(json!({
            "metadata": {"resourceVersion": "77", "annotations": {CHECKPOINT_ANNOTATION: "1200"}},
            "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15, "leaseTransitions": 3},
        }));
        assert_eq!(lease.checkpoint(), Ok(Some(ResourceVersion::new(1200))));
        assert_eq!(lease.holder(), "pod-a");
        assert_eq!(lease.resource_version(), "77");
        assert_eq!(lease.duration(), Some(Duration::from_secs(15)));
        assert_eq!(lease.transitions(), 3);
        assert_eq!(lease.pending(), None);
        let odd = view(json!({"metadata": {"annotations": {CHECKPOINT_ANNOTATION: "+1"}}}));
        assert_eq!(odd.checkpoint(), Err("+1".into()));
        let empty = view(json!({"metadata": {}}));
        assert_eq!(empty.checkpoint(), Ok(None));
        assert_eq!(empty.holder(), "");
        assert_eq!(empty.duration(), None);
    }

    #[test]
    fn times_are_micro_times_with_six_fraction_digits() {
        let now: Timestamp = "2025-01-02T03:04:05.5Z".parse().unwrap();
        let mut lease = LeaseView::create("ns", "eventkeeper", "pod-a", Duration::ZERO, now);
        lease.set_checkpoint(ResourceVersion::new(9), now);
        let json = serde_json::to_value(lease.lease()).unwrap();
        assert_eq!(json["spec"]["renewTime"], "2025-01-02T03:04:05.500000Z");
        assert_eq!(json["spec"]["acquireTime"], "2025-01-02T03:04:05.500000Z");
        assert_eq!(json["spec"]["leaseDurationSeconds"], 1, "at least a second");
        assert_eq!(json["spec"]["leaseTransitions"], 0);
        assert_eq!(
            json["metadata"]["annotations"][CHECKPOINT_TIME_ANNOTATION],
            "2025-01-02T03:04:05Z"
        );
        let whole: Timestamp = "2025-01-02T03:04:05Z".parse().unwrap();
        lease.renew(whole);
        let json = serde_json::to_value(lease.lease()).unwrap();
        assert_eq!(json["spec"]["renewTime"], "2025-01-02T03:04:05.000000Z");
    }

    #[test]
    fn take_renew_and_release_change_what_they_should() {
        let t0: Timestamp = "2025-01-02T03:04:05Z".parse().unwrap();
        let t1: Timestamp = "2025-01-02T03:04:06Z".parse().unwrap();
        let mut lease = view(json!({
            "metadata": {"resourceVersion": "5", "annotations": {"other": "kept"}},
            "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15, "leaseTransitions": 2,
                     "acquireTime": "2025-01-01T00:00:00.000000Z"},
        }));
        // The same holder renewing through take: no new transition.
        lease.take("pod-a", Duration::from_secs(15), t0);
        assert_eq!(lease.transitions(), 2);
        lease.take("catchup-1", Duration::from_secs(10), t0);
        assert_eq!(lease.holder(), "catchup-1");
        assert_eq!(lease.transitions(), 3);
        assert_eq!(lease.duration(), Some(Duration::from_secs(10)));
        let batch = PendingBatch {
            after: 1,
            through: 9,
            first_ms: 5,
            last_ms: 6,
            stream: "g/s".into(),
            events: 3,
            transitions: 3,
        };
        lease.set_pending(Some(&batch));
        lease.set_checkpoint(ResourceVersion::new(9), t1);
        assert_eq!(lease.pending(), Some(batch));
        lease.set_pending(None);
        assert_eq!(lease.pending(), None);
        lease.release(t1);
        assert_eq!(lease.holder(), "");
        assert_eq!(lease.transitions(), 3, "a release is not a transition");
        assert_eq!(lease.duration(), Some(Duration::from_secs(1)));
        assert_eq!(lease.checkpoint(), Ok(Some(ResourceVersion::new(9))));
        let json = serde_json::to_value(lease.lease()).unwrap();
        assert_eq!(json["metadata"]["annotations"]["other"], "kept");
        assert_eq!(
            json["metadata"]["resourceVersion"], "5",
            "the swap's precondition"
        );
    }

    #[test]
    fn no_other_holder_is_proven_by_version_holder_and_transitions() {
        let lease = |rv: &str, holder: &str, transitions: i64| {
            view(json!({"metadata": {"resourceVersion": rv},
                        "spec": {"holderIdentity": holder, "leaseTransitions": transitions}}))
        };
        let mine = lease("10", "pod-a", 3);
        // Untouched, or renewed and annotated by anyone without a change of holder.
        assert!(lease("10", "pod-a", 3).no_other_holder_since(&mine, "pod-a"));
        assert!(lease("14", "pod-a", 3).no_other_holder_since(&mine, "pod-a"));
        assert!(lease("14", "", 3).no_other_holder_since(&mine, "pod-a"));
        // Someone took it (even if it came back to us, or was released again).
        assert!(!lease("14", "pod-b", 4).no_other_holder_since(&mine, "pod-a"));
        assert!(!lease("18", "pod-a", 5).no_other_holder_since(&mine, "pod-a"));
        assert!(!lease("18", "", 4).no_other_holder_since(&mine, "pod-a"));
        // A holder that is not us without a transition breaks the protocol: not proven.
        assert!(!lease("14", "pod-b", 3).no_other_holder_since(&mine, "pod-a"));
        // The earlier copy must be one we held, at a known version.
        assert!(!lease("10", "pod-b", 3).no_other_holder_since(&lease("10", "pod-b", 3), "pod-a"));
        assert!(!lease("", "pod-a", 3).no_other_holder_since(&lease("", "pod-a", 3), "pod-a"));
    }

    #[test]
    fn expiry_is_judged_on_the_readers_clock() {
        let held = |rv: &str| {
            view(json!({"metadata": {"resourceVersion": rv},
                        "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 10}}))
        };
        let start = Instant::now();
        let mut watch = ExpiryWatch::new(Duration::from_secs(15), None);
        assert!(!watch.expired(&held("1"), start), "first sight");
        assert!(!watch.expired(&held("1"), start + Duration::from_secs(9)));
        assert!(watch.expired(&held("1"), start + Duration::from_secs(10)));
        // Renewed: the clock starts again from the new version.
        assert!(!watch.expired(&held("2"), start + Duration::from_secs(11)));
        assert!(!watch.expired(&held("2"), start + Duration::from_secs(20)));
        assert!(watch.expired(&held("2"), start + Duration::from_secs(21)));
        let released = view(json!({"metadata": {"resourceVersion": "3"}, "spec": {}}));
        assert!(watch.expired(&released, start));

        let mut capped = ExpiryWatch::new(Duration::from_secs(15), Some(Duration::from_secs(2)));
        assert!(!capped.expired(&held("1"), start));
        assert!(capped.expired(&held("1"), start + Duration::from_secs(2)));
    }

    #[test]
    fn requests_are_a_get_a_post_and_a_put_with_the_resource_version() {
        let lease = view(json!({"metadata": {"name": "eventkeeper", "resourceVersion": "5"}}));
        let get = get_request("ns", "eventkeeper").unwrap();
        assert_eq!(get.method(), http::Method::GET);
        assert_eq!(
            get.uri().path(),
            "/apis/coordination.k8s.io/v1/namespaces/ns/leases/eventkeeper"
        );
        let post = create_request("ns", &lease).unwrap();
        assert_eq!(post.method(), http::Method::POST);
        assert_eq!(
            post.uri().path(),
            "/apis/coordination.k8s.io/v1/namespaces/ns/leases"
        );
        let put = replace_request("ns", "eventkeeper", &lease).unwrap();
        assert_eq!(put.method(), http::Method::PUT);
        let body: Value = serde_json::from_slice(put.body()).unwrap();
        assert_eq!(body["metadata"]["resourceVersion"], "5");
    }
}
