//! The time window a question is about, and the ages printed for it (`5m`, `3h`, `2d4h`, as
//! `kubectl events` prints them).

use jiff::{SignedDuration, Timestamp};

/// A closed interval of time: Events whose effective time falls inside it are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Earliest effective time included.
    pub from: Timestamp,
    /// Latest effective time included.
    pub to: Timestamp,
}

/// Why a window could not be made from the flags.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WindowError {
    /// `--since` is not a duration such as `90m`, `6h`, `3d`.
    #[error("--since {0:?} is not a duration such as 90m, 6h or 3d")]
    BadDuration(String),
    /// `--from`/`--to` is not an RFC 3339 time.
    #[error("{flag} {text:?} is not an RFC 3339 time such as 2026-11-23T09:30:00Z")]
    BadTime {
        /// The flag that held it.
        flag: &'static str,
        /// What was given.
        text: String,
    },
    /// `--from` is after `--to`.
    #[error("--from is after --to")]
    Reversed,
}

impl Window {
    /// From `--since` (relative to `now`) or `--from`/`--to` (either may be open: `--to` defaults
    /// to `now`, `--from` to `default_since` before `--to`).
    pub fn from_flags(
        since: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        default_since: SignedDuration,
        now: Timestamp,
    ) -> Result<Self, WindowError> {
        let to = match to {
            Some(text) => parse_time("--to", text)?,
            None => now,
        };
        let from = match (from, since) {
            (Some(text), _) => parse_time("--from", text)?,
            (None, Some(text)) => {
                let span =
                    parse_duration(text).ok_or_else(|| WindowError::BadDuration(text.into()))?;
                now - span
            }
            (None, None) => to - default_since,
        };
        if from > to {
            return Err(WindowError::Reversed);
        }
        Ok(Self { from, to })
    }

    /// Whether `at` is inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at <= self.to
    }

    /// The part of the window that is at most `span` before `now`, if any.
    pub fn recent(&self, now: Timestamp, span: SignedDuration) -> Option<Window> {
        let from = self.from.max(now - span);
        (from <= self.to).then_some(Window { from, to: self.to })
    }
}

fn parse_time(flag: &'static str, text: &str) -> Result<Timestamp, WindowError> {
    text.parse().map_err(|_| WindowError::BadTime {
        flag,
        text: text.into(),
    })
}

/// `90s`, `30m`, `6h`, `3d`, `1w`, or a sum such as `1d12h`.
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !digits.is_empty() {
        return None;
    }
    Some(SignedDuration::from_secs(total))
}

/// How long ago `at` was, as Kubernetes prints ages (`HumanDuration`): `45s`, `5m10s`, `95m`,
/// `3h20m`, `30h`, `2d4h`, `20d`, `2y30d`.
pub fn age(now: Timestamp, at: Timestamp) -> String {
    eventkeeper_cli::human_age(now.as_second() - at.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn durations_parse_like_kubectl_flags() {
        assert_eq!(parse_duration("6h"), Some(SignedDuration::from_hours(6)));
        assert_eq!(
            parse_duration("1d12h"),
            Some(SignedDuration::from_hours(36))
        );
        assert_eq!(parse_duration("3d"), Some(SignedDuration::from_hours(72)));
        assert_eq!(parse_duration("6"), None);
        assert_eq!(parse_duration("6x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn since_is_relative_to_now_and_from_to_are_absolute() {
        let now = t("2026-11-30T12:00:00Z");
        let w =
            Window::from_flags(Some("6h"), None, None, SignedDuration::from_hours(1), now).unwrap();
        assert_eq!(w.from, t("2026-11-30T06:00:00Z"));
        assert_eq!(w.to, now);
        let w = Window::from_flags(
            None,
            Some("2026-11-29T00:00:00Z"),
            Some("2026-11-29T01:00:00Z"),
            SignedDuration::from_hours(1),
            now,
        )
        .unwrap();
        assert!(w.contains(t("2026-11-29T00:30:00Z")));
        assert!(!w.contains(t("2026-11-29T01:00:01Z")));
        assert_eq!(
            Window::from_flags(
                None,
                Some("2026-11-30T13:00:00Z"),
                None,
                SignedDuration::ZERO,
                now
            ),
            Err(WindowError::Reversed)
        );
        assert!(matches!(
            Window::from_flags(Some("soon"), None, None, SignedDuration::ZERO, now),
            Err(WindowError::BadDuration(_))
        ));
    }

    #[test]
    fn the_recent_part_is_clipped_to_the_span() {
        let now = t("2026-11-30T12:00:00Z");
        let w = Window::from_flags(Some("6h"), None, None, SignedDuration::ZERO, now).unwrap();
        let recent = w.recent(now, SignedDuration::from_hours(1)).unwrap();
        assert_eq!(recent.from, t("2026-11-30T11:00:00Z"));
        let old = Window {
            from: t("2026-11-20T00:00:00Z"),
            to: t("2026-11-21T00:00:00Z"),
        };
        assert_eq!(old.recent(now, SignedDuration::from_hours(1)), None);
    }

    #[test]
    fn ages_read_like_kubectl() {
        let now = t("2026-11-30T12:00:00Z");
        let ago = |s: i64| age(now, now - SignedDuration::from_secs(s));
        assert_eq!(ago(45), "45s");
        assert_eq!(ago(310), "5m10s");
        assert_eq!(ago(95 * 60), "95m");
        assert_eq!(ago(3 * 3600 + 20 * 60), "3h20m");
        assert_eq!(ago(30 * 3600), "30h");
        assert_eq!(ago(52 * 3600), "2d4h");
        assert_eq!(ago(20 * 86_400), "20d");
        assert_eq!(age(now, now + SignedDuration::from_secs(60)), "<invalid>");
    }
}
