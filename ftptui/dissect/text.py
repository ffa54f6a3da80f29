"""Formatting helpers shared by the decoders: addresses and safe text."""
from __future__ import annotations

import ipaddress


def ipv4(b: bytes) -> str:
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def ipv6(b: bytes) -> str:
    return str(ipaddress.IPv6Address(bytes(b)))


def ip_from16(b16: bytes) -> str:
    """Index addresses are 16 bytes, IPv4 in IPv4-mapped form."""
    if b16[:12] == b"\0" * 10 + b"\xff\xff":
        return ipv4(b16[12:])
    return ipv6(b16)


def mac(b: bytes) -> str:
    return ":".join("%02x" % x for x in b)


def format_text(data: bytes) -> str:
    """Printable rendering of bytes as Wireshark's format_text does: escapes for controls."""
    out = []
    for c in data:
        if 0x20 <= c < 0x7F:
            out.append(chr(c))
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5C:
            out.append("\\\\")
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def safe(text: str) -> str:
    """Replace control characters so nothing from a capture can drive the terminal."""
    return "".join(ch if ch.isprintable() else "." for ch in text)
