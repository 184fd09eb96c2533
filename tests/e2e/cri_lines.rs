//! containerd writes a container's stdout to the CRI log file line by line, reading with a
//! 16 KiB buffer: a line whose content and newline do not fit is split into partial (`P`)
//! records that shippers must re-join, and often don't. Every eventkeeper line must stay one
//! full (`F`) record.

use eventkeeper_core::record::line_budget::DEFAULT_MAX_LINE_BYTES;
use eventkeeper_tests::{event_files, raw_event_lines, record_lines};

/// containerd's read buffer for container output (`cio` / CRI logger).
const CONTAINERD_BUFFER: usize = 16 * 1024;

/// The CRI log records containerd writes for one stdout line (newline included), as
/// `<time> stdout <P|F> <content>`.
fn cri_records(line: &str) -> Vec<String> {
    let content = line.strip_suffix('\n').expect("a full line");
    // bufio.ReadLine on a 16 KiB buffer: whenever the buffer fills before a newline, what it
    // holds is written as a partial record; the rest of the line, newline found, is the final one.
    let record = |tag: &str, part: &[u8]| {
        format!(
            "2026-11-23T10:00:00.000000000Z stdout {tag} {}",
            String::from_utf8_lossy(part)
        )
    };
    let mut records = Vec::new();
    let mut rest = content.as_bytes();
    while rest.len() >= CONTAINERD_BUFFER {
        records.push(record("P", &rest[..CONTAINERD_BUFFER]));
        rest = &rest[CONTAINERD_BUFFER..];
    }
    records.push(record("F", rest));
    records
}

#[test]
fn no_record_line_is_split_into_partial_records() {
    let mut lines = 0;
    for file in event_files() {
        for line in record_lines(&file, DEFAULT_MAX_LINE_BYTES) {
            let records = cri_records(&line);
            assert_eq!(
                records.len(),
                1,
                "{} split into {}",
                file.display(),
                records.len()
            );
            assert!(records[0].contains(" stdout F "));
            lines += 1;
        }
    }
    assert!(lines >= 20);
}

#[test]
fn the_raw_events_would_have_been_split() {
    // The check above can fail: the same fixtures printed without a budget are split.
    let huge = eventkeeper_tests::repo_root().join("tests/fixtures/edge/huge-message-1mib.json");
    let raw = raw_event_lines(&huge);
    let records = cri_records(&raw[0]);
    assert!(records.len() > 60, "1 MiB becomes many partial records");
    assert!(
        records[..records.len() - 1]
            .iter()
            .all(|r| r.contains(" stdout P "))
    );
}

#[test]
fn a_line_exactly_at_the_budget_is_one_record() {
    let line = format!("{}\n", "x".repeat(DEFAULT_MAX_LINE_BYTES - 1));
    assert_eq!(cri_records(&line).len(), 1);
    let over = format!("{}\n", "x".repeat(DEFAULT_MAX_LINE_BYTES));
    assert_eq!(cri_records(&over).len(), 2);
}
