#!/usr/bin/env bash
# Record test fixtures from a REAL Prometheus Alertmanager.
#
# Starts Alertmanager (Debian's prometheus-alertmanager package, installed if
# missing) on 127.0.0.1 with clustering off, plus a tiny Python webhook
# receiver on 127.0.0.1, posts a varied set of alerts to /api/v2/alerts,
# resolves and re-fires a few, and writes what Alertmanager itself produced to
#   crates/aiops-core/tests/fixtures/alertmanager/
#     webhook_payloads.json  - raw webhook bodies, in the order received
#     fingerprints.json      - {labels, fingerprint} pairs (API + payloads, dedup)
#     README.md              - what/version/date/how to regenerate
#
# Usage:  sudo bash scripts/alertmanager_fixtures.sh
# Env:    AM_PORT (default 19093; the next free port is used if taken)
#         OUT_DIR (default: the fixtures folder above)
#         PYTHON  (default python3; only used for fixture generation)
#
# Everything is bounded in time (each wait <= 30 s) and only 127.0.0.1 is used.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=${OUT_DIR:-$REPO_ROOT/crates/aiops-core/tests/fixtures/alertmanager}
AM_PORT=${AM_PORT:-19093}
PYTHON=${PYTHON:-python3}
WAIT_SECS=30

log() { printf '[am-fixtures] %s\n' "$*" >&2; }

find_am() { command -v prometheus-alertmanager || command -v alertmanager || true; }

# --- 1. install Alertmanager if missing ------------------------------------
AM_BIN=$(find_am)
if [[ -z $AM_BIN ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    log "alertmanager not installed and not root: cannot apt-get install"; exit 1
  fi
  am_re='(^|/)(prometheus-)?alertmanager( |$)'
  before_pids=" $(pgrep -d ' ' -f "$am_re" || true) "
  log "installing Debian package prometheus-alertmanager"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus-alertmanager
  # Leave no packaged service running.
  service prometheus-alertmanager stop >/dev/null 2>&1 || true
  for pid in $(pgrep -f "$am_re" || true); do
    if [[ $before_pids != *" $pid "* ]]; then
      log "stopping alertmanager pid $pid started by the package install"
      kill "$pid" 2>/dev/null || true
    fi
  done
  AM_BIN=$(find_am)
  [[ -n $AM_BIN ]] || { log "alertmanager binary still missing after install"; exit 1; }
fi
AM_VERSION_FULL=$("$AM_BIN" --version 2>&1)
AM_VERSION=$(printf '%s\n' "$AM_VERSION_FULL" | head -n1)
log "using $AM_BIN: $AM_VERSION"

# --- temp dir + cleanup ----------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/am-fixtures.XXXXXX")
AM_PID=""
RECV_PID=""
cleanup() {
  local rc=$?
  for pid in $AM_PID $RECV_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 && -f $TMP/am.log ]]; then
    log "alertmanager log (tail):"; tail -n 30 "$TMP/am.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

# --- 2. webhook receiver ---------------------------------------------------
cat >"$TMP/receiver.py" <<'PY'
import http.server, json, sys

out_path, port_path = sys.argv[1], sys.argv[2]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        try:
            line = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            line = json.dumps({"unparsable_body": body.decode("utf-8", "replace")})
        with open(out_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_path + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.replace(port_path + ".tmp", port_path)
srv.serve_forever()
PY
: >"$TMP/bodies.jsonl"
"$PYTHON" "$TMP/receiver.py" "$TMP/bodies.jsonl" "$TMP/recv.port" &
RECV_PID=$!
for _ in $(seq $((WAIT_SECS * 10))); do [[ -s $TMP/recv.port ]] && break; sleep 0.1; done
[[ -s $TMP/recv.port ]] || { log "webhook receiver did not start"; exit 1; }
RECV_PORT=$(cat "$TMP/recv.port")
log "webhook receiver on 127.0.0.1:$RECV_PORT (pid $RECV_PID)"

# --- 3. Alertmanager -------------------------------------------------------
AM_PORT=$("$PYTHON" - "$AM_PORT" <<'PY'
import socket, sys
start = int(sys.argv[1])
for p in range(start, start + 100):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go does; ignore TIME_WAIT
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p); break
else:
    sys.exit("no free port")
PY
)
AM_URL="http://127.0.0.1:$AM_PORT"
mkdir -p "$TMP/data"
cat >"$TMP/alertmanager.yml" <<EOF
global:
  resolve_timeout: 5m
route:
  receiver: webhook
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: 'http://127.0.0.1:$RECV_PORT/hook'
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
log "alertmanager on $AM_URL (pid $AM_PID)"
ready=0
for _ in $(seq $((WAIT_SECS * 5))); do
  kill -0 "$AM_PID" 2>/dev/null || { log "alertmanager exited"; exit 1; }
  if curl -fsS --max-time 2 "$AM_URL/-/ready" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
[[ $ready == 1 ]] || { log "alertmanager not ready within ${WAIT_SECS}s"; exit 1; }

# --- 4. post alerts, wait for payloads, resolve, re-fire, write fixtures -----
cat >"$TMP/driver.py" <<'PY'
import datetime as dt, json, os, re, sys, time, urllib.error, urllib.request

AM_URL = os.environ["AM_URL"]
BODIES = os.environ["BODIES"]
OUT_DIR = os.environ["OUT_DIR"]
WAIT = float(os.environ["WAIT_SECS"])
UTC = dt.timezone.utc
T0 = dt.datetime.now(UTC).replace(microsecond=0)

def ts(delta_s, fmt="z", tz=UTC):
    t = (T0 + dt.timedelta(seconds=delta_s)).astimezone(tz)
    if fmt == "z":          # 2026-11-27T13:00:00Z
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "ms":         # 2026-11-27T13:00:00.123Z
        return t.strftime("%Y-%m-%dT%H:%M:%S") + ".123Z"
    if fmt == "ns":         # nanosecond precision
        return t.strftime("%Y-%m-%dT%H:%M:%S") + ".123456789Z"
    if fmt == "offset":     # +02:00 offset, microseconds
        return t.isoformat(timespec="microseconds")
    raise ValueError(fmt)

def http(method, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(AM_URL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

GEN = "http://127.0.0.1:9090/graph?g0.expr=up&g0.tab=1"
CEST = dt.timezone(dt.timedelta(hours=2))
many = {"alertname": "ManyLabels", "service": "many"}
many.update({f"label_{i:02d}": f"value {i}" for i in range(40)})

# (id, alert) -- alert as sent to POST /api/v2/alerts
ALERTS = [
    ("cpu_a", {"labels": {"alertname": "HighCPU", "service": "api", "severity": "critical", "instance": "host-a:9100"},
               "annotations": {"summary": "CPU > 90% on host-a", "runbook": "https://runbooks.example/cpu"},
               "startsAt": ts(-600, "z"), "generatorURL": GEN}),
    ("cpu_b", {"labels": {"alertname": "HighCPU", "service": "api", "severity": "warning", "instance": "host-b:9100"},
               "annotations": {"summary": "CPU > 80% on host-b"},
               "startsAt": ts(-300, "ms"), "generatorURL": GEN}),
    ("cpu_db", {"labels": {"alertname": "HighCPU", "service": "db", "severity": "critical", "instance": "db-1:9100"},
                "annotations": {"summary": "CPU > 90% on db-1"},
                "startsAt": ts(-120, "ns"), "generatorURL": GEN}),
    ("cpu_lower", {"labels": {"alertname": "highcpu", "service": "API"},
                   "annotations": {"summary": "same words, different case"},
                   "startsAt": ts(-60, "offset", CEST), "generatorURL": GEN}),
    ("unicode", {"labels": {"alertname": "DiskFull", "service": "stockage-café", "mount": "/données/été",
                            "note": "日本語テキスト 🚨", "greek": "Ωμέγα", "combining": "e\u0301"},
                 "annotations": {"description": "Disque plein à 99 % — ¡atención! 🔥"},
                 "startsAt": ts(-90, "z"), "generatorURL": GEN}),
    ("punct", {"labels": {"alertname": "WeirdChars", "service": "edge", "equals": "a=b==c", "quote": "say \"hi\"",
                          "comma": "x,y, z", "spaces": "  leading and trailing  ", "backslash": "C:\\temp\\n",
                          "braces": "{job=\"x\",le=\"+Inf\"}", "semicolon": "a;b|c&d"},
               "annotations": {"summary": "label values full of matcher syntax"},
               "startsAt": ts(-80, "z"), "generatorURL": GEN}),
    ("newline", {"labels": {"alertname": "MultiLine", "service": "edge", "msg": "line1\nline2\r\nline3\ttabbed"},
                 "annotations": {"summary": "value with newline, CRLF and tab"},
                 "startsAt": ts(-70, "z"), "generatorURL": GEN}),
    ("empty_value", {"labels": {"alertname": "EmptyValue", "service": "edge", "team": ""},
                     "annotations": {"summary": "label with an empty value"},
                     "startsAt": ts(-65, "z"), "generatorURL": GEN}),
    ("space_value", {"labels": {"alertname": "SpaceValue", "service": " "},
                     "annotations": {"summary": "group label that is a single space"},
                     "startsAt": ts(-60, "z"), "generatorURL": GEN}),
    ("groupkey_escapes", {"labels": {"alertname": "GroupKey\"Escapes", "service": "a \"q\" \\ b\nc, é 🚨"},
                          "annotations": {"summary": "group labels that need quoting in groupKey"},
                          "startsAt": ts(-58, "z"), "generatorURL": GEN}),
    ("only_name", {"labels": {"alertname": "OnlyName"},
                   "annotations": {}, "startsAt": ts(-55, "z"), "generatorURL": GEN}),
    ("no_alertname", {"labels": {"job": "node", "instance": "host-c:9100"},
                      "annotations": {"summary": "no alertname label at all"},
                      "startsAt": ts(-50, "z"), "generatorURL": GEN}),
    ("many", {"labels": many, "annotations": {"summary": "42 labels"},
              "startsAt": ts(-45, "z"), "generatorURL": GEN}),
    ("long", {"labels": {"alertname": "LongValue", "service": "edge", "blob": ("abc-123_" * 128)},
              "annotations": {"summary": "1024-byte label value"},
              "startsAt": ts(-40, "z"), "generatorURL": GEN}),
    ("underscore", {"labels": {"alertname": "Underscores", "service": "edge", "_private": "1", "__reserved__": "2",
                               "CamelCase_9": "three"},
                    "annotations": {}, "startsAt": ts(-35, "z"), "generatorURL": GEN}),
    ("scalars", {"labels": {"alertname": "Scalars", "service": "edge", "code": "007", "ratio": "1e-3",
                            "neg": "-0", "nul": "null", "flag": "true"},
                 "annotations": {}, "startsAt": ts(-30, "z"), "generatorURL": GEN}),
    ("control", {"labels": {"alertname": "ControlChars", "service": "edge", "nul_byte": "a\u0000b", "bell": "\u0007",
                            "high_byte": "\u00ff\u00fe"},
                 "annotations": {}, "startsAt": ts(-25, "z"), "generatorURL": GEN}),
    ("no_start", {"labels": {"alertname": "NoStartsAt", "service": "edge"},
                  "annotations": {"summary": "startsAt and generatorURL omitted"}}),
    ("future_end", {"labels": {"alertname": "FutureEnd", "service": "edge"},
                    "annotations": {"summary": "explicit endsAt one hour ahead"},
                    "startsAt": ts(-20, "z"), "endsAt": ts(3600, "z"), "generatorURL": GEN}),
    ("flap", {"labels": {"alertname": "Flapping", "service": "web"},
              "annotations": {"summary": "fires, resolves, fires again"},
              "startsAt": ts(-15, "z"), "generatorURL": GEN}),
    # re-fire: identical labels to cpu_a, new annotation, same startsAt
    ("cpu_a_refire", {"labels": {"alertname": "HighCPU", "service": "api", "severity": "critical", "instance": "host-a:9100"},
                      "annotations": {"summary": "CPU > 95% on host-a (updated)", "runbook": "https://runbooks.example/cpu"},
                      "startsAt": ts(-600, "z"), "generatorURL": GEN}),
    # expected rejections (not valid in Alertmanager 0.25's API)
    ("bad_name", {"labels": {"alertname": "BadName", "bad-name": "x"}, "annotations": {}, "startsAt": ts(-10, "z")}),
    ("no_labels", {"labels": {}, "annotations": {}, "startsAt": ts(-10, "z")}),
    ("end_before_start", {"labels": {"alertname": "EndBeforeStart"}, "annotations": {},
                          "startsAt": ts(-10, "z"), "endsAt": ts(-20, "z")}),
]
by_id = dict(ALERTS)

def key(labels):
    return json.dumps(labels, sort_keys=True, ensure_ascii=False)

def parse_ts(s):
    # RFC 3339 with optional fraction (up to ns) and Z or offset -> aware datetime
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    frac = (m.group(2) or ".0")[:7]
    return dt.datetime.fromisoformat(m.group(1) + frac + m.group(3).replace("Z", "+00:00"))

def bodies():
    with open(BODIES, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]

def wait_for(pred, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        b = bodies()
        if pred(b):
            return b
        time.sleep(0.2)
    sys.exit(f"timed out after {WAIT:.0f}s waiting for {what}")

def seen(b, labels, status, starts_after=None):
    k = key(labels)
    for body in b:
        for a in body.get("alerts", []):
            if key(a["labels"]) == k and a["status"] == status:
                if starts_after is None or parse_ts(a["startsAt"]) > parse_ts(starts_after):
                    return True
    return False

import copy
SENT = copy.deepcopy(dict(ALERTS))
accepted, rejected = [], []
for aid, alert in ALERTS:
    status, text = http("POST", "/api/v2/alerts", [alert])
    (accepted if status == 200 else rejected).append(aid)
    if status != 200:
        rejected[-1] = (aid, status, text.strip())
print("accepted:", accepted, file=sys.stderr)
print("rejected:", rejected, file=sys.stderr)

# Alertmanager's v2 API drops labels whose value is empty before storing the alert
def stored(labels):
    return {k: v for k, v in labels.items() if v != ""}
for aid, a in ALERTS:
    a["labels"] = stored(a["labels"]) if aid in accepted else a["labels"]
firing = {key(by_id[a]["labels"]): by_id[a]["labels"] for a in accepted}
try:
    b = wait_for(lambda b: all(seen(b, l, "firing") for l in firing.values()), "a firing payload for every alert")
except SystemExit:
    b = bodies()
    print("never seen firing:", [l for l in firing.values() if not seen(b, l, "firing")], file=sys.stderr)
    print("seen label sets:", sorted({key(a["labels"]) for p in b for a in p["alerts"]}), file=sys.stderr)
    raise
_, text = http("GET", "/api/v2/alerts")
api_alerts = json.loads(text)

# resolve: one alert of a two-alert group (mixed payload), two whole groups
to_resolve = [i for i in ("cpu_b", "only_name", "flap") if i in accepted]
for aid in to_resolve:
    a = dict(by_id[aid]); a["endsAt"] = ts(int((dt.datetime.now(UTC) - T0).total_seconds()) - 1, "z")
    status, text = http("POST", "/api/v2/alerts", [a])
    assert status == 200, (aid, status, text)
b = wait_for(lambda b: all(seen(b, by_id[i]["labels"], "resolved") for i in to_resolve), "resolved payloads")

# re-fire the flapping alert with a new startsAt (same labels, same fingerprint)
refire_start = ts(int((dt.datetime.now(UTC) - T0).total_seconds()), "z")
a = dict(by_id["flap"]); a["startsAt"] = refire_start
status, text = http("POST", "/api/v2/alerts", [a])
assert status == 200, (status, text)
b = wait_for(lambda b: seen(b, by_id["flap"]["labels"], "firing", starts_after=by_id["flap"]["startsAt"]),
             "the re-fired alert")
_, text = http("GET", "/api/v2/alerts")
api_alerts += json.loads(text)
time.sleep(1.5)  # let any last group_interval flush
payloads = bodies()

# ---- fingerprints: API + payloads, dedup, must be consistent ----
fp_by_labels, sources = {}, {}
def add(labels, fp, src):
    k = key(labels)
    if k in fp_by_labels and fp_by_labels[k] != fp:
        sys.exit(f"inconsistent fingerprints for {k}: {fp_by_labels[k]} vs {fp}")
    fp_by_labels[k] = fp
    sources.setdefault(k, set()).add(src)
for a in api_alerts:
    add(a["labels"], a["fingerprint"], "api")
for body in payloads:
    for a in body["alerts"]:
        add(a["labels"], a["fingerprint"], "webhook")
fps = sorted(({"labels": json.loads(k), "fingerprint": fp} for k, fp in fp_by_labels.items()),
             key=lambda e: e["fingerprint"])

# ---- checks ----
hexre = re.compile(r"^[0-9a-f]{16}$")
assert payloads, "no webhook payloads"
assert all(hexre.match(e["fingerprint"]) for e in fps), "fingerprint not 16 lowercase hex digits"
assert len(fps) >= 10, f"only {len(fps)} distinct label sets"
assert any(a["status"] == "resolved" for p in payloads for a in p["alerts"]), "no resolved alert"
assert any(p["status"] == "resolved" for p in payloads), "no payload with status resolved"
for p in payloads:
    for f in ("version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
              "commonLabels", "commonAnnotations", "externalURL", "alerts"):
        assert f in p, f"payload lacks {f}"
    assert p["version"] == "4", p["version"]

os.makedirs(OUT_DIR, exist_ok=True)
def dump(name, obj):
    with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
dump("webhook_payloads.json", payloads)
dump("fingerprints.json", fps)

# ---- observations for the README ----
pay_alerts = [a for p in payloads for a in p["alerts"]]
firing_ends = sorted({a["endsAt"] for a in pay_alerts if a["status"] == "firing"})
resolved_ends = sorted({a["endsAt"] for a in pay_alerts if a["status"] == "resolved"})
api_ends = sorted({a["endsAt"] for a in api_alerts})
starts = {}
for aid in accepted:
    k = key(by_id[aid]["labels"])
    sent = by_id[aid].get("startsAt", "(omitted)")
    got = next((a["startsAt"] for a in pay_alerts if key(a["labels"]) == k), None)
    starts.setdefault(k, (aid, sent, got))
stats = {
    "payloads": len(payloads),
    "payload_alerts": len(pay_alerts),
    "payload_status": {s: sum(1 for p in payloads if p["status"] == s) for s in ("firing", "resolved")},
    "alert_status": {s: sum(1 for a in pay_alerts if a["status"] == s) for s in ("firing", "resolved")},
    "fingerprints": len(fps),
    "fingerprints_api_and_webhook": sum(1 for s in sources.values() if s == {"api", "webhook"}),
    "accepted": accepted,
    "labels_dropped_by_alertmanager": {aid: sorted(set(SENT[aid]["labels"]) - set(by_id[aid]["labels"]))
                                       for aid in accepted if SENT[aid]["labels"] != by_id[aid]["labels"]},
    "rejected": rejected,
    "firing_endsAt_in_payloads": firing_ends[:3],
    "resolved_endsAt_in_payloads": resolved_ends[:3],
    "api_endsAt_examples": api_ends[:2],
    "startsAt_sent_vs_received": [v for v in starts.values()],
    "api_alert_keys": sorted(api_alerts[0].keys()) if api_alerts else [],
    "api_status_example": api_alerts[0].get("status") if api_alerts else None,
}
with open(os.environ["STATS"], "w", encoding="utf-8") as f:
    json.dump(stats, f, indent=2, ensure_ascii=False)
print(json.dumps({k: stats[k] for k in ("payloads", "payload_alerts", "payload_status", "alert_status",
                                        "fingerprints")}), file=sys.stderr)
PY

AM_URL=$AM_URL BODIES=$TMP/bodies.jsonl OUT_DIR=$OUT_DIR WAIT_SECS=$WAIT_SECS STATS=$TMP/stats.json \
  timeout 150 "$PYTHON" "$TMP/driver.py"

# --- 5. README ---------------------------------------------------------------
GEN_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STATS_TEXT=$(cat "$TMP/stats.json")
cat >"$OUT_DIR/README.md" <<EOF
# Alertmanager fixtures

Recorded from a **real Prometheus Alertmanager** by
\`scripts/alertmanager_fixtures.sh\`; do not edit by hand, regenerate instead.

- Alertmanager: \`$AM_VERSION\` (\`$(basename "$AM_BIN") --version\`; Debian package \`prometheus-alertmanager\`)
- Recorded: $GEN_DATE
- Regenerate (as root, installs the Debian package if missing; ~15 s; only 127.0.0.1 is used):

  \`\`\`sh
  bash scripts/alertmanager_fixtures.sh
  \`\`\`

  Timestamps and the arrival order of payloads change on every run (so does
  the port in \`externalURL\` if 19093 is taken); labels and fingerprints do not.

## Files

- \`webhook_payloads.json\`: JSON array of every body Alertmanager POSTed to the
  webhook receiver, in arrival order, parsed but otherwise as sent (\`version\` "4",
  \`groupKey\`, \`truncatedAlerts\`, \`status\`, \`receiver\`, \`groupLabels\`,
  \`commonLabels\`, \`commonAnnotations\`, \`externalURL\`, \`alerts[]\` with
  \`status\`, \`labels\`, \`annotations\`, \`startsAt\`, \`endsAt\`, \`generatorURL\`,
  \`fingerprint\`).
- \`fingerprints.json\`: JSON array of \`{"labels": {...}, "fingerprint": "<16 hex>"}\`,
  one per distinct label set, sorted by fingerprint, taken from
  \`GET /api/v2/alerts\` and from the webhook payloads (both sources agreed).
  The fingerprint is Prometheus' \`model.LabelSet.Fingerprint()\` (FNV-1a 64 over
  sorted name, 0xff, value, 0xff).

## Setup

Route: \`group_by: ['alertname', 'service']\`, \`group_wait: 1s\`,
\`group_interval: 1s\`, \`repeat_interval: 1h\`; one webhook receiver with
\`send_resolved: true\`, \`max_alerts: 0\`; \`resolve_timeout: 5m\`; clustering off.

Scenario: alerts with varied label sets are posted one by one to
\`POST /api/v2/alerts\` (unicode, combining characters, \`=\` \`"\` \`,\` spaces,
newline/CRLF/tab, NUL and other control characters, an empty value, a single-space
value, only \`alertname\`, no \`alertname\`, 42 labels, a 1024-byte value, names
with leading underscores, startsAt with \`Z\`, milliseconds, nanoseconds and a
\`+02:00\` offset, omitted startsAt, explicit future endsAt, and an identical
label set posted twice). After every alert has appeared firing in a payload, three
are resolved by re-posting them with \`endsAt\` in the past (one from a two-alert
group, giving a "firing" payload containing a resolved alert, and two whole
groups, giving "resolved" payloads); then one resolved alert (\`Flapping\`) is
re-fired with a new startsAt. Three invalid alerts are also posted and rejected
(HTTP 400), they appear in no fixture.

## Observed behaviour worth knowing (see the run summary below)

- Firing alerts in webhook payloads carry \`"endsAt": "0001-01-01T00:00:00Z"\`
  (Go's zero time), even when an explicit future endsAt was posted; resolved
  ones carry the real end time. \`GET /api/v2/alerts\` instead reports endsAt
  = last update + \`resolve_timeout\` with millisecond precision, plus
  \`updatedAt\`, \`status\` and \`receivers\`, and omits resolved alerts.
- Timestamps are echoed with the precision and UTC offset they were posted
  with (Go RFC3339Nano: trailing zeros of the fraction trimmed, up to 9 digits,
  \`+02:00\` kept, not converted to \`Z\`). An omitted startsAt becomes the
  receive time with nanoseconds; an omitted generatorURL becomes \`""\`.
- Labels with an empty value are dropped by the API before storing, so they
  are absent from payloads and from the fingerprint (\`EmptyValue\`).
- Label values are arbitrary UTF-8, including NUL, other control characters,
  newlines; label names must match \`[a-zA-Z_][a-zA-Z0-9_]*\` in this version.
- \`groupKey\` is \`{}:{name="value", ...}\` over the group_by labels, with the
  values Go-quoted (\`%q\`); an alert without a group_by label gets \`{}:{}\`.
- A group's first notification is sent at once, not after group_wait, when the
  first alert's startsAt is older than group_wait; alerts of the same group
  posted a moment later then come in a second payload.
- Re-posting identical labels merges into one alert (same fingerprint) whose
  annotations are updated; a resolved alert re-posted with a later startsAt
  fires again under the same fingerprint.

## Run summary (machine-written)

\`\`\`json
$STATS_TEXT
\`\`\`
EOF
log "wrote fixtures to $OUT_DIR"
ls -l "$OUT_DIR" >&2
