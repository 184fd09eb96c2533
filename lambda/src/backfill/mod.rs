//! The CloudWatch Logs backfill: when the emitter was down, write to CloudWatch every observation
//! it did not write, exactly once, and hand the Lease back with the checkpoint moved past them.
//!
//! One backfill, coordinated through the emitter's Lease ([`handoff`]):
//! 1. read the Lease; none → no emitter was ever installed here: nothing to fill;
//! 2. watch it like an emitter standby: renewed → the emitter is alive, write nothing;
//! 3. released or unchanged for its duration → list every Event, keep those newer than the
//!    checkpoint on the Lease (none → leave the Lease alone);
//! 4. take the Lease with an update on the resourceVersion read in 2 — if an emitter came back
//!    meanwhile, its update changed the Lease and ours fails with 409: write nothing;
//! 5. cut the observations into PutLogEvents calls ([`batches`]); before each call
//!    renew the Lease with the checkpoint so far and the batch about to be sent (`pending`);
//! 6. release the Lease with the checkpoint after the last batch (the highest resourceVersion
//!    listed). A returning emitter, which stood by while we renewed, takes the Lease at once and
//!    resumes its watch after that checkpoint.
//!
//! A run interrupted between a PutLogEvents and the next Lease update leaves `pending` on the
//! Lease. The next catch-up run that takes the Lease, if nobody took it in between, reads the
//! batch's time range back from the stream: if it arrived, the checkpoint moves past it and it is not sent
//! again. If an emitter takes the Lease first, it resumes from the checkpoint before that batch
//! and writes it again: that is the one window where an observation can be in CloudWatch twice.
//! The next backfill detects it and reports it as `BackfillPossibleDuplicates`.

use std::time::Duration;

use eventkeeper_core::api_event::ApiEvent;
use eventkeeper_core::{Context, Origin, normalise::normalise_event};
use jiff::Timestamp;

pub(crate) mod batches;
pub(crate) mod cloudwatch_sink;
pub(crate) mod envelope;
pub(crate) mod handoff;

pub use batches::Limits;
pub use cloudwatch_sink::{CloudWatchSink, LOGS_ACTIONS, SinkError};
pub use envelope::{Envelope, UnknownEnvelope};

use eventkeeper_core::resource_version::{ResourceVersion, is_newer_version};
use eventkeeper_core::source::{ListError, Pager, Scope};

use crate::failure::FailureLabel;
use batches::{LogEntry, place, plan};
use handoff::{HeldLease, LeaseError, LeaseHandoff, LeaseView, Liveness, PendingBatch};

/// Why a backfill failed. The Lease is released (or left to expire) without moving the
/// checkpoint past anything that was not sent.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// Reading, taking or renewing the Lease failed.
    #[error("Lease handoff failed")]
    LeaseFailed(#[from] LeaseError),
    /// Listing events failed.
    #[error("listing events for the backfill failed")]
    ListFailed(#[from] ListError),
    /// CloudWatch Logs refused or kept failing.
    #[error("writing to CloudWatch Logs failed")]
    WriteFailed(#[from] SinkError),
    /// The list started over after an expired continue token. The list itself loses and repeats
    /// nothing (see `eventkeeper_core::source::Pager`), but a list that outlived etcd's
    /// compaction window took longer than the emitter's Lease can be trusted to stay free, so
    /// the backfill sends nothing from it; the next run lists again.
    #[error("the list restarted {0} times (expired continue tokens); not backfilling from it")]
    InconsistentList(u32),
}

impl BackfillError {
    /// Whether a later run can succeed without a change of configuration.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::LeaseFailed(e) => e.is_retryable(),
            Self::ListFailed(e) => e.is_retryable(),
            Self::WriteFailed(e) => e.is_retryable(),
            Self::InconsistentList(_) => true,
        }
    }

    /// Fixed label for metrics and logs.
    pub fn metric_label(&self) -> FailureLabel {
        match self {
            Self::LeaseFailed(LeaseError::Lost { .. }) => FailureLabel::BackfillLeaseLost,
            Self::LeaseFailed(_) => FailureLabel::BackfillLeaseFailed,
            Self::ListFailed(_) => FailureLabel::BackfillListFailed,
            Self::WriteFailed(_) => FailureLabel::BackfillWriteFailed,
            Self::InconsistentList(_) => FailureLabel::BackfillListInconsistent,
        }
    }
}

/// How the backfill is set up (from [`crate::config::Config`]).
#[derive(Clone, Debug)]
pub struct BackfillConfig {
    /// Cluster name written into every record.
    pub cluster: String,
    /// Namespace of the emitter's Lease.
    pub lease_namespace: String,
    /// Name of the emitter's Lease.
    pub lease_name: String,
    /// How long our hold lasts between renewals (`leaseDurationSeconds` while we hold it).
    pub hold: Duration,
    /// How records are nested in the message.
    pub envelope: Envelope,
    /// Events per list page.
    pub page_size: u32,
    /// PutLogEvents limits (CloudWatch's own unless a test shrinks them).
    pub limits: Limits,
}

/// What a backfill decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decision {
    /// The run did not get to a decision (failed first).
    #[default]
    NotRun,
    /// No Lease: no emitter was ever installed with this Lease.
    NoLease,
    /// The Lease is renewed: the emitter is alive and writes on its own.
    EmitterAlive,
    /// The emitter is down but nothing is newer than its checkpoint: the Lease is left alone.
    NothingNew,
    /// The Lease changed between our read and our update (409): someone else holds it now.
    LostRace,
    /// We held the Lease and wrote what was missing (possibly nothing).
    Backfilled,
}

impl Decision {
    /// Name for logs and the Lambda result.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRun => "not-run",
            Self::NoLease => "no-lease",
            Self::EmitterAlive => "emitter-alive",
            Self::NothingNew => "nothing-new",
            Self::LostRace => "lost-race",
            Self::Backfilled => "backfilled",
        }
    }
}

/// What a backfill did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackfillReport {
    /// What was decided.
    pub decision: Decision,
    /// Events CloudWatch accepted.
    pub events_backfilled: u64,
    /// PutLogEvents calls made.
    pub batches: u64,
    /// Events CloudWatch rejected (`rejectedLogEventsInfo`).
    pub rejected: u64,
    /// Events sent at the list time because their own time was missing or out of range.
    pub timestamps_adjusted: u64,
    /// Events of an interrupted backfill batch that an emitter wrote again (found on read-back).
    pub possible_duplicates: u64,
    /// The checkpoint the Lease was released with (a number in the Lambda's result).
    pub checkpoint: Option<u64>,
}

impl BackfillReport {
    /// A report of a decision and nothing done (yet).
    pub fn decided(decision: Decision) -> Self {
        Self {
            decision,
            ..Default::default()
        }
    }
}

/// An observation listed for the backfill.
struct Listed {
    entry: LogEntry,
    adjusted: bool,
}

/// The Lease was free and the events are listed: ready to take the Lease and send.
pub struct Prepared {
    free: LeaseView,
    checkpoint: Option<ResourceVersion>,
    listed: Vec<Listed>,
}

impl Prepared {
    /// Observations newer than the checkpoint.
    pub fn len(&self) -> usize {
        self.listed.len()
    }

    /// Whether nothing is newer than the checkpoint.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }
}

/// The Lease is ours and the events are listed.
pub struct Taken {
    held: HeldLease,
    prepared: Prepared,
}

impl Taken {
    /// The Lease as we hold it.
    pub fn held(&self) -> &HeldLease {
        &self.held
    }

    /// The checkpoint read from the Lease.
    pub fn checkpoint(&self) -> Option<ResourceVersion> {
        self.prepared.checkpoint
    }

    /// The messages that would be sent (before an interrupted run's batch is settled).
    pub fn entries(&self) -> Vec<LogEntry> {
        self.prepared
            .listed
            .iter()
            .map(|l| l.entry.clone())
            .collect()
    }

    /// The held Lease, for a caller that sends on its own (tests of an interrupted run).
    pub fn into_held(self) -> HeldLease {
        self.held
    }
}

/// The first half of a backfill: decided without the Lease, or listed and ready.
pub enum Preparation {
    /// Nothing to do; the reason.
    Skip(Decision),
    /// Take the Lease and send.
    Ready(Prepared),
}

/// The backfill: a sink, a Lease and the configuration.
pub struct Backfill {
    sink: CloudWatchSink,
    config: BackfillConfig,
}

impl Backfill {
    /// A backfill into `sink`.
    pub fn new(sink: CloudWatchSink, config: BackfillConfig) -> Self {
        Self { sink, config }
    }

    /// The sink.
    pub fn sink(&self) -> &CloudWatchSink {
        &self.sink
    }

    /// One backfill: decide, and when the emitter is down, fill its gap and hand the Lease back.
    pub async fn run(&self, client: &kube::Client) -> Result<BackfillReport, BackfillError> {
        let handoff = self.handoff(client);
        let prepared = match self.prepare(client, &handoff).await? {
            Preparation::Skip(decision) => return Ok(BackfillReport::decided(decision)),
            Preparation::Ready(prepared) => prepared,
        };
        match self.take(&handoff, prepared).await? {
            None => Ok(BackfillReport::decided(Decision::LostRace)),
            Some(taken) => self.fill(&handoff, taken).await,
        }
    }

    /// The Lease handoff this backfill uses.
    pub fn handoff(&self, client: &kube::Client) -> LeaseHandoff {
        LeaseHandoff::new(
            client.clone(),
            &self.config.lease_namespace,
            &self.config.lease_name,
            self.config.hold,
        )
    }

    /// Steps 1–3: read and watch the Lease; when it is free, list what is newer than its
    /// checkpoint.
    pub async fn prepare(
        &self,
        client: &kube::Client,
        handoff: &LeaseHandoff,
    ) -> Result<Preparation, BackfillError> {
        let Some(lease) = handoff.read().await? else {
            tracing::info!(lease = %handoff.lease_name(), "No emitter Lease; nothing to backfill");
            return Ok(Preparation::Skip(Decision::NoLease));
        };
        let free = match handoff.observe(lease).await? {
            Liveness::Alive { holder } => {
                tracing::info!(%holder, "The Lease is renewed: the emitter is alive; no backfill");
                return Ok(Preparation::Skip(Decision::EmitterAlive));
            }
            Liveness::Free(free) => free,
        };
        let checkpoint = match free.checkpoint() {
            Ok(checkpoint) => checkpoint,
            Err(text) => {
                tracing::error!(
                    checkpoint = text,
                    "Checkpoint on the Lease is not an integer; backfilling every listed event"
                );
                None
            }
        };
        tracing::info!(
            holder = free.holder(),
            ?checkpoint,
            "The Lease is free: listing for the backfill"
        );
        let listed = self.list_newer(client, checkpoint).await?;
        if listed.is_empty() && free.pending().is_none() {
            tracing::info!(
                ?checkpoint,
                "Nothing newer than the checkpoint; no backfill"
            );
            return Ok(Preparation::Skip(Decision::NothingNew));
        }
        Ok(Preparation::Ready(Prepared {
            free,
            checkpoint,
            listed,
        }))
    }

    /// Step 4: take the Lease as read in `prepare`. `None` when it changed since (409): an
    /// emitter (or another run) got there first and writes; we write nothing.
    pub async fn take(
        &self,
        handoff: &LeaseHandoff,
        prepared: Prepared,
    ) -> Result<Option<Taken>, BackfillError> {
        let Some(held) = handoff.take(&prepared.free).await? else {
            tracing::info!(
                "The Lease changed before we could take it: someone else writes; no backfill"
            );
            return Ok(None);
        };
        tracing::info!(
            identity = handoff.identity(),
            "Took the Lease for the backfill"
        );
        Ok(Some(Taken { held, prepared }))
    }

    /// Steps 5–6: send what is newer than the checkpoint, renewing the Lease, then release it.
    pub async fn fill(
        &self,
        handoff: &LeaseHandoff,
        taken: Taken,
    ) -> Result<BackfillReport, BackfillError> {
        let Taken { mut held, prepared } = taken;
        let mut report = BackfillReport::decided(Decision::Backfilled);
        let mut checkpoint = prepared.checkpoint;
        if let Some(pending) = prepared.free.pending() {
            match self
                .settle_pending(&prepared.free, &pending, &mut report)
                .await
            {
                Ok(true) => checkpoint = Some(ResourceVersion::new(pending.through)),
                Ok(false) => {}
                Err(error) => {
                    release_quietly(handoff, held, checkpoint, Some(&pending)).await;
                    return Err(error.into());
                }
            }
        }
        let after = checkpoint;
        let mut listed: Vec<Listed> = prepared
            .listed
            .into_iter()
            .filter(|l| is_newer_version(l.entry.resource_version.map(ResourceVersion::new), after))
            .collect();
        report.timestamps_adjusted = listed.iter().filter(|l| l.adjusted).count() as u64;
        let newest = listed
            .iter()
            .filter_map(|l| l.entry.resource_version)
            .max()
            .map(ResourceVersion::new);
        let batches = plan(
            listed.drain(..).map(|l| l.entry).collect(),
            self.config.limits,
        );
        if !batches.is_empty()
            && let Err(error) = self.sink.ensure_stream().await
        {
            release_quietly(handoff, held, checkpoint, None).await;
            return Err(error.into());
        }
        let stream = format!("{}/{}", self.sink.group(), self.sink.stream());
        for batch in &batches {
            let pending = batch.through.map(|through| PendingBatch {
                after: checkpoint.map_or(0, ResourceVersion::get),
                through,
                first_ms: batch.first_ms(),
                last_ms: batch.last_ms(),
                stream: stream.clone(),
                events: batch.entries.len() as u64,
                transitions: held.view().transitions(),
            });
            handoff
                .advance(&mut held, checkpoint, pending.as_ref())
                .await?;
            let outcome = match self.sink.put(batch).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    // It may have arrived (a timeout): keep `pending` for the next run to check.
                    release_quietly(handoff, held, checkpoint, pending.as_ref()).await;
                    return Err(error.into());
                }
            };
            report.batches += 1;
            report.events_backfilled += outcome.accepted;
            report.rejected += outcome.rejected;
            if let Some(through) = batch.through.map(ResourceVersion::new) {
                checkpoint = Some(checkpoint.map_or(through, |c| c.max(through)));
            }
        }
        let last = match (checkpoint, newest) {
            (Some(c), Some(n)) => Some(c.max(n)),
            (c, n) => c.or(n),
        };
        handoff.release(held, last, None).await?;
        report.checkpoint = last.map(ResourceVersion::get);
        tracing::info!(
            events = report.events_backfilled,
            batches = report.batches,
            rejected = report.rejected,
            checkpoint = ?last,
            "Backfill done; released the Lease"
        );
        Ok(report)
    }

    /// A batch an earlier run recorded as being sent: did it arrive? `Ok(true)` when it did and
    /// nobody wrote its range since (the checkpoint may move past it).
    async fn settle_pending(
        &self,
        free: &LeaseView,
        pending: &PendingBatch,
        report: &mut BackfillReport,
    ) -> Result<bool, SinkError> {
        let ours = format!("{}/{}", self.sink.group(), self.sink.stream());
        if pending.stream != ours {
            tracing::warn!(stream = %pending.stream, "A pending backfill batch went to another stream; not checked");
            return Ok(false);
        }
        let arrived = self.count_arrived(pending).await?;
        // Nobody took the Lease since that catch-up (a take adds a transition, a release does
        // not), and the checkpoint is still where that batch starts.
        let interrupted_catchup = free.transitions() == pending.transitions
            && free.checkpoint() == Ok(Some(ResourceVersion::new(pending.after)));
        if interrupted_catchup {
            if arrived > 0 {
                tracing::warn!(
                    after = pending.after,
                    through = pending.through,
                    arrived,
                    "An interrupted backfill's batch arrived; moving the checkpoint past it"
                );
                return Ok(true);
            }
            tracing::warn!(
                after = pending.after,
                through = pending.through,
                "An interrupted backfill's batch did not arrive; sending it again"
            );
        } else if arrived > 0 {
            tracing::error!(
                after = pending.after,
                through = pending.through,
                arrived,
                "An emitter took over after an interrupted backfill: these observations may be in CloudWatch twice"
            );
            report.possible_duplicates += arrived;
        }
        Ok(false)
    }

    /// Backfilled records of `pending`'s resourceVersion range found in the stream.
    async fn count_arrived(&self, pending: &PendingBatch) -> Result<u64, SinkError> {
        let messages = self.sink.read(pending.first_ms, pending.last_ms).await?;
        let found = messages
            .iter()
            .filter_map(|m| self.config.envelope.unwrap(m))
            .filter(|record| {
                record["origin"] == "catch-up"
                    && record["cluster"] == self.config.cluster.as_str()
                    && record["metadata"]["resourceVersion"]
                        .as_str()
                        .and_then(ResourceVersion::parse)
                        .is_some_and(|rv| rv.get() > pending.after && rv.get() <= pending.through)
            })
            .count();
        Ok(found as u64)
    }

    /// Lists every event and keeps the observations newer than `checkpoint`, ready to send.
    async fn list_newer(
        &self,
        client: &kube::Client,
        checkpoint: Option<ResourceVersion>,
    ) -> Result<Vec<Listed>, BackfillError> {
        let ctx = Context::new(self.config.cluster.clone(), Origin::CatchUp);
        let now = Timestamp::now();
        let envelope = self.config.envelope;
        let mut listed = Vec::new();
        let mut pager = Pager::new(client.clone(), Scope::AllNamespaces, self.config.page_size);
        while let Some(page) = pager.next_page().await? {
            listed.extend(
                page.items
                    .into_iter()
                    .filter_map(|item| to_listed(item, checkpoint, &ctx, envelope, now)),
            );
        }
        if pager.restarts() > 0 {
            return Err(BackfillError::InconsistentList(pager.restarts()));
        }
        Ok(listed)
    }
}

fn to_listed(
    item: ApiEvent,
    checkpoint: Option<ResourceVersion>,
    ctx: &Context,
    envelope: Envelope,
    now: Timestamp,
) -> Option<Listed> {
    let record = match normalise_event(item, ctx) {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(%error, "Listed item is not an Event; not backfilled");
            return None;
        }
    };
    let rv = ResourceVersion::parse(record.resource_version());
    if rv.is_none() {
        tracing::warn!(
            uid = record.uid(),
            rv = record.resource_version(),
            "Non-integer resourceVersion: backfilled on every backfill"
        );
    }
    // Non-integers are always newer: duplicates, never loss.
    if !is_newer_version(rv, checkpoint) {
        return None;
    }
    let effective = record
        .effective_time
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok());
    let placement = place(effective, now);
    Some(Listed {
        entry: LogEntry {
            resource_version: rv.map(ResourceVersion::get),
            timestamp_ms: placement.timestamp_ms,
            message: envelope.wrap(&record.to_line()),
        },
        adjusted: placement.adjusted,
    })
}

/// Gives the Lease back after a failure, keeping the checkpoint of what was sent; a failure to
/// release only delays the emitter until our hold expires.
async fn release_quietly(
    handoff: &LeaseHandoff,
    held: HeldLease,
    checkpoint: Option<ResourceVersion>,
    pending: Option<&PendingBatch>,
) {
    if let Err(error) = handoff.release(held, checkpoint, pending).await {
        tracing::warn!(%error, "Cannot release the Lease after a failed backfill; it expires on its own");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn only_observations_newer_than_the_checkpoint_are_listed() {
        let ctx = Context::new("demo", Origin::CatchUp);
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let event = |rv: &str| {
            ApiEvent::from(
                json!({"metadata": {"name": "a.1", "namespace": "default", "uid": "u1", "resourceVersion": rv},
                   "involvedObject": {"kind": "Pod", "name": "a"}, "reason": "BackOff", "type": "Warning",
                   "lastTimestamp": "2026-11-23T11:59:00Z"}),
            )
        };
        let ten = Some(ResourceVersion::new(10));
        assert!(to_listed(event("10"), ten, &ctx, Envelope::Bare, now).is_none());
        let newer = to_listed(event("11"), ten, &ctx, Envelope::LogProcessed, now).unwrap();
        assert_eq!(newer.entry.resource_version, Some(11));
        assert!(!newer.adjusted);
        assert_eq!(
            newer.entry.timestamp_ms,
            "2026-11-23T11:59:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_millisecond()
        );
        let message: Value = serde_json::from_str(&newer.entry.message).unwrap();
        assert_eq!(message["log_processed"]["origin"], "catch-up");
        assert_eq!(message["log_processed"]["reason"], "BackOff");
        let opaque = to_listed(event("abc"), ten, &ctx, Envelope::Bare, now).unwrap();
        assert_eq!(opaque.entry.resource_version, None);
        assert!(to_listed(event("5"), None, &ctx, Envelope::Bare, now).is_some());
        assert!(
            to_listed(
                ApiEvent::from(json!({"kind": "Pod"})),
                None,
                &ctx,
                Envelope::Bare,
                now
            )
            .is_none()
        );
    }
}
