#!/usr/bin/env bash
# `ferry validate`: a good config prints the resolved config with secrets masked and exits 0;
# each kind of bad config exits 1 with a message naming file, line and key.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/good.yaml" <<'YAML'
service:
  log_level: ${LOG_LEVEL:-warn}
  grace_period: 10s
inputs:
  - type: stdin
    tag: ${APP_TAG}
outputs:
  - type: file
    match: "*"
    path: ${OUT_DIR:-/tmp}/out.jsonl
    retry: { max_attempts: 5, initial_backoff: 500ms, max_backoff: 30s }
    buffer: { max_bytes: 64MiB }
YAML
out=$(APP_TAG=web "$FERRY_BIN" validate -c "$WORK/good.yaml" 2>&1) || fail "good config refused: $out"
grep -q "web" <<<"$out" || fail "resolved tag missing from validate output: $out"
grep -q "warn" <<<"$out" || fail "default not applied: $out"
pass "good config validates"

expect_error() { # NAME EXPECTED_REGEX YAML [ENV...]
  local name=$1 regex=$2 yaml=$3; shift 3
  printf '%s\n' "$yaml" > "$WORK/$name.yaml"
  local rc=0 out
  out=$(env "$@" "$FERRY_BIN" validate -c "$WORK/$name.yaml" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "$name: expected exit 1, got $rc: $out"
  grep -Eq "$regex" <<<"$out" || fail "$name: message does not match /$regex/: $out"
  pass "$name → $(grep -E "$regex" <<<"$out" | head -1)"
}

expect_error unknown_key "unknown_key\.yaml:5:.*outputs\[0\]\.colour" 'inputs:
  - type: stdin
outputs:
  - type: stdout
    colour: red'
expect_error missing_var "missing_var\.yaml:3:.*inputs\[0\]\.tag.*NOT_SET_ANYWHERE" 'inputs:
  - type: stdin
    tag: ${NOT_SET_ANYWHERE}
outputs:
  - type: stdout'
expect_error bad_size "bad_size\.yaml:6:.*buffer\.max_bytes" 'inputs:
  - type: stdin
outputs:
  - type: stdout
    buffer:
      max_bytes: 12 potatoes'
expect_error bad_duration "bad_duration\.yaml:2:.*grace_period" 'service:
  grace_period: soon
inputs:
  - type: stdin
outputs:
  - type: stdout'
expect_error wrong_type "wrong_type\.yaml:3:.*inputs\[0\]\.tag" 'inputs:
  - type: stdin
    tag: { a: b }
outputs:
  - type: stdout'
expect_error unknown_output "unknown_output\.yaml:4:.*kafka" 'inputs:
  - type: stdin
outputs:
  - type: kafka'
expect_error required_message "required_message\.yaml:3:.*give the tag" 'inputs:
  - type: stdin
    tag: ${TAG_X:?give the tag}
outputs:
  - type: stdout'
expect_error bad_yaml "bad_yaml\.yaml:[0-9]+" 'inputs:
  - type: stdin
   tag: [unclosed'

# Several errors are all reported, not just the first.
printf 'inputs:\n  - type: stdin\n    bogus1: 1\noutputs:\n  - type: stdout\n    bogus2: 2\n' > "$WORK/multi.yaml"
out=$("$FERRY_BIN" validate -c "$WORK/multi.yaml" 2>&1) && fail "multi-error config accepted"
grep -q bogus1 <<<"$out" && grep -q bogus2 <<<"$out" || fail "not every error reported: $out"
pass "all errors reported at once"

# Config from FERRY_CONFIG_YAML, and -c wins over it.
out=$(FERRY_CONFIG_YAML=$'inputs:\n  - type: stdin\n    tag: from-env\noutputs:\n  - type: stdout' "$FERRY_BIN" validate 2>&1) || fail "FERRY_CONFIG_YAML refused: $out"
grep -q from-env <<<"$out" || fail "FERRY_CONFIG_YAML not used: $out"
out=$(APP_TAG=cli FERRY_CONFIG_YAML='inputs: [' "$FERRY_BIN" validate -c "$WORK/good.yaml" 2>&1) || fail "-c did not win over FERRY_CONFIG_YAML: $out"
pass "config sources"

# Usage errors exit 1.
rc=0; "$FERRY_BIN" frobnicate >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "unknown command exited $rc"
"$FERRY_BIN" version | grep -q '^ferry ' || fail "version"
"$FERRY_BIN" run --help | grep -q 'Usage: ferry run' || fail "run --help"
pass "usage"
