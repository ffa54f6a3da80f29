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

from ..streams.follow import follow_tcp
from .analysis import sender_side
from .session import Session, Transfer

MAX_NAME = 120  # bytes of UTF-8, well under every filesystem's 255
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|]")


def safe_name(raw: str, fallback: str) -> str:
    """A file name made from `raw` (a path from the capture) that is safe in any directory."""
    base = re.split(r"[/\\]", raw or "")[-1]
    base = UNSAFE.sub("_", base).strip(" .")
    if not base:
        base = fallback
    while len(base.encode()) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:-1] + dot + ext) if dot and len(ext) < 16 and stem else base[:-1]
    return base


def transfer_name(session: Session, t: Transfer, number: int) -> str:
    what = t.arg if t.direction != "listing" else f"{t.command.lower()}-{session.id}-{number}.txt"
    name = safe_name(what, f"{t.command.lower()}-{session.id}-{number}")
    if not t.complete:
        name += ".incomplete"
    return name


def extract(index, session: Session, t: Transfer, directory: str, number: int) -> str:
    """Write the transfer's bytes (the sending side of its data connection) into directory;
    return the path written."""
    if t.tcp_stream < 0:
        raise ValueError("this transfer has no data connection in the capture")
    directory = os.path.realpath(directory)
    os.makedirs(directory, exist_ok=True)
    name = transfer_name(session, t, number)
    fd, path = _create(directory, name)
    sender, _ = sender_side(index, session, t, t.tcp_stream)
    with os.fdopen(fd, "wb") as f:
        follow_tcp(index, t.tcp_stream, emit=lambda c: f.write(c.data) if c.side == sender and not c.gap else None)
    return path


def _create(directory: str, name: str) -> tuple[int, str]:
    stem, dot, ext = name.partition(".")
    for k in range(10000):
        candidate = name if k == 0 else f"{stem}-{k}{dot}{ext}"
        if os.sep in candidate or candidate in (".", ".."):  # cannot happen after safe_name
            raise ValueError(f"refusing to write outside {directory}: {candidate!r}")
        path = os.path.join(directory, candidate)
        try:  # O_EXCL with O_NOFOLLOW: an existing file or a planted symlink counts as taken
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), path
        except FileExistsError:
            continue
    raise FileExistsError(f"too many files named like {name} in {directory}")
