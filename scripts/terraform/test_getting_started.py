"""docs/getting-started.md, run where it can run without a cluster: its Terraform block through the
module's checks (arguments the module declares, required ones given, validations and the Lambda
preconditions run by terraform), its Logs Insights query through the query checker and the
evaluator on the real records of docs/schema.md, its Athena query against docs/athena.md.

The `helm install` command is rendered by the Helm engine in scripts/release/test_getting_started.py.
"""

from __future__ import annotations

import copy
import re
import tempfile
import unittest
from pathlib import Path

import hcl2

from insights_eval import select
from logs_insights import Schema, check
from test_module import NEEDS_TERRAFORM, SCHEMA_DOC
from test_release_inputs import Plan
from test_scenarios import RECORDS
from tf_module import MODULE_DIR, ROOT, Module, unquote

GUIDE = (ROOT / "docs/getting-started.md").read_text()
MODULE = Module()


def fenced(language: str) -> list[str]:
    return re.findall(r"^```" + language + r"\n(.*?)^```$", GUIDE, flags=re.M | re.S)


def marked(marker: str) -> list[tuple[str, str]]:
    """(attributes, block) of every fenced block right after `<!-- doc-test: MARKER ... -->`."""
    return re.findall(r"^<!-- doc-test: " + marker + r"(.*?) -->\n```[a-z]*\n(.*?)^```$", GUIDE,
                      flags=re.M | re.S)


def workspace_version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), flags=re.M).group(1)


class TerraformBlock(unittest.TestCase):
    def setUp(self) -> None:
        blocks = fenced("hcl")
        self.assertEqual(len(blocks), 1, "the guide has one Terraform block")
        self.module = unquote(hcl2.loads(blocks[0]))["module"][0]["eventkeeper"]

    def test_it_uses_the_released_module_and_zip(self):
        version = workspace_version()
        self.assertTrue(self.module["source"].endswith(
            f"//infra/terraform/modules/eventkeeper?ref=v{version}"), self.module["source"])
        arch = {"arm64": "arm64", "x86_64": "amd64"}[self.module["architecture"]]
        self.assertEqual(Path(self.module["lambda_zip_path"]).name,
                         f"eventkeeper-catchup-{version}-linux-{arch}.zip")
        self.assertEqual(str(Path(self.module["lambda_zip_path"]).parent), f"eventkeeper-{version}",
                         "where scripts/fetch-release.sh puts it by default")

    def test_every_argument_is_a_module_variable_and_the_required_ones_are_given(self):
        declared = {name: body for block in MODULE.blocks("variable") for name, body in block.items()}
        given = set(self.module) - {"source"}
        self.assertEqual(given - set(declared), set())
        required = {name for name, body in declared.items() if "default" not in body}
        self.assertEqual(required - given, set())

    @NEEDS_TERRAFORM
    def test_the_module_accepts_it_at_plan_time(self):
        values = {k: str(v) for k, v in self.module.items()
                  if k != "source" and isinstance(v, (str, int, float, bool))}
        values = {k: str(v).lower() if isinstance(self.module[k], bool) else v for k, v in values.items()}
        with tempfile.TemporaryDirectory() as tmp:
            plan = Plan(Path(tmp))
            result = plan(**values)
            self.assertEqual(result.returncode, 0, result.stderr)
            # ... and the same plan refuses it without the zip: the check can fail.
            values.pop("lambda_zip_path")
            self.assertNotEqual(plan(**values).returncode, 0)


class LogsInsightsQuery(unittest.TestCase):
    schema = Schema(SCHEMA_DOC)

    def test_the_query_passes_the_checker_and_selects_the_warnings_of_its_cluster(self):
        blocks = marked("logs-insights")
        self.assertTrue(blocks, "no Logs Insights block marked for the doc test")
        for attributes, query in blocks:
            options = dict(re.findall(r"(\w+)=(\S+)", attributes))
            prefix, cluster = options["prefix"], options["cluster"]
            self.assertEqual(check(query, self.schema, prefix), [], query)
            key = prefix.rstrip(".")
            ours = [dict(copy.deepcopy(r), cluster=cluster) for r in RECORDS]
            other = [dict(copy.deepcopy(r), cluster="another-cluster") for r in RECORDS]
            shipped = [{key: r, "log": "{}", "kubernetes": {"container_name": "emitter"}} for r in ours + other]
            shipped.append({"log": "INFO emitter: watching events", "kubernetes": {"container_name": "emitter"}})
            rows = select(query, shipped)
            warnings = [r for r in ours if r["type"] == "Warning"]
            self.assertTrue(warnings, "the real records have Warnings")
            self.assertEqual(len(rows), len(warnings), "every Warning of the cluster, nothing else")
            self.assertTrue(all(row[f"{prefix}cluster"] == cluster and row[f"{prefix}type"] == "Warning"
                                for row in rows))


class AthenaQuery(unittest.TestCase):
    def test_the_query_is_one_of_docs_athena(self):
        blocks = marked("athena")
        self.assertTrue(blocks)
        athena = (ROOT / "docs/athena.md").read_text()
        for _, query in blocks:
            self.assertIn(f"```sql\n{query}```", athena)


if __name__ == "__main__":
    unittest.main()
