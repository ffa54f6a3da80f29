"""A read-only view of many lines made on demand: a transfer's content, a sequence diagram.

Only the lines on screen are ever formatted, so a 4 MiB hex dump or a 10,000-step ladder shows
at once; the view is given a `Lines` source (its length, its widest line, line y as text that
is already safe for a terminal).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip

from .cursor_view import CursorView, cursor_bindings
from .failures import Guarded


class Lines(Protocol):
    width: int

    def __len__(self) -> int: ...

    def line(self, y: int) -> str: ...


class ListLines:
    """Lines already made (a ladder): nothing to compute but the widest."""

    def __init__(self, lines: Sequence[str]):
        self.lines = lines
        self.width = max(map(len, lines), default=0)

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, y: int) -> str:
        return self.lines[y]


class LazyLines:
    """`count` lines, line y made by `make(y)` when it is first drawn (kept afterwards)."""

    def __init__(self, count: int, width: int, make: Callable[[int], str]):
        self.count, self.width, self.make = count, width, make
        self.made: dict[int, str] = {}

    def __len__(self) -> int:
        return self.count

    def line(self, y: int) -> str:
        text = self.made.get(y)
        if text is None:
            text = self.made[y] = self.make(y)
        return text


class LinesView(Guarded, CursorView, can_focus=True):
    DEFAULT_CSS = """
    LinesView { scrollbar-gutter: stable; }
    LinesView > .lines-view--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"lines-view--cursor"}
    BINDINGS = cursor_bindings("lines", page_down="pagedown,space", sideways=("left,h", "right,l"))

    def __init__(self, grow_only: bool = False, **kwargs):
        """`grow_only`: the scrollable size never shrinks when other lines are shown (blank
        below shorter ones), so showing them lays nothing out again (a view whose lines change
        at each key, such as a session's dialogue)."""
        super().__init__(**kwargs)
        self.source: Lines = ListLines([])
        self.grow_only = grow_only

    def show(self, source: Lines) -> None:
        """Show other lines, from the top."""
        self.source = source
        size = Size(source.width, len(source))
        if self.grow_only:
            size = Size(max(size.width, self.virtual_size.width), max(size.height, self.virtual_size.height))
        if size != self.virtual_size:
            self.virtual_size = size
        self.scroll_to(0, 0, animate=False)
        self.cursor = 0
        self.refresh()

    @property
    def line_count(self) -> int:
        return len(self.source)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        style = self.rich_style
        if row >= len(self.source):
            return Strip.blank(width, style)
        if row == self.cursor and self.has_focus:
            style = self.get_component_rich_style("lines-view--cursor")
        strip = Strip([Segment(self.source.line(row), style)])
        strip = strip.adjust_cell_length(max(width + scroll_x, self.virtual_size.width), style)
        return strip.crop(scroll_x, scroll_x + width)

    def watch_cursor(self, old: int, new: int) -> None:
        self.keep_in_view(new)
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
