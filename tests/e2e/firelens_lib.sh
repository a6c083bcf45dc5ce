# The FireLens corpus (shared/testdata/firelens/configs, beside the clone: CI checks out
# ../shared next to the repository). FERRY_FIRELENS_CORPUS overrides. Sourced after lib.sh.
firelens_corpus() {
  local dir="${FERRY_FIRELENS_CORPUS:-$FERRY_SOURCE_DIR/../shared/testdata/firelens/configs}"
  [ -d "$dir" ] || fail "the FireLens corpus is not at $dir (check out shared/ beside the repository, or set FERRY_FIRELENS_CORPUS)"
  (cd "$dir" && pwd)
}

# (firelens_in DIR CMD...): CMD run in the config folder DIR with the folder's ENV exported,
# as the ECS agent runs Fluent Bit there. It execs CMD: call it in a subshell, as shown; then
# `$!` of `(firelens_in ...) &` is CMD's own PID.
firelens_in() {
  local dir=$1; shift
  set -a; source "$dir/ENV"; set +a
  cd "$dir" && exec "$@"
}
