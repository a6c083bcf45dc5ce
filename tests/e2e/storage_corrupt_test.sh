#!/usr/bin/env bash
# A damaged disk buffer loses only the damaged entry, and says how many records it held.
# 20,000 records are left on disk (sink dead), then:
#   tail:    the last entry of the last segment gets a flipped byte and loses its end (a torn
#            write). ferry starts, cuts it off, counts it, and ships every record before it.
#   middle:  16 bytes flipped inside the body of the entry in the middle of the segment, with
#            ferry stopped. On start the recovery scan steps over that entry to the next
#            intact one: every other record ships, exactly once and in order.
#   backlog: the same damage, to the last entry but one, while ferry runs and has not read
#            that far into its backlog (a small buffer.max_bytes): the reader meets it, steps
#            over it, and the rest ships.
# Each time ferry_storage_lost_records_total is exactly the damaged entry's record count
# (kept in the entry's separately checksummed header), and a log line says so.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"

N=20000
write_records "$N"
all_read() { [ "$(metric 'ferry_input_records_total{input="stdin"}')" = "$N" ]; }
sent() { metric 'ferry_output_records_total{output="file",result="sent"}'; }

# check_delivery CASE DAMAGE_JSON: the sink holds every record but the damaged entry's, in order.
check_delivery() {
  python3 - "$WORK/sink/out.jsonl" "$N" "$2" "$1" <<'PY' || fail "$1: the intact records were not delivered exactly once"
import sys, json
got = [json.loads(l)['log'] for l in open(sys.argv[1])]
lost = set(json.loads(sys.argv[3])['lost'])
want = ['record %d' % i for i in range(int(sys.argv[2])) if 'record %d' % i not in lost]
assert got == want, f'{sys.argv[4]}: {len(got)} records delivered, {len(want)} expected'
PY
}

run_case() {
  local case=$1 buffer="" damage lost
  rm -rf "$WORK/sink" "$WORK/fifo" "$WORK/fifo2" "$WORK/store"
  [ "$case" = backlog ] && buffer="
    buffer: { max_bytes: 64KiB }"
  storage_config "$WORK/cfg.yaml" grace=1s <<YAML
  - type: file
    path: $WORK/sink/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }$buffer
YAML
  # 1. N records on disk, the sink dead.
  start_then_kill_sink
  wait_for 30 all_read || { tail "$WORK/err1.txt"; fail "$case: ferry did not read $N records"; }
  if [ "$case" = backlog ]; then
    # 2. Damage on disk under the running ferry, ahead of its reader; then the sink returns.
    damage=$(python3 "$E2E_DIR/storage_segments.py" before-last "$WORK/store/queue")
    revive_sink
  else
    kill -TERM "$pid"
    wait_exit "$pid" 20
    exec 3>&-
    [ "$RC" = 0 ] || { tail "$WORK/err1.txt"; fail "$case: first run exit $RC"; }
    # 2. Damage on disk between two runs; restart with the sink back.
    damage=$(python3 "$E2E_DIR/storage_segments.py" "$case" "$WORK/store/queue")
    revive_sink
    mkfifo "$WORK/fifo2"
    "$FERRY_BIN" run -c "$WORK/cfg.yaml" < "$WORK/fifo2" 2> "$WORK/err2.txt" &
    pid=$!; PIDS+=("$pid")
    exec 3> "$WORK/fifo2"
  fi
  lost=$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])['lost']))" "$damage")
  [ "$lost" -gt 0 ] && [ "$lost" -lt "$N" ] || fail "$case: unexpected damaged entry: $damage"
  local kept=$((N - lost)) err="$WORK/err2.txt"
  [ "$case" = backlog ] && err="$WORK/err1.txt"
  delivered() { [ "$(sent)" = "$kept" ]; }
  wait_for 30 delivered || { tail "$err"; fail "$case: $(sent) of the $kept intact records delivered"; }
  local lost_metric lost_entries corrupt
  lost_metric=$(metric ferry_storage_lost_records_total)
  lost_entries=$(metric ferry_storage_lost_entries_total)
  corrupt=$(metric ferry_storage_corrupt_entries_total)
  [ "$lost_metric" = "$lost" ] || fail "$case: ferry_storage_lost_records_total is $lost_metric, the entry held $lost"
  [ "$lost_entries" = 1 ] || fail "$case: ferry_storage_lost_entries_total is $lost_entries, expected 1"
  # Found on start (counted there) or while reading (not a start-up repair).
  [ "$corrupt" = "$([ "$case" = backlog ] && echo 0 || echo 1)" ] ||
    fail "$case: ferry_storage_corrupt_entries_total is $corrupt"
  kill -TERM "$pid"
  wait_exit "$pid" 20
  exec 3>&-
  [ "$RC" = 0 ] || { tail "$err"; fail "$case: exit $RC"; }
  grep -q "damaged data at byte .* ($lost records)" "$err" || { tail "$err"; fail "$case: no log line with the loss"; }
  check_delivery "$case" "$damage"
  pass "$case: one damaged entry of $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['entries'])" "$damage") lost ($lost records, counted exactly); all $kept others delivered once, in order"
}

run_case tail
run_case middle
run_case backlog
