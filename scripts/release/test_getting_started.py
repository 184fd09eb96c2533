"""docs/getting-started.md's `helm install` command, run through the real Helm engine with exactly
its values; the README's first screen (the two install commands, then the local demo); one
guarantee statement, word for word the same in README.md, the chart README and the guide.

Needs helm-python-sdk (the chart-helm venv: `make release-check`). The guide's Terraform block
and queries are checked in scripts/terraform/test_getting_started.py.
"""

from __future__ import annotations

import re
import shlex
import unittest
from pathlib import Path

import helm_python as hp
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "eventkeeper"
GUIDE = (REPO / "docs" / "getting-started.md").read_text()
README = (REPO / "README.md").read_text()
CHART_README = (CHART / "README.md").read_text()
CHART_REF = "oci://ghcr.io/eventkeeper/charts/eventkeeper"


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.M | re.S)


def helm_install(text: str) -> list[str]:
    """The argv of the first `helm install` command of a text's sh blocks."""
    for block in sh_blocks(text):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith("helm install "):
                return shlex.split(command)
    raise AssertionError("no helm install command")


def parse_helm(argv: list[str]) -> dict:
    """release, chart, version, namespace, create-namespace and --set values (as Helm types them)."""
    assert argv[:2] == ["helm", "install"], argv
    out: dict = {"release": argv[2], "chart": argv[3], "values": {}, "create_namespace": False}
    args = iter(argv[4:])
    for arg in args:
        if arg == "--version":
            out["version"] = next(args)
        elif arg in ("-n", "--namespace"):
            out["namespace"] = next(args)
        elif arg == "--create-namespace":
            out["create_namespace"] = True
        elif arg == "--set":
            key, value = next(args).split("=", 1)
            typed = {"true": True, "false": False}.get(value, value)
            node = out["values"]
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = int(typed) if isinstance(typed, str) and typed.isdigit() else typed
        else:
            raise AssertionError(f"an argument the check does not know: {arg}")
    return out


def chart_version() -> str:
    return yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]


def guarantee(text: str) -> str:
    match = re.search(r"<!-- guarantee:start -->\n(.*?)<!-- guarantee:end -->", text, flags=re.S)
    assert match, "no guarantee block"
    return match.group(1)


class HelmCommand(unittest.TestCase):
    def test_the_guides_command_renders_with_its_values(self):
        helm = parse_helm(helm_install(GUIDE))
        self.assertEqual(helm["chart"], CHART_REF)
        self.assertEqual(helm["version"], chart_version())
        self.assertTrue(helm["create_namespace"])
        with hp.Chart.load(CHART) as chart:
            rendered = chart.render(values=helm["values"], name=helm["release"], namespace=helm["namespace"])
        docs = [d for path, text in rendered.items() if path.endswith(".yaml")
                for d in yaml.safe_load_all(text) if d]
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env["EVENTKEEPER_CLUSTER_NAME"], helm["values"]["clusterName"])
        # The Lease the guide's Terraform block gives the catch-up.
        hcl = re.search(r"^```hcl\n(.*?)^```$", GUIDE, flags=re.M | re.S).group(1)
        lease_ns = re.search(r'lease_namespace\s*=\s*"([^"]+)"', hcl).group(1)
        lease_name = re.search(r'lease_name\s*=\s*"([^"]+)"', hcl).group(1)
        self.assertEqual((env["EVENTKEEPER_LEASE_NAMESPACE"], env["EVENTKEEPER_LEASE_NAME"]), (lease_ns, lease_name))
        cluster = re.search(r'cluster_name\s*=\s*"([^"]+)"', hcl).group(1)
        self.assertEqual(cluster, helm["values"]["clusterName"])
        # catchUpAccess: the group the module's access entry maps the Lambda to.
        groups = {s["name"] for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")
                  for s in d["subjects"] if s["kind"] == "Group"}
        self.assertEqual(groups, {"eventkeeper-catchup"})
        notes = next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))
        self.assertIn(f'lease_name      = "{lease_name}"', notes)

    def test_a_wrong_value_in_the_command_would_be_caught(self):
        helm = parse_helm(helm_install(GUIDE))
        helm["values"]["clusterNmae"] = helm["values"].pop("clusterName")
        with hp.Chart.load(CHART) as chart, self.assertRaises((hp.HelmValuesError, hp.HelmRenderError)):
            chart.render(values=helm["values"], name=helm["release"], namespace=helm["namespace"])

    def test_the_chart_readme_starts_with_the_registry_install(self):
        first_block = sh_blocks(CHART_README)[0]
        helm = parse_helm(helm_install(first_block.join(["```sh\n", "```\n"])))
        self.assertEqual(helm["chart"], CHART_REF)
        self.assertEqual(helm["version"], chart_version())
        self.assertEqual(helm["namespace"], "eventkeeper")
        self.assertIn("clusterName", helm["values"])
        self.assertLess(CHART_README.index(first_block), CHART_README.index("\n## "))


class ReadmeFirstScreen(unittest.TestCase):
    def test_install_commands_then_the_demo_in_the_first_screen(self):
        first_screen = "\n".join(README.splitlines()[:40])
        helm = first_screen.find(f"helm install eventkeeper {CHART_REF}")
        terraform = first_screen.find("terraform apply")
        demo = first_screen.find("make demo")
        self.assertTrue(0 <= helm < terraform < demo, (helm, terraform, demo))


class Guarantee(unittest.TestCase):
    def test_one_statement_everywhere(self):
        statement = guarantee(GUIDE)
        self.assertEqual(guarantee(README), statement)
        self.assertEqual(guarantee(CHART_README), statement)
        for limit, metric in (("while no emitter was leading", "eventkeeper_leader"),
                              ("across a `410 Gone` relist", "eventkeeper_relists_total"),
                              ("filters drop", "eventkeeper_events_filtered_total")):
            row = next(line for line in statement.splitlines() if limit in line)
            self.assertIn(metric, row)

    def test_the_metrics_it_names_are_the_emitters(self):
        metrics_rs = (REPO / "emitter" / "src" / "metrics.rs").read_text()
        for metric in set(re.findall(r"`(eventkeeper_[a-z_]+)", guarantee(GUIDE))):
            # prometheus-client adds `_total` to a counter's registered name.
            registered = metric.removesuffix("_total")
            self.assertIn(f'"{registered}"', metrics_rs, metric)
        self.assertIn('"PossibleGapSeconds"', (REPO / "lambda" / "src" / "metrics.rs").read_text())

    def test_no_unqualified_promise_is_left(self):
        for name, text in (("README.md", README), ("charts/eventkeeper/README.md", CHART_README)):
            self.assertNotIn("nothing is lost", text, name)


if __name__ == "__main__":
    unittest.main()
