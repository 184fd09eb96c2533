//! The convention every eventkeeper binary follows (the emitter, the catch-up, the notifier and the
//! simulator): flags and `EVENTKEEPER_*` variables parsed by clap → `validate()` → a typed
//! `Config`; bad configuration prints one line on stderr and exits 64 before any work; logs go
//! to stderr in a [`LogFormat`]; one multi-thread runtime; one duration grammar.
//!
//! A crate of its own rather than a module of `eventkeeper-core`: the simulator does not depend
//! on core (nor should it pull in kube and k8s-openapi to parse `5m`), and the core library
//! should not carry a global logger setup that only binaries need.

mod age;
mod duration;
mod exit;
mod logs;
mod runtime;
mod settings;

pub use age::human_age;
pub use duration::{DurationError, parse_duration};
pub use exit::{EXIT_BAD_CONFIG, bad_config, parse_args, parse_args_from};
pub use logs::{LogFormat, LogLevel, LogLevelError, init_logs};
pub use runtime::{run_async, shutdown_signal};
pub use settings::{
    DEFAULT_LEASE_NAME, DEFAULT_LEASE_NAMESPACE, KubeconfigArgs, LogArgs,
    lease_namespace_or_default, parse_cluster_name,
};
