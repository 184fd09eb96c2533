#!/usr/bin/env bash
# Benchmark (`make bench-history`): how fast kubectl-eventkeeper answers from three simulated days
# of a 1,000-pod cluster's archive in moto S3.
#
# The archive is made the way a cluster makes it: the simulator's load generator writes Events
# (1,000 pods in 4 namespaces, 30 % repeats, 20 % Warnings, WRITES_PER_HOUR writes per simulated
# hour in six 10-minute bursts), the simulated clock advances (Events expire one hour after their
# last update), and the real catch-up (debug build: its speed is not measured) archives the live
# Events every 30 simulated minutes with the run's scheduled time, as the Terraform module's
# default schedule does. Then the release build of the plugin answers, RUNS times each,
# alternating: the Events of one pod and of one whole namespace over `--since 3d`.
# Prints the archive's size and the median, min and max wall time and peak RSS of each question.
# Servers listen on 127.0.0.1 and are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
HOURS=${HOURS:-72}
WRITES_PER_HOUR=${WRITES_PER_HOUR:-5000}
RUNS=${RUNS:-5}
MOTO=${EVENTKEEPER_MOTO_SERVER:?set by make}
PY=$(dirname "$MOTO")/python
cargo build --quiet --locked -p eventkeeper-catchup -p eventkeeper-sim
TARGET=${CARGO_TARGET_DIR:-target}
PLUGIN=$TARGET/release/kubectl-eventkeeper
WORK=$(mktemp -d)
. scripts/bench/peers.sh
start_moto
start_sim "$TARGET/debug/eventkeeper-sim"
clock() { curl -s "$SIM/_sim/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["clock"])'; }

# The same seed gives every burst the same 1,000 pods (names and uids).
BURST=$(( WRITES_PER_HOUR / 6 ))
SPEC="{\"events\": $BURST, \"ratePerSec\": 0, \"objects\": 1000, \"repeatShare\": 0.3, \"warningShare\": 0.2, \"seed\": 7, \"namespaces\": [\"shop\", \"batch\", \"payments\", \"monitoring\"]}"
START=$(date +%s)
for step in $(seq 1 $(( HOURS * 6 ))); do
  curl -s -XPOST "$SIM/_sim/generate" -d "$SPEC" >/dev/null
  until curl -s "$SIM/_sim/status" | grep -q '"generating":false'; do sleep 0.05; done
  curl -s -XPOST "$SIM/_sim/clock" -d '{"advanceSeconds": 600}' >/dev/null
  if (( step % 3 == 0 )); then
    "$TARGET/debug/eventkeeper-catchup" --cluster-name bench --kubeconfig "$WORK/kubeconfig" \
      --bucket bench --log-format text --scheduled-time "$(clock)" >/dev/null 2>"$WORK/catchup.log" \
      || { cat "$WORK/catchup.log"; exit 1; }
  fi
  (( step % 60 == 0 )) && echo "  $(( step / 6 )) simulated hours archived ($(( $(date +%s) - START )) s)" >&2
done
NOW=$(clock)
GENERATED_IN=$(( $(date +%s) - START ))
cargo build --quiet --locked --release -p eventkeeper-history --bin kubectl-eventkeeper

# One pod that the generator wrote to, and its namespace.
read -r NS POD < <(curl -s "$SIM/api/v1/events?limit=1" | python3 -c '
import json, sys
o = json.load(sys.stdin)["items"][0]["involvedObject"]
print(o["namespace"], o["name"])')

"$PY" - <<'PY'
import boto3
s3 = boto3.client("s3")
objects = size = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench"):
    for o in page.get("Contents", []):
        objects += 1
        size += o["Size"]
print(f"archive: {objects} objects, {size / 1e6:.1f} MB gzipped")
PY
echo "simulated time: $HOURS h to $NOW; $(( HOURS * 6 * BURST )) writes; generated and archived in $GENERATED_IN s"

ask() { # name, args...: one timed run, answer on stdout to a file
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$PLUGIN" events "$@" --source archive \
    --bucket bench --cluster bench --since 3d --now "$NOW" -o json >"$WORK/$name.out" 2>"$WORK/$name.err" \
    || { echo "$name failed:"; cat "$WORK/$name.err"; exit 1; }
  cat "$WORK/$name.time" >>"$WORK/$name.times"
}
for _ in $(seq "$RUNS"); do
  ask pod -n "$NS" --for "pod/$POD"
  ask namespace -n "$NS"
done
for name in pod namespace; do
  python3 - "$name" "$WORK/$name.times" "$WORK/$name.out" <<'PY'
import statistics, sys
name, times, out = sys.argv[1:]
runs = [tuple(map(float, l.split())) for l in open(times)]
walls = sorted(w for w, _ in runs)
rss = max(m for _, m in runs) / 1024
rows = sum(1 for _ in open(out))
print(f"{name:10} rows {rows:7}  wall median {statistics.median(walls):.2f} s (min {walls[0]:.2f}, max {walls[-1]:.2f}, {len(walls)} runs)  peak RSS {rss:.0f} MiB")
PY
done
