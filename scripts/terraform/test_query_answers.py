"""Each saved query and dashboard widget, run whole (filter, parse, fields, stats, sort, dedup,
limit) by insights_eval.run on real records nested the way each shipper nests them, returns the
rows that answer its question.

The records are the seed scenarios of docs/schema.md (what `convert` prints for
tests/fixtures/seeds, checked current by core's tests) and fixtures/kills-evictions-nodes.jsonl:
the reasons the seeds lack (failed probes, a liveness kill, a crash loop, a kernel OOM kill, an
eviction, a NotReady node, a taint eviction, a preemption). That file is what the real emitter
prints for the Events in fixtures/kills-evictions-nodes.events.json served by the simulator
(`make kills-fixture` regenerates it), with messages as the kubelet, node controller, scheduler
and node-problem-detector word them (the project's real-event corpus has several of them
verbatim). Tests below hold the fixture to schema v1 and to its input.
"""

import json
import re
import unittest
from pathlib import Path

from insights_eval import flatten, natural_compare, run
from logs_insights import Schema, check
from test_scenarios import seed_records

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "infra/terraform/modules/eventkeeper"
SCHEMA = Schema.load(ROOT / "docs/schema/event-v1.json")
PREFIXES = ("log_processed.", "data.", "")
SEEDS = seed_records()
MORE = [json.loads(line) for line in
        (Path(__file__).parent / "fixtures/kills-evictions-nodes.jsonl").read_text().splitlines()]
POD = {"pod_name": "eventkeeper-7d9f-x2", "namespace_name": "eventkeeper", "container_name": "emitter"}
# When the shipper wrote every line: one instant, as after an emitter restart whose relist
# writes hour-old Events again. Only effectiveTime tells them apart.
RELIST_AT = 1_795_000_000_000


def shipped(records: list[dict], prefix: str, written_at=lambda i: RELIST_AT) -> list[dict]:
    """`records` as the shipper of `prefix` stores them, with lines that are not records."""
    key = prefix.rstrip(".")
    events = []
    for i, record in enumerate(records):
        event = {key: record, "log": json.dumps(record)} if key else dict(record)
        events.append(dict(event, kubernetes=POD, **{"@timestamp": written_at(i)}))
    # Another application's JSON log with an Event's words, and a plain diagnostic line.
    other = {"reason": "Killing", "type": "Warning", "message": "Back-off restarting failed container"}
    events.append({**({key: other} if key else other), "@timestamp": RELIST_AT,
                   "kubernetes": dict(POD, container_name="app")})
    events.append({"log": "INFO emitter: watching events", "kubernetes": POD, "@timestamp": RELIST_AT})
    return events


def template(folder: str, name: str, prefix: str, **replace) -> str:
    text = (MODULE_DIR / folder / f"{name}.tftpl").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return text.replace("${p}", prefix)


def answer(name, prefix, records, folder="queries", **replace):
    return run(template(folder, name, prefix, **replace), shipped(records, prefix))


def pairs(rows, *columns):
    return [tuple(row[c] for c in columns) for row in rows]


class TheFixtureIsSchemaV1(unittest.TestCase):
    def test_every_field_is_in_the_schema_and_derived_fields_agree(self):
        seed_keys = set().union(*(r.keys() for r in SEEDS))
        for record in MORE:
            with self.subTest(record=record["metadata"]["name"]):
                self.assertEqual(record["schemaVersion"], 1)
                self.assertLessEqual(set(record), seed_keys | {"action"})
                for path in flatten(record):
                    self.assertTrue(SCHEMA.has(path), path)
                self.assertEqual(record["effectiveTime"], record[record["effectiveTimeField"]])
                self.assertEqual(record["occurrences"], record.get("count", 1))
                self.assertTrue(record["effectiveTime"].endswith("Z"))

    def test_the_fixture_is_the_emitters_record_of_each_input_event(self):
        events = json.loads((Path(__file__).parent / "fixtures/kills-evictions-nodes.events.json").read_text())
        self.assertEqual(len(MORE), len(events))
        derived = {"schemaVersion", "cluster", "origin", "originalApiVersion", "effectiveTime",
                   "effectiveTimeField", "occurrences", "reporter"}
        for record, event in zip(MORE, events):
            with self.subTest(event=event["metadata"]["name"]):
                self.assertEqual(record["origin"], "relist", "printed by the emitter's list")
                as_event = {k: v for k, v in record.items() if k not in derived}
                metadata = {k: v for k, v in as_event.pop("metadata").items()
                            if k not in ("uid", "resourceVersion")}
                expected = {k: v for k, v in event.items() if k not in ("apiVersion", "kind")}
                self.assertEqual(metadata, expected.pop("metadata"))
                self.assertEqual(as_event, expected)

    def test_the_fixture_adds_what_the_seeds_lack(self):
        self.assertFalse({"Unhealthy", "OOMKilling", "Evicted", "Preempted"} & {r["reason"] for r in SEEDS})
        self.assertLessEqual({"Unhealthy", "Killing", "BackOff", "OOMKilling", "Evicted",
                              "TaintManagerEviction", "Preempted", "NodeNotReady"},
                             {r["reason"] for r in MORE})


class WhyWasThisPodKilled(unittest.TestCase):
    def test_the_seeds_answer_nginxs_killing_and_not_scenario_bs_image_back_off(self):
        for prefix in PREFIXES:
            rows = answer("why-pod-killed", prefix, SEEDS)
            self.assertEqual(rows, [{
                "kind": "Pod", "namespace": "default", "object": "nginx", "reason": "Killing",
                "observations": 1, "occurrences": 1, "first_seen": "2023-03-14T05:21:02Z",
                "last_seen": "2023-03-14T05:21:02Z", "message": "Stopping container nginx"}], prefix)

    def test_every_cause_the_last_first(self):
        for prefix in PREFIXES:
            rows = answer("why-pod-killed", prefix, SEEDS + MORE)
            self.assertEqual(pairs(rows, "object", "reason"), [
                ("report-job-28113710-4xk7d", "Preempted"),
                ("web-6b7f9c8d5-k2v9p", "TaintManagerEviction"),
                ("batch-worker-5d9c7b6f4-q7w2x", "Evicted"),
                ("ip-10-42-104-177.us-west-2.compute.internal", "OOMKilling"),
                ("memory-hog-77bc84f698-8ddlj", "BackOff"),
                ("memory-hog-77bc84f698-8ddlj", "Killing"),
                ("memory-hog-77bc84f698-8ddlj", "Unhealthy"),
                ("nginx", "Killing"),
            ], prefix)
            unhealthy = rows[6]
            self.assertEqual(unhealthy["occurrences"], 12)
            self.assertIn("Liveness probe failed", unhealthy["message"])
            self.assertEqual(rows[3]["kind"], "Node")
            self.assertIn("(memory-hog)", rows[3]["message"])

    def test_repeats_of_one_event_are_one_row_with_first_and_last_times(self):
        # The watch sees each repeat: Unhealthy at count 1, 2 and 12 (different resourceVersions).
        unhealthy = MORE[0]
        repeats = []
        for count, time in ((1, "2026-11-20T09:58:10Z"), (2, "2026-11-20T09:58:20Z"), (12, unhealthy["lastTimestamp"])):
            record = json.loads(json.dumps(unhealthy))
            record.update(count=count, occurrences=count, lastTimestamp=time, effectiveTime=time)
            record["metadata"]["resourceVersion"] = f"{record['metadata']['resourceVersion']}{count}"
            repeats.append(record)
        rows = answer("why-pod-killed", "data.", repeats)
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["observations"], rows[0]["occurrences"]), (3, 12))
        self.assertEqual((rows[0]["first_seen"], rows[0]["last_seen"]),
                         ("2026-11-20T09:58:10Z", "2026-11-20T10:01:40Z"))


class TheOtherQuestions(unittest.TestCase):
    def test_crashloop_backoff_needs_a_crash_not_an_image_pull(self):
        for prefix in PREFIXES:
            self.assertEqual(answer("crashloop-backoff", prefix, SEEDS), [], prefix)
            rows = answer("crashloop-backoff", prefix, SEEDS + MORE)
            self.assertEqual(pairs(rows, "object", "container", "occurrences"),
                             [("memory-hog-77bc84f698-8ddlj", "spec.containers{memory-hog}", 9)])

    def test_image_pull_failures_are_scenario_bs(self):
        for prefix in PREFIXES:
            rows = answer("image-pull-failures", prefix, SEEDS + MORE)
            self.assertEqual({(r["object"], r["reason"], r["occurrences"]) for r in rows},
                             {("scenario-b-cff56c84-xn9hh", "Failed", 151),
                              ("scenario-b-cff56c84-xn9hh", "BackOff", 151)}, prefix)
            self.assertEqual({r["last_seen"] for r in rows}, {"2023-10-19T21:48:47Z"})

    def test_evictions_and_preemptions_newest_first(self):
        for prefix in PREFIXES:
            self.assertEqual(answer("evictions-preemptions", prefix, SEEDS), [])
            rows = answer("evictions-preemptions", prefix, SEEDS + MORE)
            self.assertEqual(pairs(rows, "reason", "object"), [
                ("Preempted", "report-job-28113710-4xk7d"),
                ("TaintManagerEviction", "web-6b7f9c8d5-k2v9p"),
                ("Evicted", "batch-worker-5d9c7b6f4-q7w2x"),
                ("EvictionThresholdMet", "ip-10-42-104-177.us-west-2.compute.internal"),
            ], prefix)
            self.assertIn("low on resource: memory", rows[2]["message"])

    def test_node_problems_newest_first(self):
        for prefix in PREFIXES:
            self.assertEqual(answer("node-problems", prefix, SEEDS), [])
            rows = answer("node-problems", prefix, SEEDS + MORE)
            self.assertEqual(pairs(rows, "kind", "reason"), [
                ("Node", "NodeReady"), ("Pod", "NodeNotReady"), ("Node", "NodeNotReady"),
                ("Node", "EvictionThresholdMet"), ("Node", "NodeHasInsufficientMemory"),
                ("Node", "OOMKilling"),
            ], prefix)

    def test_object_history_by_name_prefix_follows_a_deployment_by_name(self):
        for prefix in PREFIXES:
            rows = answer("object-history-by-prefix", prefix, SEEDS + MORE,
                          **{'"default"': '"test"', "/^my-app/": "/^scenario-c/"})
            self.assertEqual(pairs(rows, "kind", "object", "reason"), [
                ("Pod", "scenario-c-6d988b8d84-gghjv", "FailedScheduling"),
                ("Deployment", "scenario-c", "ScalingReplicaSet"),
            ], prefix)
            rows = answer("object-history-by-prefix", prefix, SEEDS + MORE,
                          **{'"default"': '"test"', "/^my-app/": "/^scenario-b-/"})
            self.assertEqual([r["reason"] for r in rows],
                             ["Pulling", "Failed", "Failed", "BackOff", "Failed"])
            self.assertEqual([r["time"] for r in rows], sorted(r["time"] for r in rows))

    def test_a_prefix_that_matches_nothing_gives_nothing(self):
        rows = answer("object-history-by-prefix", "", SEEDS + MORE,
                      **{'"default"': '"test"', "/^my-app/": "/^scenario-z/"})
        self.assertEqual(rows, [])


class EveryTemplateRuns(unittest.TestCase):
    def test_every_query_and_widget_runs_whole_for_every_prefix(self):
        records = SEEDS + MORE
        warnings = sum(r["type"] == "Warning" for r in records)
        for folder in ("queries", "dashboard"):
            for path in sorted((MODULE_DIR / folder).glob("*.tftpl")):
                for prefix in PREFIXES:
                    with self.subTest(query=f"{folder}/{path.stem}", prefix=prefix):
                        run(template(folder, path.stem, prefix), shipped(records, prefix))
        for prefix in PREFIXES:
            totals = answer("totals", prefix, records, folder="dashboard")
            self.assertEqual(totals, [{"Events": len(records), "Warnings": warnings,
                                       "Objects": len({r["involvedObject"]["name"] for r in records}),
                                       "Namespaces": 3}])
            histogram = answer("events-histogram", prefix, records, folder="dashboard")
            self.assertEqual([(h["Normal"], h["Warning"]) for h in histogram],
                             [(len(records) - warnings, warnings)])  # one write instant: one bin
            by_reason = answer("warnings-by-reason", prefix, records)
            self.assertEqual(sum(r["warnings"] for r in by_reason), warnings)
            self.assertEqual({r["reason"] for r in by_reason if r["warnings"] == by_reason[0]["warnings"]},
                             {"Failed", "FailedScheduling"})
            scheduling = answer("failed-scheduling", prefix, records)
            self.assertEqual({(r["pod"], r["insufficient"]) for r in scheduling},
                             {("scenario-c-6d988b8d84-gghjv", "cpu"), ("mega-pod", "cpu"),
                              ("intolerable-pod", None)})
            noisiest = answer("noisiest-objects", prefix, records)
            self.assertEqual(noisiest[0]["observations"], 5)
            top = {r["object"]: r["occurrences"] for r in noisiest if r["observations"] == 5}
            self.assertEqual(top, {"nginx98": 1, "scenario-b-cff56c84-xn9hh": 151})


class OrderIsTheEventsOwnTime(unittest.TestCase):
    def test_latest_events_follow_effective_time_not_the_write_time(self):
        # Written in reverse: the oldest Event last, as a relist after a restart may.
        records = sorted(SEEDS + MORE, key=lambda r: r["effectiveTime"])
        for prefix in PREFIXES:
            events = shipped(records, prefix, written_at=lambda i: RELIST_AT - i * 1000)
            rows = run(template("dashboard", "latest-events", prefix), events)
            self.assertEqual(len(rows), len(records))
            times = [r["time"] for r in rows]
            self.assertEqual(times, sorted(times, reverse=True), prefix)
            self.assertEqual(rows[0]["reason"], "Preempted")
            # Sorting by @timestamp instead would have put the oldest Event first.
            by_write = run(template("dashboard", "latest-events", prefix).replace(
                "sort time desc", "sort @timestamp desc"), events)
            self.assertEqual(by_write[0]["time"], min(times))

    def test_no_query_or_widget_sorts_by_write_time(self):
        for folder in ("queries", "dashboard"):
            for path in (MODULE_DIR / folder).glob("*.tftpl"):
                body = "\n".join(l for l in path.read_text().splitlines() if not l.startswith("#"))
                self.assertNotIn("sort @timestamp", body, path.name)
                self.assertNotRegex(body, r"(max|min)\(\$\{p\}effectiveTime\)", path.name)


class DedupeHints(unittest.TestCase):
    HINT = re.compile(r"`\| (dedup [^`]+)`")

    def hints(self, doc: str) -> dict[str, str]:
        found = self.HINT.findall((ROOT / doc).read_text())
        by_prefix = {}
        for hint in found:
            prefix = next((p for p in PREFIXES if p and f" {p}metadata" in hint), "")
            by_prefix[prefix] = hint
        self.assertEqual(len(found), 3, doc)
        return by_prefix

    def test_each_doc_has_a_hint_per_prefix_that_drops_repeated_observations(self):
        for doc in ("docs/log-pipeline.md", "docs/schema.md"):
            hints = self.hints(doc)
            self.assertEqual(set(hints), set(PREFIXES), doc)
            for prefix, hint in hints.items():
                with self.subTest(doc=doc, prefix=prefix):
                    query = (f"filter ispresent({prefix}schemaVersion) | fields {prefix}reason as "
                             f"reason, {prefix}effectiveTime as time | sort time desc | {hint}")
                    self.assertEqual(check(query, SCHEMA, prefix), [])
                    # At least once: every record written twice.
                    rows = run(query, shipped(SEEDS + SEEDS, prefix))
                    self.assertEqual(len(rows), len(SEEDS))
                    self.assertEqual(len(run(query.rsplit("|", 1)[0], shipped(SEEDS + SEEDS, prefix))),
                                     2 * len(SEEDS))


class TheEvaluatorCanSayNo(unittest.TestCase):
    def test_the_documented_sort_order(self):
        import functools
        expected = ["!:", "# *%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj",
                    "a12345hfh", "0", "01", "1", "2", "3"]
        self.assertEqual(sorted(reversed(expected), key=functools.cmp_to_key(natural_compare)),
                         expected)

    def test_max_of_text_is_an_error_and_unknown_commands_are_refused(self):
        with self.assertRaises(ValueError):
            run("stats max(effectiveTime) as t", SEEDS)
        with self.assertRaises(ValueError):
            run("pattern message", SEEDS)

    def test_stats_sort_and_limit(self):
        rows = run("stats count(*) as n, sum(occurrences) as total by reason | sort n desc, reason asc"
                   " | limit 2", SEEDS)
        self.assertEqual(rows, [{"reason": "Failed", "n": 3, "total": 165},
                                {"reason": "FailedScheduling", "n": 3, "total": 10}])
        self.assertEqual(run("stats count(*) as n", []), [])
        self.assertEqual(run('filter reason = "Killing" | display reason, message', SEEDS),
                         [{"reason": "Killing", "message": "Stopping container nginx"}])


if __name__ == "__main__":
    unittest.main()
