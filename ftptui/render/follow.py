"""A followed stream as text: tshark's `-z follow` layouts (ascii, hex, raw) and JSON."""
from __future__ import annotations

import base64
import json

from ..streams.follow import Chunk, Stream, endpoint_text

RULE = "=" * 67


def gap_text(chunk: Chunk) -> bytes:
    """What tshark puts in the stream where bytes are missing (its C string, NUL included)."""
    size = chunk.gap if chunk.gap < 2**31 else chunk.gap - 2**32  # printed with %d
    return f"[{size} bytes missing in capture file]".encode() + b"\0"




def tshark_text(stream: Stream, mode: str, terminal: bool = False) -> str:
    """`tshark -q -z follow,<proto>,<mode>,N` output.  With terminal=True, control characters
    that tshark would write raw (CR in ascii mode) are shown as dots."""
    lines = ["", RULE, f"Follow: {stream.proto},{mode}", f"Filter: {stream.proto}.stream eq {stream.number}"]
    lines += [f"Node {k}: {endpoint_text(n)}" for k, n in enumerate(stream.nodes)]
    offsets = [0, 0]
    out = "\n".join(lines) + "\n"
    for c in stream.chunks:
        data = gap_text(c) if c.gap else c.data
        tab = "\t" if c.side else ""
        if mode == "raw":
            out += tab + data.hex() + "\n"
        elif mode == "ascii":
            out += f"{tab}{len(data)}\n" + _ascii(data, terminal) + "\n"
        else:
            out += hex_dump(data, offsets[c.side], tab)
        offsets[c.side] += len(data)
    return out + RULE + "\n"


def _ascii(data: bytes, terminal: bool) -> str:
    keep = (0x0A,) if terminal else (0x0A, 0x0D)
    return "".join(chr(b) if 0x20 <= b < 0x7F or b in keep else "." for b in data)


_DOTS = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


HEX_LINE_WIDTH = 78  # hex_line's widest: 77 columns, one more once an offset passes 8 hex digits


def hex_line(row: bytes, offset: int) -> str:
    """One line of tshark's follow hex dump (up to 16 bytes at `offset`)."""
    hx = " ".join(f"{b:02x}" for b in row[:8])
    if len(row) > 8:
        hx += "  " + " ".join(f"{b:02x}" for b in row[8:])
    asc = row.translate(_DOTS).decode("ascii")
    if len(row) > 8:
        asc = asc[:8] + " " + asc[8:]
    line = f"{offset:08X}  {hx:<49} {asc}"
    return line[:-1] if line.endswith(" ") else line  # tshark drops one trailing space


def hex_dump(data: bytes, offset: int, tab: str) -> str:
    """tshark's follow hex dump of `data`, lines numbered from `offset`, each after `tab`."""
    return "".join(f"{tab}{hex_line(data[k:k + 16], offset + k)}\n" for k in range(0, len(data), 16))


def to_json(stream: Stream) -> str:
    sides = ("client", "server")
    return json.dumps({
        "proto": stream.proto, "stream": stream.number,
        "client": endpoint_text(stream.nodes[0]) if stream.nodes else None,
        "server": endpoint_text(stream.nodes[1]) if stream.nodes else None,
        "chunks": [{"from": sides[c.side], "frame": c.frame + 1, "data": base64.b64encode(c.data).decode()}
                   for c in stream.chunks if not c.gap],
        "gaps": [{"from": sides[c.side], "frame": c.frame + 1, "bytes": c.gap} for c in stream.gaps],
    }, indent=1)
