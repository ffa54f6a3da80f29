"""Read pcap and pcapng files as batches of record positions.

Readers never build per-packet objects: each batch holds numpy arrays (data offset, captured
length, original length, timestamp in ns, link type) and the raw bytes they point into, so the
index can pull header fields out of a whole batch at once.  Gzip input is unpacked to a spool
file first, so everything afterwards reads a plain, seekable file.
"""
from __future__ import annotations

import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from ..errors import CaptureError

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 6),
    b"\xa1\xb2\xc3\xd4": (">", 6),
    b"\x4d\x3c\xb2\xa1": ("<", 9),
    b"\xa1\xb2\x3c\x4d": (">", 9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
# Link type given to a pcapng Custom Block, which tshark lists as a frame of its own (65535 is
# reserved in the link-type registry, so it cannot clash with a real interface).
LINK_PCAPNG_CUSTOM = 0xFFFF
CUSTOM_BLOCK_TYPES = {0x00000BAD: True, 0x40000BAD: False}  # block type -> may be copied
MAX_RECORD = 262144 * 4  # larger "records" mean we are reading garbage
CHUNK = 16 << 20
# the first chunk of a scan is smaller (then doubled up to CHUNK): the first rows show sooner.
# It still holds the biggest record there can be.
FIRST_CHUNK = 2 << 20


@dataclass
class Batch:
    """Records found in one chunk of the file; offsets are absolute file offsets of packet data."""
    buf: bytes            # the chunk's bytes
    base: int             # file offset of buf[0]
    offset: np.ndarray    # int64, absolute offset of each packet's data
    caplen: np.ndarray    # uint32
    origlen: np.ndarray   # uint32
    ts_ns: np.ndarray     # int64, nanoseconds since the epoch
    link: np.ndarray      # uint16 link-layer type per packet
    end: int = 0          # file offset just past the last complete record
    # int8 per packet, or None when every packet has the file's precision (CaptureFile.ts_digits):
    # the number of decimals tshark shows for the packet's time (its interface's if_tsresol:
    # 9, 6, 3, 2, 1 or 0), or -1 for a packet without a timestamp (Simple Packet Block; tshark
    # leaves its Time column blank and its ts_ns is 0).
    ts_prec: np.ndarray | None = None
    # int16 per packet: the pcapng interface id of the packet's block (-1: a custom block), or
    # None for pcap files, which have no interfaces (tshark then shows no frame.interface_id)
    iface: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.offset)

    def head(self, n: int) -> "Batch":
        """The batch's first n records."""
        def cut(column: np.ndarray | None) -> np.ndarray | None:
            return None if column is None else column[:n]
        end = int(self.offset[n]) if n < len(self) else self.end
        return Batch(self.buf, self.base, self.offset[:n], self.caplen[:n], self.origlen[:n], self.ts_ns[:n],
                     self.link[:n], end, cut(self.ts_prec), cut(self.iface))


@dataclass
class CaptureFile:
    """A capture file opened for reading; `scan()` walks it, `read()` fetches one packet."""
    path: str
    display_name: str
    format: str = "pcap"
    ts_digits: int = 6
    warnings: list[str] = field(default_factory=list)
    # pcapng Custom Blocks by the file offset of their data: (Private Enterprise Number, copyable)
    custom_blocks: dict[int, tuple[int, bool]] = field(default_factory=dict)
    # pcapng interface id -> its if_name option (absent: tshark says "unknown")
    if_names: dict[int, str] = field(default_factory=dict)
    gzipped: bool = False
    _fd: int = -1
    _gzip_problem: str | None = None
    _tail: "PcapWalker | PcapngWalker | None" = None

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "CaptureFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tail(self, chunk: int = CHUNK, final: bool = False) -> Iterator[Batch]:
        """Yield the Batches of records added since the last `tail()` (the first call starts at
        the beginning), for a capture that another writer is still growing.

        A record cut short at the current end of the file is left for a later call, without a
        warning: it is probably still being written.  Pass `final=True` once the writer has
        finished: a partial record at the end then gives the same warning as `scan()`.  Garbage
        gives its warning once and ends the tail for good (later calls yield nothing)."""
        walker = self._tail
        if walker is None:
            walker = self._tail = PcapWalker(self) if self.format == "pcap" else PcapngWalker(self)
        if walker.broken:
            return
        yield from walker.batches(chunk, tail=not final)

    def scan(self, chunk: int = CHUNK) -> Iterator[Batch]:
        """Yield Batches until the end of the file; sets warnings for truncation or garbage."""
        walker = PcapWalker(self) if self.format == "pcap" else PcapngWalker(self)
        before = len(self.warnings)
        yield from walker.batches(chunk, first=min(chunk, FIRST_CHUNK))
        if self._gzip_problem and len(self.warnings) == before:
            # cut exactly between records: the walker saw nothing wrong, but data is missing
            self.warnings.append(f"{self.display_name}: {self._gzip_problem} (gzip); "
                                 "every complete packet is shown")


def open_capture(path: str, display_name: str | None = None) -> CaptureFile:
    """Open a pcap/pcapng file (optionally gzipped). Raises CaptureError with a one-line message.

    `display_name` names the capture in messages (default: the path), e.g. "standard input" for
    the spool file that a pipe is copied into."""
    name = path if display_name is None else display_name
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        raise CaptureError(f"{name}: {e.strerror}") from None
    return _open_fd(fd, path, name)


def _open_fd(fd: int, path: str, name: str) -> CaptureFile:
    if os.path.isdir(path):
        os.close(fd)
        raise CaptureError(f"{name}: is a directory, not a capture file")
    head = os.pread(fd, 4, 0)
    cap = CaptureFile(path=path, display_name=name, _fd=fd)
    if head[:2] == GZIP_MAGIC:
        os.close(fd)
        cap._fd, cap._gzip_problem, stopped = _gunzip_to_spool(path)
        cap.gzipped = True
        if stopped:
            cap.warnings.append(f"{name}: {stopped}; every complete packet before it is shown")
        head = os.pread(cap._fd, 4, 0)
    if head in PCAP_MAGICS:
        cap.format = "pcap"
        cap.ts_digits = PCAP_MAGICS[head][1]
    elif head == PCAPNG_SHB:
        cap.format = "pcapng"
    else:
        cap.close()
        if not head and cap.gzipped:
            raise CaptureError(f"{name}: {cap._gzip_problem or 'the compressed file is empty'}, "
                               "not a capture file")
        if not head:
            raise CaptureError(f"{name}: the file is empty, not a capture file")
        raise CaptureError(f"{name}: not a pcap or pcapng capture file (unknown format)")
    try:
        if cap.format == "pcap":
            PcapWalker(cap)  # validates the global header now, so errors surface at open time
        else:
            PcapngWalker(cap).check_header()
    except CaptureError:
        cap.close()
        raise
    return cap


# Decompressed bytes produced per zlib call: a gzip bomb (deflate expands up to 1032:1) never
# needs more memory than this at a time.
GUNZIP_STEP = 4 << 20
# Decompression stops before the temporary directory's file system has less than this free.
GUNZIP_KEEP_FREE = 512 << 20


def _gunzip_to_spool(path: str) -> tuple[int, str | None, str | None]:
    """Decompress into an anonymous temporary file; returns (fd, problem with the data or None,
    why decompression stopped early or None).

    The file has no name (it is unlinked at once), so it disappears when ftptui exits however it
    exits.  Decompression is streamed with zlib so that a stream cut short (or corrupt part-way)
    still yields everything before the damage; the walker then shows every complete packet.
    Concatenated gzip members are followed, as gzip(1) does.  Memory stays bounded
    (GUNZIP_STEP), and so does disk: it stops before the disk fills."""
    try:
        tmp = tempfile.TemporaryFile(prefix="ftptui-gunzip-")
    except OSError as e:
        raise CaptureError(f"{path}: cannot decompress: no temporary file ({e.strerror or e})") from None
    fd = os.dup(tmp.fileno())
    problem = stopped = None
    try:
        with open(path, "rb") as src, tmp:
            writer = _BoundedWriter(tmp)
            dec = zlib.decompressobj(wbits=31)
            fed = False  # has the current member been given any input?
            while problem is None and stopped is None:
                data = src.read(1 << 20)
                if not data:
                    break
                while data and stopped is None:
                    fed = True
                    try:
                        pending = data
                        while pending and stopped is None:
                            stopped = writer.write(dec.decompress(pending, GUNZIP_STEP))
                            pending = dec.unconsumed_tail
                    except zlib.error:
                        problem = "the compressed data is corrupt"
                        break
                    if not dec.eof:
                        break
                    # end of one member: another may follow; anything else is ignored, as gzip does
                    data = dec.unused_data
                    dec, fed = zlib.decompressobj(wbits=31), False
                    if data[:2] != GZIP_MAGIC:
                        break
            if problem is None and stopped is None and fed and not dec.eof:
                try:
                    writer.write(dec.flush())
                except zlib.error:
                    pass
                problem = "the compressed data ends early"
    except OSError as e:
        os.close(fd)
        raise CaptureError(f"{path}: cannot decompress: {e.strerror or e}") from None
    return fd, problem, stopped


class _BoundedWriter:
    """Writes decompressed data while the file system keeps GUNZIP_KEEP_FREE bytes free."""

    def __init__(self, f: IO[bytes]):
        self.f, self.written, self.checked = f, 0, -1

    def write(self, data: bytes) -> str | None:
        if self.written - self.checked >= 64 << 20 or self.checked < 0:
            st = os.fstatvfs(self.f.fileno())
            free = st.f_bavail * st.f_frsize
            self.checked = self.written
            if free - (64 << 20) < GUNZIP_KEEP_FREE:
                return (f"decompression stopped after {self.written / 1e6:,.0f} MB: the temporary directory "
                        f"({tempfile.gettempdir()}) has {free / 1e6:,.0f} MB free (set TMPDIR to a bigger one, "
                        "or decompress the file yourself)")
        self.f.write(data)
        self.written += len(data)
        return None


INT64_MAX = (1 << 63) - 1


def _ticks_to_ns(ticks: np.ndarray, units: int, tsoff: int) -> np.ndarray:
    """Nanoseconds since the epoch (int64) of pcapng timestamps counted in 1/`units` s from
    `tsoff` seconds.  Common resolutions are done with numpy; absurd ones (if_tsresol up to
    10^127 or 2^127, offsets near the int64 limits) with Python integers, clamped to int64."""
    if units <= 1 << 30 and abs(tsoff) < 1 << 31 and (len(ticks) == 0 or int(ticks.max()) // units < 1 << 32):
        secs = (ticks // np.uint64(units)).astype(np.int64)
        frac = (ticks % np.uint64(units)).astype(np.int64)
        return (secs + tsoff) * 1_000_000_000 + frac * 1_000_000_000 // units
    out = [(tsoff * 1_000_000_000 + int(t) * 1_000_000_000 // units) for t in ticks.tolist()]
    return np.asarray([max(-INT64_MAX, min(INT64_MAX, v)) for v in out], dtype=np.int64)


class PcapWalker:
    def __init__(self, cap: CaptureFile):
        self.cap = cap
        hdr = cap.read(0, 24)
        if len(hdr) < 24:
            raise CaptureError(f"{cap.display_name}: truncated pcap file header")
        self.endian, self.digits = PCAP_MAGICS[hdr[:4]]
        linktype = struct.unpack(self.endian + "I", hdr[20:24])[0]
        if linktype & 0x03FF0000:  # bits 16-25 are reserved (wiretap refuses them too)
            raise CaptureError(f"{cap.display_name}: the pcap header's link type has its reserved bits set "
                               f"(0x{linktype & 0x03FF0000:08x}): not a capture ftptui can read")
        self.link = linktype & 0xFFFF
        self.pos = 24  # where the next call of batches() starts
        self.broken = False  # garbage was found: nothing more can be read

    def batches(self, chunk: int, tail: bool = False, first: int | None = None) -> Iterator[Batch]:
        """Yield Batches from self.pos to the end of the file, reading `first` bytes, then twice
        as many each time up to `chunk`.  With `tail`, a record cut short at the end is left for
        the next call without a warning (a writer is still at work)."""
        cap, endian = self.cap, self.endian
        size = cap.size()
        pos = self.pos
        unpack_len = struct.Struct(endian + "I").unpack_from
        rec = np.dtype([("sec", endian + "u4"), ("frac", endian + "u4"),
                        ("cap", endian + "u4"), ("orig", endian + "u4")])
        mult = 1000 if self.digits == 6 else 1
        while pos < size:
            want, first = first or chunk, min(chunk, 2 * (first or chunk))
            buf = cap.read(pos, min(want, size - pos))
            end = len(buf)
            starts: list[int] = []
            add = starts.append
            p = 0
            bad = False
            while p + 16 <= end:
                (cl,) = unpack_len(buf, p + 8)
                if cl > MAX_RECORD:
                    bad = True
                    break
                nxt = p + 16 + cl
                if nxt > end:
                    break
                add(p)
                p = nxt
            if starts:
                idx = np.asarray(starts, dtype=np.int64)
                raw = np.frombuffer(buf, dtype=np.uint8)
                hdrs = raw[idx[:, None] + np.arange(16)].copy().view(rec).ravel()
                ts = hdrs["sec"].astype(np.int64) * 1_000_000_000 + hdrs["frac"].astype(np.int64) * mult
                self.pos = pos + p
                yield Batch(buf=buf, base=pos, offset=idx + pos + 16,
                            caplen=hdrs["cap"].astype(np.uint32), origlen=hdrs["orig"].astype(np.uint32),
                            ts_ns=ts, link=np.full(len(idx), self.link, dtype=np.uint16), end=pos + p)
            if bad:
                self.broken = True
                cap.warnings.append(
                    f"{cap.display_name}: garbage after the last complete packet "
                    f"(at byte {pos + p}); the packets before it are shown")
                return
            if not starts and p == 0:
                if pos + p < size and not tail:
                    cap.warnings.append(
                        f"{cap.display_name}: the capture appears to have been cut short in the middle "
                        f"of a packet (at byte {pos}); every complete packet is shown")
                return
            pos += p


class PcapngWalker:
    """Walks pcapng blocks: SHB (byte order), IDB (link type, ts resolution), EPB, SPB, PB."""

    def __init__(self, cap: CaptureFile):
        self.cap = cap
        self.endian = "<"
        self.ifaces: list[tuple[int, int, int, int]] = []  # (link, snaplen, ns_per_unit_num, units_per_s)
        self.pos = 0  # where the next call of batches() starts
        self.digits: int | None = None  # the finest precision of the interfaces seen so far
        self.broken = False  # garbage was found: nothing more can be read

    def check_header(self) -> None:
        hdr = self.cap.read(0, 12)
        if len(hdr) < 12:
            raise CaptureError(f"{self.cap.display_name}: truncated pcapng section header")
        if hdr[8:12] not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
            raise CaptureError(f"{self.cap.display_name}: not a pcapng file (bad byte-order magic)")

    @staticmethod
    def _digits(units: int) -> int:
        """Decimals tshark shows for an interface with `units` ticks per second (wiretap's
        tsprecision: >= 10^9 ns, >= 10^6 us, >= 10^3 ms, ...; so 2^-20 s shows 6 decimals)."""
        for digits in (9, 6, 3, 2, 1):
            if units >= 10 ** digits:
                return digits
        return 0

    @staticmethod
    def _tsresol(options: bytes, e: str) -> tuple[int, int]:
        """Return (units per second, ts offset in seconds) from IDB options."""
        units, offset = 1_000_000, 0
        p = 0
        while p + 4 <= len(options):
            code, olen = struct.unpack_from(e + "HH", options, p)
            val = options[p + 4:p + 4 + olen]
            if code == 0:
                break
            if code == 9 and olen >= 1:
                r = val[0]
                units = 2 ** (r & 0x7F) if r & 0x80 else 10 ** r
            elif code == 14 and olen >= 8:
                offset = struct.unpack(e + "q", val[:8])[0]
            p += 4 + olen + (-olen % 4)
        return units, offset

    @staticmethod
    def _if_name(options: bytes, e: str) -> str | None:
        """The if_name option (code 2) of an IDB, or None."""
        p = 0
        while p + 4 <= len(options):
            code, olen = struct.unpack_from(e + "HH", options, p)
            if code == 0:
                break
            if code == 2:
                return options[p + 4:p + 4 + olen].split(b"\0")[0].decode("utf-8", "replace")  # a C string
            p += 4 + olen + (-olen % 4)
        return None

    def batches(self, chunk: int, tail: bool = False, first: int | None = None) -> Iterator[Batch]:
        """Yield Batches from self.pos to the end of the file (chunk sizes as PcapWalker's).
        With `tail`, a block cut short at the end is left for the next call without a warning
        (a writer is still at work)."""
        cap = self.cap
        size = cap.size()
        pos = self.pos
        e = self.endian
        digits = self.digits
        while pos < size:
            want, first = first or chunk, min(chunk, 2 * (first or chunk))
            buf = cap.read(pos, min(want, size - pos))
            end = len(buf)
            offs, caps, origs, tss, ifs, has_ts = [], [], [], [], [], []
            p = 0
            bad: str | None = None
            while p + 12 <= end:
                btype, blen = struct.unpack_from(e + "II", buf, p)
                if btype == 0x0A0D0D0A:
                    bom = buf[p + 8:p + 12]
                    e = self.endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                    btype, blen = struct.unpack_from(e + "II", buf, p)
                    self.ifaces = []
                if blen < 12 or blen % 4 or blen > MAX_RECORD + 64:
                    bad = f"garbage after the last complete block (at byte {pos + p})"
                    break
                if p + blen > end:
                    break
                if btype == 6:  # Enhanced Packet Block
                    iface, hi, lo, cl, ol = struct.unpack_from(e + "IIIII", buf, p + 8)
                    if cl > blen - 32:  # data would run into the next block
                        bad = f"a packet block too small for its {cl} bytes of data (at byte {pos + p})"
                        break
                    if iface >= len(self.ifaces):
                        bad = f"a packet on interface {iface}, which no block declared (at byte {pos + p})"
                        break
                    offs.append(p + 28); caps.append(cl); origs.append(ol)
                    tss.append((hi << 32) | lo); ifs.append(iface); has_ts.append(True)
                elif btype == 3:  # Simple Packet Block: no timestamp, snaplen-limited
                    if not self.ifaces:
                        bad = f"a simple packet block before any interface was declared (at byte {pos + p})"
                        break
                    (ol,) = struct.unpack_from(e + "I", buf, p + 8)
                    snap = self.ifaces[0][1] if self.ifaces else 0
                    cl = min(ol, blen - 16, snap or ol)
                    offs.append(p + 12); caps.append(cl); origs.append(ol); tss.append(0); ifs.append(0)
                    has_ts.append(False)
                elif btype == 2:  # obsolete Packet Block
                    iface, _drops, hi, lo, cl, ol = struct.unpack_from(e + "HHIIII", buf, p + 8)
                    if cl > blen - 32:
                        bad = f"a packet block too small for its {cl} bytes of data (at byte {pos + p})"
                        break
                    if iface >= len(self.ifaces):
                        bad = f"a packet on interface {iface}, which no block declared (at byte {pos + p})"
                        break
                    offs.append(p + 28); caps.append(cl); origs.append(ol)
                    tss.append((hi << 32) | lo); ifs.append(iface); has_ts.append(True)
                elif btype in CUSTOM_BLOCK_TYPES:
                    (pen,) = struct.unpack_from(e + "I", buf, p + 8)
                    cap.custom_blocks[pos + p + 12] = (pen, CUSTOM_BLOCK_TYPES[btype])
                    offs.append(p + 12); caps.append(blen - 16); origs.append(blen - 16); tss.append(0)
                    ifs.append(-1); has_ts.append(False)
                elif btype == 1:  # Interface Description Block
                    link, _res, snap = struct.unpack_from(e + "HHI", buf, p + 8)
                    units, tsoff = self._tsresol(buf[p + 16:p + blen - 4], e)
                    name = self._if_name(buf[p + 16:p + blen - 4], e)
                    if name is not None:
                        cap.if_names[len(self.ifaces)] = name
                    self.ifaces.append((link, snap, units, tsoff))
                    # the file-wide precision is the finest of its interfaces'
                    digits = max(self._digits(units), -1 if digits is None else digits)
                p += blen
            if digits is not None:
                cap.ts_digits = self.digits = digits
            self.pos = pos + p  # blocks up to here (interfaces too) are taken into account
            if offs:
                n = len(offs)
                iface_arr = np.asarray(ifs, dtype=np.int64)
                links = np.asarray([i[0] for i in self.ifaces] + [LINK_PCAPNG_CUSTOM],
                                   dtype=np.uint16)[iface_arr]  # iface -1: a custom block
                raw_ts = np.asarray(tss, dtype=np.uint64)
                ts = np.zeros(n, dtype=np.int64)
                prec = np.empty(n, dtype=np.int8)
                for i, (_l, _s, units, tsoff) in enumerate(self.ifaces):
                    sel = iface_arr == i
                    if not sel.any():
                        continue
                    ts[sel] = _ticks_to_ns(raw_ts[sel], units, tsoff)
                    prec[sel] = self._digits(units)
                stamped = np.asarray(has_ts, dtype=bool)
                ts[~stamped] = 0
                prec[~stamped] = -1
                yield Batch(buf=buf, base=pos, offset=np.asarray(offs, dtype=np.int64) + pos,
                            caplen=np.asarray(caps, dtype=np.uint32), origlen=np.asarray(origs, dtype=np.uint32),
                            ts_ns=ts, link=links, end=pos + p, ts_prec=prec,
                            iface=iface_arr.astype(np.int16))
            if bad:
                self.broken = True
                cap.warnings.append(f"{cap.display_name}: {bad}; the packets before it are shown")
                return
            if p == 0:
                if pos < size and not tail:
                    cap.warnings.append(
                        f"{cap.display_name}: the capture appears to have been cut short in the middle "
                        f"of a block (at byte {pos}); every complete packet is shown")
                return
            pos += p
