#!/bin/sh
# The main job (`make demo`): a demo scenario, then the conformance suite, both
# against the in-process hub, with reports written under OUT.
# Usage: sh scripts/demo.sh HUBSIM_BINARY OUT_DIR
set -u
HUBSIM=${1:-build/release/hubsim}
OUT=${2:-out/demo}
mkdir -p "$OUT/scenario" "$OUT/conformance"
echo "== hubsim run scenarios/demo.json (reports: $OUT/scenario/)"
"$HUBSIM" run scenarios/demo.json --out "$OUT/scenario" --trace "$OUT/scenario/trace.jsonl"
run_rc=$?
conform_rc=0
if "$HUBSIM" conform --help >/dev/null 2>&1; then
  echo
  echo "== hubsim conform --target inproc (reports: $OUT/conformance/)"
  "$HUBSIM" conform --target inproc --out "$OUT/conformance"
  conform_rc=$?
fi
echo
echo "reports written:"
for f in "$OUT"/scenario/report.html "$OUT"/scenario/report.json "$OUT"/scenario/junit.xml \
         "$OUT"/conformance/report.html "$OUT"/conformance/report.json "$OUT"/conformance/junit.xml; do
  [ -f "$f" ] && echo "  $f"
done
[ $run_rc -eq 0 ] && [ $conform_rc -eq 0 ] && exit 0
[ $run_rc -ne 0 ] && exit $run_rc
exit $conform_rc
