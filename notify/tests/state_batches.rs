//! Group state read and claimed a batch at a time, against moto: BatchGetItem beyond 100 keys and
//! with keys left unprocessed, and TransactWriteItems cancelled because a concurrent invocation
//! claimed some of the batch's groups first. (Throttling, which moto never does, is tested with
//! fakes in `batch_calls`.)

mod support;

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use clap::Parser;
use eventkeeper_notify::config::Config;
use eventkeeper_notify::dead_letter::DeadLetterQueue;
use eventkeeper_notify::destination::{Destination, HttpClient};
use eventkeeper_notify::notifier::Notifier;
use eventkeeper_notify::secrets::Secrets;
use eventkeeper_notify::state::{
    DynamoState, GroupState, Saved, StateError, StateStore, Stored, Write,
};
use jiff::Timestamp;
use serde_json::Value;
use support::*;

/// `count` groups, one Warning each, as log event texts.
fn groups(prefix: &str, count: usize) -> Vec<String> {
    let at = Timestamp::now();
    (0..count)
        .map(|i| {
            Shipper::FluentBit.wrap(&warning(
                "Pod",
                &format!("{prefix}-{i:03}"),
                "Unhealthy",
                1,
                at,
            ))
        })
        .collect()
}

/// The objects of the webhook's notifications, sorted.
fn notified_objects(world: &World) -> Vec<String> {
    let mut objects: Vec<String> = world
        .receiver
        .calls("/hook")
        .iter()
        .flat_map(|c| c.json()["notifications"].as_array().unwrap().clone())
        .map(|n| n["object"].as_str().unwrap().to_owned())
        .collect();
    objects.sort();
    objects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_more_than_100_groups_is_read_and_claimed_in_several_calls() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let files = world.payload_files("wide", &payloads(&groups("wide", 130), 200));
    let output = world.run(&files, &["--burst-limit", "1000"]);
    assert_ok(&output);
    assert_eq!(metric(&output, "Matched"), 130);
    let expected: Vec<String> = (0..130).map(|i| format!("Pod/wide-{i:03}")).collect();
    assert_eq!(notified_objects(&world), expected, "each group once");
    assert_eq!(world.stored_groups().await, 130);
    // The retry reads all 130 back (moto refuses more than 100 keys in one BatchGetItem): every
    // group is found, none is taken for new, nothing is sent again.
    let retry = world.run(&files, &["--burst-limit", "1000"]);
    assert_ok(&retry);
    assert_eq!(metric(&retry, "Suppressed"), 130);
    assert_eq!(world.receiver.calls("/hook").len(), 130);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_dynamodb_leaves_unprocessed_are_read_again_never_taken_for_new() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let client = aws_sdk_dynamodb::Client::new(&world.aws);
    // 50 items of 380 kB: more than one BatchGetItem answer may carry (16 MB).
    let padding = "x".repeat(380_000);
    let state = serde_json::to_string(&GroupState::default()).unwrap();
    let keys: Vec<String> = (0..50).map(|i| format!("big/{i:02}")).collect();
    for (i, key) in keys.iter().enumerate() {
        client
            .put_item()
            .table_name(&world.table)
            .item("pk", AttributeValue::S(key.clone()))
            .item("rev", AttributeValue::N((i + 1).to_string()))
            .item("state", AttributeValue::S(state.clone()))
            .item("padding", AttributeValue::S(padding.clone()))
            .send()
            .await
            .unwrap();
    }
    // The peer does leave keys unprocessed here (else this test would prove nothing).
    let raw = client
        .batch_get_item()
        .request_items(
            &world.table,
            KeysAndAttributes::builder()
                .set_keys(Some(
                    keys.iter()
                        .map(|k| [("pk".to_owned(), AttributeValue::S(k.clone()))].into())
                        .collect(),
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let unprocessed = raw.unprocessed_keys.unwrap_or_default();
    assert!(
        unprocessed
            .get(&world.table)
            .is_some_and(|k| !k.keys.is_empty()),
        "moto left no key unprocessed"
    );
    let store = DynamoState::new(client, &world.table, 4);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let loaded = store.load_all(&refs).await.expect("read");
    assert_eq!(loaded.len(), 50);
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(loaded[key].revision, i as u64 + 1, "{key}");
    }
}

/// The production store, except that just before its first write it runs another invocation
/// (the notifier binary) to completion: that one claims and sends some of the same groups after
/// this one read them and before it claims them.
struct RaceStore {
    inner: DynamoState,
    rival: Mutex<Option<std::process::Command>>,
}

impl StateStore for RaceStore {
    async fn load_all(
        &self,
        keys: &[&str],
    ) -> Result<std::collections::HashMap<String, Stored>, StateError> {
        self.inner.load_all(keys).await
    }

    async fn save_all(&self, writes: &[Write<'_>]) -> Vec<Result<Saved, StateError>> {
        let rival = self.rival.lock().unwrap().take();
        if let Some(mut rival) = rival {
            let output = tokio::task::block_in_place(|| rival.output().expect("rival runs"));
            assert_ok(&output);
            assert_eq!(
                metric(&output, "Notified"),
                3 * 5,
                "the rival sends its 3 groups"
            );
        }
        self.inner.save_all(writes).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_invocation_winning_some_claims_leaves_the_loser_the_others() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let texts = groups("race", 8);
    let batch = payloads(&texts, 100).remove(0);
    // The rival gets groups 0-2 of the same records.
    let rival_files = world.payload_files("rival", &payloads(&texts[..3], 100));
    let mut rival = world.command(&["--burst-limit", "100"]);
    for file in &rival_files {
        rival.arg("--payload").arg(file);
    }

    let config = Config::try_parse_from([
        "eventkeeper-notify",
        "--table",
        &world.table,
        "--destinations",
        &world.destinations.to_string(),
        "--burst-limit",
        "100",
        "--first-retry-ms",
        "10",
    ])
    .expect("configuration");
    let (specs, rules) = config.validate().expect("valid");
    let secrets = Secrets::new(&world.aws);
    let mut destinations = std::collections::HashMap::new();
    for spec in &specs {
        let destination = Destination::ready(spec, &world.aws, &secrets)
            .await
            .expect("destination");
        destinations.insert(spec.name().to_owned(), destination);
    }
    let notifier = Notifier {
        store: RaceStore {
            inner: DynamoState::new(aws_sdk_dynamodb::Client::new(&world.aws), &world.table, 4),
            rival: Mutex::new(Some(rival)),
        },
        rules,
        destinations,
        dead_letters: Some(DeadLetterQueue::new(
            aws_sdk_sqs::Client::new(&world.aws),
            &world.dlq,
        )),
        http: HttpClient::new(Duration::from_secs(5)).expect("http"),
        settings: config.settings("us-east-1".into()),
    };
    let (counts, result) = notifier.handle(&batch, Timestamp::now()).await;
    result.expect("the loser finishes its batch");
    assert!(
        notifier.store.rival.lock().unwrap().is_none(),
        "the rival ran"
    );
    // Its transaction lost the rival's three groups: it read them again, found their step sent,
    // and sent none of them; the five others it sent to every destination.
    assert_eq!(counts.suppressed, 3);
    assert_eq!(counts.notified, 5 * 5);
    let expected: Vec<String> = (0..8).map(|i| format!("Pod/race-{i:03}")).collect();
    assert_eq!(
        notified_objects(&world),
        expected,
        "each group exactly once"
    );
    assert_eq!(world.receiver.calls("/slack").len(), 8);
    let events: Vec<Value> = world.drain(&world.events_queue).await;
    assert_eq!(events.len(), 8);
    assert!(world.drain(&world.dlq).await.is_empty());
}

/// A state whose episode carries `steps`, to tell writes apart.
fn state_with(steps: u64) -> GroupState {
    let mut state = GroupState::default();
    state.episode.steps = steps;
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_settles_exactly_the_writes_whose_condition_failed() {
    let Some(world) = world("/hook").await else {
        return;
    };
    let store = DynamoState::new(aws_sdk_dynamodb::Client::new(&world.aws), &world.table, 4);
    let expires_at = Timestamp::now() + jiff::SignedDuration::from_hours(1);
    // 150 groups already stored at revision 1: two transactions' worth.
    let keys: Vec<String> = (0..150).map(|i| format!("tx/{i:03}")).collect();
    let first = state_with(1);
    let writes: Vec<Write<'_>> = keys
        .iter()
        .map(|key| Write {
            key,
            state: &first,
            expected: None,
            expires_at,
        })
        .collect();
    let saved = store.save_all(&writes).await;
    assert!(saved.iter().all(|s| matches!(s, Ok(Saved::Written(1)))));

    // Writes that lost to a rival: a stale revision in the first transaction, "new" groups
    // that exist in the second. Everything else goes through, once.
    let losers = [7usize, 120, 149];
    let second = state_with(2);
    let writes: Vec<Write<'_>> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| Write {
            key,
            state: &second,
            expected: match i {
                7 => Some(0),
                120 | 149 => None,
                _ => Some(1),
            },
            expires_at,
        })
        .collect();
    let saved = store.save_all(&writes).await;
    for (i, saved) in saved.iter().enumerate() {
        let expected = if losers.contains(&i) {
            Saved::Conflict
        } else {
            Saved::Written(2)
        };
        assert_eq!(saved.as_ref().ok(), Some(&expected), "write {i}");
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let stored = store.load_all(&refs).await.expect("read");
    for (i, key) in keys.iter().enumerate() {
        let (revision, steps) = if losers.contains(&i) { (1, 1) } else { (2, 2) };
        assert_eq!(stored[key].revision, revision, "{key}");
        assert_eq!(stored[key].state.episode.steps, steps, "{key}");
    }
}

/// A world whose destinations digest: Slack, Teams, the webhook and SNS. (EventBridge sends one
/// event per notification, which only makes the test slower.)
async fn digesting_world() -> Option<World> {
    let mut world = world("/hook").await?;
    let destinations: Vec<Value> = world
        .destinations
        .as_array()
        .expect("destinations")
        .iter()
        .filter(|d| d["kind"] != "eventbridge")
        .cloned()
        .collect();
    world.destinations = Value::Array(destinations);
    Some(world)
}

/// 260 groups, one Warning each, in one subscription payload.
fn burst_of_260(world: &World, name: &str) -> Vec<std::path::PathBuf> {
    world.payload_files(name, &payloads(&groups(name, 260), 260))
}

/// Asserts each of the 260 groups reached every destination exactly once: in one digest per
/// invocation that claimed groups (at most `invocations`; concurrent invocations can split the
/// claims between them) for the webhook, Slack and Teams; in digests within SNS's 256 KiB
/// message limit for SNS.
async fn each_of_260_notified_once(world: &World, name: &str, invocations: usize) {
    let expected: Vec<String> = (0..260).map(|i| format!("Pod/{name}-{i:03}")).collect();
    let digests = world.receiver.calls("/hook").len();
    assert!(
        (1..=invocations).contains(&digests),
        "one webhook digest per invocation, at most {invocations}: {digests}"
    );
    assert_eq!(notified_objects(world), expected, "each group once");
    assert_eq!(
        world.receiver.calls("/slack").len(),
        digests,
        "Slack digests"
    );
    assert_eq!(
        world.receiver.calls("/teams").len(),
        digests,
        "Teams digests"
    );
    let sns = world.drain(&world.sns_queue).await;
    assert!(sns.len() >= 2, "260 notifications are past one SNS message");
    assert!(sns.iter().all(|d| d["kind"] == "digest"));
    let mut objects: Vec<String> = notifications(&sns)
        .iter()
        .map(|n| n["object"].as_str().unwrap().to_owned())
        .collect();
    objects.sort();
    assert_eq!(objects, expected, "each group once over SNS");
    assert!(
        world.drain(&world.dlq).await.is_empty(),
        "nothing dead-lettered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_260_new_groups_notifies_each_once_and_a_retry_adds_nothing() {
    let Some(world) = digesting_world().await else {
        return;
    };
    let files = burst_of_260(&world, "burst");
    let output = world.run(&files, &[]);
    assert_ok(&output);
    assert_eq!(metric(&output, "Matched"), 260);
    assert_eq!(metric(&output, "DeliveryFailures"), 0);
    let sns_digests = metric(&output, "Digests") - 3;
    assert!(sns_digests >= 2, "SNS gets the burst in digests that fit");
    assert_eq!(metric(&output, "Notified"), 3 + sns_digests);
    let retry = world.run(&files, &[]);
    assert_ok(&retry);
    assert_eq!(metric(&retry, "Suppressed"), 260);
    assert_eq!(metric(&retry, "Notified"), 0);
    each_of_260_notified_once(&world, "burst", 1).await;
    assert_eq!(world.stored_groups().await, 260);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_260_new_groups_run_twice_at_once_notifies_each_once() {
    let Some(world) = digesting_world().await else {
        return;
    };
    let files = burst_of_260(&world, "twice");
    world.run_twice_at_once(
        &files,
        &["--claim-lease-seconds", "2"],
        Duration::from_secs(3),
    );
    each_of_260_notified_once(&world, "twice", 2).await;
}
