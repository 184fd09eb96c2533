//! Deliveries that still fail after their retries go to an SQS queue with the exact payload, so
//! nothing is dropped silently: an operator can read, fix and replay them.

use serde_json::{Value, json};

use crate::aws_error::aws_error_text;

/// SQS calls of this module (the IAM policy is generated from these).
pub const SQS_ACTIONS: [&str; 1] = ["sqs:SendMessage"];

/// SQS's message limit is 256 KiB; larger payloads are split per notification.
const MAX_MESSAGE_BYTES: usize = 250 * 1024;

/// Why the dead-letter queue did not take a message (the batch then fails and is retried).
#[derive(Debug, thiserror::Error)]
#[error("sending to the dead-letter queue failed: {0}")]
pub struct DeadLetterError(String);

/// The dead-letter queue.
#[derive(Clone, Debug)]
pub struct DeadLetterQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// One failed delivery.
#[derive(Debug)]
pub struct FailedDelivery<'a> {
    /// Destination name.
    pub destination: &'a str,
    /// Destination kind.
    pub kind: &'a str,
    /// The last error.
    pub error: String,
    /// Attempts made.
    pub attempts: u32,
    /// The body that was sent (or would have been), one per notification when it is too big.
    pub payloads: Vec<Value>,
}

impl DeadLetterQueue {
    /// A queue by URL.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Sends one message per payload: `{destination, kind, error, attempts, payload}`.
    pub async fn send(&self, failed: &FailedDelivery<'_>) -> Result<(), DeadLetterError> {
        for payload in &failed.payloads {
            let mut body = json!({
                "destination": failed.destination,
                "kind": failed.kind,
                "error": failed.error,
                "attempts": failed.attempts,
                "payload": payload,
            })
            .to_string();
            if body.len() > MAX_MESSAGE_BYTES {
                body = json!({
                    "destination": failed.destination,
                    "kind": failed.kind,
                    "error": failed.error,
                    "attempts": failed.attempts,
                    "payloadTooLarge": body.len(),
                    "subject": payload.get("subject"),
                })
                .to_string();
            }
            self.client
                .send_message()
                .queue_url(&self.url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| DeadLetterError(aws_error_text(e)))?;
        }
        Ok(())
    }

    /// Whether a payload fits one message.
    pub fn fits(payload: &Value) -> bool {
        payload.to_string().len() < MAX_MESSAGE_BYTES - 1024
    }
}
