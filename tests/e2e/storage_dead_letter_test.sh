#!/usr/bin/env bash
# Retry budget with storage on: an output that gives up after retry.max_attempts keeps those
# records in its dead-letter queue (counted), the cursor moves on (a restart does not resend
# them), and `ferry replay` delivers them once the sink is back, then removes the queue.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"

N=5000
write_records "$N"
storage_config "$WORK/cfg.yaml" <<YAML
  - type: file
    name: archive
    path: $WORK/sink/out.jsonl
    retry: { max_attempts: 2, initial_backoff: 50ms, max_backoff: 100ms }
YAML
all_dead_lettered() { [ "$(metric ferry_storage_dead_letter_records_total)" = "$N" ]; }

start_then_kill_sink
wait_for 30 all_dead_lettered || { tail "$WORK/err1.txt"; fail "records not dead-lettered"; }
failed=$(metric 'ferry_output_records_total{output="archive",result="failed"}')
[ "$failed" = "$N" ] || fail "failed count $failed, expected $N"
kill -TERM "$pid"
wait_exit "$pid" 20
exec 3>&-
[ "$RC" = 0 ] || { tail "$WORK/err1.txt"; fail "exit $RC"; }
[ -d "$WORK/store/dead-letter/archive" ] || fail "no dead-letter queue on disk"

revive_sink
# A restart does not resend them (the cursor passed them) ...
timeout 30 "$FERRY_BIN" run -c "$WORK/cfg.yaml" < /dev/null 2> "$WORK/err2.txt" || fail "restart failed"
[ ! -s "$WORK/sink/out.jsonl" ] || fail "dead-lettered records were shipped again by a restart"
# ... an unknown output is an error ...
rc=0; "$FERRY_BIN" replay -c "$WORK/cfg.yaml" --output nope 2> "$WORK/err3.txt" || rc=$?
[ "$rc" = 2 ] && grep -q "no output named 'nope'" "$WORK/err3.txt" || fail "replay of an unknown output: rc $rc"
# ... and `ferry replay` does, exactly once, then removes the queue. It runs on a terminal
# (script(1) gives it one), so it also shows its progress: records and bytes resent, of how much.
timeout 30 script -qec "'$FERRY_BIN' replay -c '$WORK/cfg.yaml' --output archive" /dev/null > "$WORK/err4.txt" ||
  { cat "$WORK/err4.txt"; fail "replay failed"; }
grep -q "replay archive: $N of $N records delivered" "$WORK/err4.txt" || { cat "$WORK/err4.txt"; fail "replay report"; }
grep -aqE "replay archive: $N records resent \([0-9.]+ [KM]iB of [0-9.]+ [KM]iB queued\), $N delivered" "$WORK/err4.txt" ||
  { cat -v "$WORK/err4.txt"; fail "no progress line on the terminal"; }
python3 - "$WORK/sink/out.jsonl" "$N" <<'PY' || fail "replayed records wrong"
import sys, json
got = sorted(json.loads(l)['log'] for l in open(sys.argv[1]))
want = sorted('record %d' % i for i in range(int(sys.argv[2])))
assert got == want, f'{len(got)} records, {len(got) - len(set(got))} duplicates'
PY
[ ! -e "$WORK/store/dead-letter/archive" ] || fail "the replayed queue was not removed"
timeout 30 "$FERRY_BIN" replay -c "$WORK/cfg.yaml" 2> "$WORK/err5.txt" || fail "empty replay failed"
[ "$(wc -l < "$WORK/sink/out.jsonl")" = "$N" ] || fail "a second replay resent records"
pass "retry budget: $N records dead-lettered, not resent on restart, replayed once, queue removed"
