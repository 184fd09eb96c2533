//! How a question can fail, and the exit status each failure gets. A partial answer is not an
//! error: it is printed, then reported as [`Problem`]s and exit status [`EXIT_PARTIAL`].

use std::fmt;

/// Some source, hour or object could not be read; the rest was printed.
pub const EXIT_PARTIAL: i32 = 3;
/// No AWS credentials could be found.
pub const EXIT_NO_CREDENTIALS: i32 = 4;
/// The archive bucket does not exist.
pub const EXIT_BUCKET_NOT_FOUND: i32 = 5;
/// The archive has no object in any partition of the window.
pub const EXIT_NO_PARTITIONS: i32 = 6;
/// A Logs Insights query was cancelled.
pub const EXIT_QUERY_CANCELLED: i32 = 7;
/// A source failed as a whole (access denied, the API unreachable, ...).
pub const EXIT_SOURCE_FAILED: i32 = 8;
/// Bad flags, environment or configuration file.
pub const EXIT_CONFIG: i32 = 64;

/// A failure that leaves no answer worth printing.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Bad flags, environment or configuration file.
    #[error("configuration: {0}")]
    Config(String),
    /// The AWS SDK found no credentials.
    #[error(
        "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in with `aws sso login`): {0}"
    )]
    NoCredentials(String),
    /// The archive bucket does not exist.
    #[error("archive bucket {0:?} not found")]
    BucketNotFound(String),
    /// No archive object in any partition that could hold the window.
    #[error("no archive partitions in range: looked for {looked_for}")]
    NoPartitions {
        /// The first and last partition prefixes read.
        looked_for: String,
    },
    /// A Logs Insights query was cancelled (by someone else, or a console).
    #[error("CloudWatch Logs Insights query {0} was cancelled")]
    QueryCancelled(String),
    /// A source failed as a whole.
    #[error("{source_name}: {message}")]
    SourceFailed {
        /// `live`, `archive` or `cloudwatch`.
        source_name: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl HistoryError {
    /// The process exit status for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Config(_) => EXIT_CONFIG,
            Self::NoCredentials(_) => EXIT_NO_CREDENTIALS,
            Self::BucketNotFound(_) => EXIT_BUCKET_NOT_FOUND,
            Self::NoPartitions { .. } => EXIT_NO_PARTITIONS,
            Self::QueryCancelled(_) => EXIT_QUERY_CANCELLED,
            Self::SourceFailed { .. } => EXIT_SOURCE_FAILED,
        }
    }
}

/// Part of an answer that could not be read: which source, which part of it, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `live`, `archive` or `cloudwatch`.
    pub source_name: &'static str,
    /// The hour, object key, line or time range affected.
    pub part: String,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.source_name, self.part, self.reason)
    }
}

/// One line for an SDK error: the innermost cause, which names what went wrong (the outer
/// layers only say "dispatch failure" or "service error").
pub fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    let mut text = current.to_string();
    while let Some(next) = current.source() {
        current = next;
        text = current.to_string();
    }
    text.replace('\n', " ")
}

/// Whether an SDK error chain says that no credentials were found.
pub fn is_missing_credentials(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("no credentials")
            || text.contains("credentials provider")
            || text.contains("failed to load credentials")
            || text.contains("the credential provider was not enabled")
        {
            return true;
        }
        current = e.source();
    }
    false
}
