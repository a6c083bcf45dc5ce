#!/usr/bin/env bash
# Regenerates README.md's option reference (between the options:begin/end markers) from
# `ferry options --markdown`, the same tables ferry validates configs with.
#   scripts/update-readme-options.sh [FERRY_BIN]      (default: build/bin/ferry)
# tests/e2e/readme_options_test.sh fails when the README is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY=${1:-build/bin/ferry}
python3 - "$FERRY" <<'PY'
import subprocess, sys
ref = subprocess.run([sys.argv[1], "options", "--markdown"], check=True, capture_output=True, text=True).stdout
text = open("README.md", encoding="utf-8").read()
begin, end = "<!-- options:begin -->\n", "<!-- options:end -->"
i, j = text.index(begin) + len(begin), text.index(end)
open("README.md", "w", encoding="utf-8").write(text[:i] + ref + text[j:])
PY
