//! CloudWatch Logs: a Logs Insights query (`StartQuery`/`GetQueryResults`) over the group the
//! emitter's lines go to, with the field prefix of the shipper's layout. Logs Insights returns
//! at most 10,000 rows: a query that hits the limit is split in two halves of its time range,
//! down to one second; only then are rows left out, and that is reported, never silent.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use eventkeeper_core::{Record, SCHEMA_VERSION};
use jiff::Timestamp;
use serde_json::Value;

use crate::error::{HistoryError, Problem, innermost, is_missing_credentials};
use crate::query::{Merged, Query};

const SOURCE: &str = "cloudwatch";

/// The most rows one Logs Insights query returns.
pub const ROW_LIMIT: usize = 10_000;

/// How the shipper nests the record in a log event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Container Insights' Fluent Bit: fields under `log_processed.`.
    LogProcessed,
    /// The aws-for-fluent-bit chart: fields under `data.`.
    Data,
    /// Vector (after `parse_json`) or the backfill without an envelope: top-level fields.
    Bare,
}

impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "log_processed" | "container-insights" => Ok(Self::LogProcessed),
            "data" | "aws-for-fluent-bit" => Ok(Self::Data),
            "" | "bare" | "vector" => Ok(Self::Bare),
            other => Err(format!(
                "unknown layout {other:?} (log_processed, data or bare)"
            )),
        }
    }
}

impl Layout {
    /// The key the record sits under, if any.
    pub fn key(self) -> Option<&'static str> {
        match self {
            Self::LogProcessed => Some("log_processed"),
            Self::Data => Some("data"),
            Self::Bare => None,
        }
    }

    /// The field prefix in Logs Insights (`log_processed.`, `data.` or nothing).
    pub fn prefix(self) -> &'static str {
        match self {
            Self::LogProcessed => "log_processed.",
            Self::Data => "data.",
            Self::Bare => "",
        }
    }
}

/// The Logs Insights query for `query` in `layout`. Filters what the server can (the schema and
/// the namespace); the rest is filtered here.
pub fn query_text(query: &Query, layout: Layout) -> String {
    let p = layout.prefix();
    let mut filter = format!("{p}schemaVersion = {SCHEMA_VERSION}");
    if let Some(ns) = &query.namespace {
        filter.push_str(&format!(
            " and {p}involvedObject.namespace = \"{}\"",
            ns.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    format!(
        "fields @timestamp, @message\n| filter {filter}\n| sort @timestamp asc\n| limit {ROW_LIMIT}"
    )
}

/// The record in one log event's `@message`.
pub fn record_from_message(message: &str, layout: Layout) -> Result<Record, String> {
    let value: Value = serde_json::from_str(message).map_err(|e| format!("not JSON: {e}"))?;
    let inner = match layout.key() {
        Some(key) => value.get(key).cloned().unwrap_or(Value::Null),
        None if value.get("schemaVersion").is_some() => value,
        None => value
            .get("message")
            .or_else(|| value.get("log"))
            .cloned()
            .unwrap_or(Value::Null),
    };
    let inner = match inner {
        Value::String(text) => {
            serde_json::from_str(&text).map_err(|e| format!("not a record: {e}"))?
        }
        Value::Null => return Err("no record in this log event (wrong layout?)".into()),
        other => other,
    };
    serde_json::from_value(inner).map_err(|e| format!("not a record: {e}"))
}

/// Where to query.
#[derive(Clone, Debug)]
pub struct LogGroup {
    /// The log group name.
    pub name: String,
    /// How the records are nested.
    pub layout: Layout,
}

/// Runs the query over the window (widened by the archive's lag: a line is written after the
/// Event happened) and adds what the query wants.
pub async fn read(
    client: &Client,
    group: &LogGroup,
    query: &Query,
    poll: Duration,
    merged: &mut Merged,
    problems: &mut Vec<Problem>,
) -> Result<usize, HistoryError> {
    let text = query_text(query, group.layout);
    let start = query.window.from.as_second();
    let end = (query.window.to + crate::archive::LAG).as_second();
    let mut ranges = vec![(start, end)];
    let mut rows_read = 0;
    while let Some((from, to)) = ranges.pop() {
        let rows = run_query(client, group, &text, from, to, poll).await?;
        if rows.len() >= ROW_LIMIT {
            if let Some((left, right)) = split(from, to) {
                ranges.push(right);
                ranges.push(left);
                continue;
            }
            problems.push(Problem {
                source_name: SOURCE,
                part: format!("{} {}..{}", group.name, second(from), second(to)),
                reason: format!(
                    "more than {ROW_LIMIT} lines in two seconds: only {ROW_LIMIT} read"
                ),
            });
        }
        rows_read += rows.len();
        for (at, message) in rows {
            match record_from_message(&message, group.layout) {
                Ok(record) if query.wants(&record) => merged.add(record),
                Ok(_) => {}
                Err(reason) => problems.push(Problem {
                    source_name: SOURCE,
                    part: format!("{} line at {at}", group.name),
                    reason,
                }),
            }
        }
    }
    Ok(rows_read)
}

/// Two halves of `[from, to]` (epoch seconds) that share their middle second, so a line in
/// any millisecond of it is in one of them whichever way the end is rounded; `None` once the
/// range is too short to narrow.
pub fn split(from: i64, to: i64) -> Option<((i64, i64), (i64, i64))> {
    (to - from >= 2).then(|| {
        let mid = from + (to - from) / 2;
        ((from, mid), (mid, to))
    })
}

fn second(s: i64) -> String {
    Timestamp::from_second(s)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// One query over `[from, to]` (epoch seconds): (`@timestamp`, `@message`) per row.
async fn run_query(
    client: &Client,
    group: &LogGroup,
    text: &str,
    from: i64,
    to: i64,
    poll: Duration,
) -> Result<Vec<(String, String)>, HistoryError> {
    let failed = |e: &(dyn std::error::Error + 'static)| {
        if is_missing_credentials(e) {
            HistoryError::NoCredentials(innermost(e))
        } else {
            HistoryError::SourceFailed {
                source_name: SOURCE,
                message: format!("{}: {}", group.name, innermost(e)),
            }
        }
    };
    let started = client
        .start_query()
        .log_group_name(&group.name)
        .start_time(from)
        .end_time(to)
        .query_string(text)
        .limit(ROW_LIMIT as i32)
        .send()
        .await
        .map_err(|e| failed(&e))?;
    let id = started.query_id().unwrap_or_default().to_owned();
    loop {
        let answer = client
            .get_query_results()
            .query_id(&id)
            .send()
            .await
            .map_err(|e| failed(&e))?;
        match answer.status() {
            Some(QueryStatus::Complete) => {
                return Ok(answer
                    .results()
                    .iter()
                    .map(|row| {
                        let field = |name: &str| {
                            row.iter()
                                .find(|f| f.field() == Some(name))
                                .and_then(|f| f.value())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        (field("@timestamp"), field("@message"))
                    })
                    .collect());
            }
            Some(QueryStatus::Cancelled) => return Err(HistoryError::QueryCancelled(id)),
            Some(QueryStatus::Failed | QueryStatus::Timeout) => {
                return Err(HistoryError::SourceFailed {
                    source_name: SOURCE,
                    message: format!(
                        "{}: query {id} ended {:?} for {}..{}",
                        group.name,
                        answer.status().map(QueryStatus::as_str).unwrap_or("?"),
                        second(from),
                        second(to)
                    ),
                });
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Window;

    fn query(ns: Option<&str>) -> Query {
        Query {
            namespace: ns.map(str::to_owned),
            target: None,
            with_owners: false,
            window: Window {
                from: "2025-01-01T00:00:00Z".parse().unwrap(),
                to: "2025-01-02T00:00:00Z".parse().unwrap(),
            },
            types: vec![],
            reasons: vec![],
        }
    }

    #[test]
    fn splits_narrow_and_overlap_by_one_second() {
        assert_eq!(split(0, 10), Some(((0, 5), (5, 10))));
        assert_eq!(split(0, 3), Some(((0, 1), (1, 3))));
        assert_eq!(split(0, 1), None);
        let (mut from, mut to) = (0, 1_000_000);
        while let Some((_, right)) = split(from, to) {
            assert!(right.1 - right.0 < to - from);
            (from, to) = right;
        }
    }

    #[test]
    fn the_query_uses_the_layouts_prefix() {
        let text = query_text(&query(Some("test")), Layout::LogProcessed);
        assert!(text.contains(
            "filter log_processed.schemaVersion = 1 and log_processed.involvedObject.namespace = \"test\""
        ));
        assert!(text.ends_with("limit 10000"));
        let text = query_text(&query(None), Layout::Bare);
        assert!(text.contains("filter schemaVersion = 1\n"));
    }

    #[test]
    fn records_are_found_in_each_layout() {
        let event = eventkeeper_core::fixtures::TestEvent::new().json();
        let record = eventkeeper_core::normalise(
            &event,
            &eventkeeper_core::Context::new("demo", eventkeeper_core::Origin::Watch),
        )
        .unwrap();
        let line = record.to_line();
        let value: Value = serde_json::from_str(&line).unwrap();
        let ci = serde_json::json!({"log": line, "log_processed": value, "kubernetes": {}});
        assert_eq!(
            record_from_message(&ci.to_string(), Layout::LogProcessed).unwrap(),
            record
        );
        let fb = serde_json::json!({"log": line, "data": value});
        assert_eq!(
            record_from_message(&fb.to_string(), Layout::Data).unwrap(),
            record
        );
        assert_eq!(record_from_message(&line, Layout::Bare).unwrap(), record);
        let vector = serde_json::json!({"message": line, "kubernetes": {}});
        assert_eq!(
            record_from_message(&vector.to_string(), Layout::Bare).unwrap(),
            record
        );
        assert!(record_from_message(&ci.to_string(), Layout::Data).is_err());
        assert!("kubernetes".parse::<Layout>().is_err());
    }
}
