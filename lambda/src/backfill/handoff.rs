//! The catch-up's hand-off policy on the emitter's Lease, so that the backfill and a returning
//! emitter never both write the same observations to CloudWatch Logs. The Lease contract itself
//! (compare-and-swap updates, expiry on the reader's clock, the checkpoint and pending-batch
//! annotations) is `eventkeeper_core::lease`, the same code the emitter elects with.
//!
//! The policy:
//! - watch the Lease like an emitter standby: free at once when released, alive as soon as it
//!   changes with a holder, free when it stayed unchanged for its duration (at most
//!   [`MAX_OBSERVE`]) on our own clock;
//! - take it with an update on the version read while watching (a returning emitter's renewal
//!   makes ours fail with 409: the emitter writes, we do not);
//! - while holding it, renew it with every checkpoint advance, so a returning emitter stands by;
//!   when done, write the final checkpoint and release it (empty holder): the emitter resumes
//!   from that checkpoint at once.
//!
//! Before each PutLogEvents the catch-up records the batch it is about to send
//! ([`PendingBatch`]), so the next run can tell whether a batch of an interrupted run arrived
//! (see the `backfill` module).

use std::time::{Duration, Instant};

use eventkeeper_core::lease::{ExpiryWatch, LeaseStore, Swap};
use eventkeeper_core::resource_version::ResourceVersion;
use jiff::Timestamp;

pub use eventkeeper_core::lease::{LeaseError, LeaseView, PendingBatch};

/// Every catch-up holder identity starts with this.
pub const HOLDER_PREFIX: &str = "eventkeeper-catchup";

/// How often the Lease is read while watching whether its holder is alive.
const POLL: Duration = Duration::from_millis(500);
/// Longest wait for a holder to prove it is alive, whatever the Lease says.
const MAX_OBSERVE: Duration = Duration::from_secs(120);
/// The emitter's default `leaseDurationSeconds`, assumed when the Lease has none.
const EMITTER_LEASE_DURATION: Duration = Duration::from_secs(15);

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
    store: LeaseStore,
    identity: String,
    hold: Duration,
}

impl LeaseHandoff {
    /// A handoff for `namespace/name`, holding it for `hold` between renewals.
    pub fn new(client: kube::Client, namespace: &str, name: &str, hold: Duration) -> Self {
        let nonce = Timestamp::now().as_nanosecond() as u64 ^ u64::from(std::process::id());
        Self {
            store: LeaseStore::new(client, namespace, name),
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
        self.store.lease_name()
    }

    /// The Lease, or `None` when it does not exist (no emitter was ever installed).
    pub async fn read(&self) -> Result<Option<LeaseView>, LeaseError> {
        self.store.get().await
    }

    /// Watches the Lease like an emitter standby: free at once when released; alive as soon as
    /// it changes with a holder; free when it stayed unchanged for its `leaseDurationSeconds` on
    /// our clock.
    pub async fn observe(&self, first: LeaseView) -> Result<Liveness, LeaseError> {
        let mut expiry = ExpiryWatch::new(EMITTER_LEASE_DURATION, Some(MAX_OBSERVE));
        let mut seen = first;
        loop {
            if expiry.expired(&seen, Instant::now()) {
                return Ok(Liveness::Free(seen));
            }
            tokio::time::sleep(POLL).await;
            let Some(now) = self.read().await? else {
                return Err(self.lost());
            };
            if now.resource_version() != seen.resource_version() && !now.holder().is_empty() {
                return Ok(Liveness::Alive {
                    holder: now.holder().to_owned(),
                });
            }
            seen = now;
        }
    }

    /// Takes the Lease as read in `free`. `None` when someone changed it since (409): they won.
    pub async fn take(&self, free: &LeaseView) -> Result<Option<HeldLease>, LeaseError> {
        let mut lease = free.clone();
        lease.take(&self.identity, self.hold, Timestamp::now());
        match self.store.replace(&lease).await? {
            Swap::Done(view) => Ok(Some(HeldLease { view })),
            Swap::Conflict => Ok(None),
        }
    }

    /// Renews the Lease, writing `checkpoint` and recording `pending` (or clearing it).
    pub async fn advance(
        &self,
        held: &mut HeldLease,
        checkpoint: Option<ResourceVersion>,
        pending: Option<&PendingBatch>,
    ) -> Result<(), LeaseError> {
        let mut lease = held.view.clone();
        let now = Timestamp::now();
        lease.renew(now);
        if let Some(checkpoint) = checkpoint {
            lease.set_checkpoint(checkpoint, now);
        }
        lease.set_pending(pending);
        held.view = self.write(&lease).await?;
        Ok(())
    }

    /// Writes the final checkpoint and gives the Lease up (empty holder): a waiting emitter takes
    /// it at once and resumes after `checkpoint`. `pending` stays recorded when a batch may or may
    /// not have arrived (a failed call); otherwise it is cleared.
    pub async fn release(
        &self,
        held: HeldLease,
        checkpoint: Option<ResourceVersion>,
        pending: Option<&PendingBatch>,
    ) -> Result<(), LeaseError> {
        let mut lease = held.view;
        let now = Timestamp::now();
        lease.release(now);
        if let Some(checkpoint) = checkpoint {
            lease.set_checkpoint(checkpoint, now);
        }
        lease.set_pending(pending);
        self.write(&lease).await.map(|_| ())
    }

    async fn write(&self, lease: &LeaseView) -> Result<LeaseView, LeaseError> {
        match self.store.replace(lease).await? {
            Swap::Done(view) => Ok(view),
            Swap::Conflict => Err(self.lost()),
        }
    }

    fn lost(&self) -> LeaseError {
        LeaseError::Lost {
            lease: self.store.lease_name(),
            holder: String::new(),
        }
    }
}
