#!/usr/bin/env python3
"""Memory of ferrokv and redis-server holding the same datasets.

For each dataset both servers are started fresh and filled through
redis-cli --pipe; the script reports the RSS of both processes and the ratio
ferrokv/redis (<= 1.0 favours ferrokv). Datasets:

* strings:  1,000,000 keys (key:000000000000 ...) with 100-byte values
* hashes:   100,000 hashes of 10 short fields
* sets:     100,000 sets of 10 integers
* zsets:    1,000 sorted sets of 1,000 members

Usage: benches/memory.py [--datasets strings,hashes,sets,zsets] [--ferrokv target/release/ferrokv-server]
"""
import argparse
import os
import random
import shutil
import subprocess
import tempfile

from side_by_side import Server, cli


def resp(*args):
    out = [f"*{len(args)}\r\n"]
    for a in args:
        a = str(a)
        out.append(f"${len(a.encode())}\r\n{a}\r\n")
    return "".join(out)


def strings(keys=1_000_000, size=100):
    value = "x" * size
    for i in range(keys):
        yield resp("SET", "key:%012d" % i, value)


def hashes(keys=100_000, fields=10):
    for i in range(keys):
        args = ["HSET", "hash:%08d" % i]
        for f in range(fields):
            args += [f"field{f}", f"value{i % 1000}-{f}"]
        yield resp(*args)


def sets(keys=100_000, members=10):
    for i in range(keys):
        yield resp("SADD", "set:%08d" % i, *(i * members + m for m in range(members)))


def zsets(keys=1_000, members=1_000):
    rng = random.Random(1)
    for i in range(keys):
        args = ["ZADD", "zset:%04d" % i]
        for m in range(members):
            args += [f"{rng.uniform(0, 1e6):.3f}", f"member:{m:06d}"]
        yield resp(*args)


DATASETS = {
    "strings": ("1,000,000 keys with 100-byte values", strings, 1_000_000),
    "hashes": ("100,000 hashes of 10 short fields", hashes, 100_000),
    "sets": ("100,000 sets of 10 integers", sets, 100_000),
    "zsets": ("1,000 sorted sets of 1,000 members", zsets, 1_000),
}


def fill_file(commands):
    path = os.path.join(tempfile.mkdtemp(), "fill.resp")
    with open(path, "w") as f:
        for c in commands:
            f.write(c)
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
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--ferrokv", default="target/release/ferrokv-server")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    args = ap.parse_args()
    for name in args.datasets.split(","):
        label, gen, keys = DATASETS[name]
        path = fill_file(gen())
        try:
            f = measure("ferrokv", args.ferrokv, path, keys)
            r = measure("redis", args.redis, path, keys)
        finally:
            os.remove(path)
        print(f"{label}: ferrokv RSS {f / 2**20:.1f} MiB, redis RSS {r / 2**20:.1f} MiB, ratio {f / r:.2f}")


if __name__ == "__main__":
    main()
