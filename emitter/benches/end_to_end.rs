//! End-to-end throughput and memory: simulator → emitter → /dev/null over HTTP, and the same
//! kind of stream read by `kubectl get events -A --watch -o json` for comparison.
//!
//! For each size N (default 100k live events, then 10×): the simulator is filled with N Events
//! (one write each); the emitter starts, lists them and watches — we time until it has written N
//! lines (list path) — then the simulator writes N more as fast as it can (30 % repeats) and we
//! time until the emitter has written them (watch path); peak RSS is the emitter's VmHWM.
//! kubectl gets the same two phases on its own simulator, at a size it can finish
//! (`EVENTKEEPER_BENCH_KUBECTL_SIZE`, default 20k): it keeps every printed object in memory and
//! its paged list must finish before the continue token expires. We count the objects it prints.
//! Run with `make bench-emitter`; sizes with `EVENTKEEPER_BENCH_SIZES=100000,1000000`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Emitter, Sim, wait_for};

const LONG: Duration = Duration::from_secs(3600);

fn main() {
    let sizes: Vec<u64> = std::env::var("EVENTKEEPER_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let kubectl_size: u64 = std::env::var("EVENTKEEPER_BENCH_KUBECTL_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let kubectl = std::env::var("EVENTKEEPER_KUBECTL")
        .ok()
        .filter(|k| !k.is_empty())
        .or_else(|| which("kubectl"));
    println!("| reader | live events | list ev/s | watch ev/s | peak RSS |");
    println!("|---|---|---|---|---|");
    let mut ours = None;
    for n in sizes.iter().copied().chain(std::iter::once(kubectl_size)) {
        let (list, watch) = emitter_run(n);
        if n == kubectl_size {
            ours = Some((list, watch));
        }
    }
    match kubectl {
        Some(kubectl) => {
            let (k_list, k_watch) = kubectl_run(&kubectl, kubectl_size);
            if let Some((list, watch)) = ours {
                println!(
                    "\nAt {kubectl_size} live events the emitter is {:.1}× kubectl on the list and {:.1}× on the watch.",
                    list / k_list,
                    watch / k_watch
                );
            }
        }
        None => {
            eprintln!("SKIPPED: the kubectl comparison needs kubectl (EVENTKEEPER_KUBECTL or PATH)")
        }
    }
}

fn filled_sim(n: u64) -> (Sim, u64) {
    let history = (4 * n).to_string();
    let sim = Sim::start(&[
        "--watch-history",
        &history,
        "--max-observations",
        "100",
        "--bookmark-interval",
        "1s",
        "--continue-ttl",
        "10h",
    ]);
    sim.generate(json!({"events": n, "ratePerSec": 0.0, "objects": 1000, "repeatShare": 0.0, "namespaces": ["a", "b", "c", "d"]}));
    sim.wait_generated(n, LONG);
    let live = sim.status()["liveEvents"].as_u64().unwrap_or(0);
    (sim, live)
}

fn more_writes(sim: &Sim, n: u64) {
    sim.generate(json!({"events": n, "ratePerSec": 0.0, "objects": 1000, "repeatShare": 0.3, "namespaces": ["a", "b", "c", "d"]}));
}

fn emitter_run(n: u64) -> (f64, f64) {
    let (sim, live) = filled_sim(n);
    let start = Instant::now();
    let emitter = Emitter::start(
        &sim,
        "bench",
        std::path::Path::new("/dev/null"),
        &["--log-level", "warn"],
    );
    let lines = || {
        emitter
            .metric_sum("eventkeeper_lines_emitted_total")
            .unwrap_or(0.0) as u64
    };
    wait_for(LONG, "the emitter's list", || {
        (lines() >= live).then_some(())
    });
    let list_rate = live as f64 / start.elapsed().as_secs_f64();
    let before = lines();
    let start = Instant::now();
    more_writes(&sim, n);
    wait_for(LONG, "the emitter's watch", || {
        (lines() >= before + n).then_some(())
    });
    let watch_rate = n as f64 / start.elapsed().as_secs_f64();
    let rss = emitter.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    println!("| eventkeeper-emitter | {live} | {list_rate:.0} | {watch_rate:.0} | {rss:.1} MiB |");
    (list_rate, watch_rate)
}

fn kubectl_run(kubectl: &str, n: u64) -> (f64, f64) {
    let (sim, live) = filled_sim(n);
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut child = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["get", "events", "-A", "--watch", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kubectl starts");
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped");
    let counter = count.clone();
    std::thread::spawn(move || {
        // -o json prints each object indented by 4 spaces; one involvedObject per Event.
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            if line == b"    \"involvedObject\": {" {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let seen = || count.load(Ordering::Relaxed);
    wait_for(LONG, "kubectl's list", || (seen() >= live).then_some(()));
    let list_rate = live as f64 / start.elapsed().as_secs_f64();
    let before = seen();
    let start = Instant::now();
    more_writes(&sim, n);
    wait_for(LONG, "kubectl's watch", || {
        (seen() >= before + n).then_some(())
    });
    let watch_rate = n as f64 / start.elapsed().as_secs_f64();
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| {
                v.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0;
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "| kubectl get -A --watch -o json | {live} | {list_rate:.0} | {watch_rate:.0} | {rss:.1} MiB |"
    );
    (list_rate, watch_rate)
}

fn which(name: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string())
    })
}
