//! The notifier binary against real peers: moto (DynamoDB, SNS, EventBridge, SQS, Secrets
//! Manager, SSM) and a local HTTP receiver for Slack, Teams and the signed webhook.

mod support;

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support::*;

/// BackOff on web-1 counting 1..=150 every 20 s, FailedMount on db-0 counting 1..=12, and a
/// Normal event no rule matches: as log event texts of one shipper.
fn incident(shipper: Shipper, start: Timestamp) -> Vec<String> {
    let mut lines = Vec::new();
    for n in 1..=150 {
        let at = start + SignedDuration::from_secs(20 * n);
        lines.push(warning("Pod", "web-1", "BackOff", n, at));
        if n <= 12 {
            lines.push(warning("Pod", "db-0", "FailedMount", n, at));
        }
    }
    lines.push(line(
        eventkeeper_core::fixtures::TestEvent::new().reason("Scheduled"),
    ));
    lines.iter().map(|l| shipper.wrap(l)).collect()
}

/// (object, reason, why) of each notification in a set of generic bodies.
fn steps(bodies: &[Value]) -> Vec<(String, String, Value)> {
    let mut steps: Vec<(String, String, Value)> = notifications(bodies)
        .iter()
        .map(|n| {
            (
                n["object"].as_str().expect("object").to_owned(),
                n["reason"].as_str().expect("reason").to_owned(),
                n["step"].clone(),
            )
        })
        .collect();
    steps.sort_by_key(|s| format!("{s:?}"));
    steps
}

fn expected_steps() -> Vec<(String, String, Value)> {
    let mut expected = vec![
        (
            "Pod/web-1".into(),
            "BackOff".into(),
            json!({"kind": "first"}),
        ),
        (
            "Pod/web-1".into(),
            "BackOff".into(),
            json!({"kind": "threshold", "threshold": 10}),
        ),
        (
            "Pod/web-1".into(),
            "BackOff".into(),
            json!({"kind": "threshold", "threshold": 100}),
        ),
        (
            "Pod/db-0".into(),
            "FailedMount".into(),
            json!({"kind": "first"}),
        ),
        (
            "Pod/db-0".into(),
            "FailedMount".into(),
            json!({"kind": "threshold", "threshold": 10}),
        ),
    ];
    expected.sort_by_key(|s| format!("{s:?}"));
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_layout_gives_exactly_one_message_per_step_to_every_destination() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let start = Timestamp::now() - SignedDuration::from_mins(55);
    for (i, shipper) in Shipper::ALL.into_iter().enumerate() {
        // Each layout in its own cluster, so the groups are new each time.
        let texts: Vec<String> = incident(shipper, start)
            .into_iter()
            .map(|t| t.replace("\"prod\"", &format!("\"prod-{i}\"")))
            .collect();
        // Ten log events per payload: each step arrives in its own invocation (steps reached
        // within one invocation are sent once, as the highest).
        let files = world.payload_files(&format!("{shipper:?}"), &payloads(&texts, 10));
        // The incident spans 50 minutes: none of it is late.
        let output = world.run(&files, &["--late-after-seconds", "3600"]);
        assert_ok(&output);
        assert_eq!(metric(&output, "Matched"), 162, "{shipper:?}");
        assert_eq!(metric(&output, "Late"), 0, "{shipper:?}");
        assert_eq!(metric(&output, "Skipped"), 0, "{shipper:?}");
        assert_eq!(
            metric(&output, "Notified"),
            25,
            "{shipper:?}: 5 steps × 5 destinations"
        );
        assert_eq!(metric(&output, "Suppressed"), 162 - 5);
        assert_eq!(metric(&output, "DeliveryFailures"), 0);

        let webhook: Vec<Value> = world.receiver.bodies("/hook");
        let new = &webhook[webhook.len() - 5..];
        assert_eq!(steps(new), expected_steps(), "{shipper:?}");
        let backoffs = new
            .iter()
            .filter(|b| b["notifications"][0]["reason"] == "BackOff");
        assert!(
            backoffs.count() <= 4,
            "150 BackOff repeats give at most 4 messages"
        );
        for body in new {
            let n = &body["notifications"][0];
            assert_eq!(n["cluster"], format!("prod-{i}"));
            assert_eq!(n["namespace"], "default");
            assert_eq!(n["type"], "Warning");
            assert!(n["message"].as_str().unwrap().contains("happened to"));
            assert!(n["firstSeen"].is_string() && n["lastSeen"].is_string());
            assert!(n["link"].as_str().unwrap().contains("logs-insights"));
            assert_eq!(n["late"], false);
        }
        let hundred = new
            .iter()
            .find(|b| b["notifications"][0]["step"]["threshold"] == 100)
            .expect("the 100 step");
        // The message carries the count at the end of the invocation that crossed 100.
        let count = hundred["notifications"][0]["count"].as_i64().unwrap();
        assert!((100..110).contains(&count), "{count}");
    }
    let webhook_calls = world.receiver.calls("/hook");
    assert_eq!(webhook_calls.len(), 15);
    webhook_calls.iter().for_each(check_signature);

    let slack = world.receiver.calls("/slack");
    assert_eq!(slack.len(), 15);
    slack.iter().for_each(|c| check_block_kit(&c.json()));
    let teams: Vec<Value> = world.receiver.bodies("/teams");
    assert_eq!(teams.len(), 15);
    check_adaptive_cards(&teams);

    let sns = world.drain(&world.sns_queue).await;
    assert_eq!(sns.len(), 15);
    assert_eq!(steps(&sns).len(), 15);
    let events = world.drain(&world.events_queue).await;
    assert_eq!(events.len(), 15);
    for event in &events {
        assert_eq!(event["detail-type"], "Kubernetes Event");
        assert_eq!(event["source"], "eventkeeper");
        assert!(event["detail"]["record"]["involvedObject"]["name"].is_string());
    }
    assert!(world.drain(&world.dlq).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_duplicate_invocation_adds_none() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let start = Timestamp::now() - SignedDuration::from_mins(55);
    let texts = incident(Shipper::FluentBit, start);
    let files = world.payload_files("dup", &payloads(&texts, 10));
    let lease = ["--claim-lease-seconds", "2"];
    // Each finishes, or (when it met the other's fresh claim) asks to be run again: as Lambda
    // would, run it again once the lease is over.
    world.run_twice_at_once(&files, &lease, std::time::Duration::from_secs(3));
    let webhook: Vec<Value> = world.receiver.bodies("/hook");
    assert_eq!(steps(&webhook), expected_steps(), "exactly once per step");
    assert_eq!(world.receiver.calls("/slack").len(), 5);
    // A plain retry of the same batch adds none either.
    assert_ok(&world.run(&files, &[]));
    assert_eq!(world.receiver.calls("/hook").len(), 5);
    assert_eq!(world.drain(&world.sns_queue).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_ends_in_the_dead_letter_queue_with_its_payload() {
    let Some(world) = world("/fail/hook").await else {
        return;
    };
    let at = Timestamp::now();
    let texts =
        vec![Shipper::ContainerInsights.wrap(&warning("Pod", "api-7", "OOMKilling", 1, at))];
    let files = world.payload_files("fail", &payloads(&texts, 25));
    let output = world.run(&files, &["--attempts", "3"]);
    assert_ok(&output);
    assert_eq!(metric(&output, "DeliveryFailures"), 1);
    assert_eq!(
        metric(&output, "Notified"),
        4,
        "the other four destinations got it"
    );
    let attempts = world.receiver.calls("/fail/hook");
    assert_eq!(attempts.len(), 3, "retried with backoff");
    let dead = world.drain(&world.dlq).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["destination"], "webhook");
    assert_eq!(dead[0]["attempts"], 3);
    assert!(dead[0]["error"].as_str().unwrap().contains("500"));
    assert_eq!(
        dead[0]["payload"],
        attempts[0].json(),
        "the payload that failed"
    );
    // Dead-lettered is final: a retry of the batch sends nothing again.
    assert_ok(&world.run(&files, &[]));
    assert_eq!(world.receiver.calls("/fail/hook").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_groups_becomes_one_digest_per_destination() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let at = Timestamp::now();
    let texts: Vec<String> = (0..47)
        .map(|i| Shipper::Vector.wrap(&warning("Pod", &format!("batch-{i:02}"), "Evicted", 1, at)))
        .collect();
    let files = world.payload_files("burst", &payloads(&texts, 100));
    let output = world.run(&files, &[]);
    assert_ok(&output);
    assert_eq!(metric(&output, "Digests"), 4, "slack, teams, webhook, sns");
    let slack = world.receiver.calls("/slack");
    assert_eq!(slack.len(), 1);
    check_block_kit(&slack[0].json());
    assert!(slack[0].body.contains("37 more"), "{}", slack[0].body);
    let teams: Vec<Value> = world.receiver.bodies("/teams");
    assert_eq!(teams.len(), 1);
    check_adaptive_cards(&teams);
    let hook = world.receiver.calls("/hook");
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0].json()["kind"], "digest");
    assert_eq!(
        hook[0].json()["notifications"].as_array().unwrap().len(),
        47
    );
    assert_eq!(world.drain(&world.sns_queue).await.len(), 1);
    // Machines get every event: EventBridge is never digested.
    assert_eq!(world.drain(&world.events_queue).await.len(), 47);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_counted_skip_and_never_fails_the_batch() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let good = warning("Pod", "ok-1", "Unhealthy", 1, Timestamp::now());
    let mut future: Value = serde_json::from_str(&good).unwrap();
    future["schemaVersion"] = json!(2);
    let texts = vec![
        Shipper::FluentBit.wrap(&good),
        good[..good.len() / 2].to_owned(),
        Shipper::FluentBit.wrap(&future.to_string()),
        json!({"log": "plain", "unknown": {"x": 1}}).to_string(),
        "a plain log line".to_owned(),
    ];
    let mut events = payloads(&texts, 10);
    events.push(json!({"awslogs": {"data": "bm90IGd6aXA="}}));
    events.push(json!({"unexpected": true}));
    let files = world.payload_files("bad", &events);
    let output = world.run(&files, &[]);
    assert_ok(&output);
    assert_eq!(metric(&output, "Skipped"), 4 + 2);
    assert_eq!(metric(&output, "Matched"), 1);
    assert_eq!(world.receiver.calls("/hook").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_left_by_a_crash_is_sent_again_never_lost() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let at = Timestamp::now();
    let texts = vec![Shipper::FluentBit.wrap(&warning("Node", "n-1", "NodeNotReady", 1, at))];
    let files = world.payload_files("crash", &payloads(&texts, 10));
    // The first run claims and sends; then rewrite the group as a crash between the claim
    // and the send would have left it: the pending claim still there.
    assert_ok(&world.run(&files, &[]));
    assert_eq!(world.receiver.calls("/hook").len(), 1);
    let sent = world.receiver.calls("/hook")[0].json()["notifications"][0].clone();
    let dynamo = aws_sdk_dynamodb::Client::new(&world.aws);
    let key = "prod/Node/default/n-1/NodeNotReady";
    let item = dynamo
        .get_item()
        .table_name(&world.table)
        .key("pk", AttributeValue::S(key.into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("group stored");
    let mut state: Value = serde_json::from_str(item["state"].as_s().unwrap()).unwrap();
    assert!(state.get("pending").is_none(), "cleared after the send");
    let rewrite = |state: &Value, rev: u64| {
        dynamo
            .put_item()
            .table_name(&world.table)
            .item("pk", AttributeValue::S(key.into()))
            .item("rev", AttributeValue::N(rev.to_string()))
            .item("state", AttributeValue::S(state.to_string()))
            .item("expiresAt", AttributeValue::N("4102444800".into()))
            .send()
    };
    let deliveries: Vec<Value> = ["webhook", "slack"]
        .iter()
        .map(|d| json!({"destination": d, "notification": sent}))
        .collect();
    // A fresh claim belongs to a running invocation: leave it, ask to be run again.
    state["pending"] = json!({"claimedAt": Timestamp::now().to_string(), "deliveries": deliveries});
    rewrite(&state, 10).await.unwrap();
    let busy = world.run(&files, &[]);
    assert_eq!(busy.status.code(), Some(75), "retry later");
    assert_eq!(world.receiver.calls("/hook").len(), 1);
    // A claim older than the lease was left by a crash: taken over and sent again.
    let old = Timestamp::now() - SignedDuration::from_mins(10);
    state["pending"]["claimedAt"] = json!(old.to_string());
    rewrite(&state, 11).await.unwrap();
    let output = world.run(&files, &[]);
    assert_ok(&output);
    assert_eq!(metric(&output, "Resent"), 2);
    assert_eq!(world.receiver.calls("/hook").len(), 2);
    assert_eq!(world.receiver.calls("/slack").len(), 2);
    assert_eq!(
        world.receiver.calls("/hook")[1].json()["notifications"][0],
        sent
    );
    // Cleared: a further retry sends nothing.
    assert_ok(&world.run(&files, &[]));
    assert_eq!(world.receiver.calls("/hook").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_records_are_notified_marked_late() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let old = Timestamp::now() - SignedDuration::from_hours(3);
    let texts = vec![Shipper::Vector.wrap(&warning("Pod", "batch-1", "FailedCreate", 1, old))];
    let files = world.payload_files("late", &payloads(&texts, 10));
    let output = world.run(&files, &[]);
    assert_ok(&output);
    assert_eq!(metric(&output, "Late"), 1);
    let hook = world.receiver.calls("/hook");
    assert_eq!(hook[0].json()["notifications"][0]["late"], true);
    assert!(world.receiver.calls("/slack")[0].body.contains("[late]"));
}

/// Several thresholds crossed in one invocation: one message, the highest step with the latest
/// count; the skipped steps are never sent later, and the next threshold still is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_thresholds_in_one_invocation_send_only_the_highest() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let start = Timestamp::now() - SignedDuration::from_mins(30);
    let at = |n: i64| start + SignedDuration::from_secs(n);
    // First sight, 10 and 100 in one batch; then more repeats; then 1000.
    let first: Vec<String> = (1..=120)
        .map(|n| Shipper::FluentBit.wrap(&warning("Pod", "jump-1", "BackOff", n, at(n))))
        .collect();
    let more = vec![Shipper::FluentBit.wrap(&warning("Pod", "jump-1", "BackOff", 500, at(600)))];
    let last = vec![Shipper::FluentBit.wrap(&warning("Pod", "jump-1", "BackOff", 1001, at(900)))];
    let files = [
        world.payload_files("jump-a", &payloads(&first, 200)),
        world.payload_files("jump-b", &payloads(&more, 10)),
        world.payload_files("jump-c", &payloads(&last, 10)),
    ]
    .concat();
    assert_eq!(files.len(), 3);
    let output = world.run(&files, &["--late-after-seconds", "3600"]);
    assert_ok(&output);
    let hook: Vec<Value> = world.receiver.bodies("/hook");
    assert_eq!(hook.len(), 2, "{hook:?}");
    let n = &hook[0]["notifications"][0];
    assert_eq!(n["step"], json!({"kind": "threshold", "threshold": 100}));
    assert_eq!(n["count"], 120, "the message carries the latest count");
    assert_eq!(n["stepNumber"], 1, "the first message of the group");
    let n = &hook[1]["notifications"][0];
    assert_eq!(n["step"], json!({"kind": "threshold", "threshold": 1000}));
    assert_eq!(n["count"], 1001);
}

#[test]
fn bad_configuration_exits_64_with_one_line() {
    for (env, value) in [
        (
            "EVENTKEEPER_NOTIFY_DESTINATIONS",
            r#"[{"kind":"slack","name":"s","secret":"https://hooks.slack.com/x"}]"#,
        ),
        (
            "EVENTKEEPER_NOTIFY_RULES",
            r#"[{"name":"x","match":"colour=red"}]"#,
        ),
        ("EVENTKEEPER_NOTIFY_THRESHOLDS", "100,10"),
        ("EVENTKEEPER_LOG_FORMAT", "xml"),
    ] {
        let mut vars = BTreeMap::from([
            ("EVENTKEEPER_NOTIFY_TABLE", "t"),
            (
                "EVENTKEEPER_NOTIFY_DESTINATIONS",
                r#"[{"kind":"sns","name":"t","topicArn":"arn:aws:sns:us-east-1:1:t"}]"#,
            ),
        ]);
        vars.insert(env, value);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_eventkeeper-notify"))
            .env_clear()
            .envs(vars)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(64), "{env}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(output.stdout.is_empty());
    }
}
