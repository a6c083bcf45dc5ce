#!/usr/bin/env bash
# `ferry tail`: follows files from their end (or --from-head), prints records as JSON lines
# (--json, with --parser) or in the pretty form, picks up a file created later, and exits 0
# on SIGINT and on SIGTERM. Without --parser it recognises JSON, logfmt and text line by
# line and shows each record's own time and level; --level and --where filter; several
# files are interleaved, each line labelled with its file. Also: a tail section passes
# `ferry validate`, and a bad regex stops `ferry run` with a message naming the option.
source "$(dirname "$0")/lib.sh"

printf '{"level":"info","msg":"first","n":1}\nplain old line\n' > "$WORK/app.log"
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }
stop_with() { # SIGNAL PID: the command must exit 0
  kill "-$1" "$2"
  wait_for 10 exited "$2" || fail "ferry tail ignored SIG$1"
  local rc=0
  wait "$2" || rc=$?
  [ "$rc" = 0 ] || fail "ferry tail exited $rc on SIG$1"
}

# --json --parser json --from-head, then a new line; SIGINT ends it.
"$FERRY_BIN" tail --json --parser json --from-head "$WORK/app.log" > "$WORK/json.out" 2> "$WORK/err1.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 has_lines "$WORK/json.out" 2 || { cat "$WORK/err1.txt"; fail "existing lines not printed with --from-head"; }
echo '{"level":"warn","msg":"second"}' >> "$WORK/app.log"
wait_for 10 has_lines "$WORK/json.out" 3 || fail "appended line not printed"
stop_with INT "$pid"
python3 - "$WORK/json.out" <<'PY' || fail "--json output is wrong"
import sys, json
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r.get("msg", r.get("log")) for r in recs] == ["first", "plain old line", "second"], recs
assert recs[0]["n"] == 1 and recs[0]["level"] == "info" and "date" in recs[0], recs[0]
PY

# Pretty form, from the end: only what is appended shows; SIGTERM ends it.
"$FERRY_BIN" tail "$WORK/app.log" > "$WORK/pretty.out" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
sleep 0.5
echo 'level=error msg="third one" user=42' >> "$WORK/app.log"
wait_for 10 has_lines "$WORK/pretty.out" 1 || { cat "$WORK/err2.txt"; fail "pretty: appended line not printed"; }
stop_with TERM "$pid"
[ "$(lines "$WORK/pretty.out")" = 1 ] || { cat "$WORK/pretty.out"; fail "pretty: old lines printed without --from-head"; }
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ .*third one' "$WORK/pretty.out" || { cat "$WORK/pretty.out"; fail "pretty form unexpected"; }
if grep -q $'\x1b\[' "$WORK/pretty.out"; then fail "colour codes written to a file"; fi

# --parser logfmt on a file that does not exist yet: read from its start once created.
"$FERRY_BIN" tail --json --parser logfmt "$WORK/later.log" > "$WORK/later.out" 2> "$WORK/err3.txt" &
pid=$!; PIDS+=("$pid")
sleep 0.3
printf 'level=info msg="created later"\n' > "$WORK/later.log"
wait_for 10 has_lines "$WORK/later.out" 1 || { cat "$WORK/err3.txt"; fail "a file created later was not followed"; }
stop_with INT "$pid"
grep -q '"msg":"created later"' "$WORK/later.out" || { cat "$WORK/later.out"; fail "logfmt fields missing"; }

# Autodetection, per line: JSON, logfmt, text in one file; the record's own time (RFC 3339,
# epoch seconds, epoch millis) and level (normalised) are shown, the time field left out.
cat > "$WORK/mixed.log" <<'LOG'
{"time":"2024-05-01T12:00:00.250Z","level":"warning","msg":"disk almost full","disk":"sda","pct":91}
ts=1714564801 lvl=error msg="cannot connect" host=db1
GET /health took 3ms key=value
{"timestamp":1714564802123,"severity":"INFO","message":"started","port":8080}
level=debug msg=tick @timestamp=2024-05-01T12:00:03Z
LOG
# tail_once OUT ARGS...: `ferry tail --from-head ARGS...` until OUT has $EXPECT lines, then SIGINT.
tail_once() {
  local out=$1; shift
  "$FERRY_BIN" tail --from-head "$@" > "$out" 2> "$out.err" &
  local pid=$!; PIDS+=("$pid")
  wait_for 10 has_lines "$out" "$EXPECT" || { cat "$out" "$out.err"; fail "tail $*: expected $EXPECT lines"; }
  sleep 0.3 # anything more would show now
  stop_with INT "$pid"
  [ "$(lines "$out")" = "$EXPECT" ] || { cat "$out"; fail "tail $*: more than $EXPECT lines"; }
}
EXPECT=5 tail_once "$WORK/auto.out" "$WORK/mixed.log"
expect_line() { # N EXACT: line N of auto.out
  [ "$(sed -n "$1p" "$WORK/auto.out")" = "$2" ] || { cat "$WORK/auto.out"; fail "line $1 is not: $2"; }
}
expect_line 1 '2024-05-01 12:00:00.250 WARN  disk almost full  disk=sda pct=91'
expect_line 2 '2024-05-01 12:00:01.000 ERROR cannot connect  host=db1'
expect_line 4 '2024-05-01 12:00:02.123 INFO  started  port=8080'
expect_line 5 '2024-05-01 12:00:03.000 DEBUG tick'
sed -n 3p "$WORK/auto.out" | grep -Eq "^$(date -u +%Y-)[0-9-]+ [0-9:.]+ GET /health took 3ms key=value\$" ||
  { cat "$WORK/auto.out"; fail "a text line (with a bare word) is not shown as text at its read time"; }

# --level warn: warn and above, records without a level left out; --where (AND, !=, numbers).
EXPECT=2 tail_once "$WORK/level.out" --level warn "$WORK/mixed.log"
grep -q 'disk almost full' "$WORK/level.out" && grep -q 'cannot connect' "$WORK/level.out" ||
  { cat "$WORK/level.out"; fail "--level warn lost a warning or an error"; }
EXPECT=1 tail_once "$WORK/where.out" --where host=db1 "$WORK/mixed.log"
grep -q 'cannot connect' "$WORK/where.out" || { cat "$WORK/where.out"; fail "--where host=db1"; }
EXPECT=1 tail_once "$WORK/where2.out" --where pct=91 --level=warning "$WORK/mixed.log"
grep -q 'disk almost full' "$WORK/where2.out" || { cat "$WORK/where2.out"; fail "--where pct=91 --level=warning"; }
EXPECT=2 tail_once "$WORK/where3.out" --where 'severity!=INFO' --where 'msg!=tick' --where 'log!=nothing' --level info "$WORK/mixed.log"
grep -q 'disk almost full' "$WORK/where3.out" && grep -q 'cannot connect' "$WORK/where3.out" ||
  { cat "$WORK/where3.out"; fail "--where with != and --level info"; }

# --json: the same recognition; "date" is the record's time.
EXPECT=5 tail_once "$WORK/auto.json" --json "$WORK/mixed.log"
python3 - "$WORK/auto.json" <<'PY' || fail "--json with autodetection is wrong"
import sys, json
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs[0]["date"].startswith("2024-05-01T12:00:00.25") and recs[0]["pct"] == 91, recs[0]
assert recs[1]["date"].startswith("2024-05-01T12:00:01") and recs[1]["host"] == "db1", recs[1]
assert list(recs[2]) == ["date", "log"] and recs[2]["log"].startswith("GET /health"), recs[2]
assert recs[3]["date"].startswith("2024-05-01T12:00:02.123") and recs[3]["port"] == 8080, recs[3]
PY

# Two files interleaved as they are written, each line labelled with its file's name.
: > "$WORK/api.log"; : > "$WORK/worker.log"
"$FERRY_BIN" tail "$WORK/api.log" "$WORK/worker.log" > "$WORK/two.out" 2> "$WORK/two.err" &
pid=$!; PIDS+=("$pid")
sleep 0.5
n=0
for f in api worker api; do
  n=$((n + 1))
  echo "{\"level\":\"info\",\"msg\":\"$f says $n\"}" >> "$WORK/$f.log"
  wait_for 10 has_lines "$WORK/two.out" "$n" || { cat "$WORK/two.out" "$WORK/two.err"; fail "line $n of two files not shown"; }
done
stop_with INT "$pid"
sed -E 's/ [0-9]{4}-[0-9-]+ [0-9:.]+ / TIME /' "$WORK/two.out" > "$WORK/two.cut"
printf '%s\n' 'api.log    | TIME INFO  api says 1' 'worker.log | TIME INFO  worker says 2' \
  'api.log    | TIME INFO  api says 3' | diff - "$WORK/two.cut" || fail "two files: not interleaved with labels"
# With --json the label is a "file" field: the lines stay JSON.
EXPECT=3 tail_once "$WORK/two.json" --json "$WORK/api.log" "$WORK/worker.log"
python3 - "$WORK/two.json" <<'PY' || { cat "$WORK/two.json"; fail "two files with --json"; }
import sys, json
recs = [json.loads(l) for l in open(sys.argv[1])]
assert sorted((r["file"], r["msg"]) for r in recs) == [("api.log", "api says 1"), ("api.log", "api says 3"), ("worker.log", "worker says 2")], recs
assert all(list(r)[:2] == ["file", "date"] for r in recs), recs
PY

# The README's glob form, as written there: `ferry tail 'services/*.log' worker.log`.
mkdir -p "$WORK/services"
echo '{"level":"info","msg":"from a"}' > "$WORK/services/a.log"
echo '{"level":"info","msg":"from b"}' > "$WORK/services/b.log"
echo '{"level":"info","msg":"from worker"}' > "$WORK/worker.log"
(cd "$WORK" && EXPECT=3 tail_once "$WORK/glob.out" 'services/*.log' worker.log) || fail "tail with a glob"
sed -E 's/ [0-9]{4}-[0-9-]+ [0-9:.]+ / TIME /' "$WORK/glob.out" | sort > "$WORK/glob.cut"
printf '%s\n' 'a.log      | TIME INFO  from a' 'b.log      | TIME INFO  from b' \
  'worker.log | TIME INFO  from worker' | diff - "$WORK/glob.cut" || fail "glob: not every file shown with its label"

# Usage errors exit 1.
rc=0; "$FERRY_BIN" tail > /dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ferry tail without a path exited $rc"
rc=0; "$FERRY_BIN" tail --bogus x > /dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ferry tail --bogus exited $rc"
rc=0; "$FERRY_BIN" tail --level loud x > /dev/null 2> "$WORK/usage.err" || rc=$?
[ "$rc" = 1 ] && grep -q "unknown level 'loud'" "$WORK/usage.err" || fail "ferry tail --level loud: exit $rc"
rc=0; "$FERRY_BIN" tail --where novalue x > /dev/null 2> "$WORK/usage.err" || rc=$?
[ "$rc" = 1 ] && grep -q "KEY=VALUE" "$WORK/usage.err" || fail "ferry tail --where novalue: exit $rc"

# The input type in a config: validate accepts it; a bad regex is refused by validate and
# run alike (exit 1), naming its line and key.
tail_config() { # REGEX
  cat > "$WORK/cfg.yaml" <<YAML
inputs:
  - type: tail
    path: [ "$WORK/*.log", "$WORK/other/*.txt" ]
    exclude_path: "*.gz"
    parser: regex
    regex: '$1'
    multiline: { preset: java, timeout: 3s }
outputs:
  - type: null
YAML
}
tail_config '(?P<msg>.*)'
"$FERRY_BIN" validate -c "$WORK/cfg.yaml" > "$WORK/validate.out" 2>&1 || { cat "$WORK/validate.out"; fail "validate refused a tail section"; }
tail_config '(?P<msg>.*'
rc=0; "$FERRY_BIN" validate -c "$WORK/cfg.yaml" > "$WORK/validate.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$WORK/validate.out"; fail "validate exited $rc on an invalid regex, expected 1"; }
rc=0; timeout 20 "$FERRY_BIN" run -c "$WORK/cfg.yaml" > /dev/null 2> "$WORK/run.err" || rc=$?
[ "$rc" = 1 ] || fail "ferry run exited $rc on an invalid regex, expected 1"
grep -q "cfg.yaml:6: inputs\[0\]\.regex: " "$WORK/run.err" || { cat "$WORK/run.err"; fail "the error does not name the regex option"; }
pass "ferry tail: --json/--parser, autodetected JSON/logfmt/text with their own time and level, --level, --where, two files labelled, files created later, SIGINT/SIGTERM exit 0; tail config validated, a bad regex refused by validate and run"
