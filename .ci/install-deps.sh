#!/usr/bin/env bash
# Installs the Debian packages Cortado builds against. Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES="python3-venv libpython3-dev libopenblas-dev libdnnl-dev libhdf5-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev libturbojpeg0-dev libpng-dev pkg-config strace libopenmpi-dev openmpi-bin iproute2"
missing=""
for p in $PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
