//! `normalise` on the recorded fixtures (tests/fixtures) and on the real-event corpus.

mod support;

use eventkeeper_core::event_input::{Entry, for_each_entry};
use eventkeeper_core::record::RESERVED_SHIPPER_KEYS;
use eventkeeper_core::record::line_budget::DEFAULT_MAX_LINE_BYTES;
use eventkeeper_core::record::line_budget::{MAX_RECORD_FIELDS, flattened_fields};
use eventkeeper_core::{Context, Origin, Record, normalise};
use serde_json::Value;

/// Normalises every event in `file`; returns the records and the number of skipped entries.
fn records_of(file: &std::path::Path) -> (Vec<Record>, usize) {
    let text = std::fs::read_to_string(file).expect("readable fixture");
    let ctx = Context::new("test", Origin::Convert);
    let (mut records, mut skipped) = (Vec::new(), 0);
    for_each_entry(&text, |entry| match entry {
        Entry::Event(_, event) => match normalise(&event, &ctx) {
            Ok(record) => records.push(record),
            Err(_) => skipped += 1,
        },
        Entry::Malformed(..) => skipped += 1,
        Entry::Ignored(..) => {}
    });
    (records, skipped)
}

/// What every line must satisfy, whatever went in.
fn assert_line_contract(record: &Record, file: &std::path::Path) {
    let line = record.to_line();
    // The hand-written writer (json_line) must write what the serde derives describe.
    let serde_line = serde_json::to_string(record).expect("a Record serializes") + "\n";
    assert_eq!(
        line,
        serde_line,
        "{}: writer differs from serde",
        file.display()
    );
    assert!(
        line.len() <= DEFAULT_MAX_LINE_BYTES,
        "{}: {} bytes",
        file.display(),
        line.len()
    );
    assert_eq!(
        line.matches('\n').count(),
        1,
        "one line: {}",
        file.display()
    );
    let value: Value = serde_json::from_str(&line).expect("valid JSON");
    assert!(
        flattened_fields(&value) <= MAX_RECORD_FIELDS,
        "{}",
        file.display()
    );
    for key in RESERVED_SHIPPER_KEYS {
        assert!(
            value.get(key).is_none(),
            "{}: reserved key {key}",
            file.display()
        );
    }
    let back: Record = serde_json::from_str(&line).expect("the line reads back as a Record");
    assert_eq!(&back, record, "{}", file.display());
}

#[test]
fn every_fixture_normalises_within_budget() {
    let files = support::json_files(&support::fixtures_dir());
    assert!(files.len() >= 15, "fixtures present: {files:?}");
    for file in files {
        let (records, _) = records_of(&file);
        assert!(!records.is_empty(), "{} gave no record", file.display());
        for record in &records {
            assert_line_contract(record, &file);
        }
    }
}

#[test]
fn every_real_event_file_normalises() {
    let Some(dir) = support::real_events_dir() else {
        return;
    };
    let files = support::json_files(&dir);
    assert!(files.len() >= 40, "corpus has its files: {}", files.len());
    let mut total = 0;
    for file in &files {
        let (records, skipped) = records_of(file);
        assert_eq!(skipped, 0, "{} had skipped items", file.display());
        let empty_list = file.to_string_lossy().contains("empty-eventlist");
        assert_eq!(records.is_empty(), empty_list, "{}", file.display());
        for record in &records {
            assert_line_contract(record, file);
            assert!(
                record.effective_time.is_some(),
                "{}: no effective time",
                file.display()
            );
        }
        total += records.len();
    }
    assert!(
        total > 250,
        "the corpus holds a few hundred events, got {total}"
    );
}

#[test]
fn scenario_fixtures_say_what_happened() {
    let dir = support::fixtures_dir().join("seeds");
    let (a, _) = records_of(&dir.join("scenario-a-failedmount.json"));
    assert_eq!(a[0].reason.as_deref(), Some("FailedMount"));
    assert!(
        a[0].message
            .as_deref()
            .unwrap_or_default()
            .contains("misspelt-secret-name")
    );
    assert_eq!(a[0].occurrences, 26);

    let (b, _) = records_of(&dir.join("scenario-b-image-pull.json"));
    let reasons: Vec<_> = b.iter().filter_map(|r| r.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        ["Pulling", "Failed", "Failed", "BackOff", "Failed"]
    );

    let (c, _) = records_of(&dir.join("scenario-c-failedscheduling.json"));
    assert_eq!(
        c[0].effective_time_field.as_deref(),
        Some("series.lastObservedTime")
    );
    assert_eq!(c[0].occurrences, 8);
    assert_eq!(
        c[0].reporter.component.as_deref(),
        Some("default-scheduler")
    );

    let (scaling, _) = records_of(&dir.join("scalingreplicaset.json"));
    assert_eq!(
        scaling[0].idempotency_key(),
        ("e56aa6b2-9808-45a8-8863-ec9112f23822", "1485955")
    );
}

#[test]
fn edge_fixtures_are_cut_as_documented() {
    let dir = support::fixtures_dir().join("edge");
    let (huge, _) = records_of(&dir.join("huge-message-1mib.json"));
    let cut = huge[0].truncated.as_ref().expect("cut");
    assert_eq!(cut.original_message_bytes, Some(1024 * 1024));
    assert_eq!(cut.fields, ["message"]);

    let (labels, _) = records_of(&dir.join("thousands-of-labels.json"));
    let cut = labels[0].truncated.as_ref().expect("cut");
    assert!(
        cut.labels_dropped > 2800 && cut.annotations_dropped == 2000,
        "{cut:?}"
    );
    assert!(!labels[0].metadata.labels.is_empty(), "some labels kept");

    let (multibyte, _) = records_of(&dir.join("multibyte-message-at-budget.json"));
    let message = multibyte[0].message.as_deref().expect("prefix kept");
    assert!(message.starts_with("再起動に失敗したコンテナ"));

    let (zero, _) = records_of(&dir.join("null-and-zero-timestamps.json"));
    assert_eq!(
        zero[0].effective_time_field.as_deref(),
        Some("metadata.creationTimestamp")
    );
    assert_eq!(zero[0].occurrences, 1);

    let (v1, _) = records_of(&dir.join("events-k8s-io-v1.json"));
    assert_eq!(v1[0].reason.as_deref(), Some("OOMKilling"));
    assert_eq!(v1[0].involved_object.name.as_deref(), Some("web-0"));
    assert_eq!(v1[0].occurrences, 3);
}
