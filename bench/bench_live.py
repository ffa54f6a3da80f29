#!/usr/bin/env python3
"""Live capture speed: the highest packet rate each tool captures without losing a packet.

A network namespace made by this script holds a veth pair (fta <-> ftb, addresses in the
198.18.0.0/15 benchmarking range, nothing leaves the namespace).  UDP frames are replayed onto
fta at increasing rates (tcpreplay when installed, else a raw-socket sender of our own) while one
capture tool at a time listens on ftb:

    ftptui  -i ftb -f "udp dst port 9" --print -w OUT   (stdout to /dev/null)
    tshark  -i ftb -f "udp dst port 9" -w OUT -P        (prints too, stdout to /dev/null)
    tcpdump -i ftb -w OUT "udp dst port 9"

A rate passes when the written file holds every packet sent.  The namespace (and the veths in
it) is deleted at the end, also on Ctrl-C.  Needs root and iproute2.

    sudo python bench/bench_live.py [--rates 10000,50000,...] [--seconds 2] [--size 128]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NS = f"ftptui-bench-{os.getpid()}"
TX, RX = "fta", "ftb"
SRC_IP, DST_IP = "198.18.0.1", "198.18.0.2"
BPF = "udp dst port 9"
RATES = [10_000, 25_000, 50_000, 100_000, 150_000, 200_000, 300_000, 400_000, 600_000]
MAX_PACKETS = 600_000

SENDER = r"""
import socket, sys, time
iface, rate, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
frames, pos = [], 24
while pos < len(data):
    cl = int.from_bytes(data[pos + 8:pos + 12], "little")
    frames.append(data[pos + 16:pos + 16 + cl]); pos += 16 + cl
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
send, n, nf = s.send, 0, len(frames)
t0 = time.perf_counter()
while n < count:
    due = min(count, int((time.perf_counter() - t0) * rate) + 1)
    while n < due:
        try:
            send(frames[n % nf]); n += 1
        except BlockingIOError:
            pass
    if n < count and due - n <= 0:
        ahead = n / rate - (time.perf_counter() - t0)
        if ahead > 0.0005:
            time.sleep(ahead - 0.0002)
print(n, time.perf_counter() - t0)
"""


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


def in_ns(*cmd) -> list[str]:
    return ["ip", "netns", "exec", NS, *cmd]


def setup() -> str:
    sh("ip", "netns", "add", NS)
    sh("ip", "-n", NS, "link", "add", TX, "type", "veth", "peer", "name", RX)
    for dev, ip in ((TX, SRC_IP), (RX, DST_IP)):
        sh("ip", "netns", "exec", NS, "sysctl", "-q", "-w", f"net.ipv6.conf.{dev}.disable_ipv6=1", check=False)
        sh("ip", "-n", NS, "addr", "add", f"{ip}/30", "dev", dev)
        sh("ip", "-n", NS, "link", "set", dev, "up")
    sh("ip", "-n", NS, "link", "set", "lo", "up")
    mac = sh("ip", "netns", "exec", NS, "cat", f"/sys/class/net/{RX}/address").stdout.strip()
    return mac


def cleanup() -> None:
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def make_frames(path: Path, dst_mac: str, size: int, n: int = 1000) -> None:
    """n UDP frames of `size` bytes (198.18.0.1:PORT -> 198.18.0.2:9), as a pcap for tcpreplay."""
    rnd = random.Random(1)
    dmac = bytes.fromhex(dst_mac.replace(":", ""))
    smac = bytes.fromhex("020000000001")
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    for k in range(n):
        payload = struct.pack("!I", k) + bytes(rnd.getrandbits(8) for _ in range(size - 14 - 20 - 8 - 4))
        udp = struct.pack("!HHHH", 10000 + k % 5000, 9, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF, 0, 64, 17, 0,
                         bytes(map(int, SRC_IP.split("."))), bytes(map(int, DST_IP.split("."))))
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = dmac + smac + b"\x08\x00" + ip + udp
        out.append(struct.pack("<IIII", k // 1000, k % 1000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def count_records(path: Path) -> int:
    """Packets in a pcap or pcapng file (complete records only)."""
    sys.path.insert(0, str(ROOT))
    from ftptui.capture.reader import open_capture
    if not path.exists() or path.stat().st_size < 24:
        return 0
    cap = open_capture(str(path))
    n = sum(len(b) for b in cap.scan())
    cap.close()
    return n


def wait_stable(path: Path, want: int, quiet: float = 1.0, limit: float = 60.0) -> None:
    """Until the file holds `want` packets, or its size has not changed for `quiet` seconds."""
    last, since, t0 = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < limit:
        size = path.stat().st_size if path.exists() else 0
        if size != last:
            last, since = size, time.monotonic()
            if count_records(path) >= want:
                return
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def wait_ready(proc, marker: bytes, limit: float = 30.0) -> bytes:
    err = b""
    t0 = time.monotonic()
    os.set_blocking(proc.stderr.fileno(), False)
    while marker not in err:
        if proc.poll() is not None or time.monotonic() - t0 > limit:
            raise RuntimeError(f"capture did not start: {err.decode(errors='replace')}")
        try:
            err += os.read(proc.stderr.fileno(), 4096) or b""
        except BlockingIOError:
            time.sleep(0.02)
    return err


def tools(out: Path, count: int) -> dict[str, tuple[list[str], bytes]]:
    t = {"ftptui": ([sys.executable, "-m", "ftptui", "-i", RX, "-f", BPF, "--print", "-c", str(count),
                     "-w", str(out)], b"Capturing on")}
    if shutil.which("tshark"):
        t["tshark"] = (["tshark", "-i", RX, "-f", BPF, "-w", str(out), "-P"], b"Capturing on")
    if shutil.which("tcpdump"):
        t["tcpdump"] = (["tcpdump", "-i", RX, "-w", str(out), "-Z", "root", BPF], b"listening on")
    return t


def send(frames: Path, rate: int, count: int) -> tuple[int, float, str]:
    if shutil.which("tcpreplay"):
        res = sh(*in_ns("tcpreplay", "-q", "-i", TX, f"--pps={rate}", f"--limit={count}",
                        "--loop=0", str(frames)), check=False)
        lines = [ln.strip() for ln in res.stdout.splitlines()]
        actual = next((ln.split() for ln in lines if ln.startswith("Actual:")), None)
        if res.returncode != 0 or actual is None:
            raise RuntimeError(f"tcpreplay failed: {res.stderr.strip() or res.stdout.strip()}")
        ok = next((int(ln.split()[-1]) for ln in lines if ln.startswith("Successful packets:")), int(actual[1]))
        return ok, float(actual[-2]), "tcpreplay"
    res = sh(*in_ns(sys.executable, "-c", SENDER, TX, str(rate), str(count), str(frames)))
    n, secs = res.stdout.split()
    return int(n), float(secs), "python raw socket"


def measure(tool: str, cmd: list[str], marker: bytes, frames: Path, rate: int, count: int, out: Path):
    if out.exists():
        out.unlink()
    proc = subprocess.Popen(in_ns(*cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=ROOT, start_new_session=True)
    try:
        wait_ready(proc, marker)
        sent, secs, sender = send(frames, rate, count)
        wait_stable(out, sent)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        # ftptui goes on printing what it captured; the file is complete once it stops growing
        wait_stable(out, sent, quiet=0.5, limit=10)
    finally:
        if proc.poll() is None:
            try:
                proc.wait(3 if tool != "ftptui" else 0.5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    got = count_records(out)
    return sent, got, secs, sender


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default=",".join(map(str, RATES)), help="packets/s, comma-separated")
    ap.add_argument("--seconds", type=float, default=2.0, help="traffic per rate (capped at 600k packets)")
    ap.add_argument("--size", type=int, default=128, help="frame size in bytes")
    ap.add_argument("--tools", default="ftptui,tshark,tcpdump")
    args = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("bench_live: needs root and iproute2 (ip)", file=sys.stderr)
        return 2
    rates = [int(r) for r in args.rates.split(",")]
    wanted = args.tools.split(",")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    work = Path(tempfile.mkdtemp(prefix="ftptui-bench-live-"))
    best: dict[str, int] = {}
    failed: dict[str, int] = {}
    try:
        mac = setup()
        frames = work / "frames.pcap"
        make_frames(frames, mac, args.size)
        print(f"veth pair {TX} -> {RX} in netns {NS}; {args.size}-byte UDP frames; "
              f"{args.seconds:g} s per rate; filter '{BPF}'")
        print(f"{'rate/s':>8} {'tool':8} {'sent':>8} {'captured':>9} {'lost':>7} {'achieved/s':>10}  sender")
        for rate in rates:
            count = min(MAX_PACKETS, int(rate * args.seconds))
            for tool, (cmd, marker) in tools(work / "out.cap", count).items():
                if tool not in wanted or failed.get(tool, 0) >= 2:
                    continue
                sent, got, secs, sender = measure(tool, cmd, marker, frames, rate, count, work / "out.cap")
                lost = sent - got
                achieved = sent / secs if secs else 0
                print(f"{rate:>8} {tool:8} {sent:>8} {got:>9} {lost:>7} {achieved:>10.0f}  {sender}", flush=True)
                if lost <= 0:
                    best[tool] = max(best.get(tool, 0), int(min(rate, achieved)))
                    failed[tool] = 0
                else:
                    failed[tool] = failed.get(tool, 0) + 1
        print("\nhighest rate without loss (as achieved by the sender):")
        for tool in wanted:
            if tool in best or tool in failed:
                note = "" if failed.get(tool) else "  (no loss at any rate tried: the sender was the limit)"
                print(f"  {tool:8} {best.get(tool, 0):>8} packets/s{note}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
