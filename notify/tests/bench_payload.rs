//! Benchmark (`make bench-notify`, a release build; not part of `make test`): full 1 MB
//! subscription payloads through the real notifier binary (decode, layout, match, DynamoDB
//! state on moto, one SNS digest per invocation), pinned to one core. Reports per invocation
//! the function's own time (its `elapsed_ms` log field), records per second, the CPU time it
//! used (the process's CPU with payloads minus without) and the peak resident memory; then the
//! same with the process throttled to the CPU share of a 128 MB Lambda (a cgroup v1 CPU quota,
//! when the machine lets us create one). Figures and method: docs/performance.md.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_tests::shipper;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support::*;

/// Invocations per measured run (each payload its own cluster, so every group is new).
const INVOCATIONS: usize = 5;
/// Lambda's CPU share: a full vCPU at 1,769 MB, proportional below.
fn lambda_share(memory_mb: u32) -> f64 {
    f64::from(memory_mb) / 1769.0
}

/// A full 1 MB payload in the Container Insights layout (the largest wrapping): half matched
/// Warnings spread over `groups` groups, half Normal Events no rule matches (all Normal when
/// `groups` is 0).
fn full_payload(cluster: &str, groups: usize) -> (Value, usize, usize) {
    let start = Timestamp::now() - SignedDuration::from_mins(5);
    let mut events = Vec::new();
    let mut i = 0usize;
    loop {
        let at = start + SignedDuration::from_millis(i as i64 * 10);
        let line = if groups > 0 && i.is_multiple_of(2) {
            let g = (i / 2) % groups;
            let reason = ["BackOff", "FailedMount", "FailedScheduling", "Unhealthy"][g % 4];
            warning(
                "Pod",
                &format!("web-{g}"),
                reason,
                (i / 2 / groups) as i64 + 1,
                at,
            )
        } else {
            line(
                TestEvent::new()
                    .about("Pod", &format!("web-{}", i % 97))
                    .reason("Pulled")
                    .message("Successfully pulled image \"registry.example/web:1.2.3\" in 627ms"),
            )
        }
        .replace("\"prod\"", &format!("\"{cluster}\""));
        events.push((at.as_millisecond(), Shipper::ContainerInsights.wrap(&line)));
        i += 1;
        if i.is_multiple_of(64) {
            // Stop once the events no longer fit one PutLogEvents batch.
            let cut = shipper::batches(&events, i64::MAX);
            if cut.len() > 1 {
                let batch = &cut[0];
                let bytes = batch.iter().map(|(_, m)| m.len() + 26).sum();
                let event = shipper::subscription_event(
                    "/aws/containerinsights/bench/application",
                    "emitter",
                    batch,
                );
                return (event, batch.len(), bytes);
            }
        }
    }
}

/// One measured run of the binary: (function ms per invocation, CPU seconds, peak RSS KiB).
struct Measured {
    elapsed_ms: Vec<f64>,
    cpu_seconds: f64,
    peak_kib: u64,
}

fn measure(world: &World, files: &[PathBuf], cgroup: Option<&Path>) -> Measured {
    let timing = world.dir.path().join("time.txt");
    let counted = world.dir.path().join("task-clock.txt");
    let inner = world.command(&["--log-format", "json"]);
    let mut shell = String::new();
    if let Some(group) = cgroup {
        shell.push_str(&format!("echo $$ > {}/tasks && ", group.display()));
    }
    // CPU from the task clock (to the microsecond; /usr/bin/time's is to 10 ms), peak RSS from
    // /usr/bin/time (the notifier's own).
    shell.push_str(&format!(
        "exec perf stat -x, -e task-clock -o {} -- /usr/bin/time -o {} -f '%M' taskset -c 0 \"$@\"",
        counted.display(),
        timing.display()
    ));
    let mut command = Command::new("sh");
    command.arg("-c").arg(shell).arg("sh");
    command.arg(inner.get_program());
    command.args(inner.get_args());
    for file in files {
        command.arg("--payload").arg(file);
    }
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.env("EVENTKEEPER_LOG_LEVEL", "info");
    let output = command.output().expect("notifier runs");
    assert_ok(&output);
    let elapsed_ms = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // The binaries' JSON logs carry an event's fields at the top level.
        .filter(|l| l["message"] == "Invocation done")
        .map(|l| l["elapsed_ms"].as_f64().expect("elapsed_ms"))
        .collect();
    let peak_kib = std::fs::read_to_string(&timing)
        .expect("time output")
        .trim()
        .parse()
        .expect("peak RSS");
    let task_clock_ms: f64 = std::fs::read_to_string(&counted)
        .expect("perf stat output")
        .lines()
        .find_map(|l| l.split(',').next()?.parse().ok())
        .expect("task-clock line");
    Measured {
        elapsed_ms,
        cpu_seconds: task_clock_ms / 1000.0,
        peak_kib,
    }
}

/// A CPU cgroup (v1) limited to the CPU share of a Lambda of `memory_mb`, removed on drop;
/// `None` when it cannot be created here.
struct Throttle(PathBuf, u32);

impl Throttle {
    fn create(memory_mb: u32) -> Option<Self> {
        let path = PathBuf::from(format!(
            "/sys/fs/cgroup/cpu/eventkeeper-bench-{}-{memory_mb}",
            std::process::id()
        ));
        std::fs::create_dir(&path).ok()?;
        let throttle = Self(path, memory_mb);
        let period = 100_000u64;
        let quota = (period as f64 * lambda_share(memory_mb)).round() as u64;
        std::fs::write(throttle.0.join("cpu.cfs_period_us"), period.to_string()).ok()?;
        std::fs::write(throttle.0.join("cpu.cfs_quota_us"), quota.to_string()).ok()?;
        Some(throttle)
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: needs a release build, moto, perf, /usr/bin/time and taskset; run by `make bench-notify`"]
async fn one_megabyte_payloads() {
    let world = world("/hook")
        .await
        .expect("moto (EVENTKEEPER_MOTO_SERVER)");
    // moto on the other core: the notifier's core measures only the notifier.
    let _ = Command::new("taskset")
        .args(["-a", "-p", "-c", "1"])
        .arg(world.moto.pid().to_string())
        .output();
    let mut world = world;
    let topic = world.destinations[3].clone();
    world.destinations = json!([topic]);
    let throttles: Vec<Throttle> = [128, 256]
        .into_iter()
        .filter_map(Throttle::create)
        .collect();
    if throttles.is_empty() {
        println!("throttled runs SKIPPED: cannot create a CPU cgroup here");
    }
    let mut runs = 0;
    for (shape, groups) in [
        ("no rule matches (decode and match only)", 0),
        ("50 groups", 50),
        ("every Warning its own group", usize::MAX),
    ] {
        for throttle in std::iter::once(None).chain(throttles.iter().map(Some)) {
            let cgroup = throttle.map(|t| t.0.as_path());
            let mut files = Vec::new();
            let (mut records, mut bytes) = (0, 0);
            for n in 0..INVOCATIONS {
                runs += 1;
                let cluster = format!("bench-{runs}-{n}");
                let groups = groups.min(100_000);
                let (event, count, size) = full_payload(&cluster, groups);
                (records, bytes) = (count, size);
                files.extend(world.payload_files(&cluster, &[event]));
            }
            // A table of its own per run: moto's transactions slow as its table grows, which
            // DynamoDB's do not.
            let previous = std::mem::replace(&mut world.table, format!("bench-{runs}"));
            create_table(&world.aws, &world.table).await;
            delete_table(&world.aws, &previous).await;
            let base = measure(&world, &[], cgroup);
            let run = measure(&world, &files, cgroup);
            assert_eq!(run.elapsed_ms.len(), INVOCATIONS);
            let per_invocation_ms = median(&run.elapsed_ms);
            let cpu_ms =
                (run.cpu_seconds - base.cpu_seconds).max(0.0) * 1000.0 / INVOCATIONS as f64;
            println!(
                "{shape}; {}: {records} log events ({bytes} bytes counted as PutLogEvents does) per payload; \
                 function time median {per_invocation_ms:.0} ms (all: {:?}); {:.0} records/s; \
                 CPU {cpu_ms:.0} ms per invocation; peak RSS {} KiB (startup alone {} KiB)",
                match throttle {
                    Some(t) => format!(
                        "throttled to {:.1} % of a core ({} MB Lambda share)",
                        lambda_share(t.1) * 100.0,
                        t.1
                    ),
                    None => "one core".to_owned(),
                },
                run.elapsed_ms
                    .iter()
                    .map(|m| m.round() as i64)
                    .collect::<Vec<_>>(),
                records as f64 / (per_invocation_ms / 1000.0),
                run.peak_kib,
                base.peak_kib,
            );
        }
    }
}
