# The FireLens corpus (shared/testdata/firelens/configs, beside the clone: CI checks out
# ../shared next to the repository). FERRY_FIRELENS_CORPUS overrides. Sourced after lib.sh.
firelens_corpus() {
  local dir="${FERRY_FIRELENS_CORPUS:-$FERRY_SOURCE_DIR/../shared/testdata/firelens/configs}"
  [ -d "$dir" ] || fail "the FireLens corpus is not at $dir (check out shared/ beside the repository, or set FERRY_FIRELENS_CORPUS)"
  (cd "$dir" && pwd)
}
