//! `eventkeeper-emitter run` configuration: every flag has an `EVENTKEEPER_*` environment
//! variable, every default is here, and bad values are refused before any work starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use eventkeeper_core::record::line_budget::{DEFAULT_MAX_LINE_BYTES, parse_max_line_bytes};

use eventkeeper_core::filter::{Filter, Rule};

/// Exit status for bad configuration (sysexits `EX_USAGE`).
pub const EXIT_BAD_CONFIG: u8 = 64;

/// Why a configuration is refused (beyond what the flag parser checks).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The cluster name is empty.
    #[error("--cluster-name must not be empty")]
    EmptyClusterName,
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

/// Log line format on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Watch Kubernetes Events and write one JSON line per observation to stdout.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Cluster name written into every record.
    #[arg(long, env = "EVENTKEEPER_CLUSTER_NAME")]
    pub cluster_name: Option<String>,

    /// kubeconfig file to use instead of the in-cluster service account.
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

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
    #[arg(long, env = "EVENTKEEPER_LEASE_NAME", default_value = "eventkeeper")]
    pub lease_name: String,

    /// Namespace of the Lease [default: $POD_NAMESPACE, else `default`].
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

    /// /readyz fails when the leader's watch saw no event and no bookmark for this long.
    #[arg(long, env = "EVENTKEEPER_STALL_TIMEOUT", default_value = "3m", value_parser = parse_duration)]
    pub stall_timeout: Duration,

    /// Address of the HTTP server for /livez, /readyz and /metrics.
    #[arg(long, env = "EVENTKEEPER_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Log format on stderr.
    #[arg(
        long,
        env = "EVENTKEEPER_LOG_FORMAT",
        value_enum,
        default_value = "json"
    )]
    pub log_format: LogFormat,

    /// Log level (error, warn, info, debug, trace) or a tracing filter directive.
    #[arg(long, env = "EVENTKEEPER_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
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
    /// HTTP listen address.
    pub listen: SocketAddr,
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
            .filter(|c| !c.trim().is_empty())
            .ok_or(ConfigError::EmptyClusterName)?;
        for (name, value) in [
            ("flush-interval", self.flush_interval),
            ("checkpoint-interval", self.checkpoint_interval),
            ("stall-timeout", self.stall_timeout),
            ("retry-period", self.retry_period),
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
            kubeconfig: self
                .kubeconfig
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            namespaces,
            filter: Filter::new(self.include.clone(), self.exclude.clone()),
            max_line_bytes: self.max_line_bytes,
            flush_interval: self.flush_interval,
            lease: LeaseConfig {
                election: self.leader_election,
                name: self.lease_name.clone(),
                namespace: self
                    .lease_namespace
                    .clone()
                    .or_else(|| env("POD_NAMESPACE"))
                    .unwrap_or_else(|| "default".to_owned()),
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
            listen: self.listen,
        })
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

/// Parses `100ms`, `5s`, `3m`, `1h` (a whole or decimal number and one unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .ok_or_else(|| format!("{text:?} has no unit (use ms, s, m or h)"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 100ms, 5s, 3m or 1h"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => {
            return Err(format!(
                "{text:?} has an unknown unit {unit:?} (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_four_units() {
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        for bad in ["5", "s", "5d", "", "-1s", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
