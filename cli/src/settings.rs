//! Defaults of the settings that both the emitter and the catch-up have, defined once so the
//! two binaries find the same Lease when neither is told where it is, and the flags they share.

use std::path::PathBuf;

use crate::logs::{LogFormat, LogLevel};

/// Name of the Lease holding the emitter's leadership and checkpoint.
pub const DEFAULT_LEASE_NAME: &str = "eventkeeper";

/// Namespace of the Lease when `$POD_NAMESPACE` is unset too: the namespace the install guide
/// installs the chart into, and the catch-up (outside any pod) has no `$POD_NAMESPACE`.
pub const DEFAULT_LEASE_NAMESPACE: &str = "eventkeeper";

/// The Lease namespace: the one configured, else `$POD_NAMESPACE` (the Downward API's namespace
/// of a pod), else [`DEFAULT_LEASE_NAMESPACE`]. An empty value counts as unset.
pub fn lease_namespace_or_default(configured: Option<&str>) -> String {
    configured
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("POD_NAMESPACE")
                .ok()
                .filter(|n| !n.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_LEASE_NAMESPACE.to_owned())
}

/// Parses `--cluster-name` (both binaries): the name goes into every record, so a blank one is
/// refused when the flags are parsed.
pub fn parse_cluster_name(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(text.to_owned())
}

/// The kubeconfig flags both binaries take: the standard `KUBECONFIG`, and the older
/// `EVENTKEEPER_KUBECONFIG` alias (`--eventkeeper-kubeconfig`) still accepted.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct KubeconfigArgs {
    /// kubeconfig file to read the cluster through, instead of the in-cluster service account
    /// (the emitter) or the EKS API (the catch-up). The standard `KUBECONFIG`;
    /// `EVENTKEEPER_KUBECONFIG` is accepted as an alias.
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The older name of `KUBECONFIG`, accepted by both binaries.
    #[arg(
        long = "eventkeeper-kubeconfig",
        env = "EVENTKEEPER_KUBECONFIG",
        hide = true
    )]
    pub kubeconfig_alias: Option<PathBuf>,
}

impl KubeconfigArgs {
    /// The kubeconfig to use: `--kubeconfig`, else the alias; an empty value counts as unset.
    pub fn path(&self) -> Option<PathBuf> {
        [&self.kubeconfig, &self.kubeconfig_alias]
            .into_iter()
            .flatten()
            .find(|p| !p.as_os_str().is_empty())
            .cloned()
    }
}

/// The log flags of every binary.
#[derive(Clone, Debug, clap::Args)]
pub struct LogArgs {
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
    pub log_level: LogLevel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_cluster_name_is_refused() {
        assert_eq!(parse_cluster_name("prod").as_deref(), Ok("prod"));
        assert!(parse_cluster_name("").is_err());
        assert!(parse_cluster_name("  ").is_err());
    }
}
