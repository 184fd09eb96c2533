//! DynamoDB's batch calls answer in part. BatchGetItem hands back the keys it did not process
//! (throttled, or past 16 MB of answer): [`read_all`] asks again, with backoff, until every key
//! is answered, never guessing: a key still unprocessed after the last attempt is an error (the
//! batch is run again), never an absent group. A cancelled TransactWriteItems names, per item,
//! why: [`write_all`] settles the items whose condition failed (a rival wrote first) and tries
//! the others again in a new transaction, with backoff while throttled or in a rival's
//! transaction. The call is a parameter, so the answers moto never gives (throttling,
//! transaction conflicts) are tested here with fakes.

use std::future::Future;
use std::time::Duration;

use crate::state_error::StateError;

/// Consecutive calls that read nothing before giving up.
pub const MAX_STALLED_CALLS: u32 = 6;
/// Wait after the first call that read nothing; doubled for each further one.
pub const FIRST_WAIT: Duration = Duration::from_millis(25);

/// The wait before the next call: short after progress, growing while nothing is read.
fn wait_before_next(stalled: u32) -> Duration {
    FIRST_WAIT * 2u32.pow(stalled.saturating_sub(1).min(10))
}

/// One BatchGetItem answer: what it found, and what it did not process.
pub struct ReadAnswer<K, V> {
    /// Items found (absent keys are neither here nor unprocessed).
    pub found: Vec<V>,
    /// Keys to ask for again.
    pub unprocessed: Vec<K>,
}

/// Reads `keys` with `call` (one BatchGetItem), asking again for unprocessed keys until none
/// are left; fails when [`MAX_STALLED_CALLS`] calls in a row process none of them.
pub async fn read_all<K, V, F, Fut>(keys: Vec<K>, mut call: F) -> Result<Vec<V>, StateError>
where
    F: FnMut(Vec<K>) -> Fut,
    Fut: Future<Output = Result<ReadAnswer<K, V>, StateError>>,
{
    let mut found = Vec::new();
    let mut wanted = keys;
    let mut stalled = 0;
    while !wanted.is_empty() {
        let asked = wanted.len();
        let answer = call(wanted).await?;
        found.extend(answer.found);
        wanted = answer.unprocessed;
        if wanted.is_empty() {
            break;
        }
        stalled = if wanted.len() < asked { 0 } else { stalled + 1 };
        if stalled >= MAX_STALLED_CALLS {
            return Err(StateError::Unprocessed(wanted.len(), stalled));
        }
        tokio::time::sleep(wait_before_next(stalled.max(1))).await;
    }
    Ok(found)
}

/// What a transaction did with one of its writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Written: the transaction committed.
    Written,
    /// Its condition failed: another invocation wrote the item first.
    ConditionFailed,
    /// Not written because another item cancelled the transaction: try it again at once.
    Cancelled,
    /// Throttled, or the item was in another transaction: try it again after a wait.
    Busy,
    /// Refused for a reason a retry cannot fix (validation, size).
    Failed(String),
}

/// Where a write ended: written, or its condition failed (the caller reads and decides again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Written.
    Written,
    /// Another invocation wrote first.
    ConditionFailed,
}

/// Writes `items` with `call` (one TransactWriteItems, answering one [`ItemOutcome`] per item,
/// in order) until each is written, lost its condition or failed; items cancelled only because
/// of others go again in a new transaction. Fails the items left when [`MAX_STALLED_CALLS`]
/// calls in a row settle none of them. One result per item, in the order they settle.
pub async fn write_all<K, F, Fut>(
    items: Vec<K>,
    mut call: F,
) -> Vec<(K, Result<Settled, StateError>)>
where
    K: Clone,
    F: FnMut(Vec<K>) -> Fut,
    Fut: Future<Output = Result<Vec<ItemOutcome>, StateError>>,
{
    let mut settled = Vec::with_capacity(items.len());
    let mut wanted = items;
    let mut stalled = 0;
    while !wanted.is_empty() {
        let asked = wanted.len();
        let outcomes = match call(wanted.clone()).await {
            Ok(outcomes) if outcomes.len() == asked => outcomes,
            Ok(outcomes) => {
                let error = StateError::WriteFailed(format!(
                    "a transaction of {asked} writes answered for {}",
                    outcomes.len()
                ));
                settled.extend(wanted.into_iter().map(|k| (k, Err(error.clone()))));
                break;
            }
            Err(error) => {
                settled.extend(wanted.into_iter().map(|k| (k, Err(error.clone()))));
                break;
            }
        };
        let mut again = Vec::new();
        let mut busy = false;
        for (item, outcome) in wanted.into_iter().zip(outcomes) {
            match outcome {
                ItemOutcome::Written => settled.push((item, Ok(Settled::Written))),
                ItemOutcome::ConditionFailed => settled.push((item, Ok(Settled::ConditionFailed))),
                ItemOutcome::Failed(reason) => {
                    settled.push((item, Err(StateError::WriteFailed(reason))));
                }
                ItemOutcome::Cancelled => again.push(item),
                ItemOutcome::Busy => {
                    busy = true;
                    again.push(item);
                }
            }
        }
        wanted = again;
        if wanted.is_empty() {
            break;
        }
        stalled = if wanted.len() < asked { 0 } else { stalled + 1 };
        if stalled >= MAX_STALLED_CALLS {
            let error = StateError::WriteFailed(format!(
                "{} write(s) still unsettled after {stalled} transactions in a row that settled none",
                wanted.len()
            ));
            settled.extend(wanted.into_iter().map(|k| (k, Err(error.clone()))));
            break;
        }
        if busy || stalled > 0 {
            tokio::time::sleep(wait_before_next(stalled.max(1))).await;
        }
    }
    settled
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[tokio::test]
    async fn unprocessed_keys_are_asked_for_again_until_all_are_read() {
        // A throttled table: the first call processes nothing, then one key per call.
        let calls = RefCell::new(Vec::new());
        let found = read_all(vec!["a", "b", "c"], |wanted: Vec<&str>| {
            calls.borrow_mut().push(wanted.clone());
            let first = calls.borrow().len() == 1;
            async move {
                Ok(if first {
                    ReadAnswer {
                        found: vec![],
                        unprocessed: wanted,
                    }
                } else {
                    ReadAnswer {
                        found: vec![wanted[0].to_uppercase()],
                        unprocessed: wanted[1..].to_vec(),
                    }
                })
            }
        })
        .await
        .expect("read");
        assert_eq!(found, ["A", "B", "C"]);
        assert_eq!(
            calls.into_inner(),
            [
                vec!["a", "b", "c"],
                vec!["a", "b", "c"],
                vec!["b", "c"],
                vec!["c"]
            ]
        );
    }

    #[tokio::test]
    async fn keys_never_processed_are_an_error_not_absent_groups() {
        let started = std::time::Instant::now();
        let mut calls = 0;
        let result = read_all(vec!["a", "b"], |wanted: Vec<&str>| {
            calls += 1;
            async move {
                Ok::<_, StateError>(ReadAnswer::<&str, String> {
                    found: vec![],
                    unprocessed: wanted,
                })
            }
        })
        .await;
        assert!(
            matches!(result, Err(StateError::Unprocessed(2, MAX_STALLED_CALLS))),
            "{result:?}"
        );
        assert_eq!(calls, MAX_STALLED_CALLS);
        // Backed off between calls: 25 + 50 + 100 + 200 + 400 ms.
        assert!(started.elapsed() >= Duration::from_millis(775));
    }

    /// A fake transaction: `answers` gives each call's outcome for each item it is asked.
    fn outcome_of(
        table: &[(&'static str, Vec<ItemOutcome>)],
        item: &str,
        call: usize,
    ) -> ItemOutcome {
        let answers = &table
            .iter()
            .find(|(k, _)| *k == item)
            .expect("known item")
            .1;
        answers[call.min(answers.len() - 1)].clone()
    }

    #[tokio::test]
    async fn a_cancelled_transaction_settles_lost_conditions_and_retries_only_the_rest() {
        use ItemOutcome::*;
        // "b" lost to a rival; "a" and "c" were cancelled because of it, then commit.
        let table = [
            ("a", vec![Cancelled, Written]),
            ("b", vec![ConditionFailed]),
            ("c", vec![Cancelled, Written]),
        ];
        let calls = RefCell::new(Vec::new());
        let started = std::time::Instant::now();
        let settled = write_all(vec!["a", "b", "c"], |wanted: Vec<&'static str>| {
            let call = calls.borrow().len();
            calls.borrow_mut().push(wanted.clone());
            let answer = wanted.iter().map(|k| outcome_of(&table, k, call)).collect();
            async move { Ok(answer) }
        })
        .await;
        assert_eq!(
            settled
                .into_iter()
                .map(|(k, r)| (k, r.expect("settled")))
                .collect::<Vec<_>>(),
            [
                ("b", Settled::ConditionFailed),
                ("a", Settled::Written),
                ("c", Settled::Written)
            ]
        );
        assert_eq!(calls.into_inner(), [vec!["a", "b", "c"], vec!["a", "c"]]);
        // Progress was made: the second transaction went at once.
        assert!(started.elapsed() < FIRST_WAIT);
    }

    #[tokio::test]
    async fn throttled_and_conflicting_items_are_retried_with_backoff() {
        use ItemOutcome::*;
        let table = [
            ("a", vec![Busy, Busy, Written]),
            ("b", vec![Cancelled, Cancelled, Written]),
            ("c", vec![Failed("ValidationError: too big".into())]),
        ];
        let mut calls = 0;
        let started = std::time::Instant::now();
        let settled = write_all(vec!["a", "b", "c"], |wanted: Vec<&'static str>| {
            let answer = wanted
                .iter()
                .map(|k| outcome_of(&table, k, calls))
                .collect();
            calls += 1;
            async move { Ok(answer) }
        })
        .await;
        assert_eq!(calls, 3);
        let by_item: std::collections::HashMap<_, _> = settled.into_iter().collect();
        assert!(
            matches!(by_item["c"], Err(StateError::WriteFailed(ref r)) if r.contains("too big"))
        );
        assert_eq!(by_item["a"].as_ref().ok(), Some(&Settled::Written));
        assert_eq!(by_item["b"].as_ref().ok(), Some(&Settled::Written));
        // Waited after each busy answer: 25 ms (progress: "c" settled), then 25 ms (stalled once).
        assert!(started.elapsed() >= 2 * FIRST_WAIT);
    }

    #[tokio::test]
    async fn items_never_settled_are_an_error_not_written() {
        let mut calls = 0;
        let settled = write_all(vec!["a", "b"], |wanted: Vec<&str>| {
            calls += 1;
            async move { Ok(vec![ItemOutcome::Busy; wanted.len()]) }
        })
        .await;
        assert_eq!(calls, MAX_STALLED_CALLS);
        assert_eq!(settled.len(), 2);
        assert!(
            settled
                .iter()
                .all(|(_, r)| matches!(r, Err(StateError::WriteFailed(_))))
        );
    }

    #[tokio::test]
    async fn a_failed_call_fails_every_item_it_carried() {
        let settled = write_all(vec!["a", "b"], |_| async {
            Err(StateError::WriteFailed("connection reset".into()))
        })
        .await;
        assert_eq!(settled.len(), 2);
        assert!(settled.iter().all(|(_, r)| r.is_err()));
    }
}
