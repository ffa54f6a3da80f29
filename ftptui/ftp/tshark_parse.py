"""PORT, EPRT, 227 and 229 arguments read as tshark 4.0 reads them (packet-ftp.c): the one home
of these parsers, for the tree's fields, tshark's FTP-DATA links and ftptui's own follower, so all
three see the same address and port."""
from __future__ import annotations

import ipaddress
import re

# PORT arguments and 227 replies: six numbers, as sscanf("%d,%d,%d,%d,%d,%d") reads them
_SIX = re.compile(rb"(\d+),\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+)")
_RFC2428_BAD = b"0123456789abcdef.:"


def six_numbers(args: bytes) -> tuple[bytes, int, int, int, int] | None:
    """tshark's parse_port_pasv: from each run of digits, try six comma-separated numbers.
    Returns (ip bytes, port, offset, ip text length, port text length); the lengths are
    computed from the values, as tshark does."""
    args = args.split(b"\0", 1)[0]
    k = 0
    while True:
        while k < len(args) and not args[k:k + 1].isdigit():
            k += 1
        if k >= len(args):
            return None
        m = _SIX.match(args, k)
        if m:
            n = [int(x) for x in m.groups()]
            ip = (((n[0] << 24) | (n[1] << 16) | (n[2] << 8) | n[3]) & 0xFFFFFFFF).to_bytes(4, "big")
            port = ((n[4] & 0xFF) << 8) | (n[5] & 0xFF)
            ip_len = sum(digits(x) for x in n[:4]) + 3
            return ip, port, k, ip_len, digits(n[4]) + 1 + digits(n[5])
        while k < len(args) and args[k:k + 1].isdigit():
            k += 1


def digits(v: int) -> int:
    return 1 if v < 10 else 2 if v < 100 else 3


def _valid_delimiter(c: int) -> bool:
    return 0x21 <= c <= 0x7E and bytes([c]).lower() not in _RFC2428_BAD


def valid_delimiter(c: int) -> bool:
    return 0x21 <= c <= 0x7E and bytes([c]).lower() not in _RFC2428_BAD


def eprt(arg: bytes) -> tuple[int, bytes, ipaddress.IPv4Address | ipaddress.IPv6Address, int, bytes] | None:
    """EPRT |af|address|port| (RFC 2428): (family, address text, address, port, port text), or None."""
    arg = arg.split(b"\0", 1)[0]
    if len(arg) < 4 or not valid_delimiter(arg[0]) or arg.count(arg[:1]) != 4:
        return None
    _, af_s, ip_s, port_s, _rest = arg.split(arg[:1])
    if not (af_s.isdigit() and ip_s and port_s.isdigit()) or int(port_s) > 0xFFFF:
        return None
    af = int(af_s)
    if af not in (1, 2):
        return None
    try:
        ip = ipaddress.IPv4Address(ip_s.decode()) if af == 1 else ipaddress.IPv6Address(ip_s.decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return af, ip_s, ip, int(port_s), port_s


def epsv_port(rest: bytes) -> tuple[int, int, int] | None:
    k = rest.find(b"(")
    if k < 0:
        return None
    k += 1
    delim = None
    for _ in range(3):  # up to three equal delimiters
        if k >= len(rest):
            break
        c = rest[k]
        if delim is None and valid_delimiter(c):
            delim = c
        if c != delim:
            break
        k += 1
    if k >= len(rest):
        return None
    digits = rest[k:len(rest) - len(rest[k:].lstrip(b"0123456789"))]
    after = rest[k + len(digits):k + len(digits) + 1]
    if digits and int(digits) <= 0xFFFF:
        port = int(digits)
    elif after == b"|":  # tshark accepts what it read when a '|' follows (0 or 65535)
        port = 65535 if digits else 0
    else:
        return None
    close = rest.find(b")", k)
    if close < 0 or close - 1 - k < 0:
        return None
    return port, k, close - 1 - k
