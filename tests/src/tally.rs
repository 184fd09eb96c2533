//! Counting observations by their idempotency key, (uid, resourceVersion): what the end-to-end
//! tests compare to say "nothing lost" and "each exactly once".

use std::collections::BTreeMap;

use serde_json::Value;

/// (uid, resourceVersion) → how many times.
pub type Tally = BTreeMap<(String, String), u32>;

/// Counts record lines (`metadata.uid`, `metadata.resourceVersion`).
pub fn tally_records<'a>(records: impl IntoIterator<Item = &'a Value>) -> Tally {
    tally_by(records, |record| &record["metadata"])
}

/// Counts the simulator's observations (`uid`, `resourceVersion` at the top).
pub fn tally_observations<'a>(observations: impl IntoIterator<Item = &'a Value>) -> Tally {
    tally_by(observations, |observation| observation)
}

fn tally_by<'a>(
    items: impl IntoIterator<Item = &'a Value>,
    identity: impl Fn(&'a Value) -> &'a Value,
) -> Tally {
    let mut tally = Tally::new();
    for item in items {
        let identity = identity(item);
        let text = |field: &str| identity[field].as_str().unwrap_or_default().to_owned();
        *tally
            .entry((text("uid"), text("resourceVersion")))
            .or_default() += 1;
    }
    tally
}
