//! The watch history and etcd's compaction.
//!
//! etcd keeps every revision until the API server's compactor compacts it: every interval
//! (`--etcd-compaction-interval`, 5 minutes) the compactor compacts to the revision it saw at
//! the previous tick, so a revision stays readable for 5–10 minutes
//! (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go`). A watch cache instead keeps a
//! number of changes (`--watch-cache-sizes`, `pkg/storage/cacher/watch_cache.go`).

use super::object::{Change, Obj};
use crate::resource::Kind;
use jiff::SignedDuration;
use std::collections::VecDeque;
use std::sync::Arc;

/// One entry of the watch history.
#[derive(Debug)]
pub struct HistoryEntry {
    /// The revision of this change (one lease expiry deletes many objects at one revision).
    pub rv: u64,
    /// Which collection changed.
    pub kind: Kind,
    /// What happened.
    pub change: Change,
    /// The object after the change (for deletes, the last state with the deletion's RV).
    pub obj: Obj,
    /// The object before the change (modifications and deletes).
    pub prev: Option<Obj>,
}

/// How long watches can reach back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Served by etcd: everything since the last compaction.
    Etcd,
    /// Served by a watch cache holding this many changes.
    WatchCache(usize),
}

/// Result of asking for watch history after a revision.
#[derive(Debug)]
pub enum Fetch {
    /// The revision is older than the window: the watcher must relist.
    TooOld {
        /// The oldest revision a watch can still start from.
        oldest: u64,
    },
    /// Changes after the revision (maybe none), and the current revision.
    Entries {
        /// Changes in revision order.
        entries: Vec<Arc<HistoryEntry>>,
        /// The store's revision when they were read.
        current: u64,
    },
}

/// The history window and the compaction schedule (simulated milliseconds).
pub struct History {
    entries: VecDeque<Arc<HistoryEntry>>,
    window: Window,
    /// A watch can start after any revision at or above this.
    floor: u64,
    /// etcd's compacted revision: lists and continue tokens below it get 410.
    compacted: u64,
    interval_ms: i64,
    next_compaction_ms: i64,
    /// The revision the next compaction compacts to (seen at the previous tick).
    pending: u64,
}

impl History {
    /// An empty history starting at `first_rv`, compacting every `interval` from `now_ms`.
    pub fn new(window: Window, interval: SignedDuration, first_rv: u64, now_ms: i64) -> Self {
        let interval_ms = (interval.as_millis() as i64).max(1);
        Self {
            entries: VecDeque::new(),
            window,
            floor: first_rv,
            compacted: 0,
            interval_ms,
            next_compaction_ms: now_ms + interval_ms,
            pending: 0,
        }
    }

    /// Appends a change; a watch cache forgets its oldest changes beyond its size.
    pub fn push(&mut self, entry: HistoryEntry) {
        self.entries.push_back(Arc::new(entry));
        if let Window::WatchCache(size) = self.window {
            while self.entries.len() > size.max(1) {
                if let Some(old) = self.entries.pop_front() {
                    self.floor = old.rv;
                }
            }
        }
    }

    /// Runs the compactions due at `now_ms`; `current` is the store's revision.
    pub fn compact_due(&mut self, now_ms: i64, current: u64) {
        while now_ms >= self.next_compaction_ms {
            if self.pending > self.compacted {
                self.compacted = self.pending;
                if self.window == Window::Etcd {
                    // etcd keeps the compacted revision itself; a watch after it still works.
                    while self.entries.front().is_some_and(|e| e.rv < self.compacted) {
                        self.entries.pop_front();
                    }
                    self.floor = self.floor.max(self.compacted - 1);
                }
            }
            self.pending = current;
            self.next_compaction_ms += self.interval_ms;
        }
    }

    /// The oldest revision a watch can start from.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// The oldest revision a list can read (the history must hold what came after it).
    pub fn list_floor(&self) -> u64 {
        self.floor.max(self.compacted)
    }

    /// Has etcd compacted `rv` away?
    pub fn is_compacted(&self, rv: u64) -> bool {
        rv < self.compacted
    }

    /// How many changes are kept.
    pub fn kept(&self) -> usize {
        self.entries.len()
    }

    /// Changes newer than `rv`, newest first (to undo them).
    pub fn newer_than(&self, rv: u64) -> impl Iterator<Item = &Arc<HistoryEntry>> {
        self.entries.iter().rev().take_while(move |e| e.rv > rv)
    }

    /// History after `after`: at most about `max` entries, never ending inside a revision (a
    /// client resuming from the last revision it saw would miss the rest of it).
    pub fn fetch_after(&self, after: u64, max: usize, current: u64) -> Fetch {
        if after < self.floor {
            return Fetch::TooOld { oldest: self.floor };
        }
        let start = self.entries.partition_point(|e| e.rv <= after);
        let mut end = (start + max).min(self.entries.len());
        if end > start {
            let last = self.entries[end - 1].rv;
            while end < self.entries.len() && self.entries[end].rv == last {
                end += 1;
            }
        }
        Fetch::Entries {
            entries: self.entries.range(start..end).cloned().collect(),
            current,
        }
    }
}
