#!/usr/bin/env python3
"""Benchmark ftptui's capture indexing against tshark on the same capture.

    python bench/bench_index.py [--packets N] [--pcap PATH] [--skip-tshark]

Without --pcap, a deterministic workload of N packets is generated with make_big_pcap.py into
bench/out/ (git-ignored) and reused on later runs.  Every measurement runs in a fresh
subprocess so that memory figures are clean.  The table is printed and written to
bench/out/results.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "out")
PY = sys.executable
FIRST_ROWS = 50

# Child: time from the top of the script to having the first 50 rows' text, then print them.
FIRST_ROWS_CHILD = r"""
import time; T0 = time.perf_counter()
import json, sys
from ftptui.capture import open_capture
from ftptui.store.index import PacketIndex
from ftptui.dissect.packet import dissect
from ftptui.render.tshark import tshark_line
t_import = time.perf_counter()
cap = open_capture(sys.argv[1]); index = PacketIndex(cap)
it = cap.scan()
index.add_batch(next(it))
t_batch = time.perf_counter()
lines = [tshark_line(dissect(index, i)) for i in range(int(sys.argv[2]))]
t_rows = time.perf_counter()
sys.stdout.write("\n".join(lines) + "\n")
print(json.dumps({"import": t_import - T0, "batch": t_batch - t_import, "rows": t_rows - t_batch,
                  "total": t_rows - T0, "batch_packets": len(index)}), flush=True)
"""

# Child: index the whole file; report build time, peak RSS, packet count, index size.
BUILD_CHILD = r"""
import time; T0 = time.perf_counter()
import json, sys
from ftptui.capture import open_capture
from ftptui.store.index import PacketIndex
import ftptui.dissect.packet  # noqa: F401  (registers the batch stages the app runs while indexing)
cap = open_capture(sys.argv[1]); index = PacketIndex(cap)
t1 = time.perf_counter()
index.build()
t2 = time.perf_counter()
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
kb = lambda k: int(status[k].split()[0])
print(json.dumps({"startup": t1 - T0, "build": t2 - t1, "hwm_kb": kb("VmHWM"), "rss_kb": kb("VmRSS"),
                  "packets": len(index), "index_bytes": index.memory_bytes(), "done": index.done}))
"""

# Child: the same with the file scanned by a forked child (store/scan_process.py), as the app and
# the batch commands index a file named on the command line.
BUILD_FORKED_CHILD = BUILD_CHILD.replace(
    "index.build()",
    "from ftptui.store.scan_process import ScanProcess\nindex.build(scanned=ScanProcess.start(cap).batches())")

# Wrapper: run a command (stdout -> /dev/null or through `head -n K`), report wall + peak RSS.
# ru_maxrss of RUSAGE_CHILDREN is the largest of this wrapper's children, i.e. the measured command.
WRAP_CHILD = r"""
import json, resource, subprocess, sys, time
cmd, head = json.loads(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
if head:
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    for n, _ in enumerate(p.stdout, 1):
        if n == head:
            break
    wall = time.perf_counter() - t
    p.stdout.close(); p.kill(); p.wait()
else:
    n = None
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "lines": n}))
"""


def run_py(code: str, *args: str) -> tuple[dict, float, float | None]:
    """Run a child script; return (its JSON, whole-process wall, wall until FIRST_ROWS lines)."""
    t = time.perf_counter()
    p = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE, text=True, cwd=REPO)
    rows_at, last, n = None, "", 0
    for line in p.stdout:
        n += 1
        last = line
        if n == FIRST_ROWS:
            rows_at = time.perf_counter() - t
    if p.wait():
        sys.exit(f"child failed (exit {p.returncode})")
    return json.loads(last), time.perf_counter() - t, rows_at


def wrap(cmd: list[str], head: int = 0) -> dict:
    return run_py(WRAP_CHILD, json.dumps(cmd), str(head))[0]


def best(fn, repeat: int, key: str):
    runs = [fn() for _ in range(repeat)]
    return min(runs, key=lambda r: r[0][key] if isinstance(r, tuple) else r[key])


def workload(args) -> str:
    if args.pcap:
        return args.pcap
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"big-{args.packets}.pcap")  # N in the name: reuse only a same-size file
    if os.path.exists(path):
        print(f"reusing {path}")
        return path
    print(f"generating {args.packets} packets into {path} ...", flush=True)
    tmp = path + ".tmp"  # renamed only when complete, so a killed run is never reused
    subprocess.run([PY, args.generator, str(args.packets), tmp], check=True)
    os.replace(tmp, path)
    return path


def machine(tshark: str | None) -> list[str]:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    tv = "not run"
    if tshark:
        tv = subprocess.run([tshark, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return [f"CPU: {cpu}, nproc {os.cpu_count()}", f"Python {platform.python_version()} ({PY})", f"{tv}"]


def fmt_s(x): return "n/a" if x is None else f"{x:.3f} s"
def fmt_mb(kb): return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000, help="packets to generate (default 1,000,000)")
    ap.add_argument("--pcap", help="use this capture instead of generating one")
    ap.add_argument("--generator", default=os.path.join(REPO, "..", "shared", "tools", "make_big_pcap.py"),
                    help="path of make_big_pcap.py (default ../shared/tools/ from the repo root)")
    ap.add_argument("--skip-tshark", action="store_true", help="measure ftptui only")
    ap.add_argument("--repeat", type=int, default=1, help="run each measurement N times, keep the best")
    args = ap.parse_args()

    path = os.path.abspath(workload(args))
    tshark = None if args.skip_tshark else shutil.which("tshark")
    if not args.skip_tshark and not tshark:
        print("tshark not found: ftptui figures only", file=sys.stderr)
    # Warm the page cache so the first measurement does not pay for the disk alone.
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass

    print("ftptui: first rows ...", flush=True)
    first, first_wall, first_rows_at = best(lambda: run_py(FIRST_ROWS_CHILD, path, str(FIRST_ROWS)),
                                            args.repeat, "total")
    print("ftptui: whole-file index ...", flush=True)
    build, build_wall, _ = best(lambda: run_py(BUILD_CHILD, path), args.repeat, "build")
    forked, forked_wall, _ = best(lambda: run_py(BUILD_FORKED_CHILD, path), args.repeat, "build")

    ts_all = ts_first = None
    if tshark:
        print("tshark: first rows, whole file ...", flush=True)
        ts_first = best(lambda: wrap([tshark, "-r", path, "-c", str(FIRST_ROWS)]), args.repeat, "wall")
        ts_all = best(lambda: wrap([tshark, "-r", path]), args.repeat, "wall")

    npk = build["packets"]
    g = lambda d, k: None if d is None else d[k]
    rows = [
        (f"first {FIRST_ROWS} rows, in-process (import+open+first batch+rows)", fmt_s(first["total"]), "n/a"),
        ("  of which import / first batch / rows",
         f"{first['import']:.3f} / {first['batch']:.3f} / {first['rows']:.3f} s", ""),
        (f"first {FIRST_ROWS} rows, whole process until printed (tshark -c {FIRST_ROWS})",
         fmt_s(first_rows_at), fmt_s(g(ts_first, "wall"))),
        ("whole file: index.build() with the app's batch stages (tshark -r FILE > /dev/null)", fmt_s(build["build"]), fmt_s(g(ts_all, "wall"))),
        ("whole file: process wall incl. startup and exit", fmt_s(build_wall), fmt_s(g(ts_all, "wall"))),
        ("whole file: the same, scanned by a forked child (as the app and batch commands do)",
         fmt_s(forked["build"]), fmt_s(g(ts_all, "wall"))),
        ("  its process wall incl. startup and exit", fmt_s(forked_wall), ""),
        ("whole file: packets/s", f"{npk / build['build']:,.0f}",
         "n/a" if ts_all is None else f"{npk / ts_all['wall']:,.0f}"),
        ("whole file: peak RSS", fmt_mb(build["hwm_kb"]), fmt_mb(g(ts_all, "maxrss_kb"))),
        ("index.memory_bytes() (bytes/packet)",
         f"{build['index_bytes'] / 2**20:.0f} MB ({build['index_bytes'] / max(npk, 1):.0f})", ""),
        ("packets indexed", f"{npk:,}", ""),
    ]

    info = [f"Capture: {path}, {os.path.getsize(path) / 1e6:,.0f} MB, {npk:,} packets "
            f"(first batch: {first['batch_packets']:,} packets)", *machine(tshark),
            f"Best of {args.repeat} run(s); file in page cache; each measurement in a fresh process."]
    w = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print("\n".join(info) + "\n")
    print(f"{'metric':<{w}} | {'ftptui':<{w1}} | tshark")
    print("-" * (w + w1 + 16))
    for m, a, b in rows:
        print(f"{m:<{w}} | {a:<{w1}} | {b}")

    md = ["# ftptui vs tshark: indexing benchmark", "", *[f"- {l}" for l in info], "",
          f"Command: `python bench/bench_index.py {' '.join(sys.argv[1:])}`", "",
          "| metric | ftptui | tshark |", "|---|---|---|", *[f"| {m.strip()} | {a} | {b} |" for m, a, b in rows]]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"\nwritten {os.path.join(OUT, 'results.md')}")
    return 0 if build["done"] else 1


if __name__ == "__main__":
    sys.exit(main())
