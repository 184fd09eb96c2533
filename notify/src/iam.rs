//! The IAM actions the notifier's code calls, grouped by the resource they are granted on: the
//! one source of the Terraform module's policy (`iam-actions.json` in
//! infra/terraform/modules/notifications is generated from it, `make notify-iam-actions`; a test
//! fails when they differ).

use serde_json::{Value, json};

use crate::dead_letter::SQS_ACTIONS;
use crate::destination::{EVENTBRIDGE_ACTIONS, SNS_ACTIONS};
use crate::secrets::{SECRETS_MANAGER_ACTIONS, SSM_ACTIONS};
use crate::state::DYNAMODB_ACTIONS;

/// Where the generated copy lives, relative to the workspace root.
pub const COMMITTED_IAM_ACTIONS_PATH: &str =
    "infra/terraform/modules/notifications/iam-actions.json";

/// `{ "<resource>": ["<action>", ...] }`, sorted.
pub fn iam_actions() -> Value {
    fn sorted(actions: &[&str]) -> Vec<String> {
        let mut actions: Vec<String> = actions.iter().map(|a| (*a).to_owned()).collect();
        actions.sort();
        actions
    }
    json!({
        "state_table": sorted(&DYNAMODB_ACTIONS),
        "sns_topics": sorted(&SNS_ACTIONS),
        "event_buses": sorted(&EVENTBRIDGE_ACTIONS),
        "dead_letter_queue": sorted(&SQS_ACTIONS),
        "secrets_manager_secrets": sorted(&SECRETS_MANAGER_ACTIONS),
        "ssm_parameters": sorted(&SSM_ACTIONS),
    })
}
