//! Budgets every record must fit: a line size (containerd splits stdout lines longer than
//! 16 KiB into partial records, which many shipper setups drop or mangle) and a field count
//! (Logs Insights extracts at most 200 fields per event, shipper fields included).
//!
//! Cutting is deterministic, so the same event always yields the same line, and it says what it
//! did in `truncated`. The order: labels/annotations beyond the field budget, then `message`,
//! then annotations, labels, `related`, other metadata; a pathological event (every string huge)
//! is finally reduced to its identity with short strings.

use std::collections::BTreeMap;

use serde_json::Value;

use super::json_line::{cut_escaped, escaped_len};
use super::walk::FieldValue;
use super::{Record, Truncation};

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

/// Most fields a record may flatten to. Logs Insights stops at 200 per event; Fluent Bit's
/// `kubernetes` filter and the CloudWatch envelope add some 20 of their own, so we keep a margin.
pub const MAX_RECORD_FIELDS: usize = 150;

/// Fields the fixed part of a record can flatten to at most (every optional field present,
/// `truncated` included, which names each part cut at most once). Labels, annotations and other
/// metadata share the rest.
const FIXED_FIELDS: usize = <Record as FieldValue>::MAX_LEAVES + CUT_PARTS.len();

/// The parts `truncated.fields` can name, in the order they are cut.
const CUT_PARTS: [&str; 7] = [
    "message",
    "metadata.annotations",
    "metadata.labels",
    "related",
    "metadata.other",
    "strings",
    "skeleton",
];

/// What a record is reduced to when nothing else made it fit: what identifies the observation
/// and says what happened. Every other field is emptied.
const SKELETON: [&str; 15] = [
    "schemaVersion",
    "cluster",
    "origin",
    "effectiveTime",
    "effectiveTimeField",
    "occurrences",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.resourceVersion",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "reason",
    "type",
];

/// Limit on flattened fields.
#[derive(Clone, Copy, Debug)]
pub struct FieldBudget {
    /// Most fields the record may flatten to.
    pub max_fields: usize,
}

impl Default for FieldBudget {
    fn default() -> Self {
        Self {
            max_fields: MAX_RECORD_FIELDS,
        }
    }
}

/// Caps for string values, tried in turn when cutting the big parts was not enough.
const STRING_CAPS: [usize; 3] = [512, 128, 32];

/// Cuts `record` in place until it fits both budgets. `max_line_bytes` includes the newline.
/// (In place because a record is about a kilobyte of struct: moving it in and out of every
/// call showed up in the profile.)
pub fn fit(record: &mut Record, max_line_bytes: usize, fields: FieldBudget) {
    let mut cuts = Cuts::default();
    if !within_fields(record, fields) {
        cuts.original_line_bytes = line_bytes(record);
        fit_fields(record, fields, &mut cuts);
    } else {
        // Most events are far below the budget: a cheap bound spares serializing them twice.
        if size_upper_bound(record) <= max_line_bytes {
            return;
        }
        let size = line_bytes(record);
        if size <= max_line_bytes {
            return;
        }
        cuts.original_line_bytes = size;
    }
    // From here on the record carries its `truncated` marker, so every size measured includes it.
    // Bytes over the budget (0 when it fits), each size measured once.
    let excess = |record: &mut Record, cuts: &Cuts| {
        record.truncated = Some(cuts.marker());
        line_bytes(record).saturating_sub(max_line_bytes)
    };
    let over = |record: &mut Record, cuts: &Cuts| excess(record, cuts) > 0;

    if over(record, &cuts) {
        cut_message(record, max_line_bytes, &mut cuts);
    }
    loop {
        let bytes = excess(record, &cuts);
        if bytes == 0 || record.metadata.annotations.is_empty() {
            break;
        }
        cuts.annotations_dropped += drop_last_entries(&mut record.metadata.annotations, bytes);
        cuts.note("metadata.annotations");
    }
    loop {
        let bytes = excess(record, &cuts);
        if bytes == 0 || record.metadata.labels.is_empty() {
            break;
        }
        cuts.labels_dropped += drop_last_entries(&mut record.metadata.labels, bytes);
        cuts.note("metadata.labels");
    }
    if over(record, &cuts) && record.related.take().is_some() {
        cuts.note("related");
    }
    if over(record, &cuts) && !record.metadata.other.is_empty() {
        record.metadata.other.clear();
        cuts.note("metadata.other");
    }
    for cap in STRING_CAPS {
        if !over(record, &cuts) {
            break;
        }
        // Identity fields included, as a last resort.
        record.cap_strings(cap);
        cuts.note("strings");
    }
    if over(record, &cuts) {
        skeleton(record, *STRING_CAPS.last().expect("caps are not empty"));
        cuts.note("skeleton");
    }
    record.truncated = Some(cuts.marker());
}

/// Bytes of the record's line, newline included.
pub fn line_bytes(record: &Record) -> usize {
    let mut line = String::new();
    record.write_value(&mut line);
    line.len() + 1
}

/// An upper bound of [`line_bytes`] without serializing: the most that key names, punctuation
/// and numbers can take, and every string counted as if each byte needed the longest escape
/// (`\u00XX`).
pub fn size_upper_bound(record: &Record) -> usize {
    // The newline.
    <Record as FieldValue>::MAX_SYNTAX_BYTES + record.text_upper_bound() + 1
}

/// How many fields Logs Insights would extract from `value`: one per leaf, nested objects and
/// arrays flattened (`a.b`, `a.0`).
pub fn flattened_fields(value: &Value) -> usize {
    match value {
        Value::Object(map) if !map.is_empty() => map.values().map(flattened_fields).sum(),
        Value::Array(items) if !items.is_empty() => items.iter().map(flattened_fields).sum(),
        _ => 1,
    }
}

/// Room for labels, annotations and other metadata once the fixed part is counted.
fn bounded_room(budget: FieldBudget) -> usize {
    budget.max_fields.saturating_sub(FIXED_FIELDS)
}

fn other_metadata_fields(record: &Record) -> usize {
    record.metadata.other.values().map(flattened_fields).sum()
}

fn within_fields(record: &Record, budget: FieldBudget) -> bool {
    let meta = &record.metadata;
    meta.labels.len() + meta.annotations.len() + other_metadata_fields(record)
        <= bounded_room(budget)
}

/// Keeps labels, then annotations, then other metadata within the field budget.
fn fit_fields(record: &mut Record, budget: FieldBudget, cuts: &mut Cuts) {
    let other = other_metadata_fields(record);
    let meta = &mut record.metadata;
    let mut room = bounded_room(budget);
    if other > room / 2 {
        meta.other.clear();
        cuts.note("metadata.other");
    } else {
        room -= other;
    }
    while meta.labels.len() > room {
        meta.labels.pop_last();
        cuts.labels_dropped += 1;
        cuts.note("metadata.labels");
    }
    room -= meta.labels.len();
    while meta.annotations.len() > room {
        meta.annotations.pop_last();
        cuts.annotations_dropped += 1;
        cuts.note("metadata.annotations");
    }
}

fn cut_message(record: &mut Record, max_line_bytes: usize, cuts: &mut Cuts) {
    let Some(message) = record.message.as_mut() else {
        return;
    };
    cuts.original_message_bytes = Some(message.len());
    cuts.note("message");
    record.truncated = Some(cuts.marker());
    let excess = line_bytes(record).saturating_sub(max_line_bytes);
    // Every raw char takes at least as many escaped bytes as it is cut by, so cutting the
    // escaped length by the excess is enough.
    let message = record.message.as_mut().expect("checked above");
    let keep = escaped_len(message).saturating_sub(excess);
    cut_escaped(message, keep);
}

/// Drops entries from the end of `map` until at least `excess` bytes are freed; returns how many.
fn drop_last_entries(map: &mut BTreeMap<String, String>, excess: usize) -> u64 {
    let (mut freed, mut dropped) = (0, 0);
    while freed < excess {
        let Some((key, value)) = map.pop_last() else {
            break;
        };
        // `"key":"value",`
        freed += escaped_len(&key) + escaped_len(&value) + 6;
        dropped += 1;
    }
    dropped
}

/// Reduces the record to its [`SKELETON`], every string capped.
fn skeleton(record: &mut Record, cap: usize) {
    record.clear_except(&SKELETON);
    record.cap_strings(cap);
}

/// What has been cut so far.
#[derive(Default)]
struct Cuts {
    fields: Vec<&'static str>,
    original_line_bytes: usize,
    original_message_bytes: Option<usize>,
    labels_dropped: u64,
    annotations_dropped: u64,
}

impl Cuts {
    fn note(&mut self, field: &'static str) {
        debug_assert!(CUT_PARTS.contains(&field), "{field} is not in CUT_PARTS");
        if !self.fields.contains(&field) {
            self.fields.push(field);
        }
    }

    fn marker(&self) -> Truncation {
        Truncation {
            fields: self.fields.iter().map(|f| (*f).to_owned()).collect(),
            original_line_bytes: self.original_line_bytes as u64,
            original_message_bytes: self.original_message_bytes.map(|n| n as u64),
            labels_dropped: self.labels_dropped,
            annotations_dropped: self.annotations_dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{EventSeries, EventSource, Metadata, ObjectReference, Origin, Reporter};

    /// Every field present, every string `text`, every number at its widest, and a `truncated`
    /// that names every part.
    fn record_with_every_field(text: &str) -> Record {
        let s = || Some(text.to_owned());
        let reference = || ObjectReference {
            kind: s(),
            namespace: s(),
            name: s(),
            uid: s(),
            api_version: s(),
            resource_version: s(),
            field_path: s(),
        };
        Record {
            schema_version: u32::MAX,
            cluster: text.to_owned(),
            origin: Origin::CatchUp,
            original_api_version: s(),
            effective_time: s(),
            effective_time_field: s(),
            occurrences: i64::MIN,
            reporter: Reporter {
                component: s(),
                instance: s(),
            },
            metadata: Metadata {
                name: s(),
                namespace: s(),
                uid: s(),
                resource_version: s(),
                creation_timestamp: s(),
                ..Metadata::default()
            },
            involved_object: reference(),
            reason: s(),
            message: s(),
            event_type: s(),
            count: Some(i64::MIN),
            source: Some(EventSource {
                component: s(),
                host: s(),
            }),
            first_timestamp: s(),
            last_timestamp: s(),
            event_time: s(),
            series: Some(EventSeries {
                count: Some(i64::MIN),
                last_observed_time: s(),
                state: s(),
            }),
            reporting_component: s(),
            reporting_instance: s(),
            action: s(),
            related: Some(reference()),
            truncated: Some(Truncation {
                fields: CUT_PARTS.map(String::from).to_vec(),
                original_line_bytes: u64::MAX,
                original_message_bytes: Some(u64::MAX),
                labels_dropped: u64::MAX,
                annotations_dropped: u64::MAX,
            }),
        }
    }

    /// The dotted path of every field `value` flattens to.
    fn leaf_paths(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, value) in map {
                    let inner = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    leaf_paths(value, &inner, out);
                }
            }
            _ => out.push(path.to_owned()),
        }
    }

    #[test]
    fn the_size_bound_covers_every_key() {
        let record = record_with_every_field("");
        assert!(line_bytes(&record) <= size_upper_bound(&record));
    }

    #[test]
    fn the_size_bound_is_an_upper_bound() {
        let mut record = record_with_every_field("");
        record.message = Some("\u{1}\"é\n".repeat(100));
        record
            .metadata
            .labels
            .insert("k\u{2}".into(), "\"v\"".into());
        record.metadata.other.insert(
            "o".into(),
            serde_json::json!({"a": [1, "\u{3}", null, 2.5e300]}),
        );
        assert!(line_bytes(&record) <= size_upper_bound(&record));
    }

    #[test]
    fn fixed_fields_count_every_field() {
        let value = serde_json::to_value(record_with_every_field("")).expect("serializes");
        assert_eq!(flattened_fields(&value), FIXED_FIELDS);
    }

    #[test]
    fn the_skeleton_keeps_exactly_its_fields() {
        let mut record = record_with_every_field("x");
        record.metadata.labels.insert("l".into(), "x".into());
        record.metadata.other.insert("o".into(), "x".into());
        skeleton(&mut record, 32);
        let value = serde_json::to_value(&record).expect("serializes");
        let mut kept = Vec::new();
        leaf_paths(&value, "", &mut kept);
        kept.sort();
        // The reporter stays, empty: the record requires it.
        let mut expected: Vec<String> = SKELETON.iter().map(|p| (*p).to_owned()).collect();
        expected.push("reporter".into());
        expected.sort();
        assert_eq!(kept, expected);
    }

    #[test]
    fn parse_max_line_bytes_rejects_small_and_junk() {
        assert_eq!(parse_max_line_bytes("16384"), Ok(16384));
        assert!(parse_max_line_bytes("100").is_err());
        assert!(parse_max_line_bytes("lots").is_err());
    }
}
