//! Flags, environment variables and the configuration file, read once before any work. Where
//! to read comes from, in order: a flag, its `EVENTKEEPER_*` variable, the file's entry for the
//! cluster. Anything wrong is one line on stderr and exit 64.
//!
//! The file (`--config`, `EVENTKEEPER_HISTORY_CONFIG`, or `~/.config/eventkeeper/history.json`
//! when it exists) is what `terraform output -json eventkeeper_history` prints:
//!
//! ```json
//! {"defaultCluster": "prod",
//!  "clusters": {"prod": {"region": "eu-west-1", "bucket": "acme-events", "prefix": "events",
//!                        "logGroup": "/aws/containerinsights/prod/application",
//!                        "layout": "log_processed"}}}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::cloudwatch::Layout;
use crate::error::HistoryError;
use crate::table::Format;

/// Event history of a Kubernetes cluster past the one-hour TTL: the live API, the S3 archive
/// and CloudWatch Logs, merged.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-eventkeeper",
    bin_name = "kubectl eventkeeper",
    version
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Where to read.
    #[command(flatten)]
    pub sources: SourceFlags,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Events of a namespace or an object, as `kubectl events` prints them, past the TTL.
    Events(EventsArgs),
    /// Why did this object fail: its warnings and its owners', grouped, with the likeliest cause.
    Why(WhyArgs),
    /// Print the version.
    Version,
}

/// `events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Namespace (default: `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Only this object and what it created: KIND/NAME, the name exact or a glob
    /// (`deployment/api`, `pod/api-7f6b*`).
    #[arg(long = "for", value_name = "KIND/NAME")]
    pub for_object: Option<String>,
    /// How far back, e.g. `90m`, `6h`, `3d` (default `1h`).
    #[arg(long, conflicts_with = "from")]
    pub since: Option<String>,
    /// Start of the window, RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only these types, e.g. `Warning` (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// Only these reasons (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub reason: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Every observation of each Event, not only its latest in the window.
    #[arg(long)]
    pub all_versions: bool,
}

/// `why`.
#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The object: KIND/NAME (`pod/api-7f6b9d8c5-2kx4q`, `deployment/api`).
    #[arg(value_name = "KIND/NAME")]
    pub object: String,
    /// Namespace (default: `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// How far back (default `7d`).
    #[arg(long, default_value = "7d")]
    pub since: String,
}

/// Which sources to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceChoice {
    /// Live for the last hour, the archive when a bucket is configured, CloudWatch when not.
    Auto,
    /// Only the live API.
    Live,
    /// Only the S3 archive.
    Archive,
    /// Only CloudWatch Logs.
    Cloudwatch,
}

/// Where to read, from flags or the environment.
#[derive(Debug, Args)]
pub struct SourceFlags {
    /// Which sources to read.
    #[arg(
        long,
        global = true,
        env = "EVENTKEEPER_SOURCE",
        value_enum,
        default_value = "auto"
    )]
    pub source: SourceChoice,
    /// Cluster name (the archive's `cluster=` partition; picks the config file's entry).
    #[arg(long, global = true, env = "EVENTKEEPER_CLUSTER")]
    pub cluster: Option<String>,
    /// Configuration file (default: ~/.config/eventkeeper/history.json when it exists).
    #[arg(
        long,
        global = true,
        env = "EVENTKEEPER_HISTORY_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Archive bucket.
    #[arg(long, global = true, env = "EVENTKEEPER_BUCKET")]
    pub bucket: Option<String>,
    /// Archive key prefix (default `events`).
    #[arg(long, global = true, env = "EVENTKEEPER_PREFIX")]
    pub prefix: Option<String>,
    /// CloudWatch Logs group the emitter's lines go to.
    #[arg(long, global = true, env = "EVENTKEEPER_LOG_GROUP")]
    pub log_group: Option<String>,
    /// How the shipper nests records there: `log_processed` (Container Insights), `data`
    /// (aws-for-fluent-bit) or `bare` (Vector).
    #[arg(long, global = true, env = "EVENTKEEPER_LAYOUT")]
    pub layout: Option<String>,
    /// AWS region (default: the SDK's usual lookup).
    #[arg(long, global = true, env = "EVENTKEEPER_REGION")]
    pub region: Option<String>,
    /// Kubeconfig for the live source (default: KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Archive objects fetched at once.
    #[arg(
        long,
        global = true,
        env = "EVENTKEEPER_PARALLEL_GETS",
        default_value_t = 16
    )]
    pub parallel_gets: usize,
    /// Answer as if it were this time (RFC 3339): `--since` and the live hour count back from
    /// it. For replaying an incident, and for tests.
    #[arg(long, global = true, env = "EVENTKEEPER_NOW", value_name = "TIME")]
    pub now: Option<String>,
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    /// The cluster used when `--cluster` is not given.
    #[serde(default)]
    pub default_cluster: Option<String>,
    /// Per cluster: where its Events are kept.
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterEntry>,
}

/// Where one cluster's Events are kept.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterEntry {
    /// AWS region of the bucket and the log group.
    #[serde(default)]
    pub region: Option<String>,
    /// Archive bucket.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Archive key prefix.
    #[serde(default)]
    pub prefix: Option<String>,
    /// CloudWatch Logs group.
    #[serde(default)]
    pub log_group: Option<String>,
    /// `log_processed`, `data` or `bare`.
    #[serde(default)]
    pub layout: Option<String>,
}

/// Where to read, resolved.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Which sources.
    pub source: SourceChoice,
    /// Cluster name.
    pub cluster: String,
    /// Archive bucket.
    pub bucket: Option<String>,
    /// Archive key prefix.
    pub prefix: String,
    /// Log group and layout.
    pub log_group: Option<(String, Layout)>,
    /// AWS region.
    pub region: Option<String>,
    /// Kubeconfig.
    pub kubeconfig: Option<PathBuf>,
    /// Parallel GETs.
    pub parallel_gets: usize,
}

fn default_config_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".config/eventkeeper/history.json");
    path.exists().then_some(path)
}

/// Reads the configuration file.
pub fn read_file(path: &Path) -> Result<ConfigFile, HistoryError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HistoryError::Config(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| HistoryError::Config(format!("{}: {e}", path.display())))
}

impl SourceFlags {
    /// Flags over environment (clap) over the file's entry.
    pub fn resolve(&self) -> Result<Resolved, HistoryError> {
        let file = match self.config.clone().or_else(default_config_path) {
            Some(path) => read_file(&path)?,
            None => ConfigFile::default(),
        };
        let cluster = self
            .cluster
            .clone()
            .or(file.default_cluster.clone())
            .or_else(|| {
                (file.clusters.len() == 1)
                    .then(|| file.clusters.keys().next().cloned())
                    .flatten()
            });
        let entry = match &cluster {
            Some(name) if !file.clusters.is_empty() => {
                file.clusters.get(name).cloned().ok_or_else(|| {
                    HistoryError::Config(format!(
                        "cluster {name:?} is not in the configuration file (it has: {})",
                        file.clusters.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?
            }
            _ => ClusterEntry::default(),
        };
        let bucket = self
            .bucket
            .clone()
            .or(entry.bucket)
            .filter(|b| !b.is_empty());
        let log_group = self
            .log_group
            .clone()
            .or(entry.log_group)
            .filter(|g| !g.is_empty());
        let layout: Layout = self
            .layout
            .clone()
            .or(entry.layout)
            .unwrap_or_else(|| "log_processed".into())
            .parse()
            .map_err(HistoryError::Config)?;
        if self.parallel_gets == 0 {
            return Err(HistoryError::Config(
                "--parallel-gets must be at least 1".into(),
            ));
        }
        let needs_cluster =
            bucket.is_some() && matches!(self.source, SourceChoice::Auto | SourceChoice::Archive);
        let cluster = match cluster {
            Some(c) => c,
            None if needs_cluster => {
                return Err(HistoryError::Config(
                    "the archive needs --cluster (or EVENTKEEPER_CLUSTER, or the config file)"
                        .into(),
                ));
            }
            None => String::new(),
        };
        match self.source {
            SourceChoice::Archive if bucket.is_none() => {
                return Err(HistoryError::Config(
                    "--source archive needs --bucket (or EVENTKEEPER_BUCKET, or the config file)"
                        .into(),
                ));
            }
            SourceChoice::Cloudwatch if log_group.is_none() => {
                return Err(HistoryError::Config(
                    "--source cloudwatch needs --log-group (or EVENTKEEPER_LOG_GROUP, or the config file)"
                        .into(),
                ));
            }
            _ => {}
        }
        Ok(Resolved {
            source: self.source,
            cluster,
            bucket,
            prefix: self
                .prefix
                .clone()
                .or(entry.prefix)
                .unwrap_or_else(|| "events".into()),
            log_group: log_group.map(|g| (g, layout)),
            region: self.region.clone().or(entry.region),
            kubeconfig: self.kubeconfig.clone(),
            parallel_gets: self.parallel_gets,
        })
    }
}
