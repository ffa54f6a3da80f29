"""Conversations (Wireshark's Statistics › Conversations): per pair of endpoints, packets and
bytes each way, when it started and how long it lasted, computed from the index columns.

A is the source of the conversation's first packet and B the other end, as tshark's
`-z conv,<type>` shows them; "A→B" counts the packets A sent.  Rows are sorted as tshark sorts
them: most packets first, then earliest start.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dissect.macnames import resolve_mac
from ..dissect.text import ipv4, ipv6
from ..store.columns import ETH_IPV4, ETH_IPV6
from ..store.prefix import gather

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


def conversations(index, kind: str) -> list[Conversation]:
    n = len(index)
    cols = index.cols
    rows = np.arange(n)
    if kind in ("tcp", "udp"):
        col = cols["stream" if kind == "tcp" else "ustream"]
        rows = rows[col >= 0]
        keys, ids = col[rows], None
        a_side = None
    elif kind in ("ip", "ipv6"):
        rows = rows[(cols["ethertype"] == (ETH_IPV4 if kind == "ip" else ETH_IPV6)) & (cols["l3off"] >= 0)]
        src, dst = cols["src"][rows], cols["dst"][rows]
        keys, a_side = _pair_keys(src, dst)
    elif kind == "eth":
        rows = rows[cols["link"] == LINK_ETHERNET]
        macs = gather(index, rows, np.zeros(len(rows), dtype=np.int64), 12)
        keys, a_side = _pair_keys(macs[:, 6:12], macs[:, :6])
    else:
        raise ValueError(kind)
    if not len(rows):
        return []
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # A is the source of each conversation's first packet
    if a_side is None:  # tcp/udp: the index direction of the first packet
        direction = cols["dir"][rows].astype(np.int64) if kind == "tcp" else _udp_dir(cols, rows)
        a_side = direction
    from_a = a_side == a_side[first][inverse]
    length = cols["origlen"][rows].astype(np.int64)
    g = len(uniq)
    frames_ab = np.bincount(inverse, weights=from_a, minlength=g).astype(np.int64)
    frames_all = np.bincount(inverse, minlength=g)
    bytes_ab = np.bincount(inverse, weights=length * from_a, minlength=g).astype(np.int64)
    bytes_all = np.bincount(inverse, weights=length, minlength=g).astype(np.int64)
    ts = cols["ts"][rows]
    last = np.zeros(g, dtype=np.int64)
    np.maximum.at(last, inverse, np.arange(len(rows)))
    t0 = index.first_ts or 0
    out = []
    for k in np.lexsort((ts[first], -frames_all)):
        i = int(rows[first[k]])
        a, b, flt, stream = _describe(index, kind, i)
        out.append(Conversation(kind, a, b, int(frames_ab[k]), int(bytes_ab[k]),
                                int(frames_all[k] - frames_ab[k]), int(bytes_all[k] - bytes_ab[k]),
                                int(ts[first[k]] - t0), int(ts[last[k]] - ts[first[k]]), flt, stream))
    return out


def _pair_keys(src: np.ndarray, dst: np.ndarray):
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
    return diff.any(axis=1) & (a[idx, first] > b[idx, first])


def _udp_dir(cols, rows):
    src = np.concatenate([cols["src"][rows], cols["sport"][rows].astype(">u2").view(np.uint8).reshape(-1, 2)], axis=1)
    dst = np.concatenate([cols["dst"][rows], cols["dport"][rows].astype(">u2").view(np.uint8).reshape(-1, 2)], axis=1)
    return _greater(src, dst).astype(np.int64)


def _describe(index, kind: str, i: int):
    """Endpoint texts of packet i's conversation (A = its source), a filter, and the stream."""
    cols = index.cols
    if kind == "eth":
        data = index.packet_bytes(i)
        a, b = data[6:12], data[0:6]
        return (resolve_mac(a), resolve_mac(b),
                f"eth.addr == {_mac(a)} && eth.addr == {_mac(b)}", -1)
    v6 = int(cols.raw("ethertype")[i]) == ETH_IPV6
    fmt = (lambda r: ipv6(bytes(r))) if v6 else (lambda r: ipv4(bytes(r[12:])))
    sa, da = fmt(cols.raw("src")[i]), fmt(cols.raw("dst")[i])
    if kind in ("ip", "ipv6"):
        return sa, da, f"{kind}.addr == {sa} && {kind}.addr == {da}", -1
    sp, dp = int(cols.raw("sport")[i]), int(cols.raw("dport")[i])
    stream = int(cols.raw("stream" if kind == "tcp" else "ustream")[i])
    return f"{sa}:{sp}", f"{da}:{dp}", f"{kind}.stream eq {stream}", stream


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)
