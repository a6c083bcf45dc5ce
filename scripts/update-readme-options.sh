#!/usr/bin/env bash
# Regenerates README.md's option reference (between the options:begin/end markers) from
# `ferry options --markdown`, the same tables ferry validates configs with, and each sink's
# plugins/<type>/README.md options block from `ferry options --markdown <type>`.
#   scripts/update-readme-options.sh [FERRY_BIN]      (default: build/bin/ferry)
# tests/e2e/readme_options_test.sh fails when the README is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY=${1:-build/bin/ferry}
python3 - "$FERRY" <<'PY'
import glob, os, subprocess, sys
begin, end = "<!-- options:begin -->\n", "<!-- options:end -->"
def regenerate(path, *types):
    ref = subprocess.run([sys.argv[1], "options", "--markdown", *types], check=True,
                         capture_output=True, text=True).stdout
    text = open(path, encoding="utf-8").read()
    i, j = text.index(begin) + len(begin), text.index(end)
    open(path, "w", encoding="utf-8").write(text[:i] + ref + text[j:])
regenerate("README.md")
for path in sorted(glob.glob("plugins/*/README.md")):
    if begin in open(path, encoding="utf-8").read():
        regenerate(path, os.path.basename(os.path.dirname(path)))
PY
