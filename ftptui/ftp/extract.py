"""Write transfers to files in a directory the user chose, never anywhere else.

A name taken from a capture is hostile until proven otherwise: only the last path component is
kept, control characters, NULs and path separators are replaced, "." and ".." and empty names are
renamed, length is capped, collisions get a counter, and incomplete transfers say so in the name.
Files are created with O_EXCL | O_NOFOLLOW inside the directory, so neither an existing file nor
a planted symlink is followed.
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator

from ..errors import FtptuiError
from ..store.index import PacketIndex
from ..streams.follow import follow_tcp
from ..text import NOT_SHOWN
from .analysis import FtpAnalysis, sender_side
from .session import Session, Transfer

MAX_NAME = 120  # bytes of UTF-8, well under every filesystem's 255
MAX_TRIES = 10000  # names tried for one file before giving up
FORBIDDEN = set('/\\:*?"<>|')


def safe_name(raw: str, fallback: str) -> str:
    """A file name made from `raw` (a path from the capture) that is safe in any directory and
    on any terminal: control, format (bidi overrides, zero-width) and separator characters and
    the characters Windows forbids become "_"."""
    base = re.split(r"[/\\]", raw or "")[-1]
    base = "".join("_" if ch in FORBIDDEN or unicodedata.category(ch) in NOT_SHOWN else ch for ch in base)
    base = base.strip(" .")
    if not base:
        base = fallback
    while len(base.encode("utf-8", "surrogateescape")) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:-1] + dot + ext) if dot and len(ext) < 16 and stem else base[:-1]
    return base


def transfer_name(session: Session, t: Transfer, number: int) -> str:
    what = t.arg if t.direction != "listing" else f"{t.command.lower()}-{session.id}-{number}.txt"
    name = safe_name(what, f"{t.command.lower()}-{session.id}-{number}")
    if not t.complete:
        name += ".incomplete"
    return name


def export_all(index: PacketIndex, analysis: FtpAnalysis, directory: str) -> Iterator[str]:
    """--export-objects: extract every transfer that has a data connection; yields one line per
    file written.  A directory that cannot be made or written is a one-line FtptuiError."""
    names = Names()
    for k, (session, t) in enumerate(analysis.transfers, 1):
        if t.tcp_stream >= 0:
            yield extract(index, session, t, directory, k, names)


def extract(index: PacketIndex, session: Session, t: Transfer, directory: str, number: int, names: "Names | None" = None) -> str:
    """Write the transfer's bytes (the sending side of its data connection) into directory;
    return the path written."""
    if t.tcp_stream < 0:
        raise FtptuiError("this transfer has no data connection in the capture")
    directory = _directory(directory)
    fd, path = (names or Names()).create(directory, transfer_name(session, t, number))
    sender, _ = sender_side(index, session, t, t.tcp_stream)
    try:
        with os.fdopen(fd, "wb") as f:
            follow_tcp(index, t.tcp_stream, emit=lambda c: f.write(c.data) if c.side == sender and not c.gap else None)
    except OSError as e:
        raise FtptuiError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def _directory(directory: str) -> str:
    directory = os.path.realpath(os.path.expanduser(directory))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise FtptuiError(f"cannot create the directory {directory}: {e.strerror or e}") from None
    if not os.path.isdir(directory):
        raise FtptuiError(f"{directory} is not a directory")
    return directory


class Names:
    """Creates files with fresh names in one directory: "name", then "name-1", "name-2"... (a
    name already used by this run is not tried again, so thousands of equal names cost one try
    each)."""

    def __init__(self) -> None:
        self.next: dict[tuple[str, str], int] = {}

    def create(self, directory: str, name: str) -> tuple[int, str]:
        stem, dot, ext = name.partition(".")
        k = self.next.get((directory, name), 0)
        for _ in range(MAX_TRIES):
            candidate = name if k == 0 else f"{stem}-{k}{dot}{ext}"
            k += 1
            if os.sep in candidate or candidate in (".", ".."):  # cannot happen after safe_name
                raise FtptuiError(f"refusing to write outside {directory}: {candidate!r}")
            path = os.path.join(directory, candidate)
            try:  # O_EXCL with O_NOFOLLOW: an existing file or a planted symlink counts as taken
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except FileExistsError:
                continue
            except OSError as e:
                raise FtptuiError(f"cannot create {path}: {e.strerror or e}") from None
            self.next[(directory, name)] = k
            return fd, path
        raise FtptuiError(f"too many files named like {name} in {directory}")
