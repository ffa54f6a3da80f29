"""Turn a literal of the filter text into a value of the type of the field it is compared with."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import FilterError
from .fields import FieldDef
from .parser import Literal

BYTES_RE = re.compile(r"^[0-9A-Fa-f]{1,2}([:.\-][0-9A-Fa-f]{1,2})*$")
MAC_DOTTED_RE = re.compile(r"^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")
BOOL_WORDS = {"true": 1, "false": 0}


@dataclass(frozen=True)
class Network:
    """An address literal with an optional prefix length: equal to every address inside it."""
    value: int
    bits: int       # address width (32 or 128)
    prefix: int

    def contains(self, addr: int) -> bool:
        shift = self.bits - self.prefix
        return (addr >> shift) == (self.value >> shift)


# Names Wireshark accepts in place of numbers for a few fields (their value strings).
IP_PROTOCOLS = {"ICMP": 1, "IGMP": 2, "IPIP": 4, "TCP": 6, "UDP": 17, "IPv6": 41, "GRE": 47, "ESP": 50, "AH": 51,
                "ICMPv6": 58, "SCTP": 132}
VALUE_NAMES = {
    "ip.proto": IP_PROTOCOLS, "ipv6.nxt": IP_PROTOCOLS,
    "eth.type": {"IPv4": 0x0800, "ARP": 0x0806, "IPv6": 0x86DD, "802.1Q Virtual LAN": 0x8100,
                 "802.1ad Provider Bridge (Q-in-Q)": 0x88A8, "LLDP": 0x88CC},
    "arp.opcode": {"request": 1, "reply": 2, "request-reverse": 3, "reply-reverse": 4},
    "icmp.type": {"Echo (ping) reply": 0, "Destination unreachable": 3, "Echo (ping) request": 8,
                  "Time-to-live exceeded": 11},
}
VALUE_NAMES["vlan.etype"] = VALUE_NAMES["sll.etype"] = VALUE_NAMES["eth.type"]
INT_WIDTH = {"FT_UINT8": 8, "FT_UINT16": 16, "FT_UINT24": 24, "FT_UINT32": 32, "FT_UINT40": 40, "FT_UINT48": 48,
             "FT_UINT56": 56, "FT_UINT64": 64, "FT_FRAMENUM": 32, "FT_CHAR": 8}
TYPE_NAMES = {"int": "Unsigned integer", "ipv4": "IPv4 address", "ipv6": "IPv6 address", "ether": "Ethernet address",
              "bool": "Boolean", "time": "Time offset", "float": "Floating point"}
TIME_RE = re.compile(r"^-?\d+(\.\d+)?$")
TIME_EXP_RE = re.compile(r"^(-?\d+\.\d+)[eE][-+]?\d+$")
ABS_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%b %d, %Y %H:%M:%S")


def convert(lit: Literal, kind: str, fdef: FieldDef | None = None) -> Any:
    """The literal as a value of `kind` (see FieldDef.kind), or FilterError pointing at it.
    `fdef` (the field compared with, if any) gives value names and the integer width."""
    name = fdef.name if fdef is not None else ""
    text = lit.text
    if lit.kind == "char":
        if kind in ("int", "bool", "float"):
            return lit.value
        if kind in ("bytes", "ether"):
            return bytes([lit.value])
        if kind == "string":
            return chr(lit.value)
        raise _bad(lit, kind, name)
    if lit.kind == "string":
        raw: bytes = lit.value
        if kind == "string":
            return raw.decode("utf-8", "surrogateescape")
        if kind == "bytes":
            return raw
        if kind == "abstime":
            return parse_abs_time(raw.decode("utf-8", "replace"), lit)
        if kind == "int" and name in VALUE_NAMES:
            return _named(lit, raw.decode("utf-8", "replace"), name)
        raise FilterError(f"{TYPE_NAMES.get(kind, kind)} cannot be converted from a string ({text}).",
                          lit.pos, lit.end)
    try:
        if kind == "int":
            try:
                value = parse_int(text)
            except ValueError:
                if name in VALUE_NAMES:
                    return _named(lit, text, name)
                raise
            if not -(1 << 63) <= value < 1 << 64:
                raise FilterError(f'"{text}" causes an integer overflow.', lit.pos, lit.end)
            width = INT_WIDTH.get(fdef.ftype) if fdef is not None else None
            if width and value >= 1 << width:
                raise FilterError(f'"{text}" too big for this field, maximum {(1 << width) - 1}.', lit.pos, lit.end)
            return value
        if kind == "bool":
            if text in ("True", "False"):
                return 1 if text == "True" else 0
            return 1 if parse_int(text) else 0
        if kind == "float":
            return float(text)
        if kind == "time":
            m = TIME_EXP_RE.match(text)
            if m:  # Wireshark 4.0 ignores an exponent after a decimal point ("1.0e-4" is 1.0)
                text = m.group(1)
            if not TIME_RE.match(text):
                raise ValueError(text)
            return int(Decimal(text) * 1_000_000_000)
        if kind == "abstime":
            raise ValueError(text)
        if kind == "ipv4":
            try:
                return _network(text, 4, lit)
            except ValueError:
                raise FilterError(f'"{text}" is not a valid hostname or IPv4 address.', lit.pos, lit.end) from None
        if kind == "ipv6":
            try:
                return _network(text, 6, lit)
            except ValueError:
                raise FilterError(f'"{text}" is not a valid hostname or IPv6 address.', lit.pos, lit.end) from None
        if kind == "ether":
            return parse_mac(text)
        if kind == "string":
            return text
        if kind == "bytes":
            return parse_bytes(text)
    except (ValueError, InvalidOperation):
        pass
    raise _bad(lit, kind, name)


def _named(lit: Literal, text: str, name: str) -> int:
    names = VALUE_NAMES[name]
    for label, value in names.items():
        if label.lower() == text.lower():
            return value
    raise FilterError(f'"{text}" cannot be found among the possible values for {name}.', lit.pos, lit.end)


def _bad(lit: Literal, kind: str, field_name: str) -> FilterError:
    what = {"int": "a valid number", "bool": "a valid boolean (1, 0, True or False)", "float": "a valid number",
            "time": "a valid time", "ipv4": "a valid IPv4 address", "ipv6": "a valid IPv6 address",
            "ether": "a valid Ethernet address", "bytes": "a valid byte string", "string": "a valid string",
            "abstime": 'a valid absolute time. Example: "Nov 12, 1999 08:55:44.123" or "2011-07-04 12:34:56"',
            }.get(kind, "valid here")
    if kind == "int" and field_name in VALUE_NAMES:
        return FilterError(f'"{lit.text}" cannot be found among the possible values for {field_name}.',
                           lit.pos, lit.end)
    return FilterError(f'"{lit.text}" is not {what}.', lit.pos, lit.end)


def parse_abs_time(text: str, lit: Literal) -> int:
    """"2020-07-18 09:41:50" or "Jul 18, 2020 09:41:30.5", local time as Wireshark reads it."""
    import time as _time
    main, _, frac = text.strip().partition(".")
    for fmt in ABS_TIME_FORMATS:
        try:
            tm = _time.strptime(main, fmt)
        except ValueError:
            continue
        if frac and not frac.isdigit():
            break
        secs = int(_time.mktime(tm))
        return secs * 1_000_000_000 + int((frac + "000000000")[:9] or 0)
    raise _bad(lit, "abstime", "")


def parse_int(text: str) -> int:
    t = text.strip()
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    if re.fullmatch(r"0[0-7]+", t):
        v = int(t, 8)
    elif re.fullmatch(r"0[xX][0-9A-Fa-f]+", t):
        v = int(t, 16)
    elif re.fullmatch(r"0[bB][01]+", t):
        v = int(t, 2)
    elif re.fullmatch(r"\d+", t):
        v = int(t)
    else:
        raise ValueError(text)
    return -v if neg else v


def parse_mac(text: str) -> bytes:
    if MAC_DOTTED_RE.match(text):
        return bytes.fromhex(text.replace(".", ""))
    if re.fullmatch(r"\d+", text) and len(text) != 12:
        raise ValueError(text)
    b = parse_bytes(text)
    if len(b) != 6:
        raise ValueError(text)
    return b


def parse_bytes(text: str) -> bytes:
    """aa:bb:cc, aa-bb-cc, aa.bb.cc, aabbcc, a single byte as one or two hex digits or 0xNN;
    a decimal number that is none of these stands for its 4-byte value."""
    if re.fullmatch(r"0[xX][0-9A-Fa-f]{1,2}", text):
        return bytes([int(text, 16)])
    if re.fullmatch(r"([0-9A-Fa-f]{2})+", text):
        return bytes.fromhex(text)
    if BYTES_RE.match(text):
        return bytes(int(x, 16) for x in re.split(r"[:.\-]", text))
    if re.fullmatch(r"\d+", text) and int(text) < 1 << 32:
        return int(text).to_bytes(4, "big")
    raise ValueError(text)


def _network(text: str, version: int, lit: Literal) -> Network:
    addr, _, prefix = text.partition("/")
    ip = ipaddress.IPv4Address(addr) if version == 4 else ipaddress.IPv6Address(addr)
    bits = 32 if version == 4 else 128
    if prefix and not prefix.isdigit():
        raise ValueError(text)
    p = int(prefix) if prefix else bits
    if p > bits:
        raise FilterError(f"The prefix length in {text} should be at most {bits}, not {p}.", lit.pos, lit.end)
    return Network(int(ip), bits, p)
