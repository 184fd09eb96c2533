//! `eventkeeper-notify` (and `bootstrap`, the same program packaged for AWS Lambda): parse
//! configuration, read secrets and build clients once, then handle each invocation (Lambda) or
//! each `--payload` file (CLI), printing one EMF document per invocation on stdout.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use eventkeeper_cli::{bad_config, init_logs};
use eventkeeper_notify::config::Config;
use eventkeeper_notify::dead_letter::DeadLetterQueue;
use eventkeeper_notify::destination::{Destination, HttpClient};
use eventkeeper_notify::notifier::Notifier;
use eventkeeper_notify::secrets::Secrets;
use eventkeeper_notify::state::DynamoState;
use jiff::Timestamp;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A failure a later run may not have (sysexits `EX_TEMPFAIL`).
const EXIT_RETRYABLE: u8 = 75;

#[tokio::main]
async fn main() -> ExitCode {
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let parsed = if in_lambda {
        Config::try_parse_from(["eventkeeper-notify"])
    } else {
        Config::try_parse()
    };
    let config = match parsed {
        Ok(config) => config,
        Err(error) if !in_lambda && !error.use_stderr() => error.exit(),
        Err(error) => return bad_config(error),
    };
    let (specs, rules) = match config.validate() {
        Ok(parsed) => parsed,
        Err(reason) => return bad_config(reason),
    };
    init_logs(config.logs.log_format, &config.logs.log_level);

    let aws = aws_config::load_from_env().await;
    let region = aws
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    let secrets = Secrets::new(&aws);
    let mut destinations = HashMap::new();
    for spec in &specs {
        match Destination::ready(spec, &aws, &secrets).await {
            Ok(destination) => {
                destinations.insert(spec.name().to_owned(), destination);
            }
            Err(error) => {
                tracing::error!(%error, "Destination not ready");
                return ExitCode::from(EXIT_RETRYABLE);
            }
        }
    }
    let http = match HttpClient::new(Duration::from_secs(config.http_timeout_seconds)) {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%error, "No TLS root certificates");
            return ExitCode::FAILURE;
        }
    };
    let notifier = Notifier {
        store: DynamoState::new(
            aws_sdk_dynamodb::Client::new(&aws),
            &config.table,
            config.concurrency,
        ),
        rules,
        destinations,
        dead_letters: config
            .dlq_url
            .as_ref()
            .map(|url| DeadLetterQueue::new(aws_sdk_sqs::Client::new(&aws), url)),
        http,
        settings: config.settings(region),
    };
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "eventkeeper-notify".to_owned());

    if in_lambda {
        let (notifier, function) = (&notifier, function.as_str());
        let handler = service_fn(move |event: LambdaEvent<Value>| async move {
            invoke(notifier, function, &event.payload, Timestamp::now()).await
        });
        return match lambda_runtime::run(handler).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "Lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }
    let mut status = ExitCode::SUCCESS;
    for path in &config.payload {
        let event: Value = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        {
            Ok(event) => event,
            Err(reason) => return bad_config(format!("{}: {reason}", path.display())),
        };
        let now = config.now.unwrap_or_else(Timestamp::now);
        if invoke(&notifier, &function, &event, now).await.is_err() {
            status = ExitCode::from(EXIT_RETRYABLE);
        }
    }
    status
}

/// One invocation: handle, print the EMF document, fail the invocation (so it is retried) when
/// the batch must run again.
async fn invoke(
    notifier: &Notifier<DynamoState>,
    function: &str,
    event: &Value,
    now: Timestamp,
) -> Result<Value, lambda_runtime::Error> {
    let started = std::time::Instant::now();
    let (counts, result) = notifier.handle(event, now).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", counts.emf(function, Timestamp::now()));
    let _ = stdout.flush();
    tracing::info!(?counts, elapsed_ms, "Invocation done");
    match result {
        Ok(()) => Ok(serde_json::json!({"matched": counts.matched, "notified": counts.notified})),
        Err(error) => {
            tracing::error!(%error, "Batch will be retried");
            Err(error.into())
        }
    }
}
