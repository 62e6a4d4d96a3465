#!/usr/bin/env bash
# Builds the fuzz targets (routing parser/evaluator, MQTT decoder) with libFuzzer + ASan + UBSan and runs each for a bounded time.
#
# Usage: scripts/fuzz.sh [--seconds N]   (default 60, per target)
# Exit 0 when no crash was found; the fuzzer's own status otherwise.
# New inputs go to build/fuzz/corpus (the committed seeds in
# fixtures/routing/fuzz-corpus are read, never written).
set -euo pipefail

seconds=60
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: --seconds takes a number" >&2; exit 2 ;; esac

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/fuzz"
mkdir -p "$out/corpus" "$out/corpus-mqtt"
CC="${CC:-clang}"

# Only the routing library and the kernel pieces it uses (detmath, errors).
"$CC" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root" -I"$root/sim/route" $(pkg-config --cflags jansson) \
    "$root/fuzz/fuzz_route.c" "$root"/sim/route/*.c "$root/sim/detmath.c" "$root/sim/errors.c" \
    $(pkg-config --libs jansson) -lm -o "$out/fuzz_route"

# The MQTT decoder: the codec files only (no session), with what they link.
"$CC" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root" -I"$root/sim" -I"$root/sim/hub" -I"$root/sim/route" -I"$root/serve/mqtt" $(pkg-config --cflags jansson) \
    "$root/fuzz/fuzz_mqtt.c" $(ls "$root"/serve/mqtt/mqtt_*.c | grep -v mqtt_session | grep -v mqtt_breaks) \
    "$root"/sim/*.c "$root"/sim/hub/*.c "$root"/sim/route/*.c $(pkg-config --libs jansson) -lcrypto -lm \
    -o "$out/fuzz_mqtt"

cd "$out"
./fuzz_mqtt -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus-mqtt
exec ./fuzz_route -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus "$root/fixtures/routing/fuzz-corpus"
