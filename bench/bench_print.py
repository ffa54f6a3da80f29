"""`ftptui --print` against `tshark -r`: the whole packet list of a capture, written to a pipe.

For each capture size (files made by ../shared/tools/make_big_pcap.py, kept in bench/out/), runs
both commands in turn, `--repeat` times (interleaved, so that both see the same machine), and
prints the best and median wall time, packets per second, the time until the first line came
out, and peak memory.  tshark is optional (its columns then say n/a).

    python bench/bench_print.py                      # 100,000 and 1,000,000 packets
    python bench/bench_print.py --sizes 100000 --repeat 5
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "out")
PY = sys.executable

# Run a command with its stdout in a pipe, read to the end: wall, time to the first line,
# lines, and the peak RSS of the command (the largest of this child's children).
CHILD = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(json.loads(sys.argv[1]), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first, lines = None, 0
for block in iter(lambda: p.stdout.read(1 << 16), b""):
    if first is None:
        first = time.perf_counter() - t
    lines += block.count(b"\n")
p.wait()
print(json.dumps({"wall": time.perf_counter() - t, "first": first, "lines": lines, "rc": p.returncode,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def run(cmd: list[str]) -> dict:
    out = subprocess.run([PY, "-c", CHILD, json.dumps(cmd)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def capture(packets: int, generator: str) -> str:
    path = os.path.join(OUT, f"big-{packets}.pcap")
    if not os.path.exists(path):
        print(f"generating {packets:,} packets into {path} ...", flush=True)
        tmp = path + ".tmp"
        subprocess.run([PY, generator, str(packets), tmp], check=True)
        os.replace(tmp, path)
    with open(path, "rb") as f:  # into the page cache
        while f.read(64 << 20):
            pass
    return path


def summary(runs: list[dict], packets: int) -> str:
    walls = [r["wall"] for r in runs]
    best = min(walls)
    return (f"{best:.2f} s (median {statistics.median(walls):.2f}), {packets / best:,.0f} packets/s, "
            f"first line {min(r['first'] for r in runs):.2f} s, {max(r['maxrss_kb'] for r in runs) / 1024:.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="packets per capture")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command per size (default 3)")
    ap.add_argument("--generator", default=os.path.join(REPO, "..", "shared", "tools", "make_big_pcap.py"))
    ap.add_argument("--skip-tshark", action="store_true")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tshark = None if args.skip_tshark else shutil.which("tshark")
    rows = []
    for n in args.sizes:
        path = capture(n, args.generator)
        ours, theirs = [], []
        for k in range(args.repeat):
            print(f"{n:,} packets, run {k + 1}/{args.repeat} ...", flush=True)
            ours.append(run([PY, "-m", "ftptui", "--print", path]))
            if tshark:
                theirs.append(run([tshark, "-r", path]))
        for r in ours + theirs:
            if r["rc"] != 0 or r["lines"] != n:
                sys.exit(f"a run failed or printed {r['lines']:,} lines instead of {n:,}: {r}")
        rows.append((f"{n:,} packets ({os.path.getsize(path) / 1e6:,.0f} MB)", summary(ours, n),
                     summary(theirs, n) if theirs else "n/a"))
    print("\n| capture | ftptui --print | tshark -r |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
