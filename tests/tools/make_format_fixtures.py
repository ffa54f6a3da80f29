#!/usr/bin/env python3
"""Build the capture-format and link-type variants in tests/data/formats/.

Deterministic and re-runnable: every variant is produced by the small pure-Python
pcap / pcapng writers below from three committed captures

    S  = tests/data/seed-ftp-active.pcap        (pcap LE us, LINKTYPE_RAW 101, 84 pkts, IPv4)
    E  = tests/data/public/zeek__ipv4.pcap       (pcap LE us, Ethernet, 95 pkts, IPv4)
    V6 = tests/data/public/zeek__ipv6.pcap       (pcap LE us, Ethernet, 136 pkts, all IPv6)

so the bytes do not depend on the Wireshark version or the machine (gzip files are
written with mtime=0 and no file name).  The only exceptions are the two files made
with Wireshark's own tools (``*.editcap.pcapng``, ``*.mergecap.pcapng``): their SHB
records the tool version and the host OS, so they are only (re)made when missing or
when ``--tools`` is given.

Usage:
    make_format_fixtures.py            # (re)write all variants (+ MANIFEST.tsv if tshark outputs exist)
    make_format_fixtures.py --tools    # also re-run editcap/mergecap for the tool-made files
    make_format_fixtures.py --manifest # only rewrite MANIFEST.tsv (needs capinfos; run after
                                       # make_tshark_fixtures.sh has written the .tshark.* files)
"""
from __future__ import annotations

import argparse
import gzip
import io
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
OUT = DATA / "formats"

SEED = DATA / "seed-ftp-active.pcap"
ETH4 = DATA / "public" / "zeek__ipv4.pcap"
ETH6 = DATA / "public" / "zeek__ipv6.pcap"

LT_NULL, LT_ETHER, LT_RAW, LT_LOOP, LT_SLL, LT_IPV4, LT_IPV6, LT_SLL2 = 0, 1, 101, 108, 113, 228, 229, 276


# --------------------------------------------------------------------------- records

@dataclass
class Rec:
    ts_ns: int          # absolute time, nanoseconds since the epoch
    data: bytes         # captured bytes
    origlen: int        # original (wire) length
    iface: int = 0      # pcapng interface id


def read_pcap(path: Path) -> tuple[int, int, list[Rec]]:
    """Minimal classic-pcap reader (both byte orders, us and ns magics)."""
    b = path.read_bytes()
    magic = b[:4]
    table = {
        b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
        b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1),
    }
    e, mul = table[magic]
    _vmaj, _vmin, _tz, _sig, snap, lt = struct.unpack(e + "HHiIII", b[4:24])
    recs, off = [], 24
    while off + 16 <= len(b):
        sec, frac, incl, orig = struct.unpack(e + "IIII", b[off:off + 16])
        data = b[off + 16:off + 16 + incl]
        recs.append(Rec(sec * 10**9 + frac * mul, data, orig))
        off += 16 + incl
    return lt, snap, recs


# --------------------------------------------------------------------------- pcap writer

def pcap_bytes(recs: list[Rec], linktype: int, endian: str = "<", nsec: bool = False,
               snaplen: int = 65535) -> bytes:
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = io.BytesIO()
    out.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    for r in recs:
        sec, rem = divmod(r.ts_ns, 10**9)
        frac = rem if nsec else rem // 1000
        out.write(struct.pack(endian + "IIII", sec, frac, len(r.data), r.origlen))
        out.write(r.data)
    return out.getvalue()


# --------------------------------------------------------------------------- pcapng writer

def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def ng_options(e: str, opts: list[tuple[int, bytes]]) -> bytes:
    if not opts:
        return b""
    out = b""
    for code, val in opts:
        out += struct.pack(e + "HH", code, len(val)) + _pad4(val)
    return out + struct.pack(e + "HH", 0, 0)


def ng_block(e: str, btype: int, body: bytes) -> bytes:
    body = _pad4(body)
    tot = 12 + len(body)
    return struct.pack(e + "II", btype, tot) + body + struct.pack(e + "I", tot)


def ng_shb(e: str, appl: str = "ftptui tests/tools/make_format_fixtures.py") -> bytes:
    body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    body += ng_options(e, [(4, appl.encode())])            # shb_userappl
    return ng_block(e, 0x0A0D0D0A, body)


def ng_idb(e: str, linktype: int, tsresol: int | None, name: str, snaplen: int = 65535) -> bytes:
    opts = [(2, name.encode())]                              # if_name
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))                   # if_tsresol
    body = struct.pack(e + "HHI", linktype, 0, snaplen) + ng_options(e, opts)
    return ng_block(e, 0x00000001, body)


def tsresol_units(ts_ns: int, tsresol: int | None) -> int:
    """Convert absolute ns to the interface's timestamp units (truncating)."""
    if tsresol is None:
        tsresol = 6
    if tsresol & 0x80:
        return (ts_ns << (tsresol & 0x7F)) // 10**9
    p = tsresol
    return ts_ns * 10**p // 10**9 if p >= 9 else ts_ns // 10**(9 - p)


def ng_epb(e: str, r: Rec, tsresol: int | None, opts: list[tuple[int, bytes]] | None = None) -> bytes:
    t = tsresol_units(r.ts_ns, tsresol)
    body = struct.pack(e + "IIIII", r.iface, t >> 32, t & 0xFFFFFFFF, len(r.data), r.origlen)
    body += _pad4(r.data) + ng_options(e, opts or [])
    return ng_block(e, 0x00000006, body)


def ng_spb(e: str, r: Rec) -> bytes:
    return ng_block(e, 0x00000003, struct.pack(e + "I", r.origlen) + _pad4(r.data))


def ng_nrb(e: str, entries: list[tuple[bytes, str]]) -> bytes:
    body = b""
    for addr4, name in entries:                              # nrb_record_ipv4
        val = addr4 + name.encode() + b"\0"
        body += struct.pack(e + "HH", 1, len(val)) + _pad4(val)
    body += struct.pack(e + "HH", 0, 0)                     # nrb_record_end
    return ng_block(e, 0x00000004, body)


def ng_isb(e: str, iface: int, ts_ns: int, recv: int, drop: int) -> bytes:
    t = tsresol_units(ts_ns, 6)
    opts = [(4, struct.pack(e + "Q", recv)), (5, struct.pack(e + "Q", drop))]   # isb_ifrecv, isb_ifdrop
    body = struct.pack(e + "III", iface, t >> 32, t & 0xFFFFFFFF) + ng_options(e, opts)
    return ng_block(e, 0x00000005, body)


def ng_custom(e: str, btype: int = 0x00000BAD, pen: int = 32473,
              data: bytes = b"ftptui-test-custom-block") -> bytes:
    # Custom Block: 0x00000BAD may be copied, 0x40000BAD may not; PEN + opaque payload
    return ng_block(e, btype, struct.pack(e + "I", pen) + data)


def pcapng_bytes(recs: list[Rec], ifaces: list[tuple[int, int | None]], endian: str = "<",
                 spb: str = "none") -> bytes:
    """ifaces: list of (linktype, tsresol or None=absent option).
    spb: 'none' (all EPB), 'all' (all SPB), 'odd' (every odd-indexed packet as SPB)."""
    out = ng_shb(endian)
    for i, (lt, res) in enumerate(ifaces):
        out += ng_idb(endian, lt, res, f"if{i}")
    for i, r in enumerate(recs):
        if spb == "all" or (spb == "odd" and i % 2 == 1):
            assert r.iface == 0
            out += ng_spb(endian, r)
        else:
            out += ng_epb(endian, r, ifaces[r.iface][1])
    return out


# --------------------------------------------------------------------------- link-layer rewriting

def strip_ether(recs: list[Rec]) -> list[Rec]:
    out = []
    for r in recs:
        assert r.data[12:14] in (b"\x08\x00", b"\x86\xdd"), r.data[12:14]
        out.append(Rec(r.ts_ns, r.data[14:], r.origlen - 14))
    return out


def null_hdr(recs: list[Rec], family: int, endian: str) -> list[Rec]:
    h = struct.pack(endian + "I", family)
    return [Rec(r.ts_ns, h + r.data, r.origlen + 4) for r in recs]


def ether_to_sll(recs: list[Rec], local_mac: bytes) -> list[Rec]:
    """DLT_LINUX_SLL (113): pkttype 0=to us, 4=outgoing (decided by local_mac)."""
    out = []
    for r in recs:
        dst, src, etype, payload = r.data[0:6], r.data[6:12], r.data[12:14], r.data[14:]
        pkttype = 4 if src == local_mac else (0 if dst == local_mac else 3)
        hdr = struct.pack(">HHH", pkttype, 1, 6) + src + b"\0\0" + etype
        out.append(Rec(r.ts_ns, hdr + payload, r.origlen - 14 + 16))
    return out


def ether_to_sll2(recs: list[Rec], local_mac: bytes, ifindex: int = 2) -> list[Rec]:
    """DLT_LINUX_SLL2 (276): protocol, reserved, ifindex, hatype, pkttype, halen, addr[8]."""
    out = []
    for r in recs:
        dst, src, etype, payload = r.data[0:6], r.data[6:12], r.data[12:14], r.data[14:]
        pkttype = 4 if src == local_mac else (0 if dst == local_mac else 3)
        hdr = etype + b"\0\0" + struct.pack(">IHBB", ifindex, 1, pkttype, 6) + src + b"\0\0"
        out.append(Rec(r.ts_ns, hdr + payload, r.origlen - 14 + 20))
    return out


def add_vlan(recs: list[Rec], tags: list[tuple[int, int]]) -> list[Rec]:
    """Insert VLAN tags after the MAC addresses. tags: [(tpid, vid), ...] outermost first."""
    tagbytes = b"".join(struct.pack(">HH", tpid, vid) for tpid, vid in tags)
    return [Rec(r.ts_ns, r.data[:12] + tagbytes + r.data[12:], r.origlen + len(tagbytes)) for r in recs]


def with_ns_jitter(recs: list[Rec]) -> list[Rec]:
    """Add a deterministic sub-microsecond part (0..999 ns) so ns precision is visible."""
    return [Rec(r.ts_ns + (i * 137 + 42) % 1000, r.data, r.origlen, r.iface) for i, r in enumerate(recs)]


def merge_two(a: list[Rec], b: list[Rec], offset_ns: int) -> list[Rec]:
    """Interleave b (interface 1) into a (interface 0): b is shifted so that its first
    packet is offset_ns after a's first packet; stable chronological merge."""
    shift = a[0].ts_ns + offset_ns - b[0].ts_ns
    aa = [Rec(r.ts_ns, r.data, r.origlen, 0) for r in a]
    bb = [Rec(r.ts_ns + shift, r.data, r.origlen, 1) for r in b]
    return sorted(aa + bb, key=lambda r: (r.ts_ns, r.iface))


# --------------------------------------------------------------------------- variant table

@dataclass
class Variant:
    name: str
    fmt: str                 # pcap / pcapng / gzip-of-... / none
    byte_order: str          # le / be / - (per-section for pcapng)
    tsres: str               # 6 / 9 / 3 / 2^-20 / ...
    linktypes: str           # e.g. "101" or "101,1"
    expect: str              # ok / truncated-warning / corrupt-warning / not-a-capture
    source: str
    notes: str
    build: object = None     # callable -> bytes (None for tool-made)
    gz: bool = False
    tool: list[str] | None = field(default=None)


def variants() -> list[Variant]:
    s_lt, _, S = read_pcap(SEED)
    e_lt, _, E = read_pcap(ETH4)
    v_lt, _, V6 = read_pcap(ETH6)
    assert (s_lt, e_lt, v_lt) == (LT_RAW, LT_ETHER, LT_ETHER)
    Sns = with_ns_jitter(S)
    R6 = strip_ether(V6)
    E4raw = strip_ether(E)
    client_mac = E[0].data[6:12]          # first packet is the client's SYN
    M = merge_two(S, E, 250_000_000)      # if0 = raw IP seed, if1 = Ethernet ipv4.pcap
    seed_bytes = SEED.read_bytes()
    _, _, _recs = read_pcap(SEED)
    last_rec_off = len(seed_bytes) - 16 - len(S[-1].data)
    ng6 = pcapng_bytes(S, [(LT_RAW, None)])

    def extra_blocks() -> bytes:
        e = "<"
        out = ng_shb(e) + ng_idb(e, LT_RAW, 6, "if0")
        out += ng_nrb(e, [(bytes([10, 10, 10, 187]), "ftp.example.test"),
                          (bytes([10, 10, 15, 211]), "client.example.test")])
        for i, r in enumerate(S):
            opts = []
            if i == 0:
                opts = [(1, b"first packet comment"), (2, struct.pack(e + "I", 0x00000002))]  # opt_comment, epb_flags (outbound)
            out += ng_epb(e, r, 6, opts)
            if i == 10:
                out += ng_custom(e)
        out += ng_isb(e, 0, S[-1].ts_ns, len(S), 0)
        return out

    def custom_nocopy() -> bytes:
        e = ">"
        out = ng_shb(e) + ng_idb(e, LT_RAW, 6, "if0")
        for i, r in enumerate(S[:6]):
            out += ng_epb(e, r, 6, [])
            if i == 0:
                out += ng_custom(e, 0x40000BAD, 9, b"cisco, no copy")
        return out + ng_custom(e, 0x00000BAD, 99999999, b"unknown PEN")

    V: list[Variant] = []
    add = V.append
    # ---- classic pcap, byte order and timestamp resolution
    add(Variant("seed.pcap-le-us.pcap", "pcap", "le", "6", "101", "ok", "S", "byte-identical copy of the seed",
                lambda: pcap_bytes(S, LT_RAW, "<")))
    add(Variant("seed.pcap-be-us.pcap", "pcap", "be", "6", "101", "ok", "S", "magic a1b2c3d4 big-endian",
                lambda: pcap_bytes(S, LT_RAW, ">")))
    add(Variant("seed.pcap-le-ns.pcap", "pcap", "le", "9", "101", "ok", "S",
                "magic a1b23c4d little-endian; +(i*137+42)%1000 ns added to each timestamp",
                lambda: pcap_bytes(Sns, LT_RAW, "<", nsec=True)))
    add(Variant("seed.pcap-be-ns.pcap", "pcap", "be", "9", "101", "ok", "S",
                "magic a1b23c4d big-endian; same ns timestamps as seed.pcap-le-ns",
                lambda: pcap_bytes(Sns, LT_RAW, ">", nsec=True)))
    # ---- pcapng
    add(Variant("seed.pcapng-le-res6.pcapng", "pcapng", "le", "6", "101", "ok", "S",
                "EPB; IDB without if_tsresol option (default 10^-6)", lambda: ng6))
    add(Variant("seed.pcapng-le-res9.pcapng", "pcapng", "le", "9", "101", "ok", "S",
                "EPB; if_tsresol=9; same ns timestamps as seed.pcap-le-ns",
                lambda: pcapng_bytes(Sns, [(LT_RAW, 9)])))
    add(Variant("seed.pcapng-le-res3.pcapng", "pcapng", "le", "3", "101", "ok", "S",
                "EPB; if_tsresol=3 (milliseconds; timestamps truncated to ms)",
                lambda: pcapng_bytes(S, [(LT_RAW, 3)])))
    add(Variant("seed.pcapng-le-res2p20.pcapng", "pcapng", "le", "2^-20", "101", "ok", "S",
                "EPB; if_tsresol=0x94 (2^-20 s units, floor of the exact time)",
                lambda: pcapng_bytes(S, [(LT_RAW, 0x80 | 20)])))
    add(Variant("seed.pcapng-be-res6.pcapng", "pcapng", "be", "6", "101", "ok", "S",
                "big-endian section (SHB magic 1a2b3c4d), if_tsresol=6 given explicitly",
                lambda: pcapng_bytes(S, [(LT_RAW, 6)], ">")))
    add(Variant("seed.pcapng-be-res9.pcapng", "pcapng", "be", "9", "101", "ok", "S",
                "big-endian section, if_tsresol=9, ns timestamps",
                lambda: pcapng_bytes(Sns, [(LT_RAW, 9)], ">")))
    add(Variant("seed.pcapng-spb.pcapng", "pcapng", "le", "6", "101", "ok", "S",
                "every packet as a Simple Packet Block (no timestamps)",
                lambda: pcapng_bytes(S, [(LT_RAW, None)], spb="all")))
    add(Variant("seed.pcapng-epb-spb.pcapng", "pcapng", "le", "6", "101", "ok", "S",
                "even-indexed packets EPB, odd-indexed packets SPB (no timestamp)",
                lambda: pcapng_bytes(S, [(LT_RAW, None)], spb="odd")))
    add(Variant("seed.pcapng-extra-blocks.pcapng", "pcapng", "le", "6", "101", "ok", "S",
                "EPB + NRB (names for both hosts), custom block 0xBAD after packet 11, ISB at end, "
                "packet 1 has opt_comment and epb_flags", extra_blocks))
    add(Variant("seed6.pcapng-be-custom.pcapng", "pcapng", "be", "6", "101", "ok", "S",
                "first 6 seed packets, big-endian; custom block 0x40000BAD (PEN 9) after packet 1 "
                "and 0xBAD with an unregistered PEN at the end", custom_nocopy))
    add(Variant("seed+ipv4.pcapng-2if.pcapng", "pcapng", "le", "6", "101,1", "ok", "S+E",
                "if0 raw IP (seed), if1 Ethernet (zeek ipv4, shifted to start 0.25 s after the seed); "
                "chronologically interleaved",
                lambda: pcapng_bytes(M, [(LT_RAW, None), (LT_ETHER, None)])))
    add(Variant("seed+ipv4.pcapng-2if-res6-res9.pcapng", "pcapng", "le", "6,9", "101,1", "ok", "S+E",
                "same packets as seed+ipv4.pcapng-2if but if0 tsresol 6 and if1 tsresol 9",
                lambda: pcapng_bytes(M, [(LT_RAW, 6), (LT_ETHER, 9)])))
    # tool-made (only regenerated with --tools or when missing)
    add(Variant("seed.editcap.pcapng", "pcapng", "le", "6", "101", "ok", "S",
                "editcap -F pcapng seed-ftp-active.pcap (Wireshark 4.0.17; SHB has shb_os/userappl)",
                tool=["editcap", "-F", "pcapng", str(SEED), "{out}"]))
    add(Variant("seed+ipv4.mergecap.pcapng", "pcapng", "le", "6", "101,1", "ok", "S+E",
                "mergecap -F pcapng seed ipv4 (chronological: all ipv4.pcap (2012) then seed (2020))",
                tool=["mergecap", "-F", "pcapng", "-w", "{out}", str(SEED), str(ETH4)]))
    fmt_names = [v.name for v in V]
    # ---- link types
    add(Variant("seed.lt228.pcap", "pcap", "le", "6", "228", "ok", "S", "LINKTYPE_IPV4 (raw IPv4)",
                lambda: pcap_bytes(S, LT_IPV4)))
    add(Variant("ipv4.lt101.pcap", "pcap", "le", "6", "101", "ok", "E", "zeek ipv4.pcap with Ethernet header stripped",
                lambda: pcap_bytes(E4raw, LT_RAW)))
    add(Variant("ipv6.lt229.pcap", "pcap", "le", "6", "229", "ok", "V6", "LINKTYPE_IPV6: zeek ipv6.pcap, Ethernet stripped",
                lambda: pcap_bytes(R6, LT_IPV6)))
    add(Variant("ipv6.lt101.pcap", "pcap", "le", "6", "101", "ok", "V6", "LINKTYPE_RAW carrying IPv6 (version nibble 6)",
                lambda: pcap_bytes(R6, LT_RAW)))
    add(Variant("ipv4.sll.pcap", "pcap", "le", "6", "113", "ok", "E",
                "Linux cooked SLL v1; pkttype 4 (outgoing) for client-sent frames, 0 (to us) otherwise",
                lambda: pcap_bytes(ether_to_sll(E, client_mac), LT_SLL)))
    add(Variant("ipv4.sll2.pcap", "pcap", "le", "6", "276", "ok", "E",
                "Linux cooked SLL2, ifindex 2; pkttype as ipv4.sll",
                lambda: pcap_bytes(ether_to_sll2(E, client_mac), LT_SLL2)))
    add(Variant("seed.null-le.pcap", "pcap", "le", "6", "0", "ok", "S", "BSD NULL, family AF_INET=2 little-endian (02 00 00 00)",
                lambda: pcap_bytes(null_hdr(S, 2, "<"), LT_NULL)))
    add(Variant("seed.null-be.pcap", "pcap", "le", "6", "0", "ok", "S", "BSD NULL, family AF_INET=2 big-endian (00 00 00 02) in a LE pcap",
                lambda: pcap_bytes(null_hdr(S, 2, ">"), LT_NULL)))
    add(Variant("ipv6.null-le-af30.pcap", "pcap", "le", "6", "0", "ok", "V6", "BSD NULL, family 30 (Darwin AF_INET6) little-endian",
                lambda: pcap_bytes(null_hdr(R6, 30, "<"), LT_NULL)))
    add(Variant("ipv6.null-be-af28.pcap", "pcap", "be", "6", "0", "ok", "V6", "BSD NULL, family 28 (FreeBSD AF_INET6) big-endian, BE pcap",
                lambda: pcap_bytes(null_hdr(R6, 28, ">"), LT_NULL, ">")))
    add(Variant("seed.loop.pcap", "pcap", "le", "6", "108", "ok", "S", "OpenBSD LOOP, family 2 always big-endian",
                lambda: pcap_bytes(null_hdr(S, 2, ">"), LT_LOOP)))
    add(Variant("ipv4.vlan.pcap", "pcap", "le", "6", "1", "ok", "E", "every frame re-tagged 802.1Q VID 100",
                lambda: pcap_bytes(add_vlan(E, [(0x8100, 100)]), LT_ETHER)))
    add(Variant("ipv4.qinq.pcap", "pcap", "le", "6", "1", "ok", "E", "every frame tagged 802.1ad S-VID 10 + 802.1Q C-VID 20",
                lambda: pcap_bytes(add_vlan(E, [(0x88A8, 10), (0x8100, 20)]), LT_ETHER)))
    # ---- broken / non-captures
    add(Variant("seed.trunc-data.pcap", "pcap", "le", "6", "101", "truncated-warning", "S",
                "cut in the middle of the last record's data (83 complete records)",
                lambda: seed_bytes[:last_rec_off + 16 + len(S[-1].data) // 2]))
    add(Variant("seed.trunc-hdr.pcap", "pcap", "le", "6", "101", "truncated-warning", "S",
                "cut 8 bytes into the last record header (83 complete records)",
                lambda: seed_bytes[:last_rec_off + 8]))
    add(Variant("seed.garbage.pcap", "pcap", "le", "6", "101", "corrupt-warning", "S",
                "84 valid records + 40 bytes of ASCII garbage ('GARBAGE!'*5) read as a record header with a huge caplen",
                lambda: seed_bytes + b"GARBAGE!" * 5))
    add(Variant("seed.garbage-short.pcap", "pcap", "le", "6", "101", "truncated-warning", "S",
                "84 valid records + 10 garbage bytes (shorter than a record header)",
                lambda: seed_bytes + b"0123456789"))
    add(Variant("seed.pcapng-trunc.pcapng", "pcapng", "le", "6", "101", "truncated-warning", "S",
                "seed.pcapng-le-res6 cut 30 bytes before its end (inside the last EPB)",
                lambda: ng6[:-30]))
    def epb_too_small() -> bytes:
        # packet 11's EPB claims 200 more captured bytes than its block holds
        blocks = [ng_epb("<", r, 6) for r in S]
        b = bytearray(blocks[10])
        struct.pack_into("<I", b, 20, struct.unpack_from("<I", b, 20)[0] + 200)
        blocks[10] = bytes(b)
        return ng_shb("<") + ng_idb("<", LT_RAW, None, "if0") + b"".join(blocks)

    add(Variant("seed.pcapng-epb-caplen.pcapng", "pcapng", "le", "6", "101", "corrupt-warning", "S",
                "EPB of packet 11 has a captured length 200 bytes larger than its block", epb_too_small))
    add(Variant("header-only.pcap", "pcap", "le", "6", "101", "ok", "S", "only the 24-byte pcap global header",
                lambda: seed_bytes[:24]))
    add(Variant("header-only.pcapng", "pcapng", "le", "6", "101", "ok", "S", "only SHB + IDB",
                lambda: ng_shb("<") + ng_idb("<", LT_RAW, None, "if0")))
    add(Variant("empty.pcap", "none", "-", "-", "-", "ok", "-", "0-byte file; tshark 4.0 reads it as an empty capture (rc 0, no output, no message)",
                lambda: b""))
    add(Variant("not-a-capture.txt", "none", "-", "-", "-", "not-a-capture", "-", "a plain text file",
                lambda: b"This is not a packet capture.\nIt is a text file used to test format detection.\n" * 3))
    # ---- gzip-compressed copies of all format variants
    for n in fmt_names:
        base = next(v for v in V if v.name == n)
        add(Variant(n + ".gz", base.fmt, base.byte_order, base.tsres, base.linktypes, base.expect, base.source,
                    f"gzip (mtime 0) of {n}", build=None, gz=True))
    add(Variant("seed.trunc-data.pcap.gz", "pcap", "le", "6", "101", "truncated-warning", "S",
                "gzip of seed.trunc-data.pcap", gz=True))
    return V


def gzip_bytes(b: bytes) -> bytes:
    bio = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=bio, mtime=0, compresslevel=9) as g:
        g.write(b)
    return bio.getvalue()


def build_all(use_tools: bool) -> list[Variant]:
    OUT.mkdir(parents=True, exist_ok=True)
    V = variants()
    for v in V:
        p = OUT / v.name
        if v.gz:
            continue
        if v.tool:
            if p.exists() and not use_tools:
                continue
            exe = shutil.which(v.tool[0])
            if not exe:
                print(f"skip {v.name}: {v.tool[0]} not found", file=sys.stderr)
                continue
            tmp = p.with_suffix(p.suffix + ".tmp")
            subprocess.run([a.replace("{out}", str(tmp)) for a in v.tool], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            tmp.replace(p)
        else:
            p.write_bytes(v.build())
    for v in V:
        if v.gz:
            src = OUT / v.name[:-3]
            if src.exists():
                (OUT / v.name).write_bytes(gzip_bytes(src.read_bytes()))
    # sanity: the LE-us pcap writer reproduces the seed byte for byte
    assert (OUT / "seed.pcap-le-us.pcap").read_bytes() == SEED.read_bytes()
    return V


# --------------------------------------------------------------------------- manifest

def capinfos_count(p: Path) -> str:
    exe = shutil.which("capinfos")
    if not exe:
        return "?"
    r = subprocess.run([exe, "-c", "-M", str(p)], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("Number of packets"):
            return line.split(":", 1)[1].strip()
    return "-"


def tshark_outcome(p: Path) -> tuple[str, str, str]:
    txt = Path(str(p) + ".tshark.txt")
    err = Path(str(p) + ".tshark.stderr")
    if not txt.exists():
        return "?", "?", "?"
    n = sum(1 for line in txt.read_text(errors="replace").splitlines() if line.strip())
    e = err.read_text(errors="replace") if err.exists() else ""
    if "isn't a capture file" in e or "unknown format" in e or "don't know" in e.lower():
        out = "not-a-capture"
    elif "cut short" in e:
        out = "truncated-warning"
    elif "damaged or corrupt" in e:
        out = "corrupt-warning"
    elif e.strip():
        out = "other-warning"
    else:
        out = "ok"
    return str(n), out, ("yes" if e.strip() else "no")


def write_manifest(V: list[Variant]) -> None:
    cols = ["file", "format", "byte_order", "ts_resolution", "link_types", "gzip", "capinfos_packets",
            "tshark_packets", "tshark_stderr", "outcome", "expected_outcome", "source", "notes"]
    rows = ["\t".join(cols)]
    mism = []
    for v in V:
        p = OUT / v.name
        if not p.exists():
            continue
        n, outcome, has_err = tshark_outcome(p)
        if outcome not in ("?", v.expect):
            mism.append(f"{v.name}: expected {v.expect}, tshark says {outcome}")
        rows.append("\t".join([v.name, v.fmt, v.byte_order, v.tsres, v.linktypes, "yes" if v.gz else "no",
                               capinfos_count(p), n, has_err, outcome, v.expect, v.source, v.notes]))
    (OUT / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    for m in mism:
        print("MANIFEST mismatch:", m, file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", action="store_true", help="re-run editcap/mergecap for the tool-made variants")
    ap.add_argument("--manifest", action="store_true", help="only rewrite formats/MANIFEST.tsv")
    a = ap.parse_args()
    if a.manifest:
        write_manifest(variants())
        return
    V = build_all(a.tools)
    write_manifest(V)
    print(f"wrote {sum(1 for v in V if (OUT / v.name).exists())} files to {OUT}")


if __name__ == "__main__":
    main()
