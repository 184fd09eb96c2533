//! `eventkeeper-emitter run` configuration: every flag has an `EVENTKEEPER_*` environment
//! variable, every default is here, and bad values are refused before any work starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use eventkeeper_cli::{
    DEFAULT_LEASE_NAME, KubeconfigArgs, LogArgs, LogFormat, LogLevel, lease_namespace_or_default,
    parse_cluster_name, parse_duration,
};
use eventkeeper_core::filter::{Filter, Rule};
use eventkeeper_core::record::line_budget::{DEFAULT_MAX_LINE_BYTES, parse_max_line_bytes};

/// Why a configuration is refused (beyond what the flag parser checks).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// No cluster name (a blank one is refused by the flag parser).
    #[error("--cluster-name is required")]
    MissingClusterName,
    /// Lease timings that would let two leaders overlap.
    #[error(
        "lease timings must satisfy retry-period < renew-deadline < lease-duration (got {retry:?} < {renew:?} < {lease:?})"
    )]
    LeaseTimings {
        /// --retry-period
        retry: Duration,
        /// --renew-deadline
        renew: Duration,
        /// --lease-duration
        lease: Duration,
    },
    /// A duration that must be positive is zero.
    #[error("--{0} must be greater than zero")]
    ZeroDuration(&'static str),
    /// A namespace name is empty (e.g. `--namespaces a,,b`).
    #[error("--namespaces has an empty name")]
    EmptyNamespace,
}

/// Watch Kubernetes Events and write one JSON line per observation to stdout.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Cluster name written into every record.
    #[arg(long, env = "EVENTKEEPER_CLUSTER_NAME", value_parser = parse_cluster_name)]
    pub cluster_name: Option<String>,

    /// kubeconfig (`KUBECONFIG`, or its older alias).
    #[command(flatten)]
    pub kubeconfig: KubeconfigArgs,

    /// Namespaces to watch, comma-separated; empty means all namespaces.
    #[arg(
        long,
        env = "EVENTKEEPER_NAMESPACES",
        value_delimiter = ',',
        value_name = "A,B"
    )]
    pub namespaces: Vec<String>,

    /// Emit only events matching one of these rules (repeatable; in the environment separate
    /// rules with `;`). A rule is space-separated `field=glob[,glob...]` terms that must all
    /// match; fields: namespace, kind, reason, type, component. Example: 'kind=Pod,Node'.
    #[arg(long = "include", env = "EVENTKEEPER_INCLUDE", value_delimiter = ';', value_name = "RULE",
          value_parser = Rule::parse)]
    pub include: Vec<Rule>,

    /// Drop events matching any of these rules (same syntax as --include).
    /// Example: 'namespace=kube-system type=Normal'.
    #[arg(long = "exclude", env = "EVENTKEEPER_EXCLUDE", value_delimiter = ';', value_name = "RULE",
          value_parser = Rule::parse)]
    pub exclude: Vec<Rule>,

    /// Largest output line in bytes, newline included (at least 1024); longer records are cut
    /// and marked `truncated`.
    #[arg(long, env = "EVENTKEEPER_MAX_LINE_BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES,
          value_parser = parse_max_line_bytes)]
    pub max_line_bytes: usize,

    /// Longest time a written line may wait in the buffer before stdout is flushed.
    #[arg(long, env = "EVENTKEEPER_FLUSH_INTERVAL", default_value = "100ms", value_parser = parse_duration)]
    pub flush_interval: Duration,

    /// Elect one leader among replicas with a Lease; only the leader emits. With `false` this
    /// replica always emits (the Lease still holds the checkpoint).
    #[arg(long, env = "EVENTKEEPER_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set,
          value_name = "BOOL")]
    pub leader_election: bool,

    /// Name of the Lease used for leader election and the checkpoint.
    #[arg(long, env = "EVENTKEEPER_LEASE_NAME", default_value = DEFAULT_LEASE_NAME)]
    pub lease_name: String,

    /// Namespace of the Lease [default: $POD_NAMESPACE, else `eventkeeper`; the catch-up's rule too].
    #[arg(long, env = "EVENTKEEPER_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// This replica's identity in the Lease [default: $POD_NAME, else the hostname].
    #[arg(long, env = "EVENTKEEPER_IDENTITY")]
    pub identity: Option<String>,

    /// How long a Lease holds after its last renewal; standbys take over after that.
    #[arg(long, env = "EVENTKEEPER_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,

    /// A leader that could not renew for this long stops emitting (before the Lease expires).
    #[arg(long, env = "EVENTKEEPER_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub renew_deadline: Duration,

    /// How often the leader renews and standbys try to acquire the Lease.
    #[arg(long, env = "EVENTKEEPER_RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    pub retry_period: Duration,

    /// How often at most the checkpoint (last flushed resourceVersion) is written to the Lease.
    #[arg(long, env = "EVENTKEEPER_CHECKPOINT_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub checkpoint_interval: Duration,

    /// /readyz fails when the API has not answered the leader, or a watch could not be re-established, for this long.
    #[arg(long, env = "EVENTKEEPER_STALL_TIMEOUT", default_value = "3m", value_parser = parse_duration)]
    pub stall_timeout: Duration,

    /// How long the API server is asked to keep each watch open (`timeoutSeconds`, whole
    /// seconds); the watch is then opened again from where it was. Hidden: tests shorten it to
    /// re-watch often.
    #[arg(long, default_value = "290s", value_parser = parse_duration, hide = true)]
    pub watch_timeout: Duration,

    /// When the leader's Event watch has delivered nothing for this long, write one heartbeat
    /// Event in the Lease namespace so the watch delivers it and its resume position stays
    /// within etcd's compaction window (keep it below 5m); `off` or `0` disables it. Needs the
    /// Lease namespace in the watched namespaces.
    #[arg(long, env = "EVENTKEEPER_WATCH_HEARTBEAT", default_value = "4m", value_name = "DURATION|off",
          value_parser = parse_heartbeat)]
    pub watch_heartbeat: Heartbeat,

    /// Address of the HTTP server for /livez, /readyz and /metrics.
    #[arg(long, env = "EVENTKEEPER_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Log format and level.
    #[command(flatten)]
    pub logs: LogArgs,
}

/// The validated configuration the emitter runs with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Cluster name written into every record.
    pub cluster_name: String,
    /// kubeconfig file, or in-cluster when `None`.
    pub kubeconfig: Option<PathBuf>,
    /// Namespaces to watch (empty: all).
    pub namespaces: Vec<String>,
    /// Include/exclude rules.
    pub filter: Filter,
    /// Line budget.
    pub max_line_bytes: usize,
    /// Flush deadline.
    pub flush_interval: Duration,
    /// Lease settings.
    pub lease: LeaseConfig,
    /// Readiness stall timeout.
    pub stall_timeout: Duration,
    /// `timeoutSeconds` of each watch.
    pub watch_timeout: Duration,
    /// Quiet time after which the leader writes a heartbeat Event (`None`: off).
    pub watch_heartbeat: Option<Duration>,
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// Log format on stderr.
    pub log_format: LogFormat,
    /// Log level or filter.
    pub log_level: LogLevel,
}

/// Where the Lease is and how it is held.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Leader election on (else this replica always leads).
    pub election: bool,
    /// Lease name.
    pub name: String,
    /// Lease namespace.
    pub namespace: String,
    /// Holder identity.
    pub identity: String,
    /// Lease duration.
    pub lease_duration: Duration,
    /// Renew deadline.
    pub renew_deadline: Duration,
    /// Retry period.
    pub retry_period: Duration,
    /// Checkpoint interval.
    pub checkpoint_interval: Duration,
}

impl RunArgs {
    /// Checks what the flag parser cannot and fills in the environment-derived defaults.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let cluster_name = self
            .cluster_name
            .clone()
            .ok_or(ConfigError::MissingClusterName)?;
        for (name, value) in [
            ("flush-interval", self.flush_interval),
            ("checkpoint-interval", self.checkpoint_interval),
            ("stall-timeout", self.stall_timeout),
            ("retry-period", self.retry_period),
            ("watch-timeout", self.watch_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        if !(self.retry_period < self.renew_deadline && self.renew_deadline < self.lease_duration) {
            return Err(ConfigError::LeaseTimings {
                retry: self.retry_period,
                renew: self.renew_deadline,
                lease: self.lease_duration,
            });
        }
        let mut namespaces: Vec<String> = self
            .namespaces
            .iter()
            .map(|n| n.trim().to_owned())
            .collect();
        // An empty EVENTKEEPER_NAMESPACES means all namespaces.
        if namespaces.len() == 1 && namespaces[0].is_empty() {
            namespaces.clear();
        }
        if namespaces.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyNamespace);
        }
        namespaces.sort();
        namespaces.dedup();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Config {
            cluster_name,
            kubeconfig: self.kubeconfig.path(),
            namespaces,
            filter: Filter::new(self.include.clone(), self.exclude.clone()),
            max_line_bytes: self.max_line_bytes,
            flush_interval: self.flush_interval,
            lease: LeaseConfig {
                election: self.leader_election,
                name: self.lease_name.clone(),
                namespace: lease_namespace_or_default(self.lease_namespace.as_deref()),
                identity: self
                    .identity
                    .clone()
                    .or_else(|| env("POD_NAME"))
                    .unwrap_or_else(hostname),
                lease_duration: self.lease_duration,
                renew_deadline: self.renew_deadline,
                retry_period: self.retry_period,
                checkpoint_interval: self.checkpoint_interval,
            },
            stall_timeout: self.stall_timeout,
            watch_timeout: self.watch_timeout,
            watch_heartbeat: self.watch_heartbeat.0,
            listen: self.listen,
            log_format: self.logs.log_format,
            log_level: self.logs.log_level.clone(),
        })
    }
}

/// `--watch-heartbeat`: a duration, or off (`off`, `0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat(pub Option<Duration>);

fn parse_heartbeat(text: &str) -> Result<Heartbeat, String> {
    if text.trim().eq_ignore_ascii_case("off") || text.trim() == "0" {
        return Ok(Heartbeat(None));
    }
    let interval = parse_duration(text).map_err(|e| e.to_string())?;
    Ok(Heartbeat(Some(interval).filter(|d| !d.is_zero())))
}

impl Config {
    /// Whether the heartbeat can work: the Lease namespace must be watched, since only an item
    /// the watch itself delivers may move its position. `Some(index)` of the scope that
    /// watches it.
    pub fn heartbeat_scope(&self) -> Option<usize> {
        if self.namespaces.is_empty() {
            return Some(0);
        }
        self.namespaces
            .iter()
            .position(|n| *n == self.lease.namespace)
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "eventkeeper-emitter".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn validate(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["eventkeeper-emitter", "--cluster-name", "c"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        cli.run.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn the_lease_defaults_are_the_shared_ones_and_flags_win() {
        let config = validate(&["--lease-namespace", "ops"]).expect("valid");
        assert_eq!(config.lease.name, DEFAULT_LEASE_NAME);
        assert_eq!(config.lease.namespace, "ops");
        let config = validate(&["--lease-name", "x", "--lease-namespace", "ops"]).expect("valid");
        assert_eq!(config.lease.name, "x");
    }

    #[test]
    fn the_kubeconfig_alias_is_used_when_kubeconfig_is_not() {
        // KUBECONFIG from the test's own environment wins over the alias, as it should.
        let standard = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty());
        let config = validate(&["--eventkeeper-kubeconfig", "/k"]).expect("valid");
        assert_eq!(
            config.kubeconfig,
            Some(standard.map_or_else(|| PathBuf::from("/k"), PathBuf::from))
        );
        let config =
            validate(&["--kubeconfig", "/a", "--eventkeeper-kubeconfig", "/k"]).expect("valid");
        assert_eq!(config.kubeconfig, Some(PathBuf::from("/a")));
    }

    #[test]
    fn the_heartbeat_is_on_by_default_and_off_or_zero_disables_it() {
        let config = validate(&[]).expect("valid");
        assert_eq!(config.watch_heartbeat, Some(Duration::from_secs(240)));
        for off in ["off", "0", "0s"] {
            let config = validate(&["--watch-heartbeat", off]).expect("valid");
            assert_eq!(config.watch_heartbeat, None, "{off}");
        }
        let error = validate(&["--watch-heartbeat", "soon"]).expect_err("invalid");
        assert!(error.contains("soon"), "{error}");
    }

    #[test]
    fn the_heartbeat_needs_the_lease_namespace_in_scope() {
        let all = validate(&["--lease-namespace", "ops"]).expect("valid");
        assert_eq!(all.heartbeat_scope(), Some(0));
        let listed =
            validate(&["--lease-namespace", "ops", "--namespaces", "web,ops"]).expect("valid");
        assert_eq!(listed.heartbeat_scope(), Some(0), "sorted: ops before web");
        let other = validate(&["--lease-namespace", "ops", "--namespaces", "web"]).expect("valid");
        assert_eq!(other.heartbeat_scope(), None);
    }

    #[test]
    fn timings_that_let_two_leaders_overlap_are_refused() {
        let error = validate(&["--lease-duration", "1s"]).expect_err("invalid");
        assert!(error.contains("retry-period < renew-deadline"), "{error}");
        let error = validate(&["--flush-interval", "0s"]).expect_err("invalid");
        assert!(error.contains("--flush-interval must be greater than zero"));
        let error = validate(&["--flush-interval", "5"]).expect_err("invalid");
        assert!(error.contains("not a duration"), "{error}");
    }
}
