#!/usr/bin/env python3
"""Benchmark the FTP follower over the benchmark capture, next to tshark's FTP export.

    python bench/bench_ftp.py [--pcap PATH] [--skip-tshark]

ftptui: index the file, then analyse every FTP session (control dialogue, data linking, hashing
every transfer), in a fresh process so the peak memory is its own.  tshark: `--export-objects
ftp-data,DIR` over the same file (the nearest thing it has), timed as a whole process.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = r"""
import json, resource, sys, time
from ftptui.capture import open_capture
from ftptui.store.index import PacketIndex
from ftptui.ftp.analysis import analyse
t0 = time.perf_counter()
index = PacketIndex(open_capture(sys.argv[1])); index.build()
t1 = time.perf_counter()
a = analyse(index)
t2 = time.perf_counter()
ts = a.transfers
print(json.dumps({"index": t1 - t0, "ftp": t2 - t1, "sessions": len(a.sessions), "transfers": len(ts),
                  "linked": sum(t.tcp_stream >= 0 for _, t in ts), "complete": sum(t.complete for _, t in ts),
                  "bytes": sum(t.bytes for _, t in ts),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcap", default=os.path.join(REPO, "bench", "out", "big-1000000.pcap"))
    ap.add_argument("--skip-tshark", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.pcap):
        sys.exit(f"{args.pcap} is missing: run bench/bench_index.py first (it makes the capture)")
    out = subprocess.run([sys.executable, "-c", CHILD, args.pcap], capture_output=True, text=True, check=True,
                         cwd=REPO)
    r = json.loads(out.stdout)
    print(f"ftptui: index {r['index']:.2f} s, FTP analysis {r['ftp']:.2f} s, peak RSS {r['rss_mb']} MB")
    print(f"        {r['sessions']} sessions, {r['transfers']} transfers ({r['linked']} with their data connection, "
          f"{r['complete']} complete), {r['bytes']:,} bytes hashed")
    if not args.skip_tshark:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            subprocess.run(["tshark", "-r", args.pcap, "-q", "--export-objects", f"ftp-data,{tmp}"],
                           capture_output=True, env={**os.environ, "HOME": tmp})
            dt = time.perf_counter() - t
            print(f"tshark --export-objects ftp-data: {dt:.1f} s, {len(os.listdir(tmp))} files written")


if __name__ == "__main__":
    main()
