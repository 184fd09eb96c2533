//! eventkeeper catch-up: on a schedule shorter than the Event TTL, list every Event through the
//! EKS API and archive the observations newer than the archive checkpoint to S3 (or a local
//! directory), exactly once across retries, duplicate deliveries and concurrent runs.
//!
//! One run: checkpoint → gap check → list (paged) → normalise → gzip JSON lines → conditional
//! upload → checkpoint. With a backfill log group, then: the emitter's Lease → (emitter down)
//! list → normalise → PutLogEvents batches → checkpoint on the Lease. See `docs/catchup.md`.

pub mod archive;
pub mod backfill;
pub mod cloudwatch_sink;
pub mod cluster;
pub mod config;
pub mod dir_store;
pub mod eks_token;
pub mod envelope;
pub mod event_list;
pub mod gap;
pub mod iam;
pub mod lease_handoff;
pub mod log_batches;
pub mod metrics;
pub mod run;
pub mod s3_store;
pub mod schedule;
