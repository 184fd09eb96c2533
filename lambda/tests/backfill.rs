//! The CloudWatch backfill with real peers: the simulator and the emitter as processes, moto
//! server's CloudWatch Logs on 127.0.0.1, and the catch-up as its binary (or, where a test must
//! step in between two phases of a run, as the library).
//!
//! Every test compares the union of the emitter's stdout and the backfill stream with the
//! simulator's record of every observation: each exactly once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use eventkeeper_catchup::testing::backfill::CloudWatchSink;
use eventkeeper_catchup::testing::backfill::Envelope;
use eventkeeper_catchup::testing::backfill::{
    Backfill, BackfillConfig, BackfillError, Decision, Preparation, Taken,
};
use eventkeeper_catchup::testing::backfill::{LeaseHandoff, PendingBatch};
use eventkeeper_catchup::testing::backfill::{Limits, plan};
use eventkeeper_catchup::testing::cluster::{ClusterConnector, ClusterTarget};
use eventkeeper_tests::peers::{EmitterProcess, MotoServer, SimProcess, wait_until};
use eventkeeper_tests::tally::{Tally, tally_observations, tally_records};
use serde_json::{Value, json};

const GROUP: &str = "/aws/containerinsights/demo/application";
const STREAM: &str = "eventkeeper-catchup";
const LEASE_NAMESPACE: &str = "default";
const LEASE_NAME: &str = "eventkeeper";

mod common;
use common::catchup_command;
use eventkeeper_tests::aws::moto_sdk_config;

async fn logs_client(moto: &MotoServer) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&moto_sdk_config(moto).await)
}

async fn sink(moto: &MotoServer) -> CloudWatchSink {
    CloudWatchSink::new(logs_client(moto).await, GROUP, STREAM)
}

/// A backfill into moto's events group, holding the Lease `hold` between renewals.
async fn backfill_into(moto: &MotoServer, hold: Duration, limits: Limits) -> Backfill {
    Backfill::new(sink(moto).await, backfill_config(hold, limits))
}

/// CloudWatch's limits, except at most `max_events` events a PutLogEvents call.
fn at_most(max_events: usize) -> Limits {
    Limits {
        max_events,
        ..Limits::default()
    }
}

fn backfill_config(hold: Duration, limits: Limits) -> BackfillConfig {
    BackfillConfig {
        cluster: "demo".into(),
        lease_namespace: LEASE_NAMESPACE.into(),
        lease_name: LEASE_NAME.into(),
        hold,
        envelope: Envelope::LogProcessed,
        page_size: 100,
        limits,
    }
}

async fn kube_client(sim: &SimProcess) -> kube::Client {
    ClusterConnector::new(ClusterTarget::Kubeconfig(sim.kubeconfig.clone()), None)
        .client()
        .await
        .expect("a client for the simulator")
}

/// The catch-up binary with the backfill on (archive to a local directory).
fn catchup(sim: &SimProcess, moto: &MotoServer, archive: &Path) -> Output {
    let output = catchup_command(sim, archive)
        .envs(moto.env())
        .env_remove("AWS_PROFILE")
        .env("EVENTKEEPER_BACKFILL_LOG_GROUP", GROUP)
        .env("EVENTKEEPER_BACKFILL_LOG_STREAM", STREAM)
        .env("EVENTKEEPER_BACKFILL_ENVELOPE", "log_processed")
        .env("EVENTKEEPER_LEASE_NAMESPACE", LEASE_NAMESPACE)
        .env("EVENTKEEPER_LEASE_NAME", LEASE_NAME)
        .output()
        .expect("the catch-up runs");
    assert!(
        output.status.success(),
        "catch-up failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The run's EMF document.
fn emf(output: &Output) -> Value {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("_aws").is_some())
        .expect("an EMF document on stdout")
}

/// Every backfilled record in the stream (they must all be nested under `log_processed`).
async fn backfilled(sink: &CloudWatchSink) -> Vec<Value> {
    sink.read(0, i64::MAX / 2)
        .await
        .expect("GetLogEvents")
        .iter()
        .map(|m| {
            let message: Value = serde_json::from_str(m).expect("JSON message");
            let record = message["log_processed"].clone();
            assert!(
                record.is_object(),
                "nested like Container Insights: {m:.200}"
            );
            assert_eq!(record["origin"], "catch-up");
            assert_eq!(record["schemaVersion"], 1);
            record
        })
        .collect()
}

fn observed(sim: &SimProcess) -> Tally {
    tally_observations(&sim.observations())
}

fn max_rv(tally: &Tally) -> u64 {
    tally
        .keys()
        .filter_map(|(_, rv)| rv.parse().ok())
        .max()
        .unwrap_or(0)
}

fn checkpoint(sim: &SimProcess) -> Option<u64> {
    sim.lease(LEASE_NAMESPACE, LEASE_NAME)?["metadata"]["annotations"]["eventkeeper.io/checkpoint"]
        .as_str()?
        .parse()
        .ok()
}

fn generate(sim: &SimProcess, total: u64, spec: Value) {
    sim.start_generating(spec);
    sim.wait_generated(total, Duration::from_secs(120));
}

/// Asserts that `written` holds every observation exactly once, and nothing else.
fn assert_exactly_once(expected: &Tally, written: &Tally) {
    let lost: Vec<_> = expected
        .keys()
        .filter(|k| !written.contains_key(*k))
        .collect();
    let unexpected: Vec<_> = written
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    let twice: Vec<_> = written.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        lost.is_empty() && unexpected.is_empty() && twice.is_empty(),
        "lost {} {:?}, unexpected {} {:?}, written more than once {} {:?}",
        lost.len(),
        &lost[..lost.len().min(3)],
        unexpected.len(),
        &unexpected[..unexpected.len().min(3)],
        twice.len(),
        &twice[..twice.len().min(3)]
    );
}

/// Waits until the emitter wrote every observation so far and its checkpoint covers them, so a
/// kill leaves nothing flushed after the checkpoint (the emitter's own duplicate window), then
/// kills it with SIGKILL.
fn kill_when_checkpointed(emitter: &mut EmitterProcess, sim: &SimProcess) {
    let expected = observed(sim);
    wait_until(
        Duration::from_secs(30),
        "stdout and checkpoint to catch up",
        || {
            let written = tally_records(&emitter.records());
            let all = expected.keys().all(|k| written.contains_key(k));
            (all && checkpoint(sim) >= Some(max_rv(&expected))).then_some(())
        },
    );
    emitter.kill9();
}

/// The union of stdout and the stream, once every observation arrived (or the timeout).
async fn settled_union(
    sim: &SimProcess,
    emitter: &EmitterProcess,
    sink: &CloudWatchSink,
) -> (Tally, Tally) {
    let expected = observed(sim);
    let stream = tally_records(&backfilled(sink).await);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut union = tally_records(&emitter.records());
        for (k, n) in &stream {
            *union.entry(k.clone()).or_default() += n;
        }
        if expected.keys().all(|k| union.contains_key(k)) || std::time::Instant::now() > deadline {
            // A little more time for any duplicate to show up.
            tokio::time::sleep(Duration::from_millis(700)).await;
            let mut union = tally_records(&emitter.records());
            for (k, n) in &stream {
                *union.entry(k.clone()).or_default() += n;
            }
            return (expected, union);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Once settled, each of the `count` observations is on stdout or in the stream exactly once.
async fn assert_settled_exactly_once(
    sim: &SimProcess,
    emitter: &EmitterProcess,
    sink: &CloudWatchSink,
    count: usize,
) {
    let (expected, union) = settled_union(sim, emitter, sink).await;
    assert_eq!(expected.len(), count);
    assert_exactly_once(&expected, &union);
}

fn start_sim() -> SimProcess {
    start_sim_with(&[])
}

fn start_sim_with(extra: &[&str]) -> SimProcess {
    // The default mode, as kube-apiserver serves Events: no watch cache, no bookmarks, a
    // revision watchable until etcd's second compaction after it (5–10 simulated minutes, far
    // longer than these tests run), so the restarted emitter resumes its watch from the
    // checkpoint.
    SimProcess::start(extra)
}

/// What a dead emitter leaves behind: it wrote the Events of `before` (a generator spec),
/// checkpointed them and was killed; then the Events of `during` arrived, which only a list can
/// still see. moto (started first) is there for the catch-up to write to.
struct EmitterGap {
    moto: MotoServer,
    sim: SimProcess,
    /// The emitter's stdout, in the simulator's scratch directory (kept if the test fails).
    out: PathBuf,
    client: kube::Client,
    /// Every observation made while the emitter was up.
    observed_before: Tally,
}

/// None (and the test skips) without moto, as `MotoServer::start`.
async fn emitter_gap(before: Value, during: Value) -> Option<EmitterGap> {
    let moto = MotoServer::start()?;
    let sim = start_sim();
    let out = sim.dir.path().join("stdout.jsonl");
    let mut emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    let events = |spec: &Value| spec["events"].as_u64().expect("a generator spec");
    let written = events(&before);
    generate(&sim, written, before);
    kill_when_checkpointed(&mut emitter, &sim);
    let observed_before = observed(&sim);
    generate(&sim, written + events(&during), during);
    let client = kube_client(&sim).await;
    Some(EmitterGap {
        moto,
        sim,
        out,
        client,
        observed_before,
    })
}

/// Prepares the gap and takes the dead emitter's Lease, as a run that finds it free does.
async fn take_free_lease(
    backfill: &Backfill,
    client: &kube::Client,
    handoff: &LeaseHandoff,
) -> Taken {
    let Preparation::Ready(prepared) = backfill.prepare(client, handoff).await.expect("prepare")
    else {
        panic!("the dead emitter's Lease is free");
    };
    backfill
        .take(handoff, prepared)
        .await
        .expect("take")
        .expect("nobody else wants the Lease yet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitter_down_backfill_fills_exactly_the_gap_and_the_emitter_resumes_after_it() {
    // The emitter is down: new events only (a list shows each event's latest version, so
    // repeats superseded while nobody watches could not be expected anywhere).
    let Some(EmitterGap {
        moto,
        sim,
        out,
        observed_before: before,
        ..
    }) = emitter_gap(
        json!({"events": 300, "ratePerSec": 0, "objects": 100, "repeatShare": 0.3, "namespaces": ["a", "b"]}),
        json!({"events": 400, "ratePerSec": 0, "objects": 400, "repeatShare": 0.0, "namespaces": ["a", "c"]}),
    )
    .await
    else {
        return;
    };
    let down = observed(&sim);
    let output = catchup(&sim, &moto, &sim.dir.path().join("archive"));
    let metrics = emf(&output);
    assert_eq!(metrics["EventsBackfilled"], 400, "{metrics}");
    assert_eq!(metrics["RejectedLogEvents"], 0);
    assert!(metrics["BackfillBatches"].as_u64() >= Some(1));
    let lease = sim.lease(LEASE_NAMESPACE, LEASE_NAME).expect("Lease");
    assert_eq!(
        lease["spec"]["holderIdentity"].as_str().unwrap_or(""),
        "",
        "released: {lease}"
    );
    assert_eq!(checkpoint(&sim), Some(max_rv(&down)), "checkpoint advanced");
    assert!(lease["metadata"]["annotations"]["eventkeeper.io/backfill-pending"].is_null());

    let sink = sink(&moto).await;
    let stream = tally_records(&backfilled(&sink).await);
    let gap: Tally = down
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    assert_eq!(
        stream, gap,
        "exactly the observations made while the emitter was down"
    );

    // Run again before the emitter is back: nothing is newer, the Lease is left alone.
    let again = emf(&catchup(&sim, &moto, &sim.dir.path().join("archive")));
    assert_eq!(again["EventsBackfilled"], 0);
    assert_eq!(
        sim.lease(LEASE_NAMESPACE, LEASE_NAME).expect("Lease"),
        lease,
        "not even taken"
    );

    // The emitter comes back (the Lease is released: at once) and traffic goes on.
    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(5));
    generate(
        &sim,
        900,
        json!({"events": 200, "ratePerSec": 0, "objects": 300, "repeatShare": 0.3, "namespaces": ["a", "b", "c"]}),
    );
    assert_settled_exactly_once(&sim, &emitter, &sink, 900).await;
    // A run with the emitter live writes nothing more.
    let again = emf(&catchup(&sim, &moto, &sim.dir.path().join("archive")));
    assert_eq!(again["EventsBackfilled"], 0);
    assert_eq!(tally_records(&backfilled(&sink).await), stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_emitter_means_the_catchup_writes_nothing_to_cloudwatch() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let sim = start_sim();
    let out = sim.dir.path().join("stdout.jsonl");
    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    generate(
        &sim,
        200,
        json!({"events": 200, "ratePerSec": 0, "objects": 50, "repeatShare": 0.2, "namespaces": ["a"]}),
    );
    let before = sim.lease(LEASE_NAMESPACE, LEASE_NAME).expect("Lease");
    let output = catchup(&sim, &moto, &sim.dir.path().join("archive"));
    let metrics = emf(&output);
    assert_eq!(metrics["EventsBackfilled"], 0);
    assert_eq!(metrics["BackfillBatches"], 0);
    assert!(metrics["EventsListed"].as_u64() > Some(100));
    assert_eq!(
        metrics["EventsArchived"], metrics["EventsListed"],
        "the S3 archive part runs as before"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("emitter is alive"), "{stderr}");
    assert!(backfilled(&sink(&moto).await).await.is_empty());
    let after = sim.lease(LEASE_NAMESPACE, LEASE_NAME).expect("Lease");
    assert_eq!(after["spec"]["holderIdentity"], "pod-a");
    assert_eq!(
        after["spec"]["leaseTransitions"], before["spec"]["leaseTransitions"],
        "the catch-up never took the Lease"
    );
    assert!(emitter.is_leader());
}

/// An emitter that comes back while the catch-up holds the Lease stands by (the catch-up renews
/// with every batch) and takes over at the release, from the advanced checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emitter_returning_during_the_backfill_waits_for_the_release() {
    let Some(EmitterGap {
        moto,
        sim, out, client, ..
    }) = emitter_gap(
        json!({"events": 100, "ratePerSec": 0, "objects": 50, "repeatShare": 0.3, "namespaces": ["a"]}),
        json!({"events": 300, "ratePerSec": 0, "objects": 300, "repeatShare": 0.0, "namespaces": ["a", "b"]}),
    )
    .await
    else {
        return;
    };
    let limits = at_most(40);
    let backfill = backfill_into(&moto, Duration::from_secs(6), limits).await;
    let handoff = backfill.handoff(&client);
    let taken = take_free_lease(&backfill, &client, &handoff).await;
    assert_eq!(taken.entries().len(), 300);

    // The emitter returns while the catch-up holds the Lease: more than its own lease duration
    // (2 s) later it still stands by.
    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-b", &out, &[]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!emitter.is_leader(), "the emitter waits for the catch-up");
    let report = backfill.fill(&handoff, taken).await.expect("fill");
    assert_eq!(report.decision, Decision::Backfilled);
    assert_eq!(report.events_backfilled, 300);
    assert_eq!(report.batches, 8, "300 events, 40 per call");
    emitter.wait_leader(Duration::from_secs(5));

    generate(
        &sim,
        550,
        json!({"events": 150, "ratePerSec": 0, "objects": 200, "repeatShare": 0.3, "namespaces": ["a", "b"]}),
    );
    assert_settled_exactly_once(&sim, &emitter, backfill.sink(), 550).await;
}

/// A backfill longer than its hold renews the Lease with every batch: a returning emitter
/// (which takes over a Lease unchanged for its duration) keeps waiting until the release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_longer_than_its_hold_keeps_the_returning_emitter_waiting() {
    let Some(EmitterGap {
        moto,
        sim, out, client, ..
    }) = emitter_gap(
        json!({"events": 30, "ratePerSec": 0, "objects": 30, "namespaces": ["a"]}),
        json!({"events": 300, "ratePerSec": 0, "objects": 300, "repeatShare": 0.0, "namespaces": ["a"]}),
    )
    .await
    else {
        return;
    };
    let limits = at_most(10);
    let backfill = backfill_into(&moto, Duration::from_secs(2), limits).await;
    let handoff = backfill.handoff(&client);
    let taken = take_free_lease(&backfill, &client, &handoff).await;
    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-b", &out, &[]);
    // Every API call now takes 100 ms: 30 renewals make the backfill outlast its 2 s hold.
    sim.faults(json!({"latencyMs": 100}));
    let started = std::time::Instant::now();
    let report = backfill
        .fill(&handoff, taken)
        .await
        .expect("never preempted");
    assert!(
        started.elapsed() > Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((report.batches, report.events_backfilled), (30, 300));
    sim.faults(json!({"latencyMs": 0}));
    emitter.wait_leader(Duration::from_secs(5));
    assert_settled_exactly_once(&sim, &emitter, backfill.sink(), 330).await;
}

/// An emitter that takes the Lease between the catch-up's read and its update wins: the
/// catch-up's update fails with 409 and it writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_409_race_lets_exactly_one_of_them_write() {
    let Some(EmitterGap {
        moto,
        sim, out, client, ..
    }) = emitter_gap(
        json!({"events": 100, "ratePerSec": 0, "objects": 50, "namespaces": ["a"]}),
        json!({"events": 200, "ratePerSec": 0, "objects": 200, "repeatShare": 0.0, "namespaces": ["a"]}),
    )
    .await
    else {
        return;
    };
    let backfill = backfill_into(&moto, Duration::from_secs(10), Limits::default()).await;
    let handoff = backfill.handoff(&client);
    let Preparation::Ready(prepared) = backfill.prepare(&client, &handoff).await.expect("prepare")
    else {
        panic!("the dead emitter's Lease is free");
    };
    // A standby takes the expired Lease after the catch-up read it.
    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-b", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    assert!(
        backfill
            .take(&handoff, prepared)
            .await
            .expect("take")
            .is_none(),
        "409: the emitter won"
    );
    assert!(
        backfill
            .sink()
            .read(0, i64::MAX / 2)
            .await
            .expect("read")
            .is_empty()
    );
    assert_settled_exactly_once(&sim, &emitter, backfill.sink(), 300).await;
}

/// What the two interrupted-run tests share, up to the moment the first catch-up run dies.
struct Interrupted {
    /// The S3 and CloudWatch Logs peer, up as long as the test runs.
    _moto: MotoServer,
    sim: SimProcess,
    out: PathBuf,
    client: kube::Client,
    sink: CloudWatchSink,
    limits: Limits,
    /// How many batches the first run planned.
    planned: usize,
}

impl Interrupted {
    /// The catch-up run after the one that died: same stream and batch limits.
    fn next_run(&self) -> Backfill {
        Backfill::new(
            self.sink.clone(),
            backfill_config(Duration::from_secs(5), self.limits),
        )
    }
}

/// The emitter writes `before` Events, checkpoints and is killed; `during` more arrive. A first
/// backfill run (batches of `max_events`) takes the Lease, records its first batch as pending,
/// sends it, and dies before the next Lease update.
async fn interrupted_after_first_batch(
    before: u64,
    during: u64,
    max_events: usize,
) -> Option<Interrupted> {
    let EmitterGap {
        moto,
        sim,
        out,
        client,
        ..
    } = emitter_gap(
        json!({"events": before, "ratePerSec": 0, "objects": before, "namespaces": ["a"]}),
        json!({"events": during, "ratePerSec": 0, "objects": during, "repeatShare": 0.0, "namespaces": ["a"]}),
    )
    .await?;
    let limits = at_most(max_events);
    let sink = sink(&moto).await;
    let first_run = Backfill::new(
        sink.clone(),
        backfill_config(Duration::from_secs(2), limits),
    );
    let handoff = first_run.handoff(&client);
    let taken = take_free_lease(&first_run, &client, &handoff).await;
    let after = taken.checkpoint().expect("the emitter checkpointed");
    let batches = plan(taken.entries(), limits);
    let planned = batches.len();
    let batch = &batches[0];
    let mut held = taken.into_held();
    let transitions = held.view().transitions();
    // What `fill` does for one batch, then the process dies before the next Lease update.
    handoff
        .advance(
            &mut held,
            Some(after),
            Some(&PendingBatch {
                after: after.get(),
                through: batch.through.expect("integer versions"),
                first_ms: batch.first_ms(),
                last_ms: batch.last_ms(),
                stream: format!("{GROUP}/{STREAM}"),
                events: batch.entries.len() as u64,
                transitions,
            }),
        )
        .await
        .expect("record the batch");
    sink.ensure_stream().await.expect("stream");
    assert_eq!(
        sink.put(batch).await.expect("put").accepted,
        max_events as u64
    );
    drop(held);
    Some(Interrupted {
        _moto: moto,
        sim,
        out,
        client,
        sink,
        limits,
        planned,
    })
}

/// A catch-up that dies between a PutLogEvents and the next Lease update: the next run reads
/// the batch back, moves the checkpoint past it and does not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_interrupted_after_putlogevents_is_completed_without_duplicates() {
    let Some(interrupted) = interrupted_after_first_batch(50, 120, 50).await else {
        return;
    };
    assert_eq!(interrupted.planned, 3);

    // The next run waits for the dead run's hold to expire, finds the batch, sends the rest.
    let report = interrupted
        .next_run()
        .run(&interrupted.client)
        .await
        .expect("second run");
    let Interrupted { sim, out, sink, .. } = interrupted;
    assert_eq!(report.decision, Decision::Backfilled);
    assert_eq!(
        report.events_backfilled, 70,
        "only what the first run did not send"
    );
    assert_eq!(report.possible_duplicates, 0);
    let stream = tally_records(&backfilled(&sink).await);
    assert_eq!(stream.len(), 120);
    assert!(stream.values().all(|n| *n == 1), "nothing sent twice");

    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(5));
    generate(
        &sim,
        230,
        json!({"events": 60, "ratePerSec": 0, "objects": 100, "repeatShare": 0.3, "namespaces": ["a"]}),
    );
    let (expected, union) = settled_union(&sim, &emitter, &sink).await;
    assert_exactly_once(&expected, &union);
}

/// The one window left: a catch-up dies after a PutLogEvents, and the emitter takes the Lease
/// before another catch-up run does. The emitter resumes before that batch and writes it again;
/// the next backfill finds the batch in the stream and reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emitter_taking_over_from_an_interrupted_run_is_reported_as_possible_duplicates() {
    let Some(interrupted) = interrupted_after_first_batch(20, 60, 25).await else {
        return;
    };
    let Interrupted { sim, out, sink, .. } = &interrupted;

    // The emitter comes back first: it waits out the dead run's hold, then writes from the
    // checkpoint before the batch, the batch included.
    let mut emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    kill_when_checkpointed(&mut emitter, sim);
    let (_, union) = settled_union(sim, &emitter, sink).await;
    let twice = union.values().filter(|n| **n == 2).count();
    assert_eq!(twice, 25, "the batch is in the stream and on stdout");

    // The next backfill (the emitter is down again) finds and reports them.
    generate(
        sim,
        90,
        json!({"events": 10, "ratePerSec": 0, "objects": 10, "repeatShare": 0.0, "namespaces": ["a"]}),
    );
    let report = interrupted
        .next_run()
        .run(&interrupted.client)
        .await
        .expect("next run");
    assert_eq!(report.decision, Decision::Backfilled);
    assert_eq!(report.possible_duplicates, 25);
    assert_eq!(report.events_backfilled, 10);
    let lease = sim.lease(LEASE_NAMESPACE, LEASE_NAME).expect("Lease");
    assert!(
        lease["metadata"]["annotations"]["eventkeeper.io/backfill-pending"].is_null(),
        "reported once: the release clears it"
    );
}

#[test]
fn bad_backfill_configuration_exits_64_with_one_line() {
    for (key, value, says) in [
        (
            "EVENTKEEPER_BACKFILL_ENVELOPE",
            "kubernetes",
            "unknown backfill envelope",
        ),
        (
            "EVENTKEEPER_BACKFILL_LOG_STREAM",
            "a:b",
            "not a valid log stream",
        ),
        (
            "EVENTKEEPER_BACKFILL_LEASE_DURATION",
            "soon",
            "not a duration",
        ),
        ("EVENTKEEPER_LEASE_NAME", "", "must not be empty"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_eventkeeper-catchup"))
            .args([
                "--cluster-name",
                "demo",
                "--kubeconfig",
                "/nonexistent/kubeconfig",
            ])
            .env("EVENTKEEPER_BACKFILL_LOG_GROUP", GROUP)
            .env(key, value)
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{key}={value}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(says), "{key}={value}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

/// A list that resumed after an expired continue token mixes snapshots: the backfill sends
/// nothing from it and fails the run (retryable); the next run lists again and fills the gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_resumed_after_an_expired_continue_token_is_not_used() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    // Continue tokens that end 5 minutes after the first page: without writes between the
    // pages, etcd's compaction alone would keep the list's revision readable.
    let sim = start_sim_with(&["--continue-ttl", "5m"]);
    let out = sim.dir.path().join("stdout.jsonl");
    let mut emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    // SIGTERM: the emitter releases the Lease, so the backfill lists at once.
    assert!(emitter.terminate(Duration::from_secs(15)).success());
    generate(
        &sim,
        100,
        json!({"events": 100, "ratePerSec": 0, "objects": 100, "repeatShare": 0.0, "namespaces": ["a", "b"]}),
    );
    let client = kube_client(&sim).await;
    let mut config = backfill_config(Duration::from_secs(10), Limits::default());
    config.page_size = 10;
    let backfill = Backfill::new(sink(&moto).await, config);
    // Slow pages, then five simulated minutes pass mid-list: the next continue token is stale.
    sim.faults(json!({"latencyMs": 100}));
    let running = {
        let client = client.clone();
        tokio::spawn(async move {
            let backfill = backfill;
            let result = backfill.run(&client).await;
            (backfill, result)
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    sim.admin("POST", "/_sim/clock", Some(&json!({"advanceSeconds": 400})));
    let (backfill, result) = running.await.expect("join");
    let error = result.expect_err("a mixed list is refused");
    assert!(
        matches!(error, BackfillError::InconsistentList(_)),
        "{error}"
    );
    assert!(error.is_retryable());
    assert!(
        backfill
            .sink()
            .read(0, i64::MAX / 2)
            .await
            .expect("read")
            .is_empty()
    );
    let lease = sim.lease(LEASE_NAMESPACE, LEASE_NAME).expect("Lease");
    assert_eq!(
        lease["spec"]["holderIdentity"].as_str().unwrap_or(""),
        "",
        "never taken"
    );

    sim.faults(json!({"latencyMs": 0}));
    let report = backfill.run(&client).await.expect("the next run");
    assert_eq!(report.events_backfilled, 100);
    let emitter = EmitterProcess::start(&sim.kubeconfig, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(5));
    assert_settled_exactly_once(&sim, &emitter, backfill.sink(), 100).await;
}
