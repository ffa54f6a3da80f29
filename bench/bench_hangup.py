#!/usr/bin/env python3
"""How long ftptui takes to end once its terminal is gone (the goal: under 2 s in every state).

    python bench/bench_hangup.py [--repeat 3]

Each state of tests/test_tmux_hangup.py is set up in a real terminal (tmux) and the terminal is
taken away (`tmux kill-server`, or SIGHUP / SIGTERM to the process); the time until no ftptui
process (nor capture child) is left is printed, worst of --repeat runs.  Live capture rows need
root (or CAP_NET_RAW) and libpcap or tcpdump; they are skipped with the reason otherwise.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_tmux import tmux, wait_for  # noqa: E402
from test_tmux_hangup import SEED, Terminal, app, long_ftp_transfer, repeated_seed  # noqa: E402


def gone_after(terminal: Terminal, how: str) -> float:
    t0 = time.monotonic()
    terminal.hang_up(how)
    while terminal.processes():
        if time.monotonic() - t0 > 30:
            for pid in terminal.processes():
                os.kill(pid, signal.SIGKILL)
            return float("inf")
        time.sleep(0.01)
    return time.monotonic() - t0


def busy_view(t: Terminal, tmp: Path) -> None:
    t.start(app("-r", str(long_ftp_transfer(tmp / "one.pcap"))))
    wait_for(t.name, "Request: RETR big.bin")
    tmux("send-keys", "-t", t.name, "T")
    time.sleep(0.3)


def indexing(t: Terminal, tmp: Path) -> None:
    t.start(app("-r", str(repeated_seed(tmp / "big.pcap", 15000))))
    wait_for(t.name, "indexing")


def filtering(t: Terminal, tmp: Path) -> None:
    t.start(app("-r", str(repeated_seed(tmp / "medium.pcap", 1500))))
    wait_for(t.name, "Displayed: 126,000 of 126,000")
    tmux("send-keys", "-t", t.name, "/", 'frame contains "no such bytes"', "Enter")
    wait_for(t.name, "filtering")


def dialog(t: Terminal, tmp: Path) -> None:
    t.start(app("-r", str(SEED)))
    wait_for(t.name, "Request: USER ftpuser")
    tmux("send-keys", "-t", t.name, "w")
    wait_for(t.name, "Save packets as")


def pipe(t: Terminal, tmp: Path) -> None:
    t.start(f"(cat {shlex.quote(str(SEED))}; sleep 60) | {app('-r', '-')}")
    wait_for(t.name, "Packets: 84")


def live(t: Terminal, tmp: Path) -> None:
    from loopback import Server
    server = Server(20.0)
    t.start(app("-i", "lo", "-f", f"tcp port {server.port}", "-w", str(tmp / "kept.pcap")))
    wait_for(t.name, "● capturing on lo")
    for k in range(3):
        server.exchange(b"hello %d" % k)
    t.server = server


STATES = {"the FTP view busy on the UI thread": busy_view, "indexing 1.26 M packets": indexing,
          "a filter dissecting every packet": filtering, "a dialog open": dialog,
          "reading a pipe that stays open": pipe, "a live capture with -w": live}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from loopback import capture_unavailable

    from ftptui.capture import bpf
    no_live = capture_unavailable() or (bpf.NO_COMPILER if bpf.available() is None else None)
    print("| state | tmux kill-server | SIGHUP | SIGTERM |")
    print("|---|---|---|---|")
    worst = 0.0
    for name, setup in STATES.items():
        if setup is live and no_live:
            print(f"| {name} | skipped: {no_live} | | |")
            continue
        cells = []
        for how in ("kill-server", "SIGHUP", "SIGTERM"):
            times = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    t = Terminal(Path(tmp))
                    try:
                        setup(t, Path(tmp))
                        times.append(gone_after(t, how))
                    finally:
                        tmux("kill-server", check=False)
                        if getattr(t, "server", None):
                            t.server.close()
            worst = max(worst, max(times))
            cells.append(f"{max(times):.2f} s")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nworst: {worst:.2f} s (goal: under 2 s)")


if __name__ == "__main__":
    main()
