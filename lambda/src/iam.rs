//! The IAM actions the catch-up's code calls, grouped by the resource they are granted on.
//!
//! This is the one source of truth for the Terraform module's policy: `iam-actions.json` in the
//! module is generated from it (`make iam-actions`), a test fails when the two differ, and the
//! Terraform checks compare the policy with that file.

use eventkeeper_core::iam::actions_by_resource;
use serde_json::Value;

use crate::archive::{S3_ACTIONS, S3_BUCKET_ACTIONS};
use crate::cluster::EKS_ACTIONS;

/// CloudWatch Logs calls of the backfill (defined next to the calls), granted on the events log
/// group only.
pub use crate::backfill::LOGS_ACTIONS;

/// Where the generated copy lives, relative to the workspace root.
pub const COMMITTED_IAM_ACTIONS_PATH: &str = "infra/terraform/modules/eventkeeper/iam-actions.json";

/// `{ "<resource>": ["<action>", ...] }`, sorted, as the Terraform module reads it.
pub fn iam_actions() -> Value {
    actions_by_resource(&[
        ("eks_cluster", &EKS_ACTIONS),
        ("s3_archive_objects", &S3_ACTIONS),
        ("s3_archive_bucket", &S3_BUCKET_ACTIONS),
        ("events_log_group", &LOGS_ACTIONS),
    ])
}
