"""scripts/fetch-release.sh against a local HTTP server on 127.0.0.1 serving a fake release whose
SHA256SUMS is written by scripts/release/build.sh, the script the release workflow runs.

    python3 -m unittest discover -s scripts/release -p 'test_*.py'
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FETCH = REPO / "scripts" / "fetch-release.sh"
BUILD = REPO / "scripts" / "release" / "build.sh"
VERSION = "1.2.3"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class FetchRelease(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fetch-release-"))
        self.served = self.tmp / "served" / f"v{VERSION}"
        self.served.mkdir(parents=True)
        for function in ("catchup", "notify"):
            for arch in ("amd64", "arm64"):
                (self.served / f"eventkeeper-{function}-{VERSION}-linux-{arch}.zip").write_bytes(
                    f"{function} zip for {arch}".encode() * 100)
        (self.served / f"eventkeeper-terraform-module-{VERSION}.tar.gz").write_bytes(b"module")
        subprocess.run([str(BUILD), "sums", str(self.served)], check=True, stdout=subprocess.DEVNULL)
        handler = functools.partial(Quiet, directory=str(self.tmp / "served"))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def tearDown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        subprocess.run(["rm", "-rf", str(self.tmp)], check=True)

    def fetch(self, version: str = VERSION, url_version: str = VERSION, **env: str) -> subprocess.CompletedProcess:
        out = self.tmp / "out"
        return subprocess.run(
            [str(FETCH), version, str(out)], capture_output=True, text=True, timeout=60,
            env={**os.environ, "EVENTKEEPER_RELEASE_URL": f"{self.base}/v{url_version}", **env})

    def zips_kept(self) -> list[str]:
        out = self.tmp / "out"
        return sorted(p.name for p in out.glob("*.zip")) if out.exists() else []

    def test_downloads_and_verifies_both_architectures(self) -> None:
        result = self.fetch()
        self.assertEqual(result.returncode, 0, result.stderr)
        expected = [f"eventkeeper-{f}-{VERSION}-linux-{a}.zip"
                    for f in ("catchup", "notify") for a in ("amd64", "arm64")]
        self.assertEqual(self.zips_kept(), expected)
        self.assertEqual([Path(l).name for l in result.stdout.split()], expected)
        for name in expected:
            self.assertEqual((self.tmp / "out" / name).read_bytes(), (self.served / name).read_bytes())

    def test_a_v_prefixed_version_is_accepted(self) -> None:
        result = self.fetch(version=f"v{VERSION}", EVENTKEEPER_ARCHES="arm64")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.zips_kept(), [f"eventkeeper-catchup-{VERSION}-linux-arm64.zip",
                                            f"eventkeeper-notify-{VERSION}-linux-arm64.zip"])

    def test_the_catch_up_alone_when_notifications_are_not_used(self) -> None:
        result = self.fetch(EVENTKEEPER_FUNCTIONS="catchup", EVENTKEEPER_ARCHES="amd64")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.zips_kept(), [f"eventkeeper-catchup-{VERSION}-linux-amd64.zip"])

    def test_an_unknown_function_is_refused(self) -> None:
        result = self.fetch(EVENTKEEPER_FUNCTIONS="catchup emitter")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("unknown function 'emitter'", result.stderr)
        self.assertEqual(self.zips_kept(), [])

    def test_a_tampered_zip_is_refused_and_not_kept(self) -> None:
        (self.served / f"eventkeeper-catchup-{VERSION}-linux-amd64.zip").write_bytes(b"tampered")
        result = self.fetch()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("checksum mismatch", result.stderr)
        self.assertEqual(self.zips_kept(), [])

    def test_a_zip_missing_from_the_release_is_an_error(self) -> None:
        (self.served / f"eventkeeper-catchup-{VERSION}-linux-arm64.zip").unlink()
        result = self.fetch()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("cannot download", result.stderr)
        self.assertEqual(self.zips_kept(), [])

    def test_an_unknown_version_is_an_error(self) -> None:
        result = self.fetch(version="9.9.9", url_version="9.9.9")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SHA256SUMS", result.stderr)

    def test_a_malformed_version_is_refused_before_any_download(self) -> None:
        result = self.fetch(version="latest")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not a version", result.stderr)


if __name__ == "__main__":
    unittest.main()
