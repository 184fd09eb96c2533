//! The binary's wiring: the clients built once from the validated [`Config`], then one run
//! (CLI) or one run per invocation (Lambda), each reported as EMF metrics and a result.

use std::process::ExitCode;

use jiff::Timestamp;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::config::{ArchiveTarget, BackfillSettings, ClusterAccess, Config};
use crate::failure::FailureLabel;
use crate::{
    ArchiveStore, Backfill, BackfillConfig, CloudWatchSink, ClusterConnector, ClusterTarget,
    DirStore, Limits, Runner, S3Store, scheduled_time,
};

/// A failure a later run may not have (sysexits `EX_TEMPFAIL`).
const EXIT_RETRYABLE: u8 = 75;

/// Builds the clients once, then runs once (CLI) or once per invocation (Lambda).
pub async fn start(config: Config, in_lambda: bool) -> ExitCode {
    let aws = if config.needs_aws() {
        Some(aws_config::load_from_env().await)
    } else {
        None
    };
    let target = match &config.cluster {
        ClusterAccess::Kubeconfig(path) => ClusterTarget::Kubeconfig(path.clone()),
        ClusterAccess::Eks {
            endpoint_override,
            ca_override,
        } => ClusterTarget::Eks {
            name: config.cluster_name.clone(),
            endpoint_override: endpoint_override.clone(),
            ca_override: ca_override.clone(),
        },
    };
    let connector = ClusterConnector::new(target, aws.clone());
    let backfill = match (&config.backfill, &aws) {
        (Some(settings), Some(aws)) => Some(backfill(settings, aws, &config)),
        _ => None,
    };
    match (&config.archive, aws) {
        (ArchiveTarget::Bucket(bucket), aws) => {
            // Loaded above: a bucket needs AWS.
            let aws = match aws {
                Some(aws) => aws,
                None => aws_config::load_from_env().await,
            };
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&aws)
                    .force_path_style(true)
                    .build(),
            );
            let store = S3Store::new(s3, bucket, &config.prefix, &config.cluster_name);
            serve(
                runner(store, connector, backfill, &config),
                &config,
                in_lambda,
            )
            .await
        }
        (ArchiveTarget::Dir(dir), _) => {
            let store = DirStore::new(dir.clone(), &config.prefix, &config.cluster_name);
            serve(
                runner(store, connector, backfill, &config),
                &config,
                in_lambda,
            )
            .await
        }
    }
}

fn backfill(settings: &BackfillSettings, aws: &aws_config::SdkConfig, config: &Config) -> Backfill {
    let sink = CloudWatchSink::new(
        aws_sdk_cloudwatchlogs::Client::new(aws),
        &settings.log_group,
        &settings.log_stream,
    );
    Backfill::new(
        sink,
        BackfillConfig {
            cluster: config.cluster_name.clone(),
            lease_namespace: settings.lease_namespace.clone(),
            lease_name: settings.lease_name.clone(),
            hold: settings.lease_duration,
            envelope: settings.envelope,
            page_size: config.page_size,
            limits: Limits::default(),
        },
    )
}

fn runner<S>(
    store: S,
    connector: ClusterConnector,
    backfill: Option<Backfill>,
    config: &Config,
) -> Runner<S> {
    Runner {
        store,
        connector,
        cluster: config.cluster_name.clone(),
        prefix: config.prefix.clone(),
        ttl: config.ttl,
        page_size: config.page_size,
        backfill,
        spool_dir: config.spool_dir.clone(),
    }
}

async fn serve<S: ArchiveStore + Sync>(
    runner: Runner<S>,
    config: &Config,
    in_lambda: bool,
) -> ExitCode {
    if in_lambda {
        let runner = &runner;
        let handler = service_fn(move |event: LambdaEvent<Value>| async move {
            invoke(runner, config, &event.payload).await
        });
        return match lambda_runtime::run(handler).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = %error, "Lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }
    let payload = match &config.scheduled_time {
        Some(time) => json!({ "scheduledTime": time }),
        None => json!({}),
    };
    match invoke(&runner, config, &payload).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) if error.retryable => ExitCode::from(EXIT_RETRYABLE),
        Err(_) => ExitCode::FAILURE,
    }
}

/// A failed invocation, as Lambda reports it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message} (retryable: {retryable})", label.as_str())]
struct InvocationError {
    label: FailureLabel,
    message: String,
    retryable: bool,
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(error: InvocationError) -> Self {
        // errorType says whether a retry can help; Lambda's retry policy and the DLQ see it.
        let kind = if error.retryable {
            "Retryable"
        } else {
            "NotRetryable"
        };
        lambda_runtime::Diagnostic {
            error_type: format!("{kind}.{}", error.label.as_str()),
            error_message: error.message,
        }
    }
}

/// One scheduled run: EMF metrics on stdout, a summary as the Lambda result.
async fn invoke<S: ArchiveStore>(
    runner: &Runner<S>,
    config: &Config,
    payload: &Value,
) -> Result<Value, InvocationError> {
    let scheduled =
        scheduled_time(payload, Timestamp::now(), config.schedule_interval).map_err(|e| {
            InvocationError {
                label: FailureLabel::BadPayload,
                message: e.to_string(),
                retryable: false,
            }
        })?;
    match runner.run(scheduled).await {
        Ok(outcome) => {
            println!(
                "{}",
                outcome
                    .metrics
                    .to_emf(&config.cluster_name, Timestamp::now())
            );
            let backfill = outcome.backfill.as_ref().map(|report| {
                json!({
                    "decision": report.decision.as_str(),
                    "eventsBackfilled": report.events_backfilled,
                    "batches": report.batches,
                    "rejectedLogEvents": report.rejected,
                    "checkpoint": report.checkpoint,
                })
            });
            tracing::info!(
                scheduled = %scheduled,
                listed = outcome.metrics.events_listed,
                archived = outcome.metrics.events_archived,
                backfill = outcome.backfill.as_ref().map(|r| r.decision.as_str()),
                backfilled = outcome.metrics.events_backfilled,
                "Catch-up run finished"
            );
            Ok(json!({
                "scheduledTime": scheduled.to_string(),
                "eventsListed": outcome.metrics.events_listed,
                "eventsArchived": outcome.metrics.events_archived,
                "objects": outcome.written,
                "possibleGapSeconds": outcome.metrics.possible_gap_seconds,
                "backfill": backfill,
            }))
        }
        Err(error) => {
            let metrics = crate::metrics::RunMetrics {
                errors: 1,
                ..Default::default()
            };
            println!("{}", metrics.to_emf(&config.cluster_name, Timestamp::now()));
            let message = error_chain(&error);
            tracing::error!(error = %message, label = error.metric_label().as_str(), retryable = error.is_retryable(), "Catch-up run failed");
            Err(InvocationError {
                label: error.metric_label(),
                message,
                retryable: error.is_retryable(),
            })
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
