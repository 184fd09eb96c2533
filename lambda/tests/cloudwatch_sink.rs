//! PutLogEvents batching at CloudWatch's limits, against moto server's CloudWatch Logs: every
//! planned batch is one accepted call, and every event can be read back once. moto checks the
//! chronological order and the 14-day/2-hour window (and reports `rejectedLogEventsInfo`); the
//! count and byte limits are checked on the plan itself.

use eventkeeper_catchup::testing::backfill::CloudWatchSink;
use eventkeeper_catchup::testing::backfill::{
    EVENT_OVERHEAD_BYTES, Limits, LogBatch, LogEntry, MAX_BYTES, MAX_EVENTS, MAX_SPAN, plan,
};
use eventkeeper_tests::peers::MotoServer;
use jiff::{SignedDuration, Timestamp};

mod common;
use eventkeeper_tests::aws::moto_sdk_config;

/// A moto server and a sink writing to `stream` in it; None when moto is missing (as
/// `MotoServer::start`).
async fn moto_sink(stream: &str) -> Option<(MotoServer, CloudWatchSink)> {
    let moto = MotoServer::start()?;
    let config = moto_sdk_config(&moto).await;
    let sink = CloudWatchSink::new(
        aws_sdk_cloudwatchlogs::Client::new(&config),
        "/eventkeeper/demo/events",
        stream,
    );
    // Creates the group too the first time; a second call finds both existing.
    sink.ensure_stream().await.expect("create group and stream");
    sink.ensure_stream().await.expect("existing ones are fine");
    Some((moto, sink))
}

fn entry(rv: u64, at: Timestamp, bytes: usize) -> LogEntry {
    let body = format!("{{\"rv\":\"{rv}\",\"pad\":\"");
    let pad = bytes.saturating_sub(body.len() + 2);
    LogEntry {
        resource_version: Some(rv),
        timestamp_ms: at.as_millisecond(),
        message: format!("{body}{}\"}}", "x".repeat(pad)),
    }
}

/// Sends every planned batch; returns how many events were accepted.
async fn send_all(sink: &CloudWatchSink, entries: Vec<LogEntry>) -> (usize, u64) {
    let batches = plan(entries, Limits::default());
    let mut accepted = 0;
    for batch in &batches {
        assert!(batch.entries.len() <= MAX_EVENTS);
        assert!(batch.bytes <= MAX_BYTES);
        assert!(batch.last_ms() - batch.first_ms() <= MAX_SPAN.as_millis() as i64);
        let outcome = sink.put(batch).await.expect("PutLogEvents");
        assert_eq!(outcome.rejected, 0);
        accepted += outcome.accepted;
    }
    (batches.len(), accepted)
}

async fn read_back(sink: &CloudWatchSink, from: Timestamp) -> Vec<String> {
    sink.read(from.as_millisecond() - 1, i64::MAX / 2)
        .await
        .expect("GetLogEvents")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_and_one_events_take_two_calls() {
    let Some((_moto, sink)) = moto_sink("count").await else {
        return;
    };
    let start = Timestamp::now() - SignedDuration::from_mins(30);
    let entries = (1..=10_001)
        .map(|rv| entry(rv, start + SignedDuration::from_millis(rv as i64), 60))
        .collect();
    let (calls, accepted) = send_all(&sink, entries).await;
    assert_eq!((calls, accepted), (2, 10_001));
    let messages = read_back(&sink, start).await;
    assert_eq!(messages.len(), 10_001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mebibyte_with_26_bytes_per_event_is_one_call_and_a_byte_more_is_two() {
    let Some((_moto, sink)) = moto_sink("bytes").await else {
        return;
    };
    let at = Timestamp::now() - SignedDuration::from_mins(10);
    let size = MAX_BYTES / 16 - EVENT_OVERHEAD_BYTES;
    let full: Vec<_> = (1..=16).map(|rv| entry(rv, at, size)).collect();
    assert_eq!(full.iter().map(LogEntry::size).sum::<usize>(), MAX_BYTES);
    assert_eq!(send_all(&sink, full).await, (1, 16));
    let mut over: Vec<_> = (17..=32).map(|rv| entry(rv, at, size)).collect();
    over[0].message.insert(2, ' ');
    assert_eq!(send_all(&sink, over).await, (2, 16));
    assert_eq!(read_back(&sink, at).await.len(), 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_beyond_24_hours_is_split_and_out_of_order_times_are_sorted() {
    let Some((_moto, sink)) = moto_sink("span").await else {
        return;
    };
    let now = Timestamp::now();
    let old = now - SignedDuration::from_hours(30);
    // rv order and time order disagree; 30 hours in all.
    let entries = vec![
        entry(1, old + SignedDuration::from_hours(1), 100),
        entry(2, old, 100),
        entry(3, now - SignedDuration::from_mins(5), 100),
        entry(4, now - SignedDuration::from_hours(2), 100),
    ];
    // moto refuses a call whose events are not in chronological order: each call passes.
    let (calls, accepted) = send_all(&sink, entries).await;
    assert_eq!((calls, accepted), (2, 4));
    assert_eq!(read_back(&sink, old).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_events_are_counted() {
    let Some((_moto, sink)) = moto_sink("rejected").await else {
        return;
    };
    let now = Timestamp::now();
    // Too old for CloudWatch (15 days); `place` never sends such a time, a bug might. (A batch
    // made by hand: `plan` would split the 15-day span.)
    let entries = vec![
        entry(1, now - SignedDuration::from_hours(15 * 24), 50),
        entry(2, now - SignedDuration::from_mins(1), 50),
    ];
    let batches = [LogBatch {
        bytes: entries.iter().map(LogEntry::size).sum(),
        through: Some(2),
        entries,
    }];
    let outcome = sink.put(&batches[0]).await.expect("PutLogEvents");
    assert_eq!((outcome.accepted, outcome.rejected), (1, 1));
}
