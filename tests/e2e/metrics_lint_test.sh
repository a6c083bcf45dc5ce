#!/usr/bin/env bash
# /metrics as Prometheus tooling sees it: a ferry with every input and output type and the
# disk buffer (so every metric family is registered) is scraped while records flow, and
#  - `promtool check metrics` finds nothing to say (HELP and TYPE on every family, names
#    and units as the conventions want);
#  - the process_* families the client libraries export are there, with plausible values;
#  - ferry_output_healthy agrees with /health;
#  - every metric SPEC.md's "HTTP endpoint" section lists is exported with its labels;
#  - every metric packaging/grafana/ferry.json queries is in this scrape, and each query
#    parses as PromQL (promtool check rules).
source "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus; scripts/dev.sh installs it)"
SPEC_MD=${FERRY_SPEC_MD:-$FERRY_SOURCE_DIR/../shared/SPEC.md}
[ -f "$SPEC_MD" ] || fail "no SPEC.md at $SPEC_MD (set FERRY_SPEC_MD)"
DASHBOARD=$FERRY_SOURCE_DIR/packaging/grafana/ferry.json

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DEAD=$(free_port) # nothing listens here: the network outputs retry, so their series move
mkdir "$WORK/logs"
for i in $(seq 1 20); do echo "tail line $i"; done > "$WORK/logs/app.log"
cat > "$WORK/cfg.yaml" <<YAML
service:
  log_level: error
  http: { listen: 127.0.0.1:$PORT, unhealthy_after: 1s }
  grace_period: 1s
  storage: { path: $WORK/store }
inputs:
  - type: stdin
  - type: tail
    path: $WORK/logs/*.log
    read_from_head: true
  - type: forward
    listen: [ "tcp://127.0.0.1:0", "unix://$WORK/forward.sock" ]
outputs:
  - type: file
    path: $WORK/out.jsonl
    flush_interval: 100ms
  - type: stdout
  - type: null
  - type: datadog
    api_key: e2e-not-a-key
    url: http://127.0.0.1:$DEAD/api/v2/logs
    retry: { initial_backoff: 100ms, max_backoff: 500ms }
  - type: firehose
    delivery_stream: e2e
    region: us-east-1
    endpoint: http://127.0.0.1:$DEAD
    retry: { initial_backoff: 100ms, max_backoff: 500ms }
  - type: s3
    bucket: e2e
    region: us-east-1
    endpoint: http://127.0.0.1:$DEAD
    retry: { initial_backoff: 100ms, max_backoff: 500ms }
YAML
# stdin is a fifo this shell holds open (fd 3), so the input stays up until ferry is stopped.
mkfifo "$WORK/stdin"
exec 3<>"$WORK/stdin"
LAUNCHED=$(date +%s)
AWS_ACCESS_KEY_ID=AKIDE2E AWS_SECRET_ACCESS_KEY=e2e-secret \
  "$FERRY_BIN" run -c "$WORK/cfg.yaml" <"$WORK/stdin" >"$WORK/stdout.txt" 2>"$WORK/ferry.err" &
PID=$!
PIDS+=("$PID")
wait_for 10 curl -fs "$BASE/health" || fail "ferry did not come up: $(cat "$WORK/ferry.err")"
for i in $(seq 1 20); do echo "stdin line $i"; done >&3
sent() { curl -s --max-time 2 "$BASE/metrics" | awk '$1 == "ferry_output_records_total{output=\"file\",result=\"sent\"}" { print $2 }'; }
file_has_all() { [ "$(sent)" = 40 ]; }
wait_for 15 file_has_all || fail "the file output never sent the 40 records: $(sent); $(cat "$WORK/ferry.err")"
retried() { curl -s --max-time 2 "$BASE/metrics" | grep '^ferry_output_retries_total{output="datadog"} [1-9]' >/dev/null; }
wait_for 15 retried || fail "datadog never retried against a closed port"
# ferry_output_healthy follows /health: datadog has delivered nothing for unhealthy_after.
gauge() { curl -s --max-time 2 "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
dd_unhealthy() { [ "$(gauge 'ferry_output_healthy{output="datadog"}')" = 0 ]; }
wait_for 15 dd_unhealthy || fail "ferry_output_healthy{output=\"datadog\"} stayed $(gauge 'ferry_output_healthy{output="datadog"}')"
[ "$(gauge 'ferry_output_healthy{output="file"}')" = 1 ] || fail "the file output is not healthy"
HTTP=127.0.0.1:$PORT
health_says '^503 .*"datadog"' || fail "/health does not name datadog: $(health)"
pass "ferry_output_healthy: 0 for datadog (as /health says), 1 for file"
curl -fs --max-time 5 "$BASE/metrics" >"$WORK/metrics.txt" || fail "GET /metrics failed"

# promtool prints one line per problem and exits non-zero on any.
rc=0
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] && [ ! -s "$WORK/promtool.txt" ] ||
  fail "promtool check metrics (exit $rc):"$'\n'"$(cat "$WORK/promtool.txt")"
pass "promtool check metrics: clean ($(grep -c '^# TYPE' "$WORK/metrics.txt") families)"

# The rest reads the scrape with python: the process values, SPEC's list, the dashboard.
"$E2E_PYTHON" - "$WORK/metrics.txt" "$SPEC_MD" "$DASHBOARD" "$WORK/rules.yaml" "$PID" "$LAUNCHED" <<'PY' || exit 1
import json, os, re, sys, time

metrics_path, spec_path, dashboard_path, rules_path, pid, launched = sys.argv[1:7]
launched = float(launched)
problems = []
samples = {}  # sample name -> list of label dicts
types = {}
for line in open(metrics_path):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        types[name] = kind
        continue
    if not line or line.startswith("#"):
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    if not m:
        problems.append("unparsable sample line: " + line)
        continue
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    samples.setdefault(m.group(1), []).append((labels, float(m.group(4))))

def value(name):
    vals = samples.get(name)
    if not vals:
        problems.append(f"{name} is not exported")
        return None
    return vals[0][1]

# --- process_*: as client_golang exports them on Linux, checked against /proc of ferry --
now = time.time()
expected_types = {"process_cpu_seconds_total": "counter", "process_resident_memory_bytes": "gauge",
                  "process_virtual_memory_bytes": "gauge", "process_open_fds": "gauge",
                  "process_max_fds": "gauge", "process_start_time_seconds": "gauge"}
for name, kind in expected_types.items():
    if types.get(name) != kind:
        problems.append(f"{name}: TYPE {types.get(name)}, want {kind}")
rss, vsz = value("process_resident_memory_bytes"), value("process_virtual_memory_bytes")
fds, max_fds = value("process_open_fds"), value("process_max_fds")
start, cpu = value("process_start_time_seconds"), value("process_cpu_seconds_total")
if None not in (rss, vsz, fds, max_fds, start, cpu):
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
    rss_kb = int(status["VmRSS"].split()[0])
    # Resident memory moves between the scrape and this read; a factor of two is the check
    # that the unit (bytes, not pages or KiB) is right.
    if not rss_kb * 1024 / 2 <= rss <= rss_kb * 1024 * 2:
        problems.append(f"process_resident_memory_bytes {rss} vs VmRSS {rss_kb} kB")
    if not rss < vsz:
        problems.append(f"virtual memory {vsz} not above resident {rss}")
    open_now = len(os.listdir(f"/proc/{pid}/fd"))
    if not 3 <= fds <= max_fds or abs(fds - open_now) > 16:
        problems.append(f"process_open_fds {fds} (max {max_fds}; /proc says {open_now})")
    soft = [l.split()[3] for l in open(f"/proc/{pid}/limits") if l.startswith("Max open files")][0]
    if float(soft) != max_fds:
        problems.append(f"process_max_fds {max_fds}, /proc/{pid}/limits says {soft}")
    # The shell noted the time (whole seconds) just before it started ferry.
    if not launched - 1 <= start <= launched + 5:
        problems.append(f"process_start_time_seconds {start}, ferry was started at {launched}")
    if not 0 < cpu < 120:
        problems.append(f"process_cpu_seconds_total {cpu}")

# --- SPEC.md's list: each `ferry_name{label,...}` in the HTTP endpoint section -----------
spec = open(spec_path).read()
section = spec.split("## HTTP endpoint", 1)[-1].split("\n## ", 1)[0]
listed = re.findall(r'`(ferry_[a-z0-9_]+)(?:\{([^}`]*)\})?`', section)
if len(listed) < 8:
    problems.append(f"found only {len(listed)} metrics in SPEC.md's HTTP endpoint section")
for name, label_spec in listed:
    want = [l.split("=")[0].strip() for l in label_spec.split(",") if l.strip()]
    series = samples.get(name, [])
    if not series:
        problems.append(f"SPEC lists {name}, /metrics lacks it")
    elif not any(set(want) <= set(lbls) for lbls, _ in series):
        problems.append(f"SPEC lists {name} with labels {want}; exported: {[l for l, _ in series]}")
    for item in label_spec.split(","):  # result="sent|dropped|failed": each value exported
        key, _, values = item.partition("=")
        for want_value in filter(None, values.strip('" ').split("|")):
            if not any(l.get(key.strip()) == want_value for l, _ in series):
                problems.append(f"{name} has no series with {key}={want_value}")

# --- the Grafana dashboard: every metric it queries is exported; each query parses -------
dash = json.load(open(dashboard_path))
exprs = []
def walk(panels):
    for p in panels:
        exprs.extend((p.get("title", ""), t["expr"]) for t in p.get("targets", []) if t.get("expr"))
        walk(p.get("panels", []))
walk(dash["panels"])
for var in dash.get("templating", {}).get("list", []):
    q = var.get("query")
    if isinstance(q, dict) and q.get("query", "").startswith("label_values("):
        exprs.append(("variable " + var["name"], q["query"][len("label_values("):].split(",")[0]))
if len(exprs) < 10:
    problems.append(f"the dashboard has only {len(exprs)} queries")
used = set()
with open(rules_path, "w") as rules:
    rules.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, expr) in enumerate(exprs):
        names = set(re.findall(r'\b((?:ferry|process)_[a-z0-9_]+)', expr))
        if not names:
            problems.append(f"dashboard panel '{title}' queries no ferry metric: {expr}")
        for n in names - set(samples):
            problems.append(f"dashboard panel '{title}' queries {n}, which /metrics does not export")
        used |= names
        # Grafana's variables, as it would substitute them, so promtool can parse the query.
        concrete = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
        rules.write(f"      - record: dashboard:query{i}\n        expr: {json.dumps(concrete)}\n")
print(f"ok: the dashboard's {len(exprs)} queries use {len(used)} metrics, all exported")
for p in problems:
    print("FAIL: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
pass "process_* present and true to /proc; SPEC's metric list exported; dashboard metrics exported"

promtool check rules "$WORK/rules.yaml" >"$WORK/rules.txt" 2>&1 ||
  fail "a dashboard query does not parse as PromQL:"$'\n'"$(cat "$WORK/rules.txt")"
pass "every dashboard query parses (promtool check rules)"
