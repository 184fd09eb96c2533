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

use crate::json_line::{cut_escaped, escaped_len};
use crate::record::{Metadata, ObjectReference, Record, Truncation};

/// Most fields a record may flatten to. Logs Insights stops at 200 per event; Fluent Bit's
/// `kubernetes` filter and the CloudWatch envelope add some 20 of their own, so we keep a margin.
pub const MAX_RECORD_FIELDS: usize = 150;

/// Fields the fixed part of a record can flatten to at most (every optional field present,
/// `truncated` included). Labels, annotations and other metadata share the rest.
const FIXED_FIELDS: usize = 56;

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
        cap_strings(record, cap);
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
    crate::json_line::write_record(&mut line, record);
    line.len() + 1
}

/// Bytes that all key names, punctuation and numbers of a record take at most, newline
/// included (a test checks it against a record with every field present).
const FIXED_SYNTAX_BYTES: usize = 1400;

/// An upper bound of [`line_bytes`] without serializing: every string counted as if each byte
/// needed the longest escape (`\u00XX`). `truncated` is not counted: it is only set after
/// cutting, which measures exactly.
pub fn size_upper_bound(record: &Record) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, |s| 6 * s.len() + 3);
    let reference = |r: &crate::record::ObjectReference| {
        text(&r.kind)
            + text(&r.namespace)
            + text(&r.name)
            + text(&r.uid)
            + text(&r.api_version)
            + text(&r.resource_version)
            + text(&r.field_path)
    };
    let map = |m: &BTreeMap<String, String>| {
        m.iter()
            .map(|(k, v)| 6 * (k.len() + v.len()) + 6)
            .sum::<usize>()
    };
    let meta = &record.metadata;
    FIXED_SYNTAX_BYTES
        + 6 * record.cluster.len()
        + text(&record.original_api_version)
        + text(&record.effective_time)
        + text(&record.effective_time_field)
        + text(&record.reporter.component)
        + text(&record.reporter.instance)
        + text(&meta.name)
        + text(&meta.namespace)
        + text(&meta.uid)
        + text(&meta.resource_version)
        + text(&meta.creation_timestamp)
        + map(&meta.labels)
        + map(&meta.annotations)
        + meta
            .other
            .iter()
            .map(|(k, v)| 6 * k.len() + 4 + value_upper_bound(v))
            .sum::<usize>()
        + reference(&record.involved_object)
        + record.related.as_ref().map_or(0, reference)
        + text(&record.reason)
        + text(&record.message)
        + text(&record.event_type)
        + record
            .source
            .as_ref()
            .map_or(0, |s| text(&s.component) + text(&s.host))
        + text(&record.first_timestamp)
        + text(&record.last_timestamp)
        + text(&record.event_time)
        + record
            .series
            .as_ref()
            .map_or(0, |s| text(&s.last_observed_time) + text(&s.state))
        + text(&record.reporting_component)
        + text(&record.reporting_instance)
        + text(&record.action)
}

fn value_upper_bound(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => 6 * s.len() + 2,
        Value::Array(items) => {
            2 + items
                .iter()
                .map(|v| value_upper_bound(v) + 1)
                .sum::<usize>()
        }
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| 6 * k.len() + 4 + value_upper_bound(v))
                .sum::<usize>()
        }
    }
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

/// Caps every string value of the record; identity fields included, as a last resort.
fn cap_strings(record: &mut Record, cap: usize) {
    let cut = |text: &mut Option<String>| {
        if let Some(text) = text.as_mut() {
            cut_escaped(text, cap);
        }
    };
    cut(&mut record.original_api_version);
    cut(&mut record.reporter.component);
    cut(&mut record.reporter.instance);
    cut(&mut record.metadata.name);
    cut(&mut record.metadata.namespace);
    cut(&mut record.metadata.uid);
    cut(&mut record.metadata.resource_version);
    cut(&mut record.metadata.creation_timestamp);
    let refs = std::iter::once(&mut record.involved_object).chain(record.related.as_mut());
    for object in refs {
        cut(&mut object.kind);
        cut(&mut object.namespace);
        cut(&mut object.name);
        cut(&mut object.uid);
        cut(&mut object.api_version);
        cut(&mut object.resource_version);
        cut(&mut object.field_path);
    }
    cut(&mut record.reason);
    cut(&mut record.message);
    cut(&mut record.event_type);
    if let Some(source) = record.source.as_mut() {
        cut(&mut source.component);
        cut(&mut source.host);
    }
    cut(&mut record.first_timestamp);
    cut(&mut record.last_timestamp);
    cut(&mut record.event_time);
    if let Some(series) = record.series.as_mut() {
        cut(&mut series.last_observed_time);
        cut(&mut series.state);
    }
    cut(&mut record.reporting_component);
    cut(&mut record.reporting_instance);
    cut(&mut record.action);
    let mut cluster = Some(std::mem::take(&mut record.cluster));
    cut(&mut cluster);
    record.cluster = cluster.unwrap_or_default();
}

/// Reduces the record to what identifies the observation and says what happened, every string
/// capped.
fn skeleton(record: &mut Record, cap: usize) {
    let mut small = Record {
        schema_version: record.schema_version,
        cluster: std::mem::take(&mut record.cluster),
        origin: record.origin,
        original_api_version: None,
        effective_time: record.effective_time.take(),
        effective_time_field: record.effective_time_field.take(),
        occurrences: record.occurrences,
        reporter: Default::default(),
        metadata: Metadata {
            name: record.metadata.name.take(),
            namespace: record.metadata.namespace.take(),
            uid: record.metadata.uid.take(),
            resource_version: record.metadata.resource_version.take(),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: record.involved_object.kind.take(),
            namespace: record.involved_object.namespace.take(),
            name: record.involved_object.name.take(),
            ..Default::default()
        },
        reason: record.reason.take(),
        message: None,
        event_type: record.event_type.take(),
        count: None,
        source: None,
        first_timestamp: None,
        last_timestamp: None,
        event_time: None,
        series: None,
        reporting_component: None,
        reporting_instance: None,
        action: None,
        related: None,
        truncated: None,
    };
    cap_strings(&mut small, cap);
    *record = small;
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

    /// Every field present, every string empty, every number at its widest.
    fn record_with_every_field() -> Record {
        let s = || Some(String::new());
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
            cluster: String::new(),
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
            truncated: None,
        }
    }

    #[test]
    fn fixed_syntax_bound_covers_every_key() {
        let bytes = line_bytes(&record_with_every_field());
        assert!(
            bytes <= FIXED_SYNTAX_BYTES,
            "{bytes} > {FIXED_SYNTAX_BYTES}"
        );
    }

    #[test]
    fn the_size_bound_is_an_upper_bound() {
        let mut record = record_with_every_field();
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
    fn fixed_fields_bound_covers_every_field() {
        let mut record = record_with_every_field();
        record.truncated = Some(Truncation {
            fields: [
                "message",
                "metadata.annotations",
                "metadata.labels",
                "related",
                "metadata.other",
                "strings",
                "skeleton",
            ]
            .map(String::from)
            .to_vec(),
            original_line_bytes: 1,
            original_message_bytes: Some(1),
            labels_dropped: 1,
            annotations_dropped: 1,
        });
        let value = serde_json::to_value(&record).expect("serializes");
        assert!(
            flattened_fields(&value) <= FIXED_FIELDS,
            "{}",
            flattened_fields(&value)
        );
    }
}
