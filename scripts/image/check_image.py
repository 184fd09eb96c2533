"""`make image-check`: runs the built emitter image the way a kubelet would, against the simulator.

Takes the host architecture's image out of the OCI layout `scripts/release/build.sh image` wrote,
unpacks it with umoci, adds what a Pod gets (the service-account token, CA and namespace files,
KUBERNETES_SERVICE_HOST/PORT), and runs the image's own entrypoint and command as the image's user
(UID 65532) with `chroot --userspec`. Checks: the user is 65532, /readyz answers 200, records
reach stdout and name the cluster, SIGTERM exits 0.

    python scripts/image/check_image.py --layout dist/image/oci --tag VERSION --sim PATH --work DIR
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from probes import free_port, http_get, wait_for  # noqa: E402

TOKEN = "image-check-token"
CLUSTER = "image-check"
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]
# chroot needs root; CI runners give it through passwordless sudo.
AS_ROOT = [] if os.geteuid() == 0 else ["sudo", "-n"]


def unpack(layout: Path, tag: str, work: Path) -> Path:
    """The host architecture's image, unpacked into an OCI runtime bundle."""
    single = work / "single"
    bundle = work / "bundle"
    shutil.rmtree(single, ignore_errors=True)
    shutil.rmtree(bundle, ignore_errors=True)
    subprocess.run(["skopeo", "copy", "--quiet", "--override-os", "linux", "--override-arch", ARCH,
                    f"oci:{layout}:{tag}", f"oci:{single}:{ARCH}"], check=True)
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    subprocess.run(["umoci", "unpack", *rootless, "--image", f"{single}:{ARCH}", str(bundle)], check=True,
                   stdout=subprocess.DEVNULL)
    return bundle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", type=Path, required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--sim", required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    bundle = unpack(args.layout, args.tag, args.work)
    process = json.loads((bundle / "config.json").read_text())["process"]
    rootfs = bundle / "rootfs"
    user = process["user"]
    assert (user["uid"], user["gid"]) == (65532, 65532), f"the image runs as {user}"
    print(f"image-check: linux/{ARCH} unpacked; runs {process['args']} as {user['uid']}:{user['gid']}")

    kubeconfig = args.work / "sim-kubeconfig"
    procs: list[subprocess.Popen] = []
    try:
        sim = subprocess.Popen(
            [args.sim, "--listen", "127.0.0.1:0", "--kubeconfig-out", str(kubeconfig), "--scenario", "seeds",
             "--tls", "--auth", "static", "--token", TOKEN],
            stdout=subprocess.PIPE, stderr=open(args.work / "sim.stderr", "w"), text=True)
        procs.append(sim)
        assert select.select([sim.stdout], [], [], 30)[0], "the simulator did not start within 30 s"
        line = sim.stdout.readline().strip()
        assert line.startswith("listening on https://127.0.0.1:"), line
        api_port = line.rsplit(":", 1)[1].rstrip("/")
        cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]

        # What the kubelet mounts into every Pod with a service account.
        secrets = rootfs / "var/run/secrets/kubernetes.io/serviceaccount"
        secrets.mkdir(parents=True, exist_ok=True)
        (secrets / "token").write_text(TOKEN)
        (secrets / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        (secrets / "namespace").write_text("eventkeeper")

        port = free_port()
        env = {entry.split("=", 1)[0]: entry.split("=", 1)[1] for entry in process.get("env", [])}
        env.update({
            "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": api_port,
            "EVENTKEEPER_CLUSTER_NAME": CLUSTER, "EVENTKEEPER_LEASE_NAMESPACE": "eventkeeper",
            "EVENTKEEPER_IDENTITY": "image-check-0", "EVENTKEEPER_LISTEN": f"127.0.0.1:{port}",
        })
        stdout = args.work / "emitter.stdout"
        # `env -i` keeps the host's environment out: the process sees the image's env plus a Pod's.
        emitter = subprocess.Popen(
            [*AS_ROOT, "env", "-i", *(f"{k}={v}" for k, v in env.items()),
             "chroot", f"--userspec={user['uid']}:{user['gid']}", str(rootfs), *process["args"]],
            cwd="/", stdout=open(stdout, "w"), stderr=open(args.work / "emitter.stderr", "w"))
        procs.append(emitter)
        base = f"http://127.0.0.1:{port}"
        wait_for("/readyz 200", lambda: emitter.poll() is None and http_get(base + "/readyz")[0] == 200, 60)
        wait_for("records on stdout", lambda: stdout.stat().st_size > 0, 30)
        time.sleep(1)
        records = [json.loads(l) for l in stdout.read_text().splitlines() if l.strip()]
        assert records and all(r["cluster"] == CLUSTER for r in records), records[:1]
        emitter.send_signal(signal.SIGTERM)
        code = emitter.wait(timeout=30)
        assert code == 0, f"exit {code} after SIGTERM"
        print(f"image-check: /readyz 200, {len(records)} records on stdout, SIGTERM exit 0")
    except AssertionError as err:
        stderr = (args.work / "emitter.stderr")
        tail = stderr.read_text()[-1500:] if stderr.exists() else ""
        print(f"image-check: FAILED: {err}\n{tail}", file=sys.stderr)
        return 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
