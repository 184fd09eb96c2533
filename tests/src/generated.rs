//! Files generated from the code and committed (the Terraform modules' `iam-actions.json`):
//! a test regenerates the text and fails when the committed copy differs;
//! `EVENTKEEPER_UPDATE_GENERATED=1` writes it instead.

/// Asserts that the committed file at `relative` (to the repository root) is `generated`;
/// `regenerate` is the command that updates it, named in the failure.
pub fn assert_committed_copy_is_current(relative: &str, generated: &str, regenerate: &str) {
    let path = crate::repo_root().join(relative);
    if std::env::var_os("EVENTKEEPER_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, generated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}); run {regenerate}", path.display()));
    assert_eq!(
        committed,
        generated,
        "{} is stale; run {regenerate}",
        path.display()
    );
}
