#!/usr/bin/env python3
"""tshark's per-frame `tcp.analysis.*` fields as a tab-separated table, and ftptui's same table.

    tcp_analysis_table.py CAPTURE            # ftptui's table
    tcp_analysis_table.py --tshark CAPTURE   # tshark's (tshark -r CAPTURE -T fields ...)

The tshark table is committed next to a capture as CAPTURE.analysis.tsv; tests compare both.
Columns: FIELDS below, one line per frame, flags as 1 or empty, times in seconds (9 decimals).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

FLAGS = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order", "lost_segment",
         "ack_lost_segment", "window_update", "window_full", "keep_alive", "keep_alive_ack", "duplicate_ack",
         "zero_window", "zero_window_probe", "zero_window_probe_ack", "reused_ports"]
FIELDS = (["frame.number", "tcp.stream", "tcp.analysis", "tcp.analysis.flags"]
          + [f"tcp.analysis.{f}" for f in FLAGS]
          + [f"tcp.analysis.{f}" for f in ("duplicate_ack_num", "duplicate_ack_frame", "acks_frame", "ack_rtt",
                                           "initial_rtt", "bytes_in_flight", "push_bytes_sent", "rto", "rto_frame")])


def tshark_table(path: str) -> list[str]:
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    with tempfile.TemporaryDirectory() as home:  # tshark's default preferences
        env = dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC", HOME=home)
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return out.splitlines()


def write_tshark_fixtures(capture: str) -> None:
    """Commit-ready expectations next to a capture: CAPTURE.tshark.txt (tshark's packet list) and
    CAPTURE.analysis.tsv (tshark's table above)."""
    with tempfile.TemporaryDirectory() as home:  # tshark's default preferences
        env = dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC", HOME=home)
        listing = subprocess.run(["tshark", "-r", capture], capture_output=True, text=True, env=env, check=True)
    with open(capture + ".tshark.txt", "w", encoding="utf-8") as f:
        f.write(listing.stdout)
    with open(capture + ".analysis.tsv", "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in tshark_table(capture)))


def _secs(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    return f"{sign}{abs(ns) // 1_000_000_000}.{abs(ns) % 1_000_000_000:09d}"


def ftptui_table(path: str) -> list[str]:
    from ftptui.capture import open_capture
    from ftptui.store.index import PacketIndex
    from ftptui.streams import analysis as A
    from ftptui.streams.analysis import tcp_analysis

    index = PacketIndex(open_capture(path))
    index.build()
    bits = [A.FLAG_FIELDS[f"tcp.analysis.{f}"] for f in FLAGS]
    bits[0] = A.RETRANSMISSION | A.FAST_RETRANSMISSION | A.SPURIOUS_RETRANSMISSION
    lines = []
    for i in range(len(index)):
        stream = int(index.cols.raw("stream")[i])
        a = tcp_analysis(index, i)
        row = [str(i + 1), str(stream) if stream >= 0 else ""]
        if a is None or not a.present:
            row += [""] * (len(FIELDS) - 2)
        else:
            row += ["1", "1" if a.flags else ""] + ["1" if a.flags & b else "" for b in bits]
            row += [str(a.dupack_num) if a.dupack_num else "", str(a.dupack_frame) if a.dupack_num else "",
                    str(a.acks_frame) if a.acks_frame else "", _secs(a.ack_rtt) if a.acks_frame and a.ack_rtt else "",
                    _secs(a.initial_rtt) if a.initial_rtt else "",
                    str(a.bytes_in_flight) if a.bytes_in_flight else "",
                    str(a.push_bytes_sent) if a.bytes_in_flight else ""]
            shown = a.flags & A.RETRANSMISSION and a.rto
            row += [_secs(a.rto) if shown else "", str(a.rto_frame) if shown else ""]
        lines.append("\t".join(row))
    return lines


if __name__ == "__main__":
    args = sys.argv[1:]
    table = tshark_table(args[1]) if args[0] == "--tshark" else ftptui_table(args[0])
    sys.stdout.write("".join(line + "\n" for line in table))
