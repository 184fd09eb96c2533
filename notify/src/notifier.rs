//! One invocation: payload → records → rules → per-group decision and claim → delivery
//! (digests past the burst limit, retries, dead-letter queue) → claims cleared.
//!
//! Exactly one message per step, never none: a step is *claimed* by a conditional write that
//! stores the messages to send (`pending`) together with the new episode, *then* sent, then
//! cleared. A concurrent or retried invocation reading the same group finds the episode already
//! advanced (no new step) or a fresh claim (it leaves it to its owner and fails its batch, so
//! Lambda runs it again later). A claim older than the lease belongs to an invocation that
//! crashed or timed out: whoever finds it takes it over (another conditional write) and sends
//! it again. See docs/notifications.md.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::dead_letter::{DeadLetterQueue, FailedDelivery};
use crate::decision::{self, Policy, Step};
use crate::destination::{Backoff, Destination, HttpClient};
use crate::layout::{self, Layout};
use crate::message::{LinkTarget, Notification};
use crate::metrics::Counters;
use crate::render::Outgoing;
use crate::rules::Rules;
use crate::state::{
    GroupState, Pending, PendingDelivery, Saved, StateError, StateStore, Stored, Write,
};
use crate::subscription;

/// Why a batch must be run again (Lambda retries it; the CLI exits 75). Bad input never is.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another invocation holds a fresh claim on a group of this batch.
    #[error("{0} group(s) are being notified by another invocation; run the batch again later")]
    ClaimedElsewhere(usize),
    /// A delivery failed and the dead-letter queue did not take it either.
    #[error("{0} delivery(ies) failed and could not be dead-lettered; their claims stay pending")]
    Undelivered(usize),
    /// Writes kept conflicting.
    #[error("group {0:?} kept changing under this invocation")]
    Contended(String),
}

/// Tunables, defaults in [`crate::config`].
#[derive(Clone, Debug)]
pub struct Settings {
    /// Thresholds and quiet period.
    pub policy: Policy,
    /// More messages than this for one destination in one invocation become one digest.
    pub burst_limit: usize,
    /// Records older than this are notified as late.
    pub late_after: SignedDuration,
    /// A claim older than this is taken over (at least the function's timeout).
    pub claim_lease: SignedDuration,
    /// Retries per delivery.
    pub backoff: Backoff,
    /// Where console links point (region; the log group comes from the payload).
    pub region: String,
    /// How long a group's state outlives its last record (DynamoDB TTL), past the quiet period.
    pub state_retention: SignedDuration,
}

/// The notifier, built once per cold start.
pub struct Notifier<S> {
    /// Group state.
    pub store: S,
    /// Rules.
    pub rules: Rules,
    /// Destinations by name.
    pub destinations: HashMap<String, Destination>,
    /// Where failed deliveries go.
    pub dead_letters: Option<DeadLetterQueue>,
    /// Webhook client.
    pub http: HttpClient,
    /// Tunables.
    pub settings: Settings,
}

/// A matched record, ready for its group.
struct Matched {
    record: eventkeeper_core::Record,
    layout: Layout,
    rule: String,
    destinations: Vec<String>,
    at: Timestamp,
    late: bool,
}

/// A claimed group: what to send and the revision to clear.
struct Claim {
    key: String,
    state: GroupState,
    revision: u64,
}

/// What a group's records and stored state call for.
enum Decided {
    /// Nothing to write.
    Settled(Counters),
    /// Another invocation holds a fresh claim.
    Busy(Counters),
    /// Write this state (its counts hold once the write succeeds).
    Write(GroupState, Counters),
}

impl<S: StateStore> Notifier<S> {
    /// Handles one invocation event (`{"awslogs": {"data": ...}}`).
    pub async fn handle(
        &self,
        event: &Value,
        now: Timestamp,
    ) -> (Counters, Result<(), BatchError>) {
        let mut counts = Counters::default();
        let payload = match subscription::decode_event(event) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(reason = error.metric_label(), %error, "Skipped a payload");
                counts.skipped += 1;
                return (counts, Ok(()));
            }
        };
        if payload.is_control() {
            tracing::info!(log_group = payload.log_group, "Control message");
            return (counts, Ok(()));
        }
        let link = LinkTarget {
            region: self.settings.region.clone(),
            log_group: payload.log_group.clone(),
        };
        let mut groups: BTreeMap<String, Vec<Matched>> = BTreeMap::new();
        for log_event in &payload.log_events {
            counts.records += 1;
            let (record, layout) = match layout::find_record(&log_event.message) {
                Ok(found) => found,
                Err(reason) => {
                    tracing::debug!(reason = reason.metric_label(), %reason, id = log_event.id, "Skipped a log event");
                    counts.skipped += 1;
                    continue;
                }
            };
            let Some(rule) = self.rules.first_match(&record) else {
                continue;
            };
            counts.matched += 1;
            let received = Timestamp::from_millisecond(log_event.timestamp).unwrap_or(now);
            let at = decision::record_time(&record, received);
            let late = now.duration_since(at) > self.settings.late_after;
            counts.late += u64::from(late);
            groups
                .entry(decision::group_key(&record))
                .or_default()
                .push(Matched {
                    rule: rule.name.clone(),
                    destinations: rule.destinations.clone(),
                    record,
                    layout,
                    at,
                    late,
                });
        }
        for items in groups.values_mut() {
            items.sort_by_key(|m| m.at);
        }

        let (mut claims, busy, first_error) =
            self.claim_groups(&groups, now, &link, &mut counts).await;
        let undelivered = self.deliver_and_clear(&mut claims, now, &mut counts).await;
        let result = match (first_error, undelivered, busy) {
            (Some(error), _, _) => Err(error),
            (None, Err(error), _) => Err(error),
            (None, Ok(()), 0) => Ok(()),
            (None, Ok(()), busy) => Err(BatchError::ClaimedElsewhere(busy)),
        };
        (counts, result)
    }

    /// Reads the groups, decides each, and claims the steps (or stale claims) with conditional
    /// writes, all a batch at a time: one BatchGetItem per 100 groups, one TransactWriteItems per
    /// 100 writes. Groups whose write lost its condition are read and decided again. Returns the
    /// claims, how many groups another invocation holds, and the first error.
    async fn claim_groups(
        &self,
        groups: &BTreeMap<String, Vec<Matched>>,
        now: Timestamp,
        link: &LinkTarget,
        counts: &mut Counters,
    ) -> (Vec<Claim>, usize, Option<BatchError>) {
        let mut claims = Vec::new();
        let mut busy = 0;
        let mut first_error: Option<BatchError> = None;
        let mut todo: Vec<&str> = groups.keys().map(String::as_str).collect();
        for _ in 0..8 {
            if todo.is_empty() {
                break;
            }
            let stored = match self.store.load_all(&todo).await {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::error!(%error, groups = todo.len(), "Groups not read; the batch will be retried");
                    first_error.get_or_insert(error.into());
                    return (claims, busy, first_error);
                }
            };
            let mut decided = Vec::new();
            for key in todo.drain(..) {
                let stored = stored.get(key);
                match self.decide(key, &groups[key], stored, now, link) {
                    Decided::Busy(c) => {
                        counts.add(&c);
                        busy += 1;
                    }
                    Decided::Settled(c) => counts.add(&c),
                    Decided::Write(state, c) => {
                        let expires_at = self.expires_at(&state, now);
                        decided.push((key, state, stored.map(|s| s.revision), expires_at, c));
                    }
                }
            }
            let writes: Vec<Write<'_>> = decided
                .iter()
                .map(|(key, state, expected, expires_at, _)| Write {
                    key,
                    state,
                    expected: *expected,
                    expires_at: *expires_at,
                })
                .collect();
            let saved = self.store.save_all(&writes).await;
            drop(writes);
            for ((key, state, _, _, c), saved) in decided.into_iter().zip(saved) {
                match saved {
                    Ok(Saved::Conflict) => todo.push(key),
                    Ok(Saved::Written(revision)) => {
                        counts.add(&c);
                        if state.pending.is_some() {
                            claims.push(Claim {
                                key: key.to_owned(),
                                state,
                                revision,
                            });
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, group = key, "Group not processed; the batch will be retried");
                        first_error.get_or_insert(error.into());
                    }
                }
            }
        }
        if let Some(key) = todo.first() {
            first_error.get_or_insert(BatchError::Contended((*key).to_owned()));
        }
        (claims, busy, first_error)
    }

    /// Folds a group's records into its stored state: nothing to write, a group another
    /// invocation holds, or the state to write (a new step or a stale claim taken over is
    /// `pending` in it).
    fn decide(
        &self,
        key: &str,
        items: &[Matched],
        stored: Option<&Stored>,
        now: Timestamp,
        link: &LinkTarget,
    ) -> Decided {
        let mut state = stored.map(|s| s.state.clone()).unwrap_or_default();
        let mut counts = Counters::default();
        let mut deliveries = Vec::new();
        if let Some(pending) = state.pending.take() {
            if now.duration_since(pending.claimed_at) < self.settings.claim_lease {
                tracing::info!(group = key, "Group claimed by another invocation");
                return Decided::Busy(counts);
            }
            tracing::warn!(group = key, claimed_at = %pending.claimed_at, "Taking over a stale claim: sending it again");
            counts.resent += pending.deliveries.len() as u64;
            deliveries = pending.deliveries;
        }
        let mut step: Option<(Step, &Matched)> = None;
        for item in items {
            if let Some(s) = decision::observe(
                &mut state.episode,
                item.record.occurrences,
                item.at,
                &self.settings.policy,
            ) {
                step = Some((s, item));
            }
        }
        counts.suppressed += items.len() as u64 - u64::from(step.is_some());
        if let Some((step, trigger)) = step {
            state.episode.steps += 1;
            let latest = items.last().unwrap_or(trigger);
            let notification = Notification::new(
                &trigger.rule,
                key,
                step,
                &state.episode,
                &latest.record,
                latest.layout,
                trigger.late,
                link,
            );
            for destination in &trigger.destinations {
                deliveries.push(PendingDelivery {
                    destination: destination.clone(),
                    notification: notification.clone(),
                });
            }
        }
        if !deliveries.is_empty() {
            state.pending = Some(Pending {
                claimed_at: now,
                deliveries,
            });
        }
        if stored.is_some_and(|s| s.state == state) {
            Decided::Settled(counts)
        } else {
            Decided::Write(state, counts)
        }
    }

    fn expires_at(&self, state: &GroupState, now: Timestamp) -> Timestamp {
        let last = state.episode.last_seen.unwrap_or(now).max(now);
        let keep = if state.pending.is_some() {
            SignedDuration::from_hours(24 * 7)
        } else {
            self.settings.policy.quiet + self.settings.state_retention
        };
        last.checked_add(keep).unwrap_or(last)
    }

    /// Sends every claimed delivery (per destination: one by one, or one digest past the burst
    /// limit), dead-letters what fails, and clears each claim whose deliveries are all done.
    async fn deliver_and_clear(
        &self,
        claims: &mut [Claim],
        now: Timestamp,
        counts: &mut Counters,
    ) -> Result<(), BatchError> {
        // (claim index, delivery index) per destination.
        let mut by_destination: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
        for (c, claim) in claims.iter().enumerate() {
            let pending = claim
                .state
                .pending
                .as_ref()
                .expect("claims hold a pending step");
            for (d, delivery) in pending.deliveries.iter().enumerate() {
                by_destination
                    .entry(delivery.destination.clone())
                    .or_default()
                    .push((c, d));
            }
        }
        let mut done: Vec<Vec<bool>> = claims
            .iter()
            .map(|c| vec![false; c.state.pending.as_ref().map_or(0, |p| p.deliveries.len())])
            .collect();
        let now_seconds = now.as_second();
        for (name, refs) in &by_destination {
            let notifications: Vec<Notification> = refs
                .iter()
                .map(|(c, d)| {
                    claims[*c]
                        .state
                        .pending
                        .as_ref()
                        .expect("pending")
                        .deliveries[*d]
                        .notification
                        .clone()
                })
                .collect();
            let Some(destination) = self.destinations.get(name) else {
                // A rule changed since the claim: the destination is gone. Dead-letter it.
                let failed = FailedDelivery {
                    destination: name,
                    kind: "removed",
                    error: "destination no longer configured".into(),
                    attempts: 0,
                    payloads: notifications
                        .iter()
                        .map(|n| crate::render::generic(Outgoing::Single(n)))
                        .collect(),
                };
                if self.dead_letter(&failed, counts).await {
                    for (c, d) in refs {
                        done[*c][*d] = true;
                    }
                }
                continue;
            };
            let batches: Vec<(Outgoing<'_>, Vec<(usize, usize)>)> =
                if destination.digests() && notifications.len() > self.settings.burst_limit {
                    digests_within(destination.body_limit(), &notifications, refs)
                } else {
                    notifications
                        .iter()
                        .zip(refs)
                        .map(|(n, r)| (Outgoing::Single(n), vec![*r]))
                        .collect()
                };
            for (outgoing, members) in batches {
                let delivered = match self
                    .settings
                    .backoff
                    .deliver(destination, &self.http, outgoing, now_seconds)
                    .await
                {
                    Ok(()) => {
                        counts.notified += 1;
                        counts.digests += u64::from(matches!(outgoing, Outgoing::Digest(_)));
                        true
                    }
                    Err((error, attempts)) => {
                        tracing::error!(destination = name, kind = destination.kind(), %error, attempts, "Delivery failed: dead-lettering it");
                        let body = destination.body(outgoing);
                        let payloads = if DeadLetterQueue::fits(&body) {
                            vec![body]
                        } else {
                            outgoing
                                .notifications()
                                .iter()
                                .map(|n| destination.body(Outgoing::Single(n)))
                                .collect()
                        };
                        let failed = FailedDelivery {
                            destination: name,
                            kind: destination.kind(),
                            error: error.to_string(),
                            attempts,
                            payloads,
                        };
                        self.dead_letter(&failed, counts).await
                    }
                };
                if delivered {
                    for (c, d) in members {
                        done[c][d] = true;
                    }
                }
            }
        }

        let mut undelivered = 0;
        for (claim, done) in claims.iter_mut().zip(done) {
            let pending = claim.state.pending.as_mut().expect("pending");
            let remaining: Vec<PendingDelivery> = pending
                .deliveries
                .drain(..)
                .zip(done)
                .filter_map(|(delivery, done)| (!done).then_some(delivery))
                .collect();
            undelivered += remaining.len();
            if remaining.is_empty() {
                claim.state.pending = None;
            } else {
                // Keep only what is left; its lease runs from the original claim.
                pending.deliveries = remaining;
            }
        }
        let expires: Vec<Timestamp> = claims
            .iter()
            .map(|c| self.expires_at(&c.state, now))
            .collect();
        let writes: Vec<Write<'_>> = claims
            .iter()
            .zip(&expires)
            .map(|(claim, expires_at)| Write {
                key: &claim.key,
                state: &claim.state,
                expected: Some(claim.revision),
                expires_at: *expires_at,
            })
            .collect();
        let mut first_error = None;
        for (claim, saved) in claims.iter().zip(self.store.save_all(&writes).await) {
            match saved {
                Ok(Saved::Written(_)) => {}
                Ok(Saved::Conflict) => {
                    tracing::warn!(
                        group = claim.key,
                        "Claim was taken over while sending: the other invocation may send it again"
                    );
                }
                Err(error) => {
                    // The claim stays: it is sent again once its lease is over (never lost).
                    tracing::error!(%error, group = claim.key, "Claim not cleared; the batch will be retried");
                    first_error.get_or_insert(error);
                }
            }
        }
        if let Some(error) = first_error {
            return Err(error.into());
        }
        if undelivered > 0 {
            Err(BatchError::Undelivered(undelivered))
        } else {
            Ok(())
        }
    }

    /// Whether the dead-letter queue took the failed delivery.
    async fn dead_letter(&self, failed: &FailedDelivery<'_>, counts: &mut Counters) -> bool {
        let Some(queue) = &self.dead_letters else {
            tracing::error!(
                destination = failed.destination,
                "Delivery failed and no dead-letter queue is configured: the claim stays pending"
            );
            return false;
        };
        match queue.send(failed).await {
            Ok(()) => {
                counts.delivery_failures += 1;
                true
            }
            Err(error) => {
                tracing::error!(%error, destination = failed.destination, "Dead-letter queue refused: the claim stays pending");
                false
            }
        }
    }
}

/// A burst as digests: one, or for a destination with a body limit as many as it takes so each
/// fits (by the notifications' serialised sizes; the limit leaves room for the envelope).
fn digests_within<'a>(
    limit: Option<usize>,
    notifications: &'a [Notification],
    refs: &[(usize, usize)],
) -> Vec<(Outgoing<'a>, Vec<(usize, usize)>)> {
    let Some(limit) = limit else {
        return vec![(Outgoing::Digest(notifications), refs.to_vec())];
    };
    let mut digests = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, notification) in notifications.iter().enumerate() {
        let size = serde_json::to_string(notification).map_or(0, |j| j.len()) + 1;
        if i > start && bytes + size > limit {
            digests.push((
                Outgoing::Digest(&notifications[start..i]),
                refs[start..i].to_vec(),
            ));
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    digests.push((
        Outgoing::Digest(&notifications[start..]),
        refs[start..].to_vec(),
    ));
    digests
}
