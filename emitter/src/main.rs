//! `eventkeeper-emitter`: watches Kubernetes Events and writes one JSON line per observation to
//! stdout; `convert` turns saved Events into the same records; `print-rbac` prints the API access
//! it needs.

mod api_access;
mod config;
mod convert;
mod health;
mod heartbeat;
mod leader;
mod lease;
mod metrics;
mod pipeline;
mod stdout_sink;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use eventkeeper_cli::{bad_config, init_logs, parse_args, run_async, shutdown_signal};
use eventkeeper_core::source::WatchOptions;
use eventkeeper_core::{Context, Origin};

use crate::config::{Config, RunArgs};

/// Keeps every Kubernetes Event observation as one JSON line on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "eventkeeper-emitter",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `run` is the default command: its flags are accepted here too.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Watch Events and write one JSON line per observation to stdout (the default).
    Run(Box<RunArgs>),
    /// Convert saved Events (kubectl JSON, JSON lines, watch output) into record lines.
    Convert(convert::ConvertArgs),
    /// Print the RBAC rules the emitter needs, as JSON.
    PrintRbac,
}

fn main() -> ExitCode {
    let cli: Cli = match parse_args() {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let args = match cli.command {
        Some(Command::Convert(args)) => return convert::run(&args),
        Some(Command::PrintRbac) => {
            println!("{}", api_access::rbac_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::Run(args)) => *args,
        None => cli.run,
    };
    let config = match args.validate() {
        Ok(config) => config,
        Err(error) => return bad_config(error),
    };
    init_logs(config.log_format, &config.log_level);
    run_async(async {
        match run(config).await {
            Ok(code) => code,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "Emitter stopped");
                ExitCode::FAILURE
            }
        }
    })
}

async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let client = match kube_client(&config).await {
        Ok(client) => client,
        Err(error) => return Ok(bad_config(format!("{error:#}"))),
    };
    let metrics = Arc::new(metrics::Metrics::default());
    let health = Arc::new(health::Health::new(config.stall_timeout));
    let server = match health::serve(config.listen, health.clone(), metrics.clone()).await {
        Ok(server) => server,
        Err(error) => {
            return Ok(bad_config(format!(
                "{error}: {}",
                std::error::Error::source(&error)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )));
        }
    };
    let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("Received a termination signal");
        let _ = shutdown_tx.send(true);
    });
    let shared = Arc::new(pipeline::Shared {
        client,
        watch_ctx: Context {
            cluster: config.cluster_name.clone(),
            origin: Origin::Watch,
            max_line_bytes: config.max_line_bytes,
        },
        relist_ctx: Context {
            cluster: config.cluster_name.clone(),
            origin: Origin::Relist,
            max_line_bytes: config.max_line_bytes,
        },
        filter: config.filter.clone(),
        metrics,
        health,
        watch: watch_options(config.watch_timeout),
    });
    tracing::info!(cluster = config.cluster_name, namespaces = ?config.namespaces, identity = config.lease.identity, "Starting");
    match (config.watch_heartbeat, config.heartbeat_scope()) {
        (Some(interval), Some(_)) => {
            tracing::info!(
                ?interval,
                lease_namespace = config.lease.namespace,
                "Watch heartbeat on: a quiet watch gets a heartbeat Event in the Lease namespace"
            );
        }
        (Some(_), None) => {
            tracing::warn!(
                lease_namespace = config.lease.namespace,
                "Watch heartbeat off: the Lease namespace is not watched, so a watch quiet for longer than the compaction window lists again"
            );
        }
        (None, _) => tracing::info!("Watch heartbeat off (--watch-heartbeat=off)"),
    }
    leader::run(&config, shared, shutdown).await?;
    server.abort();
    tracing::info!("Stopped");
    Ok(ExitCode::SUCCESS)
}

/// The watch timeout asked of the API server, and our own idle limit 40 s beyond it (the
/// defaults: 290 s and 330 s).
fn watch_options(timeout: std::time::Duration) -> WatchOptions {
    let secs = u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX).max(1);
    WatchOptions {
        timeout_secs: secs,
        idle_timeout: std::time::Duration::from_secs(u64::from(secs) + 40),
    }
}

async fn kube_client(config: &Config) -> anyhow::Result<kube::Client> {
    let kube_config = match &config.kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("kubeconfig {} is not usable", path.display()))?
        }
        None => kube::Config::incluster()
            .context("no in-cluster service account (outside a cluster, pass --kubeconfig)")?,
    };
    kube::Client::try_from(kube_config).context("cannot build the Kubernetes client")
}
