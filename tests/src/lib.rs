//! Helpers shared by the end-to-end tests: the fixtures, the real-event corpus, and record lines
//! made from them by the production `normalise`; the real peers as processes; the one HTTP
//! client every test uses.

pub mod aws;
pub mod generated;
pub mod http;
pub mod peers;
pub mod shipper;
pub mod tally;

use std::path::{Path, PathBuf};

use eventkeeper_core::event_input::{Entry, for_each_entry};
use eventkeeper_core::{Context, Origin, normalise};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub use eventkeeper_core::fixtures::{fixtures_dir, json_files, missing_peer, real_events_dir};

/// Every Event JSON file of the fixtures and of the real corpus (which `make test` requires).
pub fn event_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [fixtures_dir().join("seeds"), fixtures_dir().join("edge")]
        .into_iter()
        .chain(real_events_dir())
    {
        files.extend(json_files(&dir));
    }
    files
}

/// Record lines (newline included) for every event in `file`, with the given line budget.
pub fn record_lines(file: &Path, max_line_bytes: usize) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("readable file");
    let ctx = Context {
        max_line_bytes,
        ..Context::new("demo-cluster", Origin::Watch)
    };
    let mut lines = Vec::new();
    for_each_entry(&text, |entry| {
        if let Entry::Event(_, event) = entry
            && let Ok(record) = normalise(&event, &ctx)
        {
            lines.push(record.to_line());
        }
    });
    lines
}

/// The raw events of `file` re-serialized compactly, as a tool without a line budget prints them.
pub fn raw_event_lines(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("readable file");
    let mut lines = Vec::new();
    for_each_entry(&text, |entry| {
        if let Entry::Event(_, event) = entry {
            lines.push(format!("{event}\n"));
        }
    });
    lines
}
