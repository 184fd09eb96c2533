//! The IAM actions the notifier's code calls, grouped by the resource they are granted on: the
//! one source of the Terraform module's policy (`iam-actions.json` in
//! infra/terraform/modules/notifications is generated from it, `make notify-iam-actions`; a test
//! fails when they differ).

use eventkeeper_core::iam::actions_by_resource;
use serde_json::Value;

use crate::dead_letter::SQS_ACTIONS;
use crate::destination::{EVENTBRIDGE_ACTIONS, SNS_ACTIONS};
use crate::secrets::{SECRETS_MANAGER_ACTIONS, SSM_ACTIONS};
use crate::state::DYNAMODB_ACTIONS;

/// Where the generated copy lives, relative to the workspace root.
pub const COMMITTED_IAM_ACTIONS_PATH: &str =
    "infra/terraform/modules/notifications/iam-actions.json";

/// `{ "<resource>": ["<action>", ...] }`, sorted.
pub fn iam_actions() -> Value {
    actions_by_resource(&[
        ("state_table", &DYNAMODB_ACTIONS),
        ("sns_topics", &SNS_ACTIONS),
        ("event_buses", &EVENTBRIDGE_ACTIONS),
        ("dead_letter_queue", &SQS_ACTIONS),
        ("secrets_manager_secrets", &SECRETS_MANAGER_ACTIONS),
        ("ssm_parameters", &SSM_ACTIONS),
    ])
}
