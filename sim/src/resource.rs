//! The resources served: Events (stored as core/v1, also viewed as events.k8s.io/v1) and Leases.
//! Field labels, defaulting, validation and the conversion between the two Event APIs.

use crate::status::{ApiError, ResourceName};
use serde_json::{Map, Value, json};

/// What is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// core/v1 Event.
    Event,
    /// coordination.k8s.io/v1 Lease.
    Lease,
}

/// The API a request speaks; Events are stored once and served through two views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `/api/v1/.../events`.
    CoreEvents,
    /// `/apis/events.k8s.io/v1/.../events`.
    EventsV1,
    /// `/apis/coordination.k8s.io/v1/.../leases`.
    Leases,
}

impl View {
    /// The stored kind behind the view.
    pub fn kind(self) -> Kind {
        match self {
            View::CoreEvents | View::EventsV1 => Kind::Event,
            View::Leases => Kind::Lease,
        }
    }

    /// `apiVersion` of objects in this view.
    pub fn api_version(self) -> &'static str {
        match self {
            View::CoreEvents => "v1",
            View::EventsV1 => "events.k8s.io/v1",
            View::Leases => "coordination.k8s.io/v1",
        }
    }

    /// `kind` of one object.
    pub fn object_kind(self) -> &'static str {
        match self {
            View::CoreEvents | View::EventsV1 => "Event",
            View::Leases => "Lease",
        }
    }

    /// `kind` of a list.
    pub fn list_kind(self) -> &'static str {
        match self {
            View::CoreEvents | View::EventsV1 => "EventList",
            View::Leases => "LeaseList",
        }
    }

    /// Names used in error messages.
    pub fn resource_name(self) -> ResourceName {
        match self {
            View::CoreEvents => ResourceName {
                plural: "events",
                group: "",
            },
            View::EventsV1 => ResourceName {
                plural: "events",
                group: "events.k8s.io",
            },
            View::Leases => ResourceName {
                plural: "leases",
                group: "coordination.k8s.io",
            },
        }
    }

    /// The stored-object path a field label selects on, or None when unsupported.
    pub fn field_path(self, label: &str) -> Option<&'static str> {
        let common = match label {
            "metadata.name" => Some("metadata.name"),
            "metadata.namespace" => Some("metadata.namespace"),
            _ => None,
        };
        if common.is_some() || self == View::Leases {
            return common;
        }
        let core = match label {
            "involvedObject.kind" => "involvedObject.kind",
            "involvedObject.namespace" => "involvedObject.namespace",
            "involvedObject.name" => "involvedObject.name",
            "involvedObject.uid" => "involvedObject.uid",
            "involvedObject.apiVersion" => "involvedObject.apiVersion",
            "involvedObject.resourceVersion" => "involvedObject.resourceVersion",
            "involvedObject.fieldPath" => "involvedObject.fieldPath",
            "reason" => "reason",
            "reportingComponent" => "reportingComponent",
            "source" => "source.component",
            "type" => "type",
            _ => "",
        };
        if !core.is_empty() {
            return Some(core);
        }
        if self == View::EventsV1 {
            return match label {
                "regarding.kind" => Some("involvedObject.kind"),
                "regarding.namespace" => Some("involvedObject.namespace"),
                "regarding.name" => Some("involvedObject.name"),
                "regarding.uid" => Some("involvedObject.uid"),
                "regarding.apiVersion" => Some("involvedObject.apiVersion"),
                "regarding.resourceVersion" => Some("involvedObject.resourceVersion"),
                "regarding.fieldPath" => Some("involvedObject.fieldPath"),
                "reportingController" => Some("reportingComponent"),
                "deprecatedSource.component" => Some("source.component"),
                _ => None,
            };
        }
        None
    }

    /// May a PUT omit `metadata.resourceVersion`? Not for Leases: their strategy's
    /// `AllowUnconditionalUpdate()` is false (`pkg/registry/coordination/lease/strategy.go`).
    pub fn allows_unconditional_update(self) -> bool {
        self != View::Leases
    }

    /// The stored object as this view shows it.
    pub fn present(self, stored: &Value) -> Value {
        match self {
            View::EventsV1 => core_to_events_v1(stored),
            View::CoreEvents | View::Leases => stored.clone(),
        }
    }

    /// A client's object in this view, converted to the stored form.
    pub fn to_stored(self, incoming: Value) -> Value {
        match self {
            View::EventsV1 => events_v1_to_core(&incoming),
            View::CoreEvents | View::Leases => incoming,
        }
    }
}

/// Fills the fields the real server always prints (Go structs that are never omitted) and checks
/// what kube-apiserver's validation checks for our purposes.
pub fn default_and_validate(view: View, namespace: &str, obj: &mut Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let res = view.resource_name();
    let kind = view.object_kind();
    if view.kind() == Kind::Event {
        map.insert("apiVersion".into(), json!("v1"));
        map.insert("kind".into(), json!("Event"));
        for key in ["involvedObject", "source"] {
            if !map.get(key).is_some_and(Value::is_object) {
                map.insert(key.into(), json!({}));
            }
        }
        for key in ["firstTimestamp", "lastTimestamp", "eventTime"] {
            map.entry(key).or_insert(Value::Null);
        }
        for key in ["reportingComponent", "reportingInstance"] {
            map.entry(key).or_insert(json!(""));
        }
        let io_ns = map
            .get("involvedObject")
            .and_then(|io| io.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !io_ns.is_empty() && io_ns != namespace {
            return Err(ApiError::invalid(
                kind,
                res.group,
                &name,
                "involvedObject.namespace",
                &format!("Invalid value: \"{io_ns}\": does not match event.namespace"),
            ));
        }
    } else {
        map.insert("apiVersion".into(), json!(view.api_version()));
        map.insert("kind".into(), json!(kind));
        let spec = map.entry("spec").or_insert(json!({}));
        validate_lease_spec(spec, &name)?;
    }
    if name.is_empty() {
        return Err(ApiError::invalid(
            kind,
            res.group,
            &name,
            "metadata.name",
            "Required value: name or generateName is required",
        ));
    }
    Ok(())
}

/// A Lease spec as the API server decodes and validates it: `renewTime` and `acquireTime` are
/// MicroTime, decoded with Go's `time.Parse(RFC3339Micro)` (exactly six fraction digits; 400
/// when that fails) and served back in UTC; durations and transitions are checked by
/// `pkg/apis/coordination/validation` (422).
fn validate_lease_spec(spec: &mut Value, name: &str) -> Result<(), ApiError> {
    let Some(spec) = spec.as_object_mut() else {
        return Err(lease_decode_error("spec: expected an object"));
    };
    for field in ["renewTime", "acquireTime"] {
        match spec.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let ts = parse_micro_time(s).ok_or_else(|| {
                    lease_decode_error(&format!(
                        "parsing time {s:?} as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse {s:?}"
                    ))
                })?;
                spec.insert(field.into(), json!(crate::clock::format_micro_time(ts)));
            }
            Some(other) => {
                return Err(lease_decode_error(&format!(
                    "spec.{field}: expected a string, got {other}"
                )));
            }
        }
    }
    for (field, min) in [("leaseDurationSeconds", 1), ("leaseTransitions", 0)] {
        match spec.get(field) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_i64() {
                Some(n) if n >= min => {}
                Some(n) => {
                    let bound = if min == 1 {
                        "must be greater than 0"
                    } else {
                        "must be greater than or equal to 0"
                    };
                    return Err(ApiError::invalid(
                        "Lease",
                        "coordination.k8s.io",
                        name,
                        &format!("spec.{field}"),
                        &format!("Invalid value: {n}: {bound}"),
                    ));
                }
                None => {
                    return Err(lease_decode_error(&format!(
                        "spec.{field}: expected an integer, got {v}"
                    )));
                }
            },
        }
    }
    Ok(())
}

fn lease_decode_error(why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Lease in version \"v1\" cannot be handled as a Lease: {why}"
    ))
}

/// `2006-01-02T15:04:05.000000Z07:00` exactly: six fraction digits, `Z` or `±hh:mm`.
pub fn parse_micro_time(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    let shape = b.len() >= 27
        && b[10] == b'T'
        && b[19] == b'.'
        && b[20..26].iter().all(u8::is_ascii_digit)
        && match &b[26..] {
            [b'Z'] => true,
            [sign, h1, h2, b':', m1, m2] => {
                (*sign == b'+' || *sign == b'-')
                    && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
            }
            _ => false,
        };
    if !shape {
        return None;
    }
    s.parse().ok()
}

fn copy_field(
    from: &Map<String, Value>,
    from_key: &str,
    to: &mut Map<String, Value>,
    to_key: &str,
) {
    if let Some(v) = from.get(from_key) {
        to.insert(to_key.to_owned(), v.clone());
    }
}

/// Each core/v1 Event field and its events.k8s.io/v1 name (the field mapping of the Kubernetes
/// conversion); read left to right one way, right to left the other.
const EVENT_V1_FIELDS: [(&str, &str); 15] = [
    ("metadata", "metadata"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("action", "action"),
    ("reason", "reason"),
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("message", "note"),
    ("type", "type"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// core/v1 Event → events.k8s.io/v1 Event.
pub fn core_to_events_v1(core: &Value) -> Value {
    convert_event(core, "events.k8s.io/v1", |(core, v1)| (core, v1))
}

/// events.k8s.io/v1 Event → core/v1 Event.
pub fn events_v1_to_core(ev: &Value) -> Value {
    convert_event(ev, "v1", |(core, v1)| (v1, core))
}

/// Copies the mapped fields of `ev` into a new Event of `api_version`; `direction` turns a
/// (core, v1) pair into (from, to).
fn convert_event(
    ev: &Value,
    api_version: &str,
    direction: fn((&'static str, &'static str)) -> (&'static str, &'static str),
) -> Value {
    let Some(c) = ev.as_object() else {
        return ev.clone();
    };
    let mut e = Map::new();
    e.insert("apiVersion".into(), json!(api_version));
    e.insert("kind".into(), json!("Event"));
    for (from, to) in EVENT_V1_FIELDS.map(direction) {
        copy_field(c, from, &mut e, to);
    }
    Value::Object(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_times_parse_as_strictly_as_rfc3339_micro() {
        assert!(parse_micro_time("2026-11-30T20:01:02.123456Z").is_some());
        assert!(parse_micro_time("2026-11-30T20:01:02.123456+02:00").is_some());
        for bad in [
            "yesterday",
            "2026-11-30T20:01:02Z",
            "2026-11-30T20:01:02.123Z",
            "2026-11-30T20:01:02.123456789Z",
            "2026-11-30 20:01:02.123456Z",
        ] {
            assert!(parse_micro_time(bad).is_none(), "{bad}");
        }
        let mut lease = json!({"metadata": {"name": "l"},
            "spec": {"renewTime": "2026-11-30T22:01:02.000001+02:00"}});
        default_and_validate(View::Leases, "ns", &mut lease).unwrap();
        assert_eq!(lease["spec"]["renewTime"], "2026-11-30T20:01:02.000001Z");
        let mut lease = json!({"metadata": {"name": "l"}, "spec": {"renewTime": "yesterday"}});
        let err = default_and_validate(View::Leases, "ns", &mut lease).unwrap_err();
        assert_eq!(err.code, 400);
        let mut lease = json!({"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}});
        let err = default_and_validate(View::Leases, "ns", &mut lease).unwrap_err();
        assert_eq!(err.code, 422);
    }

    #[test]
    fn events_v1_round_trips_through_core() {
        let core = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "a.1", "namespace": "test"},
            "involvedObject": {"kind": "Pod", "name": "a"},
            "reason": "BackOff", "message": "Back-off pulling image", "type": "Normal",
            "source": {"component": "kubelet"}, "count": 3,
            "firstTimestamp": "2023-10-19T21:49:44Z", "lastTimestamp": "2023-10-19T21:59:44Z",
            "eventTime": null, "reportingComponent": "kubelet", "reportingInstance": "node-1",
        });
        let v1 = core_to_events_v1(&core);
        assert_eq!(v1["regarding"]["kind"], "Pod");
        assert_eq!(v1["note"], "Back-off pulling image");
        assert_eq!(v1["deprecatedCount"], 3);
        assert_eq!(v1["reportingController"], "kubelet");
        assert_eq!(events_v1_to_core(&v1), core);
    }

    #[test]
    fn events_get_the_fields_go_never_omits() {
        let mut e = json!({"metadata": {"name": "x", "namespace": "ns"}});
        default_and_validate(View::CoreEvents, "ns", &mut e).unwrap();
        assert_eq!(e["involvedObject"], json!({}));
        assert_eq!(e["eventTime"], Value::Null);
        assert_eq!(e["reportingComponent"], "");
    }

    #[test]
    fn involved_object_in_another_namespace_is_invalid() {
        let mut e = json!({"metadata": {"name": "x"}, "involvedObject": {"namespace": "other"}});
        let err = default_and_validate(View::CoreEvents, "ns", &mut e).unwrap_err();
        assert_eq!(err.code, 422);
    }

    #[test]
    fn events_v1_field_labels_map_to_core_paths() {
        assert_eq!(
            View::EventsV1.field_path("regarding.kind"),
            Some("involvedObject.kind")
        );
        assert_eq!(View::CoreEvents.field_path("regarding.kind"), None);
        assert_eq!(View::Leases.field_path("type"), None);
        assert_eq!(
            View::CoreEvents.field_path("source"),
            Some("source.component")
        );
    }
}
