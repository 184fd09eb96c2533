//! What a soak found: every observation the simulator made, looked for in the replicas' stdout
//! and in the CloudWatch backfill stream, by its idempotency key (uid, resourceVersion).
//!
//! An observation found nowhere is **superseded** when a later version of the same Event was
//! delivered (a list, after a real 410 or in a backfill, only shows an Event's latest version),
//! and **lost** otherwise.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use eventkeeper_tests::tally::Tally;
use serde_json::Value;

/// A key: (uid, resourceVersion).
pub type Key = (String, String);

/// Where the missing observations went, and how often each was written.
pub struct Delivery {
    /// Observations the simulator made.
    pub observations: usize,
    /// Superseded while a 410 relist was the only way to see them.
    pub superseded_by_relist: Vec<Key>,
    /// Superseded during a backfill (the catch-up's list shows the latest version only).
    pub superseded_in_backfill: Vec<Key>,
    /// Found nowhere and never superseded.
    pub lost: Vec<Key>,
    /// Lines on stdout beyond the first of each key.
    pub stdout_duplicates: u64,
    /// Messages in CloudWatch beyond the first of each key.
    pub cloudwatch_duplicates: u64,
    /// Keys both on stdout and in CloudWatch.
    pub cross_duplicates: u64,
    /// The first observation (in resourceVersion order) written more than once anywhere.
    pub first_duplicate: Option<Key>,
}

impl Delivery {
    /// Sorts every observation into delivered, superseded or lost. `backfill_windows` are the
    /// resourceVersion ranges `(after, through]` each backfill's list covered.
    pub fn classify(
        observations: &[Value],
        stdout: &Tally,
        cloudwatch: &Tally,
        backfill_windows: &[(u64, u64)],
    ) -> Self {
        let mut latest_delivered: HashMap<&str, u64> = HashMap::new();
        for (uid, rv) in stdout.keys().chain(cloudwatch.keys()) {
            let rv = rv.parse().unwrap_or(0);
            let entry = latest_delivered.entry(uid.as_str()).or_default();
            *entry = (*entry).max(rv);
        }
        let mut delivery = Self {
            observations: observations.len(),
            superseded_by_relist: Vec::new(),
            superseded_in_backfill: Vec::new(),
            lost: Vec::new(),
            stdout_duplicates: duplicates(stdout),
            cloudwatch_duplicates: duplicates(cloudwatch),
            cross_duplicates: stdout
                .keys()
                .filter(|k| cloudwatch.contains_key(*k))
                .count() as u64,
            first_duplicate: None,
        };
        for observation in observations {
            let key = key_of(observation);
            let on_stdout = stdout.get(&key).copied().unwrap_or(0);
            let in_cloudwatch = cloudwatch.get(&key).copied().unwrap_or(0);
            if on_stdout + in_cloudwatch > 1 && delivery.first_duplicate.is_none() {
                delivery.first_duplicate = Some(key.clone());
            }
            if on_stdout + in_cloudwatch > 0 {
                continue;
            }
            let rv: u64 = key.1.parse().unwrap_or(0);
            let superseded = latest_delivered
                .get(key.0.as_str())
                .is_some_and(|latest| *latest > rv);
            if !superseded {
                delivery.lost.push(key);
            } else if backfill_windows
                .iter()
                .any(|(after, through)| rv > *after && rv <= *through)
            {
                delivery.superseded_in_backfill.push(key);
            } else {
                delivery.superseded_by_relist.push(key);
            }
        }
        delivery
    }

    /// Every extra copy, wherever it is.
    pub fn total_duplicates(&self) -> u64 {
        self.stdout_duplicates + self.cloudwatch_duplicates + self.cross_duplicates
    }
}

fn duplicates(tally: &Tally) -> u64 {
    tally.values().map(|n| u64::from(n.saturating_sub(1))).sum()
}

/// The relists an emitter's log (text format) names, as resourceVersion windows
/// `(after, listed at]`: a version inside one may have been superseded before the list saw it.
/// A list with no position (a first start, `after=None`) is not a window: nothing was skipped.
pub fn relist_windows(log: &str) -> Vec<(u64, u64)> {
    let mut windows = Vec::new();
    let mut after: Option<Option<u64>> = None;
    for line in log.lines().map(strip_ansi) {
        if let Some(rest) = line.split_once("Listing events").map(|(_, r)| r.to_owned()) {
            let field = rest.split_once("after=").map_or("", |(_, v)| v);
            after = Some(first_number(field));
        } else if let Some(rest) = line.split_once("Listed events").map(|(_, r)| r.to_owned())
            && let Some(Some(from)) = after.take()
            && let Some(to) = rest
                .split_once("resource_version=")
                .and_then(|(_, v)| first_number(v))
        {
            windows.push((from, to));
        }
    }
    windows
}

/// `line` without its terminal colour codes.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first run of digits at the start of a field's value (`Some(ResourceVersion(12))`, `"12"`),
/// `None` when the value starts with `None`.
fn first_number(value: &str) -> Option<u64> {
    let value = value.split_whitespace().next().unwrap_or("");
    let digits: String = value
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The key of an observation of the simulator's log.
pub fn key_of(observation: &Value) -> Key {
    let text = |f: &str| observation[f].as_str().unwrap_or_default().to_owned();
    (text("uid"), text("resourceVersion"))
}

/// The observation `key` with the three before and after it in the simulator's log, and where
/// each of them was written: what a reader of a failed run looks at first.
pub fn neighbourhood(
    observations: &[Value],
    key: &Key,
    stdout_by_file: &BTreeMap<String, Tally>,
    cloudwatch: &Tally,
) -> String {
    let Some(at) = observations.iter().position(|o| key_of(o) == *key) else {
        return format!("{key:?} is not in the observation log\n");
    };
    let mut text = String::new();
    for (i, observation) in observations
        .iter()
        .enumerate()
        .take(at + 4)
        .skip(at.saturating_sub(3))
    {
        let k = key_of(observation);
        let mut seen: Vec<String> = stdout_by_file
            .iter()
            .filter_map(|(file, tally)| tally.get(&k).map(|n| format!("{file}×{n}")))
            .collect();
        if let Some(n) = cloudwatch.get(&k) {
            seen.push(format!("cloudwatch×{n}"));
        }
        let marker = if i == at { ">>" } else { "  " };
        let _ = writeln!(
            text,
            "{marker} rv {} uid {} {} {}/{}: {}",
            k.1,
            k.0,
            observation["type"].as_str().unwrap_or(""),
            observation["namespace"].as_str().unwrap_or(""),
            observation["reason"].as_str().unwrap_or(""),
            if seen.is_empty() {
                "nowhere".to_owned()
            } else {
                seen.join(", ")
            }
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tally(keys: &[(&str, &str, u32)]) -> Tally {
        keys.iter()
            .map(|(u, r, n)| (((*u).to_owned(), (*r).to_owned()), *n))
            .collect()
    }

    #[test]
    fn relist_windows_come_from_the_listing_and_listed_lines() {
        let log = "\u{1b}[32m INFO\u{1b}[0m Listing events scope=\"*\" after=None\n\
            INFO Listed events scope=\"*\" emitted=0 resource_version=\"2\"\n\
            INFO Resource version expired, listing again\n\
            INFO Listing events scope=\"*\" after=Some(ResourceVersion(40))\n\
            INFO Listed events scope=\"*\" emitted=3 resource_version=\"97\"\n";
        assert_eq!(relist_windows(log), vec![(40, 97)]);
    }

    #[test]
    fn missing_versions_are_superseded_only_when_a_later_one_arrived() {
        let observations: Vec<Value> = [("a", "1"), ("a", "2"), ("b", "3"), ("a", "4"), ("c", "5")]
            .iter()
            .map(|(u, r)| json!({"uid": u, "resourceVersion": r}))
            .collect();
        let stdout = tally(&[("a", "1", 2), ("a", "4", 1)]);
        let cloudwatch = tally(&[("a", "4", 1), ("b", "3", 1)]);
        let d = Delivery::classify(&observations, &stdout, &cloudwatch, &[(3, 5)]);
        assert_eq!(d.superseded_by_relist, vec![("a".into(), "2".into())]);
        assert_eq!(d.lost, vec![("c".into(), "5".into())]);
        assert!(d.superseded_in_backfill.is_empty());
        assert_eq!(
            (
                d.stdout_duplicates,
                d.cloudwatch_duplicates,
                d.cross_duplicates
            ),
            (1, 0, 1)
        );
        assert_eq!(d.first_duplicate, Some(("a".into(), "1".into())));
    }
}
