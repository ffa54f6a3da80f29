"""The packet list: a ScrollView drawn line by line, so only visible rows are ever dissected."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip

from ..dissect.packet import dissect
from ..streams.analysis import FrameBudget, bounded
from ..text import safe
from . import messages
from .cursor_view import CursorView, cursor_bindings
from .failures import Guarded

# Wireshark's default colouring rules, as background colours with black text.
# Wireshark's default colouring rules, as component classes so a theme or a stylesheet can
# restyle them (PacketList > .packet-list--row-tcp { ... })
ROW_CLASSES = ("error", "tcp-rst", "tcp-bad", "tcp-syn", "tcp", "udp", "icmp", "icmp-error", "arp", "http")
ROWS_CSS = """
PacketList > .packet-list--row-error, PacketList > .packet-list--row-tcp-rst { color: #fffc9c; background: #a40000; }
PacketList > .packet-list--row-tcp-bad { color: #f78787; background: #12272e; }
PacketList > .packet-list--row-tcp-syn { color: black; background: #a0a0a0; }
PacketList > .packet-list--row-tcp { color: black; background: #e7e6ff; }
PacketList > .packet-list--row-udp { color: black; background: #daeeff; }
PacketList > .packet-list--row-icmp { color: black; background: #fce0ff; }
PacketList > .packet-list--row-icmp-error { color: #b7f774; background: #12272e; }
PacketList > .packet-list--row-arp { color: black; background: #fafff0; }
PacketList > .packet-list--row-http { color: black; background: #e4ffc7; }
PacketList > .packet-list--row-other { color: black; background: #ffffff; }
PacketList > .packet-list--cursor { color: white; background: #2a5db0; text-style: bold; }
PacketList > .packet-list--marked { color: white; background: black; text-style: bold; }
PacketList > .packet-list--header { text-style: bold reverse; }
"""


COLUMNS = [("No.", 8, True), ("Time", 12, True), ("Source", 22, False), ("Destination", 22, False),
           ("Protocol", 9, False), ("Length", 7, True), ("Info", 0, False)]


def row_class(d) -> str:
    if d.malformed:
        return "error"
    if d.color == "tcp-bad":  # Wireshark's first colouring rule
        return "tcp-bad"
    if d.protocol in ("ARP", "RARP"):
        return "arp"
    if d.protocol.startswith("HTTP"):
        return "http"
    return d.color if d.color in ROW_CLASSES else ""


def fit(text: str, width: int, right: bool) -> str:
    if width <= 0:
        return text
    if len(text) > width - 1:
        text = text[: width - 2] + "…"
    return text.rjust(width - 1) + " " if right else text.ljust(width)


class PacketList(Guarded, CursorView, can_focus=True):
    """The displayed packets, one row each, rendered from the index on demand with an LRU cache.

    The list shows a view: every packet of the index (`frames` is None), or the frames a display
    filter kept (`frames`: ascending 0-based frame indexes).  Row r shows frame `frame_at(r)`; the
    No. column keeps the frame's own number.

    On a growing capture (`live`) the list follows the newest packet while the cursor is on the
    last row; once the user moves up it stays put and counts the rows added since (`new_rows`,
    the "+N new" indicator) until the cursor is on the last row again (End / G).
    """

    BINDINGS = cursor_bindings("list")

    HEADER = 1
    DEFAULT_CSS = ROWS_CSS
    COMPONENT_CLASSES = {"packet-list--header", "packet-list--cursor", "packet-list--marked",
                         "packet-list--row-other", *(f"packet-list--row-{c}" for c in ROW_CLASSES)}


    def __init__(self, index, on_select: Callable[[int, int], None] | None = None, **kwargs):
        """`on_select(row, frame)`: called when the cursor moves to another packet, at once
        rather than by a message, so that the row and the packet's details reach the screen in
        the same frame."""
        super().__init__(**kwargs)
        self.index = index
        self.on_select = on_select
        self.rows = 0
        self.frames: np.ndarray | None = None  # None: every packet of the index is displayed
        self._cache: OrderedDict[int, tuple[list[str], str]] = OrderedDict()
        self._analysis_budget = FrameBudget()  # TCP analysis the rows of one paint may do themselves
        self.live = False       # a growing capture: follow the newest packet (see the docstring)
        self.following = True   # the cursor is on the last row (or the list is empty)
        self.new_rows = 0       # rows added while not following
        self.marked: set[int] = set()  # frames the user marked (m), shown as Wireshark does

    # --- data -------------------------------------------------------------------------------
    def _count(self) -> int:
        return len(self.index) if self.frames is None else len(self.frames)

    def analysis_ready(self) -> None:
        """(Any thread) A TCP analysis left out of rows or the tree is done: the message
        repaints the rows and bubbles up to the browser, which shows the tree again."""
        self.post_message(messages.TcpAnalysisReady())

    def on_tcp_analysis_ready(self, message: messages.TcpAnalysisReady) -> None:
        self.refresh()  # the rows drawn without it were not kept

    def forget_rows(self) -> None:
        """Drop the rendered rows (their text changed, e.g. FTP-DATA labels) and redraw."""
        self._cache.clear()
        self.refresh()

    def sync(self) -> None:
        """Pick up rows added since the last call (packets indexed, or frames a filter added).
        On a growing capture, move to the new last row while following, else count them."""
        n = self._count()
        if n == self.rows:
            self.size_to_rows()  # the exact size, once the index is done
            return
        added, before = n - self.rows, self.rows
        self.rows = n
        self.size_to_rows()
        # rows added below the screen change only the scrollbar: no repaint of the rows
        # (while a big file is indexed, repainting every time cost the indexer a second)
        if before < self.scroll_offset.y + self.scrollable_content_region.height or added < 0:
            self.refresh()
        if self.live and n:
            if self.following:
                self.move_to(n - 1)
            elif added > 0:
                self.new_rows += added

    def set_index(self, index, frames: np.ndarray | None = None) -> None:
        """Show another index (a cleared live capture starts a new one), empty so far: all its
        packets (`frames` None) or a filtered view of it (`frames`)."""
        self.index = index
        self.frames = frames
        self._cache.clear()
        self.marked.clear()
        self.rows = self._count()
        self.following, self.new_rows = True, 0
        self.size_to_rows()
        self.scroll_to(y=0, animate=False)
        self.cursor = 0
        self.refresh()

    def toggle_mark(self, frame: int) -> bool:
        """Mark or unmark a frame; True when it is marked now."""
        if frame in self.marked:
            self.marked.discard(frame)
        else:
            self.marked.add(frame)
        self.refresh()
        return frame in self.marked

    def frame_at(self, row: int) -> int:
        """The 0-based frame index shown on a row."""
        return row if self.frames is None else int(self.frames[row])

    @property
    def current_frame(self) -> int | None:
        """The frame under the cursor (None when the list is empty)."""
        return self.frame_at(self.cursor) if 0 <= self.cursor < self.rows else None

    def row_of(self, frame: int) -> int | None:
        """The row showing a frame, or None when the frame is not displayed."""
        if self.frames is None:
            return frame if 0 <= frame < self.rows else None
        k = int(np.searchsorted(self.frames, frame))
        return k if k < len(self.frames) and int(self.frames[k]) == frame else None

    def nearest_row(self, frame: int) -> int:
        """The row of the frame, or of the displayed frame closest to it (the earlier on a tie)."""
        if self.frames is None:
            return max(0, min(self.rows - 1, frame))
        k = int(np.searchsorted(self.frames, frame))
        if k >= len(self.frames):
            return len(self.frames) - 1
        if k > 0 and frame - int(self.frames[k - 1]) <= int(self.frames[k]) - frame:
            return k - 1
        return k

    def set_view(self, frames: np.ndarray | None) -> None:
        """Show only `frames` (None: all packets), keeping the cursor on the same frame when it is
        still displayed, else on the nearest displayed one."""
        keep = self.current_frame
        self.frames = None if frames is None else np.asarray(frames, dtype=np.int64)
        self.rows = self._count()
        self.size_to_rows()
        self.refresh()
        if self.rows and self.live and self.following:
            self.cursor = self.rows - 1  # a growing capture being followed: keep following
        elif self.rows:
            self.cursor = self.nearest_row(keep) if keep is not None else 0
        else:
            self.cursor = 0

    def size_to_rows(self) -> None:
        """The scrollable size for the rows.  While a file is being indexed it grows in steps
        (a power of two of rows, blank below the last): each new size lays the whole screen
        out again, and doing that four times a second took the interpreter from the indexer."""
        rows = self.rows + 1
        if self.frames is None and not self.index.done and not self.live:
            rows = 1 << max(rows - 1, 1).bit_length()
        size = Size(self._total_width(), rows)
        if size != self.virtual_size:
            self.virtual_size = size

    def _total_width(self) -> int:
        return max(self.size.width, sum(w for _, w, _ in COLUMNS) + 40)

    def cells(self, frame: int) -> tuple[list[str], str]:
        """The column texts and colour class of a frame (0-based frame index)."""
        hit = self._cache.get(frame)
        if hit is not None:
            self._cache.move_to_end(frame)
            return hit
        # a row never waits for a long stream's TCP analysis: drawn without it, then again
        with bounded(self.analysis_ready, self._analysis_budget) as bound:
            d = dissect(self.index, frame, tree=False)  # the columns and colour only
        cells = [str(d.number), d.time, safe(d.source), safe(d.destination), safe(d.protocol), str(d.length),
                 safe(d.info)]
        value = (cells, row_class(d))
        if bound.missing:
            return value
        self._cache[frame] = value
        if len(self._cache) > 4000:
            self._cache.popitem(last=False)
        return value

    # --- drawing ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            text = "".join(fit(name, w, right) for name, w, right in COLUMNS)
            return Strip([Segment(text.ljust(width + scroll_x)[scroll_x:scroll_x + width],
                                  self.get_component_rich_style("packet-list--header"))])
        row = scroll_y + y - 1
        if row >= self.rows:
            return Strip.blank(width, self.rich_style)
        cells, cls = self.cells(self.frame_at(row))
        text = "".join(fit(c, w, right) for c, (_, w, right) in zip(cells, COLUMNS))
        if row == self.cursor:
            style = self.get_component_rich_style("packet-list--cursor")
        elif self.marked and self.frame_at(row) in self.marked:
            style = self.get_component_rich_style("packet-list--marked")
        else:
            style = self.get_component_rich_style(f"packet-list--row-{cls or 'other'}")
        text = text[scroll_x:].ljust(width)[:width]
        return Strip([Segment(text, style)])

    # --- movement -----------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        if not self.rows:
            return
        following = new >= self.rows - 1
        if following != self.following or following:
            self.following, self.new_rows = following, 0
        top = self.scroll_offset.y
        self.keep_in_view(new)
        if self.scroll_offset.y == top and 0 <= old < self.rows:
            self.refresh_line(old + 1)  # only the two rows whose colour changed (a row is line row + 1)
            self.refresh_line(new + 1)
        else:
            self.refresh()
        if new < self.rows and self.on_select is not None:
            self.on_select(new, self.frame_at(new))

    @property
    def line_count(self) -> int:
        return self.rows

    def on_click(self, event) -> None:
        at = event.get_content_offset(self)  # event.y counts the border line too
        if at is not None and at.y >= 1:
            self.move_to(self.scroll_offset.y + at.y - 1)
            self.focus()
