"""Label FTP data connections the way tshark 4.0 does, for the packet list's FTP-DATA rows.

tshark registers a data "conversation" when it sees PORT/EPRT requests and 227/229 replies, with
one wildcard port, and names it after the first request that follows the set-up (so a TYPE sent
between PASV and RETR wins).  Connections on TCP port 20 that match nothing are still FTP-DATA,
without the annotations.  This reproduces that behaviour for list compatibility; the FTP
follower (ftp/ package, later) does the linking properly.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_PORT_RE = re.compile(rb"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)")


@dataclass
class DataConv:
    method: str
    setup_frame: int
    command: str | None = None
    command_frame: int = -1


@dataclass
class _Control:
    current: DataConv | None = None
    tls_requested: bool = False


def _v4(text: bytes) -> bytes | None:
    try:
        return ipaddress.IPv4Address(text.decode("ascii")).packed
    except (ValueError, UnicodeDecodeError):
        return None


def _mapped(addr4: bytes) -> bytes:
    return b"\0" * 10 + b"\xff\xff" + addr4


def first_line(payload: bytes) -> bytes:
    end = len(payload)
    for i, c in enumerate(payload):
        if c in (10, 13):
            end = i
            break
    return payload[:end]


class TsharkFtpLinker:
    """Feed control packets and new TCP streams in frame order; ask for a stream's label."""

    def __init__(self):
        self.controls: dict[int, _Control] = {}
        self.tls_from: dict[int, int] = {}  # control stream -> first frame after "234" to AUTH TLS
        self.registry: dict[tuple[bytes, int, bytes], list[DataConv]] = {}
        self.stream_conv: dict[int, DataConv] = {}

    def control_packet(self, frame: int, stream: int, is_request: bool, payload: bytes,
                       src: bytes, dst: bytes, sport: int, dport: int) -> None:
        ctl = self.controls.setdefault(stream, _Control())
        if stream in self.tls_from:
            return
        line = first_line(payload)
        if is_request:
            ctl.tls_requested = line == b"AUTH TLS"
            if ctl.current is not None and ctl.current.command is None:
                ctl.current.command = line.decode("latin-1")
                ctl.current.command_frame = frame
            token = line.split(b" ", 1)[0]
            arg = line[len(token) + 1:]
            if token == b"PORT":
                m = _PORT_RE.search(arg)
                if m:
                    ip = _mapped(bytes(int(x) & 0xFF for x in m.groups()[:4]))
                    self._register(ctl, (dst, 20, ip), "PORT", frame)
            elif token == b"EPRT":
                parsed = _parse_eprt(arg)
                if parsed:
                    ip, port = parsed
                    self._register(ctl, (src, port, ip), "EPRT", frame)
        else:
            code = line[:3]
            if len(code) == 3 and code.isdigit():
                rest = line[4:]
                if code == b"234" and ctl.tls_requested:
                    self.tls_from[stream] = frame + 1
                if code == b"227":
                    m = _PORT_RE.search(rest)
                    if m:
                        g = [int(x) for x in m.groups()]
                        ip = _mapped(bytes(x & 0xFF for x in g[:4]))
                        port = ((g[4] & 0xFF) << 8) | (g[5] & 0xFF)
                        self._register(ctl, (ip, port, dst), "PASV", frame)
                elif code == b"229":
                    port = _parse_epsv(rest)
                    if port is not None:
                        self._register(ctl, (src, port, dst), "EPASV", frame)

    def _register(self, ctl: _Control, key, method: str, frame: int) -> None:
        conv = DataConv(method, frame)
        self.registry.setdefault(key, []).append(conv)
        ctl.current = conv

    def new_stream(self, stream: int, frame: int, a: bytes, pa: int, b: bytes, pb: int) -> None:
        """Match a TCP connection's first packet against the registered data conversations."""
        best = None
        for key in ((a, pa, b), (b, pb, a)):
            for conv in self.registry.get(key, ()):
                if conv.setup_frame < frame and (best is None or conv.setup_frame > best.setup_frame):
                    best = conv
        if best is not None:
            self.stream_conv[stream] = best
        elif pa == 20 or pb == 20:
            self.stream_conv[stream] = DataConv("", -1)

    def label(self, stream: int, frame: int) -> tuple[str, str] | None:
        """(setup method, command) for a data packet, '' where tshark would show nothing."""
        conv = self.stream_conv.get(stream)
        if conv is None:
            return None
        command = conv.command if conv.command is not None and conv.command_frame < frame else ""
        return conv.method, command


def _parse_eprt(arg: bytes):
    if len(arg) < 4:
        return None
    d = arg[:1]
    if d.isalnum() or d in b".:" or not (33 <= arg[0] <= 126):
        return None
    parts = arg.split(d)
    if len(parts) < 5 or not all(parts[1:4]):
        return None
    try:
        af, host, port = int(parts[1]), parts[2].decode("ascii"), int(parts[3])
        if af == 1:
            ip = _mapped(ipaddress.IPv4Address(host).packed)
        elif af == 2:
            ip = ipaddress.IPv6Address(host).packed
        else:
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    return ip, port & 0xFFFF


def _parse_epsv(rest: bytes):
    m = re.search(rb"\((.)\1\1(\d+)", rest)
    if not m:
        return None
    return int(m.group(2)) & 0xFFFF
