//! The eventkeeper record, schema v1: one Kubernetes Event observation as one JSON line.
//!
//! Field names are the ones `kubectl get events -o json` prints for a core/v1 Event, so anyone who
//! knows kubectl can write a query. eventkeeper adds a handful of fields of its own (`cluster`,
//! `effectiveTime`, `occurrences`, `reporter`, `origin`, `schemaVersion`, `truncated`); none of
//! them is a key that a log shipper adds at the top level (see [`RESERVED_SHIPPER_KEYS`]).
//!
//! Each struct below is declared once, through `record_object!`: its fields, their JSON keys and
//! docs. That declaration generates the serde and schema attributes and every walk over the
//! fields (module `walk`): the line writer, with the JSON syntax of [`json_line`]; the size
//! bound, string caps and skeleton of the [`line_budget`]; and the field count. A new field is
//! one line here, plus where it is read from the Event ([`ApiEvent`](crate::api_event::ApiEvent),
//! when it comes from a new input field) and where [`normalise`](fn@crate::normalise) gives it
//! its value. [`schema`] publishes the record's JSON Schema.

pub mod json_line;
pub mod line_budget;
pub mod schema;
mod walk;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use walk::{FieldValue, record_object};

/// Version of the record layout. Bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Top-level keys that Fluent Bit, the CloudWatch agent or Vector add to a log event. A record
/// that used one of them would be clobbered, or would clobber the shipper's metadata.
pub const RESERVED_SHIPPER_KEYS: [&str; 10] = [
    "kubernetes",
    "log",
    "stream",
    "time",
    "_p",
    "log_processed",
    "data",
    "file",
    "timestamp",
    "source_type",
];

/// Where an observation was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The emitter's watch stream (ADDED or MODIFIED).
    Watch,
    /// The emitter's list after a `410 Gone` or at start.
    Relist,
    /// The catch-up Lambda's scheduled list.
    CatchUp,
    /// `eventkeeper-emitter convert` on a saved dump.
    Convert,
}

impl Origin {
    /// Every origin, for the bound on how long its name is.
    const ALL: [Origin; 4] = [Self::Watch, Self::Relist, Self::CatchUp, Self::Convert];

    /// The name the record gives it (serde's `kebab-case`; a test checks they agree).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Watch => "watch",
            Self::Relist => "relist",
            Self::CatchUp => "catch-up",
            Self::Convert => "convert",
        }
    }
}

/// An origin is written as its name; it has no empty value, so a skeleton always keeps it.
impl FieldValue for Origin {
    const MAX_LEAVES: usize = 1;
    const MAX_SYNTAX_BYTES: usize = {
        let mut longest = 0;
        let mut at = 0;
        while at < Self::ALL.len() {
            let name = Self::ALL[at].as_str();
            if name.len() > longest {
                longest = name.len();
            }
            at += 1;
        }
        longest + 2
    };

    fn write_value(&self, out: &mut String) {
        out.push('"');
        out.push_str(self.as_str());
        out.push('"');
    }

    fn text_upper_bound(&self) -> usize {
        0
    }

    fn cap_strings(&mut self, _cap: usize) {}

    fn clear_except(&mut self, _keep: &[&str]) {}
}

record_object! {
    /// One observation of a Kubernetes Event: the Event as `kubectl get events -o json` shows it
    /// (core/v1 names, without `managedFields`), plus what eventkeeper knows about it.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Record {
        /// Record layout version; always 1 for this schema.
        pub schema_version: u32 => "schemaVersion",
        /// Name of the cluster the event belongs to (from configuration).
        pub cluster: String => "cluster",
        /// Where this observation was read: `watch`, `relist`, `catch-up` or `convert`.
        pub origin: Origin => "origin",
        /// The API version the event was read as (`v1`, `events.k8s.io/v1`, ...), when known.
        pub original_api_version: Option<String> => "originalApiVersion",
        /// When the event last happened, RFC 3339 in UTC: the first present of
        /// `series.lastObservedTime`, `lastTimestamp`, `eventTime`, `firstTimestamp`,
        /// `metadata.creationTimestamp`. Absent only when none of them holds a valid time.
        pub effective_time: Option<String> => "effectiveTime",
        /// Which field `effectiveTime` was taken from, e.g. `lastTimestamp`.
        pub effective_time_field: Option<String> => "effectiveTimeField",
        /// How many times the event has happened: `series.count`, else `count`, else 1.
        pub occurrences: i64 => "occurrences",
        /// Who reported it: `reportingComponent`/`reportingInstance`, else `source`.
        pub reporter: Reporter => "reporter",
        /// The Event's object metadata, without `managedFields`; labels and annotations bounded.
        pub metadata: Metadata => "metadata",
        /// The object the event is about (`regarding` in events.k8s.io).
        pub involved_object: ObjectReference => "involvedObject",
        /// Short machine-readable reason, e.g. `FailedMount`.
        pub reason: Option<String> => "reason",
        /// Human-readable description (`note` in events.k8s.io). May be cut: see `truncated`.
        pub message: Option<String> => "message",
        /// `Normal` or `Warning` (other values are passed through).
        pub event_type: Option<String> => "type",
        /// Legacy repeat counter (`deprecatedCount` in events.k8s.io).
        pub count: Option<i64> => "count",
        /// Legacy reporter (`deprecatedSource` in events.k8s.io).
        pub source: Option<EventSource> => "source",
        /// Legacy first occurrence, as the API server returned it.
        pub first_timestamp: Option<String> => "firstTimestamp",
        /// Legacy last occurrence, as the API server returned it.
        pub last_timestamp: Option<String> => "lastTimestamp",
        /// First occurrence (MicroTime) for events from the new recorder.
        pub event_time: Option<String> => "eventTime",
        /// Repeat data of the new recorder.
        pub series: Option<EventSeries> => "series",
        /// Controller that emitted the event (`reportingController` in events.k8s.io).
        pub reporting_component: Option<String> => "reportingComponent",
        /// Instance of the reporting controller, e.g. a kubelet's node name.
        pub reporting_instance: Option<String> => "reportingInstance",
        /// What the reporter did or failed to do, e.g. `Binding`.
        pub action: Option<String> => "action",
        /// A second object the event is about.
        pub related: Option<ObjectReference> => "related",
        /// Present only when the record had to be cut to fit the line or field budget.
        pub truncated: Option<Truncation> => "truncated",
    }
}

record_object! {
    /// The reporter eventkeeper derived from the new and the legacy fields.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Reporter {
        /// `reportingComponent`, else `source.component`.
        pub component: Option<String> => "component",
        /// `reportingInstance`, else `source.host`.
        pub instance: Option<String> => "instance",
    }
}

record_object! {
    /// Object metadata of the Event (core/v1 `ObjectMeta` without `managedFields`).
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct Metadata {
        /// Event name, usually `<object>.<hex>`.
        pub name: Option<String> => "name",
        /// Namespace of the Event (empty or absent for some cluster-scoped reporters).
        pub namespace: Option<String> => "namespace",
        /// Unique id of the Event object; with `resourceVersion` the idempotency key.
        pub uid: Option<String> => "uid",
        /// Version of the object for this observation; each update (a repeat) gets a new one.
        pub resource_version: Option<String> => "resourceVersion",
        /// When the Event object was created.
        pub creation_timestamp: Option<String> => "creationTimestamp",
        /// Labels (rare on Events), at most a bounded number; see `truncated`.
        #[serde(default)]
        pub labels: BTreeMap<String, String> => "labels",
        /// Annotations, at most a bounded number; see `truncated`.
        #[serde(default)]
        pub annotations: BTreeMap<String, String> => "annotations",
        /// Any other metadata the API returned (`generateName`, `selfLink`, `ownerReferences`, ...).
        #[serde(flatten)]
        pub other: BTreeMap<String, Value> => "other",
    }
}

record_object! {
    /// A reference to a Kubernetes object (core/v1 `ObjectReference`).
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ObjectReference {
        /// Kind of the object, e.g. `Pod`.
        pub kind: Option<String> => "kind",
        /// Namespace of the object; empty for cluster-scoped objects.
        pub namespace: Option<String> => "namespace",
        /// Name of the object.
        pub name: Option<String> => "name",
        /// UID of the object.
        pub uid: Option<String> => "uid",
        /// API version of the object.
        pub api_version: Option<String> => "apiVersion",
        /// Resource version of the object when the event was recorded.
        pub resource_version: Option<String> => "resourceVersion",
        /// Part of the object, e.g. `spec.containers{app}`.
        pub field_path: Option<String> => "fieldPath",
    }
}

record_object! {
    /// Legacy reporter (core/v1 `EventSource`).
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EventSource {
        /// Component that reported the event, e.g. `kubelet`.
        pub component: Option<String> => "component",
        /// Node the component runs on.
        pub host: Option<String> => "host",
    }
}

record_object! {
    /// Repeat data of the new event recorder (core/v1 `EventSeries`).
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EventSeries {
        /// Occurrences so far.
        pub count: Option<i64> => "count",
        /// Time of the latest occurrence (MicroTime).
        pub last_observed_time: Option<String> => "lastObservedTime",
        /// `state` of events.k8s.io/v1beta1 series (removed in later versions).
        pub state: Option<String> => "state",
    }
}

record_object! {
    /// What was cut to make a record fit, and how big it was before.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Truncation {
        /// The parts that were cut or dropped, in the order they were cut (e.g. `message`,
        /// `metadata.annotations`, `metadata.labels`, `related`).
        pub fields: Vec<String> => "fields",
        /// Size in bytes of the line before anything was cut, including the newline.
        pub original_line_bytes: u64 => "originalLineBytes",
        /// Size in bytes of the original `message`, when it was cut.
        pub original_message_bytes: Option<u64> => "originalMessageBytes",
        /// Labels dropped to keep the record within budget.
        #[serde(default)]
        pub labels_dropped: u64 => "labelsDropped",
        /// Annotations dropped to keep the record within budget.
        #[serde(default)]
        pub annotations_dropped: u64 => "annotationsDropped",
    }
}

impl Record {
    /// `metadata.uid`, or `""` when the event has none.
    pub fn uid(&self) -> &str {
        self.metadata.uid.as_deref().unwrap_or("")
    }

    /// `metadata.resourceVersion`, or `""` when the event has none.
    pub fn resource_version(&self) -> &str {
        self.metadata.resource_version.as_deref().unwrap_or("")
    }

    /// The observation's idempotency key: `uid` + `resourceVersion`. Downstream can drop any
    /// record whose key it has already seen.
    pub fn idempotency_key(&self) -> (&str, &str) {
        (self.uid(), self.resource_version())
    }

    /// `type` (`Normal`, `Warning`, ...), or `""`.
    pub fn event_type(&self) -> &str {
        self.event_type.as_deref().unwrap_or("")
    }

    /// Whether anything was cut to fit the budgets.
    pub fn is_truncated(&self) -> bool {
        self.truncated.is_some()
    }

    /// The record as one compact JSON line, newline included. [`normalise`](fn@crate::normalise)
    /// guarantees it fits the line budget it was given. Byte for byte what serde_json would
    /// write, but faster: see [`json_line`].
    pub fn to_line(&self) -> String {
        // Most lines are 0.5–2 KiB: one allocation instead of a few doublings.
        let mut line = String::with_capacity(2048);
        self.write_value(&mut line);
        line.push('\n');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_names_are_serde_names() {
        for origin in Origin::ALL {
            let serde_name = serde_json::to_string(&origin).expect("an origin serializes");
            assert_eq!(serde_name, format!("\"{}\"", origin.as_str()));
        }
    }
}
