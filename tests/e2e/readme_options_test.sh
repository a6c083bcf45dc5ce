#!/usr/bin/env bash
# README.md's option reference, and each plugins/<type>/README.md options block, must be
# exactly what `ferry options --markdown` prints (the tables configs are validated with), so
# the documentation cannot drift from the code.
# Fix a failure with scripts/update-readme-options.sh.
source "$(dirname "$0")/lib.sh"
"$FERRY_BIN" options --markdown > "$WORK/ref.md" || fail "ferry options failed"
for t in stdin forward tail tcp datadog firehose s3 stdout file null add_fields grep concat_partial; do
  grep -q "^#### [a-z]* \`$t\`\$" "$WORK/ref.md" || fail "ferry options does not describe $t"
done
python3 - "$FERRY_SOURCE_DIR/README.md" "$WORK/ref.md" <<'PY' || fail "README option reference is out of date: run scripts/update-readme-options.sh"
import sys
text = open(sys.argv[1], encoding="utf-8").read()
begin, end = "<!-- options:begin -->\n", "<!-- options:end -->"
block = text[text.index(begin) + len(begin):text.index(end)]
ref = open(sys.argv[2], encoding="utf-8").read()
if block != ref:
    import difflib
    sys.stderr.writelines(list(difflib.unified_diff(block.splitlines(True), ref.splitlines(True), "README", "ferry options"))[:40])
    sys.exit(1)
PY
# Each sink's own README holds its options block, generated the same way from its table.
for readme in "$FERRY_SOURCE_DIR"/plugins/*/README.md; do
  t=$(basename "$(dirname "$readme")")
  "$FERRY_BIN" options --markdown "$t" > "$WORK/$t.md" || fail "ferry options $t failed"
  python3 - "$readme" "$WORK/$t.md" <<'PY' || fail "$readme option block is out of date: run scripts/update-readme-options.sh"
import sys
text = open(sys.argv[1], encoding="utf-8").read()
begin, end = "<!-- options:begin -->\n", "<!-- options:end -->"
if begin not in text:
    sys.exit(sys.argv[1] + ": no options:begin/end block")
block = text[text.index(begin) + len(begin):text.index(end)]
ref = open(sys.argv[2], encoding="utf-8").read()
if block != ref:
    import difflib
    sys.stderr.writelines(list(difflib.unified_diff(block.splitlines(True), ref.splitlines(True), sys.argv[1], "ferry options"))[:40])
    sys.exit(1)
PY
done
"$FERRY_BIN" options no_such_type 2>/dev/null && fail "an unknown type was accepted"
pass "README option reference matches ferry options"
