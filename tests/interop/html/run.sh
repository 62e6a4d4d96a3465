#!/bin/bash
# Headless-browser test of a hubsim HTML report: installs playwright-core (pinned, from the
# committed lockfile) into OUTDIR, then runs check-report.mjs in Debian's /usr/bin/chromium.
# Usage: tests/interop/html/run.sh REPORT.html OUTDIR
# Exit: 0 all checks passed; 1 a check failed; 2 usage error or missing chromium/node/npm.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 2 ]; then
  echo "usage: $0 REPORT.html OUTDIR" >&2
  exit 2
fi
report=$1
out=$2
[ -f "$report" ] || { echo "html-report: $report does not exist" >&2; exit 2; }
for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "html-report: $tool not found (Debian package nodejs/npm)" >&2; exit 2; }
done
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
chromium=${HUBSIM_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "html-report: $chromium not found; install it: apt-get install -y chromium" >&2; exit 2; }

# The lockfile must pin versions and integrity only: no download addresses
# (omit-lockfile-registry-resolved in .npmrc), and no file here names a host.
if grep -q '"resolved"' "$here/package-lock.json" ||
   grep -Eq 'https?://|registry=' "$here/package-lock.json" "$here/package.json" "$here/.npmrc"; then
  echo "html-report: package-lock.json/package.json/.npmrc must not carry resolved URLs or registry hosts" >&2
  exit 2
fi

# The npm environment lives in the build folder, never in the source tree.
env_dir=$out/npm-env
mkdir -p "$env_dir"
for f in package.json package-lock.json .npmrc check-report.mjs; do
  cp "$here/$f" "$env_dir/$f"
done
stamp=$env_dir/node_modules/.hubsim-lock
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
  if ! (cd "$env_dir" && npm ci --no-audit --no-fund --loglevel=error >"$out/npm-ci.log" 2>&1); then
    echo "html-report: npm ci failed (log: $out/npm-ci.log)" >&2
    tail -5 "$out/npm-ci.log" >&2
    exit 2
  fi
  cp "$here/package-lock.json" "$stamp"
fi
exec node "$env_dir/check-report.mjs" "$report" "$out"
