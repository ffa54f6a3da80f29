"""Follow a TCP or UDP stream: each side's bytes in order, once, with the gaps said.

TCP follows Wireshark 4.0's rules (epan/follow.c), so the bytes equal `tshark -z follow`:
per direction, the next expected sequence number starts at the first segment seen (after the
SYN); a segment that starts before it contributes only its new bytes (retransmissions and
overlaps add nothing twice); one that starts after it waits as a fragment until the hole is
filled; and when the other side acknowledges bytes beyond the hole, the hole is declared a gap
of N missing bytes and following moves past it.  Sequence numbers are compared modulo 2^32, so
streams that wrap past 2^32 and streams caught mid-connection both work.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..store.index import PacketIndex

ACK, SYN, FIN = 0x10, 0x02, 0x01
MASK = 0xFFFFFFFF


@dataclass
class Chunk:
    side: int           # 0: from node 0 (the first packet's source, tshark's "client"); 1: the other
    frame: int          # 0-based packet index the bytes come from
    data: bytes = b""
    gap: int = 0        # > 0: this chunk stands for that many bytes missing from the capture


@dataclass
class Stream:
    proto: str          # "tcp" or "udp"
    number: int
    nodes: list[tuple[str, int]] = field(default_factory=list)   # [(address text, port), (address text, port)]
    chunks: list[Chunk] = field(default_factory=list)

    def side_bytes(self, side: int) -> bytes:
        return b"".join(c.data for c in self.chunks if c.side == side and not c.gap)

    @property
    def gaps(self) -> list[Chunk]:
        return [c for c in self.chunks if c.gap]


def _after(a: int, b: int) -> bool:
    """Sequence number a comes after b (modulo 2^32: up to 2^31 ahead)."""
    return 0 < ((a - b) & MASK) < 0x80000000


class _Side:
    def __init__(self) -> None:
        self.next: int | None = None    # next expected relative sequence number
        self.fragments: list[Chunk] = []  # out-of-order segments, with .seq kept alongside
        self.frag_seq: list[int] = []


class TcpFollower:
    """Feed the stream's packets in frame order; chunks come out in tshark's order, to `emit`
    (default: kept in .chunks; a caller hashing a big transfer passes its own and keeps nothing)."""

    def __init__(self, emit: Callable[[Chunk], object] | None = None):
        self.sides = [_Side(), _Side()]
        self.chunks: list[Chunk] = []
        self.emit = emit or self.chunks.append

    def packet(self, frame: int, side: int, seq: int, ack: int | None, flags: int, data: bytes) -> None:
        other = 1 - side
        if ack is not None and self.sides[other].fragments:
            while self._fragments(other, ack, frame):
                pass
        s = self.sides[side]
        if s.next is None:
            s.next = (seq + (1 if flags & SYN else 0)) & MASK
        if _after(s.next, seq):  # starts before what we have: keep only the new bytes
            end = (seq + len(data)) & MASK
            if not _after(end, s.next):
                return  # a retransmission of bytes already followed
            data = data[(s.next - seq) & MASK:]
            seq = s.next
        if seq == s.next:
            s.next = (s.next + len(data) + (1 if flags & FIN else 0)) & MASK
            if data:
                self.emit(Chunk(side, frame, data))
            while self._fragments(side, None, frame):
                pass
        elif data:
            s.fragments.append(Chunk(side, frame, data))
            s.frag_seq.append(seq)

    def _fragments(self, side: int, acknowledged: int | None, frame: int) -> bool:
        """Place one waiting fragment that now fits, or declare the hole before the lowest one a
        gap if the other side has acknowledged past it; False when nothing changed."""
        s = self.sides[side]
        if not s.fragments:
            return False
        assert s.next is not None  # set by the side's first packet, before any fragment
        lowest = s.frag_seq[0]
        for k, (chunk, seq) in enumerate(zip(s.fragments, s.frag_seq)):
            if _after(lowest, seq):
                lowest = seq
            if _after(s.next, seq):  # starts before the expected point: its tail may be new
                end = (seq + len(chunk.data)) & MASK
                if _after(end, s.next):
                    new = chunk.data[(s.next - seq) & MASK:]
                    self.emit(Chunk(side, chunk.frame, new))
                    s.next = end
                del s.fragments[k], s.frag_seq[k]
                return True
            if seq == s.next:
                self.emit(chunk)
                s.next = (s.next + len(chunk.data)) & MASK
                del s.fragments[k], s.frag_seq[k]
                return True
        if acknowledged is not None and _after(acknowledged, lowest):
            missing = (lowest - s.next) & MASK
            self.emit(Chunk(side, frame, gap=missing))
            s.next = lowest
            return True
        return False


def follow_tcp(index: PacketIndex, stream: int, emit: Callable[[Chunk], object] | None = None) -> Stream:
    """The stream's chunks (in .chunks, or passed to `emit` one by one as they are found)."""
    cols = index.cols
    frames = index.stream_packets(stream)  # every packet: bare ACKs move the other side on
    out = Stream("tcp", stream)
    if not len(frames):
        return out
    follower = TcpFollower(emit)
    base = index.tcp.slots.raw("base")
    first_dir = int(cols.raw("dir")[frames[0]])
    out.nodes = endpoints(index, int(frames[0]))
    for i in frames.tolist():
        direction = int(cols.raw("dir")[i])
        flags = int(cols.raw("tcpflags")[i])
        own, peer = int(base[2 * stream + direction]), int(base[2 * stream + 1 - direction])
        seq = (int(cols.raw("seq")[i]) - max(own, 0)) & MASK
        ack = (int(cols.raw("ack")[i]) - max(peer, 0)) & MASK if flags & ACK else 0
        data = index.payload(i) if int(cols.raw("paylen")[i]) > 0 else b""
        follower.packet(i, 0 if direction == first_dir else 1, seq, ack, flags, data)
    out.chunks = follower.chunks
    return out


def follow_udp(index: PacketIndex, stream: int) -> Stream:
    cols = index.cols
    frames = np.nonzero(cols["ustream"] == stream)[0]
    out = Stream("udp", stream)
    if not len(frames):
        return out
    out.nodes = endpoints(index, int(frames[0]))
    src0, port0 = index.address(int(frames[0]), "src"), int(cols.raw("sport")[frames[0]])
    for i in frames.tolist():
        side = 0 if (index.address(i, "src"), int(cols.raw("sport")[i])) == (src0, port0) else 1
        data = index.payload(i)
        if data:
            out.chunks.append(Chunk(side, i, data))
    return out


def endpoint_text(node: tuple[str, int]) -> str:
    """An (address, port) endpoint as text: `10.0.0.1:21`, `[2001:db8::1]:21` for IPv6."""
    addr, port = node
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def endpoints(index: PacketIndex, i: int) -> list[tuple[str, int]]:
    """[(source address, port), (destination address, port)] of packet i, as text and int."""
    from ..text import ipv4, ipv6
    cols = index.cols
    v6 = int(cols.raw("ethertype")[i]) == 0x86DD

    def addr(raw: bytes) -> str:
        return ipv6(bytes(raw)) if v6 else ipv4(bytes(raw[12:]))
    return [(addr(index.address(i, "src")), int(cols.raw("sport")[i])),
            (addr(index.address(i, "dst")), int(cols.raw("dport")[i]))]
