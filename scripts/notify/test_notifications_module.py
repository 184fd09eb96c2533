"""Structural tests of infra/terraform/modules/notifications (python-hcl2): what `terraform
plan` cannot check here is read from the HCL and compared with the notifier's code.

- IAM: the policy grants exactly the groups of iam-actions.json (generated from
  notify/src/iam.rs), each on its own resources, plus the platform's needs.
- The function: every environment variable is one notify/src/config.rs reads; the claim lease
  outlives the timeout; failed invocations go to the DLQ.
- The table: on-demand, SSE, point-in-time recovery, TTL on the attribute state.rs writes.
- The subscription filter pre-selects Warning records in the configured layout.
- Alarms: delivery failures, DLQ depth, and silence with missing data breaching.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "terraform"))

from tf_module import (FUNCTION_DIR, ROOT, Module, VariablesPlan,  # noqa: E402
                       function_policy_statements)

MODULE_DIR = ROOT / "infra/terraform/modules/notifications"
MODULE = Module(MODULE_DIR)
# The function, its log group, role and dead-letter queue: the submodule both modules call.
FUNCTION = Module(FUNCTION_DIR)
CALL = MODULE.call("notifier")


def environment() -> dict:
    text = (MODULE_DIR / "main.tf").read_text()
    block = text[text.index("lambda_environment = {"):text.index("} : key => value if value != null")]
    return dict(re.findall(r"^\s*(EVENTKEEPER_[A-Z_]+)\s*=\s*(.+?)\s*$", block, flags=re.M))


class Iam(unittest.TestCase):
    def test_every_generated_group_is_granted_and_nothing_else_from_the_code(self):
        actions = json.loads((MODULE_DIR / "iam-actions.json").read_text())
        statements = function_policy_statements(MODULE, "notifier")
        grants = MODULE.local("code_grants")
        used = set()
        for statement in statements:
            if statement["dynamic"] is not None and "local.code_grants" in statement["dynamic"]:
                # One statement per grant of code_grants: its group's actions on its resources.
                self.assertEqual(statement["actions"], "${local.iam_actions[statement.value.group]}")
                self.assertEqual(statement["resources"], "${statement.value.resources}")
                self.assertEqual(statement["sid"], "${statement.key}")
                used.update(grant["group"] for grant in grants.values())
            else:
                self.assertIn(statement["sid"], {"Kms", "OwnLogs", "Tracing"})
                self.assertFalse({a for group in actions.values() for a in group} & set(statement["actions"]),
                                 statement["sid"])
        for sid, grant in grants.items():
            self.assertNotIn("*", str(grant["resources"]), sid)
        self.assertEqual(used, set(actions))
        self.assertEqual(len(used), len(grants), "a group granted twice")

    def test_secrets_are_granted_only_by_arn(self):
        main = (MODULE_DIR / "main.tf").read_text()
        self.assertIn("secrets_manager_arns = [for d in var.destinations : d.secret_arn", main)
        variables = (MODULE_DIR / "variables.tf").read_text()
        self.assertIn("never a plain URL", variables)


class Function(unittest.TestCase):
    def test_every_environment_variable_is_one_the_function_reads(self):
        # The notifier's own flags, and the log flags every binary shares (cli/src/settings.rs).
        config_rs = (ROOT / "notify/src/config.rs").read_text() + (ROOT / "cli/src/settings.rs").read_text()
        known = set(re.findall(r'env = "(EVENTKEEPER_[A-Z_]+)"', config_rs))
        env = environment()
        self.assertEqual(set(env) - known, set())
        for required in ("EVENTKEEPER_NOTIFY_TABLE", "EVENTKEEPER_NOTIFY_DESTINATIONS",
                         "EVENTKEEPER_NOTIFY_DLQ_URL"):
            self.assertIn(required, env)

    def test_the_claim_lease_outlives_the_timeout(self):
        self.assertIn("var.lambda_timeout_seconds + 60", environment()["EVENTKEEPER_NOTIFY_CLAIM_LEASE_SECONDS"])

    def test_runtime_and_failed_invocations(self):
        function = FUNCTION.resource("aws_lambda_function", "this")
        self.assertEqual(function["runtime"], "provided.al2023")
        self.assertEqual(function["handler"], "bootstrap")
        self.assertEqual(CALL["environment"], "${local.lambda_environment}")
        self.assertIs(CALL["on_failure_to_dead_letters"], True)
        config = FUNCTION.resource("aws_lambda_function_event_invoke_config", "this")
        destination = config["dynamic"][0]["destination_config"]
        self.assertEqual(destination["for_each"],
                         "${var.on_failure_to_dead_letters ? [aws_sqs_queue.dead_letters.arn] : []}")
        on_failure = destination["content"][0]["on_failure"][0]
        self.assertEqual(on_failure["destination"], "${destination_config.value}")


class Artifact(unittest.TestCase):
    """The module works from a remote source: the code is the released zip or an S3 mirror of
    it, never a path into this repository."""

    def test_nothing_points_into_the_repository(self):
        self.assertIsNone(MODULE.variable("lambda_zip_path")["default"])
        self.assertNotIn("target/", MODULE.text())
        self.assertNotIn("../..", MODULE.text())
        # Passed straight to the submodule, whose function takes them as they are.
        function = FUNCTION.resource("aws_lambda_function", "this")
        for variable, attribute in (("lambda_zip_path", "filename"), ("lambda_s3_bucket", "s3_bucket"),
                                    ("lambda_s3_key", "s3_key"), ("lambda_s3_object_version", "s3_object_version")):
            self.assertEqual(CALL[variable], f"${{var.{variable}}}")
            self.assertEqual(function[attribute], f"${{var.{variable}}}")
        self.assertIn("eventkeeper-notify-VERSION-linux-", MODULE.variable("lambda_zip_path")["description"])

    def test_a_missing_artifact_is_one_message_at_plan_time(self):
        self.assertEqual(CALL["code_name"], "notifier")
        conditions = [p["condition"] for p in
                      FUNCTION.resource("aws_lambda_function", "this")["lifecycle"][0]["precondition"]]
        self.assertIn("${(var.lambda_zip_path != null) != (var.lambda_s3_bucket != null && var.lambda_s3_key != null)}",
                      conditions)

    @unittest.skipUnless(shutil.which("terraform"), "SKIPPED: needs terraform on PATH")
    def test_the_submodule_checks_the_notifiers_code_source_at_plan_time(self):
        required = {"events_log_group_name": "/eventkeeper/prod/events",
                    "destinations": '[{name="ops", kind="sns"}]'}
        with tempfile.TemporaryDirectory() as tmp:
            plan = VariablesPlan(Path(tmp), MODULE_DIR, "notifier")
            missing = plan(**required)
            self.assertIn("Give the notifier's code in exactly one way", missing.stderr)
            self.assertEqual(plan(**required, lambda_zip_path="notify.zip").returncode, 0)
            half = plan(**required, lambda_s3_bucket="mirror")
            self.assertIn("lambda_s3_bucket and lambda_s3_key go together", half.stderr)
            wrong = plan(**required, lambda_zip_path="notify.zip", architecture="i386")
            self.assertIn("architecture must be arm64 or x86_64", wrong.stderr)

    def test_no_deprecated_region_name(self):
        self.assertNotIn("aws_region.current.name", MODULE.text())


class Table(unittest.TestCase):
    def test_on_demand_encrypted_recoverable_with_ttl(self):
        table = MODULE.resource("aws_dynamodb_table", "state")
        self.assertEqual(table["billing_mode"], "PAY_PER_REQUEST")
        self.assertEqual(table["hash_key"], "pk")
        self.assertTrue(table["point_in_time_recovery"][0]["enabled"])
        self.assertTrue(table["server_side_encryption"][0]["enabled"])
        ttl = table["ttl"][0]
        self.assertTrue(ttl["enabled"])
        state_rs = (ROOT / "notify/src/state.rs").read_text()
        self.assertIn(f'"{ttl["attribute_name"]}"', state_rs)
        self.assertIn('"pk"', state_rs)


class Filters(unittest.TestCase):
    def test_the_subscription_pre_selects_warnings_in_the_layout(self):
        pattern = MODULE.local("subscription_pattern")
        self.assertIn('$.${local.p}type = \\"Warning\\"', pattern)
        self.assertEqual(MODULE.local("p"), "${var.field_prefix}")
        subscription = MODULE.resource("aws_cloudwatch_log_subscription_filter", "notify")
        self.assertEqual(subscription["filter_pattern"], "${local.subscription_pattern}")
        self.assertEqual(subscription["log_group_name"], "${var.events_log_group_name}")

    def test_the_prefilter_keeps_the_default_rules_normal_reasons(self):
        rules_rs = (ROOT / "notify/src/rules.rs").read_text()
        for reason in MODULE.variable("prefilter_reasons")["default"]:
            self.assertIn(reason, rules_rs)


class Alarms(unittest.TestCase):
    def test_failures_dead_letters_and_silence(self):
        # Failures and the queue's depth: the submodule's alarms above zero.
        failures = MODULE.local("above_zero_alarms")["delivery-failures"]
        self.assertEqual(failures["metric"], "DeliveryFailures")
        self.assertIn('"DeliveryFailures"', (ROOT / "notify/src/metrics.rs").read_text())
        self.assertEqual(CALL["above_zero_alarms"], "${local.above_zero_alarms}")
        self.assertNotIn("create_alarms", CALL)
        above_zero = FUNCTION.resource("aws_cloudwatch_metric_alarm", "above_zero")
        self.assertEqual(above_zero["metric_name"], "${each.value.metric}")
        self.assertEqual(above_zero["alarm_actions"], "${var.alarm_actions}")
        self.assertEqual(CALL["alarm_actions"], "${local.alarm_actions}")
        depth = (FUNCTION_DIR / "alarms.tf").read_text()
        self.assertIn('metric      = "ApproximateNumberOfMessagesVisible"', depth)
        silence = MODULE.resource("aws_cloudwatch_metric_alarm", "silence")
        self.assertEqual(silence["treat_missing_data"], "breaching")
        self.assertEqual(silence["comparison_operator"], "LessThanThreshold")
        self.assertEqual(silence["evaluation_periods"], "${var.silence_periods}")
        records = MODULE.resource("aws_cloudwatch_log_metric_filter", "records")
        self.assertIn("schemaVersion >= 1", records["pattern"])
        self.assertEqual(silence["alarm_actions"], "${local.alarm_actions}")


if __name__ == "__main__":
    unittest.main()
