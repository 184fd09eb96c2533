//! A fixed amount of `normalise_owned` + `to_line` work on the benchmark's fixture mix, for A/B
//! comparisons on a machine whose speed drifts: build it at two commits and run the two binaries
//! alternately (see docs/performance.md). Criterion compares a run with the previous run, which
//! on a VM that is 20–40 % faster or slower from one minute to the next says little.
//!
//! `cargo run --release -p eventkeeper-core --example normalise_loop -- [rounds]`

use std::time::{Duration, Instant};

use eventkeeper_core::fixtures::benchmark_mix;
use eventkeeper_core::normalise::normalise_owned;
use eventkeeper_core::{Context, Origin};

/// As in the criterion benchmark: measure the code, not the allocator choice.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let events = benchmark_mix();
    let rounds: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 400,
        Some(Ok(rounds)) => rounds,
        Some(Err(_)) => {
            eprintln!("usage: normalise_loop [rounds]");
            std::process::exit(64);
        }
    };

    let ctx = Context::new("bench", Origin::Watch);
    let (mut timed, mut bytes) = (Duration::ZERO, 0);
    for _ in 0..rounds {
        // The copy each round consumes is made outside the timed part.
        let owned = events.clone();
        let start = Instant::now();
        for event in owned {
            let record = normalise_owned(event, &ctx).expect("the mix holds only events");
            bytes += record.to_line().len();
        }
        timed += start.elapsed();
    }
    let count = rounds * events.len();
    println!(
        "{count} events, {bytes} bytes, {:.0} events/s",
        count as f64 / timed.as_secs_f64()
    );
}
