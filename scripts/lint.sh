#!/usr/bin/env bash
# Style that checks itself (run by `scripts/dev.sh test` after the main build):
#   1. clang-format: every C++ file of the tree is as .clang-format lays it out (Debian's
#      clang-format, 14 on Debian 12); `scripts/lint.sh --fix` rewrites them in place instead.
#   2. clang-tidy (19, Debian's clang-tidy-19: older ones cannot parse GCC 12's <expected>):
#      .clang-tidy's checks over every translation unit of lib/, daemon/ and plugins/ in
#      BUILD/compile_commands.json. Warnings are errors.
# Usage: scripts/lint.sh [--fix] [BUILD_DIR]   (BUILD_DIR default build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FIX=0
if [ "${1:-}" = --fix ]; then FIX=1; shift; fi
BUILD=${1:-build}
JOBS=${JOBS:-$(nproc)}

mapfile -t files < <(git ls-files '*.cc' '*.h' ':!:tests/data/**')
if [ "$FIX" = 1 ]; then
  clang-format -i "${files[@]}"
  echo "lint: formatted ${#files[@]} files"
  exit 0
fi
if ! clang-format --dry-run -Werror "${files[@]}" 2> "$BUILD/format.log"; then
  grep -E '^[^ ]+:[0-9]+:[0-9]+: error' "$BUILD/format.log" | cut -d: -f1 | sort -u | sed 's/^/lint: not formatted: /'
  head -n 40 "$BUILD/format.log"
  echo "lint: clang-format found files not laid out as .clang-format says (scripts/lint.sh --fix)"
  exit 1
fi
echo "lint: clang-format: ${#files[@]} files formatted"

# rapidjson 1.1 (Debian 12) defines an assignment to a const member that clang 19 refuses to
# parse; clang-tidy reads a copy of its headers without that one line (GCC never sees it).
shadow="$ROOT/$BUILD/tidy-include"
rm -rf "$shadow" && mkdir -p "$shadow" && cp -r /usr/include/rapidjson "$shadow/"
sed -i '/GenericStringRef& operator=(const GenericStringRef& rhs)/d' "$shadow/rapidjson/document.h"
start=$(date +%s)
rc=0
run-clang-tidy-19 -p "$BUILD" -j "$JOBS" -quiet -extra-arg=-Wno-unknown-warning-option \
  -extra-arg=-Wno-deprecated-declarations -extra-arg-before="-isystem$shadow" \
  "$ROOT/(lib|daemon|plugins)/" > "$BUILD/tidy.log" 2>&1 || rc=$?
units=$(grep -c 'clang-tidy-19 ' "$BUILD/tidy.log" || true)
if [ "$rc" != 0 ]; then
  sed 's/\x1b\[[0-9;]*m//g' "$BUILD/tidy.log" | grep -a -A3 -E '(error|warning): ' | head -n 80
  echo "lint: clang-tidy failed ($units units, exit $rc; the whole log is $BUILD/tidy.log)"
  exit 1
fi
echo "lint: clang-tidy: $units units clean in $(( $(date +%s) - start )) s"
