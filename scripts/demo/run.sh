#!/usr/bin/env bash
# `make demo`: the whole pipeline on this machine, no cluster and no AWS account.
# simulator (seed scenarios) → emitter (records on stdout) → catch-up (./archive) → summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CARGO_TARGET_DIR:-target}/debug
WORK=.tools/demo
rm -rf "$WORK" && mkdir -p "$WORK"

echo "==> Building the simulator, the emitter and the catch-up"
cargo build --quiet -p eventkeeper-sim -p eventkeeper-emitter -p eventkeeper-catchup

echo "==> Starting the simulator with the seed scenarios (simulated clock at 60x)"
"$BIN/eventkeeper-sim" --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" \
  --scenario seeds --clock-speed 60 >"$WORK/sim.out" 2>"$WORK/sim.log" &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
echo "    $(cat "$WORK/sim.out")"

echo "==> Running the emitter for 8 seconds (what Fluent Bit or Vector would ship)"
timeout --signal=TERM 8 "$BIN/eventkeeper-emitter" run --cluster-name demo \
  --kubeconfig "$WORK/kubeconfig" --leader-election false --listen 127.0.0.1:0 \
  >"$WORK/emitter.jsonl" 2>"$WORK/emitter.log" || true
echo "    $(wc -l <"$WORK/emitter.jsonl") records; the first one:"
head -1 "$WORK/emitter.jsonl" | cut -c1-400

echo "==> One catch-up run into ./archive (the Lambda's local mode)"
"$BIN/eventkeeper-catchup" --cluster-name demo --kubeconfig "$WORK/kubeconfig" \
  --archive-dir archive --log-format text 2>"$WORK/catchup.log" | sed 's/^/    EMF: /' | cut -c1-200
find archive -name '*.json.gz' | sed 's/^/    /'

echo "==> What happened"
python3 scripts/demo/summary.py "$WORK/emitter.jsonl" archive
