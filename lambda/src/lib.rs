//! eventkeeper catch-up: on a schedule shorter than the Event TTL, list every Event through the
//! EKS API and archive the observations newer than the archive checkpoint to S3 (or a local
//! directory), exactly once across retries, duplicate deliveries and concurrent runs.
//!
//! Two pipelines, one folder each, and [`run`](Runner) orchestrating them:
//! - `archive/`: checkpoint → gap check → list (paged, through `eventkeeper_core::source`) →
//!   normalise → gzip JSON lines → conditional upload → checkpoint; the protocol, the S3 store
//!   and the directory store;
//! - `backfill/`: the emitter's Lease → (emitter down) list → normalise → PutLogEvents batches →
//!   checkpoint on the Lease; the batches, the CloudWatch sink, the envelope and the Lease
//!   hand-off policy;
//! - `cluster/`: reaching the API server (EKS token, kubeconfig);
//! - `app`: the binary's wiring (clients, CLI run or Lambda invocations, EMF, exit codes).
//!
//! See `docs/catchup.md`. Modules are private: the binary uses what is re-exported here, and
//! tests reach the internals through the `testing` feature.

pub mod app;
mod archive;
mod backfill;
mod cluster;
pub mod config;
mod failure;
pub mod iam;
pub mod metrics;
mod run;
mod schedule;

pub use archive::{ArchiveStore, DirStore, S3Store};
pub use backfill::{Backfill, BackfillConfig, CloudWatchSink, Limits};
pub use cluster::{ClusterConnector, ClusterTarget};
pub use failure::FailureLabel;
pub use run::Runner;
pub use schedule::scheduled_time;

/// The internals, for this crate's integration tests (`--features testing`); not an API.
#[cfg(feature = "testing")]
pub mod testing {
    /// The archive protocol and its stores.
    pub mod archive {
        pub use crate::archive::*;
    }
    /// The CloudWatch backfill.
    pub mod backfill {
        pub use crate::backfill::batches::*;
        pub use crate::backfill::cloudwatch_sink::*;
        pub use crate::backfill::envelope::*;
        pub use crate::backfill::handoff::*;
        pub use crate::backfill::*;
    }
    /// Reaching the API server.
    pub mod cluster {
        pub use crate::cluster::eks_token;
        pub use crate::cluster::*;
    }
    pub use crate::run::*;
}
