//! Realistic core/v1 Events the way the two Kubernetes recorders write them, and their repeats:
//! the legacy recorder (kubelet, controllers: `count` + `lastTimestamp`) and the new one
//! (scheduler: `eventTime` + `series`).

use crate::clock::{format_micro_time, format_time};
use crate::resource::View;
use crate::status::ApiError;
use crate::store::{Key, Store};
use jiff::Timestamp;
use serde_json::{Value, json};

/// The object an Event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Involved {
    /// Kind (`Pod`, `ReplicaSet`, `Deployment`, `Node`).
    pub kind: String,
    /// apiVersion (`v1`, `apps/v1`).
    pub api_version: String,
    /// Namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// uid.
    pub uid: String,
    /// Optional fieldPath (`spec.containers{nginx}`).
    pub field_path: Option<String>,
}

/// Who records the Event, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorder {
    /// Legacy recorder: `source`, `count`, `firstTimestamp`/`lastTimestamp`.
    Legacy {
        /// source.component (`kubelet`).
        component: String,
        /// source.host (node name), may be empty.
        host: String,
    },
    /// events.k8s.io recorder: `eventTime`, `series`, `reportingController`, `action`.
    New {
        /// reportingController (`default-scheduler`).
        controller: String,
        /// reportingInstance.
        instance: String,
        /// action (`Scheduling`).
        action: String,
    },
}

/// Everything needed to write one Event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventTemplate {
    /// What it is about.
    pub involved: Involved,
    /// Normal or Warning.
    pub event_type: String,
    /// reason.
    pub reason: String,
    /// message.
    pub message: String,
    /// Who records it.
    pub recorder: Recorder,
}

/// A new Event (no uid/resourceVersion: the store assigns those). `unique` keeps names distinct
/// when many Events are made in the same nanosecond.
pub fn build(t: &EventTemplate, now: Timestamp, unique: u64) -> Value {
    let io = &t.involved;
    let name = format!(
        "{}.{:x}",
        io.name,
        (now.as_nanosecond() as u64).wrapping_add(unique)
    );
    let namespace = if io.namespace.is_empty() {
        "default"
    } else {
        io.namespace.as_str()
    };
    let mut involved = json!({
        "kind": io.kind, "namespace": io.namespace, "name": io.name, "uid": io.uid,
        "apiVersion": io.api_version,
    });
    if io.namespace.is_empty()
        && let Some(m) = involved.as_object_mut()
    {
        m.remove("namespace");
    }
    if let Some(fp) = &io.field_path {
        involved["fieldPath"] = json!(fp);
    }
    let mut e = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": involved,
        "reason": t.reason,
        "message": t.message,
        "type": t.event_type,
    });
    match &t.recorder {
        Recorder::Legacy { component, host } => {
            let mut source = json!({"component": component});
            if !host.is_empty() {
                source["host"] = json!(host);
            }
            e["source"] = source;
            e["count"] = json!(1);
            e["firstTimestamp"] = json!(format_time(now));
            e["lastTimestamp"] = json!(format_time(now));
            e["eventTime"] = Value::Null;
            e["reportingComponent"] = json!(component);
            e["reportingInstance"] = json!(host);
        }
        Recorder::New {
            controller,
            instance,
            action,
        } => {
            e["source"] = json!({});
            e["eventTime"] = json!(format_micro_time(now));
            e["firstTimestamp"] = Value::Null;
            e["lastTimestamp"] = Value::Null;
            e["reportingComponent"] = json!(controller);
            e["reportingInstance"] = json!(instance);
            e["action"] = json!(action);
        }
    }
    e
}

/// Repeats the stored core/v1 Event at `key` as its recorder would (see [`repeat`]); an error
/// when it is gone (expired or deleted).
pub fn repeat_stored(store: &Store, key: &Key, now: Timestamp) -> Result<(), ApiError> {
    store
        .patch(View::CoreEvents, &key.0, &key.1, false, |cur| {
            cur.map(|c| repeat(c, now))
                .ok_or_else(ApiError::no_such_path)
        })
        .map(drop)
}

/// The same Event seen again: `series` for new-recorder Events, `count`/`lastTimestamp` else.
pub fn repeat(current: &Value, now: Timestamp) -> Value {
    let mut e = current.clone();
    let new_recorder = e.get("series").is_some_and(Value::is_object)
        || (e.get("eventTime").is_some_and(|t| !t.is_null())
            && e.get("lastTimestamp").is_none_or(Value::is_null));
    if new_recorder {
        let count = e
            .pointer("/series/count")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        e["series"] = json!({"count": count + 1, "lastObservedTime": format_micro_time(now)});
    } else {
        let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
        e["count"] = json!(count + 1);
        e["lastTimestamp"] = json!(format_time(now));
        if e.get("firstTimestamp").is_none_or(Value::is_null) {
            e["firstTimestamp"] = json!(format_time(now));
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Involved {
        Involved {
            kind: "Pod".into(),
            api_version: "v1".into(),
            namespace: "test".into(),
            name: "scenario-b-cff56c84-xn9hh".into(),
            uid: "u1".into(),
            field_path: Some("spec.containers{scenario-b}".into()),
        }
    }

    #[test]
    fn legacy_repeats_bump_count_and_last_timestamp() {
        let t = EventTemplate {
            involved: pod(),
            event_type: "Normal".into(),
            reason: "BackOff".into(),
            message: "Back-off pulling image \"wrong-image\"".into(),
            recorder: Recorder::Legacy {
                component: "kubelet".into(),
                host: "ip-10-42-179-183.us-west-2.compute.internal".into(),
            },
        };
        let t0: Timestamp = "2023-10-19T21:49:44Z".parse().unwrap();
        let e = build(&t, t0, 0);
        assert!(
            e["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("scenario-b-cff56c84-xn9hh.")
        );
        assert_eq!(e["count"], 1);
        let r = repeat(&e, "2023-10-19T21:50:44Z".parse().unwrap());
        assert_eq!(r["count"], 2);
        assert_eq!(r["lastTimestamp"], "2023-10-19T21:50:44Z");
        assert_eq!(r["firstTimestamp"], "2023-10-19T21:49:44Z");
    }

    #[test]
    fn new_recorder_repeats_use_series() {
        let t = EventTemplate {
            involved: pod(),
            event_type: "Warning".into(),
            reason: "FailedScheduling".into(),
            message: "0/3 nodes are available: 3 Insufficient cpu.".into(),
            recorder: Recorder::New {
                controller: "default-scheduler".into(),
                instance: "default-scheduler-ip-10-42-0-1".into(),
                action: "Scheduling".into(),
            },
        };
        let e = build(&t, Timestamp::now(), 1);
        assert_eq!(e["lastTimestamp"], Value::Null);
        let r = repeat(&repeat(&e, Timestamp::now()), Timestamp::now());
        assert_eq!(r["series"]["count"], 3);
    }
}
