"""FTP sessions as text: tables for people, JSON for programs, Mermaid for diagrams."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ftp.analysis import FtpAnalysis
from ..ftp.session import Session, Transfer
from ..store.index import PacketIndex

if TYPE_CHECKING:  # drawing is imported when it is used: --ftp tables need no dissector
    from .sequence import Step
from ..streams.follow import endpoint_text
from ..text import safe


def rel_time(index: PacketIndex, frame: int) -> float:
    return (int(index.cols.raw("ts")[frame]) - (index.first_ts or 0)) / 1e9


def to_json(index: PacketIndex, analysis: FtpAnalysis) -> str:
    return json.dumps({"sessions": [_session(index, s) for s in analysis.sessions]}, indent=1)


def _session(index: PacketIndex, s: Session) -> dict[str, Any]:
    return {
        "id": s.id, "client": endpoint_text(s.client), "server": endpoint_text(s.server), "tcp_stream": s.stream,
        "user": s.user, "password": s.password, "logged_in": s.logged_in, "tls": s.tls,
        "commands": [{"frame": c.frame + 1, "time": round(rel_time(index, c.frame), 6), "command": c.verb,
                      "arg": c.arg, "replies": [{"frame": r.frame + 1, "code": r.code, "text": "\n".join(r.lines)}
                                                for r in c.replies]} for c in s.commands],
        "transfers": [_transfer(t) for t in s.transfers],
        "refused": [{"command": t.command, "arg": t.arg, "path": t.path, "command_frame": t.command_frame + 1,
                     "reply": t.final_reply.code if t.final_reply else None,
                     "text": t.final_reply.text if t.final_reply else None} for t in s.refused],
    }


def _transfer(t: Transfer) -> dict[str, Any]:
    return {
        "command": t.command, "arg": t.arg, "path": t.path, "type": t.type, "rest": t.rest, "mode": t.mode,
        "setup": t.setup, "direction": t.direction, "data_client": t.data_client or None,
        "data_server": t.data_server or None, "tcp_stream": t.tcp_stream if t.tcp_stream >= 0 else None,
        "bytes": t.bytes, "expected_bytes": t.expected_bytes, "sha256": t.sha256 or None, "complete": t.complete,
        "final_reply": t.final_reply.code if t.final_reply else None, "command_frame": t.command_frame + 1,
        "first_data_frame": t.first_data_frame + 1 if t.first_data_frame >= 0 else None,
        "last_data_frame": t.last_data_frame + 1 if t.last_data_frame >= 0 else None,
        "missing_bytes": t.gaps,
    }


def bytes_text(t: Transfer) -> str:
    """A transfer's byte count, or after REST n the part of the file it carried:
    "5,308,416–12,582,911" (the first and last byte's offsets in the file)."""
    if not t.rest:
        return f"{t.bytes:,}"
    return f"{t.rest:,}–{t.rest + t.bytes - 1:,}" if t.bytes else f"{t.rest:,}–"


def tables(index: PacketIndex, analysis: FtpAnalysis) -> str:
    out = ["FTP sessions", _table(["id", "client", "server", "user", "logged in", "commands", "transfers", "tls"], [
        [s.id, endpoint_text(s.client), endpoint_text(s.server), s.user or "", _yes(s.logged_in), len(s.commands),
         len(s.transfers), "yes" if s.tls else ""] for s in analysis.sessions]), "", "Credentials",
        _table(["session", "user", "password", "reply", "frame"], [
            [s.id, u, p if p is not None else "", f"{r.code} {r.text}" if r else "", f + 1]
            for s in analysis.sessions for (u, p, r, f) in s.credentials]), "", "Transfers",
        _table(["session", "command", "path", "mode", "direction", "stream", "bytes", "expected", "reply", "complete",
                "sha256"], [
            [s.id, f"{t.command} {t.arg}".strip(), t.path or f"?/{t.arg}", f"{t.mode or ''} {t.setup or ''}".strip(),
             t.direction, t.tcp_stream if t.tcp_stream >= 0 else "", bytes_text(t),
             "" if t.expected_bytes is None else t.expected_bytes, t.final_reply.code if t.final_reply else "",
             "yes" if t.complete else "no", t.sha256[:16]] for s, t in analysis.transfers])]
    refused = [(s, t) for s in analysis.sessions for t in s.refused]
    if refused:  # data commands the server refused before any data: not transfers
        out += ["", "Refused", _table(["session", "command", "path", "reply", "frame"], [
            [s.id, f"{t.command} {t.arg}".strip(), t.path or f"?/{t.arg}",
             f"{t.final_reply.code} {t.final_reply.text}" if t.final_reply else "", t.command_frame + 1]
            for s, t in refused])]
    return "\n".join(out) + "\n"


def _yes(v: bool | None) -> str:
    return "yes" if v else "no" if v is False else "?"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [[safe(str(c)) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[k]) for r in cells]) for k, h in enumerate(header)]
    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in cells])


def session_steps(index: PacketIndex, session: Session, fold: bool = False,
                  tick: Callable[[int, int], None] | None = None) -> list[Step]:
    """The packets of the session's control connection and of its data connections, in order."""
    from ..ftp.analysis import sender_side
    from .sequence import steps
    client_ends = {tuple(session.client)}
    streams = [session.stream]
    for t in session.transfers + session.refused:  # (a refused command's data connection was made too)
        if t.tcp_stream >= 0:
            sender, nodes = sender_side(index, session, t, t.tcp_stream)
            server_node = sender if t.direction != "upload" else 1 - sender
            client_ends.add(tuple(nodes[1 - server_node]))
            streams.append(t.tcp_stream)
    frames = np.sort(np.concatenate([index.stream_packets(s) for s in streams]))
    return steps(index, frames, client_ends, fold, tick, frozenset(streams[1:]))


def mermaid(index: PacketIndex, session: Session, fold: bool = False) -> str:
    from .sequence import mermaid as draw
    return draw(session_steps(index, session, fold), f"Client {endpoint_text(session.client)}",
                f"FTP Server {endpoint_text(session.server)}")


def _m(text: str) -> str:
    """Text safe inside a Mermaid message (no line breaks, no ';' or '#', which Mermaid parses)."""
    return safe(text).replace(";", ",").replace("#", "No.")
