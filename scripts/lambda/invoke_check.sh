#!/usr/bin/env bash
# The catch-up under the real Lambda Runtime API emulator: `cargo lambda watch` serves the
# function, `cargo lambda invoke` sends an EventBridge Scheduler payload, and the run must archive
# the simulator's events. Everything listens on 127.0.0.1 and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CARGO_TARGET_DIR:-target}/debug
WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --quiet -p eventkeeper-sim
setsid "$BIN/eventkeeper-sim" --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" --scenario seeds \
  >"$WORK/sim.out" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EVENTKEEPER_CLUSTER_NAME=demo EVENTKEEPER_KUBECONFIG="$WORK/kubeconfig" EVENTKEEPER_ARCHIVE_DIR="$WORK/archive" \
  setsid cargo lambda watch -A 127.0.0.1 -P "$PORT" --bin eventkeeper-catchup >"$WORK/watch.log" 2>&1 &
PIDS+=($!)

# The first invoke waits for the build; give it up to 15 minutes on a cold machine.
deadline=$((SECONDS + 900))
until cargo lambda invoke -A 127.0.0.1 -P "$PORT" eventkeeper-catchup \
    --data-ascii '{"scheduledTime":"2026-11-23T10:00:00Z"}' >"$WORK/result.json" 2>"$WORK/invoke.err"; do
  if (( SECONDS > deadline )); then
    echo "lambda-invoke-check: no answer from cargo lambda watch"; tail -20 "$WORK/watch.log"; exit 1
  fi
  sleep 3
done
echo "lambda-invoke-check: $(cat "$WORK/result.json")"
python3 - "$WORK/result.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
assert result["eventsArchived"] > 0 and result["eventsArchived"] == result["eventsListed"], result
assert result["objects"][0].startswith("events/cluster=demo/dt=2026-11-23/hour=10/"), result
PY
ls "$WORK"/archive/events/cluster=demo/dt=2026-11-23/hour=10/*.json.gz >/dev/null
echo "lambda-invoke-check: passed"
