"""An upgrade across the lambda-function submodule loses nothing: apply both complete examples
as they were before it (git BASE) against moto, then plan this tree's on that state.

The plan must destroy and replace nothing, and show every resource that moved into
`module.catchup` / `module.notifier` as moved, not as created. Needs terraform and the AWS
provider in a local plugin directory (`--plugin-dir`: no registry is reachable here) and moto.

The catch-up's example is applied with -target on the resources that move and what they depend
on: moto does not answer some of the others (saved queries, the EKS access entry) the way the
provider waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from probes import free_port, http_get, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SUBMODULE = "infra/terraform/modules/eventkeeper/modules/lambda-function/main.tf"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf"
PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/teams"

# example folder, its variables, the old addresses (-target) applied, and what must move.
EXAMPLES = {
    "infra/terraform/examples/complete": (
        {"cluster_name": "prod"},
        [f"module.eventkeeper.{r}" for r in (
            "aws_lambda_function.catchup", "aws_lambda_function_event_invoke_config.catchup",
            "aws_cloudwatch_metric_alarm.above_zero", "aws_iam_role_policy.lambda",
            "aws_sqs_queue_policy.dead_letters", "aws_scheduler_schedule.catchup")],
        {"aws_cloudwatch_log_group.lambda", "aws_lambda_function.catchup",
         "aws_lambda_function_event_invoke_config.catchup", "aws_sqs_queue.dead_letters",
         "aws_iam_role.lambda", "aws_iam_role_policy.lambda",
         'aws_cloudwatch_metric_alarm.above_zero["errors"]',
         'aws_cloudwatch_metric_alarm.above_zero["dead-letters"]'},
    ),
    "infra/terraform/modules/notifications/examples/complete": (
        {"cluster_name": "prod", "slack_secret_arn": SECRET, "teams_parameter_arn": PARAMETER},
        [],
        {"aws_cloudwatch_log_group.lambda", "aws_lambda_function.notify",
         "aws_lambda_function_event_invoke_config.notify", "aws_sqs_queue.dead_letters",
         "aws_iam_role.notify", "aws_iam_role_policy.notify",
         "aws_cloudwatch_metric_alarm.delivery_failures", "aws_cloudwatch_metric_alarm.dead_letters"},
    ),
}


def base_before_submodule() -> str:
    """The commit before the one that added the submodule."""
    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", SUBMODULE],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    if not added:
        raise SystemExit(f"upgrade-check: no commit adds {SUBMODULE}")
    return f"{added[-1]}^"


def terraform(env: dict, cwd: Path, *args: str) -> str:
    run = subprocess.run(["terraform", *args, "-no-color"], cwd=cwd, env=env,
                         capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"upgrade-check: terraform {args[0]} in {cwd}:\n{run.stderr}{run.stdout[-3000:]}")
    return run.stdout


def check(example: str, env: dict, work: Path, plugin_dir: str, zip_path: Path) -> list[str]:
    variables, targets, must_move = EXAMPLES[example]
    args = [a for k, v in {**variables, "lambda_zip_path": str(zip_path)}.items()
            for a in ("-var", f"{k}={v}")]
    old, new = work / "old" / example, work / "new" / example
    terraform(env, old, "init", "-input=false", f"-plugin-dir={plugin_dir}")
    terraform(env, old, "apply", "-input=false", "-auto-approve", *args,
              *[f"-target={t}" for t in targets])
    shutil.copy(old / "terraform.tfstate", new / "terraform.tfstate")
    terraform(env, new, "init", "-input=false", f"-plugin-dir={plugin_dir}")
    terraform(env, new, "plan", "-input=false", "-out=upgrade.plan", *args)
    plan = json.loads(terraform(env, new, "show", "-json", "upgrade.plan"))
    problems, moved = [], set()
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if "delete" in actions:
            problems.append(f"{example}: {change['address']} would be {'/'.join(actions)}d")
        if change.get("previous_address"):
            moved.add(change["previous_address"].split(".", 2)[2])  # without "module.NAME."
            print(f"  {change['previous_address']} -> {change['address']} ({'/'.join(actions)})")
    problems += [f"{example}: {address} did not move" for address in sorted(must_move - moved)]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", help="git revision before the submodule (default: found from git log)")
    parser.add_argument("--plugin-dir", required=True, help="local directory with the AWS provider")
    parser.add_argument("--moto-server", required=True)
    args = parser.parse_args()
    if not shutil.which("terraform"):
        raise SystemExit("upgrade-check: no terraform on PATH")
    if not list(Path(args.plugin_dir).glob("registry.terraform.io/hashicorp/aws/*")):
        raise SystemExit(f"upgrade-check: no AWS provider under {args.plugin_dir}")
    base = args.base or base_before_submodule()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen([args.moto_server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    problems = []
    try:
        wait_for("moto", lambda: http_get(f"{endpoint}/moto-api/")[0] == 200, 30)
        env = dict(os.environ, TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=os.devnull,
                   AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="eu-west-1",
                   AWS_DEFAULT_REGION="eu-west-1")
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            archive = subprocess.run(["git", "archive", base, "infra"], cwd=ROOT,
                                     capture_output=True, check=True).stdout
            (work / "old").mkdir()
            subprocess.run(["tar", "-x", "-C", str(work / "old")], input=archive, check=True)
            shutil.copytree(ROOT / "infra", work / "new/infra",
                            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
            zip_path = work / "function.zip"
            subprocess.run(["python3", "-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w')"
                            ".writestr('bootstrap', '#!/bin/sh\\n')", str(zip_path)], check=True)
            for example, (variables, _, _) in EXAMPLES.items():
                print(f"upgrade-check: {example} from {base}")
                # The subscription filter needs the events log group the cluster's shipper makes.
                group = f"/aws/containerinsights/{variables['cluster_name']}/application"
                request = urllib.request.Request(
                    endpoint, method="POST", data=json.dumps({"logGroupName": group}).encode(),
                    headers={"X-Amz-Target": "Logs_20140328.CreateLogGroup",
                             "Content-Type": "application/x-amz-json-1.1",
                             "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/logs/aws4_request"})
                try:
                    urllib.request.urlopen(request, timeout=10).read()
                except urllib.error.HTTPError as err:
                    if b"ResourceAlreadyExists" not in err.read():
                        raise
                problems += check(example, env, work, args.plugin_dir, zip_path)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("upgrade-check: nothing destroyed or replaced; every resource moved")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
