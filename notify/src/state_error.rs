//! Why the notifier's group state could not be read or written: one error for the store
//! ([`crate::state`]) and the batched DynamoDB calls under it ([`crate::batch_calls`]).

/// Why the state could not be read or written. Every variant is retryable: the batch fails and
/// Lambda runs it again.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StateError {
    /// BatchGetItem failed.
    #[error("reading group state failed: {0}")]
    ReadFailed(String),
    /// A write failed (other than a lost condition).
    #[error("writing group state failed: {0}")]
    WriteFailed(String),
    /// BatchGetItem kept leaving keys unprocessed (throttled).
    #[error("{0} group state(s) still unprocessed after {1} calls in a row that read none")]
    Unprocessed(usize, u32),
    /// The stored item is not this notifier's JSON.
    #[error("stored group state is unreadable: {0}")]
    Corrupt(String),
}
