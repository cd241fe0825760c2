#!/usr/bin/env python3
"""Side-by-side benchmark of ferrokv and redis-server.

The same redis-benchmark workload runs against both servers, alternately,
several times. Each server is pinned to CPU 0 and redis-benchmark to CPU 1
(taskset). For every test the script reports the median over the runs of:

* throughput (requests/s, as redis-benchmark measures it), and
* requests per server CPU-second: requests divided by the server process's
  utime+stime during the test (from /proc/<pid>/stat). At -P 1 the
  single-threaded client on a 2-core machine is the limit, so CPU cost is
  what tells the servers apart.

and the ratio ferrokv/redis of each. Ratios >= 1.0 favour ferrokv.

Usage: benches/side_by_side.py [--runs 5] [--tests set,get,...] [--ferrokv target/release/ferrokv-server]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

# (name shown, redis-benchmark arguments selecting the workload, share of the
# request count). The collection tests run in this order on both servers, so
# each sees the same data (LPOP/RPOP drain what LPUSH/RPUSH built).
# LRANGE_* and ZRANGEBYSCORE read collections filled beforehand by `prepare`,
# so only the reads are timed (redis-benchmark's own lrange tests would time
# their LPUSH fill too).
ZSET_MEMBERS = 10_000
TESTS = [
    ("set", ["-t", "set"], 1),
    ("get", ["-t", "get"], 1),
    ("incr", ["-t", "incr"], 1),
    ("mset(10)", ["-t", "mset"], 0.25),
    ("lpush", ["-t", "lpush"], 1),
    ("rpush", ["-t", "rpush"], 1),
    ("lpop", ["-t", "lpop"], 1),
    ("rpop", ["-t", "rpop"], 1),
    ("sadd", ["-t", "sadd"], 1),
    ("spop", ["-t", "spop"], 1),
    ("hset", ["-t", "hset"], 1),
    ("zadd", ["-t", "zadd"], 1),
    ("zpopmin", ["-t", "zpopmin"], 1),
    ("lrange_100", ["LRANGE", "bench:list", "0", "99"], 0.25),
    ("lrange_600", ["LRANGE", "bench:list", "0", "599"], 0.05),
    # A leaderboard page: the 10 members from a random score up.
    ("zrangebyscore", ["ZRANGEBYSCORE", "bench:zset", "__rand_int__", "+inf", "LIMIT", "0", "10"], 0.5),
]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=30).stdout


class Server:
    def __init__(self, name, binary, extra=()):
        self.name = name
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            if cli(self.port, "PING").strip() == "PONG":
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"{name} did not start")
        info = cli(self.port, "INFO", "server")
        self.pid = int(next(l.split(":")[1] for l in info.splitlines() if l.startswith("process_id:")))

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of the whole line.
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss(self):
        with open(f"/proc/{self.pid}/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def prepare(server):
    """The list read by LRANGE_* (600 100-byte elements, as redis-benchmark's
    own fill makes) and the sorted set read by ZRANGEBYSCORE."""
    lines = ["DEL bench:list bench:zset"]
    value = "x" * 100
    lines += ["RPUSH bench:list " + " ".join([value] * 100) for _ in range(6)]
    for start in range(0, ZSET_MEMBERS, 500):
        pairs = " ".join(f"{i} member:{i:06d}" for i in range(start, min(start + 500, ZSET_MEMBERS)))
        lines.append("ZADD bench:zset " + pairs)
    out = subprocess.run(["redis-cli", "-p", str(server.port)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, timeout=60).stdout
    assert cli(server.port, "LLEN", "bench:list").strip() == "600", out
    assert cli(server.port, "ZCARD", "bench:zset").strip() == str(ZSET_MEMBERS), out


def run_test(server, workload, pipeline, requests):
    before = server.cpu_seconds()
    # __rand_int__ ranges over the sorted set's scores for ZRANGEBYSCORE and
    # over 100,000 keys or members elsewhere.
    rand = ZSET_MEMBERS if "bench:zset" in workload else 100_000
    out = subprocess.run(
        ["taskset", "-c", "1", "redis-benchmark", "-p", str(server.port), "-c", "50", "-n", str(requests), "-d", "100",
         "-P", str(pipeline), "-r", str(rand), "--csv", *workload],
        capture_output=True, text=True, timeout=600,
    ).stdout
    cpu = server.cpu_seconds() - before
    row = [l for l in out.splitlines() if l and not l.startswith('"test"')][-1]
    rps = float(row.split(",")[1].strip('"'))
    return {"rps": rps, "cpu_s": cpu, "req_per_cpu_s": requests / cpu if cpu > 0 else float("inf")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ferrokv", default="target/release/ferrokv-server")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--requests-p1", type=int, default=200_000)
    ap.add_argument("--requests-p16", type=int, default=2_000_000)
    ap.add_argument("--json", help="write raw results here")
    ap.add_argument("--tests", help="comma-separated subset, e.g. set,lpush,zrangebyscore")
    args = ap.parse_args()
    if os.cpu_count() < 2:
        raise SystemExit("needs two CPUs: one for the server, one for redis-benchmark")

    selected = [t for t in TESTS if not args.tests or t[0] in args.tests.split(",")]
    servers = [Server("ferrokv", args.ferrokv), Server("redis", args.redis)]
    results = {s.name: {} for s in servers}
    try:
        for s in servers:
            prepare(s)
        for run in range(args.runs):
            order = servers if run % 2 == 0 else servers[::-1]
            for pipeline in (1, 16):
                for name, workload, share in selected:
                    n = int((args.requests_p1 if pipeline == 1 else args.requests_p16) * share)
                    for s in order:
                        r = run_test(s, workload, pipeline, n)
                        results[s.name].setdefault(f"{name} -P {pipeline}", []).append(r)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    finally:
        for s in servers:
            s.stop()

    print(f"Median of {args.runs} alternating runs; servers on CPU 0, redis-benchmark on CPU 1; -c 50 -d 100 -r 100000.")
    print(f"{'test':<20}{'ferrokv ops/s':>15}{'redis ops/s':>13}{'ratio':>7}{'ferrokv req/cpu-s':>19}{'redis req/cpu-s':>17}{'ratio':>7}")
    for key in results["ferrokv"]:
        f, r = results["ferrokv"][key], results["redis"][key]
        fm, rm = statistics.median(x["rps"] for x in f), statistics.median(x["rps"] for x in r)
        fc, rc = statistics.median(x["req_per_cpu_s"] for x in f), statistics.median(x["req_per_cpu_s"] for x in r)
        print(f"{key:<20}{fm:>15,.0f}{rm:>13,.0f}{fm / rm:>7.2f}{fc:>19,.0f}{rc:>17,.0f}{fc / rc:>7.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
