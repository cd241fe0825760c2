#!/usr/bin/env bash
# Builds ferrokv in release mode, then runs the side-by-side throughput/CPU
# benchmark and the memory comparison against Debian's redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools
fi
cargo build --release -p ferrokv-server
python3 benches/side_by_side.py "$@"
python3 benches/memory.py
