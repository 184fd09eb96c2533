//! Leader election on a `coordination.k8s.io/v1` Lease, and the checkpoint it carries.
//!
//! The Lease is changed only with `update` on the resourceVersion it was read at, so two replicas
//! can never both believe they won (the loser gets 409). A standby takes a Lease over when its
//! holder is empty (released) or when the Lease has not changed for `leaseDurationSeconds` as
//! measured by the standby's own clock (no clock skew between nodes matters). The leader writes
//! the checkpoint annotations in its renewals.

use std::time::{Duration, Instant};

use eventkeeper_core::resource_version::ResourceVersion;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api_access;
use crate::config::LeaseConfig;

/// Annotation holding the resourceVersion of the last flushed line.
pub const CHECKPOINT_ANNOTATION: &str = "eventkeeper.io/checkpoint";
/// Annotation holding when the checkpoint was written (RFC 3339).
pub const CHECKPOINT_TIME_ANNOTATION: &str = "eventkeeper.io/checkpoint-time";

/// Why a Lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another replica holds the Lease now, or changed it under us.
    #[error("the Lease is held by {holder:?}")]
    Lost {
        /// The holder now.
        holder: String,
    },
    /// The API request failed.
    #[error("Lease request failed")]
    RequestFailed(#[source] kube::Error),
    /// The request could not be built.
    #[error("cannot build the Lease request")]
    BuildRequest(#[source] kube::core::request::Error),
}

impl LeaseError {
    /// The metric class of this failure.
    pub fn metric_label(&self) -> eventkeeper_core::ErrorClass {
        use eventkeeper_core::ErrorClass;
        match self {
            Self::Lost { .. } => ErrorClass::Conflict,
            Self::RequestFailed(e) => eventkeeper_core::source::SourceError::label_of(e),
            Self::BuildRequest(_) => ErrorClass::Request,
        }
    }
}

/// What a standby's attempt found.
#[derive(Debug)]
pub enum Attempt {
    /// We hold the Lease now; resume after this checkpoint.
    Leader {
        /// The checkpoint on the Lease, if any and if it parses.
        checkpoint: Option<ResourceVersion>,
    },
    /// Someone else holds it.
    Standby {
        /// Its holder.
        holder: String,
    },
}

/// One replica's view of the Lease.
pub struct LeaseClient {
    client: kube::Client,
    config: LeaseConfig,
    /// The Lease as last read or written by us.
    held: Option<Value>,
    /// The other holder's Lease resourceVersion and when we first saw it.
    observed: Option<(String, Instant)>,
}

impl LeaseClient {
    /// A client for the configured Lease.
    pub fn new(client: kube::Client, config: LeaseConfig) -> Self {
        Self {
            client,
            config,
            held: None,
            observed: None,
        }
    }

    /// The identity written as holder.
    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    /// Tries once to become (or stay) the leader.
    pub async fn try_acquire(&mut self) -> Result<Attempt, LeaseError> {
        let cfg = &self.config;
        let request =
            api_access::get_lease(&cfg.namespace, &cfg.name).map_err(LeaseError::BuildRequest)?;
        let existing = match self.client.request::<Value>(request).await {
            Ok(lease) => lease,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return self.create().await;
            }
            Err(e) => return Err(LeaseError::RequestFailed(e)),
        };
        let holder = existing["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if cfg.election && !holder.is_empty() && holder != cfg.identity {
            let version = existing["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let duration = existing["spec"]["leaseDurationSeconds"]
                .as_u64()
                .map(Duration::from_secs)
                .unwrap_or(cfg.lease_duration);
            match &self.observed {
                Some((seen, since)) if *seen == version && since.elapsed() >= duration => {}
                Some((seen, _)) if *seen == version => return Ok(Attempt::Standby { holder }),
                _ => {
                    self.observed = Some((version, Instant::now()));
                    return Ok(Attempt::Standby { holder });
                }
            }
            tracing::info!(%holder, "Lease expired, taking over");
        }
        let mut lease = existing;
        let transitions = lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
        let now = micro_time(Timestamp::now());
        let spec = &mut lease["spec"];
        spec["holderIdentity"] = json!(cfg.identity);
        spec["leaseDurationSeconds"] = json!(cfg.lease_duration.as_secs().max(1));
        spec["renewTime"] = json!(now);
        if holder != cfg.identity {
            spec["acquireTime"] = json!(now);
            spec["leaseTransitions"] = json!(transitions + 1);
        }
        match self.update(&lease).await {
            Ok(updated) => {
                let checkpoint = checkpoint_of(&updated);
                self.held = Some(updated);
                self.observed = None;
                Ok(Attempt::Leader { checkpoint })
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Standby { holder }),
            Err(e) => Err(LeaseError::RequestFailed(e)),
        }
    }

    async fn create(&mut self) -> Result<Attempt, LeaseError> {
        let cfg = &self.config;
        let now = micro_time(Timestamp::now());
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": cfg.name, "namespace": cfg.namespace},
            "spec": {
                "holderIdentity": cfg.identity,
                "leaseDurationSeconds": cfg.lease_duration.as_secs().max(1),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        });
        let request =
            api_access::create_lease(&cfg.namespace, &lease).map_err(LeaseError::BuildRequest)?;
        match self.client.request::<Value>(request).await {
            Ok(created) => {
                self.held = Some(created);
                Ok(Attempt::Leader { checkpoint: None })
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Standby {
                holder: String::from("(just created by another replica)"),
            }),
            Err(e) => Err(LeaseError::RequestFailed(e)),
        }
    }

    /// Renews the Lease; with `checkpoint`, also writes the checkpoint annotations. Fails with
    /// [`LeaseError::Lost`] when another replica holds it now.
    pub async fn renew(&mut self, checkpoint: Option<ResourceVersion>) -> Result<(), LeaseError> {
        self.write(checkpoint, false).await
    }

    /// Writes the final checkpoint and gives the Lease up so a standby takes over at once.
    pub async fn release(&mut self, checkpoint: Option<ResourceVersion>) -> Result<(), LeaseError> {
        self.write(checkpoint, true).await
    }

    async fn write(
        &mut self,
        checkpoint: Option<ResourceVersion>,
        release: bool,
    ) -> Result<(), LeaseError> {
        let Some(mut lease) = self.held.clone() else {
            return Err(LeaseError::Lost {
                holder: String::new(),
            });
        };
        // One retry on 409: someone (kubectl, an admission webhook) touched the Lease without
        // taking it; re-read and go on if we still hold it.
        for _ in 0..2 {
            let now = Timestamp::now();
            lease["spec"]["renewTime"] = json!(micro_time(now));
            if let Some(rv) = checkpoint {
                let annotations = &mut lease["metadata"]["annotations"];
                if !annotations.is_object() {
                    *annotations = json!({});
                }
                annotations[CHECKPOINT_ANNOTATION] = json!(rv.to_string());
                annotations[CHECKPOINT_TIME_ANNOTATION] =
                    json!(now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
            }
            if release {
                lease["spec"]["holderIdentity"] = Value::Null;
                lease["spec"]["leaseDurationSeconds"] = json!(1);
            }
            match self.update(&lease).await {
                Ok(updated) => {
                    self.held = (!release).then_some(updated);
                    return Ok(());
                }
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    let cfg = &self.config;
                    let request = api_access::get_lease(&cfg.namespace, &cfg.name)
                        .map_err(LeaseError::BuildRequest)?;
                    let current: Value = self
                        .client
                        .request(request)
                        .await
                        .map_err(LeaseError::RequestFailed)?;
                    let holder = current["spec"]["holderIdentity"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    if holder != self.config.identity {
                        self.held = None;
                        return Err(LeaseError::Lost { holder });
                    }
                    let mut fresh = current;
                    fresh["spec"]["leaseDurationSeconds"] =
                        lease["spec"]["leaseDurationSeconds"].clone();
                    lease = fresh;
                }
                Err(e) => return Err(LeaseError::RequestFailed(e)),
            }
        }
        Err(LeaseError::Lost {
            holder: String::from("(changed twice during renewal)"),
        })
    }

    async fn update(&self, lease: &Value) -> Result<Value, kube::Error> {
        let cfg = &self.config;
        let request = api_access::update_lease(&cfg.namespace, &cfg.name, lease)
            .map_err(kube::Error::BuildRequest)?;
        self.client.request::<Value>(request).await
    }

    /// Forgets that we hold the Lease (after stepping down without a release).
    pub fn forget(&mut self) {
        self.held = None;
    }
}

/// The checkpoint a Lease carries, if it parses.
pub fn checkpoint_of(lease: &Value) -> Option<ResourceVersion> {
    let text = lease["metadata"]["annotations"][CHECKPOINT_ANNOTATION].as_str()?;
    let parsed = ResourceVersion::parse(text);
    if parsed.is_none() {
        tracing::error!(
            checkpoint = text,
            "Checkpoint on the Lease is not an integer; listing everything again"
        );
    }
    parsed
}

/// A `MicroTime` as the API writes it: `2006-01-02T15:04:05.000000Z`.
fn micro_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_read_from_the_annotation() {
        let lease = json!({"metadata": {"annotations": {CHECKPOINT_ANNOTATION: "42"}}});
        assert_eq!(checkpoint_of(&lease), Some(ResourceVersion::new(42)));
        assert_eq!(checkpoint_of(&json!({"metadata": {}})), None);
        let bad = json!({"metadata": {"annotations": {CHECKPOINT_ANNOTATION: "x1"}}});
        assert_eq!(checkpoint_of(&bad), None);
    }

    #[test]
    fn micro_time_has_six_digits() {
        let t: Timestamp = "2025-01-02T03:04:05.5Z".parse().unwrap();
        assert_eq!(micro_time(t), "2025-01-02T03:04:05.500000Z");
    }
}
