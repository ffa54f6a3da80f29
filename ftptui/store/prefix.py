"""A few bytes at a known place in many packets, read from the file in big chunks.

Deciding which decoder a packet goes to (HTTP starts with a method, TLS with a record header),
or listing Ethernet conversations (the MAC addresses), needs only a few bytes per packet.
Reading them for half a million packets one pread at a time costs seconds; gathering them from
16 MB chunks with numpy costs a fraction of that.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the index calls nothing here; only its type is named
    from .index import PacketIndex

CHUNK = 16 << 20
ROWS_AT_ONCE = 1 << 19
PROTO_TCP = 6


def gather(index: PacketIndex, rows: np.ndarray, starts: np.ndarray, width: int,
           limit: np.ndarray | None = None) -> np.ndarray:
    """(len(rows), width) uint8: the bytes at `starts` (offsets inside each packet) of each row,
    zero past the captured bytes or past `limit` (per-row count of bytes to take).  Rows may come
    in any order (stream order, say): they are read in file order and put back."""
    out = np.zeros((len(rows), width), dtype=np.uint8)
    if not len(rows):
        return out
    rows = np.asarray(rows)
    if len(rows) > ROWS_AT_ONCE:  # bounded temporaries (several int64 per row below)
        for a in range(0, len(rows), ROWS_AT_ONCE):
            part = slice(a, a + ROWS_AT_ONCE)
            out[part] = gather(index, rows[part], np.asarray(starts)[part], width,
                               None if limit is None else np.asarray(limit)[part])
        return out
    if len(rows) > 1 and np.any(rows[1:] < rows[:-1]):
        order = np.argsort(rows, kind="stable")
        out[order] = gather(index, rows[order], np.asarray(starts)[order], width,
                            None if limit is None else np.asarray(limit)[order])
        return out
    cols = index.cols
    pkt = cols.raw("offset")[rows]
    first = pkt + starts
    end = pkt + cols.raw("caplen")[rows]
    stop = np.minimum(end, first + (width if limit is None else np.minimum(limit, width)))
    k = 0
    while k < len(rows):
        base = int(min(first[k], end[k]))
        last = max(int(np.searchsorted(end, base + CHUNK, side="right")), k + 1)
        buf = np.frombuffer(index.cap.read(base, int(end[k:last].max()) - base), dtype=np.uint8)
        for j in range(width):
            at = first[k:last] + j
            ok = at < stop[k:last]
            out[k:last, j][ok] = buf[at[ok] - base]
        k = last
    return out


def payload_prefix(index: PacketIndex, rows: np.ndarray, width: int = 8) -> np.ndarray:
    """Each row's first `width` transport-payload bytes (rows: TCP or UDP packets)."""
    cols = index.cols
    l4 = cols.raw("l4off")[rows].astype(np.int64)
    tcp = cols.raw("ipproto")[rows] == PROTO_TCP
    hdr = np.where(tcp, (gather(index, rows, l4 + 12, 1)[:, 0] >> 4).astype(np.int64) * 4, 8)
    return gather(index, rows, l4 + hdr, width, cols.raw("paylen")[rows].astype(np.int64))


def startswith_any(prefix: np.ndarray, words: Iterable[bytes]) -> np.ndarray:
    """Rows whose prefix starts with one of the byte strings (each at most prefix width long)."""
    hit = np.zeros(len(prefix), dtype=bool)
    for w in words:
        w = w[:prefix.shape[1]]
        hit |= np.all(prefix[:, :len(w)] == np.frombuffer(w, dtype=np.uint8), axis=1)
    return hit
