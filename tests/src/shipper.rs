//! How the emitter's stdout lines reach a CloudWatch Logs subscription: each shipper's wrapping
//! (the three layouts the project supports) and the subscription payload Lambda receives
//! (`{"awslogs":{"data": base64(gzip(JSON))}}`), written here independently of the notifier's
//! decoder so a test of one checks the other.

use std::io::Write;

use base64::Engine;
use serde_json::{Value, json};

/// The three layouts, as each shipper writes a record line into CloudWatch Logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shipper {
    /// Container Insights' Fluent Bit (`Merge_Log_Key log_processed`): fields under `log_processed`.
    ContainerInsights,
    /// aws-for-fluent-bit (`Merge_Log_Key data`): fields under `data`.
    FluentBit,
    /// Vector's `kubernetes_logs` with `. = merge(., parse_json!(.message))`: fields at the top.
    Vector,
}

impl Shipper {
    /// All three.
    pub const ALL: [Self; 3] = [Self::ContainerInsights, Self::FluentBit, Self::Vector];

    /// The log event text for one record line (the emitter's stdout, unchanged inside).
    pub fn wrap(self, line: &str) -> String {
        let record: Value = serde_json::from_str(line).expect("record line");
        let kubernetes = json!({"pod_name": "eventkeeper-emitter-0", "namespace_name": "eventkeeper", "container_name": "emitter"});
        match self {
            Self::ContainerInsights => json!({"log": line, "stream": "stdout", "time": "2026-01-01T00:00:00Z", "kubernetes": kubernetes, "log_processed": record}),
            Self::FluentBit => json!({"log": line, "stream": "stdout", "time": "2026-01-01T00:00:00Z", "kubernetes": kubernetes, "data": record}),
            Self::Vector => {
                let mut merged = json!({"message": line, "kubernetes": kubernetes, "file": "/var/log/containers/x.log", "source_type": "kubernetes_logs", "stream": "stdout", "timestamp": "2026-01-01T00:00:00Z"});
                for (k, v) in record.as_object().expect("object") {
                    merged[k] = v.clone();
                }
                merged
            }
        }
        .to_string()
    }

    /// The log group each shipper writes to by default.
    pub fn log_group(self, cluster: &str) -> String {
        match self {
            Self::ContainerInsights => format!("/aws/containerinsights/{cluster}/application"),
            Self::FluentBit | Self::Vector => "/eventkeeper/events".to_owned(),
        }
    }
}

/// One Lambda invocation event of a CloudWatch Logs subscription carrying `events`
/// (timestamp in milliseconds, message), as `DATA_MESSAGE`.
pub fn subscription_event(log_group: &str, log_stream: &str, events: &[(i64, String)]) -> Value {
    let log_events: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, (timestamp, message))| {
            // CloudWatch's event ids are 56-digit strings; unique within the payload is enough.
            json!({"id": format!("{timestamp:020}{i:036}"), "timestamp": timestamp, "message": message})
        })
        .collect();
    let body = json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["eventkeeper-notify"],
        "logEvents": log_events,
    });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(body.to_string().as_bytes())
        .expect("in-memory gzip");
    let data = base64::engine::general_purpose::STANDARD.encode(gzip.finish().expect("gzip"));
    json!({"awslogs": {"data": data}})
}

/// The most a subscription delivers at once: PutLogEvents' batch limit (1,048,576 bytes counting
/// 26 bytes per event, at most 10,000 events).
pub const MAX_BATCH_BYTES: usize = 1_048_576;

/// Cuts `(timestamp ms, message)` events, in order, into subscription batches: a new batch
/// whenever `window_ms` has passed since the batch's first event, or the batch would exceed
/// PutLogEvents' limits (as the log agents' flushes and the subscription's delivery do).
pub fn batches(events: &[(i64, String)], window_ms: i64) -> Vec<Vec<(i64, String)>> {
    let mut out: Vec<Vec<(i64, String)>> = Vec::new();
    let mut bytes = 0;
    for (timestamp, message) in events {
        let size = message.len() + 26;
        let start_new = match out.last() {
            None => true,
            Some(batch) => {
                timestamp - batch[0].0 >= window_ms
                    || batch.len() >= 10_000
                    || bytes + size > MAX_BATCH_BYTES
            }
        };
        if start_new {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        out.last_mut()
            .expect("a batch")
            .push((*timestamp, message.clone()));
    }
    out
}
