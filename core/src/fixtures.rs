//! Test fixtures that read like sentences:
//! `TestEvent::new().warning().reason("FailedMount").message("...").json()`.
//!
//! Built as core/v1 Event JSON (what the API server returns), not as records, so tests go through
//! `normalise` exactly as production does. Available to other crates with the `fixtures` feature.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::event_input::{Entry, for_each_entry};

/// Builder for a core/v1 Event as JSON.
#[derive(Clone, Debug)]
pub struct TestEvent(Value);

impl Default for TestEvent {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEvent {
    /// A plain Normal kubelet event about a Pod, with every usual field set.
    pub fn new() -> Self {
        Self(json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": "web-0.17a1b2c3d4e5f607",
                "namespace": "default",
                "uid": "0b0b0b0b-1111-2222-3333-444444444444",
                "resourceVersion": "1000",
                "creationTimestamp": "2025-01-01T10:00:00Z",
            },
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": "web-0",
                "namespace": "default",
                "uid": "aaaaaaaa-1111-2222-3333-444444444444",
            },
            "reason": "Started",
            "message": "Started container web",
            "type": "Normal",
            "count": 1,
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2025-01-01T10:00:00Z",
            "lastTimestamp": "2025-01-01T10:00:00Z",
            "eventTime": null,
            "reportingComponent": "kubelet",
            "reportingInstance": "node-1",
        }))
    }

    /// Makes it a Warning.
    pub fn warning(self) -> Self {
        self.set("type", "Warning")
    }

    /// Sets `reason`.
    pub fn reason(self, reason: &str) -> Self {
        self.set("reason", reason)
    }

    /// Sets `message`.
    pub fn message(self, message: impl Into<String>) -> Self {
        self.set("message", message.into())
    }

    /// Sets `metadata.uid`.
    pub fn uid(self, uid: &str) -> Self {
        self.set_in(&["metadata", "uid"], uid)
    }

    /// Sets `metadata.resourceVersion`.
    pub fn resource_version(self, rv: u64) -> Self {
        self.set_in(&["metadata", "resourceVersion"], rv.to_string())
    }

    /// Sets `metadata.namespace` and `involvedObject.namespace`.
    pub fn namespace(self, namespace: &str) -> Self {
        self.set_in(&["metadata", "namespace"], namespace)
            .set_in(&["involvedObject", "namespace"], namespace)
    }

    /// Sets `involvedObject.kind` and `involvedObject.name`.
    pub fn about(self, kind: &str, name: &str) -> Self {
        self.set_in(&["involvedObject", "kind"], kind)
            .set_in(&["involvedObject", "name"], name)
    }

    /// Sets the legacy `count`.
    pub fn count(self, count: i64) -> Self {
        self.set("count", count)
    }

    /// Adds new-recorder `series` data.
    pub fn series(self, count: i64, last_observed: &str) -> Self {
        self.set(
            "series",
            json!({"count": count, "lastObservedTime": last_observed}),
        )
    }

    /// Sets `lastTimestamp` (a value of `null` removes it).
    pub fn last_timestamp(self, time: Value) -> Self {
        self.set("lastTimestamp", time)
    }

    /// Sets `eventTime`.
    pub fn event_time(self, time: Value) -> Self {
        self.set("eventTime", time)
    }

    /// Adds `n` labels.
    pub fn labels(self, n: usize) -> Self {
        let labels: serde_json::Map<String, Value> = (0..n)
            .map(|i| {
                (
                    format!("example.com/label-{i:05}"),
                    Value::from(format!("v{i}")),
                )
            })
            .collect();
        self.set_in(&["metadata", "labels"], Value::Object(labels))
    }

    /// Sets any top-level field.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0[key] = value.into();
        self
    }

    /// Sets a nested field.
    pub fn set_in(mut self, path: &[&str], value: impl Into<Value>) -> Self {
        let mut at = &mut self.0;
        for key in path {
            at = &mut at[*key];
        }
        *at = value.into();
        self
    }

    /// Removes a top-level field.
    pub fn without(mut self, key: &str) -> Self {
        if let Some(map) = self.0.as_object_mut() {
            map.remove(key);
        }
        self
    }

    /// The Event JSON.
    pub fn json(self) -> Value {
        self.0
    }
}

/// `tests/fixtures/` at the repository root: `seeds/` (the simulator's built-in scenario) and
/// `edge/` (hand-made edge cases).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Every `.json`/`.jsonl` file under `dir` (subdirectories included), sorted.
///
/// # Panics
/// When `dir` cannot be read.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable fixture directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "json" || e == "jsonl")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The one rule for a test peer or corpus that is not there: under `make test`
/// (`EVENTKEEPER_REQUIRE_PEERS` set), which installs every peer, it fails the test; elsewhere it
/// prints a loud `SKIPPED` line on stderr and the caller skips that part.
///
/// # Panics
/// Under `EVENTKEEPER_REQUIRE_PEERS`, always.
pub fn missing_peer(what: &str, how_to_get_it: &str) {
    assert!(
        std::env::var_os("EVENTKEEPER_REQUIRE_PEERS").is_none(),
        "{what} is missing ({how_to_get_it}), but `make test` requires it"
    );
    eprintln!("SKIPPED: needs {what} ({how_to_get_it})");
}

/// The real-event corpus (`EVENTKEEPER_REAL_EVENTS`, else `../shared/real-events` beside the
/// repository), or `None` after [`missing_peer`] when it is absent: CI has it; a bare clone may
/// not.
pub fn real_events_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EVENTKEEPER_REAL_EVENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/real-events")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    missing_peer(
        &format!("the real-event corpus at {}", dir.display()),
        "set EVENTKEEPER_REAL_EVENTS",
    );
    None
}

/// The events the normalise benchmark runs on, decoded: every seed fixture plus every event of
/// the real-event corpus when it is present.
pub fn benchmark_mix() -> Vec<Value> {
    let mut events = Vec::new();
    for dir in std::iter::once(fixtures_dir().join("seeds")).chain(real_events_dir()) {
        for file in json_files(&dir) {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for_each_entry(&text, |entry| {
                if let Entry::Event(_, event) = entry {
                    events.push(event);
                }
            });
        }
    }
    events
}
