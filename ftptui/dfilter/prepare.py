"""Wireshark's "Apply as Filter" / "Prepare as Filter": the display filter that matches a tree field.

The expression is the one Wireshark 4.0 builds for the selected field (`proto.c`,
construct_match_selected_string): a protocol or a text-less field (FT_NONE) gives its name, a field
with a value gives `name == value` with the value written as a filter literal (integers in hex for
fields Wireshark shows in hex, as `tshark -T fields` prints them; absolute times quoted, in local
time), and a field whose value cannot be
written as a literal is matched on its bytes in the frame: `frame[start:length] == aa:bb:...`.
"""
from __future__ import annotations

import ipaddress
import time
from functools import lru_cache
from importlib import resources
from typing import Any

from ..dissect.tree import Field
from ..errors import FtptuiError
from .fields import lookup

HEX_BASES = {"BASE_HEX", "BASE_HEX_DEC"}
TYPE_BITS = {"FT_UINT8": 8, "FT_INT8": 8, "FT_CHAR": 8, "FT_UINT16": 16, "FT_INT16": 16, "FT_UINT24": 24,
             "FT_INT24": 24, "FT_UINT32": 32, "FT_INT32": 32, "FT_UINT40": 40, "FT_INT40": 40, "FT_UINT48": 48,
             "FT_INT48": 48, "FT_UINT56": 56, "FT_INT56": 56, "FT_UINT64": 64, "FT_INT64": 64}

# how a prepared expression is combined with the filter already in the bar (Wireshark's submenu)
COMBINE = ("selected", "not", "and", "or", "and_not", "or_not")
COMBINE_LABELS = {"selected": "Selected", "not": "Not Selected", "and": "…and Selected", "or": "…or Selected",
                  "and_not": "…and not Selected", "or_not": "…or not Selected"}


class PrepareError(FtptuiError):
    """The tree line cannot be turned into a filter (a text-only line, or no value and no bytes)."""


@lru_cache(maxsize=1)
def _bases() -> dict[str, str]:
    """Field name -> Wireshark's display base (BASE_HEX, BASE_DEC, ...) from the field list."""
    text = resources.files("ftptui").joinpath("data/fields.tsv").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines()[2:]:
        parts = line.split("\t")
        if len(parts) >= 5 and parts[4]:
            out[parts[0]] = parts[4]
    return out


def hex_bytes(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def quote(text: str) -> str:
    """A double-quoted filter string: quotes and backslashes escaped, unprintable bytes as \\xhh."""
    out = ['"']
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.extend(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogateescape"))
    out.append('"')
    return "".join(out)


def _int(name: str, ftype: str, value: int) -> str:
    bits = TYPE_BITS.get(ftype)
    if bits and value >= 0 and _bases().get(name) in HEX_BASES:
        return f"0x{value:0{bits // 4}x}"
    return str(value)


def _seconds(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    s, frac = divmod(abs(ns), 1_000_000_000)
    return f"{sign}{s}.{frac:09d}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _abs_time(ns: int) -> str:
    """An absolute time as Wireshark writes it in a filter: quoted, local time, no zone
    ("Jul 18, 2020 11:41:26.000332000"), which is what the filter language reads back."""
    s, frac = divmod(ns, 1_000_000_000)
    t = time.localtime(s)
    return (f'"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d}, {t.tm_year} '
            f'{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{frac:09d}"')


def _field_bytes(field: Field, packet_bytes: bytes) -> bytes:
    if field.length > 0 and field.start + field.length <= len(packet_bytes):
        return bytes(packet_bytes[field.start:field.start + field.length])
    return b""


def _frame_slice(field: Field, packet_bytes: bytes) -> str:
    data = _field_bytes(field, packet_bytes)
    if not data:
        what = f"{field.name}" if field.name else "this line"
        raise PrepareError(f"{what} has no value or bytes to filter on.")
    return f"frame[{field.start}:{field.length}] == {hex_bytes(data)}"


def _value(kind: str, name: str, ftype: str, v: Any) -> str | None:
    """The field's value as a filter literal of its kind, or None when it cannot be written."""
    if kind == "int":
        return _int(name, ftype, int(v))
    if kind == "bool":
        return "1" if v else "0"
    if kind == "float":
        return repr(float(v))
    if kind == "time":
        return _seconds(int(v))
    if kind == "abstime":
        return _abs_time(int(v))
    if kind in ("ipv4", "ipv6"):
        if isinstance(v, str):
            addr = ipaddress.ip_address(v)
        else:
            addr = ipaddress.ip_address(bytes(v))
        return addr.compressed
    if kind == "ether":
        return hex_bytes(bytes(v))
    if kind == "string":
        return quote(v if isinstance(v, str) else bytes(v).decode("utf-8", "surrogateescape"))
    return None


def filter_for_field(field: Field, packet_bytes: bytes) -> str:
    """The display filter Wireshark's "Apply as Filter" gives for a detail-tree Field.

    `packet_bytes` are the frame's bytes (the field's start/length index into them).  Raises
    PrepareError for a text-only line (no field name) or a field with neither value nor bytes.
    """
    name = field.name
    if not name:
        label = field.label if len(field.label) <= 40 else field.label[:39] + "…"
        raise PrepareError(f"“{label}” is a text line, not a field: there is nothing to filter on.")
    fdef = lookup(name)
    if fdef is None:  # a name the filter language does not know: match its bytes, as Wireshark does
        return _frame_slice(field, packet_bytes)
    if fdef.is_protocol or fdef.ftype == "FT_NONE":
        return name
    kind = fdef.kind
    if kind == "bytes":
        data = _field_bytes(field, packet_bytes)
        if not data and isinstance(field.value, (bytes, bytearray)):
            data = bytes(field.value)
        return f"{name} == {hex_bytes(data)}" if data else name
    if field.value is None:
        return _frame_slice(field, packet_bytes)
    try:
        literal = _value(kind, name, fdef.ftype, field.value)
    except (TypeError, ValueError):
        literal = None
    if literal is None:
        return _frame_slice(field, packet_bytes)
    return f"{name} == {literal}"


def combine(current: str, expr: str, how: str = "selected") -> str:
    """Wireshark's Apply/Prepare submenu: `expr` alone, negated, or joined to the current filter."""
    current = current.strip()
    if how == "selected":
        return expr
    if how == "not":
        return f"!({expr})"
    if how in ("and", "or"):
        op = "&&" if how == "and" else "||"
        return f"({current}) {op} ({expr})" if current else expr
    if how in ("and_not", "or_not"):
        op = "&&" if how == "and_not" else "||"
        return f"({current}) {op} !({expr})" if current else f"!({expr})"
    raise ValueError(f"unknown combination {how!r}")
