//! `eventkeeper-sim`: runs the simulator as a process. Prints exactly one line
//! `listening on <url>` on stdout once ready; logs go to stderr; serves until killed.

use anyhow::Context as _;
use clap::Parser;
use eventkeeper_cli::{
    LogFormat, LogLevel, bad_config, init_logs, parse_args, parse_duration, run_async,
    shutdown_signal,
};
use eventkeeper_sim::{
    AuthMode, EksConfig, FaultRequest, GenerateSpec, Scenario, SimConfig, Simulator, StoreConfig,
    Throttle, Window,
};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Many small, short-lived allocations per request and event: mimalloc handles them far better
/// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A local Kubernetes API server for Events and Leases, with load generation, scenario replay,
/// a simulated clock and fault injection.
#[derive(Debug, Parser)]
#[command(name = "eventkeeper-sim", version)]
struct Cli {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, env = "EVENTKEEPER_SIM_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Write a kubeconfig for this server to FILE.
    #[arg(long, env = "EVENTKEEPER_SIM_KUBECONFIG_OUT")]
    kubeconfig_out: Option<PathBuf>,
    /// Replay a scenario: `seeds` (built in) or a JSON scenario file. Repeatable.
    #[arg(long, env = "EVENTKEEPER_SIM_SCENARIO", value_delimiter = ',')]
    scenario: Vec<String>,
    /// Serve HTTPS with a CA generated at start (written into the kubeconfig).
    #[arg(long, env = "EVENTKEEPER_SIM_TLS")]
    tls: bool,
    /// Bearer token mode: none, static (--token) or eks (k8s-aws-v1 tokens for --cluster-name).
    #[arg(long, env = "EVENTKEEPER_SIM_AUTH", default_value = "none", value_parser = ["none", "static", "eks"])]
    auth: String,
    /// The token required in static mode (also written into the kubeconfig).
    #[arg(long, env = "EVENTKEEPER_SIM_TOKEN")]
    token: Option<String>,
    /// Cluster name an EKS token must be signed for (x-k8s-aws-id).
    #[arg(
        long,
        env = "EVENTKEEPER_SIM_CLUSTER_NAME",
        default_value = "eventkeeper-sim"
    )]
    cluster_name: String,
    /// In eks mode, replay each token's presigned GetCallerIdentity against this STS endpoint
    /// (plain HTTP, e.g. moto) to learn the caller.
    #[arg(long, env = "EVENTKEEPER_SIM_STS_ENDPOINT")]
    sts_endpoint: Option<String>,
    /// In eks mode, verify token signatures with this AWS secret access key.
    #[arg(long, env = "EVENTKEEPER_SIM_EKS_SECRET_KEY")]
    eks_secret_key: Option<String>,
    /// Events expire this long after their last update (simulated time).
    #[arg(long, env = "EVENTKEEPER_SIM_EVENT_TTL", default_value = "1h", value_parser = parse_duration)]
    event_ttl: Duration,
    /// Continue tokens also expire this long after the first page (simulated time); without it
    /// they live until etcd compacts their revision, as on a real cluster.
    #[arg(long, env = "EVENTKEEPER_SIM_CONTINUE_TTL", value_parser = parse_duration)]
    continue_ttl: Option<Duration>,
    /// etcd compaction period (simulated time, kube-apiserver's --etcd-compaction-interval): a
    /// revision stays watchable and listable until the second compaction after it.
    #[arg(long, env = "EVENTKEEPER_SIM_COMPACTION_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    compaction_interval: Duration,
    /// Serve Events from a watch cache, as a cluster with --watch-cache-sizes=events#N does:
    /// BOOKMARKs every --bookmark-interval and a window of --watch-history changes.
    #[arg(long, env = "EVENTKEEPER_SIM_WATCH_CACHE")]
    watch_cache: bool,
    /// Simulated seconds per real second.
    #[arg(long, env = "EVENTKEEPER_SIM_CLOCK_SPEED", default_value_t = 1.0)]
    clock_speed: f64,
    /// With --watch-cache: how many changes the watch cache keeps; older resourceVersions get 410.
    #[arg(long, env = "EVENTKEEPER_SIM_WATCH_HISTORY")]
    watch_history: Option<usize>,
    /// Period of BOOKMARK events on cached watches that allow them (Leases; Events with
    /// --watch-cache).
    #[arg(long, env = "EVENTKEEPER_SIM_BOOKMARK_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    bookmark_interval: Duration,
    /// At most this many observations are kept for /_sim/observations.
    #[arg(
        long,
        env = "EVENTKEEPER_SIM_MAX_OBSERVATIONS",
        default_value_t = 2_000_000
    )]
    max_observations: usize,
    /// Start a load generation: the JSON body of POST /_sim/generate.
    #[arg(long, env = "EVENTKEEPER_SIM_GENERATE")]
    generate: Option<String>,
    /// Fault: every watch ends after this many events.
    #[arg(long, env = "EVENTKEEPER_SIM_CLOSE_WATCHES_AFTER")]
    close_watches_after: Option<u64>,
    /// Fault: the first watch gets 410 Expired.
    #[arg(long, env = "EVENTKEEPER_SIM_GONE_NEXT_WATCH")]
    gone_next_watch: bool,
    /// Fault: the first COUNT requests get 429 (COUNT or COUNT:RETRY_AFTER_SECONDS).
    #[arg(long, env = "EVENTKEEPER_SIM_THROTTLE", value_parser = parse_throttle)]
    throttle: Option<Throttle>,
    /// Fault: the first N requests get 500.
    #[arg(long, env = "EVENTKEEPER_SIM_SERVER_ERRORS")]
    server_errors: Option<u32>,
    /// Fault: added latency per request, in milliseconds.
    #[arg(long, env = "EVENTKEEPER_SIM_LATENCY_MS")]
    latency_ms: Option<u64>,
    /// Fault: start paused (requests wait, watches send nothing) until POST /_sim/faults.
    #[arg(long, env = "EVENTKEEPER_SIM_PAUSED")]
    paused: bool,
    /// Fault: refuse every Event create, update, patch and delete with 403 (RBAC without write
    /// verbs on events) until POST /_sim/faults.
    #[arg(long, env = "EVENTKEEPER_SIM_FORBID_EVENT_WRITES")]
    forbid_event_writes: bool,
    /// Log format on stderr: `text` for people (the default here: the simulator runs on a
    /// developer's terminal), `json` for machines, as the emitter and the catch-up offer.
    #[arg(
        long,
        env = "EVENTKEEPER_SIM_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    /// Log level (error, warn, info, debug, trace) or a tracing filter.
    #[arg(long, env = "EVENTKEEPER_SIM_LOG_LEVEL", default_value = "info")]
    log_level: LogLevel,
}

fn parse_throttle(s: &str) -> Result<Throttle, String> {
    let (count, secs) = s.split_once(':').unwrap_or((s, "1"));
    Ok(Throttle {
        count: count.parse().map_err(|_| format!("bad count in {s:?}"))?,
        retry_after_seconds: secs.parse().map_err(|_| format!("bad seconds in {s:?}"))?,
    })
}

fn config(cli: &Cli) -> anyhow::Result<SimConfig> {
    let auth = match cli.auth.as_str() {
        "static" => AuthMode::StaticToken(
            cli.token
                .clone()
                .filter(|t| !t.is_empty())
                .context("--auth static needs --token")?,
        ),
        "eks" => AuthMode::Eks(EksConfig {
            cluster_name: cli.cluster_name.clone(),
            sts_endpoint: cli.sts_endpoint.clone(),
            secret_key: cli.eks_secret_key.clone(),
        }),
        _ => AuthMode::None,
    };
    let scenarios = cli
        .scenario
        .iter()
        .map(|s| Scenario::load(s))
        .collect::<Result<Vec<_>, _>>()?;
    let generate = cli
        .generate
        .as_deref()
        .map(serde_json::from_str::<GenerateSpec>)
        .transpose()
        .context("--generate is not a generate request")?;
    anyhow::ensure!(
        cli.clock_speed.is_finite() && cli.clock_speed > 0.0,
        "--clock-speed must be a positive number"
    );
    anyhow::ensure!(
        cli.watch_history.is_none() || cli.watch_cache,
        "--watch-history sizes the watch cache: it needs --watch-cache"
    );
    let window = if cli.watch_cache {
        Window::WatchCache(cli.watch_history.unwrap_or(10_000).max(1))
    } else {
        Window::Etcd
    };
    Ok(SimConfig {
        listen: cli.listen,
        tls: cli.tls,
        auth,
        store: StoreConfig {
            window,
            compaction_interval: jiff::SignedDuration::try_from(
                cli.compaction_interval.max(Duration::from_millis(10)),
            )?,
            event_ttl: jiff::SignedDuration::try_from(cli.event_ttl)?,
            continue_ttl: cli
                .continue_ttl
                .map(jiff::SignedDuration::try_from)
                .transpose()?,
            max_observations: cli.max_observations,
            ..StoreConfig::default()
        },
        clock_speed: cli.clock_speed,
        bookmark_interval: cli.bookmark_interval.max(Duration::from_millis(10)),
        faults: FaultRequest {
            close_watches_after: cli.close_watches_after,
            gone_next_watch: cli.gone_next_watch.then_some(true),
            throttle: cli.throttle,
            server_errors: cli.server_errors,
            latency_ms: cli.latency_ms,
            paused: cli.paused.then_some(true),
            forbid_event_writes: cli.forbid_event_writes.then_some(true),
        },
        scenarios,
        generate,
    })
}

fn main() -> ExitCode {
    let cli: Cli = match parse_args() {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let cfg = match config(&cli) {
        Ok(cfg) => cfg,
        Err(error) => return bad_config(format!("{error:#}")),
    };
    init_logs(cli.log_format, &cli.log_level);
    run_async(async {
        match run(cfg, cli.kubeconfig_out).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn run(cfg: SimConfig, kubeconfig_out: Option<PathBuf>) -> anyhow::Result<()> {
    let sim = Simulator::start(cfg).await?;
    if let Some(path) = &kubeconfig_out {
        sim.write_kubeconfig(path)?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", sim.url())?;
        out.flush()?;
    }
    shutdown_signal().await;
    tracing::info!("Stopping");
    sim.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_parse() {
        assert_eq!(
            parse_throttle("3:7"),
            Ok(Throttle {
                count: 3,
                retry_after_seconds: 7
            })
        );
    }
}
