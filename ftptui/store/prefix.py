"""Bytes of many packets, read from the file in big chunks.

Deciding which decoder a packet goes to (HTTP starts with a method, TLS with a record header),
or listing Ethernet conversations (the MAC addresses), needs only a few bytes per packet.
Reading them for half a million packets one pread at a time costs seconds; gathering them from
16 MB chunks with numpy costs a fraction of that.  Filters on raw bytes (`frame contains "x"`)
read whole packets the same way, and search a chunk at once rather than packet by packet.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the index calls nothing here; only its type is named
    from .index import PacketIndex

CHUNK = 16 << 20
# rows further apart than this in the file are read with a pread each, not through the bytes
# between them (a sparse set of rows would otherwise read the whole file)
GAP = 64 << 10
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


def _runs(first: np.ndarray, stop: np.ndarray) -> Iterator[tuple[int, int]]:
    """Split rows, whose wanted bytes are at the ascending file positions [first, stop), into
    runs [k, last) that one read covers: at most about CHUNK bytes, no hole over GAP."""
    n = len(first)
    holes = (np.nonzero(first[1:] - stop[:-1] > GAP)[0] + 1).tolist() + [n]
    k = h = 0
    while k < n:
        while holes[h] <= k:
            h += 1
        last = int(np.searchsorted(stop, first[k] + CHUNK, side="right"))
        last = min(holes[h], max(last, k + 1))
        yield k, last
        k = last


def packets(index: PacketIndex, rows: np.ndarray,
            on_run: Callable[[int], object] | None = None) -> Iterator[bytes]:
    """Each row's captured bytes, rows ascending (file order).  on_run(rows done so far) is
    called before each read, so a caller can report progress or stop."""
    cols = index.cols
    first = cols.raw("offset")[rows]
    stop = first + cols.raw("caplen")[rows]
    for k, last in _runs(first, stop):
        if on_run is not None:
            on_run(k)
        base = int(first[k])
        buf = index.cap.read(base, int(stop[last - 1]) - base)
        for a, b in zip((first[k:last] - base).tolist(), (stop[k:last] - base).tolist()):
            yield buf[a:b]


def containing(index: PacketIndex, rows: np.ndarray, starts: np.ndarray, stops: np.ndarray, needle: bytes,
               on_run: Callable[[int], object] | None = None) -> np.ndarray:
    """Mask over rows (ascending): those whose bytes [starts, stops) (offsets inside each packet,
    empty or not) hold `needle` (not empty).  Each chunk is searched as one string: an
    occurrence is kept only when it lies inside one row's range, so one across two packets
    (or across a record header) does not count."""
    hit = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return hit
    base_of = index.cols.raw("offset")[rows]
    first = base_of + np.asarray(starts, dtype=np.int64)
    stop = np.maximum(base_of + np.asarray(stops, dtype=np.int64), first)
    for k, last in _runs(first, stop):
        if on_run is not None:
            on_run(k)
        base = int(first[k])
        buf = index.cap.read(base, int(stop[last - 1]) - base)
        lo = (first[k:last] - base).tolist()
        hi = (stop[k:last] - base).tolist()
        pos = buf.find(needle)
        while pos >= 0:
            r = bisect.bisect_right(lo, pos) - 1  # the range starting at or before pos
            if pos + len(needle) <= hi[r]:
                hit[k + r] = True
            # found in range r, or running past its end (then so would any later occurrence
            # starting in it, find giving the first): range r is decided either way
            if r + 1 == len(lo):
                break
            pos = buf.find(needle, max(pos + 1, lo[r + 1]))
    return hit
