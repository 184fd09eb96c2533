//! End-to-end throughput and memory: simulator → emitter → /dev/null over HTTP, and the same
//! kind of stream read by `kubectl get events -A --watch -o json` for comparison.
//!
//! For each size N (default 100k live events, then 10×): the simulator is filled with N Events
//! (one write each); the emitter starts, lists them and watches — we time until it has written N
//! lines (list path) — then the simulator writes N more as fast as it can (30 % repeats) and we
//! time until the emitter has written them (watch path); peak RSS is the emitter's VmHWM.
//! kubectl gets the same two phases on its own simulator filled with only
//! `EVENTKEEPER_BENCH_KUBECTL_FILL` Events (default 2k: it prints nothing before it has processed
//! its whole initial list, which takes superlinear time), then the same N writes; we count the
//! objects it prints.
//! Run with `make bench-emitter`; sizes with `EVENTKEEPER_BENCH_SIZES=100000,1000000`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Sim, start_emitter, wait_for};

const LONG: Duration = Duration::from_secs(3600);

fn main() {
    let sizes: Vec<u64> = std::env::var("EVENTKEEPER_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    // kubectl prints nothing until it has processed its whole initial list, and that takes
    // superlinear time (about 1 s for 5k Events, over a minute for 20k): it starts from a small
    // filled simulator, and the comparison is on the watch of the same writes.
    let kubectl_fill: u64 = std::env::var("EVENTKEEPER_BENCH_KUBECTL_FILL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let kubectl = std::env::var("EVENTKEEPER_KUBECTL")
        .ok()
        .filter(|k| !k.is_empty())
        .or_else(|| which("kubectl"));
    println!("| reader | live events at start | list ev/s | watch ev/s (N writes) | peak RSS |");
    println!("|---|---|---|---|---|");
    let mut ours = Vec::new();
    for n in sizes.iter().copied() {
        ours.push((n, emitter_run(n)));
    }
    match kubectl {
        Some(kubectl) => {
            let writes = sizes.first().copied().unwrap_or(100_000);
            let (_, k_watch) = kubectl_run(&kubectl, kubectl_fill, writes);
            if let Some((_, (_, watch))) = ours.first() {
                println!(
                    "\nOn the watch of {writes} writes the emitter is {:.1}× kubectl.",
                    watch / k_watch
                );
            }
        }
        None => {
            eprintln!("SKIPPED: the kubectl comparison needs kubectl (EVENTKEEPER_KUBECTL or PATH)")
        }
    }
}

/// A simulator holding `n` live Events whose watch history keeps `history` changes (a watcher
/// that falls further behind gets `410 Expired`, as from kube-apiserver). A watch cache: the
/// benchmark measures against a window counted in changes, and its readiness waits for
/// bookmarks in a quiet cluster.
fn filled_sim(n: u64, history: u64) -> (Sim, u64) {
    let history = history.to_string();
    let sim = Sim::start_with_watch_cache(&[
        "--watch-history",
        &history,
        "--max-observations",
        "100",
        "--bookmark-interval",
        "1s",
        "--continue-ttl",
        "10h",
    ]);
    sim.start_generating(json!({"events": n, "ratePerSec": 0.0, "objects": 1000, "repeatShare": 0.0, "namespaces": ["a", "b", "c", "d"]}));
    sim.wait_generated(n, LONG);
    let live = sim.status()["liveEvents"].as_u64().unwrap_or(0);
    (sim, live)
}

fn more_writes(sim: &Sim, n: u64) {
    sim.start_generating(json!({"events": n, "ratePerSec": 0.0, "objects": 1000, "repeatShare": 0.3, "namespaces": ["a", "b", "c", "d"]}));
}

/// The rates (Events a second) of a client started at `start`: its first list of the `live`
/// Events, then its watch of `n` more writes. `seen` counts the Events it has printed so far.
fn list_then_watch(
    sim: &Sim,
    client: &str,
    start: Instant,
    live: u64,
    n: u64,
    mut seen: impl FnMut() -> u64,
) -> (f64, f64) {
    wait_for(LONG, &format!("{client}'s list"), || {
        (seen() >= live).then_some(())
    });
    let list_rate = live as f64 / start.elapsed().as_secs_f64();
    let before = seen();
    let start = Instant::now();
    more_writes(sim, n);
    wait_for(LONG, &format!("{client}'s watch"), || {
        (seen() >= before + n).then_some(())
    });
    (list_rate, n as f64 / start.elapsed().as_secs_f64())
}

fn emitter_run(n: u64) -> (f64, f64) {
    let (sim, live) = filled_sim(n, 4 * n);
    let start = Instant::now();
    let emitter = start_emitter(
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
    let (list_rate, watch_rate) = list_then_watch(&sim, "the emitter", start, live, n, lines);
    let rss = emitter.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    println!("| eventkeeper-emitter | {live} | {list_rate:.0} | {watch_rate:.0} | {rss:.1} MiB |");
    (list_rate, watch_rate)
}

fn kubectl_run(kubectl: &str, fill: u64, n: u64) -> (f64, f64) {
    // kubectl does not resume a watch that expired: keep the history of the whole run.
    let (sim, live) = filled_sim(fill, 4 * (fill + n));
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
        // One involvedObject per Event, at any depth: kubectl 1.33 prints the initial list as one
        // List object (items nested) and then each watched object on its own.
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            if line.trim_ascii_start() == b"\"involvedObject\": {" {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let seen = || count.load(Ordering::Relaxed);
    let still_running = |child: &mut std::process::Child| {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kubectl exited ({status}) after printing {} Events", seen());
        }
    };
    let (list_rate, watch_rate) = list_then_watch(&sim, "kubectl", start, live, n, || {
        still_running(&mut child);
        seen()
    });
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
