#!/usr/bin/env python3
"""Capture a real FTP transfer through a lossy link: tests/data/analysis/netns-lossy-ftp.pcap.

Needs root and `ip`, `tcpdump`, pyftpdlib.  Two network namespaces (client, server) are joined
by two TUN devices whose other ends this script holds: it relays the IP packets between them
and drops, delays (reorders) and duplicates some, with a seeded random generator.  The Linux
TCP stacks on both sides react as they do on a bad network (SACK, fast retransmit, RTO...).
tcpdump records the client's side.  Kernel timing makes every run different: the committed
capture is the reference, with tshark's outputs beside it.

    sudo python tests/tools/make_netns_capture.py [OUT.pcap] [--tshark]
"""
from __future__ import annotations

import fcntl
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time

from tcp_analysis_table import write_tshark_fixtures  # a sibling tool

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
NS_C, NS_S = "ftptui-c", "ftptui-s"
IP_C, IP_S = "10.9.0.2", "10.9.0.1"
LOSS, REORDER, DUP = 0.04, 0.03, 0.01  # per packet, each direction
FILE_BYTES = 300_000

SERVER = r"""
import logging, os, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
logging.disable(logging.CRITICAL)
root = sys.argv[1]
auth = DummyAuthorizer(); auth.add_anonymous(root)
FTPHandler.authorizer = auth
FTPHandler.passive_ports = range(40000, 40010)
FTPHandler.banner = "ftptui lossy-link test server"
FTPServer(("10.9.0.1", 21), FTPHandler).serve_forever()
"""

CLIENT = r"""
import ftplib, io
ftp = ftplib.FTP("10.9.0.1", timeout=60)
ftp.login()
buf = io.BytesIO()
ftp.retrbinary("RETR lossy.bin", buf.write)
ftp.quit()
print(len(buf.getvalue()))
"""


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def setup() -> tuple[int, int]:
    for ns in (NS_C, NS_S):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        sh("ip", "netns", "add", ns)
    fds = []
    for ns, tun, me, peer in ((NS_C, "tunc", IP_C, IP_S), (NS_S, "tuns", IP_S, IP_C)):
        fds.append(open_tun(tun))
        sh("ip", "link", "set", tun, "netns", ns)
        sh("ip", "-n", ns, "addr", "add", me, "peer", peer, "dev", tun)
        sh("ip", "-n", ns, "link", "set", tun, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    return fds[0], fds[1]


def relay(fd_c: int, fd_s: int, stop_at: list, rng: random.Random) -> None:
    """Forward packets between the two TUNs until stop_at[0] passes, with impairments."""
    pending: list[tuple[float, int, bytes]] = []  # (due time, destination fd, packet)
    peer = {fd_c: fd_s, fd_s: fd_c}
    while time.monotonic() < stop_at[0]:
        now = time.monotonic()
        timeout = min([p[0] for p in pending], default=now + 0.05) - now
        ready, _, _ = select.select([fd_c, fd_s], [], [], max(0.0, timeout))
        for fd in ready:
            pkt = os.read(fd, 65535)
            r = rng.random()
            if r < LOSS:
                continue
            delay = 0.004 if r < LOSS + REORDER else 0.0  # later packets overtake this one
            pending.append((time.monotonic() + delay, peer[fd], pkt))
            if rng.random() < DUP:
                pending.append((time.monotonic() + 0.001, peer[fd], pkt))
        now = time.monotonic()
        due = [p for p in pending if p[0] <= now]
        pending = [p for p in pending if p[0] > now]
        for _, fd, pkt in sorted(due, key=lambda p: p[0]):
            os.write(fd, pkt)


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    out = next((a for a in argv if not a.startswith("--")),
               os.path.join(here, "..", "data", "analysis", "netns-lossy-ftp.pcap"))
    out = os.path.abspath(out)
    rng = random.Random(20240601)
    fd_c, fd_s = setup()
    root = tempfile.mkdtemp()
    with open(os.path.join(root, "lossy.bin"), "wb") as f:
        f.write(bytes(rng.randrange(32, 127) for _ in range(FILE_BYTES)))
    procs = []
    try:
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_S, sys.executable, "-c", SERVER, root]))
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_C, "tcpdump", "-i", "tunc", "-U", "-s", "0",
                                       "-w", out, "tcp"], stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        client = subprocess.Popen(["ip", "netns", "exec", NS_C, sys.executable, "-c", CLIENT],
                                  stdout=subprocess.PIPE, text=True)
        stop_at = [time.monotonic() + 120]
        worker = threading.Thread(target=relay, args=(fd_c, fd_s, stop_at, rng), daemon=True)
        worker.start()
        got = client.communicate(timeout=120)[0].strip()
        time.sleep(1.0)  # let the last segments through
        stop_at[0] = 0
        worker.join()
        print(f"client received {got} bytes")
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait()
        for ns in (NS_C, NS_S):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    if "--tshark" in argv:
        write_tshark_fixtures(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
