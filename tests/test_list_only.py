"""The list-only dissection (`dissect(..., tree=False)`, what --print uses) gives every packet
the same columns as the full one the UI uses: for every capture under tests/data, and for
packets cut short at every length (where the decoders stop at a "[Malformed Packet]")."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from ftptui.capture import open_capture
from ftptui.dissect.packet import dissect
from ftptui.dissect.plain_tcp import plain_tcp_columns
from ftptui.dissect.tree import Dissection
from ftptui.errors import FtptuiError
from ftptui.ftp.analysis import analyse
from ftptui.store.index import PacketIndex
from ftptui.streams.analysis import TcpAnalysis

DATA = Path(__file__).parent / "data"
CAPTURES = sorted(p for p in DATA.rglob("*") if p.suffix in (".pcap", ".pcapng", ".gz"))
MAX_PACKETS = 3000  # per capture: enough for every kind of packet they hold


def columns(d: Dissection) -> tuple[object, ...]:
    """What the list shows of a packet: its columns and its colour (the UI's list is list-only too)."""
    return d.number, d.time, d.source, d.destination, d.protocol, d.length, d.info, d.malformed, d.color


def indexed(path: Path) -> PacketIndex | None:
    try:
        cap = open_capture(str(path))
    except FtptuiError:
        return None  # not a capture at all (a hostile input): nothing to list
    index = PacketIndex(cap)
    index.build()
    analyse(index)
    return index


def assert_same_columns(index: PacketIndex, where: str) -> int:
    """Every packet's columns from the list-only dissection and from the plain-TCP shortcut
    (the rows it takes) are the full dissection's; returns how many rows the shortcut took."""
    every = index.derived(TcpAnalysis).all()
    n = min(len(index), MAX_PACKETS)
    plain = {}
    for lo in range(0, n, 500):
        plain.update(plain_tcp_columns(index, lo, min(lo + 500, n), every))
    for i in range(n):
        full = columns(dissect(index, i))
        assert columns(dissect(index, i, tree=False)) == full, f"{where} packet {i + 1}"
        assert columns(dissect(index, i, tree=False, every=every)) == full, f"{where} packet {i + 1} (every)"
        if i in plain:
            time, source, destination, info = plain[i]
            got = (i + 1, time, source, destination, "TCP", int(index.cols.raw("origlen")[i]), info, False, full[-1])
            assert got == full, f"{where} packet {i + 1} (plain TCP)"
    return len(plain)


def test_a_list_only_dissection_has_no_tree():
    index = indexed(DATA / "seed-ftp-active.pcap")
    assert index is not None
    d = dissect(index, 0, tree=False)
    assert d.protocol and d.info and not d.layers
    index.cap.close()


@pytest.mark.parametrize("path", CAPTURES, ids=[str(p.relative_to(DATA)) for p in CAPTURES])
def test_list_only_columns_match_the_full_dissection(path):
    index = indexed(path)
    if index is None:
        return
    try:
        assert_same_columns(index, path.name)
    finally:
        index.cap.close()


def pcap(link: int, packets: list[bytes]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link)]
    for k, p in enumerate(packets):
        out.append(struct.pack("<IIII", 1_700_000_000, k, len(p), len(p)) + p)
    return b"".join(out)


def assert_same_when_cut(link: int, frames: list[bytes], tmp_path: Path) -> None:
    """Each frame cut after every byte: a list-only dissection must stop where the full one
    does, with the same columns."""
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap(link, [data[:n] for data in frames for n in range(len(data) + 1)]))
    index = indexed(path)
    assert index is not None
    try:
        assert_same_columns(index, "cut")
    finally:
        index.cap.close()


@pytest.mark.parametrize("name", ["seed-ftp-active.pcap", "icmp-errors.pcap", "public/zeek__ipv6.pcap"])
def test_captured_packets_cut_short_at_every_length(name, tmp_path):
    source = indexed(DATA / name)
    assert source is not None
    link = int(source.cols.raw("link")[0])
    frames = [source.packet_bytes(i) for i in range(min(len(source), 40))]
    source.cap.close()
    assert_same_when_cut(link, frames, tmp_path)


def tcp_header(flags: int, options: bytes, sport: int = 40000) -> bytes:
    return struct.pack(">HHIIHHHH", sport, 80, 1000, 2000, ((20 + len(options)) // 4) << 12 | flags, 512, 0,
                       0) + options


def test_headers_with_options_cut_short_at_every_length(tmp_path):
    """IPv4 and TCP options, an IPv6 extension header, a VLAN tag: headers longer than their
    fixed part."""
    eth = bytes(range(1, 13))
    syn = tcp_header(0x12, bytes.fromhex("020405b4" "0402" "080a0000000100000002" "01" "030307"))
    sack = tcp_header(0x10, bytes.fromhex("0101" "050a000003e8000007d0"))
    ip4 = struct.pack(">BBHHHBBH4s4s", 0x46, 0, 24 + len(syn), 1, 0x4000, 64, 6, 0, bytes(4), bytes(4))
    ip4 += bytes.fromhex("01010100")  # three NOPs and an EOL
    hop_by_hop = bytes([6, 0]) + bytes(6)
    ip6 = struct.pack(">IHBB16s16s", 0x60000000, 8 + len(sack), 0, 64, bytes(16), bytes(16))
    # a DNS response: an A record, then an NSEC record whose next name points past the message
    question = b"\x01a\x01b\x00" + struct.pack(">HH", 1, 1)
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4)
    nsec = b"\xc0\x0c" + struct.pack(">HHIH", 47, 1, 60, 2) + b"\xff\xff"
    dns = struct.pack(">HHHHHH", 7, 0x8180, 1, 2, 0, 0) + question + answer + nsec
    udp = struct.pack(">HHHH", 5353, 53, 8 + len(dns), 0) + dns
    vlan_ip4 = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 2, 0, 64, 17, 0, bytes(4), bytes(4))
    frames = [eth + b"\x08\x00" + ip4 + syn, eth + b"\x86\xdd" + ip6 + hop_by_hop + sack,
              eth + b"\x81\x00\x00\x05\x08\x00" + vlan_ip4 + udp]
    assert_same_when_cut(1, frames, tmp_path)


def test_plain_tcp_shortcut_takes_only_what_it_can_make(tmp_path):
    """Segments without payload next to ones the shortcut must leave to dissect(): the plain
    ones are taken (and agree), the others are not taken or agree too."""
    eth = bytes(range(1, 13))
    stamps = bytes.fromhex("0101080a0000000100000002")

    def ip4(tcp: bytes, total: int | None = None, frag: int = 0x4000) -> bytes:
        size = 20 + len(tcp) if total is None else total
        return eth + b"\x08\x00" + struct.pack(">BBHHHBBH4s4s", 0x45, 0, size, 1, frag, 64, 6, 0,
                                                 bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + tcp

    def ip6(tcp: bytes, plen: int | None = None) -> bytes:
        return eth + b"\x86\xdd" + struct.pack(">IHBB16s16s", 0x60000000, len(tcp) if plen is None else plen, 6,
                                                  64, bytes(15) + b"\x01", bytes(15) + b"\x02") + tcp

    ports = iter(range(40000, 40100))  # a stream each: no segment is another's retransmission

    def ack(options: bytes = b"", flags: int = 0x10) -> bytes:
        return tcp_header(flags, options, next(ports))

    frames = [
        ip4(ack()), ip4(ack(stamps)), ip6(ack(stamps)), ip4(ack()) + bytes(6),  # plain; Ethernet padding
        ip4(ack(flags=0x02)), ip4(ack(stamps, flags=0x12)),  # SYNs: plain too
        ip4(ack(), total=0), ip4(ack(), frag=0x2000), ip4(ack(), total=60), ip4(ack(stamps))[:-4],  # TSO, MF, cut
        ip4(ack(flags=0x30)), ip4(ack(bytes.fromhex("0101050a000003e8000007d0"))),  # urgent, SACK
        ip6(ack(), plen=0), ip6(ack(stamps), plen=40), ip4(ack(stamps[:4] + bytes(8))),
        ip4(ack(stamps) + b"middle of a body"), ip6(ack() + b"\x17\x03\x03"),  # payload nothing claims: plain
        ip4(ack() + b"GET / HTTP/1.1\r\n\r\n"), ip4(ack() + b"SSH-2.0-x\r\n"),  # HTTP, SSH: not plain
        ip4(ack() + b"middle", total=60), ip4(ack(stamps) + b"middle")[:-3],  # payload cut short
    ]
    path = tmp_path / "plain.pcap"
    path.write_bytes(pcap(1, frames))
    index = indexed(path)
    assert index is not None
    try:
        taken = assert_same_columns(index, "plain")
        assert taken >= 8, "the shortcut left plain segments to dissect()"
    finally:
        index.cap.close()


def test_plain_tcp_shortcut_takes_the_seed_captures_acks():
    index = indexed(DATA / "seed-ftp-active.pcap")
    assert index is not None
    try:
        assert assert_same_columns(index, "seed") >= 10
    finally:
        index.cap.close()
