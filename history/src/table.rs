//! `-o table`, `-o wide` and `-o json`: the rows as `kubectl events` prints them, or as records.

use eventkeeper_core::Record;
use jiff::Timestamp;

use crate::query::effective_time;
use crate::window::age;

/// The output formats of `events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
    Table,
    /// The table plus SOURCE, COUNT and FIRST SEEN.
    Wide,
    /// One record (schema v1) per line.
    Json,
    /// A self-contained HTML timeline.
    Html,
}

/// `pod/name`, as kubectl prints an object.
pub fn object(record: &Record) -> String {
    let o = &record.involved_object;
    format!(
        "{}/{}",
        o.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
        o.name.as_deref().unwrap_or("")
    )
}

/// The namespace of the Event's object.
pub fn namespace(record: &Record) -> &str {
    record
        .involved_object
        .namespace
        .as_deref()
        .or(record.metadata.namespace.as_deref())
        .unwrap_or("")
}

/// When the Event first happened: `firstTimestamp`, `eventTime`, else the object's creation.
pub fn first_seen(record: &Record) -> Option<Timestamp> {
    [
        record.first_timestamp.as_deref(),
        record.event_time.as_deref(),
        record.metadata.creation_timestamp.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|t| t.parse().ok())
}

/// `kubelet, node-1`, as kubectl prints the source.
pub fn source(record: &Record) -> String {
    match (&record.reporter.component, &record.reporter.instance) {
        (Some(c), Some(i)) if !i.is_empty() => format!("{c}, {i}"),
        (Some(c), _) => c.clone(),
        (None, Some(i)) => i.clone(),
        (None, None) => String::new(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows as a table; `all_namespaces` adds NAMESPACE, `wide` adds SOURCE, COUNT, FIRST SEEN.
pub fn render_table(rows: &[Record], now: Timestamp, wide: bool, all_namespaces: bool) -> String {
    let mut header = Vec::new();
    if all_namespaces {
        header.push("NAMESPACE");
    }
    header.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT"]);
    if wide {
        header.extend(["SOURCE", "COUNT", "FIRST SEEN"]);
    }
    header.push("MESSAGE");
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in rows {
        let mut cells = Vec::new();
        if all_namespaces {
            cells.push(namespace(r).to_owned());
        }
        let seen = effective_time(r).map(|t| age(now, t)).unwrap_or_default();
        cells.extend([
            seen,
            r.event_type().to_owned(),
            r.reason.clone().unwrap_or_default(),
            object(r),
        ]);
        if wide {
            cells.push(source(r));
            cells.push(r.occurrences.to_string());
            cells.push(first_seen(r).map(|t| age(now, t)).unwrap_or_default());
        }
        cells.push(one_line(r.message.as_deref().unwrap_or("")));
        lines.push(cells);
    }
    align(&lines)
}

/// Columns padded to the widest cell plus three spaces, like kubectl's tabwriter; the last
/// column is not padded.
pub fn align(lines: &[Vec<String>]) -> String {
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let last = line.len().saturating_sub(1);
        for (c, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if c < last {
                let pad = widths[c] - cell.chars().count() + 3;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// The rows as JSON lines, one schema-v1 record each.
pub fn render_json(rows: &[Record]) -> String {
    rows.iter().map(Record::to_line).collect()
}
