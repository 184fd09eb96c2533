//! Cutting the backfill into PutLogEvents calls that CloudWatch Logs accepts.
//!
//! PutLogEvents takes at most 10,000 events and 1,048,576 bytes per call (each message's UTF-8
//! length plus 26 bytes), in chronological order, spanning at most 24 hours, none older than
//! 14 days (or the group's retention) nor more than 2 hours in the future.
//!
//! The backfill advances the emitter's checkpoint (a resourceVersion) after each call, so a batch
//! must be a *contiguous range of resourceVersions*: entries come in resourceVersion order, a
//! batch closes when the next entry would break a limit, and only then is the batch sorted by
//! time for the call. The checkpoint after a batch is its highest resourceVersion: everything at
//! or below it has been sent. Entries whose resourceVersion is not an integer go last and never
//! move the checkpoint.
//!
//! An event goes on the CloudWatch time line at its effective time. When that time is missing,
//! older than [`MAX_AGE`] (23 hours: below the shortest retention a log group can have, one day,
//! and well within the 14 days PutLogEvents accepts) or further ahead than [`MAX_AHEAD`], it goes
//! at the time of the list instead, as the emitter's line would have gone at the time it was
//! written ([`place`]). The record keeps its real `effectiveTime`; such events are counted, never
//! dropped.

use jiff::{SignedDuration, Timestamp};

/// Most events in one PutLogEvents call.
pub const MAX_EVENTS: usize = 10_000;
/// Most bytes in one call, counting [`EVENT_OVERHEAD_BYTES`] per event.
pub const MAX_BYTES: usize = 1_048_576;
/// What CloudWatch adds to each message's length when counting a call's size.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Longest time span between the first and last event of one call.
pub const MAX_SPAN: SignedDuration = SignedDuration::from_hours(24);
/// Oldest effective time used as is (CloudWatch takes 14 days, a log group keeps at least one).
pub const MAX_AGE: SignedDuration = SignedDuration::from_hours(23);
/// Newest accepted event, after now (CloudWatch: 2 hours; five minutes of margin).
pub const MAX_AHEAD: SignedDuration = SignedDuration::from_mins(115);

/// The limits a batch respects (the CloudWatch ones by default; smaller in tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most events per batch.
    pub max_events: usize,
    /// Most bytes per batch, overhead included.
    pub max_bytes: usize,
    /// Longest span in milliseconds.
    pub max_span_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_events: MAX_EVENTS,
            max_bytes: MAX_BYTES,
            max_span_ms: MAX_SPAN.as_millis() as i64,
        }
    }
}

/// One message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The observation's resourceVersion, when it is an integer.
    pub resource_version: Option<u64>,
    /// CloudWatch timestamp, in milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// The message (the record, inside its envelope).
    pub message: String,
}

impl LogEntry {
    /// Bytes this entry counts for in a call.
    pub fn size(&self) -> usize {
        self.message.len() + EVENT_OVERHEAD_BYTES
    }
}

/// One PutLogEvents call's worth of entries, sorted by time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogBatch {
    /// The entries, in chronological order.
    pub entries: Vec<LogEntry>,
    /// Highest integer resourceVersion in the batch (`None` when it has none).
    pub through: Option<u64>,
    /// Size of the call, overhead included.
    pub bytes: usize,
}

impl LogBatch {
    /// Earliest timestamp (ms).
    pub fn first_ms(&self) -> i64 {
        self.entries.first().map_or(0, |e| e.timestamp_ms)
    }

    /// Latest timestamp (ms).
    pub fn last_ms(&self) -> i64 {
        self.entries.last().map_or(0, |e| e.timestamp_ms)
    }
}

/// Where an event goes on the CloudWatch time line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The timestamp to send (ms).
    pub timestamp_ms: i64,
    /// Whether the event's own time was outside the accepted window (or missing) and moved.
    pub adjusted: bool,
}

/// The CloudWatch timestamp of an event whose effective time is `effective`, listed at `now`:
/// the effective time when it is within [`MAX_AGE`] before and [`MAX_AHEAD`] after `now`,
/// else `now`.
pub fn place(effective: Option<Timestamp>, now: Timestamp) -> Placement {
    let (at, adjusted) = match effective {
        Some(t) if t >= now - MAX_AGE && t <= now + MAX_AHEAD => (t, false),
        _ => (now, true),
    };
    Placement {
        timestamp_ms: at.as_millisecond(),
        adjusted,
    }
}

/// Splits `entries` into batches within `limits`. Entries with an integer resourceVersion come
/// first, in resourceVersion order; the others follow in their given order.
pub fn plan(mut entries: Vec<LogEntry>, limits: Limits) -> Vec<LogBatch> {
    // Stable: equal keys (the non-integer ones) keep their order.
    entries.sort_by_key(|e| (e.resource_version.is_none(), e.resource_version));
    let mut batches = Vec::new();
    let mut current = Open::default();
    for entry in entries {
        if !current.fits(&entry, limits) {
            batches.push(std::mem::take(&mut current).close());
        }
        current.add(entry);
    }
    if !current.batch.entries.is_empty() {
        batches.push(current.close());
    }
    batches
}

/// A batch being filled: entries in resourceVersion order and their time range.
#[derive(Default)]
struct Open {
    batch: LogBatch,
    min_ms: i64,
    max_ms: i64,
}

impl Open {
    fn fits(&self, entry: &LogEntry, limits: Limits) -> bool {
        if self.batch.entries.is_empty() {
            return true; // A lone entry always makes a batch; CloudWatch judges its size.
        }
        let span = self.max_ms.max(entry.timestamp_ms) - self.min_ms.min(entry.timestamp_ms);
        self.batch.entries.len() < limits.max_events
            && self.batch.bytes + entry.size() <= limits.max_bytes
            && span <= limits.max_span_ms
    }

    fn add(&mut self, entry: LogEntry) {
        if self.batch.entries.is_empty() {
            self.min_ms = entry.timestamp_ms;
            self.max_ms = entry.timestamp_ms;
        }
        self.min_ms = self.min_ms.min(entry.timestamp_ms);
        self.max_ms = self.max_ms.max(entry.timestamp_ms);
        self.batch.bytes += entry.size();
        if let Some(rv) = entry.resource_version {
            self.batch.through = Some(self.batch.through.map_or(rv, |t| t.max(rv)));
        }
        self.batch.entries.push(entry);
    }

    fn close(mut self) -> LogBatch {
        // Stable: entries of the same millisecond stay in resourceVersion order.
        self.batch.entries.sort_by_key(|e| e.timestamp_ms);
        self.batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_000_000_000;

    fn entry(rv: u64, at_ms: i64, bytes: usize) -> LogEntry {
        LogEntry {
            resource_version: Some(rv),
            timestamp_ms: at_ms,
            message: "x".repeat(bytes),
        }
    }

    fn check_limits(batches: &[LogBatch], limits: Limits) {
        for batch in batches {
            assert!(batch.entries.len() <= limits.max_events);
            assert!(batch.bytes <= limits.max_bytes || batch.entries.len() == 1);
            assert_eq!(
                batch.bytes,
                batch.entries.iter().map(LogEntry::size).sum::<usize>()
            );
            assert!(batch.last_ms() - batch.first_ms() <= limits.max_span_ms);
            assert!(
                batch
                    .entries
                    .windows(2)
                    .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms),
                "chronological"
            );
        }
    }

    /// Batches are contiguous resourceVersion ranges: every rv of batch n is below every rv of
    /// batch n+1, so the checkpoint after a batch covers everything sent so far.
    fn check_contiguous(batches: &[LogBatch]) {
        let mut before = 0;
        for batch in batches {
            let rvs: Vec<u64> = batch
                .entries
                .iter()
                .filter_map(|e| e.resource_version)
                .collect();
            assert!(rvs.iter().all(|rv| *rv > before), "{rvs:?} after {before}");
            if let Some(through) = batch.through {
                assert_eq!(Some(&through), rvs.iter().max());
                before = through;
            }
        }
    }

    #[test]
    fn ten_thousand_events_fill_one_call_and_the_next_opens_a_second() {
        let entries: Vec<_> = (1..=10_001)
            .map(|rv| entry(rv, T0 + rv as i64, 10))
            .collect();
        let batches = plan(entries, Limits::default());
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].entries.len(), 10_000);
        assert_eq!(batches[0].through, Some(10_000));
        assert_eq!(batches[1].entries.len(), 1);
        assert_eq!(batches[1].through, Some(10_001));
        check_limits(&batches, Limits::default());

        let exactly: Vec<_> = (1..=10_000).map(|rv| entry(rv, T0, 10)).collect();
        assert_eq!(plan(exactly, Limits::default()).len(), 1);
    }

    #[test]
    fn bytes_count_26_per_event_up_to_exactly_one_mebibyte() {
        // 16 events of 65,510 bytes + 26 overhead = 16 × 65,536 = 1,048,576: exactly full.
        let full: Vec<_> = (1..=16).map(|rv| entry(rv, T0, 65_510)).collect();
        let batches = plan(full, Limits::default());
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].bytes, MAX_BYTES);

        // One byte more in one message: the last event moves to a second call.
        let mut over: Vec<_> = (1..=16).map(|rv| entry(rv, T0, 65_510)).collect();
        over[15].message.push('y');
        let batches = plan(over, Limits::default());
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].entries.len(), 15);
        assert_eq!(batches[1].entries.len(), 1);
        check_limits(&batches, Limits::default());

        // Multi-byte characters count in bytes, not characters.
        let wide = LogEntry {
            resource_version: Some(1),
            timestamp_ms: T0,
            message: "é".repeat(10),
        };
        assert_eq!(wide.size(), 20 + 26);
    }

    #[test]
    fn a_span_over_24_hours_splits_and_exactly_24_hours_does_not() {
        let day = MAX_SPAN.as_millis() as i64;
        let within = vec![entry(1, T0, 10), entry(2, T0 + day, 10)];
        assert_eq!(plan(within, Limits::default()).len(), 1);

        let beyond = vec![
            entry(1, T0, 10),
            entry(2, T0 + day / 2, 10),
            entry(3, T0 + day + 1, 10),
        ];
        let batches = plan(beyond, Limits::default());
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].through, Some(2));
        check_limits(&batches, Limits::default());

        // The span counts the whole batch, not neighbours: an early event late in rv order.
        let early_late = vec![
            entry(1, T0 + day, 10),
            entry(2, T0 + day / 2, 10),
            entry(3, T0 - 1, 10),
        ];
        let batches = plan(early_late, Limits::default());
        assert_eq!(batches.len(), 2);
        check_limits(&batches, Limits::default());
    }

    #[test]
    fn batches_are_resource_version_ranges_sorted_by_time_inside() {
        // Effective times do not follow write order (a repeat of an old event, odd clocks).
        let entries = vec![
            entry(5, T0 + 50, 10),
            entry(1, T0 + 300, 10),
            entry(3, T0 + 10, 10),
            entry(2, T0 + 10, 10),
            entry(4, T0 + 200, 10),
            LogEntry {
                resource_version: None,
                timestamp_ms: T0 + 400,
                message: "opaque".into(),
            },
        ];
        let limits = Limits {
            max_events: 2,
            ..Limits::default()
        };
        let batches = plan(entries, limits);
        assert_eq!(batches.len(), 3);
        check_limits(&batches, limits);
        check_contiguous(&batches);
        let rvs = |b: &LogBatch| {
            b.entries
                .iter()
                .map(|e| e.resource_version)
                .collect::<Vec<_>>()
        };
        assert_eq!(rvs(&batches[0]), [Some(2), Some(1)], "time order inside");
        assert_eq!(rvs(&batches[1]), [Some(3), Some(4)]);
        assert_eq!(rvs(&batches[2]), [Some(5), None], "non-integers last");
        assert_eq!(batches[2].through, Some(5));
        assert!(plan(Vec::new(), limits).is_empty());
    }

    #[test]
    fn random_loads_respect_every_limit() {
        // A deterministic pseudo-random mix of sizes, times and versions.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let limits = Limits::default();
        let entries: Vec<_> = (1..=30_000)
            .map(|rv| {
                let size = (next() % 16_000) as usize;
                let at = T0 + (next() % (3 * 86_400_000)) as i64;
                entry(rv, at, size)
            })
            .collect();
        let batches = plan(entries, limits);
        check_limits(&batches, limits);
        check_contiguous(&batches);
        assert_eq!(
            batches.iter().map(|b| b.entries.len()).sum::<usize>(),
            30_000
        );
    }

    #[test]
    fn times_outside_the_accepted_window_move_to_the_list_time_and_say_so() {
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let ok = place(Some(now - SignedDuration::from_mins(30)), now);
        assert!(!ok.adjusted);
        assert_eq!(
            ok.timestamp_ms,
            (now - SignedDuration::from_mins(30)).as_millisecond()
        );
        let edge = place(Some(now - MAX_AGE), now);
        assert!(!edge.adjusted);
        for odd in [
            now - SignedDuration::from_hours(24 * 30),
            now - MAX_AGE - SignedDuration::from_millis(1),
            now + SignedDuration::from_hours(5),
        ] {
            let placed = place(Some(odd), now);
            assert!(placed.adjusted, "{odd}");
            assert_eq!(placed.timestamp_ms, now.as_millisecond());
        }
        let missing = place(None, now);
        assert!(missing.adjusted);
        assert_eq!(missing.timestamp_ms, now.as_millisecond());
    }
}
