//! Taking the emitter's Lease while the emitter is down, so that the backfill and a returning
//! emitter never both write the same observations to CloudWatch Logs.
//!
//! The rules are the emitter's own (`emitter/src/lease.rs`, `docs/emitter.md`):
//! - the Lease is only ever changed with an `update` on the resourceVersion it was read at, so of
//!   two writers racing for it exactly one wins and the other gets `409 Conflict`;
//! - a holder is gone when it released the Lease (empty `holderIdentity`) or when the Lease did not
//!   change for `leaseDurationSeconds`, measured on the reader's own clock (no clock skew between
//!   the emitter's node and the Lambda matters);
//! - the Lease carries the emitter's checkpoint (`eventkeeper.io/checkpoint`: every observation up
//!   to this resourceVersion is written).
//!
//! While it holds the Lease the catch-up renews it with every checkpoint advance, so a returning
//! emitter stands by; when done it writes the final checkpoint and releases the Lease (empty
//! holder), and the emitter resumes from that checkpoint at once.
//!
//! Before each PutLogEvents the catch-up records the batch it is about to send
//! (`eventkeeper.io/backfill-pending`), so the next run can tell whether a batch of an interrupted
//! run arrived (see `crate::backfill`).

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Annotation with the resourceVersion through which every observation is written (the emitter's).
pub const CHECKPOINT_ANNOTATION: &str = "eventkeeper.io/checkpoint";
/// Annotation with when the checkpoint was written (RFC 3339; the emitter's).
pub const CHECKPOINT_TIME_ANNOTATION: &str = "eventkeeper.io/checkpoint-time";
/// Annotation with the batch the catch-up is sending (JSON [`PendingBatch`]).
pub const PENDING_ANNOTATION: &str = "eventkeeper.io/backfill-pending";
/// Every catch-up holder identity starts with this.
pub const HOLDER_PREFIX: &str = "eventkeeper-catchup";

/// How often the Lease is read while watching whether its holder is alive.
const POLL: Duration = Duration::from_millis(500);
/// Longest wait for a holder to prove it is alive, whatever the Lease says.
const MAX_OBSERVE: Duration = Duration::from_secs(120);

/// Why a Lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Reading the Lease failed.
    #[error("reading Lease {namespace}/{name} failed")]
    ReadFailed {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The API's account of it.
        #[source]
        source: kube::Error,
    },
    /// Writing the Lease failed (other than a lost race, which is not an error).
    #[error("updating Lease {namespace}/{name} failed")]
    UpdateFailed {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The API's account of it.
        #[source]
        source: kube::Error,
    },
    /// Someone else changed the Lease while we held it (our hold expired, or an operator).
    #[error("lost Lease {0} while backfilling")]
    Lost(String),
}

impl LeaseError {
    /// Whether a later run can succeed without a change of configuration (403 cannot).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::ReadFailed { source, .. } | Self::UpdateFailed { source, .. } => {
                !matches!(source, kube::Error::Api(s) if matches!(s.code, 401 | 403))
            }
            Self::Lost(_) => true,
        }
    }
}

/// The batch a catch-up is about to send, recorded on the Lease first.
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

/// The Lease as read.
#[derive(Clone, Debug)]
pub struct LeaseView {
    object: Value,
}

impl LeaseView {
    /// Wraps a Lease object.
    pub fn new(object: Value) -> Self {
        Self { object }
    }

    /// The object's resourceVersion.
    pub fn resource_version(&self) -> &str {
        self.object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
    }

    /// The holder; empty when released.
    pub fn holder(&self) -> &str {
        self.object["spec"]["holderIdentity"].as_str().unwrap_or("")
    }

    /// Whether a catch-up run holds it.
    pub fn held_by_catchup(&self) -> bool {
        self.holder().starts_with(HOLDER_PREFIX)
    }

    /// `spec.leaseTransitions`: every change of holder adds one (a release does not).
    pub fn transitions(&self) -> i64 {
        self.object["spec"]["leaseTransitions"]
            .as_i64()
            .unwrap_or(0)
    }

    /// `spec.leaseDurationSeconds` (the emitter's default, 15 s, when absent).
    pub fn duration(&self) -> Duration {
        Duration::from_secs(
            self.object["spec"]["leaseDurationSeconds"]
                .as_u64()
                .unwrap_or(15),
        )
    }

    /// The checkpoint, when there is one and it is an integer (`Err` with the text otherwise).
    pub fn checkpoint(&self) -> Result<Option<u64>, String> {
        match self.annotation(CHECKPOINT_ANNOTATION) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| text.to_owned()),
        }
    }

    /// The batch an earlier catch-up recorded, if any (ignored when unreadable).
    pub fn pending(&self) -> Option<PendingBatch> {
        serde_json::from_str(self.annotation(PENDING_ANNOTATION)?).ok()
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.object["metadata"]["annotations"][key].as_str()
    }
}

/// What watching the Lease showed.
#[derive(Debug)]
pub enum Liveness {
    /// The holder renewed it: leave everything to it.
    Alive {
        /// Who holds it.
        holder: String,
    },
    /// Released, or unchanged for its whole duration: it may be taken (this is the view to take).
    Free(LeaseView),
}

/// The Lease we now hold.
#[derive(Debug)]
pub struct HeldLease {
    view: LeaseView,
}

impl HeldLease {
    /// The Lease as we last wrote it.
    pub fn view(&self) -> &LeaseView {
        &self.view
    }
}

/// Reads, takes, renews and releases one Lease.
pub struct LeaseHandoff {
    client: kube::Client,
    namespace: String,
    name: String,
    identity: String,
    hold: Duration,
}

impl LeaseHandoff {
    /// A handoff for `namespace/name`, holding it for `hold` between renewals.
    pub fn new(client: kube::Client, namespace: &str, name: &str, hold: Duration) -> Self {
        let nonce = Timestamp::now().as_nanosecond() as u64 ^ u64::from(std::process::id());
        Self {
            client,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            identity: format!("{HOLDER_PREFIX}-{:x}", nonce & 0xffff_ffff_ffff),
            hold,
        }
    }

    /// The identity we write as holder.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// `namespace/name`.
    pub fn lease_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The Lease, or `None` when it does not exist (no emitter was ever installed).
    pub async fn read(&self) -> Result<Option<LeaseView>, LeaseError> {
        let request = http::Request::get(self.path())
            .body(Vec::new())
            .expect("a valid request");
        match self.client.request::<Value>(request).await {
            Ok(object) => Ok(Some(LeaseView::new(object))),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(source) => Err(LeaseError::ReadFailed {
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                source,
            }),
        }
    }

    /// Watches the Lease like an emitter standby: free at once when released; alive as soon as
    /// it changes; free when it stayed unchanged for its `leaseDurationSeconds` on our clock.
    pub async fn observe(&self, first: LeaseView) -> Result<Liveness, LeaseError> {
        let mut seen = first;
        let mut since = Instant::now();
        loop {
            if seen.holder().is_empty() {
                return Ok(Liveness::Free(seen));
            }
            if since.elapsed() >= seen.duration().min(MAX_OBSERVE) {
                return Ok(Liveness::Free(seen));
            }
            tokio::time::sleep(POLL).await;
            let Some(now) = self.read().await? else {
                return Err(LeaseError::Lost(self.lease_name()));
            };
            if now.resource_version() != seen.resource_version() {
                if !now.holder().is_empty() {
                    return Ok(Liveness::Alive {
                        holder: now.holder().to_owned(),
                    });
                }
                since = Instant::now();
            }
            seen = now;
        }
    }

    /// Takes the Lease as read in `free`. `None` when someone changed it since (409): they won.
    pub async fn take(&self, free: &LeaseView) -> Result<Option<HeldLease>, LeaseError> {
        let mut object = free.object.clone();
        let now = micro_time(Timestamp::now());
        let transitions = object["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
        let spec = &mut object["spec"];
        spec["holderIdentity"] = json!(self.identity);
        spec["leaseDurationSeconds"] = json!(self.hold.as_secs().max(1));
        spec["acquireTime"] = json!(now);
        spec["renewTime"] = json!(now);
        spec["leaseTransitions"] = json!(transitions + 1);
        match self.update(&object).await {
            Ok(updated) => Ok(Some(HeldLease {
                view: LeaseView::new(updated),
            })),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(None),
            Err(source) => Err(self.update_failed(source)),
        }
    }

    /// Renews the Lease, writing `checkpoint` and recording `pending` (or clearing it).
    pub async fn advance(
        &self,
        held: &mut HeldLease,
        checkpoint: Option<u64>,
        pending: Option<&PendingBatch>,
    ) -> Result<(), LeaseError> {
        let mut object = held.view.object.clone();
        object["spec"]["renewTime"] = json!(micro_time(Timestamp::now()));
        set_annotations(&mut object, checkpoint, Some(pending));
        held.view = self.write(&object).await?;
        Ok(())
    }

    /// Writes the final checkpoint and gives the Lease up (empty holder): a waiting emitter takes
    /// it at once and resumes after `checkpoint`. `pending` stays recorded when a batch may or may
    /// not have arrived (a failed call); otherwise it is cleared.
    pub async fn release(
        &self,
        held: HeldLease,
        checkpoint: Option<u64>,
        pending: Option<&PendingBatch>,
    ) -> Result<(), LeaseError> {
        let mut object = held.view.object;
        object["spec"]["renewTime"] = json!(micro_time(Timestamp::now()));
        object["spec"]["holderIdentity"] = Value::Null;
        object["spec"]["leaseDurationSeconds"] = json!(1);
        set_annotations(&mut object, checkpoint, Some(pending));
        self.write(&object).await.map(|_| ())
    }

    async fn write(&self, object: &Value) -> Result<LeaseView, LeaseError> {
        match self.update(object).await {
            Ok(updated) => Ok(LeaseView::new(updated)),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                Err(LeaseError::Lost(self.lease_name()))
            }
            Err(source) => Err(self.update_failed(source)),
        }
    }

    async fn update(&self, object: &Value) -> Result<Value, kube::Error> {
        let body = serde_json::to_vec(object).expect("JSON values serialize");
        let request = http::Request::put(self.path())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .expect("a valid request");
        self.client.request::<Value>(request).await
    }

    fn update_failed(&self, source: kube::Error) -> LeaseError {
        LeaseError::UpdateFailed {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source,
        }
    }

    fn path(&self) -> String {
        format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}",
            self.namespace, self.name
        )
    }
}

/// Sets the checkpoint (with its time) when given, and the pending batch when `pending` is
/// `Some` (`Some(None)` removes it).
fn set_annotations(
    object: &mut Value,
    checkpoint: Option<u64>,
    pending: Option<Option<&PendingBatch>>,
) {
    let annotations = &mut object["metadata"]["annotations"];
    if !annotations.is_object() {
        *annotations = json!({});
    }
    let map = annotations.as_object_mut().expect("an object");
    if let Some(rv) = checkpoint {
        map.insert(CHECKPOINT_ANNOTATION.into(), json!(rv.to_string()));
        map.insert(
            CHECKPOINT_TIME_ANNOTATION.into(),
            json!(Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
    }
    match pending {
        Some(Some(batch)) => {
            map.insert(
                PENDING_ANNOTATION.into(),
                json!(serde_json::to_string(batch).expect("serializes")),
            );
        }
        Some(None) => {
            map.remove(PENDING_ANNOTATION);
        }
        None => {}
    }
}

/// A `MicroTime` as the API writes it.
fn micro_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_reads_what_the_emitter_writes() {
        let lease = LeaseView::new(json!({
            "metadata": {"resourceVersion": "77", "annotations": {CHECKPOINT_ANNOTATION: "1200"}},
            "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15},
        }));
        assert_eq!(lease.checkpoint(), Ok(Some(1200)));
        assert_eq!(lease.holder(), "pod-a");
        assert!(!lease.held_by_catchup());
        assert_eq!(lease.duration(), Duration::from_secs(15));
        assert_eq!(lease.pending(), None);
        let odd =
            LeaseView::new(json!({"metadata": {"annotations": {CHECKPOINT_ANNOTATION: "x"}}}));
        assert_eq!(odd.checkpoint(), Err("x".into()));
        assert_eq!(LeaseView::new(json!({})).checkpoint(), Ok(None));
        assert_eq!(LeaseView::new(json!({})).holder(), "");
    }

    #[test]
    fn annotations_keep_what_others_wrote() {
        let mut object =
            json!({"metadata": {"annotations": {"other": "kept", PENDING_ANNOTATION: "{}"}}});
        let batch = PendingBatch {
            after: 1,
            through: 9,
            first_ms: 5,
            last_ms: 6,
            stream: "g/s".into(),
            events: 3,
            transitions: 4,
        };
        set_annotations(&mut object, Some(9), Some(Some(&batch)));
        let view = LeaseView::new(object.clone());
        assert_eq!(view.checkpoint(), Ok(Some(9)));
        assert_eq!(view.pending(), Some(batch));
        assert_eq!(object["metadata"]["annotations"]["other"], "kept");
        set_annotations(&mut object, None, Some(None));
        assert_eq!(LeaseView::new(object.clone()).pending(), None);
        assert_eq!(LeaseView::new(object).checkpoint(), Ok(Some(9)));
    }
}
