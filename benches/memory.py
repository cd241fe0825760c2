#!/usr/bin/env python3
"""Memory of ferrokv and redis-server holding the same dataset.

Each server is started fresh and filled through redis-cli --pipe with
1,000,000 keys (key:000000000000 ...) holding 100-byte values; the script
reports the RSS of both processes and the ratio ferrokv/redis (<= 1.0
favours ferrokv).

Usage: benches/memory.py [--keys 1000000] [--ferrokv target/release/ferrokv-server]
"""
import argparse
import os
import shutil
import subprocess
import tempfile

from side_by_side import Server, cli


def fill_file(keys, size):
    path = os.path.join(tempfile.mkdtemp(), "fill.resp")
    value = "x" * size
    with open(path, "w") as f:
        for i in range(keys):
            k = "key:%012d" % i
            f.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, size, value))
    return path


def measure(name, binary, path, keys):
    s = Server(name, binary)
    try:
        with open(path, "rb") as f:
            out = subprocess.run(["redis-cli", "-p", str(s.port), "--pipe"], stdin=f, capture_output=True, text=True, timeout=600).stdout
        assert "errors: 0" in out, out
        assert int(cli(s.port, "DBSIZE")) == keys
        return s.rss()
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--ferrokv", default="target/release/ferrokv-server")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    args = ap.parse_args()
    path = fill_file(args.keys, args.size)
    try:
        f = measure("ferrokv", args.ferrokv, path, args.keys)
        r = measure("redis", args.redis, path, args.keys)
    finally:
        os.remove(path)
    print(f"{args.keys:,} keys with {args.size}-byte values: ferrokv RSS {f / 2**20:.1f} MiB, redis RSS {r / 2**20:.1f} MiB, ratio {f / r:.2f}")


if __name__ == "__main__":
    main()
