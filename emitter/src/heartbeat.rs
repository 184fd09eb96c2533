//! The watch heartbeat: when the leader's Event watch has delivered nothing for a while, the
//! leader writes one Event of its own in the Lease namespace, and the watch delivers it.
//!
//! Events are served without a watch cache, so a quiet watch gets no bookmark and its resume
//! position stays where the last Event left it; once etcd compacts past it (every 5 minutes) the
//! next watch gets 410 and the emitter lists everything again. The only safe way to move the
//! position is an item the watch itself delivers: its resourceVersion proves that everything
//! before it was delivered. The heartbeat Event is that item. It is one object, PATCHed
//! (`count` + 1, `lastTimestamp`) on every beat, and it goes to stdout like any Event.

use std::time::Duration;

use eventkeeper_core::ErrorClass;
use eventkeeper_core::source::SourceError;
use kube::api::{Patch, PatchParams, PostParams};
use kube::core::Request;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::metrics::Metrics;

/// The heartbeat Event's `reason`.
pub const REASON: &str = "WatchHeartbeat";
/// Its `reportingComponent` and `source.component`.
pub const COMPONENT: &str = "eventkeeper";

/// Why a heartbeat could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HeartbeatError {
    /// The API refused or did not answer the write.
    #[error("writing the heartbeat Event {event} failed")]
    WriteFailed {
        /// `namespace/name`.
        event: String,
        /// The API's account of it.
        #[source]
        source: kube::Error,
    },
    /// The request could not be built (a bad name).
    #[error("cannot build the heartbeat request")]
    BuildRequest(#[source] kube::core::request::Error),
}

impl HeartbeatError {
    /// The metric label of the failure.
    pub fn metric_label(&self) -> ErrorClass {
        match self {
            Self::WriteFailed { source, .. } => SourceError::label_of(source),
            Self::BuildRequest(_) => ErrorClass::Request,
        }
    }
}

/// The heartbeat Event of one Lease.
pub struct Heartbeat {
    client: kube::Client,
    namespace: String,
    lease: String,
    identity: String,
    /// The Event's `count` after our last write; unknown until the first one.
    count: Option<i64>,
}

impl Heartbeat {
    /// The heartbeat of Lease `namespace/lease`, written as `identity`.
    pub fn new(client: kube::Client, namespace: &str, lease: &str, identity: &str) -> Self {
        Self {
            client,
            namespace: namespace.to_owned(),
            lease: lease.to_owned(),
            identity: identity.to_owned(),
            count: None,
        }
    }

    /// The Event's name: one per Lease, so every replica and every term PATCHes the same object.
    pub fn event_name(lease: &str) -> String {
        format!("{lease}.watch-heartbeat")
    }

    fn label(&self) -> String {
        format!("{}/{}", self.namespace, Self::event_name(&self.lease))
    }

    /// Writes one beat: PATCH the Event (`count` + 1 once its count is known), or create it.
    pub async fn beat(&mut self) -> Result<(), HeartbeatError> {
        let now = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_default();
        let name = Self::event_name(&self.lease);
        let patch = patch_body(self.count.map(|c| c + 1), &self.identity, now);
        let request = patch_request(&self.namespace, &name, &patch)?;
        let written = match self.client.request::<Value>(request).await {
            Err(kube::Error::Api(status)) if status.code == 404 => {
                let event = create_body(&self.namespace, &self.lease, &self.identity, now);
                let request = create_request(&self.namespace, &event)?;
                self.client.request::<Value>(request).await
            }
            other => other,
        };
        match written {
            Ok(event) => {
                self.count = event["count"].as_i64();
                Ok(())
            }
            Err(source) => {
                // A race with another writer (409 on create) or anything else: read the count
                // afresh from the next PATCH's answer.
                self.count = None;
                Err(HeartbeatError::WriteFailed {
                    event: self.label(),
                    source,
                })
            }
        }
    }
}

/// The merge patch of a beat; without `count` the count stays as it is.
fn patch_body(count: Option<i64>, identity: &str, now: jiff::Timestamp) -> Value {
    let mut patch = json!({
        "lastTimestamp": now.to_string(),
        "reportingInstance": identity,
    });
    if let Some(count) = count {
        patch["count"] = json!(count);
    }
    patch
}

/// The heartbeat Event as first created: about the Lease, by eventkeeper.
fn create_body(namespace: &str, lease: &str, identity: &str, now: jiff::Timestamp) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": Heartbeat::event_name(lease), "namespace": namespace},
        "involvedObject": {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "namespace": namespace,
            "name": lease,
        },
        "reason": REASON,
        "type": "Normal",
        "message": "The Event watch was quiet; this Event keeps eventkeeper's resume position current",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": identity,
        "firstTimestamp": now.to_string(),
        "lastTimestamp": now.to_string(),
        "count": 1,
    })
}

fn events(namespace: &str) -> Request {
    Request::new(format!("/api/v1/namespaces/{namespace}/events"))
}

/// The request that creates the heartbeat Event (RBAC verb `create` on `events`, namespaced).
pub fn create_request(
    namespace: &str,
    event: &Value,
) -> Result<http::Request<Vec<u8>>, HeartbeatError> {
    let body = serde_json::to_vec(event).expect("JSON serializes");
    events(namespace)
        .create(&PostParams::default(), body)
        .map_err(HeartbeatError::BuildRequest)
}

/// The request that PATCHes the heartbeat Event (RBAC verb `patch` on `events`, namespaced).
pub fn patch_request(
    namespace: &str,
    name: &str,
    patch: &Value,
) -> Result<http::Request<Vec<u8>>, HeartbeatError> {
    events(namespace)
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .map_err(HeartbeatError::BuildRequest)
}

/// Beats whenever `delivered` (when the watch covering the Lease namespace last delivered an
/// item or finished a list) is older than `interval`, and no beat was tried within `interval`.
/// A failed beat is logged and counted, never fatal: the watch then behaves as without a
/// heartbeat (a 410 after the compaction window, and a list). Runs until aborted or the
/// pipeline is gone.
pub async fn run(
    mut beat: Heartbeat,
    delivered: watch::Receiver<Instant>,
    interval: Duration,
    metrics: std::sync::Arc<Metrics>,
) {
    let mut tried: Option<Instant> = None;
    loop {
        // Woken only when a beat may be due, not on every item: a busy watch delivers thousands
        // a second, and each one moves `delivered` further out.
        if delivered.has_changed().is_err() {
            return; // The pipeline is gone.
        }
        let since = *delivered.borrow();
        let due = tried.map_or(since, |t| t.max(since)) + interval;
        if Instant::now() < due {
            tokio::time::sleep_until(due).await;
            continue;
        }
        tried = Some(Instant::now());
        match beat.beat().await {
            Ok(()) => {
                metrics.heartbeat_written();
                tracing::debug!(event = beat.label(), "Watch heartbeat written");
            }
            Err(error) => {
                metrics.heartbeat_failed(error.metric_label());
                tracing::warn!(%error, cause = ?std::error::Error::source(&error), "Cannot write the watch heartbeat; a quiet watch may have to list again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beat_patches_count_and_time_and_the_first_one_creates_the_event() {
        let now: jiff::Timestamp = "2026-12-01T02:00:00Z".parse().unwrap();
        assert_eq!(
            patch_body(Some(8), "pod-a", now),
            json!({"lastTimestamp": "2026-12-01T02:00:00Z", "reportingInstance": "pod-a", "count": 8})
        );
        assert!(patch_body(None, "pod-a", now).get("count").is_none());
        let event = create_body("ops", "eventkeeper", "pod-a", now);
        assert_eq!(event["metadata"]["name"], "eventkeeper.watch-heartbeat");
        assert_eq!(event["involvedObject"]["kind"], "Lease");
        assert_eq!(event["involvedObject"]["name"], "eventkeeper");
        assert_eq!(event["reason"], REASON);
        assert_eq!(event["type"], "Normal");
        assert_eq!(event["reportingComponent"], COMPONENT);
        assert_eq!(event["count"], 1);
    }

    #[test]
    fn failures_are_classed_for_the_metric() {
        let forbidden = HeartbeatError::WriteFailed {
            event: "ops/x".into(),
            source: kube::Error::Api(Box::new(
                kube::core::Status::failure("forbidden", "Forbidden").with_code(403),
            )),
        };
        assert_eq!(forbidden.metric_label(), ErrorClass::Forbidden);
        let server = HeartbeatError::WriteFailed {
            event: "ops/x".into(),
            source: kube::Error::Api(Box::new(
                kube::core::Status::failure("boom", "InternalError").with_code(500),
            )),
        };
        assert_eq!(server.metric_label(), ErrorClass::Server);
    }
}
