#!/usr/bin/env python3
"""Build tests/data/analysis/lossy-ftp.pcap: a passive-mode FTP session whose data transfers
go through trouble, so that every tshark sequence-analysis label shows up.  Deterministic
(fixed ISNs, fixed times); scapy computes the checksums.

    python tests/tools/make_lossy_capture.py [OUT.pcap] [--tshark]

With --tshark, also writes OUT.tshark.txt (`tshark -r OUT`) and OUT.analysis.tsv
(tests/tools/tcp_analysis_table.py --tshark OUT), the expected outputs tests compare with.

What the capture holds (the capture point is next to the client):
  control connection: handshake with MSS/SACK/timestamps/window scale, login, PASV, RETR,
    idle keep-alives during the transfer and their ACKs, QUIT, FIN/ACK teardown;
  data connection 1: a lost segment (Previous segment not captured) with duplicate ACKs
    carrying SACK blocks and a fast retransmission, two swapped segments (Out-Of-Order), a
    segment lost at the end of a burst and retransmitted after a timeout (Retransmission),
    a retransmission of data already acknowledged (Spurious Retransmission), a segment the
    client received but the capture missed (ACKed unseen segment), the client's window
    filled exactly (Window Full), a zero window with a zero-window probe, its ACK and a
    window update;
  a second control connection from the same client port with new ISNs (Port numbers reused).
"""
from __future__ import annotations

import os
import sys

from scapy.all import IP, TCP, Ether, Raw, wrpcap  # noqa: E402
from tcp_analysis_table import write_tshark_fixtures  # noqa: E402 (a sibling tool)

CLIENT, SERVER = "10.1.0.2", "10.1.0.1"
MAC_C, MAC_S = "02:00:00:00:00:02", "02:00:00:00:00:01"
MSS = 1448
T0 = 1_700_000_000.0


class Conn:
    """One TCP connection seen from the capture point; side 0 = client, 1 = server."""

    def __init__(self, cap, cport, sport, isn_c, isn_s, ws=7):
        self.cap, self.ports = cap, (cport, sport)
        self.nxt = [isn_c, isn_s]  # next sequence number each side will send
        self.acked = [0, 0]  # what each side acknowledged last
        self.win = [502, 509]  # raw (unscaled) windows
        self.ts = [1000, 5000]
        self.ws = ws

    def send(self, side, data=b"", flags="A", seq=None, ack=None, win=None, sack=(), dt=0.0002,
             opts=None, advance=True):
        cap = self.cap
        cap.t += dt
        self.ts[side] += max(1, int(dt * 1000))
        seq = self.nxt[side] if seq is None else seq
        ack = self.nxt[side ^ 1] if ack is None else ack
        win = self.win[side] if win is None else win
        if opts is None:
            opts = [("NOP", None), ("NOP", None), ("Timestamp", (self.ts[side], self.ts[side ^ 1]))]
            if sack:
                opts += [("NOP", None), ("NOP", None), ("SAck", tuple(x & 0xFFFFFFFF for b in sack for x in b))]
        src, dst = (CLIENT, SERVER) if side == 0 else (SERVER, CLIENT)
        smac, dmac = (MAC_C, MAC_S) if side == 0 else (MAC_S, MAC_C)
        sport, dport = self.ports if side == 0 else self.ports[::-1]
        pkt = (Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, id=cap.ipid) /
               TCP(sport=sport, dport=dport, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF if "A" in flags else 0,
                   flags=flags, window=win, options=opts))
        cap.ipid += 1
        if data:
            pkt = pkt / Raw(data)
        pkt.time = cap.t
        cap.packets.append(pkt)
        if "A" in flags:
            self.acked[side] = ack
        if advance:
            end = seq + len(data) + (1 if ("S" in flags or "F" in flags) else 0)
            if end - self.nxt[side] > 0:
                self.nxt[side] = end
        return pkt

    def skip(self, side, data):
        """A segment sent but not captured: the sequence numbers move on."""
        self.nxt[side] += len(data)

    def handshake(self):
        syn_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (self.ts[0], 0)), ("NOP", None),
                    ("WScale", self.ws)]
        self.send(0, flags="S", win=64240, opts=syn_opts, dt=0.01)
        synack_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (self.ts[1], self.ts[0])),
                       ("NOP", None), ("WScale", self.ws)]
        self.send(1, flags="SA", win=65160, opts=synack_opts, dt=0.0004)
        self.send(0, dt=0.0002)

    def close(self, first):
        self.send(first, flags="FA", dt=0.001)
        self.send(first ^ 1, flags="FA", dt=0.0003)
        self.send(first, dt=0.0002)


class Capture:
    def __init__(self):
        self.t = T0
        self.ipid = 1
        self.packets = []


def chunk(k: int) -> bytes:
    """Segment k of the file: printable, recognisable bytes."""
    line = f"segment {k:04d} of the lossy transfer ".encode()
    return (line * (MSS // len(line) + 1))[:MSS]


def control_reply(ctl, text, dt=0.003):
    ctl.send(1, text.encode(), flags="PA", dt=dt)
    ctl.send(0, dt=0.0004)


def control_request(ctl, text, dt=0.02):
    ctl.send(0, text.encode(), flags="PA", dt=dt)
    ctl.send(1, dt=0.0003)


def first_transfer(cap, ctl):
    data = Conn(cap, 50010, 40001, 0x1000_0000, 0x8000_0000)
    data.handshake()
    control_request(ctl, "RETR lossy.bin\r\n", dt=0.001)
    control_reply(ctl, "150 Opening BINARY mode data connection for lossy.bin (72400 bytes).\r\n")
    k = 0

    def seg(dt=0.0003, **kw):
        nonlocal k
        pkt = data.send(1, chunk(k), flags="PA" if k % 8 == 7 else "A", dt=dt, **kw)
        k += 1
        return pkt

    # a clean start: 4 segments, ACK every second one
    for _ in range(2):
        seg()
        seg()
        data.send(0, dt=0.0002)
    # segment 4 is lost; 5..7 arrive and are duplicate-ACKed with SACK blocks; fast retransmit
    lost_seq = data.nxt[1]
    data.skip(1, chunk(k))
    k += 1
    for _ in range(3):
        seg()
        data.send(0, ack=lost_seq, sack=[(lost_seq + MSS, data.nxt[1])], dt=0.0001)
    cap.t += 0.0005
    data.send(1, chunk(4), seq=lost_seq, dt=0.0005, advance=False)  # fast retransmission
    data.send(0, dt=0.0002)
    # segments 8 and 9 swap places on the way
    s8 = data.nxt[1]
    data.skip(1, chunk(8))
    seg(dt=0.0003)  # 9: previous segment not captured
    data.send(1, chunk(8), seq=s8, dt=0.0004, advance=False)  # 8: out-of-order
    data.send(0, dt=0.0002)
    # the last segment of a burst is lost after the capture point: no duplicate ACKs, a
    # timeout resends it
    seg()
    lost_seq = data.nxt[1]
    seg()
    data.send(0, ack=lost_seq, dt=0.0002)  # ACKs segment 10 only
    data.send(1, chunk(11), seq=lost_seq, dt=0.21, advance=False)  # retransmission after the RTO
    data.send(0, dt=0.0003)
    # a retransmission of data the client already acknowledged
    spurious = data.nxt[1] - MSS
    data.send(1, chunk(11), seq=spurious, dt=0.0004, advance=False)
    data.send(0, sack=[(spurious, spurious + MSS)], dt=0.0001)  # D-SACK: a duplicate ACK
    # the client receives segment 12 but the capture misses it: its ACK acknowledges unseen data
    data.skip(1, chunk(12))
    k = 13
    seg()
    data.send(0, dt=0.0002)
    # a small receive window filled exactly by the server
    data.win[0] = 23  # 23 << 7 = 2944 bytes: two segments and 48 bytes
    data.send(0, dt=0.0002)  # window update to the small window
    seg()
    seg()
    data.send(1, b"48 bytes that reach the right edge of the window", flags="PA", dt=0.0003)  # Window Full
    # the receiver's buffer is full: zero window, probe, probe ACK, window update
    data.send(0, win=0, dt=0.0003)
    data.win[0] = 0
    probe = data.nxt[1]
    data.send(1, chunk(k)[:1], dt=0.2, advance=False)  # zero-window probe: one byte
    data.send(0, win=0, dt=0.0003)  # still zero, the probe byte was not taken
    data.win[0] = 502
    data.send(0, dt=0.05)  # window update
    data.send(1, chunk(k), seq=probe, dt=0.0004)  # the segment the probe came from
    k += 1
    for _ in range(4):
        seg()
        seg()
        data.send(0, dt=0.0002)
    data.close(first=1)
    return data


def reconnect(cap):
    """The client connects again from the same port: new ISNs on the same addresses and ports."""
    ctl = Conn(cap, 50000, 21, 0x4000_0000, 0xB000_0000)
    ctl.handshake()
    control_reply(ctl, "220 lossy FTP server ready.\r\n")
    control_request(ctl, "QUIT\r\n")
    control_reply(ctl, "221 Goodbye.\r\n")
    ctl.close(first=1)


def build() -> list:
    cap = Capture()
    ctl = Conn(cap, 50000, 21, 0x3000_0000, 0xA000_0000)
    ctl.handshake()
    control_reply(ctl, "220 lossy FTP server ready.\r\n")
    for request, reply in (("USER anonymous\r\n", "331 Please specify the password.\r\n"),
                           ("PASS guest@\r\n", "230 Login successful.\r\n"),
                           ("TYPE I\r\n", "200 Switching to Binary mode.\r\n"),
                           ("PASV\r\n", "227 Entering Passive Mode (10,1,0,1,156,65).\r\n")):
        control_request(ctl, request)
        control_reply(ctl, reply)
    first_transfer(cap, ctl)
    # the control connection was idle: the client probes it, the server answers
    ctl.send(0, seq=ctl.nxt[0] - 1, dt=1.0)
    ctl.send(1, dt=0.0004)
    control_reply(ctl, "226 Transfer complete.\r\n", dt=0.01)
    control_request(ctl, "QUIT\r\n")
    control_reply(ctl, "221 Goodbye.\r\n")
    ctl.close(first=1)
    cap.t += 2.0
    reconnect(cap)
    return cap.packets


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    out = next((a for a in argv if not a.startswith("--")),
               os.path.join(here, "..", "data", "analysis", "lossy-ftp.pcap"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    wrpcap(out, build())
    if "--tshark" in argv:
        write_tshark_fixtures(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
