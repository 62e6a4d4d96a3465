#!/bin/bash
# Proves `hubsim serve` with the official Azure IoT Node SDKs: starts the served hub on 127.0.0.1 with the
# standard ports (8883, 443, 5671; the SDKs cannot use others) inside a private network namespace
# (`unshare -rn`), runs the node:test files here against it, stops it, and prints
# `sdk-interop: N passed, M failed`.
# Usage: tests/interop/sdk/run.sh HUBSIM [TEST-FILE...]   (default: every *.test.mjs here)
# Env:   HUBSIM_SDK_OUT   folder for serve.log, results.tap, certs (default: a new mktemp folder)
#        HUBSIM_CERT_DIR  folder with ca.pem, server.pem, server.key (default: fixtures/certs, else `hubsim certs`)
#        HUBSIM_SERVE_ARGS extra arguments for `hubsim serve` (e.g. "--break RULE-ID")
#        HUBSIM_SDK_CONFIG hub config for the served hub (default: hub.json here: feedback flushed after 1 s)
# The server runs with --check-clients: the official SDKs must break no CLIENT- rule (report: clients.json/.junit.xml).
# Exit:  0 all passed; 1 a test failed or the server misbehaved; 2 usage error or missing tool.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)

inside=0
if [ "${1:-}" = "--in-netns" ]; then
  inside=1
  shift
fi
if [ $# -lt 1 ]; then
  echo "usage: $0 HUBSIM [TEST-FILE...]" >&2
  exit 2
fi
hubsim=$1
shift
case $hubsim in /*) ;; *) hubsim=$(pwd)/$hubsim ;; esac
[ -x "$hubsim" ] || { echo "sdk-interop: $hubsim is not an executable" >&2; exit 2; }

# ---------------------------------------------------------------- outside: prepare, then enter the namespace
if [ $inside -eq 0 ]; then
  for tool in node npm unshare ip timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "sdk-interop: $tool not found" >&2; exit 2; }
  done
  # The lockfile pins versions and integrity only: no download addresses, no registry host in any file.
  if grep -q '"resolved"' "$here/package-lock.json" ||
     grep -Eq 'registry\.|npmjs|yarnpkg|registry=' "$here/package-lock.json" "$here/package.json" "$here/.npmrc"; then
    echo "sdk-interop: package-lock.json/package.json/.npmrc must not carry resolved URLs or registry hosts" >&2
    exit 2
  fi
  stamp=$here/node_modules/.hubsim-lock
  if [ ! -d "$here/node_modules" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
    if ! (cd "$here" && timeout 600 npm ci --no-audit --no-fund --loglevel=error >/tmp/sdk-interop-npm-ci.$$.log 2>&1); then
      echo "sdk-interop: npm ci failed:" >&2
      tail -20 /tmp/sdk-interop-npm-ci.$$.log >&2
      rm -f /tmp/sdk-interop-npm-ci.$$.log
      exit 2
    fi
    rm -f /tmp/sdk-interop-npm-ci.$$.log
    cp "$here/package-lock.json" "$stamp"
  fi

  out=${HUBSIM_SDK_OUT:-}
  if [ -z "$out" ]; then
    out=$(mktemp -d /tmp/sdk-interop.XXXXXX) || exit 2
  fi
  mkdir -p "$out" || exit 2
  out=$(cd "$out" && pwd)

  certs=${HUBSIM_CERT_DIR:-$repo/fixtures/certs}
  if [ ! -f "$certs/ca.pem" ] || [ ! -f "$certs/server.pem" ] || [ ! -f "$certs/server.key" ]; then
    certs=$out/certs
    if ! timeout 60 "$hubsim" certs "$certs" >"$out/certs.log" 2>&1; then
      echo "sdk-interop: no test certificates and \`hubsim certs $certs\` failed:" >&2
      cat "$out/certs.log" >&2
      exit 2
    fi
  fi
  certs=$(cd "$certs" && pwd)

  # Test files given relative to the caller's folder: make them absolute (the tests run from this folder).
  files=()
  for f in "$@"; do
    case $f in /*) files+=("$f") ;; *) files+=("$(pwd)/$f") ;; esac
  done
  set -- ${files[@]+"${files[@]}"}

  echo "sdk-interop: output in $out"
  export HUBSIM_SDK_OUT=$out HUBSIM_CERT_DIR=$certs
  # A private network namespace where we are root: ports 443/5671/8883 are ours, nothing else sees them.
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner bash
  exec unshare -rn bash -c 'ip link set lo up && exec "$0" --in-netns "$@"' "$here/run.sh" "$hubsim" "$@"
fi

# ---------------------------------------------------------------- inside the namespace
out=$HUBSIM_SDK_OUT
certs=$HUBSIM_CERT_DIR
log=$out/serve.log
tap=$out/results.tap
server=

stop_server() {
  [ -n "$server" ] || return 0
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$server" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server" 2>/dev/null
  fi
  wait "$server" 2>/dev/null
  server_rc=$?
  server=
}
server_rc=0
trap 'stop_server' EXIT
trap 'stop_server; exit 1' INT TERM

# `timeout` bounds the server's life even if this script is killed without running its trap.
# shellcheck disable=SC2086
timeout -k 5 1200 "$hubsim" serve --bind 127.0.0.1 --mqtt-port 8883 --https-port 443 --amqp-port 5671 \
  --admin-port 8080 --cert "$certs/server.pem" --key "$certs/server.key" --seed 1 \
  --config "${HUBSIM_SDK_CONFIG:-$here/hub.json}" --check-clients --json "$out/clients.json" \
  --junit "$out/clients.junit.xml" ${HUBSIM_SERVE_ARGS:-} \
  >"$log" 2>&1 &
server=$!

ready=0
for _ in $(seq 1 300); do # 30 s
  if grep -qx 'ready' "$log" 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ $ready -ne 1 ]; then
  echo "sdk-interop: hubsim serve did not print 'ready' within 30 s; its log:" >&2
  cat "$log" >&2
  echo "sdk-interop: 0 passed, 1 failed"
  exit 1
fi

service_cs=$(sed -n 's/^service-connection-string: //p' "$log" | head -1)
device_template=$(sed -n 's/^device-connection-string: //p' "$log" | head -1)
admin_url=$(sed -n 's/^admin: \(http:[^ ]*\).*/\1/p' "$log" | head -1)
if [ -z "$service_cs" ] || [ -z "$device_template" ]; then
  echo "sdk-interop: the banner lacks service-connection-string/device-connection-string lines:" >&2
  cat "$log" >&2
  echo "sdk-interop: 0 passed, 1 failed"
  exit 1
fi

if [ $# -eq 0 ]; then
  set -- "$here"/*.test.mjs
fi

# NODE_EXTRA_CA_CERTS is read once at process start: set here, for every test process, replacing any preset.
(
  cd "$here" &&
  HUBSIM_SERVICE_CS=$service_cs HUBSIM_DEVICE_CS_TEMPLATE=$device_template \
  HUBSIM_ADMIN_URL=${admin_url:-http://127.0.0.1:8080/} HUBSIM_CA=$certs/ca.pem NODE_EXTRA_CA_CERTS=$certs/ca.pem \
  timeout -k 10 900 node --test --test-concurrency=1 --test-timeout=120000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@"
)
node_rc=$?

passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
cancelled=$(sed -n 's/^# cancelled \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
passed=${passed:-0}
failed=$(( ${failed:-0} + ${cancelled:-0} ))
if [ -z "$(sed -n '/^# pass /p' "$tap" 2>/dev/null)" ]; then
  echo "sdk-interop: node --test produced no summary (exit $node_rc)" >&2
  failed=$((failed + 1))
elif [ $node_rc -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "sdk-interop: node --test exited $node_rc with no failed test" >&2
  failed=1
fi

# The server must still be up after the tests and shut down cleanly on SIGTERM (its books balanced): exit 0,
# or 1 when --check-clients saw a CLIENT- rule broken, which the official SDKs must not do (a second check).
if ! kill -0 "$server" 2>/dev/null; then
  echo "sdk-interop: hubsim serve died during the tests; log tail:" >&2
  tail -20 "$log" >&2
  failed=$((failed + 1))
  stop_server
else
  stop_server
  if [ "$server_rc" -ne 0 ] && [ "$server_rc" -ne 1 ]; then
    echo "sdk-interop: hubsim serve exited $server_rc after SIGTERM; log tail:" >&2
    tail -20 "$log" >&2
    failed=$((failed + 1))
  else
    passed=$((passed + 1)) # clean shutdown
  fi
  gate=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
    const bad=(r.cases||[]).filter(c=>c.verdict!=="PASS").map(c=>c.id+": "+(c.observed||c.message||""));
    console.log(r.summary&&r.summary.gate==="pass"&&bad.length===0?"pass":"fail "+bad.join("; "))' "$out/clients.json" 2>&1)
  if [ "$gate" = "pass" ] && [ "$server_rc" -eq 0 ]; then
    passed=$((passed + 1)) # the SDKs break no CLIENT- rule
  else
    echo "sdk-interop: serve --check-clients: the official SDKs broke a CLIENT- rule (exit $server_rc): $gate" >&2
    failed=$((failed + 1))
  fi
fi

echo "sdk-interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
