//! The replica's life: wait as a standby until the Lease is ours, lead (run the pipeline, renew
//! the Lease, write the checkpoint), step down when renewal fails for the renew deadline, and on
//! SIGTERM flush, checkpoint, release and return.

use std::sync::Arc;
use std::time::Duration;

use eventkeeper_core::resource_version::ResourceVersion;
use eventkeeper_core::source::Scope;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Config;
use crate::health::{Health, Role};
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
    SteppedDown,
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
    loop {
        // Standby: try now, then every retry period.
        let checkpoint = loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            match lease.try_acquire().await {
                Ok(Attempt::Leader { checkpoint }) => break checkpoint,
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
        tracing::info!(identity = lease.identity(), ?checkpoint, "Leading");
        metrics.set_leader(true);
        health.set_role(Role::Leader);
        let outcome = lead(config, &shared, &mut lease, checkpoint, &mut shutdown).await;
        metrics.set_leader(false);
        match outcome? {
            Outcome::Shutdown => return Ok(()),
            Outcome::SteppedDown => {
                lease.forget();
                health.set_role(Role::Standby);
            }
        }
    }
}

async fn lead(
    config: &Config,
    shared: &Arc<Shared>,
    lease: &mut LeaseClient,
    checkpoint: Option<ResourceVersion>,
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
    let mut running = pipeline::start(shared.clone(), scopes, checkpoint, config.flush_interval);
    let metrics = &shared.metrics;
    let cfg = &config.lease;
    let mut last_renewed = Instant::now();
    let mut written = checkpoint;
    let mut written_at = Instant::now();
    // Renew every retry period, and write the checkpoint as soon as it is due.
    let mut tick = tokio::time::interval(cfg.retry_period.min(cfg.checkpoint_interval));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let failed = tokio::select! {
            _ = shutdown.changed() => break,
            error = running.sink_failed() => Some(error),
            _ = tick.tick() => None,
        };
        if let Some(error) = failed {
            running.abort();
            return Err(LeaderError::OutputFailed(error));
        }
        let flushed = *running.flushed.borrow();
        // The first checkpoint of a term goes out at once: until it exists a restart lists
        // everything again, and versions superseded in between are gone from the API.
        let due = flushed != written
            && (written.is_none() || written_at.elapsed() >= cfg.checkpoint_interval);
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
                shared.health.api_answered();
                if let Some(rv) = checkpoint {
                    written = Some(rv);
                    written_at = Instant::now();
                    metrics.checkpoint_written(rv.get());
                    tracing::debug!(checkpoint = %rv, "Checkpoint written");
                }
            }
            Err(LeaseError::Lost { holder, .. }) => {
                running.abort();
                tracing::error!(%holder, "Lost the Lease; stopped emitting");
                return Ok(Outcome::SteppedDown);
            }
            Err(error) => {
                metrics.api_error(error.metric_label());
                if last_renewed.elapsed() + cfg.retry_period >= cfg.renew_deadline {
                    running.abort();
                    tracing::error!(%error, "Cannot renew the Lease before the renew deadline; stopped emitting");
                    return Ok(Outcome::SteppedDown);
                }
                tracing::warn!(%error, cause = ?std::error::Error::source(&error), "Lease renewal failed, retrying");
            }
        }
    }
    // SIGTERM: finish the batch, flush, checkpoint, release.
    tracing::info!("Shutting down: flushing and releasing the Lease");
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
