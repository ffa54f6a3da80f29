"""Label FTP data connections the way tshark 4.0 does, for the packet list's FTP-DATA rows.

tshark registers a data "conversation" when it sees PORT/EPRT requests and 227/229 replies, with
one wildcard port, and names it after the first request that follows the set-up (so a TYPE sent
between PASV and RETR wins).  Connections on TCP port 20 that match nothing are still FTP-DATA,
without the annotations.  This reproduces that behaviour for list compatibility; the FTP
follower (ftp/ package, later) does the linking properly.

It also follows tshark's current working directory of each control connection (PWD replies,
successful CWD/CDUP), which the tree shows as ftp.current-working-directory and, for data
connections, as the directory at set-up time.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from ..store.columns import FTP_DATA_PORT, FTP_PORT, PROTO_TCP
from ..store.index import PacketIndex, register_stage
from ..text import first_line
from .control import decode
from .tshark_parse import eprt, epsv_port, six_numbers


class Directory:
    """A working directory as tshark keeps it: a buffer that data connections share with their
    control connection, so the first relative CWD appended to an empty one shows in both."""
    __slots__ = ("text",)

    def __init__(self, text: str = ""):
        self.text = text


@dataclass
class DataConv:
    method: str
    setup_frame: int
    command: str | None = None
    command_frame: int = -1
    cwd: Directory | None = None  # None: a port-20 connection nothing set up


@dataclass
class _Control:
    current: DataConv | None = None
    tls_requested: bool = False
    cwd: Directory = field(default_factory=Directory)
    last_command: str | None = None


def _mapped(addr4: bytes) -> bytes:
    return b"\0" * 10 + b"\xff\xff" + addr4




@register_stage  # fed as batches are indexed, so a first row drawn does not do it
def tshark_links(index: PacketIndex) -> TsharkFtpLinker:
    """The index's linker, fed every packet indexed so far."""
    linker: TsharkFtpLinker = index.derived(TsharkFtpLinker)
    linker.catch_up()
    return linker


class TsharkFtpLinker:
    """tshark's one-pass view of an index's FTP: control packets and new TCP streams are fed in
    frame order (catch_up, as the index grows); then ask for a stream's label."""

    def __init__(self, index: PacketIndex | None = None):
        # a proxy: the index keeps this object (PacketIndex.derived), and a cycle would keep a
        # discarded index's arrays alive until Python's rare full collection
        self._index = weakref.proxy(index) if index is not None else None
        self._lock = threading.Lock()
        self._fed = 0  # frames fed so far
        self._streams_seen = 0  # tcp.stream numbers whose first packet has been fed
        self.controls: dict[int, _Control] = {}
        self.tls_from: dict[int, int] = {}  # control stream -> first frame after "234" to AUTH TLS
        self.registry: dict[tuple[bytes, int, bytes], list[DataConv]] = {}
        self.ports = {FTP_DATA_PORT}  # the ports in registry keys: most new streams use none of them
        self.stream_conv: dict[int, DataConv] = {}
        self.cwd_at: dict[int, str] = {}  # control frame -> its working directory, when not ""
        self.seq_end: dict[tuple[int, bool], int] = {}  # (control stream, request side) -> next seq

    def catch_up(self) -> None:
        """Feed the packets indexed since the last call: the first packet of each new TCP
        stream (a data connection it may set up) and every FTP control segment, in frame order."""
        index = self._index
        if index is None or self._fed >= len(index):
            return
        with self._lock:
            lo, hi = self._fed, len(index)
            if lo >= hi:
                return
            raw = index.cols.raw
            stream, sport, dport = raw("stream")[lo:hi], raw("sport")[lo:hi], raw("dport")[lo:hi]
            events = [(int(i), True) for i in np.nonzero(
                (raw("ipproto")[lo:hi] == PROTO_TCP) & (raw("paylen")[lo:hi] > 0) & (stream >= 0)
                & ((sport == FTP_PORT) | (dport == FTP_PORT)))[0]]
            tcp = np.nonzero(stream >= 0)[0]
            if len(tcp):
                ids, firsts = np.unique(stream[tcp], return_index=True)
                new = ids >= self._streams_seen  # streams numbered by first appearance
                events += [(int(tcp[f]), False) for f in firsts[new]]
                self._streams_seen = max(self._streams_seen, int(ids[-1]) + 1)
            events.sort()
            for i, control in events:
                frame = lo + i
                if not control and int(sport[i]) not in self.ports and int(dport[i]) not in self.ports:
                    continue  # no data connection was announced on its ports: nothing to match
                src, dst = index.address(frame, "src"), index.address(frame, "dst")
                if control:
                    self.control_packet(frame, int(stream[i]), int(dport[i]) == FTP_PORT, index.payload(frame),
                                        src, dst, int(sport[i]), int(dport[i]), seq=int(raw("seq")[frame]))
                else:
                    self.new_stream(int(stream[i]), frame, src, int(sport[i]), dst, int(dport[i]))
            self._fed = hi

    def control_packet(self, frame: int, stream: int, is_request: bool, payload: bytes,
                       src: bytes, dst: bytes, sport: int, dport: int, seq: int | None = None) -> None:
        ctl = self.controls.setdefault(stream, _Control())
        if stream in self.tls_from or self._resent(stream, is_request, seq, len(payload)):
            return
        line = first_line(payload)
        self._follow_cwd(ctl, line, is_request)
        if ctl.cwd.text:
            self.cwd_at[frame] = ctl.cwd.text
        if is_request:
            ctl.tls_requested = line == b"AUTH TLS"
            if ctl.current is not None and ctl.current.command is None:
                ctl.current.command = decode(line)
                ctl.current.command_frame = frame
            token = line.split(b" ", 1)[0]
            arg = line[len(token) + 1:]
            if token == b"PORT":
                six = six_numbers(arg)
                if six:
                    self._register(ctl, (dst, FTP_DATA_PORT, _mapped(six[0])), "PORT", frame)
            elif token == b"EPRT":
                found = eprt(arg)
                if found:
                    af, _, ip, port, _ = found
                    self._register(ctl, (src, port, _mapped(ip.packed) if af == 1 else ip.packed), "EPRT", frame)
        else:
            code = line[:3]
            if len(code) == 3 and code.isdigit():
                rest = line[4:]
                if code == b"234" and ctl.tls_requested:
                    self.tls_from[stream] = frame + 1
                if code == b"227":
                    six = six_numbers(rest)
                    if six:
                        self._register(ctl, (_mapped(six[0]), six[1], dst), "PASV", frame)
                elif code == b"229":
                    epsv = epsv_port(rest)
                    if epsv is not None:
                        self._register(ctl, (src, epsv[0], dst), "EPASV", frame)

    def _resent(self, stream: int, is_request: bool, seq: int | None, size: int) -> bool:
        """Whether a segment only repeats bytes already seen in its direction: tshark marks it a
        retransmission and does not hand it to FTP, so it changes no state."""
        if seq is None:
            return False
        key = (stream, is_request)
        end = (seq + size) & 0xFFFFFFFF
        last = self.seq_end.get(key)
        if last is not None and (last - end) & 0xFFFFFFFF < 0x80000000:
            return True
        self.seq_end[key] = end
        return False

    @staticmethod
    def _follow_cwd(ctl: _Control, line: bytes, is_request: bool) -> None:
        """tshark's directory tracking: a 257 reply (to PWD, but also MKD) states it, a 250
        reply to "CWD dir" or "CDUP" changes it."""
        if is_request:
            ctl.last_command = line.decode("utf-8", "replace")
            return
        code = line[:3]
        last = ctl.last_command or ""
        if code == b"250" and last.startswith("CWD "):
            ctl.cwd = change_directory(ctl.cwd, last[4:])
        elif code == b"250" and last.startswith("CDUP"):
            ctl.cwd = change_directory(ctl.cwd, "..")
        elif code == b"257" and len(line) >= 4:
            path = pwd_reply_directory(line[4:])
            if path is not None:
                ctl.cwd = Directory(path)

    def _register(self, ctl: _Control, key: tuple[bytes, int, bytes], method: str, frame: int) -> None:
        conv = DataConv(method, frame, cwd=ctl.cwd)
        self.registry.setdefault(key, []).append(conv)
        self.ports.add(key[1])
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
        elif FTP_DATA_PORT in (pa, pb):
            self.stream_conv[stream] = DataConv("", -1)

    def data_conv(self, stream: int) -> DataConv | None:
        return self.stream_conv.get(stream)

    def label(self, stream: int, frame: int) -> tuple[str, str] | None:
        """(setup method, command) for a data packet, '' where tshark would show nothing."""
        conv = self.stream_conv.get(stream)
        if conv is None:
            return None
        command = conv.command if conv.command is not None and conv.command_frame < frame else ""
        return conv.method, command


def change_directory(cwd: Directory, path: str) -> Directory:
    """A successful CWD: an absolute path replaces the directory; a relative one is appended and
    normalised ('.', '..'), except onto an empty directory, which takes it as it is (in place)."""
    if path.startswith("/"):
        return Directory(path)
    if not cwd.text:
        cwd.text = path
        return cwd
    absolute = cwd.text.startswith("/")
    out = "/" if absolute else ""
    joined = cwd.text + ("" if cwd.text.endswith("/") else "/") + path
    for part in joined[1 if absolute else 0:].split("/"):
        if part == "..":
            out = out[:out.rfind("/") + 1] if "/" in out else ""
            if len(out) > 1 and out.endswith("/"):
                out = out[:-1]
        elif part and part != ".":
            out += ("" if not out or out.endswith("/") else "/") + part
    return Directory(out)


def pwd_reply_directory(rest: bytes) -> str | None:
    """The quoted directory of a 257 reply ('""' is a quote), or None when it is not quoted."""
    if len(rest) < 2 or rest[:1] != b'"':
        return None
    out, started, k = bytearray(), False, 0
    while k < len(rest):
        c = rest[k]
        if c == 0x22:
            if rest[k + 1:k + 2] == b'"':
                out.append(c)
                k += 1
            elif started:
                return out.decode("utf-8", "replace")
            else:
                started = True
        else:
            out.append(c)
        k += 1
    return None
