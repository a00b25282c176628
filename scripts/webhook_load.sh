#!/usr/bin/env bash
# Load check of examples/webhook_receiver.rs on loopback (run by hand, not in CI): for each
# connection count, a fresh receiver gets REQUESTS webhook posts of ALERTS alerts each from
# examples/webhook_load.rs; prints one JSON line per run (requests/s, latency percentiles,
# whether every request was answered and counted). Figures are in docs/benchmarks.md.
#
# Usage: bash scripts/webhook_load.sh            Env: REQUESTS (5000), ALERTS (100),
#        CONNECTIONS ("1 4 16"), DISTINCT (5000), PORT (19395), SKIP_BUILD (use the built binaries)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REQUESTS=${REQUESTS:-5000}
ALERTS=${ALERTS:-100}
CONNECTIONS=${CONNECTIONS:-"1 4 16"}
DISTINCT=${DISTINCT:-5000}
PORT=${PORT:-19395}

[[ -n ${SKIP_BUILD:-} ]] || cargo build --release --quiet --example webhook_receiver --example webhook_load
bin=target/release/examples
RECV_PID=""
stop() {
  if [[ -n $RECV_PID ]]; then
    kill -TERM "$RECV_PID" 2>/dev/null || true
    wait "$RECV_PID" 2>/dev/null || true
    RECV_PID=""
  fi
}
trap stop EXIT

for c in $CONNECTIONS; do
  "$bin/webhook_receiver" --listen "127.0.0.1:$PORT" 2>/dev/null &
  RECV_PID=$!
  for _ in $(seq 50); do
    curl -fsS --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  timeout 300 "$bin/webhook_load" --url "http://127.0.0.1:$PORT" --requests "$REQUESTS" \
    --alerts "$ALERTS" --connections "$c" --distinct "$DISTINCT"
  stop
done
