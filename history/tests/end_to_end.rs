//! End to end with real pieces: the simulator replays the seed scenarios for six simulated
//! hours, the real catch-up binary archives them to moto S3 every 30 simulated minutes, and the
//! real `kubectl-eventkeeper` binary answers from the archive and the simulator's live API.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output};

use eventkeeper_core::Record;
use eventkeeper_tests::peers::{MotoServer, SimProcess, catchup_command, workspace_binary};
use serde_json::{Value, json};

mod common;

use common::{assert_ordered_by_effective_time, history_command, s3_with_bucket};

const BUCKET: &str = "eventkeeper-archive";
const POD_B: &str = "scenario-b-cff56c84-xn9hh";

fn history(moto: &MotoServer, args: &[&str]) -> Output {
    let mut command = history_command(moto);
    command.args(args);
    command.output().expect("kubectl-eventkeeper runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The run exited with `code` and said `reason` on stderr.
fn assert_failed(output: &Output, code: i32, reason: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    assert!(err.contains(reason), "{reason:?} not in {err}");
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// The simulator's clock.
fn sim_now(sim: &SimProcess) -> String {
    sim.status()["clock"].as_str().expect("clock").to_owned()
}

fn archive_once(sim: &SimProcess, moto: &MotoServer) {
    let binary = workspace_binary("eventkeeper-catchup", "eventkeeper-catchup");
    let mut command = catchup_command(&binary, sim);
    command
        .args(["--bucket", BUCKET, "--scheduled-time", &sim_now(sim)])
        .envs(moto.env());
    assert_ok(&command.output().expect("the catch-up runs"));
}

/// Six simulated hours of the seed scenarios, archived every 30 simulated minutes.
fn six_archived_hours(sim: &SimProcess, moto: &MotoServer) {
    for step in 1..=(6 * 180) {
        sim.post("/_sim/clock", json!({"advanceSeconds": 20}));
        if step % 90 == 0 {
            archive_once(sim, moto);
        }
    }
}

/// uid → count of the scenario-b pod's Events the simulator still holds.
fn live_counts(sim: &SimProcess, pod: &str) -> BTreeMap<String, i64> {
    let list: Value =
        serde_json::from_str(&sim.admin("GET", "/api/v1/namespaces/test/events", None))
            .expect("list");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["involvedObject"]["name"] == pod)
        .map(|e| {
            (
                e["metadata"]["uid"].as_str().unwrap().to_owned(),
                e["count"].as_i64().unwrap_or(1),
            )
        })
        .collect()
}

fn records(output: &Output) -> Vec<Record> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record per line"))
        .collect()
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_scenarios_through_the_catch_up_archive() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let s3 = s3_with_bucket(&moto, BUCKET).await;
    let sim = SimProcess::start(&["--scenario", "seeds"]);
    tokio::task::block_in_place(|| six_archived_hours(&sim, &moto));
    let now = sim_now(&sim);
    let archive = ["--cluster", "demo", "--bucket", BUCKET, "--now", &now];
    let kubeconfig = sim.kubeconfig.to_str().unwrap().to_owned();

    // The scenario-b pod's last six hours, asked of the archive and of both sources below.
    let question = [
        "events",
        "-n",
        "test",
        "--for",
        "pod/scenario-b*",
        "--since",
        "6h",
    ];

    // The archive alone: the scenario-b pod's Failed/BackOff history, each Event once at the
    // count the simulator holds now (the last catch-up ran at this very simulated time).
    let mut args = question.to_vec();
    args.extend(archive);
    args.extend(["--source", "archive", "-o", "json"]);
    let out = history(&moto, &args);
    assert_ok(&out);
    let expected = live_counts(&sim, POD_B);
    let got: BTreeMap<String, i64> = records(&out)
        .iter()
        .map(|r| (r.uid().to_owned(), r.occurrences))
        .collect();
    // Every live Event has one row at its latest count. A row beyond those is an Event the
    // simulator's TTL already removed: the archive keeps it, which is the point of the command.
    for (uid, count) in &expected {
        assert_eq!(
            got.get(uid),
            Some(count),
            "one row per Event, at its latest count: {uid} in {got:?}"
        );
    }
    let reasons: Vec<String> = records(&out)
        .iter()
        .filter_map(|r| r.reason.clone())
        .collect();
    assert!(reasons.iter().any(|r| r == "BackOff"), "{reasons:?}");
    assert_eq!(
        reasons.iter().filter(|r| *r == "Failed").count(),
        3,
        "{reasons:?}"
    );
    let backoff = records(&out)
        .into_iter()
        .find(|r| r.reason.as_deref() == Some("BackOff"))
        .unwrap();
    assert!(
        backoff.occurrences > 1000,
        "repeated every 20 s for 6 h: {}",
        backoff.occurrences
    );

    // Every version: more rows, all of the same Events, in effective-time order.
    let mut all = args.clone();
    all.push("--all-versions");
    let versions = records(&history(&moto, &all));
    assert!(
        versions.len() > got.len() * 10,
        "{} versions",
        versions.len()
    );
    assert!(versions.iter().all(|r| got.contains_key(r.uid())));
    assert_ordered_by_effective_time(&versions);

    // Auto: the live API for the last hour and the archive, merged: the same answer, as a table.
    let mut table = question.to_vec();
    table.extend(archive);
    table.extend(["--kubeconfig", &kubeconfig]);
    let out = history(&moto, &table);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.starts_with("LAST SEEN   TYPE"), "{text}");
    // One line per Event the archive answer had (live ones and any the TTL already removed).
    assert_eq!(text.lines().count(), 1 + got.len(), "{text}");
    assert!(
        text.contains("Back-off pulling image \"wrong-image\""),
        "{text}"
    );
    assert!(text.contains(&format!("pod/{POD_B}")), "{text}");

    // why: the likeliest cause of each broken object.
    for (object, ns, cause) in [
        (format!("pod/{POD_B}"), "test", "image pull failed"),
        (
            "deployment/scenario-a".to_owned(),
            "test",
            "missing secret \"misspelt-secret-name\"",
        ),
        (
            "pod/scenario-c-6d988b8d84-gghjv".to_owned(),
            "test",
            "not schedulable: insufficient cpu",
        ),
        (
            "pod/mega-pod".to_owned(),
            "default",
            "not schedulable: insufficient cpu",
        ),
    ] {
        let mut why = vec!["why", object.as_str(), "-n", ns, "--since", "6h"];
        why.extend(archive);
        why.extend(["--kubeconfig", &kubeconfig]);
        let out = history(&moto, &why);
        assert_ok(&out);
        let last = stdout(&out).lines().last().unwrap_or_default().to_owned();
        assert!(
            last.starts_with(&format!("Likeliest cause: {cause}")),
            "{object}: {}",
            stdout(&out)
        );
    }

    // An empty answer says so, and what was read.
    let mut none = vec![
        "events", "-n", "nowhere", "--since", "6h", "--source", "archive",
    ];
    none.extend(archive);
    let out = history(&moto, &none);
    assert_ok(&out);
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).starts_with("No events in namespace nowhere"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("archive: "), "{}", stderr(&out));

    // Corrupted archive objects: each reported with its key, skipped; the rest is printed and
    // the exit status says the answer is partial.
    let listing = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("events/cluster=demo/")
        .send()
        .await
        .unwrap();
    let some_key = listing
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .find(|k| k.ends_with(".json.gz"))
        .expect("archived objects")
        .to_owned();
    let partition = &some_key[..some_key.rfind('/').unwrap() + 1];
    let good_line = {
        let mut line = serde_json::to_string(&versions[0]).unwrap();
        line.push('\n');
        line
    };
    let future = good_line.replace("\"schemaVersion\":1", "\"schemaVersion\":9");
    let truncated = format!("{}\n", &good_line[..good_line.len() / 2]);
    for (name, body) in [
        ("bad-gzip.json.gz", b"this is not gzip".to_vec()),
        ("truncated-line.json.gz", gzip(truncated.as_bytes())),
        ("future-schema.json.gz", gzip(future.as_bytes())),
    ] {
        s3.put_object()
            .bucket(BUCKET)
            .key(format!("{partition}{name}"))
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let out = history(&moto, &args);
    assert_eq!(out.status.code(), Some(3), "partial: {}", stderr(&out));
    assert_eq!(records(&out).len(), got.len(), "the rest is printed");
    let err = stderr(&out);
    for name in [
        "bad-gzip.json.gz",
        "truncated-line.json.gz line 1",
        "future-schema.json.gz line 1",
    ] {
        assert!(
            err.contains(&format!("{partition}{name}")),
            "{name} reported: {err}"
        );
    }
    assert!(err.contains("schema version 9"), "{err}");
    assert!(err.contains("partial answer"), "{err}");

    // A window the archive has no partition for: which partitions were looked for.
    let mut old = vec![
        "events",
        "-n",
        "test",
        "--from",
        "2020-01-01T00:00:00Z",
        "--to",
        "2020-01-01T03:00:00Z",
    ];
    old.extend(archive);
    old.extend(["--source", "archive"]);
    let out = history(&moto, &old);
    assert_failed(&out, 6, "events/cluster=demo/dt=2019-12-31/hour=23/");
    assert!(stdout(&out).is_empty());

    // A bucket that does not exist.
    let mut missing = vec![
        "events", "-n", "test", "--since", "1h", "--source", "archive",
    ];
    missing.extend(["--cluster", "demo", "--bucket", "no-such-bucket"]);
    let out = history(&moto, &missing);
    assert_failed(&out, 5, "\"no-such-bucket\" not found");
}

#[test]
fn no_credentials_is_its_own_error() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"))
        .args([
            "events",
            "--since",
            "1h",
            "--source",
            "archive",
            "--cluster",
            "demo",
        ])
        .args(["--bucket", BUCKET])
        .env("HOME", "/nonexistent")
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("kubectl-eventkeeper: no AWS credentials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
}

#[test]
fn bad_configuration_exits_64_with_one_line() {
    for args in [
        vec![
            "events",
            "--since",
            "soon",
            "--bucket",
            "b",
            "--cluster",
            "c",
        ],
        vec!["events", "--for", "api", "--bucket", "b", "--cluster", "c"],
        vec!["events", "--source", "archive"],
        vec!["events", "--bogus"],
        vec!["why"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"))
            .args(&args)
            .env("HOME", "/nonexistent")
            .env_remove("EVENTKEEPER_BUCKET")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn version_prints_the_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"))
        .arg("version")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        format!("kubectl-eventkeeper {}\n", env!("CARGO_PKG_VERSION"))
    );
}
