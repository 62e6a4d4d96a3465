#!/bin/bash
# Issue 9's fleet figure: `hubsim run --target` plays a 10,000-device telemetry scenario against `hubsim serve` (separate processes): connect time, messages/s, p50/p99 latency, client memory per device.
# Usage: bash bench/serve/run_fleet.sh [--devices N] [--time-scale X] [--build DIR] [--no-build] [--no-pin]
# The devices are in serve's config (gen_hub.sh) and reach the run through --device-list, so no registry
# traffic is measured.  Exit 1 when the run's accepted count differs from the hub's, a device never came
# online or an expectation failed; 3 on a setup failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=build/perf
DEVICES=10000 SCALE=1 BUILD_IT=1 PIN=1
while [ $# -gt 0 ]; do
  case $1 in
    --devices) DEVICES=$2; shift ;;
    --time-scale) SCALE=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --no-build) BUILD_IT=0 ;;
    --no-pin) PIN=0 ;;
    *) echo "run_fleet.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=build/bench-serve/fleet
mkdir -p "$OUT"
KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
CERT=$PWD/fixtures/certs/server.pem
CERTKEY=$PWD/fixtures/certs/server.key

if [ $BUILD_IT = 1 ]; then
  [ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 3
  cmake --build "$BUILD" -j2 --target hubsim >/dev/null || exit 3
fi
grep -q "CMAKE_BUILD_TYPE:STRING=Release" "$BUILD/CMakeCache.txt" 2>/dev/null ||
  echo "run_fleet.sh: warning: $BUILD is not a Release build" >&2

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((DEVICES + 200)) ]; then
  echo "run_fleet.sh: open-files limit $(ulimit -n) is below $DEVICES devices + 200" >&2; exit 3
fi
HUB=$OUT/hub-$DEVICES.json
[ -f "$HUB" ] || sh bench/serve/gen_hub.sh "$DEVICES" "$KEY" "$HUB"
LIST=$OUT/devices-$DEVICES.txt
awk -v n="$DEVICES" -v key="$KEY" 'BEGIN { for (i = 0; i < n; i++) printf "dev-%05d;%s\n", i, key }' > "$LIST"
SCN=$OUT/fleet-$DEVICES.json
sed -e "s/\"count\": 10000/\"count\": $DEVICES/" -e "s/online_max == 10000/online_max == $DEVICES/" \
  scenarios/live-fleet-10k.json > "$SCN"

SRV_PIN="" CLI_PIN=""
if [ $PIN = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SRV_PIN="taskset -c 0" CLI_PIN="taskset -c 1"
fi

# ---- the served hub -------------------------------------------------------------
$SRV_PIN "$BUILD/hubsim" serve --config "$HUB" --mqtt-port 0 --https-port 0 --amqp-port 0 --admin-port 0 \
  --cert "$CERT" --key "$CERTKEY" --quiet > "$OUT/serve.log" 2>&1 &
SPID=$!
stop_serve() { kill -TERM $SPID 2>/dev/null; wait $SPID 2>/dev/null; }
for _ in $(seq 600); do grep -q '^ready' "$OUT/serve.log" && break; kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
if ! grep -q '^ready' "$OUT/serve.log"; then
  echo "run_fleet.sh: hubsim serve did not start:" >&2; cat "$OUT/serve.log" >&2; stop_serve; exit 3
fi
port() { grep -o "^$1: *127.0.0.1:[0-9]*\|^$1: http://127.0.0.1:[0-9]*" "$OUT/serve.log" | grep -o '[0-9]*$'; }
SCS=$(sed -n 's/^service-connection-string: //p' "$OUT/serve.log")
CS="$SCS;MqttPort=$(port mqtt);HttpsPort=$(port https);AmqpPort=$(port amqp);AdminPort=$(port admin);ConnectHost=127.0.0.1;CaFile=$PWD/fixtures/certs/ca.pem"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
SRV_CPU0=$(cpu_ticks $SPID)

# ---- the run ----------------------------------------------------------------------
$CLI_PIN "$BUILD/hubsim" run "$SCN" --target "$CS" --device-list "$LIST" --time-scale "$SCALE" \
  --out "$OUT/report" --quiet > "$OUT/run.log" 2>&1
RC=$?
SRV_CPU=$(( $(cpu_ticks $SPID) - SRV_CPU0 ))
SRV_RSS=$(awk '/^VmHWM/ { print $2 }' "/proc/$SPID/status")
stop_serve
if [ ! -f "$OUT/report/report.json" ]; then
  echo "run_fleet.sh: the run wrote no report (exit $RC):" >&2; cat "$OUT/run.log" >&2; exit 3
fi

python3 - "$OUT/report/report.json" "$DEVICES" "$SRV_CPU" "$(getconf CLK_TCK)" "$SRV_RSS" "$RC" <<'PY'
import json, sys
rep, devices, srv_ticks, hz, srv_rss, rc = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5] or 0), int(sys.argv[6])
c, info = rep["metrics"]["counters"], rep["run"]["info"]
lat = rep["metrics"]["histograms"].get("d2c.latency", {})
wall = float(info.get("wallclock.run_s", "0"))
online = info.get("wallclock.all_online_s")
acc, hub = c.get("d2c.accepted", 0), c.get("served.d2c.accepted", 0)
rows = [
    ("devices", f"{devices}"),
    ("all online after (wall)", f"{float(online):.2f} s" if online else "never"),
    ("conn.failed / conn.dropped", f"{c.get('conn.failed', 0)} / {c.get('conn.dropped', 0)}"),
    ("d2c accepted (run / hub)", f"{acc} / {hub}"),
    ("QoS 1 messages/s (whole run)", f"{acc / wall:.0f}" if wall else "-"),
    ("latency send->PUBACK p50 / p99", f"{int(lat.get('p50', 0)) / 1e6:.2f} / {int(lat.get('p99', 0)) / 1e6:.2f} ms"),
    ("timer late p50 / p99 / max", f"{info.get('wallclock.timer_late_p50_ms')} / {info.get('wallclock.timer_late_p99_ms')} / {info.get('wallclock.timer_late_max_ms')} ms"),
    ("client footprint per device", f"{int(info.get('wallclock.client_bytes', 0)) / devices:.0f} B (tr_device_footprint)"),
    ("client peak RSS per device", f"{int(info.get('wallclock.client_maxrss_kb', 0)) * 1024 / devices:.0f} B"),
    ("server CPU", f"{srv_ticks / hz:.1f} s over {wall:.1f} s wall"),
    ("server peak RSS per connection", f"{srv_rss * 1024 / devices:.0f} B" if srv_rss else "-"),
    ("run exit code", f"{rc}"),
]
for k, v in rows:
    print(f"{k:34} {v}")
ok = rc == 0 and acc == hub and online is not None
sys.exit(0 if ok else 1)
PY
