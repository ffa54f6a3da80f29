"""tshark's catch-all payload dissectors: "data" (raw bytes) and "data-text-lines" (text, one
item per line)."""
from __future__ import annotations

from collections.abc import Iterator

from ..text import format_text
from .tree import Field


def data_node(start: int, raw: bytes) -> Field:
    """Bytes nobody decodes: the bytes (the filter reads them from the range) and their count."""
    n = len(raw)
    node = Field(f"Data ({n} bytes)", "data", start, n)
    node.add(f"Data: {raw[:36].hex()}{'…' if n > 36 else ''}", "data.data", start, n)
    node.add(f"[Length: {n}]", "data.len", value=n)
    return node


def line_spans(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, length) of each line, its end of line included, as tvb_find_line_end splits:
    at CR LF, a lone CR or a lone LF; the last line may have none."""
    pos = 0
    while pos < len(data):
        cr, lf = data.find(b"\r", pos), data.find(b"\n", pos)
        ends = [e for e in (cr, lf) if e >= 0]
        if not ends:
            yield pos, len(data) - pos
            return
        eol = min(ends)
        stop = eol + (2 if data[eol:eol + 2] == b"\r\n" else 1)
        yield pos, stop - pos
        pos = stop


def text_lines(start: int, data: bytes, media_type: str = "", ranged: bool = True) -> Field:
    """The data-text-lines layer.  `ranged` False: the text is not the frame's bytes (a
    decompressed HTTP body), so its items cover no bytes."""
    spans = list(line_spans(data))
    title = "Line-based text data" + (f": {media_type}" if media_type else "") + f" ({len(spans)} lines)"
    layer = Field(title, "data-text-lines", start if ranged else 0, len(data) if ranged else 0)
    for pos, length in spans:
        layer.add(format_text(data[pos:pos + length]), "", start + pos if ranged else 0, length if ranged else 0)
    return layer


def looks_like_text(data: bytes) -> bool:
    """tshark's FTP-DATA test: the first 20 bytes are printable ASCII, CR or LF."""
    return all(c in (13, 10) or 0x20 <= c < 0x7F for c in data[:20])
