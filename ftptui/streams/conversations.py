"""Conversations (Wireshark's Statistics › Conversations): per pair of endpoints, packets and
bytes each way, when it started and how long it lasted, computed from the index columns.

A is the source of the conversation's first packet and B the other end, as tshark's
`-z conv,<type>` shows them; "A→B" counts the packets A sent.  Rows are sorted as tshark sorts
them: most packets first, then earliest start.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from ..macnames import resolve_mac
from ..store.columns import ETH_IPV4, ETH_IPV6
from ..store.index import PacketIndex
from ..store.prefix import gather
from ..store.tcp_streams import assign_ids
from ..text import ipv4, ipv6

KINDS = ("eth", "ip", "ipv6", "tcp", "udp")
LINK_ETHERNET = 1


@dataclass
class Conversation:
    kind: str
    a: str                 # endpoint text (address, or address:port)
    b: str
    frames_ab: int
    bytes_ab: int
    frames_ba: int
    bytes_ba: int
    start: int             # ns since the first packet
    duration: int          # ns
    filter: str            # display filter selecting it
    stream: int = -1       # tcp.stream / udp.stream, for following it

    @property
    def frames(self) -> int:
        return self.frames_ab + self.frames_ba

    @property
    def bytes(self) -> int:
        return self.bytes_ab + self.bytes_ba

    @property
    def duration_seconds(self) -> float:
        """As Wireshark computes it: end minus start, each in float seconds (this decides how
        a duration of exactly half a unit rounds)."""
        return (self.start + self.duration) / 1e9 - self.start / 1e9


class ConversationTable(Sequence[Conversation]):
    """One type's conversations in tshark's order, kept as numpy columns (about 60 bytes each):
    a row becomes a Conversation only when it is looked at, so a capture with millions of
    conversations costs no more than its columns."""

    def __init__(self, index: PacketIndex, kind: str, first: np.ndarray, frames_ab: np.ndarray, bytes_ab: np.ndarray,
                 frames_ba: np.ndarray, bytes_ba: np.ndarray, start: np.ndarray, duration: np.ndarray):
        self.packets, self.kind = index, kind  # (not .index: Sequence.index is a method)
        self.first = first          # frame index (0-based) of each conversation's first packet
        self.frames_ab, self.bytes_ab, self.frames_ba, self.bytes_ba = frames_ab, bytes_ab, frames_ba, bytes_ba
        self.start, self.duration = start, duration

    def __len__(self) -> int:
        return len(self.first)

    @overload
    def __getitem__(self, k: int) -> Conversation: ...
    @overload
    def __getitem__(self, k: slice) -> list[Conversation]: ...

    def __getitem__(self, k: int | slice) -> Conversation | list[Conversation]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        i = int(self.first[k])
        a, b, flt, stream = _describe(self.packets, self.kind, i)
        return Conversation(self.kind, a, b, int(self.frames_ab[k]), int(self.bytes_ab[k]), int(self.frames_ba[k]),
                            int(self.bytes_ba[k]), int(self.start[k]), int(self.duration[k]), flt, stream)

    def column(self, key: str) -> np.ndarray:
        """A numeric column by its name: frames, bytes, frames_ab... start, duration."""
        if key == "frames":
            return np.asarray(self.frames_ab + self.frames_ba)
        if key == "bytes":
            return np.asarray(self.bytes_ab + self.bytes_ba)
        return np.asarray(getattr(self, key))

    def endpoints(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """Addresses (16 bytes, IPv4 mapped) and ports of every conversation's A or B side (A:
        the source of its first packet); Ethernet: the 6-byte MAC addresses, ports 0."""
        which = "src" if side == "a" else "dst"
        if self.kind == "eth":
            macs = gather(self.packets, self.first, np.zeros(len(self.first), dtype=np.int64), 12)
            return (macs[:, 6:12] if side == "a" else macs[:, :6]), np.zeros(len(self.first), dtype=np.int64)
        port = self.packets.cols.raw("sport" if side == "a" else "dport")[self.first].astype(np.int64)
        return self.packets.addresses(which, self.first), port


ROWS_AT_ONCE = 1 << 19  # packets grouped at a time: the temporaries stay small


def conversations(index: PacketIndex, kind: str) -> ConversationTable:
    """One type's conversations.  Packets are taken ROWS_AT_ONCE at a time; each conversation
    is numbered at its first packet, and its counts are summed chunk by chunk."""
    if kind not in KINDS:
        raise ValueError(kind)
    n = len(index)
    acc = _Sums()
    ids: dict[bytes, int] = {}
    for start in range(0, n, ROWS_AT_ONCE):
        rows = start + np.flatnonzero(_member(index, kind, start, min(n, start + ROWS_AT_ONCE)))
        if not len(rows):
            continue
        if kind in ("tcp", "udp"):  # the stream number is the conversation
            conv = index.cols.raw("stream" if kind == "tcp" else "ustream")[rows].astype(np.int64)
            side = index.cols.raw("dir")[rows].astype(np.int64) if kind == "tcp" else _udp_dir(index, rows)
        else:
            keys, side = _keys(index, kind, rows)
            conv, _ = assign_ids(ids, len(ids), keys)
            conv = conv.astype(np.int64)
        acc.add(index, rows, conv, side)
    if not acc.started:
        empty = np.zeros(0, dtype=np.int64)
        return ConversationTable(index, kind, *[empty] * 7)
    ts = index.cols.raw("ts")
    t0 = index.first_ts or 0
    seen = acc.first >= 0  # (udp.stream numbers of packets past the index's end: none)
    order = np.flatnonzero(seen)[np.lexsort((ts[acc.first[seen]], -acc.frames[seen]))]  # tshark's order
    first, last = acc.first[order], acc.last[order]
    return ConversationTable(index, kind, first, acc.frames_ab[order], acc.bytes_ab[order],
                             acc.frames[order] - acc.frames_ab[order], acc.bytes[order] - acc.bytes_ab[order],
                             ts[first] - t0, ts[last] - ts[first])


class _Sums:
    """Per conversation: first and last frame, the first packet's side (A), packets and bytes,
    and those from A; arrays grow as conversations appear."""

    def __init__(self) -> None:
        self.started = False
        empty = np.zeros(0, dtype=np.int64)
        self.first = self.last = self.a_side = self.frames = self.frames_ab = self.bytes = self.bytes_ab = empty

    def _grow(self, count: int) -> None:
        self.started = True
        have = len(self.first)
        if count <= have:
            return
        more = count - have
        self.first = np.concatenate([self.first, np.full(more, -1, dtype=np.int64)])
        self.last = np.concatenate([self.last, np.full(more, -1, dtype=np.int64)])
        for name in ("a_side", "frames", "frames_ab", "bytes", "bytes_ab"):
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(more, dtype=np.int64)]))

    def add(self, index: PacketIndex, rows: np.ndarray, conv: np.ndarray, side: np.ndarray) -> None:
        self._grow(int(conv.max()) + 1)
        new = np.flatnonzero(self.first[conv] < 0)  # the chunk's packets of unseen conversations
        if len(new):
            born, at = np.unique(conv[new], return_index=True)  # each one's earliest packet
            self.first[born] = rows[new[at]]
            self.a_side[born] = side[new[at]]
        from_a = side == self.a_side[conv]
        length = index.cols.raw("origlen")[rows].astype(np.int64)
        g = len(self.first)
        self.frames += np.bincount(conv, minlength=g)
        self.frames_ab += np.bincount(conv, weights=from_a, minlength=g).astype(np.int64)
        self.bytes += np.bincount(conv, weights=length, minlength=g).astype(np.int64)
        self.bytes_ab += np.bincount(conv, weights=length * from_a, minlength=g).astype(np.int64)
        np.maximum.at(self.last, conv, rows)


def _member(index: PacketIndex, kind: str, start: int, end: int) -> np.ndarray:
    """Mask over [start, end) of the packets that belong to a conversation of this type."""
    cols = index.cols
    if kind == "tcp":
        return np.asarray(cols.raw("stream")[start:end] >= 0)
    if kind == "udp":
        return np.asarray(cols.raw("ustream")[start:end] >= 0)
    if kind == "eth":
        return np.asarray(cols.raw("link")[start:end] == LINK_ETHERNET)
    ethertype = ETH_IPV4 if kind == "ip" else ETH_IPV6
    return np.asarray((cols.raw("ethertype")[start:end] == ethertype) & (cols.raw("l3off")[start:end] >= 0))


def _keys(index: PacketIndex, kind: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An order-free key per packet for its pair of addresses, and which side its source is."""
    if kind == "ip":  # IPv4 addresses are numbers in the index: a pair fits in 16 bytes
        cols = index.cols
        return _number_pair_keys(cols.raw("src")[rows].astype(np.uint64), cols.raw("dst")[rows].astype(np.uint64))
    if kind == "eth":
        return _number_pair_keys(_mac_numbers(index, rows, 6), _mac_numbers(index, rows, 0))
    return _pair_keys(index.addresses("src", rows), index.addresses("dst", rows))


def _number_pair_keys(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """As _pair_keys, for addresses that are numbers (uint64, at most 48 bits used): 16 bytes a
    packet instead of twice the addresses' bytes and a copy of them."""
    swapped = src > dst
    pair = np.empty((len(src), 2), dtype=np.uint64)
    pair[:, 0] = np.where(swapped, dst, src)
    pair[:, 1] = np.where(swapped, src, dst)
    return pair.view("V16").ravel(), swapped.astype(np.int64)


def _mac_numbers(index: PacketIndex, rows: np.ndarray, at: int) -> np.ndarray:
    """The 6-byte MAC address at offset `at` of each row's frame, as a number (byte order kept:
    comparing the numbers compares the addresses)."""
    raw = gather(index, rows, np.full(len(rows), at, dtype=np.int64), 6)
    out = np.zeros(len(rows), dtype=np.uint64)
    for k in range(6):
        out = (out << np.uint64(8)) | raw[:, k].astype(np.uint64)
    return out


def _pair_keys(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An order-free key per packet for the (src, dst) pair, and which side the source is."""
    width = src.shape[1]
    swapped = _greater(src, dst)
    lo = np.where(swapped[:, None], dst, src)
    hi = np.where(swapped[:, None], src, dst)
    keys = np.ascontiguousarray(np.concatenate([lo, hi], axis=1)).view(f"V{2 * width}").ravel()
    return keys, swapped.astype(np.int64)


def _greater(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a != b
    first = np.argmax(diff, axis=1)
    idx = np.arange(len(a))
    return np.asarray(diff.any(axis=1) & (a[idx, first] > b[idx, first]))


def _udp_dir(index: PacketIndex, rows: np.ndarray) -> np.ndarray:
    cols = index.cols
    src = np.concatenate([index.addresses("src", rows),
                          cols["sport"][rows].astype(">u2").view(np.uint8).reshape(-1, 2)], axis=1)
    dst = np.concatenate([index.addresses("dst", rows),
                          cols["dport"][rows].astype(">u2").view(np.uint8).reshape(-1, 2)], axis=1)
    return _greater(src, dst).astype(np.int64)


def _describe(index: PacketIndex, kind: str, i: int) -> tuple[str, str, str, int]:
    """Endpoint texts of packet i's conversation (A = its source), a filter, and the stream."""
    cols = index.cols
    if kind == "eth":
        data = index.packet_bytes(i)
        a, b = data[6:12], data[0:6]
        return (resolve_mac(a), resolve_mac(b),
                f"eth.addr == {_mac(a)} && eth.addr == {_mac(b)}", -1)
    v6 = int(cols.raw("ethertype")[i]) == ETH_IPV6

    def fmt(r: bytes) -> str:
        return ipv6(bytes(r)) if v6 else ipv4(bytes(r[12:]))
    sa, da = fmt(index.address(i, "src")), fmt(index.address(i, "dst"))
    if kind in ("ip", "ipv6"):
        return sa, da, f"{kind}.addr == {sa} && {kind}.addr == {da}", -1
    sp, dp = int(cols.raw("sport")[i]), int(cols.raw("dport")[i])
    stream = int(cols.raw("stream" if kind == "tcp" else "ustream")[i])
    return f"{sa}:{sp}", f"{da}:{dp}", f"{kind}.stream eq {stream}", stream


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)
