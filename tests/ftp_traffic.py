"""Real FTP traffic on loopback, captured to a pcap, for tests/test_ftp_live.py.

A pyftpdlib server (one thread, one IOLoop) serves a home directory holding a seeded random binary
file, an ASCII text file with CRLF and LF lines, and a file in a subdirectory; ftplib clients
talk to it over IPv4 and IPv6 in passive (PASV/EPSV) and active (PORT/EPRT) mode, download,
upload, list, abort a download and resume one.  Everything on the test's ports is captured from
"lo" while it happens, with scapy (a PF_PACKET socket: needs root or CAP_NET_RAW, works without
libpcap or tcpdump) and, when it is installed, also with tcpdump.  While the clients run they
record what really happened (the bytes each data connection carried, its TCP endpoints, the final
replies), so the test can hold the follower's analysis of the capture against the truth.

Order: servers (so port 21 is in the capture filter only if this run got it), captures, clients;
then the servers stop, a refused connection from the sentinel port marks the end, and each
capture is stopped once it holds that RST (so it holds everything before it).  Everything has a
timeout; servers and captures are stopped in `finally`.

Ports: the control port, the passive range (pyftpdlib's passive_ports) and the range the client
listens on in active mode (ftplib's makeport, overridden) are one block of free ports below the
kernel's ephemeral range, so no other connection can land on them while the test runs and a
capture filter on them sees the test's traffic and nothing else.  pyftpdlib opens active data
connections from an ephemeral port (never port 20), which the filter needs not know: the other
end is in the client's range.
"""
from __future__ import annotations

import ftplib
import hashlib
import io
import logging
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20240521
BINARY_SIZE = 1_000_003   # big enough that an aborted download cannot fit in the socket buffers
INNER_SIZE = 70_001
ABORT_AFTER = 50_000      # bytes the client reads before it aborts a download
RESUME_AT = 100_000       # REST offset of the resumed download
TIMEOUT = 10.0            # every socket operation, every wait

USER, PASSWORD = "alice", "open sesame"   # a password with a space in it
USER6, PASSWORD6 = "bob", "b0b-pass"

ASCII_TEXT = b"".join(
    [b"ftptui live test: an ASCII file\r\n", b"lines ending in CRLF\r\n", b"and lines ending in LF\n"]
    + [b"line %03d %s\n" % (k, b"CRLF\r" if k % 3 == 0 else b"LF") for k in range(120)]
    + [b"last line, LF\n"])


def binary_content(size: int = BINARY_SIZE, seed: int = SEED) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_crlf(data: bytes) -> bytes:
    """What an FTP server sends for a text file in TYPE A: every line ends in CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def make_home(root: Path) -> dict[str, bytes]:
    """The server's home directory; returns {FTP path: content}."""
    files = {"/binary.bin": binary_content(), "/text.txt": ASCII_TEXT,
             "/sub/inner.bin": binary_content(INNER_SIZE, SEED + 1)}
    for path, data in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return files


# --- ports

def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int, hosts: list[str]) -> bool:
    for host in hosts:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the servers bind
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@dataclass
class Ports:
    control: int
    passive: range
    active: range
    sentinel: int          # the capture's end marker comes from here (see send_sentinel)
    extra_control: list[int] = field(default_factory=list)   # e.g. 21

    @classmethod
    def pick(cls, hosts: list[str], n_passive: int = 16, n_active: int = 16) -> "Ports":
        """A block of 2 + n_passive + n_active free ports below the ephemeral range."""
        rng = random.Random()
        high = _ephemeral_low() - 1
        need = 2 + n_passive + n_active
        for _ in range(200):
            start = rng.randrange(10000, high - need)
            if all(_bindable(p, hosts) for p in range(start, start + need)):
                return cls(start, range(start + 1, start + 1 + n_passive),
                           range(start + 1 + n_passive, start + need - 1), start + need - 1)
        raise RuntimeError("no block of free ports on loopback")

    def all_control(self) -> list[int]:
        return [self.control, *self.extra_control]

    def bpf(self) -> str:
        ports = " or ".join(f"port {p}" for p in self.all_control())
        return (f"tcp and ({ports} or portrange {self.passive.start}-{self.passive.stop - 1}"
                f" or portrange {self.active.start}-{self.active.stop - 1})")

    def wanted(self, sport: int, dport: int) -> bool:
        """The Python side of bpf(), for a capture that cannot compile BPF."""
        def ours(p):
            return p in self.passive or p in self.active or p in self.all_control()
        return ours(sport) or ours(dport)


# --- the server

class FtpServers:
    """pyftpdlib servers on (host, port) pairs, served by one thread until the context ends.
    Optional addresses (port 21) are skipped when they cannot be bound: not root, or another
    run of this test has it."""

    def __init__(self, home: Path, addresses: list[tuple[str, int]], passive_ports: range,
                 optional: list[tuple[str, int]] = ()):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import DTPHandler, FTPHandler

        class SmallBufferDTP(DTPHandler):
            """A fixed send buffer: on loopback the kernel would otherwise take a whole file at
            once (autotuned buffers reach megabytes) and no download could be aborted midway."""

            def __init__(self, sock, cmd_channel):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
                except OSError:
                    pass
                super().__init__(sock, cmd_channel)

        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(home), perm="elradfmwMT")
        authorizer.add_user(USER6, PASSWORD6, str(home), perm="elradfmwMT")
        authorizer.add_anonymous(str(home))
        self.handler = type("LiveTestHandler", (FTPHandler,), {
            "authorizer": authorizer, "dtp_handler": SmallBufferDTP, "passive_ports": list(passive_ports),
            "banner": "ftptui live test ready.",
            "auth_failed_timeout": 0, "timeout": TIMEOUT * 3,
            "permit_foreign_addresses": False, "permit_privileged_ports": False})
        self.addresses = addresses
        self.optional = list(optional)
        self.bound: list[tuple[str, int]] = []
        self.home = home
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._servers = []
        self.error: BaseException | None = None

    def __enter__(self) -> "FtpServers":
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        self.ioloop = IOLoop()
        try:
            for address in self.addresses:
                self._servers.append(FTPServer(address, self.handler, ioloop=self.ioloop))
                self.bound.append(address)
            for address in self.optional:
                try:
                    self._servers.append(FTPServer(address, self.handler, ioloop=self.ioloop))
                    self.bound.append(address)
                except OSError:
                    pass
        except BaseException:
            self._close()
            raise
        self._thread = threading.Thread(target=self._serve, name="ftp-live-server", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                self.ioloop.loop(timeout=0.02, blocking=False)
        except BaseException as e:  # reported by the test, not lost in a thread
            self.error = e
        finally:
            self._close()

    def _close(self) -> None:
        for server in self._servers:
            try:
                server.close_all()
            except Exception:
                pass
        try:
            self.ioloop.close()
        except Exception:
            pass

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(TIMEOUT)


# --- captures

class CaptureUnavailable(Exception):
    pass


class ScapyCapture:
    """scapy's AsyncSniffer on "lo" through a PF_PACKET socket.  Loopback packets reach such a
    socket twice (outgoing and incoming): the outgoing copy is dropped, as libpcap does.  Frames
    on lo are up to 64 KiB + headers, more than scapy reads by default, and a burst of them
    overflows the default receive buffer: both are raised."""

    name = "scapy"

    def __init__(self, path: Path, ports: Ports):
        self.path, self.ports = path, ports
        self.count = 0
        self.ended = threading.Event()

    def __enter__(self) -> "ScapyCapture":
        if not sys.platform.startswith("linux"):
            raise CaptureUnavailable("scapy capture on loopback is written for Linux")
        try:
            from scapy.all import AsyncSniffer  # (scapy.all loads the layers and link types)
            from scapy.arch.linux import L2ListenSocket
            from scapy.layers.inet import TCP
        except Exception as e:  # pragma: no cover
            raise CaptureUnavailable(f"scapy: {e}") from e

        class LoopbackSocket(L2ListenSocket):
            def recv_raw(self, x=0):
                pkt, sa_ll, ts = self._recv_raw(self.ins, 262144 + 64)
                if sa_ll[2] == socket.PACKET_OUTGOING:
                    return None, None, None
                return self.LL, pkt, ts

        # No kernel (BPF) filter: scapy has libpcap compile it for a 65535-byte snapshot, and
        # the kernel would cut every 64 KiB loopback segment short.  The lfilter below selects.
        try:
            self.sock = LoopbackSocket(iface="lo")
        except PermissionError as e:
            raise CaptureUnavailable(f"scapy cannot open a packet socket on lo ({e}): needs root or CAP_NET_RAW") from e
        except OSError as e:
            raise CaptureUnavailable(f"scapy cannot capture on lo: {e}") from e
        for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
            try:
                self.sock.ins.setsockopt(socket.SOL_SOCKET, opt, 64 << 20)
                break
            except OSError:
                continue
        self._drops()   # reset the counters
        ports = self.ports

        def keep(p):
            return TCP in p and ports.wanted(p[TCP].sport, p[TCP].dport)

        def seen(p):
            self.count += 1
            if p[TCP].dport == ports.sentinel and p[TCP].flags.R:
                self.ended.set()

        self.sniffer = AsyncSniffer(opened_socket=self.sock, lfilter=keep, prn=seen, store=True)
        self.sniffer.start()
        return self

    def _drops(self) -> int:
        try:   # PACKET_STATISTICS: (packets, drops), reset on read
            return int.from_bytes(self.sock.ins.getsockopt(263, 6, 8)[4:], sys.byteorder)
        except OSError:
            return 0

    def stop(self) -> Path:
        from scapy.utils import PcapWriter

        if not self.ended.wait(TIMEOUT):
            raise RuntimeError(f"scapy did not see the end of the traffic ({self.count} packets)")
        self.drops = self._drops()
        try:
            self.sniffer.stop(join=True)
        finally:
            self.sock.close()
        if self.drops:
            raise RuntimeError(f"scapy capture dropped {self.drops} packets")
        with PcapWriter(str(self.path), linktype=1, snaplen=262144, sync=False) as out:   # Ethernet, as lo
            for p in self.sniffer.results:
                out.write(p)
        return self.path

    def __exit__(self, *exc) -> None:
        if getattr(self, "sniffer", None) is not None and self.sniffer.running:
            try:
                self.sniffer.stop(join=True)
            except Exception:
                pass
            self.sock.close()


class TcpdumpCapture:
    """tcpdump -i lo -U --immediate-mode -w FILE with the ports' BPF filter; ready once it says
    "listening on", stopped with SIGINT once the sentinel's RST is in the file."""

    name = "tcpdump"

    def __init__(self, path: Path, ports: Ports):
        self.path, self.ports = path, ports
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "TcpdumpCapture":
        tcpdump = shutil.which("tcpdump")
        if tcpdump is None:
            raise CaptureUnavailable("tcpdump is not installed")
        cmd = [tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-s", "0", "-B", "65536", "-w", str(self.path)]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd += ["-Z", "root"]   # do not drop to a user that cannot write into the test's tmp dir
        self.proc = subprocess.Popen(cmd + [self.ports.bpf()], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = b""
        deadline = time.monotonic() + TIMEOUT
        while b"listening on" not in err:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stderr], [], [], left)[0]:
                self._kill()
                raise CaptureUnavailable(f"tcpdump did not start: {err.decode(errors='replace').strip()}")
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            if not chunk:
                self.proc.wait(TIMEOUT)
                raise CaptureUnavailable(f"tcpdump exited: {err.decode(errors='replace').strip()}")
            err += chunk
        return self

    def stop(self) -> Path:
        # tcpdump writes packets in the order it gets them: once the sentinel's RST is in the
        # file, everything before it is too (SIGINT would drop what is still in its buffer)
        reader = _PcapTail(self.path)
        deadline = time.monotonic() + TIMEOUT
        while not reader.has_rst_to(self.ports.sentinel):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self._kill()
                raise RuntimeError("tcpdump did not write the end of the traffic")
            time.sleep(0.02)
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise RuntimeError("tcpdump did not stop on SIGINT") from None
        m = re.search(rb"(\d+) packets? dropped by kernel", err)
        if m and int(m.group(1)):
            raise RuntimeError(f"tcpdump: {m.group(0).decode()}")
        return self.path

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()


BACKENDS = {"scapy": ScapyCapture, "tcpdump": TcpdumpCapture}


def send_sentinel(ports: Ports) -> None:
    """The capture's end marker: once the servers are gone, a connection from the sentinel port to
    the control port, refused with a RST.  A capture that has the RST has everything before it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", ports.sentinel))
        s.settimeout(TIMEOUT)
        try:
            s.connect(("127.0.0.1", ports.control))
        except ConnectionRefusedError:
            return
    raise RuntimeError(f"something still listens on 127.0.0.1:{ports.control}")


class _PcapTail:
    """Reads a pcap file (Ethernet, as written by tcpdump on lo) as it grows."""

    def __init__(self, path: Path):
        self.path, self.pos, self.fmt = path, 24, None

    def has_rst_to(self, port: int) -> bool:
        try:
            with open(self.path, "rb") as f:
                if self.fmt is None:
                    magic = f.read(4)
                    if len(magic) < 4:
                        return False
                    self.fmt = "<I" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">I"
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return False
        p = 0
        while p + 16 <= len(data):
            caplen = struct.unpack_from(self.fmt, data, p + 8)[0]
            if p + 16 + caplen > len(data):
                break
            if _is_rst_to(data[p + 16:p + 16 + caplen], port):
                return True
            p += 16 + caplen
        self.pos += p
        return False


def _is_rst_to(frame: bytes, port: int) -> bool:
    ethertype = frame[12:14]
    if ethertype == b"\x08\x00" and len(frame) >= 34 and frame[23] == 6:
        tcp = 14 + (frame[14] & 0x0F) * 4
    elif ethertype == b"\x86\xdd" and len(frame) >= 54 and frame[20] == 6:
        tcp = 54
    else:
        return False
    if len(frame) < tcp + 14:
        return False
    return struct.unpack_from("!H", frame, tcp + 2)[0] == port and bool(frame[tcp + 13] & 0x04)


# --- the client and what it saw

def endpoint(sockname) -> str:
    addr, port = sockname[0], sockname[1]
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


class Client(ftplib.FTP):
    """ftplib.FTP that listens on the test's port range in active mode and remembers the TCP
    endpoints of every data connection (initiator, responder)."""

    def __init__(self, ports: Ports):
        super().__init__(timeout=TIMEOUT)
        self.active_ports = ports.active
        self.data_conns: list[tuple[str, str]] = []
        self.listening: str | None = None   # the last endpoint makeport listened on
        self.rcvbuf: int | None = None   # shrink the data socket's receive buffer (aborts)

    def makeport(self):
        host = self.sock.getsockname()[0]
        for port in self.active_ports:
            try:
                sock = socket.create_server((host, port), family=self.af, backlog=1)
                break
            except OSError:
                continue
        else:
            raise OSError("no free port left in the active range")
        if self.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.listening = endpoint(sock.getsockname())
        if self.af == socket.AF_INET:
            self.sendport(host, sock.getsockname()[1])
        else:
            self.sendeprt(host, sock.getsockname()[1])
        sock.settimeout(self.timeout)
        return sock

    def ntransfercmd(self, cmd, rest=None):
        conn, size = super().ntransfercmd(cmd, rest)
        if self.rcvbuf:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        local, peer = endpoint(conn.getsockname()), endpoint(conn.getpeername())
        self.data_conns.append((local, peer) if self.passiveserver else (peer, local))
        return conn, size


@dataclass
class Expected:
    """One transfer as the client saw it."""
    command: str
    arg: str
    path: str | None
    type: str
    rest: int | None
    mode: str
    setup: str
    direction: str
    data: bytes             # what the data connection carried (a download: what the client read)
    reply: int              # the final reply code
    data_client: str | None   # the data connection's TCP initiator and responder (None: unknown)
    data_server: str | None
    complete: bool = True
    whole: bytes = b""      # aborted: the file whose prefix the capture holds

    @property
    def sha256(self) -> str:
        return sha256(self.data)


@dataclass
class ExpectedSession:
    client: tuple[str, int]
    server: tuple[str, int]
    user: str
    password: str
    credentials: list[tuple[str, str | None, int]]   # (user, password, reply code)
    transfers: list[Expected] = field(default_factory=list)
    # data commands the server refused before it began (ftplib's transfercmd got a 5xx, not a
    # 1xx): not transfers
    refused: list[Expected] = field(default_factory=list)


@dataclass
class Traffic:
    pcaps: dict[str, Path]        # capture backend -> pcap
    sessions: list[ExpectedSession]
    files: dict[str, bytes]
    home: Path
    ports: Ports
    notes: list[str]

    @property
    def pcap(self) -> Path:
        return next(iter(self.pcaps.values()))


def _code(resp: str) -> int:
    return int(resp[:3])


class Recorder:
    def __init__(self, ftp: Client, user: str, password: str):
        self.ftp = ftp
        self.session = ExpectedSession(_addr(ftp.sock.getsockname()), _addr(ftp.sock.getpeername()), user, password, [])

    def add(self, command, arg, path, type_, direction, data, reply, rest=None, complete=True, whole=b"",
            conn=None, refused=False):
        passive = self.ftp.passiveserver
        setup = ("PASV" if passive else "PORT") if self.ftp.af == socket.AF_INET else ("EPSV" if passive else "EPRT")
        initiator, responder = conn or self.ftp.data_conns[-1]
        (self.session.refused if refused else self.session.transfers).append(Expected(
            command, arg, path, type_, rest, "passive" if passive else "active", setup, direction, bytes(data),
            reply, initiator, responder, complete, whole))

    # the transfers, each the way ftplib does it
    def retr_binary(self, name, path, rest=None):
        buf = bytearray()
        resp = self.ftp.retrbinary(f"RETR {name}", buf.extend, rest=rest)
        self.add("RETR", name, path, "I", "download", buf, _code(resp), rest)
        return bytes(buf)

    def retr_text(self, name, path):
        lines: list[str] = []
        resp = self.ftp.retrlines(f"RETR {name}", lines.append)
        self.add("RETR", name, path, "A", "download", "".join(f"{ln}\r\n" for ln in lines).encode(), _code(resp))

    def stor_lines(self, name, path, text: bytes):
        sent = bytearray()
        resp = self.ftp.storlines(f"STOR {name}", io.BytesIO(text), sent.extend)
        self.add("STOR", name, path, "A", "upload", sent, _code(resp))

    def stor_binary(self, name, path, data: bytes, verb="STOR"):
        resp = self.ftp.storbinary(f"{verb} {name}", io.BytesIO(data), blocksize=16384)
        self.add(verb, name, path, "I", "upload", data, _code(resp))

    def listing(self, verb, path):
        lines: list[str] = []
        resp = self.ftp.retrlines(verb, lines.append)
        self.add(verb, "", path, "A", "listing", "".join(f"{ln}\r\n" for ln in lines).encode(), _code(resp))
        return lines

    def retr_missing(self, name, path):
        """RETR of a file that is not there: 550 at once (ftplib's transfercmd raises on it: no
        1xx came), so a refused command, not a transfer.  The data connection is made all the
        same (ftplib connects before RETR in passive mode, pyftpdlib right after PORT in active
        mode) and carries nothing; ftplib never sees its endpoints, only where it listened."""
        before = len(self.ftp.data_conns)
        try:
            self.ftp.retrbinary(f"RETR {name}", lambda b: None)
        except ftplib.error_perm as e:
            reply = _code(str(e))
        else:
            raise AssertionError(f"RETR {name} did not fail")
        assert len(self.ftp.data_conns) == before
        conn = (None, None) if self.ftp.passiveserver else (None, self.ftp.listening)
        self.add("RETR", name, path, "I", "download", b"", reply, complete=False, conn=conn, refused=True)

    def retr_aborted(self, name, path, whole: bytes, use_abor: bool):
        """Start RETR, read ABORT_AFTER bytes, then either close the data connection (the server
        notices and answers 426) or send ABOR while it is open (426 for the RETR, then 226)."""
        ftp = self.ftp
        ftp.voidcmd("TYPE I")
        ftp.rcvbuf = 8192
        try:
            conn = ftp.transfercmd(f"RETR {name}")
        finally:
            ftp.rcvbuf = None
        got = bytearray()
        try:
            while len(got) < ABORT_AFTER:
                chunk = conn.recv(min(8192, ABORT_AFTER - len(got)))
                if not chunk:
                    break
                got += chunk
            if use_abor:
                first = ftp.abort()      # the RETR's final reply (426) ...
                second = ftp.getmultiline()   # ... then the ABOR's own (226)
                retr_reply = _code(first)
                assert (_code(first), _code(second)) == (426, 226), (first, second)
        finally:
            conn.close()
        if not use_abor:
            resp = ftp.getmultiline()
            retr_reply = _code(resp)
            assert retr_reply == 426, resp
        self.add("RETR", name, path, "I", "download", got, retr_reply, complete=False, whole=whole)


def _addr(sockname) -> tuple[str, int]:
    return sockname[0], sockname[1]


def session_ipv4(ports: Ports, files: dict[str, bytes], port: int | None = None) -> ExpectedSession:
    """IPv4, a failed login first, PWD (so the follower knows the directory): PASV and PORT
    downloads, an ASCII upload, LIST, NLST and MLSD, RETR of a missing file in both modes, an
    aborted download (data connection closed), SIZE + a resumed download, TYPE I and TYPE A
    downloads of the text file, CWD into sub/ and a relative RETR."""
    ftp = Client(ports)
    try:
        ftp.connect("127.0.0.1", port or ports.control)
        try:   # a wrong password first: the follower lists both attempts
            ftp.login(USER, "wrong")
        except ftplib.error_perm:
            pass
        ftp.login(USER, PASSWORD)
        rec = Recorder(ftp, USER, PASSWORD)
        rec.session.credentials = [(USER, "wrong", 530), (USER, PASSWORD, 230)]
        assert ftp.pwd() == "/"
        binary = files["/binary.bin"]
        ftp.set_pasv(True)
        assert rec.retr_binary("binary.bin", "/binary.bin") == binary
        ftp.set_pasv(False)
        assert rec.retr_binary("binary.bin", "/binary.bin") == binary
        ftp.set_pasv(True)
        rec.stor_lines("upload.txt", "/upload.txt", ASCII_TEXT)
        rec.listing("LIST", "/")
        ftp.set_pasv(False)
        rec.listing("NLST", "/")
        rec.retr_missing("missing.bin", "/missing.bin")
        ftp.set_pasv(True)
        rec.retr_missing("missing.bin", "/missing.bin")
        rec.listing("MLSD", "/")
        rec.retr_aborted("binary.bin", "/binary.bin", binary, use_abor=False)
        ftp.voidcmd("TYPE I")
        assert ftp.size("binary.bin") == len(binary)
        assert rec.retr_binary("binary.bin", "/binary.bin", rest=RESUME_AT) == binary[RESUME_AT:]
        assert rec.retr_binary("text.txt", "/text.txt") == ASCII_TEXT
        ftp.set_pasv(False)
        rec.retr_text("text.txt", "/text.txt")
        ftp.set_pasv(True)
        ftp.cwd("sub")
        assert rec.retr_binary("inner.bin", "/sub/inner.bin") == files["/sub/inner.bin"]
        ftp.quit()
        return rec.session
    finally:
        ftp.close()


def session_ipv6(ports: Ports, files: dict[str, bytes]) -> ExpectedSession:
    """IPv6 (ftplib uses EPSV and EPRT), no PWD: paths are unknown until an absolute CWD.  EPSV and
    EPRT downloads, a binary upload and an APPE, listings, an ABOR while an active (EPRT) data
    connection is open, a resumed download over EPRT, CWD /sub and a relative RETR."""
    ftp = Client(ports)
    try:
        ftp.connect("::1", ports.control)
        ftp.login(USER6, PASSWORD6)
        rec = Recorder(ftp, USER6, PASSWORD6)
        rec.session.credentials = [(USER6, PASSWORD6, 230)]
        binary = files["/binary.bin"]
        ftp.set_pasv(True)
        assert rec.retr_binary("binary.bin", None) == binary
        ftp.set_pasv(False)
        assert rec.retr_binary("binary.bin", None) == binary
        rec.stor_binary("up.bin", None, files["/sub/inner.bin"])
        ftp.set_pasv(True)
        rec.stor_binary("up.bin", None, ASCII_TEXT, verb="APPE")
        rec.listing("NLST", None)
        ftp.set_pasv(False)
        rec.listing("LIST", None)
        rec.retr_aborted("binary.bin", None, binary, use_abor=True)
        assert rec.retr_binary("binary.bin", None, rest=RESUME_AT) == binary[RESUME_AT:]
        ftp.cwd("/sub")
        ftp.set_pasv(True)
        assert rec.retr_binary("inner.bin", "/sub/inner.bin") == files["/sub/inner.bin"]
        ftp.set_pasv(False)
        rec.listing("LIST", "/sub")
        ftp.quit()
        return rec.session
    finally:
        ftp.close()


def session_port21(ports: Ports, files: dict[str, bytes]) -> ExpectedSession:
    """Anonymous, on the well-known port (found by port, not by greeting): PWD, one passive and
    one active download."""
    ftp = Client(ports)
    try:
        ftp.connect("127.0.0.1", 21)
        ftp.login()
        rec = Recorder(ftp, "anonymous", "anonymous@")
        rec.session.credentials = [("anonymous", "anonymous@", 230)]
        assert ftp.pwd() == "/"
        ftp.set_pasv(True)
        assert rec.retr_binary("text.txt", "/text.txt") == ASCII_TEXT
        ftp.set_pasv(False)
        assert rec.retr_binary("/sub/inner.bin", "/sub/inner.bin") == files["/sub/inner.bin"]
        ftp.quit()
        return rec.session
    finally:
        ftp.close()


def sessions_interleaved(ports: Ports, files: dict[str, bytes]) -> list[ExpectedSession]:
    """Two IPv4 clients whose data connections overlap: each opens its data connection (passive,
    then active) before the other's is read, so a pyftpdlib passive port or the announcement
    order could mislead a linker that does not follow Zeek's "first connection to the announced
    endpoint after the announcement"."""
    a, b = Client(ports), Client(ports)
    try:
        a.connect("127.0.0.1", ports.control)
        a.login(USER, PASSWORD)
        b.connect("127.0.0.1", ports.control)
        b.login(USER6, PASSWORD6)
        ra, rb = Recorder(a, USER, PASSWORD), Recorder(b, USER6, PASSWORD6)
        ra.session.credentials = [(USER, PASSWORD, 230)]
        rb.session.credentials = [(USER6, PASSWORD6, 230)]
        assert a.pwd() == "/"
        for pasv in (True, False):
            a.set_pasv(pasv)
            b.set_pasv(pasv)
            a.voidcmd("TYPE I")
            b.voidcmd("TYPE I")
            conn_a = a.transfercmd("RETR binary.bin")
            conn_b = b.transfercmd("RETR sub/inner.bin")
            got_b = _read_all(conn_b)
            reply_b = _code(b.voidresp())
            got_a = _read_all(conn_a)
            reply_a = _code(a.voidresp())
            assert (got_a, got_b) == (files["/binary.bin"], files["/sub/inner.bin"])
            ra.add("RETR", "binary.bin", "/binary.bin", "I", "download", got_a, reply_a)
            rb.add("RETR", "sub/inner.bin", None, "I", "download", got_b, reply_b)
        a.quit()
        b.quit()
        return [ra.session, rb.session]
    finally:
        a.close()
        b.close()


def _read_all(conn) -> bytes:
    buf = bytearray()
    with conn:
        while chunk := conn.recv(65536):
            buf += chunk
    return bytes(buf)


def run(workdir: Path, backends: list[str] | None = None, port21: bool = True) -> Traffic:
    """Start the servers and the captures, run the sessions, stop everything; the pcaps are in
    workdir.  Raises CaptureUnavailable when no backend can capture."""
    home = workdir / "home"
    home.mkdir(parents=True)
    files = make_home(home)
    v6 = ipv6_loopback()
    hosts = ["127.0.0.1"] + (["::1"] if v6 else [])
    ports = Ports.pick(hosts)
    notes = [] if v6 else ["no IPv6 on loopback: no IPv6 session"]
    wanted = backends or [b for b in os.environ.get("FTPTUI_LIVE_CAPTURE", "scapy,tcpdump").split(",") if b]
    addresses = [("127.0.0.1", ports.control)] + ([("::1", ports.control)] if v6 else [])
    well_known = [("127.0.0.1", 21)] if port21 else []
    servers = FtpServers(home, addresses, ports.passive, optional=well_known)
    captures, reasons = [], []
    try:
        servers.__enter__()   # before the captures: their filter has port 21 only if it is ours
        if well_known and well_known[0] in servers.bound:
            ports.extra_control.append(21)
        elif well_known:
            notes.append("port 21 could not be bound: no session on the well-known port")
        for name in wanted:
            cap = BACKENDS[name](workdir / f"live-{name}.pcap", ports)
            try:
                captures.append(cap.__enter__())
            except CaptureUnavailable as e:
                reasons.append(str(e))
        notes += reasons
        if not captures:
            raise CaptureUnavailable("; ".join(reasons) or "no capture backend")
        sessions = [session_ipv4(ports, files), *sessions_interleaved(ports, files)]
        if v6:
            sessions.append(session_ipv6(ports, files))
        if 21 in ports.extra_control:
            sessions.append(session_port21(ports, files))
        servers.__exit__(None, None, None)
        if servers.error is not None:
            raise servers.error
        send_sentinel(ports)
        pcaps = {cap.name: cap.stop() for cap in captures}
    finally:
        servers.__exit__(None, None, None)
        for cap in captures:
            cap.__exit__(None, None, None)
    return Traffic(pcaps, sessions, files, home, ports, notes)


if __name__ == "__main__":   # python tests/ftp_traffic.py DIR: make the traffic, print where it is
    import tempfile

    out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="ftp-live-"))
    t0 = time.monotonic()
    traffic = run(out)
    print(f"{time.monotonic() - t0:.2f}s", {k: str(v) for k, v in traffic.pcaps.items()}, traffic.notes)
    for s in traffic.sessions:
        print(s.client, s.server, s.user)
        for t in s.transfers:
            print("  ", t.command, t.arg, t.path, t.mode, t.setup, t.direction, len(t.data), t.reply,
                  t.data_client, t.data_server, t.sha256[:12])
