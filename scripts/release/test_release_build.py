"""The release's offline build steps, run through scripts/release/build.sh exactly as
.github/workflows/release.yml runs them: the chart packaged with the pushed image's digest and
rendered by the real Helm engine, the Terraform module archive, the Lambda zips and the kubectl
plugin's tarballs and krew manifest (packed from staged binaries: the release builds those with
the same script), SHA256SUMS.

Needs helm-python-sdk (run with the chart-helm venv's Python: `make release-check`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import tarfile
import tempfile
import unittest
import zipfile
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

    def refused(self, reason: str, *args: str) -> subprocess.CompletedProcess:
        """Runs the build with `args`, which must fail and say `reason` on stderr."""
        result = self.build(*args, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(reason, result.stderr)
        return result

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

    def stage(self, arch: str, *names: str) -> dict[str, bytes]:
        staged = {}
        for name in names:
            path = self.dist / "stage" / f"linux-{arch}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            staged[name] = f"#!/bin/sh\necho {name} {arch}\n".encode()
            path.write_bytes(staged[name])
            path.chmod(0o555)
        return staged

    def test_lambda_zips_hold_one_executable_bootstrap_per_function_and_arch(self) -> None:
        staged = {arch: self.stage(arch, "eventkeeper-catchup", "eventkeeper-notify") for arch in ("amd64", "arm64")}
        out = [Path(p) for p in self.build("pack-lambda", "amd64", "arm64").stdout.split()]
        v = self.version()
        self.assertEqual(sorted(p.name for p in out), sorted(
            f"eventkeeper-{f}-{v}-linux-{a}.zip" for f in ("catchup", "notify") for a in ("amd64", "arm64")))
        for path in out:
            function, arch = path.name.split("-")[1], path.name.rsplit("-", 1)[1].removesuffix(".zip")
            with zipfile.ZipFile(path) as z:
                self.assertEqual(z.namelist(), ["bootstrap"])
                info = z.getinfo("bootstrap")
                self.assertTrue(stat.S_IMODE(info.external_attr >> 16) & 0o111, "bootstrap not executable")
                self.assertEqual(z.read("bootstrap"), staged[arch][f"eventkeeper-{function}"])
        # Reproducible: packing again gives the same bytes, so SHA256SUMS is stable.
        first = {p: p.read_bytes() for p in out}
        self.build("pack-lambda", "amd64", "arm64")
        self.assertEqual(first, {p: p.read_bytes() for p in out})

    def test_an_unknown_architecture_is_an_error_before_any_build(self) -> None:
        result = self.refused("unknown architecture 'sparc'", "lambda", "sparc")
        self.assertNotIn("SKIPPED", result.stdout + result.stderr)

    def test_a_function_not_staged_is_an_error(self) -> None:
        self.stage("amd64", "eventkeeper-catchup")
        self.refused("no eventkeeper-notify staged for amd64", "pack-lambda", "amd64")

    def test_plugin_tarballs_and_the_krew_manifest_agree(self) -> None:
        for arch in ("amd64", "arm64"):
            self.stage(arch, "kubectl-eventkeeper")
        out = [Path(p) for p in self.build("pack-plugin", "amd64", "arm64").stdout.split()]
        v = self.version()
        tarballs = {p.name: p for p in out if p.name.endswith(".tar.gz")}
        self.assertEqual(sorted(tarballs), [f"kubectl-eventkeeper-{v}-linux-{a}.tar.gz" for a in ("amd64", "arm64")])
        for path in tarballs.values():
            with tarfile.open(path) as tar:
                self.assertEqual(sorted(tar.getnames()), ["LICENSE", "kubectl-eventkeeper"])
                self.assertTrue(tar.getmember("kubectl-eventkeeper").mode & 0o111)
        manifest = yaml.safe_load((self.dist / "release" / "eventkeeper.yaml").read_text())
        self.assertEqual(manifest["kind"], "Plugin")
        self.assertEqual(manifest["metadata"]["name"], "eventkeeper")
        self.assertEqual(manifest["spec"]["version"], f"v{v}")
        for platform in manifest["spec"]["platforms"]:
            arch = platform["selector"]["matchLabels"]["arch"]
            name = f"kubectl-eventkeeper-{v}-linux-{arch}.tar.gz"
            self.assertEqual(platform["uri"],
                             f"https://github.com/eventkeeper/eventkeeper/releases/download/v{v}/{name}")
            self.assertEqual(platform["sha256"], hashlib.sha256(tarballs[name].read_bytes()).hexdigest())
            self.assertEqual(platform["bin"], "kubectl-eventkeeper")

    def test_a_krew_manifest_missing_an_architecture_is_refused(self) -> None:
        self.stage("amd64", "kubectl-eventkeeper")
        self.refused("no archive for SHA256_LINUX_ARM64", "pack-plugin", "amd64")

    def test_a_malformed_digest_is_refused(self) -> None:
        self.refused("not a sha256", "chart", "latest")

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
