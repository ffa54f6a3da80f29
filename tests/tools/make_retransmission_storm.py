#!/usr/bin/env python3
"""Write tests/data/analysis/retransmission-storm.pcap: one TCP connection whose sender
retransmits old segments out of order thousands of times while the receiver repeats the same
ACK (so up to tshark's 10,000 unacknowledged segments pile up), then the receiver ACKs part of
it and finally everything.  This is the case where the analysis was quadratic.

    python tests/tools/make_retransmission_storm.py [OUT] [--tshark] [--segments N]

Deterministic (no randomness); --tshark also writes OUT.tshark.txt and OUT.analysis.tsv.
--segments (3,000 for the test fixture): data segments sent, two thirds of them retransmissions
(bench/bench_latency.py --capture storm writes one of 30,000).
"""
from __future__ import annotations

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "analysis", "retransmission-storm.pcap")
CLIENT, SERVER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def packet(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def packets(segments: int = 3000) -> list[bytes]:
    c, s = (CLIENT, SERVER, 40000, 33333), (SERVER, CLIENT, 33333, 40000)  # no dissector on either port
    out = [packet(*c, 1000, 0, SYN), packet(*s, 5000, 1001, SYN | ACK), packet(*c, 1001, 5001, ACK)]
    seg = 100
    sent = 0
    for k in range(segments):  # new data, then old segments again in a scrambled order
        if k % 3 == 0:
            out.append(packet(*c, 1001 + sent * seg, 5001, ACK | PSH, bytes([k % 251]) * seg))
            sent += 1
        else:
            old = (k * 7919) % sent
            out.append(packet(*c, 1001 + old * seg, 5001, ACK | PSH, bytes([old % 251]) * seg))
        if k % 2 == 0:
            out.append(packet(*s, 5001, 1001, ACK))  # the same ACK again and again
    out.append(packet(*s, 5001, 1001 + (sent // 2) * seg, ACK))  # half of it
    out.append(packet(*s, 5001, 1001 + sent * seg, ACK))  # all of it
    out.append(packet(*c, 1001 + sent * seg, 5001, FIN | ACK))
    out.append(packet(*s, 5001, 1002 + sent * seg, FIN | ACK))
    out.append(packet(*c, 1002 + sent * seg, 5002, ACK))
    return out


def write(path: str, segments: int = 3000) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # raw IP
        for n, p in enumerate(packets(segments)):
            f.write(struct.pack("<IIII", 1_700_000_000 + n // 1000, (n % 1000) * 1000, len(p), len(p)) + p)


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--tshark"]
    segments = 3000
    if "--segments" in args:
        at = args.index("--segments")
        segments = int(args[at + 1])
        del args[at:at + 2]
    path = args[0] if args else OUT
    write(path, segments)
    if "--tshark" in sys.argv:
        sys.path.insert(0, HERE)
        from tcp_analysis_table import write_tshark_fixtures
        write_tshark_fixtures(path)


if __name__ == "__main__":
    main()
