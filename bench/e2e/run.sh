#!/usr/bin/env bash
# End-to-end throughput harness: runs each scenario with the real ferry binary on the
# reference data set (shared/bench/gen_logs.py: 2,000,000 JSON lines, ~214 bytes each) and
# prints records/s, MB/s and peak RSS (/usr/bin/time -v). Usage:
#   [RUNS=N] bench/e2e/run.sh BUILD_DIR [SCENARIO...]   (RUNS default 5)
# Scenarios are the functions named scenario_* below; each prints one result line per run,
# then the median. Later issues add their scenarios here, so one command prints them all.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build-release}; shift || true
FERRY="$ROOT/$BUILD/bin/ferry"
RUNS=${RUNS:-5}
DATA_DIR="$ROOT/bench/e2e/data"
LINES=${BENCH_LINES:-2000000}
DATA="$DATA_DIR/logs-$LINES.jsonl"
SHARED="$ROOT/../shared"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$DATA_DIR"
if [ ! -f "$DATA" ]; then
  python3 "$SHARED/bench/gen_logs.py" "$LINES" "$DATA" >&2
fi
BYTES=$(stat -c %s "$DATA")

# report NAME SECONDS RSS_KB CPU_SECONDS [EXTRA] : prints one result line for LINES_RUN records
# of BYTES_RUN. CPU is ferry's user+system time: on a shared machine, records per CPU-second
# says more about ferry than the wall clock does.
report() {
  python3 - "$1" "$2" "$LINES_RUN" "$BYTES_RUN" "$3" "$4" "${5:-}" <<'PY'
import sys
name, el, lines, size, rss, cpu, extra = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
print(f"{name}: {lines/el:,.0f} records/s  {size/el/1e6:,.1f} MB/s  peak RSS {rss/1024:.1f} MiB  ({el:.2f} s, ferry CPU {cpu:.2f} s = {lines/max(cpu, 1e-3):,.0f} records/CPU-s){'  ' + extra if extra else ''}")
PY
}

# measure NAME COMMAND... : runs COMMAND (ferry, exiting by itself) under /usr/bin/time and
# prints one result line. EXTRA_CMD, when set, is run afterwards and its output appended.
measure() {
  local name=$1; shift
  local tfile="$WORK/time.txt"
  local t0 t1
  t0=$(date +%s.%N)
  timeout "$RUN_TIMEOUT" /usr/bin/time -v -o "$tfile" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
    echo "$name: FAILED"; tail -5 "$WORK/stderr.txt" >&2; return 0; }
  t1=$(date +%s.%N)
  local rss_kb cpu
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tfile")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$tfile")
  report "$name" "$(python3 -c "print($t1 - $t0)")" "$rss_kb" "$cpu" "$(${EXTRA_CMD:-true})"
}

LINES_RUN=$LINES
BYTES_RUN=$BYTES
# Outputs keep their default budget (buffer.max_bytes: auto) unless DD_BUFFER names one.
buffer_line() { [ -n "${DD_BUFFER:-}" ] && printf '\n    buffer: { max_bytes: %s }' "$DD_BUFFER"; return 0; }
RUN_TIMEOUT=${RUN_TIMEOUT:-300}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# stdin_run NAME [SYNC]: stdin → null, with service.storage on at that sync policy if given
# (the throughput cost of disk storage).
stdin_run() {
  rm -rf "$WORK/store"
  {
    [ -n "${2:-}" ] && printf 'service:\n  storage: { path: %s, sync: %s }\n' "$WORK/store" "$2"
    cat <<YAML
inputs:
  - type: stdin
    tag: bench
outputs:
$NULL_OUTPUT
YAML
  } > "$WORK/$1.yaml"
  measure "$1" bash -c "exec '$FERRY' run -c '$WORK/$1.yaml' < '$DATA'"
}
scenario_stdin_null() { stdin_run stdin_null; }

# tail_config PARSER OUTPUT_YAML: a tail input that reads the data file from its head and
# finishes at its end (exit_on_eof); the position db lives in $WORK and is removed first.
tail_config() {
  rm -f "$WORK/tail.db"
  cat <<YAML
inputs:
  - type: tail
    path: $DATA
    tag: bench
    parser: $1
    read_from_head: true
    exit_on_eof: true
    db: $WORK/tail.db
outputs:
$2
YAML
}

scenario_stdin_null_storage_interval() { stdin_run stdin_null_storage_interval interval; }
scenario_stdin_null_storage_always() { stdin_run stdin_null_storage_always always; }

NULL_OUTPUT='  - type: null
    match: "*"'

scenario_tail_null() {
  tail_config none "$NULL_OUTPUT" > "$WORK/tail-null.yaml"
  measure tail_null "$FERRY" run -c "$WORK/tail-null.yaml"
}

scenario_tail_json_null() {
  tail_config json "$NULL_OUTPUT" > "$WORK/tail-json-null.yaml"
  measure tail_json_null "$FERRY" run -c "$WORK/tail-json-null.yaml"
}

# forward → null: ferry listens on TCP; bench/e2e/forward_load (built beside ferry) sends the
# data set as PackedForward frames of 1,000 FireLens-shaped records and polls /metrics until
# the null output has counted them all. FORWARD_ACK=1 adds `chunk` and waits for the acks.
# forward_run NAME LINES OUTPUT_YAML: ferry listens on TCP; bench/e2e/forward_load (built
# beside ferry) sends the first LINES lines of the data set as PackedForward frames of 1,000
# FireLens-shaped records and polls /metrics until the outputs have counted them all as sent.
# FORWARD_ACK=1 adds `chunk` and waits for the acks.
forward_run() {
  local name=$1 lines=$2 output=$3
  local load="$ROOT/$BUILD/bin/forward_load"
  [ -x "$load" ] || load="$ROOT/$BUILD/bench/forward_load"
  local http; http=$(free_port)
  cat > "$WORK/$name.yaml" <<YAML
service:
  http: { listen: 127.0.0.1:$http }
inputs:
  - type: forward
    listen: tcp://127.0.0.1:0
outputs:
$output
YAML
  rm -f "$WORK/ferry.err"
  "$FERRY" run -c "$WORK/$name.yaml" 2> "$WORK/ferry.err" &
  local pid=$!
  local port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on tcp port \([0-9]*\).*/\1/p' "$WORK/ferry.err" | head -1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  local ack=(); [ "${FORWARD_ACK:-0}" = 1 ] && ack=(--ack)
  [ "${FORWARD_NOW:-0}" = 1 ] && ack+=(--now)   # records timed from now, not 2024
  local out
  if ! out=$("$load" --file "$DATA" --limit "$lines" --port "$port" --batch 1000 "${ack[@]}" \
      --metrics-port "$http" --expect "$lines" --timeout "$RUN_TIMEOUT"); then
    echo "$name: FAILED"; tail -5 "$WORK/ferry.err" >&2; kill "$pid"; wait "$pid" || true; return 0
  fi
  local rss_kb cpu
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat")
  kill -TERM "$pid"; wait "$pid" || true
  local secs wire
  secs=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["total_seconds"])' "$out")
  wire=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.0f wire B/record" % (r["wire_bytes"]/r["records"]))' "$out")
  local bytes; bytes=$(head -n "$lines" "$DATA" | wc -c)
  LINES_RUN=$lines BYTES_RUN=$bytes report "$name${FORWARD_ACK:+_ack}" "$secs" "$rss_kb" "$cpu" "$wire"
}

# The null output sends a partial request after flush_interval (100 ms by default): at the
# end of a run that is dead time the clock would count, so here it is 10 ms (requests fill
# long before it in steady state).
scenario_forward_null() {
  forward_run forward_null "$LINES" "$NULL_OUTPUT
    flush_interval: 10ms"
}

# The ceiling: the same generator and frames, into a reader of its own that discards them.
# What loopback TCP carries on this machine, against which forward_null is measured.
scenario_forward_ceiling() {
  local load="$ROOT/$BUILD/bin/forward_load"
  [ -x "$load" ] || load="$ROOT/$BUILD/bench/forward_load"
  local out secs
  out=$("$load" --file "$DATA" --limit "$LINES" --batch 1000 --discard)
  secs=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["total_seconds"])' "$out")
  python3 -c 'import sys; n, b, t = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
print(f"forward_ceiling: {n/t:,.0f} records/s  {b/t/1e6:,.1f} MB/s  ({t:.2f} s; no ferry: the generator into a discarding reader)")' \
    "$LINES" "$BYTES" "$secs"
}

# forward → firehose and forward → s3 go to the e2e tests' strict stand-ins (every request's
# SigV4 signature is verified in node, on the same 2 cores), so they use AWS_LINES of the
# data set (default 200,000) and report what ferry sustains against them.
AWS_LINES=${AWS_LINES:-200000}
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
AWS_PID=""
stop_aws_peer() { [ -n "$AWS_PID" ] && { kill "$AWS_PID" 2>/dev/null; wait "$AWS_PID" 2>/dev/null; }; AWS_PID=""; return 0; }

scenario_forward_firehose() {
  rm -f "$WORK/fh.port"
  node "$ROOT/tests/e2e/firehose_server.js" --port-file "$WORK/fh.port" --out /dev/null \
    --stream bench --region "$AWS_REGION" --access-key-id "$AWS_ACCESS_KEY_ID" \
    --secret-access-key "$AWS_SECRET_ACCESS_KEY" 2> "$WORK/fh.err" &
  AWS_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/fh.port" ] && break; sleep 0.05; done
  forward_run forward_firehose "$AWS_LINES" "  - type: firehose
    delivery_stream: bench
    region: $AWS_REGION
    endpoint: http://127.0.0.1:$(cat "$WORK/fh.port")
    aggregate: true$(buffer_line)"
  stop_aws_peer
}

# forward → kinesis_streams and forward → cloudwatch_logs, to the e2e tests' strict stand-ins
# (SigV4 verified, every limit checked, in node on the same cores), AWS_LINES records.
# start_aws_peer SCRIPT ARGS...: starts tests/e2e/SCRIPT, sets AWS_PID and PEER_PORT.
start_aws_peer() {
  local script=$1; shift
  rm -f "$WORK/peer.port"
  node "$ROOT/tests/e2e/$script" --port-file "$WORK/peer.port" --out /dev/null --region "$AWS_REGION" \
    --access-key-id "$AWS_ACCESS_KEY_ID" --secret-access-key "$AWS_SECRET_ACCESS_KEY" "$@" \
    > /dev/null 2> "$WORK/peer.err" &
  AWS_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/peer.port" ] && break; sleep 0.05; done
  PEER_PORT=$(cat "$WORK/peer.port")
}

scenario_forward_kinesis() {
  start_aws_peer kinesis_server.js --stream bench --shards 4
  forward_run forward_kinesis "$AWS_LINES" "  - type: kinesis_streams
    stream: bench
    region: $AWS_REGION
    endpoint: http://127.0.0.1:$PEER_PORT"
  stop_aws_peer
}

# CloudWatch Logs takes one call at a time per output (each stream's events stay in order).
scenario_forward_cloudwatch() {
  start_aws_peer cloudwatch_logs_server.js
  # Records timed from now: CloudWatch rejects events over 14 days old.
  FORWARD_NOW=1 forward_run forward_cloudwatch "$AWS_LINES" "  - type: cloudwatch_logs
    region: $AWS_REGION
    endpoint: http://127.0.0.1:$PEER_PORT
    log_group_name: /bench/ferry
    log_stream_name: bench
    auto_create_group: true"
  stop_aws_peer
}

scenario_forward_s3() {
  rm -rf "$WORK/s3store" "$WORK/s3.port" "$WORK/s3proxy.port"; mkdir -p "$WORK/s3store"
  node "$ROOT/tests/e2e/s3_server.js" --dir "$WORK/s3store" --buckets bench --port-file "$WORK/s3.port" \
    2> "$WORK/s3.err" &
  local s3pid=$!
  for _ in $(seq 300); do [ -s "$WORK/s3.port" ] && break; sleep 0.05; done
  # s3rver accepts only its own fixed account; the proxy verifies our signature first.
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  node "$ROOT/tests/e2e/s3_sigv4_proxy.js" --port-file "$WORK/s3proxy.port" --upstream "$(cat "$WORK/s3.port")" \
    --access-key S3RVER --secret-key S3RVER --region "$AWS_REGION" 2> "$WORK/s3proxy.err" &
  AWS_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/s3proxy.port" ] && break; sleep 0.05; done
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER forward_run forward_s3 "$AWS_LINES" "  - type: s3
    bucket: bench
    region: $AWS_REGION
    endpoint: http://127.0.0.1:$(cat "$WORK/s3proxy.port")
    total_file_size: 8MiB
    upload_timeout: 2s"
  stop_aws_peer
  kill "$s3pid" 2>/dev/null; wait "$s3pid" 2>/dev/null
  AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret
  return 0
}

# Datadog: bench/e2e/datadog_intake (built beside ferry) counts what arrives; INTAKE_LATENCY_MS
# delays each answer, INTAKE_OUTAGE_MS answers 503 for that long from the first request.
# datadog_run NAME COMPRESSION CONCURRENCY: tail → datadog until EOF and drained. The output's
# buffer is left at its default (auto: 24MiB without a cgroup limit); tail reads faster than any
# sink, so the buffer fills and peak RSS shows what the default budget costs.
INTAKE_PID=""
start_intake() {
  rm -f "$WORK/intake.port"
  local intake="$ROOT/$BUILD/bin/datadog_intake"
  [ -x "$intake" ] || intake="$ROOT/$BUILD/bench/datadog_intake"
  "$intake" --port-file "$WORK/intake.port" --latency-ms "${INTAKE_LATENCY_MS:-0}" \
    --outage-ms "${INTAKE_OUTAGE_MS:-0}" 2> "$WORK/intake.err" &
  INTAKE_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/intake.port" ] && break; sleep 0.05; done
  INTAKE_PORT=$(cat "$WORK/intake.port")
}
stop_intake() { kill "$INTAKE_PID" 2>/dev/null || true; wait "$INTAKE_PID" 2>/dev/null || true; }
intake_stats() {
  python3 - "http://127.0.0.1:$INTAKE_PORT/stats" "$LINES_RUN" <<'PY'
import sys, json, urllib.request
s = json.loads(urllib.request.urlopen(sys.argv[1], timeout=5).read())
n = max(s["records"], 1)
flag = "" if s["records"] == int(sys.argv[2]) and not s["errors"] else f" MISMATCH: {s['records']} records, {s['errors']} errors"
refused = f" ({s['refused']} refused with 503)" if s.get("refused") else ""
print(f"{s['compressed_bytes']/n:.1f} wire B/record ({s['json_bytes']/n:.0f} JSON), {s['requests']} requests{refused}{flag}")
PY
}
datadog_run() {
  local name=$1 compression=$2 concurrency=$3
  start_intake
  tail_config none "  - type: datadog
    match: \"*\"
    api_key: bench-key-0123456789abcdef0123456
    url: http://127.0.0.1:$INTAKE_PORT/api/v2/logs
    service: bench
    source: ferry
    tags: env:bench
    hostname: bench-host
    compression: $compression
    concurrency: $concurrency$(buffer_line)" > "$WORK/$name.yaml"
  EXTRA_CMD=intake_stats measure "$name" "$FERRY" run -c "$WORK/$name.yaml"
  stop_intake
}
scenario_tail_datadog_gzip() { datadog_run tail_datadog_gzip gzip "${DD_CONCURRENCY:-auto}"; }
# Datadog down for the first 20 s (503) while tail offers all 2,000,000 records: the inputs
# pause at the budget, nothing is lost (the intake's count must match), peak RSS stays put.
scenario_datadog_outage() {
  INTAKE_OUTAGE_MS=${OUTAGE_MS:-20000} datadog_run datadog_outage gzip "${DD_CONCURRENCY:-auto}"
}
scenario_tail_datadog_zstd() { datadog_run tail_datadog_zstd zstd "${DD_CONCURRENCY:-auto}"; }

# Concurrency: the intake answers each request after 100 ms, as a far-away Datadog would;
# the first DD_CONC_LINES records of the data set (default 100,000 = 100 requests), gzip,
# with concurrency 1, 2, 4, 8 and auto (scenarios datadog_100ms_c1 ... datadog_100ms_cauto;
# CONC_RUNS runs each, default 3).
datadog_concurrency() {
  local lines=${DD_CONC_LINES:-100000}
  [ -f "$WORK/conc.jsonl" ] || head -n "$lines" "$DATA" > "$WORK/conc.jsonl"
  DATA="$WORK/conc.jsonl"; LINES_RUN=$lines; BYTES_RUN=$(stat -c %s "$DATA")
  INTAKE_LATENCY_MS=100 datadog_run "datadog_100ms_c$1" gzip "$1"
}
for c in 1 2 4 8 auto; do
  eval "scenario_datadog_100ms_c$c() { datadog_concurrency $c; }"
done

median() { # reads result lines, prints the one with the median records/s
  sort -t: -k2 -n | python3 -c '
import sys
rows = [l.rstrip() for l in sys.stdin if "records/s" in l]
rows.sort(key=lambda l: float(l.split(":")[1].split("records/s")[0].replace(",", "")))
print("median of %d -> %s" % (len(rows), rows[len(rows)//2]) if rows else "no result")'
}

# Sourced (bench/e2e/compare.sh reuses the scenarios and helpers above): stop here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

scenarios=()
for a in "$@"; do scenarios+=("$a"); done
if [ ${#scenarios[@]} -eq 0 ]; then
  mapfile -t scenarios < <(declare -F | awk '{print $3}' | grep '^scenario_' | sed 's/^scenario_//')
fi
echo "ferry bench/e2e: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | xargs), $LINES lines ($BYTES bytes), $RUNS runs each"
for s in "${scenarios[@]}"; do
  results=""
  runs=$RUNS
  case $s in datadog_100ms_*) runs=${CONC_RUNS:-3} ;; esac
  for _ in $(seq "$runs"); do
    line=$("scenario_$s")
    echo "  $line"
    results+="$line"$'\n'
  done
  printf '%s' "$results" | median
done
