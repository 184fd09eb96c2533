//! Where archived observations live in S3: Hive partitions `cluster=/dt=/hour=` under a key
//! prefix. The catch-up writes objects there and `kubectl-eventkeeper` (and Athena's table)
//! read them, so the layout is defined once, here.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The key prefix as it leads a key: without surrounding slashes, then one slash; empty when
/// there is no prefix.
pub fn key_lead(prefix: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    }
}

/// The key prefix of the partition (one UTC hour) holding objects made at `at`.
pub fn partition_prefix(prefix: &str, cluster: &str, at: Timestamp) -> String {
    let utc = at.to_zoned(TimeZone::UTC);
    let lead = key_lead(prefix);
    format!(
        "{lead}cluster={cluster}/dt={}/hour={}/",
        utc.strftime("%Y-%m-%d"),
        utc.strftime("%H")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_utc_hours_under_the_trimmed_prefix() {
        let at: Timestamp = "2026-11-30T23:59:00Z".parse().unwrap();
        assert_eq!(
            partition_prefix("/events/", "demo", at),
            "events/cluster=demo/dt=2026-11-30/hour=23/"
        );
        assert_eq!(
            partition_prefix("", "demo", at),
            "cluster=demo/dt=2026-11-30/hour=23/"
        );
    }
}
