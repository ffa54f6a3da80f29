"""Sequence diagrams of a TCP stream or an FTP session, packet by packet, as the seed
walkthrough draws them: `A->>F: FTP [Request: USER]`, `F-->>A: TCP [ACK]`, and optionally the
handshake and teardown of each connection folded into "Connection established / closed".

The same steps render as Mermaid `sequenceDiagram` text and as a ladder for the terminal.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dissect.packet import dissect_payload
from ..store.columns import ACK, FIN, PSH, RST, SYN, URG
from ..store.index import PacketIndex
from ..streams.analysis import NO_SUBDISSECTOR, tcp_analysis
from ..streams.follow import endpoints
from ..text import safe

TICK = 512  # packets between progress reports
FLAG_NAMES = ((FIN, "FIN"), (SYN, "SYN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"), (URG, "URG"))


@dataclass
class Step:
    frame: int            # 0-based; -1 for a note
    to_server: bool       # client (A) -> server (F)
    label: str
    note: bool = False


def steps(index: PacketIndex, frames: np.ndarray, client_ends: set[tuple[Any, ...]], fold: bool = False,
          tick: Callable[[int, int], None] | None = None, data_streams: frozenset[int] = frozenset()) -> list[Step]:
    """One step per packet of `frames` (ascending), labelled by what it carries; a packet goes
    to the server when its source is one of `client_ends` ((address, port) pairs).  `tick(done,
    total)` is called every TICK packets (a viewer's progress; it may raise to stop).  Payload on
    `data_streams` (the FTP follower's data connections) is FTP-DATA without being decoded."""
    out: list[Step] = []
    cols = index.cols
    by_stream: dict[int, list[int]] = {}
    for i in frames.tolist():
        by_stream.setdefault(int(cols.raw("stream")[i]), []).append(i)
    folded: dict[int, str] = {}
    if fold:
        for stream_frames in by_stream.values():
            folded.update(_fold(index, stream_frames))
    for k, i in enumerate(frames.tolist()):
        if tick is not None and k % TICK == 0:
            tick(k, len(frames))
        if i in folded:
            if folded[i]:
                out.append(Step(-1, True, folded[i], note=True))
            continue
        out.append(Step(i, tuple(endpoints(index, i)[0]) in client_ends, label(index, i, data_streams)))
    return out


def label(index: PacketIndex, i: int, data_streams: frozenset[int] = frozenset()) -> str:
    """What the walkthrough writes on the arrow: the FTP command or reply code, the application
    protocol, or TCP with its flags.  Only the payload is decoded (a ladder has thousands), and
    not even that on a known data connection."""
    flags = int(index.cols.raw("tcpflags")[i])
    names = [n for bit, n in FLAG_NAMES if flags & bit]
    if int(index.cols.raw("paylen")[i]) == 0:
        return f"TCP [{', '.join(names)}]"
    if int(index.cols.raw("stream")[i]) in data_streams:
        seq_ack = tcp_analysis(index, i)  # tshark hands retransmitted data to no application
        if seq_ack is None or not seq_ack.flags & NO_SUBDISSECTOR:
            return "FTP-DATA"
    d = dissect_payload(index, i)
    if d.protocol == "FTP":
        kind, _, rest = d.info.partition(": ")
        if kind == "Request":
            return f"FTP [Request: {rest.split(' ', 1)[0]}]"
        if kind == "Response":
            return f"FTP [Response: {rest[:3]}]"
        return "FTP"
    if d.protocol == "FTP-DATA":
        return "FTP-DATA"
    if d.protocol not in ("TCP", ""):
        return d.protocol
    return f"TCP [{', '.join(names)}]"


def _fold(index: PacketIndex, frames: list[int]) -> dict[int, str]:
    """Frames to hide: the 3-way handshake becomes one note, the teardown another ('' = hide)."""
    cols = index.cols
    flags = [int(cols.raw("tcpflags")[i]) for i in frames]
    paylen = [int(cols.raw("paylen")[i]) for i in frames]
    hide: dict[int, str] = {}
    if len(frames) >= 3 and flags[0] & SYN and not flags[0] & ACK and flags[1] & SYN and flags[1] & ACK \
            and flags[2] & ACK and not paylen[2]:
        hide[frames[0]], hide[frames[1]], hide[frames[2]] = "Connection established", "", ""
    fins = [k for k, f in enumerate(flags) if f & (FIN | RST)]
    if fins and all(not p for p in paylen[fins[0]:]) and frames[fins[0]] not in hide:
        for k in range(fins[0], len(frames)):
            hide[frames[k]] = ""
        hide[frames[-1]] = "Connection closed"
        # the note goes where the teardown starts
        hide[frames[fins[0]]], hide[frames[-1]] = "Connection closed", ""
    return hide


def mermaid(steps_: list[Step], client_name: str = "Client", server_name: str = "Server") -> str:
    lines = ["sequenceDiagram", f"    participant A as {_m(client_name)}", f"    participant F as {_m(server_name)}"]
    for s in steps_:
        if s.note:
            lines.append(f"    Note over A,F: {_m(s.label)}")
        elif s.to_server:
            lines.append(f"    A->>F: {_m(s.label)}")
        else:
            lines.append(f"    F-->>A: {_m(s.label)}")
    return "\n".join(lines) + "\n"


def ladder(index: PacketIndex, steps_: list[Step], client: str, server: str, width: int = 40) -> list[str]:
    """The diagram as terminal lines: frame number, time, and an arrow between two lifelines."""
    head = f"{'No.':>6} {'Time':>11}  {safe(client)[:width]:<{width}}  {safe(server)[:width]}"
    lines = [head]
    t0 = index.first_ts or 0
    for s in steps_:
        if s.note:
            text = f" {safe(s.label)} "
            lines.append(f"{'':>6} {'':>11}  │{text.center(width, '┄')}│")
            continue
        t = (int(index.cols.raw("ts")[s.frame]) - t0) / 1e9
        text = f" {safe(s.label)} "
        body = text.center(width - 1, "─")
        arrow = f"│{body}▶│" if s.to_server else f"│◀{body}│"
        lines.append(f"{s.frame + 1:>6} {t:>11.6f}  {arrow}")
    return lines


def _m(text: str) -> str:
    """Text safe inside a Mermaid line (no breaks, no ';' or '#', which Mermaid parses)."""
    return safe(text).replace(";", ",").replace("#", "No.")
