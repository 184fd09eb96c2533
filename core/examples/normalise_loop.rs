//! A fixed amount of normalise + serialize work on the benchmark's fixture mix, for A/B
//! comparisons on a machine whose speed drifts: run two variants (or two builds) alternately
//! (see docs/performance.md). Criterion compares a run with the previous run, which on a VM that
//! is 20–40 % faster or slower from one minute to the next says little.
//!
//! It uses the system allocator, as the emitter ships. What is timed, by `MODE`:
//! - `text` (default): JSON text → [`ApiEvent`] → record → line: the emitter's and the catch-up's
//!   whole path from a list page or watch line;
//! - `value`: JSON text → `serde_json::Value` → record → line: the path before the direct decode;
//! - `decoded`: an already decoded [`ApiEvent`] → record → line (normalise + serialize alone);
//!   the decoded copies are made outside the timed part.
//!
//! `cargo run --release -p eventkeeper-core --example normalise_loop -- [rounds] [MODE]`

use std::time::{Duration, Instant};

use eventkeeper_core::api_event::ApiEvent;
use eventkeeper_core::fixtures::benchmark_mix;
use eventkeeper_core::normalise::{normalise_event, normalise_owned};
use eventkeeper_core::{Context, Origin};

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = match args.next().map(|a| a.parse()) {
        None => 400,
        Some(Ok(rounds)) => rounds,
        Some(Err(_)) => usage(),
    };
    let mode = args.next().unwrap_or_else(|| "text".into());
    let texts: Vec<String> = benchmark_mix()
        .iter()
        .map(|event| serde_json::to_string(event).expect("a value serializes"))
        .collect();
    let ctx = Context::new("bench", Origin::Watch);
    let (mut timed, mut bytes) = (Duration::ZERO, 0);
    for _ in 0..rounds {
        match mode.as_str() {
            "text" => {
                let start = Instant::now();
                for text in &texts {
                    let event: ApiEvent = serde_json::from_str(text).expect("JSON");
                    let record = normalise_event(event, &ctx).expect("the mix holds only events");
                    bytes += record.to_line().len();
                }
                timed += start.elapsed();
            }
            "value" => {
                let start = Instant::now();
                for text in &texts {
                    let event: serde_json::Value = serde_json::from_str(text).expect("JSON");
                    let record = normalise_owned(event, &ctx).expect("the mix holds only events");
                    bytes += record.to_line().len();
                }
                timed += start.elapsed();
            }
            "decoded" => {
                let decoded: Vec<ApiEvent> = texts
                    .iter()
                    .map(|text| serde_json::from_str(text).expect("JSON"))
                    .collect();
                let start = Instant::now();
                for event in decoded {
                    let record = normalise_event(event, &ctx).expect("the mix holds only events");
                    bytes += record.to_line().len();
                }
                timed += start.elapsed();
            }
            _ => usage(),
        }
    }
    let count = rounds * texts.len();
    println!(
        "{mode}: {count} events, {bytes} bytes, {:.0} events/s",
        count as f64 / timed.as_secs_f64()
    );
}

fn usage() -> ! {
    eprintln!("usage: normalise_loop [rounds] [text|value|decoded]");
    std::process::exit(64);
}
