#!/usr/bin/env python3
"""Build tests/data/hostile/: small captures whose bytes an attacker chose, for the safety tests.

    python tests/tools/make_hostile_captures.py [--tshark]

Deterministic (fixed ISNs and times; scapy computes checksums).  With --tshark, also writes
F.tshark.txt (`tshark -r F`, run inside the directory with a fresh HOME) beside each capture
that tshark reads, so tests compare ftptui's list with tshark's.

  markup.pcap      capture text that is Textual/Rich markup or terminal escapes: an FTP banner
                   with an [@click=...] action, USER with a [link=...] tag, PASS "[/]", a RETR of
                   a file whose name holds markup, an escape sequence and U+202E (with its PASV
                   data connection), a DNS query for "[/].example.com", an HTTP "GET /[/]"
  order.pcap       two TCP connections where the one opened second sends data first, and an FTP
                   session on port 2121 opened after (and speaking before) a port-80 connection
  arp-hlen.pcap    ARP requests with hardware address lengths 8 and 0
  linktype-big.pcap  a pcap header with link type 70000 (and one packet)
  tsresol20.pcapng   a pcapng interface with if_tsresol 20 (10^-20 s per tick)
  regex.pcap       40 TCP segments of 1,399 "a" and a "!": "(a+)+$" backtracks forever over each
                   in a backtracking regex engine (tshark's PCRE2 gives up on its match limit)
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from scapy.all import ARP, DNS, DNSQR, IP, TCP, UDP, Ether, Raw, wrpcap

OUT = Path(__file__).resolve().parent.parent / "data" / "hostile"
T0 = 1_700_000_000.0
MAC_C, MAC_S = "02:00:00:00:00:02", "02:00:00:00:00:01"

# what the issue found, byte for byte (tests import these names from here)
BANNER = b"220 [@click=app.quit]Click to continue[/]\r\n"
SCREENSHOT = "[@click=app.screenshot('x.svg','/tmp')]shot[/]"
USER = '[link="https://evil.example/phish"]admin[/link]'
PASSWORD = "[/]"
FILE_NAME = "[b]report[/b]\x1b]0;pwned\x07\u202etxt.exe"
DNS_NAME = "[/].example.com"
HTTP_PATH = "/[/]"


class Capture:
    def __init__(self):
        self.packets, self.t = [], T0

    def add(self, pkt, dt=0.001):
        self.t += dt
        pkt.time = self.t
        self.packets.append(pkt)


class Conn:
    """One TCP connection; side 0 is the client (it opens), side 1 the server."""

    def __init__(self, cap: Capture, client: str, server: str, cport: int, sport: int, isn=(1000, 5000)):
        self.cap, self.addrs, self.ports = cap, (client, server), (cport, sport)
        self.nxt = [isn[0], isn[1]]

    def send(self, side: int, data: bytes = b"", flags: str = "PA"):
        src, dst = self.addrs if side == 0 else self.addrs[::-1]
        sport, dport = self.ports if side == 0 else self.ports[::-1]
        smac, dmac = (MAC_C, MAC_S) if side == 0 else (MAC_S, MAC_C)
        ack = self.nxt[1 - side] if "A" in flags else 0
        pkt = Ether(src=smac, dst=dmac) / IP(src=src, dst=dst) / TCP(
            sport=sport, dport=dport, seq=self.nxt[side], ack=ack, flags=flags, window=8192)
        if data:
            pkt = pkt / Raw(data)
        self.cap.add(pkt)
        self.nxt[side] += len(data) + (1 if ("S" in flags or "F" in flags) else 0)

    def open(self):
        self.send(0, flags="S")
        self.send(1, flags="SA")
        self.send(0, flags="A")

    def close(self):
        self.send(0, flags="FA")
        self.send(1, flags="FA")
        self.send(0, flags="A")

    def say(self, side: int, data: bytes):
        self.send(side, data)
        self.send(1 - side, flags="A")


def markup() -> Capture:
    cap = Capture()
    client, server = "10.9.0.2", "10.9.0.1"
    ctl = Conn(cap, client, server, 40001, 21)
    ctl.open()
    ctl.say(1, BANNER)
    ctl.say(0, f"USER {USER}\r\n".encode())
    ctl.say(1, b"331 Please specify the password.\r\n")
    ctl.say(0, f"PASS {PASSWORD}\r\n".encode())
    ctl.say(1, f"230 {SCREENSHOT}\r\n".encode())
    ctl.say(0, b"PASV\r\n")
    ctl.say(1, b"227 Entering Passive Mode (10,9,0,1,195,80).\r\n")
    name = FILE_NAME.encode("utf-8")
    ctl.say(0, b"RETR " + name + b"\r\n")
    data = Conn(cap, client, server, 40002, 50000, isn=(7000, 9000))
    data.open()
    ctl.say(1, b"150 Opening BINARY mode data connection for " + name + b" (75 bytes).\r\n")
    data.say(1, b"[@click=app.quit]content[/] \x1b[31mred\x1b[0m \x1b]8;;https://x/\x07link\x1b]8;;\x07\n" + b"x" * 7)
    data.close()
    ctl.say(1, b"226 Transfer complete.\r\n")
    ctl.say(0, b"QUIT\r\n")
    ctl.say(1, b"221 Goodbye.\r\n")
    ctl.close()
    cap.add(Ether(src=MAC_C, dst=MAC_S) / IP(src=client, dst="10.9.0.53") / UDP(sport=53000, dport=53)
            / DNS(id=0x1234, rd=1, qd=DNSQR(qname=DNS_NAME)))
    http = Conn(cap, client, "10.9.0.80", 40003, 80, isn=(11000, 13000))
    http.open()
    http.say(0, f"GET {HTTP_PATH} HTTP/1.1\r\nHost: [b]x[/b]\r\nUser-Agent: \x1b[2J\r\n\r\n".encode())
    http.close()
    return cap


def order() -> Capture:
    """The stream opened second speaks first: stream order is not frame order."""
    cap = Capture()
    a = Conn(cap, "10.8.0.2", "10.8.0.80", 41000, 80)
    b = Conn(cap, "10.8.0.2", "10.8.0.21", 41001, 2121, isn=(20000, 30000))
    c = Conn(cap, "10.8.0.3", "10.8.0.81", 41002, 8080, isn=(40000, 50000))
    a.open()
    b.open()
    c.open()
    b.say(1, b"220 ProFTPD Server ready.\r\n")
    c.say(0, b"hello\r\n")
    a.say(0, b"GET / HTTP/1.0\r\n\r\n")
    b.say(0, b"USER anonymous\r\n")
    b.say(1, b"331 Anonymous login ok.\r\n")
    b.say(0, b"PASS guest@\r\n")
    b.say(1, b"230 Anonymous access granted.\r\n")
    a.say(1, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    b.say(0, b"QUIT\r\n")
    b.say(1, b"221 Goodbye.\r\n")
    for conn in (a, b, c):
        conn.close()
    return cap


def regex() -> Capture:
    cap = Capture()
    conn = Conn(cap, "10.5.0.2", "10.5.0.1", 40005, 9000)
    conn.open()
    for _ in range(40):
        conn.send(0, b"a" * 1399 + b"!")
    conn.close()
    return cap


def arp_hlen() -> Capture:
    cap = Capture()
    for hwlen in (8, 0):
        arp = ARP(hwtype=1, ptype=0x0800, hwlen=hwlen, plen=4, op=1)
        body = bytes(arp)[:8] + bytes(range(1, hwlen + 1)) + bytes([10, 7, 0, 2]) + bytes(hwlen) + bytes([10, 7, 0, 1])
        cap.add(Ether(src=MAC_C, dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(body))
    return cap


def linktype_big() -> bytes:
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 70000)
    data = b"\x45" + bytes(19)
    return head + struct.pack("<IIII", int(T0), 0, len(data), len(data)) + data


def tsresol20() -> bytes:
    def block(kind: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = struct.pack("<HH", 9, 1) + bytes([20]) + bytes(3) + struct.pack("<HH", 0, 0)
    idb = block(1, struct.pack("<HHI", 1, 0, 65535) + opts)
    frame = bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src="10.6.0.2", dst="10.6.0.1") / UDP(sport=1, dport=2))
    ticks = 1_700_000_000 * 10**20
    epb = block(6, struct.pack("<IIIII", 0, ticks >> 32 & 0xFFFFFFFF, ticks & 0xFFFFFFFF, len(frame), len(frame)) + frame)
    return shb + idb + epb


def tshark_text(path: Path) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, LC_ALL="C.UTF-8", TZ="UTC")
        run = subprocess.run(["tshark", "-r", path.name], cwd=path.parent, env=env, capture_output=True)
    path.with_name(path.name + ".tshark.txt").write_bytes(run.stdout)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in (("markup.pcap", markup), ("order.pcap", order), ("arp-hlen.pcap", arp_hlen),
                       ("regex.pcap", regex)):
        wrpcap(str(OUT / name), make().packets)
        written.append(OUT / name)
    (OUT / "linktype-big.pcap").write_bytes(linktype_big())
    (OUT / "tsresol20.pcapng").write_bytes(tsresol20())
    written.append(OUT / "tsresol20.pcapng")
    if "--tshark" in sys.argv[1:]:
        if not shutil.which("tshark"):
            print("tshark is not installed: apt-get install -y tshark", file=sys.stderr)
            return 1
        for path in written:
            tshark_text(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
