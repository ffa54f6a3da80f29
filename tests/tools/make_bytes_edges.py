#!/usr/bin/env python3
"""Build tests/data/filters/bytes-edges.pcap: packets at the edges of the raw-bytes filter paths.

    python tests/tools/make_bytes_edges.py

Filters on `frame` and `tcp.payload` read the packets' bytes without dissecting (ftptui/dfilter/
spans.py), and tests on FTP/HTTP text fields first keep the packets whose bytes hold the string
(prefilter.needles).  Each packet here is a case where a shortcut could go wrong; the filters in
tests/data/filters/cases.tsv (group "Payload filters") run on it against tshark's answers.

Deterministic: fixed times, addresses and sequence numbers; scapy computes checksums.  Prints the
hex of the bytes around the boundary between frames 8 and 9 (a string "spanning two packets"),
which cases.tsv uses.
"""
from __future__ import annotations

import struct
from pathlib import Path

from scapy.all import DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw

OUT = Path(__file__).resolve().parent.parent / "data" / "filters" / "bytes-edges.pcap"
T0 = 1_700_000_000
CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
MAC_C, MAC_S = "02:00:00:00:00:01", "02:00:00:00:00:02"


def ftp(payload: bytes, to_server: bool = True, seq: int = 1000, **ip: int) -> bytes:
    src, dst = (CLIENT, SERVER) if to_server else (SERVER, CLIENT)
    ports = dict(sport=40000, dport=21) if to_server else dict(sport=21, dport=40000)
    return bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src=src, dst=dst, **ip)
                 / TCP(flags="PA", seq=seq, ack=1, **ports) / Raw(payload))


def http(payload: bytes, seq: int = 5000) -> bytes:
    return bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=SERVER)
                 / TCP(sport=40001, dport=80, flags="PA", seq=seq, ack=1) / Raw(payload))


def packets() -> list[tuple[bytes, int]]:
    """(captured bytes, length on the wire) per frame, in order."""
    out: list[tuple[bytes, int]] = []

    def add(data: bytes, wire: int | None = None) -> None:
        out.append((data, len(data) if wire is None else wire))

    add(ftp(b"220 Welcome admin\r\n", to_server=False))                       # 1
    add(ftp(b"USER admin\r\n"))                                               # 2
    add(ftp(b"331 ok\r\n", to_server=False, seq=2000))                        # 3: padded to 60 bytes
    add(ftp(b"PASS ABC\r\n", seq=1012))                                       # 4
    add(ftp(b"RETR report.txt\r\n", seq=1022))                                # 5
    # 6: Ethernet padding (the trailer holds "PAD!") after a 2-byte payload: in the frame, not the payload
    add(ftp(b"ok", to_server=False, seq=2008) + b"PAD!")
    # 7: a segment cut by the snap length: "RETR very" is captured, "longname.txt" is not
    whole = ftp(b"RETR verylongname.txt\r\n", seq=1040)
    add(whole[:whole.index(b"very") + 4], len(whole))
    # 8 and 9: the payload of 8 ends in "XY", that of 9 starts with "ZW"
    add(ftp(b"STOR XY", seq=1063))                                            # 8
    add(ftp(b"ZW\r\n", seq=1070))                                             # 9
    # 10: IPv4 total length 0 (segmentation offload): the dissector takes the captured length
    tso = bytearray(ftp(b"USER tso\r\n", seq=1074))
    tso[16:18] = b"\0\0"
    add(bytes(tso))
    # 11: a TCP header of 60 bytes (data offset 15) with only 30 of them captured
    long_hdr = bytearray(ftp(b"", seq=1084))
    long_hdr[14 + 20 + 12] = 0xF0 | (long_hdr[14 + 20 + 12] & 0x0F)
    add(bytes(long_hdr[:14 + 20 + 30]) + b"USER cut\r\n", len(long_hdr) + 40)
    # 12: a bogus data offset of 4 (16 bytes): no payload for the dissector
    bogus = bytearray(ftp(b"USER bogus\r\n", seq=1084))
    bogus[14 + 20 + 12] = 0x40 | (bogus[14 + 20 + 12] & 0x0F)
    add(bytes(bogus))
    # 13: IPv6
    add(bytes(Ether(src=MAC_C, dst=MAC_S) / IPv6(src="2001:db8::1", dst="2001:db8::2")
              / TCP(sport=40002, dport=21, flags="PA", seq=1, ack=1) / Raw(b"STOR v6file.txt\r\n")))
    # 14: a DNS query (the name's wire form has length bytes, not dots) and 15: UDP "admin"
    add(bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=SERVER) / UDP(sport=33333, dport=53)
              / DNS(id=7, qd=DNSQR(qname="www.example.com"))))
    add(bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=SERVER) / UDP(sport=4000, dport=4001)
              / Raw(b"admin USER")))
    # 16: an ICMP error quoting a TCP header from port 21 (the columns cannot place its fields: the
    # packet is dissected).  Not with a payload: tshark gives the quoted segment a tcp.payload,
    # ftptui's dissector does not.
    quoted = IP(src=SERVER, dst=CLIENT) / TCP(sport=21, dport=40000, flags="PA", seq=9, ack=1)
    add(bytes(Ether(src=MAC_S, dst=MAC_C) / IP(src="10.0.0.254", dst=SERVER) / ICMP(type=3, code=1) / quoted))
    # 17: 802.1Q
    add(bytes(Ether(src=MAC_C, dst=MAC_S) / Dot1Q(vlan=5) / IP(src=CLIENT, dst=SERVER)
              / TCP(sport=40003, dport=21, flags="PA", seq=1, ack=1) / Raw(b"RETR vlan.txt\r\n")))
    # 18-20: HTTP: a request (non-ASCII User-Agent), its response, a POST whose Host is upper case
    add(http(b"GET /index.php?q=a%20b HTTP/1.1\r\nHost: example.com\r\n"
             b"User-Agent: t\xc3\xa9st/1.0\r\nAccept: */*\r\n\r\n"))
    add(bytes(Ether(src=MAC_S, dst=MAC_C) / IP(src=SERVER, dst=CLIENT)
              / TCP(sport=80, dport=40001, flags="PA", seq=1, ack=5100)
              / Raw(b"HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 11\r\n\r\nhello admin")))
    add(http(b"POST /login HTTP/1.1\r\nHost: EXAMPLE.ORG\r\nContent-Length: 0\r\n\r\n", seq=5100))
    return out


def write(path: Path, frames: list[tuple[bytes, int]]) -> list[int]:
    """A classic little-endian microsecond pcap; returns each record's file offset."""
    offsets = []
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k, (data, wire) in enumerate(frames):
            offsets.append(f.tell())
            f.write(struct.pack("<IIII", T0 + k, 0, len(data), wire) + data)
    return offsets


def main() -> None:
    frames = packets()
    offsets = write(OUT, frames)
    raw = OUT.read_bytes()
    end_of_8 = offsets[8]  # record 9's header starts where frame 8 ends
    span = raw[end_of_8 - 2:end_of_8 + 16 + 2]
    print(f"wrote {OUT} ({len(frames)} frames); bytes spanning frames 8 and 9: {span.hex(':')}")


if __name__ == "__main__":
    main()
