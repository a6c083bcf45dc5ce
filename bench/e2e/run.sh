#!/usr/bin/env bash
# End-to-end throughput harness: runs each scenario with the real ferry binary on the
# reference data set (shared/bench/gen_logs.py: 2,000,000 JSON lines, ~214 bytes each) and
# prints records/s, MB/s and peak RSS (/usr/bin/time -v). Usage:
#   bench/e2e/run.sh BUILD_DIR [SCENARIO...] [--runs N]
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

# measure NAME COMMAND... : runs COMMAND under /usr/bin/time, prints one result line.
measure() {
  local name=$1; shift
  local tfile="$WORK/time.txt"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$tfile" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
    echo "$name: FAILED"; cat "$WORK/stderr.txt" >&2; return 1; }
  t1=$(date +%s.%N)
  local rss_kb
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tfile")
  python3 - "$name" "$t0" "$t1" "$LINES" "$BYTES" "$rss_kb" <<'PY'
import sys
name, t0, t1, lines, size, rss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
el = t1 - t0
print(f"{name}: {lines/el:,.0f} records/s  {size/el/1e6:,.1f} MB/s  peak RSS {rss/1024:.1f} MiB  ({el:.2f} s)")
PY
}

scenario_stdin_null() {
  cat > "$WORK/stdin-null.yaml" <<YAML
inputs:
  - type: stdin
    tag: bench
outputs:
  - type: "null"
    match: "*"
YAML
  measure stdin_null bash -c "'$FERRY' run -c '$WORK/stdin-null.yaml' < '$DATA'"
}

median() { # reads result lines, prints the one with the median records/s
  sort -t: -k2 -n | python3 -c '
import sys
rows = [l.rstrip() for l in sys.stdin if "records/s" in l]
rows.sort(key=lambda l: float(l.split(":")[1].split("records/s")[0].replace(",", "")))
print("median of %d -> %s" % (len(rows), rows[len(rows)//2]) if rows else "no result")'
}

scenarios=()
for a in "$@"; do scenarios+=("$a"); done
if [ ${#scenarios[@]} -eq 0 ]; then
  mapfile -t scenarios < <(declare -F | awk '{print $3}' | grep '^scenario_' | sed 's/^scenario_//')
fi
echo "ferry bench/e2e: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | xargs), $LINES lines ($BYTES bytes), $RUNS runs each"
for s in "${scenarios[@]}"; do
  results=""
  for _ in $(seq "$RUNS"); do
    line=$("scenario_$s")
    echo "  $line"
    results+="$line"$'\n'
  done
  printf '%s' "$results" | median
done
