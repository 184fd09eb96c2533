//! resourceVersion as a number, and the one assumption eventkeeper makes about it.
//!
//! The Kubernetes API conventions say a resourceVersion is opaque. Every API server backed by
//! etcd, which is every conformant one including Amazon EKS, uses the etcd revision of the write:
//! a positive integer that grows with every write in the cluster. eventkeeper compares event
//! resourceVersions as integers to decide what it has already written (after a `410 Gone` relist,
//! and when resuming from a checkpoint). A value that is not an integer never causes an
//! observation to be dropped: callers treat it as "newer than anything" and emit it, and a
//! checkpoint is only ever made of values that parsed (see `docs/emitter.md`).

use std::fmt;
use std::str::FromStr;

/// Why a resourceVersion could not be read as an integer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceVersionError {
    /// The value is empty.
    #[error("empty resourceVersion")]
    Empty,
    /// The value is not a decimal integer (so not an etcd revision).
    #[error("resourceVersion {0:?} is not an integer")]
    NotAnInteger(String),
}

/// A resourceVersion read as the etcd revision it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceVersion(u64);

impl ResourceVersion {
    /// Wraps a revision number.
    pub const fn new(revision: u64) -> Self {
        Self(revision)
    }

    /// The revision number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Parses a resourceVersion; `None` when it is empty or not an integer.
    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }

    /// Whether an observation with resourceVersion `text` must be written when everything up to
    /// `self` already was. Values that are not integers are always written: a duplicate is
    /// acceptable, a loss is not.
    pub fn admits(self, text: &str) -> bool {
        match Self::parse(text) {
            Some(rv) => rv > self,
            None => true,
        }
    }
}

impl FromStr for ResourceVersion {
    type Err = ResourceVersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(ResourceVersionError::Empty);
        }
        // u64::from_str accepts a leading '+'; an etcd revision never has one.
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ResourceVersionError::NotAnInteger(text.to_owned()));
        }
        text.parse()
            .map(Self)
            .map_err(|_| ResourceVersionError::NotAnInteger(text.to_owned()))
    }
}

impl fmt::Display for ResourceVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether an observation (first argument) is newer than a position, when there is one. No
/// position means nothing was written yet: everything is newer.
pub fn is_newer(resource_version: &str, position: Option<ResourceVersion>) -> bool {
    is_newer_version(ResourceVersion::parse(resource_version), position)
}

/// [`is_newer`] for a resourceVersion already parsed (`None`: it is not an integer, so it is
/// always newer: a duplicate is acceptable, a loss is not).
pub fn is_newer_version(
    resource_version: Option<ResourceVersion>,
    position: Option<ResourceVersion>,
) -> bool {
    match (resource_version, position) {
        (Some(rv), Some(p)) => rv > p,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_parse_and_compare_numerically() {
        assert_eq!(
            ResourceVersion::parse("12345"),
            Some(ResourceVersion::new(12345))
        );
        // Not lexicographic: "9" < "10" as revisions.
        assert!(ResourceVersion::new(9) < ResourceVersion::parse("10").unwrap());
    }

    #[test]
    fn non_integers_are_rejected_with_the_reason() {
        assert_eq!(
            "".parse::<ResourceVersion>(),
            Err(ResourceVersionError::Empty)
        );
        for bad in [
            "+1",
            "-1",
            "1.0",
            "abc",
            "0x10",
            " 1",
            "99999999999999999999999",
        ] {
            assert!(
                matches!(
                    bad.parse::<ResourceVersion>(),
                    Err(ResourceVersionError::NotAnInteger(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unparseable_versions_are_always_admitted() {
        let p = ResourceVersion::new(100);
        assert!(!p.admits("100"));
        assert!(!p.admits("99"));
        assert!(p.admits("101"));
        assert!(p.admits("opaque-token"));
        assert!(p.admits(""));
        assert!(is_newer("1", None));
        assert!(!is_newer("1", Some(p)));
        assert!(is_newer_version(None, Some(p)));
        assert!(is_newer_version(Some(ResourceVersion::new(1)), None));
        assert!(!is_newer_version(Some(p), Some(p)));
        assert!(is_newer_version(Some(ResourceVersion::new(101)), Some(p)));
    }

    proptest! {
        #[test]
        fn order_matches_the_numbers(a in any::<u64>(), b in any::<u64>()) {
            let (ra, rb) = (ResourceVersion::parse(&a.to_string()).unwrap(),
                            ResourceVersion::parse(&b.to_string()).unwrap());
            prop_assert_eq!(ra.cmp(&rb), a.cmp(&b));
            prop_assert_eq!(ra.to_string(), a.to_string());
            prop_assert_eq!(ra.admits(&b.to_string()), b > a);
        }
    }
}
