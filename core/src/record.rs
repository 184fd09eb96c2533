//! The eventkeeper record, schema v1: one Kubernetes Event observation as one JSON line.
//!
//! Field names are the ones `kubectl get events -o json` prints for a core/v1 Event, so anyone who
//! knows kubectl can write a query. eventkeeper adds a handful of fields of its own (`cluster`,
//! `effectiveTime`, `occurrences`, `reporter`, `origin`, `schemaVersion`, `truncated`); none of
//! them is a key that a log shipper adds at the top level (see [`RESERVED_SHIPPER_KEYS`]).
//!
//! The types here only describe the record; [`normalise`](fn@crate::normalise) builds it and
//! [`crate::json_line`] writes it. A field added here must be written there too: the tests that
//! compare its lines with serde's fail until it is.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// One observation of a Kubernetes Event: the Event as `kubectl get events -o json` shows it
/// (core/v1 names, without `managedFields`), plus what eventkeeper knows about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Record {
    /// Record layout version; always 1 for this schema.
    pub schema_version: u32,
    /// Name of the cluster the event belongs to (from configuration).
    pub cluster: String,
    /// Where this observation was read: `watch`, `relist`, `catch-up` or `convert`.
    pub origin: Origin,
    /// The API version the event was read as (`v1`, `events.k8s.io/v1`, ...), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_api_version: Option<String>,
    /// When the event last happened, RFC 3339 in UTC: the first present of
    /// `series.lastObservedTime`, `lastTimestamp`, `eventTime`, `firstTimestamp`,
    /// `metadata.creationTimestamp`. Absent only when none of them holds a valid time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    /// Which field `effectiveTime` was taken from, e.g. `lastTimestamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time_field: Option<String>,
    /// How many times the event has happened: `series.count`, else `count`, else 1.
    pub occurrences: i64,
    /// Who reported it: `reportingComponent`/`reportingInstance`, else `source`.
    pub reporter: Reporter,
    /// The Event's object metadata, without `managedFields`; labels and annotations bounded.
    pub metadata: Metadata,
    /// The object the event is about (`regarding` in events.k8s.io).
    pub involved_object: ObjectReference,
    /// Short machine-readable reason, e.g. `FailedMount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable description (`note` in events.k8s.io). May be cut: see `truncated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Normal` or `Warning` (other values are passed through).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Legacy repeat counter (`deprecatedCount` in events.k8s.io).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// Legacy reporter (`deprecatedSource` in events.k8s.io).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
    /// Legacy first occurrence, as the API server returned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<String>,
    /// Legacy last occurrence, as the API server returned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<String>,
    /// First occurrence (MicroTime) for events from the new recorder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// Repeat data of the new recorder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<EventSeries>,
    /// Controller that emitted the event (`reportingController` in events.k8s.io).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_component: Option<String>,
    /// Instance of the reporting controller, e.g. a kubelet's node name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_instance: Option<String>,
    /// What the reporter did or failed to do, e.g. `Binding`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// A second object the event is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<ObjectReference>,
    /// Present only when the record had to be cut to fit the line or field budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncation>,
}

/// The reporter eventkeeper derived from the new and the legacy fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reporter {
    /// `reportingComponent`, else `source.component`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// `reportingInstance`, else `source.host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Object metadata of the Event (core/v1 `ObjectMeta` without `managedFields`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Event name, usually `<object>.<hex>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the Event (empty or absent for some cluster-scoped reporters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Unique id of the Event object; with `resourceVersion` the idempotency key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Version of the object for this observation; each update (a repeat) gets a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// When the Event object was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Labels (rare on Events), at most a bounded number; see `truncated`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations, at most a bounded number; see `truncated`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Any other metadata the API returned (`generateName`, `selfLink`, `ownerReferences`, ...).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A reference to a Kubernetes object (core/v1 `ObjectReference`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectReference {
    /// Kind of the object, e.g. `Pod`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the object; empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UID of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// API version of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Resource version of the object when the event was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Part of the object, e.g. `spec.containers{app}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}

/// Legacy reporter (core/v1 `EventSource`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSource {
    /// Component that reported the event, e.g. `kubelet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Node the component runs on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// Repeat data of the new event recorder (core/v1 `EventSeries`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSeries {
    /// Occurrences so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// Time of the latest occurrence (MicroTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_observed_time: Option<String>,
    /// `state` of events.k8s.io/v1beta1 series (removed in later versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// What was cut to make a record fit, and how big it was before.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Truncation {
    /// The parts that were cut or dropped, in the order they were cut (e.g. `message`,
    /// `metadata.annotations`, `metadata.labels`, `related`).
    pub fields: Vec<String>,
    /// Size in bytes of the line before anything was cut, including the newline.
    pub original_line_bytes: u64,
    /// Size in bytes of the original `message`, when it was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_message_bytes: Option<u64>,
    /// Labels dropped to keep the record within budget.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub labels_dropped: u64,
    /// Annotations dropped to keep the record within budget.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub annotations_dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

    /// The record as one compact JSON line, newline included. [`normalise`](fn@crate::normalise) guarantees
    /// it fits the line budget it was given. Byte for byte what serde_json would write, but
    /// faster: see [`crate::json_line`].
    pub fn to_line(&self) -> String {
        // Most lines are 0.5–2 KiB: one allocation instead of a few doublings.
        let mut line = String::with_capacity(2048);
        crate::json_line::write_record(&mut line, self);
        line.push('\n');
        line
    }
}
