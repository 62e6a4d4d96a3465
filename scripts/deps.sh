#!/bin/sh
# Installs the Debian packages hubsim needs, only those that are missing.
# Usage: sh scripts/deps.sh [extra-package ...]
set -eu
PKGS="build-essential cmake pkg-config libevent-dev libpaho-mqtt-dev libqpid-proton11-dev
libssl-dev libjansson-dev libcmocka-dev gcovr clang libclang-rt-14-dev libxml2-utils
chromium fonts-liberation iproute2 util-linux mosquitto $*"
missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# Node.js and npm (the HTML report's browser test): the machine image may ship
# its own; Debian's packages are installed only when there is none at all.
if ! command -v npm >/dev/null 2>&1; then
  missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 3; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
