//! The catch-up binary against the simulator (a separate process), archiving to a local
//! directory: the archive holds each listed observation exactly once, across repeated and
//! concurrent runs, crashes and expiring continue tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use eventkeeper_tests::peers::SimProcess;
use serde_json::{Value, json};

mod common;
use common::{catchup_command, live_now, uid_and_rv};

fn catchup(sim: &SimProcess, archive: &Path, extra: &[&str]) -> Output {
    catchup_command(sim, archive)
        .args(extra)
        .output()
        .expect("the catch-up runs")
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "catch-up failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every (uid, resourceVersion) in the archive, with how often it occurs.
fn archived(archive: &Path) -> BTreeMap<(String, String), usize> {
    let mut found = BTreeMap::new();
    for path in files(archive) {
        if !path.to_string_lossy().ends_with(".json.gz") {
            continue;
        }
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("open"))
            .read_to_string(&mut text)
            .expect("valid gzip");
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).expect("a record per line");
            assert_eq!(record["origin"], "catch-up");
            *found.entry(uid_and_rv(&record["metadata"])).or_insert(0) += 1;
        }
    }
    found
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Moves the simulated clock past the 5-minute continue TTL mid-list, then checks the run
/// succeeded although its list hit a 410.
fn expire_continue_tokens_and_finish(sim: &SimProcess, child: std::process::Child) {
    sim.admin("POST", "/_sim/clock", Some(&json!({"advanceSeconds": 400})));
    let output = child.wait_with_output().expect("wait");
    assert_ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Continue token expired"),
        "the list hit a 410: {stderr}"
    );
}

/// The catch-up started in the background, listing `page_size` Events a page, its output
/// captured.
fn spawn_paged(sim: &SimProcess, dir: &Path, page_size: u32) -> std::process::Child {
    catchup_command(sim, dir)
        .args(["--page-size", &page_size.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn assert_exactly_once(archive: &Path, expected: &BTreeSet<(String, String)>) {
    let found = archived(archive);
    let duplicates: Vec<_> = found.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicates: {duplicates:?}");
    let found: BTreeSet<_> = found.into_keys().collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}

#[test]
fn runs_archive_every_listed_observation_once() {
    // Generated load only: a scenario replays on a schedule and would race the expectations.
    let sim = SimProcess::start(&[]);
    sim.generate(json!({"events": 300, "ratePerSec": 0, "objects": 300, "repeatShare": 0.0, "warningShare": 0.3, "namespaces": ["test", "default"]}));
    let dir = tempfile::tempdir().expect("temp");
    let mut expected = live_now(&sim);
    assert_eq!(expected.len(), 300);

    assert_ok(&catchup(
        &sim,
        dir.path(),
        &["--scheduled-time", "2026-11-23T09:00:00Z"],
    ));
    // The same scheduled run delivered again: nothing new, nothing twice.
    assert_ok(&catchup(
        &sim,
        dir.path(),
        &["--scheduled-time", "2026-11-23T09:00:00Z"],
    ));
    assert_exactly_once(dir.path(), &expected);

    // New traffic, repeats included (each repeat is a new resourceVersion). A list only shows
    // each event's latest version, so the archive holds what was live at each run.
    sim.generate(json!({"events": 600, "ratePerSec": 0, "objects": 150, "repeatShare": 0.4, "warningShare": 0.3, "namespaces": ["shop", "batch"]}));
    expected.extend(live_now(&sim));
    let output = catchup(
        &sim,
        dir.path(),
        &[
            "--scheduled-time",
            "2026-11-23T09:30:00Z",
            "--page-size",
            "7",
        ],
    );
    assert_ok(&output);
    assert_exactly_once(dir.path(), &expected);
    let emf: Value = serde_json::from_slice(output.stdout.split(|b| *b == b'\n').next().unwrap())
        .expect("EMF on stdout");
    assert_eq!(emf["PossibleGapSeconds"], 0);
    assert!(emf["EventsArchived"].as_u64().unwrap() > 0);
}

#[test]
fn concurrent_runs_write_no_duplicates() {
    let sim = SimProcess::start(&[]);
    sim.generate(json!({"events": 400, "ratePerSec": 0, "objects": 400, "repeatShare": 0.0, "warningShare": 0.5, "namespaces": ["a"]}));
    let dir = tempfile::tempdir().expect("temp");
    let expected = live_now(&sim);
    let spawn = |time: &str| {
        Command::new(env!("CARGO_BIN_EXE_eventkeeper-catchup"))
            .args([
                "--cluster-name",
                "demo",
                "--log-format",
                "text",
                "--page-size",
                "20",
                "--kubeconfig",
            ])
            .arg(&sim.kubeconfig)
            .arg("--archive-dir")
            .arg(dir.path())
            .args(["--scheduled-time", time])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let mut runs = [
        spawn("2026-11-23T09:00:00Z"),
        spawn("2026-11-23T09:30:00Z"),
        spawn("2026-11-23T09:30:00Z"),
    ];
    for run in &mut runs {
        assert!(run.wait().expect("wait").success());
    }
    assert_exactly_once(dir.path(), &expected);
}

#[test]
fn a_long_pause_is_reported_as_a_possible_gap() {
    let sim = SimProcess::start(&["--scenario", "seeds"]);
    let dir = tempfile::tempdir().expect("temp");
    assert_ok(&catchup(&sim, dir.path(), &[]));
    // Pretend the last good run was three hours ago.
    let checkpoint = dir
        .path()
        .join("events/_eventkeeper/cluster=demo/catchup-checkpoint.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).expect("checkpoint"))
            .expect("JSON");
    let three_hours_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(3);
    state["lastGoodRun"] = json!(three_hours_ago.to_string());
    std::fs::write(&checkpoint, state.to_string()).expect("rewrite");

    let output = catchup(&sim, dir.path(), &[]);
    assert_ok(&output);
    let emf: Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').next().unwrap()).expect("EMF");
    let gap = emf["PossibleGapSeconds"].as_i64().expect("gap metric");
    assert!(
        (7190..=7300).contains(&gap),
        "about two hours may be lost: {gap}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ERROR") && stderr.contains("Possible gap"),
        "{stderr}"
    );

    // The next run on schedule reports none.
    let output = catchup(&sim, dir.path(), &[]);
    let emf: Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').next().unwrap()).expect("EMF");
    assert_eq!(emf["PossibleGapSeconds"], 0);
}

#[test]
fn bad_configuration_exits_64_before_any_work() {
    let output = Command::new(env!("CARGO_BIN_EXE_eventkeeper-catchup"))
        .args([
            "--cluster-name",
            "demo",
            "--schedule-interval",
            "2h",
            "--archive-dir",
            "/nonexistent/x",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("must be shorter than --ttl"));
    assert!(output.stdout.is_empty());
}

#[test]
fn continue_tokens_expiring_mid_list_lose_and_repeat_nothing() {
    // Continue tokens that end 5 minutes after the first page: without writes between the
    // pages, etcd's compaction alone would keep the list's revision readable.
    let sim = SimProcess::start(&["--continue-ttl", "5m"]);
    sim.generate(json!({"events": 300, "ratePerSec": 0, "objects": 300, "repeatShare": 0.0, "warningShare": 0.3, "namespaces": ["a", "b", "c"]}));
    let expected = live_now(&sim);
    // Slow pages, then five simulated minutes pass mid-list: the next continue token is stale.
    sim.faults(json!({"latencyMs": 60}));
    let dir = tempfile::tempdir().expect("temp");
    let child = spawn_paged(&sim, dir.path(), 10);
    std::thread::sleep(std::time::Duration::from_millis(700));
    expire_continue_tokens_and_finish(&sim, child);
    assert_exactly_once(dir.path(), &expected);
}

/// etcd serves keys in byte order: `kube-public/` < `kube-system/` < `kube/` < `kubea/` ('-' <
/// '/' < 'a'), which a (namespace, name) sort does not give. Events of the first namespace the
/// list passed are updated, then one of the last namespace, then the continue token expires: the
/// catch-up must still archive every updated version (this run or the next), each version once.
#[test]
fn an_expired_continue_token_loses_no_update_to_a_key_already_passed() {
    let sim = SimProcess::start(&["--continue-ttl", "5m"]);
    sim.generate(json!({"events": 200, "ratePerSec": 0, "objects": 200, "repeatShare": 0.0, "warningShare": 0.3,
        "namespaces": ["kube", "kube-system", "kube-public", "kubea"]}));
    let before = live_now(&sim);
    let list: Value =
        serde_json::from_str(&sim.admin("GET", "/api/v1/namespaces/kube-public/events", None))
            .expect("list JSON");
    let passed: Vec<Value> = list["items"].as_array().expect("items")[..3].to_vec();
    let list: Value =
        serde_json::from_str(&sim.admin("GET", "/api/v1/namespaces/kubea/events", None))
            .expect("list JSON");
    // Updated last, so its version is the newest: an inconsistent continuation would serve it
    // and move the checkpoint past the kube-public updates, which it never saw.
    let ahead = list["items"]
        .as_array()
        .expect("items")
        .last()
        .expect("a kubea Event")
        .clone();
    // Superseded before the list reached it: no list could show it (the emitter's watch does).
    let ahead_original = uid_and_rv(&ahead["metadata"]);
    // 100 ms a request, 5 Events a page: the list takes about 4 s, kube-public is its first page.
    sim.faults(json!({"latencyMs": 100}));
    let dir = tempfile::tempdir().expect("temp");
    let child = spawn_paged(&sim, dir.path(), 5);
    // About a third of the way: kube-public, first in etcd's order, has been served.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for mut event in passed.into_iter().chain([ahead]) {
        let namespace = event["metadata"]["namespace"]
            .as_str()
            .expect("namespace")
            .to_owned();
        let name = event["metadata"]["name"].as_str().expect("name").to_owned();
        event["message"] = json!("updated while the list ran");
        event["count"] = json!(event["count"].as_u64().unwrap_or(1) + 1);
        sim.admin(
            "PUT",
            &format!("/api/v1/namespaces/{namespace}/events/{name}"),
            Some(&event),
        );
    }
    expire_continue_tokens_and_finish(&sim, child);
    let after = live_now(&sim);
    assert_eq!(
        after.difference(&before).count(),
        4,
        "four updated versions"
    );
    // The next scheduled run: whatever the first could not prove, it archives now.
    sim.faults(json!({"latencyMs": 0}));
    assert_ok(&catchup(&sim, dir.path(), &[]));
    let mut every_listable_version: BTreeSet<_> = before.union(&after).cloned().collect();
    every_listable_version.remove(&ahead_original);
    assert_exactly_once(dir.path(), &every_listable_version);
}
