#!/usr/bin/env bash
# Bounded configs: YAML alias bombs (a flat list of aliases to a long scalar, and the nested
# "billion laughs"), from a file and from FERRY_CONFIG_YAML, are refused by `validate` and
# `run` with exit 1 and "too many aliases expanded" naming the line, quickly and in little
# memory; a config file over 4 MiB is refused too.
source "$(dirname "$0")/lib.sh"

TIME=/usr/bin/time
[ -x "$TIME" ] || fail "$TIME (GNU time) is needed to measure peak memory"
MAX_RSS_KB=$((100 * 1024))
MAX_SECONDS=2

# 116 KB: 28,000 aliases to a 4,000-byte path, 112 MB once expanded (over 3 minutes and
# 470 MB at validate, and 490 MB at run, before the bound).
"$E2E_PYTHON" - "$WORK/flat.yaml" <<'PY'
import sys
text = ("inputs:\n  - type: stdin\n  - type: tail\n    path: &p /nonexistent/" + "x" * 4000 +
        "\n  - type: tail\n    tag: more\n    path: [" + ", ".join(["*p"] * 28000) +
        "]\noutputs:\n  - type: stdout\n")
open(sys.argv[1], "w").write(text)
PY
# 10^10 scalars from 700 bytes.
"$E2E_PYTHON" - "$WORK/laughs.yaml" <<'PY'
import sys
text = "inputs:\n  - type: stdin\n    tag: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
text += "filters:\n  - type: add_fields\n    fields:\n"
for i in range(1, 10):
    text += f"      l{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]\n"
text += "outputs:\n  - type: stdout\n"
open(sys.argv[1], "w").write(text)
PY

# CMD... : runs it under GNU time; sets RC, OUT (stderr without time's line), SECS, RSS_KB.
measured() {
  RC=0
  timeout 60 "$TIME" -f 'measured %e %M' -o "$WORK/time.txt" "$@" </dev/null >/dev/null \
    2>"$WORK/err.txt" || RC=$?
  OUT=$(cat "$WORK/err.txt")
  read -r _ SECS RSS_KB < <(grep "^measured " "$WORK/time.txt") || fail "no measurement: $(cat "$WORK/time.txt")"
}

# NAME LINE_REGEX CMD...: exit 1, the message, fast and small.
expect_bounded() {
  local name=$1 regex=$2; shift 2
  measured "$@"
  [ "$RC" = 1 ] || fail "$name: exit $RC (expected 1): ${OUT:0:400}"
  grep -Eq "$regex" <<<"$OUT" || fail "$name: no /$regex/ in: ${OUT:0:400}"
  awk -v s="$SECS" -v max="$MAX_SECONDS" 'BEGIN { exit !(s <= max) }' ||
    fail "$name: took $SECS s (limit $MAX_SECONDS s)"
  [ "$RSS_KB" -le "$MAX_RSS_KB" ] || fail "$name: peak RSS $RSS_KB KB (limit $MAX_RSS_KB KB)"
  pass "$name: exit 1 in $SECS s, peak RSS $RSS_KB KB: $(grep -E "$regex" <<<"$OUT" | head -1)"
}

flat_msg='too many aliases expanded \(limit 4MiB of text'
laughs_msg='too many aliases expanded \(limit 100000 nodes'
for cmd in validate run; do
  expect_bounded "flat aliases, file, $cmd" "flat\.yaml:7: $flat_msg" "$FERRY_BIN" "$cmd" -c "$WORK/flat.yaml"
  expect_bounded "flat aliases, FERRY_CONFIG_YAML, $cmd" "FERRY_CONFIG_YAML:7: $flat_msg" \
    env FERRY_CONFIG_YAML="$(cat "$WORK/flat.yaml")" "$FERRY_BIN" "$cmd"
  expect_bounded "billion laughs, file, $cmd" "laughs\.yaml:10: $laughs_msg" "$FERRY_BIN" "$cmd" -c "$WORK/laughs.yaml"
  expect_bounded "billion laughs, FERRY_CONFIG_YAML, $cmd" "FERRY_CONFIG_YAML:10: $laughs_msg" \
    env FERRY_CONFIG_YAML="$(cat "$WORK/laughs.yaml")" "$FERRY_BIN" "$cmd"
done

# Over 4 MiB: refused as the file is read (a comment, so nothing else could refuse it).
{ printf 'inputs:\n  - type: stdin\noutputs:\n  - type: stdout\n'; head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' '#'; echo; } > "$WORK/big.yaml"
for cmd in validate run; do
  expect_bounded "4 MiB file, $cmd" "big\.yaml: cannot read the config file: larger than 4MiB" \
    "$FERRY_BIN" "$cmd" -c "$WORK/big.yaml"
done

# The same config with a few aliases (the way YAML users share a list) is fine.
cat > "$WORK/shared.yaml" <<'YAML'
inputs:
  - type: stdin
    tag: &tag app
filters:
  - type: add_fields
    match: *tag
    fields: &fields { env: prod, team: logs }
  - type: add_fields
    fields: *fields
outputs:
  - type: stdout
    match: *tag
YAML
out=$("$FERRY_BIN" validate -c "$WORK/shared.yaml" 2>&1) || fail "a config with a few aliases was refused: $out"
grep -q 'team: logs' <<<"$out" || fail "the aliased fields are missing: $out"
pass "a few aliases are fine"
