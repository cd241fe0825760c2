#!/usr/bin/env bash
# Runs every test of the workspace. Works on a fresh Debian machine with the
# Rust toolchain and Python: what the tests need is installed when missing
# (redis-server and redis-cli from Debian's redis-server/redis-tools
# packages, Python's redis client from PyPI).
#
# Integration and differential tests drive the release build of
# ferrokv-server (the artefact users run); extra arguments go to the test
# runner (e.g. scripts/test.sh -E 'test(scan)' with nextest).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=()
command -v redis-server >/dev/null 2>&1 || apt_pkgs+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || apt_pkgs+=(redis-tools)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
if ! python3 -c 'import redis, sys; sys.exit(int(redis.__version__.split(".")[0]) < 5)' 2>/dev/null; then
    python3 -m pip install -q 'redis>=5' 2>/dev/null || python3 -m pip install -q --break-system-packages 'redis>=5'
fi

cargo build --release -p ferrokv-server
export FERROKV_SERVER_BIN="$PWD/target/release/ferrokv-server"

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
