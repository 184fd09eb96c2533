#!/usr/bin/env bash
# Benchmark (`make bench-catchup`): one catch-up run of N events (default 100k) from the simulator
# into moto S3, release build. Prints wall time, peak RSS, and archive bytes per event against
# the raw JSON the API returned. Servers listen on 127.0.0.1 and are stopped on exit.
# EVENTS=1000000 for a large cluster; PROFILE=debug measures memory without a release build
# (timings of a debug build mean nothing); CATCHUP_BIN=path measures another build of the
# catch-up, e.g. the static binary of the release's Lambda zip (`make lambda-zip` stages it in
# target/dist/stage/linux-amd64/eventkeeper-catchup); SIM_BIN=path uses a simulator already built.
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${EVENTS:-100000}
MOTO=${EVENTKEEPER_MOTO_SERVER:?set by make}
PY=$(dirname "$MOTO")/python
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  [ -n "${SIM_BIN:-}" ] || cargo build --quiet --release -p eventkeeper-sim
  [ -n "${CATCHUP_BIN:-}" ] || cargo build --quiet --release -p eventkeeper-catchup
else
  [ -n "${SIM_BIN:-}" ] || cargo build --quiet -p eventkeeper-sim
  [ -n "${CATCHUP_BIN:-}" ] || cargo build --quiet -p eventkeeper-catchup
fi
BIN=${CARGO_TARGET_DIR:-target}/$PROFILE
WORK=$(mktemp -d)
. scripts/bench/peers.sh
start_moto
start_sim "${SIM_BIN:-$BIN/eventkeeper-sim}"
curl -s -XPOST "$SIM/_sim/generate" -d "{\"events\": $EVENTS, \"ratePerSec\": 0, \"objects\": $EVENTS, \"repeatShare\": 0.0, \"warningShare\": 0.3, \"namespaces\": [\"shop\", \"batch\", \"kube-system\", \"monitoring\"]}" >/dev/null
until curl -s "$SIM/_sim/status" | grep -q '"generating":false'; do sleep 0.5; done
# Raw JSON as the API returns it, one compact line per Event, read in pages (3M Events do not fit
# one Python document comfortably).
RAW=$(python3 - "$SIM" <<'PY'
import json, sys, urllib.parse, urllib.request
total, token = 0, ""
while True:
    url = f"{sys.argv[1]}/api/v1/events?limit=5000" + (f"&continue={urllib.parse.quote(token)}" if token else "")
    page = json.load(urllib.request.urlopen(url))
    total += sum(len(json.dumps(i, separators=(",", ":"))) + 1 for i in page["items"])
    token = page["metadata"].get("continue") or ""
    if not token:
        break
print(total)
PY
)

CATCHUP=${CATCHUP_BIN:-$BIN/eventkeeper-catchup}
/usr/bin/time -v "$CATCHUP" --cluster-name bench --kubeconfig "$WORK/kubeconfig" \
  --bucket bench --log-format json >"$WORK/emf.json" 2>"$WORK/run.log"
python3 - "$WORK/emf.json" "$WORK/run.log" "$RAW" <<'PY'
import json, re, sys
emf = json.loads(open(sys.argv[1]).readline())
log = open(sys.argv[2]).read()
rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", log).group(1))
cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", log).group(1)) for k in ("User", "System"))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", log).group(1)
raw = int(sys.argv[3])
events = emf["EventsArchived"]
print(f"events archived      {events}")
print(f"wall time            {wall} (run's own DurationMs {emf['DurationMs']})")
print(f"CPU (user + system)  {cpu:.1f} s, {1e6 * cpu / events:.1f} µs/event")
print(f"peak RSS             {rss_kib / 1024:.1f} MiB")
print(f"archive              {emf['ArchiveBytes']} bytes, {emf['ArchiveBytes'] / events:.1f} bytes/event")
print(f"raw list JSON        {raw} bytes, {raw / events:.1f} bytes/event")
print(f"archive / raw        {100 * emf['ArchiveBytes'] / raw:.1f} %")
PY
