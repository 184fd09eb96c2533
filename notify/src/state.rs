//! Where each group's episode and unfinished claim live: a store with optimistic concurrency.
//! Every write names the revision it read (`None`: the group must not exist yet) and fails with
//! [`Saved::Conflict`] when another invocation wrote first; the caller then reads again and
//! decides again. Groups are read a hundred at a time (BatchGetItem) and written a hundred at a
//! time (TransactWriteItems), each write under its own condition. [`DynamoState`] is the
//! production store; [`MemoryState`] serves unit tests.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::aws_error::aws_error_text;
use crate::batch_calls::{ItemOutcome, ReadAnswer, Settled, read_all, write_all};
use crate::decision::Episode;
use crate::message::Notification;

/// DynamoDB calls of this module (the IAM policy is generated from this list). A Put inside
/// TransactWriteItems is authorised as `dynamodb:PutItem`; IAM has no action of its own for it.
pub const DYNAMODB_ACTIONS: [&str; 2] = ["dynamodb:BatchGetItem", "dynamodb:PutItem"];

/// Keys per BatchGetItem call (DynamoDB's limit).
pub const BATCH_GET_KEYS: usize = 100;

/// Writes per TransactWriteItems call (DynamoDB's limit).
pub const TRANSACTION_ITEMS: usize = 100;

/// Bytes of items per transaction, under DynamoDB's 4 MB limit with room for attribute names.
const TRANSACTION_BYTES: usize = 4_000_000;

pub use crate::state_error::StateError;

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

/// One conditional write: `state` for `key` if the group is still at `expected` (`None`: absent);
/// `expires_at` is the TTL.
#[derive(Clone, Copy, Debug)]
pub struct Write<'a> {
    /// The group.
    pub key: &'a str,
    /// Its new state.
    pub state: &'a GroupState,
    /// The revision it was read at.
    pub expected: Option<u64>,
    /// When DynamoDB may delete it.
    pub expires_at: Timestamp,
}

impl Write<'_> {
    /// The revision the write stores.
    pub fn revision(&self) -> u64 {
        self.expected.map_or(1, |r| r + 1)
    }
}

/// A group-state store with conditional writes, a batch at a time: each DynamoDB call's CPU is
/// the notifier's main cost at a small function's CPU share.
pub trait StateStore {
    /// Reads groups (strongly consistent); absent groups are absent from the map.
    fn load_all(
        &self,
        keys: &[&str],
    ) -> impl Future<Output = Result<HashMap<String, Stored>, StateError>>;
    /// Makes each write whose condition holds; one outcome per write, in order. Writes are
    /// independent: one failing does not fail the others.
    fn save_all(
        &self,
        writes: &[Write<'_>],
    ) -> impl Future<Output = Vec<Result<Saved, StateError>>>;
}

/// The DynamoDB table: partition key `pk` (S), `rev` (N), `state` (S, JSON), `expiresAt` (N,
/// the TTL attribute, epoch seconds). Reads with BatchGetItem, writes with TransactWriteItems,
/// each Put under its own condition (see [`crate::batch_calls`] for partial answers and
/// cancelled transactions), `parallel_calls` calls at a time. A transaction is used for its
/// size, not its atomicity: one call carries a hundred claims, and the calls' CPU is what a
/// small function's CPU share makes slow.
#[derive(Clone, Debug)]
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
    parallel_calls: usize,
}

impl DynamoState {
    /// A store on `table`, with at most `parallel_calls` DynamoDB calls in flight.
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        parallel_calls: usize,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            parallel_calls: parallel_calls.max(1),
        }
    }

    /// One BatchGetItem call.
    async fn batch_get(
        &self,
        keys: Vec<String>,
    ) -> Result<ReadAnswer<String, (String, Stored)>, StateError> {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(
                keys.into_iter()
                    .map(|k| HashMap::from([("pk".to_owned(), AttributeValue::S(k))]))
                    .collect(),
            ))
            .consistent_read(true)
            .build()
            .map_err(|e| StateError::ReadFailed(e.to_string()))?;
        let out = self
            .client
            .batch_get_item()
            .request_items(&self.table, request)
            .send()
            .await
            .map_err(|e| StateError::ReadFailed(aws_error_text(e)))?;
        let found = out
            .responses
            .and_then(|mut r| r.remove(&self.table))
            .unwrap_or_default()
            .into_iter()
            .map(parse_item)
            .collect::<Result<_, _>>()?;
        let unprocessed = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(&self.table))
            .map(|k| {
                k.keys
                    .into_iter()
                    .map(|key| match key.get("pk") {
                        Some(AttributeValue::S(pk)) => Ok(pk.clone()),
                        _ => Err(StateError::Corrupt("unprocessed key without pk".into())),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(ReadAnswer { found, unprocessed })
    }

    /// One conditional Put of `write` (its state serialised as `json`), as a transaction item.
    fn put(&self, write: &Write<'_>, json: &str) -> Result<TransactWriteItem, StateError> {
        let put = Put::builder()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(write.key.to_owned()))
            .item("rev", AttributeValue::N(write.revision().to_string()))
            .item("state", AttributeValue::S(json.to_owned()))
            .item(
                "expiresAt",
                AttributeValue::N(write.expires_at.as_second().to_string()),
            );
        let put = match write.expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(r) => put
                .condition_expression("rev = :rev")
                .expression_attribute_values(":rev", AttributeValue::N(r.to_string())),
        };
        let put = put
            .build()
            .map_err(|e| StateError::WriteFailed(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// One TransactWriteItems call of `items` (indexes into `writes` and their `jsons`): one
    /// outcome per item.
    async fn transact(
        &self,
        writes: &[Write<'_>],
        jsons: &[String],
        items: &[usize],
    ) -> Result<Vec<ItemOutcome>, StateError> {
        let puts = items
            .iter()
            .map(|i| self.put(&writes[*i], &jsons[*i]))
            .collect::<Result<Vec<_>, _>>()?;
        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(puts))
            .send()
            .await
        {
            Ok(_) => return Ok(vec![ItemOutcome::Written; items.len()]),
            Err(error) => error,
        };
        let Some(service) = error.as_service_error() else {
            return Err(StateError::WriteFailed(aws_error_text(error)));
        };
        match service {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => Ok(cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| item_outcome(reason.code(), reason.message()))
                .collect()),
            // Still throttled after the SDK's own retries: back off and try again.
            e if e.is_provisioned_throughput_exceeded_exception()
                || e.is_request_limit_exceeded()
                || e.is_throttling_exception()
                || e.is_transaction_in_progress_exception() =>
            {
                tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&error), "Group writes throttled; trying again");
                Ok(vec![ItemOutcome::Busy; items.len()])
            }
            _ => Err(StateError::WriteFailed(aws_error_text(error))),
        }
    }
}

/// What a cancellation reason says about its item (codes from the TransactWriteItems reference).
fn item_outcome(code: Option<&str>, message: Option<&str>) -> ItemOutcome {
    match code.unwrap_or("None") {
        "None" => ItemOutcome::Cancelled,
        "ConditionalCheckFailed" => ItemOutcome::ConditionFailed,
        "TransactionConflict"
        | "ThrottlingError"
        | "ProvisionedThroughputExceeded"
        | "RequestLimitExceeded" => ItemOutcome::Busy,
        other => ItemOutcome::Failed(format!("{other}: {}", message.unwrap_or(""))),
    }
}

/// Splits `writes` into transactions: at most [`TRANSACTION_ITEMS`] writes and
/// [`TRANSACTION_BYTES`] of items each, in order.
fn transactions(writes: &[Write<'_>], jsons: &[String]) -> Vec<Vec<usize>> {
    let mut all: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for (i, write) in writes.iter().enumerate() {
        // Key twice (pk and the condition), the JSON, the numbers and attribute names.
        let size = 2 * write.key.len() + jsons[i].len() + 64;
        match all.last_mut() {
            Some(last) if last.len() < TRANSACTION_ITEMS && bytes + size <= TRANSACTION_BYTES => {
                last.push(i);
                bytes += size;
            }
            _ => {
                all.push(vec![i]);
                bytes = size;
            }
        }
    }
    all
}

/// A stored item as a group key and its state.
fn parse_item(item: HashMap<String, AttributeValue>) -> Result<(String, Stored), StateError> {
    let key = item
        .get("pk")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StateError::Corrupt("no pk".into()))?
        .clone();
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
    Ok((key, Stored { state, revision }))
}

impl StateStore for DynamoState {
    async fn load_all(&self, keys: &[&str]) -> Result<HashMap<String, Stored>, StateError> {
        let chunks: Vec<Vec<String>> = keys
            .chunks(BATCH_GET_KEYS)
            .map(|c| c.iter().map(|k| (*k).to_owned()).collect())
            .collect();
        let found: Vec<Vec<(String, Stored)>> = futures::stream::iter(chunks)
            .map(|chunk| read_all(chunk, |wanted| self.batch_get(wanted)))
            .buffer_unordered(self.parallel_calls)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn save_all(&self, writes: &[Write<'_>]) -> Vec<Result<Saved, StateError>> {
        let jsons: Vec<String> = writes
            .iter()
            .map(|w| serde_json::to_string(w.state).expect("state serialises"))
            .collect();
        let jsons = &jsons;
        let settled: Vec<Vec<(usize, Result<Settled, StateError>)>> =
            futures::stream::iter(transactions(writes, jsons))
                .map(|items| {
                    write_all(items, move |wanted: Vec<usize>| async move {
                        self.transact(writes, jsons, &wanted).await
                    })
                })
                .buffer_unordered(self.parallel_calls)
                .collect()
                .await;
        let mut saved: Vec<Option<Result<Saved, StateError>>> = vec![None; writes.len()];
        for (i, result) in settled.into_iter().flatten() {
            saved[i] = Some(result.map(|s| match s {
                Settled::Written => Saved::Written(writes[i].revision()),
                Settled::ConditionFailed => Saved::Conflict,
            }));
        }
        saved
            .into_iter()
            .map(|s| s.expect("every write settles"))
            .collect()
    }
}

/// An in-memory store with the same semantics (unit tests and the benchmark's baseline).
#[derive(Debug, Default)]
pub struct MemoryState(std::sync::Mutex<HashMap<String, Stored>>);

impl StateStore for MemoryState {
    async fn load_all(&self, keys: &[&str]) -> Result<HashMap<String, Stored>, StateError> {
        let map = self.0.lock().expect("lock");
        Ok(keys
            .iter()
            .filter_map(|k| map.get(*k).map(|s| ((*k).to_owned(), s.clone())))
            .collect())
    }

    async fn save_all(&self, writes: &[Write<'_>]) -> Vec<Result<Saved, StateError>> {
        let mut map = self.0.lock().expect("lock");
        writes
            .iter()
            .map(|write| {
                if map.get(write.key).map(|s| s.revision) != write.expected {
                    return Ok(Saved::Conflict);
                }
                map.insert(
                    write.key.to_owned(),
                    Stored {
                        state: write.state.clone(),
                        revision: write.revision(),
                    },
                );
                Ok(Saved::Written(write.revision()))
            })
            .collect()
    }
}
