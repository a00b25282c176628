#!/usr/bin/env bash
# End-to-end test of examples/webhook_receiver.rs against a REAL Prometheus Alertmanager.
#
# 1. Installs Debian's prometheus-alertmanager (and curl, jq) if missing; no packaged service is
#    left running.
# 2. Builds the receiver (release) and has it write a seeded aiops-sim alert storm with ground
#    truth (topology, time-ordered steps of firings and resolutions for Alertmanager's API,
#    truth.json).
# 3. Starts the receiver and Alertmanager on 127.0.0.1 only (clustering off, a temporary storage
#    path, a webhook receiver pointing at the service, group_wait/group_interval 1 s).
# 4. Replays the storm step by step to POST /api/v2/alerts, waits (bounded) until every alert has
#    been delivered, and checks GET /incidents: every distinct alert arrived, the re-sends were
#    de-duplicated, the number of incidents equals the injected one, and each true root cause is
#    in its incident's top 3. Also checks that bad input is refused without losing anything,
#    unknown services and fields, retention, concurrent posts (examples/webhook_load.rs) and
#    a clean exit on SIGTERM.
#
# Fails (non-zero) when anything is missing or wrong, including when Alertmanager cannot be
# installed or started; it never skips. Both processes are stopped by PID on exit.
#
# Usage: bash tests/alertmanager/run.sh        (as root when Alertmanager must be installed)
# Env:   AM_PORT (first port tried, default 19193), SEED (storm seed, default 7),
#        WAIT_SECS (delivery timeout, default 60), RECV_BIN (a prebuilt receiver, with
#        webhook_load beside it: skips the build)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT"
AM_PORT=${AM_PORT:-19193}
SEED=${SEED:-7}
WAIT_SECS=${WAIT_SECS:-60}
T_START=$(date +%s)

log() { printf '[alertmanager-test] %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

find_am() { command -v prometheus-alertmanager || command -v alertmanager || true; }

# --- 1. tools --------------------------------------------------------------------------------
missing=()
[[ -n $(find_am) ]] || missing+=(prometheus-alertmanager)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${missing[*]} and not root: cannot apt-get install"
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get"
  am_re='(^|/)(prometheus-)?alertmanager( |$)'
  before_pids=" $(pgrep -d ' ' -f "$am_re" || true) "
  log "installing ${missing[*]} from Debian"
  apt-get update || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" ||
    fail "could not install ${missing[*]}"
  # Leave no packaged Alertmanager running: only ours, on a loopback port, may run.
  service prometheus-alertmanager stop >/dev/null 2>&1 || true
  systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  for pid in $(pgrep -f "$am_re" || true); do
    if [[ $before_pids != *" $pid "* ]]; then
      log "stopping alertmanager pid $pid started by the package install"
      kill "$pid" 2>/dev/null || true
    fi
  done
fi
AM_BIN=$(find_am)
[[ -n $AM_BIN ]] || fail "alertmanager binary missing after install"
command -v curl >/dev/null || fail "curl missing after install"
command -v jq >/dev/null || fail "jq missing after install"
log "using $AM_BIN: $("$AM_BIN" --version 2>&1 | head -n1)"

# --- 2. build the receiver and the storm -----------------------------------------------------
if [[ -z ${RECV_BIN:-} ]]; then
  cargo build --release --quiet --example webhook_receiver --example webhook_load
  RECV_BIN=$REPO_ROOT/target/release/examples/webhook_receiver
fi
LOAD_BIN=$(dirname "$RECV_BIN")/webhook_load
[[ -x $RECV_BIN ]] || fail "$RECV_BIN not built"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/am-webhook.XXXXXX")
AM_PID=""
RECV_PID=""
cleanup() {
  local rc=$?
  for pid in $AM_PID $RECV_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    for f in am.log recv.log; do
      [[ -f $TMP/$f ]] && { log "$f (tail):"; tail -n 30 "$TMP/$f" >&2 || true; }
    done
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$RECV_BIN" --emit-storm "$TMP/storm" --seed "$SEED" || fail "could not generate the storm"
TRUTH=$TMP/storm/truth.json
N_RECORDS=$(jq .records "$TRUTH")
N_DISTINCT=$(jq .distinct_fingerprints "$TRUTH")
N_INCIDENTS=$(jq '.incidents | length' "$TRUTH")
LIB_INCIDENTS=$(jq .library_incidents "$TRUTH")
N_STEPS=$(jq .steps "$TRUTH")
log "storm (seed $SEED): $N_RECORDS alert records, $N_DISTINCT distinct, $N_INCIDENTS incidents, roots $(jq -c '[.incidents[].root]' "$TRUTH"); aiops-rca on the storm itself: $LIB_INCIDENTS incidents"

# --- 3. start the receiver, then Alertmanager ------------------------------------------------
# The receiver binds an ephemeral loopback port and prints it.
MAX_BODY=4194304
"$RECV_BIN" --listen 127.0.0.1:0 --services "$TMP/storm/services.json" --max-body-bytes "$MAX_BODY" \
  >"$TMP/recv.log" 2>&1 &
RECV_PID=$!
RECV_URL=""
for _ in $(seq 100); do
  kill -0 "$RECV_PID" 2>/dev/null || fail "the receiver exited"
  RECV_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/recv.log" | head -n1 || true)
  [[ -n $RECV_URL ]] && break
  sleep 0.1
done
[[ -n $RECV_URL ]] || fail "the receiver did not report its address"
curl -fsS --max-time 2 "$RECV_URL/healthz" >/dev/null || fail "receiver /healthz failed"
log "receiver on $RECV_URL (pid $RECV_PID)"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 100); do
  port_in_use "$AM_PORT" || port_in_use "$((AM_PORT + 1))" || break
  AM_PORT=$((AM_PORT + 2))
done
AM_URL="http://127.0.0.1:$AM_PORT"
mkdir -p "$TMP/data"
cat >"$TMP/alertmanager.yml" <<EOF
global:
  resolve_timeout: 5m
route:
  receiver: aiops
  group_by: ['service']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: aiops
    webhook_configs:
      - url: '$RECV_URL/webhook'
        send_resolved: true
        max_alerts: 0
EOF
"$AM_BIN" \
  --config.file="$TMP/alertmanager.yml" \
  --storage.path="$TMP/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" \
  --web.external-url="$AM_URL" \
  --cluster.listen-address= \
  --log.level=info >"$TMP/am.log" 2>&1 &
AM_PID=$!
ready=0
for _ in $(seq 150); do
  kill -0 "$AM_PID" 2>/dev/null || fail "alertmanager exited at start"
  if curl -fsS --max-time 2 "$AM_URL/-/ready" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.2
done
[[ $ready == 1 ]] || fail "alertmanager not ready within 30 s"
log "alertmanager on $AM_URL (pid $AM_PID)"

# --- 4. replay the storm in time order; Alertmanager re-sends each changed group -------------
for ((i = 0; i < N_STEPS; i++)); do
  code=$(curl -sS --max-time 10 -o "$TMP/post.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "@$TMP/storm/step-$i.json" \
    "$AM_URL/api/v2/alerts")
  [[ $code == 200 ]] || fail "POST /api/v2/alerts step $i: HTTP $code $(cat "$TMP/post.out")"
  sleep 1.5
done

deadline=$(($(date +%s) + WAIT_SECS))
while :; do
  curl -fsS --max-time 5 "$RECV_URL/incidents" >"$TMP/incidents.json" || fail "GET /incidents failed"
  got=$(jq .distinct_alerts "$TMP/incidents.json")
  ((got >= N_DISTINCT)) && break
  (($(date +%s) < deadline)) || fail "only $got of $N_DISTINCT distinct alerts delivered within ${WAIT_SECS} s"
  sleep 1
done
# Let Alertmanager's last group_interval pass, then read the final state.
sleep 2
curl -fsS --max-time 5 "$RECV_URL/incidents" >"$TMP/incidents.json" || fail "GET /incidents failed"
kill -0 "$AM_PID" 2>/dev/null || fail "alertmanager died during the test"

# --- 5. checks ---------------------------------------------------------------------------------
R=$TMP/incidents.json
received=$(jq .alerts_received "$R")
distinct=$(jq .distinct_alerts "$R")
payloads=$(jq .payloads "$R")
incidents=$(jq '.incidents | length' "$R")
in_incidents=$(jq '[.incidents[].alerts] | add // 0' "$R")
noise=$(jq .noise_alerts "$R")
log "delivered: $received alerts in $payloads webhook payloads; $distinct distinct after de-duplication; $incidents incidents, $noise noise alerts"
jq -c '{records, firing_records}' "$R" >&2
jq -c '.incidents[] | {id, alerts, services: (.services | length), top3: [.root_causes[:3][].service], healing: .healing.decision}' "$R" >&2

((distinct == N_DISTINCT)) || fail "distinct alerts $distinct, expected $N_DISTINCT"
((received > distinct)) || fail "no re-sends seen ($received received, $distinct distinct): de-duplication untested"
((in_incidents + noise == distinct)) || fail "incidents hold $in_incidents alerts and noise $noise, expected every distinct alert once ($distinct)"
((incidents == LIB_INCIDENTS)) ||
  fail "$incidents incidents through Alertmanager, but aiops-rca finds $LIB_INCIDENTS in the storm itself"
((incidents == N_INCIDENTS)) ||
  fail "$incidents incidents, expected the $N_INCIDENTS injected (aiops-rca finds $LIB_INCIDENTS in the storm itself: the correlator splits or joins them, not Alertmanager)"
jq -e '[.incidents[] | .healing.dry_run == true] | all' "$R" >/dev/null || fail "a healing decision is not a dry run"
for ((k = 0; k < N_INCIDENTS; k++)); do
  root=$(jq -r ".incidents[$k].root" "$TRUTH")
  jq -e --arg r "$root" '[.incidents[] | select(.services | index($r)) | [.root_causes[:3][].service] | index($r)] | any(. != null)' "$R" >/dev/null ||
    fail "true root $root is not in the top 3 of its incident"
  log "root $root: in the top 3"
done

# --- 6. bad input after the storm: refused with a JSON error naming it, nothing lost ------------
snapshot() { curl -fsS --max-time 5 "$RECV_URL/incidents" | jq -c '{distinct_alerts, records, incidents: [.incidents[] | {id, alerts}]}'; }
before=$(snapshot)
rejected_before=$(jq .rejected_requests "$R")
bad() {
  local want=$1 ctype=$2 body=$3 needle=$4 code
  code=$(curl -sS --max-time 10 -o "$TMP/bad.out" -w '%{http_code}' -H "Content-Type: $ctype" \
    --data-binary "$body" "$RECV_URL/webhook")
  [[ $code == "$want" ]] || fail "bad input (${body:0:60}): HTTP $code, expected $want"
  jq -e --arg n "$needle" '.error | type == "string" and contains($n)' "$TMP/bad.out" >/dev/null ||
    fail "bad input (${body:0:60}): error does not name \"$needle\": $(head -c 300 "$TMP/bad.out")"
}
bad 400 application/json '{"alerts": [' 'malformed JSON'
bad 415 text/plain '{"status": "firing", "alerts": []}' 'content type'
bad 422 application/json '{"status": "firing"}' 'alerts'
bad 422 application/json '{"status": "burning", "alerts": []}' 'burning'
bad 422 application/json '{"status": "firing", "alerts": [{"labels": {"a": "b"}, "startsAt": "yesterday"}]}' 'yesterday'
head -c $((MAX_BODY + 1)) /dev/zero | tr '\0' ' ' >"$TMP/big.json"
bad 413 application/json "@$TMP/big.json" 'limit'
code=$(curl -sS --max-time 5 -o "$TMP/bad.out" -w '%{http_code}' "$RECV_URL/webhook")
[[ $code == 405 ]] && jq -e '.error | contains("not allowed")' "$TMP/bad.out" >/dev/null ||
  fail "GET /webhook: HTTP $code $(cat "$TMP/bad.out"), expected 405 with a JSON error"
after=$(snapshot)
[[ $before == "$after" ]] || fail "bad input changed the state: $before -> $after"
rejected=$(curl -fsS --max-time 5 "$RECV_URL/incidents" | jq .rejected_requests)
((rejected == rejected_before + 6)) || fail "rejected_requests $rejected, expected $((rejected_before + 6))"
log "bad input: 7 requests refused with 4xx JSON errors, no incident lost"

# Alerts for a service outside the topology, with fields Alertmanager might add one day: kept,
# and correlated by time and labels alone (same service).
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
extra=$(jq -nc --arg t "$now" '{version: "4", status: "firing", receiver: "aiops", futureField: {x: 1},
  alerts: [{status: "firing", labels: {alertname: "Down", service: "billing-external"}, startsAt: $t,
            endsAt: "0001-01-01T00:00:00Z", fingerprint: "0", newAlertField: [1]},
           {status: "firing", labels: {alertname: "Slow", service: "billing-external", instance: "x:1"},
            startsAt: $t}]}')
code=$(curl -sS --max-time 5 -o "$TMP/extra.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary "$extra" "$RECV_URL/webhook")
[[ $code == 200 ]] || fail "payload with unknown fields: HTTP $code $(cat "$TMP/extra.out")"
curl -fsS --max-time 5 "$RECV_URL/incidents" >"$TMP/extra.json"
jq -e '[.incidents[] | select(.services == ["billing-external"]) | .alerts] == [2]' "$TMP/extra.json" >/dev/null ||
  fail "alerts for an unknown service did not form their own incident"
(($(jq '.incidents | length' "$TMP/extra.json") == incidents + 1)) || fail "unknown-service alerts changed other incidents"
log "unknown service and unknown fields: kept and correlated into one incident"

# A record resolved longer ago than the retention (default 24 h) is forgotten.
records_before=$(jq .records "$TMP/extra.json")
old_start=$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%SZ)
old_end=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
old=$(jq -nc --arg s "$old_start" --arg e "$old_end" '{status: "resolved", alerts: [{status: "resolved",
  labels: {alertname: "Old", service: "billing-external"}, startsAt: $s, endsAt: $e}]}')
code=$(curl -sS --max-time 5 -o "$TMP/old.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary "$old" "$RECV_URL/webhook")
[[ $code == 200 ]] || fail "old resolved alert: HTTP $code $(cat "$TMP/old.out")"
curl -fsS --max-time 5 "$RECV_URL/incidents" >"$TMP/old.json"
jq -e --argjson n "$records_before" '.records == $n and .evicted_records == 1' "$TMP/old.json" >/dev/null ||
  fail "a record resolved 2 days ago was not evicted: $(jq -c '{records, evicted_records}' "$TMP/old.json")"
log "retention: a record resolved 2 days ago was evicted"

# Concurrent posts: 8 connections, 400 payloads of 100 alerts; every one answered 200 and counted.
if [[ -x $LOAD_BIN ]]; then
  "$LOAD_BIN" --url "$RECV_URL" --requests 400 --connections 8 --alerts 100 --timeout-secs 60 \
    >"$TMP/load.json" || fail "concurrent posts lost requests: $(cat "$TMP/load.json")"
  log "concurrent posts: $(jq -c '{requests, ok, alerts_counted_by_receiver, requests_per_sec: (.requests_per_sec | floor)}' "$TMP/load.json")"
else
  fail "$LOAD_BIN not built"
fi

# Graceful shutdown on SIGTERM.
kill -TERM "$RECV_PID"
rc=0
for _ in $(seq 100); do kill -0 "$RECV_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RECV_PID" 2>/dev/null && fail "receiver still running 10 s after SIGTERM"
wait "$RECV_PID" || rc=$?
RECV_PID=""
((rc == 0)) || fail "receiver exited with $rc after SIGTERM"
log "receiver shut down cleanly on SIGTERM"

log "PASS: $received alerts delivered by Alertmanager ($distinct distinct), $incidents incidents, every true root in the top 3, in $(($(date +%s) - T_START)) s"
