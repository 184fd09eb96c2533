//! The emitter against the simulator, both as processes. Each test compares the exact multiset
//! of (uid, resourceVersion) on the emitter's stdout with the simulator's record of every
//! observation it produced: lost must be 0, duplicates only within the checkpoint window.
//!
//! Sizes scale with `EVENTKEEPER_E2E_SCALE` (default 1: a few seconds each in a debug build;
//! `make test-emitter-large` runs the 100k observations with 20 restarts).

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::*;

/// Every observation, as a tally.
fn all_observations(sim: &Sim) -> Tally {
    tally_observations(&sim.observations())
}

fn assert_lossless(c: &Comparison, max_duplicates: u32) {
    assert!(
        c.lost.is_empty(),
        "lost {} of {} observations, e.g. {:?}",
        c.lost.len(),
        c.expected,
        &c.lost[..c.lost.len().min(5)]
    );
    assert!(
        c.unexpected.is_empty(),
        "lines that match no observation: {:?}",
        &c.unexpected[..c.unexpected.len().min(5)]
    );
    assert!(
        c.duplicates <= max_duplicates,
        "{} duplicates (allowed {max_duplicates})",
        c.duplicates
    );
    eprintln!(
        "{} observations, lost 0, {} duplicates",
        c.expected, c.duplicates
    );
}

#[test]
fn kill_9_at_random_moments_loses_nothing() {
    let scale = scale();
    let events = 6_000 * scale;
    let restarts = 5 * scale.min(4);
    let rate = 3_000.0;
    // Served as kube-apiserver serves Events (no watch cache, no bookmarks): the run lasts
    // seconds and a revision stays watchable for five simulated minutes, so a restart resumes
    // the watch from the checkpoint and even the intermediate versions of repeated events are
    // all seen.
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("stdout.jsonl");
    let mut emitter = start_emitter(&sim, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    // From the first checkpoint on, a restart resumes the watch instead of listing again.
    wait_for(Duration::from_secs(10), "the first checkpoint", || {
        sim.lease("default", "eventkeeper").expect("the Lease")["metadata"]["annotations"]["eventkeeper.io/checkpoint"]
            .as_str()
            .map(|_| ())
    });
    sim.start_generating(json!({"events": events, "ratePerSec": rate, "objects": 300, "repeatShare": 0.3, "namespaces": ["a", "b", "c"]}));
    let mut rng = Rng::new();
    let run_for = Duration::from_secs_f64(events as f64 / rate);
    let mut at = Vec::new();
    for _ in 0..restarts {
        at.push(rng.between(0, run_for.as_millis() as u64));
    }
    at.sort_unstable();
    let start = std::time::Instant::now();
    for ms in at {
        if let Some(wait) = Duration::from_millis(ms).checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        emitter.kill_and_restart();
    }
    sim.wait_generated(events, Duration::from_secs(120));
    let expected = all_observations(&sim);
    assert!(expected.len() as u64 >= events);
    let c = settle(&expected, &[&out], Duration::from_secs(60));
    // At most the checkpoint window (interval + flush + renewal) of traffic per restart.
    let window = (rate * 1.5) as u32;
    assert_lossless(&c, window * restarts as u32);
    let modified = sim
        .observations()
        .iter()
        .filter(|o| o["type"] == "MODIFIED")
        .count();
    assert!(
        modified > 0,
        "the load has repeats, and they are all on stdout"
    );
}

#[test]
fn forced_410s_and_closed_watches_lose_nothing() {
    let sim = Sim::start(&["--bookmark-interval", "300ms"]);
    let out = sim.dir.path().join("stdout.jsonl");
    let emitter = start_emitter(&sim, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    // Repeats with closed watches: every watch ends after 97 events and resumes from its
    // position, so every version of every event must come through.
    sim.faults(json!({"closeWatchesAfter": 97}));
    sim.start_generating(
        json!({"events": 3000, "ratePerSec": 3000.0, "objects": 200, "repeatShare": 0.3}),
    );
    sim.wait_generated(3000, Duration::from_secs(60));
    // Caught up before the first forced 410: a relist can only see the latest version of an
    // event, so versions superseded meanwhile could not be expected.
    assert_lossless(
        &settle(&all_observations(&sim), &[&out], Duration::from_secs(30)),
        0,
    );
    // New events only while 410s are forced: a relist sees each of them (nothing superseded),
    // and must write only what is newer than what was already written.
    for round in 0..4u64 {
        sim.faults(json!({"goneNextWatch": true}));
        sim.start_generating(json!({"events": 700, "ratePerSec": 2000.0, "objects": 300, "repeatShare": 0.0, "namespaces": ["a", "b"]}));
        sim.wait_generated(3000 + 700 * (round + 1), Duration::from_secs(60));
        settle(&all_observations(&sim), &[&out], Duration::from_secs(30));
    }
    let expected = all_observations(&sim);
    let c = settle(&expected, &[&out], Duration::from_secs(30));
    assert_lossless(&c, 0);
    let gone = emitter.metric("eventkeeper_gone_total").unwrap_or(0.0);
    let relists = emitter.metric("eventkeeper_relists_total").unwrap_or(0.0);
    assert!(
        gone >= 1.0 && relists >= 2.0,
        "410s were forced (gone {gone}, relists {relists})"
    );
    assert!(
        emitter
            .metric("eventkeeper_watch_restarts_total")
            .unwrap_or(0.0)
            >= 10.0
    );
}

#[test]
fn the_standby_takes_over_from_the_checkpoint_when_the_leader_is_killed() {
    let sim = Sim::start(&[]);
    let out_a = sim.dir.path().join("a.jsonl");
    let out_b = sim.dir.path().join("b.jsonl");
    let mut a = start_emitter(&sim, "pod-a", &out_a, &[]);
    a.wait_leader(Duration::from_secs(10));
    let b = start_emitter(&sim, "pod-b", &out_b, &[]);
    wait_for(Duration::from_secs(10), "the standby to be ready", || {
        b.probe("/readyz")
            .filter(|(s, body)| *s == 200 && body == "standby")
    });
    sim.start_generating(
        json!({"events": 6000, "ratePerSec": 2000.0, "objects": 200, "repeatShare": 0.3}),
    );
    std::thread::sleep(Duration::from_millis(1200));
    a.kill9();
    let killed = std::time::Instant::now();
    b.wait_leader(Duration::from_secs(10));
    let takeover = killed.elapsed();
    assert!(
        takeover >= Duration::from_millis(1500),
        "the standby waited for the Lease to expire ({takeover:?})"
    );
    sim.wait_generated(6000, Duration::from_secs(60));
    let expected = all_observations(&sim);
    let c = settle(&expected, &[&out_a, &out_b], Duration::from_secs(30));
    // Duplicates only after the last checkpoint: checkpoint interval + flush + one renewal.
    assert_lossless(&c, 2_000);
    let b_lines = records(&out_b);
    assert!(!b_lines.is_empty(), "the new leader wrote");
    assert!(
        b_lines.iter().all(|r| r["origin"] == "watch"),
        "it resumed the watch, no relist of the hour"
    );
}

#[test]
fn down_for_ten_simulated_minutes_then_resumes_without_replaying_the_hour() {
    // Without a watch cache the checkpoint's revision is compacted during the ten minutes: the
    // resumed watch gets 410, and the relist must write only what is newer than the checkpoint.
    down_for_ten_simulated_minutes(&Sim::start(&[]));
}

#[test]
fn down_for_ten_simulated_minutes_with_a_watch_cache() {
    // With a watch cache the 410 comes from its window, counted in changes.
    down_for_ten_simulated_minutes(&Sim::start_with_watch_cache(&[
        "--watch-history",
        "500",
        "--bookmark-interval",
        "300ms",
    ]));
}

fn down_for_ten_simulated_minutes(sim: &Sim) {
    let out = sim.dir.path().join("stdout.jsonl");
    let mut emitter = start_emitter(sim, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    sim.start_generating(json!({"events": 1500, "ratePerSec": 0.0, "objects": 300}));
    sim.wait_generated(1500, Duration::from_secs(60));
    let before = all_observations(sim);
    assert_lossless(&settle(&before, &[&out], Duration::from_secs(30)), 0);
    assert!(emitter.terminate(Duration::from_secs(10)).success());
    let written_before = records(&out).len();

    // Ten simulated minutes of traffic while no replica runs.
    for _ in 0..10 {
        sim.post("/_sim/clock", json!({"advanceSeconds": 60}));
        sim.start_generating(json!({"events": 300, "ratePerSec": 0.0, "objects": 300}));
    }
    sim.wait_generated(1500 + 3000, Duration::from_secs(60));
    let resumed = start_emitter(sim, "pod-a", &out, &[]);
    let all = all_observations(sim);
    let c = settle(&all, &[&out], Duration::from_secs(30));
    assert_lossless(&c, 0);
    assert_eq!(
        records(&out).len() - written_before,
        all.len() - before.len(),
        "only the new observations"
    );
    assert!(
        resumed.metric("eventkeeper_gone_total").unwrap_or(0.0) >= 1.0,
        "the checkpoint was out of the window: 410, then a list"
    );
}

#[test]
fn filters_keep_exactly_the_matching_observations() {
    let sim = Sim::start(&["--bookmark-interval", "300ms"]);
    let out = sim.dir.path().join("stdout.jsonl");
    let emitter = start_emitter(
        &sim,
        "pod-a",
        &out,
        &[
            "--include",
            "type=Warning",
            "--include",
            "namespace=team-*",
            "--exclude",
            "namespace=kube-system type=Warning",
        ],
    );
    emitter.wait_leader(Duration::from_secs(10));
    sim.start_generating(json!({"events": 2000, "ratePerSec": 0.0, "objects": 100, "repeatShare": 0.2, "warningShare": 0.4,
                        "namespaces": ["kube-system", "team-a", "default"]}));
    sim.wait_generated(2000, Duration::from_secs(60));
    let observations = sim.observations();
    let wanted: Vec<&Value> = observations
        .iter()
        .filter(|o| {
            let ns = o["namespace"].as_str().unwrap_or("");
            let warning = o["eventType"] == "Warning";
            (warning || ns.starts_with("team-")) && !(ns == "kube-system" && warning)
        })
        .collect();
    assert!(!wanted.is_empty() && wanted.len() < observations.len());
    let c = settle(
        &tally_observations(wanted),
        &[&out],
        Duration::from_secs(30),
    );
    assert_lossless(&c, 0);
    assert!(
        emitter
            .metric("eventkeeper_events_filtered_total")
            .unwrap_or(0.0)
            > 0.0
    );
}

#[test]
fn oversized_events_are_cut_to_the_line_budget() {
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("stdout.jsonl");
    let emitter = start_emitter(&sim, "pod-a", &out, &["--max-line-bytes", "2048"]);
    emitter.wait_leader(Duration::from_secs(10));
    let huge = "x".repeat(100_000);
    sim.post(
        "/_sim/events",
        json!({"metadata": {"namespace": "default", "name": "big.1"}, "involvedObject": {"kind": "Pod", "name": "big", "namespace": "default"},
               "reason": "Huge", "message": huge, "type": "Warning"}),
    );
    let line = wait_for(Duration::from_secs(10), "the huge event's line", || {
        std::fs::read_to_string(&out).ok().and_then(|text| {
            text.lines()
                .find(|l| l.contains("\"Huge\""))
                .map(str::to_owned)
        })
    });
    assert!(line.len() < 2048, "{} bytes", line.len() + 1);
    let record: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(record["truncated"]["fields"][0], "message");
    assert!(
        emitter
            .metric("eventkeeper_lines_truncated_total")
            .unwrap_or(0.0)
            >= 1.0
    );
}

#[test]
fn sigterm_flushes_writes_the_checkpoint_and_releases_the_lease() {
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("stdout.jsonl");
    // A flush interval far longer than the test: only the shutdown flush can write the lines.
    let mut emitter = start_emitter(
        &sim,
        "pod-a",
        &out,
        &["--flush-interval", "1h", "--checkpoint-interval", "1h"],
    );
    emitter.wait_leader(Duration::from_secs(10));
    sim.start_generating(
        json!({"events": 120, "ratePerSec": 0.0, "objects": 50, "repeatShare": 0.3}),
    );
    sim.wait_generated(120, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        records(&out).is_empty(),
        "nothing flushed before the deadline"
    );
    let status = emitter.terminate(Duration::from_secs(15));
    assert!(status.success(), "exit 0 after SIGTERM, got {status}");
    let expected = all_observations(&sim);
    let c = compare(&expected, &tally_records(&records(&out)));
    assert_lossless(&c, 0);
    let lease = sim.lease("default", "eventkeeper").expect("the Lease");
    let checkpoint: u64 = lease["metadata"]["annotations"]["eventkeeper.io/checkpoint"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let last_rv = expected
        .keys()
        .map(|(_, rv)| rv.parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert!(
        checkpoint >= last_rv,
        "checkpoint {checkpoint} covers the last line {last_rv}"
    );
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "released: {lease}"
    );
}

#[test]
fn readiness_turns_false_when_the_api_stalls_and_standbys_stay_ready() {
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("a.jsonl");
    // Lease timings longer than the pause: the paused API also stalls renewals, and a leader
    // that cannot renew steps down (and is then a ready standby).
    let slow_lease = [
        "--stall-timeout",
        "1500ms",
        "--lease-duration",
        "30s",
        "--renew-deadline",
        "20s",
        "--retry-period",
        "1s",
    ];
    let leader = start_emitter(&sim, "pod-a", &out, &slow_lease);
    leader.wait_leader(Duration::from_secs(10));
    let standby = start_emitter(
        &sim,
        "pod-b",
        &sim.dir.path().join("b.jsonl"),
        &["--stall-timeout", "1500ms"],
    );
    wait_for(Duration::from_secs(10), "the standby to be ready", || {
        standby
            .probe("/readyz")
            .filter(|(s, b)| *s == 200 && b == "standby")
    });
    // An idle leader stays ready: no Event and no bookmark, but its watch is open and the API
    // answers its renewals.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(leader.probe("/readyz").map(|(s, _)| s), Some(200));
    sim.faults(json!({"paused": true}));
    let (_, body) = wait_for(Duration::from_secs(10), "readiness to fail", || {
        leader.probe("/readyz").filter(|(s, _)| *s == 503)
    });
    assert!(body.starts_with("stalled"), "{body}");
    assert_eq!(
        leader.probe("/livez").map(|(s, _)| s),
        Some(200),
        "still live"
    );
    sim.faults(json!({"paused": false}));
    wait_for(Duration::from_secs(10), "readiness to come back", || {
        leader.probe("/readyz").filter(|(s, _)| *s == 200)
    });
}

/// List requests for Events (not watches, in all namespaces or one) in the simulator's request
/// log.
fn event_lists(sim: &Sim) -> usize {
    sim.requests()
        .iter()
        .filter(|l| {
            l.contains("method=GET path=/api/v1/")
                && l.contains("/events query=")
                && !l.contains("watch=true")
        })
        .count()
}

/// The checkpoint on the emitter's Lease.
fn checkpoint(sim: &Sim) -> Option<u64> {
    sim.lease("default", "eventkeeper")?["metadata"]["annotations"]["eventkeeper.io/checkpoint"]
        .as_str()?
        .parse()
        .ok()
}

/// What a quiet spell did: the emitter after it, and what it asked of the API during it.
struct QuietSpell {
    sim: Sim,
    emitter: EmitterProcess,
    out: std::path::PathBuf,
    /// Observations written before the spell.
    before: Tally,
    /// List requests for Events during the spell.
    lists: usize,
    /// The emitter's relists during the spell.
    relists: f64,
}

/// Writes 300 observations (in `default`, the Lease namespace, and `kube-system`), then lets
/// `minutes` quiet simulated minutes pass while the leader stays ready. The default mode: no
/// watch cache, so no bookmark ever; a revision stays watchable for 5–10 simulated minutes
/// (compaction every 5). Every request is logged, to count the lists.
fn quiet_spell(extra: &[&str], minutes: u32) -> QuietSpell {
    quiet_spell_on(&[], extra, minutes)
}

/// [`quiet_spell`] on a simulator started with `sim_args` too.
fn quiet_spell_on(sim_args: &[&str], extra: &[&str], minutes: u32) -> QuietSpell {
    // With `--namespaces A,B` only those are expected on stdout.
    let watched: Vec<String> = extra
        .iter()
        .position(|a| *a == "--namespaces")
        .map(|i| extra[i + 1].split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let mut args = vec!["--log-level", "warn,eventkeeper_sim::router=debug"];
    args.extend_from_slice(sim_args);
    let sim = Sim::start(&args);
    let out = sim.dir.path().join("stdout.jsonl");
    // A watch ends every second (instead of every 290 s): thirty simulated minutes pass in
    // under a minute, and the emitter re-watches from its position about once per simulated
    // minute, as often as it would against a real server at this ratio.
    let mut args = vec!["--stall-timeout", "2s", "--watch-timeout", "1s"];
    args.extend_from_slice(extra);
    let emitter = start_emitter(&sim, "pod-a", &out, &args);
    // A quiet spell from here on: the Events below are written by the simulator itself.
    emitter.wait_leader(Duration::from_secs(10));
    sim.generate(
        json!({"events": 300, "ratePerSec": 0.0, "objects": 100, "repeatShare": 0.2,
                        "namespaces": ["default", "kube-system"]}),
    );
    let before =
        tally_observations(sim.observations().iter().filter(|o| {
            watched.is_empty() || watched.iter().any(|n| o["namespace"] == n.as_str())
        }));
    assert!(!before.is_empty());
    assert_lossless(&settle(&before, &[&out], Duration::from_secs(30)), 0);
    let lists_before = event_lists(&sim);
    let relists_before = emitter.metric("eventkeeper_relists_total").unwrap_or(0.0);
    // No Event is written by anyone but the emitter, none expires (TTL 1 h).
    for minute in 1..=minutes {
        sim.post("/_sim/clock", json!({"advanceSeconds": 60}));
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(
            emitter.probe("/readyz"),
            Some((200, "leader".to_owned())),
            "ready after {minute} quiet simulated minutes"
        );
    }
    let lists = event_lists(&sim) - lists_before;
    let relists = emitter.metric("eventkeeper_relists_total").unwrap_or(0.0) - relists_before;
    eprintln!("{minutes} quiet simulated minutes: {lists} list requests, {relists} relists");
    QuietSpell {
        sim,
        emitter,
        out,
        before,
        lists,
        relists,
    }
}

/// Heartbeat Events the simulator holds as observations (each create and PATCH).
fn heartbeat_observations(sim: &Sim) -> usize {
    sim.observations()
        .iter()
        .filter(|o| o["reason"] == "WatchHeartbeat")
        .count()
}

#[test]
fn a_quiet_cluster_without_a_watch_cache_keeps_the_leader_ready_and_never_lists_again() {
    // The heartbeat after one quiet second (instead of 4 minutes): at this clock ratio about one
    // per simulated minute, well inside the compaction window as the default is in real time.
    let spell = quiet_spell(&["--watch-heartbeat", "1s"], 30);
    let QuietSpell {
        sim, emitter, out, ..
    } = &spell;
    // The heartbeats the watch delivered kept the position current: no 410, no list.
    assert_eq!(spell.lists, 0, "list requests in 30 quiet minutes");
    assert_eq!(spell.relists, 0.0, "relists in 30 quiet minutes");
    let beats = emitter
        .metric("eventkeeper_watch_heartbeats_total")
        .unwrap_or(0.0);
    assert!(
        beats >= 10.0,
        "{beats} heartbeats in 30 quiet simulated minutes"
    );
    assert_eq!(heartbeat_observations(sim) as f64, beats);
    assert_eq!(
        emitter.metric_sum("eventkeeper_watch_heartbeat_failures_total"),
        Some(0.0)
    );
    // Every heartbeat went to stdout, once, as a watch record about the Lease; nothing else was
    // written twice.
    let all = all_observations(sim);
    assert_lossless(&settle(&all, &[out], Duration::from_secs(30)), 0);
    let heartbeat_records: Vec<Value> = records(out)
        .into_iter()
        .filter(|r| r["reason"] == "WatchHeartbeat")
        .collect();
    assert_eq!(heartbeat_records.len() as f64, beats);
    assert!(heartbeat_records.iter().all(|r| r["origin"] == "watch"
        && r["type"] == "Normal"
        && r["involvedObject"]["kind"] == "Lease"
        && r["involvedObject"]["name"] == "eventkeeper"
        && r["metadata"]["namespace"] == "default"));
    assert!(records(out).iter().all(|r| r["origin"] == "watch"));
    assert_eq!(
        records(out).len() - heartbeat_records.len(),
        spell.before.values().sum::<u32>() as usize
    );

    // TTL expiry deletes every generated Event (the heartbeat's was refreshed by its PATCHes):
    // the checkpoint passes the revision before the expiry, without a list.
    let revision: u64 = sim.status()["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let relists_before = emitter.metric("eventkeeper_relists_total").unwrap_or(0.0);
    sim.post("/_sim/clock", json!({"advanceSeconds": 31 * 60}));
    wait_for(
        Duration::from_secs(10),
        "the checkpoint to pass the expiry",
        || checkpoint(sim).filter(|c| *c > revision),
    );
    assert_eq!(
        emitter.metric("eventkeeper_relists_total").unwrap_or(0.0),
        relists_before,
        "the expiry and the heartbeats moved the position, not a list"
    );
    assert_eq!(
        sim.status()["liveEvents"],
        1,
        "only the heartbeat Event is left"
    );

    // Events resume: nothing lost, nothing twice.
    sim.generate(json!({"events": 300, "ratePerSec": 0.0, "objects": 100, "repeatShare": 0.2}));
    let all = all_observations(sim);
    assert_lossless(&settle(&all, &[out], Duration::from_secs(30)), 0);
    assert_eq!(emitter.probe("/readyz"), Some((200, "leader".to_owned())));
}

/// Today's bound without the heartbeat: the position moves only with an Event, so a re-watch
/// after the compaction window gets 410 and lists again; the list's resourceVersion then stays
/// watchable for at least one compaction interval. So at most one list per 5 simulated minutes.
fn assert_lists_at_most_once_per_compaction(spell: &QuietSpell, minutes: u32) {
    let bound = (minutes / 5) as usize;
    assert!(
        spell.lists <= bound,
        "{} list requests in {minutes} quiet minutes (at most {bound})",
        spell.lists
    );
    assert!(
        spell.relists >= 1.0,
        "the compaction window passed: a re-watch got 410 and listed"
    );
    assert_eq!(
        spell.emitter.metric("eventkeeper_watch_heartbeats_total"),
        Some(0.0)
    );
    assert_eq!(heartbeat_observations(&spell.sim), 0);
    // The relists wrote nothing again: every listed Event was at or below the position.
    assert_eq!(
        records(&spell.out).len(),
        spell.before.values().sum::<u32>() as usize
    );
    assert!(records(&spell.out).iter().all(|r| r["origin"] == "watch"));
}

#[test]
fn a_quiet_cluster_with_the_heartbeat_off_lists_at_most_once_per_compaction() {
    let spell = quiet_spell(&["--watch-heartbeat", "off"], 30);
    assert_lists_at_most_once_per_compaction(&spell, 30);
    // Events resume: nothing lost, nothing twice.
    spell
        .sim
        .generate(json!({"events": 100, "ratePerSec": 0.0, "objects": 50}));
    let all = all_observations(&spell.sim);
    assert_lossless(&settle(&all, &[&spell.out], Duration::from_secs(30)), 0);
}

#[test]
fn a_forbidden_heartbeat_is_counted_never_fatal_and_the_watch_falls_back_to_listing() {
    // RBAC without write verbs on events: every heartbeat gets 403.
    let spell = quiet_spell_on(&["--forbid-event-writes"], &["--watch-heartbeat", "1s"], 12);
    let failed = spell
        .emitter
        .metric("eventkeeper_watch_heartbeat_failures_total{class=\"forbidden\"}")
        .unwrap_or(0.0);
    assert!(
        failed >= 5.0,
        "{failed} forbidden heartbeats in 12 quiet minutes"
    );
    assert!(
        spell.emitter.is_leader(),
        "a failing heartbeat is not fatal"
    );
    assert_eq!(
        spell.emitter.metric("eventkeeper_leader_transitions_total"),
        Some(1.0)
    );
    // Today's behaviour meanwhile: a 410 after the compaction window, and a list.
    assert_lists_at_most_once_per_compaction(&spell, 12);
    let log = std::fs::read_to_string(spell.out.with_extension("log")).unwrap();
    assert!(log.contains("Cannot write the watch heartbeat"), "{log}");

    // Write access granted again: the next heartbeat is written, and from then on the quiet
    // watch stays current without a list.
    spell.sim.faults(json!({"forbidEventWrites": false}));
    wait_for(Duration::from_secs(10), "a heartbeat written", || {
        spell
            .emitter
            .metric("eventkeeper_watch_heartbeats_total")
            .filter(|n| *n >= 1.0)
    });
    let relists = spell.emitter.metric("eventkeeper_relists_total");
    for _ in 0..12 {
        spell.sim.post("/_sim/clock", json!({"advanceSeconds": 60}));
        std::thread::sleep(Duration::from_millis(1200));
    }
    assert_eq!(
        spell.emitter.metric("eventkeeper_relists_total"),
        relists,
        "no list once the heartbeat is written"
    );
    let all = all_observations(&spell.sim);
    assert_lossless(&settle(&all, &[&spell.out], Duration::from_secs(30)), 0);
}

#[test]
fn without_the_lease_namespace_in_scope_there_is_no_heartbeat_and_a_quiet_watch_lists_again() {
    // The Lease is in `default`; only `kube-system` is watched. A heartbeat there would not be
    // delivered by the watch, so it must not be written: today's behaviour, said once at start.
    let spell = quiet_spell(
        &["--watch-heartbeat", "1s", "--namespaces", "kube-system"],
        12,
    );
    assert_eq!(
        spell.lists, spell.relists as usize,
        "every list is a relist"
    );
    let log = std::fs::read_to_string(spell.out.with_extension("log")).unwrap();
    assert_eq!(
        log.matches("Watch heartbeat off: the Lease namespace is not watched")
            .count(),
        1,
        "{log}"
    );
    // Only `kube-system` was written to stdout, each observation once.
    assert_lists_at_most_once_per_compaction(&spell, 12);
}

/// The highest resourceVersion on stdout.
fn highest_written(out: &std::path::Path) -> u64 {
    records(out)
        .iter()
        .filter_map(|r| r["metadata"]["resourceVersion"].as_str()?.parse().ok())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_leader_that_retakes_its_own_lease_resumes_from_what_it_flushed() {
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("stdout.jsonl");
    // A checkpoint interval longer than the test: after the first one, the Lease's checkpoint
    // stays behind everything written.
    let emitter = start_emitter(&sim, "pod-a", &out, &["--checkpoint-interval", "1h"]);
    emitter.wait_leader(Duration::from_secs(10));
    let first = wait_for(Duration::from_secs(10), "the first checkpoint", || {
        checkpoint(&sim)
    });
    sim.generate(json!({"events": 1000, "ratePerSec": 0.0, "objects": 200, "repeatShare": 0.3}));
    let before = all_observations(&sim);
    assert_lossless(&settle(&before, &[&out], Duration::from_secs(30)), 0);
    assert_eq!(
        checkpoint(&sim),
        Some(first),
        "the checkpoint stayed behind"
    );
    let transitions =
        sim.lease("default", "eventkeeper").unwrap()["spec"]["leaseTransitions"].clone();

    // The API stops answering for longer than the renew deadline (1.5 s): the leader steps
    // down; when the API is back it retakes its own Lease, which nobody else held meanwhile.
    sim.faults(json!({"paused": true}));
    wait_for(Duration::from_secs(10), "the leader to step down", || {
        (emitter.metric("eventkeeper_leader") == Some(0.0)).then_some(())
    });
    sim.faults(json!({"paused": false}));
    emitter.wait_leader(Duration::from_secs(10));
    let lease = sim.lease("default", "eventkeeper").unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "pod-a");
    assert_eq!(
        lease["spec"]["leaseTransitions"], transitions,
        "no other holder"
    );

    sim.generate(json!({"events": 500, "ratePerSec": 0.0, "objects": 200, "repeatShare": 0.3}));
    let all = all_observations(&sim);
    // Resumed from what it had flushed, not from the old checkpoint: nothing written twice.
    assert_lossless(&settle(&all, &[&out], Duration::from_secs(30)), 0);
}

#[test]
fn checkpoint_writes_catch_up_as_soon_as_the_api_answers_again() {
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("stdout.jsonl");
    // Renewals every 5 s: a failed checkpoint write that waited for the next renewal would be
    // 5 s late; the renew deadline (20 s) outlasts the errors.
    let lease = [
        "--retry-period",
        "5s",
        "--renew-deadline",
        "20s",
        "--lease-duration",
        "30s",
        "--checkpoint-interval",
        "5s",
    ];
    let mut emitter = start_emitter(&sim, "pod-a", &out, &lease);
    emitter.wait_leader(Duration::from_secs(10));
    let rate = 500.0;
    sim.start_generating(
        json!({"events": 10_000, "ratePerSec": rate, "objects": 300, "repeatShare": 0.3}),
    );
    std::thread::sleep(Duration::from_secs(2));
    // The next two Lease requests get 500 while the watch goes on and lines are flushed.
    sim.faults(json!({"serverErrors": 2}));
    wait_for(Duration::from_secs(30), "both 500s to be answered", || {
        (sim.faults_state()["serverErrorsRemaining"] == 0).then_some(())
    });
    let answered = std::time::Instant::now();
    let target = highest_written(&out);
    wait_for(
        Duration::from_secs(30),
        "the checkpoint to catch up with stdout",
        || checkpoint(&sim).filter(|c| *c >= target),
    );
    let caught_up = answered.elapsed();
    eprintln!("the checkpoint caught up {caught_up:?} after the API answered again");
    assert!(
        caught_up < Duration::from_secs(2),
        "the checkpoint caught up {caught_up:?} after the API answered again, not at once"
    );
    // A kill -9 now replays at most one checkpoint interval of traffic.
    std::thread::sleep(Duration::from_millis(500));
    emitter.kill_and_restart();
    sim.wait_generated(10_000, Duration::from_secs(60));
    let c = settle(&all_observations(&sim), &[&out], Duration::from_secs(30));
    assert_lossless(&c, (rate * 5.0) as u32);
}

/// Lease-batched TTL expiry deletes a whole batch of Events at one revision. A watch cut inside
/// that burst resumes from the shared revision: the rest of the burst is behind it (deletions
/// are not records), no 410 and no relist follow, and nothing written afterwards is lost or
/// written twice.
#[test]
fn a_watch_cut_inside_a_shared_revision_burst_loses_nothing() {
    let sim = Sim::start(&[]);
    let out = sim.dir.path().join("stdout.jsonl");
    let emitter = start_emitter(&sim, "pod-a", &out, &[]);
    emitter.wait_leader(Duration::from_secs(10));
    // One write each, all within a minute of simulated time: one etcd lease, one expiry.
    sim.generate(json!({"events": 200, "ratePerSec": 0.0, "objects": 200, "repeatShare": 0.0}));
    assert_lossless(
        &settle(&all_observations(&sim), &[&out], Duration::from_secs(30)),
        0,
    );
    let restarts_before = emitter
        .metric("eventkeeper_watch_restarts_total")
        .unwrap_or(0.0);
    let relists_before = emitter.metric("eventkeeper_relists_total").unwrap_or(0.0);

    // Every watch ends after 50 events: the batch's 200 DELETEDs, at one revision, are cut.
    sim.faults(json!({"closeWatchesAfter": 50}));
    let expiry = sim.post("/_sim/clock", json!({"advanceSeconds": 3700}));
    assert!(
        expiry["expired"].as_u64().unwrap_or(0) >= 200,
        "the batch expired: {expiry}"
    );
    wait_for(
        Duration::from_secs(20),
        "the watch was cut in the burst",
        || {
            (emitter
                .metric("eventkeeper_watch_restarts_total")
                .unwrap_or(0.0)
                > restarts_before)
                .then_some(())
        },
    );
    sim.faults(json!({"closeWatchesAfter": 0}));

    sim.generate(json!({"events": 100, "ratePerSec": 0.0, "objects": 100, "repeatShare": 0.0, "namespaces": ["after"]}));
    let c = settle(&all_observations(&sim), &[&out], Duration::from_secs(30));
    assert_lossless(&c, 0);
    assert_eq!(
        emitter.metric("eventkeeper_relists_total").unwrap_or(0.0),
        relists_before,
        "resuming inside the burst needed no relist"
    );
    assert_eq!(
        emitter.metric("eventkeeper_gone_total").unwrap_or(0.0),
        0.0,
        "and met no 410"
    );
}

/// The first list meets an expired continue token (etcd compacted its snapshot mid-list): the
/// emitter lists again from a new snapshot and writes only what the first pass did not, in
/// etcd's key order (`kube-public/` < `kube-system/` < `kube/` < `kubea/`), where Events created
/// during the list land both behind and ahead of where the first pass stopped. Nothing is lost
/// and nothing is written twice, and the list remembers one key per pass, not one per Event.
#[test]
fn a_list_cut_by_an_expired_continue_token_writes_nothing_twice() {
    let namespaces = json!(["kube", "kube-system", "kube-public", "kubea"]);
    let sim = Sim::start(&["--continue-ttl", "5m"]);
    sim.generate(json!({"events": 2000, "ratePerSec": 0.0, "objects": 2000, "repeatShare": 0.0, "namespaces": namespaces}));
    // Slow pages (500 Events each): the list takes seconds, and the test moves the clock
    // after the first page. No Lease: its renewals would wait on the same latency.
    sim.faults(json!({"latencyMs": 400}));
    let out = sim.dir.path().join("stdout.jsonl");
    let _emitter = start_emitter(&sim, "pod-a", &out, &["--leader-election", "false"]);
    wait_for(Duration::from_secs(30), "the first page", || {
        let lines = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .count();
        (lines >= 500).then_some(())
    });
    sim.post("/_sim/clock", json!({"advanceSeconds": 400}));
    sim.generate(json!({"events": 200, "ratePerSec": 0.0, "objects": 200, "repeatShare": 0.0, "namespaces": namespaces, "seed": 7}));
    let c = settle(&all_observations(&sim), &[&out], Duration::from_secs(60));
    assert_lossless(&c, 0);
    let log = std::fs::read_to_string(out.with_extension("log")).unwrap_or_default();
    assert!(
        log.contains("Continue token expired"),
        "the list met an expired continue token: {log}"
    );
}

#[test]
fn a_hundred_and_twenty_namespace_watches_over_https_leave_the_lease_renewals_unstarved() {
    // The simulator over HTTPS offers HTTP/2 by ALPN and allows 100 concurrent streams per
    // connection. 120 per-namespace watches multiplexed on one connection would leave 20
    // watches, and every Lease renewal behind them, waiting for a free stream.
    // The test harness's HTTP client speaks plain HTTP only, so the simulator's admin API is
    // out of reach: it generates 600 new Events over about 15 s from its start instead (no
    // repeats: a version superseded before the emitter's first list exists nowhere to be
    // written), and the check is that stdout has exactly those 600 observations, each once.
    let namespaces: Vec<String> = (0..120).map(|i| format!("team-{i:03}")).collect();
    let generate = json!({"events": 600, "ratePerSec": 40.0, "objects": 240, "repeatShare": 0.0,
                          "namespaces": namespaces})
    .to_string();
    let sim = Sim::start(&[
        "--tls",
        "--generate",
        &generate,
        "--log-level",
        "warn,eventkeeper_sim::router=debug",
    ]);
    let out = sim.dir.path().join("stdout.jsonl");
    let listed = namespaces.join(",");
    let emitter = start_emitter(&sim, "pod-a", &out, &["--namespaces", &listed]);
    emitter.wait_leader(Duration::from_secs(30));
    let written = wait_for(Duration::from_secs(60), "600 records", || {
        let written = tally_records(&records(&out));
        (written.values().sum::<u32>() >= 600).then_some(written)
    });
    assert_eq!(written.len(), 600, "distinct observations on stdout");
    assert!(
        written.values().all(|n| *n == 1),
        "an observation written twice"
    );
    let in_namespaces: std::collections::BTreeSet<String> = records(&out)
        .iter()
        .filter_map(|r| r["metadata"]["namespace"].as_str().map(str::to_owned))
        .collect();
    assert!(
        in_namespaces.len() > 100,
        "{} namespaces",
        in_namespaces.len()
    );
    let renewals = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|l| l.contains("method=PUT") && l.contains("/leases/eventkeeper"))
            .count()
    };
    // Five more seconds with every watch open: the Lease is renewed every 250 ms (FAST_LEASE;
    // a leader that cannot renew for 1.5 s steps down) and never changes hands.
    let before = renewals(&sim);
    std::thread::sleep(Duration::from_secs(5));
    let during = renewals(&sim) - before;
    assert!(during >= 10, "{during} Lease renewals in 5 s");
    assert!(emitter.is_leader());
    assert_eq!(
        emitter.metric("eventkeeper_leader_transitions_total"),
        Some(1.0)
    );
    assert_eq!(emitter.probe("/readyz"), Some((200, "leader".to_owned())));
    let requests = sim.requests();
    for namespace in &namespaces {
        let watch = format!("path=/api/v1/namespaces/{namespace}/events query=Some(\"&watch=true");
        assert!(
            requests.iter().any(|l| l.contains(&watch)),
            "no watch of {namespace}"
        );
    }
    // Why nothing waits: the emitter's client (kube-rs with rustls) offers only HTTP/1.1 by
    // ALPN, so each watch is a connection of its own and no stream limit applies. If a client
    // upgrade brings HTTP/2, this says so, and the renewals above say whether it starves.
    let versions: std::collections::BTreeSet<&str> = requests
        .iter()
        .filter_map(|l| l.split("version=").nth(1))
        .map(|v| v.split_whitespace().next().unwrap_or(v))
        .collect();
    assert_eq!(
        versions,
        ["HTTP/1.1"].into(),
        "the emitter's API requests used {versions:?}"
    );
}

#[test]
fn bad_configuration_exits_64_with_one_line() {
    for args in [
        vec!["run"],
        vec!["run", "--cluster-name", "c", "--include", "colour=red"],
        vec!["run", "--cluster-name", "c", "--flush-interval", "5"],
        vec!["run", "--cluster-name", "c", "--max-line-bytes", "100"],
        vec!["run", "--cluster-name", "c", "--watch-heartbeat", "soon"],
        vec!["--cluster-name", "c", "--lease-duration", "1s"],
        vec![
            "--cluster-name",
            "c",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ],
    ] {
        let output = std::process::Command::new(emitter_bin())
            .args(&args)
            .env_remove("KUBECONFIG")
            .env_remove("EVENTKEEPER_CLUSTER_NAME")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}
