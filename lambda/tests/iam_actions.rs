//! The Terraform module's `iam-actions.json` must equal the actions the code declares
//! (regenerate with `make iam-actions`).

use eventkeeper_catchup::iam::{COMMITTED_IAM_ACTIONS_PATH, iam_actions};
use eventkeeper_tests::generated::assert_committed_copy_is_current;

#[test]
fn the_terraform_modules_iam_actions_file_is_current() {
    let generated = serde_json::to_string_pretty(&iam_actions()).expect("serialises") + "\n";
    assert_committed_copy_is_current(COMMITTED_IAM_ACTIONS_PATH, &generated, "make iam-actions");
}
