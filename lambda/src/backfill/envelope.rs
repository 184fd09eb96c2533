//! The shape of a backfilled message, so that the queries written for the user's log shipper find
//! backfilled records under the same field names as the emitter's.
//!
//! Container Insights' Fluent Bit merges the emitter's JSON line under `log_processed`, the
//! aws-for-fluent-bit chart under `data`, and Vector (with the documented `remap`) at the top
//! level. The backfill writes the record nested the same way.

use std::str::FromStr;

/// Why an envelope name is not one we know.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown backfill envelope {0:?}: use log_processed, data, or empty for the bare record")]
pub struct UnknownEnvelope(pub String);

/// How the record is nested in the CloudWatch message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Envelope {
    /// The record itself (Vector with `parse_json` merged at the top level).
    #[default]
    Bare,
    /// `{"log_processed": record}` (Container Insights' Fluent Bit, `Merge_Log_Key log_processed`).
    LogProcessed,
    /// `{"data": record}` (the aws-for-fluent-bit chart, `Merge_Log_Key data`).
    Data,
}

impl FromStr for Envelope {
    type Err = UnknownEnvelope;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "" | "none" => Ok(Self::Bare),
            "log_processed" => Ok(Self::LogProcessed),
            "data" => Ok(Self::Data),
            other => Err(UnknownEnvelope(other.to_owned())),
        }
    }
}

impl Envelope {
    /// The key the record sits under, if any.
    pub fn key(self) -> Option<&'static str> {
        match self {
            Self::Bare => None,
            Self::LogProcessed => Some("log_processed"),
            Self::Data => Some("data"),
        }
    }

    /// The message for a record line (a JSON object; a trailing newline is dropped).
    pub fn wrap(self, line: &str) -> String {
        let record = line.trim_end_matches('\n');
        match self.key() {
            None => record.to_owned(),
            // The line is already a JSON object: nest it without parsing it again.
            Some(key) => format!("{{\"{key}\":{record}}}"),
        }
    }

    /// The record inside a message written with this envelope, if the message is one.
    pub fn unwrap(self, message: &str) -> Option<serde_json::Value> {
        let mut value: serde_json::Value = serde_json::from_str(message).ok()?;
        match self.key() {
            None => Some(value),
            Some(key) => Some(value.get_mut(key)?.take()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn each_envelope_nests_the_record_like_its_shipper() {
        let line = "{\"schemaVersion\":1,\"reason\":\"BackOff\",\"origin\":\"catch-up\"}\n";
        let record: Value = serde_json::from_str(line).unwrap();
        let bare: Value = serde_json::from_str(&Envelope::Bare.wrap(line)).unwrap();
        assert_eq!(bare, record);
        let nested: Value = serde_json::from_str(&Envelope::LogProcessed.wrap(line)).unwrap();
        assert_eq!(nested, json!({"log_processed": record}));
        assert_eq!(nested["log_processed"]["reason"], "BackOff");
        let data: Value = serde_json::from_str(&Envelope::Data.wrap(line)).unwrap();
        assert_eq!(data["data"]["origin"], "catch-up");
        for envelope in [Envelope::Bare, Envelope::LogProcessed, Envelope::Data] {
            assert_eq!(envelope.unwrap(&envelope.wrap(line)), Some(record.clone()));
        }
    }

    #[test]
    fn names_parse_and_unknown_ones_are_refused() {
        assert_eq!("".parse(), Ok(Envelope::Bare));
        assert_eq!("log_processed".parse(), Ok(Envelope::LogProcessed));
        assert_eq!("data".parse(), Ok(Envelope::Data));
        assert!("kubernetes".parse::<Envelope>().is_err());
    }
}
