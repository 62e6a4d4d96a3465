#!/bin/bash
# The README's test command (via `make test`): -Werror builds, unit tests under
# ASan+UBSan, again plain with coverage (gcovr summary), the golden-hash tests
# in gcc -O2 and clang builds, then one closing line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"
total_pass=0
total_fail=0

configure_build() { # name compiler extra-cmake-args...
  local name=$1 cc=$2; shift 2
  local dir=$ROOT/build/$name
  echo "== build $name ($cc $*)"
  if ! CC=$cc cmake -S "$ROOT" -B "$dir" -DHUBSIM_WERROR=ON "$@" >"$LOGDIR/$name-configure.log" 2>&1; then
    cat "$LOGDIR/$name-configure.log"; return 1
  fi
  if ! cmake --build "$dir" -j"$JOBS" >"$LOGDIR/$name-build.log" 2>&1; then
    grep -E "error|warning" "$LOGDIR/$name-build.log" | head -40; return 1
  fi
}

# Runs ctest in a build and adds its cmocka case counts to the totals.  An
# executable that failed without a cmocka summary (a crash, a sanitizer
# abort) counts as one failed case.
run_suite() { # name [ctest args...]
  local name=$1; shift
  local dir=$ROOT/build/$name log=$LOGDIR/$name-ctest.log
  echo "== test $name"
  (cd "$dir" && ctest -V --timeout 600 "$@") >"$log" 2>&1
  local counts
  counts=$(awk '
    /^[0-9]+: \[  PASSED  \] [0-9]+ test/ { split($0, a, "] "); split(a[2], b, " "); pass += b[1] }
    /^[0-9]+: \[  FAILED  \] [0-9]+ test/ { split($0, a, "] "); split(a[2], b, " "); fail += b[1]; n=$1; sub(":", "", n); counted[n]=1 }
    /^[ \t]+[0-9]+ - .*\((Failed|SEGFAULT|Subprocess aborted|Timeout|Exception|Not Run|Child aborted|ILLEGAL|BUS|OTHER_FAULT|Subprocess killed)/ { n=$1; if (!(n in counted)) crashed++ }
    END { printf "%d %d\n", pass, fail + crashed }' "$log")
  local p=${counts% *} f=${counts#* }
  grep -E "^[0-9]+: \[  FAILED  \]|^[0-9]+: \[  ERROR   \]|tests passed|The following tests FAILED|^\s+[0-9]+ - " "$log" | sed 's/^/   /'
  echo "   $name: $p passed, $f failed (log: ${log#$ROOT/})"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

build_failed() { echo "   build $1 failed"; total_fail=$((total_fail + 1)); }

if configure_build asan gcc -DCMAKE_BUILD_TYPE=Debug -DHUBSIM_SANITIZE=ON; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_suite asan
  # The HTML report in Debian's headless chromium (playwright-core from the
  # committed lockfile): filters clicked, no network request, a screenshot.
  echo "== html report (headless chromium)"
  for kind in conformance scenario; do
    log=$LOGDIR/html-$kind.log
    bash tests/interop/html/run.sh "build/asan/report-sample/$kind/report.html" "build/html-report/$kind" >"$log" 2>&1
    rc=$?
    line=$(grep -E '^html-report: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    if [ -n "$line" ]; then
      set -- $line; total_pass=$((total_pass + $2)); total_fail=$((total_fail + $4))
    fi
    if [ $rc -ne 0 ] && [ -z "$line" ]; then total_fail=$((total_fail + 1)); fi
    echo "   html $kind: ${line:-no result (exit $rc), see ${log#$ROOT/}}"
  done
  # The served hub against the official Azure IoT Node SDKs (npm ci from the
  # committed lockfile), in a private network namespace on the standard ports.
  echo "== sdk interop (official Node SDKs against hubsim serve)"
  log=$LOGDIR/sdk-interop.log
  HUBSIM_SDK_OUT=$ROOT/build/sdk-interop bash tests/interop/sdk/run.sh build/asan/hubsim >"$log" 2>&1
  rc=$?
  line=$(grep -E '^sdk-interop: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -n "$line" ]; then
    set -- $line; total_pass=$((total_pass + $2)); total_fail=$((total_fail + $4))
  fi
  if [ $rc -ne 0 ] && [ -z "$line" ]; then total_fail=$((total_fail + 1)); fi
  echo "   ${line:-sdk-interop: no result (exit $rc), see ${log#$ROOT/}}"
  grep -E '^not ok' "$ROOT/build/sdk-interop/results.tap" 2>/dev/null | sed 's/^/   /'
else build_failed asan; fi

if configure_build cov gcc -DCMAKE_BUILD_TYPE=Debug -DHUBSIM_COVERAGE=ON; then
  find build/cov -name '*.gcda' -delete
  HUBSIM_PLAIN_PASS=1 run_suite cov
  echo "== coverage (gcovr, lines)"
  gcovr -r "$ROOT" --object-directory build/cov -e 'tests/' -e 'bench/' -e 'build/' \
    --print-summary -o "$LOGDIR/coverage.txt" 2>/dev/null | sed 's/^/   /'
else build_failed cov; fi

# The routing parser/evaluator fuzzer (libFuzzer, clang), bounded in CI;
# `make fuzz` runs it longer.
echo "== fuzz MQTT decoder, routing parser and evaluator (${FUZZ_SECONDS:-30} s each)"
if bash scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-30}" >"$LOGDIR/fuzz.log" 2>&1; then
  echo "   fuzz: 2 passed, 0 failed (mqtt, routing: $(grep -oE 'Done [0-9]+ runs' "$LOGDIR/fuzz.log" | grep -oE '[0-9]+' | paste -sd/) runs, no crash)"
  total_pass=$((total_pass + 2))
else
  echo "   fuzz: crash or build failure, see ${LOGDIR#$ROOT/}/fuzz.log"; tail -20 "$LOGDIR/fuzz.log"
  total_fail=$((total_fail + 1))
fi

# The golden trace hashes must agree across compilers and optimisation levels.
if configure_build o2 gcc -DCMAKE_BUILD_TYPE=Release; then run_suite o2 -L golden; else build_failed o2; fi
if configure_build clang clang -DCMAKE_BUILD_TYPE=Release; then run_suite clang -L golden; else build_failed clang; fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
