//! The S3 archive the catch-up writes: gzip JSON lines under
//! `PREFIX/cluster=NAME/dt=YYYY-MM-DD/hour=HH/`. Only the partitions that can hold the window are
//! listed, objects are fetched with bounded parallelism, and each is gunzipped as a stream and
//! filtered line by line, so memory holds the answer, not the archive.
//!
//! Partitions are the run's *scheduled* time, not the Event's: an observation lands in the
//! partition of the first run after it, which is at most the API server's Event TTL later (an
//! Event no run listed before it expired is not in the archive at all). The scheduled time is
//! rounded down to the schedule interval, so a partition can also start up to one interval
//! before the observation. Hence the window is widened by [`LEAD`] before and [`LAG`] after.

use std::io::{BufRead, BufReader};

use aws_sdk_s3::Client;
use eventkeeper_core::archive_layout::partition_prefix;
use eventkeeper_core::{Record, SCHEMA_VERSION};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};

use crate::error::{HistoryError, Problem, innermost, is_missing_credentials};
use crate::query::{Merged, Query};

/// How far before the window a partition can hold its observations (one schedule interval,
/// at most an hour).
pub const LEAD: SignedDuration = SignedDuration::from_hours(1);
/// How far after the window a partition can hold its observations (the Event TTL plus a
/// delayed run).
pub const LAG: SignedDuration = SignedDuration::from_hours(2);

const SOURCE: &str = "archive";

/// Where the archive is.
#[derive(Clone, Debug)]
pub struct ArchiveLocation {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (the Athena table's location), e.g. `events`.
    pub prefix: String,
    /// The `cluster=` partition.
    pub cluster: String,
}

/// What reading the archive found besides records.
#[derive(Debug, Default)]
pub struct ArchiveReport {
    /// Partitions (hours) listed.
    pub hours: usize,
    /// Objects read.
    pub objects: usize,
    /// Hours, objects and lines that could not be read.
    pub problems: Vec<Problem>,
}

/// The hours whose partitions can hold observations of `[from, to]`.
pub fn partition_hours(from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let first = (from - LEAD).as_second().div_euclid(3600) * 3600;
    let last = (to + LAG).as_second().div_euclid(3600) * 3600;
    (first..=last)
        .step_by(3600)
        .filter_map(|s| Timestamp::from_second(s).ok())
        .collect()
}

/// Reads the partitions of `query.window`, adding what the query wants to `merged`.
pub async fn read(
    client: &Client,
    location: &ArchiveLocation,
    query: &Query,
    parallel: usize,
    merged: &mut Merged,
) -> Result<ArchiveReport, HistoryError> {
    let hours = partition_hours(query.window.from, query.window.to);
    let prefixes: Vec<String> = hours
        .iter()
        .map(|h| partition_prefix(&location.prefix, &location.cluster, *h))
        .collect();
    let mut report = ArchiveReport {
        hours: prefixes.len(),
        ..ArchiveReport::default()
    };
    let listings: Vec<(String, Result<Vec<String>, HistoryError>)> =
        futures::stream::iter(prefixes.iter().cloned())
            .map(|prefix| async move {
                let keys = list(client, &location.bucket, &prefix).await;
                (prefix, keys)
            })
            .buffered(parallel.max(1))
            .collect()
            .await;
    let mut keys = Vec::new();
    for (prefix, listed) in listings {
        match listed {
            Ok(found) => keys.extend(found),
            Err(e @ (HistoryError::NoCredentials(_) | HistoryError::BucketNotFound(_))) => {
                return Err(e);
            }
            Err(e) => report.problems.push(Problem {
                source_name: SOURCE,
                part: format!("s3://{}/{prefix}", location.bucket),
                reason: e.to_string(),
            }),
        }
    }
    if keys.is_empty() && report.problems.is_empty() {
        return Err(HistoryError::NoPartitions {
            looked_for: format!(
                "s3://{}/{} … {} ({} hours)",
                location.bucket,
                prefixes.first().map(String::as_str).unwrap_or(""),
                prefixes.last().map(String::as_str).unwrap_or(""),
                prefixes.len()
            ),
        });
    }
    let mut decoded = futures::stream::iter(keys)
        .map(|key| {
            let query = query.clone();
            async move {
                match get(client, &location.bucket, &key).await {
                    Ok(body) => tokio::task::spawn_blocking(move || decode(&key, &body, &query))
                        .await
                        .unwrap_or_else(|e| Decoded::failed(String::new(), e.to_string())),
                    Err(reason) => Decoded::failed(key, reason),
                }
            }
        })
        .buffer_unordered(parallel.max(1));
    while let Some(object) = decoded.next().await {
        report.objects += 1;
        for record in object.records {
            merged.add(record);
        }
        report.problems.extend(object.problems);
    }
    Ok(report)
}

async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, HistoryError> {
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_no_such_bucket())
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
            {
                HistoryError::BucketNotFound(bucket.to_owned())
            } else if is_missing_credentials(&e) {
                HistoryError::NoCredentials(innermost(&e))
            } else {
                HistoryError::SourceFailed {
                    source_name: SOURCE,
                    message: innermost(&e),
                }
            }
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .filter(|k| k.ends_with(".json.gz"))
                .map(str::to_owned),
        );
    }
    Ok(keys)
}

async fn get(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| innermost(&e))?;
    let body = object.body.collect().await.map_err(|e| innermost(&e))?;
    Ok(body.into_bytes().to_vec())
}

/// What one archive object held.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Records the query wants.
    pub records: Vec<Record>,
    /// Lines or the object that could not be read.
    pub problems: Vec<Problem>,
}

impl Decoded {
    fn failed(key: String, reason: String) -> Self {
        Self {
            records: Vec::new(),
            problems: vec![Problem {
                source_name: SOURCE,
                part: key,
                reason,
            }],
        }
    }
}

/// Only the version, to tell a record of a newer schema from a broken one.
#[derive(serde::Deserialize)]
struct VersionOnly {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
}

/// Gunzips one object line by line and keeps what the query wants. A bad line is reported with
/// its key and line number and skipped; a broken gzip stream ends the object there (what was
/// read before it is kept).
pub fn decode(key: &str, gzipped: &[u8], query: &Query) -> Decoded {
    let mut out = Decoded::default();
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(gzipped));
    decode_lines(key, reader, query, &mut out);
    out
}

fn decode_lines(key: &str, mut reader: impl BufRead, query: &Query, out: &mut Decoded) {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0usize;
    loop {
        line.clear();
        match reader.by_ref().read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                out.problems.push(Problem {
                    source_name: SOURCE,
                    part: key.to_owned(),
                    reason: format!("not a readable gzip stream after line {number}: {e}"),
                });
                return;
            }
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(text) {
            Ok(record) if record.schema_version == SCHEMA_VERSION => {
                if query.wants(&record) {
                    out.records.push(record);
                }
            }
            result => {
                let reason = match serde_json::from_slice::<VersionOnly>(text) {
                    Ok(v) if v.schema_version != SCHEMA_VERSION => format!(
                        "schema version {} (this build reads {SCHEMA_VERSION}): upgrade kubectl-eventkeeper",
                        v.schema_version
                    ),
                    _ => match result {
                        Err(e) => format!("not a record: {e}"),
                        Ok(_) => "not a record".to_owned(),
                    },
                };
                out.problems.push(Problem {
                    source_name: SOURCE,
                    part: format!("{key} line {number}"),
                    reason,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Window;
    use std::io::Write;

    fn all(from: &str, to: &str) -> Query {
        Query {
            namespace: None,
            target: None,
            with_owners: false,
            window: Window {
                from: from.parse().unwrap(),
                to: to.parse().unwrap(),
            },
            types: vec![],
            reasons: vec![],
        }
    }

    fn line(uid: &str, rv: u64) -> String {
        let event = eventkeeper_core::fixtures::TestEvent::new()
            .uid(uid)
            .resource_version(rv)
            .json();
        eventkeeper_core::normalise(
            &event,
            &eventkeeper_core::Context::new("demo", eventkeeper_core::Origin::CatchUp),
        )
        .unwrap()
        .to_line()
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn partitions_cover_the_window_with_lead_and_lag() {
        let hours = partition_hours(
            "2026-11-30T10:20:00Z".parse().unwrap(),
            "2026-11-30T12:10:00Z".parse().unwrap(),
        );
        let keys: Vec<_> = hours
            .iter()
            .map(|h| partition_prefix("/events/", "demo", *h))
            .collect();
        assert_eq!(
            keys.first().unwrap(),
            "events/cluster=demo/dt=2026-11-30/hour=09/"
        );
        assert_eq!(
            keys.last().unwrap(),
            "events/cluster=demo/dt=2026-11-30/hour=14/"
        );
        assert_eq!(keys.len(), 6);
        assert_eq!(
            partition_prefix("", "demo", "2026-11-30T23:59:00Z".parse().unwrap()),
            "cluster=demo/dt=2026-11-30/hour=23/"
        );
    }

    #[test]
    fn bad_lines_are_reported_with_key_and_line_and_skipped() {
        let good = line("a", 1);
        let future = good.replace("\"schemaVersion\":1", "\"schemaVersion\":2");
        let truncated = &line("b", 2)[..40];
        let body = gzip(&format!("{good}{future}{truncated}\n{}", line("c", 3)));
        let q = all("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z");
        let out = decode("k.json.gz", &body, &q);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.problems.len(), 2, "{:?}", out.problems);
        assert_eq!(out.problems[0].part, "k.json.gz line 2");
        assert!(out.problems[0].reason.contains("schema version 2"));
        assert_eq!(out.problems[1].part, "k.json.gz line 3");
    }

    #[test]
    fn a_broken_gzip_stream_keeps_what_was_read_and_says_so() {
        let body = gzip(&format!("{}{}", line("a", 1), line("b", 2)));
        let cut = &body[..body.len() - 12];
        let q = all("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z");
        let out = decode("cut.json.gz", cut, &q);
        assert_eq!(out.problems.len(), 1);
        assert_eq!(out.problems[0].part, "cut.json.gz");
        let out = decode("plain.json.gz", b"not gzip at all", &q);
        assert_eq!(out.records.len(), 0);
        assert_eq!(out.problems.len(), 1);
    }
}
