"""The packet list as `tshark -r FILE` prints it, column widths and arrow included."""
from __future__ import annotations

from ..dissect.tree import Dissection
from ..text import safe


def tshark_line(d: Dissection) -> str:
    """One line: number (width 5), time (width 10, right), source (width 12, right), arrow,
    destination (width 12, left), protocol, length, info."""
    # most Info texts hold an arrow, which safe() checks character by character; a printable
    # text has nothing it would replace
    info = d.info if d.info.isprintable() else safe(d.info)
    return tshark_columns(d.number, d.time, d.source, d.destination, d.protocol, d.length, info)


def tshark_columns(number: int, time: str, source: str, destination: str, protocol: str, length: int,
                   info: str) -> str:
    """tshark_line of columns already safe to print."""
    return f"{number:>5} {time:>10} {source:>12} → {destination:<12} {protocol} {length} {info}"
