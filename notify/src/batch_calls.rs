//! DynamoDB's batch reads answer in part: BatchGetItem hands back the keys it did not process
//! (throttled, or past 16 MB of answer). This loop asks again, with backoff, until every key is
//! answered, never guessing: a key still unprocessed after the last attempt is an error (the
//! batch is run again), never an absent group. The call is a parameter, so the partial answers
//! moto never gives (throttling) are tested here with a fake.

use std::future::Future;
use std::time::Duration;

use crate::state::StateError;

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
}
