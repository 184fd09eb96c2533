//! `normalise`: one Kubernetes Event (as JSON) → one schema v1 [`Record`]. Pure: no IO, no
//! clock, the same input always gives the same record.
//!
//! Input is read leniently ([`ApiEvent`]), because real Events are untidy: no TypeMeta on
//! informer objects, `null` or `{}` where a time should be, empty strings, numbers as strings,
//! the events.k8s.io names, even the capitalised keys of the internal Go type. A value of the
//! wrong type is left out rather than failing the whole event: losing one field beats losing the
//! observation.

use jiff::Timestamp;
use serde_json::Value;

use crate::api_event::ApiEvent;

use crate::record::line_budget::{self, DEFAULT_MAX_LINE_BYTES, FieldBudget, MIN_MAX_LINE_BYTES};
use crate::record::{Origin, Record, Reporter, SCHEMA_VERSION};

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
    normalise_event(ApiEvent::from(event), ctx)
}

/// [`normalise`](fn@normalise) for an Event the caller no longer needs: its strings move into the record
/// instead of being copied.
pub fn normalise_owned(event: Value, ctx: &Context) -> Result<Record, NormaliseError> {
    normalise_event(ApiEvent::from(event), ctx)
}

/// [`normalise`](fn@normalise) for an Event decoded straight from the API's JSON (the emitter's and the
/// catch-up's path): its strings move into the record.
pub fn normalise_event(event: ApiEvent, ctx: &Context) -> Result<Record, NormaliseError> {
    if let Some(found) = event.not_an_object {
        return Err(NormaliseError::NotAnObject { found });
    }
    if let Some(kind) = event.kind
        && !kind.is_empty()
        && kind != "Event"
    {
        return Err(NormaliseError::NotAnEvent { kind });
    }

    let metadata = event.metadata;
    let series = event.series;
    let source = event.source;
    let count = event.count;
    let first_timestamp = event.first_timestamp;
    let last_timestamp = event.last_timestamp;
    let event_time = event.event_time;
    let reporting_component = event.reporting_component;
    let reporting_instance = event.reporting_instance;

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
        original_api_version: event.api_version.filter(|v| !v.is_empty()),
        effective_time,
        effective_time_field,
        occurrences,
        reporter,
        metadata,
        involved_object: event.involved_object.unwrap_or_default(),
        reason: event.reason,
        message: event.message,
        event_type: event.event_type,
        count,
        source,
        first_timestamp,
        last_timestamp,
        event_time,
        series,
        reporting_component,
        reporting_instance,
        action: event.action,
        related: event.related,
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
