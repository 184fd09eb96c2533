//! Gap detection: Events live one hour after their last update. If the last good run is older
//! than that, observations made in between may have expired unseen.

use jiff::{SignedDuration, Timestamp};

/// A window in which observations may have been lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PossibleGap {
    /// End of the last good run: everything up to here was archived.
    pub from: Timestamp,
    /// Events last updated before this instant have expired by now.
    pub until: Timestamp,
}

impl PossibleGap {
    /// Length of the window in whole seconds.
    pub fn seconds(&self) -> i64 {
        self.until.duration_since(self.from).as_secs().max(0)
    }
}

/// The window that may be lost, if any: from the last good run to `now - ttl`.
/// A first run (no previous good run) has nothing to compare with and reports none.
pub fn possible_gap(
    last_good_run: Option<Timestamp>,
    now: Timestamp,
    ttl: SignedDuration,
) -> Option<PossibleGap> {
    let from = last_good_run?;
    let until = now.checked_sub(ttl).ok()?;
    (until > from).then_some(PossibleGap { from, until })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Timestamp {
        text.parse().expect("test time")
    }

    const HOUR: SignedDuration = SignedDuration::from_hours(1);

    /// The gap between a last good run and `now`, both RFC 3339, with the one-hour TTL.
    fn gap_between(last_good_run: &str, now: &str) -> Option<PossibleGap> {
        possible_gap(Some(t(last_good_run)), t(now), HOUR)
    }

    #[test]
    fn a_normal_schedule_has_no_gap() {
        let gap = gap_between("2026-11-23T09:00:00Z", "2026-11-23T09:30:00Z");
        assert_eq!(gap, None);
        let gap = gap_between("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z");
        assert_eq!(gap, None, "exactly one TTL apart loses nothing");
    }

    #[test]
    fn a_long_pause_reports_the_window() {
        let gap = gap_between("2026-11-23T06:00:00Z", "2026-11-23T09:30:00Z").expect("a gap");
        assert_eq!(gap.from, t("2026-11-23T06:00:00Z"));
        assert_eq!(gap.until, t("2026-11-23T08:30:00Z"));
        assert_eq!(gap.seconds(), 9000);
    }

    #[test]
    fn the_first_run_reports_none() {
        assert_eq!(possible_gap(None, Timestamp::now(), HOUR), None);
    }
}
