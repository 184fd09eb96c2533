"""The module as a user installs it (issue 15): the Lambda code from a released zip or an S3 mirror,
never from this repository's target/; one Lease shared with the chart; AWS provider 5.x and 6.x;
tags on every taggable resource; validations on memory, retention and retries; the complete
example's wiring and outputs.

Validations and preconditions are run for real with terraform (variables and the builtin
`terraform_data` resource need no provider download) when terraform >= 1.9 is on PATH.
"""

from __future__ import annotations

import re
import tempfile
import unittest
from pathlib import Path

from test_module import NEEDS_TERRAFORM
from tf_module import FUNCTION_DIR, MODULE_DIR, ROOT, Module, VariablesPlan, preconditions

MODULE = Module()
FUNCTION = Module(FUNCTION_DIR)
EXAMPLE_DIR = ROOT / "infra/terraform/examples/complete"
EXAMPLE = Module(EXAMPLE_DIR)

# Resource types of the AWS provider that take `tags`, and those that do not. Every resource
# type the module uses must be in one of the two, so a new one forces the decision.
TAGGABLE = {
    "aws_athena_workgroup", "aws_cloudwatch_log_group", "aws_cloudwatch_metric_alarm",
    "aws_eks_access_entry", "aws_glue_catalog_database", "aws_iam_role", "aws_lambda_function",
    "aws_s3_bucket", "aws_security_group", "aws_sns_topic", "aws_sqs_queue",
    "aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule",
}
NOT_TAGGABLE = {
    "aws_cloudwatch_dashboard", "aws_cloudwatch_query_definition", "aws_eks_access_policy_association",
    "aws_glue_catalog_table", "aws_iam_role_policy", "aws_iam_role_policy_attachment",
    "aws_lambda_function_event_invoke_config", "aws_lambda_permission", "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_logging", "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_versioning",
    "aws_scheduler_schedule", "aws_sns_topic_policy", "aws_sqs_queue_policy",
}

class Plan(VariablesPlan):
    """`terraform plan` of the module's variables as they reach the function, with the name
    check the module makes on its schedule (local.name stubbed: it comes from data sources)."""

    def __init__(self, tmp: Path):
        checks = preconditions(MODULE_DIR / "schedule.tf", "aws_scheduler_schedule.catchup")
        super().__init__(tmp, MODULE_DIR, "catchup",
                         'locals {\n  name = "eventkeeper-prod"\n}\n\n'
                         'resource "terraform_data" "catchup" {\n  lifecycle {\n' + checks + "  }\n}\n")

    def __call__(self, **variables: str):
        return super().__call__(**{"cluster_name": "prod", **variables})


class LambdaArtifact(unittest.TestCase):
    def test_nothing_points_into_the_repository(self):
        self.assertIsNone(MODULE.variable("lambda_zip_path")["default"])
        self.assertNotIn("target/", MODULE.text())
        self.assertNotIn("../..", MODULE.text().replace("../../modules", ""))
        call = MODULE.call("catchup")
        function = FUNCTION.resource("aws_lambda_function", "this")
        for variable in ("lambda_zip_path", "lambda_s3_bucket", "lambda_s3_key", "lambda_s3_object_version"):
            self.assertEqual(call[variable], f"${{var.{variable}}}")
        self.assertEqual(call["source"], "./modules/lambda-function")
        self.assertEqual(function["filename"], "${var.lambda_zip_path}")
        self.assertEqual(function["s3_bucket"], "${var.lambda_s3_bucket}")
        self.assertEqual(function["s3_key"], "${var.lambda_s3_key}")
        self.assertEqual(function["s3_object_version"], "${var.lambda_s3_object_version}")

    def test_the_released_zip_names_are_the_ones_fetch_release_downloads(self):
        fetch = (ROOT / "scripts/fetch-release.sh").read_text()
        build = (ROOT / "scripts/release/build.sh").read_text()
        self.assertIn("name=eventkeeper-$function-$version-linux-$arch.zip", fetch)
        self.assertIn('EVENTKEEPER_FUNCTIONS:-catchup notify', fetch)
        self.assertIn("LAMBDAS=(eventkeeper-catchup eventkeeper-notify)", build)
        self.assertIn("out=$DIST/release/$bin-$v-linux-$arch.zip", build)
        self.assertIn("scripts/fetch-release.sh VERSION", MODULE.variable("lambda_zip_path")["description"])

    @NEEDS_TERRAFORM
    def test_exactly_one_source_of_code_at_plan_time(self):
        with tempfile.TemporaryDirectory() as tmp:
            plan = Plan(Path(tmp))
            missing = plan()
            self.assertNotEqual(missing.returncode, 0)
            self.assertIn("Give the catch-up's code in exactly one way", missing.stderr)
            self.assertIn("scripts/fetch-release.sh", missing.stderr)
            self.assertEqual(plan(lambda_zip_path="catchup.zip").returncode, 0)
            self.assertEqual(plan(lambda_s3_bucket="mirror", lambda_s3_key="eventkeeper/0.1.0.zip",
                                  lambda_s3_object_version="3HL4kqtJlcpXroDTDmJ").returncode, 0)
            both = plan(lambda_zip_path="catchup.zip", lambda_s3_bucket="mirror", lambda_s3_key="k.zip")
            self.assertIn("exactly one way", both.stderr)
            half = plan(lambda_s3_bucket="mirror")
            self.assertIn("lambda_s3_bucket and lambda_s3_key go together", half.stderr)
            version_only = plan(lambda_zip_path="catchup.zip", lambda_s3_object_version="v1")
            self.assertIn("lambda_s3_object_version needs", version_only.stderr)


class Validations(unittest.TestCase):
    @NEEDS_TERRAFORM
    def test_memory_retention_retries_and_lease_names(self):
        with tempfile.TemporaryDirectory() as tmp:
            plan = Plan(Path(tmp))
            ok = {"lambda_zip_path": "catchup.zip"}
            self.assertEqual(plan(**ok).returncode, 0, plan(**ok).stderr)
            for variable, bad, good, message in (
                ("lambda_memory_mb", "64", "1024", "between 128 and 10240"),
                ("lambda_memory_mb", "256.5", "10240", "whole number"),
                ("lambda_log_retention_days", "42", "30", "retention values"),
                ("schedule_max_retry_attempts", "186", "0", "between 0 and 185"),
                ("lambda_async_retry_attempts", "3", "0", "0, 1 or 2"),
                ("lease_name", "Event_Keeper", "prod-events", "Kubernetes object name"),
                ("lease_namespace", "kube.events", "kube-events", "Kubernetes namespace name"),
            ):
                rejected = plan(**ok, **{variable: bad})
                self.assertNotEqual(rejected.returncode, 0, f"{variable}={bad} accepted")
                self.assertIn(message, rejected.stderr.replace("\n", " "), variable)
                accepted = plan(**ok, **{variable: good})
                self.assertEqual(accepted.returncode, 0, f"{variable}={good}: {accepted.stderr}")


class Provider(unittest.TestCase):
    def test_aws_provider_5_and_6(self):
        for module in (MODULE, EXAMPLE):
            constraint = next(b for b in module.blocks("terraform"))["required_providers"][0]["aws"]["version"]
            self.assertRegex(constraint, r">= 5\.\d+")
            self.assertIn("< 7.0", constraint)
        for path in [*MODULE_DIR.glob("*.tf"), *EXAMPLE_DIR.glob("*.tf")]:
            self.assertIsNone(re.search(r"data\.aws_region\.\w+\.name\b", path.read_text()),
                              f"{path.name}: data.aws_region...name is deprecated in AWS provider 6")

    def test_every_taggable_resource_is_tagged(self):
        self.assertEqual(MODULE.call("catchup")["tags"], "${var.tags}")
        for module in (MODULE, FUNCTION):
            used = {t for block in module.blocks("resource") for t in block}
            unknown = used - TAGGABLE - NOT_TAGGABLE
            self.assertEqual(unknown, set(), "classify these resource types as taggable or not")
            for type_ in sorted(used & TAGGABLE):
                for name, body in module.resources_of(type_).items():
                    self.assertIn("var.tags", str(body.get("tags")), f"{type_}.{name} has no tags")


class Lease(unittest.TestCase):
    """One Lease for chart, emitter, catch-up and module, whatever the release is called."""

    def test_the_defaults_agree(self):
        values = (ROOT / "charts/eventkeeper/values.yaml").read_text()
        chart_default = re.search(r"^  leaseName: (\S+)$", values, flags=re.M).group(1)
        helpers = (ROOT / "charts/eventkeeper/templates/_helpers.tpl").read_text()
        self.assertIn(f'default "{chart_default}" .Values.leaderElection.leaseName', helpers)
        catchup = (ROOT / "lambda/src/config.rs").read_text()
        emitter = (ROOT / "emitter/src/config.rs").read_text()
        # Both binaries take their defaults from the one definition in cli/src/settings.rs.
        settings = (ROOT / "cli/src/settings.rs").read_text()
        self.assertIn(f'pub const DEFAULT_LEASE_NAME: &str = "{chart_default}";', settings)
        for config in (catchup, emitter):
            self.assertIn('env = "EVENTKEEPER_LEASE_NAME", default_value = DEFAULT_LEASE_NAME', config)
            self.assertIn("lease_namespace_or_default(", config)
        namespace = re.search(r'pub const DEFAULT_LEASE_NAMESPACE: &str = "([^"]+)";', settings).group(1)
        self.assertIn(f"`{namespace}`", MODULE.variable("lease_namespace")["description"])
        self.assertIn(f"`{chart_default}`", MODULE.variable("lease_name")["description"])

    def test_the_module_passes_both_to_the_function(self):
        main = (MODULE_DIR / "main.tf").read_text()
        self.assertRegex(main, r"EVENTKEEPER_LEASE_NAMESPACE\s*=\s*var\.lease_namespace")
        self.assertRegex(main, r"EVENTKEEPER_LEASE_NAME\s*=\s*var\.lease_name")

    def test_the_complete_example_wires_chart_and_module_from_one_local(self):
        module = next(b["eventkeeper"] for b in EXAMPLE.blocks("module") if "eventkeeper" in b)
        self.assertEqual(module["lease_namespace"], "${local.lease.namespace}")
        self.assertEqual(module["lease_name"], "${local.lease.name}")
        self.assertEqual(module["lambda_zip_path"], "${var.lambda_zip_path}")
        helm = next(b["helm_install_command"] for b in EXAMPLE.blocks("output") if "helm_install_command" in b)
        text = str(helm["value"])
        self.assertIn("-n ${local.lease.namespace}", text)
        self.assertIn("--set leaderElection.leaseName=${local.lease.name}", text)
        self.assertIn("oci://ghcr.io/eventkeeper/charts/eventkeeper", text)

    def test_the_complete_example_outputs_what_a_user_looks_for(self):
        outputs = {name for block in EXAMPLE.blocks("output") for name in block}
        for wanted in ("bucket_name", "events_log_group_name", "lambda_log_group_name",
                       "lambda_function_name", "saved_query_names", "athena"):
            self.assertIn(wanted, outputs)


if __name__ == "__main__":
    unittest.main()
