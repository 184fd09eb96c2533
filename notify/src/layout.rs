//! Finding the record in one log event, under each layout the project supports: Container
//! Insights (`log_processed.*`), aws-for-fluent-bit (`data.*`), or bare records (Vector after
//! its `remap`, or the catch-up's backfill without an envelope).

use eventkeeper_core::record::RESERVED_SHIPPER_KEYS;
use eventkeeper_core::{Record, SCHEMA_VERSION};
use serde_json::{Map, Value};

/// Why a log event gave no record. Each is a counted skip.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SkipReason {
    /// The line is not a JSON object (a plain log line, or a record cut short).
    #[error("log event is not a JSON object")]
    NotJson,
    /// A JSON object with no record under any supported layout.
    #[error("log event has no record under log_processed, data or the top level")]
    UnknownLayout,
    /// The record says it is a schema version this notifier does not know.
    #[error("record schema version {0} is newer than {SCHEMA_VERSION}")]
    FutureSchema(u64),
    /// The record is there but does not have the schema's shape (truncated or altered).
    #[error("record does not match schema v{SCHEMA_VERSION}: {0}")]
    BadRecord(String),
}

impl SkipReason {
    /// Fixed metric label.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::NotJson => "not_json",
            Self::UnknownLayout => "unknown_layout",
            Self::FutureSchema(_) => "future_schema",
            Self::BadRecord(_) => "bad_record",
        }
    }
}

/// Where the record was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Container Insights: `log_processed.*`.
    ContainerInsights,
    /// aws-for-fluent-bit: `data.*`.
    FluentBit,
    /// Record fields at the top level.
    Bare,
}

/// The record in `message`, and the layout it was found under.
pub fn find_record(message: &str) -> Result<(Record, Layout), SkipReason> {
    let Ok(Value::Object(mut top)) = serde_json::from_str::<Value>(message) else {
        return Err(SkipReason::NotJson);
    };
    let (fields, layout) = if let Some(Value::Object(inner)) = top.remove("log_processed") {
        (inner, Layout::ContainerInsights)
    } else if let Some(Value::Object(inner)) = top.remove("data") {
        (inner, Layout::FluentBit)
    } else if top.contains_key("schemaVersion") {
        // Vector's metadata sits next to the merged record: not part of it.
        for key in RESERVED_SHIPPER_KEYS {
            top.remove(key);
        }
        (top, Layout::Bare)
    } else {
        return Err(SkipReason::UnknownLayout);
    };
    record_from(fields).map(|record| (record, layout))
}

fn record_from(fields: Map<String, Value>) -> Result<Record, SkipReason> {
    let version = match fields.get("schemaVersion") {
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
    .ok_or(SkipReason::UnknownLayout)?;
    if version > u64::from(SCHEMA_VERSION) {
        return Err(SkipReason::FutureSchema(version));
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| SkipReason::BadRecord(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventkeeper_core::fixtures::TestEvent;
    use eventkeeper_core::{Context, Origin, normalise};
    use serde_json::json;

    fn line() -> Value {
        let record = normalise(
            &TestEvent::new().warning().reason("BackOff").json(),
            &Context::new("prod", Origin::Watch),
        )
        .unwrap();
        serde_json::to_value(record).unwrap()
    }

    #[test]
    fn each_layout_gives_the_same_record() {
        let record = line();
        let ci = json!({"log": record.to_string(), "log_processed": record, "kubernetes": {"pod_name": "x"}});
        let fb = json!({"log": record.to_string(), "data": record, "kubernetes": {}});
        let mut bare = record.clone();
        bare["kubernetes"] = json!({"pod_name": "x"});
        bare["file"] = json!("/var/log/containers/x.log");
        bare["source_type"] = json!("kubernetes_logs");
        let (a, la) = find_record(&ci.to_string()).unwrap();
        let (b, lb) = find_record(&fb.to_string()).unwrap();
        let (c, lc) = find_record(&bare.to_string()).unwrap();
        assert_eq!(
            (la, lb, lc),
            (Layout::ContainerInsights, Layout::FluentBit, Layout::Bare)
        );
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.reason.as_deref(), Some("BackOff"));
    }

    #[test]
    fn bad_input_is_a_named_skip() {
        let record = line();
        let text = record.to_string();
        assert_eq!(find_record("plain text").unwrap_err(), SkipReason::NotJson);
        assert_eq!(
            find_record(&text[..text.len() / 2]).unwrap_err(),
            SkipReason::NotJson
        );
        assert_eq!(
            find_record(r#"{"msg":"hello"}"#).unwrap_err(),
            SkipReason::UnknownLayout
        );
        let mut future = record.clone();
        future["schemaVersion"] = json!(2);
        assert_eq!(
            find_record(&future.to_string()).unwrap_err(),
            SkipReason::FutureSchema(2)
        );
        let mut broken = record;
        broken["involvedObject"] = json!("not an object");
        assert!(matches!(
            find_record(&json!({"data": broken}).to_string()).unwrap_err(),
            SkipReason::BadRecord(_)
        ));
    }
}
