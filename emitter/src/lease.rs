//! Leader election on the eventkeeper Lease. The Lease contract (annotation keys, checkpoint,
//! expiry on the reader's clock, compare-and-swap updates) is `eventkeeper_core::lease`; what is
//! left here is the election: a standby takes the Lease over when its holder released it or let
//! it lapse, the leader renews it with the checkpoint, and a conflict during a renewal is
//! re-read once.

use std::time::Instant;

use eventkeeper_core::lease::{ExpiryWatch, LeaseError, LeaseStore, LeaseView, Swap};
use eventkeeper_core::resource_version::ResourceVersion;
use jiff::Timestamp;

use crate::config::LeaseConfig;

/// What a standby's attempt found.
#[derive(Debug)]
pub enum Attempt {
    /// We hold the Lease now; resume after this checkpoint.
    Leader {
        /// The checkpoint on the Lease, if any and if it parses.
        checkpoint: Option<ResourceVersion>,
        /// Nobody else held the Lease since this process last held it (see
        /// [`LeaseView::no_other_holder_since`]): what this process flushed is still the truth.
        no_other_holder: bool,
    },
    /// Someone else holds it.
    Standby {
        /// Its holder.
        holder: String,
    },
}

/// One replica's view of the Lease.
pub struct LeaseClient {
    store: LeaseStore,
    config: LeaseConfig,
    /// The Lease as last read or written by us.
    held: Option<LeaseView>,
    /// The Lease as this process last saw it while holding it (kept after stepping down).
    last_held: Option<LeaseView>,
    /// When the other holder's Lease was first seen unchanged.
    expiry: ExpiryWatch,
}

impl LeaseClient {
    /// A client for the configured Lease.
    pub fn new(client: kube::Client, config: LeaseConfig) -> Self {
        Self {
            store: LeaseStore::new(client, &config.namespace, &config.name),
            expiry: ExpiryWatch::new(config.lease_duration, None),
            config,
            held: None,
            last_held: None,
        }
    }

    /// The identity written as holder.
    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    /// Tries once to become (or stay) the leader.
    pub async fn try_acquire(&mut self) -> Result<Attempt, LeaseError> {
        let Some(mut lease) = self.store.get().await? else {
            return self.create().await;
        };
        let cfg = &self.config;
        let holder = lease.holder().to_owned();
        if cfg.election && !holder.is_empty() && holder != cfg.identity {
            if !self.expiry.expired(&lease, Instant::now()) {
                return Ok(Attempt::Standby { holder });
            }
            tracing::info!(%holder, "Lease expired, taking over");
        }
        let no_other_holder = self
            .last_held
            .as_ref()
            .is_some_and(|mine| lease.no_other_holder_since(mine, &cfg.identity));
        lease.take(&cfg.identity, cfg.lease_duration, Timestamp::now());
        match self.store.replace(&lease).await? {
            Swap::Done(updated) => {
                let checkpoint = checkpoint_of(&updated);
                self.hold(Some(updated));
                self.expiry.reset();
                Ok(Attempt::Leader {
                    checkpoint,
                    no_other_holder,
                })
            }
            Swap::Conflict => Ok(Attempt::Standby { holder }),
        }
    }

    async fn create(&mut self) -> Result<Attempt, LeaseError> {
        let cfg = &self.config;
        let lease = LeaseView::create(
            &cfg.namespace,
            &cfg.name,
            &cfg.identity,
            cfg.lease_duration,
            Timestamp::now(),
        );
        match self.store.create(&lease).await? {
            Swap::Done(created) => {
                self.hold(Some(created));
                Ok(Attempt::Leader {
                    checkpoint: None,
                    no_other_holder: false,
                })
            }
            Swap::Conflict => Ok(Attempt::Standby {
                holder: String::from("(just created by another replica)"),
            }),
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

    /// The error of a renewal that did not answer in time.
    pub fn timed_out(&self) -> LeaseError {
        LeaseError::WriteFailed {
            lease: self.store.lease_name(),
            source: kube::Error::Service("Lease renewal timed out".into()),
        }
    }

    async fn write(
        &mut self,
        checkpoint: Option<ResourceVersion>,
        release: bool,
    ) -> Result<(), LeaseError> {
        let Some(mut lease) = self.held.clone() else {
            return Err(self.lost(String::new()));
        };
        // One retry on 409: someone (kubectl, an admission webhook) touched the Lease without
        // taking it; re-read and go on if we still hold it.
        for _ in 0..2 {
            let now = Timestamp::now();
            lease.renew(now);
            if let Some(rv) = checkpoint {
                lease.set_checkpoint(rv, now);
            }
            if release {
                lease.release(now);
            }
            match self.store.replace(&lease).await? {
                Swap::Done(updated) => {
                    self.hold((!release).then_some(updated));
                    return Ok(());
                }
                Swap::Conflict => {
                    let current = self.store.get().await?;
                    let holder = current.as_ref().map_or("", LeaseView::holder).to_owned();
                    let Some(mut fresh) = current.filter(|_| holder == self.config.identity) else {
                        self.held = None;
                        self.last_held = None;
                        return Err(self.lost(holder));
                    };
                    if let Some(duration) = lease.duration() {
                        fresh.set_duration(duration);
                    }
                    lease = fresh;
                }
            }
        }
        Err(self.lost(String::from("(changed twice during renewal)")))
    }

    fn lost(&self, holder: String) -> LeaseError {
        LeaseError::Lost {
            lease: self.store.lease_name(),
            holder,
        }
    }

    /// Forgets that we hold the Lease (after stepping down without a release). What it last
    /// looked like is kept: a retake with no other holder in between resumes from what this
    /// process flushed.
    pub fn forget(&mut self) {
        self.held = None;
    }

    /// Records the Lease as held now (`None`: released).
    fn hold(&mut self, lease: Option<LeaseView>) {
        if let Some(lease) = &lease {
            self.last_held = Some(lease.clone());
        } else {
            // Released: a standby may take it at once; nothing of ours is to be trusted later.
            self.last_held = None;
        }
        self.held = lease;
    }
}

/// The checkpoint a Lease carries, if it parses.
fn checkpoint_of(lease: &LeaseView) -> Option<ResourceVersion> {
    match lease.checkpoint() {
        Ok(checkpoint) => checkpoint,
        Err(text) => {
            tracing::error!(
                checkpoint = text,
                "Checkpoint on the Lease is not an integer; listing everything again"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventkeeper_core::lease::CHECKPOINT_ANNOTATION;
    use serde_json::json;

    fn view(value: serde_json::Value) -> LeaseView {
        LeaseView::new(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn checkpoints_are_read_from_the_annotation() {
        let lease = view(json!({"metadata": {"annotations": {CHECKPOINT_ANNOTATION: "42"}}}));
        assert_eq!(checkpoint_of(&lease), Some(ResourceVersion::new(42)));
        assert_eq!(checkpoint_of(&view(json!({"metadata": {}}))), None);
        let bad = view(json!({"metadata": {"annotations": {CHECKPOINT_ANNOTATION: "x1"}}}));
        assert_eq!(checkpoint_of(&bad), None);
    }
}
