"""Capture filters (BPF): compile a tcpdump-style expression with libpcap, check it, attach it.

libpcap is loaded with ctypes only when a filter has to be compiled (importing ftptui, reading
files and capturing without a filter never need it).  A machine without libpcap can still use
`tcpdump -ddd` (which is how scapy's compile_filter falls back too); with neither, a capture
filter cannot be checked and is refused with a message saying what to install.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import socket
import struct
import subprocess
import tempfile
from typing import Literal

from ..errors import CaptureError

SNAPLEN = 262144
NO_COMPILER = ("cannot check capture filters: install libpcap (apt-get install libpcap0.8) "
               "or tcpdump")
# libpcap's names for the link types we capture on (tcpdump -y NAME)

Insn = tuple[int, int, int, int]  # code, jt, jf, k


class FilterUnavailable(CaptureError):
    """Neither libpcap nor tcpdump is there to compile a capture filter."""

    def __init__(self) -> None:
        super().__init__(NO_COMPILER)


class _BpfInsn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]


class _BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_BpfInsn))]


_libpcap: ctypes.CDLL | Literal[False] | None = None  # the loaded library, False when there is none


def _load_libpcap() -> ctypes.CDLL | None:
    global _libpcap
    if _libpcap is None:
        _libpcap = False
        if os.environ.get("FTPTUI_NO_LIBPCAP"):  # lets tests play a machine without libpcap
            return None
        names = [ctypes.util.find_library("pcap"), "libpcap.so.0.8", "libpcap.so.1", "libpcap.so"]
        for name in filter(None, names):
            try:
                lib = ctypes.CDLL(name)
            except OSError:
                continue
            lib.pcap_open_dead.restype = ctypes.c_void_p
            lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
            lib.pcap_compile.restype = ctypes.c_int
            lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_BpfProgram), ctypes.c_char_p,
                                         ctypes.c_int, ctypes.c_uint32]
            lib.pcap_geterr.restype = ctypes.c_char_p
            lib.pcap_geterr.argtypes = [ctypes.c_void_p]
            lib.pcap_freecode.argtypes = [ctypes.POINTER(_BpfProgram)]
            lib.pcap_close.argtypes = [ctypes.c_void_p]
            _libpcap = lib
            break
    return _libpcap or None


def _tcpdump() -> str | None:
    if os.environ.get("FTPTUI_NO_LIBPCAP"):
        return None
    return shutil.which("tcpdump") or next(
        (p for p in ("/usr/sbin/tcpdump", "/usr/bin/tcpdump", "/sbin/tcpdump") if os.access(p, os.X_OK)), None)


def available() -> str | None:
    """What compiles capture filters here ("libpcap" or "tcpdump"), or None."""
    if _load_libpcap():
        return "libpcap"
    return "tcpdump" if _tcpdump() else None


def _invalid(expr: str, message: str) -> CaptureError:
    return CaptureError(f'invalid capture filter "{expr}": {message}')


def compile_filter(expr: str, link: int = 1, snaplen: int = SNAPLEN) -> list[Insn]:
    """Compile `expr` for link type `link`; raises CaptureError with libpcap's message when it is
    invalid, or FilterUnavailable when nothing here can compile it."""
    lib = _load_libpcap()
    if lib:
        handle = lib.pcap_open_dead(link, snaplen)
        if not handle:
            raise CaptureError(f"libpcap cannot compile filters for link type {link}")
        prog = _BpfProgram()
        try:
            # netmask 0xffffffff = PCAP_NETMASK_UNKNOWN: only "ip broadcast" needs a real one
            if lib.pcap_compile(handle, ctypes.byref(prog), expr.encode(), 1, 0xFFFFFFFF) != 0:
                raise _invalid(expr, (lib.pcap_geterr(handle) or b"").decode(errors="replace"))
            insns = [(i.code, i.jt, i.jf, i.k) for i in prog.bf_insns[:prog.bf_len]]
            lib.pcap_freecode(ctypes.byref(prog))
            return insns
        finally:
            lib.pcap_close(handle)
    tcpdump = _tcpdump()
    if not tcpdump:
        raise FilterUnavailable()
    return _compile_with_tcpdump(tcpdump, expr, link, snaplen)


def _compile_with_tcpdump(tcpdump: str, expr: str, link: int, snaplen: int) -> list[Insn]:
    # read an empty capture of the right link type: no interface, no privileges needed
    with tempfile.NamedTemporaryFile(prefix="ftptui-bpf-", suffix=".pcap") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, link))
        f.flush()
        try:
            res = subprocess.run([tcpdump, "-ddd", "-r", f.name, expr], capture_output=True,
                                 text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise CaptureError(f"cannot run tcpdump to check the capture filter: {e}") from None
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("reading from")]
        msg = lines[-1] if lines else "tcpdump refused it"
        raise _invalid(expr, msg.removeprefix("tcpdump: "))
    nums = res.stdout.split("\n")
    count = int(nums[0])
    insns = []
    for line in nums[1:count + 1]:
        code, jt, jf, k = (int(x) for x in line.split())
        insns.append((code, jt, jf, k))
    return insns


SO_ATTACH_FILTER = 26


def attach(sock: socket.socket, insns: list[Insn]) -> None:
    """Attach compiled BPF to a socket (the kernel copies it; replaces any earlier filter)."""
    arr = (_BpfInsn * len(insns))(*[_BpfInsn(*i) for i in insns])
    fprog = struct.pack("HL", len(insns), ctypes.addressof(arr))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
