"""The release's offline build steps, run through scripts/release/build.sh exactly as
.github/workflows/release.yml runs them: the chart packaged with the pushed image's digest and
rendered by the real Helm engine, the Terraform module archive, SHA256SUMS.

Needs helm-python-sdk (run with the chart-helm venv's Python: `make release-check`).
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
import unittest
from pathlib import Path

import helm_python as hp
import yaml

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "release" / "build.sh"
DIGEST = "sha256:" + "0123456789abcdef" * 4


class ReleaseBuild(unittest.TestCase):
    def setUp(self) -> None:
        self.dist = Path(tempfile.mkdtemp(prefix="release-build-"))

    def tearDown(self) -> None:
        subprocess.run(["rm", "-rf", str(self.dist)], check=True)

    def build(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(BUILD), *args], capture_output=True, text=True, check=check,
                              env={**os.environ, "DIST": str(self.dist)}, timeout=120)

    def version(self) -> str:
        return self.build("version").stdout.strip()

    def test_the_packaged_chart_pulls_the_pushed_digest(self) -> None:
        package = Path(self.build("chart", DIGEST).stdout.strip().splitlines()[-1])
        self.assertEqual(package.name, f"eventkeeper-{self.version()}.tgz")
        unpacked = self.dist / "unpacked"
        with tarfile.open(package) as tar:
            tar.extractall(unpacked, filter="data")
        chart_dir = unpacked / "eventkeeper"
        meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        self.assertEqual((meta["version"], meta["appVersion"]), (self.version(), self.version()))
        with hp.Chart.load(chart_dir) as chart:
            rendered = chart.render(values={"clusterName": "demo"}, name="eventkeeper", namespace="eventkeeper")
        deployments = [d for path, text in rendered.items() if path.endswith(".yaml")
                       for d in yaml.safe_load_all(text)
                       if d and d.get("kind") == "Deployment"]
        image = deployments[0]["spec"]["template"]["spec"]["containers"][0]["image"]
        self.assertEqual(image, f"ghcr.io/eventkeeper/eventkeeper-emitter@{DIGEST}")

    def test_a_malformed_digest_is_refused(self) -> None:
        result = self.build("chart", "latest", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not a sha256", result.stderr)

    def test_the_module_archive_holds_the_module_only(self) -> None:
        archive = Path(self.build("module").stdout.strip())
        with tarfile.open(archive) as tar:
            names = tar.getnames()
        self.assertTrue(all(n == "eventkeeper" or n.startswith("eventkeeper/") for n in names), names)
        for needed in ("eventkeeper/main.tf", "eventkeeper/variables.tf", "eventkeeper/versions.tf"):
            self.assertIn(needed, names)
        self.assertFalse([n for n in names if ".terraform" in n or n.endswith(".tfstate")], names)

    def test_sha256sums_cover_every_release_file_and_verify(self) -> None:
        self.build("module")
        self.build("chart", DIGEST)
        release = self.dist / "release"
        sums = self.build("sums", str(release)).stdout.splitlines()
        listed = sorted(line.split("  ", 1)[1] for line in sums)
        self.assertEqual(listed, sorted(p.name for p in release.iterdir() if p.name != "SHA256SUMS"))
        subprocess.run(["sha256sum", "--check", "--strict", "--quiet", "SHA256SUMS"], cwd=release, check=True)
        (release / listed[0]).write_bytes(b"changed")
        changed = subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=release,
                                 capture_output=True)
        self.assertNotEqual(changed.returncode, 0)


if __name__ == "__main__":
    unittest.main()
