"""TCP options: the one walk over them (as tshark walks them), for the tree and the sequence
analysis, and the index's per-packet bit saying whether a segment has options worth reading."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .columns import PROTO_TCP

EOL, NOP = 0, 1
MALFORMED = -1  # an option whose length is wrong or runs past the header: nothing follows
TRUNCATED = -2  # the captured bytes end inside the options


def walk(data: bytes, p: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(kind, start, length) of each option in data[p:end].  tshark stops at an EOL followed by
    non-zero padding, but shows zero padding as one EOL per byte; MALFORMED or TRUNCATED ends it."""
    while p < end:
        if p >= len(data):
            yield TRUNCATED, p, 0
            return
        kind = data[p]
        if kind == EOL:
            yield EOL, p, 1
            if end > len(data):
                yield TRUNCATED, p + 1, 0
                return
            if any(data[p + 1:end]):
                return
            p += 1
            continue
        if kind == NOP:
            yield NOP, p, 1
            p += 1
            continue
        if p + 1 >= len(data):
            yield TRUNCATED, p + 1, 0
            return
        size = data[p + 1]
        if size < 2 or p + size > end:
            yield MALFORMED, p, end - p
            return
        if p + size > len(data):
            yield TRUNCATED, p + 2, 0
            return
        yield kind, p, size
        p += size


def beyond_timestamps(buf: bytes, rel: np.ndarray, caplen: np.ndarray, cols: dict[str, np.ndarray]) -> np.ndarray:
    """Bit 0 set where a TCP header has options that may matter to the sequence analysis (SACK
    blocks, window scale): any options but the usual NOP, NOP, timestamps.  Lets the analysis
    skip reading most packets again."""
    out = np.zeros(len(rel), np.uint8)
    tcp = np.nonzero((cols["ipproto"] == PROTO_TCP) & (cols["l4off"] >= 0) & (cols["tcpflags"] < 0x1000))[0]
    if not len(tcp):
        return out
    raw = np.frombuffer(buf, np.uint8)
    start = rel[tcp].astype(np.int64) + cols["l4off"][tcp]
    end = rel[tcp].astype(np.int64) + caplen[tcp]
    hdr = (raw[np.minimum(start + 12, len(raw) - 1)] >> 4).astype(np.int64) * 4
    at = np.minimum(start + 20, len(raw) - 4)
    first4 = raw[at].astype(np.uint32) << 24 | raw[at + 1].astype(np.uint32) << 16 \
        | raw[at + 2].astype(np.uint32) << 8 | raw[at + 3]
    plain_ts = (hdr == 32) & (first4 == 0x0101080A) & (start + 24 <= end)
    out[tcp] = (hdr > 20) & ~plain_ts
    return out
