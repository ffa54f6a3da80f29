"""Find every FTP session in a capture, follow it, and tie each transfer to its data connection.

Control connections are TCP streams to or from port 21, and streams on other ports whose server
greets with "220" and whose client answers with an FTP command.  Data connections are linked the
way Zeek links them: a PORT/EPRT command or a PASV/EPSV reply announces an address and port; the
next TCP connection made to that endpoint after the announcement belongs to the next data command
(RETR, STOR, LIST, ...), whatever comes between and even when the data arrives before the 150
reply.  Transfer bytes are hashed as they are reassembled, never held whole.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..store.columns import FTP_PORT
from ..store.index import PacketIndex
from ..store.prefix import payload_prefix
from ..streams.follow import Chunk, Stream, endpoint_text, endpoints, follow_tcp
from .control import ReplyAssembler, parse_command, split_lines
from .session import Session, Transfer

# how long after it is announced a data connection may start (servers close an unused passive
# port within a minute or two; five minutes is generous and keeps a later reuse of the same port
# from being taken for it)
DATA_WINDOW_NS = 300 * 1_000_000_000
FTP_VERBS = (b"USER", b"AUTH", b"FEAT", b"SYST", b"OPTS", b"user", b"auth", b"feat", b"syst", b"opts")


@dataclass
class FtpAnalysis:
    sessions: list[Session] = field(default_factory=list)
    packets: int = 0          # index length it was made from
    contents: bool = True     # transfers have their bytes counted and hashed (not only linked)

    @property
    def transfers(self) -> list[tuple[Session, Transfer]]:
        return [(s, t) for s in self.sessions for t in s.transfers]


class LatestAnalysis:
    """The index's latest FTP analysis (PacketIndex.derived); None until analyse() has run."""

    def __init__(self, index: PacketIndex):
        self.analysis: FtpAnalysis | None = None


def latest_analysis(index: PacketIndex) -> FtpAnalysis | None:
    """The last analysis made of this index, without making one (it may cover fewer packets)."""
    latest: LatestAnalysis = index.derived(LatestAnalysis)
    return latest.analysis


def analyse(index: PacketIndex, contents: bool = True) -> FtpAnalysis:
    """The FTP analysis of everything indexed so far (cached until the index grows).  Without
    `contents` the data connections are only linked (what the packet list's labels need), not
    read: most of the work on a big capture."""
    cached = latest_analysis(index)
    if cached is not None and cached.packets == len(index) and (cached.contents or not contents):
        return cached
    result = FtpAnalysis(packets=len(index), contents=contents)
    starts = _stream_starts(index)
    for stream in control_streams(index, starts):
        session = follow_session(index, stream, len(result.sessions) + 1)
        if session is not None:
            result.sessions.append(session)
    link_data(index, result, starts, contents)
    for session in result.sessions:  # (linked first: a refused command's data connection is its own)
        session.refused = [t for t in session.transfers if t.refused]
        session.transfers = [t for t in session.transfers if not t.refused]
    index.derived(LatestAnalysis).analysis = result
    return result


def _stream_starts(index: PacketIndex) -> np.ndarray:
    """First frame of every TCP stream (indexed by stream number)."""
    stream = index.cols["stream"]
    tcp = np.nonzero(stream >= 0)[0]
    first = np.full(index.tcp.count, -1, dtype=np.int64)
    sids, pos = np.unique(stream[tcp], return_index=True)
    first[sids] = tcp[pos]
    return first


def control_streams(index: PacketIndex, starts: np.ndarray) -> list[int]:
    """TCP streams that carry an FTP control connection, in order of their first packet."""
    cols = index.cols
    stream, paylen = cols["stream"], cols["paylen"]
    port21 = (cols["sport"] == FTP_PORT) | (cols["dport"] == FTP_PORT)
    found = set(np.unique(stream[(stream >= 0) & port21]).tolist())
    # other ports: the stream's first payload is a 220 greeting and the other side answers in FTP
    data_rows = np.nonzero((stream >= 0) & (paylen > 0) & ~port21)[0]
    if len(data_rows):
        sids, first = np.unique(stream[data_rows], return_index=True)
        rows = data_rows[first]
        prefix = payload_prefix(index, rows, 4)
        greets = np.all(prefix[:, :3] == np.frombuffer(b"220", dtype=np.uint8), axis=1)
        for sid in sids[greets].tolist():
            if _client_speaks_ftp(index, sid):
                found.add(sid)
    return sorted(found, key=lambda s: starts[s])


def _client_speaks_ftp(index: PacketIndex, stream: int) -> bool:
    frames = index.stream_frames(stream)
    first_dir = None
    for i in frames[:6].tolist():
        data = index.payload(i)
        if first_dir is None:
            first_dir = int(index.cols.raw("dir")[i])  # the greeting's direction
            continue
        if int(index.cols.raw("dir")[i]) != first_dir:
            return data[:4] in FTP_VERBS or data[:4].upper() in FTP_VERBS
    return False


def follow_session(index: PacketIndex, stream: int, number: int) -> Session | None:
    followed = follow_tcp(index, stream)
    if not followed.nodes:
        return None
    nodes = followed.nodes
    # the server is the side on port 21, else the side that greets with a reply code
    server_side = 1 if nodes[1][1] == FTP_PORT else 0 if nodes[0][1] == FTP_PORT else _greeter(followed)
    session = Session(number, stream, nodes[1 - server_side], nodes[server_side],
                      int(index.stream_packets(stream)[0]))
    replies = ReplyAssembler()
    for line in split_lines(followed.chunks):
        if line.side == server_side:
            reply = replies.feed(line)
            if reply is not None:
                session.reply(reply)
        elif line.text.strip():
            session.command(parse_command(line))
    return session


def _greeter(followed: Stream) -> int:
    for c in followed.chunks:
        if c.data[:3].isdigit():
            return int(c.side)
    return 1


def link_data(index: PacketIndex, result: FtpAnalysis, starts: np.ndarray, contents: bool = True) -> None:
    """Give each transfer the first TCP connection to its announced endpoint made after the
    announcement, then (with `contents`) hash the bytes that flowed the transfer's way."""
    cols = index.cols
    by_responder: dict[tuple[str, int], list[int]] = {}
    for sid in np.argsort(starts, kind="stable").tolist():
        i = int(starts[sid])
        if i < 0:
            continue
        dst = endpoints(index, i)[1]
        by_responder.setdefault((canonical_addr(dst[0]), dst[1]), []).append(sid)
    taken: set[int] = set()
    control = {s.stream for s in result.sessions}
    ts = cols["ts"]
    for session in result.sessions:
        for t in session.transfers:
            exp = t.expectation
            if exp is None:
                continue
            # the announced address; failing that, the same port on the session's peer (the
            # address in the command was rewritten by NAT, or the capture was replayed)
            peer = session.client[0] if exp.mode == "active" else session.server[0]
            for key in ((canonical_addr(exp.addr), exp.port), (canonical_addr(peer), exp.port)):
                sid = next((sid for sid in by_responder.get(key, [])
                            if sid not in taken and sid not in control and starts[sid] >= exp.frame
                            and ts[starts[sid]] - ts[exp.frame] <= DATA_WINDOW_NS), None)
                if sid is not None:
                    taken.add(sid)
                    if contents:
                        _fill(index, session, t, sid)
                    else:
                        t.tcp_stream = sid
                    break


def _fill(index: PacketIndex, session: Session, t: Transfer, sid: int) -> None:
    digest = hashlib.sha256()
    seen = {"bytes": 0, "gaps": 0, "first": -1, "last": -1}
    sender, nodes = sender_side(index, session, t, sid)

    def take(chunk: Chunk) -> None:
        if chunk.side != sender:
            return
        if chunk.gap:
            seen["gaps"] += chunk.gap
            return
        digest.update(chunk.data)
        seen["bytes"] += len(chunk.data)
        seen["last"] = chunk.frame
        if seen["first"] < 0:
            seen["first"] = chunk.frame

    follow_tcp(index, sid, emit=take)
    t.tcp_stream = sid
    t.data_client = endpoint_text(nodes[0])
    t.data_server = endpoint_text(nodes[1])
    t.bytes, t.gaps = seen["bytes"], seen["gaps"]
    t.sha256 = digest.hexdigest()
    t.first_data_frame, t.last_data_frame = seen["first"], seen["last"]


def sender_side(index: PacketIndex, session: Session, t: Transfer, sid: int) -> tuple[int, list[Any]]:
    """Which follow side of data stream sid carries the transfer, and the stream's endpoints.
    The stream was matched on its first packet's destination being the announced endpoint (follow
    side 1): the server's in passive mode, the client's in active mode.  Downloads and listings
    flow from the server, uploads from the client."""
    nodes = endpoints(index, int(index.stream_packets(sid)[0]))
    server_node = 1 if t.mode == "passive" else 0
    return (server_node if t.direction in ("download", "listing") else 1 - server_node), nodes


def canonical_addr(text: str) -> str:
    """One spelling per address, so an EPRT address matches the packets' ("2001:DB8::1" and
    "2001:db8:0::1" are the same)."""
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text


