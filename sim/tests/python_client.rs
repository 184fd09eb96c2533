//! Conformance with the official Kubernetes Python client: paged lists with `limit`/`_continue`,
//! expired continue tokens, `watch.Watch().stream`, and 410 on a watch from a too-old revision.

mod common;

use common::{event, run, start_with_kubeconfig, tool, watch_cache};
use eventkeeper_sim::{SimConfig, Simulator, Window};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const LIMIT: Duration = Duration::from_secs(60);

struct Fixture {
    sim: Simulator,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    python: PathBuf,
}

async fn fixture(cfg: SimConfig, events: usize) -> Option<Fixture> {
    let python = tool("EVENTKEEPER_PY_KUBE", "the Python kubernetes client")?;
    let events = (0..events).map(|i| {
        let ns = if i % 2 == 0 { "test" } else { "default" };
        event(
            ns,
            &format!("pod-{i}"),
            "Normal",
            "Started",
            "Started container app",
        )
    });
    let (sim, _dir, kubeconfig) = start_with_kubeconfig(cfg, events).await;
    Some(Fixture {
        sim,
        _dir,
        kubeconfig,
        python,
    })
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py_client.py")
}

fn cmd(f: &Fixture, args: &[&str]) -> Command {
    let mut c = Command::new(&f.python);
    c.arg(script()).arg(&f.kubeconfig).args(args);
    c
}

async fn json_out(f: &Fixture, args: &[&str]) -> Value {
    let out = run(&mut cmd(f, args), LIMIT).await;
    assert!(
        out.status.success(),
        "py_client {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("script prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_list_with_limit_and_continue() {
    let Some(f) = fixture(SimConfig::default(), 7).await else {
        return;
    };
    let v = json_out(&f, &["list"]).await;
    assert_eq!(v["pages"], 4);
    let names = v["names"].as_array().unwrap();
    assert_eq!(names.len(), 7);
    let mut sorted: Vec<&str> = names.iter().map(|n| n.as_str().unwrap()).collect();
    let in_order = sorted.clone();
    sorted.sort();
    assert_eq!(sorted, in_order, "items come in key order across pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_continue_token_is_410() {
    let Some(f) = fixture(SimConfig::default(), 5).await else {
        return;
    };
    let first = json_out(&f, &["first-page"]).await;
    let token = first["continue"]
        .as_str()
        .expect("a continue token")
        .to_owned();
    let ok = json_out(&f, &["continue", &token]).await;
    assert_eq!(ok["status"], 200);
    // A write, then two etcd compactions: the list's revision is gone.
    f.sim
        .create_event(&event("test", "late", "Normal", "Started", "x"))
        .expect("event");
    f.sim.advance_clock(301.0);
    f.sim.advance_clock(301.0);
    let gone = json_out(&f, &["continue", &token]).await;
    assert_eq!(gone["status"], 410);
    assert_eq!(gone["reason"], "Expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_stream_sees_adds_repeats_and_expiry() {
    let Some(f) = fixture(SimConfig::default(), 3).await else {
        return;
    };
    let mut c = cmd(&f, &["watch", "6"]);
    c.stdout(Stdio::piped()).kill_on_drop(true);
    let mut child = c.spawn().expect("python starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events: Vec<Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    async fn next(
        lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
        deadline: tokio::time::Instant,
    ) -> Value {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("watch output in time")
            .expect("read")
            .expect("a line before the end");
        serde_json::from_str::<Value>(&line).expect("JSON line")
    }
    for _ in 0..3 {
        events.push(next(&mut lines, deadline).await);
    }
    let added = f
        .sim
        .create_event(&event("test", "late", "Warning", "BackOff", "Back-off"))
        .unwrap();
    let name = added["metadata"]["name"].as_str().unwrap().to_owned();
    f.sim.repeat_event("test", &name).unwrap();
    events.push(next(&mut lines, deadline).await);
    events.push(next(&mut lines, deadline).await);
    f.sim.advance_clock(3700.0);
    events.push(next(&mut lines, deadline).await);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        &types[..5],
        ["ADDED", "ADDED", "ADDED", "ADDED", "MODIFIED"]
    );
    assert_eq!(types[5], "DELETED", "TTL expiry reaches watchers");
    assert_eq!(events[4]["count"], 2);
    let rv = |e: &Value| {
        e["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&events[4]) > rv(&events[3]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_compacted_revision_is_410() {
    // A watch cache of 3 changes, and etcd after two compactions.
    for cfg in [watch_cache(3), SimConfig::default()] {
        let etcd = cfg.store.window == Window::Etcd;
        let Some(f) = fixture(cfg, 10).await else {
            return;
        };
        if etcd {
            f.sim.advance_clock(301.0);
            f.sim.advance_clock(301.0);
        }
        let v = json_out(&f, &["watch-from", "2"]).await;
        assert_eq!(v["status"], 410);
    }
}
