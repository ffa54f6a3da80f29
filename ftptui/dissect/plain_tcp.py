"""The list columns of plain TCP segments, many rows at a time, from the index's columns.

Most rows of a big capture are TCP segments that carry nothing (ACKs, window updates) or data
no application decoder takes (the middle of an HTTP body or a TLS record): tshark shows them as
TCP, and their columns follow from what the index already holds and a few header bytes, at a
fraction of a dissection's cost.  Plain means: Ethernet or raw IP, IPv4 without options or
fragmentation or IPv6 without extension headers, lengths that agree with the captured bytes, a
TCP header without options or with only NOP,NOP,timestamps, no urgent data, no sequence-analysis
label, and no payload or one that no entry of the TCP dissector table may claim (the table's
own superset, as display filters use it).  Every other row goes through dissect();
tests/test_list_only.py checks that both give the same columns.
"""
from __future__ import annotations

import numpy as np

from ..store.columns import ACK, ETH_IPV4, ETH_IPV6, LINK_ETHERNET, LINK_IPV4, LINK_IPV6, PROTO_TCP, RAW_LINKS, SYN, URG, Gather
from ..store.index import PacketIndex
from ..store.rows import RowColumns
from ..streams.analysis import AllAnalysis
from ..text import ipv4, ipv6
from .app import TCP
from .packet import format_time
from .transport import NOP_NOP_TIMESTAMPS, TIMESTAMPS, tcp_info, timestamps_info, window_shift

# where the network header starts: untagged Ethernet, or raw IP
NETWORK_AT = {LINK_ETHERNET: 14, **{link: 0 for link in (*RAW_LINKS, LINK_IPV4, LINK_IPV6)}}
MAX_SPAN = 64 << 20  # bytes read at once for a chunk's headers; a stranger file is left to dissect()


def plain_tcp_columns(index: PacketIndex, lo: int, hi: int, every: AllAnalysis) -> dict[int, tuple[str, str, str, str]]:
    """Frames lo..hi-1 (0-based) that are plain TCP segments, each with its time, source,
    destination and Info as dissect(..., tree=False) gives them (protocol "TCP")."""
    cols = index.cols
    rows = slice(lo, hi)
    et, l3, l4 = cols.raw("ethertype")[rows], cols.raw("l3off")[rows], cols.raw("l4off")[rows]
    link, flags = cols.raw("link")[rows], cols.raw("tcpflags")[rows]
    link_ok = np.zeros(len(link), dtype=bool)
    for kind, network_at in NETWORK_AT.items():
        link_ok |= (link == kind) & (l3 == network_at)
    paylen = cols.raw("paylen")[rows]
    cand = (link_ok & (cols.raw("ipproto")[rows] == PROTO_TCP)
            & (cols.raw("stream")[rows] >= 0) & ((flags & URG) == 0) & (every.flags[rows] == 0)
            & (((et == ETH_IPV4) & (l4 == l3 + 20)) | ((et == ETH_IPV6) & (l4 == l3 + 40))))
    carrying = np.flatnonzero(cand & (paylen > 0))
    if len(carrying):  # a payload no application may claim: tshark shows the segment as TCP
        cand[carrying] = ~TCP.may_claim(RowColumns(index, carrying + lo))
    idx = np.flatnonzero(cand)
    if not len(idx):
        return {}
    offset, caplen = cols.raw("offset")[rows][idx], cols.raw("caplen")[rows][idx].astype(np.int64)
    first, stop = int(offset.min()), int((offset + caplen).max())
    if stop - first > MAX_SPAN:
        return {}
    data = index.cap.read(first, stop - first)
    at = offset - first  # where each packet starts in data
    l3, l4 = l3[idx].astype(np.int64), l4[idx].astype(np.int64)
    g = Gather(data, at + caplen)
    hdr = (g.u8(at + l4 + 12).astype(np.int64) >> 4) * 4
    size = hdr + paylen[idx]
    # the IP length must say exactly the headers and the payload (IPv4: no more fragments),
    # all of it captured
    ip = at + l3
    lengths_agree = np.where(et[idx] == ETH_IPV4, (g.u16(ip + 2) == 20 + size) & ((g.u8(ip + 6) & 0x20) == 0),
                             g.u16(ip + 4) == size)
    opt = at + l4 + 20
    timestamps = np.logical_and.reduce([g.u8(opt + k) == b for k, b in enumerate(NOP_NOP_TIMESTAMPS)])
    plain = (lengths_agree & g.fits(at + l4, size) & (at + l4 + size <= len(data))
             & ((hdr == 20) | ((hdr == 32) & timestamps)))
    idx, at, l4, hdr = idx[plain], at[plain], l4[plain], hdr[plain]
    return _columns(index, lo, idx, data, at + l4, hdr)


def _columns(index: PacketIndex, lo: int, idx: np.ndarray, data: bytes, tcp_at: np.ndarray,
             hdr: np.ndarray) -> dict[int, tuple[str, str, str, str]]:
    cols = index.cols
    frames = idx + lo
    stream = cols.raw("stream")[frames].astype(np.int64)
    direction = cols.raw("dir")[frames].astype(np.int64)
    base = index.tcp.slots.raw("base")
    own, other = base[2 * stream + direction], base[2 * stream + (direction ^ 1)]
    seq, ack = cols.raw("seq")[frames].astype(np.int64), cols.raw("ack")[frames].astype(np.int64)
    rel_seq = np.where(own >= 0, (seq - own) & 0xFFFFFFFF, seq)
    rel_ack = np.where(other >= 0, (ack - other) & 0xFFFFFFFF, ack)
    rel = cols.raw("ts")[frames].astype(np.int64) - (index.first_ts or 0)
    names = _addresses(index, frames)
    stamps = [TIMESTAMPS.unpack_from(data, p + 24) if h == 32 else None for p, h in zip(tcp_at.tolist(), hdr.tolist())]
    out = {}
    for i, s, d, fl, win, sp, dp, st, dr, rs, ra, t, prec, ts, pay in zip(
            frames.tolist(), *names, cols.raw("tcpflags")[frames].tolist(), cols.raw("win")[frames].tolist(),
            cols.raw("sport")[frames].tolist(), cols.raw("dport")[frames].tolist(), stream.tolist(),
            direction.tolist(), rel_seq.tolist(), rel_ack.tolist(), rel.tolist(),
            cols.raw("prec")[frames].tolist(), stamps, cols.raw("paylen")[frames].tolist()):
        shift = None if fl & SYN else window_shift(index, i, st, dr)
        info = tcp_info(sp, dp, fl, rs, ra if fl & ACK else None, win << shift if shift is not None else win, 0, pay)
        if ts is not None:
            info += timestamps_info(*ts)
        out[i] = (format_time(t, prec), s, d, info)
    return out


def _addresses(index: PacketIndex, frames: np.ndarray) -> tuple[list[str], list[str]]:
    """Source and destination texts of IPv4 / IPv6 frames, each distinct address made once."""
    v6 = (index.cols.raw("ethertype")[frames] == ETH_IPV6).tolist()
    v4_texts: dict[int, str] = {}  # an IPv4 address is its own value; an IPv6 one a row of index.v6
    out = []
    for which in ("src", "dst"):
        column = []
        for value, is6 in zip(index.cols.raw(which)[frames].tolist(), v6):
            if is6:
                column.append(ipv6(bytes(index.v6.raw(which)[value])))
                continue
            text = v4_texts.get(value)
            if text is None:
                text = v4_texts[value] = ipv4(value.to_bytes(4, "big"))
            column.append(text)
        out.append(column)
    return out[0], out[1]
