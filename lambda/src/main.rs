//! `eventkeeper-catchup` (and `bootstrap`, the same program packaged for AWS Lambda):
//! parse configuration, build clients once, then run once (CLI) or once per invocation (Lambda).

use std::process::ExitCode;

use clap::Parser;
use eventkeeper_catchup::config::Config;
use eventkeeper_catchup::{
    ArchiveStore, Backfill, BackfillConfig, CloudWatchSink, ClusterConnector, ClusterTarget,
    DirStore, Limits, Runner, S3Store, scheduled_time,
};
use jiff::Timestamp;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Configuration errors (sysexits `EX_USAGE`).
const EXIT_BAD_CONFIG: u8 = 64;
/// A failure a later run may not have (sysexits `EX_TEMPFAIL`).
const EXIT_RETRYABLE: u8 = 75;

#[tokio::main]
async fn main() -> ExitCode {
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let config = match if in_lambda {
        Config::try_parse_from(["eventkeeper-catchup"])
    } else {
        Config::try_parse()
    } {
        Ok(config) => config,
        Err(error) if !in_lambda && !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!(
                "eventkeeper-catchup: {}",
                error
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("bad configuration")
            );
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    if let Err(reason) = config.validate() {
        eprintln!("eventkeeper-catchup: {reason}");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    init_logs(&config.log_format);

    let needs_aws =
        config.bucket.is_some() || config.kubeconfig.is_none() || config.backfill_enabled();
    let aws = if needs_aws {
        Some(aws_config::load_from_env().await)
    } else {
        None
    };
    let target = match &config.kubeconfig {
        Some(path) => ClusterTarget::Kubeconfig(path.clone()),
        None => ClusterTarget::Eks {
            name: config.cluster_name.clone(),
            endpoint_override: config.eks_endpoint_override.clone(),
            ca_override: config.eks_ca_override_file.clone(),
        },
    };
    let connector = ClusterConnector::new(target, aws.clone());
    let backfill = match (config.backfill_group(), &aws) {
        (Some(group), Some(aws)) => Some(backfill(group, aws, &config)),
        _ => None,
    };
    match (&config.bucket, aws) {
        (Some(bucket), Some(aws)) => {
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
        _ => {
            let store = DirStore::new(
                config.archive_dir_or_default(),
                &config.prefix,
                &config.cluster_name,
            );
            serve(
                runner(store, connector, backfill, &config),
                &config,
                in_lambda,
            )
            .await
        }
    }
}

fn backfill(group: &str, aws: &aws_config::SdkConfig, config: &Config) -> Backfill {
    let sink = CloudWatchSink::new(
        aws_sdk_cloudwatchlogs::Client::new(aws),
        group,
        &config.backfill_log_stream,
    );
    Backfill::new(
        sink,
        BackfillConfig {
            cluster: config.cluster_name.clone(),
            lease_namespace: config.lease_namespace.clone(),
            lease_name: config.lease_name.clone(),
            hold: config.backfill_lease_duration.unsigned_abs(),
            envelope: config.backfill_envelope,
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
#[error("{label}: {message} (retryable: {retryable})")]
struct InvocationError {
    label: &'static str,
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
            error_type: format!("{kind}.{}", error.label),
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
                label: "bad_payload",
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
            let metrics = eventkeeper_catchup::metrics::RunMetrics {
                errors: 1,
                ..Default::default()
            };
            println!("{}", metrics.to_emf(&config.cluster_name, Timestamp::now()));
            let message = error_chain(&error);
            tracing::error!(error = %message, label = error.metric_label(), retryable = error.is_retryable(), "Catch-up run failed");
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

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EVENTKEEPER_LOG_LEVEL")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
