//! The one duration grammar of every flag and variable: one or more `<number><unit>` terms,
//! optionally separated by spaces, units `ms`, `s`, `m`, `h`: `100ms`, `1.5s`, `5m`, `1h 30m`.

use std::time::Duration;

/// Why a text is not a duration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing to parse.
    #[error("an empty duration (use e.g. 100ms, 5s, 3m, 1h or 1h 30m)")]
    Empty,
    /// A term is not a number followed by a known unit.
    #[error("{0:?} is not a duration like 100ms, 5s, 3m, 1h or 1h 30m")]
    Malformed(String),
    /// The value does not fit a duration.
    #[error("{0:?} is too long a duration")]
    TooLong(String),
}

/// Parses `100ms`, `5s`, `1.5s`, `3m`, `1h`, `1h30m`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let malformed = || DurationError::Malformed(text.to_owned());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(malformed)?;
        let unit_end = rest[number_end..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .map_or(rest.len(), |end| number_end + end);
        let number: f64 = rest[..number_end].parse().map_err(|_| malformed())?;
        let seconds_per_unit = match &rest[number_end..unit_end] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(malformed()),
        };
        total += number * seconds_per_unit;
        rest = rest[unit_end..].trim_start();
    }
    Duration::try_from_secs_f64(total).map_err(|_| DurationError::TooLong(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_more_terms_of_four_units() {
        let ok = |text, millis| assert_eq!(parse_duration(text), Ok(Duration::from_millis(millis)));
        ok("100ms", 100);
        ok("5s", 5_000);
        ok("1.5s", 1_500);
        ok("3m", 180_000);
        ok("1h", 3_600_000);
        ok(" 1h30m ", 5_400_000);
        ok("1h 30m", 5_400_000);
        ok("0s", 0);
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        for bad in [
            "5", "s", "5d", "-1s", "1..2s", "soon", "5 s", "1h,30m", "PT1H",
        ] {
            assert!(
                matches!(parse_duration(bad), Err(DurationError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_duration("1e400h"),
            Err(DurationError::Malformed(_) | DurationError::TooLong(_))
        ));
    }
}
