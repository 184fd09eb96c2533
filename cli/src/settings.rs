//! Defaults of the settings that both the emitter and the catch-up have, defined once so the
//! two binaries find the same Lease when neither is told where it is.

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
