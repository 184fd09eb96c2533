//! `normalise`: one Kubernetes Event (as JSON) → one schema v1 [`Record`]. Pure: no IO, no
//! clock, the same input always gives the same record.
//!
//! Input is read leniently, because real Events are untidy: no TypeMeta on informer objects,
//! `null` or `{}` where a time should be, empty strings, numbers as strings, the
//! events.k8s.io names (`regarding`, `note`, `deprecatedCount`, ...), even the capitalised keys of
//! the internal Go type that old `kubectl cluster-info dump` printed. A value of the wrong type is
//! left out rather than failing the whole event: losing one field beats losing the observation.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::record::line_budget::{self, DEFAULT_MAX_LINE_BYTES, FieldBudget, MIN_MAX_LINE_BYTES};
use crate::record::{
    EventSeries, EventSource, Metadata, ObjectReference, Origin, Record, Reporter, SCHEMA_VERSION,
};

/// Why an input could not become a record at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NormaliseError {
    /// The input is not a JSON object, so it cannot be an Event.
    #[error("expected an Event object, found {found}")]
    NotAnObject {
        /// JSON type that was found instead.
        found: &'static str,
    },
    /// The input is an object of another kind (e.g. a Pod in a `List`).
    #[error("expected kind Event, found kind {kind:?}")]
    NotAnEvent {
        /// The `kind` the object declared.
        kind: String,
    },
}

/// What `normalise` needs to know besides the event itself.
#[derive(Clone, Debug)]
pub struct Context {
    /// Cluster name written into every record.
    pub cluster: String,
    /// Where the observation was read.
    pub origin: Origin,
    /// Largest line allowed, newline included (at least [`MIN_MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
}

impl Context {
    /// A context with the default line budget.
    pub fn new(cluster: impl Into<String>, origin: Origin) -> Self {
        Self {
            cluster: cluster.into(),
            origin,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// Turns one Event of any API version (core/v1, events.k8s.io/v1 or v1beta1) into a record that
/// fits `ctx.max_line_bytes` and the field budget.
pub fn normalise(event: &Value, ctx: &Context) -> Result<Record, NormaliseError> {
    normalise_owned(event.clone(), ctx)
}

/// [`normalise`](fn@normalise) for an Event the caller no longer needs: its strings move into the record
/// instead of being copied (the emitter's path: one decoded watch event, one record).
pub fn normalise_owned(event: Value, ctx: &Context) -> Result<Record, NormaliseError> {
    let found = json_type(&event);
    let Value::Object(object) = event else {
        return Err(NormaliseError::NotAnObject { found });
    };
    let event = EventFields::read(object);
    if let Some(kind) = event.kind.and_then(into_text)
        && !kind.is_empty()
        && kind != "Event"
    {
        return Err(NormaliseError::NotAnEvent { kind });
    }

    let metadata = match event.metadata {
        Some(Value::Object(meta)) => read_metadata(meta),
        // The internal Go type (kubectl 1.8 `cluster-info dump`) inlines ObjectMeta.
        _ => Metadata {
            name: event.name.and_then(into_text),
            namespace: event.namespace.and_then(into_text),
            uid: event.uid.and_then(into_text),
            resource_version: event.resource_version.and_then(into_text),
            creation_timestamp: event.creation_timestamp.and_then(into_time_text),
            ..Metadata::default()
        },
    };
    let series = event.series.and_then(read_series);
    let source = event.source.and_then(read_source);
    let count = event.count.and_then(into_integer);
    let first_timestamp = event.first_timestamp.and_then(into_time_text);
    let last_timestamp = event.last_timestamp.and_then(into_time_text);
    let event_time = event.event_time.and_then(into_time_text);
    let reporting_component = event.reporting_component.and_then(into_text);
    let reporting_instance = event.reporting_instance.and_then(into_text);

    let (effective_time, effective_time_field) = effective_time([
        (
            "series.lastObservedTime",
            series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_deref()),
        ),
        ("lastTimestamp", last_timestamp.as_deref()),
        ("eventTime", event_time.as_deref()),
        ("firstTimestamp", first_timestamp.as_deref()),
        (
            "metadata.creationTimestamp",
            metadata.creation_timestamp.as_deref(),
        ),
    ]);
    let occurrences = series
        .as_ref()
        .and_then(|s| s.count)
        .filter(|n| *n > 0)
        .or(count.filter(|n| *n > 0))
        .unwrap_or(1);
    let reporter = Reporter {
        component: first_non_empty(
            reporting_component.as_deref(),
            source.as_ref().and_then(|s| s.component.as_deref()),
        ),
        instance: first_non_empty(
            reporting_instance.as_deref(),
            source.as_ref().and_then(|s| s.host.as_deref()),
        ),
    };

    let mut record = Record {
        schema_version: SCHEMA_VERSION,
        cluster: ctx.cluster.clone(),
        origin: ctx.origin,
        original_api_version: event
            .api_version
            .and_then(into_text)
            .filter(|v| !v.is_empty()),
        effective_time,
        effective_time_field,
        occurrences,
        reporter,
        metadata,
        involved_object: event
            .involved_object
            .and_then(read_object_reference)
            .unwrap_or_default(),
        reason: event.reason.and_then(into_text),
        message: event.message.and_then(into_text),
        event_type: event.event_type.and_then(into_text),
        count,
        source,
        first_timestamp,
        last_timestamp,
        event_time,
        series,
        reporting_component,
        reporting_instance,
        action: event.action.and_then(into_text),
        related: event.related.and_then(read_object_reference),
        truncated: None,
    };
    line_budget::fit(
        &mut record,
        ctx.max_line_bytes.max(MIN_MAX_LINE_BYTES),
        FieldBudget::default(),
    );
    Ok(record)
}

/// Parses an RFC 3339 time as the API server writes it. The Go zero time and anything before
/// the Unix epoch count as absent: they mean "not set", not "1 AD".
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let time: Timestamp = text.trim().parse().ok()?;
    (time.as_second() > 0).then_some(time)
}

/// The first present valid time of the chain, in UTC, and the name of its field.
fn effective_time<const N: usize>(
    chain: [(&str, Option<&str>); N],
) -> (Option<String>, Option<String>) {
    chain
        .into_iter()
        .find_map(|(field, text)| {
            let time = parse_time(text?)?;
            Some((Some(time.to_string()), Some(field.to_owned())))
        })
        .unwrap_or((None, None))
}

fn first_non_empty(preferred: Option<&str>, fallback: Option<&str>) -> Option<String> {
    [preferred, fallback]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

fn read_metadata(meta: Map<String, Value>) -> Metadata {
    let mut metadata = Metadata::default();
    for (key, value) in meta {
        match key.as_str() {
            "name" => metadata.name = into_text(value),
            "namespace" => metadata.namespace = into_text(value),
            "uid" => metadata.uid = into_text(value),
            "resourceVersion" => metadata.resource_version = into_text(value),
            "creationTimestamp" => metadata.creation_timestamp = into_time_text(value),
            "labels" => metadata.labels = string_map(value),
            "annotations" => metadata.annotations = string_map(value),
            // Field ownership bookkeeping: large, and says nothing about what happened.
            "managedFields" => {}
            _ if value.is_null() => {}
            _ => {
                metadata.other.insert(key, value);
            }
        }
    }
    metadata
}

fn read_object_reference(value: Value) -> Option<ObjectReference> {
    let Value::Object(fields) = value else {
        return None;
    };
    let mut reference = ObjectReference::default();
    for (key, value) in fields {
        let slot = match api_name(&key) {
            "kind" => &mut reference.kind,
            "namespace" => &mut reference.namespace,
            "name" => &mut reference.name,
            "uid" => &mut reference.uid,
            "apiVersion" => &mut reference.api_version,
            "resourceVersion" => &mut reference.resource_version,
            "fieldPath" => &mut reference.field_path,
            _ => continue,
        };
        *slot = into_text(value);
    }
    Some(reference)
}

fn read_source(value: Value) -> Option<EventSource> {
    let Value::Object(fields) = value else {
        return None;
    };
    let mut source = EventSource::default();
    for (key, value) in fields {
        match api_name(&key) {
            "component" => source.component = into_text(value),
            "host" => source.host = into_text(value),
            _ => {}
        }
    }
    Some(source)
}

fn read_series(value: Value) -> Option<EventSeries> {
    let Value::Object(fields) = value else {
        return None;
    };
    let mut series = EventSeries::default();
    for (key, value) in fields {
        match api_name(&key) {
            "count" => series.count = into_integer(value),
            "lastObservedTime" => series.last_observed_time = into_time_text(value),
            "state" => series.state = into_text(value),
            _ => {}
        }
    }
    Some(series)
}

/// The internal Go type's field names (what old `kubectl cluster-info dump` printed) and the API
/// names they stand for, sorted by Go name for the binary search in [`api_name`].
const GO_FIELD_NAMES: [(&str, &str); 26] = [
    ("APIVersion", "apiVersion"),
    ("Action", "action"),
    ("Component", "component"),
    ("Count", "count"),
    ("CreationTimestamp", "creationTimestamp"),
    ("EventTime", "eventTime"),
    ("FieldPath", "fieldPath"),
    ("FirstTimestamp", "firstTimestamp"),
    ("Host", "host"),
    ("InvolvedObject", "involvedObject"),
    ("Kind", "kind"),
    ("LastObservedTime", "lastObservedTime"),
    ("LastTimestamp", "lastTimestamp"),
    ("Message", "message"),
    ("Metadata", "metadata"),
    ("Name", "name"),
    ("Namespace", "namespace"),
    ("Reason", "reason"),
    ("Related", "related"),
    ("ReportingComponent", "reportingComponent"),
    ("ReportingInstance", "reportingInstance"),
    ("ResourceVersion", "resourceVersion"),
    ("Series", "series"),
    ("Source", "source"),
    ("Type", "type"),
    ("UID", "uid"),
];

/// The API's name for a key: the key itself, or for the internal Go type's capitalised keys
/// (`InvolvedObject`, `UID`, `APIVersion`, or the same in any other capitalisation) the API
/// field it stands for.
fn api_name(key: &str) -> &str {
    if !key.starts_with(|c: char| c.is_ascii_uppercase()) {
        return key;
    }
    let go_spelling = GO_FIELD_NAMES
        .binary_search_by(|(go, _)| (*go).cmp(key))
        .ok()
        .map(|at| GO_FIELD_NAMES[at].1);
    go_spelling
        .or_else(|| {
            GO_FIELD_NAMES
                .iter()
                .map(|(_, api)| *api)
                .find(|api| api.eq_ignore_ascii_case(key))
        })
        .unwrap_or(key)
}

fn string_map(value: Value) -> BTreeMap<String, String> {
    match value {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| Some((k, into_text(v)?)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A string, or the text of a number or boolean; `None` for null, objects and arrays.
#[inline]
fn into_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A time field kept verbatim as text; `{}` (a zero MicroTime some servers print) is absent.
#[inline]
fn into_time_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn into_integer(value: Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An Event's top-level fields, taken in one pass over the object. Both API versions' names
/// are read; where both are present the core/v1 one wins. `null` counts as absent.
#[derive(Default)]
struct EventFields {
    kind: Option<Value>,
    api_version: Option<Value>,
    metadata: Option<Value>,
    involved_object: Option<Value>,
    reason: Option<Value>,
    message: Option<Value>,
    event_type: Option<Value>,
    count: Option<Value>,
    source: Option<Value>,
    first_timestamp: Option<Value>,
    last_timestamp: Option<Value>,
    event_time: Option<Value>,
    series: Option<Value>,
    reporting_component: Option<Value>,
    reporting_instance: Option<Value>,
    action: Option<Value>,
    related: Option<Value>,
    // ObjectMeta inlined at the top level by the internal Go type.
    name: Option<Value>,
    namespace: Option<Value>,
    uid: Option<Value>,
    resource_version: Option<Value>,
    creation_timestamp: Option<Value>,
}

/// The events.k8s.io names of fields core/v1 also has, used where the core/v1 name is absent.
/// (A struct of its own: a second `EventFields` would be twice the memory to fill per event.)
#[derive(Default)]
struct EventsApiFields {
    regarding: Option<Value>,
    note: Option<Value>,
    deprecated_count: Option<Value>,
    deprecated_source: Option<Value>,
    deprecated_first_timestamp: Option<Value>,
    deprecated_last_timestamp: Option<Value>,
    reporting_controller: Option<Value>,
}

impl EventFields {
    fn read(object: Map<String, Value>) -> Self {
        let mut fields = Self::default();
        let mut events_api = EventsApiFields::default();
        for (key, value) in object {
            if value.is_null() {
                continue;
            }
            let slot = match api_name(&key) {
                "kind" => &mut fields.kind,
                "apiVersion" => &mut fields.api_version,
                "metadata" => &mut fields.metadata,
                "involvedObject" => &mut fields.involved_object,
                "regarding" => &mut events_api.regarding,
                "reason" => &mut fields.reason,
                "message" => &mut fields.message,
                "note" => &mut events_api.note,
                "type" => &mut fields.event_type,
                "count" => &mut fields.count,
                "deprecatedCount" => &mut events_api.deprecated_count,
                "source" => &mut fields.source,
                "deprecatedSource" => &mut events_api.deprecated_source,
                "firstTimestamp" => &mut fields.first_timestamp,
                "deprecatedFirstTimestamp" => &mut events_api.deprecated_first_timestamp,
                "lastTimestamp" => &mut fields.last_timestamp,
                "deprecatedLastTimestamp" => &mut events_api.deprecated_last_timestamp,
                "eventTime" => &mut fields.event_time,
                "series" => &mut fields.series,
                "reportingComponent" => &mut fields.reporting_component,
                "reportingController" => &mut events_api.reporting_controller,
                "reportingInstance" => &mut fields.reporting_instance,
                "action" => &mut fields.action,
                "related" => &mut fields.related,
                "name" => &mut fields.name,
                "namespace" => &mut fields.namespace,
                "uid" => &mut fields.uid,
                "resourceVersion" => &mut fields.resource_version,
                "creationTimestamp" => &mut fields.creation_timestamp,
                _ => continue,
            };
            *slot = Some(value);
        }
        fields.involved_object = fields.involved_object.or(events_api.regarding);
        fields.message = fields.message.or(events_api.note);
        fields.count = fields.count.or(events_api.deprecated_count);
        fields.source = fields.source.or(events_api.deprecated_source);
        fields.first_timestamp = fields
            .first_timestamp
            .or(events_api.deprecated_first_timestamp);
        fields.last_timestamp = fields
            .last_timestamp
            .or(events_api.deprecated_last_timestamp);
        fields.reporting_component = fields
            .reporting_component
            .or(events_api.reporting_controller);
        fields
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fixtures::TestEvent;
    use crate::record::line_budget::line_bytes;

    fn record(event: TestEvent) -> Record {
        normalise(&event.json(), &Context::new("prod", Origin::Watch)).expect("an Event")
    }

    #[test]
    fn effective_time_prefers_the_series() {
        let r = record(TestEvent::new().series(5, "2025-01-01T10:30:00.5Z"));
        assert_eq!(r.effective_time.as_deref(), Some("2025-01-01T10:30:00.5Z"));
        assert_eq!(
            r.effective_time_field.as_deref(),
            Some("series.lastObservedTime")
        );
        assert_eq!(r.occurrences, 5);
    }

    #[test]
    fn effective_time_falls_back_through_the_chain() {
        let r = record(
            TestEvent::new()
                .last_timestamp(Value::Null)
                .event_time(json!("2025-01-01T10:00:01.000002Z")),
        );
        assert_eq!(r.effective_time_field.as_deref(), Some("eventTime"));
        let r = record(
            TestEvent::new()
                .last_timestamp(json!("0001-01-01T00:00:00Z"))
                .without("firstTimestamp"),
        );
        assert_eq!(
            r.effective_time_field.as_deref(),
            Some("metadata.creationTimestamp"),
            "the Go zero time means unset"
        );
        assert_eq!(
            r.last_timestamp.as_deref(),
            Some("0001-01-01T00:00:00Z"),
            "kept verbatim"
        );
    }

    #[test]
    fn effective_time_is_utc() {
        let r = record(TestEvent::new().last_timestamp(json!("2019-04-04T02:48:19+08:00")));
        assert_eq!(r.effective_time.as_deref(), Some("2019-04-03T18:48:19Z"));
    }

    #[test]
    fn occurrences_use_count_then_one() {
        assert_eq!(record(TestEvent::new().count(7)).occurrences, 7);
        assert_eq!(record(TestEvent::new().without("count")).occurrences, 1);
        assert_eq!(record(TestEvent::new().count(-3)).occurrences, 1);
    }

    #[test]
    fn reporter_falls_back_to_source() {
        let r = record(
            TestEvent::new()
                .set("reportingComponent", "")
                .set("reportingInstance", ""),
        );
        assert_eq!(r.reporter.component.as_deref(), Some("kubelet"));
        assert_eq!(r.reporter.instance.as_deref(), Some("node-1"));
        assert_eq!(r.reporting_component.as_deref(), Some(""), "kept verbatim");
    }

    #[test]
    fn go_field_names_are_sorted_and_each_is_its_api_name_capitalised() {
        assert!(GO_FIELD_NAMES.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        for (go, api) in GO_FIELD_NAMES {
            assert!(go.eq_ignore_ascii_case(api), "{go} / {api}");
            assert_eq!(api_name(go), api);
        }
    }

    #[test]
    fn go_field_names_map_to_api_names() {
        assert_eq!(api_name("InvolvedObject"), "involvedObject");
        assert_eq!(api_name("UID"), "uid");
        assert_eq!(api_name("APIVersion"), "apiVersion");
        assert_eq!(
            api_name("LastObservedTime"),
            "lastObservedTime",
            "a series field"
        );
        assert_eq!(api_name("REASON"), "reason", "any capitalisation");
        assert_eq!(api_name("reason"), "reason");
        assert_eq!(api_name("Unknown"), "Unknown");
    }

    #[test]
    fn events_api_names_map_to_kubectl_names() {
        let event = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "x", "uid": "u", "resourceVersion": "9"},
            "regarding": {"kind": "Node", "name": "n1"},
            "note": "Node n1 status is now: NodeNotReady",
            "reportingController": "node-controller",
            "deprecatedCount": 4, "deprecatedSource": {"component": "node-controller"},
            "deprecatedLastTimestamp": "2025-02-02T02:02:02Z", "type": "Normal", "reason": "NodeNotReady",
        });
        let r = normalise(&event, &Context::new("c", Origin::Relist)).expect("an Event");
        assert_eq!(r.involved_object.kind.as_deref(), Some("Node"));
        assert_eq!(
            r.message.as_deref(),
            Some("Node n1 status is now: NodeNotReady")
        );
        assert_eq!(r.reporting_component.as_deref(), Some("node-controller"));
        assert_eq!(r.count, Some(4));
        assert_eq!(r.occurrences, 4);
        assert_eq!(r.effective_time_field.as_deref(), Some("lastTimestamp"));
        assert_eq!(r.original_api_version.as_deref(), Some("events.k8s.io/v1"));
    }

    #[test]
    fn managed_fields_are_dropped_and_other_metadata_kept() {
        let r = record(
            TestEvent::new()
                .set_in(
                    &["metadata", "managedFields"],
                    json!([{"manager": "kubelet"}]),
                )
                .set_in(&["metadata", "generateName"], "web-"),
        );
        assert!(!r.metadata.other.contains_key("managedFields"));
        assert_eq!(r.metadata.other["generateName"], "web-");
    }

    #[test]
    fn wrong_types_lose_the_field_not_the_event() {
        let r = record(
            TestEvent::new()
                .set("count", "12")
                .set("reason", json!({"oops": true}))
                .set("eventTime", json!({})),
        );
        assert_eq!(r.count, Some(12));
        assert_eq!(r.reason, None);
        assert_eq!(r.event_time, None);
    }

    #[test]
    fn rejects_what_is_not_an_event() {
        let ctx = Context::new("c", Origin::Convert);
        assert!(matches!(
            normalise(&json!([1]), &ctx),
            Err(NormaliseError::NotAnObject { .. })
        ));
        assert!(matches!(
            normalise(&json!({"kind": "Pod"}), &ctx),
            Err(NormaliseError::NotAnEvent { .. })
        ));
    }

    #[test]
    fn a_huge_message_is_cut_and_marked() {
        let r = record(TestEvent::new().message("é".repeat(100_000)));
        assert!(line_bytes(&r) <= DEFAULT_MAX_LINE_BYTES);
        let cut = r.truncated.as_ref().expect("marked as truncated");
        assert_eq!(cut.fields, ["message"]);
        assert_eq!(cut.original_message_bytes, Some(200_000));
        let message = r.message.as_deref().expect("a prefix is kept");
        assert!(
            message.len() > 14_000,
            "keeps most of the budget: {}",
            message.len()
        );
        assert!(message.chars().all(|c| c == 'é'), "cut on a char boundary");
    }

    #[test]
    fn cutting_is_deterministic() {
        let event = TestEvent::new().message("x\"\n".repeat(20_000)).labels(500);
        assert_eq!(record(event.clone()).to_line(), record(event).to_line());
    }

    #[test]
    fn the_budget_is_configurable() {
        let ctx = Context {
            max_line_bytes: 2048,
            ..Context::new("c", Origin::Watch)
        };
        let r = normalise(&TestEvent::new().message("m".repeat(5000)).json(), &ctx).expect("Event");
        assert!(r.to_line().len() <= 2048);
        assert!(r.to_line().len() > 1900, "uses the budget");
    }
}
