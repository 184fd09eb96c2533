//! The replica's life: wait as a standby until the Lease is ours, lead (run the pipeline, renew
//! the Lease, write the checkpoint), step down when renewal fails for the renew deadline, and on
//! SIGTERM flush, checkpoint, release and return.
//!
//! Duplicates are bounded by what was really uncertain. A failed renewal is tried again after a
//! short backoff, not a whole retry period later, so the checkpoint catches up as soon as the API
//! answers again. A leader that steps down and retakes the Lease with nobody else holding it in
//! between resumes from what it flushed itself, not from the older checkpoint on the Lease.

use std::sync::Arc;
use std::time::Duration;

use eventkeeper_core::backoff::RetryPolicy;
use eventkeeper_core::resource_version::ResourceVersion;
use eventkeeper_core::source::Scope;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::Config;
use crate::health::{Health, Role};
use crate::heartbeat::{self, Heartbeat};
use crate::lease::{Attempt, LeaseClient};
use crate::metrics::Metrics;
use crate::pipeline::{self, Shared};
use crate::stdout_sink::SinkError;
use eventkeeper_core::lease::LeaseError;

/// Why the emitter stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// stdout could not be written.
    #[error("stdout failed")]
    OutputFailed(#[source] SinkError),
}

enum Outcome {
    Shutdown,
    /// Stopped emitting; every line up to `flushed` is on stdout.
    SteppedDown {
        flushed: Option<ResourceVersion>,
    },
}

/// Runs until `shutdown` turns true.
pub async fn run(
    config: &Config,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), LeaderError> {
    let mut lease = LeaseClient::new(shared.client.clone(), config.lease.clone());
    let health: Arc<Health> = shared.health.clone();
    let metrics: Arc<Metrics> = shared.metrics.clone();
    let retry = config.lease.retry_period;
    let mut last_holder = String::new();
    // What this process flushed in its last term, until someone else holds the Lease.
    let mut own_flushed: Option<ResourceVersion> = None;
    loop {
        // Standby: try now, then every retry period.
        let (start, checkpoint) = loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            match lease.try_acquire().await {
                Ok(Attempt::Leader {
                    checkpoint,
                    no_other_holder,
                }) => {
                    let own = own_flushed.take().filter(|_| no_other_holder);
                    if let Some(own) = own {
                        tracing::info!(flushed = %own, ?checkpoint, "Retook the Lease with no other holder in between: resuming from what this process flushed");
                    }
                    break (checkpoint.max(own), checkpoint);
                }
                Ok(Attempt::Standby { holder }) => {
                    if holder != last_holder {
                        tracing::info!(%holder, "Standing by");
                        last_holder = holder;
                    }
                    health.set_role(Role::Standby);
                }
                Err(error) => {
                    metrics.api_error(error.metric_label());
                    tracing::warn!(%error, cause = ?std::error::Error::source(&error), "Cannot read the Lease");
                    health.set_role(Role::Standby);
                }
            }
            tokio::select! {
                () = tokio::time::sleep(retry) => {}
                _ = shutdown.changed() => {}
            }
        };
        last_holder.clear();
        tracing::info!(identity = lease.identity(), ?checkpoint, resume = ?start, "Leading");
        metrics.set_leader(true);
        health.set_role(Role::Leader);
        let outcome = lead(
            config,
            &shared,
            &mut lease,
            start,
            checkpoint,
            &mut shutdown,
        )
        .await;
        metrics.set_leader(false);
        match outcome? {
            Outcome::Shutdown => return Ok(()),
            Outcome::SteppedDown { flushed } => {
                own_flushed = flushed;
                lease.forget();
                health.set_role(Role::Standby);
            }
        }
    }
}

/// Leads from `start` (everything up to it is on stdout); `on_lease` is the checkpoint the Lease
/// carries now.
async fn lead(
    config: &Config,
    shared: &Arc<Shared>,
    lease: &mut LeaseClient,
    start: Option<ResourceVersion>,
    on_lease: Option<ResourceVersion>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Outcome, LeaderError> {
    let scopes = if config.namespaces.is_empty() {
        vec![Scope::AllNamespaces]
    } else {
        config
            .namespaces
            .iter()
            .cloned()
            .map(Scope::Namespace)
            .collect()
    };
    let mut running = pipeline::start(shared.clone(), scopes, start, config.flush_interval);
    let heartbeat = heartbeat_task(config, shared, &running);
    let metrics = &shared.metrics;
    let cfg = &config.lease;
    let mut last_renewed = Instant::now();
    let mut written = on_lease;
    // `None`: the first checkpoint of a term goes out at the first renewal that has one. Until
    // it exists a restart starts from an older position (or lists everything again).
    let mut written_at: Option<Instant> = None;
    // Renew every retry period, and write the checkpoint as soon as it is due; after a failure,
    // sooner: the checkpoint must catch up as soon as the API answers again.
    let period = cfg.retry_period.min(cfg.checkpoint_interval);
    let mut failures = RetryPolicy::RECONNECT.backoff();
    let mut next_at = Instant::now() + period;
    loop {
        let failed = tokio::select! {
            _ = shutdown.changed() => break,
            error = running.sink_failed() => Some(error),
            () = tokio::time::sleep_until(next_at) => None,
        };
        if let Some(error) = failed {
            running.abort();
            return Err(LeaderError::OutputFailed(error));
        }
        let flushed = *running.flushed.borrow();
        let due = flushed != written
            && written_at.is_none_or(|at| at.elapsed() >= cfg.checkpoint_interval);
        let checkpoint = if due { flushed } else { None };
        // A renewal may not outlive the deadline: past it we must already have stopped.
        let left = cfg.renew_deadline.saturating_sub(last_renewed.elapsed());
        let result = match tokio::time::timeout(left, lease.renew(checkpoint)).await {
            Ok(result) => result,
            Err(_) => Err(lease.timed_out()),
        };
        match result {
            Ok(()) => {
                last_renewed = Instant::now();
                next_at = last_renewed + period;
                failures.reset();
                shared.health.api_answered();
                if let Some(rv) = checkpoint {
                    written = Some(rv);
                    written_at = Some(Instant::now());
                    metrics.checkpoint_written(rv.get());
                    tracing::debug!(checkpoint = %rv, "Checkpoint written");
                }
            }
            Err(LeaseError::Lost { holder, .. }) => {
                let flushed = stop(running);
                tracing::error!(%holder, "Lost the Lease; stopped emitting");
                return Ok(Outcome::SteppedDown { flushed });
            }
            Err(error) => {
                metrics.api_error(error.metric_label());
                let wait = failures.next_delay().unwrap_or(period).min(period);
                if last_renewed.elapsed() + wait >= cfg.renew_deadline {
                    let flushed = stop(running);
                    tracing::error!(%error, "Cannot renew the Lease before the renew deadline; stopped emitting");
                    return Ok(Outcome::SteppedDown { flushed });
                }
                tracing::warn!(%error, cause = ?std::error::Error::source(&error), ?wait, "Lease renewal failed, retrying");
                next_at = Instant::now() + wait;
            }
        }
    }
    // SIGTERM: finish the batch, flush, checkpoint, release.
    tracing::info!("Shutting down: flushing and releasing the Lease");
    drop(heartbeat);
    let checkpoint = running.finish().await.map_err(LeaderError::OutputFailed)?;
    match tokio::time::timeout(Duration::from_secs(5), lease.release(checkpoint)).await {
        Ok(Ok(())) => {
            if let Some(rv) = checkpoint {
                metrics.checkpoint_written(rv.get());
            }
            tracing::info!(?checkpoint, "Released the Lease");
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "Cannot release the Lease; a standby takes over when it expires")
        }
        Err(_) => {
            tracing::warn!("Releasing the Lease timed out; a standby takes over when it expires")
        }
    }
    Ok(Outcome::Shutdown)
}

/// A task aborted when its owner goes (the heartbeat ends with the term, whichever way it ends).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The term's watch heartbeat, when it is on and the Lease namespace is watched.
fn heartbeat_task(
    config: &Config,
    shared: &Arc<Shared>,
    running: &pipeline::Running,
) -> Option<AbortOnDrop> {
    let interval = config.watch_heartbeat?;
    let delivered = running.delivered(config.heartbeat_scope()?)?;
    let lease = &config.lease;
    let beat = Heartbeat::new(
        shared.client.clone(),
        &lease.namespace,
        &lease.name,
        &lease.identity,
    );
    Some(AbortOnDrop(tokio::spawn(heartbeat::run(
        beat,
        delivered,
        interval,
        shared.metrics.clone(),
    ))))
}

/// Stops emitting at once and returns the position through which every line is on stdout (read
/// before the sink stops: a flush racing the stop can only make it higher, never lower).
fn stop(running: pipeline::Running) -> Option<ResourceVersion> {
    let flushed = *running.flushed.borrow();
    running.abort();
    flushed
}
