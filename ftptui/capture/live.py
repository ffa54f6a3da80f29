"""Live capture: packet sockets with TPACKET_V3 rings, a BPF capture filter, a spool file.

    cap = LiveCapture(["eth0"], "tcp port 21")   # checks interfaces and filter: CaptureError
    cap.start()                                  # opens the sockets (privileges: CaptureError)
    capture = open_capture(cap.path)             # the spool, growing; follow it with
    for batch in follow(capture, cap): ...       # ftptui.capture.spool.follow
    cap.stats()                                  # packets, drops, packets/s
    cap.stop()

The parent opens the sockets and attaches the filter, so every problem is reported here as one
line; a child process (capture/_pump.py) drains the kernel's rings into the spool, so capturing
never waits for the UI or the printer.  Nothing is kept per packet in this process: the index
reads the spool like any capture file.  Everything is Linux (AF_PACKET) and standard library;
libpcap is only needed to compile a capture filter (see bpf.py).
"""
from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..errors import CaptureError
from . import bpf
from .interfaces import Interface, list_interfaces
from .spool import NamelessFile

SNAPLEN = bpf.SNAPLEN
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC = 1, 1
PACKET_RX_RING, PACKET_STATISTICS, PACKET_VERSION = 5, 6, 10
TPACKET_V3 = 2
ETH_P_ALL = 3
BLOCK_SIZE = 1 << 20
FRAME_SIZE = 1 << 17
BLOCK_TIMEOUT_MS = 50  # a block not yet full is handed over after this long: the UI's latency
# iproute2 link type name (interfaces.py) -> pcap link type of what a SOCK_RAW packet socket reads
LINK_TYPES = {"ether": 1, "loopback": 1, "none": 101, "ipip": 101, "tunnel6": 101, "sit": 101}
SETCAP = "sudo setcap cap_net_raw,cap_net_admin+eip {}"


def capture_interfaces() -> list[Interface]:
    """Interfaces in the order `tshark -D` lists them (libpcap's "figure of merit": up and
    running first, loopback after the others, then by the number at the end of the name)."""
    def merit(iface: Interface) -> int:
        digits = len(iface.name) - len(iface.name.rstrip("0123456789"))
        n = int(iface.name[-digits:]) + 1 if digits else 0
        up = "UP" in iface.flags
        if not (up and "NO-CARRIER" not in iface.flags):
            n |= 0x80000000  # not running
        if not up:
            n |= 0x40000000
        if "LOOPBACK" in iface.flags:
            n |= 0x20000000
        return n
    return sorted(list_interfaces(), key=merit)


def interface_lines() -> list[str]:
    """`tshark -D` lines: "1. eth0", "3. lo (Loopback)"."""
    return [f"{k}. {i.name}" + (" (Loopback)" if "LOOPBACK" in i.flags else "")
            for k, i in enumerate(capture_interfaces(), 1)]


def _names(ifaces: list[Interface]) -> str:
    return ", ".join(i.name for i in ifaces) or "none found"


def resolve_interface(name: str) -> Interface:
    """An interface by name or by its number in `ftptui -D`; CaptureError (with the list of
    interfaces) when there is no such interface."""
    ifaces = capture_interfaces()
    for iface in ifaces:
        if iface.name == name:
            break
    else:
        if name.isdigit() and 1 <= int(name) <= len(ifaces):
            iface = ifaces[int(name) - 1]
        elif name == "any":
            raise CaptureError("capturing on the 'any' pseudo-interface is not supported yet; "
                               f"give interfaces by name (-i IFACE, repeatable): {_names(ifaces)}")
        else:
            raise CaptureError(f"there is no interface '{name}'; interfaces (ftptui -D): {_names(ifaces)}")
    if iface.link_type and iface.link_type not in LINK_TYPES:
        raise CaptureError(f"cannot capture on {iface.name}: its link type ({iface.link_type}) "
                           "is not supported yet")
    return iface


def privileges_message(name: str) -> str:
    return (f"cannot capture on {name}: permission denied (capturing needs root or the CAP_NET_RAW "
            f"capability): run as root (sudo), or give Python the capability once: "
            f"{SETCAP.format(os.path.realpath(sys.executable))}")


@dataclass
class CaptureStats:
    packets: int = 0         # packets written to the spool
    dropped: int | None = 0  # dropped by the kernel (ring full), None when unknown
    pps: float = 0.0         # packets per second, over the last second or so
    bytes: int = 0           # size of the spool file
    running: bool = False
    error: str | None = None
    interfaces: list[str] = field(default_factory=list)
    capture_filter: str = ""


class LiveCapture:
    """A capture on one or more interfaces into a spool file (see the module's docstring).

    Also a growing source for spool.follow(): `path`, `display_name`, `finished`, `wait()`."""

    def __init__(self, interfaces: list[str], capture_filter: str = "", spool_path: str | None = None,
                 count: int = 0, snaplen: int = SNAPLEN, buffer_mb: int = 32, promisc: bool = True):
        if not interfaces:
            raise CaptureError("no interface given")
        if not hasattr(socket, "AF_PACKET"):
            raise CaptureError("live capture needs Linux (AF_PACKET sockets)")
        self.ifaces = [resolve_interface(n) for n in interfaces]
        if len({i.name for i in self.ifaces}) < len(self.ifaces):
            raise CaptureError("an interface is given twice")
        self.links = [LINK_TYPES.get(i.link_type, 1) for i in self.ifaces]
        self.format = "pcap" if len(self.ifaces) == 1 else "pcapng"
        self.count, self.snaplen, self.promisc = count, snaplen, promisc
        self.capture_filter = capture_filter or ""
        self._programs = self._compile(self.capture_filter)
        self.block_nr = max(4, buffer_mb * (1 << 20) // BLOCK_SIZE)
        self._user_path = spool_path
        self._spool: NamelessFile | None = None  # the spool, when it is not the user's -w file
        self.path = ""
        self.display_name = ", ".join(i.name for i in self.ifaces)
        self.generation = 0  # +1 at each clear(): the caller opens the new spool
        self._socks: list[socket.socket] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._packets = 0       # written, all runs of this spool
        self._size = 0
        self._dropped = 0
        self._error: str | None = None
        self._running = False
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self._new_spool()

    # --- filter -------------------------------------------------------------------------------
    def _compile(self, expr: str) -> dict[int, list[bpf.Insn]] | None:
        if not expr.strip():
            return None
        return {link: bpf.compile_filter(expr, link, self.snaplen) for link in set(self.links)}

    def set_filter(self, expr: str) -> None:
        """Check and apply a new capture filter (CaptureError if invalid: the old one stays).
        A running capture switches at once (the kernel swaps the filter on the sockets)."""
        programs = self._compile(expr or "")
        self.capture_filter, self._programs = expr or "", programs
        for sock, link in zip(self._socks, self.links):
            self._attach(sock, link)

    def _attach(self, sock: socket.socket, link: int) -> None:
        if self._programs:
            bpf.attach(sock, self._programs[link])
        else:
            bpf.attach(sock, [(0x06, 0, 0, 0xFFFFFFFF)])  # "ret #-1": accept everything

    # --- spool --------------------------------------------------------------------------------
    def _new_spool(self) -> None:
        if self._user_path:
            path = self._user_path
            if self.path == path and os.path.exists(path):
                os.unlink(path)  # readers of the old capture keep their open file
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            except OSError as e:
                raise CaptureError(f"{path}: {e.strerror}") from None
        else:
            old, self._spool = self._spool, NamelessFile("ftptui-live-", "." + self.format)
            if old is not None:
                old.close()  # readers of the old capture keep their open file (and a new path)
            fd, path = os.dup(self._spool.fd), self._spool.path
        with os.fdopen(fd, "wb") as f:
            f.write(self._header())
        self.path = path
        with self._cond:
            self._packets, self._size = 0, os.path.getsize(path)
            self._rate.clear()

    def _header(self) -> bytes:
        if self.format == "pcap":
            return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, self.links[0])
        shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
        idbs = b""
        for iface, link in zip(self.ifaces, self.links):
            name = iface.name.encode()
            opt = struct.pack("<HH", 2, len(name)) + name + b"\0" * (-len(name) % 4)
            opt += struct.pack("<HHB3x", 9, 1, 6) + struct.pack("<HH", 0, 0)  # if_tsresol: us
            blen = 20 + len(opt)
            idbs += struct.pack("<IIHHI", 1, blen, link, 0, self.snaplen) + opt + struct.pack("<I", blen)
        return shb + idbs

    @property
    def keeps_file(self) -> bool:
        """Is what is captured kept after the capture (-w FILE), or is it a temporary spool?"""
        return bool(self._user_path)

    def clear(self) -> None:
        """Start a new, empty spool (the capture goes on if it was running); `generation` goes
        up and `path` names the new file, which the caller opens and follows instead."""
        running = self._running
        if running:
            self.stop()
        self._new_spool()
        self.generation += 1
        if running:
            self.start()

    # --- running ------------------------------------------------------------------------------
    def _open_socket(self, iface: Interface, link: int) -> socket.socket:
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # no packets before bind
        except PermissionError:
            raise CaptureError(privileges_message(iface.name)) from None
        except OSError as e:
            raise CaptureError(f"cannot capture on {iface.name}: {e.strerror}") from None
        try:
            self._attach(sock, link)
            sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            frames = BLOCK_SIZE // FRAME_SIZE * self.block_nr
            req = struct.pack("7I", BLOCK_SIZE, self.block_nr, FRAME_SIZE, frames, BLOCK_TIMEOUT_MS, 0, 0)
            sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
            sock.bind((iface.name, ETH_P_ALL))
            if self.promisc and "LOOPBACK" not in iface.flags:
                index = socket.if_nametoindex(iface.name)
                sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b""))
        except PermissionError:
            sock.close()
            raise CaptureError(privileges_message(iface.name)) from None
        except OSError as e:
            sock.close()
            if e.errno == 19:  # ENODEV: gone since it was listed
                raise CaptureError(f"there is no interface '{iface.name}'; interfaces (ftptui -D): "
                                   f"{_names(capture_interfaces())}") from None
            raise CaptureError(f"cannot capture on {iface.name}: {e.strerror or e}") from None
        return sock

    def start(self) -> None:
        """Open the sockets and start writing packets to the spool (appending to it after a
        stop()).  Raises CaptureError (privileges, interface gone) with a one-line message."""
        if self._running:
            return
        if self._proc is not None:
            self.stop()  # the last run ended by itself (count reached, failure): tidy up
        socks = []
        try:
            for iface, link in zip(self.ifaces, self.links):
                socks.append(self._open_socket(iface, link))
        except CaptureError:
            for s in socks:
                s.close()
            raise
        cfg = {"out": self.path, "format": self.format, "snaplen": self.snaplen, "timeout_ms": BLOCK_TIMEOUT_MS,
               "count": self.count, "already": self._packets,
               "rings": [{"fd": s.fileno(), "block_size": BLOCK_SIZE, "block_nr": self.block_nr,
                          "loopback": "LOOPBACK" in i.flags, "link": link, "iface_id": k}
                         for k, (s, i, link) in enumerate(zip(socks, self.ifaces, self.links))]}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pump.py"),
                 json.dumps(cfg)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=[s.fileno() for s in socks] + ([self._spool.fd] if self._spool else []),
                start_new_session=True)
        except OSError as e:
            for s in socks:
                s.close()
            raise CaptureError(f"cannot start the capture process: {e.strerror or e}") from None
        self._socks = socks
        with self._cond:
            self._running, self._error = True, None
            self._rate.append((time.monotonic(), self._packets))
        self._reader = threading.Thread(target=self._read_progress, args=(self._proc,),
                                        name="ftptui-capture", daemon=True)
        self._reader.start()

    def _read_progress(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None and proc.stderr is not None  # both are pipes
        for line in proc.stdout:
            try:
                packets, size = map(int, line.split())
            except ValueError:
                continue
            with self._cond:
                self._packets, self._size = packets, size
                self._rate.append((time.monotonic(), packets))
                self._cond.notify_all()
        err = proc.stderr.read().decode(errors="replace").strip()
        rc = proc.wait()
        with self._cond:
            self._poll_drops()
            for s in self._socks:
                s.close()
            self._socks = []
            if rc != 0 and self._running:
                last = err.splitlines()[-1] if err else f"exit status {rc}"
                self._error = f"the capture process failed: {last}"
            self._running = False
            self._cond.notify_all()

    def _poll_drops(self) -> None:
        """Add the kernel's drop counts since the last call (hold self._cond)."""
        for s in list(self._socks):
            try:
                _packets, drops, _freeze = struct.unpack("3I", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
            except OSError:
                continue
            self._dropped += drops  # the kernel's counters restart at each read

    def stop(self, timeout: float = 5.0) -> None:
        """Stop capturing: the packets the kernel already has are written, then the spool is
        complete (a valid capture file) and stays; start() appends to it again."""
        proc, reader = self._proc, self._reader
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # end of file: the pump drains and exits
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout)
        self._proc = self._reader = None

    def close(self) -> None:
        """Stop, and give up the spool unless it is the user's file (-w)."""
        self.stop()
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    # --- the growing-source protocol (spool.follow) and counters ---------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def finished(self) -> bool:
        """True once the capture has stopped (count reached, stop(), or failure): the spool
        will not grow until start() is called again."""
        return not self._running

    @property
    def error(self) -> str | None:
        return self._error

    def wait(self, timeout: float | None = None) -> None:
        """Return when the spool has grown or the capture stopped (or after `timeout`)."""
        with self._cond:
            if self._running:
                self._cond.wait(timeout)

    def stats(self) -> CaptureStats:
        with self._cond:
            self._poll_drops()
            now = time.monotonic()
            pps = 0.0
            if self._running and self._rate:
                t0, n0 = next(((t, n) for t, n in self._rate if now - t <= 1.5), self._rate[-1])
                span = max(now - t0, 0.25)
                pps = (self._packets - n0) / span
            return CaptureStats(packets=self._packets, dropped=self._dropped, pps=pps, bytes=self._size,
                                running=self._running, error=self._error,
                                interfaces=[i.name for i in self.ifaces], capture_filter=self.capture_filter)

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
