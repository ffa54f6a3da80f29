"""PacketIndex: compact per-packet columns for a capture, built batch by batch in a worker.

Only positions, times, lengths and a handful of header fields are kept per packet (about
100 bytes); a packet's bytes are read from the file again when its row is drawn or selected.
Stream-level state that tshark's list needs (stream numbers, base sequence numbers, ICMP
request/reply pairs) is updated as batches arrive, so rows can be drawn before the whole file is
indexed and a growing capture only adds batches.  What other modules derive from the packets
(TCP sequence analysis, FTP links, TLS versions...) lives with the index too, typed and owned by
the module that computes it: see `PacketIndex.derived`.
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np

from ..capture.reader import Batch, CaptureFile
from .columns import COLUMN_TYPES, ETH_IPV6, PROTO_ICMP, PROTO_ICMPV6, extract
from .grow import Columns
from .tcp_options import beyond_timestamps
from .tcp_streams import KeyGroups, TcpStreams
from .udp_streams import UdpStreams

T = TypeVar("T")
S = TypeVar("S", bound=Callable[..., object])
V4_MAPPED = b"\0" * 10 + b"\xff\xff"
ICMP_ECHO = {PROTO_ICMP: (8, 0), PROTO_ICMPV6: (128, 129)}
# unreachable, source quench, redirect, time exceeded, parameter problem / ICMPv6 1-4
ICMP_ERRORS = {PROTO_ICMP: (3, 4, 5, 11, 12), PROTO_ICMPV6: (1, 2, 3, 4)}

INDEX_DTYPES: dict[str, tuple[Any, tuple[int, ...]]] = {
    "offset": (np.int64, ()), "caplen": (np.uint32, ()), "origlen": (np.uint32, ()),
    "ts": (np.int64, ()), "prec": (np.int8, ()), "link": (np.uint16, ()), "stream": (np.int32, ()), "ustream": (np.int32, ()), "dir": (np.uint8, ()),
    "iface": (np.int16, ()),  # pcapng interface id (frame.interface_id); -1 in pcap files
    "tcpopt": (np.uint8, ()),  # bit 0: TCP options beyond timestamps (SACK, window scale...)
    # network addresses: an IPv4 address as a number, or for IPv6 packets the packet's row in
    # PacketIndex.v6 (16 bytes each there): 8 bytes a packet instead of 32 for IPv4 traffic
    "src": (np.uint32, ()), "dst": (np.uint32, ()),
    **{name: (t, ()) for name, t in COLUMN_TYPES.items()},
}


# The most packets one index holds (about 110 bytes of memory each, plus what views derive per
# packet): beyond it the rest of the capture is left out with a warning, so no capture, however
# many tiny records it holds, can exhaust memory.  --max-packets changes it.
MAX_PACKETS = 5_000_000
RESERVE_SAMPLE = 16 << 20  # bytes indexed before the columns are sized for the whole file
GROUP_EVERY = 200_000  # packets indexed before stream_packets groups the frames again

# Work other modules want done as each batch is indexed (in the indexing thread, so that it is
# not left for the first row drawn on the UI thread): they register it here at import, and the
# index imports none of them.  Each stage must also be correct when it runs late (it catches up).
BATCH_STAGES: list[Callable[[PacketIndex], object]] = []


def register_stage(stage: S) -> S:
    BATCH_STAGES.append(stage)
    return stage


@dataclasses.dataclass
class Scanned:
    """A batch and what its bytes alone tell (header columns, conversation keys, ICMP types): the
    part of indexing that needs no earlier packet, so another process can do it
    (store/scan_process.py)."""
    batch: Batch  # its buf may be dropped once scanned (b"")
    # the index's columns for the batch's rows, addresses in compact form (see INDEX_DTYPES),
    # IPv6 rows numbered from 0 in the batch
    cols: dict[str, np.ndarray]
    v6: dict[str, np.ndarray]  # the IPv6 rows' 16-byte addresses, in row order
    tcp: KeyGroups
    udp: KeyGroups
    icmp: list[tuple[int, int, int, bytes, bytes, bytes]]  # ICMP rows with 8 header bytes: (row, ipproto, type, id+seq, src, dst)

    def __len__(self) -> int:
        return len(self.batch)

    def head(self, n: int) -> Scanned:
        v6_rows = int(np.count_nonzero(self.cols["ethertype"][:n] == ETH_IPV6))
        return Scanned(self.batch.head(n), {name: col[:n] for name, col in self.cols.items()},
                       {name: col[:v6_rows] for name, col in self.v6.items()}, self.tcp.head(n), self.udp.head(n),
                       [found for found in self.icmp if found[0] < n])


def scan(batch: Batch) -> Scanned:
    """Pull what the index keeps out of a batch's bytes."""
    rel = batch.offset - batch.base
    cols = extract(batch.buf, rel, batch.caplen, batch.link)
    cols["tcpopt"] = beyond_timestamps(batch.buf, rel, batch.caplen, cols)
    icmp = []
    proto, l4off = cols["ipproto"], cols["l4off"]
    for i in np.nonzero(np.isin(proto, (PROTO_ICMP, PROTO_ICMPV6)) & (l4off >= 0))[0].tolist():
        start = int(rel[i]) + int(l4off[i])
        if start + 8 <= int(rel[i]) + int(batch.caplen[i]):
            icmp.append((i, int(proto[i]), batch.buf[start], batch.buf[start + 4:start + 8],
                         cols["src"][i].tobytes(), cols["dst"][i].tobytes()))
    tcp, udp = TcpStreams.groups(cols), UdpStreams.groups(cols)
    return Scanned(batch, cols, _compact_addresses(cols), tcp, udp, icmp)


def _compact_addresses(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Replace the batch's 16-byte addresses by the columns' compact form (see INDEX_DTYPES),
    IPv6 rows numbered from 0; returns the IPv6 rows' addresses."""
    v6 = np.nonzero(cols["ethertype"] == ETH_IPV6)[0]
    addresses = {}
    for which in ("src", "dst"):
        compact = cols[which][:, 12:16].copy().view(">u4").ravel().astype(np.uint32)
        addresses[which] = cols[which][v6]
        compact[v6] = np.arange(len(v6), dtype=np.uint32)
        cols[which] = compact
    return addresses


class PacketIndex:
    max_packets = MAX_PACKETS

    def __init__(self, cap: CaptureFile):
        self.cap = cap
        self.cols = Columns(INDEX_DTYPES)
        self.v6 = Columns({"src": (np.uint8, (16,)), "dst": (np.uint8, (16,))})  # IPv6 packets' addresses
        self.tcp = TcpStreams()
        self.udp = UdpStreams()
        self.icmp_request_of: dict[int, int] = {}  # reply frame index -> request frame index
        self.quoting: list[int] = []  # ICMP errors: frames that quote another packet's headers
        self._icmp_open: dict[tuple[int, bytes, bytes, bytes], int] = {}
        self.first_ts: int | None = None
        self._derived: dict[Callable[[PacketIndex], Any], Any] = {}
        self._derived_lock = threading.Lock()
        self._stream_groups: tuple[int, np.ndarray, np.ndarray] | None = None
        self.bytes_done = 0
        self.done = False
        self.full = False  # max_packets reached: later packets are left out
        self._reserved = False  # the columns were sized for the whole file
        self.lock = threading.Lock()  # held while a batch's derived state is being updated

    def __len__(self) -> int:
        return self.cols.n

    def derived(self, kind: Callable[[PacketIndex], T]) -> T:
        """This index's `kind`: state a module derives from the packets (its TCP analysis, FTP
        links, TLS versions...), made as kind(index) on first use and kept with the index.  The
        module that computes it owns the class, so the index imports none of them."""
        found = self._derived.get(kind)
        if found is None:
            with self._derived_lock:
                found = self._derived.get(kind)
                if found is None:
                    found = self._derived[kind] = kind(self)
        return found

    @property
    def total_bytes(self) -> int:
        return self.cap.size()

    def build(self, stop: threading.Event | None = None,
              on_progress: Callable[[PacketIndex], object] | None = None,
              scanned: Iterable[Scanned] | None = None) -> None:
        """Index the whole capture (call from a worker thread).  `scanned`: the capture's
        batches already scanned elsewhere (store/scan_process.py), instead of scanning here."""
        batches = scanned if scanned is not None else (scan(batch) for batch in self.cap.scan())
        for batch in batches:
            self.add_scanned(batch)
            if on_progress:
                on_progress(self)
            if stop is not None and stop.is_set():
                return
            if self.full:
                break
        if stop is not None and stop.is_set():
            return
        self.done = True
        if on_progress:
            on_progress(self)

    def add_batch(self, batch: Batch) -> bool:
        """Index a batch; False when the index is full (the batch was cut short or dropped)."""
        return self.add_scanned(scan(batch))

    def add_scanned(self, scanned: Scanned) -> bool:
        """Index a scanned batch; False when the index is full (the batch was cut short or
        dropped).  Everything here depends on the packets indexed before."""
        room = self.max_packets - self.cols.n
        if len(scanned) > room:
            scanned = scanned.head(room)
            if not self.full:
                self.full = True
                self.cap.warnings.append(
                    f"{self.cap.display_name}: only the first {self.max_packets:,} packets are read "
                    "(--max-packets; ftptui keeps about 110 bytes of memory per packet)")
        batch = scanned.batch
        if not len(batch):
            self.bytes_done = batch.end
            return not self.full
        if not self._reserved and batch.end >= min(self.total_bytes, RESERVE_SAMPLE):
            self._reserve_for(len(batch), batch.end)
        cols = dict(scanned.cols)
        first = self.cols.n
        with self.lock:
            stream, direction = self.tcp.update(first, cols, scanned.tcp)
            prec: Any = batch.ts_prec if batch.ts_prec is not None else self.cap.ts_digits
            iface: Any = batch.iface if batch.iface is not None else -1
            cols.update(offset=batch.offset, caplen=batch.caplen, origlen=batch.origlen, ts=batch.ts_ns,
                        prec=prec, link=batch.link, stream=stream, ustream=self.udp.update(cols, scanned.udp), dir=direction,
                        iface=iface)
            if self.first_ts is None:
                stamped = np.nonzero(np.asarray(prec) >= 0)[0] if batch.ts_prec is not None else [0]
                if len(stamped):  # times are relative to the first packet that has one
                    self.first_ts = int(batch.ts_ns[stamped[0]])
            self._pair_icmp(scanned, first)
            if len(scanned.v6["src"]):  # the IPv6 rows' addresses first: a reader never sees a row number before its row
                v6 = cols["ethertype"] == ETH_IPV6
                for which in ("src", "dst"):
                    cols[which] = np.where(v6, cols[which] + np.uint32(self.v6.n), cols[which])
                self.v6.append(scanned.v6)
            self.cols.append(cols)
            self.bytes_done = batch.end
        for stage in BATCH_STAGES:
            stage(self)
        return not self.full

    def address(self, i: int, which: str) -> bytes:
        """Packet i's source or destination address ("src" / "dst"): 16 bytes, an IPv4 address in
        IPv4-mapped form."""
        value = int(self.cols.raw(which)[i])
        if int(self.cols.raw("ethertype")[i]) == ETH_IPV6:
            return bytes(self.v6.raw(which)[value])
        return V4_MAPPED + value.to_bytes(4, "big")

    def addresses(self, which: str, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 16) uint8: the rows' addresses as `address` gives them."""
        value = self.cols.raw(which)[rows]
        out = np.zeros((len(rows), 16), dtype=np.uint8)
        out[:, 10:12] = 0xFF
        out[:, 12:16] = value.astype(">u4").view(np.uint8).reshape(-1, 4)
        v6 = self.cols.raw("ethertype")[rows] == ETH_IPV6
        out[v6] = self.v6.raw(which)[value[v6]]
        return out

    def _reserve_for(self, count: int, end: int) -> None:
        """Size the columns for the whole file from the bytes per packet so far (the first
        RESERVE_SAMPLE bytes: a first batch alone can be too small a sample)."""
        self._reserved = True
        packets = self.cols.n + count
        per_packet = max(1, end // packets)
        self.cols.reserve(min(int(self.total_bytes / per_packet * 1.05) + 1024, self.max_packets))

    def _pair_icmp(self, scanned: Scanned, first: int) -> None:
        """Walk the batch's ICMP packets in frame order: echo replies find their requests."""
        for i, proto, kind, ident_seq, src, dst in scanned.icmp:
            self._icmp(first + i, proto, kind, ident_seq, src, dst)

    def _icmp(self, frame: int, proto: int, kind: int, ident_seq: bytes, src: bytes, dst: bytes) -> None:
        req, rep = ICMP_ECHO[proto]
        if kind in ICMP_ERRORS[proto]:
            self.quoting.append(frame)
        if kind == req:
            self._icmp_open[(proto, ident_seq, src, dst)] = frame
        elif kind == rep:
            found = self._icmp_open.get((proto, ident_seq, dst, src))
            if found is not None:
                self.icmp_request_of[frame] = found

    def packet_bytes(self, i: int) -> bytes:
        c = self.cols
        return self.cap.read(int(c.raw("offset")[i]), int(c.raw("caplen")[i]))

    def stream_packets(self, stream: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Frame indexes (0-based, ascending) of a TCP stream's packets, those in [lo, hi) (hi:
        everything indexed).  The one place frames are found by stream: a grouping of the
        frames by stream (one sort, redone only after GROUP_EVERY new packets, so a growing
        capture does not sort on every batch), plus a scan of the packets indexed since."""
        n = self.cols.n
        hi = n if hi is None else min(hi, n)
        col = self.cols.raw("stream")
        covered, order, starts = self._stream_groups or (0, None, None)
        if order is None or hi - covered > GROUP_EVERY or (covered < hi == n and self.done):
            covered = n
            order = np.argsort(col[:n], kind="stable")
            starts = np.searchsorted(col[:n][order], np.arange(self.tcp.count + 1))
            self._stream_groups = (covered, order, starts)
        parts = []
        if order is not None and starts is not None and lo < covered and 0 <= stream < len(starts) - 1:
            grouped = order[starts[stream]:starts[stream + 1]]
            parts.append(grouped[(grouped >= lo) & (grouped < hi)])
        if max(lo, covered) < hi:
            tail = max(lo, covered)
            parts.append(np.nonzero(col[tail:hi] == stream)[0] + tail)
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def stream_frames(self, stream: int) -> np.ndarray:
        """Frame indexes (0-based) of a TCP stream's packets that carry payload."""
        frames = self.stream_packets(stream)
        return np.asarray(frames[self.cols.raw("paylen")[frames] > 0])

    def payload(self, i: int) -> bytes:
        """Transport payload of packet i (TCP or UDP), as captured."""
        data = self.packet_bytes(i)
        l4 = int(self.cols.raw("l4off")[i])
        if l4 < 0 or l4 + 13 > len(data):
            return b""
        hdr = (data[l4 + 12] >> 4) * 4 if self.cols.raw("ipproto")[i] == 6 else 8
        return data[l4 + hdr:l4 + hdr + int(self.cols.raw("paylen")[i])]

    def field(self, name: str, i: int) -> int:
        return int(self.cols.raw(name)[i])

    def memory_bytes(self) -> int:
        return self.cols.nbytes() + self.v6.nbytes() + self.tcp.slots.nbytes()
