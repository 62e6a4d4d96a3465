#!/bin/bash
# The full live kill matrix: every switch `hubsim serve --list-breaks` lists, armed on a served hub on loopback, its rule's cases run live; prints the table and the figures docs/live.md quotes.
# Usage: bash scripts/live-kill-matrix.sh [BUILD_DIR] [SWITCH,SWITCH...]   (default: build, all switches)
# Exit 0 when every switch ran; the suite's fixed subset (test_live_kills) is what gates.
set -u
BUILD=${1:-build}
ONLY=${2:-all}
cd "$(dirname "$0")/.."
SRC=$(pwd)
case $BUILD in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
cmake --build "$BUILD" -j2 --target hubsim test_live_kills >/dev/null || exit 3
echo "== live kill matrix against hubsim serve on loopback ($ONLY)"
start=$(date +%s)
HUBSIM_LIVE_KILLS="$ONLY" HUBSIM_BIN="$BUILD/hubsim" HUBSIM_SOURCE_DIR="$SRC" HUBSIM_BUILD_DIR="$BUILD" \
  "$BUILD/test_live_kills" | grep -v '^\[' | tee "${TMPDIR:-/tmp}/live-kill-matrix.txt"
rc=${PIPESTATUS[0]}
out="${TMPDIR:-/tmp}/live-kill-matrix.txt"
echo
echo "== by class (killed = the same kill as in-process; not-live = the killing cases SKIP live or differ live already)"
for k in killed not-live SURVIVED NO-SERVE; do
  printf '%-9s %s\n' "$k" "$(grep -c "^$k " "$out")"
done
echo "not-live, by reason:"
grep '^not-live ' "$out" | sed -E 's/.*lacks a capability the case needs \(([^)]*)\).*/\1/; s/.*is red live on the unbroken hub.*/a known live difference/; s/.*no case kills it in-process.*/not killed in-process either/' | sort | uniq -c
echo "wall time: $(( $(date +%s) - start )) s"
exit "$rc"
