#!/usr/bin/env python3
"""Compares two builds of the emitter and the catch-up on the same simulator, alternately.

`make bench-compare BASE=DIR NEW=DIR`: DIR holds eventkeeper-emitter and eventkeeper-catchup
(release builds). One simulator (release build of this tree) is filled with EVENTS live Events
(default 100,000); then PAIRS times (default 6), in an order that alternates, each build's
emitter lists them to a pipe (events/s until the last line, peak RSS) and each build's catch-up
archives them into moto S3 under a fresh cluster name (wall time, peak RSS). The VM's speed
drifts, so only the ratio inside a pair means something: the script prints every pair and the
median ratio. Servers listen on 127.0.0.1 and are stopped on exit.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def emitter_run(binary, kubeconfig, events):
    """Seconds to write `events` lines, and the peak RSS at that moment."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [binary, "run", "--kubeconfig", kubeconfig, "--cluster-name", "compare",
         "--leader-election", "false", "--listen", f"127.0.0.1:{free_port()}",
         "--log-level", "warn"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20)
    lines = 0
    try:
        for chunk in iter(lambda: proc.stdout.read1(1 << 20), b""):
            lines += chunk.count(b"\n")
            if lines >= events:
                break
        elapsed = time.monotonic() - start
        rss = peak_rss_mib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    if lines < events:
        sys.exit(f"{binary} wrote {lines} of {events} lines")
    return elapsed, rss


def catchup_run(binary, kubeconfig, cluster, env):
    """Wall seconds and peak RSS of one run that archives every Event."""
    with tempfile.NamedTemporaryFile("r") as timing:
        start = time.monotonic()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", timing.name, binary, "--cluster-name", cluster,
             "--kubeconfig", kubeconfig, "--bucket", "compare", "--log-format", "json"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"{binary} failed: {done.stderr[-2000:]}")
        rss = int(timing.read().split()[-1]) / 1024
    return elapsed, rss


def main():
    base, new = sys.argv[1], sys.argv[2]
    sim_bin = sys.argv[3]
    moto = os.environ["EVENTKEEPER_MOTO_SERVER"]
    events = int(os.environ.get("EVENTS", "100000"))
    pairs = int(os.environ.get("PAIRS", "6"))
    work = tempfile.mkdtemp()
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                   AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
        python = os.path.join(os.path.dirname(moto), "python")
        for _ in range(100):
            made = subprocess.run([python, "-c", "import boto3; boto3.client('s3').create_bucket(Bucket='compare')"],
                                  env=env, stderr=subprocess.DEVNULL)
            if made.returncode == 0:
                break
            time.sleep(0.3)
        kubeconfig = os.path.join(work, "kubeconfig")
        sim = subprocess.Popen([sim_bin, "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig,
                                "--max-observations", "10", "--continue-ttl", "10h"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(sim)
        url = re.sub(r"^listening on ", "", sim.stdout.readline().strip())
        body = json.dumps({"events": events, "ratePerSec": 0, "objects": 1000, "repeatShare": 0.0,
                           "warningShare": 0.3, "namespaces": ["a", "b", "c", "d"]}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{url}/_sim/generate", data=body, method="POST"))
        while json.load(urllib.request.urlopen(f"{url}/_sim/status"))["generating"]:
            time.sleep(0.5)
        builds = {"base": base, "new": new}
        rows = {"emitter": [], "catchup": []}
        for i in range(pairs):
            order = ["base", "new"] if i % 2 == 0 else ["new", "base"]
            got = {}
            for name in order:
                got[("emitter", name)] = emitter_run(f"{builds[name]}/eventkeeper-emitter", kubeconfig, events)
                got[("catchup", name)] = catchup_run(f"{builds[name]}/eventkeeper-catchup", kubeconfig,
                                                     f"c{i}{name}", env)
            for tool in rows:
                (b, b_rss), (n, n_rss) = got[(tool, "base")], got[(tool, "new")]
                rows[tool].append((b, n, b_rss, n_rss))
                print(f"pair {i + 1} {tool}: base {b:.2f} s {b_rss:.1f} MiB, new {n:.2f} s "
                      f"{n_rss:.1f} MiB, new/base time {n / b:.2f}", flush=True)
        print(f"\n{events} live Events, {pairs} alternating pairs")
        print("| binary | base median | new median | median new/base time | new faster in | RSS base → new |")
        print("|---|---|---|---|---|---|")
        for tool, r in rows.items():
            ratios = [n / b for b, n, _, _ in r]
            print(f"| {tool} | {statistics.median(b for b, _, _, _ in r):.2f} s "
                  f"| {statistics.median(n for _, n, _, _ in r):.2f} s | {statistics.median(ratios):.2f} "
                  f"| {sum(x < 1 for x in ratios)} of {len(r)} "
                  f"| {statistics.median(x for _, _, x, _ in r):.1f} → {statistics.median(x for _, _, _, x in r):.1f} MiB |")
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
