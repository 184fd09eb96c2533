//! The Terraform module's `iam-actions.json` must equal the actions the code declares
//! (regenerate with `make notify-iam-actions`).

use std::path::PathBuf;

use eventkeeper_notify::iam::{COMMITTED_IAM_ACTIONS_PATH, iam_actions};

#[test]
fn the_terraform_modules_iam_actions_file_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(COMMITTED_IAM_ACTIONS_PATH);
    let generated = serde_json::to_string_pretty(&iam_actions()).expect("serialises") + "\n";
    if std::env::var_os("EVENTKEEPER_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &generated).expect("write iam-actions.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}); run make notify-iam-actions",
            path.display()
        )
    });
    assert_eq!(
        committed,
        generated,
        "{} is stale; run make notify-iam-actions",
        path.display()
    );
}
