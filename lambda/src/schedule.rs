//! Which scheduled run an invocation belongs to. EventBridge delivers at least once, so the run's
//! identity must come from the schedule, not from the moment the invocation happened to start.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// Why the payload's scheduled time could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    /// The payload named a scheduled time that is not RFC 3339.
    #[error("scheduled time {0:?} is not an RFC 3339 time")]
    BadScheduledTime(String),
}

/// The scheduled time of this run: the payload's `scheduledTime` (EventBridge Scheduler's
/// `<aws.scheduler.scheduled-time>`) or `time` (an EventBridge rule's event), else `now` rounded
/// down to the schedule interval.
pub fn scheduled_time(
    payload: &Value,
    now: Timestamp,
    interval: SignedDuration,
) -> Result<Timestamp, ScheduleError> {
    let given = ["scheduledTime", "scheduled_time", "time"]
        .iter()
        .find_map(|key| payload.get(key).and_then(Value::as_str));
    match given {
        Some(text) => text
            .parse()
            .map_err(|_| ScheduleError::BadScheduledTime(text.to_owned())),
        None => Ok(round_down(now, interval)),
    }
}

fn round_down(now: Timestamp, interval: SignedDuration) -> Timestamp {
    let step = interval.as_secs().max(1);
    let secs = now.as_second().div_euclid(step) * step;
    Timestamp::from_second(secs).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t(text: &str) -> Timestamp {
        text.parse().expect("test time")
    }

    /// The scheduled time of `payload` received at `now` on a 30-minute schedule.
    fn every_half_hour(payload: &Value, now: Timestamp) -> Result<Timestamp, ScheduleError> {
        scheduled_time(payload, now, SignedDuration::from_mins(30))
    }

    #[test]
    fn uses_the_schedulers_time() {
        let payload = json!({"scheduledTime": "2026-11-23T09:30:00Z"});
        let got = every_half_hour(&payload, t("2026-11-23T09:31:07Z"));
        assert_eq!(got, Ok(t("2026-11-23T09:30:00Z")));
        let rule_event = json!({"time": "2026-11-23T10:00:00Z", "detail-type": "Scheduled Event"});
        let got = every_half_hour(&rule_event, t("2026-11-23T10:00:09Z"));
        assert_eq!(got, Ok(t("2026-11-23T10:00:00Z")));
    }

    #[test]
    fn falls_back_to_now_rounded_to_the_interval() {
        let got = every_half_hour(&json!({}), t("2026-11-23T09:44:59Z"));
        assert_eq!(got, Ok(t("2026-11-23T09:30:00Z")));
    }

    #[test]
    fn rejects_a_bad_time() {
        let got = every_half_hour(&json!({"scheduledTime": "soon"}), Timestamp::now());
        assert!(matches!(got, Err(ScheduleError::BadScheduledTime(_))));
    }
}
