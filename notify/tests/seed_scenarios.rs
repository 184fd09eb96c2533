//! End to end with real pieces, once per layout: the simulator replays the seed scenarios
//! (scenario-a FailedMount, scenario-b image pull and BackOff, scenario-c, mega-pod and
//! intolerable-pod FailedScheduling) for 50 simulated minutes; the real emitter writes its
//! lines; each line is wrapped as that layout's shipper wraps it and cut into CloudWatch Logs
//! subscription payloads of one simulated minute each; the real notifier binary handles them
//! against moto (DynamoDB, SNS, EventBridge, SQS, Secrets Manager, SSM) and a local webhook
//! receiver, one of whose webhooks always fails.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use eventkeeper_tests::peers::{EmitterProcess, SimProcess, read_records, wait_until};
use eventkeeper_tests::shipper;
use eventkeeper_tests::tally::tally_records;
use serde_json::{Value, json};
use support::*;

/// Simulated seconds the scenarios run: 150 BackOff repeats, one every 20 s.
const RUN_SECONDS: u64 = 3000;
/// One subscription payload per simulated minute of records.
const WINDOW_MS: i64 = 60_000;
/// Destinations that send a digest past the burst limit (all but EventBridge).
const DIGESTING: usize = 5;

const POD_A: &str = "Pod/scenario-a-7f6b9d8c5-2kx4q";
const POD_B: &str = "Pod/scenario-b-cff56c84-xn9hh";
const POD_C: &str = "Pod/scenario-c-6d988b8d84-gghjv";

/// The emitter's stdout for the seed scenarios, and the simulator's clock at the end.
struct SeedRun {
    lines: Vec<Value>,
    end: String,
}

/// Runs the simulator and the real emitter; returns once the emitter wrote the latest version
/// of every Event the simulator holds.
fn seed_run() -> SeedRun {
    let sim = SimProcess::start(&["--scenario", "seeds"]);
    let out = sim.dir.path().join("emitter.jsonl");
    let emitter = EmitterProcess::start(&sim.kubeconfig, "notify-e2e", &out, &[]);
    emitter.wait_leader(Duration::from_secs(20));
    // Every version the watch delivers is a line (each repeat its own line, as in a cluster);
    // the emitter catches up every five simulated minutes, within the compaction window.
    for step in 1..=RUN_SECONDS / 20 {
        sim.post("/_sim/clock", json!({"advanceSeconds": 20}));
        if step % 15 == 0 {
            wait_for_latest_versions(&sim, &out);
        }
    }
    let end = sim.status()["clock"].as_str().expect("clock").to_owned();
    let lines = read_records(&out);
    SeedRun { lines, end }
}

fn wait_for_latest_versions(sim: &SimProcess, out: &std::path::Path) {
    let list: Value =
        serde_json::from_str(&sim.admin("GET", "/api/v1/events", None)).expect("Event list");
    let latest: Vec<(String, String)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            let text = |f: &str| e["metadata"][f].as_str().unwrap_or_default().to_owned();
            (text("uid"), text("resourceVersion"))
        })
        .collect();
    wait_until(
        Duration::from_secs(30),
        "the emitter to write every Event's latest version",
        || {
            let written = tally_records(&read_records(out));
            latest
                .iter()
                .all(|key| written.contains_key(key))
                .then_some(())
        },
    );
}

/// Whether the default rule set notifies this record (written out independently of the code).
fn notifiable(record: &Value) -> bool {
    match record["reason"].as_str().unwrap_or("") {
        "BackOff" | "CrashLoopBackOff" | "FailedScheduling" | "FailedMount" => true,
        "Failed" | "ErrImagePull" | "ImagePullBackOff" => record["type"] == "Warning",
        _ => false,
    }
}

/// The highest count per (object, reason) among notifiable lines.
fn final_counts(lines: &[Value]) -> BTreeMap<(String, String), i64> {
    let mut counts = BTreeMap::new();
    for record in lines.iter().filter(|r| notifiable(r)) {
        let o = &record["involvedObject"];
        let key = (
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            ),
            record["reason"].as_str().unwrap().to_owned(),
        );
        let count = record["occurrences"].as_i64().expect("occurrences");
        let entry = counts.entry(key).or_insert(0);
        *entry = count.max(*entry);
    }
    counts
}

/// (object, reason, step) as the generic body writes them, sorted.
type StepKey = (String, String, String);

fn step_key(n: &Value) -> StepKey {
    let step = match n["step"]["kind"].as_str().expect("step kind") {
        "threshold" => format!("threshold {}", n["step"]["threshold"]),
        other => other.to_owned(),
    };
    (
        n["object"].as_str().expect("object").to_owned(),
        n["reason"].as_str().expect("reason").to_owned(),
        step,
    )
}

/// What thresholds 10, 100, 1000 and a quiet period of an hour imply for 50 minutes of the
/// seeds: each group once when first seen, then once per threshold its count reached; no
/// episode ends (no group is quiet for an hour).
fn expected_steps() -> Vec<StepKey> {
    let mut steps = Vec::new();
    let mut add = |object: &str, reason: &str, thresholds: &[i64]| {
        steps.push((object.to_owned(), reason.to_owned(), "first".to_owned()));
        for t in thresholds {
            steps.push((
                object.to_owned(),
                reason.to_owned(),
                format!("threshold {t}"),
            ));
        }
    };
    add(POD_A, "FailedMount", &[10]);
    add(POD_B, "Failed", &[10, 100]);
    add(POD_B, "BackOff", &[10, 100]);
    add(POD_C, "FailedScheduling", &[10]);
    add("Pod/mega-pod", "FailedScheduling", &[10]);
    add("Pod/intolerable-pod", "FailedScheduling", &[10]);
    steps.sort();
    steps
}

/// Every notification carried by generic bodies (singles and digests), sorted.
fn carried(bodies: &[Value]) -> Vec<StepKey> {
    let mut steps: Vec<StepKey> = notifications(bodies).iter().map(step_key).collect();
    steps.sort();
    steps
}

/// Invocation events of one layout: one payload per simulated minute of records.
fn invocations(lines: &[Value], shipper: Shipper) -> Vec<Value> {
    let events: Vec<(i64, String)> = lines
        .iter()
        .map(|record| {
            let at: jiff::Timestamp = record["effectiveTime"]
                .as_str()
                .expect("effectiveTime")
                .parse()
                .expect("RFC 3339");
            (at.as_millisecond(), shipper.wrap(&record.to_string()))
        })
        .collect();
    shipper::batches(&events, WINDOW_MS)
        .iter()
        .map(|batch| shipper::subscription_event(&shipper.log_group("demo"), "emitter", batch))
        .collect()
}

/// Adds a generic webhook whose endpoint always answers 500.
async fn add_broken_webhook(world: &mut World) {
    let secret = aws_sdk_secretsmanager::Client::new(&world.aws)
        .create_secret()
        .name("broken")
        .secret_string(
            json!({"url": format!("{}/fail/broken", world.receiver.url), "signingKey": SIGNING_KEY})
                .to_string(),
        )
        .send()
        .await
        .expect("secret")
        .arn
        .expect("arn");
    world
        .destinations
        .as_array_mut()
        .expect("list")
        .push(json!({"kind": "webhook", "name": "broken", "secret": secret}));
}

#[test]
fn seed_scenarios_notify_each_step_once_in_every_layout() {
    let Some(probe) = eventkeeper_tests::peers::MotoServer::start() else {
        return;
    };
    drop(probe);
    let started = std::time::Instant::now();
    let seeds = seed_run();
    eprintln!("seed run: {:?}", started.elapsed());
    let counts = final_counts(&seeds.lines);
    // The expected set below holds for these counts: check them, not assume them.
    let count = |object: &str, reason: &str| counts[&(object.to_owned(), reason.to_owned())];
    assert!((100..1000).contains(&count(POD_B, "BackOff")), "{counts:?}");
    assert!(
        (150..=160).contains(&count(POD_B, "BackOff")),
        "~150 BackOff repeats"
    );
    assert!((100..1000).contains(&count(POD_B, "Failed")), "{counts:?}");
    for object in [POD_C, "Pod/mega-pod", "Pod/intolerable-pod"] {
        assert!(
            (10..100).contains(&count(object, "FailedScheduling")),
            "{counts:?}"
        );
    }
    assert!(
        (10..100).contains(&count(POD_A, "FailedMount")),
        "{counts:?}"
    );
    assert_eq!(counts.len(), 6, "{counts:?}");
    let matched = seeds.lines.iter().filter(|r| notifiable(r)).count() as i64;
    let expected = expected_steps();
    // The layouts are independent (a moto each): check them side by side.
    std::thread::scope(|scope| {
        let checks: Vec<_> = Shipper::ALL
            .into_iter()
            .map(|shipper| {
                let (seeds, expected) = (&seeds, &expected);
                scope.spawn(move || {
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .enable_all()
                        .build()
                        .expect("runtime")
                        .block_on(check_layout(shipper, seeds, expected, matched, started))
                })
            })
            .collect();
        for check in checks {
            if let Err(panic) = check.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// Every assertion for one layout, in its own moto.
async fn check_layout(
    shipper: Shipper,
    seeds: &SeedRun,
    expected: &[StepKey],
    matched: i64,
    started: std::time::Instant,
) {
    // Steps per payload: the six first sightings share the first minute (a digest), the
    // thresholds arrive in later minutes, a few at a time (single messages).
    let singles = expected.len() - 6;
    {
        let mut world = world("/hook").await.expect("moto");
        add_broken_webhook(&mut world).await;
        let files =
            world.payload_files(&format!("{shipper:?}"), &invocations(&seeds.lines, shipper));
        // Judged at the end of the run; the run spans 50 minutes, none of it is late.
        let common = [
            "--now",
            &seeds.end,
            "--late-after-seconds",
            "3600",
            "--claim-lease-seconds",
            "2",
        ];

        let output = world.run(&files, &common);
        eprintln!("{shipper:?} first run done: {:?}", started.elapsed());
        assert_ok(&output);
        assert_eq!(metric(&output, "Skipped"), 0, "{shipper:?}");
        assert_eq!(metric(&output, "Matched"), matched, "{shipper:?}");
        assert_eq!(metric(&output, "Late"), 0, "{shipper:?}");
        let messages = 1 + singles;
        assert_eq!(
            metric(&output, "Notified"),
            ((DIGESTING - 1) * messages + expected.len()) as i64,
            "{shipper:?}: a digest and {singles} singles to each digesting destination but the broken one, every step to EventBridge"
        );
        assert_eq!(
            metric(&output, "DeliveryFailures"),
            messages as i64,
            "{shipper:?}"
        );

        let hook: Vec<Value> = world.receiver.bodies("/hook");
        assert_eq!(
            carried(&hook),
            expected,
            "{shipper:?}: exactly the implied steps"
        );
        assert_eq!(hook.len(), messages, "{shipper:?}");
        assert_eq!(
            hook[0]["kind"], "digest",
            "{shipper:?}: six groups in the first minute"
        );
        assert_eq!(hook[0]["notifications"].as_array().unwrap().len(), 6);
        assert!(hook[1..].iter().all(|b| b["kind"] == "notification"));
        let backoff_messages = hook
            .iter()
            .filter(|b| b.to_string().contains("\"reason\":\"BackOff\""))
            .count();
        assert!(
            backoff_messages <= 4,
            "{shipper:?}: 150 BackOff repeats gave {backoff_messages} messages"
        );
        for body in &hook {
            for n in body["notifications"].as_array().unwrap() {
                assert_eq!(n["cluster"], "demo");
                assert_eq!(n["late"], false);
                assert!(n["link"].as_str().unwrap().contains("logs-insights"));
            }
        }
        world
            .receiver
            .calls("/hook")
            .iter()
            .for_each(check_signature);
        let slack = world.receiver.calls("/slack");
        assert_eq!(slack.len(), messages, "{shipper:?}");
        slack.iter().for_each(|c| check_block_kit(&c.json()));
        let teams: Vec<Value> = world.receiver.bodies("/teams");
        assert_eq!(teams.len(), messages, "{shipper:?}");
        check_adaptive_cards(&teams);
        let sns = world.drain(&world.sns_queue).await;
        assert_eq!(carried(&sns), *expected, "{shipper:?}");
        let events = world.drain(&world.events_queue).await;
        let detail: Vec<Value> = events
            .iter()
            .map(|e| json!({"notifications": [e["detail"]]}))
            .collect();
        assert_eq!(
            carried(&detail),
            expected,
            "{shipper:?}: one EventBridge event per step"
        );

        // The broken webhook: every message retried, then dead-lettered with its payload.
        let failed = world.receiver.calls("/fail/broken");
        assert_eq!(
            failed.len(),
            3 * messages,
            "{shipper:?}: three attempts each"
        );
        let dead = world.drain(&world.dlq).await;
        assert_eq!(dead.len(), messages, "{shipper:?}");
        let sent: BTreeSet<String> = failed.iter().map(|c| c.json().to_string()).collect();
        for letter in &dead {
            assert_eq!(letter["destination"], "broken");
            assert_eq!(letter["attempts"], 3);
            assert!(sent.contains(&letter["payload"].to_string()), "{letter}");
        }
        let dead_payloads: Vec<Value> = dead.iter().map(|d| d["payload"].clone()).collect();
        assert_eq!(
            carried(&dead_payloads),
            expected,
            "{shipper:?}: nothing lost"
        );

        // The same batches again (a retried invocation): nothing new anywhere.
        let again = world.run(&files, &common);
        assert_ok(&again);
        assert_eq!(metric(&again, "Notified"), 0, "{shipper:?}");
        assert_eq!(world.receiver.calls("/hook").len(), messages);
        assert!(world.drain(&world.dlq).await.is_empty());

        // A concurrent duplicate from the start (two invocations of every batch at once, on a
        // fresh state table): still exactly one notification per step.
        create_table(&world.aws, "race").await;
        let mut race_args = common.to_vec();
        race_args.extend(["--table", "race"]);
        world.run_twice_at_once(&files, &race_args, Duration::from_millis(1500));
        eprintln!("{shipper:?} race done: {:?}", started.elapsed());
        let raced: Vec<Value> = world.receiver.calls("/hook")[messages..]
            .iter()
            .map(Call::json)
            .collect();
        assert_eq!(
            carried(&raced),
            expected,
            "{shipper:?}: the duplicate added none"
        );
        let events = world.drain(&world.events_queue).await;
        assert_eq!(events.len(), expected.len(), "{shipper:?}");
        let dead: Vec<Value> = world
            .drain(&world.dlq)
            .await
            .iter()
            .map(|d| d["payload"].clone())
            .collect();
        assert_eq!(
            carried(&dead),
            expected,
            "{shipper:?}: each failed step dead-lettered once"
        );
    }
}
