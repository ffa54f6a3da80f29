"""A transfer's bytes as text or as a hex dump (`v` in the FTP view; binary content opens as
the hex dump, x switches).

The bytes are gathered in a worker (Esc stops it), and lines are made only when drawn, so a
multi-megabyte transfer opens at once.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from ..render.follow import HEX_LINE_WIDTH, hex_line
from ..text import safe
from .failures import Guarded, report
from .key_bar import KeyBar
from .lines_view import LazyLines, Lines, LinesView
from .messages import ContentReady
from .plain import plain

CONTENT_LIMIT = 4 << 20  # bytes shown in the content viewer


class StopGathering(Exception):
    """Raised inside the gathering loop when the viewer was closed."""


def text_lines(data: bytes, cut: bool) -> Lines:
    """The bytes as text lines (UTF-8, tabs expanded), each decoded when drawn."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    if len(data) and starts[-1] == len(data):  # a final newline ends the last line, as splitlines()
        starts, stops = starts[:-1], stops[:-1]
    count = len(starts)
    widest = int((stops - starts).max()) * 8 if count else 0  # tabs expand up to 8 columns

    def make(y: int) -> str:
        if y == count:
            return f"[only the first {CONTENT_LIMIT:,} bytes are shown]"
        line = data[int(starts[y]):int(stops[y])].removesuffix(b"\r")
        return safe(line.decode("utf-8", "replace").expandtabs(8))
    return LazyLines(count + cut, min(widest, 4096), make)


def binary_content(data: bytes) -> bool:
    """Whether the viewer opens the bytes as a hex dump: a NUL, or bytes that are not UTF-8, in
    their first 8 KiB (as git and less tell binary files; the packet tree keeps tshark's stricter
    FTP-DATA test, dissect.media.looks_like_text).  A character cut at the sample's end is no
    evidence."""
    sample = data[:8192]
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        return not (len(data) > len(sample) and e.start >= len(sample) - 3)
    return False


def hex_lines(data: bytes, cut: bool) -> Lines:
    count = (len(data) + 15) // 16

    def make(y: int) -> str:
        if y == count:
            return f"[only the first {CONTENT_LIMIT:,} bytes are shown]"
        return hex_line(data[16 * y:16 * y + 16], 16 * y)
    return LazyLines(count + cut, HEX_LINE_WIDTH, make)


class ContentScreen(Guarded, ModalScreen):
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Back", id="ftp.content.close"),
                Binding("x", "toggle_hex", "Text / hex", id="ftp.content.toggle")]

    def __init__(self, title: str, gather: Callable[[Callable[[], None]], tuple[bytes, bool]]):
        """`gather(check)` returns (bytes, cut); it calls check() now and then, which raises
        StopGathering once the viewer has been closed."""
        super().__init__()
        self.title_text, self.gather = title, gather
        self.data: bytes | None = None
        self.cut = self.as_hex = False

    def compose(self):
        with Vertical(id="ftp-content"):
            yield Static(plain(self.title_text), id="ftp-content-title")
            yield LinesView(id="ftp-content-lines")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(LinesView).show(LazyLines(1, 40, lambda y: "gathering the transfer's bytes…"))
        self.load()

    @work(thread=True, exclusive=True, group="content")
    def load(self) -> None:
        worker = get_current_worker()

        def check() -> None:
            if worker.is_cancelled:
                raise StopGathering()
        try:
            data, cut = self.gather(check)
        except StopGathering:
            return
        except Exception as e:  # a bug in reassembly must not take the browser down
            report(self.app, e, "Could not gather the transfer's bytes")
            return
        self.post_message(ContentReady(data, cut))

    def on_content_ready(self, message: ContentReady) -> None:
        self.data, self.cut = message.data, message.cut
        self.as_hex = binary_content(self.data)  # (x shows it as text all the same)
        self.show()
        self.query_one(LinesView).focus()

    def action_toggle_hex(self) -> None:
        self.as_hex = not self.as_hex
        self.show()

    def show(self) -> None:
        if self.data is not None:
            make = hex_lines if self.as_hex else text_lines
            self.query_one(LinesView).show(make(self.data, self.cut))

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "content")
