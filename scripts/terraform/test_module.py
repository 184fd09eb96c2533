"""Structural tests of the Terraform module (python-hcl2): what `terraform plan` cannot check here
(no provider can be downloaded) is read from the HCL and compared with the code and the schema.

- IAM: the function's policy grants exactly the actions of iam-actions.json (generated from
  lambda/src/iam.rs), each group on its one resource, and nothing else but the platform's needs.
- Schedule: interval < TTL is validated (run for real with terraform when it is installed), the
  payload carries the scheduled time, the function gets the interval in a form it parses.
- Lambda: arm64 and provided.al2023 by default; every environment variable is one the function
  reads.
- Queries and dashboard: every Logs Insights text passes the query checker for each field prefix.
- Athena: the Glue table's columns are schema v1's top-level properties with matching types.
- EKS access: the access entry's group is the chart's catch-up group.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from logs_insights import Schema, check
from tf_module import (FUNCTION_DIR, MODULE_DIR, ROOT, Module, VariablesPlan, evaluate_locals,
                       expression, function_policy_statements)

MODULE = Module()
# The function itself, its log group, role and dead-letter queue: the submodule both modules call.
FUNCTION = Module(FUNCTION_DIR)


def terraform_version() -> tuple[int, int] | None:
    """The (major, minor) of the terraform on PATH, None when there is none."""
    if not shutil.which("terraform"):
        return None
    out = subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True,
                         env=dict(os.environ, TF_CLI_CONFIG_FILE=os.devnull), check=False)
    match = re.search(r'"terraform_version":\s*"(\d+)\.(\d+)', out.stdout)
    return (int(match.group(1)), int(match.group(2))) if match else None


# The module needs 1.9 (validations that refer to other variables).
TERRAFORM = terraform_version()
NEEDS_TERRAFORM = unittest.skipUnless(
    TERRAFORM is not None and TERRAFORM >= (1, 9),
    f"SKIPPED: needs terraform >= 1.9 on PATH (found {TERRAFORM})")
IAM_ACTIONS = json.loads((MODULE_DIR / "iam-actions.json").read_text())
SCHEMA_DOC = json.loads((ROOT / "docs/schema/event-v1.json").read_text())
PREFIXES = ("log_processed.", "data.", "")

# Where each group of iam-actions.json may be granted. A new group needs a line here and a
# statement in iam.tf: the test fails until both exist.
GROUP_RESOURCES = {
    "eks_cluster": ["${local.cluster_arn}"],
    "s3_archive_objects": ["${local.bucket_arn}/${var.archive_prefix}/*"],
    "s3_archive_bucket": ["${local.bucket_arn}"],
    "events_log_group": [
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${statement.value}",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${statement.value}:log-stream:*",
    ],
}
# What the Lambda platform needs for this function, beyond the calls its code makes (OwnLogs is
# the submodule's, on its log group).
PLATFORM_STATEMENTS = {
    "OwnLogs": (["logs:CreateLogStream", "logs:PutLogEvents"],
                ["${aws_cloudwatch_log_group.this.arn}:*"]),
    "DeadLetters": (["sqs:SendMessage"], ["${module.catchup.dead_letter_queue.arn}"]),
    "Kms": (["kms:Decrypt", "kms:GenerateDataKey"], ["${statement.value}"]),
}


def iam_problems(statements: list[dict], actions_file: dict) -> tuple[list[str], dict]:
    """Problems of the function's policy statements against iam-actions.json, and the effective
    grants {resource: set(actions)} once the file's groups are substituted."""
    problems: list[str] = []
    grants: dict[str, set] = {}
    used: dict[str, int] = {}
    file_actions = {a for group in actions_file.values() for a in group}
    for statement in statements:
        sid = statement.get("sid", "?")
        if statement.get("effect", "Allow") != "Allow":
            continue
        actions = statement.get("actions")
        resources = statement.get("resources", [])
        inner = expression(actions) if isinstance(actions, str) else None
        group = None
        optional = re.search(r'local\.iam_actions : group => actions if group == "(\w+)"',
                             statement.get("dynamic") or "")
        if inner == "statement.value" and optional:
            # Granted only when the file has the group: nothing to check while it has not.
            group = optional.group(1)
            if group not in actions_file:
                continue
            inner = f"local.iam_actions.{group}"
        if inner is not None:
            match = re.fullmatch(r"local\.iam_actions(?:\.(\w+)|\[\"(\w+)\"\])", inner.strip())
            if not match:
                problems.append(f"{sid}: actions {actions!r} are neither a group of "
                                "iam-actions.json nor a literal list")
                continue
            group = match.group(1) or match.group(2)
            if group not in actions_file:
                problems.append(f"{sid}: iam-actions.json has no group {group!r}")
                continue
            used[group] = used.get(group, 0) + 1
            expected = GROUP_RESOURCES.get(group)
            if resources != expected:
                problems.append(f"{sid}: group {group} granted on {resources}, expected {expected}")
            actions = actions_file[group]
        else:
            expected = PLATFORM_STATEMENTS.get(sid)
            if expected is None:
                problems.append(f"{sid}: a statement that is neither a group of iam-actions.json "
                                "nor one the platform needs")
            elif (sorted(actions), resources) != (sorted(expected[0]), expected[1]):
                problems.append(f"{sid}: {actions} on {resources}, expected {expected}")
            stray = file_actions & set(actions)
            if stray and not (sid == "OwnLogs"):
                problems.append(f"{sid}: grants {sorted(stray)} of iam-actions.json outside its group")
        for action in actions:
            if "*" in action:
                problems.append(f"{sid}: wildcard action {action}")
        for resource in resources:
            grants.setdefault(resource, set()).update(actions)
    for group in actions_file:
        if group not in GROUP_RESOURCES:
            problems.append(f"iam-actions.json group {group!r} has no resource in the module: map "
                            "it in iam.tf and in GROUP_RESOURCES")
        elif used.get(group, 0) != 1:
            problems.append(f"iam-actions.json group {group!r} is granted by {used.get(group, 0)} "
                            "statements, expected 1")
    return problems, grants


class Iam(unittest.TestCase):
    def statements(self):
        return function_policy_statements(MODULE, "catchup")

    def test_the_module_reads_the_generated_file(self):
        self.assertEqual(MODULE.local("iam_actions"),
                         '${jsondecode(file("${path.module}/iam-actions.json"))}')

    def test_the_policy_is_iam_actions_json_each_group_on_its_resource(self):
        problems, grants = iam_problems(self.statements(), IAM_ACTIONS)
        self.assertEqual(problems, [])
        for group in IAM_ACTIONS:
            for resource in GROUP_RESOURCES[group]:
                code_actions = grants[resource] & {a for g in IAM_ACTIONS.values() for a in g}
                self.assertEqual(code_actions, set(IAM_ACTIONS.get(group, [])), resource)

    def test_the_resources_are_the_cluster_the_prefix_and_the_events_group(self):
        self.assertEqual(MODULE.local("cluster_arn"),
                         "arn:${local.partition}:eks:${local.region}:${local.account_id}:cluster/${var.cluster_name}")
        self.assertEqual(MODULE.local("bucket_arn"), "arn:${local.partition}:s3:::${local.bucket_name}")
        dynamic = [s["dynamic"] for s in self.statements() if s.get("sid") == "EventsLogGroup"]
        self.assertEqual(dynamic, ["${local.backfill ? [var.backfill_log_group_name] : []}"])
        self.assertEqual(MODULE.local("backfill"), "${var.backfill_log_group_name != null}")

    def test_the_checkpoint_is_under_the_granted_prefix(self):
        archive_rs = (ROOT / "lambda/src/archive/mod.rs").read_text()
        # The partitions' layout is core's, shared with kubectl-eventkeeper.
        layout_rs = (ROOT / "core/src/archive_layout.rs").read_text()
        self.assertIn('"{lead}_eventkeeper/cluster={cluster}/catchup-checkpoint.json"', archive_rs)
        self.assertIn('"{lead}cluster={cluster}/dt={}/hour={}/', layout_rs)

    def test_the_check_fails_on_a_policy_that_drifts(self):
        statements = self.statements()
        eks = next(s for s in statements if s.get("sid") == "EksCluster")
        widened = [dict(s) for s in statements]
        next(s for s in widened if s.get("sid") == "EksCluster")["actions"] = [
            "eks:DescribeCluster", "eks:ListClusters"]
        self.assertTrue(iam_problems(widened, IAM_ACTIONS)[0])
        moved = [dict(s) for s in statements]
        next(s for s in moved if s.get("sid") == "S3ArchiveObjects")["resources"] = [
            "${local.bucket_arn}/*"]
        self.assertTrue(iam_problems(moved, IAM_ACTIONS)[0])
        new_group = dict(IAM_ACTIONS, coordination=["sts:GetCallerIdentity"])
        self.assertTrue(iam_problems(statements, new_group)[0])
        self.assertTrue(eks)
        # The bucket-level group is granted on the bucket, once the file has it.
        with_bucket = dict(IAM_ACTIONS, s3_archive_bucket=["s3:ListBucket"])
        problems, grants = iam_problems(statements, with_bucket)
        self.assertEqual(problems, [])
        self.assertEqual(grants["${local.bucket_arn}"], {"s3:ListBucket"})
        # A new action in an existing group needs no change to the module: it follows the file.
        more = dict(IAM_ACTIONS, s3_archive_objects=IAM_ACTIONS["s3_archive_objects"] + ["s3:HeadObject"])
        problems, grants = iam_problems(statements, more)
        self.assertEqual(problems, [])
        self.assertIn("s3:HeadObject", grants["${local.bucket_arn}/${var.archive_prefix}/*"])


class Schedule(unittest.TestCase):
    def test_the_interval_must_be_shorter_than_the_ttl(self):
        variable = MODULE.variable("schedule_interval_minutes")
        conditions = [v["condition"] for v in variable["validation"]]
        self.assertIn("${var.schedule_interval_minutes < var.event_ttl_minutes}", conditions)
        self.assertLess(variable["default"], MODULE.variable("event_ttl_minutes")["default"])
        self.assertEqual(variable["default"], 30)

    @NEEDS_TERRAFORM
    def test_terraform_rejects_an_interval_as_long_as_the_ttl(self):
        with tempfile.TemporaryDirectory() as tmp:
            # The module's variables as they reach the function (architecture is checked there).
            variables_plan = VariablesPlan(Path(tmp), MODULE_DIR, "catchup")

            def plan(**extra):
                return variables_plan(cluster_name="prod", lambda_zip_path="catchup.zip", **extra)

            self.assertEqual(plan().returncode, 0, plan().stderr)
            rejected = plan(schedule_interval_minutes="60")
            self.assertNotEqual(rejected.returncode, 0)
            self.assertIn("must be shorter than event_ttl_minutes", rejected.stderr)
            architecture = plan(architecture="i386")
            self.assertNotEqual(architecture.returncode, 0)
            self.assertIn("architecture must be arm64 or x86_64", architecture.stderr)
            self.assertNotEqual(plan(field_prefix="kubernetes.").returncode, 0)

    def test_rate_payload_retries_and_dead_letters(self):
        schedule = MODULE.resource("aws_scheduler_schedule", "catchup")
        self.assertEqual(schedule["schedule_expression"], "${local.schedule_expression}")
        self.assertIn("rate(${var.schedule_interval_minutes} ", MODULE.local("schedule_expression"))
        self.assertEqual(schedule["flexible_time_window"][0]["mode"], "OFF")
        target = schedule["target"][0]
        # The payload is literal JSON: jsonencode() would escape the placeholder's < and >.
        self.assertIsNone(expression(target["input"]))
        payload = json.loads(target["input"].replace('\\"', '"'))
        self.assertEqual(payload, {"scheduledTime": "<aws.scheduler.scheduled-time>"})
        self.assertIn("retry_policy", target)
        self.assertEqual(target["dead_letter_config"][0]["arn"], "${module.catchup.dead_letter_queue.arn}")
        schedule_rs = (ROOT / "lambda/src/schedule.rs").read_text()
        self.assertIn('"scheduledTime"', schedule_rs)

    def test_the_function_gets_the_interval_and_ttl_as_durations(self):
        env = lambda_environment()
        self.assertEqual(env["EVENTKEEPER_SCHEDULE_INTERVAL"], '"${var.schedule_interval_minutes}m"')
        self.assertEqual(env["EVENTKEEPER_TTL"], '"${var.event_ttl_minutes}m"')


def lambda_environment() -> dict:
    text = (MODULE_DIR / "main.tf").read_text()
    block = text[text.index("lambda_environment = {"):text.index("} : key => value if value != null")]
    return dict(re.findall(r"^\s*(EVENTKEEPER_[A-Z_]+)\s*=\s*(.+?)\s*$", block, flags=re.M))


# Settings issue 8 adds to lambda/src/config.rs; passed only when the module's user sets them.
BACKFILL_SETTINGS = {
    "EVENTKEEPER_BACKFILL_LOG_GROUP", "EVENTKEEPER_BACKFILL_LOG_STREAM",
    "EVENTKEEPER_BACKFILL_ENVELOPE", "EVENTKEEPER_BACKFILL_LEASE_DURATION",
    "EVENTKEEPER_LEASE_NAMESPACE", "EVENTKEEPER_LEASE_NAME",
}
# Metrics issue 8 adds to lambda/src/metrics.rs.
BACKFILL_METRICS = {"EventsBackfilled", "BackfillBatches", "RejectedLogEvents"}


class Lambda(unittest.TestCase):
    def test_arm64_and_provided_al2023_by_default(self):
        function = FUNCTION.resource("aws_lambda_function", "this")
        self.assertEqual(function["runtime"], "provided.al2023")
        self.assertEqual(function["handler"], "bootstrap")
        self.assertEqual(function["architectures"], ["${var.architecture}"])
        self.assertEqual(MODULE.call("catchup")["architecture"], "${var.architecture}")
        self.assertEqual(MODULE.variable("architecture")["default"], "arm64")
        self.assertEqual(MODULE.call("catchup")["environment"], "${local.lambda_environment}")
        # The code's source (released zip or S3 mirror): test_release_inputs.py.

    def test_every_environment_variable_is_one_the_function_reads(self):
        # The catch-up's own flags, and those it shares with the emitter (cli/src/settings.rs).
        config_rs = (ROOT / "lambda/src/config.rs").read_text() + (ROOT / "cli/src/settings.rs").read_text()
        known = set(re.findall(r'env = "(EVENTKEEPER_[A-Z_]+)"', config_rs)) | BACKFILL_SETTINGS
        env = lambda_environment()
        self.assertTrue(env)
        self.assertEqual(set(env) - known, set())
        for required in ("EVENTKEEPER_CLUSTER_NAME", "EVENTKEEPER_BUCKET", "EVENTKEEPER_PREFIX"):
            self.assertIn(required, env)
        # Backfill is off unless a log group is given: its settings follow local.backfill.
        self.assertIsNone(MODULE.variable("backfill_log_group_name")["default"])
        self.assertIn("local.backfill ?", env["EVENTKEEPER_BACKFILL_ENVELOPE"])

    def test_the_default_prefix_is_the_functions(self):
        self.assertEqual(MODULE.variable("archive_prefix")["default"], "events")
        self.assertIn('default_value = "events"', (ROOT / "lambda/src/config.rs").read_text())


def templates(folder: str) -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted((MODULE_DIR / folder).glob("*.tftpl"))}


class Queries(unittest.TestCase):
    schema = Schema(SCHEMA_DOC)

    def test_every_saved_query_and_widget_uses_only_schema_fields_for_every_prefix(self):
        for folder in ("queries", "dashboard"):
            found = templates(folder)
            self.assertTrue(found, folder)
            for name, text in found.items():
                interpolations = set(re.findall(r"[$%]\{[^}]*\}", text))
                self.assertEqual(interpolations - {"${p}"}, set(), f"{folder}/{name}")
                for prefix in PREFIXES:
                    with self.subTest(query=f"{folder}/{name}", prefix=prefix):
                        self.assertEqual(check(text.replace("${p}", prefix), self.schema, prefix), [])
                        # Container Insights groups hold every container's logs: keep records only.
                        self.assertIn("ispresent(${p}schemaVersion)", text)

    def test_the_issues_questions_have_a_saved_query(self):
        self.assertLessEqual({
            "warnings-by-reason", "warnings-by-namespace", "object-history", "failed-mount",
            "image-pull-failures", "failed-scheduling", "crashloop-backoff", "evictions-preemptions",
            "node-problems", "noisiest-objects", "why-pod-killed", "object-history-by-prefix"},
            set(templates("queries")))

    def test_saved_queries_are_the_templates_rendered_with_the_prefix(self):
        self.assertIn('fileset("${path.module}/queries", "*.tftpl")', MODULE.local("saved_queries"))
        self.assertIn("{p = var.field_prefix}", MODULE.local("saved_queries"))
        definition = MODULE.resource("aws_cloudwatch_query_definition", "events")
        self.assertEqual(definition["query_string"], "${each.value}")
        self.assertIn("local.saved_queries", definition["for_each"])

    def test_dashboard_log_widgets_are_the_dashboard_templates(self):
        self.assertIn('fileset("${path.module}/dashboard", "*.tftpl")', MODULE.local("dashboard_queries"))
        widgets = MODULE.local("dashboard_log_widgets")
        self.assertEqual({w[0] for w in widgets}, set(templates("dashboard")))
        body = (MODULE_DIR / "dashboard.tf").read_text()
        self.assertEqual(re.findall(r'query\s*=\s*(".*")', body),
                         ['"${local.dashboard_source} | ${local.dashboard_queries[w[0]]}"'])
        self.assertEqual(len(re.findall(r'type\s*=\s*"log"', body)), 1)
        # Log widget views CloudWatch knows; the seed's panels: histogram, totals, by namespace, table.
        self.assertLessEqual({w[2] for w in widgets}, {"table", "timeSeries", "bar", "pie"})
        self.assertEqual([w[2] for w in widgets], ["timeSeries", "table", "bar", "table"])

    def test_no_query_text_hides_in_the_hcl(self):
        commands = r"\|\s*(fields|filter|stats|sort|limit|display|parse|dedup)\s"
        self.assertEqual(re.findall(commands, MODULE.text()), [])

    def test_the_checker_would_catch_a_wrong_field_in_a_template(self):
        text = templates("queries")["failed-mount"].replace("involvedObject.name", "involvedObject.nam")
        self.assertTrue(check(text.replace("${p}", "data."), self.schema, "data."))


def published_metrics() -> set[str]:
    """The metric names the catch-up's EMF document declares (`count("X", ...)`,
    `Metric::new("X", ...)` in lambda/src/metrics.rs)."""
    metrics_rs = (ROOT / "lambda/src/metrics.rs").read_text()
    return set(re.findall(r'(?:count|Metric::new)\(\s*"(\w+)"', metrics_rs))


class Metrics(unittest.TestCase):
    def test_dashboard_and_alarms_use_metrics_the_function_publishes(self):
        metrics_rs = (ROOT / "lambda/src/metrics.rs").read_text()
        published = published_metrics() | BACKFILL_METRICS
        # The EMF document comes from core's writer: its namespace, one dimension set, Cluster.
        emf_rs = (ROOT / "core/src/emf.rs").read_text()
        self.assertIn('NAMESPACE: &str = "eventkeeper"', emf_rs)
        self.assertIn('"Dimensions": [dimension_names]', emf_rs)
        self.assertIn('emf::document(&[("Cluster", cluster)]', metrics_rs)
        text = MODULE.text()
        used = set(re.findall(r'\["eventkeeper", "(\w+)"\]', text))
        used |= set(re.findall(r'namespace\s*=\s*"eventkeeper"\s*\n\s*metric(?:_name)?\s*=\s*"(\w+)"', text))
        self.assertLessEqual({"PossibleGapSeconds", "RejectedLogEvents", "DurationMs", "Errors"}, used)
        self.assertTrue(used)
        self.assertEqual(used - published, set())

    def test_the_alarms_the_issue_asks_for(self):
        alarms = MODULE.resources_of("aws_cloudwatch_metric_alarm")
        self.assertEqual(set(alarms), {"no_archive"})
        self.assertEqual(alarms["no_archive"]["treat_missing_data"], "breaching")
        self.assertEqual(alarms["no_archive"]["evaluation_periods"], 2)
        # The alarms above zero are the submodule's, from the module's map and its dead-letters.
        self.assertEqual(set(FUNCTION.resources_of("aws_cloudwatch_metric_alarm")), {"above_zero"})
        above_zero = FUNCTION.resource("aws_cloudwatch_metric_alarm", "above_zero")
        self.assertEqual(above_zero["threshold"], 0)
        self.assertEqual(above_zero["comparison_operator"], "GreaterThanThreshold")
        self.assertEqual(above_zero["for_each"], "${var.create_alarms ? local.above_zero_alarms : {}}")
        call = MODULE.call("catchup")
        self.assertEqual(call["above_zero_alarms"], "${local.above_zero_alarms}")
        self.assertEqual(call["create_alarms"], "${var.create_alarms}")
        self.assertEqual(call["alarm_actions"], "${local.alarm_actions}")
        text = (MODULE_DIR / "alarms.tf").read_text()
        for name in ("errors", "possible-gap", "backfill-rejected"):
            self.assertRegex(text, rf"\n\s+{name} = \{{")
        self.assertRegex((FUNCTION_DIR / "alarms.tf").read_text(), r"\n\s+dead-letters = \{")


def hive_type(text: str) -> str:
    """A Hive type with struct fields lower-cased and sorted, for comparison."""
    pos = 0

    def parse():
        nonlocal pos
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, pos)
        name = match.group(0).lower()
        pos = match.end()
        if pos < len(text) and text[pos] == "<":
            pos += 1
            if name == "struct":
                fields = []
                while True:
                    field = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):").match(text, pos)
                    pos = field.end()
                    fields.append(f"{field.group(1).lower()}:{parse()}")
                    if text[pos] == ",":
                        pos += 1
                        continue
                    break
                inner = ",".join(sorted(fields))
            else:
                parts = [parse()]
                while text[pos] == ",":
                    pos += 1
                    parts.append(parse())
                inner = ",".join(parts)
            assert text[pos] == ">", text[pos:]
            pos += 1
            return f"{name}<{inner}>"
        return name

    out = parse()
    assert pos == len(text), f"trailing text in {text!r}"
    return out


def schema_hive_type(node: dict, document: dict = SCHEMA_DOC) -> str:
    if "$ref" in node:
        return schema_hive_type(document["$defs"][node["$ref"].rsplit("/", 1)[-1]], document)
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches = {schema_hive_type(b, document) for b in node[key] if b.get("type") != "null"}
            assert len(branches) == 1, branches
            return branches.pop()
    kinds = node.get("type")
    kind = [k for k in kinds if k != "null"][0] if isinstance(kinds, list) else kinds
    if kind == "string":
        return "string"
    if kind == "integer":
        return "bigint"
    if kind == "number":
        return "double"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        return f"array<{schema_hive_type(node['items'], document)}>"
    if kind == "object":
        if node.get("properties"):
            fields = [f"{name.lower()}:{schema_hive_type(sub, document)}"
                      for name, sub in node["properties"].items()]
            return f"struct<{','.join(sorted(fields))}>"
        return f"map<string,{schema_hive_type(node['additionalProperties'], document)}>"
    raise AssertionError(f"no Hive type for {node}")


def athena_columns() -> dict[str, str]:
    object_ref = MODULE.local("object_ref")
    columns = {}
    for name, type_ in MODULE.local("athena_columns"):
        if type_ == "${local.object_ref}":
            type_ = object_ref
        columns[name.lower()] = hive_type(type_)
    return columns


def column_problems(columns: dict[str, str]) -> list[str]:
    expected = {name.lower(): schema_hive_type(node) for name, node in SCHEMA_DOC["properties"].items()}
    problems = [f"column {n} missing" for n in expected.keys() - columns.keys()]
    problems += [f"column {n} not in schema v1" for n in columns.keys() - expected.keys()]
    problems += [f"column {n}: {columns[n]} != {expected[n]}" for n in expected.keys() & columns.keys()
                 if columns[n] != expected[n]]
    return problems


class Athena(unittest.TestCase):
    def test_columns_are_schema_v1_with_matching_types(self):
        self.assertEqual(column_problems(athena_columns()), [])

    def test_a_wrong_column_type_or_a_missing_column_is_caught(self):
        columns = athena_columns()
        self.assertTrue(column_problems(dict(columns, occurrences="string")))
        self.assertTrue(column_problems({k: v for k, v in columns.items() if k != "reason"}))
        wrong_struct = dict(columns, reporter=hive_type("struct<component:string>"))
        self.assertTrue(column_problems(wrong_struct))

    def test_the_table_reads_the_archive_layout_with_projection(self):
        table = MODULE.resource("aws_glue_catalog_table", "events")
        self.assertEqual([k["name"] for k in table["partition_keys"]], ["archive_cluster", "dt", "hour"])
        params = table["parameters"]
        self.assertEqual(params["projection.enabled"], "true")
        self.assertEqual(params["projection.dt.format"], "yyyy-MM-dd")
        self.assertEqual(params["projection.hour.digits"], "2")
        self.assertTrue(params["storage.location.template"].endswith(
            "/${var.archive_prefix}/cluster=$${archive_cluster}/dt=$${dt}/hour=$${hour}"))
        serde = table["storage_descriptor"][0]["ser_de_info"][0]
        self.assertEqual(serde["serialization_library"], "org.openx.data.jsonserde.JsonSerDe")
        # The partition column must not shadow the record's own `cluster` column.
        self.assertNotIn("archive_cluster", athena_columns())


class EksAccess(unittest.TestCase):
    def test_the_access_entry_group_is_the_charts_catch_up_group(self):
        entry = MODULE.resource("aws_eks_access_entry", "catchup")
        self.assertEqual(entry["kubernetes_groups"], ["${var.kubernetes_group}"])
        self.assertEqual(entry["principal_arn"], "${module.catchup.role_arn}")
        values = (ROOT / "charts/eventkeeper/values.yaml").read_text()
        chart_group = re.search(r"^catchUpAccess:\n(?:[ \t].*\n)*?[ \t]+group:\s*(\S+)", values, re.M)
        self.assertIsNotNone(chart_group)
        self.assertEqual(MODULE.variable("kubernetes_group")["default"], chart_group.group(1))
        rbac = (ROOT / "charts/eventkeeper/templates/catchup-rbac.yaml").read_text()
        self.assertIn(".Values.catchUpAccess.group", rbac)


@NEEDS_TERRAFORM
class TerraformEvaluation(unittest.TestCase):
    """The module's locals as Terraform computes them (templatefile, jsonencode, conditionals)."""

    schema = Schema(SCHEMA_DOC)

    @classmethod
    def setUpClass(cls):
        cls.by_prefix = {p: evaluate_locals({"cluster_name": "prod", "field_prefix": p})
                         for p in PREFIXES}
        cls.default = cls.by_prefix["log_processed."]

    def test_rendered_saved_queries_pass_the_checker(self):
        for prefix, values in self.by_prefix.items():
            queries = values["saved_queries"]
            self.assertEqual(set(queries), set(templates("queries")))
            for name, text in queries.items():
                self.assertNotIn("${", text)
                self.assertEqual(check(text, self.schema, prefix), [], f"{name} {prefix!r}")

    def test_rendered_dashboard_widgets_pass_the_checker(self):
        published = published_metrics() | BACKFILL_METRICS
        for prefix, values in self.by_prefix.items():
            body = json.loads(values["dashboard_json"])
            logs = [w for w in body["widgets"] if w["type"] == "log"]
            self.assertEqual(len(logs), 4)
            for widget in logs:
                source, query = widget["properties"]["query"].split(" | ", 1)
                self.assertEqual(source, "SOURCE '/aws/containerinsights/prod/application'")
                self.assertEqual(check(query, self.schema, prefix), [], widget["properties"]["title"])
            for widget in body["widgets"]:
                for metric in widget["properties"].get("metrics", []):
                    if metric[0] == "eventkeeper":
                        self.assertIn(metric[1], published)
                        self.assertEqual(metric[2:4], ["Cluster", "prod"])

    def test_environment_without_and_with_backfill(self):
        env = self.default["lambda_environment"]
        self.assertEqual(env["EVENTKEEPER_SCHEDULE_INTERVAL"], "30m")
        self.assertEqual(env["EVENTKEEPER_TTL"], "60m")
        self.assertEqual(env["EVENTKEEPER_CLUSTER_NAME"], "prod")
        self.assertFalse([k for k in env if "BACKFILL" in k or "LEASE" in k])
        for prefix, envelope in (("log_processed.", "log_processed"), ("data.", "data"), ("", "")):
            env = evaluate_locals({"cluster_name": "prod", "field_prefix": prefix,
                                   "backfill_log_group_name": "/eventkeeper/prod/events",
                                   "lease_namespace": "kube-events"})["lambda_environment"]
            self.assertEqual(env["EVENTKEEPER_BACKFILL_LOG_GROUP"], "/eventkeeper/prod/events")
            self.assertEqual(env["EVENTKEEPER_BACKFILL_ENVELOPE"], envelope)
            self.assertEqual(env["EVENTKEEPER_LEASE_NAMESPACE"], "kube-events")
            self.assertNotIn("EVENTKEEPER_LEASE_NAME", env)

    def test_rate_expression_and_names(self):
        self.assertEqual(self.default["schedule_expression"], "rate(30 minutes)")
        values = evaluate_locals({"cluster_name": "Prod_EU", "schedule_interval_minutes": "1"})
        self.assertEqual(values["schedule_expression"], "rate(1 minute)")
        self.assertEqual(values["lambda_environment"]["EVENTKEEPER_SCHEDULE_INTERVAL"], "1m")
        self.assertEqual(values["name"], "eventkeeper-prod-eu")
        self.assertEqual(values["athena_database"], "eventkeeper_prod_eu")

    def test_alarms_above_zero_with_and_without_backfill(self):
        alarms = self.default["above_zero_alarms"]
        # dead-letters is the submodule's own (test_the_alarms_the_issue_asks_for).
        self.assertEqual(set(alarms), {"errors", "possible-gap"})
        self.assertEqual(alarms["possible-gap"]["metric"], "PossibleGapSeconds")
        self.assertEqual(alarms["possible-gap"]["dimensions"], {"Cluster": "prod"})
        self.assertEqual(alarms["errors"]["period"], 1800)
        with_backfill = evaluate_locals({"cluster_name": "prod", "backfill_log_group_name": "g"})
        self.assertEqual(with_backfill["above_zero_alarms"]["backfill-rejected"]["metric"],
                         "RejectedLogEvents")

    def test_iam_actions_and_athena_columns_evaluate(self):
        self.assertEqual(self.default["iam_actions"], IAM_ACTIONS)
        columns = {name.lower(): hive_type(type_) for name, type_ in self.default["athena_columns"]}
        self.assertEqual(column_problems(columns), [])


class Readme(unittest.TestCase):
    def test_inputs_and_outputs_tables_are_current(self):
        import readme_tables

        for readme, directory in readme_tables.READMES.items():
            current = readme.read_text()
            self.assertEqual(current, readme_tables.render(current, Module(directory)),
                             f"{readme}: run python scripts/terraform/readme_tables.py --write")

    def test_every_variable_and_output_is_described(self):
        for module in (MODULE, FUNCTION):
            for kind in ("variable", "output"):
                for block in module.blocks(kind):
                    for name, body in block.items():
                        self.assertTrue(body.get("description"), f"{kind} {name}")

    def test_athena_doc_answers_every_saved_query(self):
        doc = (ROOT / "docs/athena.md").read_text()
        for name in templates("queries"):
            self.assertIn(f"### {name}", doc)


if __name__ == "__main__":
    unittest.main()
