//! Throughput of `normalise` + serialize (what the emitter does per observation) on the fixture
//! mix: the seed scenarios plus the real-event corpus when it is present. Target ≥ 300k events/s
//! on one core; figures in docs/performance.md. To compare two versions on a machine whose speed
//! drifts, use `examples/normalise_loop.rs` instead (see there).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use eventkeeper_core::api_event::ApiEvent;
use eventkeeper_core::fixtures::benchmark_mix;
use eventkeeper_core::normalise::{normalise_event, normalise_owned};
use eventkeeper_core::{Context, Origin, normalise};

/// The catch-up ships with mimalloc (the emitter with the system allocator: see
/// docs/performance.md); this measures the normalise code, not the allocator choice.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let events = benchmark_mix();
    let ctx = Context::new("bench", Origin::Watch);
    let mut group = c.benchmark_group("normalise");
    group.throughput(Throughput::Elements(events.len() as u64));
    // The emitter's path: it owns each decoded event, so nothing is copied into the record.
    // The copies the benchmark needs for each round are made outside the timed part.
    group.bench_function("normalise+serialize fixture mix", |b| {
        b.iter_batched(
            || events.clone(),
            |owned| {
                let mut bytes = 0;
                for event in owned {
                    let record = normalise_owned(event, &ctx).expect("fixtures are events");
                    bytes += record.to_line().len();
                }
                bytes
            },
            BatchSize::LargeInput,
        )
    });
    // One event at a time, each copied just before it is normalised: like the emitter, which
    // normalises each event right after decoding it, while it is still in the CPU's cache.
    let mut next = events.iter().cycle();
    group.throughput(Throughput::Elements(1));
    group.bench_function("normalise+serialize one event at a time", |b| {
        b.iter_batched(
            || next.next().expect("the mix is not empty").clone(),
            |event| {
                let record = normalise_owned(event, &ctx).expect("fixtures are events");
                record.to_line().len()
            },
            BatchSize::PerIteration,
        )
    });
    // The whole path from the API's JSON text: decode straight into an `ApiEvent`, normalise,
    // serialize (what the emitter and the catch-up do for each list item and watch line).
    let texts: Vec<String> = events
        .iter()
        .map(|event| serde_json::to_string(event).expect("a value serializes"))
        .collect();
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function(
        "decode+normalise+serialize fixture mix, from JSON text",
        |b| {
            b.iter(|| {
                let mut bytes = 0;
                for text in &texts {
                    let event: ApiEvent = serde_json::from_str(text).expect("JSON");
                    let record = normalise_event(event, &ctx).expect("fixtures are events");
                    bytes += record.to_line().len();
                }
                bytes
            })
        },
    );
    group.bench_function("normalise+serialize fixture mix, borrowed input", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for event in &events {
                let record = normalise(event, &ctx).expect("fixtures are events");
                bytes += record.to_line().len();
            }
            bytes
        })
    });
    let records: Vec<_> = events
        .iter()
        .map(|event| normalise(event, &ctx).expect("event"))
        .collect();
    group.bench_function("serialize only", |b| {
        b.iter(|| records.iter().map(|r| r.to_line().len()).sum::<usize>())
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
