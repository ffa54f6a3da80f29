#!/usr/bin/env python3
"""Peak memory on a big capture: ftptui must stay under 1 GB, whatever the user does.

    python bench/bench_memory.py [--packets 5000000] [--pcap PATH] [--skip-tshark]

Each step runs in a fresh process (its peak resident memory is its own): index the capture,
apply display filters, follow the biggest TCP stream, analyse every FTP session, list the TCP
conversations, and the app itself (headless, real widgets) going through the same steps one
after the other, as a user would in one session.  tshark's peak memory for reading the file
(`tshark -r FILE > /dev/null`) is printed beside them.  The capture is made by
../shared/tools/make_big_pcap.py when missing (5,000,000 packets: about 4.3 GB, a minute).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKER = os.path.join(os.path.dirname(REPO), "shared", "tools", "make_big_pcap.py")
LIMIT_MB = 1024
FILTERS = ["tcp.port == 21", 'ftp.request.command == "RETR"', "ip.addr == 1.1.1.1 and not tcp.port == 80",
           "tcp.analysis.retransmission"]

COMMON = r"""
import json, resource, sys, time
import numpy as np
from ftptui.cli.main import give_back_freed_memory
give_back_freed_memory()  # as the ftptui command does
from ftptui.capture import open_capture
from ftptui.store.index import PacketIndex
t0 = time.perf_counter()
index = PacketIndex(open_capture(sys.argv[1])); index.build()
out = {"packets": len(index), "index_s": time.perf_counter() - t0}

def biggest_stream(index):
    stream = index.cols["stream"]
    counts = np.bincount(stream[stream >= 0], weights=index.cols["paylen"][stream >= 0])
    return int(np.argmax(counts))

def done(**more):
    out.update(more)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(out))
"""
STEPS = {
    "open and index": "done()",
    "display filters": """
from ftptui.dfilter.apply import FilterRun
from ftptui.dfilter.compile import compile_filter
t = time.perf_counter()
counts = [len(FilterRun(index, compile_filter(f)).rows()) for f in sys.argv[2:]]
done(step_s=time.perf_counter() - t, detail=" / ".join(f"{n:,}" for n in counts) + " packets")
""",
    "follow the biggest TCP stream": """
from ftptui.streams.follow import follow_tcp
t = time.perf_counter()
s = follow_tcp(index, biggest_stream(index))
done(step_s=time.perf_counter() - t, detail=f"{sum(len(c.data) for c in s.chunks if not c.gap):,} bytes")
""",
    "FTP analysis": """
from ftptui.ftp.analysis import analyse
t = time.perf_counter()
a = analyse(index)
done(step_s=time.perf_counter() - t, detail=f"{len(a.sessions)} sessions, {len(a.transfers)} transfers")
""",
    "conversations (every type)": """
from ftptui.streams.conversations import KINDS, conversations
t = time.perf_counter()
counts = [len(conversations(index, kind)) for kind in KINDS]
done(step_s=time.perf_counter() - t, detail=" / ".join(f"{n:,}" for n in counts) + " (eth, ip, ipv6, tcp, udp)")
""",
}
APP = r"""
import asyncio, json, resource, sys, time, os, tempfile
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp()
from ftptui.cli.main import give_back_freed_memory
give_back_freed_memory()  # as the ftptui command does
from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen

async def wait(app, pilot, test, what):
    deadline = time.monotonic() + 1800
    while not test():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {what}")
        await pilot.pause(0.1)

async def main(path, filters):
    t0 = time.perf_counter()
    app = FtptuiApp(path)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait(app, pilot, lambda: isinstance(app.screen, BrowserScreen) and app.screen.index.done, "index")
        browser = app.screen
        for f in filters:
            browser.apply_filter(f)
            await wait(app, pilot, lambda: browser.job is None, "filter")
        browser.apply_filter("")
        await pilot.pause()
        for key in ("F", "escape", "C", "e", "4", "6", "u", "t", "escape", "T", "escape", "D", "escape"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        n = len(browser.index)
    print(json.dumps({"packets": n, "step_s": time.perf_counter() - t0,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "detail": "index, 4 filters, follow, every conversation type, FTP view, diagram"}))

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"""


def child(code: str, pcap: str) -> dict:
    p = subprocess.run([sys.executable, "-c", code, pcap, *FILTERS], capture_output=True, text=True, cwd=REPO)
    if p.returncode:
        raise SystemExit(f"step failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


TSHARK = r"""
import os, resource, subprocess, sys, tempfile, time
with tempfile.TemporaryDirectory() as home:
    t = time.perf_counter()
    p = subprocess.run(["tshark", "-r", sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "HOME": home})
    print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, p.returncode)
"""


def tshark_rss(pcap: str) -> tuple[float, int] | None:
    """tshark reading (dissecting) the whole file, `tshark -r FILE > /dev/null`, in a process of
    its own so that its peak memory is not mixed with ftptui's."""
    p = subprocess.run([sys.executable, "-c", TSHARK, pcap], capture_output=True, text=True)
    try:
        seconds, rss, rc = p.stdout.split()
    except ValueError:
        return None
    return (float(seconds), int(rss)) if int(rc) in (0, 2) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=5_000_000)
    ap.add_argument("--pcap", help="default: bench/out/big-N.pcap (made when missing)")
    ap.add_argument("--skip-tshark", action="store_true")
    args = ap.parse_args()
    pcap = args.pcap or os.path.join(REPO, "bench", "out", f"big-{args.packets}.pcap")
    if not os.path.exists(pcap):
        os.makedirs(os.path.dirname(pcap), exist_ok=True)
        subprocess.run([sys.executable, MAKER, str(args.packets), pcap], check=True)
    size = os.path.getsize(pcap)
    print(f"{pcap}: {size / 1e9:.2f} GB; limit {LIMIT_MB} MB of peak resident memory per process\n")
    print("| step (a fresh process each) | peak RSS | time | what |")
    print("|---|---|---|---|")
    worst = 0
    for name, code in STEPS.items():
        r = child(COMMON + code, pcap)
        worst = max(worst, r["rss_mb"])
        took = r.get("step_s", r["index_s"])
        detail = r.get("detail") or f"{r['packets']:,} packets"
        print(f"| {name} | {r['rss_mb']} MB | {took:.1f} s | {detail} |", flush=True)
    r = child(APP, pcap)
    worst = max(worst, r["rss_mb"])
    print(f"| the app, all of it in one session | {r['rss_mb']} MB | {r['step_s']:.1f} s | {r['detail']} |")
    if not args.skip_tshark:
        t = tshark_rss(pcap)
        if t:
            print(f"| tshark -r FILE > /dev/null (dissecting it once) | {t[1]} MB | {t[0]:.1f} s | |")
    print(f"\nworst: {worst} MB ({'within' if worst < LIMIT_MB else 'OVER'} the {LIMIT_MB} MB limit)")
    sys.exit(0 if worst < LIMIT_MB else 1)


if __name__ == "__main__":
    main()
