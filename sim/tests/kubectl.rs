//! Conformance with the real kubectl: list (all namespaces, one namespace, chunked, field
//! selector, printed table), watch, and HTTPS with a static token.

mod common;

use common::{event, kubectl, run, start_with_kubeconfig};
use eventkeeper_sim::{AuthMode, SimConfig, Simulator};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

const LIMIT: Duration = Duration::from_secs(30);

struct Fixture {
    sim: Simulator,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    kubectl: PathBuf,
}

async fn fixture(cfg: SimConfig) -> Option<Fixture> {
    let kubectl = kubectl()?;
    let events = [
        (
            "test",
            "scenario-a-1",
            "Warning",
            "FailedMount",
            "secret \"misspelt-secret-name\" not found",
        ),
        (
            "test",
            "scenario-b-1",
            "Warning",
            "Failed",
            "Error: ErrImagePull",
        ),
        (
            "test",
            "scenario-b-1",
            "Normal",
            "Pulling",
            "Pulling image \"wrong-image\"",
        ),
        (
            "default",
            "nginx",
            "Normal",
            "Started",
            "Started container nginx",
        ),
        (
            "default",
            "nginx",
            "Normal",
            "Created",
            "Created container nginx",
        ),
    ]
    .map(|(ns, pod, ty, reason, msg)| event(ns, pod, ty, reason, msg));
    let (sim, _dir, kubeconfig) = start_with_kubeconfig(cfg, events).await;
    Some(Fixture {
        sim,
        _dir,
        kubeconfig,
        kubectl,
    })
}

fn cmd(f: &Fixture, args: &[&str]) -> Command {
    cmd_with(&f.kubectl, &f.kubeconfig, args)
}

fn cmd_with(kubectl: &Path, kubeconfig: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(kubectl);
    c.env("KUBECONFIG", kubeconfig)
        .env("HOME", kubeconfig.parent().unwrap_or(Path::new("/tmp")))
        .args(args);
    c
}

/// `kubectl get events <options> -o json`: the items and kubectl's stderr. `options` is split
/// on whitespace.
async fn json_items(f: &Fixture, options: &str) -> (Vec<Value>, String) {
    let args: Vec<&str> = ["get", "events"]
        .into_iter()
        .chain(options.split_whitespace())
        .chain(["-o", "json"])
        .collect();
    let out = run(&mut cmd(f, &args), LIMIT).await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("kubectl prints JSON");
    (v["items"].as_array().cloned().unwrap_or_default(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events_in_all_namespaces_as_json() {
    let Some(f) = fixture(SimConfig::default()).await else {
        return;
    };
    let (items, _) = json_items(&f, "-A").await;
    assert_eq!(items.len(), 5);
    assert!(
        items
            .iter()
            .all(|i| i["kind"] == "Event" && i["apiVersion"] == "v1")
    );
    assert!(items.iter().any(|i| {
        i["message"]
            .as_str()
            .unwrap_or("")
            .contains("misspelt-secret-name")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events_in_one_namespace() {
    let Some(f) = fixture(SimConfig::default()).await else {
        return;
    };
    let (items, _) = json_items(&f, "-n test").await;
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["metadata"]["namespace"] == "test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_list_follows_continue_tokens() {
    let Some(f) = fixture(SimConfig::default()).await else {
        return;
    };
    let (items, stderr) = json_items(&f, "-A --chunk-size=2 -v=6").await;
    assert_eq!(items.len(), 5, "every page was fetched");
    let pages = stderr.matches("limit=2").count();
    assert!(pages >= 3, "expected 3 pages of 2, kubectl log:\n{stderr}");
    assert!(stderr.contains("continue="), "kubectl log:\n{stderr}");
    let mut names: Vec<&str> = items
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or(""))
        .collect();
    names.dedup();
    assert_eq!(names.len(), 5, "no duplicates across pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_selector_on_type() {
    let Some(f) = fixture(SimConfig::default()).await else {
        return;
    };
    let (items, _) = json_items(&f, "-A --field-selector type=Warning").await;
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["type"] == "Warning"));
    let (items, _) = json_items(
        &f,
        "-n test --field-selector involvedObject.name=scenario-b-1,reason!=Failed",
    )
    .await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["reason"], "Pulling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_table_has_kubectl_columns() {
    let Some(f) = fixture(SimConfig::default()).await else {
        return;
    };
    let out = run(&mut cmd(&f, &["get", "events", "-A"]), LIMIT).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header = text.lines().next().unwrap_or("");
    for col in [
        "NAMESPACE",
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "MESSAGE",
    ] {
        assert!(header.contains(col), "header {header:?} lacks {col}");
    }
    assert!(text.contains("pod/scenario-a-1"));
    assert!(text.contains("FailedMount"));
    assert_eq!(text.lines().count(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sees_initial_state_additions_and_repeats() {
    let Some(f) = fixture(SimConfig::default()).await else {
        return;
    };
    let mut c = cmd(
        &f,
        &[
            "get",
            "events",
            "-n",
            "test",
            "--watch",
            "-o",
            "json",
            "--request-timeout=5s",
        ],
    );
    let watcher = tokio::spawn(async move { run(&mut c, LIMIT).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let added = f
        .sim
        .create_event(&event(
            "test",
            "scenario-c-1",
            "Warning",
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient cpu.",
        ))
        .expect("event");
    let name = added["metadata"]["name"].as_str().unwrap().to_owned();
    f.sim.repeat_event("test", &name).expect("repeat");
    f.sim
        .create_event(&event(
            "default",
            "other",
            "Normal",
            "Started",
            "not in test",
        ))
        .expect("event");
    let out = watcher.await.expect("watch task");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let objs: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .map(|v| v.expect("kubectl prints JSON objects"))
        .collect();
    assert_eq!(
        objs.len(),
        5,
        "3 listed + 1 added + 1 modified; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = &objs[4];
    assert_eq!(last["metadata"]["name"], name.as_str());
    assert_eq!(last["count"], 2);
    assert!(objs.iter().all(|o| o["metadata"]["namespace"] == "test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_static_token() {
    let cfg = SimConfig {
        tls: true,
        auth: AuthMode::StaticToken("s3cret-token".into()),
        ..SimConfig::default()
    };
    let Some(f) = fixture(cfg).await else {
        return;
    };
    assert!(f.sim.url().starts_with("https://"));
    let (items, _) = json_items(&f, "-A").await;
    assert_eq!(items.len(), 5);

    let mut wrong = f.sim.kubeconfig();
    wrong["users"][0]["user"]["token"] = Value::from("wrong");
    let path = f.kubeconfig.with_file_name("wrong-token");
    std::fs::write(&path, wrong.to_string()).unwrap();
    let out = run(
        &mut cmd_with(&f.kubectl, &path, &["get", "events", "-A"]),
        LIMIT,
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Unauthorized"), "{stderr}");
}
