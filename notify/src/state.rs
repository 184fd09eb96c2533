//! Where each group's episode and unfinished claim live: a store with optimistic concurrency.
//! Every write names the revision it read (`None`: the group must not exist yet) and fails with
//! [`Saved::Conflict`] when another invocation wrote first; the caller then reads again and
//! decides again. [`DynamoState`] is the production store; [`MemoryState`] serves unit tests.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::decision::Episode;
use crate::message::Notification;

/// DynamoDB calls of this module (the IAM policy is generated from this list).
pub const DYNAMODB_ACTIONS: [&str; 2] = ["dynamodb:GetItem", "dynamodb:PutItem"];

/// Why the state could not be read or written. Every variant is retryable: the batch fails and
/// Lambda runs it again.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// GetItem failed.
    #[error("reading group state failed: {0}")]
    ReadFailed(String),
    /// PutItem failed (other than a lost condition).
    #[error("writing group state failed: {0}")]
    WriteFailed(String),
    /// The stored item is not this notifier's JSON.
    #[error("stored group state is unreadable: {0}")]
    Corrupt(String),
}

/// A claimed step whose deliveries are not all confirmed yet. Until it is cleared, whoever finds
/// it after `claimed_at` + the claim lease resends it: a crash after the claim and before the send
/// repeats a message rather than losing it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    /// When the claim was made (or last taken over).
    pub claimed_at: Timestamp,
    /// What to send, and where.
    pub deliveries: Vec<PendingDelivery>,
}

/// One destination's copy of a claimed notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingDelivery {
    /// Destination name.
    pub destination: String,
    /// The notification.
    pub notification: Notification,
}

/// Everything stored about one group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupState {
    /// The current episode.
    pub episode: Episode,
    /// An unfinished claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// A stored state and the revision it was read at.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The state.
    pub state: GroupState,
    /// Its revision.
    pub revision: u64,
}

/// Outcome of a conditional write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Written at this revision.
    Written(u64),
    /// Someone else wrote first: read again.
    Conflict,
}

/// A group-state store with conditional writes.
pub trait StateStore {
    /// Reads a group (strongly consistent).
    fn load(&self, key: &str) -> impl Future<Output = Result<Option<Stored>, StateError>>;
    /// Writes a group if it is still at `expected` (`None`: absent). `expires_at` is the TTL.
    fn save(
        &self,
        key: &str,
        state: &GroupState,
        expected: Option<u64>,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<Saved, StateError>>;
}

/// The DynamoDB table: partition key `pk` (S), `rev` (N), `state` (S, JSON), `expiresAt` (N,
/// the TTL attribute, epoch seconds).
#[derive(Clone, Debug)]
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoState {
    /// A store on `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl StateStore for DynamoState {
    async fn load(&self, key: &str) -> Result<Option<Stored>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                StateError::ReadFailed(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
            })?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let revision = item
            .get("rev")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StateError::Corrupt("no rev".into()))?;
        let text = item
            .get("state")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StateError::Corrupt("no state".into()))?;
        let state = serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        Ok(Some(Stored { state, revision }))
    }

    async fn save(
        &self,
        key: &str,
        state: &GroupState,
        expected: Option<u64>,
        expires_at: Timestamp,
    ) -> Result<Saved, StateError> {
        let revision = expected.map_or(1, |r| r + 1);
        let json = serde_json::to_string(state).expect("state serialises");
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_owned()))
            .item("rev", AttributeValue::N(revision.to_string()))
            .item("state", AttributeValue::S(json))
            .item(
                "expiresAt",
                AttributeValue::N(expires_at.as_second().to_string()),
            );
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(r) => put
                .condition_expression("rev = :rev")
                .expression_attribute_values(":rev", AttributeValue::N(r.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(Saved::Written(revision)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(Saved::Conflict)
            }
            Err(e) => Err(StateError::WriteFailed(
                aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
            )),
        }
    }
}

/// An in-memory store with the same semantics (unit tests and the benchmark's baseline).
#[derive(Debug, Default)]
pub struct MemoryState(std::sync::Mutex<HashMap<String, Stored>>);

impl StateStore for MemoryState {
    async fn load(&self, key: &str) -> Result<Option<Stored>, StateError> {
        Ok(self.0.lock().expect("lock").get(key).cloned())
    }

    async fn save(
        &self,
        key: &str,
        state: &GroupState,
        expected: Option<u64>,
        _expires_at: Timestamp,
    ) -> Result<Saved, StateError> {
        let mut map = self.0.lock().expect("lock");
        let current = map.get(key).map(|s| s.revision);
        if current != expected {
            return Ok(Saved::Conflict);
        }
        let revision = expected.map_or(1, |r| r + 1);
        map.insert(
            key.to_owned(),
            Stored {
                state: state.clone(),
                revision,
            },
        );
        Ok(Saved::Written(revision))
    }
}
