#!/usr/bin/env bash
# stdin → stdout and stdin → file: 100,000 lines (quotes, backslashes, tabs, control
# characters, multi-byte UTF-8, empty and long lines) arrive complete, in order, unchanged;
# invalid UTF-8 arrives as valid JSON with U+FFFD. ferry exits 0 at end of input.
source "$(dirname "$0")/lib.sh"

python3 - "$WORK/in.txt" <<'PY'
import sys, random
rnd = random.Random(7)
specials = ['say "hi"', 'back\\slash', 'tab\there', 'bell\x07 and esc\x1b[0m', 'caf\u00e9 \u6771\u4eac \U0001F680',
            '', '{"json":"inside","n":1}', 'x' * 5000, '   leading and trailing   ']
with open(sys.argv[1], 'w', encoding='utf-8', newline='\n') as f:
    for i in range(100000):
        if i % 1000 == 0:
            f.write(specials[(i // 1000) % len(specials)] + '\n')
        else:
            f.write('line %d %s\n' % (i, 'abcdefghij' * rnd.randint(0, 20)))
PY

check() { # check OUTPUT_FILE LABEL
  python3 - "$WORK/in.txt" "$1" "$2" <<'PY'
import sys, json
expected = open(sys.argv[1], encoding='utf-8', newline='\n').read().split('\n')[:-1]
got = []
for n, line in enumerate(open(sys.argv[2], encoding='utf-8'), 1):
    rec = json.loads(line)
    assert set(rec) == {'date', 'log'}, f'line {n}: unexpected fields {sorted(rec)}'
    assert rec['date'].endswith('Z') and len(rec['date']) == 30, f'line {n}: bad date {rec["date"]}'
    got.append(rec['log'])
label = sys.argv[3]
assert len(got) == len(expected), f'{label}: {len(got)} records, expected {len(expected)}'
for i, (a, b) in enumerate(zip(expected, got)):
    assert a == b, f'{label}: record {i} changed: {a[:60]!r} -> {b[:60]!r}'
print(f'{label}: {len(got)} records unchanged and in order')
PY
}

cat > "$WORK/stdout.yaml" <<'YAML'
inputs:
  - type: stdin
outputs:
  - type: stdout
YAML
rc=0
timeout 120 "$FERRY_BIN" run -c "$WORK/stdout.yaml" < "$WORK/in.txt" > "$WORK/out-stdout.jsonl" 2> "$WORK/err1.txt" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/err1.txt"; fail "stdin → stdout exited $rc"; }
check "$WORK/out-stdout.jsonl" "stdin → stdout" || fail "stdin → stdout lost or changed records"

cat > "$WORK/file.yaml" <<YAML
inputs:
  - type: stdin
    tag: app
outputs:
  - type: file
    match: app
    path: $WORK/out-file.jsonl
YAML
rc=0
timeout 120 "$FERRY_BIN" run -c "$WORK/file.yaml" < "$WORK/in.txt" 2> "$WORK/err2.txt" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/err2.txt"; fail "stdin → file exited $rc"; }
check "$WORK/out-file.jsonl" "stdin → file" || fail "stdin → file lost or changed records"

# Invalid UTF-8 and a final line without newline.
printf 'ok\n\xff\xfe bad \xc3\x28 end\nlast-no-newline' > "$WORK/bad.txt"
"$FERRY_BIN" run -c "$WORK/stdout.yaml" < "$WORK/bad.txt" > "$WORK/bad.jsonl" 2>/dev/null || fail "invalid UTF-8 run failed"
python3 - "$WORK/bad.jsonl" <<'PY' || fail "invalid UTF-8 was not replaced correctly"
import sys, json
recs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
assert [r['log'] for r in recs] == ['ok', '\ufffd\ufffd bad \ufffd( end', 'last-no-newline'], recs
PY
pass "stdin round trips (stdout, file), invalid UTF-8, final line without newline"

# A writer that pauses with the pipe still open: its lines ship without waiting for more
# input or for the end of input.
cat > "$WORK/slow.yaml" <<YAML
inputs:
  - type: stdin
outputs:
  - type: file
    path: $WORK/out-slow.jsonl
    flush_interval: 200ms
YAML
mkfifo "$WORK/slow-fifo"
"$FERRY_BIN" run -c "$WORK/slow.yaml" < "$WORK/slow-fifo" 2> "$WORK/err-slow.txt" &
slow_pid=$!; PIDS+=("$slow_pid")
exec 5> "$WORK/slow-fifo"
printf 'one\ntwo\nthree\n' >&5
wait_for 5 bash -c "[ \"\$(wc -l < '$WORK/out-slow.jsonl' 2>/dev/null)\" = 3 ]" \
  || { cat "$WORK/err-slow.txt"; fail "lines from a paused writer were held back"; }
exec 5>&-
wait_exit "$slow_pid" 20
[ "$RC" = 0 ] || fail "slow-writer run exited $RC"
pass "lines from a paused writer ship while the pipe stays open"

# The README's first command, as written (the embedded default config: stdin → stdout; its
# forward inputs keep it running, so it is stopped as a user would, with Ctrl-C, after 3 s).
rc=0
out=$(cd "$WORK" && printf 'hello\nworld\n' | env -u FERRY_CONFIG -u FERRY_CONFIG_YAML timeout --preserve-status -s INT 3 "$FERRY_BIN" run 2> "$WORK/err-default.txt") || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/err-default.txt"; fail "ferry run on the default config: exit $rc after Ctrl-C"; }
[ "$(printf '%s\n' "$out" | grep -c -e hello -e world)" = 2 ] || { echo "$out"; fail "default config: hello and world not both printed"; }
pass "the README's stdin example prints both lines"
