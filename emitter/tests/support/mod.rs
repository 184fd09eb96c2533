//! End-to-end harness for the emitter's tests: the workspace's shared peers (the simulator and
//! the emitter as separate processes, killed on drop) with this crate's own emitter binary, and
//! the (uid, resourceVersion) bookkeeping the tests assert on.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The emitter binary under test.
pub fn emitter_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_eventkeeper-emitter"))
}

// The workspace's shared test harness has these; this one adds the emitter-specific parts.
pub use eventkeeper_tests::peers::{
    EmitterProcess, SimProcess as Sim, read_records as records, wait_until as wait_for,
};

/// The emitter under test (the binary cargo built for these tests) against `sim`; the harness
/// itself is the workspace's, shared with the other crates' tests.
pub fn start_emitter(sim: &Sim, identity: &str, out: &Path, extra: &[&str]) -> EmitterProcess {
    EmitterProcess::start_binary(&emitter_bin(), &sim.kubeconfig, identity, out, extra)
}

#[allow(unused_imports)] // The benchmark that includes this module counts nothing.
pub use eventkeeper_tests::tally::{Tally, tally_observations, tally_records};

/// What the comparison found.
#[derive(Debug)]
pub struct Comparison {
    /// Observations never written.
    pub lost: Vec<(String, String)>,
    /// Lines that match no observation.
    pub unexpected: Vec<(String, String)>,
    /// Extra copies of observations written more than once.
    pub duplicates: u32,
    /// Observations expected.
    pub expected: usize,
}

/// Compares what was written with what was expected.
pub fn compare(expected: &Tally, written: &Tally) -> Comparison {
    let lost = expected
        .keys()
        .filter(|k| !written.contains_key(*k))
        .cloned()
        .collect();
    let unexpected = written
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .cloned()
        .collect();
    let duplicates = written.values().map(|n| n.saturating_sub(1)).sum();
    Comparison {
        lost,
        unexpected,
        duplicates,
        expected: expected.len(),
    }
}

/// Waits until every expected observation is in `out` (or the timeout), then compares.
pub fn settle(expected: &Tally, outs: &[&Path], timeout: Duration) -> Comparison {
    let deadline = Instant::now() + timeout;
    loop {
        let mut written = Tally::new();
        for out in outs {
            for (k, n) in tally_records(&records(out)) {
                *written.entry(k).or_default() += n;
            }
        }
        let comparison = compare(expected, &written);
        if comparison.lost.is_empty() || Instant::now() >= deadline {
            return comparison;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A scale factor for the big tests: `EVENTKEEPER_E2E_SCALE` (default 1).
pub fn scale() -> u64 {
    std::env::var("EVENTKEEPER_E2E_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// A small pseudo-random number generator (xorshift), seeded from the clock and printed so a
/// failing run can be repeated with `EVENTKEEPER_E2E_SEED`.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `EVENTKEEPER_E2E_SEED` or the clock.
    pub fn new() -> Self {
        let seed = std::env::var("EVENTKEEPER_E2E_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
            | 1;
        eprintln!("e2e seed: {seed} (set EVENTKEEPER_E2E_SEED to repeat)");
        Self(seed)
    }

    /// A number in `lo..hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo).max(1)
    }
}
