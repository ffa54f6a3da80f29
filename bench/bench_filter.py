#!/usr/bin/env python3
"""Benchmark display filters over the benchmark capture, next to `tshark -r FILE -Y FILTER`.

    python bench/bench_filter.py [--pcap PATH] [--skip-tshark] [FILTER ...]

The capture is bench/out/big-1000000.pcap (made by bench_index.py).  ftptui's time is the filter
run over an index that is already built (what the filter bar costs once a file is open); the
index build is printed once.  tshark's is the whole `tshark -r FILE -Y FILTER > /dev/null` run,
which is what a user waits for.  Both report the number of matching packets.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from ftptui.capture import open_capture  # noqa: E402
from ftptui.dfilter.apply import FilterRun  # noqa: E402
from ftptui.dfilter.compile import compile_filter  # noqa: E402
from ftptui.store.index import PacketIndex  # noqa: E402

DEFAULT_FILTERS = [
    # indexed fields: answered from the columns
    "tcp.port == 21",
    "ip.addr == 1.1.1.1",
    "ipv6.addr == 2001:db8:10::/48",
    "ip.src == 10.0.0.0/8 and not tcp.port == 80",
    "tcp.flags.syn == 1 and tcp.flags.ack == 0",
    "frame.len > 1000",
    "udp",
    # fields that need dissection (of the packets that can hold them)
    'ftp.request.command == "RETR"',
    "ftp-data",
    'dns.qry.name contains "example"',
    # payload filters: the packet's bytes (frame, tcp.payload) without dissecting, and text fields
    # dissected only where the packet holds the string
    'frame contains "admin"',
    'frame matches "(?i)user"',
    'tcp.payload contains "RETR"',
    'http.host contains "example"',
    r'http.request.uri matches "\\.php$"',
    'ftp.request.arg contains "txt"',
]


def tshark_count(path: str, flt: str) -> tuple[float, int]:
    t = time.perf_counter()
    out = subprocess.run(["tshark", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, env={**os.environ, "HOME": "/tmp"})
    return time.perf_counter() - t, len(out.stdout.splitlines())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcap", default=os.path.join(REPO, "bench", "out", "big-1000000.pcap"))
    ap.add_argument("--skip-tshark", action="store_true")
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args()
    if not os.path.exists(args.pcap):
        sys.exit(f"{args.pcap} is missing: run bench/bench_index.py first (it makes the capture)")
    filters = args.filters or DEFAULT_FILTERS
    index = PacketIndex(open_capture(args.pcap))
    t = time.perf_counter()
    index.build()
    print(f"index of {len(index):,} packets built in {time.perf_counter() - t:.2f} s\n")
    rows = []
    header = f"{'filter':46} | {'ftptui':>9} | {'matches':>8} | {'tshark':>8} | {'matches':>8}"
    print(header)
    print("-" * len(header))
    for flt in filters:
        compiled = compile_filter(flt)
        run = FilterRun(index, compiled)
        t = time.perf_counter()
        n = len(run.rows())
        mine = time.perf_counter() - t
        theirs, tn = (None, None) if args.skip_tshark else tshark_count(args.pcap, flt)
        line = (f"{flt:46} | {mine:8.2f}s | {n:8,} | "
                + (f"{theirs:7.1f}s | {tn:8,}" if theirs is not None else f"{'n/a':>8} | {'':>8}"))
        print(line, flush=True)
        rows.append(line)
    out = os.path.join(REPO, "bench", "out", "filter-results.md")
    with open(out, "w") as f:
        f.write(header + "\n" + "\n".join(rows) + "\n")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
