//! The backfill's sink: one log stream in CloudWatch Logs, created if missing, written with
//! PutLogEvents one [`LogBatch`] per call, and read back with GetLogEvents to learn whether a
//! batch of an interrupted run arrived.
//!
//! Throttling and service errors are retried with the project's one backoff
//! ([`RetryPolicy::REQUEST`], on top of the SDK's own attempts).
//! Events CloudWatch rejects (`rejectedLogEventsInfo`: too old, too new, expired by retention)
//! are counted and logged with the batch's resourceVersion range; they stay in the S3 archive.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, RejectedLogEventsInfo};
use eventkeeper_core::backoff::RetryPolicy;

use super::batches::LogBatch;

/// Every CloudWatch Logs call the backfill makes, for the IAM policy's single source of truth.
pub const LOGS_ACTIONS: [&str; 4] = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:GetLogEvents",
    "logs:PutLogEvents",
];

/// Why a CloudWatch Logs call failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The log group or stream could not be created.
    #[error("creating log stream {group}/{stream} failed: {message}")]
    CreateFailed {
        /// Log group.
        group: String,
        /// Log stream.
        stream: String,
        /// The SDK's account of it.
        message: String,
        /// Whether a later run can succeed as is.
        retryable: bool,
    },
    /// PutLogEvents failed (after retries, for throttling and service errors).
    #[error("PutLogEvents failed: {message}")]
    PutFailed {
        /// The SDK's account of it.
        message: String,
        /// Whether a later run can succeed as is.
        retryable: bool,
    },
    /// GetLogEvents failed.
    #[error("GetLogEvents failed: {message}")]
    ReadFailed {
        /// The SDK's account of it.
        message: String,
        /// Whether a later run can succeed as is.
        retryable: bool,
    },
}

impl SinkError {
    /// Whether a later run can succeed without a change of configuration.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::CreateFailed { retryable, .. }
            | Self::PutFailed { retryable, .. }
            | Self::ReadFailed { retryable, .. } => *retryable,
        }
    }
}

/// What one PutLogEvents call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PutOutcome {
    /// Events CloudWatch kept.
    pub accepted: u64,
    /// Events CloudWatch rejected (too old, too new, or older than the retention).
    pub rejected: u64,
}

/// One log stream of one log group.
#[derive(Clone, Debug)]
pub struct CloudWatchSink {
    client: Client,
    group: String,
    stream: String,
}

impl CloudWatchSink {
    /// A sink writing to `group`/`stream`.
    pub fn new(client: Client, group: impl Into<String>, stream: impl Into<String>) -> Self {
        Self {
            client,
            group: group.into(),
            stream: stream.into(),
        }
    }

    /// The log group.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The log stream.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Creates the stream, and the group first when it is missing. Existing ones are fine.
    pub async fn ensure_stream(&self) -> Result<(), SinkError> {
        match self.create_stream().await {
            Ok(()) => return Ok(()),
            Err(error) if error.code() == Some("ResourceNotFoundException") => {}
            Err(error) => return Err(self.create_failed(&error)),
        }
        tracing::info!(group = %self.group, "Creating the backfill log group");
        match self
            .client
            .create_log_group()
            .log_group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => {}
            Err(error) if error.code() == Some("ResourceAlreadyExistsException") => {}
            Err(error) => return Err(self.create_failed(&error)),
        }
        self.create_stream()
            .await
            .map_err(|error| self.create_failed(&error))
    }

    async fn create_stream(
        &self,
    ) -> Result<
        (),
        SdkError<aws_sdk_cloudwatchlogs::operation::create_log_stream::CreateLogStreamError>,
    > {
        match self
            .client
            .create_log_stream()
            .log_group_name(&self.group)
            .log_stream_name(&self.stream)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some("ResourceAlreadyExistsException") => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn create_failed<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
        &self,
        error: &SdkError<E, R>,
    ) -> SinkError {
        SinkError::CreateFailed {
            group: self.group.clone(),
            stream: self.stream.clone(),
            message: describe(error),
            retryable: is_transient(error),
        }
    }

    /// Sends one batch (already within every PutLogEvents limit).
    pub async fn put(&self, batch: &LogBatch) -> Result<PutOutcome, SinkError> {
        let events: Vec<InputLogEvent> = batch
            .entries
            .iter()
            .map(|entry| {
                InputLogEvent::builder()
                    .timestamp(entry.timestamp_ms)
                    .message(&entry.message)
                    .build()
                    .expect("timestamp and message are set")
            })
            .collect();
        let total = events.len() as u64;
        let result = retried("PutLogEvents", || {
            self.client
                .put_log_events()
                .log_group_name(&self.group)
                .log_stream_name(&self.stream)
                .set_log_events(Some(events.clone()))
                .send()
        })
        .await;
        let output = result.map_err(|error| SinkError::PutFailed {
            message: describe(&error),
            retryable: is_transient(&error),
        })?;
        let rejected = output
            .rejected_log_events_info()
            .map_or(0, |info| rejected_count(info, total));
        if let Some(info) = output.rejected_log_events_info() {
            tracing::error!(
                group = %self.group,
                stream = %self.stream,
                rejected,
                too_old_end_index = ?info.too_old_log_event_end_index(),
                expired_end_index = ?info.expired_log_event_end_index(),
                too_new_start_index = ?info.too_new_log_event_start_index(),
                through_resource_version = ?batch.through,
                "CloudWatch rejected backfilled events; they are only in the S3 archive"
            );
        }
        Ok(PutOutcome {
            accepted: total - rejected,
            rejected,
        })
    }

    /// Every message in the stream with a timestamp in `[from_ms, to_ms]`, oldest first.
    pub async fn read(&self, from_ms: i64, to_ms: i64) -> Result<Vec<String>, SinkError> {
        let mut messages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let result = retried("GetLogEvents", || {
                self.client
                    .get_log_events()
                    .log_group_name(&self.group)
                    .log_stream_name(&self.stream)
                    .start_time(from_ms)
                    // GetLogEvents' end time is exclusive.
                    .end_time(to_ms.saturating_add(1))
                    .start_from_head(true)
                    .set_next_token(token.clone())
                    .send()
            })
            .await;
            let output = match result {
                Ok(output) => output,
                Err(error) if error.code() == Some("ResourceNotFoundException") => {
                    return Ok(messages);
                }
                Err(error) => {
                    return Err(SinkError::ReadFailed {
                        message: describe(&error),
                        retryable: is_transient(&error),
                    });
                }
            };
            let events = output.events();
            messages.extend(events.iter().filter_map(|e| e.message().map(str::to_owned)));
            let next = output.next_forward_token().map(str::to_owned);
            // The same token back means the end of the stream.
            if events.is_empty() || next.is_none() || next == token {
                return Ok(messages);
            }
            token = next;
        }
    }
}

/// How many of `total` events `info` says were rejected. The end indexes are exclusive (AWS);
/// a present index always stands for at least one event.
pub fn rejected_count(info: &RejectedLogEventsInfo, total: u64) -> u64 {
    let old = info
        .too_old_log_event_end_index()
        .max(info.expired_log_event_end_index())
        .map_or(0, |end| (end.max(1) as u64).min(total));
    let new = info
        .too_new_log_event_start_index()
        .map_or(0, |start| total.saturating_sub(start.max(0) as u64));
    (old + new).min(total)
}

/// `call` under [`RetryPolicy::REQUEST`], retrying transient errors with a warning naming
/// `operation`.
async fn retried<T, E, R, Fut>(
    operation: &str,
    call: impl FnMut() -> Fut,
) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    RetryPolicy::REQUEST
        .retry(call, is_transient, |error, pause| {
            tracing::warn!(?pause, error = %describe(error), "{operation} failed; retrying");
        })
        .await
}

/// Throttling, a 5xx, a timeout or a broken connection: the same call may succeed later.
fn is_transient<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "ServiceUnavailableException"
                    | "OperationAbortedException"
                    | "LimitExceededException"
                    | "InternalFailure"
            )
        ),
        _ => false,
    }
}

fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(error: &SdkError<E, R>) -> String {
    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_events_are_counted_from_the_indexes() {
        let info = |old: Option<i32>, expired: Option<i32>, new: Option<i32>| {
            RejectedLogEventsInfo::builder()
                .set_too_old_log_event_end_index(old)
                .set_expired_log_event_end_index(expired)
                .set_too_new_log_event_start_index(new)
                .build()
        };
        assert_eq!(rejected_count(&info(None, None, None), 10), 0);
        assert_eq!(rejected_count(&info(Some(3), None, None), 10), 3);
        assert_eq!(rejected_count(&info(None, Some(4), None), 10), 4);
        assert_eq!(rejected_count(&info(Some(0), None, None), 10), 1);
        assert_eq!(rejected_count(&info(None, None, Some(8)), 10), 2);
        assert_eq!(rejected_count(&info(Some(2), Some(5), Some(9)), 10), 6);
        assert_eq!(rejected_count(&info(Some(20), None, Some(0)), 10), 10);
    }
}
