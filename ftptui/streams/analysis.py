"""TCP sequence analysis as tshark 4.0 does it in one pass (`tcp.analysis.*`, the "[TCP ...]" labels).

The rules, their order and their quirks follow Wireshark's packet-tcp.c
(tcp_analyze_sequence_number and the parts of dissect_tcp around it): a packet's analysis
depends only on earlier packets of its TCP conversation.  Nothing is computed while indexing;
a stream is analysed on first need (a row of it is drawn) up to that row and a little beyond,
and carried on from there when a later row is needed; `analyse_all` walks every stream at once for display filters over the whole capture.

Options are read from the packet bytes only where the analysis uses them, for segments whose
options are more than timestamps (the index's "tcpopt" column): window scale (for "Window
Full") and SACK blocks (subtracted from bytes in flight).
"""
from __future__ import annotations

import bisect
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store.columns import ACK, FIN, PSH, RST, SYN
from ..store.index import PacketIndex
from ..store.tcp_options import EOL, MALFORMED, TRUNCATED, walk

# tshark's TCP_A_* bits
RETRANSMISSION, LOST_PACKET, ACK_LOST_PACKET, KEEP_ALIVE = 0x1, 0x2, 0x4, 0x8
DUPLICATE_ACK, ZERO_WINDOW, ZERO_WINDOW_PROBE, ZERO_WINDOW_PROBE_ACK = 0x10, 0x20, 0x40, 0x80
KEEP_ALIVE_ACK, OUT_OF_ORDER, FAST_RETRANSMISSION, WINDOW_UPDATE = 0x100, 0x200, 0x400, 0x800
WINDOW_FULL, REUSED_PORTS, SPURIOUS_RETRANSMISSION = 0x1000, 0x2000, 0x4000

M32 = 0xFFFFFFFF
AHEAD = 1024  # frames analysed past the one asked for on the UI thread (the rows below it on screen)
AHEAD_IN_WORKERS = 1 << 16  # ... elsewhere (a filter or --print walking the capture)
MAX_UNACKED = 10000  # TCP_MAX_UNACKED_SEGMENTS
NEVER = 1 << 62  # "no time yet": tshark's zero time makes every delta huge

# Info labels in the order tshark prepends them (each goes in front of the previous ones).
_LABELS = ((REUSED_PORTS, "[TCP Port numbers reused]"), (RETRANSMISSION, "[TCP Retransmission]"),
           (FAST_RETRANSMISSION, "[TCP Fast Retransmission]"),
           (SPURIOUS_RETRANSMISSION, "[TCP Spurious Retransmission]"), (OUT_OF_ORDER, "[TCP Out-Of-Order]"),
           (LOST_PACKET, "[TCP Previous segment not captured]"), (ACK_LOST_PACKET, "[TCP ACKed unseen segment]"),
           (WINDOW_UPDATE, "[TCP Window Update]"), (WINDOW_FULL, "[TCP Window Full]"),
           (KEEP_ALIVE, "[TCP Keep-Alive]"), (KEEP_ALIVE_ACK, "[TCP Keep-Alive ACK]"), (DUPLICATE_ACK, None),
           (ZERO_WINDOW_PROBE, "[TCP ZeroWindowProbe]"), (ZERO_WINDOW, "[TCP ZeroWindow]"),
           (ZERO_WINDOW_PROBE_ACK, "[TCP ZeroWindowProbeAck]"))

# Wireshark's "Bad TCP" colouring rule: any flag but these three on their own
NOT_BAD = WINDOW_UPDATE | KEEP_ALIVE | KEEP_ALIVE_ACK
# Segments tshark does not hand to the application dissector (tcp.no_subdissector_on_error)
NO_SUBDISSECTOR = RETRANSMISSION | SPURIOUS_RETRANSMISSION | OUT_OF_ORDER | KEEP_ALIVE

# Display-filter fields that are flag tests: the expert items repeat "retransmission" for the
# fast and spurious kinds, so `tcp.analysis.retransmission` matches all three.
FLAG_FIELDS = {
    "tcp.analysis.retransmission": RETRANSMISSION | FAST_RETRANSMISSION | SPURIOUS_RETRANSMISSION,
    "tcp.analysis.fast_retransmission": FAST_RETRANSMISSION,
    "tcp.analysis.spurious_retransmission": SPURIOUS_RETRANSMISSION,
    "tcp.analysis.out_of_order": OUT_OF_ORDER, "tcp.analysis.lost_segment": LOST_PACKET,
    "tcp.analysis.ack_lost_segment": ACK_LOST_PACKET, "tcp.analysis.window_update": WINDOW_UPDATE,
    "tcp.analysis.window_full": WINDOW_FULL, "tcp.analysis.keep_alive": KEEP_ALIVE,
    "tcp.analysis.keep_alive_ack": KEEP_ALIVE_ACK, "tcp.analysis.duplicate_ack": DUPLICATE_ACK,
    "tcp.analysis.zero_window": ZERO_WINDOW, "tcp.analysis.zero_window_probe": ZERO_WINDOW_PROBE,
    "tcp.analysis.zero_window_probe_ack": ZERO_WINDOW_PROBE_ACK, "tcp.analysis.reused_ports": REUSED_PORTS,
    "tcp.analysis.flags": 0x7FFF,
}


Options = tuple[int | None, int]  # (window-scale shift or None, SACK bytes)
OptionsOf = Callable[[int], Options]


@dataclass(slots=True)
class Analysis:
    """What tshark shows for one segment; frame numbers are 1-based, times in ns, 0 = absent."""
    flags: int = 0
    acks_frame: int = 0
    ack_rtt: int = 0
    initial_rtt: int = 0
    bytes_in_flight: int = 0
    push_bytes_sent: int = 0
    dupack_num: int = 0
    dupack_frame: int = 0
    rto: int = 0
    rto_frame: int = 0
    present: bool = False  # tshark keeps a [SEQ/ACK analysis] record for this frame

    def labels(self) -> str:
        """The Info prefix, e.g. "[TCP Dup ACK 5#1] " ("" when there is none)."""
        out = []
        for bit, text in _LABELS:
            if self.flags & bit:
                out.append(text or f"[TCP Dup ACK {self.dupack_frame}#{self.dupack_num}]")
        return "".join(t + " " for t in reversed(out))

    @property
    def bad(self) -> bool:
        return bool(self.flags) and not self.flags & NOT_BAD


# Expert infos under [TCP Analysis Flags], in tshark's order: (bit, field, severity, message)
CHAT, NOTE, WARN = (0x200000, "Chat"), (0x400000, "Note"), (0x600000, "Warning")
_EXPERTS = ((REUSED_PORTS, "reused_ports", NOTE,
             "A new tcp session is started with the same ports as an earlier session in this trace"),
            (RETRANSMISSION, "retransmission", NOTE, "This frame is a (suspected) retransmission"),
            (FAST_RETRANSMISSION, "fast_retransmission", NOTE, "This frame is a (suspected) fast retransmission"),
            (SPURIOUS_RETRANSMISSION, "spurious_retransmission", NOTE,
             "This frame is a (suspected) spurious retransmission"),
            (OUT_OF_ORDER, "out_of_order", WARN, "This frame is a (suspected) out-of-order segment"),
            (LOST_PACKET, "lost_segment", WARN, "Previous segment(s) not captured (common at capture start)"),
            (ACK_LOST_PACKET, "ack_lost_segment", WARN, "ACKed segment that wasn't captured (common at capture start)"),
            (WINDOW_UPDATE, "window_update", CHAT, "TCP window update"),
            (WINDOW_FULL, "window_full", WARN, "TCP window specified by the receiver is now completely full"),
            (KEEP_ALIVE, "keep_alive", NOTE, "TCP keep-alive segment"),
            (KEEP_ALIVE_ACK, "keep_alive_ack", NOTE, "ACK to a TCP keep-alive segment"),
            (DUPLICATE_ACK, "duplicate_ack", None, None),
            (ZERO_WINDOW_PROBE, "zero_window_probe", NOTE, "TCP Zero Window Probe"),
            (ZERO_WINDOW, "zero_window", WARN, "TCP Zero Window segment"),
            (ZERO_WINDOW_PROBE_ACK, "zero_window_probe_ack", NOTE, "ACK to a TCP Zero Window Probe"))


def _secs(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    return f"{sign}{abs(ns) // 1_000_000_000}.{abs(ns) % 1_000_000_000:09d}"


def _expert(parent: Any, field: str, severity: tuple[int, str], message: str) -> None:  # parent: a tree Field
    node = parent.add(f"[Expert Info ({severity[1]}/Sequence): {message}]", "_ws.expert")
    node.add(f"[{message}]", f"tcp.analysis.{field}", value=True)
    node.add(f"[Severity level: {severity[1]}]", "_ws.expert.severity", value=severity[0])
    node.add("[Group: Sequence]", "_ws.expert.group", value=0x2000000)


def add_tree(layer: Any, a: Analysis) -> None:
    """The [SEQ/ACK analysis] subtree tshark adds to the TCP layer (generated fields only)."""
    tree = layer.add("[SEQ/ACK analysis]", "tcp.analysis")
    if a.acks_frame:
        tree.add(f"[This is an ACK to the segment in frame: {a.acks_frame}]", "tcp.analysis.acks_frame",
                 value=a.acks_frame)
        if a.ack_rtt:
            tree.add(f"[The RTT to ACK the segment was: {_secs(a.ack_rtt)} seconds]", "tcp.analysis.ack_rtt",
                     value=a.ack_rtt)
    if a.initial_rtt:
        tree.add(f"[iRTT: {_secs(a.initial_rtt)} seconds]", "tcp.analysis.initial_rtt", value=a.initial_rtt)
    if a.bytes_in_flight:
        tree.add(f"[Bytes in flight: {a.bytes_in_flight}]", "tcp.analysis.bytes_in_flight", value=a.bytes_in_flight)
        tree.add(f"[Bytes sent since last PSH flag: {a.push_bytes_sent}]", "tcp.analysis.push_bytes_sent",
                 value=a.push_bytes_sent)
    if not a.flags:
        return
    flags = tree.add("[TCP Analysis Flags]", "tcp.analysis.flags")
    for bit, field, severity, message in _EXPERTS:
        if not a.flags & bit:
            continue
        if bit == DUPLICATE_ACK:
            flags.add("[This is a TCP duplicate ack]", "tcp.analysis.duplicate_ack", value=True)
            continue
        assert message is not None and severity is not None  # only the duplicate ACK has none
        _expert(flags, field, severity, message)
        if bit in (FAST_RETRANSMISSION, SPURIOUS_RETRANSMISSION):  # both count as retransmissions too
            _expert(flags, "retransmission", NOTE, "This frame is a (suspected) retransmission")
        if bit == RETRANSMISSION and a.rto:
            flags.add(f"[The RTO for this segment was: {_secs(a.rto)} seconds]", "tcp.analysis.rto", value=a.rto)
            flags.add(f"[RTO based on delta from frame: {a.rto_frame}]", "tcp.analysis.rto_frame", value=a.rto_frame)
    if a.dupack_num:
        tree.add(f"[Duplicate ACK #: {a.dupack_num}]", "tcp.analysis.duplicate_ack_num", value=a.dupack_num)
        dup = tree.add(f"[Duplicate to the ACK in frame: {a.dupack_frame}]", "tcp.analysis.duplicate_ack_frame",
                       value=a.dupack_frame)
        _expert(dup, "duplicate_ack", NOTE, f"Duplicate ACK (#{a.dupack_num})")


# Per-frame result columns, in Analysis field order (without `present`)
_RESULT = np.dtype([("flags", np.uint32), ("acks_frame", np.uint32), ("ack_rtt", np.int64),
                    ("initial_rtt", np.int64), ("bytes_in_flight", np.uint32), ("push_bytes_sent", np.uint32),
                    ("dupack_num", np.int32), ("dupack_frame", np.uint32), ("rto", np.int64),
                    ("rto_frame", np.uint32), ("present", np.bool_)])


class _Flow:
    """One direction of a conversation: tshark's tcp_flow_t plus its tcp_analyze_seq_info."""
    __slots__ = ("base", "nextseq", "nextseqframe", "nextseqtime", "lastack", "lastacktime", "lastnondupack",
                 "dupacknum", "maxseqtobeacked", "window", "win_scale", "segs", "in_order", "valid_bif",
                 "push_bytes", "push_last", "lastflags", "sack", "first_ack", "swept", "extent")

    def __init__(self) -> None:
        self.base: int | None = None
        self.nextseq = self.nextseqframe = self.lastack = self.lastnondupack = 0
        self.nextseqtime = self.lastacktime = -NEVER
        self.dupacknum = self.maxseqtobeacked = 0
        self.window = M32  # no window seen yet
        self.win_scale = -1  # -1 unknown, -2 not used, else the shift
        self.segs: list[list[int]] = []  # unacked segments, oldest first: [seq, nextseq, frame, ts]
        self.in_order = True  # segs ascend without overlap (lets ACK handling stop early)
        self.valid_bif = True
        self.push_bytes = 0
        self.push_last = False
        self.lastflags = 0
        self.sack = 0  # bytes covered by the SACK blocks of this direction's last segment
        self.first_ack = False
        # what makes long runs of unacknowledged segments linear rather than quadratic:
        self.swept: tuple[int, int] | None = None  # (ACK, len(segs)) after the last sweep by an ACK
        self.extent: list[int] | None = None  # [lowest start, highest end] of segs, relative to base


class _Conversation:
    __slots__ = ("flows", "mru_syn", "first_rtt")

    def __init__(self) -> None:
        self.flows = (_Flow(), _Flow())
        self.mru_syn = 0  # time of the last SYN (0: none), for the initial RTT
        self.first_rtt = 0


# tshark's GT_SEQ/LT_SEQ (32-bit serial-number order); the hot paths below inline _gt as
# `0 < (a - b) & M32 < HALF`.
HALF = 0x80000000


def _gt(a: int, b: int) -> bool:
    return 0 < ((a - b) & M32) < HALF


def _lt(a: int, b: int) -> bool:
    return ((a - b) & M32) >= HALF


def analyse_segments(conv: _Conversation, rows: Iterable[tuple[int, ...]], out: list[tuple[int, ...]],
                     options_of: OptionsOf, want_bif: bool = True) -> None:
    """Run tshark's per-segment analysis over `rows` of one conversation, in frame order.

    rows: iterable of (frame, direction, seq, ack, seglen, flags, window, ts_ns, has_options,
    reused); options_of(frame) -> (window-scale shift or None, SACK bytes) for frames with
    has_options.  Without want_bif, bytes in flight are not computed (and SACK not needed).
    out.append receives (frame, flags, acks_frame, ack_rtt, initial_rtt, bytes_in_flight,
    push_bytes_sent, dupack_num, dupack_frame, rto, rto_frame, present)."""
    flows = conv.flows
    for frame, direction, seq, ack, seglen, flags, window, ts, has_options, reused in rows:
        fwd, rev = flows[direction], flows[direction ^ 1]
        fl = REUSED_PORTS if reused else 0
        present = bool(reused)
        acks_frame = ack_rtt = bif = push = dupnum = dupframe = rto = rto_frame = 0
        syn_ack = flags & (SYN | ACK)
        # A SYN/ACK whose ISN differs from the one this side already used: tshark flags it too.
        if syn_ack == SYN | ACK and fwd.base is not None and seq != fwd.base:
            fl |= REUSED_PORTS
            present = True
            fwd.base = seq  # (tshark adopts it as the new base sequence number)
            fwd.extent = None
        # base sequence numbers (relative numbering; bytes in flight are computed relative to them)
        if fwd.base is None:
            fwd.base = seq if flags & SYN else (seq - 1) & M32
        if rev.base is None and flags & ACK:
            rev.base = (ack - 1) & M32
        if flags & ACK:
            rev.valid_bif = True
        nextseq = fwd.nextseq
        no_sfr = not flags & (SYN | FIN | RST)
        # ZERO WINDOW PROBE: exactly one byte at the next sequence number into a zero window
        if seglen == 1 and seq == nextseq and rev.window == 0:
            fl |= ZERO_WINDOW_PROBE  # (and nothing else is checked: tshark's goto finished_fwd)
        else:
            if window == 0 and no_sfr:
                fl |= ZERO_WINDOW
            # LOST PACKET: beyond the highest sequence number seen
            if nextseq and 0 < (seq - nextseq) & M32 < HALF and not flags & RST:
                fl |= LOST_PACKET
                fwd.valid_bif = False  # until the other side ACKs again
            # KEEP ALIVE: 0 or 1 byte one before the next sequence number
            if seglen <= 1 and seq == ((nextseq - 1) & M32) and no_sfr:
                fl |= KEEP_ALIVE
            same = seglen == 0 and seq == nextseq and ack == fwd.lastack and no_sfr
            # WINDOW UPDATE: nothing new but the window
            if same and window and window != fwd.window:
                fl |= WINDOW_UPDATE
            # WINDOW FULL: the segment fills the other side's advertised window
            if seglen > 0 and rev.win_scale != -1 and no_sfr:
                scale = 0 if rev.first_ack or rev.win_scale == -2 else rev.win_scale
                if (seq + seglen) & M32 == (rev.lastack + ((rev.window << scale) & M32)) & M32:
                    fl |= WINDOW_FULL
            if same and window and window == fwd.window and rev.lastflags & KEEP_ALIVE:
                fl |= KEEP_ALIVE_ACK
            elif same and window == 0 and fwd.window == 0 and rev.lastflags & ZERO_WINDOW_PROBE:
                fl |= ZERO_WINDOW_PROBE_ACK
            elif same and window and window == fwd.window:
                fwd.dupacknum = 1 if fwd.dupacknum == -1 else fwd.dupacknum + 1
                fl |= DUPLICATE_ACK
                dupnum, dupframe = fwd.dupacknum, fwd.lastnondupack
        # (finished_fwd) a new ACK number resets the duplicate-ACK count
        if ack != fwd.lastack:
            fwd.lastnondupack = frame + 1
            fwd.dupacknum = 0
        # ACKED LOST PACKET: acknowledges data the other side was never seen sending
        if rev.maxseqtobeacked and 0 < (ack - rev.maxseqtobeacked) & M32 < HALF and flags & ACK:
            present = True
            if _lt(rev.maxseqtobeacked, rev.nextseq):
                rev.maxseqtobeacked = rev.nextseq  # so that the same gap is reported once
                fl |= ACK_LOST_PACKET
            else:  # nothing new from the other side: report once over a run of such ACKs
                if rev.dupacknum == 0:
                    fl |= ACK_LOST_PACKET
                rev.dupacknum = -1
        # RETRANSMISSION / FAST RETRANSMISSION / SPURIOUS / OUT-OF-ORDER
        if (seglen > 0 or flags & (SYN | FIN)) and not fl & KEEP_ALIVE:
            not_advanced = nextseq and _lt(seq, nextseq)
            if seglen > 1 and ((nextseq - 1) & M32) == seq:
                not_advanced = False  # adds new data after a possible zero-window probe
            if seglen > 0 and rev.lastack and not _gt((seq + seglen) & M32, rev.lastack):
                fl |= SPURIOUS_RETRANSMISSION
            elif (not_advanced and (rev.dupacknum >= 2 or rev.dupacknum == -1) and rev.lastack == seq
                  and 0 <= ts - rev.lastacktime < 20_000_000):  # (-1 is huge: tshark's counter is unsigned)
                fl |= FAST_RETRANSMISSION  # fast retransmission takes precedence over out-of-order
            elif (not_advanced and 0 <= ts - fwd.nextseqtime < (conv.first_rtt or 3_000_000)
                  and nextseq != (seq + seglen + (1 if flags & (SYN | FIN) else 0)) & M32):
                fl |= OUT_OF_ORDER
            elif not_advanced:
                fl |= RETRANSMISSION
                # the RTO is measured from the oldest unacked segment (or the highest one sent)
                segs = fwd.segs
                ref_ts, ref_frame = (segs[0][3], segs[0][2]) if segs else (fwd.nextseqtime, fwd.nextseqframe)
                rto, rto_frame = ts - ref_ts, ref_frame
        if fl:
            present = True
        # (finished_checking_retransmission_type) remember the segment until it is acknowledged
        nxt = (seq + seglen) & M32
        segs = fwd.segs
        if (seglen or flags & (SYN | FIN)) and len(segs) < MAX_UNACKED:
            if flags & (SYN | FIN):
                nxt = (nxt + 1) & M32  # (tshark counts them only for a stored segment)
            # in order: each starts at or after the previous end, all within 1 GiB
            if segs and fwd.in_order and (_lt(seq, segs[-1][1]) or ((nxt - segs[0][0]) & M32) >= 1 << 30):
                fwd.in_order = False
            segs.append([seq, nxt, frame + 1, ts])
            ext = fwd.extent
            if ext is not None and fwd.base is not None:
                ext[0], ext[1] = min(ext[0], (seq - fwd.base) & M32), max(ext[1], (nxt - fwd.base) & M32)
        if (0 < (nxt - nextseq) & M32 < HALF or not nextseq) and not fl & ZERO_WINDOW_PROBE:
            fwd.nextseq, fwd.nextseqframe, fwd.nextseqtime = nxt, frame + 1, ts
        if (seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked) and not fl & ZERO_WINDOW_PROBE:
            fwd.maxseqtobeacked = fwd.nextseq
        fwd.window = window
        fwd.lastack = ack
        fwd.lastacktime = ts
        fwd.lastflags = fl
        # drop the other side's segments this ACKs; an exact match gives the RTT.  The segments
        # an earlier sweep by the same ACK kept are still ahead of it (a run of duplicate ACKs):
        # only those added since are looked at.
        segs = rev.segs
        start = rev.swept[1] if rev.swept is not None and rev.swept[0] == ack else 0
        if len(segs) > start:
            keep = segs[:start]
            matched = None
            stop = len(segs)
            changed = False
            # in an in-order list behind this ACK, the first segment still ahead ends the work
            early = rev.in_order and 0 < ((segs[-1][1] - ack) & M32) < HALF
            for k in range(start, len(segs)):
                sg = segs[k]
                s_seq, s_next = sg[0], sg[1]
                if ack == s_next:
                    matched = sg if matched is None else matched  # the oldest match wins
                    continue
                if 0 < (ack - s_seq) & M32 < HALF and not 0 < (ack - s_next) & M32 < HALF:
                    sg[0] = ack  # partly acknowledged
                    changed = True
                    keep.append(sg)
                elif 0 < (s_next - ack) & M32 < HALF:
                    keep.append(sg)
                    if early:  # later segments start even further on
                        stop = k + 1
                        break
                # else: older than the ACK, dropped
            if stop < len(segs):
                keep.extend(segs[stop:])
            if changed or len(keep) != len(segs):
                rev.extent = None
            rev.segs = keep
            rev.swept = (ack, len(keep))
            if not keep:
                rev.in_order = True
            if matched is not None:
                acks_frame, ack_rtt = matched[2], ts - matched[3]
                present = True
        # bytes in flight (tshark's default, payload-based method) and bytes since the last PSH
        if seglen and fwd.segs and fwd.valid_bif and not want_bif:
            present = True  # tshark keeps the record it made for bytes in flight
        elif seglen and fwd.segs and fwd.valid_bif:
            base, segs = fwd.base, fwd.segs
            if fwd.in_order and ((segs[0][0] - base) & M32) <= ((segs[-1][1] - base) & M32):
                first, last = (segs[0][0] - base) & M32, (segs[-1][1] - base) & M32
            else:  # kept up to date as segments are added, made again after an ACK removes some
                if fwd.extent is None:
                    fwd.extent = [min((s[0] - base) & M32 for s in segs), max((s[1] - base) & M32 for s in segs)]
                first, last = fwd.extent
            in_flight = (last - first - rev.sack) & M32
            if 0 < in_flight < 2_000_000_000:
                bif = in_flight - (1 if flags & (SYN | FIN) else 0)
            if flags & PSH:
                fwd.push_bytes = seglen if fwd.push_last else fwd.push_bytes + seglen
                fwd.push_last = True
            elif fwd.push_last:
                fwd.push_bytes = seglen
                fwd.push_last = False
            else:
                fwd.push_bytes += seglen
            push = fwd.push_bytes
            present = True
        # dissect_tcp after the analysis: initial RTT, window scaling, SACK blocks
        if syn_ack == SYN:
            conv.mru_syn = ts
        if flags & SYN:
            fwd.first_ack = True
        if syn_ack == ACK:
            if conv.mru_syn and not conv.first_rtt:
                conv.first_rtt = ts - conv.mru_syn
            fwd.first_ack = False
        shift, sack = options_of(frame) if has_options else (None, 0)  # (an Options)
        if shift is not None:  # a window-scale option counts on any segment
            fwd.win_scale = shift
        if flags & SYN:
            if fwd.win_scale == -1:  # verify_tcp_window_scaling
                fwd.win_scale = rev.win_scale = -2
            elif syn_ack == SYN | ACK and rev.win_scale == -2:
                fwd.win_scale = -2
        fwd.sack = sack  # only this side's latest segment counts: tshark forgets older blocks
        # push_bytes_sent is only shown next to a bytes-in-flight figure
        out.append((frame, fl, acks_frame, ack_rtt, conv.first_rtt if present else 0, bif, push if bif else 0,
                    dupnum, dupframe, rto, rto_frame, present))


def read_options(data: bytes, p: int, end: int) -> Options:
    """(window-scale shift or None, SACK bytes) of the TCP options in data[p:end].
    SACK bytes are what tshark subtracts from bytes in flight: the first three blocks only (its
    MAX_TCP_SACK_RANGES quirk), a later SACK option replacing an earlier one."""
    shift: int | None = None
    sack = 0
    for kind, start, size in walk(data, p, min(end, len(data))):
        if kind in (EOL, MALFORMED, TRUNCATED):
            break  # tshark's analysis stops there
        if kind == 3 and size == 3:
            shift = min(data[start + 2], 14)
        elif kind == 5:
            sack = 0
            for k in range(start + 2, start + 2 + min((size - 2) // 8, 3) * 8, 8):
                sack += (int.from_bytes(data[k + 4:k + 8], "big") - int.from_bytes(data[k:k + 4], "big")) & M32
    return shift, sack & M32


_ROW_COLUMNS = ("dir", "seq", "ack", "paylen", "tcpflags", "win", "ts", "tcpopt")


ROW_BUDGET = 5000  # a stream's frames a row drawn on the UI thread may analyse; more go to a thread
# ... and all rows drawn in a moment together (a far jump puts a screenful of long streams on
# screen: 17 of them once took the UI thread 120 ms): about 10 ms of analysis per BUDGET_PERIOD
SCREEN_BUDGET = 500
BUDGET_PERIOD = 0.05
WORKER_DELAY = 0.03  # seconds the background analysis waits before it starts (see _work_queue)
_local = threading.local()


class FrameBudget:
    """Frames of TCP analysis the UI thread may still do now; it fills up again after each
    BUDGET_PERIOD, so the rows of one paint share it."""

    def __init__(self, frames: int = SCREEN_BUDGET, period: float = BUDGET_PERIOD):
        self.frames, self.period = frames, period
        self.left, self.since = frames, time.monotonic()

    def take(self, n: int) -> bool:
        now = time.monotonic()
        if now - self.since >= self.period:
            self.left, self.since = self.frames, now
        if n > self.left:
            return False
        self.left -= n
        return True


class _Bound:
    """What `bounded` gives the analysis: whom to call when a stream is ready, how much it may
    do at once, and whether a result was left out."""

    def __init__(self, on_ready: Callable[[], None], budget: FrameBudget | None):
        self.on_ready = on_ready
        self.budget = budget
        self.missing = False  # a result was left out: the caller should not keep what it made

    def take(self, frames: int) -> bool:
        return frames <= ROW_BUDGET and (self.budget is None or self.budget.take(frames))


@contextmanager
def bounded(on_ready: Callable[[], None], budget: FrameBudget | None = None) -> Iterator[_Bound]:
    """For the UI thread: the analysis asked for inside this block does at most ROW_BUDGET frames
    of a stream at once (and, with a budget, what is left of it) and never waits for another
    thread.  Beyond that, the stream is analysed in a thread, the analysis is None for now
    (`.missing` becomes True) and on_ready() is called from the thread that finishes it."""
    bound = _Bound(on_ready, budget)
    _local.bound = bound
    try:
        yield bound
    finally:
        _local.bound = None


class _StreamDone:
    """One stream's analysis so far: every frame before `seen` is done, in chunks (one per
    extension, so carrying on never copies what was done before)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held while the stream is analysed further (find() needs none)
        self.conv = _Conversation()
        self.seen = 0
        self.starts: list[int] = []  # first frame of each chunk
        self.frames: list[np.ndarray] = []
        self.results: list[np.ndarray] = []
        self.waiters: list[Callable[[], None]] = []  # called once it has been carried on
        self.busy_to = 0  # a background thread is carrying it on to this frame (0: none)

    def find(self, frame: int) -> Analysis | None:
        c = bisect.bisect_right(self.starts, frame) - 1
        if c < 0:
            return None
        frames = self.frames[c]
        k = int(np.searchsorted(frames, frame))
        if k >= len(frames) or frames[k] != frame:
            return None
        return Analysis(*(v.item() for v in self.results[c][k]))


class TcpAnalysis:
    """The analysis of one PacketIndex: streams analysed on demand and cached, and the pass over
    all streams for display filters."""


    def __init__(self, index: PacketIndex):
        # a proxy: the index owns this object, and a cycle would keep a discarded index's
        # arrays (hundreds of MB for a big capture) until Python's rare full collection
        self.index = weakref.proxy(index)
        self._queue: deque[tuple[int, _StreamDone, int]] = deque()  # streams for the background thread
        self._worker: threading.Thread | None = None
        self.lock = threading.Lock()  # guards the per-stream cache
        self._all_lock = threading.Lock()  # the whole-capture pass, so rows can still be drawn meanwhile
        self._streams: dict[int, _StreamDone] = {}
        self._all: AllAnalysis | None = None
        self._opts: dict[int, Options] = {}  # frame -> read_options()

    # -- one frame, for the packet list and the tree --------------------------------------------
    def get(self, frame: int) -> Analysis | None:
        """tshark's analysis of frame (0-based), or None when it is not a TCP segment of a stream
        (or, inside `bounded`, when it is not ready yet)."""
        index = self.index
        if frame >= len(index):
            return None
        stream = int(index.cols.raw("stream")[frame])
        if stream < 0:
            return None
        with self.lock:
            done = self._streams.get(stream)
            if done is None:
                done = self._streams[stream] = _StreamDone()
        if frame < done.seen:
            return done.find(frame)
        # only as far as this frame and a little beyond (the rows drawn next; a worker's scan goes
        # further at once): a packet's analysis needs only the packets before it
        bound: _Bound | None = getattr(_local, "bound", None)
        hi = min(len(index), frame + 1 + (AHEAD if bound is not None else AHEAD_IN_WORKERS))
        if bound is None:
            self._carry_on(stream, done, hi)
            self._notify(done)
            return done.find(frame)
        # the UI thread: never waits for another thread's work, never does much of it itself
        if bound.take(len(self._frames_of(stream, done.seen, hi))) and self._carry_on(stream, done, hi, wait=False):
            self._notify(done)
            return done.find(frame)
        bound.missing = True
        with self.lock:
            if bound.on_ready not in done.waiters:
                done.waiters.append(bound.on_ready)
            start = frame >= done.busy_to  # (a thread on its way past this frame will do)
            if start:
                done.busy_to = hi
        if start:
            self._later(stream, done, hi)
        return None

    def _later(self, stream: int, done: "_StreamDone", hi: int) -> None:
        """Have the one background thread carry the stream on.  One thread, not one per
        stream: a far jump leaves dozens of streams to do, and as many threads took turns with
        the UI thread for the interpreter (its paint took 100 ms instead of 20)."""
        with self.lock:
            self._queue.append((stream, done, hi))
            if self._worker is not None:
                return
            worker = self._worker = threading.Thread(target=self._work_queue, name="tcp-analysis", daemon=True)
        worker.start()

    def _work_queue(self) -> None:
        time.sleep(WORKER_DELAY)  # the UI thread paints what it has first, alone
        while True:
            with self.lock:
                if not self._queue:
                    self._worker = None
                    return
                stream, done, hi = self._queue.popleft()
            self._in_background(stream, done, hi)

    def _carry_on(self, stream: int, done: "_StreamDone", hi: int, wait: bool = True) -> bool:
        """Analyse the stream up to `hi` under its lock; False (nothing done) when another thread
        holds the lock and `wait` is not set."""
        if not done.lock.acquire(blocking=wait):
            return False
        try:
            if hi > done.seen:
                self._extend(stream, done, hi)
        finally:
            done.lock.release()
        return True

    def _in_background(self, stream: int, done: "_StreamDone", hi: int) -> None:
        self._carry_on(stream, done, hi)
        with self.lock:
            if done.busy_to <= hi:
                done.busy_to = 0
        self._notify(done)

    def _notify(self, done: "_StreamDone") -> None:
        """Call who waited for the stream, unless a thread is still carrying it on."""
        with self.lock:
            if done.busy_to or not done.waiters:
                return
            waiters, done.waiters = done.waiters, []
        for call in waiters:
            call()

    def _extend(self, stream: int, done: "_StreamDone", n: int) -> None:
        """Analyse the stream's frames in [done.seen, n), carrying on from the ones before."""
        new = self._frames_of(stream, done.seen, n)
        rows: list[tuple[int, ...]] = []
        analyse_segments(done.conv, self._rows(new), rows, self._options)
        if rows:  # starts last: find() reads without the lock and goes by starts
            done.frames.append(new)
            done.results.append(np.array([r[1:] for r in rows], dtype=_RESULT))
            done.starts.append(int(new[0]))
        done.seen = n

    def _frames_of(self, stream: int, lo: int, hi: int) -> np.ndarray:
        return np.asarray(self.index.stream_packets(stream, lo, hi))

    def _rows(self, frames: np.ndarray) -> Iterator[tuple[int, ...]]:
        cols = self.index.cols
        lists = [cols.raw(name)[frames].tolist() for name in _ROW_COLUMNS]
        reused = self.index.tcp.reused
        frame_list = frames.tolist()
        flags = [int(f in reused) for f in frame_list] if reused else [0] * len(frame_list)
        return zip(frame_list, *lists, flags)

    def _options(self, frame: int) -> Options:
        """(window-scale shift, SACK bytes) of a frame whose options are more than timestamps."""
        got = self._opts.get(frame)
        if got is None:
            index = self.index
            data = index.packet_bytes(frame)
            off = int(index.cols.raw("l4off")[frame])
            end = off + (data[off + 12] >> 4) * 4 if off + 12 < len(data) else 0
            got = self._opts[frame] = read_options(data, off + 20, end)
        return got

    # -- every stream, for display filters ------------------------------------------------------
    def all(self) -> "AllAnalysis":
        """Flags, duplicate-ACK numbers, ACKed frames and RTTs of every frame indexed so far."""
        with self._all_lock:
            n = len(self.index)
            if self._all is None or self._all.n != n:
                self._all = _analyse_all(self.index, n, self._options)
            return self._all

    def part(self, k: int, parts: int) -> "AllAnalysis":
        """all() for the streams numbered k modulo `parts` only (zero for other frames): the
        parts, made in several processes, add up to all()."""
        return _analyse_all(self.index, len(self.index), self._options, (k, parts))


@dataclass
class AllAnalysis:
    """Per-frame arrays (index = 0-based frame): flags (TCP_A_* bits), dupack_num, dupack_frame,
    acks_frame (1-based frame numbers, 0 = none), ack_rtt (ns, 0 = none), present (tshark has a
    [SEQ/ACK analysis] record)."""
    n: int
    flags: np.ndarray
    dupack_num: np.ndarray
    dupack_frame: np.ndarray
    acks_frame: np.ndarray
    ack_rtt: np.ndarray
    present: np.ndarray

    def __add__(self, other: "AllAnalysis") -> "AllAnalysis":
        """Two parts of one capture's analysis (disjoint streams) as one."""
        return AllAnalysis(self.n, self.flags | other.flags, self.dupack_num + other.dupack_num,
                           self.dupack_frame + other.dupack_frame, self.acks_frame + other.acks_frame,
                           self.ack_rtt + other.ack_rtt, self.present | other.present)

    def matches(self, field: str) -> np.ndarray | None:
        """Bool mask of frames that have a flag-type tcp.analysis field; None for other fields."""
        if field == "tcp.analysis":
            return self.present
        bits = FLAG_FIELDS.get(field)
        return None if bits is None else (self.flags & bits) != 0


ALL_CHUNK = 200_000  # packets turned into Python rows at a time (about 200 bytes each)


def _analyse_all(index: PacketIndex, n: int, options_of: OptionsOf, share: tuple[int, int] = (0, 1)) -> AllAnalysis:
    cols = index.cols
    stream = cols.raw("stream")[:n]
    order = np.argsort(stream, kind="stable")
    mine, parts = share  # streams numbered `mine` modulo `parts` only
    order = order[(stream[order] >= 0) & (stream[order] % parts == mine)]
    edges = [0, *(np.flatnonzero(np.diff(stream[order])) + 1).tolist(), len(order)]
    reused = index.tcp.reused
    flags = np.zeros(n, np.uint32)
    dupnum = np.zeros(n, np.int32)
    dupframe = np.zeros(n, np.uint32)
    acks = np.zeros(n, np.uint32)
    rtt = np.zeros(n, np.int64)
    present = np.zeros(n, np.bool_)
    pending: list[tuple[int, ...]] = []

    def flush() -> None:
        got = np.array(pending, dtype=np.int64).reshape(-1, 12)
        fr = got[:, 0]
        flags[fr], acks[fr], rtt[fr] = got[:, 1], got[:, 2], got[:, 3]
        dupnum[fr], dupframe[fr], present[fr] = got[:, 7], got[:, 8], got[:, 11].astype(bool)
        pending.clear()

    # whole streams at a time, about ALL_CHUNK packets each: a list of tuples per frame is big
    k = 0
    while k < len(edges) - 1:
        j = k + 1
        while j < len(edges) - 1 and edges[j + 1] - edges[k] <= ALL_CHUNK:
            j += 1
        part = order[edges[k]:edges[j]]
        lists = [part.tolist()] + [cols.raw(name)[part].tolist() for name in _ROW_COLUMNS]
        lists.append([int(f in reused) for f in lists[0]] if reused else [0] * len(part))
        rows = list(zip(*lists))
        del lists
        base = edges[k]
        for a, b in zip(edges[k:j], edges[k + 1:j + 1]):
            analyse_segments(_Conversation(), rows[a - base:b - base], pending, options_of, want_bif=False)
        flush()
        k = j
    return AllAnalysis(n, flags, dupnum, dupframe, acks, rtt, present)


def tcp_analysis(index: PacketIndex, frame: int) -> Analysis | None:
    """tshark's sequence analysis of a frame (0-based), or None if it is no TCP segment."""
    analysis: TcpAnalysis = index.derived(TcpAnalysis)
    return analysis.get(frame)
