"""The first bytes of many packets' transport payloads, read from the file in big chunks.

Deciding which decoder a packet goes to (HTTP starts with a method, TLS with a record header)
needs only a few payload bytes.  Reading them for half a million packets one pread at a time
costs seconds; gathering them from 16 MB chunks with numpy costs a fraction of that.
"""
from __future__ import annotations

import numpy as np

CHUNK = 16 << 20
PROTO_TCP = 6


def payload_prefix(index, rows: np.ndarray, width: int = 8) -> np.ndarray:
    """(len(rows), width) uint8: each row's first payload bytes, zero-padded past the payload
    or the captured bytes.  rows must be ascending packet indexes with a TCP or UDP header."""
    out = np.zeros((len(rows), width), dtype=np.uint8)
    if not len(rows):
        return out
    cols = index.cols
    start = cols.raw("offset")[rows] + cols.raw("l4off")[rows]  # transport header in the file
    end = cols.raw("offset")[rows] + cols.raw("caplen")[rows]
    paylen = cols.raw("paylen")[rows].astype(np.int64)
    tcp = cols.raw("ipproto")[rows] == PROTO_TCP
    k = 0
    while k < len(rows):
        base = int(start[k])
        last = int(np.searchsorted(end, base + CHUNK, side="right"))  # rows that fit in this chunk
        last = max(last, k + 1)
        buf = np.frombuffer(index.cap.read(base, int(end[last - 1]) - base), dtype=np.uint8)
        pos = start[k:last] - base
        top = end[k:last] - base
        hdr = np.where(tcp[k:last], (buf[np.minimum(pos + 12, len(buf) - 1)] >> 4).astype(np.int64) * 4, 8)
        first = pos + hdr
        stop = np.minimum(top, first + np.minimum(paylen[k:last], width))
        for j in range(width):
            at = first + j
            ok = at < stop
            out[k:last, j][ok] = buf[at[ok]]
        k = last
    return out


def startswith_any(prefix: np.ndarray, words) -> np.ndarray:
    """Rows whose prefix starts with one of the byte strings (each at most prefix width long)."""
    hit = np.zeros(len(prefix), dtype=bool)
    for w in words:
        w = w[:prefix.shape[1]]
        hit |= np.all(prefix[:, :len(w)] == np.frombuffer(w, dtype=np.uint8), axis=1)
    return hit
