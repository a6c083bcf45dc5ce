#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (README's two commands):
#   scripts/dev.sh run    install what is needed, build, run ferry on its embedded default config
#   scripts/dev.sh test   install what is needed, build, run the whole test suite (CI runs this)
#   scripts/dev.sh bench  build (Release) and run bench/e2e
#   scripts/dev.sh image  build the container image and smoke-test it (scripts/image.sh)
# Idempotent: packages already present are not reinstalled, builds are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-$(nproc)}

# prometheus brings promtool and lintian checks the .deb (both for the tests); on a machine
# running systemd, installing prometheus also starts its server on :9090.
APT_PACKAGES=(build-essential cmake ninja-build pkg-config git ca-certificates curl procps time python3
  libyaml-cpp-dev rapidjson-dev libmsgpack-cxx-dev libfmt-dev libcurl4-openssl-dev zlib1g-dev
  libzstd-dev libdeflate-dev libssl-dev libre2-dev libpcre2-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  dpkg-dev systemd prometheus lintian tmux netcat-openbsd
  clang-format clang-tidy-19)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_deps() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  # Node.js and npm run the real protocol peers of the end-to-end tests.
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "dev.sh: installing ${missing[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# run_ctest DIR [ctest args...]: runs ctest in DIR, keeps its output in DIR/ctest.log and adds
# its counts to PASSED/FAILED for the closing line (CI reads "N passed, N failed").
PASSED=0
FAILED=0
run_ctest() {
  local dir=$1; shift
  local rc=0
  (cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$dir/ctest.log" || rc=$?
  local total failed
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$dir/ctest.log" | tail -1)
  failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$dir/ctest.log" | tail -1)
  PASSED=$(( PASSED + ${total:-0} - ${failed:-0} ))
  FAILED=$(( FAILED + ${failed:-0} ))
  # A test that failed once and passed when run again is named, to be fixed, not hidden.
  grep -o 'Test *#[0-9]*: [^ ]* \.*\**Failed' "$dir/ctest.log" | sed 's/ \.*\**Failed//; s/^/dev.sh: failed at first: /' |
    sort -u || true
  if [ "$rc" != 0 ] || [ -z "$total" ] || [ "$total" = 0 ]; then
    # The failed tests' own output once more at the end, where a reader of the tail sees it.
    local name
    for name in $(sed -n 's/^[0-9]*:\(.*\)$/\1/p' "$dir/Testing/Temporary/LastTestsFailed.log" 2>/dev/null); do
      echo "dev.sh: the end of $name's output:"
      awk -v t="Test: $name" '$0 ~ t"$" {on = 1; block = ""} on && /^<end of output>/ {on = 0}
        on {block = block $0 "\n"} END {printf "%s", block}' "$dir/Testing/Temporary/LastTest.log" |
        tail -n 25
    done
    echo "dev.sh: ctest in $dir failed (exit $rc, ${total:-no} tests)"
    echo "tests: $PASSED passed, $(( FAILED > 0 ? FAILED : 1 )) failed"
    exit 1
  fi
}

install_npm() {
  if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package.json -nt tests/e2e/node_modules ]; then
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
}

build() { # build DIR [cmake args...]
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja "$@"
  fi
  cmake --build "$dir" -j "$JOBS"
}

cmd=${1:-}
case "$cmd" in
  run)
    install_deps
    # Only what runs: the daemon and its plugins, in a build dir of its own. The test suites
    # (most of a fresh build's compile time) and the benchmarks are left out.
    build build-run -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF
    shift
    exec build-run/bin/ferry run "$@"
    ;;
  test)
    install_deps
    install_npm
    start=$(date +%s)
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    run_ctest build -j "$JOBS" --timeout 600 --repeat until-pass:2
    # Style that checks itself: clang-format and clang-tidy over build/compile_commands.json
    # (scripts/lint.sh). Counted as one test, and a failure fails the command as a stage does.
    lint_start=$(date +%s)
    bash scripts/lint.sh build || { echo "tests: $PASSED passed, $((FAILED + 1)) failed"; exit 1; }
    PASSED=$(( PASSED + 1 ))
    echo "dev.sh: lint stage passed in $(( $(date +%s) - lint_start )) s"
    # Unit tests once more under AddressSanitizer + UndefinedBehaviorSanitizer.
    # Only what the unit tests need (they load the real plugins): the daemon and e2e are not
    # rebuilt here.
    if [ ! -f build-asan/build.ninja ]; then
      cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=address,undefined \
        -DFERRY_BUILD_BENCH=OFF
    fi
    plugin_targets=()
    for d in plugins/*/; do plugin_targets+=("ferry_plugin_$(basename "$d")"); done
    cmake --build build-asan -j "$JOBS" --target ferry_unit_tests ferry_core_tests ferry_test_plugins \
      "${plugin_targets[@]}"
    ASAN_OPTIONS=detect_leaks=1 run_ctest build-asan -j "$JOBS" -L 'unit|core' --timeout 600 --repeat until-pass:2
    # The ring and the router under ThreadSanitizer.
    if [ ! -f build-tsan/build.ninja ]; then
      cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=thread \
        -DFERRY_BUILD_BENCH=OFF -DFERRY_CORE_TESTS_ONLY=ON
    fi
    cmake --build build-tsan -j "$JOBS" --target ferry_core_tests
    TSAN_OPTIONS=halt_on_error=1 run_ctest build-tsan -L core --timeout 600
    # The forward decoder under libFuzzer for a bounded time, from the seed corpus (a copy:
    # libFuzzer adds what it finds to its first corpus directory).
    if [ ! -f build-fuzz/build.ninja ]; then
      CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DFERRY_BUILD_FUZZ=ON -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF
    fi
    cmake --build build-fuzz -j "$JOBS" --target forward_decoder_fuzz
    rm -rf build-fuzz/corpus-forward && cp -r tests/fuzz/corpus/forward build-fuzz/corpus-forward
    (cd build-fuzz && ./bin/forward_decoder_fuzz -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 \
      -artifact_prefix=fuzz-crash- corpus-forward 2>&1 | tail -n 5)
    # The container image, built from this build and smoke-tested as ECS runs it.
    bash scripts/image.sh | tee build/image-stage.log || { echo "tests: $PASSED passed, $((FAILED + 1)) failed"; exit 1; }
    PASSED=$(( PASSED + $(sed -n 's/^image: \([0-9]*\) passed.*/\1/p' build/image-stage.log) ))
    echo "dev.sh: all test stages passed in $(( $(date +%s) - start )) s"
    # The closing line CI reads: every ctest stage's count (unit + e2e, ASan, TSan).
    echo "tests: $PASSED passed, $FAILED failed"
    ;;
  bench)
    install_deps
    install_npm
    build build-release -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF
    shift
    exec bash bench/e2e/run.sh build-release "$@"
    ;;
  image)
    install_deps
    install_npm
    exec bash scripts/image.sh
    ;;
  *)
    echo "usage: scripts/dev.sh run|test|bench|image" >&2
    exit 1
    ;;
esac
