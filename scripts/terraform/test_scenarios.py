"""The saved queries answer the seed scenarios: their filters and parses, run in Python on the real
records of docs/schema.md (scenario-a/b/c, mega-pod, intolerable-pod, nginx), nested the way each
shipper nests them and mixed with lines that are not records, select what they should."""

import json
import re
import unittest
from pathlib import Path

from insights_eval import select

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "infra/terraform/modules/eventkeeper"


def seed_records() -> list[dict]:
    text = (ROOT / "docs/schema.md").read_text()
    block = text[text.index("<!-- seed-lines:start -->"):text.index("<!-- seed-lines:end -->")]
    return [json.loads(line) for line in block.splitlines() if line.startswith('{"schemaVersion"')]


RECORDS = seed_records()
POD = {"pod_name": "eventkeeper-7d9f-x2", "namespace_name": "eventkeeper", "container_name": "emitter"}


def shipped(prefix: str) -> list[dict]:
    """The records as the shipper of `prefix` stores them, plus lines that are not records."""
    key = prefix.rstrip(".")
    if key:
        events = [{key: r, "log": json.dumps(r), "kubernetes": POD} for r in RECORDS]
        # Another application's JSON log that happens to have a `reason` and a `type`.
        events.append({key: {"reason": "FailedMount", "type": "Warning", "message": "not an Event"},
                       "kubernetes": dict(POD, container_name="app")})
        events.append({"log": "INFO emitter: watching events", "kubernetes": POD})
        return events
    return [dict(r, kubernetes=POD) for r in RECORDS]


def query(folder: str, name: str, prefix: str, **replace) -> str:
    text = (MODULE_DIR / folder / f"{name}.tftpl").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return text.replace("${p}", prefix)


class SeedScenarios(unittest.TestCase):
    def run_query(self, name, prefix, folder="queries", **replace):
        return select(query(folder, name, prefix, **replace), shipped(prefix))

    def objects(self, rows, prefix):
        return {r[f"{prefix}involvedObject.name"] for r in rows}

    def test_the_seed_has_the_scenarios(self):
        reasons = {r["reason"] for r in RECORDS}
        self.assertLessEqual({"FailedMount", "Failed", "BackOff", "FailedScheduling"}, reasons)

    def test_scenario_a_failed_mount(self):
        for prefix in ("log_processed.", "data.", ""):
            rows = self.run_query("failed-mount", prefix)
            self.assertEqual(self.objects(rows, prefix), {"scenario-a-5c8f8d7d9b-8xq2m"}, prefix)
            self.assertIn('secret "misspelt-secret-name" not found', rows[0][f"{prefix}message"])

    def test_scenario_b_image_pull(self):
        for prefix in ("log_processed.", "data.", ""):
            rows = self.run_query("image-pull-failures", prefix)
            self.assertEqual(self.objects(rows, prefix), {"scenario-b-cff56c84-xn9hh"}, prefix)
            self.assertEqual({r[f"{prefix}reason"] for r in rows}, {"Failed", "BackOff"})
            self.assertEqual(len(rows), 4)  # ErrImagePull, pull access denied, ImagePullBackOff, Back-off

    def test_scenario_c_and_the_blog_pods_failed_scheduling(self):
        for prefix in ("log_processed.", "data.", ""):
            rows = self.run_query("failed-scheduling", prefix)
            by_pod = {r[f"{prefix}involvedObject.name"]: r for r in rows}
            self.assertEqual(set(by_pod), {"scenario-c-6d988b8d84-gghjv", "mega-pod", "intolerable-pod"})
            self.assertEqual(by_pod["scenario-c-6d988b8d84-gghjv"]["insufficient"], "cpu")
            self.assertEqual(by_pod["mega-pod"]["insufficient"], "cpu")
            self.assertEqual(by_pod["intolerable-pod"]["taint"], "{key1: value1}")
            self.assertIsNone(by_pod["intolerable-pod"]["insufficient"])

    def test_object_history_is_the_describe_view(self):
        rows = self.run_query("object-history", "log_processed.",
                              **{'"default"': '"default"', '"my-pod"': '"nginx98"'})
        self.assertEqual([r["log_processed.reason"] for r in rows],
                         ["Scheduled", "Pulling", "Pulled", "Created", "Started"])

    def test_warnings_and_back_offs(self):
        warnings = self.run_query("warnings-by-reason", "data.")
        self.assertEqual(len(warnings), sum(r.get("type") == "Warning" for r in RECORDS))
        # scenario-b's BackOff is "Back-off pulling image": an image pull, not a crash loop.
        self.assertEqual({r["reason"] for r in self.run_query("image-pull-failures", "")},
                         {"Failed", "BackOff"})
        self.assertEqual(self.run_query("crashloop-backoff", ""), [])
        self.assertEqual(self.run_query("evictions-preemptions", ""), [])
        self.assertEqual(self.run_query("node-problems", ""), [])

    def test_only_records_reach_the_dashboard_and_the_noisiest_objects(self):
        for prefix in ("log_processed.", "data.", ""):
            for name in ("latest-events", "events-histogram", "totals"):
                self.assertEqual(len(self.run_query(name, prefix, folder="dashboard")), len(RECORDS))
            self.assertEqual(len(self.run_query("noisiest-objects", prefix)), len(RECORDS))
            namespaces = self.run_query("warnings-by-namespace", prefix, folder="dashboard")
            self.assertTrue(all(r[f"{prefix}type"] == "Warning" for r in namespaces))

    def test_the_evaluator_can_say_no(self):
        self.assertEqual(select('filter reason = "Nope"', RECORDS), [])
        self.assertEqual(len(select('filter not (reason = "Nope")', RECORDS)), len(RECORDS))
        self.assertEqual(len(select("filter message like /(?i)SCENARIO-C/", RECORDS)), 1)
        rows = select(r'parse message /Insufficient (?<what>\w+)/ | filter what = "cpu"', RECORDS)
        self.assertEqual(len(rows), 2)
        self.assertTrue(re.match(r"\d", rows[0]["metadata.resourceVersion"]))


if __name__ == "__main__":
    unittest.main()
