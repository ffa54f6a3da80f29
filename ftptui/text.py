"""Text made from capture bytes, shared by every layer: addresses, tshark's escaping of
strings (format_text), safe() for anything that reaches a terminal, a payload's first line.
It imports nothing of ftptui, so any package may use it."""
from __future__ import annotations

import ipaddress
import time
import unicodedata
from functools import lru_cache


def ipv4(b: bytes) -> str:
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def ipv6(b: bytes) -> str:
    return _ipv6(bytes(b))


@lru_cache(maxsize=65536)  # addresses recur, and ipaddress takes tens of us to format one
def _ipv6(b: bytes) -> str:
    return str(ipaddress.IPv6Address(b))


def mac(b: bytes) -> str:
    return ":".join("%02x" % x for x in b)


# Unicode categories GLib's g_unichar_isprint rejects: control, format, unassigned, surrogate
UNPRINTED = frozenset(("Cc", "Cf", "Cn", "Cs"))
# ... and what ftptui never writes to a terminal: those, and line / paragraph separators
NOT_SHOWN = UNPRINTED | {"Zl", "Zp"}
_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f",
            0x0D: "\\r"}


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def format_text(data: bytes) -> str:
    """Printable rendering of bytes as Wireshark's format_text does: C escapes or octal for
    ASCII controls, \\uXXXX for other characters GLib does not print (C1 controls, format
    characters such as bidi overrides, unassigned code points), valid UTF-8 kept, invalid
    sequences as U+FFFD."""
    if not data.translate(None, _PRINTABLE_ASCII):  # the usual case (names, commands): as it is
        return data.decode("ascii")
    out = []
    for ch in data.decode("utf-8", "replace"):
        c = ord(ch)
        if 0x20 <= c < 0x7F:
            out.append(ch)
        elif c < 0x80:
            out.append(_ESCAPES.get(c) or "\\%03o" % c)
        elif unicodedata.category(ch) in UNPRINTED:
            out.append("\\u%04X" % c if c <= 0xFFFF else "\\U%08X" % c)
        else:
            out.append(ch)
    return "".join(out)


def safe(text: str) -> str:
    """Replace every character a terminal could act on (controls, escape sequences, bidi and
    other format characters, line separators, unassigned code points) by a dot, so nothing
    from a capture can drive the terminal or reorder what is shown."""
    if text.isascii() and text.isprintable():
        return text
    return "".join("." if unicodedata.category(ch) in NOT_SHOWN else ch for ch in text)


@lru_cache(maxsize=4096)  # the same few flag pictures recur in every packet
def bits(value: int, mask: int, width: int) -> str:
    """Wireshark's bit picture of a masked field: the field's bits of `value`, dots for the
    others, in groups of four from the top ('000. .... ....' for TCP's reserved flags)."""
    out = []
    for b in range(width - 1, -1, -1):
        out.append(str(value >> b & 1) if mask >> b & 1 else ".")
        if b and b % 4 == 0:
            out.append(" ")
    return "".join(out)


def seconds(ns: int) -> str:
    """A relative time as tshark shows it: seconds with 9 decimals."""
    sign = "-" if ns < 0 else ""
    secs, frac = divmod(abs(ns), 1_000_000_000)
    return f"{sign}{secs}.{frac:09d}"


def first_line(payload: bytes) -> bytes:
    """The payload up to its first CR or LF (the line tshark's list shows for text protocols)."""
    for i, c in enumerate(payload):
        if c in (10, 13):
            return payload[:i]
    return payload


def format_abs_time(ns: int) -> str:
    """tshark's local-time rendering of an absolute time: 'Jul 18, 2020 09:41:35.302744000 UTC'."""
    t = time.localtime(ns // 1_000_000_000)
    return time.strftime(f"%b {t.tm_mday:2d}, %Y %H:%M:%S", t) + f".{ns % 1_000_000_000:09d} {t.tm_zone}"
