"""Save packets of an index as a pcap or pcapng file (the UI's "save as": all, displayed or
marked packets of a capture file, a live capture's spool or a stream).

Records are copied from the capture file the index reads (its bytes, by the index's offsets and
captured lengths) with the times and original lengths the index keeps, so nothing is decoded or
rebuilt:

    n = write_capture(index, frames, "out.pcapng", "pcapng")   # frames: 0-based, ascending; None: all

pcap needs one link type for every packet (the spool of a capture on one interface has one);
pcapng keeps one interface per interface of the source (pcapng) or per link type (pcap).
Timestamps keep their precision: microseconds when every time is a whole number of them
(pcap magic a1b2c3d4, pcapng if_tsresol 6), nanoseconds otherwise.  The file is written next to
its destination and renamed into place, so a failed save never leaves half a file.
"""
from __future__ import annotations

import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import numpy as np

from .. import cleanup
from ..errors import CaptureError
from .reader import LINK_PCAPNG_CUSTOM

Progress = Callable[[int, int], object]  # (packets written, packets to write)

FORMATS = ("pcap", "pcapng")
SPAN = 8 << 20  # read packets that lie close together in one go, up to this many bytes
BATCH = 4096    # packets handled per step (progress and stop are checked between steps)


def format_for(path: str, default: str = "pcap") -> str:
    """The format a file name asks for: .pcapng / .ntar -> pcapng, .pcap / .cap -> pcap, else default."""
    name = path.lower().removesuffix(".gz")
    if name.endswith((".pcapng", ".ntar", ".scap")):
        return "pcapng"
    if name.endswith((".pcap", ".cap", ".dmp")):
        return "pcap"
    return default


def _digits(ts: np.ndarray, prec: np.ndarray) -> int:
    """Decimals to store times with: the finest precision the packets had, if every time is
    exact at it (so tshark shows them as before), else 9 (nanoseconds: nothing is lost)."""
    stamped = prec[prec >= 0]
    digits = int(stamped.max()) if len(stamped) else 6
    digits = 6 if digits in (7, 8) else min(digits, 9)
    unit = 10 ** (9 - digits)
    if unit > 1 and np.any(ts % unit):
        return 9
    return digits


class _Packets:
    """The selected packets' columns, and their bytes read in spans."""

    def __init__(self, index: Any, frames: np.ndarray | None):  # index: a PacketIndex (store/, above us)
        n = len(index)
        if frames is None:
            frames = np.arange(n, dtype=np.int64)
        frames = np.asarray(frames, dtype=np.int64)
        if len(frames) and (frames.min() < 0 or frames.max() >= n):
            raise CaptureError(f"cannot save packet {int(frames.max()) + 1}: the capture has {n}")
        cols = index.cols
        link = cols.raw("link")[frames]
        keep = link != LINK_PCAPNG_CUSTOM
        self.skipped = int(len(frames) - keep.sum())
        self.frames = frames[keep]
        f = self.frames
        self.link = link[keep].astype(np.int64)
        self.offset = cols.raw("offset")[f].astype(np.int64)
        self.caplen = cols.raw("caplen")[f].astype(np.int64)
        self.origlen = cols.raw("origlen")[f].astype(np.int64)
        self.ts = cols.raw("ts")[f].astype(np.int64)
        self.prec = cols.raw("prec")[f].astype(np.int64)
        self.iface = cols.raw("iface")[f].astype(np.int64)
        self.cap = index.cap

    def __len__(self) -> int:
        return len(self.frames)

    def data(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Yield (k, bytes) for packets start..end-1, reading neighbours together."""
        off, cl, read = self.offset, self.caplen, self.cap.read
        k = start
        while k < end:
            # extend the span while the next packet starts after this one and the span stays small
            j = k + 1
            lo, hi = off[k], off[k] + cl[k]
            while j < end and off[j] >= off[j - 1] and off[j] + cl[j] - lo <= SPAN:
                hi = max(hi, off[j] + cl[j])
                j += 1
            buf = read(int(lo), int(hi - lo))
            for i in range(k, j):
                a = int(off[i] - lo)
                chunk = buf[a:a + int(cl[i])]
                if len(chunk) != cl[i]:
                    raise CaptureError(f"packet {int(self.frames[i]) + 1}: the capture file is shorter "
                                       "than the index (was it truncated?)")
                yield i, chunk
            k = j


def _pcap(pk: _Packets, out: IO[bytes], link_hint: int, progress: Progress | None, stop: threading.Event | None) -> None:
    links = np.unique(pk.link)
    if len(links) > 1:
        raise CaptureError(f"the packets have {len(links)} link types ({', '.join(map(str, links.tolist()))}): "
                           "pcap holds one; save as pcapng")
    link = int(links[0]) if len(links) else link_hint
    digits = _digits(pk.ts, pk.prec) if len(pk) else 6
    nano = digits > 6
    snaplen = max(262144, int(pk.caplen.max()) if len(pk) else 0)
    out.write(struct.pack("<IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, link))
    ts = np.maximum(pk.ts, 0)
    sec = ts // 1_000_000_000
    frac = ts % 1_000_000_000 if nano else (ts % 1_000_000_000) // 1000
    rec = struct.Struct("<IIII").pack

    def record(i: int, data: bytes) -> list[bytes]:
        return [rec(int(sec[i]) & 0xFFFFFFFF, int(frac[i]), len(data), int(pk.origlen[i])), data]
    _write_records(out, pk, record, stop, progress)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def _pcapng(pk: _Packets, out: IO[bytes], if_names: dict[int, str], progress: Progress | None,
            stop: threading.Event | None) -> None:
    # one interface per interface of the source (pcapng), or per link type (pcap: iface -1)
    keys = sorted(set(zip(pk.iface.tolist(), pk.link.tolist())))
    ids = {key: k for k, key in enumerate(keys)}
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                 + _option(4, b"ftptui") + _option(0, b""))
    out.write(shb)
    units = []
    for iface, link in keys:
        sel = (pk.iface == iface) & (pk.link == link)
        digits = _digits(pk.ts[sel], pk.prec[sel])
        units.append(10 ** digits)
        opts = b""
        name = if_names.get(iface)
        if name:
            opts += _option(2, name.encode())
        opts += _option(9, bytes([digits]))
        snaplen = max(262144, int(pk.caplen[sel].max()))
        out.write(_block(1, struct.pack("<HHI", link, 0, snaplen) + opts + _option(0, b"")))
    id_of = np.array([ids[key] for key in zip(pk.iface.tolist(), pk.link.tolist())], dtype=np.int64) \
        if len(pk) else np.zeros(0, np.int64)
    per = np.array(units, dtype=np.int64)[id_of] if len(pk) else np.zeros(0, np.int64)
    ts = np.maximum(pk.ts, 0)
    stamp = (ts // 1_000_000_000) * per + (ts % 1_000_000_000) // (1_000_000_000 // per)
    head = struct.Struct("<IIIIIII").pack

    def block(i: int, data: bytes) -> list[bytes]:  # an Enhanced Packet Block
        cl, pad = len(data), -len(data) % 4
        blen = 32 + cl + pad
        t = int(stamp[i])
        return [head(6, blen, int(id_of[i]), t >> 32, t & 0xFFFFFFFF, cl, int(pk.origlen[i])), data,
                b"\0" * pad + struct.pack("<I", blen)]
    _write_records(out, pk, block, stop, progress)


def _write_records(out: IO[bytes], pk: _Packets, encode: Callable[[int, bytes], Iterable[bytes]],
                   stop: threading.Event | None, progress: Progress | None) -> None:
    """Write every packet as encode(i, data) pieces, BATCH packets at a time, checking `stop`
    and reporting progress between batches."""
    for start in range(0, len(pk), BATCH):
        if stop is not None and stop.is_set():
            raise CaptureError("the save was cancelled")
        end = min(len(pk), start + BATCH)
        out.write(b"".join(piece for i, data in pk.data(start, end) for piece in encode(i, data)))
        if progress:
            progress(end, len(pk))


def _link_hint(cap: Any) -> int:
    """The link type of a capture file's first interface (for an empty pcap), default Ethernet."""
    try:
        head = cap.read(0, 24)
        if cap.format == "pcap" and len(head) >= 24:
            endian = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            return int(struct.unpack(endian + "I", head[20:24])[0]) & 0x0FFFFFFF
    except (OSError, AttributeError):
        pass
    return 1


def write_capture(index: Any, frames: np.ndarray | None, path: str, fmt: str = "pcap", progress: Progress | None = None,
                  stop: threading.Event | None = None) -> int:
    """Write packets `frames` (0-based frame indexes, ascending; None: every packet) of `index` to
    `path` as `fmt` ("pcap" or "pcapng").  Returns how many packets were written (pcapng custom
    blocks are left out).  CaptureError with a one-line message when it cannot be written
    (several link types in a pcap, no permission, disk full...); `stop` (an Event) cancels."""
    if fmt not in FORMATS:
        raise CaptureError(f"cannot save as {fmt!r}: the formats are pcap and pcapng")
    path = os.path.expanduser(path)
    if not path or os.path.isdir(path):
        raise CaptureError(f"{path or 'no file name'}: give a file name to save to")
    pk = _Packets(index, frames)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ftptui-save-", dir=directory)
    except OSError as e:
        raise CaptureError(f"{path}: {e.strerror or e}") from None
    token = cleanup.on_exit(lambda: _unlink(tmp))  # a hangup in the middle leaves nothing behind
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            if fmt == "pcap":
                _pcap(pk, out, _link_hint(index.cap), progress, stop)
            else:
                _pcapng(pk, out, getattr(index.cap, "if_names", {}) or {}, progress, stop)
        os.chmod(tmp, 0o644)  # as open() would make it (mkstemp makes 0600)
        os.replace(tmp, path)
    except OSError as e:
        _unlink(tmp)
        raise CaptureError(f"{path}: {e.strerror or e}") from None
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        cleanup.forget(token)
    return len(pk)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
