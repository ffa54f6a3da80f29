"""Fuzz targets: each takes bytes and runs one part of ftptui on them the way a user's command
would.  Any exception other than the one-line errors ftptui gives users (FtptuiError) is a
finding, and so is breaking an oracle (an extracted file outside its directory, a filter whose
numpy fast path and full dissection disagree, a control character in text for the terminal).

fuzz/run.py drives them with atheris (coverage-guided); tests/test_fuzz_regressions.py replays
every input that ever failed (tests/data/fuzz/TARGET/*) without atheris.
"""
from __future__ import annotations

import asyncio
import os
import struct
import tempfile
from pathlib import Path

from ftptui.capture import open_capture
from ftptui.dissect.packet import dissect
from ftptui.errors import FtptuiError
from ftptui.render.tshark import tshark_line
from ftptui.store.index import PacketIndex
from ftptui.text import NOT_SHOWN

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LINKS = (1, 101, 0, 108, 113, 276, 228, 229, 12, 14, 105, 127, 147, 0xFFFF)  # ether, raw, null, loop, sll...
MAX_PACKETS = 400  # packets each target looks at, so one input stays quick
INDEX_LIMIT = 20_000  # a fuzzed file of tiny records must not take seconds to index


class Finding(AssertionError):
    """An oracle broke (not a crash, but wrong)."""


# --- helpers ---------------------------------------------------------------------------------------
class Reader:
    """Takes numbers and byte strings off the front of the fuzz input."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def u8(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        return self.u8() << 8 | self.u8()

    def take(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out


def memfile(data: bytes) -> tuple[int, str]:
    """A file in memory with a path, for the readers (which want a path)."""
    fd = os.memfd_create("fuzz")
    os.write(fd, data)
    return fd, f"/proc/self/fd/{fd}"


def pcap_bytes(link: int, packets: list[bytes], step_us: int = 1000) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link)]
    for k, p in enumerate(packets):
        t = 1_700_000_000_000_000 + k * step_us
        out.append(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(p), len(p)) + p)
    return b"".join(out)


def check_text(text: str, where: str) -> None:
    """Text ftptui writes to a terminal holds nothing a terminal acts on."""
    import unicodedata
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) in NOT_SHOWN:
            raise Finding(f"{where}: {ch!r} in {text[:200]!r}")


def open_index(data: bytes) -> PacketIndex | None:
    """The capture in `data`, indexed (None if it is not a capture: a one-line error is fine)."""
    fd, path = memfile(data)
    try:
        try:
            cap = open_capture(path)
        except FtptuiError:
            return None
        index = PacketIndex(cap)
        index.max_packets = INDEX_LIMIT
        index.build()
        return index
    finally:
        os.close(fd)


def look_at_packets(index: PacketIndex, rows=None) -> None:
    """What the list, the tree and --print do with each packet."""
    for i in (range(min(len(index), MAX_PACKETS)) if rows is None else rows):
        d = dissect(index, i)
        end = len(index.packet_bytes(i))
        check_text(tshark_line(d), "list line")
        for f in d.fields():
            check_text(str(f.label), "tree label")
            if f.length and (f.start < 0 or f.start + f.length > end):
                raise Finding(f"field {f.name or f.label!r} at bytes {f.start}+{f.length} of a {end}-byte packet")


def close(index: PacketIndex | None) -> None:
    if index is not None:
        index.cap.close()


def ip4_tcp(src: int, dst: int, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes,
            win: int = 8192, options: bytes = b"") -> bytes:
    """An Ethernet + IPv4 + TCP frame (checksums left zero: tshark does not check them either)."""
    opts = options + bytes(-len(options) % 4)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, (5 + len(opts) // 4) << 4,
                      flags, win, 0, 0) + opts + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     src.to_bytes(4, "big"), dst.to_bytes(4, "big"))
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


# --- targets ---------------------------------------------------------------------------------------
def capture(data: bytes) -> None:
    """The bytes as a capture file (pcap, pcapng, gzip...): read, index, list and tree."""
    index = open_index(data)
    try:
        if index is not None:
            look_at_packets(index)
            for w in index.cap.warnings:
                check_text(w, "warning")
    finally:
        close(index)


def packets(data: bytes) -> None:
    """Up to 8 packets of one link type (the first byte picks it), separated by 0xFE 0xFF:
    decoders, list text, tree, TCP sequence analysis and scapy's fallback layers."""
    from ftptui.dissect.fallback import scapy_layers
    from ftptui.streams.analysis import tcp_analysis
    link = LINKS[data[0] % len(LINKS)] if data else 1
    pkts = data[1:].split(b"\xfe\xff")[:8]
    index = open_index(pcap_bytes(link, pkts))
    try:
        if index is None:
            raise Finding("a pcap ftptui wrote itself was refused")
        look_at_packets(index)
        for i in range(len(index)):
            tcp_analysis(index, i)
            for f in scapy_layers(index.packet_bytes(i), link):
                for g in f.walk():
                    check_text(str(g.label), "scapy label")
    finally:
        close(index)


_FILTER_INDEX = None


def _filter_index() -> PacketIndex:
    """The seed session and the hostile markup capture, indexed once (FTP followed)."""
    global _FILTER_INDEX
    if _FILTER_INDEX is None:
        from ftptui.ftp.analysis import analyse
        data = (DATA / "public" / "zeek__ipv4.pcap").read_bytes()
        _FILTER_INDEX = open_index(data)
        analyse(_FILTER_INDEX)
    return _FILTER_INDEX


def dfilter(data: bytes) -> None:
    """The bytes as display filter text: it compiles (or is one FilterError), and then the
    numpy fast path and a full dissection of every packet select the same packets."""
    from ftptui.dfilter.apply import FilterRun
    from ftptui.dfilter.compile import compile_filter
    text = data.decode("utf-8", "surrogateescape")
    try:
        flt = compile_filter(text)
    except FtptuiError:  # one line with its position (printed through print_error / plain())
        return
    index = _filter_index()
    fast = FilterRun(index, flt).rows()
    slow = FilterRun(index, flt, use_columns=False).rows()
    if fast.tolist() != slow.tolist():
        raise Finding(f"{text!r}: columns give {fast.tolist()[:10]}, dissection {slow.tolist()[:10]}")


def ftp(data: bytes) -> None:
    """A scripted FTP session: control lines both ways, data connections (the server from port
    20 to a client port, or the client to a server port: where PORT/PASV lines announced them or
    anywhere), data both ways, gaps, retransmissions, cut packets, FIN and RST.  The follower,
    its tables, JSON and diagrams, and extraction, which must stay inside its directory."""
    r = Reader(data)
    client, server = 0x0A000002, 0x0A000001
    ctl = Conn(client, 40000, server, 21)
    frames = ctl.handshake()
    data_conns: list[Conn] = []
    while r.left() and len(frames) < 300:
        op = r.u8() % 8
        if op in (0, 1):  # a control line from the client (0) or the server (1)
            frames.append(ctl.send(op, r.take(r.u8() % 64) + b"\r\n"))
        elif op == 2:  # a new data connection to port p: active (from port 20) or passive
            port = 1024 + r.u16() % 64000
            conn = Conn(server, 20, client, port) if r.u8() & 1 else Conn(client, 41000 + len(data_conns), server, port)
            data_conns.append(conn)
            frames += conn.handshake()[:1 + r.u8() % 3]
        elif op == 3 and data_conns:  # data on one of them, from either side
            conn = data_conns[r.u8() % len(data_conns)]
            frames.append(conn.send(r.u8() & 1, r.take(r.u8() * 8)))
        elif op == 4:  # a gap: bytes of the control connection the capture missed
            ctl.seq[r.u8() & 1] += r.u8()
        elif op == 5 and data_conns:  # a data connection ends with FIN or RST
            conn = data_conns.pop(r.u8() % len(data_conns))
            frames.append(conn.send(r.u8() & 1, b"", 0x04 if r.u8() & 1 else 0x11))
        elif op == 6:  # a retransmission of the last frame
            frames.append(frames[-1])
        else:  # a packet cut short
            frames.append(frames[-1][:r.u8() % 60])
    _ftp_outputs(pcap_bytes(1, frames))


class Conn:
    """One TCP connection: side 0 opened it."""

    def __init__(self, a: int, ap: int, b: int, bp: int):
        self.ends = [(a, ap), (b, bp)]
        self.seq = [1000 + ap, 5000 + bp]

    def handshake(self) -> list[bytes]:
        out = [self.send(0, b"", 0x02), self.send(1, b"", 0x12), self.send(0, b"", 0x10)]
        return out

    def send(self, side: int, payload: bytes, flags: int = 0x18) -> bytes:
        (src, sp), (dst, dp) = self.ends[side], self.ends[1 - side]
        frame = ip4_tcp(src, dst, sp, dp, self.seq[side], self.seq[1 - side], flags, payload)
        self.seq[side] += len(payload) + (1 if flags & 0x03 else 0)
        return frame


def _ftp_outputs(capture_bytes: bytes) -> None:
    from ftptui.ftp.analysis import analyse
    from ftptui.ftp.extract import export_all
    from ftptui.render import ftp as render
    from ftptui.render.sequence import ladder
    index = open_index(capture_bytes)
    try:
        analysis = analyse(index)
        check_text(render.tables(index, analysis), "--ftp tables")
        render.to_json(index, analysis)
        for s in analysis.sessions:
            check_text(render.mermaid(index, s, fold=bool(len(s.commands) & 1)), "mermaid")
            for line in ladder(index, render.session_steps(index, s), "Client", "Server"):
                check_text(line, "ladder")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            for path in export_all(index, analysis, out):
                if os.path.dirname(os.path.realpath(path)) != os.path.realpath(out):
                    raise Finding(f"extracted outside the directory: {path!r}")
                check_text(os.path.basename(path), "extracted name")
    finally:
        close(index)


def tcp(data: bytes) -> None:
    """Two TCP connections with fuzzed sequence numbers, flags, windows, options and payloads:
    reassembly (follow, every layout), the sequence analysis, conversations and the list."""
    from ftptui.render.follow import to_json, tshark_text
    from ftptui.streams.analysis import tcp_analysis
    from ftptui.streams.conversations import KINDS, conversations
    from ftptui.streams.follow import follow_tcp
    r = Reader(data)
    frames = []
    base = [[1000, 5000], [70000, 3_000_000_000]]
    while r.left() and len(frames) < 200:
        conn = r.u8() & 1
        side = r.u8() & 1
        flags = r.u8()
        seq_delta = (r.u16() - 32768) if r.u8() & 1 else 0
        payload = r.take(r.u8() % 48)
        opts = r.take(r.u8() % 12) if r.u8() & 1 else b""
        ends = [(0x0A000002, 40000 + conn), (0x0A000001, 80 + conn)]
        (src, sp), (dst, dp) = ends[side], ends[1 - side]
        s = base[conn]
        frames.append(ip4_tcp(src, dst, sp, dp, s[side] + seq_delta, s[1 - side], flags, payload,
                              win=r.u16(), options=opts))
        s[side] = (s[side] + seq_delta + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
    index = open_index(pcap_bytes(1, frames))
    try:
        look_at_packets(index)
        for i in range(len(index)):
            tcp_analysis(index, i)
        for n in range(index.tcp.count):
            stream = follow_tcp(index, n)
            for mode in ("ascii", "hex", "raw"):
                check_text(tshark_text(stream, mode, terminal=True), f"follow {mode}")
            to_json(stream)
        for kind in KINDS:
            conversations(index, kind)
    finally:
        close(index)


def ui(data: bytes) -> None:
    """The bytes as a capture opened in the app (Pilot): list, tree, follow, conversations, FTP
    view (every tab, content), diagram; the app must neither exit nor stop answering."""
    fd, path = memfile(data)
    try:
        with tempfile.TemporaryDirectory() as state:
            os.environ["XDG_STATE_HOME"] = state
            asyncio.run(_drive(path))
    finally:
        os.close(fd)


async def _drive(path: str) -> None:
    from textual.widgets import TabbedContent

    from ftptui.ui.app import FtptuiApp
    from ftptui.ui.browser import BrowserScreen
    from ftptui.ui.detail_tree import DetailTree
    from ftptui.ui.failures import write_log
    from ftptui.ui.packet_list import PacketList

    reported = []
    import ftptui.ui.failures as failures
    failures.write_log = lambda error: reported.append(error) or None  # every report is a finding
    app = FtptuiApp(path)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            if not isinstance(app.screen, BrowserScreen):
                return  # not a capture: the app exits with one line
            browser = app.screen
            plist = browser.query_one(PacketList)
            for row in range(min(plist.rows, 3)):  # the first packet, one in the middle, the last
                plist.move_to(row * (plist.rows - 1) // 2)
                await pilot.pause()
                browser.query_one(DetailTree).root.expand_all()
                await pilot.pause()
            for keys in (["F", "h", "r", "u", "escape"], ["C", "e", "4", "6", "u", "s", "escape"], ["D", "z", "escape"],
                         ["T"]):
                for key in keys:
                    await pilot.press(key)
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    if key == "T" and not isinstance(app.screen, BrowserScreen):
                        ftp = app.screen
                        for tab in ("tab-dialogue", "tab-transfers", "tab-credentials", "tab-diagram"):
                            ftp.query_one(TabbedContent).active = tab
                            await pilot.pause()
                        ftp.query_one(TabbedContent).active = "tab-transfers"
                        await pilot.press("tab", "v", "x", "escape", "escape")
                        await app.workers.wait_for_complete()
                        await pilot.pause()
            if app.screen is not browser and app.is_running:
                raise Finding(f"the app is stuck on {app.screen!r}")
    finally:
        failures.write_log = write_log
    if app.return_code not in (None, 0):
        raise Finding(f"the app exited with status {app.return_code}")
    if reported:
        raise reported[0]


TARGETS = {"capture": capture, "packets": packets, "dfilter": dfilter, "ftp": ftp, "tcp": tcp, "ui": ui}
