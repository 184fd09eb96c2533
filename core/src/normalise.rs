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

use crate::line_budget::{self, FieldBudget};
use crate::record::{
    EventSeries, EventSource, Metadata, ObjectReference, Origin, Record, Reporter, SCHEMA_VERSION,
};

/// Default line budget: containerd splits longer stdout lines into partial records.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024;

/// Smallest line budget accepted: room for the identity of any event.
pub const MIN_MAX_LINE_BYTES: usize = 1024;

/// Parses a line budget given on the command line or in the environment.
pub fn parse_max_line_bytes(text: &str) -> Result<usize, String> {
    let bytes: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of bytes"))?;
    if bytes < MIN_MAX_LINE_BYTES {
        return Err(format!(
            "{bytes} is below the minimum of {MIN_MAX_LINE_BYTES} bytes"
        ));
    }
    Ok(bytes)
}

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
    let object = event.as_object().ok_or(NormaliseError::NotAnObject {
        found: json_type(event),
    })?;
    let event = EventFields::new(object);
    if let Some(kind) = event.string("kind")
        && !kind.is_empty()
        && kind != "Event"
    {
        return Err(NormaliseError::NotAnEvent { kind });
    }

    let api_version = event.string("apiVersion").filter(|v| !v.is_empty());
    // events.k8s.io names the same fields differently; TypeMeta is often missing, so also
    // recognise it by its field names.
    let events_api = api_version
        .as_deref()
        .is_some_and(|v| v.starts_with("events.k8s.io/"))
        || ["regarding", "note", "reportingController"]
            .iter()
            .any(|key| event.get(key).is_some());
    let name = |core: &'static str, events: &'static str| if events_api { events } else { core };

    let metadata = read_metadata(&event);
    let involved_object = event
        .object(name("involvedObject", "regarding"))
        .map(|o| read_object_reference(&o))
        .unwrap_or_default();
    let series = event.object("series").map(|s| EventSeries {
        count: s.integer("count"),
        last_observed_time: s.timestamp_text("lastObservedTime"),
        state: s.string("state"),
    });
    let source = event
        .object(name("source", "deprecatedSource"))
        .map(|s| EventSource {
            component: s.string("component"),
            host: s.string("host"),
        });
    let count = event.integer(name("count", "deprecatedCount"));
    let first_timestamp = event.timestamp_text(name("firstTimestamp", "deprecatedFirstTimestamp"));
    let last_timestamp = event.timestamp_text(name("lastTimestamp", "deprecatedLastTimestamp"));
    let event_time = event.timestamp_text("eventTime");
    let reporting_component = event.string(name("reportingComponent", "reportingController"));
    let reporting_instance = event.string("reportingInstance");

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

    let record = Record {
        schema_version: SCHEMA_VERSION,
        cluster: ctx.cluster.clone(),
        origin: ctx.origin,
        original_api_version: api_version,
        effective_time,
        effective_time_field,
        occurrences,
        reporter,
        metadata,
        involved_object,
        reason: event.string("reason"),
        message: event.string(name("message", "note")),
        event_type: event.string("type"),
        count,
        source,
        first_timestamp,
        last_timestamp,
        event_time,
        series,
        reporting_component,
        reporting_instance,
        action: event.string("action"),
        related: event.object("related").map(|o| read_object_reference(&o)),
        truncated: None,
    };
    Ok(line_budget::fit(
        record,
        ctx.max_line_bytes.max(MIN_MAX_LINE_BYTES),
        FieldBudget::default(),
    ))
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

fn read_metadata(event: &EventFields<'_>) -> Metadata {
    // The internal Go type (kubectl 1.8 `cluster-info dump`) inlines ObjectMeta at the top level.
    let Some(meta) = event.object("metadata") else {
        return Metadata {
            name: event.string("name"),
            namespace: event.string("namespace"),
            uid: event.string("uid"),
            resource_version: event.string("resourceVersion"),
            creation_timestamp: event.timestamp_text("creationTimestamp"),
            ..Metadata::default()
        };
    };
    let mut metadata = Metadata::default();
    for (key, value) in meta.fields {
        match key.as_str() {
            "name" => metadata.name = as_text(value),
            "namespace" => metadata.namespace = as_text(value),
            "uid" => metadata.uid = as_text(value),
            "resourceVersion" => metadata.resource_version = as_text(value),
            "creationTimestamp" => metadata.creation_timestamp = as_text(value),
            "labels" => metadata.labels = string_map(value),
            "annotations" => metadata.annotations = string_map(value),
            // Field ownership bookkeeping: large, and says nothing about what happened.
            "managedFields" => {}
            _ if value.is_null() => {}
            _ => {
                metadata.other.insert(key.clone(), value.clone());
            }
        }
    }
    metadata
}

fn read_object_reference(object: &EventFields<'_>) -> ObjectReference {
    ObjectReference {
        kind: object.string("kind"),
        namespace: object.string("namespace"),
        name: object.string("name"),
        uid: object.string("uid"),
        api_version: object.string("apiVersion"),
        resource_version: object.string("resourceVersion"),
        field_path: object.string("fieldPath"),
    }
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), as_text(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A string, or the text of a number or boolean; `None` for null, objects and arrays.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
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

/// Lenient, typed reads of an Event's JSON object.
struct EventFields<'a> {
    fields: &'a Map<String, Value>,
    /// Keys are those of the internal Go type (`InvolvedObject`, `UID`, ...), not the API's.
    go_names: bool,
}

impl<'a> EventFields<'a> {
    fn new(fields: &'a Map<String, Value>) -> Self {
        // The internal type has no `metadata` and capitalised field names.
        let go_names = !fields.contains_key("metadata")
            && fields
                .keys()
                .any(|k| k.starts_with(|c: char| c.is_ascii_uppercase()));
        Self { fields, go_names }
    }

    /// The value of `key`, ignoring ASCII case when the object uses the Go type's names.
    fn get(&self, key: &str) -> Option<&'a Value> {
        let exact = self.fields.get(key);
        let value = match exact {
            None if self.go_names => self
                .fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => exact,
        };
        value.filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).and_then(as_text)
    }

    /// A time field kept verbatim as text; `{}` (a zero MicroTime some servers print) is absent.
    fn timestamp_text(&self, key: &str) -> Option<String> {
        self.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    fn integer(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn object(&self, key: &str) -> Option<EventFields<'a>> {
        let fields = self.get(key)?.as_object()?;
        Some(EventFields {
            fields,
            go_names: self.go_names,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fixtures::TestEvent;
    use crate::line_budget::line_bytes;

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

    #[test]
    fn parse_max_line_bytes_rejects_small_and_junk() {
        assert_eq!(parse_max_line_bytes("16384"), Ok(16384));
        assert!(parse_max_line_bytes("100").is_err());
        assert!(parse_max_line_bytes("lots").is_err());
    }
}
