//! `eventkeeper-emitter`: watches Kubernetes Events and writes one JSON line per observation to
//! stdout; `convert` turns saved Events into the same records; `print-rbac` prints the API access
//! it needs.

mod api_access;
mod config;
mod convert;
mod health;
mod leader;
mod lease;
mod metrics;
mod pipeline;
mod stdout_sink;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use eventkeeper_core::source::WatchOptions;
use eventkeeper_core::{Context, Origin};

use crate::config::{Config, EXIT_BAD_CONFIG, LogFormat, RunArgs};

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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            return bad_config(
                error
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("invalid arguments"),
            );
        }
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
        Err(error) => return bad_config(&format!("error: {error}")),
    };
    if let Err(message) = init_logs(args.log_format, &args.log_level) {
        return bad_config(&message);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "Emitter stopped");
            ExitCode::FAILURE
        }
    }
}

fn bad_config(line: &str) -> ExitCode {
    eprintln!("{line}");
    ExitCode::from(EXIT_BAD_CONFIG)
}

fn init_logs(format: LogFormat, level: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|e| format!("error: --log-level {level:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let client = match kube_client(&config).await {
        Ok(client) => client,
        Err(error) => return Ok(bad_config(&format!("error: {error:#}"))),
    };
    let metrics = Arc::new(metrics::Metrics::default());
    let health = Arc::new(health::Health::new(config.stall_timeout));
    let server = match health::serve(config.listen, health.clone(), metrics.clone()).await {
        Ok(server) => server,
        Err(error) => {
            return Ok(bad_config(&format!(
                "error: {error}: {}",
                std::error::Error::source(&error)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )));
        }
    };
    let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
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
        watch: WatchOptions::default(),
    });
    tracing::info!(cluster = config.cluster_name, namespaces = ?config.namespaces, identity = config.lease.identity, "Starting");
    leader::run(&config, shared, shutdown).await?;
    server.abort();
    tracing::info!("Stopped");
    Ok(ExitCode::SUCCESS)
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
