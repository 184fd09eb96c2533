//! The observation log: every Event version a client could have seen (each ADDED and
//! MODIFIED), for `/_sim/observations` and the loss checks of the test suites.

use super::object::{Change, Key, str_at};
use serde::Serialize;
use serde_json::Value;

/// One Event observation, as `/_sim/observations` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// metadata.uid.
    pub uid: String,
    /// metadata.resourceVersion.
    pub resource_version: String,
    /// ADDED or MODIFIED.
    #[serde(rename = "type")]
    pub change: Change,
    /// metadata.namespace.
    pub namespace: String,
    /// reason.
    pub reason: String,
    /// type (Normal / Warning).
    pub event_type: String,
    /// involvedObject.kind.
    pub kind: String,
}

/// Observations in revision order, up to a limit (later ones are counted, not kept).
pub struct ObservationLog {
    kept: Vec<Observation>,
    dropped: u64,
    max: usize,
}

impl ObservationLog {
    /// An empty log keeping at most `max`.
    pub fn new(max: usize) -> Self {
        Self {
            kept: Vec::new(),
            dropped: 0,
            max,
        }
    }

    /// Records one written Event version.
    pub fn record(&mut self, key: &Key, rv: u64, v: &Value, change: Change) {
        if self.kept.len() >= self.max {
            self.dropped += 1;
            return;
        }
        self.kept.push(Observation {
            uid: str_at(v, "/metadata/uid"),
            resource_version: rv.to_string(),
            change,
            namespace: key.0.clone(),
            reason: str_at(v, "/reason"),
            event_type: str_at(v, "/type"),
            kind: str_at(v, "/involvedObject/kind"),
        });
    }

    /// Observations from index `from` on.
    pub fn from(&self, from: usize) -> Vec<Observation> {
        self.kept.get(from..).unwrap_or_default().to_vec()
    }

    /// How many are kept.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// How many were not kept because of the limit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
