"""Run checkov on Terraform directories and fail on what its exit status hides.

checkov exits 0 on a syntax error (the file is just not scanned), so the JSON report decides:
any parsing error, any failed check, or any skip without a reason (`#checkov:skip=ID:reason`
next to the resource) fails the run.
"""

import argparse
import json
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkov", required=True)
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()
    problems = []
    for directory in args.dirs:
        run = subprocess.run(
            [args.checkov, "-d", directory, "--framework", "terraform", "--skip-download",
             "-o", "json"],
            capture_output=True, text=True, check=False,
        )
        try:
            reports = json.loads(run.stdout)
        except json.JSONDecodeError:
            problems.append(f"{directory}: checkov gave no JSON report:\n{run.stderr}{run.stdout}")
            continue
        for report in reports if isinstance(reports, list) else [reports]:
            summary = report.get("summary", {})
            results = report.get("results", {})
            print(f"checkov {directory}: {summary.get('passed', 0)} passed, "
                  f"{summary.get('failed', 0)} failed, {summary.get('skipped', 0)} skipped, "
                  f"{summary.get('parsing_errors', 0)} parsing errors")
            for path in results.get("parsing_errors", []):
                problems.append(f"{directory}: checkov could not parse {path}")
            if summary.get("parsing_errors") and not results.get("parsing_errors"):
                problems.append(f"{directory}: {summary['parsing_errors']} parsing errors")
            for failed in results.get("failed_checks", []):
                problems.append(f"{failed['check_id']} {failed['check_name']}: {failed['resource']} "
                                f"({failed['file_path']}:{failed['file_line_range'][0]})")
            for skipped in results.get("skipped_checks", []):
                reason = (skipped.get("check_result") or {}).get("suppress_comment") or ""
                if len(reason.strip()) < 10:
                    problems.append(f"{skipped['check_id']} skipped without a reason: "
                                    f"{skipped['resource']} ({skipped['file_path']})")
                else:
                    print(f"  skipped {skipped['check_id']} on {skipped['resource']}: {reason}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
