#!/usr/bin/env bash
# Side by side with Fluent Bit (issue 18): runs issue 18's scenarios for ferry and, when
# FLUENT_BIT names a Fluent Bit binary, for Fluent Bit with equivalent classic configs, both
# sides interleaved (ferry, Fluent Bit default, Fluent Bit best, ferry, ...), and prints one
# markdown table: medians of records/s, CPU-µs per record, peak RSS, records lost, the ratios,
# with the machine and each side's settings beside them. Usage:
#   [RUNS=3] [FLUENT_BIT=/path/to/fluent-bit] bench/e2e/compare.sh BUILD_DIR [SCENARIO...]
#   bench/e2e/compare.sh BUILD_DIR --fluent-bit-configs DIR   # write + check the configs, exit
# Scenarios: dd_gzip dd_gzip_64m dd_zstd json_null idle outage (default: all). ferry's runs are
# run.sh's own scenarios (sourced below); its settings, intake and data are run.sh's.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-3}
ALL_SCENARIOS=(dd_gzip dd_gzip_64m dd_zstd json_null idle outage)
BUILD_ARG=${1:-build-release}
shift || true
if [ "${1:-}" = --fluent-bit-configs ]; then
  CONFIG_DIR=${2:?--fluent-bit-configs needs a directory}
  scenarios=()
else
  scenarios=("$@")
  [ ${#scenarios[@]} -eq 0 ] && scenarios=("${ALL_SCENARIOS[@]}")
  for sc in "${scenarios[@]}"; do
    [[ " ${ALL_SCENARIOS[*]} " == *" $sc "* ]] || { echo "compare.sh: unknown scenario '$sc' (${ALL_SCENARIOS[*]})" >&2; exit 1; }
  done
fi
if [ -n "${FLUENT_BIT:-}" ]; then
  FB_BIN=$(command -v "$FLUENT_BIT" || true)
  if [ -z "$FB_BIN" ] || [ ! -x "$FB_BIN" ]; then
    echo "compare.sh: FLUENT_BIT=$FLUENT_BIT is not an executable file (unset FLUENT_BIT to run ferry alone)" >&2
    exit 2
  fi
  FB_BIN=$(realpath "$FB_BIN")
  FB_VERSION=$("$FB_BIN" --version 2>&1 | head -1)
fi

# shellcheck source=bench/e2e/run.sh
source "$HERE/run.sh" "$BUILD_ARG"   # cd to the root; WORK, DATA, LINES, FERRY, helpers
STALL_S=${STALL_S:-120}        # a Fluent Bit run stops after this long without progress
IDLE_SECONDS=${IDLE_SECONDS:-10}
RUN_PID=""   # the ferry or Fluent Bit this script started itself (idle, Fluent Bit runs)
cleanup() {
  [ -n "$RUN_PID" ] && { kill -KILL "$RUN_PID" 2>/dev/null; wait "$RUN_PID" 2>/dev/null; }
  [ -n "$INTAKE_PID" ] && stop_intake
  rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
API_KEY=bench-key-0123456789abcdef0123456
FB_DIR=$WORK/fb   # the Fluent Bit configs, its parsers file and the idle runs' empty file

# ---- Fluent Bit configs ------------------------------------------------------------------
# fb_variants SCENARIO: the Fluent Bit variants run for it ("" = none: no equivalent).
fb_variants() {
  case $1 in dd_zstd) echo "" ;; idle) echo "default" ;; *) echo "default best" ;; esac
}
# fb_settings SCENARIO VARIANT: what the variant sets beyond Fluent Bit's defaults.
fb_settings() {
  local s="" best=""
  [ "$2" = best ] && best="Workers 2"
  case $1 in
    dd_gzip) s="compress gzip" ;;
    dd_gzip_64m) s="compress gzip, Mem_Buf_Limit 64MB" ;;
    json_null) s="tail Parser json (Format json, no Time_Key); HTTP_Server On (the harness counts there)" ;;
    idle) s="forward + tail (empty file) + datadog, HTTP_Server On" ;;
    outage) s="compress gzip; HTTP_Server On (drops counted there)"
      [ "$2" = best ] && best="Workers 2, Mem_Buf_Limit 64MB, Retry_Limit no_limits" ;;
  esac
  echo "$s${best:+; $best}"
}
ferry_settings() {
  case $1 in
    dd_gzip) echo "defaults (buffer.max_bytes auto, concurrency auto), gzip" ;;
    dd_gzip_64m) echo "buffer.max_bytes: 64MiB, gzip" ;;
    dd_zstd) echo "defaults, compression: zstd" ;;
    json_null) echo "tail parser: json, defaults" ;;
    idle) echo "forward + tail (empty file) + datadog, service.http on, defaults" ;;
    outage) echo "defaults (retry forever, buffer.max_bytes auto), gzip" ;;
  esac
}

# fb_conf SCENARIO VARIANT MODE INTAKE_PORT HTTP_PORT FORWARD_PORT: a classic Fluent Bit
# config. MODE tail is what Fluent Bit runs; MODE check is the same with the tail input as a
# forward input (ferry's converter has no tail) and tail's Parser as a parser filter, so
# `ferry validate --fluent-bit-config` checks every other section and key.
fb_conf() {
  local sc=$1 variant=$2 mode=$3 port=$4 http=$5 fwd=$6
  local limit="" parser="" http_on=""
  case $sc in dd_gzip_64m) limit=64MB ;; outage) [ "$variant" = best ] && limit=64MB ;; esac
  case $sc in json_null|idle|outage) http_on=1 ;; esac
  [ "$sc" = json_null ] && parser=json
  echo "[SERVICE]"
  [ -n "$http_on" ] && printf '    HTTP_Server  On\n    HTTP_Listen  127.0.0.1\n    HTTP_Port    %s\n' "$http"
  [ -n "$parser" ] && printf '    Parsers_File %s\n' "$FB_DIR/parsers.conf"
  echo
  if [ "$sc" = idle ]; then
    printf '[INPUT]\n    Name   forward\n    Listen 127.0.0.1\n    Port   %s\n\n' "$fwd"
  fi
  local path=$DATA; [ "$sc" = idle ] && path=$FB_DIR/idle.log
  echo "[INPUT]"
  if [ "$mode" = tail ]; then
    printf '    Name           tail\n    Path           %s\n    Tag            bench\n' "$path"
    [ "$sc" != idle ] && echo "    Read_from_Head On"
    [ -n "$parser" ] && echo "    Parser         $parser"
  else
    printf '    Name           forward\n    Listen         127.0.0.1\n    Port           %s\n' $((fwd + 1))
  fi
  [ -n "$limit" ] && echo "    Mem_Buf_Limit  $limit"
  echo
  if [ "$mode" = check ] && [ -n "$parser" ]; then
    printf '[FILTER]\n    Name     parser\n    Match    *\n    Key_Name log\n    Parser   %s\n\n' "$parser"
  fi
  echo "[OUTPUT]"
  if [ "$sc" = json_null ]; then
    printf '    Name  null\n    Match *\n'
  else
    printf '    Name        datadog\n    Match       *\n    Host        127.0.0.1\n    Port        %s\n' "$port"
    printf '    TLS         Off\n    compress    gzip\n    apikey      %s\n' "$API_KEY"
    # The same fields as run.sh's ferry output: service, source, tags, hostname.
    printf '    dd_service  bench\n    dd_source   ferry\n    dd_tags     env:bench\n    dd_hostname bench-host\n'
  fi
  if [ "$variant" = best ]; then
    echo "    Workers     2"
    [ "$sc" = outage ] && echo "    Retry_Limit no_limits"
  fi
  return 0
}

# check_fb_configs DIR: writes every Fluent Bit config into DIR (NAME.conf, and NAME.check.conf
# for ferry's converter) and validates the check copies; with FLUENT_BIT, also --dry-run.
check_fb_configs() {
  local dir=$1 n=0 sc v
  local FB_DIR=$dir   # fb_conf names files beside the configs
  mkdir -p "$dir"
  printf '[PARSER]\n    Name   json\n    Format json\n' > "$dir/parsers.conf"
  : > "$dir/idle.log"
  for sc in "${ALL_SCENARIOS[@]}"; do
    for v in $(fb_variants "$sc"); do
      fb_conf "$sc" "$v" tail 18126 20200 24300 > "$dir/$sc-$v.conf"
      fb_conf "$sc" "$v" check 18126 20200 24300 > "$dir/$sc-$v.check.conf"
      if ! "$FERRY" validate --fluent-bit-config "$dir/$sc-$v.check.conf" > "$WORK/validate.out" 2>&1; then
        echo "compare.sh: ferry's converter rejects $dir/$sc-$v.check.conf:" >&2
        grep '^ferry:' "$WORK/validate.out" >&2 || true
        return 1
      fi
      if [ -n "${FB_BIN:-}" ] && ! "$FB_BIN" --dry-run -c "$dir/$sc-$v.conf" > "$WORK/dry.out" 2>&1; then
        echo "compare.sh: $FB_BIN --dry-run rejects $dir/$sc-$v.conf:" >&2; tail -5 "$WORK/dry.out" >&2
        return 1
      fi
      n=$((n + 1))
    done
  done
  echo "Fluent Bit configs: $n written to $dir, accepted by ferry's converter (tail checked as forward)${FB_BIN:+ and by $FB_BIN --dry-run}"
}

if [ -n "${CONFIG_DIR:-}" ]; then
  check_fb_configs "$CONFIG_DIR"
  exit 0
fi

# ---- one run of each side ----------------------------------------------------------------
# A result row: scenario, side, status, records/s, CPU-µs/record, peak RSS MiB, lost, anon MiB.
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; }

# ferry_run SCENARIO: one run of run.sh's scenario; its line is printed and parsed.
ferry_run() {
  local sc=$1 line
  case $sc in
    dd_gzip) line=$(DD_BUFFER="" scenario_tail_datadog_gzip) ;;
    dd_gzip_64m) line=$(DD_BUFFER=64MiB scenario_tail_datadog_gzip) ;;
    dd_zstd) line=$(DD_BUFFER="" scenario_tail_datadog_zstd) ;;
    json_null) line=$(scenario_tail_json_null) ;;
    outage) line=$(DD_BUFFER="" OUTAGE_MS=20000 scenario_datadog_outage) ;;
    idle) idle_run ferry; return ;;
  esac
  echo "  ferry: $line"
  python3 - "$sc" "$line" "$LINES" >> "$RESULTS" <<'PY'
import re, sys
sc, line, lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = re.search(r": ([\d,]+) records/s .* peak RSS ([\d.]+) MiB .*ferry CPU ([\d.]+) s", line)
if not m:
    print(f"{sc}\tferry\tFAILED\t\t\t\t\t")
    sys.exit()
rps, rss, cpu = float(m[1].replace(",", "")), float(m[2]), float(m[3])
got = re.search(r"MISMATCH: (\d+) records", line)
lost = lines - int(got[1]) if got else 0
print(f"{sc}\tferry\tok\t{rps:.0f}\t{cpu * 1e6 / lines:.2f}\t{rss:.1f}\t{lost}\t")
PY
}

# fb_run SCENARIO VARIANT: Fluent Bit until the intake (Datadog) or its own /api/v1/metrics
# (null) has counted every record, or what it dropped makes up the rest, or STALL_S pass
# without progress; CPU and VmHWM are read from /proc at that moment, then SIGTERM.
fb_run() {
  local sc=$1 v=$2 http intake_url=- metrics_url=-
  http=$(free_port)
  if [ "$sc" != json_null ]; then
    INTAKE_OUTAGE_MS=$([ "$sc" = outage ] && echo 20000 || echo 0) start_intake
    intake_url="http://127.0.0.1:$INTAKE_PORT/stats"
  fi
  case $sc in json_null|outage) metrics_url="http://127.0.0.1:$http/api/v1/metrics" ;; esac
  fb_conf "$sc" "$v" tail "${INTAKE_PORT:-0}" "$http" 0 > "$FB_DIR/run.conf"
  local t0; t0=$(date +%s%N)
  "$FB_BIN" -c "$FB_DIR/run.conf" > "$FB_DIR/out.txt" 2>&1 &
  RUN_PID=$!
  local out
  out=$(python3 - "$RUN_PID" "$t0" "$LINES" "$intake_url" "$metrics_url" "$STALL_S" "$RUN_TIMEOUT" <<'PY'
import json, os, sys, time, urllib.request
pid, t0, want, intake, metrics, stall, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6]), float(sys.argv[7])
def get(url):
    try:
        return json.loads(urllib.request.urlopen(url, timeout=2).read())
    except (OSError, ValueError):
        return None
def alive():
    try:
        return open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
status, last, last_change, got, dropped, end = "timeout", None, time.time(), 0, 0, 0.0
while True:
    now = time.time()
    if not alive():
        status = "exited"; break
    m = get(metrics) if metrics != "-" else None
    outs = (m or {}).get("output", {}).values()
    dropped = sum(o.get("dropped_records", 0) for o in outs)
    if intake != "-":
        s = get(intake) or {}
        got, end = s.get("records", 0), s.get("last_ms", 0) / 1e3
    else:
        got, end = sum(o.get("proc_records", 0) for o in outs), now
    if (got, dropped) != last:
        last, last_change = (got, dropped), now
    if got + dropped >= want:
        status = "ok"; break
    if now - last_change > stall:
        status = "stalled"; break
    if now - t0 / 1e9 > limit:
        break
    time.sleep(0.05)
cpu = hwm = 0
try:
    f = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    cpu = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    hwm = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM"))
except (OSError, StopIteration):
    pass
print(status, max(end - t0 / 1e9, 1e-3), got, dropped, cpu, hwm)
PY
)
  kill -TERM "$RUN_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$RUN_PID" 2>/dev/null || true
  wait "$RUN_PID" 2>/dev/null || true
  RUN_PID=""
  [ "$intake_url" != - ] && { stop_intake; INTAKE_PID=""; }
  local status secs got dropped cpu hwm
  read -r status secs got dropped cpu hwm <<< "$out"
  if [ "$status" = exited ] || [ "$status" = timeout ] || [ "$got" = 0 ]; then
    echo "  fluent-bit $v: $sc FAILED ($status)"; tail -5 "$FB_DIR/out.txt" >&2
    row "$sc" "fluent-bit $v" FAILED "" "" "" "" ""; return 0
  fi
  python3 - "$sc" "$v" "$status" "$secs" "$got" "$dropped" "$cpu" "$hwm" "$LINES" "$RESULTS" <<'PY'
import sys
sc, v, status, secs, got, dropped, cpu, hwm, want, results = sys.argv[1:11]
secs, got, cpu, want, rss = float(secs), int(got), float(cpu), int(want), int(hwm) / 1024
with open(results, "a") as f:
    f.write(f"{sc}\tfluent-bit {v}\t{status}\t{got / secs:.0f}\t{cpu * 1e6 / want:.2f}\t{rss:.1f}\t{want - got}\t\n")
print(f"  fluent-bit {v}: {sc}: {got / secs:,.0f} records/s  peak RSS {rss:.1f} MiB  ({secs:.2f} s, "
      f"CPU {cpu:.2f} s = {want / max(cpu, 1e-3):,.0f} records/CPU-s; {got} counted, {dropped} dropped, {status})")
PY
}

# idle_run SIDE [VARIANT]: forward + tail (an empty file) + datadog with the HTTP server on,
# started and left alone IDLE_SECONDS; then VmRSS and RssAnon.
idle_run() {
  local side=$1 v=${2:-} http fwd
  : > "$FB_DIR/idle.log"; rm -f "$WORK/idle.db"
  start_intake
  http=$(free_port); fwd=$(free_port)
  if [ "$side" = ferry ]; then
    cat > "$WORK/idle.yaml" <<YAML
service:
  http: { listen: 127.0.0.1:$http }
inputs:
  - type: forward
    listen: tcp://127.0.0.1:$fwd
  - type: tail
    path: $FB_DIR/idle.log
    tag: idle
    db: $WORK/idle.db
outputs:
  - type: datadog
    match: "*"
    api_key: $API_KEY
    url: http://127.0.0.1:$INTAKE_PORT/api/v2/logs
YAML
    "$FERRY" run -c "$WORK/idle.yaml" 2> "$WORK/idle.err" &
  else
    fb_conf idle "$v" tail "$INTAKE_PORT" "$http" "$fwd" > "$FB_DIR/run.conf"
    "$FB_BIN" -c "$FB_DIR/run.conf" > "$WORK/idle.err" 2>&1 &
  fi
  RUN_PID=$!
  sleep "$IDLE_SECONDS"
  local rss anon name=$side${v:+ $v}
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$RUN_PID/status" 2>/dev/null || true)
  anon=$(awk '/^RssAnon/ {print $2}' "/proc/$RUN_PID/status" 2>/dev/null || true)
  kill -TERM "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" 2>/dev/null || true
  RUN_PID=""
  stop_intake; INTAKE_PID=""
  if [ -z "$rss" ]; then
    echo "  $name: idle FAILED"; tail -5 "$WORK/idle.err" >&2
    row idle "$name" FAILED "" "" "" "" ""; return 0
  fi
  echo "  $name: idle: RSS $(awk "BEGIN {printf \"%.1f\", $rss / 1024}") MiB, anonymous $(awk "BEGIN {printf \"%.1f\", $anon / 1024}") MiB after ${IDLE_SECONDS} s"
  row idle "$name" ok "" "" "$(awk "BEGIN {printf \"%.1f\", $rss / 1024}")" "" "$(awk "BEGIN {printf \"%.1f\", $anon / 1024}")"
}

# ---- the run -----------------------------------------------------------------------------
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
CHECKED=$(check_fb_configs "$FB_DIR")
echo "$CHECKED"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT+changes"
for sc in "${scenarios[@]}"; do
  echo "$sc:"
  for _ in $(seq "$RUNS"); do
    ferry_run "$sc"
    [ -z "${FB_BIN:-}" ] && continue
    for v in $(fb_variants "$sc"); do
      if [ "$sc" = idle ]; then idle_run fluent-bit "$v"; else fb_run "$sc" "$v"; fi
    done
  done
done

# ---- the table ---------------------------------------------------------------------------
{
  echo "machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | xargs)," \
    "load average at start $LOAD_AT_START, RAM $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)," \
    "kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "data: $LINES lines, $BYTES bytes (../shared/bench/gen_logs.py); $RUNS runs per side, interleaved"
  echo "ferry: $FERRY, commit $COMMIT"
  if [ -n "${FB_BIN:-}" ]; then
    echo "Fluent Bit: $FB_BIN, $FB_VERSION (no zstd row: its datadog output compresses with gzip only)"
  else
    echo "Fluent Bit: not run (FLUENT_BIT unset)"
  fi
  for sc in "${scenarios[@]}"; do
    printf 'settings\t%s\tferry\t%s\n' "$sc" "$(ferry_settings "$sc")"
    [ -z "${FB_BIN:-}" ] && continue
    for v in $(fb_variants "$sc"); do
      printf 'settings\t%s\tfluent-bit %s\t%s\n' "$sc" "$v" "$(fb_settings "$sc" "$v")"
    done
  done
  cat "$RESULTS"
} | python3 -c "$(cat <<'PY'
import statistics, sys
label = {"dd_gzip": "tail → Datadog gzip", "dd_gzip_64m": "tail → Datadog gzip, 64 MiB budget",
         "dd_zstd": "tail → Datadog zstd", "json_null": "tail + JSON parse → null",
         "idle": "idle: forward + tail + Datadog, HTTP on",
         "outage": "Datadog 503 for the first 20 s, all records offered"}
head, settings, runs, order = [], {}, {}, []
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) == 1:
        head.append(f[0])
    elif f[0] == "settings":
        settings[(f[1], f[2])] = f[3]
        if f[1] not in order:
            order.append(f[1])
    else:
        runs.setdefault((f[0], f[1]), []).append(f[2:])

def med(rows, i):  # the median of column i over the runs that did not fail
    v = [float(r[i]) for r in rows if r[0] != "FAILED" and r[i] != ""]
    return statistics.median(v) if v else None

def fmt(x):
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e4:
        return f"{x / 1e3:.0f} k"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"

print("\n".join(head) + "\n")
print("| scenario | side | settings | records/s | CPU-µs/record | peak RSS MiB | lost | runs ok "
      "| records/s ferry÷FB | CPU FB÷ferry | RSS FB÷ferry |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for sc in order:
    base = runs.get((sc, "ferry"), [])
    for (c, side), what in settings.items():
        if c != sc:
            continue
        rows = runs.get((sc, side), [])
        rps, cpu, rss, lost, anon = (med(rows, i) for i in range(1, 6))
        cells = [fmt(rps), fmt(cpu), fmt(rss) + (f" (anonymous {anon:.1f})" if anon is not None else ""),
                 "—" if lost is None else f"{lost:,.0f}",
                 f"{sum(r[0] != 'FAILED' for r in rows)}/{len(rows)}"]
        ratio = ["", "", ""]
        if side != "ferry":
            b = [med(base, i) for i in (1, 2, 3)]
            ratio = [f"{x / y:.2f}×" if x and y else "—"
                     for x, y in ((b[0], rps), (cpu, b[1]), (rss, b[2]))]
        print(f"| {label.get(sc, sc)} | {side} | {what} | " + " | ".join(cells + ratio) + " |")
print("\nEach figure is the median of its column over the runs. records/s: records over wall-clock "
      "seconds; ferry's clock stops when it exits by itself at EOF with everything sent (run.sh), "
      "Fluent Bit's when the intake (or, for null, its /api/v1/metrics) has counted the last record. "
      "CPU: the process's user+system time over all records. Peak RSS: ferry /usr/bin/time -v, "
      "Fluent Bit VmHWM at its end; idle: VmRSS (and RssAnon) after IDLE_SECONDS. lost: records "
      "offered minus records the intake accepted. The ratios are above 1 where ferry is ahead.")
PY
)"
