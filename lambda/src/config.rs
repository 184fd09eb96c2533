//! Configuration of the catch-up, from flags or `EVENTKEEPER_*` environment variables (the Lambda
//! is configured through its environment). Parsed and checked once, before any work.

use std::path::PathBuf;

use jiff::SignedDuration;

use crate::backfill::Envelope;

/// List Kubernetes Events and archive every new observation (S3 or a local directory).
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "eventkeeper-catchup", version, about)]
pub struct Config {
    /// Cluster name written into every record; with EKS, also the cluster to describe.
    #[arg(long, env = "EVENTKEEPER_CLUSTER_NAME")]
    pub cluster_name: String,

    /// Read the cluster through this kubeconfig instead of the EKS API (local runs, non-EKS).
    #[arg(long, env = "EVENTKEEPER_KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Test/non-standard setups only: API endpoint to use instead of DescribeCluster's.
    #[arg(long, env = "EVENTKEEPER_EKS_ENDPOINT_OVERRIDE", value_name = "URL")]
    pub eks_endpoint_override: Option<String>,

    /// Test/non-standard setups only: PEM CA to trust instead of DescribeCluster's.
    #[arg(long, env = "EVENTKEEPER_EKS_CA_OVERRIDE_FILE", value_name = "FILE")]
    pub eks_ca_override_file: Option<PathBuf>,

    /// Archive to this S3 bucket.
    #[arg(long, env = "EVENTKEEPER_BUCKET", conflicts_with = "archive_dir")]
    pub bucket: Option<String>,

    /// Archive to this local directory (the default, `./archive`, when no bucket is given).
    #[arg(long, env = "EVENTKEEPER_ARCHIVE_DIR", value_name = "DIR")]
    pub archive_dir: Option<PathBuf>,

    /// Key prefix of the archive (the Athena table's location).
    #[arg(long, env = "EVENTKEEPER_PREFIX", default_value = "events")]
    pub prefix: String,

    /// How long the API server keeps an Event after its last update (kube-apiserver --event-ttl).
    #[arg(long, env = "EVENTKEEPER_TTL", default_value = "60m", value_parser = parse_duration)]
    pub ttl: SignedDuration,

    /// The schedule's interval; must be shorter than the TTL.
    #[arg(long, env = "EVENTKEEPER_SCHEDULE_INTERVAL", default_value = "30m", value_parser = parse_duration)]
    pub schedule_interval: SignedDuration,

    /// Events per list page.
    #[arg(long, env = "EVENTKEEPER_PAGE_SIZE", default_value_t = eventkeeper_core::source::DEFAULT_PAGE_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,

    /// CLI only: the scheduled time this run stands for (default: now, rounded to the interval).
    #[arg(long, value_name = "RFC3339")]
    pub scheduled_time: Option<String>,

    /// Backfill this CloudWatch Logs group when the emitter was down (off when unset or empty).
    /// Use the group the emitter's lines go to, so the same queries find both.
    #[arg(long, env = "EVENTKEEPER_BACKFILL_LOG_GROUP", value_name = "GROUP")]
    pub backfill_log_group: Option<String>,

    /// Log stream of the backfill in that group (created if missing).
    #[arg(
        long,
        env = "EVENTKEEPER_BACKFILL_LOG_STREAM",
        default_value = "eventkeeper-catchup"
    )]
    pub backfill_log_stream: String,

    /// How the record is nested in a backfilled message, as the user's shipper nests the
    /// emitter's lines: `log_processed` (Container Insights), `data` (aws-for-fluent-bit), or
    /// empty for the bare record (Vector).
    #[arg(long, env = "EVENTKEEPER_BACKFILL_ENVELOPE", default_value = "", value_name = "KEY",
          value_parser = parse_envelope)]
    pub backfill_envelope: Envelope,

    /// How long the catch-up's hold on the Lease lasts between two renewals while it backfills
    /// (a returning emitter waits this long after a catch-up that died).
    #[arg(long, env = "EVENTKEEPER_BACKFILL_LEASE_DURATION", default_value = "60s", value_parser = parse_duration)]
    pub backfill_lease_duration: SignedDuration,

    /// Namespace of the emitter's Lease (the chart's release namespace).
    #[arg(
        long,
        env = "EVENTKEEPER_LEASE_NAMESPACE",
        default_value = "eventkeeper"
    )]
    pub lease_namespace: String,

    /// Name of the emitter's Lease (the chart's `leaderElection.leaseName`, by default the
    /// release's full name).
    #[arg(long, env = "EVENTKEEPER_LEASE_NAME", default_value = "eventkeeper")]
    pub lease_name: String,

    /// Log format on stderr.
    #[arg(long, env = "EVENTKEEPER_LOG_FORMAT", default_value = "json", value_parser = ["json", "text"])]
    pub log_format: String,
}

impl Config {
    /// Checks what clap cannot; the message is one line for stderr.
    pub fn validate(&self) -> Result<(), String> {
        if self.cluster_name.trim().is_empty() {
            return Err("--cluster-name must not be empty".into());
        }
        if self.schedule_interval <= SignedDuration::ZERO || self.ttl <= SignedDuration::ZERO {
            return Err("--ttl and --schedule-interval must be positive".into());
        }
        if self.schedule_interval >= self.ttl {
            return Err(format!(
                "--schedule-interval ({}) must be shorter than --ttl ({}), or events can expire between runs",
                friendly(self.schedule_interval),
                friendly(self.ttl)
            ));
        }
        if self.kubeconfig.is_some()
            && (self.eks_endpoint_override.is_some() || self.eks_ca_override_file.is_some())
        {
            return Err("--kubeconfig cannot be combined with the --eks-* overrides".into());
        }
        if self.backfill_enabled() {
            let stream = &self.backfill_log_stream;
            if stream.is_empty() || stream.contains([':', '*']) {
                return Err(format!(
                    "--backfill-log-stream {stream:?} is not a valid log stream name (no ':' or '*')"
                ));
            }
            if self.backfill_lease_duration < SignedDuration::from_secs(5) {
                return Err("--backfill-lease-duration must be at least 5s".into());
            }
            if self.lease_namespace.trim().is_empty() || self.lease_name.trim().is_empty() {
                return Err("--lease-namespace and --lease-name must not be empty".into());
            }
        }
        Ok(())
    }

    /// The backfill's log group, when the backfill is on.
    pub fn backfill_group(&self) -> Option<&str> {
        self.backfill_log_group
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty())
    }

    /// Whether the CloudWatch backfill is on.
    pub fn backfill_enabled(&self) -> bool {
        self.backfill_group().is_some()
    }

    /// Where archives go when no bucket is configured.
    pub fn archive_dir_or_default(&self) -> PathBuf {
        self.archive_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("archive"))
    }
}

/// `90s`, `30m`, `1h`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    text.trim()
        .parse::<SignedDuration>()
        .map_err(|_| format!("{text:?} is not a duration like 30m or 1h"))
}

fn parse_envelope(text: &str) -> Result<Envelope, String> {
    text.parse()
        .map_err(|e: crate::backfill::UnknownEnvelope| e.to_string())
}

fn friendly(duration: SignedDuration) -> String {
    format!("{duration:#}")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["eventkeeper-catchup"];
        all.extend_from_slice(args);
        let config = Config::try_parse_from(all).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn defaults_are_a_half_hour_schedule_within_the_hour_ttl() {
        let config = parse(&["--cluster-name", "prod"]).expect("valid");
        assert_eq!(config.ttl, SignedDuration::from_hours(1));
        assert_eq!(config.schedule_interval, SignedDuration::from_mins(30));
        assert_eq!(config.archive_dir_or_default(), PathBuf::from("archive"));
        assert!(!config.backfill_enabled());
        assert_eq!(config.lease_namespace, "eventkeeper");
        assert_eq!(config.lease_name, "eventkeeper");
        assert_eq!(config.backfill_log_stream, "eventkeeper-catchup");
        assert_eq!(config.backfill_envelope, Envelope::Bare);
    }

    #[test]
    fn backfill_settings_are_checked() {
        let config = parse(&[
            "--cluster-name",
            "p",
            "--backfill-log-group",
            "/aws/containerinsights/p/application",
            "--backfill-envelope",
            "log_processed",
        ])
        .expect("valid");
        assert!(config.backfill_enabled());
        assert_eq!(config.backfill_envelope, Envelope::LogProcessed);
        let bad = |extra: &[&str]| {
            let mut args = vec!["--cluster-name", "p", "--backfill-log-group", "g"];
            args.extend_from_slice(extra);
            parse(&args).expect_err("invalid")
        };
        assert!(bad(&["--backfill-envelope", "kubernetes"]).contains("unknown backfill envelope"));
        assert!(bad(&["--backfill-log-stream", "a:b"]).contains("not a valid log stream"));
        assert!(bad(&["--backfill-lease-duration", "1s"]).contains("at least 5s"));
        let off = parse(&["--cluster-name", "p", "--backfill-log-group", ""]).expect("valid");
        assert!(
            !off.backfill_enabled(),
            "an empty group (Terraform's off) is off"
        );
    }

    #[test]
    fn an_interval_as_long_as_the_ttl_is_rejected() {
        let error =
            parse(&["--cluster-name", "p", "--schedule-interval", "1h"]).expect_err("invalid");
        assert!(error.contains("must be shorter than --ttl"), "{error}");
        assert!(parse(&["--cluster-name", "p", "--ttl", "soon"]).is_err());
        assert!(parse(&["--cluster-name", "p", "--bucket", "b", "--archive-dir", "d"]).is_err());
    }
}
