"""The FTP control connection as messages: client commands and server replies, each with the
frame it came in.

Lines are cut from each side's reassembled bytes (so a command split over two segments, or two
pipelined commands in one segment, come out right); a reply is one line (`226 Done`) or a
multi-line block from `NNN-` to the first line starting `NNN ` (RFC 959), whatever lies between.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_LINE = 8192  # longer lines are cut: a control line is short, anything else is not FTP
REPLY_RE = re.compile(rb"^(\d{3})([ -]|$)")


@dataclass
class Line:
    side: int       # the follow side (0: the stream's first sender)
    frame: int      # 0-based frame where the line starts
    text: bytes


@dataclass
class Reply:
    frame: int
    code: int | None          # None: a line that is not a reply (no 3-digit code)
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The reply text after the code (first line; for multi-line replies the last line too)."""
        first = self.lines[0][4:] if self.code is not None else self.lines[0]
        return first


@dataclass
class Command:
    frame: int
    verb: str                 # upper-cased, as servers treat it ("user" -> "USER")
    arg: str
    raw: str
    replies: list[Reply] = field(default_factory=list)

    @property
    def final(self) -> Reply | None:
        for r in self.replies:
            if r.code is None or r.code >= 200:
                return r
        return None


def split_lines(chunks: Iterable[Any], side_of_interest: int | None = None) -> Iterator[Line]:
    """Yield Line objects from follow chunks (streams.follow.Chunk), per side, in chunk order.
    A gap ends the partial line of its side (its bytes are unknown)."""
    partial = [bytearray(), bytearray()]
    start = [None, None]
    for c in chunks:
        if c.gap:
            partial[c.side].clear()
            start[c.side] = None
            continue
        buf = partial[c.side]
        data = c.data
        pos = 0
        while pos < len(data):
            if start[c.side] is None:
                start[c.side] = c.frame
            nl = data.find(b"\n", pos)
            piece = data[pos:] if nl < 0 else data[pos:nl]
            if len(buf) < MAX_LINE:
                buf += piece[:MAX_LINE - len(buf)]
            if nl < 0:
                break
            yield Line(c.side, start[c.side], bytes(buf).rstrip(b"\r"))
            buf.clear()
            start[c.side] = None
            pos = nl + 1


def decode(b: bytes) -> str:
    """Control text as str: UTF-8 where valid (RFC 2640), else Latin-1, byte for byte."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def parse_command(line: Line) -> Command:
    text = decode(line.text)
    verb, _, arg = text.partition(" ")
    return Command(line.frame, verb.upper(), arg, text)


class ReplyAssembler:
    """Joins reply lines into replies (multi-line blocks included)."""

    def __init__(self) -> None:
        self.open: Reply | None = None

    def feed(self, line: Line) -> Reply | None:
        """Return a finished reply, or None while a multi-line reply is still open."""
        m = REPLY_RE.match(line.text)
        text = decode(line.text)
        if self.open is not None:
            self.open.lines.append(text)
            if m and int(m.group(1)) == self.open.code and m.group(2) != b"-":
                done, self.open = self.open, None
                return done
            return None
        if not m:
            return Reply(line.frame, None, [text])
        reply = Reply(line.frame, int(m.group(1)), [text])
        if m.group(2) == b"-":
            self.open = reply
            return None
        return reply
