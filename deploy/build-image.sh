#!/usr/bin/env bash
# Builds a statically linked ferrokv-server and the `ferrokv:latest` image.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p ferrokv-server --target "$target"
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "target/$target/release/ferrokv-server" deploy/Dockerfile "$ctx/"
docker build -q -t ferrokv:latest "$ctx"
