//! Configuration of the catch-up, from flags or `EVENTKEEPER_*` environment variables (the Lambda
//! is configured through its environment): [`Args`] as parsed, checked once by
//! [`Args::validate`] into the [`Config`] the run uses, before any work.

use std::path::PathBuf;
use std::time::Duration;

use eventkeeper_cli::{
    DEFAULT_LEASE_NAME, KubeconfigArgs, LogArgs, LogFormat, LogLevel, lease_namespace_or_default,
    parse_cluster_name, parse_duration,
};
use jiff::SignedDuration;

use crate::backfill::Envelope;

/// Why a configuration is refused (beyond what the flag parser checks).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `--spool-dir` names no directory.
    #[error("--spool-dir {0} is not a directory")]
    SpoolDirMissing(String),
    /// `--ttl` or `--schedule-interval` is zero.
    #[error("--ttl and --schedule-interval must be positive")]
    ZeroDuration,
    /// A schedule that lets Events expire between two runs.
    #[error(
        "--schedule-interval ({interval}) must be shorter than --ttl ({ttl}), or events can expire between runs"
    )]
    IntervalNotShorterThanTtl {
        /// `--schedule-interval`, as written for people.
        interval: String,
        /// `--ttl`, as written for people.
        ttl: String,
    },
    /// Two ways to reach the cluster at once.
    #[error("--kubeconfig cannot be combined with the --eks-* overrides")]
    KubeconfigWithEksOverrides,
    /// A log stream name CloudWatch refuses.
    #[error("--backfill-log-stream {0:?} is not a valid log stream name (no ':' or '*')")]
    BadLogStream(String),
    /// A hold on the Lease too short to renew in time.
    #[error("--backfill-lease-duration must be at least 5s")]
    BackfillLeaseTooShort,
    /// The Lease has no name.
    #[error("--lease-name must not be empty")]
    EmptyLeaseName,
    /// A duration beyond what a timestamp can hold.
    #[error("--{0} is too long")]
    DurationTooLong(&'static str),
}

/// List Kubernetes Events and archive every new observation (S3 or a local directory).
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "eventkeeper-catchup", version, about)]
pub struct Args {
    /// Cluster name written into every record; with EKS, also the cluster to describe.
    #[arg(long, env = "EVENTKEEPER_CLUSTER_NAME", value_parser = parse_cluster_name)]
    pub cluster_name: String,

    /// kubeconfig (`KUBECONFIG`, or its older alias).
    #[command(flatten)]
    pub kubeconfig: KubeconfigArgs,

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
    pub ttl: Duration,

    /// The schedule's interval; must be shorter than the TTL.
    #[arg(long, env = "EVENTKEEPER_SCHEDULE_INTERVAL", default_value = "30m", value_parser = parse_duration)]
    pub schedule_interval: Duration,

    /// Events per list page.
    #[arg(long, env = "EVENTKEEPER_PAGE_SIZE", default_value_t = eventkeeper_core::source::DEFAULT_PAGE_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,

    /// Directory the archive object is compressed into before its upload (the Lambda's
    /// ephemeral storage): needs room for one object, about 90 bytes per live Event.
    #[arg(long, env = "EVENTKEEPER_SPOOL_DIR", value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,

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
    pub backfill_lease_duration: Duration,

    /// Namespace of the emitter's Lease (the chart's release namespace) [default:
    /// $POD_NAMESPACE, else `eventkeeper`; the emitter's rule too].
    #[arg(long, env = "EVENTKEEPER_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Name of the emitter's Lease (the chart's `leaderElection.leaseName`).
    #[arg(long, env = "EVENTKEEPER_LEASE_NAME", default_value = DEFAULT_LEASE_NAME)]
    pub lease_name: String,

    /// Log format and level.
    #[command(flatten)]
    pub logs: LogArgs,
}

/// Where the cluster is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterAccess {
    /// Through a kubeconfig file.
    Kubeconfig(PathBuf),
    /// Through the EKS API (DescribeCluster and an IAM token), with optional test overrides.
    Eks {
        /// API endpoint to use instead of DescribeCluster's.
        endpoint_override: Option<String>,
        /// PEM CA file to trust instead of DescribeCluster's.
        ca_override: Option<PathBuf>,
    },
}

/// Where the archive goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArchiveTarget {
    /// An S3 bucket.
    Bucket(String),
    /// A local directory.
    Dir(PathBuf),
}

/// The CloudWatch backfill, when it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackfillSettings {
    /// Log group.
    pub log_group: String,
    /// Log stream in that group.
    pub log_stream: String,
    /// How records are nested in a message.
    pub envelope: Envelope,
    /// The hold on the Lease between renewals.
    pub lease_duration: Duration,
    /// Namespace of the emitter's Lease.
    pub lease_namespace: String,
    /// Name of the emitter's Lease.
    pub lease_name: String,
}

/// The validated configuration the catch-up runs with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Cluster name written into every record; with EKS, also the cluster to describe.
    pub cluster_name: String,
    /// Where the cluster is read.
    pub cluster: ClusterAccess,
    /// Where the archive goes.
    pub archive: ArchiveTarget,
    /// The CloudWatch backfill, when on: the run's second output.
    pub backfill: Option<BackfillSettings>,
    /// Key prefix of the archive.
    pub prefix: String,
    /// The API server's Event TTL.
    pub ttl: SignedDuration,
    /// The schedule's interval (shorter than the TTL).
    pub schedule_interval: SignedDuration,
    /// Events per list page.
    pub page_size: u32,
    /// Where archive objects are compressed before their upload.
    pub spool_dir: PathBuf,
    /// CLI only: the scheduled time this run stands for.
    pub scheduled_time: Option<String>,
    /// Log format on stderr.
    pub log_format: LogFormat,
    /// Log level or filter.
    pub log_level: LogLevel,
}

impl Args {
    /// Checks what clap cannot and fills in the defaults that depend on other settings.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        if self.schedule_interval.is_zero() || self.ttl.is_zero() {
            return Err(ConfigError::ZeroDuration);
        }
        let signed = |name, duration| {
            SignedDuration::try_from(duration).map_err(|_| ConfigError::DurationTooLong(name))
        };
        let ttl = signed("ttl", self.ttl)?;
        let schedule_interval = signed("schedule-interval", self.schedule_interval)?;
        if schedule_interval >= ttl {
            return Err(ConfigError::IntervalNotShorterThanTtl {
                interval: format!("{schedule_interval:#}"),
                ttl: format!("{ttl:#}"),
            });
        }
        let kubeconfig = self.kubeconfig.path();
        let cluster = match kubeconfig {
            Some(_)
                if self.eks_endpoint_override.is_some() || self.eks_ca_override_file.is_some() =>
            {
                return Err(ConfigError::KubeconfigWithEksOverrides);
            }
            Some(path) => ClusterAccess::Kubeconfig(path),
            None => ClusterAccess::Eks {
                endpoint_override: self.eks_endpoint_override.clone(),
                ca_override: self.eks_ca_override_file.clone(),
            },
        };
        // The system's temporary directory (`/tmp` in Lambda) unless configured.
        let spool_dir = self.spool_dir.clone().unwrap_or_else(std::env::temp_dir);
        if !spool_dir.is_dir() {
            return Err(ConfigError::SpoolDirMissing(
                spool_dir.display().to_string(),
            ));
        }
        let archive = match (&self.bucket, &self.archive_dir) {
            (Some(bucket), _) => ArchiveTarget::Bucket(bucket.clone()),
            (None, dir) => ArchiveTarget::Dir(dir.clone().unwrap_or_else(|| "archive".into())),
        };
        let backfill = match self.backfill_log_group.as_deref().map(str::trim) {
            Some(group) if !group.is_empty() => {
                let stream = &self.backfill_log_stream;
                if stream.is_empty() || stream.contains([':', '*']) {
                    return Err(ConfigError::BadLogStream(stream.clone()));
                }
                if self.backfill_lease_duration < Duration::from_secs(5) {
                    return Err(ConfigError::BackfillLeaseTooShort);
                }
                if self.lease_name.trim().is_empty() {
                    return Err(ConfigError::EmptyLeaseName);
                }
                Some(BackfillSettings {
                    log_group: group.to_owned(),
                    log_stream: stream.clone(),
                    envelope: self.backfill_envelope,
                    lease_duration: self.backfill_lease_duration,
                    lease_namespace: lease_namespace_or_default(self.lease_namespace.as_deref()),
                    lease_name: self.lease_name.clone(),
                })
            }
            // Unset or empty (Terraform's "off").
            _ => None,
        };
        Ok(Config {
            cluster_name: self.cluster_name.clone(),
            cluster,
            archive,
            prefix: self.prefix.clone(),
            ttl,
            schedule_interval,
            page_size: self.page_size,
            spool_dir,
            scheduled_time: self.scheduled_time.clone(),
            backfill,
            log_format: self.logs.log_format,
            log_level: self.logs.log_level.clone(),
        })
    }
}

impl Config {
    /// Whether a run needs AWS credentials and clients (S3, EKS or CloudWatch Logs).
    pub fn needs_aws(&self) -> bool {
        matches!(self.archive, ArchiveTarget::Bucket(_))
            || matches!(self.cluster, ClusterAccess::Eks { .. })
            || self.backfill.is_some()
    }
}

fn parse_envelope(text: &str) -> Result<Envelope, String> {
    text.parse()
        .map_err(|e: crate::backfill::UnknownEnvelope| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["eventkeeper-catchup"];
        all.extend_from_slice(args);
        let args = Args::try_parse_from(all).map_err(|e| e.to_string())?;
        args.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_a_half_hour_schedule_within_the_hour_ttl() {
        let config = parse(&["--cluster-name", "prod", "--lease-namespace", "ops"]).expect("valid");
        assert_eq!(config.ttl, SignedDuration::from_hours(1));
        assert_eq!(config.schedule_interval, SignedDuration::from_mins(30));
        assert_eq!(config.archive, ArchiveTarget::Dir(PathBuf::from("archive")));
        assert!(config.backfill.is_none());
        assert_eq!(config.log_format, LogFormat::Json);
        // The Lease is the backfill's: its location comes with the backfill settings.
        let config = parse(&[
            "--cluster-name",
            "prod",
            "--lease-namespace",
            "ops",
            "--backfill-log-group",
            "g",
        ])
        .expect("valid");
        let backfill = config.backfill.expect("on");
        assert_eq!(backfill.lease_namespace, "ops");
        assert_eq!(backfill.lease_name, DEFAULT_LEASE_NAME);
    }

    #[test]
    fn a_blank_cluster_name_is_refused_by_the_shared_parser() {
        let error = parse(&["--cluster-name", " "]).expect_err("invalid");
        assert!(error.contains("must not be empty"), "{error}");
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
        let backfill = config.backfill.expect("on");
        assert_eq!(backfill.envelope, Envelope::LogProcessed);
        assert_eq!(backfill.log_stream, "eventkeeper-catchup");
        assert_eq!(backfill.lease_duration, Duration::from_secs(60));
        let bad = |extra: &[&str]| {
            let mut args = vec!["--cluster-name", "p", "--backfill-log-group", "g"];
            args.extend_from_slice(extra);
            parse(&args).expect_err("invalid")
        };
        assert!(bad(&["--backfill-envelope", "kubernetes"]).contains("unknown backfill envelope"));
        assert!(bad(&["--backfill-log-stream", "a:b"]).contains("not a valid log stream"));
        assert!(bad(&["--backfill-lease-duration", "1s"]).contains("at least 5s"));
        assert!(bad(&["--backfill-lease-duration", "soon"]).contains("not a duration"));
        assert!(bad(&["--lease-name", ""]).contains("must not be empty"));
        let off = parse(&["--cluster-name", "p", "--backfill-log-group", ""]).expect("valid");
        assert!(
            off.backfill.is_none(),
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
        let error = parse(&["--cluster-name", "p", "--spool-dir", "/nonexistent/spool"])
            .expect_err("invalid");
        assert!(error.contains("is not a directory"), "{error}");
        // One grammar with the emitter and the simulator: compound durations too.
        let config = parse(&[
            "--cluster-name",
            "p",
            "--ttl",
            "1h 30m",
            "--schedule-interval",
            "45m",
        ])
        .expect("valid");
        assert_eq!(config.ttl, SignedDuration::from_mins(90));
    }

    #[test]
    fn the_kubeconfig_alias_still_works_and_excludes_the_eks_overrides() {
        let standard = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty());
        let config =
            parse(&["--cluster-name", "p", "--eventkeeper-kubeconfig", "/k"]).expect("valid");
        assert_eq!(
            config.cluster,
            ClusterAccess::Kubeconfig(standard.map_or_else(|| PathBuf::from("/k"), PathBuf::from))
        );
        let error = parse(&[
            "--cluster-name",
            "p",
            "--kubeconfig",
            "/k",
            "--eks-endpoint-override",
            "https://x",
        ])
        .expect_err("invalid");
        assert!(error.contains("cannot be combined"), "{error}");
    }
}
