//! Throughput of `normalise` + serialize (what the emitter does per observation) on the fixture
//! mix: the seed scenarios plus the real-event corpus when it is present. Target ≥ 300k events/s
//! on one core; figures in docs/performance.md.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use eventkeeper_core::event_input::{Entry, for_each_entry};
use eventkeeper_core::{Context, Origin, normalise};
use serde_json::Value;

/// Ordinary events: every seed fixture and real corpus file, no pathological edge cases.
fn event_mix() -> Vec<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = std::env::var_os("EVENTKEEPER_REAL_EVENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/real-events"));
    let mut events = Vec::new();
    for dir in [root.join("tests/fixtures/seeds"), corpus] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("note: {} absent, benchmarking without it", dir.display());
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for_each_entry(&text, |e| {
                if let Entry::Event(_, event) = e {
                    events.push(event);
                }
            });
        }
    }
    events
}

fn bench(c: &mut Criterion) {
    let events = event_mix();
    let ctx = Context::new("bench", Origin::Watch);
    let mut group = c.benchmark_group("normalise");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("normalise+serialize fixture mix", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for event in &events {
                let record = normalise(event, &ctx).expect("fixtures are events");
                bytes += record.to_line().len();
            }
            bytes
        })
    });
    let huge = serde_json::json!({
        "metadata": {"uid": "u", "resourceVersion": "1"},
        "message": "x".repeat(1 << 20),
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("normalise+serialize 1 MiB message (cut)", |b| {
        b.iter(|| normalise(&huge, &ctx).expect("event").to_line().len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
