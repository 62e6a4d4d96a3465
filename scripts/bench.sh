#!/bin/bash
# `make bench`: every benchmark under bench/, full size, figures printed as tables.
# Usage: bash scripts/bench.sh BUILD_DIR
set -u
BUILD=${1:-build/release}
cd "$(dirname "$0")/.."
sh scripts/deps.sh python3-simpy
targets=$(ls bench/bench_*.c | xargs -n1 basename | sed 's/\.c$//')
# shellcheck disable=SC2086
cmake --build "$BUILD" -j"$(nproc)" --target $targets >/dev/null || exit 3
echo "== bench_kernel (event queue)"; "$BUILD/bench_kernel" --repeat 3
for b in $targets; do
  case $b in bench_kernel|bench_fleet|bench_serve_load|bench_paho_clients) continue ;; esac
  echo; echo "== $b"; "$BUILD/$b"
done
echo; echo "== bench_fleet (one process per scenario, so peak RSS is the scenario's own)"
first=1
for s in scenarios/fleet-10k-1h.json bench/scenarios/simpy-compare-10k.json \
         bench/scenarios/simpy-compare-100k.json bench/scenarios/fleet-1m-10m.json; do
  [ -f "$s" ] || continue
  if [ $first = 1 ]; then "$BUILD/bench_fleet" "$s"; first=0; else "$BUILD/bench_fleet" "$s" | tail -n +2; fi
done
echo; echo "== SimPy 2.3 baseline (Debian python3-simpy, /usr/bin/python3): same model as simpy-compare-*"
for n in 10000 100000; do /usr/bin/python3 bench/baselines/fleet_simpy.py $n; done
echo; echo "== bench/serve: hubsim serve vs mosquitto, 10,000 TLS MQTT devices (docs/bench-serve.md)"
bash bench/serve/run.sh --build "$BUILD" --no-build --paho
