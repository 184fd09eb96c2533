# shellcheck shell=bash
# Sourced by the benchmarks: moto with a `bench` bucket and the simulator, on loopback ports,
# stopped (and $WORK removed) when the benchmark exits. The caller sets MOTO (moto_server), PY
# (the Python next to it, with boto3) and WORK (a scratch directory).

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$WORK"' EXIT

# moto on a free port, the AWS environment pointed at it, and its `bench` bucket.
start_moto() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$MOTO" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 & PIDS+=($!)
  export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
    AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  until "$PY" -c "import boto3; boto3.client('s3').create_bucket(Bucket='bench')" 2>/dev/null; do sleep 0.3; done
}

# The simulator binary $1, its kubeconfig in $WORK/kubeconfig; sets SIM to its URL.
start_sim() {
  "$1" --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" --max-observations 10 \
    >"$WORK/sim.out" 2>/dev/null & PIDS+=($!)
  for _ in $(seq 100); do grep -q listening "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
  # shellcheck disable=SC2034 # read by the benchmark that sources this
  SIM=$(sed 's/listening on //' "$WORK/sim.out")
}
