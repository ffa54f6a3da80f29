"""Conversation tables as text, laid out like `tshark -q -z conv,<kind>`."""
from __future__ import annotations

from collections.abc import Sequence

from ..streams.conversations import Conversation

TITLES = {"eth": "Ethernet", "ip": "IPv4", "ipv6": "IPv6", "tcp": "TCP", "udp": "UDP"}
RULE = "=" * 80


def size_text(n: int) -> str:
    """Wireshark's format_size with SI units: '9907 bytes', '12 kB', '3 MB'."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= 10 * scale:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def table(kind: str, convs: Sequence[Conversation]) -> str:
    width = max([len(c.a) for c in convs] + [20])
    bwidth = max([len(c.b) for c in convs] + [20])
    head = " " * (width + bwidth + 6)
    lines = [RULE, f"{TITLES[kind]} Conversations", "Filter:<No Filter>",
             f"{head}|       <-      | |       ->      | |     Total     |    Relative    |   Duration   |",
             f"{head}| Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |"]
    for c in convs:
        lines.append(f"{c.a:<{width}} <-> {c.b:<{bwidth}} {c.frames_ba:>6} {size_text(c.bytes_ba):<12}"
                     f"{c.frames_ab:>6} {size_text(c.bytes_ab):<12}{c.frames:>6} {size_text(c.bytes):<12}"
                     f"{c.start / 1e9:>14.9f} {c.duration_seconds:>14.4f}")
    lines.append(RULE)
    return "\n".join(lines) + "\n"
