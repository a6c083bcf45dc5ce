#!/usr/bin/env bash
# Idle footprint (issue 18): starts the Release ferry with forward (unix socket + TCP), tail
# (a directory holding one file), a datadog output (to bench/e2e/datadog_intake, built beside
# ferry) and HTTP on; lets it sit IDLE_SECONDS (default 5) and reports RSS, RssAnon,
# RssFile, threads and the mappings with the most Rss (/proc/PID/smaps). Then one line is
# appended to the tailed file; once the intake has counted it, ferry sits idle as long again
# and is measured again (`after_send`: what an HTTP output costs once it has sent). Usage:
#   [RUNS=N] [TOP=N] [IDLE_SECONDS=S] bench/e2e/idle.sh [BUILD_DIR]   (RUNS 3, TOP 12)
# Each run prints an `idle:` and an `after_send:` line; then the median run of each (by RSS)
# with its mapping table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build-release}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
FERRY="$BDIR/bin/ferry"
RUNS=${RUNS:-3}
TOP=${TOP:-12}
IDLE_SECONDS=${IDLE_SECONDS:-5}
WORK=$(mktemp -d)
FERRY_PID="" INTAKE_PID=""
cleanup() {
  for p in $FERRY_PID $INTAKE_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

intake="$BDIR/bin/datadog_intake"
[ -x "$intake" ] || intake="$BDIR/bench/datadog_intake"
"$intake" --port-file "$WORK/intake.port" 2> "$WORK/intake.err" &
INTAKE_PID=$!
for _ in $(seq 200); do [ -s "$WORK/intake.port" ] && break; sleep 0.05; done
[ -s "$WORK/intake.port" ] || { echo "idle: datadog_intake did not start" >&2; exit 2; }

# smaps_report PID: one summary line, then the TOP mappings by Rss (KiB, summed per file;
# anonymous regions by their name, [heap], [stack], or "[anon]").
smaps_report() {
  python3 - "$1" "$TOP" <<'PY'
import sys, collections
pid, top = sys.argv[1], int(sys.argv[2])
status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
kb = lambda k: int(status[k].split()[0])
rss = collections.Counter(); anon = collections.Counter()
name = None
for line in open(f"/proc/{pid}/smaps"):
    f = line.split()
    if "-" in f[0] and not f[0].endswith(":"):
        name = f[5] if len(f) > 5 else "[anon]"
        name = name.rsplit("/", 1)[-1] if name.startswith("/") else name
    elif f[0] == "Rss:":
        rss[name] += int(f[1])
    elif f[0] == "Anonymous:":
        anon[name] += int(f[1])
print(f"RSS {kb('VmRSS')/1024:.1f} MiB  RssAnon {kb('RssAnon')/1024:.1f} MiB  "
      f"RssFile {kb('RssFile')/1024:.1f} MiB  RssShmem {kb('RssShmem')} KiB  "
      f"threads {kb('Threads')}  mappings {len(rss)}")
for n, r in rss.most_common(top):
    print(f"    {r:6d} KiB  (anon {anon[n]:5d})  {n}")
PY
}

run_once() {
  local i=$1 http; http=$(free_port)
  mkdir -p "$WORK/logs"
  printf '{"msg":"hello"}\n' > "$WORK/logs/app.log"
  rm -f "$WORK/tail.db" "$WORK/f.sock"
  cat > "$WORK/idle.yaml" <<YAML
service:
  http: { listen: 127.0.0.1:$http }
inputs:
  - type: forward
    listen: [unix://$WORK/f.sock, tcp://127.0.0.1:0]
  - type: tail
    path: $WORK/logs/*.log
    tag: app
    db: $WORK/tail.db
outputs:
  - type: datadog
    match: "*"
    api_key: bench-key-0123456789abcdef0123456
    url: http://127.0.0.1:$(cat "$WORK/intake.port")/api/v2/logs
    service: bench
    source: ferry
YAML
  "$FERRY" run -c "$WORK/idle.yaml" > /dev/null 2> "$WORK/ferry.err" &
  FERRY_PID=$!
  sleep "$IDLE_SECONDS"
  if ! kill -0 "$FERRY_PID" 2>/dev/null; then
    echo "idle: ferry exited early" >&2; tail -5 "$WORK/ferry.err" >&2; exit 2
  fi
  smaps_report "$FERRY_PID" > "$WORK/idle$i.txt"
  echo "  idle: $(head -1 "$WORK/idle$i.txt")"
  local before; before=$(intake_records)
  printf '{"msg":"after idle"}\n' >> "$WORK/logs/app.log"
  for _ in $(seq 100); do [ "$(intake_records)" -gt "$before" ] && break; sleep 0.1; done
  [ "$(intake_records)" -gt "$before" ] || { echo "idle: the appended record never arrived" >&2; exit 2; }
  sleep "$IDLE_SECONDS"
  smaps_report "$FERRY_PID" > "$WORK/after_send$i.txt"
  echo "  after_send: $(head -1 "$WORK/after_send$i.txt")"
  kill -TERM "$FERRY_PID"; wait "$FERRY_PID" || true; FERRY_PID=""
}
intake_records() {
  python3 -c 'import json,sys,urllib.request; print(json.loads(urllib.request.urlopen(sys.argv[1], timeout=5).read())["records"])' \
    "http://127.0.0.1:$(cat "$WORK/intake.port")/stats"
}

echo "ferry bench/e2e idle: $BUILD, forward unix+tcp, tail, datadog, http; ${IDLE_SECONDS}s idle, $RUNS runs"
for i in $(seq "$RUNS"); do run_once "$i"; done
for what in idle after_send; do
  median=$(for i in $(seq "$RUNS"); do echo "$(awk 'NR==1 {print $2}' "$WORK/$what$i.txt") $i"; done |
    sort -n | awk -v m=$(((RUNS + 1) / 2)) 'NR==m {print $2}')
  echo "median of $RUNS -> $what: $(cat "$WORK/$what$median.txt")"
done
