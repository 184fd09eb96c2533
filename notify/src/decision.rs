//! Once per thing, not once per update: the pure decision whether a group (cluster +
//! involvedObject + reason) is notified now. A group is notified the first time it is seen, when
//! its occurrences cross the next threshold, and when it comes back after a quiet period.
//! No IO here; [`crate::notifier`] stores the state and claims each step.

use eventkeeper_core::Record;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Thresholds and quiet period.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Occurrence counts that trigger another notification, ascending (default 10, 100, 1000).
    pub thresholds: Vec<i64>,
    /// A group not seen for this long starts a new episode and is notified again (default 1 h).
    pub quiet: SignedDuration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            thresholds: vec![10, 100, 1000],
            quiet: SignedDuration::from_hours(1),
        }
    }
}

impl Policy {
    /// How many thresholds `count` has reached.
    pub fn level(&self, count: i64) -> usize {
        self.thresholds.iter().take_while(|t| count >= **t).count()
    }
}

/// The identity of a group, as stored: `cluster/kind/namespace/name/reason`.
pub fn group_key(record: &Record) -> String {
    let o = &record.involved_object;
    let part = |s: &Option<String>| s.as_deref().unwrap_or("").replace('/', "%2F");
    format!(
        "{}/{}/{}/{}/{}",
        record.cluster.replace('/', "%2F"),
        part(&o.kind),
        part(&o.namespace),
        part(&o.name),
        part(&record.reason)
    )
}

/// Why a group is notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "threshold")]
pub enum Step {
    /// Seen for the first time.
    First,
    /// Occurrences reached this threshold.
    Threshold(i64),
    /// Seen again after the quiet period.
    AfterQuiet,
}

/// What the store keeps about one group's current episode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    /// When the episode started (RFC 3339).
    pub first_seen: Option<Timestamp>,
    /// The latest time seen.
    pub last_seen: Option<Timestamp>,
    /// Highest occurrence count seen.
    pub count: i64,
    /// Thresholds already notified.
    pub level: usize,
    /// Notifications claimed for this group so far (across episodes).
    pub steps: u64,
}

/// When a record happened: its effective time, else when CloudWatch received it.
pub fn record_time(record: &Record, received: Timestamp) -> Timestamp {
    record
        .effective_time
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(received)
}

/// Folds one observation of the group into `episode`; returns the step it triggers, if any.
pub fn observe(episode: &mut Episode, count: i64, at: Timestamp, policy: &Policy) -> Option<Step> {
    let count = count.max(1);
    let step = match episode.last_seen {
        None => Some(Step::First),
        Some(last) if at.duration_since(last) >= policy.quiet => Some(Step::AfterQuiet),
        Some(_) => None,
    };
    if step.is_some() {
        *episode = Episode {
            first_seen: Some(at),
            last_seen: Some(at),
            count,
            level: policy.level(count),
            steps: episode.steps,
        };
        return step;
    }
    episode.last_seen = episode.last_seen.max(Some(at));
    episode.first_seen = episode.first_seen.min(Some(at));
    episode.count = episode.count.max(count);
    let level = policy.level(episode.count);
    if level > episode.level {
        episode.level = level;
        return Some(Step::Threshold(policy.thresholds[level - 1]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minute)
    }

    /// Steps for a sequence of (count, minute) observations.
    fn steps(seq: &[(i64, i64)]) -> Vec<Step> {
        let policy = Policy::default();
        let mut episode = Episode::default();
        seq.iter()
            .filter_map(|(count, minute)| observe(&mut episode, *count, at(*minute), &policy))
            .collect()
    }

    #[test]
    fn one_hundred_fifty_back_offs_give_three_steps() {
        let seq: Vec<(i64, i64)> = (1..=150).map(|n| (n, n / 5)).collect();
        assert_eq!(
            steps(&seq),
            vec![Step::First, Step::Threshold(10), Step::Threshold(100)]
        );
    }

    #[test]
    fn quiet_period_starts_a_new_episode() {
        assert_eq!(
            steps(&[(1, 0), (2, 30), (1, 90), (5, 100), (12, 110)]),
            vec![Step::First, Step::AfterQuiet, Step::Threshold(10)]
        );
    }

    #[test]
    fn a_jump_past_several_thresholds_is_one_step_and_late_records_do_not_rewind() {
        assert_eq!(
            steps(&[(1, 10), (150, 20), (3, 5), (999, 21), (1000, 22)]),
            vec![Step::First, Step::Threshold(100), Step::Threshold(1000)]
        );
    }
}
