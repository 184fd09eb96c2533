//! The CloudWatch Logs subscription payload: `{"awslogs":{"data": base64(gzip(JSON))}}`, whose
//! JSON holds `messageType`, `logGroup`, `logStream` and `logEvents`. Control messages (sent
//! when a subscription is created) carry no records.

use std::io::Read;

use base64::Engine;
use flate2::read::GzDecoder;
use serde::Deserialize;

/// Why a payload held no log events (each one a counted skip, never a failed batch).
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The invocation event has no `awslogs.data` string.
    #[error("invocation event has no awslogs.data")]
    NoData,
    /// `awslogs.data` is not base64.
    #[error("awslogs.data is not base64: {0}")]
    NotBase64(#[source] base64::DecodeError),
    /// The decoded bytes are not a complete gzip stream.
    #[error("awslogs.data is not gzip: {0}")]
    NotGzip(#[source] std::io::Error),
    /// The unzipped text is not the subscription JSON.
    #[error("subscription payload is not the CloudWatch Logs JSON: {0}")]
    NotJson(#[source] serde_json::Error),
}

impl PayloadError {
    /// Fixed metric label.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::NoData => "no_data",
            Self::NotBase64(_) => "not_base64",
            Self::NotGzip(_) => "not_gzip",
            Self::NotJson(_) => "not_json",
        }
    }
}

/// The decoded payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE`.
    pub message_type: String,
    /// The log group the events come from.
    #[serde(default)]
    pub log_group: String,
    /// The log stream.
    #[serde(default)]
    pub log_stream: String,
    /// The log events.
    #[serde(default)]
    pub log_events: Vec<LogEvent>,
}

impl Subscription {
    /// Whether CloudWatch Logs sent this only to check the destination.
    pub fn is_control(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

/// One log event.
#[derive(Debug, Deserialize)]
pub struct LogEvent {
    /// CloudWatch's event id (unique within the log group).
    #[serde(default)]
    pub id: String,
    /// Ingestion-side timestamp, epoch milliseconds.
    #[serde(default)]
    pub timestamp: i64,
    /// The log line as the shipper wrote it.
    pub message: String,
}

/// Reads the payload out of a Lambda invocation event.
pub fn decode_event(event: &serde_json::Value) -> Result<Subscription, PayloadError> {
    let data = event
        .pointer("/awslogs/data")
        .and_then(serde_json::Value::as_str)
        .ok_or(PayloadError::NoData)?;
    decode_data(data)
}

/// Decodes `awslogs.data`.
pub fn decode_data(data: &str) -> Result<Subscription, PayloadError> {
    let zipped = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(PayloadError::NotBase64)?;
    let mut json = Vec::with_capacity(zipped.len() * 8);
    GzDecoder::new(zipped.as_slice())
        .read_to_end(&mut json)
        .map_err(PayloadError::NotGzip)?;
    serde_json::from_slice(&json).map_err(PayloadError::NotJson)
}

/// Encodes a payload the way CloudWatch Logs does (tests, the benchmark and local runs).
pub fn encode(log_group: &str, log_stream: &str, messages: &[(i64, String)]) -> serde_json::Value {
    use std::io::Write;
    let events: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, (timestamp, message))| {
            serde_json::json!({"id": format!("{timestamp}{i:08}"), "timestamp": timestamp, "message": message})
        })
        .collect();
    let body = serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["eventkeeper-notify"],
        "logEvents": events,
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.to_string().as_bytes())
        .expect("in-memory gzip");
    let zipped = gz.finish().expect("in-memory gzip");
    serde_json::json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(zipped)}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let event = encode("g", "s", &[(1, "a".into()), (2, "b".into())]);
        let sub = decode_event(&event).unwrap();
        assert_eq!(sub.log_group, "g");
        assert_eq!(sub.log_events.len(), 2);
        assert_eq!(sub.log_events[1].message, "b");
        assert!(!sub.is_control());
    }

    #[test]
    fn bad_payloads_say_why() {
        let plain = base64::engine::general_purpose::STANDARD.encode(b"{\"not\":\"gzip\"}");
        assert!(matches!(decode_data(&plain), Err(PayloadError::NotGzip(_))));
        assert!(matches!(
            decode_data("%%%"),
            Err(PayloadError::NotBase64(_))
        ));
        assert!(matches!(
            decode_event(&serde_json::json!({})),
            Err(PayloadError::NoData)
        ));
        let event = encode("g", "s", &[(1, "a".into())]);
        let data = event["awslogs"]["data"].as_str().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        let cut = base64::engine::general_purpose::STANDARD.encode(&raw[..raw.len() - 9]);
        assert!(matches!(decode_data(&cut), Err(PayloadError::NotGzip(_))));
    }
}
