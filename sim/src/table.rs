//! Server-side printing (`meta.k8s.io/v1` Table), which `kubectl get` asks for. Columns follow
//! kube-apiserver's printers: priority-0 columns are the default view, priority-1 ones `-o wide`.

use crate::clock::human_duration;
use crate::resource::View;
use jiff::Timestamp;
use serde_json::{Value, json};

/// What a row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// A PartialObjectMetadata (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter.
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// How a request wants its answer printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRequest {
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// What each row carries.
    pub include: IncludeObject,
}

/// The Table the Accept header asks for, if any (`application/json;as=Table;v=v1;g=meta.k8s.io`).
pub fn requested(accept: &str, include: IncludeObject) -> Option<TableRequest> {
    for range in accept.split(',') {
        let params: Vec<&str> = range.split(';').map(str::trim).collect();
        if params
            .first()
            .is_some_and(|m| !m.contains("json") && *m != "*/*")
        {
            continue;
        }
        let has = |p: &str| params.iter().any(|x| x.eq_ignore_ascii_case(p));
        if has("as=Table") && has("g=meta.k8s.io") {
            if has("v=v1") {
                return Some(TableRequest {
                    api_version: "meta.k8s.io/v1",
                    include,
                });
            }
            if has("v=v1beta1") {
                return Some(TableRequest {
                    api_version: "meta.k8s.io/v1beta1",
                    include,
                });
            }
        } else if !params.iter().any(|p| p.starts_with("as=")) {
            // A plain JSON range comes first: the client prefers objects.
            return None;
        }
    }
    None
}

/// A column of a Table: name, `format` (`name` for the object's name), priority (0: always
/// shown, 1: with `-o wide`) and description. Every column is a string.
type Column = (&'static str, &'static str, u8, &'static str);

const EVENT_COLUMNS: [Column; 10] = [
    ("Last Seen", "", 0, "Time since the event was last seen"),
    ("Type", "", 0, "Type of this event (Normal, Warning)"),
    ("Reason", "", 0, "Why the action was taken"),
    ("Object", "", 0, "The object this event is about"),
    (
        "Subobject",
        "",
        1,
        "The field of the object this event is about",
    ),
    ("Source", "", 1, "The component reporting this event"),
    ("Message", "", 0, "A human-readable description"),
    ("First Seen", "", 1, "Time since the event was first seen"),
    ("Count", "", 1, "How many times this event occurred"),
    ("Name", "name", 1, "Name of the event"),
];

const LEASE_COLUMNS: [Column; 3] = [
    ("Name", "name", 0, "Name must be unique within a namespace"),
    ("Holder", "", 0, "The holder of the lease"),
    ("Age", "", 0, "Time since the lease was created"),
];

/// The column definitions of a view.
pub fn columns(view: View) -> Value {
    let defs: &[Column] = match view {
        View::CoreEvents | View::EventsV1 => &EVENT_COLUMNS,
        View::Leases => &LEASE_COLUMNS,
    };
    defs.iter()
        .map(|&(name, format, priority, description)| {
            json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority})
        })
        .collect()
}

fn since(now: Timestamp, v: Option<&Value>) -> Option<String> {
    let ts: Timestamp = v?.as_str()?.parse().ok()?;
    Some(human_duration(now.duration_since(ts)))
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The cells of one stored object.
pub fn cells(view: View, o: &Value, now: Timestamp) -> Value {
    match view {
        View::CoreEvents | View::EventsV1 => {
            let first = since(now, o.get("firstTimestamp"))
                .or_else(|| since(now, o.get("eventTime")))
                .unwrap_or_else(|| "<unknown>".to_owned());
            let mut last = since(now, o.get("lastTimestamp")).unwrap_or_else(|| first.clone());
            let mut count = o.get("count").and_then(Value::as_i64).unwrap_or(0);
            if let Some(series) = o.get("series").filter(|x| x.is_object()) {
                last = since(now, series.get("lastObservedTime")).unwrap_or(last);
                count = series.get("count").and_then(Value::as_i64).unwrap_or(count);
            } else if count == 0 {
                count = 1;
            }
            let kind = s(o, "/involvedObject/kind").to_lowercase();
            let name = s(o, "/involvedObject/name");
            let target = if name.is_empty() {
                kind
            } else {
                format!("{kind}/{name}")
            };
            let component = s(o, "/source/component");
            let source = if component.is_empty() {
                join_nonempty(s(o, "/reportingComponent"), s(o, "/reportingInstance"))
            } else {
                join_nonempty(component, s(o, "/source/host"))
            };
            json!([
                last,
                s(o, "/type"),
                s(o, "/reason"),
                target,
                s(o, "/involvedObject/fieldPath"),
                source,
                s(o, "/message").trim(),
                first,
                count,
                s(o, "/metadata/name"),
            ])
        }
        View::Leases => json!([
            s(o, "/metadata/name"),
            s(o, "/spec/holderIdentity"),
            since(now, o.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".into()),
        ]),
    }
}

fn join_nonempty(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (false, false) => format!("{a}, {b}"),
        (false, true) => a.to_owned(),
        (true, false) => b.to_owned(),
        (true, true) => String::new(),
    }
}

/// One row: cells plus the object the request asked to include.
pub fn row(view: View, stored: &Value, now: Timestamp, req: TableRequest) -> Value {
    let mut r = json!({"cells": cells(view, stored, now)});
    match req.include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            r["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": stored.get("metadata").cloned().unwrap_or(json!({})),
            });
        }
        IncludeObject::Object => r["object"] = view.present(stored),
    }
    r
}

/// A whole Table.
pub fn table(view: View, req: TableRequest, list_meta: Value, rows: Vec<Value>) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": req.api_version,
        "metadata": list_meta,
        "columnDefinitions": columns(view),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_header_asks_for_a_table() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        let t = requested(kubectl, IncludeObject::Metadata).unwrap();
        assert_eq!(t.api_version, "meta.k8s.io/v1");
        assert_eq!(requested("application/json", IncludeObject::Metadata), None);
        assert_eq!(
            requested("application/json, */*", IncludeObject::Metadata),
            None
        );
    }

    #[test]
    fn event_cells_like_kubectl_get_events() {
        let now: Timestamp = "2023-10-19T22:33:44Z".parse().unwrap();
        let e = json!({
            "metadata": {"name": "scenario-c.1"}, "type": "Warning", "reason": "FailedScheduling",
            "involvedObject": {"kind": "Pod", "name": "scenario-c-6d988b8d84-gghjv"},
            "message": "0/3 nodes are available: 3 Insufficient cpu.",
            "firstTimestamp": "2023-10-19T21:49:44Z", "lastTimestamp": "2023-10-19T22:26:38Z",
            "count": 4, "source": {"component": "default-scheduler"},
        });
        let c = cells(View::CoreEvents, &e, now);
        assert_eq!(c[0], "7m6s");
        assert_eq!(c[3], "pod/scenario-c-6d988b8d84-gghjv");
        assert_eq!(c[5], "default-scheduler");
        assert_eq!(c[7], "44m");
        assert_eq!(c[8], 4);
    }
}
