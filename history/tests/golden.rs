//! Golden tests for `-o table`, `-o wide` and `-o json` (and `why`'s report): the seed
//! scenarios' Events, as records, rendered at a fixed time. Regenerate with
//! `EVENTKEEPER_UPDATE_GENERATED=1 cargo test -p eventkeeper-history --test golden` and review
//! the diff.

use std::path::PathBuf;

use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_core::{Context, Origin, Record, normalise};
use eventkeeper_history::query::{Merged, Query};
use eventkeeper_history::table::{render_json, render_table};
use eventkeeper_history::target::Target;
use eventkeeper_history::why;
use eventkeeper_history::window::Window;
use jiff::Timestamp;
use serde_json::json;

const NOW: &str = "2026-11-23T12:00:00Z";

#[allow(clippy::too_many_arguments)]
fn event(
    uid: &str,
    rv: u64,
    ns: &str,
    kind: &str,
    name: &str,
    ty: &str,
    reason: &str,
    message: &str,
    count: i64,
    first: &str,
    last: &str,
    component: &str,
) -> Record {
    let mut e = TestEvent::new()
        .uid(uid)
        .resource_version(rv)
        .namespace(ns)
        .about(kind, name)
        .reason(reason)
        .message(message)
        .count(count)
        .set("type", ty)
        .set("firstTimestamp", first)
        .last_timestamp(json!(last))
        .set("reportingComponent", component)
        .set(
            "source",
            json!({"component": component, "host": "ip-10-42-104-177"}),
        )
        .set("reportingInstance", "ip-10-42-104-177")
        .json();
    e["metadata"]["name"] = format!("{name}.{uid}").into();
    normalise(&e, &Context::new("demo", Origin::CatchUp)).expect("normalises")
}

fn records() -> Vec<Record> {
    let pod_b = "scenario-b-cff56c84-xn9hh";
    let pod_a = "scenario-a-7f6b9d8c5-2kx4q";
    // One BackOff Event of pod b, observed at `rv` with `count` repeats, the last at `last`.
    let backoff = |rv, count, last| {
        let message = "Back-off pulling image \"wrong-image\"";
        let first = "2026-11-23T06:00:02Z";
        event(
            "b2", rv, "test", "Pod", pod_b, "Normal", "BackOff", message, count, first, last,
            "kubelet",
        )
    };
    vec![
        event(
            "d1",
            10,
            "test",
            "Deployment",
            "scenario-b",
            "Normal",
            "ScalingReplicaSet",
            "Scaled up replica set scenario-b-cff56c84 to 1",
            1,
            "2026-11-23T06:00:00Z",
            "2026-11-23T06:00:00Z",
            "deployment-controller",
        ),
        event(
            "b1",
            20,
            "test",
            "Pod",
            pod_b,
            "Warning",
            "Failed",
            "Failed to pull image \"wrong-image\": pull access denied",
            1,
            "2026-11-23T06:00:01Z",
            "2026-11-23T06:00:01Z",
            "kubelet",
        ),
        // Two observations of the same BackOff Event: one row at the latest unless all versions.
        backoff(21, 1, "2026-11-23T06:00:02Z"),
        backoff(900, 1081, "2026-11-23T11:59:40Z"),
        event(
            "b3",
            901,
            "test",
            "Pod",
            pod_b,
            "Warning",
            "Failed",
            "Error: ImagePullBackOff",
            1081,
            "2026-11-23T06:00:02Z",
            "2026-11-23T11:59:40Z",
            "kubelet",
        ),
        event(
            "a1",
            30,
            "test",
            "Pod",
            pod_a,
            "Warning",
            "FailedMount",
            "MountVolume.SetUp failed for volume \"secret-volume\" : secret \"misspelt-secret-name\" not found",
            180,
            "2026-11-23T06:00:01Z",
            "2026-11-23T11:58:00Z",
            "kubelet",
        ),
        event(
            "n1",
            40,
            "default",
            "Pod",
            "nginx",
            "Normal",
            "Killing",
            "Stopping container nginx",
            1,
            "2026-11-23T06:05:00Z",
            "2026-11-23T06:05:00Z",
            "kubelet",
        ),
    ]
}

fn merged() -> Merged {
    let mut merged = Merged::default();
    for r in records() {
        merged.add(r);
    }
    merged
}

fn rows(ns: Option<&str>, target: Option<&str>, all_versions: bool) -> Vec<Record> {
    let now: Timestamp = NOW.parse().unwrap();
    let query = Query {
        namespace: ns.map(str::to_owned),
        target: target.map(|t| Target::parse(t).unwrap()),
        with_owners: false,
        window: Window {
            from: now - jiff::SignedDuration::from_hours(24),
            to: now,
        },
        types: vec![],
        reasons: vec![],
    };
    let mut kept = Merged::default();
    for r in records() {
        if query.wants(&r) {
            kept.add(r);
        }
    }
    assert_eq!(merged().len(), 7);
    kept.rows(all_versions)
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("EVENTKEEPER_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (regenerate with EVENTKEEPER_UPDATE_GENERATED=1)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

#[test]
fn table_output() {
    let now = NOW.parse().unwrap();
    check(
        "events-table.txt",
        &render_table(&rows(Some("test"), None, false), now, false, false),
    );
}

#[test]
fn wide_output_with_all_namespaces() {
    let now = NOW.parse().unwrap();
    check(
        "events-wide.txt",
        &render_table(&rows(None, None, false), now, true, true),
    );
}

#[test]
fn table_of_every_version_for_a_deployment() {
    let now = NOW.parse().unwrap();
    check(
        "events-for-deployment-all-versions.txt",
        &render_table(
            &rows(Some("test"), Some("deployment/scenario-b"), true),
            now,
            false,
            false,
        ),
    );
}

#[test]
fn json_output() {
    let out = render_json(&rows(Some("test"), Some("pod/scenario-b*"), false));
    for line in out.lines() {
        let record: Record = serde_json::from_str(line).expect("each line is a record");
        assert_eq!(record.schema_version, 1);
    }
    check("events-json.jsonl", &out);
}

#[test]
fn why_report() {
    let now = NOW.parse().unwrap();
    let rows = rows(Some("test"), Some("deployment/scenario-b"), false);
    check("why-deployment.txt", &why::render(&why::groups(&rows), now));
}

/// Every observation in every namespace as records: the golden input of the HTML timeline's
/// browser check (`tests/html_chromium.rs`), which reads it back through the archive.
#[test]
fn json_of_every_version_in_every_namespace() {
    let out = render_json(&rows(None, None, true));
    assert_eq!(out.lines().count(), 7, "every observation");
    check("events-all-versions.jsonl", &out);
}
