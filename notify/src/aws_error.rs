//! The text of an AWS SDK error for logs, metrics and dead letters.

/// The error with its whole chain of causes: an SDK error's own `Display` says only "service
/// error", which tells an operator nothing.
pub fn aws_error_text(error: impl std::error::Error) -> String {
    // The same type is re-exported by every service crate of the SDK.
    aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string()
}
